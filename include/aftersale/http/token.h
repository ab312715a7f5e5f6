/*
 * token.h - customer tokens: JWT HS256 signed with the shop's token_secret.
 *
 * A shop's plugin (or aftersale itself, in email links) mints a short-lived
 * token for one customer of one shop. Claims:
 *   aud    "shop:<shop id>"                     required; names the shop
 *   exp    expiry, seconds since the epoch      required
 *   iat    issued at                            optional; when present, must be > 0
 *   sub    WooCommerce customer id, decimal     sub or email required
 *   email  the customer's email (guests)        optional
 *   scope  "loyalty" | "review" | ...           required
 *   rid    id of the object the token is for    optional (e.g. a review request)
 * Verification pins HS256 (a token with alg "none", HS384, RS256... is
 * refused before any key is used), checks the signature with the secret of
 * the shop named in aud, then exp (with no leeway) and scope. libjwt 1.10
 * has no validation API, so all of this is done here, explicitly.
 */
#ifndef AFTERSALE_HTTP_TOKEN_H
#define AFTERSALE_HTTP_TOKEN_H

#include <stdint.h>
#include <time.h>

#include "aftersale/core/err.h"

struct token_claims {
    int64_t shop_id;
    int64_t customer_id; /* 0 when the token names a guest by email */
    char email[256];     /* "" when absent */
    char scope[32];
    int64_t rid;         /* 0 when absent */
    time_t exp;
};

/* Looks up a shop's token secret: *secret = new string (caller wipes and
 * frees), or NULL when there is no such shop. -1 with e on failure. */
typedef int (*token_secret_fn)(void *ctx, int64_t shop_id, char **secret, struct err *e);

/*
 * Verify `token` for `scope` at time `now`. A token whose exp - now, or
 * exp - iat when it has iat, is over `max_lifetime_s` is refused (401);
 * max_lifetime_s <= 0 means no maximum (unit tests of other checks only). 0 with *out filled, or -1 with
 * e->kind ERR_UNAUTHORIZED (malformed, bad signature, wrong alg, expired,
 * unknown shop, missing claim: the detail says which, never the token) or
 * ERR_FORBIDDEN (valid token of another scope), or ERR_UNAVAILABLE from
 * the secret lookup.
 */
int token_verify(const char *token, const char *scope, time_t now, int64_t max_lifetime_s,
                 token_secret_fn lookup, void *lookup_ctx, struct token_claims *out,
                 struct err *e);

/* Mint a token (for links in emails and for tests). Returns: new string, or
 * NULL when the secret is NULL or empty or libjwt fails. */
char *token_mint(const char *secret, const struct token_claims *claims);

#endif
