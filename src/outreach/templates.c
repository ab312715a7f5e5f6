/*
 * templates.c - the built-in email templates: one layout, the words from
 * the catalogues.
 *
 * The HTML layout: a centred 600px card on layout tables
 * (role="presentation", which is what email clients render reliably),
 * inline styles only, 16px text at WCAG AA contrast, a lang attribute,
 * alt text on product images, the shop's logo when it has one, its accent
 * colour on the button, and star links whose aria-label reads "Rate 3 of
 * 5 stars" instead of "black star".
 *
 * In the layouts, [[key]] is a catalogue text: [[.subject]] is the kind's
 * own ("review.request.subject"), [[lang]] the locale. Catalogue texts are
 * HTML-escaped into the HTML layout (their {{placeholders}} survive: braces
 * are not escaped) and go as they are into the text and the subject. The
 * results are built once (pthread_once) for every kind and locale and
 * never change: borrowed, static, thread-safe.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/mem.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/rules.h"
#include "aftersale/outreach/templates.h"

#define FONT "font-family:Arial,Helvetica,sans-serif;"
#define STAR_STYLE "color:#b45309;text-decoration:none;font-size:28px;line-height:1;padding:0 2px;"
#define STAR(n)                                                                                    \
    "<a href=\"{{star_link_" #n "}}\" aria-label=\"[[review.email.rate_" #n                        \
    "]]\" title=\"[[review.email.rate_" #n "]]\" style=\"" STAR_STYLE "\">★</a>"

static const char html_layout[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"[[lang]]\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>[[.subject]]</title>\n"
    "</head>\n"
    "<body style=\"margin:0;padding:0;background-color:#f3f4f6;\">\n"
    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" "
    "border=\"0\" style=\"background-color:#f3f4f6;\">\n"
    "<tr><td align=\"center\" style=\"padding:24px 12px;\">\n"
    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" "
    "border=\"0\" style=\"max-width:600px;background-color:#ffffff;border-radius:8px;" FONT
    "color:#1f2937;font-size:16px;line-height:1.5;\">\n"
    "{{#logo_url}}\n"
    "<tr><td style=\"padding:24px 32px 0 32px;\">\n"
    "<img alt=\"{{brand_name}}\" src=\"{{logo_url}}\" height=\"40\" "
    "style=\"display:block;height:40px;width:auto;border:0;\">\n"
    "</td></tr>\n"
    "{{/logo_url}}\n"
    "<tr><td style=\"padding:32px 32px 8px 32px;\">\n"
    "<p style=\"margin:0 0 16px 0;font-size:20px;font-weight:bold;\">[[review.email.greeting]]</p>\n"
    "<p style=\"margin:0 0 16px 0;\">[[.intro]]</p>\n"
    "</td></tr>\n"
    "{{#products}}\n"
    "<tr><td style=\"padding:16px 32px;border-top:1px solid #e5e7eb;\">\n"
    "{{#product_image}}\n"
    "<img alt=\"{{product_name}}\" src=\"{{product_image}}\" width=\"96\" "
    "style=\"display:block;width:96px;max-width:96px;height:auto;border:0;"
    "margin:0 0 8px 0;\">\n"
    "{{/product_image}}\n"
    "<p style=\"margin:0 0 8px 0;font-weight:bold;\"><a href=\"{{product_link}}\" "
    "style=\"color:#1f2937;\">{{product_name}}</a></p>\n"
    "<p style=\"margin:0;\">[[review.email.rate]]</p>\n"
    "<p style=\"margin:4px 0 0 0;\">" STAR(1) STAR(2) STAR(3) STAR(4) STAR(5) "</p>\n"
    "</td></tr>\n"
    "{{/products}}\n"
    "<tr><td align=\"center\" style=\"padding:24px 32px 32px 32px;\">\n"
    "<a href=\"{{review_link}}\" style=\"display:inline-block;background-color:{{accent_color}};"
    "color:#ffffff;font-weight:bold;text-decoration:none;padding:12px 24px;"
    "border-radius:6px;\">[[review.email.button]]</a>\n"
    "</td></tr>\n"
    "</table>\n"
    "<p style=\"max-width:600px;margin:16px auto 0 auto;" FONT "font-size:13px;"
    "line-height:1.5;color:#4b5563;\">[[email.footer_reason]] "
    "<a href=\"{{unsubscribe_link}}\" style=\"color:#4b5563;\">[[email.unsubscribe_link]]</a></p>\n"
    "</td></tr>\n"
    "</table>\n"
    "</body>\n"
    "</html>\n";

static const char text_layout[] =
    "[[review.email.greeting]]\n"
    "\n"
    "[[.intro]]\n"
    "\n"
    "{{#products}}\n"
    "{{product_name}}\n"
    "  [[review.email.review_it]] {{product_link}}\n"
    "  [[review.email.pick]]\n"
    "  ★☆☆☆☆ [[review.email.stars_1]] {{star_link_1}}\n"
    "  ★★☆☆☆ [[review.email.stars_2]] {{star_link_2}}\n"
    "  ★★★☆☆ [[review.email.stars_3]] {{star_link_3}}\n"
    "  ★★★★☆ [[review.email.stars_4]] {{star_link_4}}\n"
    "  ★★★★★ [[review.email.stars_5]] {{star_link_5}}\n"
    "\n"
    "{{/products}}\n"
    "[[review.email.closing]] {{review_link}}\n"
    "\n"
    "[[review.email.thanks]]\n"
    "{{shop_name}}\n"
    "\n"
    "-- \n"
    "[[email.footer_reason]]\n"
    "[[email.unsubscribe_text]] {{unsubscribe_link}}\n";

static const char subject_layout[] = "[[.subject]]";

static const struct {
    const char *kind, *prefix;
} kinds[] = {{"review_request", "review.request."}, {"review_reminder", "review.reminder."}};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))
#define MAX_LOCALES 16

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
put_html(struct buf *b, const char *s)
{
    char *esc = mail_html_escape(s ? s : "");

    buf_puts(b, esc);
    free(esc);
}
static char *built[NKINDS][MAX_LOCALES][3];

static char *
build(const char *layout, const char *prefix, const char *locale, bool html)
{
    struct buf b = {0};
    const char *p = layout;

    buf_puts(&b, "");
    while (*p) {
        const char *open = strstr(p, "[["), *close = open ? strstr(open, "]]") : NULL;
        char key[96];
        const char *text;
        size_t n;

        if (open == NULL || close == NULL) {
            buf_puts(&b, p);
            break;
        }
        buf_append(&b, p, (size_t)(open - p));
        n = (size_t)(close - open - 2);
        if (n == 4 && strncmp(open + 2, "lang", 4) == 0) {
            text = locale;
        } else {
            snprintf(key, sizeof(key), "%s%.*s", open[2] == '.' ? prefix : "",
                     (int)(open[2] == '.' ? n - 1 : n), open[2] == '.' ? open + 3 : open + 2);
            text = outreach_catalogue_get(locale, key);
            if (text == NULL)
                abort(); /* a layout names a key "en" lacks: test_outreach catches it */
        }
        if (html) {
            char *esc = mail_html_escape(text);
            buf_puts(&b, esc);
            free(esc);
        } else {
            buf_puts(&b, text);
        }
        p = close + 2;
    }
    return buf_steal(&b);
}

static void
build_all(void)
{
    size_t n = 0;
    const char *const *locales = outreach_locales(&n);

    for (size_t k = 0; k < NKINDS; k++)
        for (size_t l = 0; l < n && l < MAX_LOCALES; l++) {
            built[k][l][MAIL_SUBJECT] = build(subject_layout, kinds[k].prefix, locales[l], false);
            built[k][l][MAIL_TEXT] = build(text_layout, kinds[k].prefix, locales[l], false);
            built[k][l][MAIL_HTML] = build(html_layout, kinds[k].prefix, locales[l], true);
        }
}

const char *
outreach_template_builtin(const char *kind, const char *locale, enum mail_part part)
{
    size_t n = 0;
    const char *const *locales = outreach_locales(&n);
    const char *want = outreach_locale_pick(locale, NULL, "en");

    if (kind == NULL || (unsigned)part > MAIL_HTML)
        return NULL;
    pthread_once(&once, build_all);
    for (size_t k = 0; k < NKINDS; k++) {
        if (strcmp(kinds[k].kind, kind) != 0)
            continue;
        for (size_t l = 0; l < n && l < MAX_LOCALES; l++)
            if (strcmp(locales[l], want) == 0)
                return built[k][l][part];
        return built[k][0][part]; /* "en" */
    }
    return NULL;
}

/* ---- the frame of any programme's email ---------------------------------- */

char *
outreach_email_html(const char *locale, const struct outreach_settings *os, const char *brand,
                    const char *title, const char *body_html, const char *unsubscribe_link)
{
    struct buf b = {0};
    const char *loc = outreach_locale_pick(locale, NULL, os->default_locale);
    const char *vars[] = {"shop_name", brand, NULL};
    char *t;

    buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"");
    buf_puts(&b, loc);
    buf_puts(&b, "\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<title>");
    put_html(&b, title);
    buf_puts(&b, "</title>\n</head>\n<body style=\"margin:0;padding:0;background-color:#f3f4f6;\">\n"
                 "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" "
                 "border=\"0\" style=\"background-color:#f3f4f6;\">\n"
                 "<tr><td align=\"center\" style=\"padding:24px 12px;\">\n"
                 "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" "
                 "border=\"0\" style=\"max-width:600px;background-color:#ffffff;border-radius:8px;"
                 FONT "color:#1f2937;font-size:16px;line-height:1.5;border-top:4px solid ");
    /* accent_color is a validated "#rrggbb". */
    buf_puts(&b, os->accent_color[0] == '#' ? os->accent_color : "#1d4ed8");
    buf_puts(&b, ";\">\n");
    if (os->logo_url[0] != '\0') {
        buf_puts(&b, "<tr><td style=\"padding:24px 32px 0 32px;\"><img alt=\"");
        put_html(&b, brand);
        buf_puts(&b, "\" src=\"");
        put_html(&b, os->logo_url);
        buf_puts(&b, "\" height=\"40\" style=\"display:block;height:40px;width:auto;border:0;\">"
                     "</td></tr>\n");
    }
    buf_puts(&b, "<tr><td style=\"padding:24px 32px 32px 32px;\">\n");
    buf_puts(&b, body_html ? body_html : "");
    buf_puts(&b, "\n</td></tr>\n</table>\n");
    if (unsubscribe_link != NULL) {
        buf_puts(&b, "<p style=\"max-width:600px;margin:16px auto 0 auto;" FONT
                     "font-size:13px;line-height:1.5;color:#4b5563;\">");
        t = outreach_text(loc, "email.footer_reason", true, vars);
        buf_puts(&b, t);
        free(t);
        buf_puts(&b, " <a href=\"");
        put_html(&b, unsubscribe_link);
        buf_puts(&b, "\" style=\"color:#4b5563;\">");
        t = outreach_text(loc, "email.unsubscribe_link", true, vars);
        buf_puts(&b, t);
        free(t);
        buf_puts(&b, "</a></p>\n");
    }
    buf_puts(&b, "</td></tr>\n</table>\n</body>\n</html>\n");
    return buf_steal(&b);
}

char *
outreach_email_text_footer(const char *locale, const char *brand, const char *unsubscribe_link)
{
    const char *vars[] = {"shop_name", brand, NULL};
    char *reason, *link, *out;

    if (unsubscribe_link == NULL)
        return xstrdup("");
    reason = outreach_text(locale, "email.footer_reason", false, vars);
    link = outreach_text(locale, "email.unsubscribe_text", false, vars);
    out = xasprintf("-- \n%s\n%s %s\n", reason, link, unsubscribe_link);
    free(reason);
    free(link);
    return out;
}
