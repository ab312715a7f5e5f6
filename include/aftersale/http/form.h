/*
 * form.h - HTML form bodies: application/x-www-form-urlencoded and
 * multipart/form-data (file uploads), parsed in one pass into a list of
 * fields. Pure: no I/O, no allocation beyond the list and the decoded
 * text values, so tests/unit reaches it.
 *
 * Bounds: at most FORM_MAX_FIELDS fields (more is 413-worthy: refused),
 * names of at most FORM_MAX_NAME - 1 bytes (a longer name is refused),
 * file names cut to FORM_MAX_FILENAME - 1 bytes. The body's own size is
 * capped by the route (BODY_FORM) before it gets here.
 *
 * Ownership: a parsed form borrows the body for its files' bytes (`data`
 * of a file points into it): keep the body alive while the form is used.
 * Text values are new strings owned by the form; form_free releases them.
 */
#ifndef AFTERSALE_HTTP_FORM_H
#define AFTERSALE_HTTP_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "aftersale/core/err.h"

#define FORM_MAX_FIELDS 512
#define FORM_MAX_NAME 64
#define FORM_MAX_FILENAME 128

struct form_field {
    char name[FORM_MAX_NAME];
    bool is_file;                     /* a multipart part with a filename */
    char filename[FORM_MAX_FILENAME]; /* "" for text fields */
    const char *data;                 /* the bytes: borrowed from the body for files,
                                         == value for text */
    size_t len;
    char *value; /* text fields: a NUL-terminated copy (owned); files: NULL */
};

struct form {
    struct form_field *fields; /* owned */
    size_t n;
};

/* Parse `body` (len bytes) sent with `content_type` (NULL or anything not
 * multipart: urlencoded). -1 with e: ERR_MALFORMED for a broken multipart
 * body (no boundary, no closing delimiter, a part without a name),
 * ERR_TOO_LARGE past FORM_MAX_FIELDS. On failure *f is empty. */
int form_parse(const char *content_type, const char *body, size_t len, struct form *f,
               struct err *e);

/* The first text field called `name`, or NULL. Borrowed from f. */
const char *form_value(const struct form *f, const char *name);

void form_free(struct form *f);

#endif
