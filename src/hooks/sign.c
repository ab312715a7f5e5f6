/*
 * sign.c - Standard Webhooks signatures: secrets and "v1,<base64>" values.
 *
 * A secret is "whsec_" + base64 of 32 random bytes; the HMAC key is the
 * decoded bytes, not the text (as the Standard Webhooks libraries do, so a
 * receiver can use one of them unchanged). The signed content is
 * "<webhook-id>.<webhook-timestamp>.<body>" with the body's exact bytes.
 * Pure: no I/O besides the random bytes of a new secret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/mem.h"
#include "aftersale/hooks/hooks.h"

char *
hooks_secret_new(void)
{
    uint8_t key[HOOKS_KEY_LEN];
    char *b64, *out;

    crypto_random(key, sizeof(key));
    b64 = crypto_base64(key, sizeof(key));
    out = xasprintf(HOOKS_SECRET_PREFIX "%s", b64);
    crypto_wipe(key, sizeof(key));
    crypto_wipe(b64, strlen(b64));
    free(b64);
    return out;
}

int
hooks_secret_key(const char *secret, uint8_t **key, size_t *keylen)
{
    size_t plen = strlen(HOOKS_SECRET_PREFIX);
    char *tmp;
    int rc;

    if (strncmp(secret, HOOKS_SECRET_PREFIX, plen) == 0)
        secret += plen;
    /* Standard base64 -> the base64url decoder we have (it pads itself). */
    tmp = xstrdup(secret);
    for (char *p = tmp; *p; p++) {
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
        else if (*p == '=') {
            *p = '\0';
            break;
        }
    }
    rc = *tmp == '\0' ? -1 : crypto_unbase64url(tmp, key, keylen);
    crypto_wipe(tmp, strlen(tmp));
    free(tmp);
    return rc;
}

char *
hooks_sign(const char *secret, const char *msg_id, long long ts, const char *body, size_t body_len)
{
    uint8_t *key = NULL, mac[CRYPTO_SHA256_LEN];
    size_t keylen = 0;
    char head[160], *content, *b64, *out;
    int hn;

    if (hooks_secret_key(secret, &key, &keylen) < 0)
        return NULL;
    hn = snprintf(head, sizeof(head), "%s.%lld.", msg_id, ts);
    if (hn < 0 || (size_t)hn >= sizeof(head)) {
        free(key);
        return NULL;
    }
    content = xmalloc((size_t)hn + body_len + 1);
    memcpy(content, head, (size_t)hn);
    memcpy(content + hn, body, body_len);
    crypto_hmac_sha256(key, keylen, content, (size_t)hn + body_len, mac);
    crypto_wipe(key, keylen);
    free(key);
    free(content);
    b64 = crypto_base64(mac, sizeof(mac));
    out = xasprintf("v1,%s", b64);
    free(b64);
    return out;
}
