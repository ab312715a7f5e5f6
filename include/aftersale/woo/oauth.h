/*
 * oauth.h - OAuth 1.0a one-legged signatures, exactly as WooCommerce checks
 * them (../shared/woocommerce-api.md section 1.3). Pure; thread-safe.
 */
#ifndef AFTERSALE_WOO_OAUTH_H
#define AFTERSALE_WOO_OAUTH_H

#include <stddef.h>

#include "aftersale/woo/client.h"

/* RFC 3986 percent-encoding (unreserved kept: A-Z a-z 0-9 - . _ ~).
 * Returns: new string, caller frees. */
char *woo_oauth_encode(const char *s);

/* The signature base string for METHOD, base URL (scheme, host, port,
 * path; no query) and the full parameter set (request query parameters
 * plus oauth_* parameters, without oauth_signature). Returns: new string. */
char *woo_oauth_base_string(const char *method, const char *base_url,
                            const struct woo_param *params, size_t nparams);

/* base64(HMAC-SHA256(consumer_secret + "&", base string)). Returns: new string. */
char *woo_oauth_signature(const char *consumer_secret, const char *base_string);

/* Build the complete signed query string ("a=1&oauth_consumer_key=...&oauth_signature=...")
 * for a request, with the given timestamp and nonce (tests pass fixed ones;
 * the client passes time(NULL) and 32 random alphanumerics). Returns: new string. */
char *woo_oauth_query(const char *method, const char *base_url, const struct woo_param *query,
                      size_t nquery, const char *consumer_key, const char *consumer_secret,
                      const char *timestamp, const char *nonce);

#endif
