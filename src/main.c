/*
 * main.c - the aftersale command: subcommands, start-up order, signals.
 *
 *   aftersale serve | migrate | shop create ... | routes | config | version
 *
 * Start-up order for serve: configuration (a bad variable stops here,
 * named), signals blocked in every thread (the main thread alone waits for
 * them with sigwait), the listening socket (a busy port stops here),
 * database reachable and fully migrated (else refuse), pool, auth,
 * metrics, job workers, then the HTTP server. exit() is called only here.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/config.h"
#include "aftersale/core/log.h"
#include "aftersale/core/mem.h"
#include "aftersale/core/metrics.h"
#include "aftersale/db/migrate.h"
#include "aftersale/db/pool.h"
#include <curl/curl.h>

#include "aftersale/http/auth.h"
#include "aftersale/jobs/worker.h"
#include "aftersale/loyalty/loyalty.h"
#include "aftersale/http/routes.h"
#include "aftersale/http/server.h"
#include "aftersale/shops/shops.h"
#include "aftersale/version.h"

static const char usage[] =
    "usage: aftersale <command>\n"
    "\n"
    "  serve                 serve the HTTP API (the database must be migrated)\n"
    "  migrate               apply the embedded SQL migrations\n"
    "  shop create --name N --url U --consumer-key K --consumer-secret S\n"
    "              --currency EUR --timezone Europe/Bratislava\n"
    "                        create a shop; prints the same JSON as POST /v1/shops\n"
    "  loyalty verify        recompute every loyalty balance from the ledger; exit 1 on\n"
    "                        any difference\n"
    "  routes                print the route table (METHOD PATTERN AUTH)\n"
    "  config                print the environment variables as a Markdown table\n"
    "  version               print the version\n"
    "\n"
    "Configuration comes from environment variables; see `aftersale config`.\n";

static const char *
env(const char *name)
{
    return getenv(name);
}

static void
load_config(struct config *cfg, bool need_key)
{
    struct err e = {0};

    if (config_load(cfg, env, &e) < 0) {
        fprintf(stderr, "aftersale: configuration error: %s\n", e.detail);
        exit(2);
    }
    if (need_key && !cfg->has_secret_key) {
        fprintf(stderr, "aftersale: configuration error: AFTERSALE_SECRET_KEY is not set; it "
                        "encrypts stored shop secrets (generate one with: openssl rand -hex 32)\n");
        exit(2);
    }
    log_set_level(cfg->log_level);
}

static int
cmd_migrate(void)
{
    struct config cfg;
    struct err e = {0};
    PGconn *pg;
    int rc;

    load_config(&cfg, false);
    pg = db_connect(cfg.database_url, &e);
    if (pg == NULL) {
        fprintf(stderr, "aftersale migrate: %s\n", e.detail);
        config_free(&cfg);
        return 1;
    }
    rc = db_migrate_apply(pg, &e);
    if (rc < 0)
        fprintf(stderr, "aftersale migrate: %s\n", e.detail);
    else
        printf("{\"msg\":\"database is migrated\",\"migrations\":%zu}\n", nmigrations);
    PQfinish(pg);
    config_free(&cfg);
    return rc < 0 ? 1 : 0;
}

static int
check_migrated(const struct config *cfg)
{
    struct err e = {0};
    int applied = 0, rc;
    PGconn *pg = db_connect(cfg->database_url, &e);

    if (pg == NULL) {
        fprintf(stderr, "aftersale serve: %s\n", e.detail);
        return -1;
    }
    rc = db_migrate_check(pg, &applied, &e);
    if (rc < 0)
        fprintf(stderr, "aftersale serve: refusing to serve: %s\n", e.detail);
    PQfinish(pg);
    return rc;
}

static int
cmd_serve(void)
{
    struct config cfg;
    sigset_t set;
    const char **labels, **methods;
    int rc;

    load_config(&cfg, true);
    /* Block the stop signals before any thread exists, so every thread
     * inherits the mask and only sigwait() in server_run() sees them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* The port first: a second instance on a busy port stops here, before
     * it touches the database or starts job workers. */
    if (server_bind(&cfg) < 0) {
        config_free(&cfg);
        return 1;
    }
    if (check_migrated(&cfg) < 0) {
        config_free(&cfg);
        return 1;
    }
    labels = xcalloc(nroutes, sizeof(*labels));
    methods = xcalloc(nroutes, sizeof(*methods));
    for (size_t i = 0; i < nroutes; i++) {
        labels[i] = routes[i].pattern;
        methods[i] = routes[i].method;
    }
    metrics_init(labels, methods, nroutes);
    db_pool_init(cfg.database_url, (int)cfg.db_pool_size, cfg.db_acquire_ms);
    /* Only the server's pool: the CLI commands (loyalty verify over the whole
     * ledger, migrations waiting on their advisory lock) may take longer. */
    db_pool_set_timeouts(cfg.db_statement_timeout_ms, cfg.db_lock_timeout_ms);
    auth_init(cfg.admin_token);
    jobs_workers_start(&cfg);
    rc = server_run(&cfg);
    jobs_workers_stop();
    db_pool_shutdown();
    free(labels);
    free(methods);
    config_free(&cfg);
    return rc;
}

static int
cmd_shop(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"name", required_argument, NULL, 'n'},
        {"url", required_argument, NULL, 'u'},
        {"consumer-key", required_argument, NULL, 'k'},
        {"consumer-secret", required_argument, NULL, 's'},
        {"currency", required_argument, NULL, 'c'},
        {"timezone", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    static const char *const keys[] = {"name", "url", "consumer_key", "consumer_secret",
                                       "currency", "timezone"};
    struct config cfg;
    struct err e = {0};
    json_t *body, *shop;
    int opt;

    if (argc < 2 || strcmp(argv[1], "create") != 0) {
        fputs(usage, stderr);
        return 2;
    }
    body = json_object();
    optind = 2;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        const char *key = NULL;
        for (size_t i = 0; i < 6; i++)
            if (longopts[i].val == opt)
                key = keys[i];
        if (key == NULL) {
            fputs(usage, stderr);
            json_decref(body);
            return 2;
        }
        if (json_object_set_new(body, key, json_string(optarg)) < 0) {
            fprintf(stderr, "aftersale shop create: --%s is not valid UTF-8\n", key);
            json_decref(body);
            return 2;
        }
    }
    load_config(&cfg, true);
    db_pool_init(cfg.database_url, 1, cfg.db_acquire_ms);
    shop = shops_create(body, cfg.secret_key, &e);
    json_decref(body);
    if (shop == NULL) {
        fprintf(stderr, "aftersale shop create: %s%s%s\n", e.field[0] ? e.field : "",
                e.field[0] ? ": " : "", e.detail);
    } else {
        char *s = json_dumps(shop, JSON_COMPACT);
        puts(s);
        free(s);
        json_decref(shop);
    }
    db_pool_shutdown();
    config_free(&cfg);
    return shop ? 0 : 1;
}

static int
verify_fn(struct db_conn *c, void *ctx, struct err *e)
{
    return loyalty_verify(c, ctx, e);
}

static int
cmd_loyalty(int argc, char **argv)
{
    struct config cfg;
    struct err e = {0};
    int problems = 0, rc;

    if (argc < 2 || strcmp(argv[1], "verify") != 0) {
        fputs(usage, stderr);
        return 2;
    }
    load_config(&cfg, false);
    db_pool_init(cfg.database_url, 1, cfg.db_acquire_ms);
    rc = db_run(verify_fn, &problems, &e);
    db_pool_shutdown();
    config_free(&cfg);
    if (rc < 0) {
        fprintf(stderr, "aftersale loyalty verify: %s\n", e.detail);
        return 2;
    }
    printf("{\"msg\":\"loyalty ledger verified\",\"problems\":%d}\n", problems);
    return problems == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Before any thread exists, as libcurl requires. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "aftersale: curl_global_init failed\n");
        return 1;
    }
    if (strcmp(cmd, "serve") == 0)
        return cmd_serve();
    if (strcmp(cmd, "migrate") == 0)
        return cmd_migrate();
    if (strcmp(cmd, "shop") == 0)
        return cmd_shop(argc - 1, argv + 1);
    if (strcmp(cmd, "loyalty") == 0)
        return cmd_loyalty(argc - 1, argv + 1);
    if (strcmp(cmd, "routes") == 0) {
        routes_print(stdout);
        return 0;
    }
    if (strcmp(cmd, "config") == 0) {
        config_print_table(stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0) {
        printf("aftersale %s (%s)\n", AFTERSALE_VERSION, AFTERSALE_COMMIT);
        return 0;
    }
    fputs(usage, strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ? stdout : stderr);
    return strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ? 0 : 2;
}
