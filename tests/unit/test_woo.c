/*
 * test_woo.c - unit tests of the WooCommerce client: OAuth 1.0a signing
 * against the facts file's vector, RFC 3986 encoding, and how woo_request
 * classifies what a shop answers. The HTTP cases talk to a tiny canned
 * server on a thread (plain sockets on 127.0.0.1, one connection, every
 * wait bounded by poll timeouts), so no test can hang and none leaves the
 * machine. https (Basic auth) needs TLS and is left to integration tests.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/mem.h"
#include "aftersale/version.h"
#include "aftersale/woo/client.h"
#include "aftersale/woo/oauth.h"
#include "aftersale/woo/validate.h"

#define CK "ck_0123456789abcdef0123456789abcdef01234567"
#define CS "cs_76543210fedcba9876543210fedcba9876543210"

/* ---- OAuth: the facts file's vector (woocommerce-api.md section 1.3) ------ */

static const char vector_base[] =
    "GET&http%3A%2F%2Fshop.example%2Fwp-json%2Fwc%2Fv3%2Forders&oauth_consumer_key%3D" CK
    "%26oauth_nonce%3D4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e%26oauth_signature_method%3DHMAC-SHA256"
    "%26oauth_timestamp%3D1700000000%26per_page%3D5%26status%3Dcompleted";

static void
oauth_vector_base_string_and_signature(void **state)
{
    /* Deliberately unsorted: the base string must sort them. */
    const struct woo_param params[] = {
        {"status", "completed"},
        {"oauth_timestamp", "1700000000"},
        {"per_page", "5"},
        {"oauth_signature_method", "HMAC-SHA256"},
        {"oauth_nonce", "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"},
        {"oauth_consumer_key", CK},
    };
    char *base, *sig;
    (void)state;

    base = woo_oauth_base_string("get", "http://shop.example/wp-json/wc/v3/orders", params, 6);
    assert_string_equal(base, vector_base);
    sig = woo_oauth_signature(CS, base);
    assert_string_equal(sig, "jHPvHBKa58zUqOi3LefWo7Yl15q522/sNiVmDh0/1lo=");
    /* The caller's array is borrowed, never reordered. */
    assert_string_equal(params[0].key, "status");
    free(sig);
    free(base);
}

static void
oauth_vector_full_query(void **state)
{
    const struct woo_param query[] = {{"status", "completed"}, {"per_page", "5"}};
    char *qs;
    (void)state;

    qs = woo_oauth_query("GET", "http://shop.example/wp-json/wc/v3/orders", query, 2, CK, CS,
                         "1700000000", "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e");
    assert_non_null(
        strstr(qs, "oauth_signature=jHPvHBKa58zUqOi3LefWo7Yl15q522%2FsNiVmDh0%2F1lo%3D"));
    assert_string_equal(qs, "oauth_consumer_key=" CK "&oauth_nonce=4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
                            "&oauth_signature_method=HMAC-SHA256&oauth_timestamp=1700000000"
                            "&per_page=5&status=completed"
                            "&oauth_signature=jHPvHBKa58zUqOi3LefWo7Yl15q522%2FsNiVmDh0%2F1lo%3D");
    free(qs);
}

static void
expect_encoded(const char *in, const char *want)
{
    char *got = woo_oauth_encode(in);
    assert_string_equal(got, want);
    free(got);
}

static void
oauth_encode_edge_cases(void **state)
{
    (void)state;
    expect_encoded("", "");
    expect_encoded("a b", "a%20b");
    expect_encoded("~", "~");
    expect_encoded("AZaz09-._~", "AZaz09-._~");
    expect_encoded("+", "%2B");
    expect_encoded("/", "%2F");
    expect_encoded("=", "%3D");
    expect_encoded("&?#%*", "%26%3F%23%25%2A");
    expect_encoded("2024-05-01T10:00:00", "2024-05-01T10%3A00%3A00");
    expect_encoded("caf\xc3\xa9 \xe2\x82\xac", "caf%C3%A9%20%E2%82%AC"); /* café € */
    expect_encoded("\x7f\x01", "%7F%01");
}

static void
oauth_params_sorted_by_key(void **state)
{
    const struct woo_param params[] = {
        {"z", "1"}, {"a_b", "2"}, {"B", "3"}, {"a", "4"}, {"ab", "5"}, {"a", "0"},
    };
    char *base;
    (void)state;

    /* strcmp order: upper case before lower, "a" < "a_b" < "ab"; equal keys by value. */
    base = woo_oauth_base_string("POST", "http://h/p", params, 6);
    assert_string_equal(base, "POST&http%3A%2F%2Fh%2Fp&B%3D3%26a%3D0%26a%3D4%26a_b%3D2%26ab%3D5"
                              "%26z%3D1");
    free(base);

    /* A value that needs encoding is encoded twice in the base string. */
    const struct woo_param sp[] = {{"q", "a b+c"}};
    base = woo_oauth_base_string("GET", "http://h/p", sp, 1);
    assert_string_equal(base, "GET&http%3A%2F%2Fh%2Fp&q%3Da%2520b%252Bc");
    free(base);
}

/* ---- a canned HTTP server on a thread ------------------------------------- */

#define WAIT_MS 3000

struct srv {
    int lfd, port;
    pthread_t th;
    const char *response; /* full HTTP response; NULL: read the request, never answer */
    bool flood;           /* answer 200 with an endless body (until the client hangs up) */
    char req[16384];      /* the request as received */
    size_t reqlen;
};

static bool
wait_readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1;
}

static void
send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Read the request head and a Content-Length body, each read bounded. */
static void
read_request(struct srv *s, int fd)
{
    size_t want = 0;

    while (s->reqlen < sizeof(s->req) - 1 && wait_readable(fd, WAIT_MS)) {
        ssize_t r = recv(fd, s->req + s->reqlen, sizeof(s->req) - 1 - s->reqlen, 0);
        if (r <= 0)
            break;
        s->reqlen += (size_t)r;
        s->req[s->reqlen] = '\0';
        char *end = strstr(s->req, "\r\n\r\n");
        if (end == NULL)
            continue;
        if (want == 0) {
            char *cl = strcasestr(s->req, "\r\nContent-Length:");
            size_t len = (cl && cl < end) ? strtoul(cl + 17, NULL, 10) : 0;
            want = (size_t)(end + 4 - s->req) + len;
        }
        if (s->reqlen >= want)
            break;
    }
}

static void *
serve(void *arg)
{
    struct srv *s = arg;
    int fd;

    if (!wait_readable(s->lfd, WAIT_MS))
        return NULL;
    fd = accept(s->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    read_request(s, fd);
    if (s->flood) {
        static char chunk[65536];
        const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           "Connection: close\r\n\r\n";
        memset(chunk, ' ', sizeof(chunk));
        send_all(fd, head, strlen(head));
        for (int i = 0; i < 200; i++) { /* 12.5 MiB at most */
            ssize_t w = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);
            if (w <= 0)
                break;
        }
    } else if (s->response) {
        send_all(fd, s->response, strlen(s->response));
    } else {
        /* Silent: wait (bounded) for the client to give up and hang up. */
        char tmp[256];
        while (wait_readable(fd, WAIT_MS) && recv(fd, tmp, sizeof(tmp), 0) > 0)
            ;
    }
    close(fd);
    return NULL;
}

static void
srv_start(struct srv *s, const char *response)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int one = 1;

    s->response = response;
    s->reqlen = 0;
    s->req[0] = '\0';
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->lfd, 4), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void
srv_stop(struct srv *s)
{
    pthread_join(s->th, NULL);
    close(s->lfd);
}

/* A response with a correct Content-Length. Returns: new string. */
static char *
canned(const char *status_line, const char *headers, const char *body)
{
    return xasprintf("HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     status_line, headers, strlen(body), body);
}

struct shop_buf {
    char url[64];
    struct woo_shop shop;
};

static void
shop_at(struct shop_buf *sb, int port)
{
    snprintf(sb->url, sizeof(sb->url), "http://127.0.0.1:%d", port);
    sb->shop =
        (struct woo_shop){.id = 7, .url = sb->url, .consumer_key = CK, .consumer_secret = CS};
}

/* Does the request head carry header `name` (case-insensitive)? */
static bool
has_header(const char *req, const char *name)
{
    const char *end = strstr(req, "\r\n\r\n");
    size_t n = strlen(name);

    for (const char *p = strstr(req, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':')
            return true;
    return false;
}

static int
hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c - 'a' + 10;
}

/* Percent-decode n bytes. Returns: new string. */
static char *
pct_decode(const char *s, size_t n)
{
    char *out = xmalloc(n + 1), *o = out;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n) {
            *o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

/* Recompute the OAuth signature of the received request line against
 * `base_url`, as the shop would; true when it matches the one sent. */
static bool
signature_matches(const char *req, const char *base_url)
{
    struct woo_param params[32];
    char *owned[64], *sent = NULL, *base, *sig;
    size_t np = 0, no = 0;
    const char *q = strchr(req, '?'), *end = strchr(req, ' ');
    char method[8];
    bool ok;

    assert_non_null(q);
    snprintf(method, sizeof(method), "%.*s", (int)(end - req), req);
    end = strchr(q, ' ');
    for (const char *p = q + 1; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;
        if (amp == NULL)
            amp = end;
        eq = memchr(p, '=', (size_t)(amp - p));
        assert_non_null(eq);
        char *k = pct_decode(p, (size_t)(eq - p)), *v = pct_decode(eq + 1, (size_t)(amp - eq - 1));
        if (strcmp(k, "oauth_signature") == 0) {
            sent = v;
            free(k);
        } else {
            assert_true(np < 32);
            params[np++] = (struct woo_param){k, v};
            owned[no++] = k;
            owned[no++] = v;
        }
        p = amp + 1;
    }
    assert_non_null(sent);
    base = woo_oauth_base_string(method, base_url, params, np);
    sig = woo_oauth_signature(CS, base);
    ok = strcmp(sig, sent) == 0;
    free(sig);
    free(base);
    free(sent);
    for (size_t i = 0; i < no; i++)
        free(owned[i]);
    return ok;
}

static struct woo_client *
client(void)
{
    struct woo_client *wc = woo_client_new(2000, 5000);
    assert_non_null(wc);
    return wc;
}

/* ---- classification -------------------------------------------------------- */

static void
http_200_json_with_paging_headers(void **state)
{
    struct srv s = {0};
    struct shop_buf sb;
    struct woo_reply reply;
    struct err e = {0};
    struct woo_client *wc = client();
    char *resp = canned("200 OK",
                        "Content-Type: application/json\r\nx-wp-total: 42\r\n"
                        "X-WP-TotalPages: 5\r\n",
                        "[{\"id\":727}]");
    const struct woo_param q[] = {{"status", "completed"}, {"per_page", "5"}};
    (void)state;

    srv_start(&s, resp);
    shop_at(&sb, s.port);
    assert_int_equal(woo_request(wc, &sb.shop, "GET", "/orders", q, 2, NULL, &reply, &e), WOO_OK);
    srv_stop(&s);

    assert_int_equal(reply.status, 200);
    assert_true(json_is_array(reply.body));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(reply.body, 0), "id")), 727);
    assert_int_equal(reply.total, 42);
    assert_int_equal(reply.total_pages, 5);
    assert_string_equal(reply.code, "");

    /* Plain http: OAuth in the query string, never an Authorization header. */
    assert_non_null(strstr(s.req, "GET /wp-json/wc/v3/orders?"));
    assert_non_null(strstr(s.req, "&oauth_signature="));
    assert_non_null(strstr(s.req, "oauth_signature_method=HMAC-SHA256"));
    assert_non_null(strstr(s.req, "oauth_consumer_key=" CK));
    assert_null(strstr(s.req, CS));
    assert_false(has_header(s.req, "Authorization"));
    assert_false(has_header(s.req, "Content-Type"));
    assert_non_null(strstr(s.req, "\r\nUser-Agent: aftersale/" AFTERSALE_VERSION "\r\n"));
    assert_non_null(strstr(s.req, "\r\nAccept: application/json\r\n"));

    woo_reply_clear(&reply);
    assert_null(reply.body);
    free(resp);
    woo_client_free(wc);
}

static void
oauth_signs_the_port(void **state)
{
    struct srv s = {0};
    struct shop_buf sb;
    struct woo_reply reply;
    struct err e = {0};
    struct woo_client *wc = client();
    char *resp = canned("200 OK", "", "{\"id\":727}");
    char with_port[96], without_port[96];
    const struct woo_param q[] = {{"context", "view edit"}};
    (void)state;

    srv_start(&s, resp);
    shop_at(&sb, s.port);
    assert_int_equal(woo_request(wc, &sb.shop, "GET", "/orders/727", q, 1, NULL, &reply, &e),
                     WOO_OK);
    srv_stop(&s);

    snprintf(with_port, sizeof(with_port), "http://127.0.0.1:%d/wp-json/wc/v3/orders/727", s.port);
    snprintf(without_port, sizeof(without_port), "http://127.0.0.1/wp-json/wc/v3/orders/727");
    assert_non_null(strstr(s.req, "context=view%20edit"));
    assert_true(signature_matches(s.req, with_port));
    assert_false(signature_matches(s.req, without_port));

    woo_reply_clear(&reply);
    free(resp);
    woo_client_free(wc);
}

/* Run one request against a server giving `response`; fills reply and e. */
static enum woo_result
one_shot(const char *response, long total_timeout_ms, struct woo_reply *reply, struct err *e,
         struct srv *s)
{
    struct shop_buf sb;
    struct woo_client *wc = woo_client_new(1000, total_timeout_ms);
    enum woo_result res;

    srv_start(s, response);
    shop_at(&sb, s->port);
    res = woo_request(wc, &sb.shop, "GET", "/orders/727", NULL, 0, NULL, reply, e);
    srv_stop(s);
    woo_client_free(wc);
    return res;
}

static void
http_404_woocommerce_error(void **state)
{
    struct srv s = {0};
    struct woo_reply reply;
    struct err e = {0};
    char *resp = canned("404 Not Found", "Content-Type: application/json\r\n",
                        "{\"code\":\"woocommerce_rest_shop_order_invalid_id\","
                        "\"message\":\"Invalid ID.\",\"data\":{\"status\":404}}");
    (void)state;

    assert_int_equal(one_shot(resp, 5000, &reply, &e, &s), WOO_FAIL);
    assert_int_equal(e.kind, ERR_NOT_FOUND);
    assert_int_equal(reply.status, 404);
    assert_string_equal(reply.code, "woocommerce_rest_shop_order_invalid_id");
    assert_string_equal(e.detail, "HTTP 404 woocommerce_rest_shop_order_invalid_id: Invalid ID.");
    assert_true(json_is_object(reply.body));
    woo_reply_clear(&reply);
    free(resp);
}

static void
http_500_with_bare_number_data_retries(void **state)
{
    struct srv s = {0};
    struct woo_reply reply;
    struct err e = {0};
    char *resp = canned("500 Internal Server Error", "Content-Type: application/json\r\n",
                        "{\"code\":\"woocommerce_rest_invalid_order_id\","
                        "\"message\":\"Invalid order ID.\",\"data\":404}");
    (void)state;

    assert_int_equal(one_shot(resp, 5000, &reply, &e, &s), WOO_RETRY);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_int_equal(reply.status, 500);
    assert_string_equal(reply.code, "woocommerce_rest_invalid_order_id");
    assert_non_null(strstr(e.detail, "HTTP 500 woocommerce_rest_invalid_order_id"));
    assert_non_null(strstr(e.detail, "(data 404)"));
    woo_reply_clear(&reply);
    free(resp);
}

static void
http_null_data_is_accepted(void **state)
{
    struct srv s = {0};
    struct woo_reply reply;
    struct err e = {0};
    char *resp = canned("400 Bad Request", "",
                        "{\"code\":\"rest_invalid_param\",\"message\":\"Invalid parameter(s): "
                        "amount\",\"data\":null}");
    (void)state;

    assert_int_equal(one_shot(resp, 5000, &reply, &e, &s), WOO_FAIL);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.detail, "HTTP 400 rest_invalid_param: Invalid parameter(s): amount");
    woo_reply_clear(&reply);
    free(resp);
}

static void
http_429_retries(void **state)
{
    struct srv s = {0};
    struct woo_reply reply;
    struct err e = {0};
    char *resp = canned("429 Too Many Requests", "Retry-After: 10\r\n", "slow down");
    (void)state;

    assert_int_equal(one_shot(resp, 5000, &reply, &e, &s), WOO_RETRY);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_int_equal(reply.status, 429);
    assert_null(reply.body);
    assert_string_equal(e.detail, "HTTP 429 from GET /orders/727");
    woo_reply_clear(&reply);
    free(resp);
}

static void
http_401_and_403_fail_unauthorized(void **state)
{
    struct srv s = {0};
    struct woo_reply reply;
    struct err e = {0};
    char *r401 = canned("401 Unauthorized", "",
                        "{\"code\":\"woocommerce_rest_authentication_error\",\"message\":"
                        "\"Invalid signature - provided signature does not match.\","
                        "\"data\":{\"status\":401}}");
    char *r403 = canned("403 Forbidden", "", "{\"code\":\"woocommerce_rest_cannot_view\"}");
    (void)state;

    assert_int_equal(one_shot(r401, 5000, &reply, &e, &s), WOO_FAIL);
    assert_int_equal(e.kind, ERR_UNAUTHORIZED);
    assert_string_equal(e.detail, "HTTP 401 woocommerce_rest_authentication_error: Invalid "
                                  "signature - provided signature does not match.");
    assert_null(strstr(e.detail, "oauth"));
    woo_reply_clear(&reply);

    assert_int_equal(one_shot(r403, 5000, &reply, &e, &s), WOO_FAIL);
    assert_int_equal(e.kind, ERR_UNAUTHORIZED);
    assert_string_equal(e.detail, "HTTP 403 woocommerce_rest_cannot_view");
    woo_reply_clear(&reply);
    free(r401);
    free(r403);
}

static void
http_409_fails_conflict(void **state)
{
    struct srv s = {0};
    struct woo_reply reply;
    struct err e = {0};
    char *resp = canned("409 Conflict", "",
                        "{\"code\":\"woocommerce_rest_comment_duplicate\",\"message\":"
                        "\"Duplicate comment detected.\",\"data\":{\"status\":409}}");
    (void)state;

    assert_int_equal(one_shot(resp, 5000, &reply, &e, &s), WOO_FAIL);
    assert_int_equal(e.kind, ERR_CONFLICT);
    assert_string_equal(reply.code, "woocommerce_rest_comment_duplicate");
    woo_reply_clear(&reply);
    free(resp);
}

static void
http_200_not_json_fails(void **state)
{
    struct srv s = {0};
    struct woo_reply reply;
    struct err e = {0};
    char *resp = canned("200 OK", "Content-Type: text/html\r\n",
                        "<br /><b>Warning</b>: something {\"id\":1}");
    (void)state;

    assert_int_equal(one_shot(resp, 5000, &reply, &e, &s), WOO_FAIL);
    assert_int_equal(e.kind, ERR_INTERNAL);
    assert_int_equal(reply.status, 200);
    assert_null(reply.body);
    assert_non_null(strstr(e.detail, "with a body that is not JSON"));
    woo_reply_clear(&reply);
    free(resp);
}

static void
http_redirect_is_not_followed(void **state)
{
    struct srv s = {0};
    struct woo_reply reply;
    struct err e = {0};
    char *resp =
        canned("301 Moved Permanently",
               "Location: https://127.0.0.1:1/wp-json/wc/v3/orders/727?oauth_nonce=x\r\n", "");
    (void)state;

    assert_int_equal(one_shot(resp, 5000, &reply, &e, &s), WOO_FAIL);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_int_equal(reply.status, 301);
    assert_non_null(strstr(e.detail, "redirect not followed"));
    assert_null(strstr(e.detail, "oauth"));
    woo_reply_clear(&reply);
    free(resp);
}

static bool
valid_utf8(const char *s)
{
    json_t *j = json_string(s); /* jansson refuses invalid UTF-8 */
    json_decref(j);
    return j != NULL;
}

static void
long_message_is_one_line_and_cut_on_a_character(void **state)
{
    size_t lens[2];
    (void)state;

    /* Two messages whose lengths differ by one ASCII byte: with two-byte
     * characters after them, exactly one of the two details is cut in the
     * middle of an "é" and must lose that half character. */
    for (int pad = 0; pad < 2; pad++) {
        struct srv s = {0};
        struct woo_reply reply;
        struct err e = {0};
        struct buf msg = {0};
        char *body, *resp;

        buf_puts(&msg, pad ? "Xfirst line\\nsecond\\r\\tline " : "first line\\nsecond\\r\\tline ");
        for (int i = 0; i < 150; i++)
            buf_puts(&msg, "\xc3\xa9");
        body = xasprintf("{\"code\":\"rest_invalid_param\",\"message\":\"%s\"}", msg.data);
        resp = canned("400 Bad Request", "", body);

        assert_int_equal(one_shot(resp, 5000, &reply, &e, &s), WOO_FAIL);
        assert_int_equal(e.kind, ERR_INVALID);
        lens[pad] = strlen(e.detail);
        assert_null(strchr(e.detail, '\n'));
        assert_null(strchr(e.detail, '\r'));
        assert_null(strchr(e.detail, '\t'));
        assert_true(valid_utf8(e.detail));
        assert_non_null(strstr(e.detail, "rest_invalid_param: "));
        assert_non_null(strstr(e.detail, "first line second  line \xc3\xa9"));
        woo_reply_clear(&reply);
        free(resp);
        free(body);
        buf_free(&msg);
    }
    /* sizeof(detail) - 1 = 199 bytes fit: one detail is full, the other one
     * byte short because half a character was dropped. */
    assert_true((lens[0] == 199 && lens[1] == 198) || (lens[0] == 198 && lens[1] == 199));
}

static void
response_over_the_cap_fails(void **state)
{
    struct srv s = {0};
    struct woo_reply reply;
    struct err e = {0};
    struct shop_buf sb;
    struct woo_client *wc = woo_client_new(1000, 10000);
    (void)state;

    s.flood = true;
    srv_start(&s, NULL);
    shop_at(&sb, s.port);
    assert_int_equal(woo_request(wc, &sb.shop, "GET", "/orders", NULL, 0, NULL, &reply, &e),
                     WOO_FAIL);
    srv_stop(&s);
    s.flood = false;
    assert_non_null(strstr(e.detail, "more than"));
    assert_null(reply.body);
    woo_reply_clear(&reply);
    woo_client_free(wc);
}

static void
connection_refused_retries(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    struct shop_buf sb;
    struct woo_reply reply;
    struct err e = {0};
    struct woo_client *wc = client();
    /* Bound but not listening: connecting is refused, and the port stays ours. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    (void)state;

    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    shop_at(&sb, ntohs(a.sin_port));
    assert_int_equal(woo_request(wc, &sb.shop, "GET", "/orders/1", NULL, 0, NULL, &reply, &e),
                     WOO_RETRY);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_int_equal(reply.status, 0);
    assert_null(reply.body);
    assert_true(strlen(e.detail) > 0);
    assert_null(strstr(e.detail, "oauth"));
    close(fd);
    woo_reply_clear(&reply);
    woo_client_free(wc);
}

static long
ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void
silent_server_times_out_and_retries(void **state)
{
    struct srv s = {0};
    struct woo_reply reply;
    struct err e = {0};
    struct timespec t0;
    long ms;
    (void)state;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(one_shot(NULL, 300, &reply, &e, &s), WOO_RETRY);
    ms = ms_since(&t0);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_string_equal(e.detail, "timeout after 300 ms");
    assert_int_equal(reply.status, 0);
    assert_true(ms >= 250 && ms < 2500);
    /* The request did arrive: the shop was reached, it just never answered. */
    assert_non_null(strstr(s.req, "GET /wp-json/wc/v3/orders/727?"));
    woo_reply_clear(&reply);
}

static void
bad_scheme_fails_without_network(void **state)
{
    struct woo_shop shop = {
        .id = 3, .url = "ftp://shop.example", .consumer_key = CK, .consumer_secret = CS};
    struct woo_reply reply;
    struct err e = {0};
    struct woo_client *wc = client();
    (void)state;

    assert_int_equal(woo_request(wc, &shop, "GET", "/orders", NULL, 0, NULL, &reply, &e), WOO_FAIL);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_int_equal(reply.status, 0);
    woo_client_free(wc);
}

/* ---- operations ------------------------------------------------------------ */

static void
orders_list_sends_sync_parameters(void **state)
{
    struct srv s = {0};
    struct shop_buf sb;
    struct err e = {0};
    struct woo_client *wc = client();
    char *resp = canned("200 OK", "X-WP-Total: 321\r\nX-WP-TotalPages: 7\r\n", "[]");
    char base[96];
    json_t *out = NULL;
    long pages = 0;
    (void)state;

    srv_start(&s, resp);
    shop_at(&sb, s.port);
    assert_int_equal(woo_orders_list(wc, &sb.shop, "2024-05-01T10:00:00", 2, 50, &out, &pages, &e),
                     WOO_OK);
    srv_stop(&s);
    assert_true(json_is_array(out));
    assert_int_equal(pages, 7);
    assert_non_null(strstr(s.req, "GET /wp-json/wc/v3/orders?"));
    assert_non_null(strstr(s.req, "modified_after=2024-05-01T10%3A00%3A00"));
    assert_non_null(strstr(s.req, "orderby=modified"));
    assert_non_null(strstr(s.req, "order=asc"));
    assert_non_null(strstr(s.req, "page=2"));
    assert_non_null(strstr(s.req, "per_page=50"));
    assert_non_null(strstr(s.req, "dates_are_gmt=true"));
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/wp-json/wc/v3/orders", s.port);
    assert_true(signature_matches(s.req, base));
    json_decref(out);
    free(resp);
    woo_client_free(wc);
}

static void
note_add_posts_json_that_is_not_signed(void **state)
{
    struct srv s = {0};
    struct shop_buf sb;
    struct err e = {0};
    struct woo_client *wc = client();
    char *resp = canned("201 Created", "Content-Type: application/json\r\n",
                        "{\"id\":281,\"note\":\"Thanks!\",\"customer_note\":true}");
    char base[96];
    json_t *out = NULL;
    (void)state;

    srv_start(&s, resp);
    shop_at(&sb, s.port);
    assert_int_equal(woo_order_note_add(wc, &sb.shop, 727, "Thanks!", true, &out, &e), WOO_OK);
    srv_stop(&s);
    assert_int_equal(json_integer_value(json_object_get(out, "id")), 281);
    assert_non_null(strstr(s.req, "POST /wp-json/wc/v3/orders/727/notes?oauth_consumer_key="));
    assert_non_null(strstr(s.req, "\r\nContent-Type: application/json\r\n"));
    assert_non_null(strstr(s.req, "\"note\":\"Thanks!\""));
    assert_non_null(strstr(s.req, "\"customer_note\":true"));
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/wp-json/wc/v3/orders/727/notes", s.port);
    assert_true(signature_matches(s.req, base));
    json_decref(out);
    free(resp);
    woo_client_free(wc);
}

static void
review_update_puts(void **state)
{
    struct srv s = {0};
    struct shop_buf sb;
    struct err e = {0};
    struct woo_client *wc = client();
    char *resp = canned("200 OK", "", "{\"id\":9,\"status\":\"hold\"}");
    json_t *changes = json_pack("{s:s}", "status", "hold"), *out = NULL;
    (void)state;

    srv_start(&s, resp);
    shop_at(&sb, s.port);
    assert_int_equal(woo_review_update(wc, &sb.shop, 9, changes, &out, &e), WOO_OK);
    srv_stop(&s);
    assert_non_null(strstr(s.req, "PUT /wp-json/wc/v3/products/reviews/9?"));
    assert_non_null(strstr(s.req, "{\"status\":\"hold\"}"));
    json_decref(out);
    json_decref(changes);
    free(resp);
    woo_client_free(wc);
}

static void
webhooks_list_asks_for_100_and_wants_an_array(void **state)
{
    struct srv s = {0};
    struct shop_buf sb;
    struct err e = {0};
    struct woo_client *wc = client();
    char *resp = canned("200 OK", "", "{\"not\":\"a list\"}");
    json_t *out = NULL;
    (void)state;

    srv_start(&s, resp);
    shop_at(&sb, s.port);
    assert_int_equal(woo_webhooks_list(wc, &sb.shop, &out, &e), WOO_FAIL);
    srv_stop(&s);
    assert_null(out);
    assert_int_equal(e.kind, ERR_INTERNAL);
    assert_non_null(strstr(s.req, "GET /wp-json/wc/v3/webhooks?"));
    assert_non_null(strstr(s.req, "per_page=100"));
    free(resp);
    woo_client_free(wc);
}

static void
client_is_reusable_across_requests(void **state)
{
    struct srv s = {0};
    struct shop_buf sb;
    struct err e = {0};
    struct woo_client *wc = client();
    char *r404 = canned("404 Not Found", "X-WP-TotalPages: 3\r\n",
                        "{\"code\":\"rest_no_route\",\"message\":\"No route.\"}");
    char *r200 = canned("201 Created", "", "{\"id\":16,\"code\":\"thanks-727\"}");
    json_t *coupon = json_pack("{s:s, s:s}", "code", "thanks-727", "amount", "10"), *out = NULL;
    (void)state;

    srv_start(&s, r404);
    shop_at(&sb, s.port);
    assert_int_equal(woo_coupon_create(wc, &sb.shop, coupon, &out, &e), WOO_FAIL);
    srv_stop(&s);
    assert_null(out);
    assert_int_equal(e.kind, ERR_NOT_FOUND);

    srv_start(&s, r200);
    shop_at(&sb, s.port);
    assert_int_equal(woo_coupon_create(wc, &sb.shop, coupon, &out, &e), WOO_OK);
    srv_stop(&s);
    assert_string_equal(json_string_value(json_object_get(out, "code")), "thanks-727");
    assert_non_null(strstr(s.req, "POST /wp-json/wc/v3/coupons?"));

    json_decref(out);
    json_decref(coupon);
    free(r404);
    free(r200);
    woo_client_free(wc);
}


/* ---- validate.c: WooCommerce values before SQL ---------------------------- */

static void
date_real_checks_the_calendar(void **state)
{
    static const char *const good[] = {
        "2017-03-22T19:28:02", "1970-01-01T00:00:00", "9999-12-31T23:59:59",
        "2024-02-29T12:00:00", /* leap year */
        "2000-02-29T12:00:00", /* divisible by 400: leap */
        "2026-04-30T10:00:00", "2026-01-31T10:00:00",
    };
    static const char *const bad[] = {
        "2026-02-30T10:00:00", "2026-02-29T10:00:00", /* not a leap year */
        "1900-02-29T10:00:00",                        /* divisible by 100: not leap */
        "2026-04-31T10:00:00", "2026-13-01T10:00:00", "2026-00-10T10:00:00",
        "2026-01-00T10:00:00", "0000-01-01T10:00:00", "1969-12-31T23:59:59",
        "2026-01-01T24:00:00", "2026-01-01T23:60:00", "2026-01-01T23:59:60",
        "2026-01-01 10:00:00", "2026-01-01T10:00:00Z", "2026-1-01T10:00:00",
        "+026-01-01T10:00:00", "2026-01-01T10:00:0a", "", NULL,
    };
    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(woo_date_real(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (woo_date_real(bad[i]))
            fail_msg("accepted %s", bad[i] ? bad[i] : "(null)");
    }
}

/* A valid order as WooCommerce sends it; each case below breaks one value. */
static const char valid_order[] =
    "{\"id\":727,\"status\":\"completed\",\"currency\":\"EUR\",\"customer_id\":0,"
    "\"date_created_gmt\":\"2026-02-01T10:00:00\",\"date_modified_gmt\":\"2026-02-28T10:00:00\","
    "\"date_paid_gmt\":null,\"date_completed_gmt\":\"\",\"total\":\"29.35\",\"total_tax\":\"0.00\","
    "\"shipping_total\":\"0\",\"discount_total\":\"0.00\",\"billing\":{\"email\":\"a@b.example\"},"
    "\"line_items\":[{\"id\":315,\"name\":\"Woo\",\"product_id\":93,\"variation_id\":0,"
    "\"quantity\":2,\"subtotal\":\"29.35\",\"total\":\"29.35\",\"total_tax\":\"0.00\"}],"
    "\"refunds\":[{\"id\":9,\"reason\":\"\",\"total\":\"-5.00\"}]}";

static void
order_check(const char *path, const char *key, json_t *value, const char *field)
{
    json_error_t jerr;
    json_t *o = json_loads(valid_order, 0, &jerr);
    json_t *obj = o;
    struct err e = {0};

    assert_non_null(o);
    if (strcmp(path, "line_items") == 0 || strcmp(path, "refunds") == 0)
        obj = json_array_get(json_object_get(o, path), 0);
    if (value)
        json_object_set_new(obj, key, value);
    else
        json_object_del(obj, key);
    if (field == NULL) {
        assert_int_equal(woo_validate_order(o, &e), 0);
    } else {
        assert_int_equal(woo_validate_order(o, &e), -1);
        assert_int_equal(e.kind, ERR_INVALID);
        assert_string_equal(e.field, field);
        /* the note a delivery gets starts with the field it names */
        assert_memory_equal(e.detail, field, strlen(field));
    }
    json_decref(o);
}

static void
validate_order_names_each_bad_field(void **state)
{
    json_error_t jerr;
    json_t *o = json_loads(valid_order, 0, &jerr);
    struct err e = {0};
    (void)state;

    assert_int_equal(woo_validate_order(o, &e), 0);
    json_decref(o);
    /* impossible dates */
    order_check("", "date_modified_gmt", json_string("2026-02-30T10:00:00"), "date_modified_gmt");
    order_check("", "date_modified_gmt", json_string("0000-01-01T00:00:00"), "date_modified_gmt");
    order_check("", "date_modified_gmt", json_string("2026-13-01T00:00:00"), "date_modified_gmt");
    order_check("", "date_modified_gmt", json_null(), "date_modified_gmt");
    order_check("", "date_modified_gmt", NULL, "date_modified_gmt");
    order_check("", "date_created_gmt", json_string("2025-02-29T00:00:00"), "date_created_gmt");
    order_check("", "date_paid_gmt", json_integer(1700000000), "date_paid_gmt");
    order_check("", "date_completed_gmt", json_string("2026-04-31T00:00:00"),
                "date_completed_gmt");
    /* integers beyond their columns */
    order_check("line_items", "quantity", json_integer(3000000000LL), "line_items[0].quantity");
    order_check("line_items", "quantity", json_integer(-1), "line_items[0].quantity");
    order_check("line_items", "quantity", json_string("2"), "line_items[0].quantity");
    order_check("line_items", "quantity", json_integer(2147483647), NULL);
    order_check("line_items", "quantity", NULL, NULL);
    order_check("line_items", "id", json_integer(0), "line_items[0].id");
    order_check("line_items", "id", NULL, "line_items[0].id");
    order_check("line_items", "product_id", json_integer(-5), "line_items[0].product_id");
    order_check("line_items", "variation_id", json_real(1.5), "line_items[0].variation_id");
    order_check("line_items", "total", json_string("1e5"), "line_items[0].total");
    order_check("line_items", "subtotal", json_string("1234567890123456"),
                "line_items[0].subtotal");
    order_check("line_items", "name", json_integer(7), "line_items[0].name");
    order_check("refunds", "id", json_integer(-9), "refunds[0].id");
    order_check("refunds", "total", json_real(5.0), "refunds[0].total");
    order_check("", "customer_id", json_integer(-1), "customer_id");
    order_check("", "customer_id", json_null(), NULL);
    /* money, currency */
    order_check("", "total", json_string("ten euros"), "total");
    order_check("", "total", json_string("1.1234567"), "total");
    order_check("", "total", json_real(29.35), "total");
    order_check("", "shipping_total", json_string(""), NULL);
    order_check("", "currency", json_string("eur"), "currency");
    order_check("", "currency", json_string("EURO"), "currency");
    order_check("", "currency", NULL, "currency");
    /* shapes */
    order_check("", "line_items", json_string("x"), "line_items");
    order_check("", "line_items", json_null(), NULL);
    order_check("", "refunds", json_object(), "refunds");
    order_check("", "id", json_integer(0), "order");
    order_check("", "status", json_string(""), "order");
    assert_int_equal(woo_validate_order(NULL, &e), -1);
}

static void
text_valid_is_utf8_without_controls(void **state)
{
    (void)state;
    assert_true(woo_text_valid("order.updated", 200));
    assert_true(woo_text_valid("Zo\xc3\xab \xf0\x9f\x98\x80 \xe2\x82\xac", 200));
    assert_true(woo_text_valid("", 10));
    assert_false(woo_text_valid("abc", 2));           /* too long */
    assert_false(woo_text_valid("order.\xff", 200));   /* not UTF-8 */
    assert_false(woo_text_valid("caf\xe9", 200));      /* Latin-1 */
    assert_false(woo_text_valid("\xc3", 200));         /* cut */
    assert_false(woo_text_valid("\xc0\xaf", 200));     /* overlong '/' */
    assert_false(woo_text_valid("\xed\xa0\x80", 200)); /* surrogate */
    assert_false(woo_text_valid("\xf4\x90\x80\x80", 200)); /* > U+10FFFF */
    assert_false(woo_text_valid("a\tb", 200));         /* control */
    assert_false(woo_text_valid("a\x7f", 200));
    assert_false(woo_text_valid("\xc2\x85", 200));     /* C1 control */
    assert_false(woo_text_valid(NULL, 200));
}

static void
validate_customer(void **state)
{
    json_error_t jerr;
    json_t *cu = json_loads("{\"id\":88,\"email\":\"c@example.com\","
                            "\"date_created_gmt\":\"2024-02-29T00:00:00\",\"date_modified_gmt\":null}",
                            0, &jerr);
    struct err e = {0};
    (void)state;

    assert_int_equal(woo_validate_customer(cu, &e), 0);
    json_object_set_new(cu, "date_modified_gmt", json_string("2023-02-29T00:00:00"));
    assert_int_equal(woo_validate_customer(cu, &e), -1);
    assert_string_equal(e.field, "date_modified_gmt");
    json_object_set_new(cu, "date_modified_gmt", json_string("2023-02-28T00:00:00"));
    json_object_set_new(cu, "id", json_integer(-88));
    assert_int_equal(woo_validate_customer(cu, &e), -1);
    assert_string_equal(e.field, "customer");
    json_decref(cu);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oauth_vector_base_string_and_signature),
        cmocka_unit_test(oauth_vector_full_query),
        cmocka_unit_test(oauth_encode_edge_cases),
        cmocka_unit_test(oauth_params_sorted_by_key),
        cmocka_unit_test(http_200_json_with_paging_headers),
        cmocka_unit_test(oauth_signs_the_port),
        cmocka_unit_test(http_404_woocommerce_error),
        cmocka_unit_test(http_500_with_bare_number_data_retries),
        cmocka_unit_test(http_null_data_is_accepted),
        cmocka_unit_test(http_429_retries),
        cmocka_unit_test(http_401_and_403_fail_unauthorized),
        cmocka_unit_test(http_409_fails_conflict),
        cmocka_unit_test(http_200_not_json_fails),
        cmocka_unit_test(http_redirect_is_not_followed),
        cmocka_unit_test(long_message_is_one_line_and_cut_on_a_character),
        cmocka_unit_test(response_over_the_cap_fails),
        cmocka_unit_test(connection_refused_retries),
        cmocka_unit_test(silent_server_times_out_and_retries),
        cmocka_unit_test(bad_scheme_fails_without_network),
        cmocka_unit_test(orders_list_sends_sync_parameters),
        cmocka_unit_test(note_add_posts_json_that_is_not_signed),
        cmocka_unit_test(review_update_puts),
        cmocka_unit_test(webhooks_list_asks_for_100_and_wants_an_array),
        cmocka_unit_test(client_is_reusable_across_requests),
        cmocka_unit_test(date_real_checks_the_calendar),
        cmocka_unit_test(validate_order_names_each_bad_field),
        cmocka_unit_test(validate_customer),
        cmocka_unit_test(text_valid_is_utf8_without_controls),
    };
    int rc;

    /* main() of the service does this too, before any thread starts. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
