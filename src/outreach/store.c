/*
 * store.c - the outreach layer in PostgreSQL: the messaging settings
 * document, the contact log and the unsubscribe list (sql/010_outreach.sql).
 *
 * Addresses are compared lower-cased: the unsubscribe list stores them so,
 * and a customer who writes Anna@Example.com on one order and
 * anna@example.com on the next is one person to the contact policy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/db/settings.h"
#include "aftersale/outreach/outreach.h"

#define MAX_CONTACTS 128 /* the cap is at most 100 */

int
outreach_settings_load(struct db_conn *c, int64_t shop_id, struct outreach_settings *s,
                       struct err *e)
{
    json_t *stored = NULL;
    int rc = 0;

    outreach_settings_default(s);
    if (db_settings_load(c, DB_SETTINGS_MESSAGING, shop_id, &stored, e) < 0)
        return -1;
    if (stored && outreach_settings_from_json(s, stored, e) < 0)
        rc = err_set(e, ERR_INTERNAL, NULL, "stored messaging settings do not parse");
    json_decref(stored);
    return rc;
}

int
outreach_settings_save(struct db_conn *c, int64_t shop_id, const struct outreach_settings *s,
                       struct err *e)
{
    json_t *j = outreach_settings_to_json(s);
    int rc;

    /* The computed fields are not stored: they are computed. */
    json_object_del(j, "locales");
    rc = db_settings_save(c, DB_SETTINGS_MESSAGING, shop_id, j, e);
    json_decref(j);
    return rc;
}

int
outreach_unsubscribed(struct db_conn *c, int64_t shop_id, const char *email, bool *out,
                      struct err *e)
{
    char shop[24];
    const char *params[2] = {shop, email};
    PGresult *res;

    DB_I64(shop, shop_id);
    res = db_exec(c, "outreach_unsubscribed",
                  "SELECT EXISTS (SELECT 1 FROM unsubscribes WHERE shop_id = $1"
                  " AND email IN (lower($2), customer_tombstone(lower($2))))",
                  2, params, e);
    if (res == NULL)
        return -1;
    *out = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return 0;
}

int
outreach_unsubscribe(struct db_conn *c, int64_t shop_id, const char *email, const char *programme,
                     struct err *e)
{
    char shop[24];
    const char *params[3] = {shop, email, programme};

    DB_I64(shop, shop_id);
    return db_exec_cmd(c, "outreach_unsubscribe",
                       "INSERT INTO unsubscribes (shop_id, email, programme)"
                       " VALUES ($1, lower($2), $3) ON CONFLICT DO NOTHING",
                       3, params, e) < 0
               ? -1
               : 0;
}

int
outreach_contact_check(struct db_conn *c, int64_t shop_id, const char *email,
                       enum outreach_kind kind, time_t now, enum outreach_verdict *verdict,
                       time_t *next_slot, struct err *e)
{
    struct outreach_settings s;
    char shop[24], period[24], at[24];
    const char *params[4] = {shop, email, period, at};
    time_t sent[MAX_CONTACTS];
    int nsent = 0;
    bool unsub = false;
    PGresult *res;

    *verdict = OUTREACH_SEND;
    *next_slot = now;
    /* Transactional messages are neither capped nor suppressed. */
    if (kind == OUTREACH_TRANSACTIONAL)
        return 0;
    if (outreach_unsubscribed(c, shop_id, email, &unsub, e) < 0)
        return -1;
    if (unsub) {
        *verdict = OUTREACH_SUPPRESSED;
        return 0;
    }
    if (outreach_settings_load(c, shop_id, &s, e) < 0)
        return -1;
    DB_I64(shop, shop_id);
    DB_I64(period, s.contact_period_s);
    DB_I64(at, (int64_t)now);
    /* Every programme's marketing messages, newest first: the window can
     * hold at most max (<= 100) that matter. */
    res = db_exec(c, "outreach_contact_check",
                  "SELECT extract(epoch FROM sent_at)::bigint FROM contact_log"
                  " WHERE shop_id = $1 AND lower(email) = lower($2) AND NOT transactional"
                  " AND sent_at > to_timestamp($4::bigint) - $3::bigint * interval '1 second'"
                  " ORDER BY sent_at DESC LIMIT 128",
                  4, params, e);
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res) && i < MAX_CONTACTS; i++)
        sent[nsent++] = (time_t)atoll(PQgetvalue(res, i, 0));
    PQclear(res);
    *next_slot = outreach_contact_next_slot(sent, nsent, s.contact_max, s.contact_period_s, now);
    if (*next_slot > now)
        *verdict = OUTREACH_WAIT;
    return 0;
}

int
outreach_contact_record(struct db_conn *c, int64_t shop_id, const char *email,
                        const char *programme, const char *what, int64_t ref_id,
                        enum outreach_kind kind, struct err *e)
{
    char shop[24], ref[24];
    const char *params[6] = {shop, email, what, ref, programme,
                             kind == OUTREACH_TRANSACTIONAL ? "t" : "f"};

    DB_I64(shop, shop_id);
    DB_I64(ref, ref_id);
    return db_exec_cmd(c, "outreach_contact_record",
                       "INSERT INTO contact_log (shop_id, email, kind, ref_id, programme,"
                       " transactional) VALUES ($1, $2, $3, $4, $5, $6::boolean)",
                       6, params, e) < 0
               ? -1
               : 0;
}

int
outreach_shop_name(struct db_conn *c, int64_t shop_id, char *out, size_t n, struct err *e)
{
    char shop[24];
    const char *params[1] = {shop};
    PGresult *res;

    DB_I64(shop, shop_id);
    res = db_exec(c, "outreach_shop_name", "SELECT name FROM shops WHERE id = $1", 1, params, e);
    if (res == NULL)
        return -1;
    snprintf(out, n, "%s", PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return 0;
}
