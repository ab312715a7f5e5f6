/*
 * order_link.c - the survey a shop shows with an order on its own pages
 * (the thank-you page): POST /v1/orders/{order_id}/survey-link.
 *
 * Among the active surveys of channel "link" whose trigger event is the
 * asked one, the order's existing link invitation wins (a reload gets the
 * same one: idempotent per survey and order); otherwise the first survey by
 * id whose audience, sample, unsubscribe list and recontact window admit
 * the order (the trigger's rules and lock, surveys/jobs.c) gets a link
 * invitation (surveys_link_tx). An order aftersale has not processed yet is
 * decided on the facts the shop sends (the thank-you page usually comes
 * before the order's webhook is processed). Docs: docs/surveys.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/core/money.h"
#include "aftersale/surveys/handlers.h"
#include "aftersale/surveys/link.h"
#include "aftersale/surveys/rules.h"
#include "aftersale/surveys/surveys.h"

struct pick_ctx {
    struct surveys_link link;
    const char *event;
    const json_t *order; /* the body's "order" (borrowed), or NULL */
    json_t *outcomes;
    json_t *question;
    bool picked;
};

static void
outcome_add(json_t *outcomes, int64_t survey_id, const char *outcome)
{
    json_array_append_new(outcomes, json_pack("{s:o, s:s}", "survey_id",
                                              survey_id ? json_integer(survey_id) : json_null(),
                                              "outcome", outcome));
}

/* Whether survey `sid` (settings) may invite order o now; *why otherwise.
 * A link never revives a cancelled or expired invitation of the order;
 * the rest is the trigger's rule (surveys_invitation_admits). */
static int
pick_admits(struct db_conn *c, int64_t shop_id, int64_t sid, const json_t *settings,
            const struct surveys_order_facts *o, bool *ok, const char **why, struct err *e)
{
    struct surveys_order so = {.order_id = o->order_id, .first_order = o->first_order,
                               .country = o->country, .total = o->total,
                               .products = o->products, .nproducts = o->nproducts};
    char shop[24], sidb[24], order[24];
    PGresult *res;

    *ok = false;
    DB_I64(shop, shop_id);
    DB_I64(sidb, sid);
    DB_I64(order, o->order_id);
    {
        const char *p[3] = {shop, sidb, order};
        res = db_exec(c, "surveys_pick_existing",
                      "SELECT status FROM survey_invitations WHERE shop_id = $1"
                      " AND survey_id = $2 AND order_id = $3",
                      3, p, e);
        if (res == NULL)
            return -1;
        if (PQntuples(res) == 1 && (strcmp(PQgetvalue(res, 0, 0), "cancelled") == 0 ||
                                    strcmp(PQgetvalue(res, 0, 0), "expired") == 0)) {
            *why = strcmp(PQgetvalue(res, 0, 0), "cancelled") == 0
                       ? "the order's invitation is cancelled"
                       : "the order's invitation expired";
            PQclear(res);
            return 0;
        }
        PQclear(res);
    }
    return surveys_invitation_admits(c, shop_id, sid, settings, &so, o->email, ok, why, e);
}

/* Check the body's "order" {email, first_name?, country?, total,
 * customer_id?, product_ids?}: -1 with e (422 naming order.<field>). */
static int
given_check(const json_t *order, struct err *e)
{
    static const struct jx_field fields[] = {
        {"email", JX_STRING, true, 1, 254},      {"first_name", JX_STRING, false, 0, 200},
        {"country", JX_STRING, false, 0, 2},     {"total", JX_STRING, true, 1, 40},
        {"customer_id", JX_INTEGER, false, 0, 0}, {"product_ids", JX_ARRAY, false, 0, 0}};
    const json_t *ids = json_object_get(order, "product_ids");

    if (!json_is_object(order))
        return err_set(e, ERR_INVALID, "order", "order must be an object");
    if (jx_check(order, fields, sizeof(fields) / sizeof(fields[0]), "order.", e) < 0)
        return -1;
    if (!money_decimal_valid(jx_str(order, "total")) || jx_str(order, "total")[0] == '-')
        return err_set(e, ERR_INVALID, "order.total", "order.total must be a decimal string");
    if (json_integer_value(json_object_get(order, "customer_id")) < 0)
        return err_set(e, ERR_INVALID, "order.customer_id", "order.customer_id must be >= 0");
    if (json_array_size(ids) > SURVEYS_ORDER_MAX_PRODUCTS)
        return err_set(e, ERR_INVALID, "order.product_ids", "at most %d product ids",
                       SURVEYS_ORDER_MAX_PRODUCTS);
    for (size_t i = 0; i < json_array_size(ids); i++) {
        const json_t *id = json_array_get(ids, i);
        if (!json_is_integer(id) || json_integer_value(id) <= 0)
            return err_set(e, ERR_INVALID, "order.product_ids",
                           "a product id is a positive integer");
    }
    return 0;
}

/* Facts of an order from the shop's body; first_order from the snapshot of
 * the customer's earlier paid orders (as surveys_order_load decides it). */
static int
given_facts(struct db_conn *c, int64_t shop_id, int64_t order_id, const json_t *order,
            struct surveys_order_facts *o, struct err *e)
{
    char shop[24], oid[24], cust[24];
    const json_t *ids = json_object_get(order, "product_ids");
    const char *p[4] = {shop, oid, o->email, cust};
    PGresult *res;

    memset(o, 0, sizeof(*o));
    o->order_id = order_id;
    o->customer_id = json_integer_value(json_object_get(order, "customer_id"));
    snprintf(o->email, sizeof(o->email), "%s", jx_str(order, "email"));
    for (char *ch = o->email; *ch; ch++)
        if (*ch >= 'A' && *ch <= 'Z')
            *ch = (char)(*ch - 'A' + 'a');
    snprintf(o->first_name, sizeof(o->first_name), "%s",
             jx_str(order, "first_name") ? jx_str(order, "first_name") : "");
    snprintf(o->country, sizeof(o->country), "%s",
             jx_str(order, "country") ? jx_str(order, "country") : "");
    for (char *ch = o->country; *ch; ch++)
        if (*ch >= 'a' && *ch <= 'z')
            *ch = (char)(*ch - 'a' + 'A');
    snprintf(o->total, sizeof(o->total), "%s", jx_str(order, "total"));
    for (size_t i = 0; i < json_array_size(ids) && o->nproducts < SURVEYS_ORDER_MAX_PRODUCTS; i++)
        o->products[o->nproducts++] = json_integer_value(json_array_get(ids, i));
    DB_I64(shop, shop_id);
    DB_I64(oid, order_id);
    DB_I64(cust, o->customer_id);
    res = db_exec(c, "surveys_given_first_order",
                  "SELECT NOT EXISTS (SELECT 1 FROM orders p WHERE p.shop_id = $1"
                  " AND p.order_id < $2 AND NOT p.deleted"
                  " AND p.status IN ('processing', 'completed', 'refunded')"
                  " AND (($3 <> '' AND lower(p.billing_email) = $3)"
                  "  OR ($4::bigint > 0 AND p.customer_id = $4::bigint)))",
                  4, p, e);
    if (res == NULL)
        return -1;
    o->first_order = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return 0;
}

static int
pick_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct pick_ctx *x = ctx;
    struct surveys_order_facts *o = NULL;
    char shop[24], order[24];
    PGresult *res = NULL;
    bool found;
    int rc = -1;

    /* A retried transaction starts again from nothing. */
    json_decref(x->outcomes);
    x->outcomes = json_array();
    json_decref(x->question);
    x->question = NULL;
    x->picked = false;
    x->link.survey_id = 0;
    DB_I64(shop, x->link.shop_id);
    DB_I64(order, x->link.order_id);
    o = calloc(1, sizeof(*o));
    if (o == NULL)
        return err_set(e, ERR_INTERNAL, NULL, "out of memory");
    if (surveys_order_load(c, x->link.shop_id, x->link.order_id, o, &found, e) < 0)
        goto out;
    if (!found && x->order != NULL) {
        /* The thank-you page usually comes before the order's webhook is
         * processed: the shop's own facts stand in for the snapshot. */
        if (given_facts(c, x->link.shop_id, x->link.order_id, x->order, o, e) < 0)
            goto out;
        found = true;
        x->link.given = o;
    }
    if (!found) {
        /* The order's webhook has not arrived yet: nothing to show. */
        outcome_add(x->outcomes, 0, "order unknown");
        rc = 0;
        goto out;
    }
    {
        const char *p[3] = {shop, order, x->event};
        res = db_exec(c, "surveys_pick_again",
                      "SELECT i.survey_id FROM survey_invitations i JOIN surveys s"
                      " ON s.shop_id = i.shop_id AND s.id = i.survey_id"
                      " WHERE i.shop_id = $1 AND i.order_id = $2 AND i.channel = 'link'"
                      " AND i.status IN ('sent', 'answered') AND s.status = 'active'"
                      " AND s.settings->>'channel' = 'link'"
                      " AND s.settings->'trigger'->>'event' = $3 ORDER BY i.id LIMIT 1",
                      3, p, e);
        if (res == NULL)
            goto out;
        if (PQntuples(res) == 1) {
            x->link.survey_id = atoll(PQgetvalue(res, 0, 0));
            outcome_add(x->outcomes, x->link.survey_id, "already invited");
        }
        PQclear(res);
        res = NULL;
    }
    if (x->link.survey_id == 0) {
        const char *p[2] = {shop, x->event};
        res = db_exec(c, "surveys_pick_candidates",
                      "SELECT id, settings::text FROM surveys WHERE shop_id = $1"
                      " AND status = 'active' AND settings->>'channel' = 'link'"
                      " AND settings->'trigger'->>'event' = $2 ORDER BY id",
                      2, p, e);
        if (res == NULL)
            goto out;
        for (int i = 0; i < PQntuples(res) && x->link.survey_id == 0; i++) {
            json_error_t jerr;
            json_t *settings = json_loads(PQgetvalue(res, i, 1), 0, &jerr);
            int64_t sid = atoll(PQgetvalue(res, i, 0));
            const char *why = "bad settings";
            bool ok = false;
            int r = settings ? pick_admits(c, x->link.shop_id, sid, settings, o, &ok, &why, e) : 0;
            json_decref(settings);
            if (r < 0)
                goto out;
            if (ok)
                x->link.survey_id = sid;
            outcome_add(x->outcomes, sid, ok ? "invited" : why);
        }
        PQclear(res);
        res = NULL;
    }
    if (x->link.survey_id == 0) {
        if (json_array_size(x->outcomes) == 0)
            outcome_add(x->outcomes, 0, "no active link survey for this event");
        rc = 0;
        goto out;
    }
    rc = surveys_link_tx(c, &x->link, e);
    x->link.given = NULL; /* o is freed below */
    if (rc < 0)
        goto out;
    rc = -1;
    {
        json_t *qs = NULL;
        if (surveys_questions_load(c, x->link.shop_id, x->link.survey_id,
                                   (int)json_integer_value(json_object_get(x->link.out, "version")),
                                   &qs, e) < 0)
            goto out;
        x->question = json_incref(json_array_get(qs, 0));
        json_decref(qs);
    }
    x->picked = true;
    rc = 0;
out:
    PQclear(res);
    free(o);
    return rc;
}

void
surveys_handle_order_survey_link(struct req *r)
{
    static const char *const events[] = {"order.placed", "order.completed", "order.delivered"};
    static const char *const keys[] = {"event", "order", NULL};
    struct pick_ctx x = {.link = {.shop_id = r->shop_id}, .event = "order.placed"};
    struct err e = {0};
    char *token = NULL, *url = NULL;
    int idx;

    if (req_param_id_or_reply(r, "order_id", &x.link.order_id) < 0)
        return;
    if (r->json != NULL) {
        if (!json_is_object(r->json) || jx_known_keys(r->json, keys, NULL, &e) < 0) {
            if (!json_is_object(r->json))
                err_set(&e, ERR_INVALID, NULL, "the body must be an object {event}");
            reply_err(r, &e);
            return;
        }
        if (json_object_get(r->json, "event") != NULL) {
            if (jx_choice(json_object_get(r->json, "event"), "event", events, 3, &idx, &e) < 0) {
                reply_err(r, &e);
                return;
            }
            x.event = events[idx];
        }
        if (json_object_get(r->json, "order") != NULL) {
            if (given_check(json_object_get(r->json, "order"), &e) < 0) {
                reply_err(r, &e);
                return;
            }
            x.order = json_object_get(r->json, "order");
        }
    }
    if (db_tx(pick_fn, &x, &e) < 0) {
        reply_err(r, &e);
        goto out;
    }
    if (!x.picked) {
        reply_json_take(r, 200,
                        json_pack("{s:n, s:n, s:n, s:n, s:n, s:n, s:O}", "survey_id",
                                  "invitation_id", "token", "url", "question", "invitation",
                                  "outcomes", x.outcomes));
        goto out;
    }
    if (surveys_link_token(&x.link, &token, &url) < 0) {
        reply_problem(r, ERR_INTERNAL, NULL, "could not mint the survey token");
        goto out;
    }
    reply_json_take(r, x.link.created ? 201 : 200,
                    json_pack("{s:I, s:I, s:s, s:o, s:O, s:O, s:O}", "survey_id",
                              (json_int_t)x.link.survey_id, "invitation_id", (json_int_t)x.link.id,
                              "token", token, "url", url ? json_string(url) : json_null(),
                              "question", x.question ? x.question : json_null(), "invitation",
                              x.link.out, "outcomes", x.outcomes));
out:
    free(token);
    free(url);
    json_decref(x.outcomes);
    json_decref(x.question);
    surveys_link_clear(&x.link);
}

