/*
 * test_http.c - unit tests of request-independent HTTP pieces: the router,
 * bearer parsing, API key format, shop validation and form bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aftersale/http/auth.h"
#include "aftersale/http/form.h"
#include "aftersale/http/router.h"
#include "aftersale/http/routes.h"
#include "aftersale/shops/shops.h"

static void h(struct req *r) { (void)r; }

static const struct route table[] = {
    {"GET", "/healthz", h, AUTH_NONE, BODY_NONE},
    {"GET", "/v1/shops", h, AUTH_ADMIN, BODY_NONE},
    {"POST", "/v1/shops", h, AUTH_ADMIN, BODY_JSON},
    {"GET", "/v1/shops/{id}", h, AUTH_ADMIN, BODY_NONE},
    {"PATCH", "/v1/shops/{id}", h, AUTH_ADMIN, BODY_JSON},
    {"DELETE", "/v1/shops/{id}/api-keys/{key_id}", h, AUTH_ADMIN, BODY_NONE},
};
#define N (sizeof(table) / sizeof(table[0]))

static enum router_result
match(const char *method, const char *path, size_t *idx, struct route_params *p, char *allow)
{
    return router_match(table, N, method, path, idx, p, allow, 128);
}

static void
router_matches_literals_and_params(void **state)
{
    size_t idx = 99;
    struct route_params p;
    char allow[128];
    (void)state;
    assert_int_equal(match("GET", "/healthz", &idx, &p, allow), ROUTER_FOUND);
    assert_int_equal(idx, 0);
    assert_int_equal(match("POST", "/v1/shops", &idx, &p, allow), ROUTER_FOUND);
    assert_int_equal(idx, 2);
    assert_int_equal(match("GET", "/v1/shops/42", &idx, &p, allow), ROUTER_FOUND);
    assert_int_equal(idx, 3);
    assert_string_equal(router_param(&p, "id"), "42");
    assert_int_equal(match("DELETE", "/v1/shops/7/api-keys/9", &idx, &p, allow), ROUTER_FOUND);
    assert_string_equal(router_param(&p, "id"), "7");
    assert_string_equal(router_param(&p, "key_id"), "9");
    assert_null(router_param(&p, "nope"));
    /* HEAD is answered as GET */
    assert_int_equal(match("HEAD", "/healthz", &idx, &p, allow), ROUTER_FOUND);
}

static void
router_distinguishes_404_and_405(void **state)
{
    size_t idx;
    struct route_params p;
    char allow[128];
    (void)state;
    assert_int_equal(match("PUT", "/v1/shops/1", &idx, &p, allow), ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "GET, PATCH");
    assert_int_equal(match("DELETE", "/v1/shops", &idx, &p, allow), ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "GET, POST");
    assert_int_equal(match("GET", "/v1/shops/", &idx, &p, allow), ROUTER_NOT_FOUND);
    assert_int_equal(match("GET", "/v1/shops/1/", &idx, &p, allow), ROUTER_NOT_FOUND);
    assert_int_equal(match("GET", "/v1//shops", &idx, &p, allow), ROUTER_NOT_FOUND);
    assert_int_equal(match("GET", "/nope", &idx, &p, allow), ROUTER_NOT_FOUND);
    assert_int_equal(match("GET", "", &idx, &p, allow), ROUTER_NOT_FOUND);
    assert_int_equal(match("GET", "/v1/shops/1/api-keys/2/x", &idx, &p, allow), ROUTER_NOT_FOUND);
}

static void
route_table_is_well_formed(void **state)
{
    (void)state;
    for (size_t i = 0; i < nroutes; i++) {
        assert_non_null(routes[i].handler);
        assert_true(routes[i].pattern[0] == '/');
        for (size_t j = i + 1; j < nroutes; j++)
            assert_false(strcmp(routes[i].method, routes[j].method) == 0 &&
                         strcmp(routes[i].pattern, routes[j].pattern) == 0);
    }
}

static void
bearer_parsing(void **state)
{
    (void)state;
    assert_string_equal(auth_bearer("Bearer abc"), "abc");
    assert_string_equal(auth_bearer("bearer  abc"), "abc");
    assert_null(auth_bearer("Basic abc"));
    assert_null(auth_bearer("Bearer"));
    assert_null(auth_bearer("Bearer "));
    assert_null(auth_bearer(NULL));
}

static void
api_keys_have_a_fixed_shape(void **state)
{
    char key[AUTH_KEY_LEN + 1];
    uint8_t h1[CRYPTO_SHA256_LEN], h2[CRYPTO_SHA256_LEN];
    (void)state;
    auth_key_new(key, h1);
    assert_int_equal(strlen(key), AUTH_KEY_LEN);
    assert_memory_equal(key, "ask_", 4);
    assert_int_equal(auth_key_hash(key, h2), 0);
    assert_memory_equal(h1, h2, sizeof(h1));
    assert_int_equal(auth_key_hash("ask_short", h2), -1);
    key[10] = '!';
    assert_int_equal(auth_key_hash(key, h2), -1);
    assert_int_equal(auth_key_hash("xsk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", h2), -1);
}

static void
shop_urls(void **state)
{
    (void)state;
    assert_true(shops_url_valid("https://shop.example"));
    assert_true(shops_url_valid("http://127.0.0.1:8081/"));
    assert_true(shops_url_valid("https://shop.example/store"));
    assert_false(shops_url_valid("ftp://x"));
    assert_false(shops_url_valid("https://"));
    assert_false(shops_url_valid("https://user:pw@host"));
    assert_false(shops_url_valid("https://ho st"));
    assert_false(shops_url_valid("shop.example"));
    assert_false(shops_url_valid("https:///path"));
}

static int
validate(const char *text, bool create, struct shop_input *in, struct err *e)
{
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);
    int rc;
    assert_non_null(v);
    rc = shops_validate(v, create, in, e);
    json_decref(v);
    return rc;
}

static void
shop_validation_names_fields(void **state)
{
    struct shop_input in;
    struct err e = {0};
    const char *ok = "{\"name\":\"Demo\",\"url\":\"https://shop.example/\",\"consumer_key\":\"ck\","
                     "\"consumer_secret\":\"cs\",\"currency\":\"EUR\",\"timezone\":\"Europe/Bratislava\"}";
    (void)state;
    assert_int_equal(validate(ok, true, &in, &e), 0);
    assert_string_equal(in.url_norm, "https://shop.example");
    assert_int_equal(validate("{\"name\":\"Demo\"}", true, &in, &e), -1);
    assert_string_equal(e.field, "url");
    assert_int_equal(validate("{\"name\":\"Demo\"}", false, &in, &e), 0);
    assert_int_equal(validate("{}", false, &in, &e), -1);
    assert_int_equal(validate("{\"currency\":\"XYZ\"}", false, &in, &e), -1);
    assert_string_equal(e.field, "currency");
    assert_int_equal(validate("{\"timezone\":\"UTC+3\"}", false, &in, &e), -1);
    assert_string_equal(e.field, "timezone");
    assert_int_equal(validate("{\"timezone\":\"Etc/GMT+3\"}", false, &in, &e), 0);
    assert_int_equal(validate("{\"url\":\"ftp://x\"}", false, &in, &e), -1);
    assert_string_equal(e.field, "url");
    assert_int_equal(validate("{\"secret\":\"x\"}", false, &in, &e), -1);
    assert_string_equal(e.field, "secret");
}

static void
form_urlencoded(void **state)
{
    struct form f;
    struct err e = {0};
    const char body[] = "order=42&email=a%40b.c&note_7=two+words%3C&empty=&bad=%zz&&x";
    (void)state;
    assert_int_equal(form_parse(NULL, body, sizeof(body) - 1, &f, &e), 0);
    assert_string_equal(form_value(&f, "order"), "42");
    assert_string_equal(form_value(&f, "email"), "a@b.c");
    assert_string_equal(form_value(&f, "note_7"), "two words<");
    assert_string_equal(form_value(&f, "empty"), "");
    assert_string_equal(form_value(&f, "bad"), "%zz");
    assert_string_equal(form_value(&f, "x"), "");
    assert_null(form_value(&f, "missing"));
    form_free(&f);
}

static void
form_multipart(void **state)
{
    struct form f;
    struct err e = {0};
    /* a file with a CRLF, a NUL and near-delimiters inside its bytes, a text field,
     * a quoted boundary, a preamble, and no NUL after the body */
    const char body[] = "preamble\r\n--XyZ\r\n"
                        "Content-Disposition: form-data; name=\"token\"\r\n\r\n"
                        "t.o.k\r\n--XyZ\r\n"
                        "Content-Disposition: form-data; name=\"photos_7\"; filename=\"a b.png\"\r\n"
                        "Content-Type: image/png\r\n\r\n"
                        "\x89PNG\r\n-XyZ\x00" "end--XyZ\r\n--XyZ\r\n"
                        "Content-Disposition: form-data; filename=\"x; name=evil\"; "
                        "name=\"photos_8\"\r\n\r\n"
                        "\r\n--XyZ--\r\nepilogue";
    char *copy = malloc(sizeof(body) - 1);
    (void)state;
    memcpy(copy, body, sizeof(body) - 1);
    assert_int_equal(form_parse("multipart/form-data; boundary=\"XyZ\"", copy, sizeof(body) - 1,
                                &f, &e),
                     0);
    assert_int_equal(f.n, 3);
    assert_string_equal(form_value(&f, "token"), "t.o.k");
    assert_true(f.fields[1].is_file);
    assert_string_equal(f.fields[1].name, "photos_7");
    assert_string_equal(f.fields[1].filename, "a b.png");
    assert_int_equal(f.fields[1].len, 19);
    assert_memory_equal(f.fields[1].data, "\x89PNG\r\n-XyZ\x00" "end--XyZ", 19);
    assert_null(form_value(&f, "photos_7")); /* files are not text values */
    assert_string_equal(f.fields[2].name, "photos_8"); /* not "evil": inside quotes */
    assert_string_equal(f.fields[2].filename, "x; name=evil");
    assert_int_equal(f.fields[2].len, 0);
    form_free(&f);
    /* broken bodies: no boundary, cut short, a part without a name */
    assert_int_equal(form_parse("multipart/form-data", copy, sizeof(body) - 1, &f, &e), -1);
    assert_int_equal(e.kind, ERR_MALFORMED);
    assert_int_equal(form_parse("multipart/form-data; boundary=XyZ", copy, 60, &f, &e), -1);
    assert_int_equal(e.kind, ERR_MALFORMED);
    assert_int_equal(f.n, 0);
    {
        const char nameless[] = "--B\r\nContent-Disposition: form-data\r\n\r\nv\r\n--B--";
        assert_int_equal(form_parse("multipart/form-data; boundary=B", nameless,
                                    sizeof(nameless) - 1, &f, &e),
                         -1);
    }
    free(copy);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(router_matches_literals_and_params),
        cmocka_unit_test(router_distinguishes_404_and_405),
        cmocka_unit_test(route_table_is_well_formed),
        cmocka_unit_test(bearer_parsing),
        cmocka_unit_test(api_keys_have_a_fixed_shape),
        cmocka_unit_test(shop_urls),
        cmocka_unit_test(shop_validation_names_fields),
        cmocka_unit_test(form_urlencoded),
        cmocka_unit_test(form_multipart),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
