/*
 * store.c - the SQL of a customer's export and erasure, across every
 * programme's tables (orders, customers, webhook deliveries, loyalty,
 * reviews, messaging, returns, events, jobs, idempotency keys).
 *
 * This file reads and rewrites other programmes' tables on purpose: one
 * place knows where personal data lives, so a new table holding some is
 * added here (and to docs/privacy.md and tests/integration/test_privacy.py,
 * whose database dump finds what was forgotten).
 *
 * Parameters of every statement: $1 shop id, $2 the normalised email or
 * NULL (NULL matches nothing: every comparison with it is NULL), $3 the
 * WooCommerce customer id or 0. Erasing replaces an email with
 * customer_tombstone(email) (sql/015_privacy.sql), names with '' and texts
 * with '[erased]'; each UPDATE is limited to rows that still hold
 * something to erase, so a second erasure counts zero. Amounts, points,
 * ratings, states and dates are never touched: balances, loyalty verify
 * and the reports add up as before.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/customers/privacy.h"

/* Row sets that belong to the customer; the tombstone form too, so a
 * statement still finds the rows an earlier statement already renamed. */
#define ORDERS_OF                                                                                  \
    "(SELECT order_id FROM orders WHERE shop_id = $1 AND (lower(billing_email) IN ($2,"            \
    " customer_tombstone($2)) OR ($3::bigint > 0 AND customer_id = $3)))"
#define ACCOUNTS_OF                                                                                \
    "(SELECT id FROM loyalty_accounts WHERE shop_id = $1 AND (lower(email) IN ($2,"                \
    " customer_tombstone($2)) OR ($3::bigint > 0 AND customer_id = $3)))"
#define REQUESTS_OF                                                                                \
    "(SELECT id FROM review_requests WHERE shop_id = $1 AND (lower(email) IN ($2,"                 \
    " customer_tombstone($2)) OR ($3::bigint > 0 AND customer_id = $3) OR order_id IN " ORDERS_OF  \
    "))"
#define RETURNS_OF                                                                                 \
    "(SELECT id FROM return_requests WHERE shop_id = $1 AND (lower(email) IN ($2,"                 \
    " customer_tombstone($2)) OR ($3::bigint > 0 AND customer_id = $3) OR order_id IN " ORDERS_OF  \
    "))"
/* A JSON text that mentions the email. */
#define MENTIONS(col) "strpos(lower(" col "), $2) > 0"
#define REDACT(col) "customer_redact(" col ", $2, customer_tombstone($2))"

/* ---- export -------------------------------------------------------------- */

/* The rows of `from` as a JSON array of `expr` (an expression of alias x). */
#define ROWS(expr, from) "coalesce((SELECT jsonb_agg(" expr ") FROM " from "), '[]'::jsonb)"
#define ROW_OF(alias) "to_jsonb(" alias ") - 'shop_id'"

static const char export_sql[] =
    "SELECT jsonb_build_object("
    " 'orders', jsonb_build_object("
    "   'orders', " ROWS(ROW_OF("x") " ORDER BY x.order_id",
                         "orders x WHERE x.shop_id = $1 AND x.order_id IN " ORDERS_OF) ","
    "   'items', " ROWS(ROW_OF("x") " ORDER BY x.order_id, x.line_item_id",
                        "order_items x WHERE x.shop_id = $1 AND x.order_id IN " ORDERS_OF) ","
    "   'refunds', " ROWS(ROW_OF("x") " ORDER BY x.order_id, x.refund_id",
                          "order_refunds x WHERE x.shop_id = $1 AND x.order_id IN " ORDERS_OF) ","
    "   'webhook_deliveries', "
    ROWS("jsonb_build_object('id', x.id, 'topic', x.topic, 'resource_id', x.resource_id,"
         " 'received_at', x.received_at, 'status', x.status, 'size', octet_length(x.body))"
         " ORDER BY x.id",
         "webhook_deliveries x WHERE x.shop_id = $1 AND ((x.topic LIKE 'order.%'"
         " AND x.resource_id IN " ORDERS_OF ") OR ($3::bigint > 0 AND x.topic LIKE 'customer.%'"
         " AND x.resource_id = $3))") "),"
    " 'customers', " ROWS(ROW_OF("x") " ORDER BY x.customer_id",
                          "customers x WHERE x.shop_id = $1 AND (lower(x.email) = $2"
                          " OR ($3::bigint > 0 AND x.customer_id = $3))") ","
    " 'loyalty', jsonb_build_object("
    "   'accounts', " ROWS(ROW_OF("x") " ORDER BY x.id",
                           "loyalty_accounts x WHERE x.shop_id = $1 AND x.id IN " ACCOUNTS_OF) ","
    "   'ledger', " ROWS(ROW_OF("x") " ORDER BY x.id",
                         "loyalty_ledger x WHERE x.shop_id = $1 AND x.account_id IN " ACCOUNTS_OF) ","
    "   'redemptions', " ROWS(ROW_OF("x") " ORDER BY x.id",
                              "loyalty_redemptions x WHERE x.shop_id = $1"
                              " AND x.account_id IN " ACCOUNTS_OF) ","
    "   'referrals', " ROWS(ROW_OF("x") " ORDER BY x.id",
                            "loyalty_referrals x WHERE x.shop_id = $1"
                            " AND $2 IN (lower(x.referrer_email), lower(x.referee_email))") "),"
    " 'reviews', jsonb_build_object("
    "   'requests', " ROWS(ROW_OF("x") " ORDER BY x.id",
                           "review_requests x WHERE x.shop_id = $1 AND x.id IN " REQUESTS_OF) ","
    "   'reviews', " ROWS(ROW_OF("x") " ORDER BY x.id",
                          "reviews x WHERE x.shop_id = $1 AND (lower(x.reviewer_email) = $2"
                          " OR x.request_id IN " REQUESTS_OF ")") "),"
    " 'messaging', jsonb_build_object("
    "   'contact_log', " ROWS(ROW_OF("x") " ORDER BY x.id",
                              "contact_log x WHERE x.shop_id = $1 AND lower(x.email) = $2") ","
    "   'unsubscribes', " ROWS(ROW_OF("x") " ORDER BY x.created_at",
                               "unsubscribes x WHERE x.shop_id = $1 AND x.email = $2") "),"
    " 'returns', jsonb_build_object("
    "   'requests', " ROWS(ROW_OF("x") " ORDER BY x.id",
                           "return_requests x WHERE x.shop_id = $1 AND x.id IN " RETURNS_OF) ","
    "   'lines', " ROWS(ROW_OF("x") " ORDER BY x.request_id, x.line_item_id",
                        "return_lines x WHERE x.shop_id = $1 AND x.request_id IN " RETURNS_OF) ","
    "   'photos', "
    ROWS("jsonb_build_object('id', x.id, 'request_id', x.request_id, 'media_type', x.media_type,"
         " 'size', octet_length(x.bytes), 'created_at', x.created_at) ORDER BY x.id",
         "return_photos x WHERE x.shop_id = $1 AND x.request_id IN " RETURNS_OF) ","
    "   'events', " ROWS(ROW_OF("x") " ORDER BY x.id",
                         "return_events x WHERE x.shop_id = $1 AND x.request_id IN " RETURNS_OF) ","
    "   'outbox', " ROWS(ROW_OF("x") " ORDER BY x.id",
                         "return_outbox x WHERE x.shop_id = $1 AND x.request_id IN " RETURNS_OF) "),"
    " 'events', " ROWS(ROW_OF("x") " ORDER BY x.id",
                       "events x WHERE x.shop_id = $1 AND (x.order_id IN " ORDERS_OF
                       " OR ($3::bigint > 0 AND x.customer_id = $3)"
                       " OR " MENTIONS("x.payload::text") ")") ","
    " 'jobs', " ROWS("jsonb_build_object('id', x.id, 'kind', x.kind, 'status', x.status,"
                     " 'payload', x.payload, 'result', x.result, 'created_at', x.created_at)"
                     " ORDER BY x.id",
                     "jobs x WHERE x.shop_id = $1 AND (" MENTIONS("x.payload::text") " OR "
                     MENTIONS("coalesce(x.result::text, '')") ")") ","
    " 'erasures', " ROWS("jsonb_build_object('id', x.id, 'customer_id', x.customer_id,"
                         " 'counts', x.counts, 'created_at', x.created_at) ORDER BY x.id",
                         "customer_erasures x WHERE x.shop_id = $1"
                         " AND (x.email_tombstone = customer_tombstone($2)"
                         " OR ($3::bigint > 0 AND x.customer_id = $3))") ")::text";

static void
params_of(const struct customer_ref *who, char shop[24], char cust[24], const char *p[3])
{
    snprintf(shop, 24, "%" PRId64, who->shop_id);
    snprintf(cust, 24, "%" PRId64, who->customer_id);
    p[0] = shop;
    p[1] = who->email; /* NULL: matches nothing */
    p[2] = cust;
}

int
customers_store_export(struct db_conn *c, const struct customer_ref *who, json_t **out,
                       struct err *e)
{
    char shop[24], cust[24];
    const char *p[3];
    PGresult *res;

    *out = NULL;
    params_of(who, shop, cust, p);
    res = db_exec(c, "customers_store_export", export_sql, 3, p, e);
    if (res == NULL)
        return -1;
    *out = jx_parse(PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)), e);
    PQclear(res);
    return *out ? 0 : -1;
}

/* ---- erase --------------------------------------------------------------- */

struct erase_step {
    const char *name;  /* prepared statement and key of the counts */
    const char *table;
    int nparams;
    const char *sql;
};

/* In this order; the row sets above find renamed rows too, so the order
 * only matters where a statement matches on a column an earlier one
 * changed (the webhook bodies go before nothing depends on them). */
static const struct erase_step steps[] = {
    {"customers_erase_webhooks", "webhook_deliveries", 3,
     "UPDATE webhook_deliveries SET body = ''::bytea WHERE shop_id = $1 AND octet_length(body) > 0"
     " AND ((topic LIKE 'order.%' AND resource_id IN " ORDERS_OF ")"
     " OR ($3::bigint > 0 AND topic LIKE 'customer.%' AND resource_id = $3)"
     " OR position(convert_to($2, 'UTF8') IN body) > 0)"},
    {"customers_erase_refunds", "order_refunds", 3,
     "UPDATE order_refunds SET reason = '[erased]' WHERE shop_id = $1 AND order_id IN " ORDERS_OF
     " AND reason NOT IN ('', '[erased]')"},
    {"customers_erase_orders", "orders", 3,
     "UPDATE orders SET billing_email = customer_tombstone(billing_email), billing_first_name = '',"
     " billing_last_name = '' WHERE shop_id = $1 AND (lower(billing_email) = $2"
     " OR ($3::bigint > 0 AND customer_id = $3)) AND (billing_email <>"
     " customer_tombstone(billing_email) OR billing_first_name <> '' OR billing_last_name <> '')"},
    {"customers_erase_customers", "customers", 3,
     "UPDATE customers SET email = customer_tombstone(email), first_name = '', last_name = ''"
     " WHERE shop_id = $1 AND (lower(email) = $2 OR ($3::bigint > 0 AND customer_id = $3))"
     " AND (email <> customer_tombstone(email) OR first_name <> '' OR last_name <> '')"},
    {"customers_erase_ledger_notes", "loyalty_ledger", 3,
     "UPDATE loyalty_ledger SET note = '[erased]' WHERE shop_id = $1 AND account_id IN " ACCOUNTS_OF
     " AND note NOT IN ('', '[erased]')"},
    {"customers_erase_accounts", "loyalty_accounts", 3,
     "UPDATE loyalty_accounts SET email = customer_tombstone(email), birthday_month = NULL,"
     " birthday_day = NULL, updated_at = now() WHERE shop_id = $1 AND (lower(email) = $2"
     " OR ($3::bigint > 0 AND customer_id = $3)) AND (email <> customer_tombstone(email)"
     " OR birthday_month IS NOT NULL OR birthday_day IS NOT NULL)"},
    {"customers_erase_referrals", "loyalty_referrals", 2,
     "UPDATE loyalty_referrals SET"
     " referrer_email = CASE WHEN lower(referrer_email) = $2 THEN customer_tombstone($2)"
     "                  ELSE referrer_email END,"
     " referee_email = CASE WHEN lower(referee_email) = $2 THEN customer_tombstone($2)"
     "                 ELSE referee_email END"
     " WHERE shop_id = $1 AND $2 IN (lower(referrer_email), lower(referee_email))"},
    {"customers_erase_contact_log", "contact_log", 2,
     "UPDATE contact_log SET email = customer_tombstone(email)"
     " WHERE shop_id = $1 AND lower(email) = $2"},
    /* Kept, by tombstone: an erased customer is not mailed again (see
     * docs/privacy.md for the check the outreach layer makes). */
    {"customers_erase_unsubscribes", "unsubscribes", 2,
     "WITH gone AS (DELETE FROM unsubscribes WHERE shop_id = $1 AND lower(email) = $2"
     "   RETURNING shop_id, programme, created_at)"
     " INSERT INTO unsubscribes (shop_id, email, programme, created_at)"
     " SELECT shop_id, customer_tombstone($2), programme, created_at FROM gone"
     " ON CONFLICT DO NOTHING"},
    {"customers_erase_reviews", "reviews", 3,
     "UPDATE reviews SET reviewer_email = customer_tombstone(reviewer_email), reviewer_name = '[erased]',"
     " title = CASE WHEN title = '' THEN '' ELSE '[erased]' END,"
     " body = CASE WHEN body = '' THEN '' ELSE '[erased]' END,"
     " reply = CASE WHEN reply IS NULL THEN NULL ELSE '[erased]' END"
     " WHERE shop_id = $1 AND (lower(reviewer_email) = $2 OR request_id IN " REQUESTS_OF ")"
     " AND (reviewer_email <> customer_tombstone(reviewer_email) OR reviewer_name <> '[erased]'"
     " OR title NOT IN ('', '[erased]') OR body NOT IN ('', '[erased]')"
     " OR reply <> '[erased]')"},
    {"customers_erase_review_requests", "review_requests", 3,
     "UPDATE review_requests SET email = customer_tombstone(email), first_name = '',"
     " updated_at = now() WHERE shop_id = $1 AND id IN " REQUESTS_OF
     " AND (email <> customer_tombstone(email) OR first_name <> '')"},
    {"customers_erase_return_photos", "return_photos", 3,
     "DELETE FROM return_photos WHERE shop_id = $1 AND request_id IN " RETURNS_OF},
    {"customers_erase_return_lines", "return_lines", 3,
     "UPDATE return_lines SET note = '[erased]' WHERE shop_id = $1 AND request_id IN " RETURNS_OF
     " AND note NOT IN ('', '[erased]')"},
    {"customers_erase_return_events", "return_events", 3,
     "UPDATE return_events SET changes = " REDACT(
         "CASE WHEN changes ? 'note' THEN changes || '{\"note\": \"[erased]\"}'::jsonb"
         " ELSE changes END::text") "::jsonb"
     " WHERE shop_id = $1 AND request_id IN " RETURNS_OF
     " AND ((changes ? 'note' AND changes ->> 'note' NOT IN ('', '[erased]'))"
     " OR " MENTIONS("changes::text") ")"},
    {"customers_erase_return_outbox", "return_outbox", 3,
     "UPDATE return_outbox SET email = customer_tombstone(email) WHERE shop_id = $1"
     " AND (lower(email) = $2 OR request_id IN " RETURNS_OF ")"
     " AND email <> customer_tombstone(email)"},
    {"customers_erase_return_requests", "return_requests", 3,
     "UPDATE return_requests SET email = customer_tombstone(email), updated_at = now()"
     " WHERE shop_id = $1 AND id IN " RETURNS_OF " AND email <> customer_tombstone(email)"},
    /* Where personal data sits inside JSON that must keep working (a
     * pending job, a replayed response), only the address is replaced
     * and the names emptied (customer_scrub). */
    {"customers_erase_events", "events", 3,
     "UPDATE events SET payload = customer_scrub(payload, $2)"
     " WHERE shop_id = $1 AND (order_id IN " ORDERS_OF " OR ($3::bigint > 0 AND customer_id = $3)"
     " OR " MENTIONS("payload::text") ") AND payload <> customer_scrub(payload, $2)"},
    {"customers_erase_jobs", "jobs", 2,
     "UPDATE jobs SET payload = customer_scrub(payload, $2), result = customer_scrub(result, $2),"
     " last_error = " REDACT("last_error")
     " WHERE shop_id = $1 AND (" MENTIONS("payload::text") " OR "
     MENTIONS("coalesce(result::text, '')") " OR " MENTIONS("coalesce(last_error, '')") ")"},
    {"customers_erase_idempotency", "idempotency_keys", 2,
     "UPDATE idempotency_keys SET body = " REDACT("body") " WHERE shop_id = $1 AND "
     MENTIONS("body")},
};

int
customers_store_erase(struct db_conn *c, const struct customer_ref *who, const char *actor,
                      json_t **counts, struct err *e)
{
    char shop[24], cust[24];
    const char *p[5];
    char *dump = NULL;
    int rc = -1;

    *counts = json_object();
    params_of(who, shop, cust, p);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        long n = db_exec_cmd(c, steps[i].name, steps[i].sql, steps[i].nparams, p, e);
        if (n < 0)
            goto out;
        /* Two steps may touch one table; the count is per table. */
        json_t *prev = json_object_get(*counts, steps[i].table);
        json_object_set_new(*counts, steps[i].table,
                            json_integer(n + (prev ? json_integer_value(prev) : 0)));
    }
    /* The record of the erasure: the address only as its tombstone. */
    dump = jx_dump(*counts);
    p[3] = dump;
    p[4] = actor;
    if (db_exec_cmd(c, "customers_erasure_record",
                    "INSERT INTO customer_erasures (shop_id, email_tombstone, customer_id, counts,"
                    " actor) VALUES ($1, coalesce(customer_tombstone($2), ''),"
                    " NULLIF($3::bigint, 0), $4::jsonb, $5)",
                    5, p, e) < 0)
        goto out;
    rc = 0;
out:
    free(dump);
    if (rc < 0) {
        json_decref(*counts);
        *counts = NULL;
    }
    return rc;
}
