/*
 * templates.c - the review email templates and their small language.
 *
 * A template is UTF-8 text with {{name}} placeholders (spaces inside the
 * braces are allowed), one repeated section {{#products}}...{{/products}},
 * and inside it one conditional section {{#product_image}}...
 * {{/product_image}} that renders only when the product has an image, so
 * an HTML template never shows a broken <img>. A section tag alone on its
 * line takes the whole line with it, as in Mustache, so text templates
 * read naturally. Nothing else exists: no partials, no inverted sections,
 * no unescaped output, no lambdas. Templates come from merchants, so the
 * language is deliberately too small to do harm.
 *
 * Every template goes through tokenize() and the structure check in
 * parse() before anything is rendered: mail_template_check() is that check
 * alone (run when a merchant saves a template), mail_template_render() runs
 * it again and then walks the tokens. Values are HTML-escaped in the HTML
 * part only; in the subject, CR, LF and tab in values become spaces so a
 * customer's name can never make mail_build() refuse the message.
 *
 * The built-in templates (en, de) live at the bottom of this file. Pure
 * functions of their arguments; thread-safe; no I/O.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/mem.h"
#include "aftersale/mail/templates.h"

#define NAME_MAX_LEN 40 /* longer names are unknown anyway; keeps details short */

enum tok_kind { TOK_TEXT, TOK_VAR, TOK_OPEN, TOK_CLOSE };

/* A token points into the template: no copies. */
struct tok {
    enum tok_kind kind;
    const char *p;
    size_t n;
    size_t match; /* TOK_OPEN: index of its TOK_CLOSE (set by parse) */
};

struct toks {
    struct tok *v;
    size_t n, cap;
};

static void
toks_push(struct toks *t, enum tok_kind kind, const char *p, size_t n)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    t->v[t->n++] = (struct tok){kind, p, n, 0};
}

/* ---- names ------------------------------------------------------------- */

static const char *const top_names[] = {"first_name", "shop_name", "review_link",
                                        "unsubscribe_link"};
static const char *const product_names[] = {
    "product_name", "product_image", "product_link", "star_link_1",
    "star_link_2",  "star_link_3",   "star_link_4",  "star_link_5",
};

static bool
name_is(const struct tok *t, const char *name)
{
    return strlen(name) == t->n && memcmp(t->p, name, t->n) == 0;
}

static bool
name_in(const struct tok *t, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (name_is(t, names[i]))
            return true;
    return false;
}

/* ---- tokenizing -------------------------------------------------------- */

static bool
blank(char c)
{
    return c == ' ' || c == '\t';
}

/* A section tag from `tag` to `end` alone on its line (only blanks around
 * it): returns where the line after it starts, or NULL. */
static const char *
standalone(const char *tmpl, const char *tag, const char *end)
{
    const char *p = tag;

    while (p > tmpl && blank(p[-1]))
        p--;
    if (p != tmpl && p[-1] != '\n')
        return NULL;
    while (blank(*end))
        end++;
    if (*end == '\0')
        return end;
    if (end[0] == '\r' && end[1] == '\n')
        return end + 2;
    return *end == '\n' ? end + 1 : NULL;
}

static int
tokenize(const char *tmpl, const char *field, struct toks *t, struct err *e)
{
    const char *p = tmpl;

    while (*p) {
        const char *open = strstr(p, "{{"), *close, *name, *name_end, *next;
        enum tok_kind kind = TOK_VAR;

        if (open == NULL) {
            toks_push(t, TOK_TEXT, p, strlen(p));
            break;
        }
        close = strstr(open + 2, "}}");
        if (close == NULL)
            return err_set(e, ERR_INVALID, field, "unterminated \"{{\" (no \"}}\")");
        name = open + 2;
        if (*name == '#' || *name == '/') {
            kind = *name == '#' ? TOK_OPEN : TOK_CLOSE;
            name++;
        }
        while (name < close && blank(*name))
            name++;
        name_end = close;
        while (name_end > name && blank(name_end[-1]))
            name_end--;
        next = close + 2;
        if (kind != TOK_VAR) {
            const char *after = standalone(tmpl, open, next);

            if (after != NULL) {
                /* Drop the blanks before the tag and the line end after it. */
                while (open > p && blank(open[-1]))
                    open--;
                next = after;
            }
        }
        if (open > p)
            toks_push(t, TOK_TEXT, p, (size_t)(open - p));
        toks_push(t, kind, name, (size_t)(name_end - name));
        p = next;
    }
    return 0;
}

/* Structure and names: products at the top only, product_image inside
 * products only, every section closed by its own name, every placeholder
 * known where it is used. Fills each TOK_OPEN's `match`. */
static int
parse(struct toks *t, const char *field, struct err *e)
{
    size_t stack[2], depth = 0;

    for (size_t i = 0; i < t->n; i++) {
        struct tok *k = &t->v[i];
        int n = k->n > NAME_MAX_LEN ? NAME_MAX_LEN : (int)k->n;
        bool in_products = depth > 0;

        switch (k->kind) {
        case TOK_TEXT:
            break;
        case TOK_VAR:
            if (name_in(k, top_names, sizeof(top_names) / sizeof(top_names[0])))
                break;
            if (name_in(k, product_names, sizeof(product_names) / sizeof(product_names[0]))) {
                if (in_products)
                    break;
                return err_set(e, ERR_INVALID, field,
                               "placeholder {{%.*s}} is only allowed inside {{#products}}", n,
                               k->p);
            }
            return err_set(e, ERR_INVALID, field, "unknown placeholder {{%.*s}}", n, k->p);
        case TOK_OPEN:
            if (name_is(k, "products")) {
                if (depth > 0)
                    return err_set(e, ERR_INVALID, field, "section {{#products}} cannot be nested");
            } else if (name_is(k, "product_image")) {
                if (depth != 1)
                    return err_set(e, ERR_INVALID, field,
                                   "section {{#product_image}} is only allowed directly inside "
                                   "{{#products}}");
            } else {
                return err_set(e, ERR_INVALID, field, "unknown section {{#%.*s}}", n, k->p);
            }
            stack[depth++] = i;
            break;
        case TOK_CLOSE: {
            struct tok *o;

            if (depth == 0)
                return err_set(e, ERR_INVALID, field,
                               "unbalanced section: {{/%.*s}} without an opening tag", n, k->p);
            o = &t->v[stack[depth - 1]];
            if (o->n != k->n || memcmp(o->p, k->p, k->n) != 0)
                return err_set(e, ERR_INVALID, field,
                               "unbalanced section: {{/%.*s}} closes {{#%.*s}}", n, k->p, (int)o->n,
                               o->p);
            o->match = i;
            depth--;
            break;
        }
        }
    }
    if (depth > 0) {
        const struct tok *o = &t->v[stack[depth - 1]];

        return err_set(e, ERR_INVALID, field, "unbalanced section: {{#%.*s}} is never closed",
                       (int)o->n, o->p);
    }
    return 0;
}

int
mail_template_check(const char *tmpl, const char *field, struct err *e)
{
    struct toks t = {0};
    int rc = -1;

    if (tmpl == NULL) {
        err_set(e, ERR_INVALID, field, "is required");
        goto out;
    }
    if (tokenize(tmpl, field, &t, e) < 0 || parse(&t, field, e) < 0)
        goto out;
    rc = 0;
out:
    free(t.v);
    return rc;
}

/* ---- rendering --------------------------------------------------------- */

char *
mail_html_escape(const char *s)
{
    struct buf b = {0};

    buf_puts(&b, "");
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '&':
            buf_puts(&b, "&amp;");
            break;
        case '<':
            buf_puts(&b, "&lt;");
            break;
        case '>':
            buf_puts(&b, "&gt;");
            break;
        case '"':
            buf_puts(&b, "&quot;");
            break;
        case '\'':
            buf_puts(&b, "&#39;");
            break;
        default:
            buf_append(&b, p, 1);
        }
    }
    return buf_steal(&b);
}

/* The value of a placeholder parse() accepted; NULL values render empty. */
static const char *
lookup(const struct tok *k, const struct mail_vars *v, const struct mail_product *prod)
{
    if (name_is(k, "first_name"))
        return v->first_name;
    if (name_is(k, "shop_name"))
        return v->shop_name;
    if (name_is(k, "review_link"))
        return v->review_link;
    if (name_is(k, "unsubscribe_link"))
        return v->unsubscribe_link;
    if (prod == NULL)
        return NULL;
    if (name_is(k, "product_name"))
        return prod->name;
    if (name_is(k, "product_image"))
        return prod->image;
    if (name_is(k, "product_link"))
        return prod->link;
    /* star_link_1 .. star_link_5: the only names left. */
    return prod->star_links[k->p[k->n - 1] - '1'];
}

static void
put_value(struct buf *out, const char *s, enum mail_part part)
{
    if (s == NULL)
        return;
    if (part == MAIL_HTML) {
        char *esc = mail_html_escape(s);

        buf_puts(out, esc);
        free(esc);
    } else if (part == MAIL_SUBJECT) {
        for (const char *p = s; *p; p++)
            buf_append(out, (*p == '\r' || *p == '\n' || *p == '\t') ? " " : p, 1);
    } else {
        buf_puts(out, s);
    }
}

/* Tokens [from, to) with `prod` the current product (NULL outside the
 * products section). */
static void
render_range(const struct toks *t, size_t from, size_t to, enum mail_part part,
             const struct mail_vars *v, const struct mail_product *prod, struct buf *out)
{
    for (size_t i = from; i < to; i++) {
        const struct tok *k = &t->v[i];

        switch (k->kind) {
        case TOK_TEXT:
            buf_append(out, k->p, k->n);
            break;
        case TOK_VAR:
            put_value(out, lookup(k, v, prod), part);
            break;
        case TOK_OPEN:
            if (name_is(k, "products")) {
                for (size_t j = 0; j < v->nproducts; j++)
                    render_range(t, i + 1, k->match, part, v, &v->products[j], out);
            } else if (prod != NULL && prod->image != NULL && prod->image[0] != '\0') {
                render_range(t, i + 1, k->match, part, v, prod, out);
            }
            i = k->match;
            break;
        case TOK_CLOSE:
            break;
        }
    }
}

char *
mail_template_render(const char *tmpl, enum mail_part part, const struct mail_vars *v,
                     struct err *e)
{
    static const char *const fields[] = {"subject", "text", "html"};
    const char *field = (unsigned)part <= MAIL_HTML ? fields[part] : "part";
    struct toks t = {0};
    struct buf out = {0};
    char *res = NULL;

    if ((unsigned)part > MAIL_HTML) {
        err_set(e, ERR_INTERNAL, field, "unknown template part %d", (int)part);
        goto out;
    }
    if (tmpl == NULL) {
        err_set(e, ERR_INVALID, field, "is required");
        goto out;
    }
    if (tokenize(tmpl, field, &t, e) < 0 || parse(&t, field, e) < 0)
        goto out;
    buf_puts(&out, "");
    render_range(&t, 0, t.n, part, v, NULL, &out);
    res = buf_steal(&out);
out:
    buf_free(&out);
    free(t.v);
    return res;
}

/* ---- built-in templates -------------------------------------------------
 *
 * One HTML skeleton for every kind and locale: a centred 600px card on
 * layout tables (role="presentation", which is what email clients render
 * reliably), inline styles only, 16px text at WCAG AA contrast, a lang
 * attribute, alt text on product images, and star links whose aria-label
 * reads "Rate 3 of 5 stars" instead of "black star". The macros take the
 * words; the structure is written once.
 */

#define FONT "font-family:Arial,Helvetica,sans-serif;"
#define STAR_STYLE "color:#b45309;text-decoration:none;font-size:28px;line-height:1;padding:0 2px;"
#define STAR(n, label)                                                                             \
    "<a href=\"{{star_link_" #n "}}\" aria-label=\"" label "\" title=\"" label                     \
    "\" style=\"" STAR_STYLE "\">★</a>"

#define HTML(lang, title, greeting, intro, rate, s1, s2, s3, s4, s5, button, footer)               \
    "<!DOCTYPE html>\n"                                                                            \
    "<html lang=\"" lang "\">\n"                                                                   \
    "<head>\n"                                                                                     \
    "<meta charset=\"utf-8\">\n"                                                                   \
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"                   \
    "<title>" title "</title>\n"                                                                   \
    "</head>\n"                                                                                    \
    "<body style=\"margin:0;padding:0;background-color:#f3f4f6;\">\n"                              \
    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" "             \
    "border=\"0\" style=\"background-color:#f3f4f6;\">\n"                                          \
    "<tr><td align=\"center\" style=\"padding:24px 12px;\">\n"                                     \
    "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" "             \
    "border=\"0\" style=\"max-width:600px;background-color:#ffffff;border-radius:8px;" FONT        \
    "color:#1f2937;font-size:16px;line-height:1.5;\">\n"                                           \
    "<tr><td style=\"padding:32px 32px 8px 32px;\">\n"                                             \
    "<p style=\"margin:0 0 16px 0;font-size:20px;font-weight:bold;\">" greeting "</p>\n"           \
    "<p style=\"margin:0 0 16px 0;\">" intro "</p>\n"                                              \
    "</td></tr>\n"                                                                                 \
    "{{#products}}\n"                                                                              \
    "<tr><td style=\"padding:16px 32px;border-top:1px solid #e5e7eb;\">\n"                         \
    "{{#product_image}}\n"                                                                         \
    "<img alt=\"{{product_name}}\" src=\"{{product_image}}\" width=\"96\" "                        \
    "style=\"display:block;width:96px;max-width:96px;height:auto;border:0;"                        \
    "margin:0 0 8px 0;\">\n"                                                                       \
    "{{/product_image}}\n"                                                                         \
    "<p style=\"margin:0 0 8px 0;font-weight:bold;\"><a href=\"{{product_link}}\" "                \
    "style=\"color:#1f2937;\">{{product_name}}</a></p>\n"                                          \
    "<p style=\"margin:0;\">" rate "</p>\n"                                                        \
    "<p style=\"margin:4px 0 0 0;\">" STAR(1, s1) STAR(2, s2) STAR(3, s3) STAR(4, s4) STAR(        \
        5,                                                                                         \
        s5) "</p>\n"                                                                               \
            "</td></tr>\n"                                                                         \
            "{{/products}}\n"                                                                      \
            "<tr><td align=\"center\" style=\"padding:24px 32px 32px 32px;\">\n"                   \
            "<a href=\"{{review_link}}\" style=\"display:inline-block;background-color:#1d4ed8;"   \
            "color:#ffffff;font-weight:bold;text-decoration:none;padding:12px 24px;"               \
            "border-radius:6px;\">" button "</a>\n"                                                \
            "</td></tr>\n"                                                                         \
            "</table>\n"                                                                           \
            "<p style=\"max-width:600px;margin:16px auto 0 auto;" FONT "font-size:13px;"           \
            "line-height:1.5;color:#4b5563;\">" footer "</p>\n"                                    \
            "</td></tr>\n"                                                                         \
            "</table>\n"                                                                           \
            "</body>\n"                                                                            \
            "</html>\n"

/* ---- English ---- */

#define EN_SUBJECT_REQUEST "How was your order from {{shop_name}}?"
#define EN_SUBJECT_REMINDER "A quick reminder: how was your order from {{shop_name}}?"
#define EN_INTRO_REQUEST                                                                           \
    "thank you for your order from {{shop_name}}. We hope you are happy with it. Would you "       \
    "take a minute to tell other customers what you think?"
#define EN_INTRO_REMINDER                                                                          \
    "a little while ago you ordered from {{shop_name}}. If you have a minute, we would still "     \
    "love to hear what you think. Your review helps other customers choose, and helps us do "      \
    "better."
#define EN_FOOTER                                                                                  \
    "You are receiving this email because you ordered from {{shop_name}}. "                        \
    "<a href=\"{{unsubscribe_link}}\" style=\"color:#4b5563;\">Unsubscribe</a> from review "       \
    "requests."
#define EN_HTML(subject, intro)                                                                    \
    HTML("en", subject, "Hi {{first_name}},", intro, "How many stars would you give it?",          \
         "Rate 1 of 5 stars", "Rate 2 of 5 stars", "Rate 3 of 5 stars", "Rate 4 of 5 stars",       \
         "Rate 5 of 5 stars", "Write a review", EN_FOOTER)
#define EN_TEXT(intro, closing)                                                                    \
    "Hi {{first_name}},\n"                                                                         \
    "\n" intro "\n"                                                                                \
    "\n"                                                                                           \
    "{{#products}}\n"                                                                              \
    "{{product_name}}\n"                                                                           \
    "  Review it: {{product_link}}\n"                                                              \
    "  Or pick a rating:\n"                                                                        \
    "  ★☆☆☆☆ 1 star:  {{star_link_1}}\n"                                                 \
    "  ★★☆☆☆ 2 stars: {{star_link_2}}\n"                                                 \
    "  ★★★☆☆ 3 stars: {{star_link_3}}\n"                                                 \
    "  ★★★★☆ 4 stars: {{star_link_4}}\n"                                                 \
    "  ★★★★★ 5 stars: {{star_link_5}}\n"                                                 \
    "\n"                                                                                           \
    "{{/products}}\n" closing " {{review_link}}\n"                                                 \
    "\n"                                                                                           \
    "Thank you,\n"                                                                                 \
    "{{shop_name}}\n"                                                                              \
    "\n"                                                                                           \
    "-- \n"                                                                                        \
    "You are receiving this email because you ordered from {{shop_name}}.\n"                       \
    "No more review requests: {{unsubscribe_link}}\n"

/* ---- German (formal "Sie", as German shops write to customers) ---- */

#define DE_SUBJECT_REQUEST "Wie gefällt Ihnen Ihre Bestellung bei {{shop_name}}?"
#define DE_SUBJECT_REMINDER "Kurze Erinnerung: Wie war Ihre Bestellung bei {{shop_name}}?"
#define DE_INTRO_REQUEST                                                                           \
    "vielen Dank für Ihre Bestellung bei {{shop_name}}. Wir hoffen, Sie sind zufrieden. "         \
    "Möchten Sie sich eine Minute Zeit nehmen und anderen Kundinnen und Kunden erzählen, wie "   \
    "Ihnen Ihr Einkauf gefällt?"
#define DE_INTRO_REMINDER                                                                          \
    "vor einiger Zeit haben Sie bei {{shop_name}} bestellt. Wenn Sie eine Minute Zeit haben, "     \
    "freuen wir uns weiterhin über Ihre Meinung. Ihre Bewertung hilft anderen bei der Wahl "      \
    "und uns dabei, besser zu werden."
#define DE_FOOTER                                                                                  \
    "Sie erhalten diese E-Mail, weil Sie bei {{shop_name}} bestellt haben. "                       \
    "<a href=\"{{unsubscribe_link}}\" style=\"color:#4b5563;\">Abmelden</a>, um keine "            \
    "Bewertungsanfragen mehr zu erhalten."
#define DE_HTML(subject, intro)                                                                    \
    HTML("de", subject, "Hallo {{first_name}},", intro, "Wie viele Sterne würden Sie vergeben?",   \
         "Mit 1 von 5 Sternen bewerten", "Mit 2 von 5 Sternen bewerten",                           \
         "Mit 3 von 5 Sternen bewerten", "Mit 4 von 5 Sternen bewerten",                           \
         "Mit 5 von 5 Sternen bewerten", "Bewertung schreiben", DE_FOOTER)
#define DE_TEXT(intro, closing)                                                                    \
    "Hallo {{first_name}},\n"                                                                      \
    "\n" intro "\n"                                                                                \
    "\n"                                                                                           \
    "{{#products}}\n"                                                                              \
    "{{product_name}}\n"                                                                           \
    "  Bewerten: {{product_link}}\n"                                                               \
    "  Oder wählen Sie gleich eine Bewertung:\n"                                                  \
    "  ★☆☆☆☆ 1 Stern:   {{star_link_1}}\n"                                               \
    "  ★★☆☆☆ 2 Sterne:  {{star_link_2}}\n"                                               \
    "  ★★★☆☆ 3 Sterne:  {{star_link_3}}\n"                                               \
    "  ★★★★☆ 4 Sterne:  {{star_link_4}}\n"                                               \
    "  ★★★★★ 5 Sterne:  {{star_link_5}}\n"                                               \
    "\n"                                                                                           \
    "{{/products}}\n" closing " {{review_link}}\n"                                                 \
    "\n"                                                                                           \
    "Vielen Dank\n"                                                                                \
    "{{shop_name}}\n"                                                                              \
    "\n"                                                                                           \
    "-- \n"                                                                                        \
    "Sie erhalten diese E-Mail, weil Sie bei {{shop_name}} bestellt haben.\n"                      \
    "Keine Bewertungsanfragen mehr: {{unsubscribe_link}}\n"

struct builtin {
    const char *kind, *locale;
    const char *parts[3]; /* indexed by enum mail_part */
};

static const struct builtin builtins[] = {
    {"review_request",
     "en",
     {EN_SUBJECT_REQUEST, EN_TEXT(EN_INTRO_REQUEST, "Write your review:"),
      EN_HTML(EN_SUBJECT_REQUEST, EN_INTRO_REQUEST)}},
    {"review_reminder",
     "en",
     {EN_SUBJECT_REMINDER, EN_TEXT(EN_INTRO_REMINDER, "Write your review:"),
      EN_HTML(EN_SUBJECT_REMINDER, EN_INTRO_REMINDER)}},
    {"review_request",
     "de",
     {DE_SUBJECT_REQUEST, DE_TEXT(DE_INTRO_REQUEST, "Zur Bewertung:"),
      DE_HTML(DE_SUBJECT_REQUEST, DE_INTRO_REQUEST)}},
    {"review_reminder",
     "de",
     {DE_SUBJECT_REMINDER, DE_TEXT(DE_INTRO_REMINDER, "Zur Bewertung:"),
      DE_HTML(DE_SUBJECT_REMINDER, DE_INTRO_REMINDER)}},
};

/* "de", "de-AT", "de_DE.UTF-8" all mean German: compare the language. */
static bool
locale_is(const char *locale, const char *lang)
{
    size_t n = strlen(lang);

    return locale != NULL && strncasecmp(locale, lang, n) == 0 &&
           (locale[n] == '\0' || locale[n] == '-' || locale[n] == '_' || locale[n] == '.');
}

const char *
mail_template_builtin(const char *kind, const char *locale, enum mail_part part)
{
    const struct builtin *fallback = NULL;

    if (kind == NULL || (unsigned)part > MAIL_HTML)
        return NULL;
    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
        const struct builtin *b = &builtins[i];

        if (strcmp(b->kind, kind) != 0)
            continue;
        if (locale_is(locale, b->locale))
            return b->parts[part];
        if (strcmp(b->locale, "en") == 0)
            fallback = b;
    }
    return fallback ? fallback->parts[part] : NULL;
}
