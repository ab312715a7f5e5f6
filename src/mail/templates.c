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
 * The built-in templates are built from the catalogues by
 * outreach/templates.c. Pure functions of their arguments; thread-safe;
 * no I/O.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

static const char *const top_names[] = {"first_name",       "shop_name",  "review_link",
                                        "unsubscribe_link", "brand_name", "logo_url",
                                        "accent_color"};
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
        /* {{#logo_url}} is a section too: only one opened by products counts. */
        bool in_products = depth > 0 && name_is(&t->v[stack[0]], "products");

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
            } else if (name_is(k, "logo_url")) {
                if (depth > 0)
                    return err_set(e, ERR_INVALID, field,
                                   "section {{#logo_url}} is only allowed outside {{#products}}");
            } else if (name_is(k, "product_image")) {
                if (depth != 1 || !in_products)
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
    if (name_is(k, "brand_name"))
        return v->brand_name;
    if (name_is(k, "logo_url"))
        return v->logo_url;
    if (name_is(k, "accent_color"))
        return v->accent_color;
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
            } else if (name_is(k, "logo_url")) {
                if (v->logo_url != NULL && v->logo_url[0] != '\0')
                    render_range(t, i + 1, k->match, part, v, prod, out);
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
