/*
 * test_surveys_rules.c - the pure rules of surveys: the definition's
 * validation (each refusal names its field), the templates, conditions on
 * earlier answers, the audience filters, deterministic sampling, and the
 * report math (NPS with its margin of error, CSAT, CES) against figures
 * computed by hand. Pure: no database, no network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "aftersale/surveys/rules.h"
#include "aftersale/surveys/surveys.h"

static json_t *
parse(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        fail_msg("bad test JSON at %d: %s\n%s", jerr.position, jerr.text, text);
    return v;
}

/* A parsed value the test only borrows: released at the end of the test. */
static json_t *kept[16];
static int nkept;

static json_t *
tmp(const char *text)
{
    json_t *v = parse(text);
    if (nkept == 16)
        fail_msg("too many kept values");
    kept[nkept++] = v;
    return v;
}

static int
release_kept(void **state)
{
    (void)state;
    while (nkept > 0)
        json_decref(kept[--nkept]);
    return 0;
}

/* Expect `questions` to be refused naming `field`. */
static void
refused(const char *questions, const char *field)
{
    json_t *q = parse(questions);
    struct err e = {0};
    json_t *out = surveys_questions_check(q, &e);
    if (out != NULL)
        fail_msg("accepted: %s", questions);
    if (e.kind != ERR_INVALID || strcmp(e.field, field) != 0)
        fail_msg("field '%s' (%s), want '%s' for %s", e.field, e.detail, field, questions);
    json_decref(q);
}

#define NPS_Q "{\"id\":\"nps\",\"kind\":\"nps\",\"label\":{\"en\":\"Recommend?\"}}"
#define TXT_Q(id) "{\"id\":\"" id "\",\"kind\":\"text\",\"label\":{\"en\":\"Why?\"}}"
#define CHOICE_Q                                                                                   \
    "{\"id\":\"src\",\"kind\":\"single_choice\",\"other\":true,\"label\":{\"en\":\"Where?\"},"     \
    "\"choices\":[{\"id\":\"web\",\"label\":{\"en\":\"Web\"}},{\"id\":\"tv\",\"label\":{\"en\":"   \
    "\"TV\"}}]}"

static void
questions_valid_normalised(void **state)
{
    (void)state;
    json_t *q = parse("[" NPS_Q "," CHOICE_Q ",{\"id\":\"why\",\"kind\":\"text\",\"required\":true,"
                      "\"label\":{\"en\":\"Why?\",\"de\":\"Warum?\"},"
                      "\"show_if\":{\"question\":\"nps\",\"lte\":6}}]");
    struct err e = {0};
    json_t *out = surveys_questions_check(q, &e);
    assert_non_null(out);
    assert_int_equal(json_array_size(out), 3);
    assert_true(json_is_false(json_object_get(json_array_get(out, 0), "required")));
    assert_true(json_is_true(json_object_get(json_array_get(out, 1), "other")));
    assert_true(json_is_true(json_object_get(json_array_get(out, 2), "required")));
    json_decref(out);
    json_decref(q);
}

static void
questions_refusals_name_fields(void **state)
{
    (void)state;
    refused("[]", "questions");
    refused("{}", "questions");
    refused("[" NPS_Q "," NPS_Q "]", "questions[1].id");
    refused("[{\"id\":\"a b\",\"kind\":\"nps\",\"label\":{\"en\":\"x\"}}]", "questions[0].id");
    refused("[{\"id\":\"a\",\"kind\":\"slider\",\"label\":{\"en\":\"x\"}}]", "questions[0].kind");
    refused("[{\"id\":\"a\",\"kind\":\"nps\",\"label\":{\"en\":\"\"}}]", "questions[0].label.en");
    refused("[{\"id\":\"a\",\"kind\":\"nps\",\"label\":{\"en\":\"  \"}}]", "questions[0].label.en");
    refused("[{\"id\":\"a\",\"kind\":\"nps\",\"label\":{}}]", "questions[0].label");
    refused("[{\"id\":\"a\",\"kind\":\"nps\",\"label\":{\"english\":\"x\"}}]",
            "questions[0].label.english");
    refused("[{\"id\":\"a\",\"kind\":\"nps\"}]", "questions[0].label");
    refused("[{\"id\":\"a\",\"kind\":\"nps\",\"label\":{\"en\":\"x\"},\"color\":1}]",
            "questions[0].color");
    /* choices */
    refused("[{\"id\":\"a\",\"kind\":\"single_choice\",\"label\":{\"en\":\"x\"}}]",
            "questions[0].choices");
    refused("[{\"id\":\"a\",\"kind\":\"single_choice\",\"label\":{\"en\":\"x\"},\"choices\":["
            "{\"id\":\"b\",\"label\":{\"en\":\"B\"}},{\"id\":\"b\",\"label\":{\"en\":\"C\"}}]}]",
            "questions[0].choices[1].id");
    refused("[{\"id\":\"a\",\"kind\":\"single_choice\",\"label\":{\"en\":\"x\"},\"choices\":["
            "{\"id\":\"other\",\"label\":{\"en\":\"B\"}}]}]",
            "questions[0].choices[0].id");
    refused("[{\"id\":\"a\",\"kind\":\"multiple_choice\",\"label\":{\"en\":\"x\"},\"choices\":["
            "{\"id\":\"b\",\"label\":{\"en\":\"\"}}]}]",
            "questions[0].choices[0].label.en");
    refused("[{\"id\":\"a\",\"kind\":\"nps\",\"label\":{\"en\":\"x\"},\"choices\":[]}]",
            "questions[0].choices");
}

static void
conditions_refusals_name_fields(void **state)
{
    (void)state;
    refused("[{\"id\":\"why\",\"kind\":\"text\",\"label\":{\"en\":\"W\"},"
            "\"show_if\":{\"question\":\"nps\",\"lte\":6}}," NPS_Q "]",
            "questions[0].show_if.question");
    refused("[" NPS_Q ",{\"id\":\"why\",\"kind\":\"text\",\"label\":{\"en\":\"W\"},"
            "\"show_if\":{\"question\":\"why\",\"lte\":6}}]",
            "questions[1].show_if.question");
    refused("[" NPS_Q ",{\"id\":\"why\",\"kind\":\"text\",\"label\":{\"en\":\"W\"},"
            "\"show_if\":{\"question\":\"nope\",\"lte\":6}}]",
            "questions[1].show_if.question");
    refused("[" NPS_Q ",{\"id\":\"why\",\"kind\":\"text\",\"label\":{\"en\":\"W\"},"
            "\"show_if\":{\"question\":\"nps\",\"lte\":11}}]",
            "questions[1].show_if.lte");
    refused("[" NPS_Q ",{\"id\":\"why\",\"kind\":\"text\",\"label\":{\"en\":\"W\"},"
            "\"show_if\":{\"question\":\"nps\",\"eq\":\"web\"}}]",
            "questions[1].show_if.eq");
    refused("[" NPS_Q ",{\"id\":\"why\",\"kind\":\"text\",\"label\":{\"en\":\"W\"},"
            "\"show_if\":{\"question\":\"nps\",\"lte\":6,\"gte\":2}}]",
            "questions[1].show_if");
    refused("[" NPS_Q ",{\"id\":\"why\",\"kind\":\"text\",\"label\":{\"en\":\"W\"},"
            "\"show_if\":{\"question\":\"nps\"}}]",
            "questions[1].show_if");
    refused("[" CHOICE_Q ",{\"id\":\"why\",\"kind\":\"text\",\"label\":{\"en\":\"W\"},"
            "\"show_if\":{\"question\":\"src\",\"in\":[\"web\",\"radio\"]}}]",
            "questions[1].show_if.in[1]");
    refused("[" CHOICE_Q ",{\"id\":\"why\",\"kind\":\"text\",\"label\":{\"en\":\"W\"},"
            "\"show_if\":{\"question\":\"src\",\"gte\":2}}]",
            "questions[1].show_if.gte");
    refused("[" TXT_Q("a") ",{\"id\":\"why\",\"kind\":\"text\",\"label\":{\"en\":\"W\"},"
            "\"show_if\":{\"question\":\"a\",\"eq\":\"x\"}}]",
            "questions[1].show_if.question");
}

static void
many_questions(char *buf, size_t len, int count)
{
    size_t n = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < count; i++)
        n += (size_t)snprintf(buf + n, len - n,
                              "%s{\"id\":\"q%d\",\"kind\":\"rating\",\"label\":{\"en\":\"Q\"}}",
                              i ? "," : "", i);
    snprintf(buf + n, len - n, "]");
}

static void
at_most_twenty_questions(void **state)
{
    (void)state;
    char buf[8192];
    struct err e = {0};
    json_t *q, *out;

    many_questions(buf, sizeof(buf), 21);
    refused(buf, "questions");
    many_questions(buf, sizeof(buf), 20);
    q = parse(buf);
    out = surveys_questions_check(q, &e);
    assert_non_null(out);
    assert_int_equal(json_array_size(out), 20);
    json_decref(out);
    json_decref(q);
}

static void
settings_defaults_and_refusals(void **state)
{
    (void)state;
    struct err e = {0};
    json_t *s = surveys_settings_merge(NULL, NULL, &e), *in;
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"trigger\":{\"event\":\"order.paid\"}}", "trigger.event"},
        {"{\"trigger\":{\"delay\":\"P1M\"}}", "trigger.delay"},
        {"{\"trigger\":{\"wait\":\"P1D\"}}", "trigger.wait"},
        {"{\"audience\":{\"customers\":\"vip\"}}", "audience.customers"},
        {"{\"audience\":{\"countries\":[\"SK\",\"svk\"]}}", "audience.countries[1]"},
        {"{\"audience\":{\"min_total\":\"abc\"}}", "audience.min_total"},
        {"{\"audience\":{\"min_total\":\"50\",\"max_total\":\"10\"}}", "audience.max_total"},
        {"{\"audience\":{\"include_products\":[1,-2]}}", "audience.include_products[1]"},
        {"{\"audience\":{\"categories\":[1]}}", "audience.categories"},
        {"{\"sampling_rate\":1.5}", "sampling_rate"},
        {"{\"recontact_days\":-1}", "recontact_days"},
        {"{\"expiry\":\"PT1S\"}", "expiry"},
        {"{\"reminders\":3}", "reminders"},
        {"{\"reminders\":{\"count\":4}}", "reminders.count"},
        {"{\"reminders\":{\"count\":1,\"delay\":\"soon\"}}", "reminders.delay"},
        {"{\"reminders\":{\"every\":\"P1D\"}}", "reminders.every"},
        {"{\"channel\":\"sms\"}", "channel"},
        /* nothing emits order.placed: only a link survey (the thank-you page) */
        {"{\"trigger\":{\"event\":\"order.placed\"}}", "trigger.event"},
    };

    assert_non_null(s);
    assert_string_equal(json_string_value(json_object_get(json_object_get(s, "trigger"), "event")),
                        "order.completed");
    assert_string_equal(json_string_value(json_object_get(json_object_get(s, "trigger"), "delay")),
                        "P7D");
    assert_int_equal(surveys_rate_bp(s), 10000);
    in = parse("{\"trigger\":{\"event\":\"order.delivered\",\"delay\":\"PT48H\"},"
               "\"sampling_rate\":0.25}");
    {
        json_t *m = surveys_settings_merge(s, in, &e);
        assert_non_null(m);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(m, "trigger"), "delay")), "P2D");
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(m, "trigger"), "event")),
            "order.delivered");
        assert_int_equal(surveys_rate_bp(m), 2500);
        /* Reminders are optional: absent unless given. */
        assert_null(json_object_get(m, "reminders"));
        assert_string_equal(json_string_value(json_object_get(m, "channel")), "email");
        json_decref(m);
    }
    {
        json_t *b = parse("{\"channel\":\"link\",\"trigger\":{\"event\":\"order.placed\","
                          "\"delay\":\"PT0S\"}}");
        json_t *m = surveys_settings_merge(s, b, &e);
        assert_non_null(m);
        assert_string_equal(json_string_value(json_object_get(m, "channel")), "link");
        json_decref(m);
        json_decref(b);
    }
    json_decref(in);
    in = parse("{\"reminders\":{\"count\":2,\"delay\":\"PT72H\"}}");
    {
        json_t *m = surveys_settings_merge(s, in, &e), *r;
        assert_non_null(m);
        r = json_object_get(m, "reminders");
        assert_int_equal(json_integer_value(json_object_get(r, "count")), 2);
        assert_string_equal(json_string_value(json_object_get(r, "delay")), "P3D");
        json_decref(m);
    }
    json_decref(in);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *b = parse(bad[i].body), *m;
        err_clear(&e);
        m = surveys_settings_merge(s, b, &e);
        if (m != NULL || strcmp(e.field, bad[i].field) != 0)
            fail_msg("%s: field '%s', want '%s'", bad[i].body, e.field, bad[i].field);
        json_decref(b);
    }
    json_decref(s);
}

static void
templates_are_valid(void **state)
{
    (void)state;
    json_t *all = surveys_templates(), *t;
    size_t i;
    const char *names[] = {"post_purchase_nps", "delivery_csat", "checkout_ces",
                           "how_did_you_hear"};

    assert_int_equal(json_array_size(all), 4);
    json_array_foreach(all, i, t) {
        assert_string_equal(json_string_value(json_object_get(t, "name")), names[i]);
        assert_true(json_is_array(json_object_get(t, "questions")));
        assert_true(json_is_object(json_object_get(t, "settings")));
    }
    json_decref(all);
    t = surveys_template("post_purchase_nps");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(t, "questions"), 0),
                                          "kind")),
        "nps");
    json_decref(t);
    assert_null(surveys_template("nope"));
}

static void
audience_filters(void **state)
{
    (void)state;
    json_t *s = surveys_settings_merge(
        NULL,
        tmp("{\"audience\":{\"customers\":\"repeat\",\"countries\":[\"SK\",\"CZ\"],"
              "\"min_total\":\"20.00\",\"max_total\":\"100\",\"include_products\":[5,6],"
              "\"exclude_products\":[9]}}"),
        NULL);
    int64_t p56[] = {5, 7}, p9[] = {5, 9}, p7[] = {7};
    struct surveys_order o = {.order_id = 1, .first_order = false, .country = "SK",
                              .total = "20.00", .products = p56, .nproducts = 2};
    const char *why;

    assert_non_null(s);
    assert_true(surveys_audience_match(s, &o, &why));
    o.first_order = true;
    assert_false(surveys_audience_match(s, &o, &why));
    assert_string_equal(why, "not a repeat customer");
    o.first_order = false;
    o.country = "AT";
    assert_false(surveys_audience_match(s, &o, &why));
    o.country = "CZ";
    o.total = "19.99";
    assert_false(surveys_audience_match(s, &o, &why));
    assert_string_equal(why, "order total below min_total");
    o.total = "100.000001";
    assert_false(surveys_audience_match(s, &o, &why));
    o.total = "100";
    assert_true(surveys_audience_match(s, &o, &why));
    o.products = p9;
    assert_false(surveys_audience_match(s, &o, &why));
    assert_string_equal(why, "order has an excluded product");
    o.products = p7;
    o.nproducts = 1;
    assert_false(surveys_audience_match(s, &o, &why));
    assert_string_equal(why, "order has none of the included products");
    json_decref(s);
}

static void
audience_categories(void **state)
{
    (void)state;
    json_t *s = surveys_settings_merge(
        NULL, tmp("{\"audience\":{\"include_categories\":[3,4],\"exclude_categories\":[9]}}"),
        NULL);
    int64_t c3[] = {1, 3}, c9[] = {3, 9}, c1[] = {1};
    struct surveys_order o = {.order_id = 1, .country = "SK", .total = "20.00",
                              .categories = c3, .ncategories = 2};
    const char *why;
    struct err e = {0};

    assert_non_null(s);
    assert_true(surveys_audience_has_categories(s));
    assert_true(surveys_audience_match(s, &o, &why));
    o.categories = c9;
    assert_false(surveys_audience_match(s, &o, &why));
    assert_string_equal(why, "order has a product of an excluded category");
    o.categories = c1;
    o.ncategories = 1;
    assert_false(surveys_audience_match(s, &o, &why));
    assert_string_equal(why, "order has no product of the included categories");
    /* Unknown yet: the schedule passes it, the categories alone decide later
     * with what is known then (nothing known: no category). */
    o.categories_unknown = true;
    assert_true(surveys_audience_match(s, &o, &why));
    o.ncategories = 0;
    assert_false(surveys_audience_categories_match(s, &o, &why));
    json_decref(s);
    /* Defaults: empty lists, no filter; validation names the path. */
    s = surveys_settings_merge(NULL, tmp("{}"), NULL);
    assert_int_equal(json_array_size(json_object_get(json_object_get(s, "audience"),
                                                     "include_categories")), 0);
    assert_false(surveys_audience_has_categories(s));
    json_decref(s);
    assert_null(surveys_settings_merge(
        NULL, tmp("{\"audience\":{\"exclude_categories\":[2,\"x\"]}}"), &e));
    assert_string_equal(e.field, "audience.exclude_categories[1]");
}

static void
sampling_deterministic_and_fair(void **state)
{
    (void)state;
    int in = 0;
    for (int64_t order = 1; order <= 20000; order++) {
        bool a = surveys_sampled(7, order, 2500);
        assert_true(a == surveys_sampled(7, order, 2500));
        /* a larger rate keeps every order a smaller one picked */
        if (a)
            assert_true(surveys_sampled(7, order, 5000));
        in += a;
    }
    /* 25% of 20000 = 5000; 4 standard deviations is about 245 */
    assert_in_range(in, 4755, 5245);
    assert_true(surveys_sampled(1, 1, 10000));
    assert_false(surveys_sampled(1, 1, 0));
    /* another survey draws another sample */
    {
        int same = 0;
        for (int64_t order = 1; order <= 1000; order++)
            same += surveys_sampled(7, order, 5000) == surveys_sampled(8, order, 5000);
        assert_in_range(same, 400, 600);
    }
}

static void
answers_conditions_and_drops(void **state)
{
    (void)state;
    json_t *qs = surveys_questions_check(
        tmp("[{\"id\":\"nps\",\"kind\":\"nps\",\"required\":true,\"label\":{\"en\":\"R\"}},"
              "{\"id\":\"bad\",\"kind\":\"text\",\"required\":true,\"label\":{\"en\":\"W\"},"
              "\"show_if\":{\"question\":\"nps\",\"lte\":6}},"
              "{\"id\":\"src\",\"kind\":\"multiple_choice\",\"other\":true,\"label\":{\"en\":\"S\"},"
              "\"choices\":[{\"id\":\"web\",\"label\":{\"en\":\"Web\"}},"
              "{\"id\":\"tv\",\"label\":{\"en\":\"TV\"}}]},"
              "{\"id\":\"tvq\",\"kind\":\"rating\",\"label\":{\"en\":\"T\"},"
              "\"show_if\":{\"question\":\"src\",\"eq\":\"tv\"}}]"),
        NULL);
    struct surveys_answers a;
    struct err e = {0};
    json_t *ans;

    assert_non_null(qs);
    /* a promoter's answer to the detractors' follow-up is dropped */
    ans = parse("{\"nps\":9,\"bad\":\"slow\",\"src\":[\"tv\",\"other\"],\"tvq\":4}");
    assert_int_equal(surveys_answers_check(qs, ans, tmp("{\"src\":\"a friend\"}"), false, &a, &e),
                     0);
    assert_null(json_object_get(a.answers, "bad"));
    assert_int_equal(json_array_size(a.dropped), 1);
    assert_string_equal(json_string_value(json_array_get(a.dropped, 0)), "bad");
    assert_int_equal(a.score, 9);
    assert_true(a.complete);
    assert_string_equal(json_string_value(json_object_get(a.other, "src")), "a friend");
    {
        char *f = json_dumps(a.facets, JSON_COMPACT);
        assert_string_equal(f, "[\"nps\",\"nps=9\",\"src\",\"src=tv\",\"src=other\",\"tvq\",\"tvq=4\"]");
        free(f);
    }
    surveys_answers_clear(&a);
    json_decref(ans);
    /* a detractor must answer the follow-up (required and visible) */
    ans = parse("{\"nps\":3}");
    assert_int_equal(surveys_answers_check(qs, ans, NULL, false, &a, &e), -1);
    assert_string_equal(e.field, "answers.bad");
    /* ... unless the answer is partial (the one-click score) */
    assert_int_equal(surveys_answers_check(qs, ans, NULL, true, &a, &e), 0);
    assert_false(a.complete);
    surveys_answers_clear(&a);
    json_decref(ans);
    /* values out of range, unknown questions and choices name their field */
    ans = parse("{\"nps\":11}");
    assert_int_equal(surveys_answers_check(qs, ans, NULL, true, &a, &e), -1);
    assert_string_equal(e.field, "answers.nps");
    json_decref(ans);
    ans = parse("{\"nps\":9,\"zzz\":1}");
    assert_int_equal(surveys_answers_check(qs, ans, NULL, true, &a, &e), -1);
    assert_string_equal(e.field, "answers.zzz");
    json_decref(ans);
    ans = parse("{\"nps\":9,\"src\":[\"web\",\"web\"]}");
    assert_int_equal(surveys_answers_check(qs, ans, NULL, true, &a, &e), -1);
    assert_string_equal(e.field, "answers.src");
    json_decref(ans);
    ans = parse("{\"nps\":\"9\"}");
    assert_int_equal(surveys_answers_check(qs, ans, NULL, true, &a, &e), -1);
    assert_string_equal(e.field, "answers.nps");
    json_decref(ans);
    json_decref(qs);
}

static void
nps_and_margin_of_error(void **state)
{
    (void)state;
    /* 50 promoters, 30 passives, 20 detractors: NPS 30; p = .5, d = .2,
     * var = .5 + .2 - .3^2 = .61, MOE = 1.96 * sqrt(.61/100) * 100 = 15.308 */
    int64_t c[11] = {0};
    struct surveys_nps r;
    c[10] = 30;
    c[9] = 20;
    c[8] = 20;
    c[7] = 10;
    c[5] = 15;
    c[0] = 5;
    surveys_nps_compute(c, &r);
    assert_int_equal(r.n, 100);
    assert_int_equal(r.promoters, 50);
    assert_int_equal(r.passives, 30);
    assert_int_equal(r.detractors, 20);
    assert_true(fabs(r.nps - 30.0) < 1e-9);
    assert_true(fabs(r.moe - 1.96 * sqrt(0.61 / 100) * 100) < 1e-9);
    assert_true(fabs(r.moe - 15.308) < 0.001);
    /* all promoters: no variance */
    memset(c, 0, sizeof(c));
    c[10] = 4;
    surveys_nps_compute(c, &r);
    assert_true(fabs(r.nps - 100) < 1e-9 && fabs(r.moe) < 1e-9);
    memset(c, 0, sizeof(c));
    surveys_nps_compute(c, &r);
    assert_int_equal(r.n, 0);
}

static void
metrics_from_counts(void **state)
{
    (void)state;
    json_t *qs = surveys_questions_check(
        tmp("[{\"id\":\"n\",\"kind\":\"nps\",\"label\":{\"en\":\"R\"}},"
              "{\"id\":\"c\",\"kind\":\"csat\",\"label\":{\"en\":\"C\"}},"
              "{\"id\":\"e\",\"kind\":\"ces\",\"label\":{\"en\":\"E\"}}]"),
        NULL);
    json_t *counts = parse("{\"#sent\":8,\"#response\":4,\"n\":4,\"n=10\":2,\"n=7\":1,\"n=3\":1,"
                           "\"c\":4,\"c=5\":1,\"c=4\":2,\"c=1\":1,\"e\":3,\"e=7\":1,\"e=6\":1,"
                           "\"e=2\":1}");
    json_t *m = surveys_metrics(qs, counts), *nps;

    assert_int_equal(json_integer_value(json_object_get(m, "invitations_sent")), 8);
    assert_true(fabs(json_real_value(json_object_get(m, "response_rate")) - 0.5) < 1e-9);
    nps = json_object_get(m, "nps");
    /* 2 promoters, 1 passive, 1 detractor of 4: NPS 25; var = .75 - .0625 = .6875,
     * MOE = 1.96 * sqrt(.6875 / 4) * 100 = 81.26 */
    assert_true(fabs(json_real_value(json_object_get(nps, "score")) - 25) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(nps, "margin_of_error")) - 81.26) < 1e-9);
    assert_true(fabs(json_real_value(json_object_get(json_object_get(m, "csat"), "score")) - 75) <
                1e-9);
    assert_true(fabs(json_real_value(json_object_get(json_object_get(m, "ces"), "mean")) - 5) <
                1e-9);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_array_get(json_object_get(m, "questions"), 0),
                                         "distribution"),
                         "10")),
                     2);
    json_decref(m);
    json_decref(counts);
    json_decref(qs);
}

static void
csv_fields_quoted_and_neutralised(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},
        {"", ""},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"two\r\nlines", "\"two\r\nlines\""},
        {"=1+2", "\"'=1+2\""},
        {"+1", "\"'+1\""},
        {"-2", "\"'-2\""},
        {"@SUM(A1)", "\"'@SUM(A1)\""},
        {"\tx", "\"'\tx\""},
        {"=HYPERLINK(\"u\",\"v\")", "\"'=HYPERLINK(\"\"u\"\",\"\"v\"\")\""},
        {"a=b", "a=b"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf b = {0};
        surveys_csv_field(&b, cases[i].in);
        buf_puts(&b, "");
        if (strcmp(b.data, cases[i].out) != 0)
            fail_msg("%s -> %s, want %s", cases[i].in, b.data, cases[i].out);
        buf_free(&b);
    }
}

/* The answer page: which questions show for the kept answers, and one
 * answer's check. */
static void
page_visibility_and_one_answer(void **state)
{
    (void)state;
    json_t *qs = surveys_questions_check(
        tmp("[{\"id\":\"nps\",\"kind\":\"nps\",\"required\":true,\"label\":{\"en\":\"R\"}},"
              "{\"id\":\"bad\",\"kind\":\"text\",\"label\":{\"en\":\"W\"},"
              "\"show_if\":{\"question\":\"nps\",\"lte\":6}},"
              "{\"id\":\"pick\",\"kind\":\"single_choice\",\"other\":true,\"label\":{\"en\":\"P\"},"
              "\"choices\":[{\"id\":\"a\",\"label\":{\"en\":\"A\"}}],"
              "\"show_if\":{\"question\":\"nps\",\"gte\":9}}]"),
        NULL);
    json_t *none = tmp("{}"), *det = tmp("{\"nps\":3}"), *pro = tmp("{\"nps\":10}");
    struct err e = {0};
    json_t *v;

    assert_non_null(qs);
    kept[nkept++] = qs;
    /* no score yet: neither follow-up shows */
    assert_true(surveys_question_visible(json_array_get(qs, 0), none));
    assert_false(surveys_question_visible(json_array_get(qs, 1), none));
    assert_false(surveys_question_visible(json_array_get(qs, 2), none));
    assert_true(surveys_question_visible(json_array_get(qs, 1), det));
    assert_false(surveys_question_visible(json_array_get(qs, 2), det));
    assert_false(surveys_question_visible(json_array_get(qs, 1), pro));
    assert_true(surveys_question_visible(json_array_get(qs, 2), pro));
    v = json_integer(11);
    assert_int_equal(surveys_answer_check(json_array_get(qs, 0), v, "answers.nps", &e), -1);
    assert_string_equal(e.field, "answers.nps");
    json_decref(v);
    v = json_string("other");
    assert_int_equal(surveys_answer_check(json_array_get(qs, 2), v, "answers.pick", &e), 0);
    json_decref(v);
    v = json_string("b");
    assert_int_equal(surveys_answer_check(json_array_get(qs, 2), v, "answers.pick", &e), -1);
    json_decref(v);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(questions_valid_normalised, release_kept),
        cmocka_unit_test_teardown(questions_refusals_name_fields, release_kept),
        cmocka_unit_test_teardown(conditions_refusals_name_fields, release_kept),
        cmocka_unit_test_teardown(at_most_twenty_questions, release_kept),
        cmocka_unit_test_teardown(settings_defaults_and_refusals, release_kept),
        cmocka_unit_test_teardown(templates_are_valid, release_kept),
        cmocka_unit_test_teardown(audience_filters, release_kept),
        cmocka_unit_test_teardown(audience_categories, release_kept),
        cmocka_unit_test_teardown(sampling_deterministic_and_fair, release_kept),
        cmocka_unit_test_teardown(answers_conditions_and_drops, release_kept),
        cmocka_unit_test_teardown(nps_and_margin_of_error, release_kept),
        cmocka_unit_test_teardown(metrics_from_counts, release_kept),
        cmocka_unit_test_teardown(csv_fields_quoted_and_neutralised, release_kept),
        cmocka_unit_test_teardown(page_visibility_and_one_answer, release_kept),
    };
    return cmocka_run_group_tests_name("surveys_rules", tests, NULL, NULL);
}
