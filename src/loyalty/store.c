/*
 * store.c - the loyalty ledger, accounts and settings in PostgreSQL.
 *
 * The ledger is the truth: an account's balance column is a cache of the
 * sum of its entries, kept in step because both are written in the same
 * transaction under the account's row lock, and checked by `aftersale
 * loyalty verify`. Entries are append-only (a trigger refuses UPDATE and
 * DELETE), each names its source, and a source can pay only once: the
 * unique (shop, source_kind, source_id) turns a replayed webhook, a
 * retried job or a double click into a no-op instead of a double payment.
 * All SQL here takes parameters; nothing is spliced.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/hooks/hooks.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/db/settings.h"
#include "aftersale/loyalty/loyalty.h"


/* ---- settings ----------------------------------------------------------- */

int
loyalty_settings_load(struct db_conn *c, int64_t shop_id, struct loyalty_settings *s,
                      struct err *e)
{
    json_t *stored = NULL;
    int rc = 0;

    loyalty_settings_default(s);
    if (db_settings_load(c, DB_SETTINGS_LOYALTY, shop_id, &stored, e) < 0)
        return -1;
    if (stored && loyalty_settings_from_json(s, stored, e) < 0)
        rc = err_set(e, ERR_INTERNAL, NULL,
                     "stored loyalty settings of shop %" PRId64 " do not parse", shop_id);
    json_decref(stored);
    return rc;
}

int
loyalty_settings_save(struct db_conn *c, int64_t shop_id, const struct loyalty_settings *s,
                      struct err *e)
{
    json_t *j = loyalty_settings_to_json(s);
    int rc = db_settings_save(c, DB_SETTINGS_LOYALTY, shop_id, j, e);

    json_decref(j);
    return rc;
}

/* ---- accounts ------------------------------------------------------------ */

void
loyalty_email_normalise(const char *email, char out[256])
{
    size_t n = 0;

    out[0] = '\0';
    if (email == NULL)
        return;
    while (isspace((unsigned char)*email))
        email++;
    for (; *email && n < 255; email++)
        out[n++] = (char)tolower((unsigned char)*email);
    while (n > 0 && isspace((unsigned char)out[n - 1]))
        n--;
    out[n] = '\0';
}

/* id of the first row, or 0. */
static int
select_id(struct db_conn *c, const char *name, const char *sql, int n, const char *const *params,
          int64_t *id, struct err *e)
{
    PGresult *res = db_exec(c, name, sql, n, params, e);
    if (res == NULL)
        return -1;
    *id = PQntuples(res) > 0 ? atoll(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    return 0;
}

/* Move a guest account's points into the customer's account. */
static int
merge(struct db_conn *c, int64_t shop_id, int64_t guest, int64_t into, struct err *e)
{
    char shop[24], g[24], t[24], src[48];
    const char *params[3] = {shop, g, t};
    PGresult *res;
    int64_t balance, lifetime;
    bool dup;

    DB_I64(shop, shop_id);
    DB_I64(g, guest);
    DB_I64(t, into);
    res = db_exec(c, "loyalty_merge_read",
                  "SELECT balance, lifetime FROM loyalty_accounts WHERE shop_id = $1 AND id = $2"
                  " FOR UPDATE",
                  2, params, e);
    if (res == NULL)
        return -1;
    balance = atoll(PQgetvalue(res, 0, 0));
    lifetime = atoll(PQgetvalue(res, 0, 1));
    PQclear(res);
    snprintf(src, sizeof(src), "%" PRId64 ":%" PRId64, guest, into);
    if (balance > 0) {
        struct loyalty_entry out = {.account_id = guest, .delta = -balance, .reason = "merge_out",
                                    .source_kind = "merge_out", .source_id = src,
                                    .note = "merged into the customer's account", .actor = "merge"};
        struct loyalty_entry in = {.account_id = into, .delta = balance, .reason = "merge_in",
                                   .source_kind = "merge_in", .source_id = src,
                                   .note = "points of the guest account with the same email",
                                   .actor = "merge"};
        if (loyalty_ledger_append(c, shop_id, &out, &dup, NULL, e) < 0 ||
            loyalty_ledger_append(c, shop_id, &in, &dup, NULL, e) < 0)
            return -1;
    }
    {
        char lt[24];
        const char *p[4] = {shop, g, t, lt};
        DB_I64(lt, lifetime);
        if (db_exec_cmd(c, "loyalty_merge_mark",
                        "WITH g AS (UPDATE loyalty_accounts SET merged_into = $3, updated_at = now()"
                        "  WHERE shop_id = $1 AND id = $2)"
                        " UPDATE loyalty_accounts SET lifetime = lifetime + $4::bigint,"
                        "  updated_at = now() WHERE shop_id = $1 AND id = $3",
                        4, p, e) < 0)
            return -1;
    }
    return 0;
}

int
loyalty_account_resolve(struct db_conn *c, int64_t shop_id, int64_t customer_id,
                        const char *email, bool create, int64_t *account_id, struct err *e)
{
    char shop[24], cust[24], mail[256];
    int64_t by_customer = 0, guest = 0;

    *account_id = 0;
    DB_I64(shop, shop_id);
    DB_I64(cust, customer_id);
    loyalty_email_normalise(email, mail);
    if (customer_id <= 0 && mail[0] == '\0')
        return err_set(e, ERR_INVALID, "email", "a customer id or an email is needed");
    if (mail[0]) {
        const char *p[2] = {shop, mail};
        if (select_id(c, "loyalty_guest_find",
                      "SELECT id FROM loyalty_accounts WHERE shop_id = $1 AND email = $2"
                      " AND customer_id IS NULL AND merged_into IS NULL FOR UPDATE",
                      2, p, &guest, e) < 0)
            return -1;
    }
    if (customer_id > 0) {
        const char *p[2] = {shop, cust};
        if (select_id(c, "loyalty_customer_find",
                      "SELECT id FROM loyalty_accounts WHERE shop_id = $1 AND customer_id = $2"
                      " FOR UPDATE",
                      2, p, &by_customer, e) < 0)
            return -1;
        if (by_customer == 0 && guest > 0) {
            /* The guest registered: the guest account becomes theirs. */
            char g[24];
            const char *q[3] = {shop, g, cust};
            DB_I64(g, guest);
            if (db_exec_cmd(c, "loyalty_guest_adopt",
                            "UPDATE loyalty_accounts SET customer_id = $3, updated_at = now()"
                            " WHERE shop_id = $1 AND id = $2",
                            3, q, e) < 0)
                return -1;
            *account_id = guest;
            return 0;
        }
        if (by_customer > 0 && guest > 0 && guest != by_customer &&
            merge(c, shop_id, guest, by_customer, e) < 0)
            return -1;
        if (by_customer > 0) {
            if (mail[0]) {
                char b[24];
                const char *q[3] = {shop, b, mail};
                DB_I64(b, by_customer);
                if (db_exec_cmd(c, "loyalty_customer_email",
                                "UPDATE loyalty_accounts SET email = $3, updated_at = now()"
                                " WHERE shop_id = $1 AND id = $2 AND email = ''",
                                3, q, e) < 0)
                    return -1;
            }
            *account_id = by_customer;
            return 0;
        }
        if (!create)
            return 0;
        {
            const char *q[3] = {shop, cust, mail};
            return select_id(c, "loyalty_customer_create",
                             "INSERT INTO loyalty_accounts (shop_id, customer_id, email)"
                             " VALUES ($1, $2, $3) RETURNING id",
                             3, q, account_id, e);
        }
    }
    /* A guest order: a registered customer with that email is preferred. */
    {
        const char *p[2] = {shop, mail};
        /* Prefer a live customer account, then a live guest account, then
         * the account a guest account with this email was merged into. */
        if (select_id(c, "loyalty_email_find",
                      "SELECT coalesce(merged_into, id) FROM loyalty_accounts"
                      " WHERE shop_id = $1 AND email = $2"
                      " ORDER BY (merged_into IS NULL) DESC, (customer_id IS NULL), id LIMIT 1",
                      2, p, account_id, e) < 0)
            return -1;
        if (*account_id > 0 || !create)
            return 0;
        return select_id(c, "loyalty_guest_create",
                         "INSERT INTO loyalty_accounts (shop_id, email) VALUES ($1, $2)"
                         " RETURNING id",
                         2, p, account_id, e);
    }
}

/* The account a customer token reaches (see loyalty.h): with a customer id
 * as loyalty_account_resolve; with an email only, a live guest account
 * unless the shop opted in to email tokens reaching registered accounts. */
int
loyalty_account_for_token(struct db_conn *c, int64_t shop_id, int64_t customer_id,
                          const char *email, int64_t *account_id, struct err *e)
{
    char shop[24], mail[256];
    const char *p[2] = {shop, mail};
    int64_t opted_in = 0;

    *account_id = 0;
    if (customer_id > 0)
        return loyalty_account_resolve(c, shop_id, customer_id, email, false, account_id, e);
    DB_I64(shop, shop_id);
    loyalty_email_normalise(email, mail);
    if (select_id(c, "loyalty_email_tokens_opt_in",
                  "SELECT 1 FROM loyalty_settings WHERE shop_id = $1"
                  " AND email_tokens_reach_registered",
                  1, p, &opted_in, e) < 0)
        return -1;
    if (opted_in)
        return loyalty_account_resolve(c, shop_id, 0, email, false, account_id, e);
    if (mail[0] == '\0')
        return err_set(e, ERR_INVALID, "email", "a customer id or an email is needed");
    return select_id(c, "loyalty_guest_token_find",
                     "SELECT id FROM loyalty_accounts WHERE shop_id = $1 AND email = $2"
                     " AND customer_id IS NULL AND merged_into IS NULL",
                     2, p, account_id, e);
}

/* ---- the ledger ----------------------------------------------------------- */

static json_t *
entry_json(const PGresult *res, int row)
{
#define V(i) PQgetvalue(res, row, i)
#define NULLABLE_S(i) (PQgetisnull(res, row, i) ? json_null() : json_string(V(i)))
#define NULLABLE_I(i) (PQgetisnull(res, row, i) ? json_null() : json_integer(atoll(V(i))))
    return json_pack("{s:I, s:I, s:I, s:s, s:{s:s, s:s}, s:o, s:I, s:I, s:o, s:s, s:s, s:s}",
                     "id", (json_int_t)atoll(V(0)), "account_id", (json_int_t)atoll(V(1)), "delta",
                     (json_int_t)atoll(V(2)), "reason", V(3), "source", "kind", V(4), "id", V(5),
                     "order_id", NULLABLE_I(6), "balance_after", (json_int_t)atoll(V(7)),
                     "uncollected", (json_int_t)atoll(V(8)), "expires_at", NULLABLE_S(9), "note",
                     V(10), "actor", V(11), "created_at", V(12));
#undef V
#undef NULLABLE_S
#undef NULLABLE_I
}

#define ENTRY_COLS                                                                                 \
    "id, account_id, delta, reason, source_kind, source_id, order_id, balance_after,"            \
    " uncollected, " DB_TS("expires_at") ", note, actor, " DB_TS("created_at")

static bool
counts_toward_lifetime(const char *reason)
{
    return strcmp(reason, "earn") == 0 || strcmp(reason, "bonus") == 0 ||
           strcmp(reason, "adjustment") == 0;
}

int
loyalty_ledger_append(struct db_conn *c, int64_t shop_id, const struct loyalty_entry *en,
                      bool *duplicate, json_t **entry_out, struct err *e)
{
    char shop[24], acct[24], applied_s[24], after_s[24], uncollected_s[24], order_s[24],
        months_s[16], lifetime_s[24];
    const char *params[2] = {shop, acct};
    PGresult *res;
    int64_t balance, applied = en->delta, uncollected = 0;

    *duplicate = false;
    if (entry_out)
        *entry_out = NULL;
    DB_I64(shop, shop_id);
    DB_I64(acct, en->account_id);
    res = db_exec(c, "loyalty_ledger_lock",
                  "SELECT balance, merged_into FROM loyalty_accounts WHERE shop_id = $1 AND id = $2"
                  " FOR UPDATE",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, ERR_NOT_FOUND, NULL, "no loyalty account %" PRId64, en->account_id);
    }
    if (!PQgetisnull(res, 0, 1)) {
        err_set(e, ERR_CONFLICT, NULL,
                "loyalty account %" PRId64 " was merged into account %s; use that one",
                en->account_id, PQgetvalue(res, 0, 1));
        PQclear(res);
        return -1;
    }
    balance = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (balance + en->delta < 0) {
        if (!en->clamp)
            return err_set(e, ERR_CONFLICT, "points",
                           "not enough points: the balance is %" PRId64 ", this needs %" PRId64,
                           balance, -en->delta);
        applied = -balance;
        uncollected = -en->delta - balance;
    }
    DB_I64(applied_s, applied);
    DB_I64(after_s, balance + applied);
    DB_I64(uncollected_s, uncollected);
    DB_I64(order_s, en->order_id);
    snprintf(months_s, sizeof(months_s), "%d", en->expires && applied > 0 ? en->expiry_months : 0);
    {
        const char *p[13] = {shop,           acct,      applied_s,     en->reason,
                             en->source_kind, en->source_id, en->order_id > 0 ? order_s : NULL,
                             after_s,        uncollected_s, months_s,
                             en->note ? en->note : "", en->actor};
        res = db_exec(c, "loyalty_ledger_insert",
                      "INSERT INTO loyalty_ledger (shop_id, account_id, delta, reason, source_kind,"
                      " source_id, order_id, balance_after, uncollected, expires_at, note, actor)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
                      "  CASE WHEN $10::integer > 0 THEN now() + make_interval(months => $10::integer)"
                      "  END, $11, $12)"
                      " ON CONFLICT (shop_id, source_kind, source_id) DO NOTHING"
                      " RETURNING " ENTRY_COLS,
                      12, p, e);
    }
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        *duplicate = true;
        return 0;
    }
    if (entry_out)
        *entry_out = entry_json(res, 0);
    PQclear(res);
    DB_I64(lifetime_s, applied > 0 && counts_toward_lifetime(en->reason) ? applied : 0);
    {
        const char *p[4] = {shop, acct, applied_s, lifetime_s};
        if (db_exec_cmd(c, "loyalty_ledger_balance",
                        "UPDATE loyalty_accounts SET balance = balance + $3::bigint,"
                        " lifetime = lifetime + $4::bigint, updated_at = now()"
                        " WHERE shop_id = $1 AND id = $2",
                        4, p, e) < 0)
            return -1;
    }
    return hooks_emit(c, shop_id, "loyalty.points_changed",
                      json_pack("{s:I, s:I, s:I, s:s, s:s, s:s}", "account_id",
                                (json_int_t)en->account_id, "delta", (json_int_t)applied, "balance",
                                (json_int_t)(balance + applied), "reason", en->reason,
                                "source_kind", en->source_kind, "source_id", en->source_id),
                      e);
}

int
loyalty_account_lock(struct db_conn *c, int64_t shop_id, int64_t account_id, struct err *e)
{
    char shop[24], acct[24];
    const char *params[2] = {shop, acct};
    PGresult *res;
    int rc = 0;

    DB_I64(shop, shop_id);
    DB_I64(acct, account_id);
    res = db_exec(c, "loyalty_account_lock",
                  "SELECT merged_into FROM loyalty_accounts WHERE shop_id = $1 AND id = $2"
                  " FOR UPDATE",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1)
        rc = err_set(e, ERR_NOT_FOUND, NULL, "no loyalty account %" PRId64, account_id);
    else if (!PQgetisnull(res, 0, 0))
        rc = err_set(e, ERR_CONFLICT, NULL,
                     "loyalty account %" PRId64 " was merged into account %s; use that one",
                     account_id, PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

int
loyalty_grant(struct db_conn *c, int64_t shop_id, int64_t customer_id, const char *email,
              const char *kind, const char *source_id, const char *actor, struct err *e)
{
    struct loyalty_settings s;
    int64_t amount = 0, account = 0;
    bool dup;
    char note[96];

    if (loyalty_settings_load(c, shop_id, &s, e) < 0)
        return -1;
    if (strcmp(kind, "signup") == 0)
        amount = s.bonus_signup;
    else if (strcmp(kind, "review") == 0)
        amount = s.bonus_review;
    else if (strcmp(kind, "survey") == 0)
        amount = s.bonus_survey;
    else if (strcmp(kind, "birthday") == 0)
        amount = s.bonus_birthday;
    else if (strcmp(kind, "anniversary") == 0)
        amount = s.bonus_anniversary;
    else if (strcmp(kind, "referrer") == 0)
        amount = s.bonus_referrer;
    else if (strcmp(kind, "referee") == 0)
        amount = s.bonus_referee;
    else
        return err_set(e, ERR_INTERNAL, NULL, "unknown bonus kind %s", kind);
    if (amount <= 0)
        return 0; /* the shop does not pay this bonus */
    if (loyalty_account_resolve(c, shop_id, customer_id, email, true, &account, e) < 0)
        return -1;
    snprintf(note, sizeof(note), "%s bonus", kind);
    {
        struct loyalty_entry en = {.account_id = account, .delta = amount, .reason = "bonus",
                                   .source_kind = kind, .source_id = source_id, .expires = true,
                                   .expiry_months = s.expiry_months, .note = note, .actor = actor};
        return loyalty_ledger_append(c, shop_id, &en, &dup, NULL, e);
    }
}

/* ---- the account view ------------------------------------------------------ */

static int
expiring_soon(struct db_conn *c, const char *shop, const char *acct, json_t **out, struct err *e)
{
    const char *params[2] = {shop, acct};
    PGresult *res = db_exec(c, "loyalty_account_credits",
                            "SELECT delta, expires_at <= now() + interval '30 days', "
                            DB_TS("expires_at") ","
                            " (SELECT coalesce(-sum(delta), 0) FROM loyalty_ledger"
                            "   WHERE shop_id = $1 AND account_id = $2 AND delta < 0)"
                            " FROM loyalty_ledger WHERE shop_id = $1 AND account_id = $2"
                            " AND delta > 0 ORDER BY expires_at NULLS LAST, id",
                            2, params, e);
    int n;
    int64_t *credits, *unspent, debited, soon = 0;
    const char *first = NULL;

    if (res == NULL)
        return -1;
    n = PQntuples(res);
    credits = xcalloc((size_t)n + 1, sizeof(*credits));
    unspent = xcalloc((size_t)n + 1, sizeof(*unspent));
    debited = n > 0 ? atoll(PQgetvalue(res, 0, 3)) : 0;
    for (int i = 0; i < n; i++)
        credits[i] = atoll(PQgetvalue(res, i, 0));
    loyalty_fifo_unspent(credits, n, debited, unspent);
    for (int i = 0; i < n; i++)
        if (strcmp(PQgetvalue(res, i, 1), "t") == 0 && unspent[i] > 0) {
            soon += unspent[i];
            if (first == NULL)
                first = PQgetvalue(res, i, 2);
        }
    *out = json_pack("{s:I, s:o}", "points", (json_int_t)soon, "first_expiry",
                     first ? json_string(first) : json_null());
    free(credits);
    free(unspent);
    PQclear(res);
    return 0;
}

int
loyalty_account_json(struct db_conn *c, int64_t shop_id, int64_t account_id, json_t **out,
                     struct err *e)
{
    char shop[24], acct[24];
    const char *params[2] = {shop, acct};
    struct loyalty_settings s;
    PGresult *res;
    json_t *tier = json_null(), *next = json_null(), *soon = NULL, *birthday = json_null();
    int64_t lifetime;
    int t;

    *out = NULL;
    DB_I64(shop, shop_id);
    DB_I64(acct, account_id);
    if (loyalty_settings_load(c, shop_id, &s, e) < 0)
        return -1;
    res = db_exec(c, "loyalty_account_get",
                  "SELECT id, customer_id, email, balance, lifetime, birthday_month, birthday_day,"
                  " merged_into, " DB_TS("created_at") " FROM loyalty_accounts"
                  " WHERE shop_id = $1 AND id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 0;
    }
    lifetime = atoll(PQgetvalue(res, 0, 4));
    t = loyalty_tier_for(&s, lifetime);
    if (t >= 0) {
        char m[32];
        loyalty_milli_format(s.tiers[t].multiplier_milli, m);
        tier = json_pack("{s:s, s:I, s:s}", "name", s.tiers[t].name, "threshold",
                         (json_int_t)s.tiers[t].threshold, "multiplier", m);
    }
    if (t + 1 < s.ntiers)
        next = json_pack("{s:s, s:I, s:I}", "name", s.tiers[t + 1].name, "threshold",
                         (json_int_t)s.tiers[t + 1].threshold, "points_needed",
                         (json_int_t)(s.tiers[t + 1].threshold - lifetime));
    if (!PQgetisnull(res, 0, 5))
        birthday = json_pack("{s:i, s:i}", "month", atoi(PQgetvalue(res, 0, 5)), "day",
                             atoi(PQgetvalue(res, 0, 6)));
    if (expiring_soon(c, shop, acct, &soon, e) < 0) {
        PQclear(res);
        json_decref(tier);
        json_decref(next);
        json_decref(birthday);
        return -1;
    }
    *out = json_pack(
        "{s:I, s:o, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:s}", "id",
        (json_int_t)atoll(PQgetvalue(res, 0, 0)), "customer_id",
        PQgetisnull(res, 0, 1) ? json_null() : json_integer(atoll(PQgetvalue(res, 0, 1))), "email",
        PQgetvalue(res, 0, 2), "balance", (json_int_t)atoll(PQgetvalue(res, 0, 3)),
        "lifetime_points", (json_int_t)lifetime, "tier", tier, "next_tier", next, "expiring_soon",
        soon, "birthday", birthday, "merged_into",
        PQgetisnull(res, 0, 7) ? json_null() : json_integer(atoll(PQgetvalue(res, 0, 7))),
        "created_at", PQgetvalue(res, 0, 8));
    PQclear(res);
    return 0;
}

/* ---- verify ----------------------------------------------------------------- */

int
loyalty_verify(struct db_conn *c, int *problems, struct err *e)
{
    PGresult *res;

    *problems = 0;
    res = db_exec(c, NULL,
                  "SELECT a.shop_id, a.id, a.balance, coalesce(sum(l.delta), 0)"
                  " FROM loyalty_accounts a LEFT JOIN loyalty_ledger l"
                  "  ON l.shop_id = a.shop_id AND l.account_id = a.id"
                  " GROUP BY a.shop_id, a.id, a.balance"
                  " HAVING a.balance <> coalesce(sum(l.delta), 0) ORDER BY 1, 2",
                  0, NULL, e);
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        printf("{\"problem\":\"balance differs from the ledger\",\"shop_id\":%s,\"account_id\":%s,"
               "\"balance\":%s,\"ledger_sum\":%s}\n",
               PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
               PQgetvalue(res, i, 3));
        (*problems)++;
    }
    PQclear(res);
    res = db_exec(c, NULL,
                  "SELECT shop_id, account_id, id, balance_after, running FROM"
                  " (SELECT shop_id, account_id, id, balance_after,"
                  "   sum(delta) OVER (PARTITION BY shop_id, account_id ORDER BY id) AS running"
                  "  FROM loyalty_ledger) x"
                  " WHERE running <> balance_after OR running < 0 ORDER BY 1, 2, 3",
                  0, NULL, e);
    if (res == NULL)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        printf("{\"problem\":\"entry balance_after differs from the running sum\",\"shop_id\":%s,"
               "\"account_id\":%s,\"entry_id\":%s,\"balance_after\":%s,\"running_sum\":%s}\n",
               PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
               PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
        (*problems)++;
    }
    PQclear(res);
    return 0;
}
