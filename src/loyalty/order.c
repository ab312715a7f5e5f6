/*
 * order.c - one order's points: the ledger entries its events imply.
 *
 * Why one reconciliation per order instead of one job per event doing its
 * own step: the jobs of an order's events run on different workers,
 * ordered only by run_at, so the job of a refund could run before the
 * earn it reverses had committed, find nothing to reverse and finish: the
 * customer kept the points of a refunded order. Here every order event
 * (order.paid, order.completed, order.refunded, order.cancelled) runs the
 * same reconciliation of the whole order, under a per-order lock, and each
 * run writes what is missing. The entries of an order are a function of
 * the SET of its events, never of the order in which they were seen:
 *
 *   1. the earn ("order:<id>"), once the order has an event of the shop's
 *      earning status (order.completed; order.paid with earn_status
 *      processing): computed from that event's snapshot and the customer's
 *      tier at the moment it is written, and fixed from then on (later
 *      runs read it back from the ledger, they never recompute it);
 *   2. only then the reversals, in a fixed order: one per refund in refund
 *      id order (the order WooCommerce made them), each proportional to
 *      the earn and capped at what remains; then the cancellation, which
 *      takes all that remains. A refund seen before the order earned is
 *      applied when the order earns, instead of being lost.
 *
 * An order's events only accumulate, and its refunds always arrive as a
 * prefix in id order (orders.c emits every new refund of a snapshot in one
 * transaction, and a WooCommerce snapshot lists every refund so far), so
 * whatever the runs saw in between, the last run writes the entries of
 * the complete set, and those are the entries the deliveries give when
 * they arrive one after the other. Sources are unique, so a run that
 * repeats a step writes nothing.
 *
 * The lock is a transaction-level advisory lock on (shop, order), taken
 * with a try-lock: a job runs inside a worker's batch transaction that
 * already holds other rows, and waiting there could deadlock with another
 * batch. A run that finds the lock taken does nothing and is run again
 * shortly (loyalty.order reschedules itself): the holder may have read the
 * events before this run's event committed, so the run may not be dropped.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/loyalty/loyalty.h"
#include "aftersale/loyalty/order.h"

static int
order_lock(struct db_conn *c, const char *shop, const char *order, bool *got, struct err *e)
{
    const char *params[2] = {shop, order};
    PGresult *res;

    /* One 64-bit key per (shop, order); a hash collision only makes two
     * orders wait for each other, never mixes their entries. */
    res = db_exec(c, "loyalty_order_lock",
                  "SELECT pg_try_advisory_xact_lock("
                  " hashtextextended('loyalty.order:' || $1::text || ':' || $2::text, 0))",
                  2, params, e);
    if (res == NULL)
        return -1;
    *got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return 0;
}

static int64_t
account_lifetime(struct db_conn *c, int64_t shop_id, int64_t account, struct err *e)
{
    char shop[24], acct[24];
    const char *params[2] = {shop, acct};
    PGresult *res;
    int64_t v;

    DB_I64(shop, shop_id);
    DB_I64(acct, account);
    res = db_exec(c, "loyalty_account_lifetime",
                  "SELECT lifetime, email FROM loyalty_accounts WHERE shop_id = $1 AND id = $2", 2,
                  params, e);
    if (res == NULL)
        return -1;
    v = PQntuples(res) == 1 ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    return v;
}

/* Referral: the referee's first earning order pays both sides, once. */
static int
pay_referral(struct db_conn *c, int64_t shop_id, int64_t account, const char *email,
             int64_t order_id, const char *actor, struct err *e)
{
    char shop[24], acct[24], order[24], mail[256], src[64];
    const char *params[3] = {shop, mail, acct};
    PGresult *res;
    int64_t ref_id;
    char referrer[256];
    bool first;

    loyalty_email_normalise(email, mail);
    if (mail[0] == '\0')
        return 0;
    DB_I64(shop, shop_id);
    DB_I64(acct, account);
    DB_I64(order, order_id);
    res = db_exec(c, "loyalty_referral_pending",
                  "SELECT r.id, r.referrer_email,"
                  " (SELECT count(*) FROM loyalty_ledger l WHERE l.shop_id = $1"
                  "   AND l.account_id = $3 AND l.reason = 'earn') <= 1"
                  " FROM loyalty_referrals r WHERE r.shop_id = $1 AND r.referee_email = $2"
                  " AND r.status = 'pending' FOR UPDATE",
                  3, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 0;
    }
    ref_id = atoll(PQgetvalue(res, 0, 0));
    snprintf(referrer, sizeof(referrer), "%s", PQgetvalue(res, 0, 1));
    first = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
    PQclear(res);
    if (!first)
        return 0; /* not the referee's first order: the referral does not pay */
    snprintf(src, sizeof(src), "%" PRId64 ":referee", ref_id);
    if (loyalty_grant(c, shop_id, 0, mail, "referee", src, actor, e) < 0)
        return -1;
    snprintf(src, sizeof(src), "%" PRId64 ":referrer", ref_id);
    if (loyalty_grant(c, shop_id, 0, referrer, "referrer", src, actor, e) < 0)
        return -1;
    {
        char rid[24];
        const char *p[3] = {shop, rid, order};
        DB_I64(rid, ref_id);
        return db_exec_cmd(c, "loyalty_referral_paid",
                           "UPDATE loyalty_referrals SET status = 'paid', order_id = $3"
                           " WHERE shop_id = $1 AND id = $2",
                           3, p, e) < 0
                   ? -1
                   : 0;
    }
}

/* Write the earn entry of the order from the snapshot `ev` (the payload of
 * its earning event). *skipped names why nothing could be written. */
static int
earn(struct db_conn *c, int64_t shop_id, const struct loyalty_settings *s, const json_t *ev,
     const char *actor, const char **skipped, struct err *e)
{
    char currency[4], src[32], note[200], amount_s[32];
    json_t *item;
    int64_t amount = 0, converted = 0, account = 0, points = 0, mult = 1000, lifetime;
    size_t i;
    int t;
    bool dup;
    struct err pe = {0};

    *skipped = NULL;
    if (loyalty_shop_currency(c, shop_id, currency, NULL, e) < 0)
        return -1;
    if (s->basis == LOYALTY_BASIS_TOTAL) {
        if (loyalty_milli_parse(jx_str_or_empty(ev, "total"), &amount, &pe) < 0)
            amount = 0;
    } else {
        json_array_foreach(json_object_get(ev, "items"), i, item) {
            int64_t v = 0;
            if (loyalty_milli_parse(jx_str_or_empty(item, "total"), &v, &pe) == 0)
                amount += v;
        }
    }
    if (loyalty_account_resolve(c, shop_id, jx_int(ev, "customer_id"), jx_str_or_empty(ev, "email"),
                                true, &account, e) < 0) {
        if (e->kind != ERR_INVALID)
            return -1;
        *skipped = "order has neither a customer nor an email";
        err_clear(e);
        return 0;
    }
    lifetime = account_lifetime(c, shop_id, account, e);
    if (lifetime < 0)
        return -1;
    /* The tier before this order's points: fixed in the entry from now on. */
    t = loyalty_tier_for(s, lifetime);
    if (t >= 0)
        mult = s->tiers[t].multiplier_milli;
    loyalty_milli_format(amount, amount_s);
    if (!loyalty_convert(s, currency, jx_str_or_empty(ev, "currency"), amount, &converted)) {
        snprintf(note, sizeof(note),
                 "order in %s, the shop's currency is %s and no rate is configured: no points",
                 jx_str_or_empty(ev, "currency"), currency);
    } else {
        points = loyalty_points_for(s, converted, mult);
        snprintf(note, sizeof(note), "order %" JSON_INTEGER_FORMAT ": %s %s%s%s",
                 jx_int(ev, "order_id"), amount_s, jx_str_or_empty(ev, "currency"),
                 t >= 0 ? ", tier " : "", t >= 0 ? s->tiers[t].name : "");
    }
    snprintf(src, sizeof(src), "%" JSON_INTEGER_FORMAT, jx_int(ev, "order_id"));
    {
        struct loyalty_entry en = {.account_id = account, .delta = points, .reason = "earn",
                                   .source_kind = "order", .source_id = src,
                                   .order_id = jx_int(ev, "order_id"), .expires = true,
                                   .expiry_months = s->expiry_months, .note = note, .actor = actor};
        if (loyalty_ledger_append(c, shop_id, &en, &dup, NULL, e) < 0)
            return -1;
    }
    if (!dup && pay_referral(c, shop_id, account, jx_str_or_empty(ev, "email"),
                             jx_int(ev, "order_id"), actor, e) < 0)
        return -1;
    return 0;
}

/* What the ledger holds for the order: its earn and what was taken back. */
struct order_state {
    bool has_earn;
    int64_t account; /* the earn's account, or the account it was merged into */
    int64_t earned, taken;
    json_t *sources; /* "refund:801", "cancel:727" already written */
};

static int
state_load(struct db_conn *c, const char *shop, const char *order, struct order_state *st,
           struct err *e)
{
    const char *params[2] = {shop, order};
    PGresult *res;

    json_decref(st->sources);
    memset(st, 0, sizeof(*st));
    st->sources = json_object();
    res = db_exec(c, "loyalty_order_entries",
                  "SELECT l.source_kind, l.source_id, coalesce(a.merged_into, a.id), l.delta,"
                  " l.uncollected FROM loyalty_ledger l JOIN loyalty_accounts a"
                  " ON a.shop_id = l.shop_id AND a.id = l.account_id"
                  " WHERE l.shop_id = $1 AND l.order_id = $2::bigint"
                  " AND l.source_kind IN ('order', 'refund', 'cancel')",
                  2, params, e);
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *kind = PQgetvalue(res, i, 0), *id = PQgetvalue(res, i, 1);
        char key[64];

        if (strcmp(kind, "order") == 0) {
            if (strcmp(id, order) != 0)
                continue;
            st->has_earn = true;
            st->account = atoll(PQgetvalue(res, i, 2));
            st->earned = atoll(PQgetvalue(res, i, 3));
            continue;
        }
        /* What a reversal took back includes what it could not collect. */
        st->taken += -atoll(PQgetvalue(res, i, 3)) + atoll(PQgetvalue(res, i, 4));
        snprintf(key, sizeof(key), "%s:%s", kind, id);
        json_object_set_new(st->sources, key, json_true());
    }
    PQclear(res);
    return 0;
}

/* The reversal of one refund (refunded) or of the cancellation, unless it
 * is written already. *wrote 1 when an entry was written. */
static int
reverse(struct db_conn *c, int64_t shop_id, const char *order, struct order_state *st,
        const json_t *ev, bool refunded, const char *actor, int *wrote, struct err *e)
{
    char src[32], key[64], note[160];
    int64_t refund = 0, total = 0, take;
    bool full, dup;
    struct err pe = {0};

    *wrote = 0;
    if (refunded)
        snprintf(src, sizeof(src), "%" JSON_INTEGER_FORMAT, jx_int(ev, "refund_id"));
    else
        snprintf(src, sizeof(src), "%s", order);
    snprintf(key, sizeof(key), "%s:%s", refunded ? "refund" : "cancel", src);
    if (json_object_get(st->sources, key) != NULL)
        return 0;
    full = !refunded || json_is_true(json_object_get(ev, "full"));
    if (refunded) {
        loyalty_milli_parse(jx_str_or_empty(ev, "amount"), &refund, &pe);
        loyalty_milli_parse(jx_str_or_empty(ev, "order_total"), &total, &pe);
    }
    take = loyalty_reversal(st->earned, st->taken, refund, total, full);
    if (take == 0)
        return 0; /* nothing (left) to take back: no entry */
    if (!refunded)
        snprintf(note, sizeof(note), "order cancelled after completion of order %s", order);
    else if (full)
        snprintf(note, sizeof(note), "full refund of order %s", order);
    else
        snprintf(note, sizeof(note), "refund of %s out of %s on order %s",
                 jx_str_or_empty(ev, "amount"), jx_str_or_empty(ev, "order_total"), order);
    {
        struct loyalty_entry en = {.account_id = st->account, .delta = -take,
                                   .reason = refunded ? "refund" : "cancel",
                                   .source_kind = refunded ? "refund" : "cancel", .source_id = src,
                                   .order_id = atoll(order), .clamp = true, .note = note,
                                   .actor = actor};
        if (loyalty_ledger_append(c, shop_id, &en, &dup, NULL, e) < 0)
            return -1;
    }
    if (!dup) {
        st->taken += take;
        *wrote = 1;
    }
    json_object_set_new(st->sources, key, json_true());
    return 0;
}

static json_t *
payload_of(const PGresult *res, int row, struct err *e)
{
    json_error_t jerr;
    json_t *ev = json_loads(PQgetvalue(res, row, 1), 0, &jerr);

    if (ev == NULL)
        err_set(e, ERR_INTERNAL, NULL, "event payload does not parse: %s", jerr.text);
    return ev;
}

int
loyalty_order_reconcile(struct db_conn *c, int64_t shop_id, int64_t order_id, const char *actor,
                        bool *busy, json_t **result, struct err *e)
{
    struct loyalty_settings s;
    struct order_state st = {0};
    char shop[24], order[24];
    const char *params[2] = {shop, order};
    const char *earn_kind, *skipped = NULL;
    PGresult *res = NULL;
    json_t *ev = NULL;
    int rc = -1, n, written = 0, wrote;
    bool got;

    *busy = false;
    *result = NULL;
    DB_I64(shop, shop_id);
    DB_I64(order, order_id);
    if (order_lock(c, shop, order, &got, e) < 0)
        return -1;
    if (!got) {
        *busy = true;
        return 0;
    }
    if (loyalty_settings_load(c, shop_id, &s, e) < 0)
        return -1;
    earn_kind = strcmp(s.earn_status, "processing") == 0 ? "order.paid" : "order.completed";
    /* Earning events first, then refunds by refund id, the cancellation last. */
    res = db_exec(
        c, "loyalty_order_events",
        "SELECT kind, payload::text FROM events WHERE shop_id = $1 AND order_id = $2::bigint"
        " AND kind IN ('order.paid', 'order.completed', 'order.refunded',"
        " 'order.cancelled')"
        " ORDER BY kind = 'order.cancelled', (payload->>'refund_id')::bigint NULLS FIRST,"
        " id",
        2, params, e);
    if (res == NULL)
        goto out;
    n = PQntuples(res);
    if (state_load(c, shop, order, &st, e) < 0)
        goto out;
    if (!st.has_earn) {
        int i = 0;

        while (i < n && strcmp(PQgetvalue(res, i, 0), earn_kind) != 0)
            i++;
        if (i == n) {
            /* Reversals wait for the earn: they are proportional to it. */
            *result = json_pack("{s:I, s:s}", "order_id", (json_int_t)order_id, "waiting",
                                "the order has not reached the earning status");
            rc = 0;
            goto out;
        }
        if ((ev = payload_of(res, i, e)) == NULL ||
            earn(c, shop_id, &s, ev, actor, &skipped, e) < 0)
            goto out;
        if (skipped) {
            *result = json_pack("{s:I, s:s}", "order_id", (json_int_t)order_id, "skipped", skipped);
            rc = 0;
            goto out;
        }
        if (state_load(c, shop, order, &st, e) < 0)
            goto out;
        if (!st.has_earn) {
            err_set(e, ERR_INTERNAL, NULL, "order %s: the earn entry is missing after its write",
                    order);
            goto out;
        }
        written++;
    }
    for (int i = 0; i < n; i++) {
        const char *kind = PQgetvalue(res, i, 0);
        bool refunded = strcmp(kind, "order.refunded") == 0;

        if (!refunded && strcmp(kind, "order.cancelled") != 0)
            continue;
        json_decref(ev);
        if ((ev = payload_of(res, i, e)) == NULL ||
            reverse(c, shop_id, order, &st, ev, refunded, actor, &wrote, e) < 0)
            goto out;
        written += wrote;
    }
    *result = json_pack("{s:I, s:I, s:I, s:I, s:i}", "order_id", (json_int_t)order_id,
                        "account_id", (json_int_t)st.account, "earned", (json_int_t)st.earned,
                        "taken", (json_int_t)st.taken, "written", written);
    rc = 0;
out:
    json_decref(ev);
    json_decref(st.sources);
    PQclear(res);
    return rc;
}
