/*
 * metrics.h - Prometheus counters kept in atomics.
 *
 * Request counts by route, method and status class, a latency histogram
 * per route, and database pool figures. Updated from any thread without
 * locks; rendered as Prometheus text by metrics_render().
 */
#ifndef AFTERSALE_CORE_METRICS_H
#define AFTERSALE_CORE_METRICS_H

#include <stddef.h>

#include "aftersale/core/buf.h"

/* Route labels: index i names routes[i]; nroutes + 0 is "unmatched". Call once before serving. */
void metrics_init(const char *const *route_labels, const char *const *route_methods,
                  size_t nroutes);
void metrics_request(size_t route_index, int status, double seconds);

/* Pool figures are read through a callback so the pool stays the owner. */
struct metrics_pool {
    long in_use, idle, size, waits, timeouts, reconnects;
};
typedef void (*metrics_pool_fn)(struct metrics_pool *out);
void metrics_set_pool_source(metrics_pool_fn fn);

void metrics_render(struct buf *out);

#endif
