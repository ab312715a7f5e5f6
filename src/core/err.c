/*
 * err.c - the one table from error kind to HTTP status and problem type.
 *
 * Every error that reaches a client passes through here, so a given kind
 * always has the same status, `type` URI and title. The type URIs are
 * relative references ("/problems/invalid-field"), documented in
 * docs/api.md and openapi.yaml. A 500 means a bug in aftersale; bad input
 * must always map to a 4xx kind before it gets here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "aftersale/core/err.h"

static const struct {
    int status;
    const char *type;
    const char *title;
} kinds[ERR_KIND_COUNT] = {
    [ERR_NONE] = {200, "about:blank", "OK"},
    [ERR_MALFORMED] = {400, "/problems/malformed", "Malformed request"},
    [ERR_UNAUTHORIZED] = {401, "/problems/unauthorized", "Unauthorized"},
    [ERR_FORBIDDEN] = {403, "/problems/forbidden", "Forbidden"},
    [ERR_ADMIN_DISABLED] = {403, "/problems/admin-disabled", "Admin API disabled"},
    [ERR_NOT_FOUND] = {404, "/problems/not-found", "Not found"},
    [ERR_METHOD] = {405, "/problems/method-not-allowed", "Method not allowed"},
    [ERR_CONFLICT] = {409, "/problems/conflict", "Conflict"},
    [ERR_TOO_LARGE] = {413, "/problems/too-large", "Request body too large"},
    [ERR_MEDIA_TYPE] = {415, "/problems/unsupported-media-type", "Unsupported media type"},
    [ERR_INVALID] = {422, "/problems/invalid-field", "Invalid field"},
    [ERR_RATE_LIMITED] = {429, "/problems/rate-limited", "Too many requests"},
    [ERR_INTERNAL] = {500, "/problems/internal", "Internal error"},
    [ERR_UNAVAILABLE] = {503, "/problems/unavailable", "Service unavailable"},
};

int
err_set(struct err *e, enum err_kind kind, const char *field, const char *fmt, ...)
{
    va_list ap;

    if (e == NULL)
        return -1;
    e->kind = kind;
    snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
    va_end(ap);
    return -1;
}

void
err_clear(struct err *e)
{
    memset(e, 0, sizeof(*e));
}

static enum err_kind
checked(enum err_kind kind)
{
    return (kind > ERR_NONE && kind < ERR_KIND_COUNT) ? kind : ERR_INTERNAL;
}

int
err_status(enum err_kind kind)
{
    return kinds[checked(kind)].status;
}

const char *
err_type(enum err_kind kind)
{
    return kinds[checked(kind)].type;
}

const char *
err_title(enum err_kind kind)
{
    return kinds[checked(kind)].title;
}
