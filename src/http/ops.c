/*
 * ops.c - what an orchestrator and Prometheus ask.
 *
 * /healthz says the process answers (never touches the database, so a
 * database outage does not get the container killed); /readyz says it can
 * do useful work: database reachable and fully migrated, else 503, so a
 * load balancer routes around it. /metrics renders core/metrics.c.
 */
#include "aftersale/core/metrics.h"
#include "aftersale/db/migrate.h"
#include "aftersale/db/pool.h"
#include "aftersale/http/ops.h"

void
ops_handle_healthz(struct req *r)
{
    reply_json_take(r, 200, json_pack("{s:s}", "status", "ok"));
}

static int
ready_fn(struct db_conn *c, void *ctx, struct err *e)
{
    return db_migrate_check(db_pg(c), ctx, e);
}

void
ops_handle_readyz(struct req *r)
{
    struct err e = {0};
    int applied = 0;

    if (db_run(ready_fn, &applied, &e) < 0) {
        /* Not ready is not a bug: whatever failed, it is a 503. */
        e.kind = ERR_UNAVAILABLE;
        reply_err(r, &e);
        return;
    }
    reply_json_take(r, 200, json_pack("{s:s, s:i}", "status", "ready", "migrations", applied));
}

void
ops_handle_metrics(struct req *r)
{
    struct buf b = {0};
    size_t len;

    metrics_render(&b);
    len = b.len;
    reply_text_take(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf_steal(&b), len);
}
