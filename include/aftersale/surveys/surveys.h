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

#include "aftersale/db/pool.h"

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

/* ---- outreach: the one place that borrows the review module's contact
 * policy, unsubscribe list and sender, until they move to a shared
 * outreach module (src/surveys/outreach.c). ---- */

/* True when `email` unsubscribed from the shop's messages. */
int surveys_outreach_unsubscribed(struct db_conn *c, int64_t shop_id, const char *email,
                                  bool *out, struct err *e);

#endif
