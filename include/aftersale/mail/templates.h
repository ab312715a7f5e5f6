/*
 * templates.h - rendering review emails (and later survey invitations).
 *
 * A template is text with {{placeholders}} and one repeated section,
 * {{#products}} ... {{/products}}, rendered once per product. Every value
 * is HTML-escaped in the HTML part (& < > " ' become entities) and left as
 * it is in the text part, so a product called <script> shows as text and
 * never runs. Unknown placeholders are an error at validation time, so a
 * merchant's typo is caught when the template is saved, not when the
 * email goes out. The built-in templates are built from the per-locale
 * catalogues (outreach/templates.h); a shop may override subject, text
 * and html per locale. Pure; thread-safe.
 *
 * Placeholders: first_name, shop_name, review_link, unsubscribe_link,
 * brand_name, logo_url, accent_color ("#rrggbb"), and inside the products section: product_name, product_image (URL, may
 * be empty), product_link (the review page for that product), and
 * star_link_1 .. star_link_5 (the review page with that rating chosen).
 * Inside {{#products}} one conditional section may appear,
 * {{#product_image}} ... {{/product_image}}, rendered only when the
 * product's image is non-empty (so no broken <img src="">); outside it,
 * {{#logo_url}} ... {{/logo_url}} renders only when the shop has a logo. Spaces inside
 * the braces are allowed ({{ first_name }}); a section tag alone on its
 * line removes that line, as in Mustache. NULL values render empty; in
 * MAIL_SUBJECT, CR, LF and tab in values become spaces.
 */
#ifndef AFTERSALE_MAIL_TEMPLATES_H
#define AFTERSALE_MAIL_TEMPLATES_H

#include <stdbool.h>
#include <stddef.h>

#include "aftersale/core/err.h"

struct mail_product {
    const char *name, *image, *link;
    const char *star_links[5];
};

struct mail_vars {
    const char *first_name, *shop_name, *review_link, *unsubscribe_link;
    const char *brand_name, *logo_url, *accent_color; /* the shop's messaging settings */
    const struct mail_product *products;
    size_t nproducts;
};

enum mail_part { MAIL_SUBJECT, MAIL_TEXT, MAIL_HTML };

/* Check a template: balanced section, known placeholders only. -1 with
 * ERR_INVALID naming `field` and the offending placeholder. */
int mail_template_check(const char *tmpl, const char *field, struct err *e);

/* Render. MAIL_HTML escapes values; MAIL_SUBJECT and MAIL_TEXT do not
 * (the subject is then header-encoded by mail_build). Returns: new string,
 * or NULL with e on a template error. */
char *mail_template_render(const char *tmpl, enum mail_part part, const struct mail_vars *v,
                           struct err *e);

/* HTML-escape into a new string. */
char *mail_html_escape(const char *s);

#endif
