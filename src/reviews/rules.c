/*
 * rules.c - the pure parts of review requests: durations, settings,
 * per-country delays, exclusions and the contact policy.
 *
 * Durations are ISO 8601 with weeks, days, hours, minutes and seconds
 * only. Months and years are refused with a message saying why (their
 * length depends on the calendar), as are fractions, signs, empty "P" or
 * "PT" and anything that would overflow int64 seconds. Output is the
 * shortest form without weeks, so P2W reads back as P14D and every value
 * has exactly one spelling in stored and shown settings.
 *
 * Settings are validated all-or-nothing, like loyalty's: everything but the
 * templates is merged into a copy, and the template strings (the only
 * allocation) are built in a separate array that is freed on any error, so
 * a 422 leaves the caller's struct byte for byte as it was. Every error
 * names its field the way the API spells it ("country_delays.US",
 * "templates[0].html"). to_json output read back over the defaults gives
 * the same settings, which is how the store keeps them.
 *
 * The contact policy moved to the outreach layer (messaging settings,
 * shared by every programme); reviews_contact_next_slot and the duration
 * functions remain here as thin names for outreach's.
 *
 * Callers: reviews handlers (settings), the store (scheduling a request),
 * the sending jobs (contact policy). This file must never do I/O, keep
 * state, or allocate beyond the template strings and the JSON it returns:
 * it is pure and thread-safe.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/core/money.h"
#include "aftersale/mail/smtp.h"
#include "aftersale/mail/templates.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/rules.h"
#include "aftersale/reviews/rules.h"
#include "aftersale/shops/shops.h"

/* Ranges; docs/reviews.md lists them. */
#define MINUTE 60LL
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)
#define DELAY_MAX (365 * DAY)
#define REMINDER_DELAY_MAX (90 * DAY)
#define REMINDER_COUNT_MAX 3
#define EXPIRY_MAX (365 * DAY)
#define VALIDITY_MAX 3650
#define AUTO_APPROVE_NEVER 6
#define SUBJECT_MAX 200                   /* characters */
#define BODY_MAX (100 * 1024)             /* bytes, text or html */
#define REAL_EXACT_MAX 9007199254740992LL /* 2^53: beyond it a double skips whole numbers */

static const char *const channel_names[] = {"email", "order_note"};
static const char *const trigger_names[] = {"completed", "delivered"};
static const char *const incentive_names[] = {"none", "points", "coupon"};

/* ---- durations ---------------------------------------------------------- */

/* The outreach layer owns durations now (messaging settings use them
 * too); these names stay for the review code and its tests. */
int
reviews_duration_parse(const char *s, int64_t *seconds, const char *field, struct err *e)
{
    return outreach_duration_parse(s, seconds, field, e);
}

void
reviews_duration_format(int64_t seconds, char out[32])
{
    outreach_duration_format(seconds, out);
}

/* ---- JSON field readers ------------------------------------------------- */

/* Abort on a NULL from a jansson constructor: out of memory is fatal. */
static json_t *
must(json_t *v)
{
    if (v == NULL) {
        fprintf(stderr, "{\"level\":\"error\",\"msg\":\"jansson constructor failed\"}\n");
        abort();
    }
    return v;
}

/*
 * A JSON number holding a whole number, exactly: integers, and reals such
 * as 30.0 (PHP's json_encode writes floats that way). A real beyond 2^53
 * no longer holds an exact whole number and is refused.
 */
static bool
whole_number(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d < -(double)REAL_EXACT_MAX || d > (double)REAL_EXACT_MAX || (double)(int64_t)d != d)
            return false;
        *out = (int64_t)d;
        return true;
    }
    return false;
}

/* An integer field: a JSON integer (or whole real) within [min, max]. */
static int
read_int(const json_t *v, const char *field, int64_t min, int64_t max, int64_t *out, struct err *e)
{
    int64_t i = 0;

    if (v == NULL || !whole_number(v, &i) || i < min || i > max)
        return err_set(e, ERR_INVALID, field,
                       "%s must be a whole number from %" PRId64 " to %" PRId64, field, min, max);
    *out = i;
    return 0;
}

/* A duration field: an ISO 8601 string within [min, max] seconds. */
static int
read_duration(const json_t *v, const char *field, int64_t min, int64_t max, int64_t *out,
              struct err *e)
{
    int64_t secs;
    char lo[32], hi[32];

    if (!json_is_string(v))
        return err_set(e, ERR_INVALID, field,
                       "%s must be an ISO 8601 duration string such as \"P7D\"", field);
    if (reviews_duration_parse(json_string_value(v), &secs, field, e) < 0)
        return -1;
    if (secs < min || secs > max) {
        reviews_duration_format(min, lo);
        reviews_duration_format(max, hi);
        return err_set(e, ERR_INVALID, field, "%s must be between %s and %s", field, lo, hi);
    }
    *out = secs;
    return 0;
}

static bool
has_control(const char *s)
{
    /* Sender names and subjects end up in email headers (jx_one_line). */
    return !jx_one_line(s);
}

/* A string field copied into a fixed buffer of `size` bytes (NUL included):
 * no control characters (CR/LF in a header would be an injection). */
static int
read_text(const json_t *v, const char *field, char *out, size_t size, struct err *e)
{
    const char *s = json_string_value(v);

    if (s == NULL)
        return err_set(e, ERR_INVALID, field, "%s must be a string (\"\" for the default)", field);
    if (strlen(s) >= size)
        return err_set(e, ERR_INVALID, field, "%s must be at most %zu bytes of UTF-8", field,
                       size - 1);
    if (has_control(s))
        return err_set(e, ERR_INVALID, field, "%s must not contain control characters", field);
    snprintf(out, size, "%s", s);
    return 0;
}

/* "en", "de", "pt_BR": [a-z]{2}(_[A-Z]{2})?, or one of the catalogues'
 * locales ("zh-Hans"). */
static bool
locale_valid(const char *s)
{
    if (s != NULL && outreach_locale_supported(s))
        return true;
    if (s == NULL || s[0] < 'a' || s[0] > 'z' || s[1] < 'a' || s[1] > 'z')
        return false;
    if (s[2] == '\0')
        return true;
    return s[2] == '_' && s[3] >= 'A' && s[3] <= 'Z' && s[4] >= 'A' && s[4] <= 'Z' && s[5] == '\0';
}

static int
read_locale(const json_t *v, const char *field, char out[16], struct err *e)
{
    const char *s = json_string_value(v);

    if (!locale_valid(s))
        return err_set(e, ERR_INVALID, field,
                       "%s must be a language code such as \"en\" or \"pt_BR\"", field);
    snprintf(out, 16, "%s", s);
    return 0;
}

/* Two upper-case ASCII letters (ISO 3166-1 alpha-2 shape). */
static bool
country_valid(const char *s)
{
    return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] == '\0';
}

/* ---- settings ----------------------------------------------------------- */

void
reviews_settings_default(struct reviews_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->delay_s = 7 * DAY;
    s->reminder_delay_s = 5 * DAY;
    s->reminder_count = 1;
    s->expiry_s = 30 * DAY;
    s->channel = REVIEWS_EMAIL;
    s->auto_approve_min = 4;
    /* "" = the shop's default_locale (messaging settings). */
    s->locale[0] = '\0';
    /* No incentive until the merchant opts in, and then no amount is guessed. */
    s->incentive = REVIEWS_INCENTIVE_NONE;
    s->coupon_validity_days = 30;
}

static void
templates_free(struct reviews_template *t, int n)
{
    for (int i = 0; i < n; i++) {
        free(t[i].subject);
        free(t[i].text);
        free(t[i].html);
        t[i].subject = t[i].text = t[i].html = NULL;
    }
}

void
reviews_settings_free(struct reviews_settings *s)
{
    int n = s->ntemplates < REVIEWS_MAX_TEMPLATES ? s->ntemplates : REVIEWS_MAX_TEMPLATES;

    templates_free(s->templates, n);
    s->ntemplates = 0;
}

static int
id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A given id list replaces the old one; kept sorted and without repeats. */
static int
ids_from_json(const char *name, const json_t *arr, int64_t *ids, int *nids, struct err *e)
{
    char field[64];
    size_t n;
    int kept = 0;

    if (!json_is_array(arr))
        return err_set(e, ERR_INVALID, name, "%s must be an array of ids ([] for none)", name);
    n = json_array_size(arr);
    if (n > REVIEWS_MAX_EXCLUDED)
        return err_set(e, ERR_INVALID, name, "%s: at most %d ids", name, REVIEWS_MAX_EXCLUDED);
    for (size_t i = 0; i < n; i++) {
        snprintf(field, sizeof(field), "%s[%zu]", name, i);
        if (read_int(json_array_get(arr, i), field, 1, INT64_MAX, &ids[i], e) < 0)
            return -1;
    }
    qsort(ids, n, sizeof(ids[0]), id_cmp);
    for (size_t i = 0; i < n; i++)
        if (kept == 0 || ids[i] != ids[kept - 1])
            ids[kept++] = ids[i];
    *nids = kept;
    return 0;
}

static int
override_cmp(const void *a, const void *b)
{
    return strcmp(((const struct reviews_country_delay *)a)->country,
                  ((const struct reviews_country_delay *)b)->country);
}

/* A given "country_delays" object replaces every override ({} removes them). */
static int
country_delays_from_json(struct reviews_settings *s, const json_t *obj, struct err *e)
{
    const char *code;
    json_t *v;
    char field[64];
    int n = 0;

    if (!json_is_object(obj))
        return err_set(e, ERR_INVALID, "country_delays",
                       "country_delays must be an object such as {\"US\": \"P14D\"}");
    if (json_object_size(obj) > REVIEWS_MAX_OVERRIDES)
        return err_set(e, ERR_INVALID, "country_delays", "at most %d country delays",
                       REVIEWS_MAX_OVERRIDES);
    json_object_foreach((json_t *)(uintptr_t)obj, code, v)
    {
        struct reviews_country_delay *o = &s->overrides[n];
        snprintf(field, sizeof(field), "country_delays.%.40s", code);
        if (!country_valid(code))
            return err_set(e, ERR_INVALID, field,
                           "%s: not a country code (2 upper-case letters, ISO 3166-1)", field);
        if (read_duration(v, field, 0, DELAY_MAX, &o->delay_s, e) < 0)
            return -1;
        snprintf(o->country, sizeof(o->country), "%s", code);
        n++;
    }
    /* Sorted, so the stored and shown settings do not depend on key order. */
    qsort(s->overrides, (size_t)n, sizeof(s->overrides[0]), override_cmp);
    s->noverrides = n;
    return 0;
}

/*
 * A positive amount with at most 2 decimals, normalised to exactly 2
 * ("5" -> "5.00", "007.5" -> "7.50"), which is how WooCommerce shows a
 * coupon amount. A string, or a JSON number holding a whole number.
 */
static int
read_amount(const json_t *v, const char *field, char out[24], struct err *e)
{
    int64_t cents = 0, whole;
    const char *s, *dot;

    if (json_is_number(v)) {
        if (!whole_number(v, &whole))
            return err_set(e, ERR_INVALID, field,
                           "%s: send decimals as a string (\"4.99\"); a JSON number with a "
                           "fraction is not exact",
                           field);
        if (whole < 1 || whole > 999999999999999LL)
            return err_set(e, ERR_INVALID, field, "%s must be a positive amount such as \"5.00\"",
                           field);
        snprintf(out, 24, "%" PRId64 ".00", whole);
        return 0;
    }
    s = json_string_value(v);
    if (s == NULL || !money_decimal_valid(s))
        return err_set(e, ERR_INVALID, field, "%s must be a decimal string such as \"5.00\"",
                       field);
    if (s[0] == '-')
        return err_set(e, ERR_INVALID, field, "%s must be positive", field);
    dot = strchr(s, '.');
    if (dot != NULL && strlen(dot + 1) > 2)
        return err_set(e, ERR_INVALID, field, "%s allows at most 2 decimals", field);
    /* 15 digits and 2 decimals: below 10^17, no overflow. */
    for (; *s >= '0' && *s <= '9'; s++)
        cents = cents * 10 + (*s - '0');
    cents *= 100;
    if (dot != NULL) {
        if (dot[1] != '\0')
            cents += (dot[1] - '0') * 10;
        if (dot[1] != '\0' && dot[2] != '\0')
            cents += dot[2] - '0';
    }
    if (cents == 0)
        return err_set(e, ERR_INVALID, field, "%s must be more than 0", field);
    snprintf(out, 24, "%" PRId64 ".%02" PRId64, cents / 100, cents % 100);
    return 0;
}

static int
incentive_from_json(struct reviews_settings *s, const json_t *obj, struct err *e)
{
    static const char *const keys[] = {"kind", "coupon_amount", "coupon_validity_days", NULL};
    const json_t *v;
    int choice = 0;
    int64_t i = 0;

    if (!json_is_object(obj))
        return err_set(e, ERR_INVALID, "incentive", "incentive must be an object");
    if (jx_known_keys(obj, keys, "incentive.", e) < 0)
        return -1;
    if ((v = json_object_get(obj, "kind")) != NULL) {
        if (jx_choice(v, "incentive.kind", incentive_names, 3, &choice, e) < 0)
            return -1;
        s->incentive = (enum reviews_incentive)choice;
    }
    if ((v = json_object_get(obj, "coupon_amount")) != NULL) {
        /* null clears the amount; settings_coherent refuses that for coupons. */
        if (json_is_null(v))
            s->coupon_amount[0] = '\0';
        else if (read_amount(v, "incentive.coupon_amount", s->coupon_amount, e) < 0)
            return -1;
    }
    if ((v = json_object_get(obj, "coupon_validity_days")) != NULL) {
        if (read_int(v, "incentive.coupon_validity_days", 1, VALIDITY_MAX, &i, e) < 0)
            return -1;
        s->coupon_validity_days = (int)i;
    }
    return 0;
}

/* One part of a template: absent or null means the built-in one. */
static int
template_part(const json_t *obj, const char *key, const char *prefix, char **out, struct err *e)
{
    const json_t *v = json_object_get(obj, key);
    char field[64];
    const char *s;
    bool subject = strcmp(key, "subject") == 0;

    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    snprintf(field, sizeof(field), "%s%s", prefix, key);
    s = json_string_value(v);
    if (s == NULL)
        return err_set(e, ERR_INVALID, field, "%s must be a string, or null for the built-in one",
                       field);
    if (s[0] == '\0')
        return err_set(e, ERR_INVALID, field,
                       "%s must not be empty; leave it out (or null) for the built-in one", field);
    if (subject && jx_utf8_len(s) > SUBJECT_MAX)
        return err_set(e, ERR_INVALID, field, "%s must be at most %d characters", field,
                       SUBJECT_MAX);
    if (subject && has_control(s))
        return err_set(e, ERR_INVALID, field, "%s must be one line without control characters",
                       field);
    if (!subject && strlen(s) > BODY_MAX)
        return err_set(e, ERR_INVALID, field, "%s must be at most %d KB", field, BODY_MAX / 1024);
    if (mail_template_check(s, field, e) < 0) {
        /* Its detail names the placeholder; ours also names the field. */
        char detail[sizeof(e->detail)];
        snprintf(detail, sizeof(detail), "%s", e->detail);
        return err_set(e, ERR_INVALID, field, "%s: %s", field, detail);
    }
    *out = xstrdup(s);
    return 0;
}

static int
template_from_json(struct reviews_template *t, const json_t *obj, int idx, struct err *e)
{
    static const char *const keys[] = {"locale", "subject", "text", "html", NULL};
    char prefix[32], field[64];

    snprintf(prefix, sizeof(prefix), "templates[%d].", idx);
    if (!json_is_object(obj)) {
        snprintf(field, sizeof(field), "templates[%d]", idx);
        return err_set(e, ERR_INVALID, field, "%s must be an object", field);
    }
    if (jx_known_keys(obj, keys, prefix, e) < 0)
        return -1;
    snprintf(field, sizeof(field), "%slocale", prefix);
    if (read_locale(json_object_get(obj, "locale"), field, t->locale, e) < 0)
        return -1;
    if (template_part(obj, "subject", prefix, &t->subject, e) < 0 ||
        template_part(obj, "text", prefix, &t->text, e) < 0 ||
        template_part(obj, "html", prefix, &t->html, e) < 0)
        return -1;
    return 0;
}

/* A given "templates" array replaces every template. The strings go into
 * `t`, which the caller frees on error. */
static int
templates_from_json(struct reviews_template *t, int *nt, const json_t *arr, struct err *e)
{
    char field[64];
    size_t n;

    if (!json_is_array(arr))
        return err_set(e, ERR_INVALID, "templates",
                       "templates must be an array ([] for the built-in templates)");
    n = json_array_size(arr);
    if (n > REVIEWS_MAX_TEMPLATES)
        return err_set(e, ERR_INVALID, "templates", "at most %d templates", REVIEWS_MAX_TEMPLATES);
    for (size_t i = 0; i < n; i++) {
        if (template_from_json(&t[i], json_array_get(arr, i), (int)i, e) < 0)
            return -1;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(t[i].locale, t[j].locale) == 0) {
                snprintf(field, sizeof(field), "templates[%zu].locale", i);
                return err_set(e, ERR_INVALID, field, "%s repeats the locale of templates[%zu]",
                               field, j);
            }
        }
    }
    *nt = (int)n;
    return 0;
}

/* Settings that validate field by field but do not make sense together. */
static int
settings_coherent(const struct reviews_settings *s, struct err *e)
{
    char exp[32], last[32];

    if (s->incentive == REVIEWS_INCENTIVE_COUPON && s->coupon_amount[0] == '\0')
        return err_set(e, ERR_INVALID, "incentive.coupon_amount",
                       "incentive.coupon_amount is required when incentive.kind is \"coupon\"");
    /* Reminder k goes out k * reminder_delay after the request: the last
     * one must come before the request expires, or it links to nothing. */
    if (s->reminder_count > 0 && s->reminder_count * s->reminder_delay_s >= s->expiry_s) {
        reviews_duration_format(s->expiry_s, exp);
        reviews_duration_format(s->reminder_count * s->reminder_delay_s, last);
        return err_set(e, ERR_INVALID, "expiry",
                       "expiry (%s) must be later than the last reminder (%s after the "
                       "request): lengthen expiry, or send fewer or earlier reminders",
                       exp, last);
    }
    return 0;
}

/* Every field but the templates, merged into n; allocates nothing. */
static int
settings_merge(struct reviews_settings *n, const json_t *obj, struct err *e)
{
    int64_t *pids = n->excluded_products, *cids = n->excluded_categories;
    const json_t *v;
    int choice = 0;
    int64_t i = 0;

    if ((v = json_object_get(obj, "delay")) != NULL &&
        read_duration(v, "delay", 0, DELAY_MAX, &n->delay_s, e) < 0)
        return -1;
    if ((v = json_object_get(obj, "reminder_delay")) != NULL &&
        read_duration(v, "reminder_delay", 0, REMINDER_DELAY_MAX, &n->reminder_delay_s, e) < 0)
        return -1;
    if ((v = json_object_get(obj, "reminder_count")) != NULL) {
        if (read_int(v, "reminder_count", 0, REMINDER_COUNT_MAX, &i, e) < 0)
            return -1;
        n->reminder_count = (int)i;
    }
    if ((v = json_object_get(obj, "expiry")) != NULL &&
        read_duration(v, "expiry", 1, EXPIRY_MAX, &n->expiry_s, e) < 0)
        return -1;
    if ((v = json_object_get(obj, "channel")) != NULL) {
        if (jx_choice(v, "channel", channel_names, 2, &choice, e) < 0)
            return -1;
        n->channel = (enum reviews_channel)choice;
    }
    if ((v = json_object_get(obj, "trigger")) != NULL) {
        if (jx_choice(v, "trigger", trigger_names, 2, &choice, e) < 0)
            return -1;
        n->trigger_delivered = choice == 1;
    }
    if ((v = json_object_get(obj, "excluded_product_ids")) != NULL &&
        ids_from_json("excluded_product_ids", v, pids, &n->nexcluded_products, e) < 0)
        return -1;
    if ((v = json_object_get(obj, "excluded_category_ids")) != NULL &&
        ids_from_json("excluded_category_ids", v, cids, &n->nexcluded_categories, e) < 0)
        return -1;
    if ((v = json_object_get(obj, "auto_approve_min_rating")) != NULL) {
        /* null: every review waits for the merchant. */
        if (json_is_null(v))
            n->auto_approve_min = AUTO_APPROVE_NEVER;
        else if (read_int(v, "auto_approve_min_rating", 1, 5, &i, e) < 0)
            return err_set(e, ERR_INVALID, "auto_approve_min_rating",
                           "auto_approve_min_rating must be 1 to 5, or null to approve every "
                           "review by hand");
        else
            n->auto_approve_min = (int)i;
    }
    if ((v = json_object_get(obj, "sender_name")) != NULL &&
        read_text(v, "sender_name", n->sender_name, sizeof(n->sender_name), e) < 0)
        return -1;
    if ((v = json_object_get(obj, "sender_email")) != NULL) {
        const char *s = json_string_value(v);
        if (s == NULL || (s[0] != '\0' && !mail_address_valid(s)))
            return err_set(e, ERR_INVALID, "sender_email",
                           "sender_email must be an email address such as \"shop@example.com\", "
                           "or \"\" for the service's MAIL_FROM");
        snprintf(n->sender_email, sizeof(n->sender_email), "%s", s);
    }
    if ((v = json_object_get(obj, "link_base_url")) != NULL) {
        const char *s = json_string_value(v);
        /* aftersale appends the token path: a query or fragment would swallow it. */
        if (s == NULL || strlen(s) >= sizeof(n->link_base_url) ||
            (s[0] != '\0' && (!shops_url_valid(s) || strpbrk(s, "?#") != NULL)))
            return err_set(e, ERR_INVALID, "link_base_url",
                           "link_base_url must be an http:// or https:// URL with a host, no "
                           "query or fragment, at most %zu bytes; or \"\" for the default",
                           sizeof(n->link_base_url) - 1);
        snprintf(n->link_base_url, sizeof(n->link_base_url), "%s", s);
    }
    if ((v = json_object_get(obj, "locale")) != NULL) {
        /* "" = the shop's default_locale (messaging settings). */
        if (json_is_string(v) && json_string_value(v)[0] == '\0')
            n->locale[0] = '\0';
        else if (read_locale(v, "locale", n->locale, e) < 0)
            return -1;
    }
    if ((v = json_object_get(obj, "country_delays")) != NULL &&
        country_delays_from_json(n, v, e) < 0)
        return -1;
    if ((v = json_object_get(obj, "incentive")) != NULL && incentive_from_json(n, v, e) < 0)
        return -1;
    return settings_coherent(n, e);
}

int
reviews_settings_from_json(struct reviews_settings *s, const json_t *obj, struct err *e)
{
    static const char *const keys[] = {"delay",
                                       "reminder_delay",
                                       "reminder_count",
                                       "expiry",
                                       "channel",
                                       "trigger",
                                       "excluded_product_ids",
                                       "excluded_category_ids",
                                       "sender_name",
                                       "sender_email",
                                       "link_base_url",
                                       "auto_approve_min_rating",
                                       "locale",
                                       "country_delays",
                                       "incentive",
                                       "templates",
                                       NULL};
    struct reviews_settings n = *s; /* merged here; copied back only on success */
    struct reviews_template tpl[REVIEWS_MAX_TEMPLATES];
    const json_t *templates;
    int ntpl = 0, rc = -1;

    memset(tpl, 0, sizeof(tpl));
    if (!json_is_object(obj)) {
        err_set(e, ERR_INVALID, NULL, "settings must be a JSON object");
        goto out;
    }
    if (jx_known_keys(obj, keys, "", e) < 0 || settings_merge(&n, obj, e) < 0)
        goto out;
    templates = json_object_get(obj, "templates");
    if (templates != NULL) {
        if (templates_from_json(tpl, &ntpl, templates, e) < 0)
            goto out;
        /* Success from here on: the old strings go, the new ones move in. */
        reviews_settings_free(s);
        memcpy(n.templates, tpl, sizeof(tpl));
        n.ntemplates = ntpl;
        memset(tpl, 0, sizeof(tpl));
    }
    *s = n;
    rc = 0;
out:
    templates_free(tpl, REVIEWS_MAX_TEMPLATES);
    return rc;
}

static json_t *
string_or_null(const char *s)
{
    return s != NULL ? must(json_string(s)) : json_null();
}

json_t *
reviews_settings_to_json(const struct reviews_settings *s)
{
    json_t *products = must(json_array()), *categories = must(json_array());
    json_t *countries = must(json_object()), *templates = must(json_array()), *approve;
    char delay[32], reminder[32], expiry[32], buf[32];
    unsigned ch = (unsigned)s->channel, inc = (unsigned)s->incentive;

    for (int i = 0; i < s->nexcluded_products && i < REVIEWS_MAX_EXCLUDED; i++)
        json_array_append_new(products, must(json_integer(s->excluded_products[i])));
    for (int i = 0; i < s->nexcluded_categories && i < REVIEWS_MAX_EXCLUDED; i++)
        json_array_append_new(categories, must(json_integer(s->excluded_categories[i])));
    for (int i = 0; i < s->noverrides && i < REVIEWS_MAX_OVERRIDES; i++) {
        reviews_duration_format(s->overrides[i].delay_s, buf);
        json_object_set_new(countries, s->overrides[i].country, must(json_string(buf)));
    }
    for (int i = 0; i < s->ntemplates && i < REVIEWS_MAX_TEMPLATES; i++) {
        const struct reviews_template *t = &s->templates[i];
        json_array_append_new(
            templates, must(json_pack("{s:s, s:o, s:o, s:o}", "locale", t->locale, "subject",
                                      string_or_null(t->subject), "text", string_or_null(t->text),
                                      "html", string_or_null(t->html))));
    }
    approve = s->auto_approve_min >= 1 && s->auto_approve_min <= 5
                  ? must(json_integer(s->auto_approve_min))
                  : json_null();
    reviews_duration_format(s->delay_s, delay);
    reviews_duration_format(s->reminder_delay_s, reminder);
    reviews_duration_format(s->expiry_s, expiry);
    json_t *doc = must(json_pack(
        "{s:s, s:s, s:i, s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:s, s:s, s:o,"
        " s:{s:s, s:o, s:i}, s:o}",
        "delay", delay, "reminder_delay", reminder, "reminder_count", s->reminder_count, "expiry",
        expiry, "channel", channel_names[ch < 2 ? ch : 0], "excluded_product_ids", products,
        "excluded_category_ids", categories, "auto_approve_min_rating", approve, "sender_name",
        s->sender_name, "sender_email", s->sender_email, "link_base_url", s->link_base_url,
        "locale", s->locale, "country_delays", countries, "incentive", "kind",
        incentive_names[inc < 3 ? inc : 0], "coupon_amount",
        s->coupon_amount[0] != '\0' ? must(json_string(s->coupon_amount)) : json_null(),
        "coupon_validity_days", s->coupon_validity_days, "templates", templates));
    json_object_set_new(doc, "trigger", must(json_string(trigger_names[s->trigger_delivered])));
    return doc;
}

/* ---- scheduling --------------------------------------------------------- */

int64_t
reviews_delay_for(const struct reviews_settings *s, const char *country)
{
    char code[3];

    if (country == NULL || country[0] == '\0' || country[1] == '\0' || country[2] != '\0')
        return s->delay_s;
    /* WooCommerce sends upper case; a plugin might not. */
    code[0] = (char)(country[0] >= 'a' && country[0] <= 'z' ? country[0] - 32 : country[0]);
    code[1] = (char)(country[1] >= 'a' && country[1] <= 'z' ? country[1] - 32 : country[1]);
    code[2] = '\0';
    for (int i = 0; i < s->noverrides && i < REVIEWS_MAX_OVERRIDES; i++)
        if (strcmp(s->overrides[i].country, code) == 0)
            return s->overrides[i].delay_s;
    return s->delay_s;
}

static bool
contains(const int64_t *ids, int n, int max, int64_t id)
{
    /* Linear: at most 200, and a hand-built struct need not be sorted. */
    for (int i = 0; i < n && i < max; i++)
        if (ids[i] == id)
            return true;
    return false;
}

bool
reviews_product_excluded(const struct reviews_settings *s, int64_t product_id,
                         const int64_t *categories, int ncategories)
{
    if (contains(s->excluded_products, s->nexcluded_products, REVIEWS_MAX_EXCLUDED, product_id))
        return true;
    for (int i = 0; categories != NULL && i < ncategories; i++)
        if (contains(s->excluded_categories, s->nexcluded_categories, REVIEWS_MAX_EXCLUDED,
                     categories[i]))
            return true;
    return false;
}

/* ---- contact policy ----------------------------------------------------- */

time_t
reviews_contact_next_slot(const time_t *sent, int nsent, int max, int64_t period_s, time_t now)
{
    return outreach_contact_next_slot(sent, nsent, max, period_s, now);
}
