/*
 * log.h - one JSON object per line on stdout.
 *
 * Lines are written with a single write(2) each, so lines from different
 * threads never interleave. Callers never pass secrets:
 * tokens, keys and request bodies stay out of the log by construction (the
 * request logger only sees method, route, status, ids and timing).
 */
#ifndef AFTERSALE_CORE_LOG_H
#define AFTERSALE_CORE_LOG_H

#include <jansson.h>

#include "aftersale/core/config.h"

void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

/* Log `msg` with the fields of `fields` (stolen; may be NULL). */
void log_take(enum log_level level, const char *msg, json_t *fields);
/* The access log line of one request ("msg":"request", fields stolen):
 * written whatever LOG_LEVEL says, because ACCESS_LOG (http/server.c)
 * is the switch for these lines. */
void log_access_take(enum log_level level, json_t *fields);
/* printf-style message, no extra fields. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
