/*
 * outreach.c - what surveys take from the shared outreach layer
 * (src/outreach/): one unsubscribe list per shop for every marketing
 * programme, and the one decision of whether an order may be invited to a
 * survey now. Both the trigger (surveys/jobs.c) and the thank-you page
 * link (surveys/order_link.c) ask surveys_invitation_admits, so an order
 * is admitted by the same rules whichever way it is invited. The contact
 * policy and the sender are used directly by the sending job
 * (surveys/send.c). Runs in the caller's transaction; never commits.
 */
#include <stdio.h>

#include "aftersale/outreach/outreach.h"
#include "aftersale/surveys/rules.h"
#include "aftersale/surveys/surveys.h"

int
surveys_outreach_unsubscribed(struct db_conn *c, int64_t shop_id, const char *email, bool *out,
                              struct err *e)
{
    return outreach_unsubscribed(c, shop_id, email, out, e);
}

int
surveys_invitation_admits(struct db_conn *c, int64_t shop_id, int64_t survey_id,
                          const json_t *settings, const struct surveys_order *so,
                          const char *email, bool *ok, const char **why, struct err *e)
{
    char shop[24], sid[24], order[24], days[16];
    PGresult *res;
    bool unsub;

    *ok = false;
    if (email[0] == '\0')
        return *why = "the order has no billing email", 0;
    if (!surveys_audience_match(settings, so, why))
        return 0;
    if (!surveys_sampled(survey_id, so->order_id, surveys_rate_bp(settings)))
        return *why = "not in the sample", 0;
    if (surveys_outreach_unsubscribed(c, shop_id, email, &unsub, e) < 0)
        return -1;
    if (unsub)
        return *why = "the customer unsubscribed", 0;
    DB_I64(shop, shop_id);
    DB_I64(sid, survey_id);
    DB_I64(order, so->order_id);
    snprintf(days, sizeof(days), "%" JSON_INTEGER_FORMAT,
             json_integer_value(json_object_get(settings, "recontact_days")));
    {
        /* Serialise the invitations of one customer to one survey, so the
         * recontact check below sees a concurrent one (two orders of one
         * customer at once, or the trigger and the thank-you page). */
        const char *p[3] = {shop, sid, email};
        res = db_exec(c, "surveys_recontact_lock",
                      "SELECT pg_advisory_xact_lock(hashtextextended("
                      "'survey:' || $1 || ':' || $2 || ':' || $3, 0))",
                      3, p, e);
        if (res == NULL)
            return -1;
        PQclear(res);
    }
    {
        const char *p[5] = {shop, sid, email, days, order};
        res = db_exec(c, "surveys_recontact",
                      "SELECT 1 FROM survey_invitations WHERE shop_id = $1 AND survey_id = $2"
                      " AND email = $3 AND order_id <> $5 AND status <> 'cancelled'"
                      " AND created_at > now() - $4::integer * interval '1 day' LIMIT 1",
                      5, p, e);
        if (res == NULL)
            return -1;
        if (PQntuples(res) > 0) {
            PQclear(res);
            return *why = "invited to this survey within the recontact window", 0;
        }
        PQclear(res);
    }
    *ok = true;
    return 0;
}
