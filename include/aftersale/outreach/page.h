/*
 * page.h - the frame of every customer page (review form, unsubscribe,
 * survey, return portal): doctype, lang, viewport, the shop's brand (name,
 * logo, accent colour), one stylesheet, and the headers every such page
 * sends (Content-Security-Policy with an optional script nonce, no
 * referrer, no caching). The programme writes what goes between
 * outreach_page_start and outreach_page_end.
 *
 * Every value from a shop or a customer is HTML-escaped here; the texts
 * come from the catalogues (outreach_page_text).
 */
#ifndef AFTERSALE_OUTREACH_PAGE_H
#define AFTERSALE_OUTREACH_PAGE_H

#include <stdint.h>

#include "aftersale/core/buf.h"
#include "aftersale/db/pool.h"
#include "aftersale/http/req.h"

/* What a page shows of the shop (copied, so it outlives the transaction). */
struct outreach_brand {
    char name[256];         /* brand_name, else the shop's name */
    char logo_url[512];     /* "" = none */
    char accent_color[8];   /* "#rrggbb" */
    char default_locale[16];
};

/* The shop's brand (defaults when the shop is unknown: name ""). */
int outreach_brand_load(struct db_conn *c, int64_t shop_id, struct outreach_brand *b,
                        struct err *e);
/* The brand of an unknown shop: no name, no logo, the default colour. */
void outreach_brand_default(struct outreach_brand *b);

/* The page's locale: the customer's (may be NULL), else the request's
 * Accept-Language, else the brand's default locale. Borrowed, static. */
const char *outreach_page_locale(struct req *r, const char *customer,
                                 const struct outreach_brand *b);

void outreach_page_start(struct buf *out, const char *locale, const char *title,
                         const struct outreach_brand *b);
void outreach_page_end(struct buf *out);
/* Append a catalogue text, escaped, with its placeholders from vars. */
void outreach_page_text(struct buf *out, const char *locale, const char *key,
                        const char *const *vars);
/* Append any text escaped. */
void outreach_page_escaped(struct buf *out, const char *s);

/* Send the page (steals out's contents). nonce: the script nonce or NULL. */
void outreach_page_reply(struct req *r, int status, struct buf *out, const char *nonce,
                         const struct outreach_brand *b);

/* A whole page with a heading and one paragraph, both catalogue keys. */
void outreach_page_message(struct req *r, int status, const char *locale, const char *title_key,
                           const char *text_key, const char *const *vars,
                           const struct outreach_brand *b);

#endif
