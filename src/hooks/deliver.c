/*
 * deliver.c - the job kinds of outbound webhooks: hooks.deliver (one
 * attempt to post one message to one endpoint) and hooks.alert (the
 * merchant's email when an endpoint was disabled).
 *
 * An attempt: load the delivery (short transaction), sign, resolve the
 * host and check EVERY address against WEBHOOK_ALLOW_PRIVATE, post with
 * libcurl pinned to the checked address (CURLOPT_RESOLVE) and with an
 * open-socket callback that checks the address it is about to connect to
 * once more (so neither DNS rebinding between our lookup and curl's, nor a
 * proxy, nor a literal address form reaches a refused target), never
 * following redirects; then log the attempt (second short transaction).
 * No database connection is held during the call. A failed attempt
 * reschedules the job itself (JOB_RESCHEDULE, WEBHOOK_RETRY_BASE_MS
 * doubling with full jitter, at most an hour) until the message is older
 * than WEBHOOK_DISABLE_AFTER_S; the webhook-id never changes, so a
 * receiver that saw an earlier attempt dedupes the next one.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"
#include "aftersale/hooks/hooks.h"
#include "aftersale/hooks/jobs.h"
#include "aftersale/hooks/store.h"
#include "aftersale/outreach/outreach.h"
#include "aftersale/version.h"

#define RETRY_CAP_MS 3600000L
#define ANSWER_MAX 65536

struct deliver_ctx {
    const struct config *cfg;
    int64_t shop_id, delivery_id;
    struct hooks_delivery d;
    /* the attempt */
    int status_code;
    long duration_ms;
    const char *error; /* NULL on success; points into errbuf */
    char errbuf[600];
    bool final, disabled;
};

static int
load_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct deliver_ctx *x = ctx;
    return hooks_store_delivery_load(c, x->cfg->secret_key, x->shop_id, x->delivery_id, &x->d, e);
}

static int
record_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct deliver_ctx *x = ctx;
    return hooks_store_attempt_record(c, &x->d, x->status_code, x->duration_ms, x->error, x->final,
                                      x->cfg->webhook_disable_after_s, &x->disabled, e);
}

static int
cancel_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct deliver_ctx *x = ctx;
    return hooks_store_delivery_cancel(c, x->shop_id, x->delivery_id, e);
}

/* ---- the target ------------------------------------------------------- */

struct target {
    char host[256]; /* without brackets */
    long port;
    char addr[64]; /* the checked address we connect to */
    bool literal;  /* the URL names an address, not a name */
    const struct hooks_allow *allow;
    bool refused; /* the open-socket callback refused an address */
};

static void
addr_text(const struct sockaddr *sa, char *out, size_t n)
{
    const void *p = sa->sa_family == AF_INET
                        ? (const void *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr
                        : (const void *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (inet_ntop(sa->sa_family, p, out, (socklen_t)n) == NULL)
        snprintf(out, n, "?");
}

/* Parse the URL, resolve its host and check every address. 0, or -1 with
 * a message in err (the attempt's error). */
static int
target_check(const char *url, struct target *t, char *err, size_t errn)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *scheme = NULL;
    struct addrinfo hints = {0}, *res = NULL, *ai;
    size_t hl;
    int rc = -1, gr;

    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        snprintf(err, errn, "the endpoint's URL does not parse");
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        snprintf(err, errn, "the endpoint's URL is not http or https");
        goto out;
    }
    hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']')
        snprintf(t->host, sizeof(t->host), "%.*s", (int)(hl - 2), host + 1);
    else
        snprintf(t->host, sizeof(t->host), "%s", host);
    t->port = atol(port);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST;
    t->literal = getaddrinfo(t->host, NULL, &hints, &res) == 0;
    if (!t->literal) {
        hints.ai_flags = 0;
        gr = getaddrinfo(t->host, NULL, &hints, &res);
        if (gr != 0) {
            snprintf(err, errn, "cannot resolve %.200s: %s", t->host, gai_strerror(gr));
            goto out;
        }
    }
    t->addr[0] = '\0';
    for (ai = res; ai; ai = ai->ai_next) {
        char a[INET6_ADDRSTRLEN];
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        addr_text(ai->ai_addr, a, sizeof(a));
        if (!hooks_addr_allowed(t->allow, ai->ai_addr)) {
            snprintf(err, errn,
                     "refused: %.200s resolves to %s, a private, loopback or link-local address "
                     "(WEBHOOK_ALLOW_PRIVATE does not allow it)",
                     t->host, a);
            goto out;
        }
        if (t->addr[0] == '\0')
            snprintf(t->addr, sizeof(t->addr), "%s", a);
    }
    if (t->addr[0] == '\0') {
        snprintf(err, errn, "%.200s has no IPv4 or IPv6 address", t->host);
        goto out;
    }
    rc = 0;
out:
    if (res)
        freeaddrinfo(res);
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* The last word before connect(2): the address curl is about to use. */
static curl_socket_t
open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct target *t = clientp;

    (void)purpose;
    if (!hooks_addr_allowed(t->allow, &a->addr)) {
        t->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

static size_t
discard(char *p, size_t size, size_t n, void *ud)
{
    size_t *total = ud;
    (void)p;
    *total += size * n;
    return *total > ANSWER_MAX ? 0 : size * n; /* the answer is not ours to keep */
}

static long
elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000L + (t1.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* One POST. Fills x->status_code and x->error (NULL on a 2xx). */
static void
post(struct deliver_ctx *x, const struct hooks_allow *allow)
{
    struct target t = {.allow = allow};
    struct curl_slist *headers = NULL, *resolve = NULL;
    char *sig = NULL, *sig_old = NULL, line[1200], cerr[CURL_ERROR_SIZE] = "";
    long long ts = (long long)time(NULL);
    struct timespec t0;
    size_t got = 0;
    CURL *h = NULL;
    CURLcode cc;
    long code = 0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    x->error = x->errbuf;
    if (target_check(x->d.url, &t, x->errbuf, sizeof(x->errbuf)) < 0)
        goto out;
    sig = hooks_sign(x->d.secret, x->d.msg_id, ts, x->d.body, strlen(x->d.body));
    if (x->d.previous)
        sig_old = hooks_sign(x->d.previous, x->d.msg_id, ts, x->d.body, strlen(x->d.body));
    if (sig == NULL) {
        snprintf(x->errbuf, sizeof(x->errbuf), "the endpoint's secret does not decode");
        goto out;
    }
    h = curl_easy_init();
    if (h == NULL) {
        snprintf(x->errbuf, sizeof(x->errbuf), "cannot start libcurl");
        goto out;
    }
    headers = curl_slist_append(headers, "Content-Type: application/json");
    snprintf(line, sizeof(line), "webhook-id: %s", x->d.msg_id);
    headers = curl_slist_append(headers, line);
    snprintf(line, sizeof(line), "webhook-timestamp: %lld", ts);
    headers = curl_slist_append(headers, line);
    /* During a rotation both secrets sign: receivers holding either verify. */
    snprintf(line, sizeof(line), "webhook-signature: %s%s%s", sig, sig_old ? " " : "",
             sig_old ? sig_old : "");
    headers = curl_slist_append(headers, line);
    headers = curl_slist_append(headers, "Expect:");
    if (!t.literal) {
        /* Pin the name to the address we checked: curl does not resolve it again. */
        snprintf(line, sizeof(line), "%s:%ld:%s%s%s", t.host, t.port,
                 strchr(t.addr, ':') ? "[" : "", t.addr, strchr(t.addr, ':') ? "]" : "");
        resolve = curl_slist_append(resolve, line);
        curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
    }
    curl_easy_setopt(h, CURLOPT_URL, x->d.url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* no proxy from the environment */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     x->cfg->webhook_timeout_ms < 5000 ? x->cfg->webhook_timeout_ms : 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, x->cfg->webhook_timeout_ms);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "aftersale-webhooks/" AFTERSALE_VERSION);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(x->d.body));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->d.body);
    cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    x->status_code = (int)code;
    if (t.refused)
        snprintf(x->errbuf, sizeof(x->errbuf),
                 "refused: the connection to %.200s would go to a private, loopback or "
                 "link-local address (WEBHOOK_ALLOW_PRIVATE does not allow it)",
                 t.host);
    else if (code >= 200 && code < 300)
        x->error = NULL; /* the answer's body may be cut: the status is what counts */
    else if (cc != CURLE_OK && code == 0)
        snprintf(x->errbuf, sizeof(x->errbuf), "%s: %s", curl_easy_strerror(cc),
                 cerr[0] ? cerr : "no answer");
    else if (code >= 300 && code < 400)
        snprintf(x->errbuf, sizeof(x->errbuf),
                 "the endpoint answered %ld, a redirect; redirects are not followed", code);
    else
        snprintf(x->errbuf, sizeof(x->errbuf), "the endpoint answered %ld", code);
out:
    x->duration_ms = elapsed_ms(&t0);
    curl_slist_free_all(headers);
    curl_slist_free_all(resolve);
    curl_easy_cleanup(h);
    free(sig);
    free(sig_old);
}

void
hooks_job_deliver(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    struct deliver_ctx x = {.cfg = env->cfg, .shop_id = job->shop_id};
    struct hooks_allow allow;
    struct err e = {0};
    uint64_t rnd;
    long delay, remaining;

    x.delivery_id = json_integer_value(json_object_get(job->payload, "delivery_id"));
    if (hooks_allow_parse(env->cfg->webhook_allow_private, &allow, &e) < 0) {
        out->status = JOB_FAIL;
        out->err = e;
        return;
    }
    if (db_tx(load_fn, &x, &e) < 0) {
        out->status = JOB_RETRY;
        out->err = e;
        goto out;
    }
    if (!x.d.found) {
        out->status = JOB_DONE;
        out->result = json_pack("{s:s}", "skipped", "the delivery or its endpoint is gone");
        goto out;
    }
    if (!x.d.enabled) {
        out->status = db_tx(cancel_fn, &x, &e) < 0 ? JOB_RETRY : JOB_DONE;
        out->err = e;
        out->result = json_pack("{s:s}", "skipped", "the endpoint is disabled");
        goto out;
    }
    post(&x, &allow);
    crypto_random_u64(&rnd);
    delay = jobs_backoff_ms(x.d.attempts + 1, env->cfg->webhook_retry_base_ms, RETRY_CAP_MS, rnd);
    /* The retry window is the message's age. The last attempt is made
     * when the window closes (not a backoff step before it), so a
     * delivery that fails to the end has failed for the whole window. */
    remaining = env->cfg->webhook_disable_after_s * 1000L - x.d.age_ms;
    x.final = x.error != NULL && remaining <= 0;
    if (delay > remaining)
        delay = remaining;
    if (delay < 10)
        delay = 10;
    if (db_tx(record_fn, &x, &e) < 0) {
        out->status = JOB_RETRY;
        out->err = e;
        goto out;
    }
    if (x.error == NULL) {
        out->status = JOB_DONE;
        out->result = json_pack("{s:i, s:i, s:I}", "status_code", x.status_code, "attempt",
                                x.d.attempts + 1, "duration_ms", (json_int_t)x.duration_ms);
    } else if (x.final || x.disabled) {
        out->status = JOB_FAIL;
        err_set(&out->err, ERR_UNAVAILABLE, NULL, "%s%s", x.disabled ? "endpoint disabled: " : "",
                x.error);
    } else {
        out->status = JOB_RESCHEDULE;
        out->delay_ms = delay;
        out->result = json_pack("{s:s, s:i}", "last_error", x.error, "attempt", x.d.attempts + 1);
    }
out:
    hooks_delivery_clear(&x.d);
}

/* ---- hooks.alert ------------------------------------------------------- */

struct alert_ctx {
    int64_t shop_id, endpoint_id;
    struct outreach_settings os;
    char shop_name[256], url[2100], reason[200];
    bool found;
};

static int
alert_load_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct alert_ctx *x = ctx;
    char shop[24], ep[24];
    const char *params[2] = {shop, ep};
    PGresult *res;

    DB_I64(shop, x->shop_id);
    DB_I64(ep, x->endpoint_id);
    if (outreach_settings_load(c, x->shop_id, &x->os, e) < 0)
        return -1;
    res = db_exec(c, "hooks_alert_load",
                  "SELECT s.name, w.url, coalesce(w.disabled_reason, '') FROM shops s"
                  " JOIN webhook_endpoints w ON w.shop_id = s.id WHERE s.id = $1 AND w.id = $2",
                  2, params, e);
    if (res == NULL)
        return -1;
    x->found = PQntuples(res) == 1;
    if (x->found) {
        snprintf(x->shop_name, sizeof(x->shop_name), "%s", PQgetvalue(res, 0, 0));
        snprintf(x->url, sizeof(x->url), "%s", PQgetvalue(res, 0, 1));
        snprintf(x->reason, sizeof(x->reason), "%s", PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return 0;
}

void
hooks_job_alert(struct job_env *env, const struct job *job, struct job_outcome *out)
{
    struct alert_ctx x = {.shop_id = job->shop_id};
    struct err e = {0};
    char msgid[96], *subject = NULL, *text = NULL;
    enum mail_result r;

    x.endpoint_id = json_integer_value(json_object_get(job->payload, "endpoint_id"));
    if (db_run(alert_load_fn, &x, &e) < 0) {
        out->status = JOB_RETRY;
        out->err = e;
        return;
    }
    if (!x.found || x.os.alert_email[0] == '\0') {
        out->status = JOB_DONE;
        out->result = json_pack("{s:b, s:s}", "sent", 0, "reason",
                                x.found ? "the messaging settings have no alert_email"
                                        : "the endpoint is gone");
        return;
    }
    subject = xasprintf("Webhook endpoint disabled: %.100s", x.url);
    text = xasprintf("aftersale disabled the webhook endpoint %" PRId64 " of %s:\n\n  %s\n\n"
                     "Its deliveries have been failing (%s) for longer than %ld seconds.\n"
                     "See GET /v1/webhook-endpoints/%" PRId64 "/deliveries for the errors; fix the "
                     "receiver, then enable the endpoint again with PATCH {\"enabled\": true} and "
                     "replay the deliveries it missed.\n",
                     x.endpoint_id, x.shop_name, x.url, x.reason, env->cfg->webhook_disable_after_s,
                     x.endpoint_id);
    snprintf(msgid, sizeof(msgid), "<hooks-disabled-%" PRId64 "-%" PRId64 "@aftersale>", x.shop_id,
             job->id);
    {
        /* Transactional: no unsubscribe link, never capped. */
        struct outreach_email m = {.shop_name = x.shop_name,
                                   .to_addr = x.os.alert_email,
                                   .subject = subject,
                                   .text = text,
                                   .message_id = msgid};
        r = outreach_send_email(env->cfg, &x.os, &m, &e);
    }
    if (r != MAIL_OK) {
        out->status = r == MAIL_RETRY ? JOB_RETRY : JOB_FAIL;
        out->err = e;
    } else {
        out->status = JOB_DONE;
        out->result = json_pack("{s:b, s:s}", "sent", 1, "to", x.os.alert_email);
    }
    free(subject);
    free(text);
}
