/*
 * shops.h - tenants: validation, sealing of secrets, creation.
 *
 * A shop is a WooCommerce site aftersale serves. shops_validate() is pure
 * (unit-tested); shops_create() is what both `POST /v1/shops` and
 * `aftersale shop create` call, so the two can never drift apart.
 */
#ifndef AFTERSALE_SHOPS_SHOPS_H
#define AFTERSALE_SHOPS_SHOPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/err.h"
#include "aftersale/core/jx.h"

/* Validated input; pointers borrow from the JSON body; NULL = absent. */
struct shop_input {
    const char *name, *url, *consumer_key, *consumer_secret, *currency, *timezone;
    char url_norm[2049]; /* url without its trailing slash */
};

/* Check a create (all fields required) or patch (at least one) body.
 * Pure; -1 with a 422 naming the field. */
int shops_validate(const json_t *body, bool create, struct shop_input *in, struct err *e);

/* True for an http(s) URL with a host, no user info, no spaces/controls. */
bool shops_url_valid(const char *url);

/* Seal a secret for a bytea column: "\\x<hex>" of crypto_seal(). Returns: new string. */
char *shops_seal_hex(const uint8_t key[CRYPTO_KEY_LEN], const char *aad, const char *plain);

/* Reverse of shops_seal_hex for a bytea column read as text ("\\x...").
 * Returns: new string (caller wipes and frees), or NULL when it does not
 * decrypt (tampered, or sealed under another AFTERSALE_SECRET_KEY). */
char *shops_secret_open(const uint8_t key[CRYPTO_KEY_LEN], const char *aad, const char *hex);

/* Create a shop and its first API key. Returns: new reference to the
 * shop object plus api_key, api_key_id, webhook_secret, token_secret. */
json_t *shops_create(const json_t *body, const uint8_t key[CRYPTO_KEY_LEN], struct err *e);

#endif
