/*
 * cursor.h - opaque list cursors and the limit parameter.
 *
 * A cursor names the last id of the previous page. It is opaque to
 * clients (base64url of "v1:<id>") so that we can change what it holds
 * without breaking them. Pure functions; thread-safe.
 */
#ifndef AFTERSALE_CORE_CURSOR_H
#define AFTERSALE_CORE_CURSOR_H

#include <stdint.h>

#include "aftersale/core/err.h"

#define CURSOR_LIMIT_DEFAULT 20
#define CURSOR_LIMIT_MAX 100

/* Returns: new string, caller frees. */
char *cursor_encode(int64_t last_id);
/* NULL or "" decodes to 0 (first page). -1 with ERR_MALFORMED, field "cursor". */
int cursor_decode(const char *s, int64_t *last_id, struct err *e);
/* NULL -> default; else 1..100. -1 with ERR_MALFORMED, field "limit". */
int cursor_limit(const char *s, int *limit, struct err *e);
/* Parse a positive decimal int64 id (no sign, no spaces, no leading junk). */
int cursor_parse_id(const char *s, int64_t *out);

#endif
