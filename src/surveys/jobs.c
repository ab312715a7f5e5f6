/*
 * jobs.c - survey invitations from internal events.
 *
 * surveys.schedule runs once per order event (order.completed, and
 * order.delivered: a caller or the shop's delivered status) and, for every active survey
 * triggered by that event, decides whether this order gets an invitation:
 * the audience filters (surveys/rules.c), the deterministic sample, the
 * unsubscribe list, and the recontact window. The unique (survey, order)
 * makes a re-run harmless, and an advisory lock per (survey, email) makes
 * two orders of one customer, scheduled at once, see each other for the
 * recontact window.
 *
 * An order whose every item is under a return (open or resolved) gets no
 * invitation (the send step cancels one scheduled before the return).
 *
 * surveys.cancel cancels the invitations not sent yet of an order refunded
 * in full or cancelled.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/jobs.h"
#include "aftersale/surveys/jobs.h"
#include "aftersale/surveys/rules.h"
#include "aftersale/surveys/surveys.h"
#include "aftersale/woo/link.h"

/* Decide and insert the invitation of one survey; *outcome says what
 * happened, *invitation_id is 0 when none was made. */
static int
invite(struct db_conn *c, int64_t shop_id, int64_t survey_id, int version, const json_t *settings,
       const struct surveys_order_facts *o, const char *base_time, const char *locale,
       int64_t *invitation_id, const char **outcome, struct err *e)
{
    struct surveys_order so = {.order_id = o->order_id, .first_order = o->first_order,
                               .country = o->country, .total = o->total,
                               .products = o->products, .nproducts = o->nproducts,
                               .categories = o->categories, .ncategories = o->ncategories,
                               .categories_unknown = o->nunknown_categories > 0};
    char shop[24], sid[24], order[24], ver[16], cust[24];
    PGresult *res;
    bool ok;

    *invitation_id = 0;
    bool deferred = so.categories_unknown && surveys_audience_has_categories(settings);

    if (surveys_invitation_admits(c, shop_id, survey_id, settings, &so, o->email, &ok, outcome,
                                  e) < 0)
        return -1;
    if (!ok)
        return 0;
    DB_I64(shop, shop_id);
    DB_I64(sid, survey_id);
    DB_I64(order, o->order_id);
    DB_I64(cust, o->customer_id);
    snprintf(ver, sizeof(ver), "%d", version);
    {
        const char *channel = jx_str(settings, "channel");
        const char *p[13] = {shop, sid, ver, order, cust, o->email, o->first_name, o->country,
                             o->first_order ? "t" : "f", base_time,
                             jx_str(json_object_get(settings, "trigger"), "delay"), locale,
                             channel ? channel : "email"};
        res = db_exec(c, "surveys_invite",
                      "INSERT INTO survey_invitations (shop_id, survey_id, version, order_id,"
                      " customer_id, email, first_name, country, first_order, channel, due_at,"
                      " locale)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $13,"
                      "  coalesce($10::timestamptz, now()) + $11::interval, $12)"
                      " ON CONFLICT (shop_id, survey_id, order_id) DO NOTHING"
                      " RETURNING id, greatest(0, extract(epoch FROM due_at - now()) * 1000)::bigint",
                      13, p, e);
    }
    if (res == NULL)
        return -1;
    if (PQntuples(res) == 1) {
        /* The email (or order note) goes out when due (surveys/send.c); one job per invitation. */
        char key[48];
        long delay_ms = atol(PQgetvalue(res, 0, 1));
        json_t *payload;
        int rc;
        *invitation_id = atoll(PQgetvalue(res, 0, 0));
        *outcome = deferred ? "scheduled (categories checked when sending)" : "scheduled";
        PQclear(res);
        payload = json_pack("{s:I}", "invitation_id", (json_int_t)*invitation_id);
        snprintf(key, sizeof(key), "send:%" PRId64, *invitation_id);
        rc = jobs_enqueue(c, shop_id, "surveys.send", payload, key, delay_ms, 0, NULL, e);
        json_decref(payload);
        return rc < 0 ? -1 : 0;
    } else {
        *outcome = "already invited";
    }
    PQclear(res);
    return 0;
}

int
surveys_job_schedule(struct db_conn *c, struct job_env *env, const struct job *job,
                     struct job_outcome *out, struct err *e)
{
    char kind[64], shop[24];
    const char *params[2] = {shop, kind};
    json_t *ev = NULL, *results = NULL;
    struct surveys_order_facts *o = NULL;
    PGresult *res = NULL;
    bool found, returned = false;
    int rc = -1;

    (void)env;
    out->status = JOB_DONE;
    if (woo_events_load(c, job->shop_id,
                        json_integer_value(json_object_get(job->payload, "event_id")), kind, &ev,
                        e) < 0)
        return -1;
    if (ev == NULL)
        return 0;
    o = calloc(1, sizeof(*o));
    if (o == NULL) {
        err_set(e, ERR_INTERNAL, NULL, "out of memory");
        goto out;
    }
    if (surveys_order_load(c, job->shop_id, json_integer_value(json_object_get(ev, "order_id")), o,
                   &found, e) < 0)
        goto out;
    results = json_array();
    if (!found) {
        out->result = json_pack("{s:s, s:o}", "outcome", "order unknown", "surveys", results);
        results = NULL;
        rc = 0;
        goto out;
    }
    /* Every item under a return: nobody is asked about an order sent back. */
    if (surveys_order_returned(c, job->shop_id, o->order_id, &returned, e) < 0)
        goto out;
    DB_I64(shop, job->shop_id);
    /* Email and order-note surveys; a link survey is never sent: the shop
     * shows it (order_link.c). */
    res = db_exec(c, "surveys_triggered",
                  "SELECT id, version, settings::text FROM surveys WHERE shop_id = $1"
                  " AND status = 'active' AND settings->'trigger'->>'event' = $2"
                  " AND coalesce(settings->>'channel', 'email') <> 'link' ORDER BY id",
                  2, params, e);
    if (res == NULL)
        goto out;
    for (int i = 0; i < PQntuples(res); i++) {
        json_error_t jerr;
        json_t *settings = json_loads(PQgetvalue(res, i, 2), 0, &jerr);
        int64_t sid = atoll(PQgetvalue(res, i, 0)), iid = 0;
        const char *outcome = "bad settings";
        /* The completion (delivery) time when the event says it, else now. */
        const char *base = strcmp(kind, "order.completed") == 0
                               ? jx_str(ev, "date_completed_gmt")
                               : jx_str(ev, "delivered_at");
        int r = 0;
        if (returned)
            outcome = "every item of the order is under a return";
        else if (settings)
            /* The customer's locale when the event names one (as reviews
             * keep it: a catalogue locale, "de-AT" -> "de"). */
            r = invite(c, job->shop_id, sid, atoi(PQgetvalue(res, i, 1)), settings, o, base,
                       outreach_locale_match(jx_str(ev, "locale")), &iid, &outcome, e);
        json_decref(settings);
        if (r < 0)
            goto out;
        json_array_append_new(results, json_pack("{s:I, s:o, s:s}", "survey_id", (json_int_t)sid,
                                                 "invitation_id",
                                                 iid ? json_integer(iid) : json_null(), "outcome",
                                                 outcome));
    }
    out->result = json_pack("{s:I, s:o}", "order_id", (json_int_t)o->order_id, "surveys", results);
    results = NULL;
    rc = 0;
out:
    PQclear(res);
    json_decref(results);
    json_decref(ev);
    free(o);
    return rc;
}

int
surveys_invitation_categories_check(struct db_conn *c, int64_t shop_id, int64_t invitation_id,
                                    bool *cancelled, struct err *e)
{
    char shop[24], id[24];
    const char *params[3] = {shop, id, NULL};
    PGresult *res;
    json_t *settings;
    json_error_t jerr;
    struct surveys_order_facts *o = NULL;
    struct surveys_order so = {0};
    const char *why = NULL;
    int64_t order_id;
    bool found, in;
    int rc = -1;

    *cancelled = false;
    DB_I64(shop, shop_id);
    DB_I64(id, invitation_id);
    res = db_exec(c, "surveys_categories_check_load",
                  "SELECT i.order_id, s.settings::text FROM survey_invitations i"
                  " JOIN surveys s ON s.shop_id = i.shop_id AND s.id = i.survey_id"
                  " WHERE i.shop_id = $1 AND i.id = $2 AND i.status = 'scheduled'",
                  2, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 0;
    }
    order_id = atoll(PQgetvalue(res, 0, 0));
    settings = json_loads(PQgetvalue(res, 0, 1), 0, &jerr);
    PQclear(res);
    if (settings == NULL || !surveys_audience_has_categories(settings)) {
        json_decref(settings);
        return 0;
    }
    o = calloc(1, sizeof(*o));
    if (o == NULL)
        abort();
    if (surveys_order_load(c, shop_id, order_id, o, &found, e) < 0)
        goto out;
    /* Still unknown now (the shop did not answer yet): "no category". */
    so.categories = o->categories;
    so.ncategories = o->ncategories;
    in = !found || surveys_audience_categories_match(settings, &so, &why);
    if (!in) {
        long n;
        params[2] = why;
        n = db_exec_cmd(c, "surveys_categories_cancel",
                        "UPDATE survey_invitations SET status = 'cancelled', cancel_reason = $3,"
                        " updated_at = now() WHERE shop_id = $1 AND id = $2"
                        " AND status = 'scheduled'",
                        3, params, e);
        if (n < 0)
            goto out;
        *cancelled = n > 0;
    }
    rc = 0;
out:
    free(o);
    json_decref(settings);
    return rc;
}

int
surveys_job_cancel(struct db_conn *c, struct job_env *env, const struct job *job,
                   struct job_outcome *out, struct err *e)
{
    long n;

    (void)env;
    out->status = JOB_DONE;
    /* A partial refund keeps the invitation: the customer kept the rest. */
    if (outreach_job_cancel_order(c, job, "surveys_cancel",
                                  "UPDATE survey_invitations SET status = 'cancelled',"
                                  " cancel_reason = $3, updated_at = now()"
                                  " WHERE shop_id = $1 AND order_id = $2"
                                  " AND status = 'scheduled'",
                                  &n, e) < 0)
        return -1;
    out->result = json_pack("{s:I}", "cancelled", (json_int_t)n);
    return 0;
}
