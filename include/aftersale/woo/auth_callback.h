/*
 * auth_callback.h - connecting a shop in one click through WooCommerce's
 * own app authorisation (/wc-auth/v1/authorize).
 *
 * The plugin asks for an authorisation request (woo_handle_auth_request,
 * shop API key) and sends the shop's admin to WooCommerce's authorize page
 * with callback_url = the URL answered here. When the admin approves,
 * WooCommerce creates a read_write key pair and POSTs it as JSON to that
 * URL (woo_handle_auth_callback, no credential but the one-time state in
 * the path). The state is 32 random bytes; only its SHA-256 is stored; it
 * expires after WOO_AUTH_STATE_TTL_S and is used once, in the transaction
 * that seals the consumer secret onto the state's shop. A state therefore
 * can never bind keys to another shop than the one that asked for it.
 */
#ifndef AFTERSALE_WOO_AUTH_CALLBACK_H
#define AFTERSALE_WOO_AUTH_CALLBACK_H

#include <stdbool.h>
#include <stddef.h>
#include "aftersale/http/req.h"

#define WOO_AUTH_STATE_TTL_S 900
#define WOO_AUTH_STATE_LEN 43 /* base64url of 32 bytes, no padding */

/* True when `s` looks like a state: exactly WOO_AUTH_STATE_LEN base64url
 * characters. Pure. */
bool woo_auth_state_valid(const char *s);

/* POST /v1/woocommerce/auth-requests (AUTH_SHOP): 201 {state, callback_url,
 * expires_at}; 409 without PUBLIC_URL. */
void woo_handle_auth_request(struct req *r);

/* POST /v1/woocommerce/auth-callback/{state} (AUTH_NONE, JSON): 200 when
 * the keys were stored; 404 for an unknown or expired state, 409 for a
 * used one, 422 for a body that is not WooCommerce's read_write keys. */
void woo_handle_auth_callback(struct req *r);

#endif
