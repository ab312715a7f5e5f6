/*
 * queue.c - the SQL of the job queue.
 *
 * States: pending -> (running, outbound only) -> done | pending (retry,
 * later run_at) | dead. A dead job stays until an operator retries it.
 * Outbound claims take a lease (lease_until), renewed while the job runs
 * (worker.c): a job whose process died becomes claimable again when its
 * lease runs out, which is how "a job interrupted by a crash runs again"
 * without a janitor process. Claims use
 * FOR UPDATE SKIP LOCKED so workers never wait on each other, and the
 * outbound claim skips shops that already have a job running in the
 * claimer's lane: one slow shop holds at most one worker per lane, and a
 * slow webhook endpoint (lane "webhooks") never holds up the shop's
 * WooCommerce calls and mails (lane "shop"; sql/020). Finishing is fenced by `attempts`, so a
 * worker that lost its lease cannot overwrite a newer attempt's outcome.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/crypto.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/jobs/queue.h"

#define JOB_COLS                                                                                   \
    "id, kind, status, payload::text, attempts, max_attempts, " DB_TS("run_at") ", last_error, "     \
    "result::text, dedupe_key, " DB_TS("created_at") ", " DB_TS("updated_at") ", " DB_TS("finished_at")

int
jobs_enqueue(struct db_conn *c, int64_t shop_id, const char *kind, const json_t *payload,
             const char *dedupe_key, long delay_ms, int max_attempts, int64_t *job_id,
             struct err *e)
{
    char shop[24], delay[24], max[16];
    char *body = payload ? jx_dump(payload) : NULL;
    const char *params[6] = {shop, kind, body ? body : "{}", dedupe_key, delay, max};
    PGresult *res;

    DB_I64(shop, shop_id);
    snprintf(delay, sizeof(delay), "%ld", delay_ms > 0 ? delay_ms : 0);
    snprintf(max, sizeof(max), "%d", max_attempts > 0 ? max_attempts : JOBS_MAX_ATTEMPTS_DEFAULT);
    /* The NOTIFY rides in the same statement; PostgreSQL delivers it at
     * commit and folds duplicates within a transaction. */
    res = db_exec(c, "jobs_enqueue",
                  "WITH ins AS (INSERT INTO jobs (shop_id, kind, payload, dedupe_key, run_at,"
                  " max_attempts) VALUES ($1, $2, $3::jsonb, $4,"
                  " now() + $5::bigint * interval '1 millisecond', $6)"
                  " ON CONFLICT (shop_id, kind, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING"
                  " RETURNING id)"
                  " SELECT id, CASE WHEN $5::bigint = 0 THEN pg_notify('" JOBS_CHANNEL "', '')"
                  " END FROM ins",
                  6, params, e);
    free(body);
    if (res == NULL)
        return -1;
    if (job_id)
        *job_id = PQntuples(res) == 1 ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    return 0;
}

long
jobs_backoff_ms(int attempts, long base_ms, long cap_ms, uint64_t rnd)
{
    long ceiling = base_ms;

    for (int i = 1; i < attempts && ceiling < cap_ms; i++)
        ceiling *= 2;
    if (ceiling > cap_ms)
        ceiling = cap_ms;
    if (ceiling <= 0)
        return 0;
    return (long)(rnd % ((uint64_t)ceiling + 1));
}

void
jobs_job_clear(struct job *job)
{
    json_decref(job->payload);
    job->payload = NULL;
}

static json_t *
job_json(const PGresult *res, int row)
{
    json_error_t jerr;
    json_t *payload = json_loads(PQgetvalue(res, row, 3), 0, &jerr);
    json_t *result = PQgetisnull(res, row, 8) ? json_null()
                                               : json_loads(PQgetvalue(res, row, 8), 0, &jerr);
#define NULLABLE(i) (PQgetisnull(res, row, i) ? json_null() : json_string(PQgetvalue(res, row, i)))
    return json_pack("{s:I, s:s, s:s, s:o, s:i, s:i, s:s, s:o, s:o, s:o, s:s, s:s, s:o}", "id",
                     (json_int_t)atoll(PQgetvalue(res, row, 0)), "kind", PQgetvalue(res, row, 1),
                     "status", PQgetvalue(res, row, 2), "payload", payload ? payload : json_object(),
                     "attempts", atoi(PQgetvalue(res, row, 4)), "max_attempts",
                     atoi(PQgetvalue(res, row, 5)), "run_at", PQgetvalue(res, row, 6),
                     "last_error", NULLABLE(7), "result", result ? result : json_null(),
                     "dedupe_key", NULLABLE(9), "created_at", PQgetvalue(res, row, 10),
                     "updated_at", PQgetvalue(res, row, 11), "finished_at", NULLABLE(12));
#undef NULLABLE
}

int
jobs_store_list(struct db_conn *c, int64_t shop_id, const char *status, const char *kind,
                int64_t after, int limit, json_t **items, int64_t *next_after, struct err *e)
{
    char shop[24], a[24], l[16];
    const char *params[5] = {shop, status, kind, a, l};
    PGresult *res;
    int n;

    DB_I64(shop, shop_id);
    DB_I64(a, after);
    snprintf(l, sizeof(l), "%d", limit + 1);
    res = db_exec(c, "jobs_store_list",
                  "SELECT " JOB_COLS " FROM jobs WHERE shop_id = $1"
                  " AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind = $3)"
                  " AND id > $4 ORDER BY id LIMIT $5",
                  5, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    *items = json_array();
    *next_after = 0;
    for (int i = 0; i < n && i < limit; i++)
        json_array_append_new(*items, job_json(res, i));
    if (n > limit)
        *next_after = atoll(PQgetvalue(res, limit - 1, 0));
    PQclear(res);
    return 0;
}

int
jobs_store_get(struct db_conn *c, int64_t shop_id, int64_t id, json_t **job, struct err *e)
{
    char shop[24], ids[24];
    const char *params[2] = {shop, ids};
    PGresult *res;

    DB_I64(shop, shop_id);
    DB_I64(ids, id);
    res = db_exec(c, "jobs_store_get",
                  "SELECT " JOB_COLS " FROM jobs WHERE shop_id = $1 AND id = $2", 2, params, e);
    if (res == NULL)
        return -1;
    *job = PQntuples(res) == 1 ? job_json(res, 0) : NULL;
    PQclear(res);
    return 0;
}

int
jobs_store_retry(struct db_conn *c, int64_t shop_id, int64_t id, json_t **job, struct err *e)
{
    char shop[24], ids[24];
    const char *params[2] = {shop, ids};
    PGresult *res;
    const char *status;

    *job = NULL;
    if (jobs_store_get(c, shop_id, id, job, e) < 0)
        return -1;
    if (*job == NULL)
        return 0;
    status = json_string_value(json_object_get(*job, "status"));
    if (strcmp(status, "dead") != 0) {
        err_set(e, ERR_CONFLICT, NULL, "job %" PRId64 " is %s; only dead jobs can be retried", id,
                status);
        json_decref(*job);
        *job = NULL;
        return -1;
    }
    json_decref(*job);
    *job = NULL;
    DB_I64(shop, shop_id);
    DB_I64(ids, id);
    res = db_exec(c, "jobs_store_retry",
                  "UPDATE jobs SET status = 'pending', attempts = 0, run_at = now(),"
                  " finished_at = NULL, lease_until = NULL, updated_at = now()"
                  " WHERE shop_id = $1 AND id = $2 AND status = 'dead'"
                  " RETURNING " JOB_COLS ", pg_notify('" JOBS_CHANNEL "', '')",
                  2, params, e);
    if (res == NULL)
        return -1;
    *job = PQntuples(res) == 1 ? job_json(res, 0) : NULL;
    PQclear(res);
    return 0;
}

static void
job_from_row(const PGresult *res, int row, struct job *job)
{
    json_error_t jerr;

    memset(job, 0, sizeof(*job));
    job->shop_id = atoll(PQgetvalue(res, row, 0));
    job->id = atoll(PQgetvalue(res, row, 1));
    snprintf(job->kind, sizeof(job->kind), "%s", PQgetvalue(res, row, 2));
    job->payload = json_loads(PQgetvalue(res, row, 3), 0, &jerr);
    if (job->payload == NULL)
        job->payload = json_object();
    job->attempts = atoi(PQgetvalue(res, row, 4));
    job->max_attempts = atoi(PQgetvalue(res, row, 5));
}

int
jobs_claim_internal(struct db_conn *c, const char *kinds_array, int limit, struct job *jobs,
                    int *n, struct err *e)
{
    char l[16];
    const char *params[2] = {kinds_array, l};
    PGresult *res;

    snprintf(l, sizeof(l), "%d", limit);
    /* attempts is reported as the attempt now running (+1); the row is
     * updated when the outcome is recorded, in the same transaction. */
    res = db_exec(c, "jobs_claim_internal",
                  "SELECT shop_id, id, kind, payload::text, attempts + 1, max_attempts FROM jobs"
                  " WHERE status = 'pending' AND run_at <= now() AND kind = ANY($1::text[])"
                  " ORDER BY run_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                  2, params, e);
    if (res == NULL)
        return -1;
    *n = PQntuples(res);
    for (int i = 0; i < *n; i++)
        job_from_row(res, i, &jobs[i]);
    PQclear(res);
    return 0;
}

int
jobs_claim_outbound(struct db_conn *c, const char *kinds_array, const char *lane, long lease_s,
                    bool *found, struct job *job, struct err *e)
{
    char lease[24];
    const char *params[3] = {kinds_array, lease, lane};
    PGresult *res;

    snprintf(lease, sizeof(lease), "%ld", lease_s);
    res = db_exec(
        c, "jobs_claim_outbound",
        "UPDATE jobs j SET status = 'running', lane = $3, attempts = j.attempts + 1,"
        " lease_until = now() + $2::bigint * interval '1 second', updated_at = now()"
        " FROM (SELECT shop_id, id FROM jobs"
        "  WHERE ((status = 'pending' AND run_at <= now()"
        "          AND shop_id NOT IN (SELECT shop_id FROM jobs WHERE status = 'running'"
        "                               AND lane = $3))"
        "         OR (status = 'running' AND lease_until < now()))"
        "    AND kind = ANY($1::text[])"
        "  ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED) t"
        " WHERE j.shop_id = t.shop_id AND j.id = t.id"
        " RETURNING j.shop_id, j.id, j.kind, j.payload::text, j.attempts, j.max_attempts",
        3, params, e);
    if (res == NULL) {
        /* jobs_one_running_per_shop_lane: another worker claimed a job of
         * this shop and lane after our snapshot was taken. Nothing
         * claimed; not an error. */
        if (strcmp(e->sqlstate, "23505") == 0) {
            *e = (struct err){0};
            *found = false;
            return 0;
        }
        return -1;
    }
    *found = PQntuples(res) == 1;
    if (*found)
        job_from_row(res, 0, job);
    PQclear(res);
    return 0;
}

int
jobs_finish(struct db_conn *c, const struct job *job, const struct job_outcome *out, bool leased,
            long backoff_base_ms, long backoff_cap_ms, bool *dead, struct err *e)
{
    char shop[24], id[24], attempts[16], delay[24];
    char *result = out->result ? jx_dump(out->result) : NULL;
    const char *error = NULL;
    const char *status;
    uint64_t rnd = 0;
    long n;

    *dead = false;
    DB_I64(shop, job->shop_id);
    DB_I64(id, job->id);
    snprintf(attempts, sizeof(attempts), "%d", job->attempts);
    switch (out->status) {
    case JOB_DONE:
        status = "done";
        snprintf(delay, sizeof(delay), "0");
        break;
    case JOB_RESCHEDULE:
        status = "again";
        snprintf(delay, sizeof(delay), "%ld", out->delay_ms);
        break;
    case JOB_RETRY:
    case JOB_FAIL:
    default:
        error = out->err.detail[0] ? out->err.detail : "failed";
        *dead = out->status == JOB_FAIL || job->attempts >= job->max_attempts;
        status = *dead ? "dead" : "pending";
        crypto_random_u64(&rnd);
        snprintf(delay, sizeof(delay), "%ld",
                 jobs_backoff_ms(job->attempts, backoff_base_ms, backoff_cap_ms, rnd));
        break;
    }
    {
        const char *params[7] = {shop, id, attempts, status, delay, error, result};
        /* One statement for every outcome keeps the fencing rule (the
         * attempt that claimed the job is the one that finishes it) in one
         * place. "again" is a recurring job going back to pending. */
        n = db_exec_cmd(
            c, leased ? "jobs_finish_leased" : "jobs_finish_internal",
            leased ? "UPDATE jobs SET"
                     " status = CASE $4 WHEN 'again' THEN 'pending' ELSE $4 END,"
                     " attempts = CASE $4 WHEN 'again' THEN 0 ELSE attempts END,"
                     " run_at = CASE WHEN $4 IN ('pending', 'again')"
                     "   THEN now() + $5::bigint * interval '1 millisecond' ELSE run_at END,"
                     " last_error = $6, result = COALESCE($7::jsonb, result), lease_until = NULL,"
                     " finished_at = CASE WHEN $4 IN ('done', 'dead') THEN now() END,"
                     " updated_at = now()"
                     " WHERE shop_id = $1 AND id = $2 AND status = 'running' AND attempts = $3"
                   : "UPDATE jobs SET"
                     " status = CASE $4 WHEN 'again' THEN 'pending' ELSE $4 END,"
                     " attempts = CASE $4 WHEN 'again' THEN 0 ELSE $3::integer END,"
                     " run_at = CASE WHEN $4 IN ('pending', 'again')"
                     "   THEN now() + $5::bigint * interval '1 millisecond' ELSE run_at END,"
                     " last_error = $6, result = COALESCE($7::jsonb, result),"
                     " finished_at = CASE WHEN $4 IN ('done', 'dead') THEN now() END,"
                     " updated_at = now()"
                     " WHERE shop_id = $1 AND id = $2 AND status = 'pending'",
            7, params, e);
    }
    free(result);
    if (n == 0)
        *dead = false; /* fenced out: a newer attempt owns the job */
    return n < 0 ? -1 : (n > 0 ? 1 : 0);
}

int
jobs_finish_done_many(struct db_conn *c, const struct job *const *jobs, json_t *const *results,
                      int n, struct err *e)
{
    struct buf shops = {0}, ids = {0};
    json_t *res = json_array();
    char *res_text;
    const char *params[3];
    long rc;

    buf_puts(&shops, "{");
    buf_puts(&ids, "{");
    for (int i = 0; i < n; i++) {
        buf_printf(&shops, "%s%" PRId64, i ? "," : "", jobs[i]->shop_id);
        buf_printf(&ids, "%s%" PRId64, i ? "," : "", jobs[i]->id);
        json_array_append(res, results[i] ? results[i] : json_null());
    }
    buf_puts(&shops, "}");
    buf_puts(&ids, "}");
    res_text = jx_dump(res);
    params[0] = shops.data;
    params[1] = ids.data;
    params[2] = res_text;
    rc = db_exec_cmd(c, "jobs_finish_done_many",
                     "UPDATE jobs j SET status = 'done', attempts = j.attempts + 1,"
                     " result = nullif(($3::jsonb) -> (r.ord::integer - 1), 'null'::jsonb),"
                     " last_error = NULL, finished_at = now(), updated_at = now()"
                     " FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS r(shop_id, id, ord)"
                     " WHERE j.shop_id = r.shop_id AND j.id = r.id AND j.status = 'pending'",
                     3, params, e);
    buf_free(&shops);
    buf_free(&ids);
    free(res_text);
    json_decref(res);
    return rc < 0 ? -1 : 0;
}

int
jobs_lock(struct db_conn *c, const struct job *job, bool *locked, struct err *e)
{
    char shop[24], id[24];
    const char *params[2] = {shop, id};
    PGresult *res;

    DB_I64(shop, job->shop_id);
    DB_I64(id, job->id);
    res = db_exec(c, "jobs_lock",
                  "SELECT 1 FROM jobs WHERE shop_id = $1 AND id = $2 AND status = 'pending'"
                  " FOR UPDATE SKIP LOCKED",
                  2, params, e);
    if (res == NULL)
        return -1;
    *locked = PQntuples(res) == 1;
    PQclear(res);
    return 0;
}
