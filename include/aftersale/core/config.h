/*
 * config.h - the service's configuration, from environment variables only.
 *
 * One table in config.c names every variable with its default, its parser,
 * its bounds and the line of documentation that the README's table repeats
 * (`aftersale config` prints it). config_load() parses everything at
 * start-up; a bad value is an error naming the variable, and the process
 * stops before it binds a port or opens a connection.
 */
#ifndef AFTERSALE_CORE_CONFIG_H
#define AFTERSALE_CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/err.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
/* ACCESS_LOG: one line per request, every request, none, or only 4xx/5xx. */
enum access_log { ACCESS_LOG_ON, ACCESS_LOG_OFF, ACCESS_LOG_ERRORS };

struct config {
    char *database_url;
    char *bind;
    long port;
    long threads;
    long workers;
    long webhook_workers; /* threads of the lane "webhooks" (jobs/worker.c) */
    long db_pool_size; /* 0 in the table = threads + workers + webhook_workers + 3 */
    long db_acquire_ms;
    char *admin_token; /* NULL: admin API off */
    bool has_secret_key;
    uint8_t secret_key[CRYPTO_KEY_LEN];
    long max_body_bytes;
    enum log_level log_level;
    char *public_url;
    long shutdown_grace_s;
    long job_poll_ms;
    long job_backoff_ms;
    long job_backoff_max_ms;
    long job_lease_s;
    long job_test_kinds; /* 1: register the test-only job kinds (worker.c) */
    long woo_timeout_ms;
    long woo_connect_timeout_ms;
    long product_categories_ttl_s; /* product categories cache (woo/products.c) */
    long survey_alert_hold_s; /* a one-click score's alert waits for the page (surveys/alert.c) */
    char *smtp_host;
    long smtp_port;
    char *smtp_tls; /* none, starttls-try, starttls, implicit */
    char *smtp_user;
    char *smtp_password;
    char *mail_from;
    long smtp_timeout_ms;
    long token_max_lifetime_s; /* customer tokens: longest exp - iat (or exp - now) */
    enum access_log access_log;
    long db_statement_timeout_ms; /* 0: no limit */
    long db_lock_timeout_ms;      /* 0: no limit */
    long webhook_db_wait_ms;      /* the receive route's bound (db_request_wait_ms) */
    char *webhook_allow_private; /* off, on or CIDRs (hooks/addr.c) */
    long webhook_disable_after_s;
    long webhook_timeout_ms;
    long webhook_retry_base_ms;
};

/* Environment lookup, injectable for tests (getenv by default). */
typedef const char *(*config_getenv_fn)(const char *name);

/* Parse every variable through `get` into `c`. On a bad value returns -1
 * with e->field = the variable name and e->detail saying why. Strings in
 * `c` are owned by it: release with config_free. */
int config_load(struct config *c, config_getenv_fn get, struct err *e);
void config_free(struct config *c);

/* Print the table (name, default, description) as Markdown. */
void config_print_table(FILE *out);

#endif
