/*
 * server.c - libmicrohttpd daemon, request lifecycle and graceful stop.
 *
 * MHD calls access() several times per request. The first call creates
 * the struct req and does every check that needs no body: route (404/405),
 * credential (401/403), declared size (413) and media type (415); a
 * refusal is queued at once and the body is never read. Later calls append
 * body bytes (or drop them once the cap is passed, answering 413 at the
 * end, so a chunked upload can't grow memory past MAX_BODY_BYTES). The
 * last call parses JSON and runs the handler. completed() logs one line,
 * counts the request in the metrics and frees the request: the only place
 * a struct req dies.
 *
 * Threads: one per client connection (MHD_USE_THREAD_PER_CONNECTION), on
 * a listening socket this file binds without SO_REUSEPORT, so a second
 * instance on the same port fails at start-up. Handlers block on
 * PostgreSQL; a connection whose request waits holds only its own thread.
 * bench/README.md has the figures. Shutdown: quiesce (stop accepting),
 * wait for in-flight requests up to SHUTDOWN_GRACE_S, stop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aftersale/core/jx.h"
#include "aftersale/core/log.h"
#include "aftersale/core/mem.h"
#include "aftersale/core/metrics.h"
#include "aftersale/db/pool.h"
#include "aftersale/http/auth.h"
#include "aftersale/http/req.h"
#include "aftersale/http/routes.h"
#include "aftersale/http/server.h"

static const struct config *cfg;
/* Requests between MHD's first call and completion, and those of them whose
 * body has fully arrived (the handler runs or its reply is being sent).
 * Shutdown waits for the second kind for up to SHUTDOWN_GRACE_S, and for
 * uploads still arriving only briefly: a client that hung up mid-body is
 * not always noticed by MHD until its connection times out. */
static atomic_long in_flight, dispatched;

const struct config *
server_config(void)
{
    return cfg;
}

static bool
is_json_type(const char *ct)
{
    size_t n;

    if (ct == NULL)
        return false;
    while (*ct == ' ')
        ct++;
    n = strcspn(ct, "; \t");
    /* Only application/json: a +json type such as json-patch means other
     * semantics than "this object", so it is refused rather than guessed. */
    return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

/* First call: everything that can be decided from the headers. */
/* The body cap of the request's route: MAX_BODY_BYTES, or for image
 * uploads ROUTER_IMAGE_MAX_BYTES and for forms with files
 * ROUTER_FORM_MAX_BYTES when larger. */
static long
body_cap(const struct req *r)
{
    long own = r->route == NULL                 ? 0
               : r->route->body == BODY_IMAGE ? ROUTER_IMAGE_MAX_BYTES
               : r->route->body == BODY_FORM  ? ROUTER_FORM_MAX_BYTES
                                              : 0;
    return own > cfg->max_body_bytes ? own : cfg->max_body_bytes;
}

static void
begin(struct req *r)
{
    char allow[128];
    struct err e = {0};
    const char *len_hdr, *te_hdr;
    unsigned long long declared = 0;

    switch (router_match(routes, nroutes, r->method, r->path, &r->route_index, &r->params, allow,
                         sizeof(allow))) {
    case ROUTER_NOT_FOUND:
        r->route_index = nroutes;
        reply_problem(r, ERR_NOT_FOUND, NULL, "no route for %.100s", r->path);
        return;
    case ROUTER_METHOD_NOT_ALLOWED:
        r->route_index = nroutes;
        req_add_header(r, "Allow", allow);
        reply_problem(r, ERR_METHOD, NULL, "%s is not allowed here; allowed: %s", r->method, allow);
        return;
    case ROUTER_FOUND:
        break;
    }
    r->route = &routes[r->route_index];
    if (auth_check(r, r->route->auth, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    len_hdr = req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    te_hdr = req_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (len_hdr)
        declared = strtoull(len_hdr, NULL, 10);
    r->has_body = declared > 0 || te_hdr != NULL;
    if (declared > (unsigned long long)body_cap(r)) {
        reply_problem(r, ERR_TOO_LARGE, NULL, "request body of %llu bytes is over the limit of %ld",
                      declared, body_cap(r));
        return;
    }
    /* BODY_RAW routes (webhooks) take any media type: the bytes are signed
     * as they are, and WooCommerce's ping is form-encoded. */
    if ((r->route->body == BODY_JSON || r->route->body == BODY_JSON_ANY ||
         (r->route->body == BODY_JSON_OPTIONAL && r->has_body)) &&
        !is_json_type(req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE))) {
        reply_problem(r, ERR_MEDIA_TYPE, NULL, "send the body as Content-Type: application/json");
        return;
    }
}

/* Last call: the whole body is here. */
static void
dispatch(struct req *r)
{
    struct err e = {0};

    if (r->too_large) {
        reply_problem(r, ERR_TOO_LARGE, NULL, "request body is over the limit of %ld bytes",
                      body_cap(r));
        return;
    }
    if (r->route->body == BODY_JSON || r->route->body == BODY_JSON_ANY ||
        (r->route->body == BODY_JSON_OPTIONAL && r->body.len > 0)) {
        r->json = r->route->body == BODY_JSON_ANY ? jx_parse_any(r->body.data, r->body.len, &e)
                                                  : jx_parse(r->body.data, r->body.len, &e);
        if (r->json == NULL) {
            reply_err(r, &e);
            return;
        }
    }
    r->route->handler(r);
    if (!r->replied) {
        log_msg(LOG_ERROR, "handler for %s %s did not reply", r->route->method,
                r->route->pattern);
        reply_problem(r, ERR_INTERNAL, NULL, "no reply");
    }
}

/* One line per request, as ACCESS_LOG says (docs in README and config.c):
 * "on" logs every request, "errors" only 4xx/5xx answers and aborted
 * requests, "off" none. The level says the class of the answer (info, warn
 * for 4xx, error for 5xx) so a log shipper can filter on it. */
static void
access_log(const struct req *r, double seconds, bool aborted)
{
    enum log_level level = r->status >= 500 ? LOG_ERROR : r->status >= 400 ? LOG_WARN : LOG_INFO;
    json_t *f;

    if (cfg->access_log == ACCESS_LOG_OFF ||
        (cfg->access_log == ACCESS_LOG_ERRORS && r->status < 400 && !aborted))
        return;
    f = json_pack("{s:s, s:s, s:s, s:i, s:f}", "request_id", r->id, "method", r->method, "route",
                  r->route ? r->route->pattern : "unmatched", "status", r->status, "duration_ms",
                  seconds * 1000.0);
    if (f && r->shop_id > 0)
        json_object_set_new(f, "shop_id", json_integer(r->shop_id));
    if (f && aborted)
        json_object_set_new(f, "aborted", json_true());
    log_access_take(level, f);
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *con, const char *url, const char *method,
       const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    struct req *r = *con_cls;

    (void)cls;
    (void)version;
    if (r == NULL) {
        r = req_new(con, method, url);
        *con_cls = r;
        atomic_fetch_add(&in_flight, 1);
        /* One pool connection for the key lookup and the handler (see
         * db_request_begin); a request with a body gives it back while the
         * body is uploaded, so a slow client never holds one. */
        db_request_begin();
        begin(r);
        if (r->replied || r->has_body)
            db_request_end();
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!r->replied && !r->too_large) {
            if (r->body.len + *upload_data_size > (size_t)body_cap(r)) {
                r->too_large = true;
                buf_free(&r->body);
            } else {
                buf_append(&r->body, upload_data, *upload_data_size);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!r->replied) {
        r->dispatched = true;
        atomic_fetch_add(&dispatched, 1);
        db_request_begin();
        dispatch(r);
        db_request_end();
    }
    return MHD_YES;
}

static void
on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
          enum MHD_RequestTerminationCode toe)
{
    struct req *r = *con_cls;
    struct timespec now;
    double seconds;

    (void)cls;
    (void)con;
    db_request_end(); /* a client that went away between the calls */
    if (r == NULL)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    seconds = (double)(now.tv_sec - r->t0.tv_sec) + (double)(now.tv_nsec - r->t0.tv_nsec) / 1e9;
    metrics_request(r->route_index, r->status, seconds);
    access_log(r, seconds, toe != MHD_REQUEST_TERMINATED_COMPLETED_OK);
    if (r->dispatched)
        atomic_fetch_sub(&dispatched, 1);
    req_free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&in_flight, 1);
}

static int
resolve_bind(const char *host, long port, struct sockaddr_storage *ss, socklen_t *len,
             struct err *e)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char portstr[16];
    int rc;

    snprintf(portstr, sizeof(portstr), "%ld", port);
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0 || res == NULL)
        return err_set(e, ERR_INVALID, "BIND", "BIND=%s is not an address: %s", host,
                       gai_strerror(rc));
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/*
 * The listening socket, made here rather than by MHD so that a busy port
 * is an error with its reason. SO_REUSEADDR only (a restart may bind while
 * old connections sit in TIME_WAIT), never SO_REUSEPORT: with it, a second
 * `aftersale serve` on the same port started without error and the kernel
 * split the traffic between two services with different settings.
 */
static int
listen_on(const struct sockaddr_storage *ss, socklen_t len, struct err *e)
{
    int one = 1, fd, saved;

    fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_set(e, ERR_INTERNAL, "PORT", "socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, 1024) < 0) {
        saved = errno;
        close(fd);
        if (saved == EADDRINUSE)
            return err_set(e, ERR_CONFLICT, "PORT",
                           "cannot listen on %s port %ld: the port is already in use (another "
                           "aftersale serve or another program listens on it)",
                           cfg->bind, cfg->port);
        return err_set(e, ERR_INVALID, "BIND", "cannot listen on %s port %ld: %s", cfg->bind,
                       cfg->port, strerror(saved));
    }
    return fd;
}

static int listen_fd = -1;
static bool listen_v6;

int
server_bind(const struct config *config)
{
    struct sockaddr_storage ss = {0};
    socklen_t sslen = 0;
    struct err e = {0};

    cfg = config;
    if (resolve_bind(cfg->bind, cfg->port, &ss, &sslen, &e) < 0 ||
        (listen_fd = listen_on(&ss, sslen, &e)) < 0) {
        log_msg(LOG_ERROR, "%s", e.detail);
        fprintf(stderr, "aftersale serve: %s\n", e.detail);
        return -1;
    }
    listen_v6 = ss.ss_family == AF_INET6;
    return 0;
}

int
server_run(const struct config *config)
{
    struct MHD_Daemon *d;
    sigset_t set;
    int sig = 0, fd;
    /*
     * One thread per connection (MHD's own mode) with one accepting thread.
     * Handlers block on PostgreSQL; when every connection has its own
     * thread, a request waiting on a lock holds up nobody else: /healthz,
     * /metrics and other shops' requests keep answering (the THREADS
     * single-threaded daemons before this served their connections one at
     * a time, so one slow request stalled every connection of its thread).
     * How many requests use the database at once is bounded by the pool
     * (DB_POOL_SIZE). bench/README.md has the measurements behind the
     * choice.
     */
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                         MHD_USE_POLL | MHD_USE_ITC;

    cfg = config;
    if (listen_fd < 0 && server_bind(config) < 0)
        return 1;
    fd = listen_fd;
    listen_fd = -1;
    if (listen_v6)
        flags |= MHD_USE_IPv6;
    d = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_access, NULL,
                         MHD_OPTION_LISTEN_SOCKET, fd,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
                         MHD_OPTION_END);
    if (d == NULL) {
        close(fd);
        log_msg(LOG_ERROR, "cannot start the HTTP server on %s port %ld", cfg->bind, cfg->port);
        fprintf(stderr, "aftersale serve: cannot start the HTTP server on %s port %ld\n",
                cfg->bind, cfg->port);
        return 1;
    }
    log_take(LOG_INFO, "listening",
             json_pack("{s:s, s:i, s:i, s:s}", "bind", cfg->bind, "port", (int)cfg->port,
                       "threads", (int)cfg->threads, "connections", "one thread each"));

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigwait(&set, &sig);
    log_take(LOG_INFO, "stopping",
             json_pack("{s:s, s:I}", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT", "in_flight",
                       (json_int_t)atomic_load(&in_flight)));

    /* Quiesce hands the listening socket back: closing it stops accepting. */
    fd = MHD_quiesce_daemon(d);
    if (fd >= 0)
        close(fd);
    for (long waited = 0; waited < cfg->shutdown_grace_s * 100; waited++) {
        if (atomic_load(&dispatched) == 0 && (atomic_load(&in_flight) == 0 || waited >= 200))
            break;
        usleep(10000);
    }
    MHD_stop_daemon(d);
    log_msg(LOG_INFO, "stopped");
    return 0;
}
