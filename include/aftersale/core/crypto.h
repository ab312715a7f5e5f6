/*
 * crypto.h - every cryptographic primitive aftersale uses, on OpenSSL.
 *
 * No hand-rolled crypto: hashing, HMAC, randomness and AES-256-GCM are
 * OpenSSL's libcrypto; this module only gives them names that fit our
 * code and encodings (hex, base64, base64url). All functions are
 * thread-safe. Comparisons of secrets go through crypto_equal(), which
 * takes the same time whatever the contents.
 */
#ifndef AFTERSALE_CORE_CRYPTO_H
#define AFTERSALE_CORE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_KEY_LEN 32

/* Fill `out` with `n` cryptographically random bytes; aborts if the RNG fails. */
void crypto_random(void *out, size_t n);

/* 64 random bits. */
void crypto_random_u64(uint64_t *out);

/* `n` random characters from [A-Za-z0-9] into out (NUL-terminated; out has n+1 bytes). */
void crypto_random_alnum(char *out, size_t n);

void crypto_sha256(const void *data, size_t n, uint8_t out[CRYPTO_SHA256_LEN]);
void crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                        uint8_t out[CRYPTO_SHA256_LEN]);

/* Constant-time equality of two byte strings; different lengths are unequal
 * (the length itself is not secret). */
bool crypto_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Overwrite secret bytes in a way the compiler can't optimise away. */
void crypto_wipe(void *p, size_t n);

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void crypto_hex(const uint8_t *in, size_t n, char *out);
/* Parse exactly 2*n hex digits into out; -1 on any other input. */
int crypto_unhex(const char *hex, uint8_t *out, size_t n);

/* Standard base64 (with padding) of n bytes. Returns: new string, caller frees. */
char *crypto_base64(const uint8_t *in, size_t n);
/* base64url without padding. Returns: new string, caller frees. */
char *crypto_base64url(const uint8_t *in, size_t n);
/* Decode base64url without padding into a new buffer (*out, *outlen); -1 on bad input. */
int crypto_unbase64url(const char *in, uint8_t **out, size_t *outlen);

/*
 * Authenticated encryption of short secrets with AES-256-GCM.
 * Sealed format: 0x01 | nonce[12] | tag[16] | ciphertext. `aad` binds the
 * value to its purpose (e.g. "consumer_secret"), so a sealed value can't be
 * moved to another column. Returns: new buffer (caller frees) and its
 * length in *outlen.
 */
uint8_t *crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const char *aad, const void *plain,
                     size_t n, size_t *outlen);
/* Reverse of crypto_seal. Returns: new NUL-terminated plaintext (caller
 * frees), or NULL when the data was tampered with, sealed with another key
 * or another aad. */
char *crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const char *aad, const uint8_t *sealed,
                  size_t n);

#endif
