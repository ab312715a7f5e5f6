/*
 * log.c - JSON lines on stdout.
 *
 * Each line is {"ts":..., "level":..., "msg":..., ...fields}. The line is
 * built first and written with one fwrite, and stdio locks the stream for
 * that call, so concurrent threads never interleave within a line. Callers
 * decide what goes in `fields`; the rule (no secrets, no bodies) is theirs
 * to keep, and the request logger in http/server.c only passes ids, route,
 * status and timing.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aftersale/core/log.h"

static _Atomic int min_level = LOG_INFO;
static const char *const names[] = {"debug", "info", "warn", "error"};

void
log_set_level(enum log_level level)
{
    atomic_store(&min_level, (int)level);
}

int
log_enabled(enum log_level level)
{
    return (int)level >= atomic_load(&min_level);
}

static void
write_line(enum log_level level, const char *msg, json_t *fields)
{
    struct timespec ts;
    struct tm tm;
    char stamp[64];
    char *line;
    json_t *obj;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    obj = json_object();
    if (obj == NULL)
        abort();
    json_object_set_new(obj, "ts", json_string(stamp));
    json_object_set_new(obj, "level", json_string(names[level]));
    json_object_set_new(obj, "msg", json_string(msg));
    if (fields)
        json_object_update(obj, fields);
    json_decref(fields);
    line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(obj);
    if (line == NULL)
        return;
    size_t n = strlen(line);
    line[n] = '\n'; /* replace the NUL: one write(2) writes the whole line */
    /* One write(2) per line, not stdio: no lock shared by every request
     * thread and no separate flush (bench/README.md measured the stdio
     * path at 6-15 us a request and most of the service's futex calls).
     * A line is one write, so lines never interleave. */
    for (size_t off = 0; off < n + 1;) {
        ssize_t w = write(STDOUT_FILENO, line + off, n + 1 - off);
        if (w <= 0)
            break; /* a log that cannot be written must not stop the service */
        off += (size_t)w;
    }
    free(line);
}

void
log_take(enum log_level level, const char *msg, json_t *fields)
{
    if (!log_enabled(level)) {
        json_decref(fields);
        return;
    }
    write_line(level, msg, fields);
}

void
log_access_take(enum log_level level, json_t *fields)
{
    /* ACCESS_LOG, not LOG_LEVEL, decides whether the caller logs this. */
    write_line(level, "request", fields);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_take(level, msg, NULL);
}
