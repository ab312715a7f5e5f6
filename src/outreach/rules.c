/*
 * rules.c - the pure parts of the outreach layer: the messaging settings
 * document, ISO 8601 durations and the contact policy.
 *
 * Durations are ISO 8601 with weeks, days, hours, minutes and seconds
 * only. Months and years are refused with a message saying why (their
 * length depends on the calendar), as are fractions, signs, empty "P" or
 * "PT" and anything that would overflow int64 seconds. Output is the
 * shortest form without weeks, so P2W reads back as P14D. (Moved here from
 * reviews/rules.c, which keeps reviews_duration_* as its names for them.)
 *
 * The contact policy is a sliding window, not a calendar quota: at most
 * max messages in any (t - period, t]. A message over the cap is never
 * dropped; the sender asks for the next slot and waits until then.
 *
 * Settings are validated all-or-nothing: merged into a copy that replaces
 * the caller's struct only on success, every error naming its field the
 * way the API spells it. No I/O, no state: pure and thread-safe.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/mail/smtp.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/rules.h"
#include "aftersale/shops/shops.h"

#define MINUTE 60LL
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)
#define WEEK (7 * DAY)
#define PERIOD_MAX (365 * DAY)
#define CONTACT_MAX_MAX 100
#define REAL_EXACT_MAX 9007199254740992LL /* 2^53 */

/* ---- durations ---------------------------------------------------------- */


/* ---- durations ---------------------------------------------------------- */

/* The designators we accept, largest first: the order they must appear in. */
static const struct {
    char designator;
    int64_t seconds;
    bool time; /* after the 'T' */
} units[] = {
    {'W', WEEK, false}, {'D', DAY, false}, {'H', HOUR, true}, {'M', MINUTE, true}, {'S', 1, true},
};
#define NUNITS (sizeof(units) / sizeof(units[0]))
#define FIRST_TIME_UNIT 2

int
outreach_duration_parse(const char *s, int64_t *seconds, const char *field, struct err *e)
{
    const char *f = field != NULL ? field : "duration";
    const char *p;
    int64_t total = 0;
    size_t next = 0; /* index in units[] of the largest unit still allowed */
    bool in_time = false, any = false, any_time = false;

    if (s == NULL)
        return err_set(e, ERR_INVALID, field, "%s must be an ISO 8601 duration such as \"P7D\"", f);
    if (s[0] == '-' || s[0] == '+')
        return err_set(e, ERR_INVALID, field, "%s: '%.40s': a duration has no sign", f, s);
    if (s[0] != 'P')
        return err_set(e, ERR_INVALID, field,
                       "%s: '%.40s' is not an ISO 8601 duration (P7D, PT12H, P1DT6H; upper case)",
                       f, s);
    for (p = s + 1; *p != '\0';) {
        int64_t n = 0;
        size_t u;

        if (*p == 'T') {
            if (in_time)
                return err_set(e, ERR_INVALID, field, "%s: '%.40s' has two 'T's", f, s);
            in_time = true;
            next = FIRST_TIME_UNIT;
            p++;
            continue;
        }
        if (*p < '0' || *p > '9')
            return err_set(e, ERR_INVALID, field,
                           "%s: '%.40s': expected a number before each unit (P7D, PT30M)", f, s);
        for (; *p >= '0' && *p <= '9'; p++) {
            if (n > (INT64_MAX - (*p - '0')) / 10)
                return err_set(e, ERR_INVALID, field, "%s: '%.40s' is too large", f, s);
            n = n * 10 + (*p - '0');
        }
        if (*p == '.' || *p == ',')
            return err_set(e, ERR_INVALID, field,
                           "%s: '%.40s': fractions are not allowed; use a smaller unit "
                           "(PT90M, not PT1.5H)",
                           f, s);
        if (*p == '\0')
            return err_set(e, ERR_INVALID, field, "%s: '%.40s': a number without a unit", f, s);
        /* Months and years are the mistake worth a sentence of its own. */
        if (*p == 'Y' || (*p == 'M' && !in_time))
            return err_set(e, ERR_INVALID, field,
                           "%s: '%.40s': months and years vary in length and are not allowed; "
                           "write days (P30D, P365D) or weeks (P4W)",
                           f, s);
        for (u = 0; u < NUNITS; u++)
            if (units[u].designator == *p && units[u].time == in_time)
                break;
        if (u == NUNITS)
            return err_set(e, ERR_INVALID, field,
                           in_time ? "%s: '%.40s': after 'T' only H, M and S are allowed"
                                   : "%s: '%.40s': before 'T' only W and D are allowed "
                                     "(hours, minutes and seconds follow a 'T': PT12H)",
                           f, s);
        if (u < next)
            return err_set(e, ERR_INVALID, field,
                           "%s: '%.40s': each unit at most once, in the order W, D, T, H, M, S", f,
                           s);
        if (n > (INT64_MAX - total) / units[u].seconds)
            return err_set(e, ERR_INVALID, field, "%s: '%.40s' is too large", f, s);
        total += n * units[u].seconds;
        next = u + 1;
        any = true;
        any_time = any_time || in_time;
        p++;
    }
    if (!any)
        return err_set(e, ERR_INVALID, field,
                       "%s: '%.40s' is empty: give a number and a unit (P7D, PT0S)", f, s);
    if (in_time && !any_time)
        return err_set(e, ERR_INVALID, field,
                       "%s: '%.40s': 'T' must be followed by hours, minutes or seconds", f, s);
    *seconds = total;
    return 0;
}

void
outreach_duration_format(int64_t seconds, char out[32])
{
    /* Negate in unsigned arithmetic so INT64_MIN formats too. */
    uint64_t v = seconds < 0 ? 0 - (uint64_t)seconds : (uint64_t)seconds;
    uint64_t d = v / DAY, h = v % DAY / HOUR, m = v % HOUR / MINUTE, sec = v % MINUTE;
    int n;

    n = snprintf(out, 32, "%sP", seconds < 0 ? "-" : "");
    if (d > 0)
        n += snprintf(out + n, 32 - (size_t)n, "%" PRIu64 "D", d);
    if (h > 0 || m > 0 || sec > 0 || d == 0) {
        n += snprintf(out + n, 32 - (size_t)n, "T");
        if (h > 0)
            n += snprintf(out + n, 32 - (size_t)n, "%" PRIu64 "H", h);
        if (m > 0)
            n += snprintf(out + n, 32 - (size_t)n, "%" PRIu64 "M", m);
        if (sec > 0 || v == 0)
            snprintf(out + n, 32 - (size_t)n, "%" PRIu64 "S", sec);
    }
}

/* ---- the messaging settings --------------------------------------------- */

const char *const outreach_settings_read_only[] = {"locales", NULL};

void
outreach_settings_default(struct outreach_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->contact_max = 2;
    s->contact_period_s = 14 * DAY;
    snprintf(s->default_locale, sizeof(s->default_locale), "%s", "en");
    snprintf(s->accent_color, sizeof(s->accent_color), "%s", "#1d4ed8");
}

/* A whole number (30 or 30.0, as PHP writes floats) within [min, max]. */
static int
read_int(const json_t *v, const char *field, int64_t min, int64_t max, int64_t *out, struct err *e)
{
    int64_t i = 0;
    bool ok = false;

    if (json_is_integer(v)) {
        i = (int64_t)json_integer_value(v);
        ok = true;
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        ok = d >= -(double)REAL_EXACT_MAX && d <= (double)REAL_EXACT_MAX &&
             (double)(int64_t)d == d;
        i = ok ? (int64_t)d : 0;
    }
    if (!ok || i < min || i > max)
        return err_set(e, ERR_INVALID, field,
                       "%s must be a whole number from %" PRId64 " to %" PRId64, field, min, max);
    *out = i;
    return 0;
}

int
outreach_contact_policy_from_json(struct outreach_settings *s, const json_t *obj, struct err *e)
{
    static const char *const keys[] = {"max_messages", "period", NULL};
    struct outreach_settings n = *s;
    const json_t *v;
    int64_t i = 0, secs = 0;
    char hi[32];

    if (!json_is_object(obj))
        return err_set(e, ERR_INVALID, "contact_policy",
                       "contact_policy must be an object such as "
                       "{\"max_messages\": 2, \"period\": \"P14D\"}");
    if (jx_known_keys(obj, keys, "contact_policy.", e) < 0)
        return -1;
    if ((v = json_object_get(obj, "max_messages")) != NULL) {
        if (read_int(v, "contact_policy.max_messages", 1, CONTACT_MAX_MAX, &i, e) < 0)
            return -1;
        n.contact_max = (int)i;
    }
    if ((v = json_object_get(obj, "period")) != NULL) {
        if (!json_is_string(v))
            return err_set(e, ERR_INVALID, "contact_policy.period",
                           "contact_policy.period must be an ISO 8601 duration string such as "
                           "\"P14D\"");
        if (outreach_duration_parse(json_string_value(v), &secs, "contact_policy.period", e) < 0)
            return -1;
        if (secs < 1 || secs > PERIOD_MAX) {
            outreach_duration_format(PERIOD_MAX, hi);
            return err_set(e, ERR_INVALID, "contact_policy.period",
                           "contact_policy.period must be between PT1S and %s", hi);
        }
        n.contact_period_s = secs;
    }
    *s = n;
    return 0;
}

/* A one-line text (it ends up in a header or a page title). */
static int
read_line(const json_t *v, const char *field, char *out, size_t size, struct err *e)
{
    const char *s = json_string_value(v);

    if (s == NULL)
        return err_set(e, ERR_INVALID, field, "%s must be a string (\"\" for the default)", field);
    if (strlen(s) >= size)
        return err_set(e, ERR_INVALID, field, "%s must be at most %zu bytes of UTF-8", field,
                       size - 1);
    if (!jx_one_line(s))
        return err_set(e, ERR_INVALID, field,
                       "%s must be one line without control characters (no CR or LF)", field);
    snprintf(out, size, "%s", s);
    return 0;
}

/* An email address, or "" (`empty` says what "" means). */
static int
read_address(const json_t *v, const char *field, const char *empty, char *out, size_t size,
             struct err *e)
{
    const char *s = json_string_value(v);

    if (s == NULL || strlen(s) >= size || (s[0] != '\0' && !mail_address_valid(s)))
        return err_set(e, ERR_INVALID, field,
                       "%s must be an email address such as \"shop@example.com\", or \"\" for %s",
                       field, empty);
    snprintf(out, size, "%s", s);
    return 0;
}

static bool
hex_digit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* "#rrggbb"; stored lower case so it has one spelling. */
static int
read_color(const json_t *v, char out[8], struct err *e)
{
    const char *s = json_string_value(v);
    bool ok = s != NULL && s[0] == '#' && strlen(s) == 7;

    for (int i = 1; ok && i < 7; i++)
        ok = hex_digit(s[i]);
    if (!ok)
        return err_set(e, ERR_INVALID, "accent_color",
                       "accent_color must be a colour written \"#rrggbb\", such as \"#1d4ed8\"");
    for (int i = 0; i < 7; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 : s[i]);
    out[7] = '\0';
    return 0;
}

static int
settings_merge(struct outreach_settings *n, const json_t *obj, struct err *e)
{
    const json_t *v;

    if ((v = json_object_get(obj, "contact_policy")) != NULL &&
        outreach_contact_policy_from_json(n, v, e) < 0)
        return -1;
    if ((v = json_object_get(obj, "sender_name")) != NULL &&
        read_line(v, "sender_name", n->sender_name, sizeof(n->sender_name), e) < 0)
        return -1;
    if ((v = json_object_get(obj, "sender_email")) != NULL &&
        read_address(v, "sender_email", "the service's MAIL_FROM", n->sender_email,
                     sizeof(n->sender_email), e) < 0)
        return -1;
    /* An address, so it is one line already (mail_address_valid refuses
     * CR, LF and every control character). */
    if ((v = json_object_get(obj, "reply_to")) != NULL &&
        read_address(v, "reply_to", "no Reply-To header", n->reply_to, sizeof(n->reply_to),
                     e) < 0)
        return -1;
    if ((v = json_object_get(obj, "alert_email")) != NULL &&
        read_address(v, "alert_email", "no alerts by email", n->alert_email,
                     sizeof(n->alert_email), e) < 0)
        return -1;
    if ((v = json_object_get(obj, "default_locale")) != NULL) {
        const char *s = json_string_value(v);
        if (s == NULL || !outreach_locale_supported(s))
            return err_set(e, ERR_INVALID, "default_locale",
                           "default_locale must be one of the supported locales (%s)",
                           outreach_locales_joined());
        snprintf(n->default_locale, sizeof(n->default_locale), "%s", s);
    }
    if ((v = json_object_get(obj, "brand_name")) != NULL &&
        read_line(v, "brand_name", n->brand_name, sizeof(n->brand_name), e) < 0)
        return -1;
    if ((v = json_object_get(obj, "logo_url")) != NULL) {
        const char *s = json_string_value(v);
        /* shops_url_valid: http:// or https:// with a host, nothing else
         * (no javascript:, data: or relative URLs in an <img src>). */
        if (s == NULL || strlen(s) >= sizeof(n->logo_url) ||
            (s[0] != '\0' && (!shops_url_valid(s) || !jx_one_line(s) || strpbrk(s, " \"'<>") != NULL)))
            return err_set(e, ERR_INVALID, "logo_url",
                           "logo_url must be an http:// or https:// URL with a host, at most %zu "
                           "bytes, or \"\" for no logo",
                           sizeof(n->logo_url) - 1);
        snprintf(n->logo_url, sizeof(n->logo_url), "%s", s);
    }
    if ((v = json_object_get(obj, "accent_color")) != NULL && read_color(v, n->accent_color, e) < 0)
        return -1;
    return 0;
}

int
outreach_settings_from_json(struct outreach_settings *s, const json_t *obj, struct err *e)
{
    static const char *const keys[] = {"contact_policy", "sender_name",    "sender_email",
                                       "reply_to",       "alert_email",    "default_locale",
                                       "brand_name",     "logo_url",       "accent_color",
                                       NULL};
    struct outreach_settings n = *s; /* copied back only on success */

    if (!json_is_object(obj))
        return err_set(e, ERR_INVALID, NULL, "settings must be a JSON object");
    if (jx_known_keys(obj, keys, "", e) < 0 || settings_merge(&n, obj, e) < 0)
        return -1;
    *s = n;
    return 0;
}

json_t *
outreach_settings_to_json(const struct outreach_settings *s)
{
    char period[32];
    json_t *locales = json_array(), *out;
    size_t n = 0;
    const char *const *all = outreach_locales(&n);

    if (locales == NULL)
        abort();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(locales, json_string(all[i]));
    outreach_duration_format(s->contact_period_s, period);
    out = json_pack("{s:{s:i, s:s}, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}",
                    "contact_policy", "max_messages", s->contact_max, "period", period,
                    "sender_name", s->sender_name, "sender_email", s->sender_email, "reply_to",
                    s->reply_to, "alert_email", s->alert_email, "default_locale",
                    s->default_locale, "brand_name", s->brand_name, "logo_url", s->logo_url,
                    "accent_color", s->accent_color, "locales", locales);
    if (out == NULL)
        abort(); /* out of memory: fatal, as everywhere */
    return out;
}

/* ---- contact policy ----------------------------------------------------- */


/*
 * A send counts while it is in the window (now - period, now]. A send time
 * after `now` (another host's clock running ahead) counts as sent now: it
 * happened, so it must not be ignored.
 */
static bool
in_window(time_t sent, int64_t period_s, time_t now, time_t *at)
{
    *at = sent > now ? now : sent;
    return (__int128)now - *at < period_s;
}

time_t
outreach_contact_next_slot(const time_t *sent, int nsent, int max, int64_t period_s, time_t now)
{
    int recent = 0, left = max;
    time_t t, below = 0;
    bool bounded = false;
    __int128 slot;

    if (max <= 0 || period_s <= 0 || sent == NULL || nsent <= 0)
        return now;
    for (int i = 0; i < nsent; i++)
        if (in_window(sent[i], period_s, now, &t))
            recent++;
    if (recent < max)
        return now;
    /*
     * Full: the next slot opens when the oldest of the last `max` sends
     * leaves the window. Find that send (the max-th most recent, ties
     * counted) by walking down distinct times; no allocation, O(n * max).
     */
    for (;;) {
        time_t top = 0;
        int count = 0;
        for (int i = 0; i < nsent; i++) {
            if (!in_window(sent[i], period_s, now, &t) || (bounded && t >= below))
                continue;
            if (count == 0 || t > top) {
                top = t;
                count = 1;
            } else if (t == top) {
                count++;
            }
        }
        assert(count > 0); /* recent >= max sends are in the window */
        if (count >= left) {
            slot = (__int128)top + period_s;
            break;
        }
        left -= count;
        below = top;
        bounded = true;
    }
    /* time_t is 64-bit on every platform we build for. */
    return slot > INT64_MAX ? (time_t)INT64_MAX : (time_t)slot;
}

