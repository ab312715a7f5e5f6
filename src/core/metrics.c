/*
 * metrics.c - Prometheus text exposition from lock-free counters.
 *
 * Counters are C11 atomics in arrays sized once at start-up from the route
 * table, so recording a request is a handful of relaxed atomic adds and
 * never allocates or locks. Labels are the route patterns, never raw
 * paths, so the series count is bounded by the route table. The pool
 * figures are pulled from db/pool.c through a callback when /metrics is
 * scraped.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "aftersale/core/mem.h"
#include "aftersale/core/metrics.h"
#include "aftersale/version.h"

static const int statuses[] = {200, 201, 204, 400, 401, 403, 404, 405,
                               409, 413, 415, 422, 429, 500, 503};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1) /* + "other" */
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

static const char *const *labels;
static const char *const *methods;
static size_t nlabels; /* routes + 1 ("unmatched") */
static _Atomic uint64_t *counts;   /* [nlabels][NSTATUS] */
static _Atomic uint64_t *hist;     /* [nlabels][NBUCKETS] non-cumulative */
static _Atomic uint64_t *sum_us;   /* [nlabels] */
static _Atomic uint64_t *observed; /* [nlabels] */
static metrics_pool_fn pool_source;

void
metrics_init(const char *const *route_labels, const char *const *route_methods, size_t nroutes)
{
    labels = route_labels;
    methods = route_methods;
    nlabels = nroutes + 1;
    counts = xcalloc(nlabels * NSTATUS, sizeof(*counts));
    hist = xcalloc(nlabels * NBUCKETS, sizeof(*hist));
    sum_us = xcalloc(nlabels, sizeof(*sum_us));
    observed = xcalloc(nlabels, sizeof(*observed));
}

void
metrics_set_pool_source(metrics_pool_fn fn)
{
    pool_source = fn;
}

void
metrics_request(size_t route_index, int status, double seconds)
{
    size_t s = NSTATUS - 1, b;

    if (counts == NULL)
        return;
    if (route_index >= nlabels)
        route_index = nlabels - 1;
    for (size_t i = 0; i < NSTATUS - 1; i++)
        if (statuses[i] == status) {
            s = i;
            break;
        }
    atomic_fetch_add_explicit(&counts[route_index * NSTATUS + s], 1, memory_order_relaxed);
    for (b = 0; b < NBUCKETS; b++)
        if (seconds <= buckets[b])
            break;
    if (b < NBUCKETS)
        atomic_fetch_add_explicit(&hist[route_index * NBUCKETS + b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&observed[route_index], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&sum_us[route_index], (uint64_t)(seconds * 1e6),
                              memory_order_relaxed);
}

static const char *
label(size_t i)
{
    return i + 1 < nlabels ? labels[i] : "unmatched";
}

static const char *
method(size_t i)
{
    return i + 1 < nlabels ? methods[i] : "";
}

void
metrics_render(struct buf *out)
{
    buf_puts(out, "# HELP aftersale_http_requests_total HTTP requests answered, by route and status.\n"
                  "# TYPE aftersale_http_requests_total counter\n");
    for (size_t i = 0; i < nlabels; i++)
        for (size_t s = 0; s < NSTATUS; s++) {
            uint64_t v = atomic_load_explicit(&counts[i * NSTATUS + s], memory_order_relaxed);
            if (v == 0)
                continue;
            if (s < NSTATUS - 1)
                buf_printf(out,
                           "aftersale_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} "
                           "%llu\n",
                           label(i), method(i), statuses[s], (unsigned long long)v);
            else
                buf_printf(out,
                           "aftersale_http_requests_total{route=\"%s\",method=\"%s\",status=\"other\"} "
                           "%llu\n",
                           label(i), method(i), (unsigned long long)v);
        }
    buf_puts(out, "# HELP aftersale_http_request_duration_seconds Time from first byte to reply.\n"
                  "# TYPE aftersale_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < nlabels; i++) {
        uint64_t n = atomic_load_explicit(&observed[i], memory_order_relaxed), cum = 0;
        if (n == 0)
            continue;
        for (size_t b = 0; b < NBUCKETS; b++) {
            cum += atomic_load_explicit(&hist[i * NBUCKETS + b], memory_order_relaxed);
            buf_printf(out,
                       "aftersale_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                       "le=\"%g\"} %llu\n",
                       label(i), method(i), buckets[b], (unsigned long long)cum);
        }
        buf_printf(out,
                   "aftersale_http_request_duration_seconds_bucket{route=\"%s\",method=\"%s\","
                   "le=\"+Inf\"} %llu\n",
                   label(i), method(i), (unsigned long long)n);
        buf_printf(out,
                   "aftersale_http_request_duration_seconds_sum{route=\"%s\",method=\"%s\"} %.6f\n",
                   label(i), method(i),
                   (double)atomic_load_explicit(&sum_us[i], memory_order_relaxed) / 1e6);
        buf_printf(out,
                   "aftersale_http_request_duration_seconds_count{route=\"%s\",method=\"%s\"} "
                   "%llu\n",
                   label(i), method(i), (unsigned long long)n);
    }
    if (pool_source) {
        struct metrics_pool p = {0};
        pool_source(&p);
        buf_printf(out,
                   "# HELP aftersale_db_pool_connections Database connections by state.\n"
                   "# TYPE aftersale_db_pool_connections gauge\n"
                   "aftersale_db_pool_connections{state=\"in_use\"} %ld\n"
                   "aftersale_db_pool_connections{state=\"idle\"} %ld\n"
                   "# HELP aftersale_db_pool_size Configured pool size (DB_POOL_SIZE).\n"
                   "# TYPE aftersale_db_pool_size gauge\n"
                   "aftersale_db_pool_size %ld\n"
                   "# HELP aftersale_db_pool_waits_total Acquisitions that had to wait.\n"
                   "# TYPE aftersale_db_pool_waits_total counter\n"
                   "aftersale_db_pool_waits_total %ld\n"
                   "# HELP aftersale_db_pool_timeouts_total Acquisitions that gave up (503).\n"
                   "# TYPE aftersale_db_pool_timeouts_total counter\n"
                   "aftersale_db_pool_timeouts_total %ld\n"
                   "# HELP aftersale_db_reconnects_total Connections (re)opened.\n"
                   "# TYPE aftersale_db_reconnects_total counter\n"
                   "aftersale_db_reconnects_total %ld\n",
                   p.in_use, p.idle, p.size, p.waits, p.timeouts, p.reconnects);
    }
    buf_printf(out,
               "# HELP aftersale_build_info Build of the running binary.\n"
               "# TYPE aftersale_build_info gauge\n"
               "aftersale_build_info{version=\"%s\",commit=\"%s\"} 1\n",
               AFTERSALE_VERSION, AFTERSALE_COMMIT);
}
