/*
 * settings.c - reading and writing the per-shop settings documents.
 *
 * Table names cannot be statement parameters, so each document kind has
 * its own two fixed statements in the table below; nothing is spliced.
 */
#include <stdio.h>
#include <stdlib.h>

#include "aftersale/core/jx.h"
#include "aftersale/db/settings.h"

static const struct {
    const char *load_name, *load_sql, *save_name, *save_sql;
} docs[] = {
    [DB_SETTINGS_LOYALTY] = {"loyalty_settings_load",
                             "SELECT settings::text FROM loyalty_settings WHERE shop_id = $1",
                             "loyalty_settings_save",
                             "INSERT INTO loyalty_settings (shop_id, settings) VALUES ($1, $2::jsonb)"
                             " ON CONFLICT (shop_id) DO UPDATE SET settings = EXCLUDED.settings,"
                             " updated_at = now()"},
    [DB_SETTINGS_REVIEWS] = {"reviews_settings_load",
                             "SELECT settings::text FROM review_settings WHERE shop_id = $1",
                             "reviews_settings_save",
                             "INSERT INTO review_settings (shop_id, settings) VALUES ($1, $2::jsonb)"
                             " ON CONFLICT (shop_id) DO UPDATE SET settings = EXCLUDED.settings,"
                             " updated_at = now()"},
    [DB_SETTINGS_MESSAGING] = {"outreach_settings_load",
                               "SELECT settings::text FROM messaging_settings WHERE shop_id = $1",
                               "outreach_settings_save",
                               "INSERT INTO messaging_settings (shop_id, settings)"
                               " VALUES ($1, $2::jsonb) ON CONFLICT (shop_id) DO UPDATE"
                               " SET settings = EXCLUDED.settings, updated_at = now()"},
    [DB_SETTINGS_RETURNS] = {"returns_settings_load",
                             "SELECT settings::text FROM return_settings WHERE shop_id = $1",
                             "returns_settings_save",
                             "INSERT INTO return_settings (shop_id, settings) VALUES ($1, $2::jsonb)"
                             " ON CONFLICT (shop_id) DO UPDATE SET settings = EXCLUDED.settings,"
                             " updated_at = now()"},
};

int
db_settings_load(struct db_conn *c, enum db_settings which, int64_t shop_id, json_t **doc,
                 struct err *e)
{
    char shop[24];
    const char *params[1] = {shop};
    PGresult *res;
    int rc = 0;

    *doc = NULL;
    DB_I64(shop, shop_id);
    res = db_exec(c, docs[which].load_name, docs[which].load_sql, 1, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        json_error_t jerr;
        *doc = json_loads(PQgetvalue(res, 0, 0), 0, &jerr);
        if (*doc == NULL)
            rc = err_set(e, ERR_INTERNAL, NULL, "stored %s of shop %lld do not parse",
                         docs[which].load_name, (long long)shop_id);
    }
    PQclear(res);
    return rc;
}

int
db_settings_save(struct db_conn *c, enum db_settings which, int64_t shop_id, const json_t *doc,
                 struct err *e)
{
    char shop[24];
    char *text = jx_dump(doc);
    const char *params[2] = {shop, text};
    long n;

    DB_I64(shop, shop_id);
    n = db_exec_cmd(c, docs[which].save_name, docs[which].save_sql, 2, params, e);
    free(text);
    return n < 0 ? -1 : 0;
}
