/*
 * handlers.c - the jobs API: list, inspect and retry the shop's jobs.
 *
 * An operator at 3 a.m. sees here what the queue did and why (attempts,
 * last_error, result) and can send a dead job round again. Only the
 * caller's shop's jobs are visible.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/cursor.h"
#include "aftersale/core/jx.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/woo/handlers.h"

struct jobs_ctx {
    int64_t shop_id, id, after, next_after;
    const char *status, *kind;
    int limit;
    json_t *out;
};

static int
list_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct jobs_ctx *j = ctx;
    return jobs_store_list(c, j->shop_id, j->status, j->kind, j->after, j->limit, &j->out,
                           &j->next_after, e);
}

void
jobs_handle_list(struct req *r)
{
    static const char *const statuses[] = {"pending", "running", "done", "dead"};
    struct jobs_ctx j = {.shop_id = r->shop_id};
    struct err e = {0};
    bool ok = false;

    j.status = req_query(r, "status");
    j.kind = req_query(r, "kind");
    if (req_page_or_reply(r, &j.limit, &j.after) < 0)
        return;
    for (size_t i = 0; j.status && i < 4; i++)
        ok = ok || strcmp(j.status, statuses[i]) == 0;
    if (j.status && !ok) {
        reply_problem(r, ERR_MALFORMED, "status", "status must be pending, running, done or dead");
        return;
    }
    if (j.kind && (strlen(j.kind) == 0 || strlen(j.kind) > 64)) {
        reply_problem(r, ERR_MALFORMED, "kind", "kind must be 1 to 64 characters");
        return;
    }
    if (db_run(list_fn, &j, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    reply_page_take(r, j.out, j.next_after);
}

static int
get_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct jobs_ctx *j = ctx;
    return jobs_store_get(c, j->shop_id, j->id, &j->out, e);
}

static int
retry_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct jobs_ctx *j = ctx;
    return jobs_store_retry(c, j->shop_id, j->id, &j->out, e);
}

static void
one(struct req *r, db_fn fn)
{
    struct jobs_ctx j = {.shop_id = r->shop_id};
    struct err e = {0};

    if (req_param_id_or_reply(r, "id", &j.id) < 0)
        return;
    if (r->json && jx_check(r->json, NULL, 0, NULL, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if (db_tx(fn, &j, &e) < 0)
        reply_err(r, &e);
    else if (j.out == NULL)
        reply_problem(r, ERR_NOT_FOUND, NULL, "no job %" PRId64, j.id);
    else
        reply_json_take(r, 200, j.out);
}

void
jobs_handle_get(struct req *r)
{
    one(r, get_fn);
}

void
jobs_handle_retry(struct req *r)
{
    one(r, retry_fn);
}
