/*
 * config.c - every environment variable aftersale reads, in one table.
 *
 * Each row has the name, its default, a parser with bounds, and the one
 * line of documentation the README's configuration table repeats. Nothing
 * else in the program calls getenv for configuration. A value that does
 * not parse is an error naming the variable: the process stops at
 * start-up instead of running with a surprise.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/config.h"
#include "aftersale/core/mem.h"
#include "aftersale/hooks/hooks.h"

enum kind { K_STRING, K_LONG, K_LEVEL, K_KEY, K_OPTIONAL, K_TLS, K_ACCESS };

struct option {
    const char *name;
    const char *def; /* NULL: unset by default */
    enum kind kind;
    size_t offset;
    long min, max;
    const char *doc;
};

#define AT(field) offsetof(struct config, field)

static const struct option options[] = {
    {"DATABASE_URL", "postgresql:///aftersale", K_STRING, AT(database_url), 0, 0,
     "libpq connection string or URL of the PostgreSQL database"},
    {"BIND", "127.0.0.1", K_STRING, AT(bind), 0, 0,
     "address to listen on (0.0.0.0 in the container)"},
    {"PORT", "8080", K_LONG, AT(port), 1, 65535, "TCP port of the HTTP server"},
    {"THREADS", "8", K_LONG, AT(threads), 1, 256,
     "the HTTP share of the database pool (pool = THREADS + WORKERS + WEBHOOK_WORKERS + 3 by "
     "default); every client connection has its own thread"},
    {"WORKERS", "2", K_LONG, AT(workers), 0, 64, "job threads that may call shops (plus one for database-only jobs); 0 = HTTP only"},
    {"WEBHOOK_WORKERS", "2", K_LONG, AT(webhook_workers), 0, 64,
     "job threads that only deliver outbound webhooks, so a slow endpoint never holds up the "
     "shop's other outbound jobs; 0 = the WORKERS deliver them too (none when WORKERS=0)"},
    {"DB_POOL_SIZE", "0", K_LONG, AT(db_pool_size), 0, 1000,
     "database connections; 0 means THREADS + WORKERS + WEBHOOK_WORKERS + 3"},
    {"DB_ACQUIRE_MS", "10000", K_LONG, AT(db_acquire_ms), 1, 60000,
     "how long a request waits for a free connection before it answers 503"},
    {"ADMIN_TOKEN", NULL, K_OPTIONAL, AT(admin_token), 0, 0,
     "bearer token of the admin API; unset turns the admin API off"},
    {"AFTERSALE_SECRET_KEY", NULL, K_KEY, AT(secret_key), 0, 0,
     "64 hex characters (32 bytes, `openssl rand -hex 32`): encrypts stored shop secrets"},
    {"MAX_BODY_BYTES", "1048576", K_LONG, AT(max_body_bytes), 64, 64L * 1024 * 1024,
     "largest request body accepted; larger bodies get 413"},
    {"LOG_LEVEL", "info", K_LEVEL, AT(log_level), 0, 0, "debug, info, warn or error"},
    {"PUBLIC_URL", NULL, K_OPTIONAL, AT(public_url), 0, 0,
     "URL at which shops and customers reach this service (webhook delivery, links)"},
    {"SHUTDOWN_GRACE_S", "10", K_LONG, AT(shutdown_grace_s), 0, 600,
     "seconds SIGTERM waits for in-flight requests to finish"},
    {"JOB_POLL_MS", "1000", K_LONG, AT(job_poll_ms), 10, 60000,
     "how often idle workers look for due jobs (they also wake on NOTIFY)"},
    {"JOB_BACKOFF_MS", "2000", K_LONG, AT(job_backoff_ms), 1, 3600000,
     "first retry delay ceiling; doubles per attempt, with full jitter"},
    {"JOB_BACKOFF_MAX_MS", "3600000", K_LONG, AT(job_backoff_max_ms), 1, 86400000,
     "largest retry delay ceiling"},
    {"JOB_LEASE_S", "20", K_LONG, AT(job_lease_s), 5, 86400,
     "lease of a running outbound job, renewed every JOB_LEASE_S/4 while it runs: after a crash "
     "its shop's outbound work resumes within this many seconds"},
    {"JOB_TEST_KINDS", "0", K_LONG, AT(job_test_kinds), 0, 1,
     "1 adds the job kinds integration tests use to force failures (tests only)"},
    {"WOO_TIMEOUT_MS", "20000", K_LONG, AT(woo_timeout_ms), 100, 600000,
     "total timeout of one call to a shop's WooCommerce API"},
    {"WOO_CONNECT_TIMEOUT_MS", "5000", K_LONG, AT(woo_connect_timeout_ms), 100, 60000,
     "connect timeout of calls to a shop's WooCommerce API"},
    {"PRODUCT_CATEGORIES_TTL_S", "86400", K_LONG, AT(product_categories_ttl_s), 60, 31622400,
     "how long the cached categories of a product are trusted before an order with it asks the shop again"},
    {"SURVEY_ALERT_HOLD_S", "300", K_LONG, AT(survey_alert_hold_s), 0, 86400,
     "how long the alert of a low one-click survey score waits for the page's follow-up answers (0: sent at the click)"},
    {"SMTP_HOST", "127.0.0.1", K_STRING, AT(smtp_host), 0, 0, "SMTP server for review emails"},
    {"SMTP_PORT", "25", K_LONG, AT(smtp_port), 1, 65535, "its port (587 with STARTTLS, 465 implicit TLS)"},
    {"SMTP_TLS", "starttls-try", K_TLS, AT(smtp_tls), 0, 0,
     "none, starttls-try (use it when offered), starttls (required) or implicit"},
    {"SMTP_USER", NULL, K_OPTIONAL, AT(smtp_user), 0, 0, "SMTP AUTH user; unset = no AUTH"},
    {"SMTP_PASSWORD", NULL, K_OPTIONAL, AT(smtp_password), 0, 0, "SMTP AUTH password"},
    {"MAIL_FROM", "aftersale@localhost.localdomain", K_STRING, AT(mail_from), 0, 0,
     "sender address when a shop's review settings give none"},
    {"SMTP_TIMEOUT_MS", "20000", K_LONG, AT(smtp_timeout_ms), 100, 600000,
     "total timeout of one SMTP conversation"},
    {"TOKEN_MAX_LIFETIME_S", "2592000", K_LONG, AT(token_max_lifetime_s), 60, 31622400,
     "longest a customer token may live (exp - iat, or exp - now); 30 days; see docs/tokens.md"},
    {"ACCESS_LOG", "on", K_ACCESS, AT(access_log), 0, 0,
     "one log line per request: on (every request), errors (only 4xx and 5xx answers and "
     "aborted requests) or off; independent of LOG_LEVEL"},
    {"DB_STATEMENT_TIMEOUT_MS", "10000", K_LONG, AT(db_statement_timeout_ms), 0, 3600000,
     "longest a statement of the service may run (PostgreSQL statement_timeout); 0 = no limit"},
    {"DB_LOCK_TIMEOUT_MS", "5000", K_LONG, AT(db_lock_timeout_ms), 0, 3600000,
     "longest a statement waits for a row or table lock (PostgreSQL lock_timeout); 0 = no limit"},
    {"WEBHOOK_DB_WAIT_MS", "20000", K_LONG, AT(webhook_db_wait_ms), 1, 50000,
     "how long a WooCommerce webhook delivery waits for a database connection, a lock or a "
     "statement before it answers 503, where DB_ACQUIRE_MS, DB_LOCK_TIMEOUT_MS or "
     "DB_STATEMENT_TIMEOUT_MS are shorter (the shop waits 60 s and never resends a delivery)"},
    {"WEBHOOK_ALLOW_PRIVATE", "off", K_STRING, AT(webhook_allow_private), 0, 0,
     "outbound webhooks to private, loopback or link-local addresses: off, on, or CIDRs separated by commas (docs/webhooks.md)"},
    {"WEBHOOK_DISABLE_AFTER_S", "86400", K_LONG, AT(webhook_disable_after_s), 1, 31622400,
     "a webhook delivery is retried this long, and an endpoint failing this long is disabled"},
    {"WEBHOOK_TIMEOUT_MS", "10000", K_LONG, AT(webhook_timeout_ms), 100, 120000,
     "total timeout of one webhook delivery attempt"},
    {"WEBHOOK_RETRY_BASE_MS", "30000", K_LONG, AT(webhook_retry_base_ms), 1, 3600000,
     "first webhook retry delay ceiling; doubles per attempt (full jitter) up to an hour"},
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static int
parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    if (*s == '\0' || *s == ' ' || *s == '+')
        return -1;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int
parse_one(struct config *c, const struct option *o, const char *v, struct err *e)
{
    char *base = (char *)c;

    switch (o->kind) {
    case K_STRING:
        if (*v == '\0')
            return err_set(e, ERR_INVALID, o->name, "%s must not be empty", o->name);
        *(char **)(base + o->offset) = xstrdup(v);
        return 0;
    case K_OPTIONAL:
        if (*v != '\0')
            *(char **)(base + o->offset) = xstrdup(v);
        return 0;
    case K_LONG:
        if (parse_long(v, o->min, o->max, (long *)(void *)(base + o->offset)) < 0)
            return err_set(e, ERR_INVALID, o->name, "%s must be an integer from %ld to %ld, not '%.40s'",
                           o->name, o->min, o->max, v);
        return 0;
    case K_LEVEL: {
        static const char *const levels[] = {"debug", "info", "warn", "error"};
        for (int i = 0; i < 4; i++)
            if (strcmp(v, levels[i]) == 0) {
                c->log_level = (enum log_level)i;
                return 0;
            }
        return err_set(e, ERR_INVALID, o->name, "%s must be debug, info, warn or error", o->name);
    }
    case K_TLS:
        if (strcmp(v, "none") != 0 && strcmp(v, "starttls-try") != 0 &&
            strcmp(v, "starttls") != 0 && strcmp(v, "implicit") != 0)
            return err_set(e, ERR_INVALID, o->name,
                           "%s must be none, starttls-try, starttls or implicit", o->name);
        *(char **)(base + o->offset) = xstrdup(v);
        return 0;
    case K_ACCESS: {
        static const char *const modes[] = {"on", "off", "errors"};
        for (int i = 0; i < 3; i++)
            if (strcmp(v, modes[i]) == 0) {
                c->access_log = (enum access_log)i;
                return 0;
            }
        return err_set(e, ERR_INVALID, o->name, "%s must be on, off or errors", o->name);
    }
    case K_KEY:
        if (*v == '\0')
            return 0;
        if (crypto_unhex(v, c->secret_key, CRYPTO_KEY_LEN) < 0)
            return err_set(e, ERR_INVALID, o->name,
                           "%s must be 64 hex characters (try: openssl rand -hex 32)", o->name);
        c->has_secret_key = true;
        return 0;
    }
    return err_set(e, ERR_INTERNAL, o->name, "unknown option kind");
}

int
config_load(struct config *c, config_getenv_fn get, struct err *e)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NOPTIONS; i++) {
        const char *v = get(options[i].name);
        if (v == NULL)
            v = options[i].def;
        if (v == NULL)
            continue;
        if (parse_one(c, &options[i], v, e) < 0) {
            config_free(c);
            return -1;
        }
    }
    {
        struct hooks_allow allow;
        if (hooks_allow_parse(c->webhook_allow_private, &allow, e) < 0) {
            config_free(c);
            return -1;
        }
    }
    if (c->db_pool_size == 0)
        c->db_pool_size = c->threads + c->workers + c->webhook_workers + 3;
    /* MAIL_FROM goes into the From header and the SMTP envelope: a CR, LF
     * or any control or space would break (or inject into) every email. */
    for (const char *p = c->mail_from; p != NULL && *p != '\0'; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            err_set(e, ERR_INVALID, "MAIL_FROM",
                    "MAIL_FROM must be one address without spaces or control characters");
            config_free(c);
            return -1;
        }
    }
    return 0;
}

void
config_free(struct config *c)
{
    free(c->database_url);
    free(c->webhook_allow_private);
    free(c->bind);
    free(c->admin_token);
    free(c->public_url);
    free(c->smtp_host);
    free(c->smtp_tls);
    free(c->smtp_user);
    if (c->smtp_password)
        crypto_wipe(c->smtp_password, strlen(c->smtp_password));
    free(c->smtp_password);
    free(c->mail_from);
    memset(c, 0, sizeof(*c));
}

void
config_print_table(FILE *out)
{
    fprintf(out, "| variable | default | meaning |\n| --- | --- | --- |\n");
    for (size_t i = 0; i < NOPTIONS; i++)
        fprintf(out, "| `%s` | %s%s%s | %s |\n", options[i].name, options[i].def ? "`" : "",
                options[i].def ? options[i].def : "unset", options[i].def ? "`" : "",
                options[i].doc);
}
