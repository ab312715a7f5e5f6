/*
 * oauth.c - OAuth 1.0a one-legged signatures, the way WooCommerce checks them.
 *
 * Owns the three pure steps of signing a request to a plain-http shop:
 * RFC 3986 encoding, the signature base string and HMAC-SHA256 over it, and
 * the assembly of the signed query string. It mirrors
 * WC_REST_Authentication::check_oauth_signature(): parameters are sorted by
 * raw key with strcmp (ties by raw value, so the output is deterministic),
 * each "key=value" is encoded once and then again as a whole, pairs are
 * joined with %26, and the key is consumer_secret + "&" (no token secret).
 * Callers must not repeat a query key: PHP's $_GET keeps only the last one,
 * so the shop would sign a different set than we did.
 *
 * Invariants: the caller's parameter arrays are never reordered (we sort a
 * copy); the base URL is used exactly as given, port included, because the
 * shop signs get_home_url() + path and a dropped port means "Invalid
 * signature". Called by woo/client.c for http:// shops and by unit tests with
 * fixed timestamps and nonces. Pure and thread-safe: no clock, no randomness,
 * no I/O, and it must never log or keep the secret beyond a call.
 */
#include <assert.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/crypto.h"
#include "aftersale/core/mem.h"
#include "aftersale/woo/oauth.h"

/* RFC 3986 section 2.3: the only bytes that travel unencoded. */
static int
unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static void
encode_into(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p)) {
            buf_append(b, p, 1);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 0x0f]};
            buf_append(b, esc, sizeof(esc));
        }
    }
}

char *
woo_oauth_encode(const char *s)
{
    struct buf b = {0};

    assert(s != NULL);
    encode_into(&b, s);
    return buf_steal(&b);
}

static int
param_cmp(const void *a, const void *b)
{
    const struct woo_param *pa = a, *pb = b;
    int c = strcmp(pa->key, pb->key);

    return c != 0 ? c : strcmp(pa->value, pb->value);
}

/* "k1=v1&k2=v2..." with keys and values encoded once, sorted as the shop sorts
 * them. This is both the query string we send and, encoded again, the third
 * part of the base string. Returns: new string. */
static char *
sorted_pairs(const struct woo_param *params, size_t n)
{
    struct woo_param *sorted = NULL;
    struct buf b = {0};

    if (n > 0) {
        sorted = xmalloc(n * sizeof(*sorted));
        memcpy(sorted, params, n * sizeof(*sorted));
        for (size_t i = 0; i < n; i++)
            assert(sorted[i].key != NULL && sorted[i].value != NULL);
        qsort(sorted, n, sizeof(*sorted), param_cmp);
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            buf_puts(&b, "&");
        encode_into(&b, sorted[i].key);
        buf_puts(&b, "=");
        encode_into(&b, sorted[i].value);
    }
    free(sorted);
    return buf_steal(&b);
}

char *
woo_oauth_base_string(const char *method, const char *base_url, const struct woo_param *params,
                      size_t nparams)
{
    struct buf b = {0};
    char *pairs = sorted_pairs(params, nparams);

    for (const char *m = method; *m; m++) {
        char up = (char)toupper((unsigned char)*m);
        buf_append(&b, &up, 1);
    }
    buf_puts(&b, "&");
    encode_into(&b, base_url);
    buf_puts(&b, "&");
    encode_into(&b, pairs);
    free(pairs);
    return buf_steal(&b);
}

char *
woo_oauth_signature(const char *consumer_secret, const char *base_string)
{
    uint8_t mac[CRYPTO_SHA256_LEN];
    char *key = xasprintf("%s&", consumer_secret);
    char *sig;

    crypto_hmac_sha256(key, strlen(key), base_string, strlen(base_string), mac);
    sig = crypto_base64(mac, sizeof(mac));
    crypto_wipe(key, strlen(key));
    free(key);
    return sig;
}

char *
woo_oauth_query(const char *method, const char *base_url, const struct woo_param *query,
                size_t nquery, const char *consumer_key, const char *consumer_secret,
                const char *timestamp, const char *nonce)
{
    /* oauth_version and oauth_token are left out, as WooCommerce expects. */
    const struct woo_param oauth[] = {
        {"oauth_consumer_key", consumer_key},
        {"oauth_nonce", nonce},
        {"oauth_signature_method", "HMAC-SHA256"},
        {"oauth_timestamp", timestamp},
    };
    size_t noauth = sizeof(oauth) / sizeof(oauth[0]);
    struct woo_param *all = xmalloc((nquery + noauth) * sizeof(*all));
    char *base = NULL, *sig = NULL, *pairs = NULL;
    struct buf b = {0};

    if (nquery > 0)
        memcpy(all, query, nquery * sizeof(*all));
    memcpy(all + nquery, oauth, sizeof(oauth));

    base = woo_oauth_base_string(method, base_url, all, nquery + noauth);
    sig = woo_oauth_signature(consumer_secret, base);
    pairs = sorted_pairs(all, nquery + noauth);

    buf_puts(&b, pairs);
    buf_puts(&b, "&oauth_signature=");
    encode_into(&b, sig);

    free(pairs);
    free(sig);
    free(base);
    free(all);
    return buf_steal(&b);
}
