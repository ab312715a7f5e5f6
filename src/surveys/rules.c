/*
 * rules.c - the pure rules of surveys (see rules.h and docs/surveys.md).
 *
 * A definition is checked as a whole and normalised here, before any SQL
 * runs, so the database only ever holds definitions these functions
 * accept: ids are unique and safe in a facet ("qid=value"), a condition
 * points back to an earlier question with a value that question can take,
 * and every label has text. The answers of a response are checked against
 * the version the invitation names, with the conditions applied in order.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/core/money.h"
#include "aftersale/reviews/rules.h"
#include "aftersale/surveys/rules.h"

static const char *const kind_names[SURVEYS_KIND_COUNT] = {
    "nps", "csat", "ces", "rating", "single_choice", "multiple_choice", "text",
};

int
surveys_kind_parse(const char *name)
{
    for (int i = 0; name != NULL && i < SURVEYS_KIND_COUNT; i++)
        if (strcmp(kind_names[i], name) == 0)
            return i;
    return -1;
}

const char *
surveys_kind_name(enum surveys_kind k)
{
    return (int)k >= 0 && k < SURVEYS_KIND_COUNT ? kind_names[k] : "?";
}

bool
surveys_kind_scale(enum surveys_kind k, int *lo, int *hi)
{
    switch (k) {
    case SURVEYS_NPS: *lo = 0; *hi = 10; return true;
    case SURVEYS_CSAT: *lo = 1; *hi = 5; return true;
    case SURVEYS_CES: *lo = 1; *hi = 7; return true;
    case SURVEYS_RATING: *lo = 1; *hi = 5; return true;
    default: return false;
    }
}

/* Ids of questions and choices: 1-40 of [A-Za-z0-9_-], so a facet
 * "qid=value" splits at its first '=' and a CSV header needs no quoting. */
static bool
id_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 40)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

static bool
locale_valid(const char *s)
{
    size_t n = strlen(s);
    if (n != 2 && n != 5)
        return false;
    if (!islower((unsigned char)s[0]) || !islower((unsigned char)s[1]))
        return false;
    return n == 2 || ((s[2] == '_' || s[2] == '-') && isupper((unsigned char)s[3]) &&
                      isupper((unsigned char)s[4]));
}

/* A label: {"en": "text", "de": "..."}, at least one locale, each text 1-500. */
static int
label_check(const json_t *v, const char *field, struct err *e)
{
    const char *loc;
    json_t *t;
    char f[192];

    if (!json_is_object(v) || json_object_size(v) == 0)
        return err_set(e, ERR_INVALID, field,
                       "%s must be an object of texts per locale, e.g. {\"en\": \"...\"}", field);
    json_object_foreach((json_t *)(uintptr_t)v, loc, t) {
        snprintf(f, sizeof(f), "%s.%s", field, loc);
        if (!locale_valid(loc))
            return err_set(e, ERR_INVALID, f, "%.60s is not a locale (\"en\", \"pt_BR\")", loc);
        if (!json_is_string(t) || jx_utf8_len(json_string_value(t)) == 0 ||
            jx_utf8_len(json_string_value(t)) > 500)
            return err_set(e, ERR_INVALID, f, "a label must be a text of 1 to 500 characters");
        {
            const char *s = json_string_value(t);
            bool blank = true;
            for (; *s; s++)
                blank = blank && isspace((unsigned char)*s);
            if (blank)
                return err_set(e, ERR_INVALID, f, "a label must not be blank");
        }
    }
    return 0;
}

/* Is `v` a value question q can take (a score in its scale, or one of its
 * choice ids)? */
static bool
value_fits(const json_t *q, const json_t *v)
{
    int k = surveys_kind_parse(jx_str(q, "kind")), lo, hi;
    json_t *c;
    size_t i;

    if (surveys_kind_scale(k, &lo, &hi))
        return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
    if (k == SURVEYS_SINGLE || k == SURVEYS_MULTIPLE) {
        if (!json_is_string(v))
            return false;
        if (strcmp(json_string_value(v), "other") == 0 &&
            json_is_true(json_object_get(q, "other")))
            return true;
        json_array_foreach(json_object_get(q, "choices"), i, c)
            if (strcmp(jx_str(c, "id"), json_string_value(v)) == 0)
                return true;
    }
    return false;
}

static int
show_if_check(const json_t *qs, size_t index, const json_t *cond, const char *prefix, struct err *e)
{
    static const char *const names[] = {"question", "lte", "gte", "eq", "in", NULL};
    char f[192];
    const char *target = jx_str(cond, "question"), *op = NULL;
    const json_t *q = NULL, *val = NULL;
    int kind, lo, hi, nops = 0;
    size_t i;

    snprintf(f, sizeof(f), "%s.show_if", prefix);
    if (!json_is_object(cond))
        return err_set(e, ERR_INVALID, f, "show_if must be an object {question, lte|gte|eq|in}");
    if (jx_known_keys(cond, names, "", e) < 0) {
        snprintf(f, sizeof(f), "%s.show_if.%.60s", prefix, e->field);
        return err_set(e, ERR_INVALID, f, "unknown field in show_if");
    }
    snprintf(f, sizeof(f), "%s.show_if.question", prefix);
    if (target == NULL)
        return err_set(e, ERR_INVALID, f, "show_if.question must name an earlier question");
    for (i = 0; i < json_array_size(qs); i++) {
        const json_t *c = json_array_get(qs, i);
        if (json_is_object(c) && jx_str(c, "id") && strcmp(jx_str(c, "id"), target) == 0) {
            q = c;
            break;
        }
    }
    if (q == NULL)
        return err_set(e, ERR_INVALID, f, "no question %.40s in this survey", target);
    if (i >= index)
        return err_set(e, ERR_INVALID, f,
                       "show_if can only depend on an earlier question (%.40s comes %s)", target,
                       i == index ? "is this one" : "later");
    kind = surveys_kind_parse(jx_str(q, "kind"));
    if (kind == SURVEYS_TEXT)
        return err_set(e, ERR_INVALID, f, "a text question cannot be a condition");
    for (const char *const *o = names + 1; *o; o++)
        if (json_object_get(cond, *o) != NULL) {
            op = *o;
            val = json_object_get(cond, *o);
            nops++;
        }
    snprintf(f, sizeof(f), "%s.show_if", prefix);
    if (nops != 1)
        return err_set(e, ERR_INVALID, f, "show_if needs exactly one of lte, gte, eq, in");
    snprintf(f, sizeof(f), "%s.show_if.%s", prefix, op);
    if ((strcmp(op, "lte") == 0 || strcmp(op, "gte") == 0)) {
        if (!surveys_kind_scale(kind, &lo, &hi))
            return err_set(e, ERR_INVALID, f, "%s applies to a scored question only", op);
        if (!value_fits(q, val))
            return err_set(e, ERR_INVALID, f, "%s must be an integer from %d to %d", op, lo, hi);
        return 0;
    }
    if (strcmp(op, "eq") == 0) {
        if (!value_fits(q, val))
            return err_set(e, ERR_INVALID, f, "eq must be a value question %.40s can take",
                           target);
        return 0;
    }
    if (!json_is_array(val) || json_array_size(val) == 0 ||
        json_array_size(val) > SURVEYS_MAX_CHOICES)
        return err_set(e, ERR_INVALID, f, "in must be an array of 1 to %d values",
                       SURVEYS_MAX_CHOICES);
    for (i = 0; i < json_array_size(val); i++)
        if (!value_fits(q, json_array_get(val, i))) {
            snprintf(f, sizeof(f), "%s.show_if.in[%zu]", prefix, i);
            return err_set(e, ERR_INVALID, f, "not a value question %.40s can take", target);
        }
    return 0;
}

static int
choices_check(const json_t *q, const char *prefix, struct err *e)
{
    static const struct jx_field fields[] = {
        {"id", JX_STRING, true, 1, 40},
        {"label", JX_OBJECT, true, 0, 0},
    };
    const json_t *cs = json_object_get(q, "choices");
    char f[192];

    snprintf(f, sizeof(f), "%s.choices", prefix);
    if (!json_is_array(cs) || json_array_size(cs) < 1 ||
        json_array_size(cs) > SURVEYS_MAX_CHOICES)
        return err_set(e, ERR_INVALID, f, "choices must be an array of 1 to %d choices",
                       SURVEYS_MAX_CHOICES);
    for (size_t i = 0; i < json_array_size(cs); i++) {
        const json_t *c = json_array_get(cs, i);
        snprintf(f, sizeof(f), "%s.choices[%zu]", prefix, i);
        if (!json_is_object(c))
            return err_set(e, ERR_INVALID, f, "a choice must be an object {id, label}");
        snprintf(f, sizeof(f), "%s.choices[%zu].", prefix, i);
        if (jx_check(c, fields, 2, f, e) < 0)
            return -1;
        snprintf(f, sizeof(f), "%s.choices[%zu].id", prefix, i);
        if (!id_valid(jx_str(c, "id")) || strcmp(jx_str(c, "id"), "other") == 0)
            return err_set(e, ERR_INVALID, f,
                           "a choice id is 1-40 of A-Z a-z 0-9 _ - and not \"other\"");
        for (size_t j = 0; j < i; j++)
            if (strcmp(jx_str(json_array_get(cs, j), "id"), jx_str(c, "id")) == 0)
                return err_set(e, ERR_INVALID, f, "choice id %.40s appears twice", jx_str(c, "id"));
        snprintf(f, sizeof(f), "%s.choices[%zu].label", prefix, i);
        if (label_check(json_object_get(c, "label"), f, e) < 0)
            return -1;
    }
    return 0;
}

json_t *
surveys_questions_check(const json_t *qs, struct err *e)
{
    static const struct jx_field fields[] = {
        {"id", JX_STRING, true, 1, 40},       {"kind", JX_STRING, true, 1, 20},
        {"label", JX_OBJECT, true, 0, 0},     {"required", JX_BOOLEAN, false, 0, 0},
        {"show_if", JX_OBJECT, false, 0, 0},  {"choices", JX_ARRAY, false, 0, 0},
        {"other", JX_BOOLEAN, false, 0, 0},
    };
    json_t *out;
    char f[192];

    if (!json_is_array(qs) || json_array_size(qs) == 0)
        return err_set(e, ERR_INVALID, "questions", "questions must be an array of 1 to %d",
                       SURVEYS_MAX_QUESTIONS), NULL;
    if (json_array_size(qs) > SURVEYS_MAX_QUESTIONS)
        return err_set(e, ERR_INVALID, "questions", "a survey has at most %d questions",
                       SURVEYS_MAX_QUESTIONS), NULL;
    for (size_t i = 0; i < json_array_size(qs); i++) {
        const json_t *q = json_array_get(qs, i);
        char prefix[32];
        int kind;

        snprintf(prefix, sizeof(prefix), "questions[%zu]", i);
        if (!json_is_object(q))
            return err_set(e, ERR_INVALID, prefix, "a question must be an object"), NULL;
        snprintf(f, sizeof(f), "%s.", prefix);
        if (jx_check(q, fields, sizeof(fields) / sizeof(fields[0]), f, e) < 0)
            return NULL;
        snprintf(f, sizeof(f), "%s.id", prefix);
        if (!id_valid(jx_str(q, "id")))
            return err_set(e, ERR_INVALID, f, "a question id is 1-40 of A-Z a-z 0-9 _ -"), NULL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(jx_str(json_array_get(qs, j), "id"), jx_str(q, "id")) == 0)
                return err_set(e, ERR_INVALID, f, "question id %.40s appears twice",
                               jx_str(q, "id")), NULL;
        snprintf(f, sizeof(f), "%s.kind", prefix);
        kind = surveys_kind_parse(jx_str(q, "kind"));
        if (kind < 0)
            return err_set(e, ERR_INVALID, f,
                           "kind must be nps, csat, ces, rating, single_choice, multiple_choice"
                           " or text"), NULL;
        snprintf(f, sizeof(f), "%s.label", prefix);
        if (label_check(json_object_get(q, "label"), f, e) < 0)
            return NULL;
        if (kind == SURVEYS_SINGLE || kind == SURVEYS_MULTIPLE) {
            if (choices_check(q, prefix, e) < 0)
                return NULL;
        } else {
            snprintf(f, sizeof(f), "%s.%s", prefix,
                     json_object_get(q, "choices") ? "choices" : "other");
            if (json_object_get(q, "choices") || json_object_get(q, "other"))
                return err_set(e, ERR_INVALID, f, "only choice questions have %s",
                               json_object_get(q, "choices") ? "choices" : "other"), NULL;
        }
        if (json_object_get(q, "show_if") &&
            show_if_check(qs, i, json_object_get(q, "show_if"), prefix, e) < 0)
            return NULL;
    }
    out = json_array();
    for (size_t i = 0; i < json_array_size(qs); i++) {
        json_t *q = json_deep_copy(json_array_get(qs, i));
        int kind = surveys_kind_parse(jx_str(q, "kind"));
        if (json_object_get(q, "required") == NULL)
            json_object_set_new(q, "required", json_false());
        if ((kind == SURVEYS_SINGLE || kind == SURVEYS_MULTIPLE) &&
            json_object_get(q, "other") == NULL)
            json_object_set_new(q, "other", json_false());
        json_array_append_new(out, q);
    }
    return out;
}

/* ---- settings --------------------------------------------------------------- */

json_t *
surveys_settings_default(void)
{
    return json_pack("{s:{s:s, s:s}, s:{s:s, s:[], s:n, s:n, s:[], s:[], s:[], s:[]}, s:f, s:i,"
                     " s:s}",
                     "trigger", "event", "order.completed", "delay", "P7D", "audience",
                     "customers", "all", "countries", "min_total", "max_total",
                     "include_products", "exclude_products", "include_categories",
                     "exclude_categories", "sampling_rate", 1.0,
                     "recontact_days", 90, "expiry", "P30D");
}

static int
duration_field(json_t *obj, const char *key, const char *field, struct err *e)
{
    json_t *v = json_object_get(obj, key);
    int64_t s;
    char norm[32];

    if (!json_is_string(v))
        return err_set(e, ERR_INVALID, field, "%s must be an ISO 8601 duration (\"P7D\", \"PT30S\")",
                       field);
    if (reviews_duration_parse(json_string_value(v), &s, field, e) < 0)
        return -1;
    if (s > 366LL * 86400)
        return err_set(e, ERR_INVALID, field, "%s must be at most a year (P366D)", field);
    reviews_duration_format(s, norm);
    json_object_set_new(obj, key, json_string(norm));
    return 0;
}

static int
id_list(const json_t *v, const char *field, const char *what, struct err *e)
{
    char f[192];
    if (!json_is_array(v) || json_array_size(v) > SURVEYS_MAX_LIST)
        return err_set(e, ERR_INVALID, field, "%s must be an array of at most %d %s ids",
                       field, SURVEYS_MAX_LIST, what);
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *x = json_array_get(v, i);
        snprintf(f, sizeof(f), "%s[%zu]", field, i);
        if (!json_is_integer(x) || json_integer_value(x) <= 0)
            return err_set(e, ERR_INVALID, f, "a %s id is a positive integer", what);
    }
    return 0;
}

static int
audience_check(json_t *a, struct err *e)
{
    static const char *const names[] = {"customers",          "countries",
                                        "min_total",          "max_total",
                                        "include_products",   "exclude_products",
                                        "include_categories", "exclude_categories",
                                        NULL};
    static const char *const who[] = {"all", "first", "repeat"};
    json_t *v;
    int idx;
    char f[192];

    if (jx_known_keys(a, names, "audience.", e) < 0)
        return -1;
    if (jx_choice(json_object_get(a, "customers"), "audience.customers", who, 3, &idx, e) < 0)
        return -1;
    v = json_object_get(a, "countries");
    if (!json_is_array(v) || json_array_size(v) > SURVEYS_MAX_LIST)
        return err_set(e, ERR_INVALID, "audience.countries",
                       "audience.countries must be an array of ISO 3166-1 alpha-2 codes");
    for (size_t i = 0; i < json_array_size(v); i++) {
        const char *c = json_string_value(json_array_get(v, i));
        snprintf(f, sizeof(f), "audience.countries[%zu]", i);
        if (c == NULL || strlen(c) != 2 || !isupper((unsigned char)c[0]) ||
            !isupper((unsigned char)c[1]))
            return err_set(e, ERR_INVALID, f, "a country is an ISO 3166-1 alpha-2 code (\"SK\")");
    }
    for (int i = 0; i < 2; i++) {
        const char *k = i == 0 ? "min_total" : "max_total";
        v = json_object_get(a, k);
        snprintf(f, sizeof(f), "audience.%s", k);
        if (!json_is_null(v) && (!json_is_string(v) || !money_decimal_valid(json_string_value(v)) ||
                                 json_string_value(v)[0] == '-'))
            return err_set(e, ERR_INVALID, f, "%s must be a decimal string (\"25.00\") or null", f);
    }
    if (json_is_string(json_object_get(a, "min_total")) &&
        json_is_string(json_object_get(a, "max_total")) &&
        strtod(jx_str(a, "min_total"), NULL) > strtod(jx_str(a, "max_total"), NULL))
        return err_set(e, ERR_INVALID, "audience.max_total", "max_total is below min_total");
    if (id_list(json_object_get(a, "include_products"), "audience.include_products", "product",
                e) < 0 ||
        id_list(json_object_get(a, "exclude_products"), "audience.exclude_products", "product",
                e) < 0)
        return -1;
    /* Category filters (WooCommerce product category ids), the same shape;
     * a survey saved before they existed reads them as empty. */
    for (int i = 0; i < 2; i++) {
        const char *k = i == 0 ? "include_categories" : "exclude_categories";
        snprintf(f, sizeof(f), "audience.%s", k);
        if (json_object_get(a, k) == NULL)
            json_object_set_new(a, k, json_array());
        if (id_list(json_object_get(a, k), f, "category", e) < 0)
            return -1;
    }
    return 0;
}

json_t *
surveys_settings_merge(const json_t *base, const json_t *in, struct err *e)
{
    static const char *const events[] = {"order.completed", "order.delivered", "order.placed"};
    static const char *const channels[] = {"email", "order_note", "link"};
    json_t *s = base ? json_deep_copy(base) : surveys_settings_default();
    json_t *v;
    int idx;

    v = json_object_get(in, "trigger");
    if (v != NULL) {
        static const char *const names[] = {"event", "delay", NULL};
        if (!json_is_object(v)) {
            err_set(e, ERR_INVALID, "trigger", "trigger must be an object {event, delay}");
            goto bad;
        }
        if (jx_known_keys(v, names, "trigger.", e) < 0)
            goto bad;
        json_object_update(json_object_get(s, "trigger"), v);
    }
    if (jx_choice(json_object_get(json_object_get(s, "trigger"), "event"), "trigger.event", events,
                  3, &idx, e) < 0 ||
        duration_field(json_object_get(s, "trigger"), "delay", "trigger.delay", e) < 0)
        goto bad;
    /* channel: "email" (the trigger schedules an invitation email),
     * "order_note" (the same invitation as a customer note on the
     * WooCommerce order) or "link" (never sent: the shop shows it on its own
     * pages, e.g. the thank-you page, through
     * POST /v1/orders/{order_id}/survey-link). Surveys stored before the
     * setting existed have none: email. */
    v = json_object_get(in, "channel");
    if (v != NULL)
        json_object_set(s, "channel", v);
    if (json_object_get(s, "channel") == NULL)
        json_object_set_new(s, "channel", json_string("email"));
    if (jx_choice(json_object_get(s, "channel"), "channel", channels, 3, &idx, e) < 0)
        goto bad;
    /* Nothing emits order.placed: the shop's thank-you page is the moment,
     * so only a link survey can have it. */
    if (strcmp(jx_str(json_object_get(s, "trigger"), "event"), "order.placed") == 0 &&
        strcmp(jx_str(s, "channel"), "link") != 0) {
        err_set(e, ERR_INVALID, "trigger.event",
                "order.placed is the shop's thank-you page: it needs channel \"link\"");
        goto bad;
    }
    v = json_object_get(in, "audience");
    if (v != NULL) {
        if (!json_is_object(v)) {
            err_set(e, ERR_INVALID, "audience", "audience must be an object");
            goto bad;
        }
        json_object_update(json_object_get(s, "audience"), v);
    }
    if (audience_check(json_object_get(s, "audience"), e) < 0)
        goto bad;
    v = json_object_get(in, "sampling_rate");
    if (v != NULL) {
        if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1) {
            err_set(e, ERR_INVALID, "sampling_rate", "sampling_rate must be a number from 0 to 1");
            goto bad;
        }
        json_object_set_new(s, "sampling_rate",
                            json_real(round(json_number_value(v) * 10000) / 10000));
    }
    v = json_object_get(in, "recontact_days");
    if (v != NULL) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 3650) {
            err_set(e, ERR_INVALID, "recontact_days",
                    "recontact_days must be an integer from 0 to 3650");
            goto bad;
        }
        json_object_set(s, "recontact_days", v);
    }
    v = json_object_get(in, "alert_threshold");
    if (v != NULL) {
        /* A response scored at or under it is an alert; null = the kind's
         * default (NPS 6, CES 3, CSAT and rating 2). */
        if (!json_is_null(v) &&
            (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 10)) {
            err_set(e, ERR_INVALID, "alert_threshold",
                    "alert_threshold must be an integer from 0 to 10 or null");
            goto bad;
        }
        json_object_set(s, "alert_threshold", v);
    }
    v = json_object_get(in, "alert_order_note");
    if (v != NULL) {
        if (!json_is_boolean(v)) {
            err_set(e, ERR_INVALID, "alert_order_note", "alert_order_note must be a boolean");
            goto bad;
        }
        json_object_set(s, "alert_order_note", v);
    }
    v = json_object_get(in, "reminders");
    if (v != NULL) {
        /* Optional (absent = none): {count 0-3, delay} after the invitation. */
        static const char *const names[] = {"count", "delay", NULL};
        json_t *r = json_pack("{s:i, s:s}", "count", 0, "delay", "P3D");
        json_t *cnt;
        if (!json_is_object(v) || jx_known_keys(v, names, "reminders.", e) < 0) {
            if (!json_is_object(v))
                err_set(e, ERR_INVALID, "reminders", "reminders must be an object {count, delay}");
            json_decref(r);
            goto bad;
        }
        json_object_update(r, v);
        cnt = json_object_get(r, "count");
        if (!json_is_integer(cnt) || json_integer_value(cnt) < 0 || json_integer_value(cnt) > 3) {
            err_set(e, ERR_INVALID, "reminders.count", "reminders.count must be an integer from 0 to 3");
            json_decref(r);
            goto bad;
        }
        if (duration_field(r, "delay", "reminders.delay", e) < 0) {
            json_decref(r);
            goto bad;
        }
        json_object_set_new(s, "reminders", r);
    }
    v = json_object_get(in, "expiry");
    if (v != NULL)
        json_object_set(s, "expiry", v);
    if (duration_field(s, "expiry", "expiry", e) < 0)
        goto bad;
    {
        int64_t secs = 0;
        reviews_duration_parse(jx_str(s, "expiry"), &secs, "expiry", NULL);
        if (secs < 60) {
            err_set(e, ERR_INVALID, "expiry", "expiry must be at least a minute (PT1M)");
            goto bad;
        }
    }
    return s;
bad:
    json_decref(s);
    return NULL;
}

int
surveys_rate_bp(const json_t *settings)
{
    json_t *v = json_object_get(settings, "sampling_rate");
    double r = json_is_number(v) ? json_number_value(v) : 1.0;
    return (int)llround(r * 10000);
}

/* ---- templates ----------------------------------------------------------------- */

static const struct {
    const char *name, *title, *json;
} templates[] = {
    {"post_purchase_nps", "Post-purchase NPS with a follow-up",
     "{\"questions\":["
     "{\"id\":\"nps\",\"kind\":\"nps\",\"required\":true,\"label\":{\"en\":"
     "\"How likely are you to recommend us to a friend or colleague?\"}},"
     "{\"id\":\"reason\",\"kind\":\"text\",\"label\":{\"en\":"
     "\"What is the main reason for your score?\"}},"
     "{\"id\":\"improve\",\"kind\":\"text\",\"show_if\":{\"question\":\"nps\",\"lte\":6},"
     "\"label\":{\"en\":\"What could we have done better?\"}}],"
     "\"settings\":{\"trigger\":{\"event\":\"order.completed\",\"delay\":\"P7D\"}}}"},
    {"delivery_csat", "Delivery satisfaction (CSAT)",
     "{\"questions\":["
     "{\"id\":\"csat\",\"kind\":\"csat\",\"required\":true,\"label\":{\"en\":"
     "\"How satisfied are you with the delivery of your order?\"}},"
     "{\"id\":\"issue\",\"kind\":\"single_choice\",\"other\":true,"
     "\"show_if\":{\"question\":\"csat\",\"lte\":3},"
     "\"label\":{\"en\":\"What went wrong?\"},\"choices\":["
     "{\"id\":\"late\",\"label\":{\"en\":\"It arrived late\"}},"
     "{\"id\":\"damaged\",\"label\":{\"en\":\"It arrived damaged\"}},"
     "{\"id\":\"wrong_item\",\"label\":{\"en\":\"Something was missing or wrong\"}}]}],"
     "\"settings\":{\"trigger\":{\"event\":\"order.completed\",\"delay\":\"P3D\"}}}"},
    {"checkout_ces", "Checkout effort (CES)",
     "{\"questions\":["
     "{\"id\":\"ces\",\"kind\":\"ces\",\"required\":true,\"label\":{\"en\":"
     "\"The shop made it easy for me to place my order.\"}},"
     "{\"id\":\"hardest\",\"kind\":\"text\",\"show_if\":{\"question\":\"ces\",\"lte\":3},"
     "\"label\":{\"en\":\"What was the hardest part?\"}}],"
     "\"settings\":{\"trigger\":{\"event\":\"order.completed\",\"delay\":\"PT1H\"}}}"},
    {"how_did_you_hear", "How did you hear about us?",
     "{\"questions\":["
     "{\"id\":\"source\",\"kind\":\"single_choice\",\"required\":true,\"other\":true,"
     "\"label\":{\"en\":\"How did you hear about us?\"},\"choices\":["
     "{\"id\":\"search\",\"label\":{\"en\":\"Search engine\"}},"
     "{\"id\":\"social\",\"label\":{\"en\":\"Social media\"}},"
     "{\"id\":\"friend\",\"label\":{\"en\":\"A friend or colleague\"}},"
     "{\"id\":\"ad\",\"label\":{\"en\":\"An advertisement\"}},"
     "{\"id\":\"review\",\"label\":{\"en\":\"A blog or review site\"}}]}],"
     "\"settings\":{\"trigger\":{\"event\":\"order.completed\",\"delay\":\"P1D\"},"
     "\"audience\":{\"customers\":\"first\"}}}"},
};

static json_t *
template_json(size_t i)
{
    json_error_t jerr;
    json_t *t = json_loads(templates[i].json, 0, &jerr), *settings;

    settings = surveys_settings_merge(NULL, json_object_get(t, "settings"), NULL);
    json_object_set_new(t, "settings", settings);
    json_object_set_new(t, "name", json_string(templates[i].name));
    json_object_set_new(t, "title", json_string(templates[i].title));
    {
        json_t *q = surveys_questions_check(json_object_get(t, "questions"), NULL);
        json_object_set_new(t, "questions", q);
    }
    return t;
}

json_t *
surveys_templates(void)
{
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof(templates) / sizeof(templates[0]); i++)
        json_array_append_new(a, template_json(i));
    return a;
}

json_t *
surveys_template(const char *name)
{
    for (size_t i = 0; name && i < sizeof(templates) / sizeof(templates[0]); i++)
        if (strcmp(templates[i].name, name) == 0)
            return template_json(i);
    return NULL;
}

/* ---- audience and sampling ------------------------------------------------------ */

/* A non-negative decimal string in millionths ("29.35" -> 29350000); -1 if bad. */
static int64_t
micros(const char *s)
{
    int64_t whole = 0, frac = 0;
    int nfrac = 0;

    if (s == NULL || !money_decimal_valid(s) || s[0] == '-')
        return -1;
    for (; *s && *s != '.'; s++)
        whole = whole * 10 + (*s - '0');
    if (*s == '.')
        for (s++; *s && nfrac < 6; s++, nfrac++)
            frac = frac * 10 + (*s - '0');
    for (; nfrac < 6; nfrac++)
        frac *= 10;
    return whole * 1000000 + frac;
}

static bool
list_has_id(const json_t *list, int64_t id)
{
    json_t *v;
    size_t i;
    json_array_foreach(list, i, v)
        if (json_integer_value(v) == id)
            return true;
    return false;
}

bool
surveys_audience_match(const json_t *settings, const struct surveys_order *o, const char **why)
{
    const json_t *a = json_object_get(settings, "audience");
    const char *who = jx_str(a, "customers");
    const json_t *countries = json_object_get(a, "countries");
    const json_t *inc = json_object_get(a, "include_products");
    const json_t *exc = json_object_get(a, "exclude_products");
    int64_t total = micros(o->total);
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    if (who && strcmp(who, "first") == 0 && !o->first_order)
        return *why = "not a first order", false;
    if (who && strcmp(who, "repeat") == 0 && o->first_order)
        return *why = "not a repeat customer", false;
    if (json_array_size(countries) > 0) {
        bool in = false;
        json_t *c;
        size_t i;
        json_array_foreach(countries, i, c)
            in = in || (o->country && strcmp(json_string_value(c), o->country) == 0);
        if (!in)
            return *why = "billing country not in the audience", false;
    }
    if (json_is_string(json_object_get(a, "min_total")) &&
        (total < 0 || total < micros(jx_str(a, "min_total"))))
        return *why = "order total below min_total", false;
    if (json_is_string(json_object_get(a, "max_total")) &&
        (total < 0 || total > micros(jx_str(a, "max_total"))))
        return *why = "order total above max_total", false;
    /* Excluded products win: an order with one is out whatever else it has. */
    for (int i = 0; i < o->nproducts; i++)
        if (list_has_id(exc, o->products[i]))
            return *why = "order has an excluded product", false;
    if (json_array_size(inc) > 0) {
        bool any = false;
        for (int i = 0; i < o->nproducts; i++)
            any = any || list_has_id(inc, o->products[i]);
        if (!any)
            return *why = "order has none of the included products", false;
    }
    if (surveys_audience_has_categories(settings)) {
        /* Categories come from the shop after the order (woo/products.c):
         * still unknown here, the decision waits for the sending job. */
        if (o->categories_unknown)
            return *why = "in the audience (categories checked when sending)", true;
        return surveys_audience_categories_match(settings, o, why);
    }
    *why = "in the audience";
    return true;
}

bool
surveys_audience_has_categories(const json_t *settings)
{
    const json_t *a = json_object_get(settings, "audience");
    return json_array_size(json_object_get(a, "include_categories")) > 0 ||
           json_array_size(json_object_get(a, "exclude_categories")) > 0;
}

bool
surveys_audience_categories_match(const json_t *settings, const struct surveys_order *o,
                                  const char **why)
{
    const json_t *a = json_object_get(settings, "audience");
    const json_t *inc = json_object_get(a, "include_categories");
    const json_t *exc = json_object_get(a, "exclude_categories");
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    /* As for products, an excluded category wins over an included one. */
    for (int i = 0; i < o->ncategories; i++)
        if (list_has_id(exc, o->categories[i]))
            return *why = "order has a product of an excluded category", false;
    if (json_array_size(inc) > 0) {
        bool any = false;
        for (int i = 0; i < o->ncategories; i++)
            any = any || list_has_id(inc, o->categories[i]);
        if (!any)
            return *why = "order has no product of the included categories", false;
    }
    *why = "in the audience";
    return true;
}

/* splitmix64's finaliser: a good 64-bit mix, fixed forever (a change
 * would re-draw every sample). */
static uint64_t
mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t
surveys_sample_hash(int64_t survey_id, int64_t order_id)
{
    return mix64(mix64((uint64_t)survey_id + 0x9e3779b97f4a7c15ULL) ^ (uint64_t)order_id);
}

bool
surveys_sampled(int64_t survey_id, int64_t order_id, int rate_bp)
{
    if (rate_bp >= 10000)
        return true;
    if (rate_bp <= 0)
        return false;
    return (int)(surveys_sample_hash(survey_id, order_id) % 10000) < rate_bp;
}

/* ---- answers ---------------------------------------------------------------------- */

void
surveys_answers_clear(struct surveys_answers *a)
{
    json_decref(a->answers);
    json_decref(a->other);
    json_decref(a->facets);
    json_decref(a->dropped);
    free(a->search);
    memset(a, 0, sizeof(*a));
}

/* Does the kept answer `v` satisfy the condition? */
static bool
condition_holds(const json_t *cond, const json_t *v)
{
    json_t *x;
    if (v == NULL)
        return false;
    if ((x = json_object_get(cond, "lte")) != NULL)
        return json_integer_value(v) <= json_integer_value(x);
    if ((x = json_object_get(cond, "gte")) != NULL)
        return json_integer_value(v) >= json_integer_value(x);
    if ((x = json_object_get(cond, "eq")) != NULL) {
        if (json_is_array(v)) { /* multiple choice: holds when chosen */
            json_t *c;
            size_t i;
            json_array_foreach(v, i, c)
                if (json_equal(c, x))
                    return true;
            return false;
        }
        return json_equal(v, x);
    }
    if ((x = json_object_get(cond, "in")) != NULL) {
        json_t *a, *c;
        size_t i, j;
        json_array_foreach(x, i, a) {
            if (json_is_array(v)) {
                json_array_foreach(v, j, c)
                    if (json_equal(c, a))
                        return true;
            } else if (json_equal(v, a))
                return true;
        }
    }
    return false;
}

static const json_t *
question_by_id(const json_t *qs, const char *id)
{
    json_t *q;
    size_t i;
    json_array_foreach(qs, i, q)
        if (strcmp(jx_str(q, "id"), id) == 0)
            return q;
    return NULL;
}

/* Check one answer for its question; 0 or -1 with e naming answers.<qid>. */
static int
answer_check(const json_t *q, const json_t *v, const char *field, struct err *e)
{
    int k = surveys_kind_parse(jx_str(q, "kind")), lo, hi;

    if (surveys_kind_scale(k, &lo, &hi)) {
        if (!value_fits(q, v))
            return err_set(e, ERR_INVALID, field, "%s must be an integer from %d to %d", field,
                           lo, hi);
        return 0;
    }
    if (k == SURVEYS_TEXT) {
        if (!json_is_string(v) || jx_utf8_len(json_string_value(v)) > 5000)
            return err_set(e, ERR_INVALID, field, "%s must be a text of at most 5000 characters",
                           field);
        return 0;
    }
    if (k == SURVEYS_SINGLE) {
        if (!value_fits(q, v))
            return err_set(e, ERR_INVALID, field, "%s must be one of the question's choice ids",
                           field);
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return err_set(e, ERR_INVALID, field, "%s must be an array of choice ids", field);
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (!value_fits(q, json_array_get(v, i)))
            return err_set(e, ERR_INVALID, field, "%s[%zu] is not one of the question's choices",
                           field, i);
        for (size_t j = 0; j < i; j++)
            if (json_equal(json_array_get(v, i), json_array_get(v, j)))
                return err_set(e, ERR_INVALID, field, "%s names a choice twice", field);
    }
    return 0;
}

static void
add_facet(json_t *facets, const char *qid, const json_t *v)
{
    if (json_is_integer(v))
        json_array_append_new(facets, json_sprintf("%s=%" JSON_INTEGER_FORMAT, qid,
                                                   json_integer_value(v)));
    else if (json_is_string(v))
        json_array_append_new(facets, json_sprintf("%s=%s", qid, json_string_value(v)));
}

int
surveys_answers_check(const json_t *qs, const json_t *answers, const json_t *other, bool partial,
                      struct surveys_answers *out, struct err *e)
{
    const char *key;
    json_t *v, *q;
    size_t i;
    char field[192];
    struct buf_s {
        char *p;
        size_t n;
    } search = {NULL, 0};

    memset(out, 0, sizeof(*out));
    out->score = -1;
    if (!json_is_object(answers))
        return err_set(e, ERR_INVALID, "answers", "answers must be an object {\"question id\": value}");
    json_object_foreach((json_t *)(uintptr_t)answers, key, v) {
        snprintf(field, sizeof(field), "answers.%.60s", key);
        if (question_by_id(qs, key) == NULL)
            return err_set(e, ERR_INVALID, field, "no question %.40s in this survey", key);
    }
    if (other != NULL && !json_is_object(other))
        return err_set(e, ERR_INVALID, "other", "other must be an object {\"question id\": text}");
    json_object_foreach((json_t *)(uintptr_t)other, key, v) {
        const json_t *oq = question_by_id(qs, key);
        snprintf(field, sizeof(field), "other.%.60s", key);
        if (oq == NULL || !json_is_true(json_object_get(oq, "other")))
            return err_set(e, ERR_INVALID, field, "question %.40s has no \"other\" choice", key);
        if (!json_is_string(v) || jx_utf8_len(json_string_value(v)) > 500)
            return err_set(e, ERR_INVALID, field, "%s must be a text of at most 500 characters",
                           field);
    }
    out->answers = json_object();
    out->other = json_object();
    out->facets = json_array();
    out->dropped = json_array();
    out->complete = true;
    json_array_foreach(qs, i, q) {
        const char *qid = jx_str(q, "id");
        const json_t *cond = json_object_get(q, "show_if");
        int k = surveys_kind_parse(jx_str(q, "kind")), lo, hi;
        bool visible = cond == NULL ||
                       condition_holds(cond, json_object_get(out->answers, jx_str(cond, "question")));

        v = json_object_get(answers, qid);
        snprintf(field, sizeof(field), "answers.%s", qid);
        if (!visible) {
            if (v != NULL && !json_is_null(v))
                json_array_append_new(out->dropped, json_string(qid));
            continue;
        }
        /* An empty text or null is "no answer". */
        if (v != NULL && (json_is_null(v) ||
                          (k == SURVEYS_TEXT && json_is_string(v) && json_string_length(v) == 0)))
            v = NULL;
        if (v == NULL) {
            if (json_is_true(json_object_get(q, "required"))) {
                if (!partial) {
                    surveys_answers_clear(out);
                    return err_set(e, ERR_INVALID, field, "question %s is required", qid);
                }
                out->complete = false;
            }
            continue;
        }
        if (answer_check(q, v, field, e) < 0) {
            surveys_answers_clear(out);
            return -1;
        }
        json_object_set(out->answers, qid, (json_t *)(uintptr_t)v);
        json_array_append_new(out->facets, json_string(qid));
        if (k == SURVEYS_TEXT) {
            size_t n = json_string_length(v);
            search.p = xrealloc(search.p, search.n + n + 2);
            if (search.n)
                search.p[search.n++] = '\n';
            memcpy(search.p + search.n, json_string_value(v), n);
            search.n += n;
            search.p[search.n] = '\0';
        } else if (k == SURVEYS_MULTIPLE) {
            json_t *c;
            size_t j;
            json_array_foreach(v, j, c)
                add_facet(out->facets, qid, c);
        } else {
            add_facet(out->facets, qid, v);
        }
        if (out->score < 0 && surveys_kind_scale(k, &lo, &hi))
            out->score = (int)json_integer_value(v);
        {
            json_t *ot = json_object_get(other, qid);
            bool chose_other = false;
            if (json_is_string(v))
                chose_other = strcmp(json_string_value(v), "other") == 0;
            else if (json_is_array(v)) {
                json_t *c;
                size_t j;
                json_array_foreach(v, j, c)
                    chose_other = chose_other || strcmp(json_string_value(c), "other") == 0;
            }
            if (ot != NULL && json_string_length(ot) > 0 && chose_other)
                json_object_set(out->other, qid, ot);
        }
    }
    /* "other" texts of questions that are hidden or did not choose "other"
     * are dropped with them (kept answers only). */
    out->search = search.p ? search.p : xstrdup("");
    return 0;
}

/* ---- report math ------------------------------------------------------------------- */

static double
round2(double x)
{
    return round(x * 100.0) / 100.0;
}

void
surveys_nps_compute(const int64_t counts[11], struct surveys_nps *o)
{
    double p, d;

    memset(o, 0, sizeof(*o));
    for (int s = 0; s <= 10; s++) {
        o->n += counts[s];
        if (s >= 9)
            o->promoters += counts[s];
        else if (s >= 7)
            o->passives += counts[s];
        else
            o->detractors += counts[s];
    }
    if (o->n == 0)
        return;
    p = (double)o->promoters / (double)o->n;
    d = (double)o->detractors / (double)o->n;
    o->nps = 100.0 * (p - d);
    /* Each answer scores +1 (promoter), 0 or -1 (detractor); NPS is 100 x
     * their mean. Variance of those scores: E[x^2] - E[x]^2 = p + d - (p-d)^2. */
    o->moe = 100.0 * 1.96 * sqrt((p + d - (p - d) * (p - d)) / (double)o->n);
}

static int64_t
count_of(const json_t *counts, const char *qid, const char *value)
{
    char key[128];
    if (value)
        snprintf(key, sizeof(key), "%s=%s", qid, value);
    else
        snprintf(key, sizeof(key), "%s", qid);
    return json_integer_value(json_object_get(counts, key));
}

json_t *
surveys_metrics(const json_t *qs, const json_t *counts)
{
    int64_t sent = json_integer_value(json_object_get(counts, "#sent"));
    int64_t responses = json_integer_value(json_object_get(counts, "#response"));
    json_t *out = json_object(), *questions = json_array(), *q;
    json_t *nps = json_null(), *csat = json_null(), *ces = json_null();
    size_t i;

    json_object_set_new(out, "invitations_sent", json_integer(sent));
    json_object_set_new(out, "responses", json_integer(responses));
    json_object_set_new(out, "response_rate",
                        sent > 0 ? json_real(round((double)responses / (double)sent * 10000) / 10000)
                                 : json_null());
    json_array_foreach(qs, i, q) {
        const char *qid = jx_str(q, "id");
        int k = surveys_kind_parse(jx_str(q, "kind")), lo, hi;
        int64_t answered = count_of(counts, qid, NULL);
        json_t *dist = json_object(), *qo;
        char v[48];

        qo = json_pack("{s:s, s:s, s:I}", "id", qid, "kind", jx_str(q, "kind"), "answered",
                       (json_int_t)answered);
        if (surveys_kind_scale(k, &lo, &hi)) {
            int64_t c[11] = {0}, sum = 0, top = 0;
            for (int s = lo; s <= hi; s++) {
                snprintf(v, sizeof(v), "%d", s);
                c[s] = count_of(counts, qid, v);
                sum += c[s] * s;
                if (s >= 4)
                    top += c[s];
                json_object_set_new(dist, v, json_integer(c[s]));
            }
            json_object_set_new(qo, "mean",
                                answered > 0 ? json_real(round2((double)sum / (double)answered))
                                             : json_null());
            if (k == SURVEYS_NPS) {
                struct surveys_nps r;
                surveys_nps_compute(c, &r);
                json_object_set_new(
                    qo, "nps",
                    r.n > 0 ? json_pack("{s:s, s:f, s:f, s:I, s:I, s:I, s:I}", "question", qid,
                                        "score", round2(r.nps), "margin_of_error", round2(r.moe),
                                        "promoters", (json_int_t)r.promoters, "passives",
                                        (json_int_t)r.passives, "detractors",
                                        (json_int_t)r.detractors, "n", (json_int_t)r.n)
                            : json_null());
                if (json_is_null(nps))
                    nps = json_incref(json_object_get(qo, "nps"));
            } else if (k == SURVEYS_CSAT) {
                /* CSAT: the share of satisfied answers (4 or 5), in percent. */
                json_t *cs = answered > 0 ? json_pack("{s:s, s:f, s:I, s:I}", "question", qid,
                                                      "score",
                                                      round2(100.0 * (double)top / (double)answered),
                                                      "satisfied", (json_int_t)top, "n",
                                                      (json_int_t)answered)
                                          : json_null();
                json_object_set_new(qo, "csat", cs);
                if (json_is_null(csat))
                    csat = json_incref(cs);
            } else if (k == SURVEYS_CES && json_is_null(ces) && answered > 0) {
                ces = json_pack("{s:s, s:O, s:I}", "question", qid, "mean",
                                json_object_get(qo, "mean"), "n", (json_int_t)answered);
            }
        } else if (k == SURVEYS_SINGLE || k == SURVEYS_MULTIPLE) {
            json_t *c;
            size_t j;
            json_array_foreach(json_object_get(q, "choices"), j, c)
                json_object_set_new(dist, jx_str(c, "id"),
                                    json_integer(count_of(counts, qid, jx_str(c, "id"))));
            if (json_is_true(json_object_get(q, "other")))
                json_object_set_new(dist, "other", json_integer(count_of(counts, qid, "other")));
        }
        if (k != SURVEYS_TEXT)
            json_object_set_new(qo, "distribution", dist);
        else
            json_decref(dist);
        json_array_append_new(questions, qo);
    }
    json_object_set_new(out, "nps", nps);
    json_object_set_new(out, "csat", csat);
    json_object_set_new(out, "ces", ces);
    json_object_set_new(out, "questions", questions);
    return out;
}

/* ---- the answer page ------------------------------------------------------------- */

bool
surveys_question_visible(const json_t *q, const json_t *kept)
{
    const json_t *cond = json_object_get(q, "show_if");

    return cond == NULL || condition_holds(cond, json_object_get(kept, jx_str(cond, "question")));
}

int
surveys_answer_check(const json_t *q, const json_t *v, const char *field, struct err *e)
{
    return answer_check(q, v, field, e);
}
