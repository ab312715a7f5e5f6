/*
 * rules.c - the pure rules of returns: the policy document (defaults,
 * merge, validation), the state machine table and the refund computation.
 *
 * The policy is kept as the JSON document the API shows (jsonb in
 * return_settings): every field is checked here once, when it is written,
 * so readers (handlers, jobs) can take values from it without checks.
 *
 * The refund computation takes WooCommerce's order and its refunds as the
 * shop answers them, right before the refund is made, so refunds made by
 * hand in wp-admin count. Amounts are integer micro-units; a proportional
 * part is rounded half up to cents, and the last units of a line take the
 * remainder (what is left of the line), so the parts of a line always add
 * up to what was paid for it (docs/returns.md, "Refund figures").
 *
 * Nothing here touches the network or the database.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/returns/rules.h"

#define MICRO 1000000LL
#define CENT 10000LL

/* ---- money ------------------------------------------------------------- */

int
returns_money_parse(const char *s, int64_t *micros)
{
    int64_t whole = 0, frac = 0;
    int nwhole = 0, nfrac = 0;
    bool neg = false;

    if (s == NULL || *s == '\0')
        return -1;
    if (*s == '-') {
        neg = true;
        s++;
    }
    for (; isdigit((unsigned char)*s); s++, nwhole++) {
        if (nwhole >= 12)
            return -1;
        whole = whole * 10 + (*s - '0');
    }
    if (*s == '.') {
        s++;
        for (; isdigit((unsigned char)*s); s++, nfrac++) {
            if (nfrac >= 6)
                return -1;
            frac = frac * 10 + (*s - '0');
        }
        if (nfrac == 0)
            return -1;
    }
    if (*s != '\0' || nwhole == 0)
        return -1;
    for (int i = nfrac; i < 6; i++)
        frac *= 10;
    *micros = (whole * MICRO + frac) * (neg ? -1 : 1);
    return 0;
}

int64_t
returns_money_round(int64_t micros)
{
    if (micros < 0)
        return -returns_money_round(-micros);
    return (micros + CENT / 2) / CENT * CENT;
}

void
returns_money_format(int64_t micros, char out[32])
{
    int64_t c = returns_money_round(micros) / CENT;
    bool neg = c < 0;

    if (neg)
        c = -c;
    snprintf(out, 32, "%s%lld.%02lld", neg ? "-" : "", (long long)(c / 100), (long long)(c % 100));
}

int
returns_percent_parse(const char *s, int64_t *bp)
{
    int64_t m;

    if (returns_money_parse(s, &m) < 0 || m < 0 || m > 100 * MICRO || m % CENT != 0)
        return -1;
    *bp = m / CENT;
    return 0;
}

/* A money value that WooCommerce may send as a string or a number. */
static int64_t
money_of(const json_t *v)
{
    int64_t m = 0;
    char buf[40];

    if (json_is_string(v)) {
        if (returns_money_parse(json_string_value(v), &m) < 0)
            m = 0;
    } else if (json_is_integer(v)) {
        m = (int64_t)json_integer_value(v) * MICRO;
    } else if (json_is_real(v)) {
        snprintf(buf, sizeof(buf), "%.6f", json_real_value(v));
        if (returns_money_parse(buf, &m) < 0)
            m = 0;
    }
    return m;
}

static int64_t
abs64(int64_t v)
{
    return v < 0 ? -v : v;
}

/* a * b / c, rounded half up to cents, without overflow. */
static int64_t
part_of(int64_t a, int64_t b, int64_t c)
{
    __int128 p = (__int128)a * b;
    __int128 q = p / c, r = p % c;

    if (r * 2 >= c)
        q++;
    return returns_money_round((int64_t)q);
}

/* ---- policy ------------------------------------------------------------ */

const char *const returns_settings_read_only[] = {"updated_at", NULL};

static const char *const top_keys[] = {"window_days",
                                       "window_start",
                                       "eligible_statuses",
                                       "excluded_products",
                                       "excluded_categories",
                                       "reasons",
                                       "resolutions",
                                       "restocking_fee_percent",
                                       "auto_approve",
                                       "refund_method",
                                       "instructions",
                                       "return_address",
                                       "channel",
                                       NULL};

json_t *
returns_settings_default(void)
{
    json_t *d = json_pack(
        "{s:i, s:s, s:[s], s:[], s:[], s:[{s:s, s:{s:s}, s:b, s:b, s:b},"
        " {s:s, s:{s:s}, s:b, s:b, s:b}, {s:s, s:{s:s}, s:b, s:b, s:b}],"
        " s:{s:b, s:b, s:s, s:b, s:s}, s:s, s:{s:b, s:n, s:[]}, s:s, s:s, s:s, s:s}",
        "window_days", 30, "window_start", "completed", "eligible_statuses", "completed",
        "excluded_products", "excluded_categories", "reasons", "code", "damaged", "labels", "en",
        "Arrived damaged", "note_required", 0, "photo_required", 1, "customer_pays_shipping", 0,
        "code", "wrong_item", "labels", "en", "Wrong item sent", "note_required", 0,
        "photo_required", 0, "customer_pays_shipping", 0, "code", "changed_mind", "labels", "en",
        "No longer needed", "note_required", 0, "photo_required", 0, "customer_pays_shipping", 1,
        "resolutions", "refund", 1, "store_credit", 1, "store_credit_bonus_percent", "0",
        "exchange", 1, "exchange_price_difference", "refuse", "restocking_fee_percent", "0",
        "auto_approve", "enabled", 0, "max_order_total", "reasons", "refund_method", "api_refund",
        "instructions", "", "return_address", "", "channel", "email");
    if (d == NULL)
        abort();
    return d;
}

static int
want_bool(const json_t *obj, const char *key, const char *field, struct err *e)
{
    if (!json_is_boolean(json_object_get(obj, key)))
        return err_set(e, ERR_INVALID, field, "%s must be true or false", field);
    return 0;
}

static int
want_text(const json_t *obj, const char *key, const char *field, size_t min, size_t max,
          struct err *e)
{
    const char *s = json_string_value(json_object_get(obj, key));
    size_t n = s ? jx_utf8_len(s) : 0;

    if (s == NULL || n < min || n > max)
        return err_set(e, ERR_INVALID, field, "%s must be a string of %zu to %zu characters", field,
                       min, max);
    return 0;
}

static int
want_choice(const json_t *obj, const char *key, const char *const *names, size_t n, struct err *e)
{
    int i;
    return jx_choice(json_object_get(obj, key), key, names, n, &i, e);
}

static int
want_ids(const json_t *v, const char *field, struct err *e)
{
    size_t i;
    json_t *x;

    if (!json_is_array(v) || json_array_size(v) > 500)
        return err_set(e, ERR_INVALID, field, "%s must be an array of at most 500 ids", field);
    json_array_foreach(v, i, x)
    {
        if (!json_is_integer(x) || json_integer_value(x) <= 0)
            return err_set(e, ERR_INVALID, field, "%s[%zu] must be a positive integer", field, i);
    }
    return 0;
}

static bool
code_ok(const char *s)
{
    size_t n = 0;

    for (; s && *s; s++, n++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
            return false;
    return n >= 1 && n <= 40;
}

static int
check_reasons(const json_t *v, struct err *e)
{
    static const char *const keys[] = {
        "code", "labels", "note_required", "photo_required", "customer_pays_shipping", NULL};
    size_t i, j;
    json_t *r;
    char f[64];

    if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > 30)
        return err_set(e, ERR_INVALID, "reasons", "reasons must be an array of 1 to 30 reasons");
    json_array_foreach(v, i, r)
    {
        const char *key;
        json_t *label;

        snprintf(f, sizeof(f), "reasons[%zu]", i);
        if (!json_is_object(r))
            return err_set(e, ERR_INVALID, f, "%s must be an object", f);
        snprintf(f, sizeof(f), "reasons[%zu].", i);
        if (jx_known_keys(r, keys, f, e) < 0)
            return -1;
        snprintf(f, sizeof(f), "reasons[%zu].code", i);
        if (!code_ok(jx_str(r, "code")))
            return err_set(e, ERR_INVALID, f, "%s must be 1 to 40 of a-z, 0-9 and _", f);
        for (j = 0; j < i; j++)
            if (strcmp(jx_str(json_array_get(v, j), "code"), jx_str(r, "code")) == 0)
                return err_set(e, ERR_INVALID, f, "%s \"%s\" is used twice", f, jx_str(r, "code"));
        snprintf(f, sizeof(f), "reasons[%zu].labels", i);
        if (!json_is_object(json_object_get(r, "labels")) ||
            json_object_size(json_object_get(r, "labels")) < 1)
            return err_set(e, ERR_INVALID, f, "%s must be an object of locale: label", f);
        json_object_foreach(json_object_get(r, "labels"), key, label)
        {
            size_t n = json_is_string(label) ? jx_utf8_len(json_string_value(label)) : 0;
            snprintf(f, sizeof(f), "reasons[%zu].labels.%.20s", i, key);
            if (strlen(key) < 2 || strlen(key) > 15 || n < 1 || n > 200)
                return err_set(e, ERR_INVALID, f,
                               "%s must be a label of 1 to 200 characters under a locale", f);
        }
        for (const char *const *b = keys + 2; *b; b++) {
            snprintf(f, sizeof(f), "reasons[%zu].%s", i, *b);
            if (want_bool(r, *b, f, e) < 0)
                return -1;
        }
    }
    return 0;
}

static int
check_percent(const json_t *obj, const char *key, const char *field, struct err *e)
{
    int64_t bp;

    if (returns_percent_parse(jx_str(obj, key), &bp) < 0)
        return err_set(e, ERR_INVALID, field,
                       "%s must be a decimal string from \"0\" to \"100\" (2 decimals at most)",
                       field);
    return 0;
}

static int
check_resolutions(const json_t *v, struct err *e)
{
    static const char *const keys[] = {"refund",
                                       "store_credit",
                                       "store_credit_bonus_percent",
                                       "exchange",
                                       "exchange_price_difference",
                                       NULL};
    static const char *const diff[] = {"refuse", "refund_difference"};
    int i;

    if (!json_is_object(v))
        return err_set(e, ERR_INVALID, "resolutions", "resolutions must be an object");
    if (jx_known_keys(v, keys, "resolutions.", e) < 0 ||
        want_bool(v, "refund", "resolutions.refund", e) < 0 ||
        want_bool(v, "store_credit", "resolutions.store_credit", e) < 0 ||
        want_bool(v, "exchange", "resolutions.exchange", e) < 0 ||
        check_percent(v, "store_credit_bonus_percent", "resolutions.store_credit_bonus_percent",
                      e) < 0)
        return -1;
    if (jx_choice(json_object_get(v, "exchange_price_difference"),
                  "resolutions.exchange_price_difference", diff, 2, &i, e) < 0)
        return -1;
    if (!json_is_true(json_object_get(v, "refund")) &&
        !json_is_true(json_object_get(v, "store_credit")) &&
        !json_is_true(json_object_get(v, "exchange")))
        return err_set(e, ERR_INVALID, "resolutions", "at least one resolution must be offered");
    return 0;
}

static int
check_auto_approve(const json_t *v, const json_t *reasons, struct err *e)
{
    static const char *const keys[] = {"enabled", "max_order_total", "reasons", NULL};
    const json_t *max, *codes, *c;
    int64_t m;
    size_t i;

    if (!json_is_object(v))
        return err_set(e, ERR_INVALID, "auto_approve", "auto_approve must be an object");
    if (jx_known_keys(v, keys, "auto_approve.", e) < 0 ||
        want_bool(v, "enabled", "auto_approve.enabled", e) < 0)
        return -1;
    max = json_object_get(v, "max_order_total");
    if (!json_is_null(max) &&
        (!json_is_string(max) || returns_money_parse(json_string_value(max), &m) < 0 || m < 0))
        return err_set(e, ERR_INVALID, "auto_approve.max_order_total",
                       "auto_approve.max_order_total must be a decimal string or null");
    codes = json_object_get(v, "reasons");
    if (!json_is_array(codes))
        return err_set(e, ERR_INVALID, "auto_approve.reasons",
                       "auto_approve.reasons must be an array of reason codes");
    json_array_foreach(codes, i, c)
    {
        bool found = false;
        size_t j;
        json_t *r;
        json_array_foreach(reasons, j, r)
        {
            if (json_is_string(c) && strcmp(jx_str(r, "code"), json_string_value(c)) == 0)
                found = true;
        }
        if (!found)
            return err_set(e, ERR_INVALID, "auto_approve.reasons",
                           "auto_approve.reasons[%zu] is not the code of one of the reasons", i);
    }
    return 0;
}

static int
check_statuses(const json_t *v, struct err *e)
{
    size_t i;
    json_t *s;

    if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > 20)
        return err_set(e, ERR_INVALID, "eligible_statuses",
                       "eligible_statuses must be an array of 1 to 20 order statuses");
    json_array_foreach(v, i, s)
    {
        const char *t = json_string_value(s);
        if (t == NULL || strlen(t) < 1 || strlen(t) > 40)
            return err_set(e, ERR_INVALID, "eligible_statuses",
                           "eligible_statuses[%zu] must be an order status", i);
    }
    return 0;
}

static int
validate(const json_t *d, struct err *e)
{
    static const char *const starts[] = {"completed", "delivered"};
    static const char *const methods[] = {"api_refund", "manual"};
    static const char *const channels[] = {"email", "order_note"};
    json_t *w = json_object_get(d, "window_days");

    if (!json_is_integer(w) || json_integer_value(w) < 0 || json_integer_value(w) > 3650)
        return err_set(e, ERR_INVALID, "window_days", "window_days must be an integer, 0 to 3650");
    if (want_choice(d, "window_start", starts, 2, e) < 0 ||
        check_statuses(json_object_get(d, "eligible_statuses"), e) < 0 ||
        want_ids(json_object_get(d, "excluded_products"), "excluded_products", e) < 0 ||
        want_ids(json_object_get(d, "excluded_categories"), "excluded_categories", e) < 0 ||
        check_reasons(json_object_get(d, "reasons"), e) < 0 ||
        check_resolutions(json_object_get(d, "resolutions"), e) < 0 ||
        check_percent(d, "restocking_fee_percent", "restocking_fee_percent", e) < 0 ||
        check_auto_approve(json_object_get(d, "auto_approve"), json_object_get(d, "reasons"), e) <
            0 ||
        want_choice(d, "refund_method", methods, 2, e) < 0 ||
        want_choice(d, "channel", channels, 2, e) < 0 ||
        want_text(d, "instructions", "instructions", 0, 5000, e) < 0 ||
        want_text(d, "return_address", "return_address", 0, 2000, e) < 0)
        return -1;
    return 0;
}

int
returns_settings_merge(const json_t *current, const json_t *patch, json_t **out, struct err *e)
{
    json_t *d = current ? json_deep_copy(current) : returns_settings_default();
    json_t *def = returns_settings_default();
    const char *key;
    json_t *v;

    *out = NULL;
    if (d == NULL)
        abort();
    /* A stored document from an older version gets fields added since. */
    json_object_foreach(def, key, v)
    {
        if (json_object_get(d, key) == NULL)
            json_object_set(d, key, v);
    }
    if (jx_known_keys(patch, top_keys, "", e) < 0)
        goto fail;
    json_object_foreach((json_t *)(uintptr_t)patch, key, v)
    {
        /* the two small objects merge field by field, like the document */
        if (json_is_object(v) && json_is_object(json_object_get(d, key)))
            json_object_update(json_object_get(d, key), v);
        else
            json_object_set(d, key, v);
    }
    if (validate(d, e) < 0)
        goto fail;
    json_decref(def);
    *out = d;
    return 0;
fail:
    json_decref(def);
    json_decref(d);
    return -1;
}

const json_t *
returns_reason_find(const json_t *settings, const char *code)
{
    size_t i;
    json_t *r;

    json_array_foreach(json_object_get(settings, "reasons"), i, r)
    {
        if (code && strcmp(jx_str(r, "code"), code) == 0)
            return r;
    }
    return NULL;
}

bool
returns_auto_approve(const json_t *settings, const char *order_total, const char *const *reasons,
                     int nreasons)
{
    const json_t *a = json_object_get(settings, "auto_approve");
    const char *max = jx_str(a, "max_order_total");
    int64_t m, t;

    if (!json_is_true(json_object_get(a, "enabled")) || nreasons < 1)
        return false;
    if (max != NULL) {
        if (returns_money_parse(max, &m) < 0 || returns_money_parse(order_total, &t) < 0 || t >= m)
            return false;
    }
    for (int i = 0; i < nreasons; i++) {
        bool listed = false;
        size_t j;
        json_t *c;
        json_array_foreach(json_object_get(a, "reasons"), j, c)
        {
            if (strcmp(json_string_value(c), reasons[i]) == 0)
                listed = true;
        }
        if (!listed)
            return false;
    }
    return true;
}

/* ---- the state machine --------------------------------------------------- */

static const struct {
    const char *from, *action, *to;
} transitions[] = {
    {"requested", "approve", "approved"},
    {"requested", "reject", "rejected"},
    {"requested", "cancel", "cancelled"},
    {"approved", "cancel", "cancelled"},
    {"approved", "receive", "received"},
    {"received", "resolve", "resolving"},
    {"resolution_failed", "resolve", "resolving"}, /* the merchant's retry */
    {"resolving", "resolved", "resolved"},
    {"resolving", "failed", "resolution_failed"},
    {"resolved", "close", "closed"},
    {"rejected", "close", "closed"},
};

const char *
returns_next_state(const char *from, const char *action)
{
    for (size_t i = 0; i < sizeof(transitions) / sizeof(transitions[0]); i++)
        if (strcmp(transitions[i].from, from) == 0 && strcmp(transitions[i].action, action) == 0)
            return transitions[i].to;
    return NULL;
}

/* ---- the refund ---------------------------------------------------------- */

/* What was refunded so far on one order line: units, goods, tax per rate. */
struct refunded {
    int64_t qty, total;
    int ntax;
    int64_t tax_id[16], tax[16];
};

static bool
refund_item_is(const json_t *item, int64_t line_id)
{
    size_t i;
    json_t *m;

    json_array_foreach(json_object_get(item, "meta_data"), i, m)
    {
        const char *k = jx_str(m, "key");
        json_t *v = json_object_get(m, "value");
        if (k && strcmp(k, "_refunded_item_id") == 0 &&
            ((json_is_string(v) && atoll(json_string_value(v)) == line_id) ||
             (json_is_integer(v) && json_integer_value(v) == line_id)))
            return true;
    }
    return false;
}

static void
refunded_on_line(const json_t *refunds, int64_t line_id, struct refunded *r)
{
    size_t i, j, k;
    json_t *rf, *it, *t;

    memset(r, 0, sizeof(*r));
    json_array_foreach(refunds, i, rf)
    {
        json_array_foreach(json_object_get(rf, "line_items"), j, it)
        {
            if (!refund_item_is(it, line_id))
                continue;
            r->qty += abs64(json_integer_value(json_object_get(it, "quantity")));
            r->total += abs64(money_of(json_object_get(it, "total")));
            json_array_foreach(json_object_get(it, "taxes"), k, t)
            {
                int64_t id = json_integer_value(json_object_get(t, "id"));
                int n;
                for (n = 0; n < r->ntax && r->tax_id[n] != id; n++)
                    ;
                if (n == r->ntax && n < 16)
                    r->tax_id[r->ntax++] = id;
                if (n < 16)
                    r->tax[n] += abs64(money_of(json_object_get(t, "total")));
            }
        }
    }
}

static int64_t
refunded_tax(const struct refunded *r, int64_t id)
{
    for (int n = 0; n < r->ntax; n++)
        if (r->tax_id[n] == id)
            return r->tax[n];
    return 0;
}

/* The part of `paid` (what the line paid, after discounts) for q of the
 * line's Q units, given `done` refunded already: proportional and rounded
 * to cents, except the last units, which take what is left. Never more
 * than what is left. */
static int64_t
share(int64_t paid, int64_t done, int64_t q, int64_t Q, bool last)
{
    int64_t left = paid - done, v;

    if (left < 0)
        left = 0;
    v = last ? returns_money_round(left) : part_of(paid, q, Q);
    if (v > left) /* rounding up may not pass what is left: take its cents, down */
        v = left / CENT * CENT;
    return v;
}

static const json_t *
order_line(const json_t *order, int64_t id)
{
    size_t i;
    json_t *li;

    json_array_foreach(json_object_get(order, "line_items"), i, li)
    {
        if (json_integer_value(json_object_get(li, "id")) == id)
            return li;
    }
    return NULL;
}

static int64_t
fee_off(int64_t v, int64_t fee_bp)
{
    return v - part_of(v, fee_bp, 10000);
}

/* What is left of the order's shipping lines, each as a refund line (the
 * whole remainder: shipping is refunded once, whole). Shipping refunded
 * before is read from the refunds' shipping_lines and line_items that
 * point at the shipping line. */
static int64_t
shipping_lines(const json_t *order, const json_t *refunds, json_t *out_lines)
{
    size_t i, k;
    json_t *sl, *t;
    int64_t sum = 0;
    char m[32];

    json_array_foreach(json_object_get(order, "shipping_lines"), i, sl)
    {
        int64_t id = json_integer_value(json_object_get(sl, "id"));
        struct refunded r, r2;
        json_t *taxes = json_array(), *wrap = json_array();
        size_t j;
        json_t *rf;
        int64_t goods, line_sum;

        refunded_on_line(refunds, id, &r);
        /* newer WooCommerce lists a refund's shipping under shipping_lines */
        json_array_foreach(refunds, j, rf)
        {
            json_t *one = json_pack("[{s:O}]", "line_items",
                                    json_object_get(rf, "shipping_lines")
                                        ? json_object_get(rf, "shipping_lines")
                                        : json_null());
            json_array_append(wrap, json_array_get(one, 0));
            json_decref(one);
        }
        refunded_on_line(wrap, id, &r2);
        json_decref(wrap);
        goods = share(money_of(json_object_get(sl, "total")), r.total + r2.total, 1, 1, true);
        line_sum = goods;
        json_array_foreach(json_object_get(sl, "taxes"), k, t)
        {
            int64_t tid = json_integer_value(json_object_get(t, "id"));
            int64_t tx = share(money_of(json_object_get(t, "total")),
                               refunded_tax(&r, tid) + refunded_tax(&r2, tid), 1, 1, true);
            line_sum += tx;
            returns_money_format(tx, m);
            json_array_append_new(
                taxes, json_pack("{s:I, s:s}", "id", (json_int_t)tid, "refund_total", m));
        }
        if (line_sum == 0) { /* refunded already */
            json_decref(taxes);
            continue;
        }
        sum += line_sum;
        returns_money_format(goods, m);
        json_array_append_new(out_lines, json_pack("{s:I, s:s, s:o}", "id", (json_int_t)id,
                                                   "refund_total", m, "refund_tax", taxes));
    }
    return sum;
}

int
returns_refund_compute(const json_t *order, const json_t *refunds,
                       const struct returns_refund_line *lines, int nlines, int64_t fee_bp,
                       bool shipping, json_t *out_lines, char amount[32], struct err *e)
{
    int64_t sum = 0, left_order, done_order = 0;
    size_t first = json_array_size(out_lines), i;
    json_t *rf;
    char f[48], m[32];

    json_array_foreach(refunds, i, rf) done_order += abs64(money_of(json_object_get(rf, "amount")));
    left_order = money_of(json_object_get(order, "total")) - done_order;

    for (int n = 0; n < nlines; n++) {
        const json_t *li = order_line(order, lines[n].line_item_id);
        struct refunded r;
        int64_t Q, q = lines[n].quantity, goods;
        bool last;
        json_t *taxes, *t, *out;
        size_t k;

        snprintf(f, sizeof(f), "lines[%d].quantity", n);
        if (li == NULL)
            return err_set(e, ERR_INVALID, f, "line item %lld is not in the order",
                           (long long)lines[n].line_item_id);
        refunded_on_line(refunds, lines[n].line_item_id, &r);
        Q = json_integer_value(json_object_get(li, "quantity"));
        if (q < 1 || q > Q - r.qty)
            return err_set(e, ERR_INVALID, f,
                           "%s: %lld asked, %lld left to refund on line item %lld (%lld bought)", f,
                           (long long)q, (long long)(Q - r.qty), (long long)lines[n].line_item_id,
                           (long long)Q);
        last = q == Q - r.qty;
        goods = fee_off(share(money_of(json_object_get(li, "total")), r.total, q, Q, last), fee_bp);
        sum += goods;
        taxes = json_array();
        json_array_foreach(json_object_get(li, "taxes"), k, t)
        {
            int64_t id = json_integer_value(json_object_get(t, "id"));
            int64_t tx = fee_off(
                share(money_of(json_object_get(t, "total")), refunded_tax(&r, id), q, Q, last),
                fee_bp);
            sum += tx;
            returns_money_format(tx, m);
            json_array_append_new(taxes,
                                  json_pack("{s:I, s:s}", "id", (json_int_t)id, "refund_total", m));
        }
        returns_money_format(goods, m);
        out = json_pack("{s:I, s:I, s:s, s:o}", "id", (json_int_t)lines[n].line_item_id, "quantity",
                        (json_int_t)q, "refund_total", m, "refund_tax", taxes);
        json_array_append_new(out_lines, out);
    }
    if (shipping)
        sum += shipping_lines(order, refunds, out_lines);
    /* The order cap: never more than what is left on the order (a manual
     * refund without lines counts only here). The excess comes off the
     * last lines first, tax before goods. */
    for (size_t n = json_array_size(out_lines); sum > left_order && n > first; n--) {
        json_t *line = json_array_get(out_lines, n - 1);
        json_t *taxes = json_object_get(line, "refund_tax");
        for (size_t k = json_array_size(taxes); sum > left_order && k > 0; k--) {
            json_t *t = json_array_get(taxes, k - 1);
            int64_t v = money_of(json_object_get(t, "refund_total"));
            int64_t cut = sum - left_order < v ? sum - left_order : v;
            returns_money_format(v - cut, m);
            json_object_set_new(t, "refund_total", json_string(m));
            sum -= cut;
        }
        if (sum > left_order) {
            int64_t v = money_of(json_object_get(line, "refund_total"));
            int64_t cut = sum - left_order < v ? sum - left_order : v;
            returns_money_format(v - cut, m);
            json_object_set_new(line, "refund_total", json_string(m));
            sum -= cut;
        }
    }
    if (sum < 0)
        sum = 0;
    returns_money_format(sum, amount);
    return 0;
}

/* ---- photos ---------------------------------------------------------------- */

const char *
returns_photo_type(const unsigned char *b, size_t n)
{
    static const unsigned char png[8] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};

    if (b == NULL)
        return NULL;
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return "image/jpeg";
    if (n >= 8 && memcmp(b, png, 8) == 0)
        return "image/png";
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return "image/webp";
    return NULL;
}
