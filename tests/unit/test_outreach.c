/*
 * test_outreach.c - the pure parts of the outreach layer: the catalogues
 * (every key of "en" in every locale with the same placeholders, real
 * translations), locale negotiation, the built-in email templates in every
 * locale, and the messaging settings (defaults, round trip, one named
 * field per refusal, the struct untouched on error). Pure: no database,
 * no network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aftersale/mail/templates.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/rules.h"
#include "aftersale/outreach/templates.h"

#define DAY 86400

static json_t *
parse(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (v == NULL)
        fail_msg("bad test JSON: %s: %s", jerr.text, text);
    return v;
}

/* The sorted, space-joined {{names}} of a text. */
static void
placeholders(const char *s, char *out, size_t size)
{
    char names[16][48];
    int n = 0;

    out[0] = '\0';
    for (const char *p = strstr(s, "{{"); p != NULL && n < 16; p = strstr(p + 2, "{{")) {
        const char *q = strstr(p, "}}");
        if (q == NULL)
            break;
        snprintf(names[n++], sizeof(names[0]), "%.*s", (int)(q - p - 2), p + 2);
    }
    for (int i = 1; i < n; i++) /* insertion sort: a handful */
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[48];
            memcpy(t, names[j], sizeof(t));
            memcpy(names[j], names[j - 1], sizeof(t));
            memcpy(names[j - 1], t, sizeof(t));
        }
    for (int i = 0; i < n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s%s", i ? " " : "", names[i]);
    }
}

/* ---- catalogues ---------------------------------------------------------- */

static void
catalogues_are_complete(void **state)
{
    static const char *const want[] = {"en", "de", "pl", "sk", "tr", "bg", "zh-Hans"};
    size_t n = 0;
    const char *const *locales = outreach_locales(&n);
    const json_t *en = outreach_catalogue_raw("en");
    const char *key;
    json_t *v;
    (void)state;

    assert_string_equal(locales[0], "en");
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_true(outreach_locale_supported(want[i]));
    assert_non_null(en);
    assert_true(json_object_size(en) >= 70);
    for (size_t l = 0; l < n; l++) {
        const json_t *c = outreach_catalogue_raw(locales[l]);
        size_t same = 0;

        assert_non_null(c);
        /* The same keys, no more and no fewer. */
        assert_int_equal(json_object_size(c), json_object_size(en));
        json_object_foreach((json_t *)(uintptr_t)en, key, v) {
            const char *t = json_string_value(json_object_get(c, key));
            char a[256], b[256];

            if (t == NULL)
                fail_msg("locales/%s.json has no \"%s\"", locales[l], key);
            assert_true(t[0] != '\0');
            placeholders(json_string_value(v), a, sizeof(a));
            placeholders(t, b, sizeof(b));
            if (strcmp(a, b) != 0)
                fail_msg("locales/%s.json \"%s\": placeholders {%s}, en has {%s}", locales[l],
                         key, b, a);
            same += strcmp(t, json_string_value(v)) == 0;
        }
        /* Translated, not English copies ("(optional)" may be a word of both). */
        if (strcmp(locales[l], "en") != 0 && same > 2)
            fail_msg("locales/%s.json: %zu texts are the English ones", locales[l], same);
    }
}

static void
catalogue_get_falls_back_to_english(void **state)
{
    char *s;
    (void)state;

    assert_string_equal(outreach_catalogue_get("de", "survey.submit"), "Absenden");
    assert_string_equal(outreach_catalogue_get("fr", "survey.submit"), "Submit");
    assert_string_equal(outreach_catalogue_get(NULL, "survey.submit"), "Submit");
    assert_null(outreach_catalogue_get("en", "no.such.key"));
    assert_string_equal(outreach_catalogue_get("zh-Hans", "survey.nps.low"), "完全不可能");
    {
        const char *vars[] = {"shop_name", "<Acme & Co>", NULL};
        s = outreach_text("pl", "survey.nps.question", false, vars);
        assert_string_equal(s, "Jak prawdopodobne jest, że polecisz <Acme & Co> znajomemu lub "
                               "współpracownikowi?");
        free(s);
        s = outreach_text("en", "survey.nps.question", true, vars);
        assert_string_equal(s, "How likely are you to recommend &lt;Acme &amp; Co&gt; to a "
                               "friend or colleague?");
        free(s);
    }
}

static void
locale_negotiation(void **state)
{
    (void)state;
    assert_string_equal(outreach_locale_match("de"), "de");
    assert_string_equal(outreach_locale_match("de-AT"), "de");
    assert_string_equal(outreach_locale_match("de_DE.UTF-8"), "de");
    assert_string_equal(outreach_locale_match("PL"), "pl");
    assert_string_equal(outreach_locale_match("zh"), "zh-Hans");
    assert_string_equal(outreach_locale_match("zh-CN"), "zh-Hans");
    assert_string_equal(outreach_locale_match("zh-SG"), "zh-Hans");
    assert_string_equal(outreach_locale_match("zh-Hans"), "zh-Hans");
    assert_string_equal(outreach_locale_match("zh-Hans-CN"), "zh-Hans");
    assert_string_equal(outreach_locale_match("zh_CN"), "zh-Hans");
    assert_null(outreach_locale_match("zh-TW"));
    assert_null(outreach_locale_match("zh-Hant"));
    assert_null(outreach_locale_match("fr"));
    assert_null(outreach_locale_match(""));
    assert_null(outreach_locale_match(NULL));

    /* customer, then Accept-Language (by q), then the shop's default, then en */
    assert_string_equal(outreach_locale_pick("sk", "de", "pl"), "sk");
    assert_string_equal(outreach_locale_pick(NULL, "fr-FR, de;q=0.8, pl;q=0.9", "en"), "pl");
    assert_string_equal(outreach_locale_pick(NULL, "fr, tr;q=0.1", "bg"), "tr");
    assert_string_equal(outreach_locale_pick(NULL, "de;q=0, fr", "bg"), "bg");
    assert_string_equal(outreach_locale_pick(NULL, "zh-CN,zh;q=0.9,en;q=0.8", "de"), "zh-Hans");
    assert_string_equal(outreach_locale_pick("xx", "garbage;;,", NULL), "en");
    assert_string_equal(outreach_locale_pick(NULL, NULL, "de"), "de");
}

/* ---- built-in email templates -------------------------------------------- */

static void
builtins_in_every_locale(void **state)
{
    static const char *const kinds[] = {"review_request", "review_reminder"};
    struct mail_product p = {.name = "Kaffee", .image = "", .link = "https://r.example/p/1",
                             .star_links = {"https://r.example/1", "https://r.example/2",
                                            "https://r.example/3", "https://r.example/4",
                                            "https://r.example/5"}};
    struct mail_vars v = {.first_name = "Ann", .shop_name = "Acme",
                          .review_link = "https://r.example/all",
                          .unsubscribe_link = "https://r.example/unsub", .brand_name = "Acme",
                          .logo_url = "", .accent_color = "#0f766e", .products = &p,
                          .nproducts = 1};
    size_t n = 0;
    const char *const *locales = outreach_locales(&n);
    (void)state;

    for (size_t k = 0; k < 2; k++)
        for (size_t l = 0; l < n; l++)
            for (int part = MAIL_SUBJECT; part <= MAIL_HTML; part++) {
                const char *t = outreach_template_builtin(kinds[k], locales[l],
                                                          (enum mail_part)part);
                struct err e = {0};
                char *s;
                char lang[32];

                assert_non_null(t);
                assert_null(strstr(t, "[["));
                assert_int_equal(mail_template_check(t, "t", &e), 0);
                s = mail_template_render(t, (enum mail_part)part, &v, &e);
                assert_non_null(s);
                assert_non_null(strstr(s, "Acme"));
                if (part == MAIL_HTML) {
                    snprintf(lang, sizeof(lang), "lang=\"%s\"", locales[l]);
                    assert_non_null(strstr(s, lang));
                    assert_non_null(strstr(s, "background-color:#0f766e"));
                    assert_null(strstr(s, "<img alt=\"Acme\"")); /* no logo set */
                }
                if (part != MAIL_SUBJECT)
                    assert_non_null(strstr(s, "https://r.example/unsub"));
                free(s);
            }
    /* The words are the locale's. */
    assert_non_null(strstr(outreach_template_builtin("review_request", "pl", MAIL_HTML),
                           "Napisz opinię"));
    assert_non_null(strstr(outreach_template_builtin("review_reminder", "de", MAIL_SUBJECT),
                           "Kurze Erinnerung"));
    assert_non_null(strstr(outreach_template_builtin("review_request", "zh-Hans", MAIL_TEXT),
                           "撰写您的评价"));
    /* zh-CN means zh-Hans; fr falls back to en. */
    assert_ptr_equal(outreach_template_builtin("review_request", "zh-CN", MAIL_HTML),
                     outreach_template_builtin("review_request", "zh-Hans", MAIL_HTML));
    assert_ptr_equal(outreach_template_builtin("review_request", "fr", MAIL_HTML),
                     outreach_template_builtin("review_request", "en", MAIL_HTML));
    assert_null(outreach_template_builtin("nope", "en", MAIL_HTML));
}

static void
builtin_shows_the_logo_when_set(void **state)
{
    struct mail_vars v = {.first_name = "Ann", .shop_name = "Acme", .brand_name = "Acme \"A\"",
                          .logo_url = "https://acme.example/logo.png",
                          .accent_color = "#1d4ed8"};
    struct err e = {0};
    char *s;
    (void)state;

    s = mail_template_render(outreach_template_builtin("review_request", "en", MAIL_HTML),
                             MAIL_HTML, &v, &e);
    assert_non_null(s);
    assert_non_null(strstr(s, "<img alt=\"Acme &quot;A&quot;\" src=\"https://acme.example/logo.png\""));
    free(s);
    /* {{#logo_url}} only outside products; product_image only inside them. */
    assert_int_equal(mail_template_check("{{#logo_url}}{{logo_url}}{{/logo_url}}", "t", &e), 0);
    assert_int_equal(mail_template_check("{{#products}}{{#logo_url}}{{/logo_url}}{{/products}}",
                                         "t", &e),
                     -1);
    assert_int_equal(mail_template_check("{{#logo_url}}{{#product_image}}{{/product_image}}"
                                         "{{/logo_url}}",
                                         "t", &e),
                     -1);
    assert_int_equal(mail_template_check("{{#logo_url}}{{product_name}}{{/logo_url}}", "t", &e),
                     -1);
}

/* ---- messaging settings --------------------------------------------------- */

static const char default_json[] =
    "{\"contact_policy\":{\"max_messages\":2,\"period\":\"P14D\"},\"sender_name\":\"\","
    "\"sender_email\":\"\",\"reply_to\":\"\",\"alert_email\":\"\",\"default_locale\":\"en\","
    "\"brand_name\":\"\",\"logo_url\":\"\",\"accent_color\":\"#1d4ed8\","
    "\"locales\":[\"en\",\"bg\",\"de\",\"pl\",\"sk\",\"tr\",\"zh-Hans\"]}";

static void
assert_json_is(const json_t *got, const char *want_text)
{
    json_t *want = parse(want_text);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_SORT_KEYS);
        fail_msg("got %s", g);
    }
    json_decref(want);
}

static void
settings_defaults_and_round_trip(void **state)
{
    struct outreach_settings s, back;
    struct err e = {0};
    json_t *j, *in;
    (void)state;

    outreach_settings_default(&s);
    assert_int_equal(s.contact_max, 2);
    assert_int_equal(s.contact_period_s, 14 * DAY);
    j = outreach_settings_to_json(&s);
    assert_json_is(j, default_json);
    json_decref(j);

    in = parse("{\"contact_policy\":{\"max_messages\":3,\"period\":\"PT36H\"},"
               "\"sender_name\":\"Zo\xc3\xab's Shop\",\"sender_email\":\"shop@acme.example\","
               "\"reply_to\":\"help@acme.example\",\"alert_email\":\"owner@acme.example\","
               "\"default_locale\":\"zh-Hans\",\"brand_name\":\"Acme\","
               "\"logo_url\":\"https://acme.example/logo.png\",\"accent_color\":\"#0F766E\"}");
    assert_int_equal(outreach_settings_from_json(&s, in, &e), 0);
    json_decref(in);
    assert_int_equal(s.contact_period_s, DAY + 12 * 3600);
    assert_string_equal(s.accent_color, "#0f766e");
    j = outreach_settings_to_json(&s);
    /* GET -> PUT as read (locales is read-only: the handler drops it) -> same. */
    json_object_del(j, "locales");
    outreach_settings_default(&back);
    assert_int_equal(outreach_settings_from_json(&back, j, &e), 0);
    assert_memory_equal(&s, &back, sizeof(s));
    json_decref(j);

    /* A subset merges, contact_policy key by key. */
    in = parse("{\"contact_policy\":{\"max_messages\":1}}");
    assert_int_equal(outreach_settings_from_json(&s, in, &e), 0);
    json_decref(in);
    assert_int_equal(s.contact_max, 1);
    assert_int_equal(s.contact_period_s, DAY + 12 * 3600);
}

static void
refused(const char *text, const char *field)
{
    struct outreach_settings s, before;
    struct err e = {0};
    json_t *v = parse(text);

    outreach_settings_default(&s);
    s.contact_max = 7;
    before = s;
    if (outreach_settings_from_json(&s, v, &e) != -1)
        fail_msg("accepted: %s", text);
    json_decref(v);
    assert_int_equal(e.kind, ERR_INVALID);
    if (strcmp(e.field, field) != 0)
        fail_msg("%s: field \"%s\", want \"%s\" (%s)", text, e.field, field, e.detail);
    assert_memory_equal(&s, &before, sizeof(s)); /* all or nothing */
}

static void
settings_refusals_name_the_field(void **state)
{
    (void)state;
    refused("{\"nonsense\":1}", "nonsense");
    refused("{\"locales\":[]}", "locales"); /* only the handler drops it */
    refused("{\"contact_policy\":[]}", "contact_policy");
    refused("{\"contact_policy\":{\"window\":\"P1D\"}}", "contact_policy.window");
    refused("{\"contact_policy\":{\"max_messages\":0}}", "contact_policy.max_messages");
    refused("{\"contact_policy\":{\"max_messages\":101}}", "contact_policy.max_messages");
    refused("{\"contact_policy\":{\"period\":\"PT0S\"}}", "contact_policy.period");
    refused("{\"contact_policy\":{\"period\":\"P366D\"}}", "contact_policy.period");
    refused("{\"contact_policy\":{\"period\":\"P1M\"}}", "contact_policy.period");
    refused("{\"contact_policy\":{\"max_messages\":3,\"period\":5}}", "contact_policy.period");
    refused("{\"sender_name\":\"Acme\\r\\nBcc: x@evil.example\"}", "sender_name");
    refused("{\"sender_name\":\"Acme\\nShop\"}", "sender_name");
    refused("{\"sender_name\":null}", "sender_name");
    refused("{\"brand_name\":\"A\\u2028B\"}", "brand_name");
    refused("{\"sender_email\":\"not an address\"}", "sender_email");
    refused("{\"reply_to\":\"a@b.example\\r\\nBcc: c@d.example\"}", "reply_to");
    refused("{\"reply_to\":\"nobody\"}", "reply_to");
    refused("{\"alert_email\":\"owner@\"}", "alert_email");
    refused("{\"default_locale\":\"fr\"}", "default_locale");
    refused("{\"default_locale\":\"zh-CN\"}", "default_locale");
    refused("{\"default_locale\":\"\"}", "default_locale");
    refused("{\"logo_url\":\"javascript:alert(1)\"}", "logo_url");
    refused("{\"logo_url\":\"data:image/png;base64,AAAA\"}", "logo_url");
    refused("{\"logo_url\":\"ftp://acme.example/logo.png\"}", "logo_url");
    refused("{\"logo_url\":\"https://acme.example/a\\\"onerror=x\"}", "logo_url");
    refused("{\"accent_color\":\"red\"}", "accent_color");
    refused("{\"accent_color\":\"#12345\"}", "accent_color");
    refused("{\"accent_color\":\"#12345g\"}", "accent_color");
    refused("{\"accent_color\":\"#1234567\"}", "accent_color");
    /* A valid field before an invalid one changes nothing either. */
    refused("{\"brand_name\":\"New\",\"accent_color\":\"blue\"}", "accent_color");
}

static void
contact_policy_alone(void **state)
{
    struct outreach_settings s;
    struct err e = {0};
    json_t *v = parse("{\"max_messages\":100,\"period\":\"PT1S\"}");
    (void)state;

    outreach_settings_default(&s);
    assert_int_equal(outreach_contact_policy_from_json(&s, v, &e), 0);
    json_decref(v);
    assert_int_equal(s.contact_max, 100);
    assert_int_equal(s.contact_period_s, 1);
    /* Two in a day: the third waits until the first leaves the window. */
    {
        time_t sent[2] = {1000, 5000};
        assert_int_equal(outreach_contact_next_slot(sent, 2, 2, DAY, 6000), 1000 + DAY);
        assert_int_equal(outreach_contact_next_slot(sent, 2, 3, DAY, 6000), 6000);
    }
}

static void
email_frame_for_any_programme(void **state)
{
    struct outreach_settings os;
    char *h, *t;
    (void)state;

    outreach_settings_default(&os);
    snprintf(os.logo_url, sizeof(os.logo_url), "%s", "https://acme.example/l.png?a=1&b=2");
    snprintf(os.accent_color, sizeof(os.accent_color), "%s", "#0f766e");
    /* Marketing: a footer with the reason and the link, in the locale. */
    h = outreach_email_html("sk", &os, "A<b>", "Prieskum", "<p>Q?</p>",
                            "https://x.example/unsubscribe?token=t&from=surveys");
    assert_non_null(strstr(h, "<html lang=\"sk\">"));
    assert_non_null(strstr(h, "<title>Prieskum</title>"));
    assert_non_null(strstr(h, "<p>Q?</p>"));
    assert_non_null(strstr(h, "border-top:4px solid #0f766e"));
    assert_non_null(strstr(h, "<img alt=\"A&lt;b&gt;\" src=\"https://acme.example/l.png?a=1&amp;b=2\""));
    assert_non_null(strstr(h, "nakúpili v A&lt;b&gt;."));
    assert_non_null(strstr(h, "href=\"https://x.example/unsubscribe?token=t&amp;from=surveys\""));
    assert_non_null(strstr(h, "Odhlásiť sa zo žiadostí o recenzie a prieskumov</a>"));
    free(h);
    /* Transactional: no footer, no unsubscribe; an unknown locale is the shop's. */
    os.logo_url[0] = '\0';
    snprintf(os.default_locale, sizeof(os.default_locale), "%s", "de");
    h = outreach_email_html("fr", &os, "Acme", "Status", "<p>ok</p>", NULL);
    assert_non_null(strstr(h, "<html lang=\"de\">"));
    assert_null(strstr(h, "unsubscribe"));
    assert_null(strstr(h, "<img"));
    free(h);
    t = outreach_email_text_footer("de", "Acme", "https://x.example/u");
    assert_string_equal(t, "-- \nSie erhalten diese E-Mail, weil Sie bei Acme bestellt haben.\n"
                           "Keine Bewertungsanfragen und Umfragen mehr: https://x.example/u\n");
    free(t);
    t = outreach_email_text_footer("de", "Acme", NULL);
    assert_string_equal(t, "");
    free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalogues_are_complete),
        cmocka_unit_test(catalogue_get_falls_back_to_english),
        cmocka_unit_test(locale_negotiation),
        cmocka_unit_test(builtins_in_every_locale),
        cmocka_unit_test(builtin_shows_the_logo_when_set),
        cmocka_unit_test(email_frame_for_any_programme),
        cmocka_unit_test(settings_defaults_and_round_trip),
        cmocka_unit_test(settings_refusals_name_the_field),
        cmocka_unit_test(contact_policy_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
