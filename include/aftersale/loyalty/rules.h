/*
 * rules.h - the pure arithmetic of the loyalty programme.
 *
 * Everything that decides a number of points lives here and nowhere else:
 * settings (defaults and validation), earning with rounding and tier
 * multipliers, proportional reversal of refunds, redemption values, tiers
 * and FIFO expiry. No I/O, no allocation beyond what the caller frees,
 * thread-safe. Money comes in as decimal strings (never double) and is
 * handled as integer thousandths of a currency unit ("milli"), which is
 * exact for every WooCommerce amount with up to 3 decimals; inputs with
 * more decimals are rounded half-up to thousandths first.
 */
#ifndef AFTERSALE_LOYALTY_RULES_H
#define AFTERSALE_LOYALTY_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aftersale/core/err.h"

#define LOYALTY_MAX_TIERS 10
#define LOYALTY_MAX_RATES 20

enum loyalty_rounding { LOYALTY_ROUND_DOWN, LOYALTY_ROUND_HALF_UP, LOYALTY_ROUND_UP };
enum loyalty_basis {
    LOYALTY_BASIS_SUBTOTAL, /* items after discounts, no tax, no shipping (default) */
    LOYALTY_BASIS_TOTAL,    /* the order total: tax and shipping included */
};

struct loyalty_tier {
    char name[257];          /* 1-64 characters of UTF-8: up to 256 bytes + NUL */
    int64_t threshold;       /* lifetime points at which the tier starts */
    int64_t multiplier_milli; /* 1000 = x1.0, 1500 = x1.5 */
};

struct loyalty_rate {
    char currency[4];
    int64_t per_unit_milli; /* 1.00 of this currency = per_unit_milli/1000 of the shop's */
};

struct loyalty_settings {
    int64_t points_per_unit_milli; /* points per 1.00 of currency, x1000 (default 1000 = 1 point) */
    enum loyalty_rounding rounding; /* default DOWN */
    enum loyalty_basis basis;       /* default SUBTOTAL */
    char earn_status[32];           /* order status that earns (default "completed") */
    int64_t bonus_signup, bonus_review, bonus_survey, bonus_birthday, bonus_anniversary;
    int64_t bonus_referrer, bonus_referee;
    int64_t redeem_points_per_unit; /* points per 1.00 of discount (default 100) */
    int64_t redeem_min_points;      /* default 100 */
    int64_t redeem_max_discount_milli; /* 0 = no maximum */
    int coupon_validity_days;       /* default 90 */
    int expiry_months;              /* 0 = points never expire (default 0) */
    int ntiers;
    struct loyalty_tier tiers[LOYALTY_MAX_TIERS]; /* sorted by threshold */
    int nrates;
    struct loyalty_rate rates[LOYALTY_MAX_RATES];
};

/* Defaults, as documented in docs/loyalty.md. */
void loyalty_settings_default(struct loyalty_settings *s);

/* Merge a JSON object (PUT body or stored settings) over `s`, validating
 * every field: unknown keys, types and ranges are 422 naming the field
 * ("tiers[1].multiplier"). Tiers must have distinct names and strictly
 * increasing thresholds, the first tier may start above 0. All or nothing:
 * on error `s` is left exactly as it was. */
int loyalty_settings_from_json(struct loyalty_settings *s, const json_t *obj, struct err *e);
/* Returns: new reference, the settings as the API shows them. */
json_t *loyalty_settings_to_json(const struct loyalty_settings *s);

/* Decimal string -> thousandths ("29.35" -> 29350, "-10" -> -10000). -1
 * with ERR_INVALID on anything that is not a plain decimal. */
int loyalty_milli_parse(const char *s, int64_t *out, struct err *e);
/* Thousandths -> decimal string with 2 decimals when exact, else 3 ("29.35", "0.125"). */
void loyalty_milli_format(int64_t milli, char out[32]);

/* Points for an amount of the shop's currency (milli) at a tier multiplier:
 * amount * points_per_unit * multiplier, rounded by the settings' rule.
 * Never negative; 0 for amounts <= 0. Pass 1000 when there is no tier; the
 * multiplier is clamped to 1000..10000 and the amount to 10^18. */
int64_t loyalty_points_for(const struct loyalty_settings *s, int64_t amount_milli,
                           int64_t multiplier_milli);

/* Convert an order amount in `currency` to the shop's currency: true and
 * *out when currency is the shop's or has a configured rate, false when it
 * has neither (the order earns nothing). */
bool loyalty_convert(const struct loyalty_settings *s, const char *shop_currency,
                     const char *currency, int64_t amount_milli, int64_t *out);

/* The tier for lifetime points: index into s->tiers, or -1 when below the
 * first threshold (multiplier 1.0). */
int loyalty_tier_for(const struct loyalty_settings *s, int64_t lifetime);

/* Points to take back for a refund of `refund_milli` out of an order of
 * `order_milli` that earned `earned` points, of which `taken` were already
 * taken back: proportional (rounded half-up), or all that remains when
 * `full`; never more than earned - taken, never negative. */
int64_t loyalty_reversal(int64_t earned, int64_t taken, int64_t refund_milli, int64_t order_milli,
                         bool full);

/* Discount (milli) that `points` buy, and whether the request is allowed:
 * -1 with ERR_INVALID (field "points") below the minimum, above the
 * maximum discount, or not a whole multiple of the smallest unit (points
 * must buy a whole cent: points * 100 divisible by redeem_points_per_unit). */
int loyalty_redeem_value(const struct loyalty_settings *s, int64_t points, int64_t *discount_milli,
                         struct err *e);

/*
 * FIFO expiry. `credits` are the account's positive entries sorted by
 * (expires_at, id) with entries that never expire last; `debited` is the
 * sum of all negative entries (as a positive number). Debits consume
 * credits oldest-expiring first. Fills unspent[i] with what is left of
 * credits[i]. Pure.
 */
void loyalty_fifo_unspent(const int64_t *credits, int n, int64_t debited, int64_t *unspent);

#endif
