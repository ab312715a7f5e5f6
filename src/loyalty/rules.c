/*
 * rules.c - the arithmetic of the loyalty programme: settings, earning,
 * refund reversal, redemption value, tiers and FIFO expiry.
 *
 * Every number of points aftersale writes to the ledger is decided here,
 * so merchants can check any entry by hand against docs/loyalty.md. Money
 * is int64 thousandths of a currency unit ("milli"); rates, multipliers and
 * points-per-unit are thousandths too, so a product of three of them is an
 * exact rational over 10^9 that is rounded exactly once, by the shop's rule.
 * Intermediate products use __int128 and inputs are clamped to documented
 * ranges first, so nothing overflows whatever a caller passes. No double
 * ever touches an amount: JSON reals are accepted only when they hold a
 * whole number, and a decimal such as 1.25 must arrive as a string.
 *
 * Settings are validated all-or-nothing: loyalty_settings_from_json merges
 * into a copy and writes the caller's struct back only when every field
 * passed, so a 422 leaves the stored settings untouched. Every error names
 * its field the way the API spells it ("tiers[1].multiplier").
 *
 * Callers: loyalty handlers (settings, redemption), the store (earning and
 * reversal on order events, expiry), `aftersale loyalty verify`. This file
 * must never do I/O, allocate beyond the JSON it returns, or keep state:
 * it is pure and thread-safe.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/core/money.h"
#include "aftersale/loyalty/rules.h"

/* Ranges, in the units of the struct fields; docs/loyalty.md lists them. */
#define MILLI 1000
#define AMOUNT_MAX_MILLI 1000000000000000000LL /* the most loyalty_milli_parse yields */
#define PPU_MAX_MILLI 1000000LL                /* 1000 points per 1.00 */
#define MULT_MIN_MILLI 1000LL                  /* x1.0 */
#define MULT_MAX_MILLI 10000LL                 /* x10.0 */
#define RATE_MIN_MILLI 1LL                     /* 0.001 */
#define RATE_MAX_MILLI 10000000000LL           /* 10 000 000 */
#define BONUS_MAX 1000000LL
#define REDEEM_PPU_MAX 1000000LL
#define MIN_POINTS_MAX 1000000000LL
#define MAX_DISCOUNT_MAX_MILLI 1000000000000000LL /* 1 000 000 000 000.00 */
#define VALIDITY_MAX 3650
#define EXPIRY_MAX 120
#define THRESHOLD_MAX 1000000000000LL
#define REDEEM_POINTS_MAX 1000000000000000LL
#define TIER_NAME_MAX 64             /* characters */
#define WHOLE_MAX 1000000000000000LL /* |integer| accepted in a decimal field */

static const char *const rounding_names[] = {"down", "half_up", "up"};
static const char *const basis_names[] = {"subtotal", "total"};
static const char *const status_names[] = {"completed", "processing"};

/* ---- decimals ----------------------------------------------------------- */

/*
 * "29.35" -> 29350. The shape is money_decimal_valid's (what WooCommerce
 * sends: optional '-', 1-15 digits, optional '.' and 1-6 decimals), so the
 * result fits in +-10^18. Digits past the third decimal round half away
 * from zero (the 4th digit alone decides); *inexact says whether any of
 * them was not zero.
 */
static bool
decimal_parse(const char *s, int64_t *out, bool *inexact)
{
    int64_t v = 0;
    bool neg = false;
    int dec = 0;

    *inexact = false;
    if (!money_decimal_valid(s))
        return false;
    if (*s == '-') {
        neg = true;
        s++;
    }
    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (*s - '0');
    v *= MILLI;
    if (*s == '.') {
        int64_t scale = 100;
        for (s++; *s != '\0'; s++, dec++) {
            if (dec < 3) {
                v += (*s - '0') * scale;
                scale /= 10;
            } else {
                if (*s != '0')
                    *inexact = true;
                if (dec == 3 && *s >= '5')
                    v++;
            }
        }
    }
    *out = neg ? -v : v;
    return true;
}

int
loyalty_milli_parse(const char *s, int64_t *out, struct err *e)
{
    bool inexact;

    if (!decimal_parse(s, out, &inexact))
        return err_set(e, ERR_INVALID, NULL,
                       "'%.40s' is not a decimal amount (optional '-', 1-15 digits, "
                       "optional '.' and 1-6 decimals)",
                       s ? s : "(null)");
    return 0;
}

void
loyalty_milli_format(int64_t milli, char out[32])
{
    /* Negate in unsigned arithmetic so INT64_MIN formats too. */
    uint64_t m = milli < 0 ? 0 - (uint64_t)milli : (uint64_t)milli;
    const char *sign = milli < 0 ? "-" : "";

    if (m % 10 == 0)
        snprintf(out, 32, "%s%" PRIu64 ".%02" PRIu64, sign, m / 1000, m % 1000 / 10);
    else
        snprintf(out, 32, "%s%" PRIu64 ".%03" PRIu64, sign, m / 1000, m % 1000);
}

/* Thousandths as the shortest exact decimal: "1", "1.25", "0.92", "0.001".
 * Settings show ratios this way; money uses loyalty_milli_format. */
static void
ratio_format(int64_t milli, char out[32])
{
    size_t n;

    snprintf(out, 32, "%s%" PRIu64 ".%03" PRIu64, milli < 0 ? "-" : "",
             (milli < 0 ? 0 - (uint64_t)milli : (uint64_t)milli) / 1000,
             (milli < 0 ? 0 - (uint64_t)milli : (uint64_t)milli) % 1000);
    n = strlen(out);
    while (out[n - 1] == '0')
        out[--n] = '\0';
    if (out[n - 1] == '.')
        out[n - 1] = '\0';
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

/* A JSON number holding a whole number, exactly: integers, and reals such
 * as 100.0 or 1e3 (PHP's json_encode writes floats that way). */
static bool
whole_number(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < -WHOLE_MAX || i > WHOLE_MAX)
            *out = i < 0 ? -WHOLE_MAX - 1 : WHOLE_MAX + 1; /* out of every range */
        else
            *out = (int64_t)i;
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d < -(double)WHOLE_MAX || d > (double)WHOLE_MAX) {
            *out = d < 0 ? -WHOLE_MAX - 1 : WHOLE_MAX + 1;
            return true;
        }
        if ((double)(int64_t)d != d)
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
    int64_t i;

    if (v == NULL || !whole_number(v, &i))
        return err_set(e, ERR_INVALID, field, "%s must be a whole number", field);
    if (i < min || i > max)
        return err_set(e, ERR_INVALID, field, "%s must be between %" PRId64 " and %" PRId64, field,
                       min, max);
    *out = i;
    return 0;
}

/*
 * A decimal field, in thousandths within [min, max]: a string with at most
 * 3 significant decimals ("1.25", "1.2500"), or a JSON number holding a
 * whole number. A JSON real such as 1.1 is refused: it has already been
 * turned into the nearest double, and the exact value the sender meant is
 * gone.
 */
static int
read_decimal(const json_t *v, const char *field, int64_t min, int64_t max, int64_t *out,
             struct err *e)
{
    int64_t m;
    char lo[32], hi[32];

    if (json_is_string(v)) {
        bool inexact;
        if (!decimal_parse(json_string_value(v), &m, &inexact))
            return err_set(e, ERR_INVALID, field, "%s must be a decimal such as \"1.25\"", field);
        if (inexact)
            return err_set(e, ERR_INVALID, field, "%s allows at most 3 decimals", field);
    } else if (json_is_number(v)) {
        int64_t i;
        if (!whole_number(v, &i))
            return err_set(e, ERR_INVALID, field,
                           "%s: send decimals as a string (\"1.25\"); a JSON number with a "
                           "fraction is not exact",
                           field);
        m = i * MILLI;
    } else {
        return err_set(e, ERR_INVALID, field, "%s must be a decimal string such as \"1.25\"",
                       field);
    }
    if (m < min || m > max) {
        ratio_format(min, lo);
        ratio_format(max, hi);
        return err_set(e, ERR_INVALID, field, "%s must be between %s and %s", field, lo, hi);
    }
    *out = m;
    return 0;
}

/* ---- settings ----------------------------------------------------------- */

void
loyalty_settings_default(struct loyalty_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->points_per_unit_milli = 1000;
    s->rounding = LOYALTY_ROUND_DOWN;
    s->basis = LOYALTY_BASIS_SUBTOTAL;
    snprintf(s->earn_status, sizeof(s->earn_status), "%s", "completed");
    /* Bonuses default to 0: points are a liability, the merchant opts in. */
    s->redeem_points_per_unit = 100;
    s->redeem_min_points = 100;
    s->redeem_max_discount_milli = 0;
    s->coupon_validity_days = 90;
    s->expiry_months = 0;
}

static int64_t
gcd(int64_t a, int64_t b)
{
    while (b != 0) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Points that buy the smallest whole-cent discount: every redemption is a
 * multiple of this (rate 100 -> 1, rate 1000 -> 10, rate 3 -> 3). */
static int64_t
redeem_step(int64_t rate)
{
    return rate / gcd(rate, 100);
}

static struct {
    const char *name;
    size_t offset;
} const bonus_fields[] = {
    {"signup", offsetof(struct loyalty_settings, bonus_signup)},
    {"review", offsetof(struct loyalty_settings, bonus_review)},
    {"survey", offsetof(struct loyalty_settings, bonus_survey)},
    {"birthday", offsetof(struct loyalty_settings, bonus_birthday)},
    {"anniversary", offsetof(struct loyalty_settings, bonus_anniversary)},
    {"referrer", offsetof(struct loyalty_settings, bonus_referrer)},
    {"referee", offsetof(struct loyalty_settings, bonus_referee)},
};
#define NBONUS (sizeof(bonus_fields) / sizeof(bonus_fields[0]))

static int64_t *
bonus_ptr(struct loyalty_settings *s, size_t i)
{
    return (int64_t *)(void *)((char *)s + bonus_fields[i].offset);
}

static int
bonuses_from_json(struct loyalty_settings *s, const json_t *obj, struct err *e)
{
    struct jx_field fields[NBONUS];
    char field[64];

    if (!json_is_object(obj))
        return err_set(e, ERR_INVALID, "bonuses", "bonuses must be an object");
    for (size_t i = 0; i < NBONUS; i++)
        fields[i] = (struct jx_field){bonus_fields[i].name, JX_NUMBER, false, 0, 0};
    if (jx_check(obj, fields, NBONUS, "bonuses.", e) < 0)
        return -1;
    for (size_t i = 0; i < NBONUS; i++) {
        const json_t *v = json_object_get(obj, bonus_fields[i].name);
        if (v == NULL)
            continue;
        snprintf(field, sizeof(field), "bonuses.%s", bonus_fields[i].name);
        if (read_int(v, field, 0, BONUS_MAX, bonus_ptr(s, i), e) < 0)
            return -1;
    }
    return 0;
}

static int
redemption_from_json(struct loyalty_settings *s, const json_t *obj, struct err *e)
{
    static const char *const keys[] = {"points_per_unit", "min_points", "max_discount",
                                       "coupon_validity_days", NULL};
    const json_t *v;
    int64_t i;

    if (!json_is_object(obj))
        return err_set(e, ERR_INVALID, "redemption", "redemption must be an object");
    if (jx_known_keys(obj, keys, "redemption.", e) < 0)
        return -1;
    if ((v = json_object_get(obj, "points_per_unit")) != NULL &&
        read_int(v, "redemption.points_per_unit", 1, REDEEM_PPU_MAX, &s->redeem_points_per_unit,
                 e) < 0)
        return -1;
    if ((v = json_object_get(obj, "min_points")) != NULL &&
        read_int(v, "redemption.min_points", 1, MIN_POINTS_MAX, &s->redeem_min_points, e) < 0)
        return -1;
    if ((v = json_object_get(obj, "max_discount")) != NULL) {
        /* null means no maximum; 0 is refused rather than read as "none". */
        if (json_is_null(v))
            s->redeem_max_discount_milli = 0;
        else if (read_decimal(v, "redemption.max_discount", 10, MAX_DISCOUNT_MAX_MILLI,
                              &s->redeem_max_discount_milli, e) < 0)
            return -1;
    }
    if ((v = json_object_get(obj, "coupon_validity_days")) != NULL) {
        if (read_int(v, "redemption.coupon_validity_days", 1, VALIDITY_MAX, &i, e) < 0)
            return -1;
        s->coupon_validity_days = (int)i;
    }
    return 0;
}

/* Names compare without regard to ASCII case: "Gold" and "gold" would read
 * as one tier to a customer. */
static bool
same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
        char cb = (*b >= 'A' && *b <= 'Z') ? (char)(*b + 32) : *b;
        if (ca != cb)
            return false;
    }
    return *a == *b;
}

static int
tier_from_json(struct loyalty_tier *t, const json_t *obj, int idx, struct err *e)
{
    static const char *const keys[] = {"name", "threshold", "multiplier", NULL};
    char prefix[32], field[64];
    const json_t *v;
    const char *name;
    size_t len;

    snprintf(prefix, sizeof(prefix), "tiers[%d].", idx);
    if (!json_is_object(obj)) {
        snprintf(field, sizeof(field), "tiers[%d]", idx);
        return err_set(e, ERR_INVALID, field, "%s must be an object", field);
    }
    if (jx_known_keys(obj, keys, prefix, e) < 0)
        return -1;

    snprintf(field, sizeof(field), "%sname", prefix);
    name = jx_str(obj, "name");
    if (name == NULL)
        return err_set(e, ERR_INVALID, field, "%s is required and must be a string", field);
    len = jx_utf8_len(name);
    if (len < 1 || len > TIER_NAME_MAX)
        return err_set(e, ERR_INVALID, field, "%s must be 1-%d characters", field, TIER_NAME_MAX);
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return err_set(e, ERR_INVALID, field, "%s must not contain control characters", field);
    /* 64 code points of UTF-8 are at most 256 bytes: always fits. */
    snprintf(t->name, sizeof(t->name), "%s", name);

    snprintf(field, sizeof(field), "%sthreshold", prefix);
    if ((v = json_object_get(obj, "threshold")) == NULL)
        return err_set(e, ERR_INVALID, field, "%s is required", field);
    if (read_int(v, field, 0, THRESHOLD_MAX, &t->threshold, e) < 0)
        return -1;

    snprintf(field, sizeof(field), "%smultiplier", prefix);
    t->multiplier_milli = MULT_MIN_MILLI; /* a tier may be a badge without a bonus */
    if ((v = json_object_get(obj, "multiplier")) != NULL &&
        read_decimal(v, field, MULT_MIN_MILLI, MULT_MAX_MILLI, &t->multiplier_milli, e) < 0)
        return -1;
    return 0;
}

/* A given "tiers" array replaces every tier. */
static int
tiers_from_json(struct loyalty_settings *s, const json_t *arr, struct err *e)
{
    char field[64];
    size_t n;

    if (!json_is_array(arr))
        return err_set(e, ERR_INVALID, "tiers", "tiers must be an array ([] removes all tiers)");
    n = json_array_size(arr);
    if (n > LOYALTY_MAX_TIERS)
        return err_set(e, ERR_INVALID, "tiers", "at most %d tiers", LOYALTY_MAX_TIERS);
    for (size_t i = 0; i < n; i++) {
        struct loyalty_tier *t = &s->tiers[i];
        if (tier_from_json(t, json_array_get(arr, i), (int)i, e) < 0)
            return -1;
        if (i > 0 && t->threshold <= s->tiers[i - 1].threshold) {
            snprintf(field, sizeof(field), "tiers[%zu].threshold", i);
            return err_set(e, ERR_INVALID, field,
                           "%s must be greater than tiers[%zu].threshold (%" PRId64
                           "): list tiers in increasing order",
                           field, i - 1, s->tiers[i - 1].threshold);
        }
        for (size_t j = 0; j < i; j++) {
            if (same_name(t->name, s->tiers[j].name)) {
                snprintf(field, sizeof(field), "tiers[%zu].name", i);
                return err_set(e, ERR_INVALID, field, "%s repeats the name of tiers[%zu]", field,
                               j);
            }
        }
    }
    s->ntiers = (int)n;
    return 0;
}

static int
rate_cmp(const void *a, const void *b)
{
    return strcmp(((const struct loyalty_rate *)a)->currency,
                  ((const struct loyalty_rate *)b)->currency);
}

/* A given "currency_rates" object replaces every rate ({} removes them). */
static int
rates_from_json(struct loyalty_settings *s, const json_t *obj, struct err *e)
{
    const char *code;
    json_t *v;
    char field[64];
    int n = 0;

    if (!json_is_object(obj))
        return err_set(e, ERR_INVALID, "currency_rates",
                       "currency_rates must be an object such as {\"USD\": \"0.92\"}");
    if (json_object_size(obj) > LOYALTY_MAX_RATES)
        return err_set(e, ERR_INVALID, "currency_rates", "at most %d currency rates",
                       LOYALTY_MAX_RATES);
    json_object_foreach((json_t *)(uintptr_t)obj, code, v)
    {
        struct loyalty_rate *r = &s->rates[n];
        snprintf(field, sizeof(field), "currency_rates.%.40s", code);
        if (!money_currency_valid(code))
            return err_set(e, ERR_INVALID, field,
                           "%s: not an ISO 4217 currency code (3 upper-case letters)", field);
        if (read_decimal(v, field, RATE_MIN_MILLI, RATE_MAX_MILLI, &r->per_unit_milli, e) < 0)
            return -1;
        snprintf(r->currency, sizeof(r->currency), "%s", code);
        n++;
    }
    /* Sorted, so the stored and shown settings do not depend on key order. */
    qsort(s->rates, (size_t)n, sizeof(s->rates[0]), rate_cmp);
    s->nrates = n;
    return 0;
}

/* Settings that validate field by field but can never be used together. */
static int
settings_coherent(const struct loyalty_settings *s, struct err *e)
{
    int64_t step, first;
    char max[32], val[32];

    if (s->redeem_max_discount_milli == 0)
        return 0;
    /* The smallest redemption allowed: min_points rounded up to a whole-cent multiple. */
    step = redeem_step(s->redeem_points_per_unit);
    first = (s->redeem_min_points + step - 1) / step * step;
    if ((__int128)first * MILLI >
        (__int128)s->redeem_max_discount_milli * s->redeem_points_per_unit) {
        loyalty_milli_format(s->redeem_max_discount_milli, max);
        loyalty_milli_format(first * MILLI / s->redeem_points_per_unit, val);
        return err_set(e, ERR_INVALID, "redemption.max_discount",
                       "redemption.max_discount (%s) is below the smallest redemption "
                       "(%" PRId64 " points = %s): no redemption would be possible",
                       max, first, val);
    }
    return 0;
}

int
loyalty_settings_from_json(struct loyalty_settings *s, const json_t *obj, struct err *e)
{
    static const char *const keys[] = {
        "points_per_unit", "rounding",      "earn_basis", "earn_status",    "bonuses",
        "redemption",      "expiry_months", "tiers",      "currency_rates", NULL};
    struct loyalty_settings n = *s; /* merged here; copied back only on success */
    const json_t *v;
    int choice;
    int64_t i;

    if (!json_is_object(obj))
        return err_set(e, ERR_INVALID, NULL, "settings must be a JSON object");
    if (jx_known_keys(obj, keys, "", e) < 0)
        return -1;
    if ((v = json_object_get(obj, "points_per_unit")) != NULL &&
        read_decimal(v, "points_per_unit", 0, PPU_MAX_MILLI, &n.points_per_unit_milli, e) < 0)
        return -1;
    if ((v = json_object_get(obj, "rounding")) != NULL) {
        if (jx_choice(v, "rounding", rounding_names, 3, &choice, e) < 0)
            return -1;
        n.rounding = (enum loyalty_rounding)choice;
    }
    if ((v = json_object_get(obj, "earn_basis")) != NULL) {
        if (jx_choice(v, "earn_basis", basis_names, 2, &choice, e) < 0)
            return -1;
        n.basis = (enum loyalty_basis)choice;
    }
    if ((v = json_object_get(obj, "earn_status")) != NULL) {
        if (jx_choice(v, "earn_status", status_names, 2, &choice, e) < 0)
            return -1;
        snprintf(n.earn_status, sizeof(n.earn_status), "%s", status_names[choice]);
    }
    if ((v = json_object_get(obj, "bonuses")) != NULL && bonuses_from_json(&n, v, e) < 0)
        return -1;
    if ((v = json_object_get(obj, "redemption")) != NULL && redemption_from_json(&n, v, e) < 0)
        return -1;
    if ((v = json_object_get(obj, "expiry_months")) != NULL) {
        if (read_int(v, "expiry_months", 0, EXPIRY_MAX, &i, e) < 0)
            return -1;
        n.expiry_months = (int)i;
    }
    if ((v = json_object_get(obj, "tiers")) != NULL && tiers_from_json(&n, v, e) < 0)
        return -1;
    if ((v = json_object_get(obj, "currency_rates")) != NULL && rates_from_json(&n, v, e) < 0)
        return -1;
    if (settings_coherent(&n, e) < 0)
        return -1;
    *s = n;
    return 0;
}

json_t *
loyalty_settings_to_json(const struct loyalty_settings *s)
{
    json_t *tiers = must(json_array()), *rates = must(json_object()), *max;
    char buf[32];
    unsigned r = (unsigned)s->rounding, b = (unsigned)s->basis;

    for (int i = 0; i < s->ntiers && i < LOYALTY_MAX_TIERS; i++) {
        const struct loyalty_tier *t = &s->tiers[i];
        ratio_format(t->multiplier_milli, buf);
        json_array_append_new(tiers, must(json_pack("{s:s, s:I, s:s}", "name", t->name, "threshold",
                                                    (json_int_t)t->threshold, "multiplier", buf)));
    }
    for (int i = 0; i < s->nrates && i < LOYALTY_MAX_RATES; i++) {
        ratio_format(s->rates[i].per_unit_milli, buf);
        json_object_set_new(rates, s->rates[i].currency, must(json_string(buf)));
    }
    if (s->redeem_max_discount_milli > 0) {
        loyalty_milli_format(s->redeem_max_discount_milli, buf);
        max = must(json_string(buf));
    } else {
        max = json_null();
    }
    ratio_format(s->points_per_unit_milli, buf);
    return must(json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I},"
        " s:{s:I, s:I, s:o, s:i}, s:i, s:o, s:o}",
        "points_per_unit", buf, "rounding", rounding_names[r < 3 ? r : 0], "earn_basis",
        basis_names[b < 2 ? b : 0], "earn_status", s->earn_status, "bonuses", "signup",
        (json_int_t)s->bonus_signup, "review", (json_int_t)s->bonus_review, "survey",
        (json_int_t)s->bonus_survey, "birthday", (json_int_t)s->bonus_birthday, "anniversary",
        (json_int_t)s->bonus_anniversary, "referrer", (json_int_t)s->bonus_referrer, "referee",
        (json_int_t)s->bonus_referee, "redemption", "points_per_unit",
        (json_int_t)s->redeem_points_per_unit, "min_points", (json_int_t)s->redeem_min_points,
        "max_discount", max, "coupon_validity_days", s->coupon_validity_days, "expiry_months",
        s->expiry_months, "tiers", tiers, "currency_rates", rates));
}

/* ---- earning ------------------------------------------------------------ */

static int64_t
clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int64_t
loyalty_points_for(const struct loyalty_settings *s, int64_t amount_milli, int64_t multiplier_milli)
{
    int64_t ppu = clamp(s->points_per_unit_milli, 0, PPU_MAX_MILLI);
    int64_t mult = clamp(multiplier_milli, MULT_MIN_MILLI, MULT_MAX_MILLI);
    const __int128 d = (__int128)1000000000; /* three factors of thousandths */
    __int128 n, q, r;

    if (amount_milli <= 0 || ppu == 0)
        return 0;
    /* At most 10^18 * 10^6 * 10^4 = 10^28: well inside 2^127. */
    n = (__int128)clamp(amount_milli, 0, AMOUNT_MAX_MILLI) * ppu * mult;
    q = n / d;
    r = n % d;
    switch (s->rounding) {
    case LOYALTY_ROUND_HALF_UP:
        if (2 * r >= d)
            q++;
        break;
    case LOYALTY_ROUND_UP:
        if (r > 0)
            q++;
        break;
    case LOYALTY_ROUND_DOWN:
    default:
        break;
    }
    return q > INT64_MAX ? INT64_MAX : (int64_t)q;
}

bool
loyalty_convert(const struct loyalty_settings *s, const char *shop_currency, const char *currency,
                int64_t amount_milli, int64_t *out)
{
    *out = 0;
    if (currency == NULL || currency[0] == '\0')
        return false;
    if (shop_currency != NULL && strcmp(currency, shop_currency) == 0) {
        *out = amount_milli;
        return true;
    }
    for (int i = 0; i < s->nrates && i < LOYALTY_MAX_RATES; i++) {
        const struct loyalty_rate *rt = &s->rates[i];
        __int128 n, q, r;
        if (strcmp(rt->currency, currency) != 0)
            continue;
        if (rt->per_unit_milli <= 0)
            return false;
        /* amount * rate / 1000, half away from zero, back to thousandths. */
        n = (__int128)amount_milli * rt->per_unit_milli;
        q = n / MILLI;
        r = n % MILLI;
        if (2 * r >= MILLI)
            q++;
        else if (2 * r <= -MILLI)
            q--;
        if (q > INT64_MAX || q < INT64_MIN)
            return false;
        *out = (int64_t)q;
        return true;
    }
    return false;
}

int
loyalty_tier_for(const struct loyalty_settings *s, int64_t lifetime)
{
    int tier = -1;

    /* Tiers are sorted by threshold: the last one reached wins. */
    for (int i = 0; i < s->ntiers && i < LOYALTY_MAX_TIERS; i++)
        if (lifetime >= s->tiers[i].threshold)
            tier = i;
    return tier;
}

/* ---- reversal ----------------------------------------------------------- */

int64_t
loyalty_reversal(int64_t earned, int64_t taken, int64_t refund_milli, int64_t order_milli,
                 bool full)
{
    int64_t left;
    __int128 n, q, r;

    if (earned <= 0)
        return 0;
    if (taken < 0)
        taken = 0;
    if (taken >= earned)
        return 0;
    left = earned - taken;
    if (full)
        return left;
    if (refund_milli <= 0)
        return 0;
    /* Nothing to be proportional to, or the whole order back: all that remains. */
    if (order_milli <= 0 || refund_milli >= order_milli)
        return left;
    /* earned * refund / order, half-up; the product is below 2^126. */
    n = (__int128)earned * refund_milli;
    q = n / order_milli;
    r = n % order_milli;
    if (2 * r >= order_milli)
        q++;
    return q > left ? left : (int64_t)q;
}

/* ---- redemption --------------------------------------------------------- */

int
loyalty_redeem_value(const struct loyalty_settings *s, int64_t points, int64_t *discount_milli,
                     struct err *e)
{
    int64_t rate = s->redeem_points_per_unit, step, discount;
    char a[32], b[32];

    *discount_milli = 0;
    if (rate <= 0)
        return err_set(e, ERR_INTERNAL, NULL, "redemption.points_per_unit is %" PRId64, rate);
    if (points <= 0)
        return err_set(e, ERR_INVALID, "points", "points must be a positive whole number");
    if (points < s->redeem_min_points)
        return err_set(e, ERR_INVALID, "points", "at least %" PRId64 " points per redemption",
                       s->redeem_min_points);
    if (points > REDEEM_POINTS_MAX)
        return err_set(e, ERR_INVALID, "points", "at most %lld points per redemption",
                       REDEEM_POINTS_MAX);
    /* Coupons are whole cents: points * 100 must divide by the rate. */
    step = redeem_step(rate);
    if (points % step != 0) {
        int64_t lo = points / step * step, hi = lo + step;
        loyalty_milli_format(step * MILLI / rate, a);
        if (lo >= s->redeem_min_points)
            return err_set(e, ERR_INVALID, "points",
                           "points must be a multiple of %" PRId64 " (%" PRId64
                           " points buy %s; discounts are whole cents): %" PRId64 " or %" PRId64
                           " would do",
                           step, step, a, lo, hi);
        return err_set(e, ERR_INVALID, "points",
                       "points must be a multiple of %" PRId64 " (%" PRId64
                       " points buy %s; discounts are whole cents): %" PRId64 " would do",
                       step, step, a, hi);
    }
    discount = points * MILLI / rate; /* exact: points * 1000 divides by rate */
    if (s->redeem_max_discount_milli > 0 && discount > s->redeem_max_discount_milli) {
        int64_t most =
            (int64_t)((__int128)s->redeem_max_discount_milli * rate / MILLI) / step * step;
        loyalty_milli_format(s->redeem_max_discount_milli, a);
        loyalty_milli_format(discount, b);
        return err_set(e, ERR_INVALID, "points",
                       "%s is above the maximum discount per redemption (%s): at most %" PRId64
                       " points",
                       b, a, most);
    }
    *discount_milli = discount;
    return 0;
}

/* ---- expiry ------------------------------------------------------------- */

void
loyalty_fifo_unspent(const int64_t *credits, int n, int64_t debited, int64_t *unspent)
{
    int64_t left = debited > 0 ? debited : 0;

    /* Debits eat the credits that expire first; whatever was earned first
     * among equals (the caller's id order) goes first. */
    for (int i = 0; i < n; i++) {
        int64_t c = credits[i] > 0 ? credits[i] : 0;
        int64_t used = c < left ? c : left;
        unspent[i] = c - used;
        left -= used;
    }
}
