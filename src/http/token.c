/*
 * token.c - customer tokens: JWT HS256, signed with the shop's token_secret.
 *
 * A token is only as strong as the order of its checks, so verification
 * runs in a fixed order and no step trusts what a later step proves:
 *   1. shape: at most TOKEN_MAX_LEN bytes, exactly three non-empty segments;
 *   2. header, decoded and parsed here (not by libjwt): "alg" must be exactly
 *      "HS256", so "none", HS384/HS512 and RS256 (the key-confusion attack)
 *      are refused before any key is fetched or used;
 *   3. the *unverified* payload is read for one thing only, "aud", to learn
 *      which shop's secret to fetch; nothing else from it is believed;
 *   4. the signature: our own constant-time HMAC-SHA256 comparison first
 *      (libjwt 1.10 compares with strcmp, which leaks timing), then libjwt's
 *      jwt_decode with the same secret and a check that it saw HS256;
 *   5. claims, from the verified jwt_t: aud again, exp (no leeway), the
 *      maximum lifetime (exp - now, and exp - iat when iat is present), nbf if
 *      present, scope (a mismatch is 403, the rest 401), sub or email, rid.
 * libjwt 1.10 has no validation API and decodes without checking anything
 * when given no key, so every one of these checks is ours. Errors name the
 * check that failed and never quote the token, a claim value or the secret.
 * The secret is wiped as soon as it is no longer needed. Pure apart from the
 * lookup callback; thread-safe. Called by http/auth.c and by job kinds that
 * put links in emails (token_mint).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jwt.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/cursor.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/http/token.h"

/* Longer than any token we or a plugin mint, short enough to bound work. */
#define TOKEN_MAX_LEN 4096

/* "shop:<id>" for a positive id; buf must hold 32 bytes. */
static void
format_aud(char *buf, size_t n, int64_t shop_id)
{
    snprintf(buf, n, "shop:%" PRId64, shop_id);
}

/* Parse "shop:<positive int64>" in canonical form (no sign, no leading
 * zeros), so exactly one string names each shop. */
static int
shop_from_aud(const char *aud, int64_t *shop_id)
{
    char canon[32];

    if (aud == NULL || strncmp(aud, "shop:", 5) != 0 || cursor_parse_id(aud + 5, shop_id) < 0)
        return -1;
    format_aud(canon, sizeof(canon), *shop_id);
    return strcmp(canon, aud) == 0 ? 0 : -1;
}

/* Decode one base64url segment that must hold a JSON object.
 * Returns: new reference, or NULL for anything else. */
static json_t *
segment_object(const char *seg)
{
    uint8_t *raw = NULL;
    size_t n = 0;
    json_t *v;

    if (crypto_unbase64url(seg, &raw, &n) < 0)
        return NULL;
    /* Duplicate keys are refused: otherwise our reading of "alg" or "aud"
     * and libjwt's could disagree about which copy counts. */
    v = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (v != NULL && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

/* Constant-time check of the HS256 signature over `input` (the first two
 * segments with their dot) against the third segment, compared in its
 * base64url form so that only the canonical encoding is accepted. */
static bool
signature_ok(const char *secret, const char *input, size_t input_len, const char *sig)
{
    uint8_t mac[CRYPTO_SHA256_LEN];
    char *want;
    bool ok;

    crypto_hmac_sha256(secret, strlen(secret), input, input_len, mac);
    want = crypto_base64url(mac, sizeof(mac));
    ok = crypto_equal(want, strlen(want), sig, strlen(sig));
    free(want);
    return ok;
}

/*
 * Read and check the claims of a verified token. libjwt 1.10 reports a
 * missing grant with errno = ENOENT; a grant of the wrong JSON type reads
 * as NULL (strings) or 0 (integers) with errno left at 0, so errno is
 * zeroed before every call and 0 is never a valid value of an int claim.
 */
static int
read_claims(jwt_t *jwt, int64_t shop_id, const char *scope, time_t now, int64_t max_lifetime_s,
            struct token_claims *c, struct err *e)
{
    char aud[32];
    const char *s;
    long v;

    memset(c, 0, sizeof(*c));
    c->shop_id = shop_id;

    format_aud(aud, sizeof(aud), shop_id);
    s = jwt_get_grant(jwt, "aud");
    if (s == NULL || strcmp(s, aud) != 0)
        return err_set(e, ERR_UNAUTHORIZED, NULL, "token audience must be shop:<id>");

    errno = 0;
    v = jwt_get_grant_int(jwt, "exp");
    if (errno == ENOENT)
        return err_set(e, ERR_UNAUTHORIZED, NULL, "token has no exp");
    if (errno != 0 || v <= 0)
        return err_set(e, ERR_UNAUTHORIZED, NULL, "token exp must be a positive integer");
    if ((time_t)v <= now)
        return err_set(e, ERR_UNAUTHORIZED, NULL, "token expired");
    c->exp = (time_t)v;

    /* nbf is optional, but RFC 7519 says a token must not be accepted
     * before it; plugins need not send it. */
    errno = 0;
    v = jwt_get_grant_int(jwt, "nbf");
    if (errno != ENOENT) {
        if (errno != 0 || v <= 0)
            return err_set(e, ERR_UNAUTHORIZED, NULL, "token nbf must be a positive integer");
        if ((time_t)v > now)
            return err_set(e, ERR_UNAUTHORIZED, NULL, "token not valid yet");
    }

    s = jwt_get_grant(jwt, "scope");
    if (s == NULL)
        return err_set(e, ERR_UNAUTHORIZED, NULL, "token has no scope");
    /* Valid, but for something else: the customer is known, not allowed. */
    if (strcmp(s, scope) != 0)
        return err_set(e, ERR_FORBIDDEN, NULL, "token is for another scope");
    snprintf(c->scope, sizeof(c->scope), "%s", scope);

    /* A maximum lifetime (checked after the scope, whose routes may allow
     * longer lives), so a leaked link does not work for ever: counted
     * from iat when the token has one (a token minted long ago for a long
     * time is refused even late in its life), and always from now (a
     * future iat must not stretch it). Subtractions cannot overflow: exp
     * and now are positive, iat is checked positive. */
    if (max_lifetime_s > 0) {
        if ((int64_t)c->exp - (int64_t)now > max_lifetime_s)
            return err_set(e, ERR_UNAUTHORIZED, NULL,
                           "token lifetime exceeds the maximum of %" PRId64 " s", max_lifetime_s);
        errno = 0;
        v = jwt_get_grant_int(jwt, "iat");
        if (errno != ENOENT) {
            if (errno != 0 || v <= 0)
                return err_set(e, ERR_UNAUTHORIZED, NULL, "token iat must be a positive integer");
            if ((int64_t)c->exp - (int64_t)v > max_lifetime_s)
                return err_set(e, ERR_UNAUTHORIZED, NULL,
                               "token lifetime (exp - iat) exceeds the maximum of %" PRId64 " s",
                               max_lifetime_s);
        }
    }

    /* sub is a string in JWT; a JSON integer is accepted too, because it
     * is what a plugin author writes first. */
    errno = 0;
    s = jwt_get_grant(jwt, "sub");
    if (s != NULL) {
        if (cursor_parse_id(s, &c->customer_id) < 0)
            return err_set(e, ERR_UNAUTHORIZED, NULL, "token sub must be a customer id");
    } else if (errno != ENOENT) {
        errno = 0;
        v = jwt_get_grant_int(jwt, "sub");
        if (errno != 0 || v <= 0)
            return err_set(e, ERR_UNAUTHORIZED, NULL, "token sub must be a customer id");
        c->customer_id = v;
    }

    errno = 0;
    s = jwt_get_grant(jwt, "email");
    if (s != NULL) {
        size_t n = strlen(s);
        if (n == 0 || n >= sizeof(c->email))
            return err_set(e, ERR_UNAUTHORIZED, NULL, "token email must be 1 to 255 bytes");
        memcpy(c->email, s, n + 1);
    } else if (errno != ENOENT) {
        return err_set(e, ERR_UNAUTHORIZED, NULL, "token email must be a string");
    }
    if (c->customer_id == 0 && c->email[0] == '\0')
        return err_set(e, ERR_UNAUTHORIZED, NULL, "token names no customer (sub or email)");

    errno = 0;
    v = jwt_get_grant_int(jwt, "rid");
    if (errno != ENOENT) {
        if (errno != 0 || v <= 0)
            return err_set(e, ERR_UNAUTHORIZED, NULL, "token rid must be a positive integer");
        c->rid = v;
    }
    return 0;
}

int
token_verify(const char *token, const char *scope, time_t now, int64_t max_lifetime_s,
             token_secret_fn lookup, void *lookup_ctx, struct token_claims *out, struct err *e)
{
    char *copy = NULL, *payload, *sig, *dot;
    json_t *header = NULL, *claims = NULL;
    char *secret = NULL;
    jwt_t *jwt = NULL;
    struct token_claims c;
    const char *alg;
    int64_t shop_id = 0;
    size_t len;
    int rc = -1;

    if (scope == NULL || strlen(scope) >= sizeof(out->scope))
        return err_set(e, ERR_INTERNAL, NULL, "token scope argument out of range");
    if (token == NULL || *token == '\0')
        return err_set(e, ERR_UNAUTHORIZED, NULL, "malformed token");
    len = strnlen(token, TOKEN_MAX_LEN + 1);
    if (len > TOKEN_MAX_LEN)
        return err_set(e, ERR_UNAUTHORIZED, NULL, "token too long");

    /* 1. Shape: header.payload.signature, none of them empty. */
    copy = xstrndup(token, len);
    payload = strchr(copy, '.');
    sig = payload != NULL ? strchr(payload + 1, '.') : NULL;
    if (sig == NULL || strchr(sig + 1, '.') != NULL || payload == copy || sig == payload + 1 ||
        sig[1] == '\0') {
        err_set(e, ERR_UNAUTHORIZED, NULL, "malformed token");
        goto out;
    }
    *payload++ = '\0';
    dot = sig;
    *sig++ = '\0';

    /* 2. The algorithm, pinned before any key is touched. */
    header = segment_object(copy);
    if (header == NULL) {
        err_set(e, ERR_UNAUTHORIZED, NULL, "malformed token header");
        goto out;
    }
    alg = jx_str(header, "alg");
    if (alg == NULL || strcmp(alg, "HS256") != 0) {
        err_set(e, ERR_UNAUTHORIZED, NULL, "token algorithm must be HS256");
        goto out;
    }
    /* RFC 7515: extensions marked critical that we don't implement (we
     * implement none) make the token invalid. */
    if (json_object_get(header, "crit") != NULL) {
        err_set(e, ERR_UNAUTHORIZED, NULL, "token has critical header extensions");
        goto out;
    }

    /* 3. Which shop: the only use of the unverified payload. */
    claims = segment_object(payload);
    if (claims == NULL) {
        err_set(e, ERR_UNAUTHORIZED, NULL, "malformed token payload");
        goto out;
    }
    if (shop_from_aud(jx_str(claims, "aud"), &shop_id) < 0) {
        err_set(e, ERR_UNAUTHORIZED, NULL, "token audience must be shop:<id>");
        goto out;
    }
    if (lookup(lookup_ctx, shop_id, &secret, e) < 0) {
        if (e != NULL && e->kind == ERR_NONE)
            err_set(e, ERR_INTERNAL, NULL, "token secret lookup failed");
        goto out;
    }
    if (secret == NULL) {
        err_set(e, ERR_UNAUTHORIZED, NULL, "unknown shop");
        goto out;
    }
    if (*secret == '\0' || strlen(secret) > INT_MAX) {
        err_set(e, ERR_UNAUTHORIZED, NULL, "shop has no usable token secret");
        goto out;
    }

    /* 4. The signature: ours in constant time, then libjwt's. */
    if (!signature_ok(secret, token, (size_t)(dot - copy), sig)) {
        err_set(e, ERR_UNAUTHORIZED, NULL, "bad token signature");
        goto out;
    }
    if (jwt_decode(&jwt, token, (const unsigned char *)secret, (int)strlen(secret)) != 0 ||
        jwt_get_alg(jwt) != JWT_ALG_HS256) {
        err_set(e, ERR_UNAUTHORIZED, NULL, "bad token signature");
        goto out;
    }

    /* 5. Claims, now from the verified token. */
    if (read_claims(jwt, shop_id, scope, now, max_lifetime_s, &c, e) < 0)
        goto out;
    *out = c;
    rc = 0;
out:
    jwt_free(jwt);
    if (secret != NULL) {
        crypto_wipe(secret, strlen(secret));
        free(secret);
    }
    json_decref(claims);
    json_decref(header);
    free(copy);
    return rc;
}

/* libjwt returns 0 or an errno; any failure of it makes the mint fail. */
static int
add_str(jwt_t *jwt, const char *name, const char *val)
{
    return jwt_add_grant(jwt, name, val) == 0 ? 0 : -1;
}

static int
add_int(jwt_t *jwt, const char *name, int64_t val)
{
    return jwt_add_grant_int(jwt, name, (long)val) == 0 ? 0 : -1;
}

/*
 * Claims are written when present: aud when shop_id > 0, exp when != 0,
 * sub (decimal string) when customer_id > 0, email and scope when not
 * empty, rid when > 0; iat is always now. Leaving one out is how tests
 * build tokens that lack it. Returns: new string (free()), or NULL when the
 * secret is NULL/empty or libjwt fails.
 */
char *
token_mint(const char *secret, const struct token_claims *claims)
{
    const struct token_claims *c = claims;
    jwt_t *jwt = NULL;
    char *tok = NULL, *res = NULL, buf[32];
    int fail = 0;

    if (secret == NULL || *secret == '\0' || strlen(secret) > INT_MAX)
        return NULL;
    if (jwt_new(&jwt) != 0)
        return NULL;
    fail |= jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret));
    if (c->shop_id > 0) {
        format_aud(buf, sizeof(buf), c->shop_id);
        fail |= add_str(jwt, "aud", buf);
    }
    if (c->exp != 0)
        fail |= add_int(jwt, "exp", (int64_t)c->exp);
    fail |= add_int(jwt, "iat", (int64_t)time(NULL));
    if (c->customer_id > 0) {
        snprintf(buf, sizeof(buf), "%" PRId64, c->customer_id);
        fail |= add_str(jwt, "sub", buf);
    }
    if (c->email[0] != '\0')
        fail |= add_str(jwt, "email", c->email);
    if (c->scope[0] != '\0')
        fail |= add_str(jwt, "scope", c->scope);
    if (c->rid > 0)
        fail |= add_int(jwt, "rid", c->rid);
    if (fail == 0)
        tok = jwt_encode_str(jwt);
    /* libjwt 1.10 has no jwt_free_str and allocates with malloc, so free()
     * is right for its string; the copy makes that true for any libjwt. */
    if (tok != NULL)
        res = xstrdup(tok);
    free(tok);
    jwt_free(jwt);
    return res;
}
