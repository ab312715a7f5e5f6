/*
 * crypto.c - thin, named wrappers over OpenSSL's libcrypto.
 *
 * Owns: randomness (RAND_bytes), SHA-256, HMAC-SHA256, constant-time
 * comparison (CRYPTO_memcmp), hex/base64 codecs and AES-256-GCM sealing of
 * stored secrets. It must never log, and never keep key material beyond a
 * call: the EVP contexts are created and freed inside each function.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/mem.h"

#define SEAL_VERSION 0x01
#define SEAL_NONCE 12
#define SEAL_TAG 16
#define SEAL_HEAD (1 + SEAL_NONCE + SEAL_TAG)

void
crypto_random(void *out, size_t n)
{
    if (RAND_bytes(out, (int)n) != 1) {
        fprintf(stderr, "{\"level\":\"error\",\"msg\":\"RAND_bytes failed\"}\n");
        abort();
    }
}

void
crypto_random_u64(uint64_t *out)
{
    crypto_random(out, sizeof(*out));
}

void
crypto_random_alnum(char *out, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t i = 0;

    /* Rejection sampling: bytes >= 248 (= 4 * 62) would bias the result. */
    while (i < n) {
        uint8_t chunk[64];
        crypto_random(chunk, sizeof(chunk));
        for (size_t j = 0; j < sizeof(chunk) && i < n; j++)
            if (chunk[j] < 248)
                out[i++] = alphabet[chunk[j] % 62];
    }
    out[n] = '\0';
}

void
crypto_sha256(const void *data, size_t n, uint8_t out[CRYPTO_SHA256_LEN])
{
    SHA256(data, n, out);
}

void
crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                   uint8_t out[CRYPTO_SHA256_LEN])
{
    unsigned int len = CRYPTO_SHA256_LEN;
    HMAC(EVP_sha256(), key, (int)keylen, data, n, out, &len);
}

bool
crypto_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen)
        return false;
    return CRYPTO_memcmp(a, b, alen) == 0;
}

void
crypto_wipe(void *p, size_t n)
{
    OPENSSL_cleanse(p, n);
}

void
crypto_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
crypto_unhex(const char *hex, uint8_t *out, size_t n)
{
    if (strlen(hex) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

char *
crypto_base64(const uint8_t *in, size_t n)
{
    char *out = xmalloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return out;
}

char *
crypto_base64url(const uint8_t *in, size_t n)
{
    char *out = crypto_base64(in, n);
    size_t len = strlen(out);

    while (len > 0 && out[len - 1] == '=')
        out[--len] = '\0';
    for (size_t i = 0; i < len; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return out;
}

int
crypto_unbase64url(const char *in, uint8_t **out, size_t *outlen)
{
    size_t len = strlen(in), padded = (len + 3) / 4 * 4;
    char *tmp = NULL;
    uint8_t *bin = NULL;
    int n, rc = -1;

    if (len % 4 == 1)
        goto out;
    tmp = xmalloc(padded + 1);
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            goto out;
        tmp[i] = c;
    }
    for (size_t i = len; i < padded; i++)
        tmp[i] = '=';
    tmp[padded] = '\0';
    bin = xmalloc(padded / 4 * 3 + 1);
    n = EVP_DecodeBlock(bin, (unsigned char *)tmp, (int)padded);
    if (n < 0)
        goto out;
    /* EVP_DecodeBlock counts padding bytes as output; take them back off. */
    n -= (int)(padded - len);
    *out = bin;
    *outlen = (size_t)n;
    bin = NULL;
    rc = 0;
out:
    free(tmp);
    free(bin);
    return rc;
}

uint8_t *
crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const char *aad, const void *plain, size_t n,
            size_t *outlen)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    uint8_t *out = xmalloc(SEAL_HEAD + n + 1);
    int len = 0;

    if (ctx == NULL)
        abort();
    out[0] = SEAL_VERSION;
    crypto_random(out + 1, SEAL_NONCE);
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, out + 1) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &len, (const uint8_t *)aad, (int)strlen(aad)) != 1 ||
        EVP_EncryptUpdate(ctx, out + SEAL_HEAD, &len, plain, (int)n) != 1 ||
        EVP_EncryptFinal_ex(ctx, out + SEAL_HEAD + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG, out + 1 + SEAL_NONCE) != 1)
        abort(); /* AES-GCM encryption cannot fail with valid arguments */
    EVP_CIPHER_CTX_free(ctx);
    *outlen = SEAL_HEAD + n;
    return out;
}

char *
crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const char *aad, const uint8_t *sealed, size_t n)
{
    EVP_CIPHER_CTX *ctx = NULL;
    char *plain = NULL;
    int len = 0, total = 0;

    if (n < SEAL_HEAD || sealed[0] != SEAL_VERSION)
        return NULL;
    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        abort();
    plain = xmalloc(n - SEAL_HEAD + 1);
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, sealed + 1) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &len, (const uint8_t *)aad, (int)strlen(aad)) != 1 ||
        EVP_DecryptUpdate(ctx, (uint8_t *)plain, &len, sealed + SEAL_HEAD, (int)(n - SEAL_HEAD)) !=
            1)
        goto fail;
    total = len;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG,
                            (void *)(uintptr_t)(sealed + 1 + SEAL_NONCE)) != 1 ||
        EVP_DecryptFinal_ex(ctx, (uint8_t *)plain + total, &len) != 1)
        goto fail;
    total += len;
    plain[total] = '\0';
    EVP_CIPHER_CTX_free(ctx);
    return plain;
fail:
    EVP_CIPHER_CTX_free(ctx);
    free(plain);
    return NULL;
}
