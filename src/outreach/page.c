/*
 * page.c - the frame of the customer pages: one look for every programme,
 * in the shop's brand.
 *
 * Server-rendered, small and accessible: a lang attribute from the
 * negotiated locale, a viewport, system fonts, focus outlines, and the
 * shop's accent colour on buttons (validated "#rrggbb", so it can go into
 * the stylesheet as it is). The logo is an <img> with the brand name as
 * its alt text; the Content-Security-Policy allows images from http(s)
 * only when a logo is set, and scripts only with the page's nonce.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/mem.h"
#include "aftersale/mail/templates.h"
#include "aftersale/outreach/catalogue.h"
#include "aftersale/outreach/outreach.h"
#include "aftersale/outreach/page.h"

static const char style[] =
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
    "color:#1a1a1a;line-height:1.5}fieldset{border:1px solid #ccc;border-radius:.5rem;"
    "margin:1rem 0;padding:1rem}legend{font-weight:600;padding:0 .25rem}"
    ".stars{display:flex;gap:.5rem;flex-wrap:wrap;margin:.5rem 0}"
    ".stars label{display:inline-flex;align-items:center;gap:.25rem;cursor:pointer}"
    "input[type=text],textarea{width:100%;box-sizing:border-box;padding:.5rem;margin:.25rem 0;"
    "font:inherit}button{font:inherit;padding:.6rem 1.2rem;border-radius:.4rem;border:0;"
    "color:#fff;cursor:pointer}button:focus,input:focus,textarea:focus{"
    "outline:3px solid #333;outline-offset:2px}#status{margin-top:1rem;font-weight:600}"
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);"
    "white-space:nowrap}.brand{display:flex;align-items:center;gap:.75rem;margin-bottom:1rem;"
    "font-weight:600}.brand img{height:40px;width:auto}"
    /* survey page: choices one per line, hints, errors, the required mark */
    ".choices label{display:block;margin:.25rem 0;cursor:pointer}.hint{color:#555;margin:0 0 .5rem}"
    ".err{color:#b91c1c;font-weight:600;margin:.25rem 0}.req{font-weight:400;color:#555}"
    ".errors{border:2px solid #b91c1c;border-radius:.5rem;padding:.5rem 1rem}"
    "input[type=radio],input[type=checkbox]{width:1.1rem;height:1.1rem}";

void
outreach_brand_default(struct outreach_brand *b)
{
    struct outreach_settings s;

    outreach_settings_default(&s);
    memset(b, 0, sizeof(*b));
    snprintf(b->accent_color, sizeof(b->accent_color), "%s", s.accent_color);
    snprintf(b->default_locale, sizeof(b->default_locale), "%s", s.default_locale);
}

int
outreach_brand_load(struct db_conn *c, int64_t shop_id, struct outreach_brand *b, struct err *e)
{
    struct outreach_settings s;

    outreach_brand_default(b);
    if (outreach_settings_load(c, shop_id, &s, e) < 0 ||
        outreach_shop_name(c, shop_id, b->name, sizeof(b->name), e) < 0)
        return -1;
    if (s.brand_name[0])
        snprintf(b->name, sizeof(b->name), "%s", s.brand_name);
    snprintf(b->logo_url, sizeof(b->logo_url), "%s", s.logo_url);
    snprintf(b->accent_color, sizeof(b->accent_color), "%s", s.accent_color);
    snprintf(b->default_locale, sizeof(b->default_locale), "%s", s.default_locale);
    return 0;
}

const char *
outreach_page_locale(struct req *r, const char *customer, const struct outreach_brand *b)
{
    return outreach_locale_pick(customer, req_header(r, "Accept-Language"), b->default_locale);
}

void
outreach_page_escaped(struct buf *out, const char *s)
{
    char *esc = mail_html_escape(s ? s : "");

    buf_puts(out, esc);
    free(esc);
}

void
outreach_page_text(struct buf *out, const char *locale, const char *key, const char *const *vars)
{
    char *t = outreach_text(locale, key, true, vars);

    buf_puts(out, t);
    free(t);
}

void
outreach_page_start(struct buf *out, const char *locale, const char *title,
                    const struct outreach_brand *b)
{
    buf_puts(out, "<!doctype html>\n<html lang=\"");
    outreach_page_escaped(out, locale);
    buf_puts(out, "\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  "<meta name=\"robots\" content=\"noindex\"><title>");
    outreach_page_escaped(out, title);
    /* accent_color is "#rrggbb" (validated), safe inside the stylesheet. */
    buf_printf(out, "</title><style>%sbutton{background:%s}</style></head><body><main>", style,
               b->accent_color[0] == '#' ? b->accent_color : "#1d4ed8");
    /* The brand bar only with a logo: the headings name the shop already. */
    if (b->logo_url[0] != '\0') {
        buf_puts(out, "<header class=\"brand\">");
        buf_puts(out, "<img src=\"");
        outreach_page_escaped(out, b->logo_url);
        buf_puts(out, "\" alt=\"\">");
        buf_puts(out, "<span>");
        outreach_page_escaped(out, b->name);
        buf_puts(out, "</span></header>");
    }
}

void
outreach_page_end(struct buf *out)
{
    buf_puts(out, "</main></body></html>\n");
}

void
outreach_page_reply(struct req *r, int status, struct buf *out, const char *nonce,
                    const struct outreach_brand *b)
{
    char csp[320];
    size_t len = out->len;

    snprintf(csp, sizeof(csp),
             "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-%s'; "
             "%sconnect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
             nonce ? nonce : "none", b && b->logo_url[0] ? "img-src https: http:; " : "");
    req_add_header(r, "Content-Security-Policy", csp);
    req_add_header(r, "Referrer-Policy", "no-referrer");
    req_add_header(r, "Cache-Control", "no-store");
    reply_text_take(r, status, "text/html; charset=utf-8", buf_steal(out), len);
}

void
outreach_page_message(struct req *r, int status, const char *locale, const char *title_key,
                      const char *text_key, const char *const *vars,
                      const struct outreach_brand *b)
{
    struct buf out = {0};
    char *title = outreach_text(locale, title_key, false, vars);

    outreach_page_start(&out, locale, title, b);
    buf_puts(&out, "<h1>");
    outreach_page_text(&out, locale, title_key, vars);
    buf_puts(&out, "</h1><p>");
    outreach_page_text(&out, locale, text_key, vars);
    buf_puts(&out, "</p>");
    outreach_page_end(&out);
    free(title);
    outreach_page_reply(r, status, &out, NULL, b);
}
