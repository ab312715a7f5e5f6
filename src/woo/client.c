/*
 * client.c - aftersale's only HTTP client for a shop's WooCommerce REST API.
 *
 * Owns one libcurl easy handle per struct woo_client. The handle is reset
 * (curl_easy_reset) before each request but never closed in between, so
 * connections to a shop are kept alive. Each request builds the URL
 * <shop url>/wp-json/wc/v3<path>?<query>, authenticates (Basic over https,
 * OAuth 1.0a HMAC-SHA256 in the query over http, see oauth.c), sends JSON,
 * caps the response at RESPONSE_MAX bytes and turns the outcome into
 * WOO_OK / WOO_RETRY / WOO_FAIL with a one-line detail for the job's
 * last_error.
 *
 * Callers: job kinds on worker threads, each with its own client. Never used
 * on an HTTP request thread and never shared between threads. It must never
 * call curl_global_init (main does, before threads start), follow a redirect,
 * log, or put credentials, a signed URL or a response body into e->detail:
 * details are built from the method, the path, the HTTP status and the
 * WooCommerce `code` and `message` only, stripped of control characters and
 * cut on a UTF-8 boundary.
 */
#include <assert.h>
#include <stdatomic.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/crypto.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/version.h"
#include "aftersale/woo/client.h"
#include "aftersale/woo/oauth.h"

#define API_PREFIX "/wp-json/wc/v3"
#define RESPONSE_MAX ((size_t)8 * 1024 * 1024)
#define NONCE_LEN 32

struct woo_client {
    CURL *curl;
    long connect_timeout_ms, total_timeout_ms;
    char errbuf[CURL_ERROR_SIZE];
    /* Per-request state, reset at the start of each woo_request. */
    struct buf body;
    bool too_large;
    long total, total_pages;
};

struct woo_client *
woo_client_new(long connect_timeout_ms, long total_timeout_ms)
{
    struct woo_client *wc;
    CURL *curl = curl_easy_init();

    if (curl == NULL)
        return NULL;
    wc = xcalloc(1, sizeof(*wc));
    wc->curl = curl;
    wc->connect_timeout_ms = connect_timeout_ms;
    wc->total_timeout_ms = total_timeout_ms;
    return wc;
}

void
woo_client_free(struct woo_client *wc)
{
    if (wc == NULL)
        return;
    curl_easy_cleanup(wc->curl);
    buf_free(&wc->body);
    free(wc);
}

void
woo_reply_clear(struct woo_reply *reply)
{
    json_decref(reply->body);
    reply->body = NULL;
    reply->status = 0;
    reply->total = reply->total_pages = -1;
    reply->code[0] = '\0';
}

/* ---- libcurl callbacks ---------------------------------------------------- */

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct woo_client *wc = userdata;
    size_t n = size * nmemb;

    /* Returning less than n makes curl stop with CURLE_WRITE_ERROR. */
    if (n > RESPONSE_MAX - wc->body.len) {
        wc->too_large = true;
        return 0;
    }
    buf_append(&wc->body, data, n);
    return n;
}

/* Parse "<digits>" (surrounding blanks allowed) into a count, -1 otherwise. */
static long
header_count(const char *v, size_t n)
{
    long x = 0;
    size_t i = 0, digits = 0;

    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    for (; i < n && v[i] >= '0' && v[i] <= '9'; i++, digits++) {
        if (x > (LONG_MAX - 9) / 10)
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n'))
        i++;
    return (digits > 0 && i == n) ? x : -1;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    static const char total[] = "X-WP-Total:", pages[] = "X-WP-TotalPages:";
    struct woo_client *wc = userdata;
    size_t n = size * nmemb;

    /* A status line starts a new header block (e.g. after "100 Continue"):
     * only the final response's counts count. */
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        wc->total = wc->total_pages = -1;
    } else if (n > sizeof(pages) - 1 && strncasecmp(data, pages, sizeof(pages) - 1) == 0) {
        wc->total_pages = header_count(data + sizeof(pages) - 1, n - (sizeof(pages) - 1));
    } else if (n > sizeof(total) - 1 && strncasecmp(data, total, sizeof(total) - 1) == 0) {
        wc->total = header_count(data + sizeof(total) - 1, n - (sizeof(total) - 1));
    }
    return n;
}

/* ---- details -------------------------------------------------------------- */

/* Make e->detail one safe line: control characters become spaces, and a
 * multi-byte UTF-8 sequence cut by snprintf's truncation is dropped. */
static void
detail_tidy(struct err *e)
{
    size_t len, start, need;
    unsigned char lead;

    if (e == NULL)
        return;
    for (char *p = e->detail; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    len = strlen(e->detail);
    if (len == 0)
        return;
    start = len;
    while (start > 0 && ((unsigned char)e->detail[start - 1] & 0xC0) == 0x80 && len - start < 3)
        start--;
    if (start == 0)
        return;
    lead = (unsigned char)e->detail[start - 1];
    if (lead < 0x80)
        return;
    need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (len - (start - 1) < need)
        e->detail[start - 1] = '\0';
}

/* curl's own text, cut before anything that looks like a query string so a
 * signed URL can never reach a log through it. */
static void
curl_detail(struct err *e, const char *errbuf, CURLcode rc)
{
    const char *text = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    int n = (int)strcspn(text, "?");

    err_set(e, ERR_UNAVAILABLE, NULL, "%.*s", n, text);
}

/* ---- stopping ---------------------------------------------------------- */

/* Set once at shutdown: every call in flight ends at its next progress
 * callback (libcurl calls it at least once a second, more often while
 * bytes move), so SIGTERM does not wait out a shop's timeout. */
static atomic_bool aborting;

void
woo_client_abort_all(void)
{
    atomic_store(&aborting, true);
}

static int
on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)p;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return atomic_load(&aborting) ? 1 : 0;
}

/* ---- classification ------------------------------------------------------- */

/* A transport failure: no HTTP answer. */
static enum woo_result
transport_failure(struct woo_client *wc, CURLcode rc, struct err *e)
{
    curl_off_t connect_us = 0;

    switch (rc) {
    case CURLE_ABORTED_BY_CALLBACK:
        err_set(e, ERR_UNAVAILABLE, NULL, "interrupted: aftersale was stopping");
        return WOO_RETRY;
    case CURLE_OPERATION_TIMEDOUT:
        curl_easy_getinfo(wc->curl, CURLINFO_CONNECT_TIME_T, &connect_us);
        if (connect_us == 0 && wc->connect_timeout_ms < wc->total_timeout_ms)
            err_set(e, ERR_UNAVAILABLE, NULL, "connect timeout after %ld ms",
                    wc->connect_timeout_ms);
        else
            err_set(e, ERR_UNAVAILABLE, NULL, "timeout after %ld ms", wc->total_timeout_ms);
        return WOO_RETRY;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
        /* The shop's URL is wrong: retrying cannot help. */
        curl_detail(e, wc->errbuf, rc);
        if (e)
            e->kind = ERR_INVALID;
        return WOO_FAIL;
    default:
        /* Refused, DNS, reset, TLS: the shop or the network may recover. */
        curl_detail(e, wc->errbuf, rc);
        return WOO_RETRY;
    }
}

static enum woo_result
status_result(long status, enum err_kind *kind)
{
    if (status == 429 || status >= 500) {
        *kind = ERR_UNAVAILABLE;
        return WOO_RETRY;
    }
    if (status == 401 || status == 403)
        *kind = ERR_UNAUTHORIZED;
    else if (status == 404)
        *kind = ERR_NOT_FOUND;
    else if (status == 409)
        *kind = ERR_CONFLICT;
    else
        *kind = ERR_INVALID; /* other 4xx, and 1xx/3xx: a redirect is never followed */
    return WOO_FAIL;
}

/* A non-2xx answer: read WooCommerce's {"code","message","data"} when there is
 * one. `data` may be an object with `status`, a bare number (some refund
 * errors: HTTP 500 with "data":404) or null. */
static enum woo_result
http_failure(const char *method, const char *path, struct woo_reply *reply, struct err *e)
{
    enum err_kind kind;
    enum woo_result res = status_result(reply->status, &kind);
    const char *code = jx_str(reply->body, "code");
    const char *message = jx_str(reply->body, "message");
    json_t *data = json_object_get(reply->body, "data");
    char extra[48] = "";

    if (code)
        snprintf(reply->code, sizeof(reply->code), "%s", code);
    if (json_is_integer(data) && json_integer_value(data) != reply->status)
        snprintf(extra, sizeof(extra), " (data %" JSON_INTEGER_FORMAT ")",
                 json_integer_value(data));

    if (code || message)
        err_set(e, kind, NULL, "HTTP %ld%s%s%s%s%s", reply->status, code ? " " : "",
                code ? code : "", message ? ": " : "", message ? message : "", extra);
    else if (reply->status >= 300 && reply->status < 400)
        err_set(e, kind, NULL, "HTTP %ld from %s %s: redirect not followed (check the shop url)",
                reply->status, method, path);
    else
        err_set(e, kind, NULL, "HTTP %ld from %s %s", reply->status, method, path);
    return res;
}

/* ---- the request ---------------------------------------------------------- */

static bool
scheme_is(const char *url, const char *scheme)
{
    return strncasecmp(url, scheme, strlen(scheme)) == 0;
}

static struct curl_slist *
header_add(struct curl_slist *list, const char *h)
{
    struct curl_slist *l = curl_slist_append(list, h);

    if (l == NULL) { /* allocation failure is fatal, as with xmalloc */
        fprintf(stderr, "{\"level\":\"error\",\"msg\":\"out of memory (curl_slist_append)\"}\n");
        abort();
    }
    return l;
}

/* "k=v&..." with RFC 3986 encoding, in the caller's order (Basic auth: nothing
 * is signed, so order does not matter). Returns: new string. */
static char *
plain_query(const struct woo_param *query, size_t nquery)
{
    struct buf b = {0};

    for (size_t i = 0; i < nquery; i++) {
        char *k = woo_oauth_encode(query[i].key), *v = woo_oauth_encode(query[i].value);
        buf_printf(&b, "%s%s=%s", i ? "&" : "", k, v);
        free(k);
        free(v);
    }
    return buf_steal(&b);
}

/*
 * One request under `prefix` ("/wp-json/wc/v3", or "/wp-json/wp/v2" for
 * WordPress's own API). `basic_user` non-NULL: HTTP Basic with that user
 * and password (WordPress Application Passwords), whatever the scheme;
 * else the WooCommerce key rules (Basic over https, OAuth over http).
 */
static enum woo_result
request(struct woo_client *wc, const struct woo_shop *shop, const char *prefix,
        const char *basic_user, const char *basic_password, const char *method, const char *path,
        const struct woo_param *query, size_t nquery, const json_t *body, struct woo_reply *reply,
        struct err *e)
{
    enum woo_result res = WOO_FAIL;
    char *base = NULL, *qs = NULL, *url = NULL, *payload = NULL;
    struct curl_slist *headers = NULL;
    size_t urllen;
    bool https;
    CURLcode rc;
    CURL *h = wc->curl;

    /* The reply is overwritten, not cleared: a caller reusing one calls
     * woo_reply_clear first. */
    reply->status = 0;
    reply->body = NULL;
    reply->total = reply->total_pages = -1;
    reply->code[0] = '\0';
    buf_reset(&wc->body);
    wc->too_large = false;
    wc->total = wc->total_pages = -1;

    https = scheme_is(shop->url, "https://");
    if (!https && !scheme_is(shop->url, "http://")) {
        err_set(e, ERR_INVALID, NULL, "shop %" PRId64 " url must start with http:// or https://",
                shop->id);
        goto out;
    }

    /* The base URL is the shop url as configured (port kept) plus the path;
     * under OAuth it is signed verbatim, so only a trailing '/' is trimmed. */
    urllen = strlen(shop->url);
    while (urllen > 0 && shop->url[urllen - 1] == '/')
        urllen--;
    base = xasprintf("%.*s%s%s", (int)urllen, shop->url, prefix, path);

    if (https || basic_user != NULL) {
        qs = plain_query(query, nquery);
    } else {
        char nonce[NONCE_LEN + 1], ts[24];

        crypto_random_alnum(nonce, NONCE_LEN);
        snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
        qs = woo_oauth_query(method, base, query, nquery, shop->consumer_key, shop->consumer_secret,
                             ts, nonce);
    }
    url = qs[0] ? xasprintf("%s?%s", base, qs) : xstrdup(base);

    curl_easy_reset(h);
    wc->errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, wc->errbuf);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, wc->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, wc->total_timeout_ms);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "aftersale/" AFTERSALE_VERSION);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, wc);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, wc);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    /* A Content-Length larger than the cap fails before any byte is read. */
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)RESPONSE_MAX);
    if (basic_user != NULL) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, basic_user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, basic_password);
    } else if (https) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, shop->consumer_key);
        curl_easy_setopt(h, CURLOPT_PASSWORD, shop->consumer_secret);
    }

    headers = header_add(headers, "Accept: application/json");
    /* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
    headers = header_add(headers, "Expect:");
    if (body != NULL) {
        payload = jx_dump(body);
        headers = header_add(headers, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(payload));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply->status);
    reply->total = wc->total;
    reply->total_pages = wc->total_pages;

    if (wc->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        err_set(e, ERR_INTERNAL, NULL, "shop answered %s %s with more than %zu bytes", method, path,
                RESPONSE_MAX);
        res = WOO_FAIL;
        goto out;
    }
    if (rc != CURLE_OK) {
        res = transport_failure(wc, rc, e);
        goto out;
    }

    if (wc->body.len > 0)
        reply->body = json_loadb(wc->body.data, wc->body.len, JSON_REJECT_DUPLICATES, NULL);

    if (reply->status >= 200 && reply->status < 300) {
        if (reply->body == NULL && !(reply->status == 204 && wc->body.len == 0)) {
            err_set(e, ERR_INTERNAL, NULL,
                    "shop answered %s %s (HTTP %ld) with a body that is not JSON", method, path,
                    reply->status);
            res = WOO_FAIL;
            goto out;
        }
        res = WOO_OK;
        goto out;
    }
    res = http_failure(method, path, reply, e);

out:
    detail_tidy(res == WOO_OK ? NULL : e);
    /* Keep the connection, drop everything that could hold a secret or a body. */
    if (https || basic_user != NULL) {
        curl_easy_setopt(h, CURLOPT_USERNAME, NULL);
        curl_easy_setopt(h, CURLOPT_PASSWORD, NULL);
    }
    if (wc->body.cap > 64 * 1024)
        buf_free(&wc->body);
    curl_slist_free_all(headers);
    free(payload);
    free(url);
    free(qs);
    free(base);
    return res;
}

enum woo_result
woo_request(struct woo_client *wc, const struct woo_shop *shop, const char *method,
            const char *path, const struct woo_param *query, size_t nquery, const json_t *body,
            struct woo_reply *reply, struct err *e)
{
    return request(wc, shop, API_PREFIX, NULL, NULL, method, path, query, nquery, body, reply, e);
}

enum woo_result
woo_wp_comment_create(struct woo_client *wc, const struct woo_shop *shop, const char *wp_user,
                      const char *wp_password, const json_t *comment, json_t **out, struct err *e)
{
    struct woo_reply reply;
    enum woo_result r = request(wc, shop, "/wp-json/wp/v2", wp_user, wp_password, "POST",
                                "/comments", NULL, 0, comment, &reply, e);

    *out = NULL;
    if (r == WOO_OK && !json_is_object(reply.body)) {
        err_set(e, ERR_INTERNAL, NULL, "WordPress answered POST /comments without an object");
        r = WOO_FAIL;
    }
    if (r == WOO_OK) {
        *out = reply.body;
        reply.body = NULL;
    }
    woo_reply_clear(&reply);
    return r;
}

/* ---- operations ----------------------------------------------------------- */

/* One request whose 2xx answer must be a JSON value of type `expect`; steals
 * the body into *out. */
static enum woo_result
call(struct woo_client *wc, const struct woo_shop *shop, const char *method, const char *path,
     const struct woo_param *query, size_t nquery, const json_t *body, json_type expect,
     json_t **out, long *total_pages, struct err *e)
{
    struct woo_reply reply = {0};
    enum woo_result res;

    *out = NULL;
    res = woo_request(wc, shop, method, path, query, nquery, body, &reply, e);
    if (res == WOO_OK && (reply.body == NULL || json_typeof(reply.body) != expect)) {
        err_set(e, ERR_INTERNAL, NULL, "shop answered %s %s (HTTP %ld) with JSON that is not %s",
                method, path, reply.status, expect == JSON_ARRAY ? "an array" : "an object");
        res = WOO_FAIL;
    }
    if (res == WOO_OK) {
        *out = reply.body;
        reply.body = NULL;
        if (total_pages)
            *total_pages = reply.total_pages;
    }
    woo_reply_clear(&reply);
    return res;
}

enum woo_result
woo_order_get(struct woo_client *wc, const struct woo_shop *shop, int64_t order_id, json_t **out,
              struct err *e)
{
    char path[48];

    snprintf(path, sizeof(path), "/orders/%" PRId64, order_id);
    return call(wc, shop, "GET", path, NULL, 0, NULL, JSON_OBJECT, out, NULL, e);
}

enum woo_result
woo_orders_list(struct woo_client *wc, const struct woo_shop *shop, const char *modified_after_gmt,
                int page, int per_page, json_t **out, long *total_pages, struct err *e)
{
    char spage[16], sper[16];
    struct woo_param q[6] = {
        {"orderby", "modified"}, {"order", "asc"},          {"page", spage},
        {"per_page", sper},      {"dates_are_gmt", "true"},
    };
    size_t nq = 5;

    snprintf(spage, sizeof(spage), "%d", page);
    snprintf(sper, sizeof(sper), "%d", per_page);
    if (modified_after_gmt != NULL)
        q[nq++] = (struct woo_param){"modified_after", modified_after_gmt};
    if (total_pages)
        *total_pages = -1;
    return call(wc, shop, "GET", "/orders", q, nq, NULL, JSON_ARRAY, out, total_pages, e);
}

enum woo_result
woo_order_note_add(struct woo_client *wc, const struct woo_shop *shop, int64_t order_id,
                   const char *note, bool customer_note, json_t **out, struct err *e)
{
    char path[64];
    json_t *body = json_pack("{s:s, s:b}", "note", note, "customer_note", customer_note);
    enum woo_result res;

    if (body == NULL) {
        *out = NULL;
        err_set(e, ERR_INVALID, "note", "must be a UTF-8 string");
        return WOO_FAIL;
    }
    snprintf(path, sizeof(path), "/orders/%" PRId64 "/notes", order_id);
    res = call(wc, shop, "POST", path, NULL, 0, body, JSON_OBJECT, out, NULL, e);
    json_decref(body);
    return res;
}

enum woo_result
woo_refund_create(struct woo_client *wc, const struct woo_shop *shop, int64_t order_id,
                  const json_t *refund, json_t **out, struct err *e)
{
    char path[64];

    snprintf(path, sizeof(path), "/orders/%" PRId64 "/refunds", order_id);
    return call(wc, shop, "POST", path, NULL, 0, refund, JSON_OBJECT, out, NULL, e);
}

enum woo_result
woo_coupon_create(struct woo_client *wc, const struct woo_shop *shop, const json_t *coupon,
                  json_t **out, struct err *e)
{
    return call(wc, shop, "POST", "/coupons", NULL, 0, coupon, JSON_OBJECT, out, NULL, e);
}

enum woo_result
woo_review_create(struct woo_client *wc, const struct woo_shop *shop, const json_t *review,
                  json_t **out, struct err *e)
{
    return call(wc, shop, "POST", "/products/reviews", NULL, 0, review, JSON_OBJECT, out, NULL, e);
}

enum woo_result
woo_review_update(struct woo_client *wc, const struct woo_shop *shop, int64_t review_id,
                  const json_t *changes, json_t **out, struct err *e)
{
    char path[64];

    snprintf(path, sizeof(path), "/products/reviews/%" PRId64, review_id);
    return call(wc, shop, "PUT", path, NULL, 0, changes, JSON_OBJECT, out, NULL, e);
}

enum woo_result
woo_webhooks_list(struct woo_client *wc, const struct woo_shop *shop, json_t **out, struct err *e)
{
    static const struct woo_param q[] = {{"per_page", "100"}};

    return call(wc, shop, "GET", "/webhooks", q, 1, NULL, JSON_ARRAY, out, NULL, e);
}

enum woo_result
woo_webhook_create(struct woo_client *wc, const struct woo_shop *shop, const json_t *webhook,
                   json_t **out, struct err *e)
{
    return call(wc, shop, "POST", "/webhooks", NULL, 0, webhook, JSON_OBJECT, out, NULL, e);
}
