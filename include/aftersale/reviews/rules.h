/*
 * rules.h - the pure parts of review requests: settings, durations and
 * schedules. No I/O; thread-safe. The contact policy lives in the
 * messaging settings (outreach/rules.h); reviews_contact_next_slot and
 * reviews_duration_* are the outreach functions under their old names.
 *
 * Durations are ISO 8601 (`P7D`, `PT30S`, `P1DT12H`, `P2W`); months and
 * years are refused because their length depends on the calendar (a
 * merchant who means "a month" writes P30D). Seconds are allowed so tests
 * never sleep for days.
 */
#ifndef AFTERSALE_REVIEWS_RULES_H
#define AFTERSALE_REVIEWS_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "aftersale/core/err.h"

#define REVIEWS_MAX_OVERRIDES 50
#define REVIEWS_MAX_EXCLUDED 200
#define REVIEWS_MAX_TEMPLATES 10

enum reviews_channel { REVIEWS_EMAIL, REVIEWS_ORDER_NOTE };
enum reviews_incentive { REVIEWS_INCENTIVE_NONE, REVIEWS_INCENTIVE_POINTS, REVIEWS_INCENTIVE_COUPON };

struct reviews_country_delay {
    char country[3];    /* ISO 3166-1 alpha-2, upper case */
    int64_t delay_s;
};

struct reviews_template {
    char locale[16];    /* "en", "de", "pt_BR" */
    char *subject, *text, *html; /* owned; NULL = built-in */
};

struct reviews_settings {
    int64_t delay_s;            /* after completion; default P7D */
    int64_t reminder_delay_s;   /* after the request was sent; default P5D */
    int reminder_count;         /* default 1, 0..3 */
    int64_t expiry_s;           /* after the request was sent; default P30D */
    enum reviews_channel channel; /* default email */
    bool trigger_delivered;     /* start from order.delivered; default false: order.completed */
    int64_t excluded_products[REVIEWS_MAX_EXCLUDED];
    int nexcluded_products;
    int64_t excluded_categories[REVIEWS_MAX_EXCLUDED];
    int nexcluded_categories;
    int auto_approve_min;       /* ratings >= this are published without moderation; 1..6, 6 = never; default 4 */
    char sender_name[128];      /* default "" = the messaging sender (then brand, shop name) */
    char sender_email[255];     /* default "" = the messaging sender_email, then MAIL_FROM */
    char link_base_url[512];    /* default "" = PUBLIC_URL + "/review" */
    char locale[16];            /* default "" = the messaging default_locale */
    int noverrides;
    struct reviews_country_delay overrides[REVIEWS_MAX_OVERRIDES];
    enum reviews_incentive incentive; /* default none */
    char coupon_amount[24];     /* incentive coupon: fixed_cart amount, decimal string */
    int coupon_validity_days;   /* default 30 */
    int ntemplates;
    struct reviews_template templates[REVIEWS_MAX_TEMPLATES];
};

/* Parse an ISO 8601 duration (days, weeks, hours, minutes, seconds only)
 * into seconds; -1 with ERR_INVALID naming `field`. 0 ("PT0S") is valid. */
int reviews_duration_parse(const char *s, int64_t *seconds, const char *field, struct err *e);
/* Format seconds as the shortest ISO 8601 duration ("P7D", "PT30S", "P1DT2H"). */
void reviews_duration_format(int64_t seconds, char out[32]);

void reviews_settings_default(struct reviews_settings *s);
/* Release the template strings. */
void reviews_settings_free(struct reviews_settings *s);
/* Merge a PUT body over s (all-or-nothing: s untouched on error), 422
 * naming the field ("country_delays.US", "templates[0].html"). Templates
 * are checked with mail_template_check. */
int reviews_settings_from_json(struct reviews_settings *s, const json_t *obj, struct err *e);
/* Returns: new reference, the settings as the API shows them. */
json_t *reviews_settings_to_json(const struct reviews_settings *s);

/* Delay for an order shipped to `country` (override, else the default). */
int64_t reviews_delay_for(const struct reviews_settings *s, const char *country);

/* True when a product is excluded (by id or by any of its categories). */
bool reviews_product_excluded(const struct reviews_settings *s, int64_t product_id,
                              const int64_t *categories, int ncategories);

/*
 * Contact policy: at most max messages per period. `sent` holds the send
 * times (epoch seconds) of the messages this customer got, in any order.
 * Returns the earliest time >= now at which one more message is allowed
 * (now itself when allowed now).
 */
time_t reviews_contact_next_slot(const time_t *sent, int nsent, int max, int64_t period_s,
                                 time_t now);

#endif
