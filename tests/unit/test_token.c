/*
 * test_token.c - unit tests of customer tokens (http/token.c).
 *
 * Tokens are made three ways: token_mint (our own links), libjwt directly
 * (to get HS384/HS512 tokens signed with the right secret), and by hand with
 * HMAC-SHA256 + base64url exactly as the PHP snippet in the docs does, so a
 * plugin's tokens are known to verify and any claim shape can be tried. The
 * fake secret lookup counts its calls: a token with the wrong alg or aud
 * must be refused before any secret is fetched. No database, no network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jwt.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/err.h"
#include "aftersale/core/mem.h"
#include "aftersale/http/token.h"

#define SECRET1 "shop-one-secret-0123456789abcdefghij"
#define SECRET2 "shop-two-secret-zyxwvutsrqponmlkjihg"

/* ---- fixtures ----------------------------------------------------------- */

struct fake_shops {
    int calls;
    int64_t last_shop;
    int fail; /* lookup fails with ERR_UNAVAILABLE */
};

/* Shop 1 and 2 exist with their own secrets; every other shop is unknown. */
static int
fake_lookup(void *ctx, int64_t shop_id, char **secret, struct err *e)
{
    struct fake_shops *f = ctx;

    f->calls++;
    f->last_shop = shop_id;
    if (f->fail)
        return err_set(e, ERR_UNAVAILABLE, NULL, "database unavailable");
    if (shop_id == 1)
        *secret = xstrdup(SECRET1);
    else if (shop_id == 2)
        *secret = xstrdup(SECRET2);
    else
        *secret = NULL;
    return 0;
}

static time_t now;
#define MAX_LIFE (30 * 86400) /* TOKEN_MAX_LIFETIME_S's default */

static struct token_claims
claims_for(int64_t shop, int64_t customer, const char *scope)
{
    struct token_claims c;
    memset(&c, 0, sizeof(c));
    c.shop_id = shop;
    c.customer_id = customer;
    snprintf(c.scope, sizeof(c.scope), "%s", scope);
    c.exp = now + 600;
    return c;
}

static char *
b64url_str(const char *s)
{
    return crypto_base64url((const uint8_t *)s, strlen(s));
}

/* What the PHP snippet does: b64url(header) "." b64url(payload) "." b64url(HMAC). */
static char *
hand_token(const char *secret, const char *header, const char *payload)
{
    char *h = b64url_str(header), *p = b64url_str(payload), *input, *sig, *tok;
    uint8_t mac[CRYPTO_SHA256_LEN];

    input = xasprintf("%s.%s", h, p);
    crypto_hmac_sha256(secret, strlen(secret), input, strlen(input), mac);
    sig = crypto_base64url(mac, sizeof(mac));
    tok = xasprintf("%s.%s", input, sig);
    free(h);
    free(p);
    free(input);
    free(sig);
    return tok;
}

/* hand_token with the standard header and a payload given as a format. */
static char *hand_payload(const char *secret, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *
hand_payload(const char *secret, const char *fmt, ...)
{
    char payload[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(payload, sizeof(payload), fmt, ap);
    va_end(ap);
    return hand_token(secret, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload);
}

/* Token signed by libjwt with any algorithm and key. */
static char *
libjwt_token(jwt_alg_t alg, const char *secret, const char *aud)
{
    jwt_t *jwt = NULL;
    char *s, *tok;

    assert_int_equal(jwt_new(&jwt), 0);
    assert_int_equal(jwt_set_alg(jwt, alg, (const unsigned char *)secret, (int)strlen(secret)), 0);
    assert_int_equal(jwt_add_grant(jwt, "aud", aud), 0);
    assert_int_equal(jwt_add_grant_int(jwt, "exp", (long)(now + 600)), 0);
    assert_int_equal(jwt_add_grant(jwt, "sub", "42"), 0);
    assert_int_equal(jwt_add_grant(jwt, "scope", "loyalty"), 0);
    s = jwt_encode_str(jwt);
    assert_non_null(s);
    tok = xstrdup(s);
    free(s);
    jwt_free(jwt);
    return tok;
}

static int
verify(const char *tok, const char *scope, struct fake_shops *f, struct token_claims *out,
       struct err *e)
{
    err_clear(e);
    return token_verify(tok, scope, now, MAX_LIFE, fake_lookup, f, out, e);
}

/* Refused with `kind`; the detail never quotes the token or a secret. */
static void
expect_refused(const char *tok, enum err_kind kind)
{
    struct fake_shops f = {0};
    struct token_claims out;
    struct err e;

    memset(&out, 0xa5, sizeof(out));
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), -1);
    assert_int_equal(e.kind, kind);
    assert_true(e.detail[0] != '\0');
    assert_null(strstr(e.detail, SECRET1));
    assert_null(strstr(e.detail, SECRET2));
    if (strlen(tok) >= 8)
        assert_null(strstr(e.detail, tok));
}

/* Refused as unauthorized without ever asking for a secret. */
static void
expect_refused_before_lookup(const char *tok)
{
    struct fake_shops f = {0};
    struct token_claims out;
    struct err e;

    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), -1);
    assert_int_equal(e.kind, ERR_UNAUTHORIZED);
    assert_int_equal(f.calls, 0);
}

/* The token is refused; a "%lld" in `tmpl` becomes an exp within the
 * maximum lifetime, so the claim under test is what fails. */
static void
refuse_hand(const char *secret, const char *tmpl)
{
    const char *at = strstr(tmpl, "%lld");
    char *tok;

    if (at == NULL)
        tok = hand_payload(secret, "%s", tmpl);
    else
        tok = hand_payload(secret, "%.*s%lld%s", (int)(at - tmpl), tmpl, (long long)now + 600,
                           at + 4);
    expect_refused(tok, ERR_UNAUTHORIZED);
    free(tok);
}

static int
setup(void **state)
{
    (void)state;
    now = time(NULL);
    return 0;
}

/* ---- round trips -------------------------------------------------------- */

static void
mint_then_verify_round_trips(void **state)
{
    struct token_claims c = claims_for(1, 42, "loyalty"), out;
    struct fake_shops f = {0};
    struct err e;
    char *tok;

    (void)state;
    c.rid = 7;
    tok = token_mint(SECRET1, &c);
    assert_non_null(tok);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), 0);
    assert_int_equal(f.calls, 1);
    assert_int_equal(f.last_shop, 1);
    assert_int_equal(out.shop_id, 1);
    assert_int_equal(out.customer_id, 42);
    assert_string_equal(out.email, "");
    assert_string_equal(out.scope, "loyalty");
    assert_int_equal(out.rid, 7);
    assert_int_equal(out.exp, c.exp);
    free(tok);

    /* Shop 2 with its own secret works just as well. */
    c = claims_for(2, 9, "review");
    tok = token_mint(SECRET2, &c);
    assert_int_equal(verify(tok, "review", &f, &out, &e), 0);
    assert_int_equal(out.shop_id, 2);
    assert_int_equal(out.rid, 0);
    free(tok);
}

static void
email_only_token_is_accepted(void **state)
{
    struct token_claims c = claims_for(1, 0, "review"), out;
    struct fake_shops f = {0};
    struct err e;
    char *tok;

    (void)state;
    snprintf(c.email, sizeof(c.email), "guest@example.com");
    tok = token_mint(SECRET1, &c);
    assert_int_equal(verify(tok, "review", &f, &out, &e), 0);
    assert_int_equal(out.customer_id, 0);
    assert_string_equal(out.email, "guest@example.com");
    free(tok);
}

static void
php_style_token_is_accepted(void **state)
{
    struct token_claims out;
    struct fake_shops f = {0};
    struct err e;
    char *tok;

    (void)state;
    /* Byte for byte what the documented PHP snippet produces. */
    tok = hand_payload(SECRET1,
                       "{\"aud\":\"shop:1\",\"iat\":%lld,\"exp\":%lld,\"scope\":\"loyalty\","
                       "\"sub\":\"42\"}",
                       (long long)now, (long long)now + 900);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), 0);
    assert_int_equal(out.customer_id, 42);
    free(tok);

    /* "typ" is optional. */
    {
        char payload[160];
        snprintf(payload, sizeof(payload),
                 "{\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":\"loyalty\",\"sub\":\"5\"}",
                 (long long)now + 60);
        tok = hand_token(SECRET1, "{\"alg\":\"HS256\"}", payload);
    }
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), 0);
    assert_int_equal(out.customer_id, 5);
    free(tok);
}

static void
sub_as_json_integer_is_accepted(void **state)
{
    struct token_claims out;
    struct fake_shops f = {0};
    struct err e;
    char *tok;

    (void)state;
    tok = hand_payload(SECRET1,
                       "{\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":\"loyalty\",\"sub\":42,"
                       "\"rid\":3}",
                       (long long)now + 60);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), 0);
    assert_int_equal(out.customer_id, 42);
    assert_int_equal(out.rid, 3);
    free(tok);
}

/* ---- maximum lifetime --------------------------------------------------- */

static void
expect_lifetime_refused(const char *payload)
{
    struct fake_shops f = {0};
    struct token_claims out;
    struct err e;
    char *tok = hand_payload(SECRET1, "%s", payload);

    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), -1);
    assert_int_equal(e.kind, ERR_UNAUTHORIZED);
    assert_non_null(strstr(e.detail, "lifetime"));
    free(tok);
}

static void
endless_token_is_refused(void **state)
{
    char p[256];

    (void)state;
    /* exp = 2^63 - 1, with and without iat. */
    expect_lifetime_refused("{\"aud\":\"shop:1\",\"exp\":9223372036854775807,"
                            "\"scope\":\"loyalty\",\"sub\":\"1\"}");
    snprintf(p, sizeof(p),
             "{\"aud\":\"shop:1\",\"iat\":%lld,\"exp\":9223372036854775807,"
             "\"scope\":\"loyalty\",\"sub\":\"1\"}",
             (long long)now);
    expect_lifetime_refused(p);
    /* Another scope is told first (403), whatever its lifetime. */
    {
        struct fake_shops f = {0};
        struct token_claims out;
        struct err e;
        char *tok = hand_payload(SECRET1, "%s",
                                 "{\"aud\":\"shop:1\",\"exp\":9223372036854775807,"
                                 "\"scope\":\"unsubscribe\",\"sub\":\"1\"}");
        assert_int_equal(verify(tok, "loyalty", &f, &out, &e), -1);
        assert_int_equal(e.kind, ERR_FORBIDDEN);
        free(tok);
    }
    /* A future iat does not stretch it: exp - now counts too. */
    expect_lifetime_refused("{\"aud\":\"shop:1\",\"iat\":9223372036854775000,"
                            "\"exp\":9223372036854775807,\"scope\":\"loyalty\",\"sub\":\"1\"}");
}

static void
lifetime_over_the_maximum_is_refused(void **state)
{
    char p[256];

    (void)state;
    /* exp - iat one second over the maximum, though exp - now is within it. */
    snprintf(p, sizeof(p),
             "{\"aud\":\"shop:1\",\"iat\":%lld,\"exp\":%lld,\"scope\":\"loyalty\",\"sub\":\"1\"}",
             (long long)now - 100, (long long)now - 100 + MAX_LIFE + 1);
    expect_lifetime_refused(p);
    /* Without iat: exp - now over the maximum. */
    snprintf(p, sizeof(p), "{\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":\"loyalty\",\"sub\":\"1\"}",
             (long long)now + MAX_LIFE + 1);
    expect_lifetime_refused(p);
    /* A bad iat is refused rather than ignored. */
    snprintf(p, sizeof(p),
             "{\"aud\":\"shop:1\",\"iat\":\"x\",\"exp\":%lld,\"scope\":\"loyalty\",\"sub\":\"1\"}",
             (long long)now + 60);
    refuse_hand(SECRET1, p);
}

static void
lifetime_within_the_maximum_is_accepted(void **state)
{
    struct fake_shops f = {0};
    struct token_claims out;
    struct err e;
    char *tok;

    (void)state;
    /* Exactly the maximum, from iat and from now. */
    tok = hand_payload(SECRET1,
                       "{\"aud\":\"shop:1\",\"iat\":%lld,\"exp\":%lld,\"scope\":\"loyalty\","
                       "\"sub\":\"1\"}",
                       (long long)now - 100, (long long)now - 100 + MAX_LIFE);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), 0);
    free(tok);
    tok = hand_payload(SECRET1,
                       "{\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":\"loyalty\",\"sub\":\"1\"}",
                       (long long)now + MAX_LIFE);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), 0);
    free(tok);
    /* Another maximum is another limit. */
    tok = hand_payload(SECRET1,
                       "{\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":\"loyalty\",\"sub\":\"1\"}",
                       (long long)now + 3600);
    err_clear(&e);
    assert_int_equal(token_verify(tok, "loyalty", now, 3599, fake_lookup, &f, &out, &e), -1);
    assert_int_equal(token_verify(tok, "loyalty", now, 3600, fake_lookup, &f, &out, &e), 0);
    free(tok);
}

/* ---- expiry ------------------------------------------------------------- */

static void
expired_token_is_refused(void **state)
{
    struct token_claims c = claims_for(1, 42, "loyalty"), out;
    struct fake_shops f = {0};
    struct err e;
    char *tok;

    (void)state;
    c.exp = now - 1;
    tok = token_mint(SECRET1, &c);
    expect_refused(tok, ERR_UNAUTHORIZED);
    free(tok);

    /* No leeway: exp == now is already expired, now + 1 is not. */
    c.exp = now;
    tok = token_mint(SECRET1, &c);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), -1);
    assert_string_equal(e.detail, "token expired");
    free(tok);
    c.exp = now + 1;
    tok = token_mint(SECRET1, &c);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), 0);
    free(tok);
}

static void
missing_or_odd_exp_is_refused(void **state)
{
    struct token_claims c = claims_for(1, 42, "loyalty"), out;
    struct fake_shops f = {0};
    struct err e;
    char *tok;

    (void)state;
    c.exp = 0; /* token_mint leaves exp out */
    tok = token_mint(SECRET1, &c);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), -1);
    assert_int_equal(e.kind, ERR_UNAUTHORIZED);
    assert_string_equal(e.detail, "token has no exp");
    free(tok);

    refuse_hand(SECRET1, "{\"aud\":\"shop:1\",\"exp\":\"9999999999\",\"scope\":\"loyalty\","
                         "\"sub\":\"1\"}");
    refuse_hand(SECRET1, "{\"aud\":\"shop:1\",\"exp\":9999999999.5,\"scope\":\"loyalty\","
                         "\"sub\":\"1\"}");
    refuse_hand(SECRET1, "{\"aud\":\"shop:1\",\"exp\":null,\"scope\":\"loyalty\",\"sub\":\"1\"}");
    refuse_hand(SECRET1, "{\"aud\":\"shop:1\",\"exp\":-5,\"scope\":\"loyalty\",\"sub\":\"1\"}");
}

static void
future_nbf_is_refused(void **state)
{
    struct token_claims out;
    struct fake_shops f = {0};
    struct err e;
    char *tok;

    (void)state;
    tok = hand_payload(SECRET1,
                       "{\"aud\":\"shop:1\",\"exp\":%lld,\"nbf\":%lld,\"scope\":\"loyalty\","
                       "\"sub\":\"1\"}",
                       (long long)now + 600, (long long)now + 60);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), -1);
    assert_string_equal(e.detail, "token not valid yet");
    free(tok);
    tok = hand_payload(SECRET1,
                       "{\"aud\":\"shop:1\",\"exp\":%lld,\"nbf\":%lld,\"scope\":\"loyalty\","
                       "\"sub\":\"1\"}",
                       (long long)now + 600, (long long)now);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), 0);
    free(tok);
}

/* ---- keys and shops ----------------------------------------------------- */

static void
token_for_another_shop_is_refused(void **state)
{
    struct token_claims c = claims_for(2, 42, "loyalty"), out;
    struct fake_shops f = {0};
    struct err e;
    char *tok;

    (void)state;
    /* aud names shop 2 but shop 1 signed it: checked with shop 2's secret. */
    tok = token_mint(SECRET1, &c);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), -1);
    assert_int_equal(e.kind, ERR_UNAUTHORIZED);
    assert_string_equal(e.detail, "bad token signature");
    assert_int_equal(f.last_shop, 2);
    free(tok);
}

static void
token_signed_with_another_key_is_refused(void **state)
{
    struct token_claims c = claims_for(1, 42, "loyalty");
    char *tok;

    (void)state;
    tok = token_mint("not-the-shop-secret-at-all-0123456789", &c);
    expect_refused(tok, ERR_UNAUTHORIZED);
    free(tok);
    /* A prefix of the right key is another key. */
    tok = token_mint("shop-one-secret", &c);
    expect_refused(tok, ERR_UNAUTHORIZED);
    free(tok);
}

static void
unknown_shop_is_unauthorized(void **state)
{
    struct token_claims c = claims_for(3, 42, "loyalty"), out;
    struct fake_shops f = {0};
    struct err e;
    char *tok;

    (void)state;
    tok = token_mint(SECRET1, &c);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), -1);
    assert_int_equal(e.kind, ERR_UNAUTHORIZED);
    assert_string_equal(e.detail, "unknown shop");
    assert_int_equal(f.last_shop, 3);
    free(tok);
}

static void
lookup_error_passes_through(void **state)
{
    struct token_claims c = claims_for(1, 42, "loyalty"), out;
    struct fake_shops f = {.fail = 1};
    struct err e;
    char *tok;

    (void)state;
    tok = token_mint(SECRET1, &c);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), -1);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_string_equal(e.detail, "database unavailable");
    free(tok);
}

static void
bad_aud_is_refused_before_lookup(void **state)
{
    static const char *const auds[] = {
        "",
        "\"aud\":\"shop:abc\",",
        "\"aud\":\"shop:0\",",
        "\"aud\":\"shop:01\",",
        "\"aud\":\"shop:-1\",",
        "\"aud\":\"shop: 1\",",
        "\"aud\":\"SHOP:1\",",
        "\"aud\":\"shop:1 \",",
        "\"aud\":\"shop:\",",
        "\"aud\":1,",
        "\"aud\":[\"shop:1\"],",
        "\"aud\":null,",
        "\"aud\":\"shop:99999999999999999999\",",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(auds) / sizeof(auds[0]); i++) {
        char *tok = hand_payload(SECRET1, "{%s\"exp\":%lld,\"scope\":\"loyalty\",\"sub\":\"1\"}",
                                 auds[i], (long long)now + 60);
        expect_refused_before_lookup(tok);
        free(tok);
    }
}

/* ---- algorithms --------------------------------------------------------- */

static void
alg_none_is_refused_before_lookup(void **state)
{
    char payload[256], *p, *tok;

    (void)state;
    snprintf(payload, sizeof(payload),
             "{\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":\"loyalty\",\"sub\":\"42\"}",
             (long long)now + 600);
    p = b64url_str(payload);

    /* {"alg":"none"} with an empty signature, the classic. */
    tok = xasprintf("eyJhbGciOiJub25lIn0.%s.", p);
    expect_refused_before_lookup(tok);
    free(tok);
    /* ... and with some signature bytes tacked on. */
    tok = xasprintf("eyJhbGciOiJub25lIn0.%s.AAAA", p);
    expect_refused_before_lookup(tok);
    free(tok);
    free(p);

    /* Case variants, missing and non-string alg, even if properly signed. */
    const char *headers[] = {
        "{\"alg\":\"None\"}",   "{\"alg\":\"NONE\"}",    "{\"alg\":\"hs256\"}",
        "{\"alg\":\"HS256 \"}", "{\"typ\":\"JWT\"}",     "{\"alg\":null}",
        "{\"alg\":256}",        "{\"alg\":[\"HS256\"]}", "{\"alg\":\"RS256\"}",
        "{\"alg\":\"ES256\"}",  "[\"HS256\"]",           "\"HS256\"",
    };
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        tok = hand_token(SECRET1, headers[i], payload);
        expect_refused_before_lookup(tok);
        free(tok);
    }
}

static void
hs384_and_hs512_are_refused_before_lookup(void **state)
{
    char *tok;

    (void)state;
    /* Signed with the right secret: only the algorithm is wrong. */
    tok = libjwt_token(JWT_ALG_HS512, SECRET1, "shop:1");
    expect_refused_before_lookup(tok);
    free(tok);
    tok = libjwt_token(JWT_ALG_HS384, SECRET1, "shop:1");
    expect_refused_before_lookup(tok);
    free(tok);
    /* The same through libjwt with HS256 passes, so the refusal is the alg. */
    tok = libjwt_token(JWT_ALG_HS256, SECRET1, "shop:1");
    {
        struct fake_shops f = {0};
        struct token_claims out;
        struct err e;
        assert_int_equal(verify(tok, "loyalty", &f, &out, &e), 0);
    }
    free(tok);
}

static void
critical_header_and_duplicate_keys_are_refused(void **state)
{
    char payload[256], *tok;

    (void)state;
    snprintf(payload, sizeof(payload),
             "{\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":\"loyalty\",\"sub\":\"42\"}",
             (long long)now + 600);
    tok = hand_token(SECRET1, "{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}", payload);
    expect_refused(tok, ERR_UNAUTHORIZED);
    free(tok);
    tok = hand_token(SECRET1, "{\"alg\":\"none\",\"alg\":\"HS256\"}", payload);
    expect_refused_before_lookup(tok);
    free(tok);
    tok = hand_payload(SECRET1,
                       "{\"aud\":\"shop:2\",\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":\"loyalty\","
                       "\"sub\":\"42\"}",
                       (long long)now + 600);
    expect_refused_before_lookup(tok);
    free(tok);
}

/* ---- tampering ---------------------------------------------------------- */

static void
tampered_token_is_refused(void **state)
{
    struct token_claims c = claims_for(1, 42, "loyalty");
    char *tok, *other, *dot1, *dot2, *swapped;
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    (void)state;
    tok = token_mint(SECRET1, &c);
    dot1 = strchr(tok, '.');
    dot2 = strchr(dot1 + 1, '.');

    /* Every single-character change of the payload is refused. */
    for (char *p = dot1 + 1; p < dot2; p++) {
        char keep = *p;
        *p = keep == 'A' ? 'B' : 'A';
        expect_refused(tok, ERR_UNAUTHORIZED);
        *p = keep;
    }
    /* So is one in the signature, including the last character, whose
     * two low bits are padding: only the canonical encoding is accepted. */
    {
        char *last = tok + strlen(tok) - 1, keep = *last;
        size_t idx = (size_t)(strchr(alphabet, keep) - alphabet);
        *last = alphabet[idx ^ 1];
        expect_refused(tok, ERR_UNAUTHORIZED);
        *last = keep;
        dot2[1] = dot2[1] == 'A' ? 'B' : 'A';
        expect_refused(tok, ERR_UNAUTHORIZED);
    }
    free(tok);

    /* A well-formed payload for customer 43 under customer 42's signature. */
    tok = token_mint(SECRET1, &c);
    c.customer_id = 43;
    other = token_mint(SECRET1, &c);
    dot1 = strchr(tok, '.');
    dot2 = strchr(dot1 + 1, '.');
    {
        char *o1 = strchr(other, '.'), *o2 = strchr(o1 + 1, '.');
        swapped =
            xasprintf("%.*s.%.*s%s", (int)(dot1 - tok), tok, (int)(o2 - o1 - 1), o1 + 1, dot2);
    }
    expect_refused(swapped, ERR_UNAUTHORIZED);
    free(swapped);
    free(other);
    free(tok);
}

/* ---- scope and customer ------------------------------------------------- */

static void
wrong_scope_is_forbidden(void **state)
{
    struct token_claims c = claims_for(1, 42, "review"), out;
    struct fake_shops f = {0};
    struct err e;
    char *tok;

    (void)state;
    tok = token_mint(SECRET1, &c);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    free(tok);

    /* Missing scope is not "another scope": the token is incomplete. */
    c.scope[0] = '\0';
    tok = token_mint(SECRET1, &c);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), -1);
    assert_int_equal(e.kind, ERR_UNAUTHORIZED);
    free(tok);
    refuse_hand(SECRET1, "{\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":7,\"sub\":\"1\"}");
}

static void
customer_claims_are_checked(void **state)
{
    char email[300];
    struct token_claims out;
    struct fake_shops f = {0};
    struct err e;
    char *tok;

    (void)state;
    /* Neither sub nor email. */
    refuse_hand(SECRET1, "{\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":\"loyalty\"}");
    /* Bad subs. */
    static const char *const subs[] = {"\"0\"",
                                       "\"-1\"",
                                       "\"abc\"",
                                       "\"12x\"",
                                       "\"\"",
                                       "0",
                                       "-3",
                                       "1.5",
                                       "true",
                                       "null",
                                       "\"99999999999999999999\""};
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        char payload[256];
        snprintf(payload, sizeof(payload),
                 "{\"aud\":\"shop:1\",\"exp\":%%lld,\"scope\":\"loyalty\",\"sub\":%s}",
                 subs[i]);
        refuse_hand(SECRET1, payload);
    }
    /* Email: a string of 1..255 bytes. */
    refuse_hand(SECRET1,
                "{\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":\"loyalty\",\"email\":5}");
    refuse_hand(SECRET1,
                "{\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":\"loyalty\",\"email\":\"\"}");
    memset(email, 'a', 255);
    memcpy(email + 243, "@example.com", 12);
    email[255] = '\0';
    tok = hand_payload(SECRET1,
                       "{\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":\"loyalty\","
                       "\"email\":\"%s\"}",
                       (long long)now + 600, email);
    assert_int_equal(verify(tok, "loyalty", &f, &out, &e), 0);
    assert_string_equal(out.email, email);
    free(tok);
    memmove(email + 1, email, 256);
    tok = hand_payload(SECRET1,
                       "{\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":\"loyalty\","
                       "\"email\":\"%s\"}",
                       (long long)now + 600, email);
    expect_refused(tok, ERR_UNAUTHORIZED);
    free(tok);
    /* rid, when present, is a positive integer. */
    refuse_hand(SECRET1,
                "{\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":\"loyalty\",\"sub\":\"1\","
                "\"rid\":\"7\"}");
    refuse_hand(SECRET1, "{\"aud\":\"shop:1\",\"exp\":%lld,\"scope\":\"loyalty\","
                         "\"sub\":\"1\",\"rid\":0}");
}

/* ---- garbage ------------------------------------------------------------ */

static void
garbage_is_refused(void **state)
{
    static const char *const junk[] = {
        "",
        "a",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "..",
        "a..c",
        ".b.c",
        "a.b.",
        "...",
        "Bearer x.y.z",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
        "eyJhbGciOiJIUzI1NiJ9..abc",
        "e30.e30.e30",
        "!!!.???.***",
        "eyJhbGciOiJIUzI1NiJ9.eyJ.abc",
    };
    struct token_claims c = claims_for(1, 42, "loyalty");
    char *big, *tok, *longer;

    (void)state;
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        expect_refused_before_lookup(junk[i]);

    big = xmalloc(5001);
    memset(big, 'a', 5000);
    big[5000] = '\0';
    expect_refused_before_lookup(big);
    /* Three well-formed-looking segments, just too long. */
    big[100] = '.';
    big[200] = '.';
    expect_refused_before_lookup(big);
    free(big);

    /* A valid token with a fourth segment, or with trailing bytes. */
    tok = token_mint(SECRET1, &c);
    longer = xasprintf("%s.x", tok);
    expect_refused_before_lookup(longer);
    free(longer);
    longer = xasprintf("%s ", tok);
    expect_refused(longer, ERR_UNAUTHORIZED);
    free(longer);
    free(tok);
}

static void
mint_needs_a_secret(void **state)
{
    struct token_claims c = claims_for(1, 42, "loyalty");
    (void)state;
    assert_null(token_mint("", &c));
    assert_null(token_mint(NULL, &c));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mint_then_verify_round_trips),
        cmocka_unit_test(email_only_token_is_accepted),
        cmocka_unit_test(php_style_token_is_accepted),
        cmocka_unit_test(sub_as_json_integer_is_accepted),
        cmocka_unit_test(expired_token_is_refused),
        cmocka_unit_test(missing_or_odd_exp_is_refused),
        cmocka_unit_test(future_nbf_is_refused),
        cmocka_unit_test(token_for_another_shop_is_refused),
        cmocka_unit_test(token_signed_with_another_key_is_refused),
        cmocka_unit_test(unknown_shop_is_unauthorized),
        cmocka_unit_test(lookup_error_passes_through),
        cmocka_unit_test(bad_aud_is_refused_before_lookup),
        cmocka_unit_test(alg_none_is_refused_before_lookup),
        cmocka_unit_test(hs384_and_hs512_are_refused_before_lookup),
        cmocka_unit_test(critical_header_and_duplicate_keys_are_refused),
        cmocka_unit_test(tampered_token_is_refused),
        cmocka_unit_test(wrong_scope_is_forbidden),
        cmocka_unit_test(customer_claims_are_checked),
        cmocka_unit_test(garbage_is_refused),
        cmocka_unit_test(mint_needs_a_secret),
        cmocka_unit_test(endless_token_is_refused),
        cmocka_unit_test(lifetime_over_the_maximum_is_refused),
        cmocka_unit_test(lifetime_within_the_maximum_is_accepted),
    };
    return cmocka_run_group_tests_name("token", tests, setup, NULL);
}
