/*
 * link.h - link invitations of surveys, shared by the merchant's
 * POST /v1/surveys/{id}/invitations (responses.c) and the shop's
 * POST /v1/orders/{order_id}/survey-link (order_link.c). Internal to
 * src/surveys/.
 */
#ifndef AFTERSALE_SURVEYS_LINK_H
#define AFTERSALE_SURVEYS_LINK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "aftersale/core/err.h"
#include "aftersale/db/pool.h"
#include "aftersale/surveys/surveys.h"

/* In: shop_id, survey_id, order_id (and given). Out: the rest. */
struct surveys_link {
    int64_t shop_id, survey_id, order_id, id;
    /* The order's facts when the caller has them (the shop's own page, for
     * an order whose webhook aftersale has not processed yet); NULL: the
     * snapshot's. Borrowed. */
    const struct surveys_order_facts *given;
    const char *locale; /* the customer's (a catalogue locale), or NULL */
    bool created;
    char *token_secret;
    time_t exp;
    char email[256];
    json_t *out;
};

/* The transaction (db_tx) that makes or finds the order's link invitation
 * of x->survey_id: 404 unknown survey, 409 archived survey or a cancelled
 * or expired invitation, 422 an order aftersale does not know (unless
 * x->given). Fills id, created, exp, email, token_secret (owned: wipe with
 * surveys_link_clear) and out (new reference: the invitation). */
int surveys_link_tx(struct db_conn *c, void *ctx, struct err *e);
/* The survey token of x (after surveys_link_tx) and its URL (NULL without
 * PUBLIC_URL): -1 when minting failed. Caller frees both. */
int surveys_link_token(const struct surveys_link *x, char **token, char **url);
/* Release x's out and wipe its token secret. */
void surveys_link_clear(struct surveys_link *x);

#endif
