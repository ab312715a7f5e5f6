/*
 * handlers.c - the loyalty routes: shop API and customer API.
 *
 * Handlers validate, then do all of a request's work in one transaction:
 * the ledger entry, the account's balance, the redemption row, the coupon
 * job (outbox) and the Idempotency-Key record commit together or not at
 * all. The customer routes (/v1/me/...) are the shop routes applied to
 * the account of the token's customer; they never take an account id.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/hooks/hooks.h"
#include "aftersale/core/crypto.h"
#include "aftersale/core/cursor.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/db/idempotency.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/loyalty/handlers.h"
#include "aftersale/loyalty/loyalty.h"


/* ---- settings ------------------------------------------------------------ */

/* Beside the settings document (its own column, read by the customer
 * routes): may an email-only token reach a registered customer's account? */
#define OPT_IN_KEY "email_tokens_reach_registered"

struct settings_ctx {
    int64_t shop_id;
    json_t *patch;   /* without OPT_IN_KEY */
    int opt_in;      /* -1 = not given, else 0/1 */
    json_t *out;
};

static int
opt_in_fn(struct db_conn *c, struct settings_ctx *s, bool *opt_in, struct err *e)
{
    char shop[24];
    const char *p[2] = {shop, s->opt_in == 1 ? "t" : "f"};
    PGresult *res;

    DB_I64(shop, s->shop_id);
    if (s->opt_in >= 0) {
        struct loyalty_settings cur;
        /* The row must exist: saving what is current changes nothing. */
        if (s->patch == NULL && (loyalty_settings_load(c, s->shop_id, &cur, e) < 0 ||
                                 loyalty_settings_save(c, s->shop_id, &cur, e) < 0))
            return -1;
        if (db_exec_cmd(c, "loyalty_settings_opt_in_set",
                        "UPDATE loyalty_settings SET email_tokens_reach_registered = $2::boolean,"
                        " updated_at = now() WHERE shop_id = $1",
                        2, p, e) < 0)
            return -1;
    }
    res = db_exec(c, "loyalty_settings_opt_in_get",
                  "SELECT email_tokens_reach_registered FROM loyalty_settings WHERE shop_id = $1",
                  1, p, e);
    if (res == NULL)
        return -1;
    *opt_in = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return 0;
}

static int
settings_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct settings_ctx *s = ctx;
    struct loyalty_settings cur;
    bool opt_in = false;

    json_decref(s->out);
    s->out = NULL;
    if (loyalty_settings_load(c, s->shop_id, &cur, e) < 0)
        return -1;
    if (s->patch) {
        /* Validate on a copy: a refused PUT leaves the settings as they were. */
        struct loyalty_settings next = cur;
        if (loyalty_settings_from_json(&next, s->patch, e) < 0 ||
            loyalty_settings_save(c, s->shop_id, &next, e) < 0)
            return -1;
        cur = next;
    }
    if (opt_in_fn(c, s, &opt_in, e) < 0)
        return -1;
    s->out = loyalty_settings_to_json(&cur);
    json_object_set_new(s->out, OPT_IN_KEY, json_boolean(opt_in));
    return 0;
}

static void
settings(struct req *r, const json_t *body)
{
    /* The loyalty document has no read-only field yet; a new one goes
     * here, so that a document read by GET is always accepted by PUT. */
    static const char *const read_only[] = {NULL};
    struct settings_ctx s = {.shop_id = r->shop_id, .opt_in = -1};

    if (body != NULL) {
        const json_t *v = json_object_get(body, OPT_IN_KEY);
        if (v != NULL && !json_is_boolean(v)) {
            reply_problem(r, ERR_INVALID, OPT_IN_KEY, OPT_IN_KEY " must be true or false");
            return;
        }
        if (v != NULL)
            s.opt_in = json_is_true(v);
        s.patch = jx_without_read_only(body, read_only);
        json_object_del(s.patch, OPT_IN_KEY);
    }
    reply_tx_json_take(r, settings_fn, &s, &s.out);
    json_decref(s.patch);
}

void
loyalty_handle_settings_get(struct req *r)
{
    settings(r, NULL);
}

void
loyalty_handle_settings_put(struct req *r)
{
    settings(r, r->json);
}

/* ---- reading accounts ------------------------------------------------------ */

struct read_ctx {
    int64_t shop_id, account_id, after, next_after;
    int limit;
    const char *email;
    json_t *out;
};

static int
reply_page_args(struct req *r, struct read_ctx *x)
{
    return req_page_or_reply(r, &x->limit, &x->after);
}

static int
accounts_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct read_ctx *x = ctx;
    char shop[24], after[24], limit[16], mail[256];
    const char *params[4] = {shop, after, limit, NULL};
    PGresult *res;
    int n;

    DB_I64(shop, x->shop_id);
    DB_I64(after, x->after);
    snprintf(limit, sizeof(limit), "%d", x->limit + 1);
    if (x->email) {
        loyalty_email_normalise(x->email, mail);
        params[3] = mail;
    }
    res = db_exec(c, "loyalty_accounts_list",
                  "SELECT id, customer_id, email, balance, lifetime, " DB_TS("created_at")
                  " FROM loyalty_accounts WHERE shop_id = $1 AND id > $2"
                  " AND ($4::text IS NULL OR email = $4) ORDER BY id LIMIT $3",
                  4, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    x->out = json_array();
    x->next_after = 0;
    for (int i = 0; i < n && i < x->limit; i++)
        json_array_append_new(
            x->out,
            json_pack("{s:I, s:o, s:s, s:I, s:I, s:s}", "id",
                      (json_int_t)atoll(PQgetvalue(res, i, 0)), "customer_id",
                      PQgetisnull(res, i, 1) ? json_null()
                                             : json_integer(atoll(PQgetvalue(res, i, 1))),
                      "email", PQgetvalue(res, i, 2), "balance",
                      (json_int_t)atoll(PQgetvalue(res, i, 3)), "lifetime_points",
                      (json_int_t)atoll(PQgetvalue(res, i, 4)), "created_at",
                      PQgetvalue(res, i, 5)));
    if (n > x->limit)
        x->next_after = atoll(PQgetvalue(res, x->limit - 1, 0));
    PQclear(res);
    return 0;
}

void
loyalty_handle_accounts_list(struct req *r)
{
    struct read_ctx x = {.shop_id = r->shop_id, .email = req_query(r, "email")};

    if (reply_page_args(r, &x) < 0)
        return;
    if (x.email && (strlen(x.email) == 0 || strlen(x.email) > 254)) {
        reply_problem(r, ERR_MALFORMED, "email", "email must be 1 to 254 characters");
        return;
    }
    reply_run_page_take(r, accounts_fn, &x, &x.out, &x.next_after);
}

static int
account_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct read_ctx *x = ctx;
    return loyalty_account_json(c, x->shop_id, x->account_id, &x->out, e);
}

void
loyalty_handle_account_get(struct req *r)
{
    struct read_ctx x = {.shop_id = r->shop_id};

    if (req_param_id_or_reply(r, "account", &x.account_id) < 0)
        return;
    reply_run_json_take(r, account_fn, &x, &x.out, "loyalty account", x.account_id);
}

static int
ledger_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct read_ctx *x = ctx;
    char shop[24], acct[24], after[24], limit[16];
    const char *params[4] = {shop, acct, after, limit};
    PGresult *res;
    int n;

    DB_I64(shop, x->shop_id);
    DB_I64(acct, x->account_id);
    DB_I64(after, x->after);
    snprintf(limit, sizeof(limit), "%d", x->limit + 1);
    /* Newest first: the cursor is the last id seen, and pages go down. */
    res = db_exec(c, "loyalty_ledger_list",
                  "SELECT id, delta, reason, source_kind, source_id, order_id, balance_after,"
                  " uncollected, " DB_TS("expires_at") ", note, actor, " DB_TS("created_at")
                  " FROM loyalty_ledger WHERE shop_id = $1 AND account_id = $2"
                  " AND ($3::bigint = 0 OR id < $3) ORDER BY id DESC LIMIT $4",
                  4, params, e);
    if (res == NULL)
        return -1;
    n = PQntuples(res);
    x->out = json_array();
    x->next_after = 0;
    for (int i = 0; i < n && i < x->limit; i++) {
#define V(j) PQgetvalue(res, i, j)
        json_array_append_new(
            x->out,
            json_pack("{s:I, s:I, s:s, s:{s:s, s:s}, s:o, s:I, s:I, s:o, s:s, s:s, s:s}", "id",
                      (json_int_t)atoll(V(0)), "delta", (json_int_t)atoll(V(1)), "reason", V(2),
                      "source", "kind", V(3), "id", V(4), "order_id",
                      PQgetisnull(res, i, 5) ? json_null() : json_integer(atoll(V(5))),
                      "balance_after", (json_int_t)atoll(V(6)), "uncollected",
                      (json_int_t)atoll(V(7)), "expires_at",
                      PQgetisnull(res, i, 8) ? json_null() : json_string(V(8)), "note", V(9),
                      "actor", V(10), "created_at", V(11)));
#undef V
    }
    if (n > x->limit)
        x->next_after = atoll(PQgetvalue(res, x->limit - 1, 0));
    PQclear(res);
    return 0;
}

static void
ledger(struct req *r, int64_t account_id)
{
    struct read_ctx x = {.shop_id = r->shop_id, .account_id = account_id};
    struct err e = {0};
    json_t *acct = NULL;

    if (reply_page_args(r, &x) < 0)
        return;
    if (account_id > 0) {
        /* 404 for an account that does not exist, not an empty page. */
        if (db_run(account_fn, &x, &e) < 0) {
            reply_err(r, &e);
            return;
        }
        acct = x.out;
        x.out = NULL;
        if (acct == NULL) {
            reply_problem(r, ERR_NOT_FOUND, NULL, "no loyalty account %" PRId64, account_id);
            return;
        }
        json_decref(acct);
        if (db_run(ledger_fn, &x, &e) < 0) {
            reply_err(r, &e);
            return;
        }
    } else {
        x.out = json_array();
    }
    reply_page_take(r, x.out, x.next_after);
}

void
loyalty_handle_ledger_list(struct req *r)
{
    int64_t account;

    if (req_param_id_or_reply(r, "account", &account) == 0)
        ledger(r, account);
}

/* ---- writes: adjustments and redemptions ----------------------------------- */

struct write_ctx {
    int64_t shop_id, account_id, points;
    const char *reason, *note, *route;
    char actor[48];
    struct idempotency idem;
    /* customer routes resolve the account inside the transaction */
    bool customer;
    int64_t customer_id;
    const char *customer_email;
    int status;
    json_t *out;
};

static int
adjust_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct write_ctx *w = ctx;
    char src[40];
    uint8_t rnd[12];
    struct loyalty_settings s;
    bool dup;
    char *body;

    json_decref(w->out);
    w->out = NULL;
    db_idempotency_clear(&w->idem);
    if (db_idempotency_begin(c, w->shop_id, &w->idem, w->route, e) < 0)
        return -1;
    if (w->idem.replay)
        return 0;
    if (loyalty_settings_load(c, w->shop_id, &s, e) < 0)
        return -1;
    crypto_random(rnd, sizeof(rnd));
    crypto_hex(rnd, sizeof(rnd), src);
    {
        struct loyalty_entry en = {.account_id = w->account_id, .delta = w->points,
                                   .reason = "adjustment", .source_kind = "adjustment",
                                   .source_id = src, .expires = true,
                                   .expiry_months = s.expiry_months, .note = w->reason,
                                   .actor = w->actor};
        if (loyalty_ledger_append(c, w->shop_id, &en, &dup, &w->out, e) < 0)
            return -1;
    }
    w->status = 201;
    body = jx_dump(w->out);
    if (db_idempotency_save(c, w->shop_id, &w->idem, w->route, w->status, body, e) < 0) {
        free(body);
        return -1;
    }
    free(body);
    return 0;
}

/* Common: the Idempotency-Key header and the body hash. -1 after replying. */
static int
idempotency_or_reply(struct req *r, struct write_ctx *w)
{
    const char *key = req_header(r, "Idempotency-Key");

    if (key && !db_idempotency_key_valid(key)) {
        reply_problem(r, ERR_MALFORMED, "Idempotency-Key",
                      "Idempotency-Key must be 1 to 255 visible ASCII characters");
        return -1;
    }
    db_idempotency_init(&w->idem, key, w->route, r->body.data ? r->body.data : "", r->body.len);
    /* A customer's keys are theirs alone: another customer's key is neither
     * a replay nor a 409 (and does not tell them it was used). */
    if (w->customer && w->customer_id > 0)
        snprintf(w->idem.scope, sizeof(w->idem.scope), "customer:%" PRId64, w->customer_id);
    else if (w->customer) {
        char mail[256];
        loyalty_email_normalise(w->customer_email, mail);
        snprintf(w->idem.scope, sizeof(w->idem.scope), "email:%s", mail);
    }
    return 0;
}

static void
reply_write(struct req *r, struct write_ctx *w)
{
    if (w->idem.replay) {
        size_t n = strlen(w->idem.body);
        req_add_header(r, "Idempotent-Replayed", "true");
        reply_text_take(r, w->idem.status, "application/json", xstrdup(w->idem.body), n);
        json_decref(w->out);
    } else {
        reply_json_take(r, w->status, w->out);
    }
    w->out = NULL;
    db_idempotency_clear(&w->idem);
}

void
loyalty_handle_adjustment(struct req *r)
{
    static const struct jx_field fields[] = {
        {"points", JX_INTEGER, true, 0, 0},
        {"reason", JX_STRING, true, 1, 200},
    };
    struct write_ctx w = {.shop_id = r->shop_id};
    struct err e = {0};
    char route[64];

    if (req_param_id_or_reply(r, "account", &w.account_id) < 0)
        return;
    /* The key is scoped to this account's route: the same key on another
     * account is another request, never a replay of this one. */
    snprintf(route, sizeof(route), "accounts/%" PRId64 "/adjustments", w.account_id);
    w.route = route;
    if (jx_check(r->json, fields, 2, NULL, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    w.points = json_integer_value(json_object_get(r->json, "points"));
    w.reason = jx_str(r->json, "reason");
    if (w.points == 0 || w.points > 100000000 || w.points < -100000000) {
        reply_problem(r, ERR_INVALID, "points",
                      "points must be a non-zero integer from -100000000 to 100000000");
        return;
    }
    snprintf(w.actor, sizeof(w.actor), "api_key:%" PRId64, r->key_id);
    if (idempotency_or_reply(r, &w) < 0)
        return;
    if (db_tx(adjust_fn, &w, &e) < 0) {
        db_idempotency_clear(&w.idem);
        reply_err(r, &e);
        return;
    }
    reply_write(r, &w);
}

static int
redeem_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct write_ctx *w = ctx;
    struct loyalty_settings s;
    char shop[24], acct[24], points[24], amount[32], code[16], days[16], currency[4] = "";
    char rid[24];
    int64_t discount;
    PGresult *res;
    json_t *entry = NULL;
    bool dup;
    char *body;
    int rc = -1;

    json_decref(w->out);
    w->out = NULL;
    db_idempotency_clear(&w->idem);
    if (db_idempotency_begin(c, w->shop_id, &w->idem, w->route, e) < 0)
        return -1;
    if (w->idem.replay)
        return 0;
    if (w->customer) {
        if (loyalty_account_for_token(c, w->shop_id, w->customer_id, w->customer_email,
                                      &w->account_id, e) < 0)
            return -1;
        if (w->account_id == 0)
            return err_set(e, ERR_CONFLICT, "points", "not enough points: the balance is 0");
    }
    if (loyalty_account_lock(c, w->shop_id, w->account_id, e) < 0 ||
        loyalty_settings_load(c, w->shop_id, &s, e) < 0 ||
        loyalty_redeem_value(&s, w->points, &discount, e) < 0)
        return -1;
    DB_I64(shop, w->shop_id);
    DB_I64(acct, w->account_id);
    DB_I64(points, w->points);
    loyalty_milli_format(discount, amount);
    snprintf(days, sizeof(days), "%d", s.coupon_validity_days);
    /* The code is fixed now, before any call to the shop: a retried coupon
     * job creates this code or finds it already there. */
    {
        char rnd[11];
        crypto_random_alnum(rnd, 10);
        for (char *p = rnd; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        snprintf(code, sizeof(code), "AS-%s", rnd);
    }
    {
        const char *p[6] = {shop, acct, points, amount, code, days};
        res = db_exec(c, "loyalty_redemption_insert",
                      "INSERT INTO loyalty_redemptions (shop_id, account_id, points, amount,"
                      " currency, code, expires_on)"
                      " SELECT a.shop_id, a.id, $3, $4::numeric, s.currency, $5,"
                      "  (now() AT TIME ZONE s.timezone)::date + $6::integer"
                      " FROM loyalty_accounts a JOIN shops s ON s.id = a.shop_id"
                      " WHERE a.shop_id = $1 AND a.id = $2 AND a.merged_into IS NULL"
                      " RETURNING id, currency, to_char(expires_on, 'YYYY-MM-DD'),"
                      " " DB_TS("created_at"),
                      6, p, e);
    }
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_NOT_FOUND, NULL, "no loyalty account %" PRId64, w->account_id);
    }
    snprintf(rid, sizeof(rid), "%s", PQgetvalue(res, 0, 0));
    snprintf(currency, sizeof(currency), "%s", PQgetvalue(res, 0, 1));
    w->out = json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
                       (json_int_t)atoll(rid), "account_id", (json_int_t)w->account_id, "points",
                       (json_int_t)w->points, "amount", amount, "currency", currency, "code", code,
                       "status", "pending", "expires_on", PQgetvalue(res, 0, 2), "created_at",
                       PQgetvalue(res, 0, 3));
    PQclear(res);
    if (hooks_emit(c, w->shop_id, "loyalty.redemption.created",
                   json_pack("{s:I, s:I, s:I, s:s, s:s}", "redemption_id", (json_int_t)atoll(rid),
                             "account_id", (json_int_t)w->account_id, "points",
                             (json_int_t)w->points, "amount", amount, "currency", currency),
                   e) < 0)
        goto out;
    {
        char note[96];
        struct loyalty_entry en = {.account_id = w->account_id, .delta = -w->points,
                                   .reason = "redeem", .source_kind = "redemption",
                                   .source_id = rid, .note = note, .actor = w->actor};
        snprintf(note, sizeof(note), "coupon %s for %s %s", code, amount, currency);
        if (loyalty_ledger_append(c, w->shop_id, &en, &dup, &entry, e) < 0)
            goto out;
        json_object_set(w->out, "balance_after", json_object_get(entry, "balance_after"));
    }
    {
        char key[40];
        json_t *payload = json_pack("{s:I}", "redemption_id", (json_int_t)atoll(rid));
        int r2;
        snprintf(key, sizeof(key), "redemption:%s", rid);
        r2 = jobs_enqueue(c, w->shop_id, "loyalty.coupon", payload, key, 0, 0, NULL, e);
        json_decref(payload);
        if (r2 < 0)
            goto out;
    }
    w->status = 201;
    body = jx_dump(w->out);
    rc = db_idempotency_save(c, w->shop_id, &w->idem, w->route, w->status, body, e);
    free(body);
out:
    json_decref(entry);
    return rc;
}

static void
redeem(struct req *r, struct write_ctx *w)
{
    static const struct jx_field fields[] = {{"points", JX_INTEGER, true, 0, 0}};
    struct err e = {0};

    if (jx_check(r->json, fields, 1, NULL, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    w->points = json_integer_value(json_object_get(r->json, "points"));
    if (w->points <= 0 || w->points > 1000000000) {
        reply_problem(r, ERR_INVALID, "points", "points must be a positive integer");
        return;
    }
    if (idempotency_or_reply(r, w) < 0)
        return;
    if (db_tx(redeem_fn, w, &e) < 0) {
        db_idempotency_clear(&w->idem);
        json_decref(w->out);
        reply_err(r, &e);
        return;
    }
    reply_write(r, w);
}

void
loyalty_handle_redemption(struct req *r)
{
    struct write_ctx w = {.shop_id = r->shop_id};
    char route[64];

    if (req_param_id_or_reply(r, "account", &w.account_id) < 0)
        return;
    snprintf(route, sizeof(route), "accounts/%" PRId64 "/redemptions", w.account_id);
    w.route = route;
    snprintf(w.actor, sizeof(w.actor), "api_key:%" PRId64, r->key_id);
    redeem(r, &w);
}

/* ---- birthday and referrals ------------------------------------------------- */

struct birthday_ctx {
    int64_t shop_id, account_id;
    int month, day;
    json_t *out;
};

static int
birthday_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct birthday_ctx *b = ctx;
    char shop[24], acct[24], m[8], d[8];
    const char *params[4] = {shop, acct, m, d};
    long n;

    DB_I64(shop, b->shop_id);
    DB_I64(acct, b->account_id);
    snprintf(m, sizeof(m), "%d", b->month);
    snprintf(d, sizeof(d), "%d", b->day);
    n = db_exec_cmd(c, "loyalty_birthday_set",
                    "UPDATE loyalty_accounts SET birthday_month = $3, birthday_day = $4,"
                    " updated_at = now() WHERE shop_id = $1 AND id = $2 AND merged_into IS NULL",
                    4, params, e);
    if (n < 0)
        return -1;
    if (n == 0) {
        /* Missing or merged: the lock's error says which. */
        if (loyalty_account_lock(c, b->shop_id, b->account_id, e) == 0)
            err_set(e, ERR_NOT_FOUND, NULL, "no loyalty account %" PRId64, b->account_id);
        return -1;
    }
    return loyalty_account_json(c, b->shop_id, b->account_id, &b->out, e);
}

void
loyalty_handle_birthday(struct req *r)
{
    static const struct jx_field fields[] = {
        {"month", JX_INTEGER, true, 0, 0},
        {"day", JX_INTEGER, true, 0, 0},
    };
    static const int days_in[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    struct birthday_ctx b = {.shop_id = r->shop_id};
    struct err e = {0};
    json_int_t m, d;

    if (req_param_id_or_reply(r, "account", &b.account_id) < 0)
        return;
    if (jx_check(r->json, fields, 2, NULL, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    m = json_integer_value(json_object_get(r->json, "month"));
    d = json_integer_value(json_object_get(r->json, "day"));
    if (m < 1 || m > 12) {
        reply_problem(r, ERR_INVALID, "month", "month must be from 1 to 12");
        return;
    }
    if (d < 1 || d > days_in[m - 1]) {
        reply_problem(r, ERR_INVALID, "day", "day must be a day of month %d", (int)m);
        return;
    }
    b.month = (int)m;
    b.day = (int)d;
    if (db_tx(birthday_fn, &b, &e) < 0)
        reply_err(r, &e);
    else
        reply_json_take(r, 200, b.out);
}

struct referral_ctx {
    int64_t shop_id;
    char referrer[256], referee[256];
    json_t *out;
};

static int
referral_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct referral_ctx *x = ctx;
    char shop[24];
    const char *params[3] = {shop, x->referrer, x->referee};
    PGresult *res;

    DB_I64(shop, x->shop_id);
    res = db_exec(c, "loyalty_referral_insert",
                  "INSERT INTO loyalty_referrals (shop_id, referrer_email, referee_email)"
                  " VALUES ($1, $2, $3) ON CONFLICT (shop_id, referee_email) DO NOTHING"
                  " RETURNING id, status, " DB_TS("created_at"),
                  3, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_CONFLICT, "referee_email", "this customer was already referred");
    }
    x->out = json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)atoll(PQgetvalue(res, 0, 0)),
                       "referrer_email", x->referrer, "referee_email", x->referee, "status",
                       PQgetvalue(res, 0, 1), "created_at", PQgetvalue(res, 0, 2));
    PQclear(res);
    return 0;
}

static bool
email_plausible(const char *s)
{
    const char *at = strchr(s, '@');
    return at && at != s && strchr(at + 1, '.') && !strchr(at + 1, '@') && !strpbrk(s, " \t\r\n<>");
}

void
loyalty_handle_referral(struct req *r)
{
    static const struct jx_field fields[] = {
        {"referrer_email", JX_STRING, true, 3, 254},
        {"referee_email", JX_STRING, true, 3, 254},
    };
    struct referral_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};

    if (jx_check(r->json, fields, 2, NULL, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    loyalty_email_normalise(jx_str(r->json, "referrer_email"), x.referrer);
    loyalty_email_normalise(jx_str(r->json, "referee_email"), x.referee);
    if (!email_plausible(x.referrer)) {
        reply_problem(r, ERR_INVALID, "referrer_email", "referrer_email is not an email address");
        return;
    }
    if (!email_plausible(x.referee)) {
        reply_problem(r, ERR_INVALID, "referee_email", "referee_email is not an email address");
        return;
    }
    if (strcmp(x.referrer, x.referee) == 0) {
        reply_problem(r, ERR_INVALID, "referee_email", "a customer cannot refer themselves");
        return;
    }
    if (db_tx(referral_fn, &x, &e) < 0)
        reply_err(r, &e);
    else
        reply_json_take(r, 201, x.out);
}

/* ---- the customer API ------------------------------------------------------- */

struct me_ctx {
    int64_t shop_id, customer_id, account_id;
    const char *email;
    json_t *out;
};

static int
me_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct me_ctx *m = ctx;

    m->out = NULL;
    if (loyalty_account_for_token(c, m->shop_id, m->customer_id, m->email, &m->account_id, e) < 0)
        return -1;
    if (m->account_id == 0)
        return 0;
    return loyalty_account_json(c, m->shop_id, m->account_id, &m->out, e);
}

static int
me_or_reply(struct req *r, struct me_ctx *m)
{
    struct err e = {0};

    m->shop_id = r->shop_id;
    m->customer_id = r->customer_id;
    m->email = r->customer_email;
    if (db_tx(me_fn, m, &e) < 0) {
        reply_err(r, &e);
        return -1;
    }
    return 0;
}

void
loyalty_handle_me_get(struct req *r)
{
    struct me_ctx m = {0};

    if (me_or_reply(r, &m) < 0)
        return;
    if (m.out == NULL) /* no account yet: an empty one, not an error */
        m.out = json_pack("{s:n, s:o, s:s, s:i, s:i, s:n, s:n, s:{s:i, s:n}, s:n, s:n, s:n}", "id",
                          "customer_id",
                          r->customer_id > 0 ? json_integer(r->customer_id) : json_null(), "email",
                          r->customer_email, "balance", 0, "lifetime_points", 0, "tier",
                          "next_tier", "expiring_soon", "points", 0, "first_expiry", "birthday",
                          "merged_into", "created_at");
    reply_json_take(r, 200, m.out);
}

void
loyalty_handle_me_ledger(struct req *r)
{
    struct me_ctx m = {0};

    if (me_or_reply(r, &m) < 0)
        return;
    json_decref(m.out);
    ledger(r, m.account_id);
}

void
loyalty_handle_me_redemption(struct req *r)
{
    struct write_ctx w = {.shop_id = r->shop_id, .customer = true,
                          .customer_id = r->customer_id, .customer_email = r->customer_email};

    /* The Idempotency-Key's scope is the customer (idempotency_or_reply). */
    w.route = "me/redemptions";
    snprintf(w.actor, sizeof(w.actor), "customer:%" PRId64, r->customer_id);
    redeem(r, &w);
}
