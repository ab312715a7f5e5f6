/*
 * outreach.c - what surveys borrow from the review module's outreach
 * (the unsubscribe list today; the contact policy and the sender when the
 * survey email comes), through one thin layer, so that moving these into a
 * shared outreach module changes this file only.
 */
#include <string.h>

#include "aftersale/surveys/surveys.h"

int
surveys_outreach_unsubscribed(struct db_conn *c, int64_t shop_id, const char *email, bool *out,
                              struct err *e)
{
    char shop[24];
    const char *params[2] = {shop, email};
    PGresult *res;

    *out = false;
    DB_I64(shop, shop_id);
    /* The review module's list (sql/004_reviews.sql): one list per shop,
     * shared by every marketing message. */
    res = db_exec(c, "surveys_outreach_unsubscribed",
                  "SELECT 1 FROM unsubscribes WHERE shop_id = $1 AND email = lower($2)", 2, params,
                  e);
    if (res == NULL)
        return -1;
    *out = PQntuples(res) > 0;
    PQclear(res);
    return 0;
}
