/*
 * cursor.c - opaque page cursors, the `limit` parameter and id parsing.
 *
 * All list routes page by id (keyset pagination: stable under inserts, no
 * OFFSET scans). The cursor hides the id behind base64url("v1:<id>") so the
 * format can change later. Pure; thread-safe.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/crypto.h"
#include "aftersale/core/cursor.h"
#include "aftersale/core/mem.h"

int
cursor_parse_id(const char *s, int64_t *out)
{
    int64_t v = 0;

    if (s == NULL || *s == '\0' || strlen(s) > 19)
        return -1;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (v > (INT64_MAX - (*p - '0')) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (v <= 0)
        return -1;
    *out = v;
    return 0;
}

char *
cursor_encode(int64_t last_id)
{
    char raw[32];
    int n = snprintf(raw, sizeof(raw), "v1:%" PRId64, last_id);
    return crypto_base64url((const uint8_t *)raw, (size_t)n);
}

int
cursor_decode(const char *s, int64_t *last_id, struct err *e)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    char text[32];
    int rc = -1;

    if (s == NULL || *s == '\0') {
        *last_id = 0;
        return 0;
    }
    if (strlen(s) > 40 || crypto_unbase64url(s, &raw, &len) < 0 || len < 4 || len >= sizeof(text))
        goto bad;
    memcpy(text, raw, len);
    text[len] = '\0';
    if (strncmp(text, "v1:", 3) != 0 || cursor_parse_id(text + 3, last_id) < 0)
        goto bad;
    rc = 0;
    goto out;
bad:
    err_set(e, ERR_MALFORMED, "cursor", "cursor is not one this service issued");
out:
    free(raw);
    return rc;
}

int
cursor_limit(const char *s, int *limit, struct err *e)
{
    int64_t v;

    if (s == NULL) {
        *limit = CURSOR_LIMIT_DEFAULT;
        return 0;
    }
    if (cursor_parse_id(s, &v) < 0 || v > CURSOR_LIMIT_MAX)
        return err_set(e, ERR_MALFORMED, "limit", "limit must be an integer from 1 to %d",
                       CURSOR_LIMIT_MAX);
    *limit = (int)v;
    return 0;
}
