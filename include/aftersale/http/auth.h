/*
 * auth.h - who is calling: the admin token and shop API keys.
 *
 * Keys are "ask_" + base64url(32 random bytes). Only their SHA-256 is
 * stored; a presented key is hashed and looked up, then the stored hash is
 * compared again in constant time. There is no key cache, so a revoked key
 * stops working on the next request. The admin token is compared through
 * SHA-256 digests in constant time so neither its content nor its length
 * leaks. Thread-safe.
 */
#ifndef AFTERSALE_HTTP_AUTH_H
#define AFTERSALE_HTTP_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/err.h"
#include "aftersale/http/req.h"

#define AUTH_KEY_PREFIX "ask_"
#define AUTH_KEY_LEN (4 + 43)

/* Set the admin token (NULL: admin API off). Copied. */
void auth_init(const char *admin_token);

/* Check r's credential for the route's realm; fills r->shop_id for shop
 * keys. -1 with e (401/403/503) when refused. */
int auth_check(struct req *r, enum auth_kind kind, struct err *e);

struct token_claims;
/* Verify a customer token (http/token.h) of `scope` against the secret of
 * the shop it names (looked up in the database). */
int auth_token_verify(const char *token, const char *scope, struct token_claims *out,
                      struct err *e);

/* The bearer token of an Authorization header value, or NULL. Borrowed. */
const char *auth_bearer(const char *header);

/* New key text (AUTH_KEY_LEN + 1 bytes) and its hash. */
void auth_key_new(char key[AUTH_KEY_LEN + 1], uint8_t hash[CRYPTO_SHA256_LEN]);
/* Hash a presented key; -1 when it does not even look like a key. */
int auth_key_hash(const char *key, uint8_t hash[CRYPTO_SHA256_LEN]);

#endif
