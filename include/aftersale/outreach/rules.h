/*
 * rules.h - the pure parts of the outreach layer: the messaging settings
 * document, ISO 8601 durations and the contact policy's sliding window.
 * No I/O; thread-safe. (The database side is outreach.h.)
 *
 * The messaging settings are one document per shop, shared by every
 * programme that writes to customers (reviews, surveys, returns):
 *
 *   contact_policy  {max_messages, period}: at most max_messages marketing
 *                   messages per customer in any window of `period`,
 *                   counted over every programme together
 *   sender_name     From display name ("" = the brand name, else the shop's name)
 *   sender_email    From address ("" = the service's MAIL_FROM)
 *   reply_to        Reply-To address ("" = none)
 *   alert_email     where the merchant's alerts go (unhappy survey answers)
 *   default_locale  the customers' locale when nothing better is known
 *   brand_name      shown on emails and customer pages ("" = the shop's name)
 *   logo_url        http(s) image shown on emails and pages ("" = none)
 *   accent_color    "#rrggbb" of buttons and links
 *   locales         read-only: the locales the catalogues hold
 *
 * A programme may still override the sender (review settings'
 * sender_name / sender_email); "" there means "the messaging sender".
 */
#ifndef AFTERSALE_OUTREACH_RULES_H
#define AFTERSALE_OUTREACH_RULES_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "aftersale/core/err.h"

struct outreach_settings {
    int contact_max;          /* default 2, 1..100 */
    int64_t contact_period_s; /* default P14D, PT1S..P365D */
    char sender_name[128];
    char sender_email[255];
    char reply_to[255];
    char alert_email[255];
    char default_locale[16];  /* one of outreach_locales(); default "en" */
    char brand_name[128];
    char logo_url[512];
    char accent_color[8];     /* "#rrggbb", default "#1d4ed8" */
};

/* Computed fields a GET shows and a PUT ignores (jx_without_read_only). */
extern const char *const outreach_settings_read_only[];

void outreach_settings_default(struct outreach_settings *s);
/* Merge a PUT body over s, all-or-nothing (s untouched on error); 422
 * naming the field ("contact_policy.period", "accent_color"); an unknown
 * field is a 422 naming it. */
int outreach_settings_from_json(struct outreach_settings *s, const json_t *obj, struct err *e);
/* Only the "contact_policy" object (review settings forward theirs here). */
int outreach_contact_policy_from_json(struct outreach_settings *s, const json_t *obj,
                                      struct err *e);
/* Returns: new reference, the document as GET shows it. */
json_t *outreach_settings_to_json(const struct outreach_settings *s);

/* ISO 8601 durations with W, D, H, M (after T) and S only; months and
 * years refused (their length depends on the calendar). -1 with
 * ERR_INVALID naming `field`. */
int outreach_duration_parse(const char *s, int64_t *seconds, const char *field, struct err *e);
/* Shortest form without weeks: "P7D", "PT30S", "P1DT2H". */
void outreach_duration_format(int64_t seconds, char out[32]);

/*
 * Contact policy: at most max messages in any (t - period, t]. `sent`
 * holds the send times of the marketing messages this customer got, any
 * order. Returns the earliest time >= now at which one more is allowed
 * (now itself when allowed now). A message over the cap is postponed to
 * that slot by its sender, never dropped.
 */
time_t outreach_contact_next_slot(const time_t *sent, int nsent, int max, int64_t period_s,
                                  time_t now);

#endif
