/*
 * surveys.h - surveys, invitations and responses in PostgreSQL (store),
 * shared by the handlers and the jobs. Every function runs on a borrowed
 * connection in the caller's transaction and returns 0/-1 with e.
 *
 * A survey is draft, active, paused or archived; only active surveys
 * invite from events. Its questions live in survey_versions: an edit of
 * the questions of a version that has responses makes a new version.
 *
 * An invitation's life: scheduled (due at the trigger + delay) -> sent ->
 * answered | expired; or cancelled (order refunded in full or cancelled
 * before sending). Channel `link` invitations are made sent at once by the
 * merchant's API call.
 */
#ifndef AFTERSALE_SURVEYS_SURVEYS_H
#define AFTERSALE_SURVEYS_SURVEYS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aftersale/core/buf.h"
#include "aftersale/db/pool.h"
#include "aftersale/woo/products.h"

/* The survey as the API shows it, at its current version (version <= 0)
 * or at `version`. *out NULL when missing. */
int surveys_json(struct db_conn *c, int64_t shop_id, int64_t id, int version, json_t **out,
                 struct err *e);

/* The questions (new ref) of one version; *out NULL when missing. */
int surveys_questions_load(struct db_conn *c, int64_t shop_id, int64_t survey_id, int version,
                           json_t **out, struct err *e);

/* The invitation as the API shows it; *out NULL when missing. */
int surveys_invitation_json(struct db_conn *c, int64_t shop_id, int64_t id, json_t **out,
                            struct err *e);

/* What the invitations need of an order (from the order snapshot). */
#define SURVEYS_ORDER_MAX_PRODUCTS 200
struct surveys_order_facts {
    int64_t order_id, customer_id;
    char email[256], first_name[256], country[8], total[48];
    bool first_order;
    int64_t products[SURVEYS_ORDER_MAX_PRODUCTS];
    int nproducts;
    /* The categories of its products as the cache knows them
     * (woo/products.c), and how many products are not known yet. */
    int64_t categories[WOO_PRODUCTS_MAX_CATEGORIES];
    int ncategories, nunknown_categories;
};
int surveys_order_load(struct db_conn *c, int64_t shop_id, int64_t order_id,
                       struct surveys_order_facts *o, bool *found, struct err *e);

/* Item 4 of the returns rule: *all true when the order has line items in
 * the snapshot and every one is under a return that is open or ended with
 * the items back (returns_line_blocked); such an order gets no survey
 * invitation. In the caller's transaction. */
int surveys_order_returned(struct db_conn *c, int64_t shop_id, int64_t order_id, bool *all,
                           struct err *e);

/* A response as the API shows it (new ref) from a row of SURVEY_RESPONSE_COLS. */
#define SURVEY_RESPONSE_COLS                                                                       \
    "r.id, r.survey_id, r.invitation_id, i.order_id, r.version, r.answers::text, r.other::text,"  \
    " r.complete, r.score, r.country, r.first_order, i.email, r.follow_up, r.note, "             \
    DB_TS("r.created_at") ", " DB_TS("r.updated_at")
json_t *surveys_response_json(const PGresult *res, int row);

/* Record one score (the one-click page) for the invitation a verified
 * token names: merged into the answers given so far, as a partial answer. */
struct token_claims;
int surveys_record_score(const struct token_claims *claims, const char *qid, int score,
                         struct err *e);

/* The answer page's write, as the one-click score (partial, one response
 * per invitation, last write wins): the stored answers and "other" texts
 * of the questions listed in `shown` (array of ids) are replaced by
 * `answers` / `other` (an id absent there: no answer), the others kept;
 * answers of questions the conditions now hide are dropped. one_click:
 * the email's score (an alert waits for the rest: SURVEY_ALERT_HOLD_S).
 * *out: the stored response as the API shows it (new ref). */
int surveys_page_save(const struct token_claims *claims, const json_t *answers, const json_t *other,
                      const json_t *shown, bool one_click, json_t **out, struct err *e);

/* Append one CSV field (RFC 4180: quoted when it holds a comma, a quote
 * or a line break, quotes doubled); a cell starting with = + - @ tab or
 * CR is prefixed with ' (and quoted) so no spreadsheet runs it. */
void surveys_csv_field(struct buf *b, const char *s);

/* ---- outreach: the one place that borrows the review module's contact
 * policy, unsubscribe list and sender, until they move to a shared
 * outreach module (src/surveys/outreach.c). ---- */

/* True when `email` unsubscribed from the shop's messages. */
int surveys_outreach_unsubscribed(struct db_conn *c, int64_t shop_id, const char *email,
                                  bool *out, struct err *e);

struct surveys_order;
/* Whether order `so` (billing `email`) may be invited to survey
 * `survey_id` (its `settings`) now: it has an email, is in the audience
 * and the sample, the customer has not unsubscribed, and had no invitation
 * to this survey (but for this order, and not cancelled) within
 * recontact_days. The recontact check runs under a transaction advisory
 * lock per shop, survey and email. 0 with *ok true, or *ok false and *why
 * (a static string) saying why not; -1 with e. */
int surveys_invitation_admits(struct db_conn *c, int64_t shop_id, int64_t survey_id,
                              const json_t *settings, const struct surveys_order *so,
                              const char *email, bool *ok, const char **why, struct err *e);

#endif
