/*
 * err.h - the one error value every layer fills in.
 *
 * Lower layers return 0/-1 (or NULL) and describe what went wrong in a
 * caller-owned `struct err` on the stack, the way jansson fills
 * json_error_t. Handlers turn it into an RFC 9457 problem body with
 * reply_err(); the kind -> status/type/title mapping lives in exactly one
 * table in err.c.
 */
#ifndef AFTERSALE_CORE_ERR_H
#define AFTERSALE_CORE_ERR_H

enum err_kind {
    ERR_NONE = 0,
    ERR_MALFORMED,      /* 400 */
    ERR_UNAUTHORIZED,   /* 401 */
    ERR_FORBIDDEN,      /* 403 */
    ERR_ADMIN_DISABLED, /* 403 */
    ERR_NOT_FOUND,      /* 404 */
    ERR_METHOD,         /* 405 */
    ERR_CONFLICT,       /* 409 */
    ERR_TOO_LARGE,      /* 413 */
    ERR_MEDIA_TYPE,     /* 415 */
    ERR_INVALID,        /* 422 */
    ERR_RATE_LIMITED,   /* 429 */
    ERR_INTERNAL,       /* 500: a bug, never bad input */
    ERR_UNAVAILABLE,    /* 503: database away, pool exhausted */
    ERR_KIND_COUNT
};

struct err {
    enum err_kind kind;
    char detail[200];
    char field[64];
    char sqlstate[6];
};

/* Fill `e` (may be NULL: then nothing happens). `field` may be NULL.
 * printf-style detail. Always returns -1 so callers can `return err_set(...)`. */
int err_set(struct err *e, enum err_kind kind, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Clear to ERR_NONE. */
void err_clear(struct err *e);

/* The HTTP status, problem type URI ("/problems/...") and title of a kind. */
int err_status(enum err_kind kind);
const char *err_type(enum err_kind kind);
const char *err_title(enum err_kind kind);

#endif
