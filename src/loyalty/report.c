/*
 * report.c - the loyalty programme over a period, for the merchant's
 * overview: points issued, redeemed, expired and taken back between
 * `from` and `to`, and what the points still held are worth.
 *
 * Every figure is a sum of ledger entries (the ledger is the truth; the
 * accounts' balances are its running totals), in one statement so they
 * come from one snapshot:
 *
 *   issued    earn + bonus + adjustments that add
 *   redeemed  what redemptions took, minus what failed redemptions gave back
 *   expired   what expiry took
 *   reversed  what refunds and cancellations took back
 *   adjusted_out  adjustments that took points
 *
 * Guest-to-customer merges move points between accounts and net to zero;
 * they are in `by_reason` only. `outstanding` is the points held now (the
 * sum of balances, not of the period) and `liability` their face value at
 * the redemption rate (points / redemption.points_per_unit, in the shop's
 * currency, 2 decimals), ignoring the minimum and the cap of one
 * redemption. Read-only; never writes.
 */
#include <stdio.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/db/pool.h"
#include "aftersale/loyalty/handlers.h"
#include "aftersale/loyalty/loyalty.h"
#include "aftersale/loyalty/rules.h"
#include "aftersale/woo/link.h"

struct report_ctx {
    int64_t shop_id;
    const char *from, *to;
    json_t *out;
};

static int
report_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct report_ctx *x = ctx;
    struct loyalty_settings s;
    char shop[24], ppu[24];
    const char *params[4] = {shop, x->from, x->to, ppu};
    PGresult *res;
    json_error_t jerr;

    DB_I64(shop, x->shop_id);
    /* Name the bad bound: the RFC 3339 shape was checked, the calendar is PostgreSQL's. */
    if (db_time_range_check(c, x->from, x->to, e) < 0)
        return -1;
    if (loyalty_settings_load(c, x->shop_id, &s, e) < 0)
        return -1;
    DB_I64(ppu, s.redeem_points_per_unit);
    res = db_exec(
        c, "loyalty_report",
        "WITH span AS (SELECT coalesce($2::timestamptz, now() - interval '30 days') AS f,"
        "                     coalesce($3::timestamptz, now()) AS t),"
        " l AS (SELECT l.reason, l.delta FROM loyalty_ledger l, span WHERE l.shop_id = $1"
        "       AND l.created_at >= span.f AND l.created_at < span.t),"
        " r AS (SELECT reason, sum(delta) AS n FROM l GROUP BY reason),"
        " held AS (SELECT coalesce(sum(balance), 0) AS n FROM loyalty_accounts WHERE shop_id = $1)"
        " SELECT json_build_object("
        "  'from', to_char((SELECT f FROM span) AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        "  'to', to_char((SELECT t FROM span) AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        "  'issued', (SELECT coalesce(sum(delta), 0) FROM l WHERE reason IN ('earn', 'bonus')"
        "     OR (reason = 'adjustment' AND delta > 0)),"
        "  'redeemed', (SELECT -coalesce(sum(delta), 0) FROM l"
        "     WHERE reason IN ('redeem', 'redemption_refund')),"
        "  'expired', (SELECT -coalesce(sum(delta), 0) FROM l WHERE reason = 'expiry'),"
        "  'reversed', (SELECT -coalesce(sum(delta), 0) FROM l WHERE reason IN ('refund', "
        "'cancel')),"
        "  'adjusted_out', (SELECT -coalesce(sum(delta), 0) FROM l"
        "     WHERE reason = 'adjustment' AND delta < 0),"
        "  'net', (SELECT coalesce(sum(delta), 0) FROM l),"
        "  'entries', (SELECT count(*) FROM l),"
        "  'by_reason', coalesce((SELECT json_object_agg(reason, n ORDER BY reason) FROM r), '{}'),"
        "  'outstanding', (SELECT n FROM held),"
        "  'redemption_points_per_unit', $4::bigint,"
        "  'liability', (SELECT round((SELECT n FROM held)::numeric / $4::bigint, 2)::text),"
        "  'currency', (SELECT currency FROM shops WHERE id = $1))::text",
        4, params, e);
    if (res == NULL)
        return -1;
    x->out = json_loads(PQgetvalue(res, 0, 0), JSON_DECODE_ANY, &jerr);
    PQclear(res);
    return x->out ? 0 : err_set(e, ERR_INTERNAL, NULL, "the report is not JSON");
}

void
loyalty_handle_report(struct req *r)
{
    struct report_ctx x = {.shop_id = r->shop_id};

    if (req_time_range_or_reply(r, &x.from, &x.to) < 0)
        return;
    reply_run_json_take(r, report_fn, &x, &x.out, NULL, 0);
}
