/*
 * form.c - HTML form bodies (see form.h): urlencoded and multipart.
 *
 * multipart/form-data (RFC 7578) is read as the browsers send it: the
 * body is "--B" CRLF, then per part its headers, a blank line, the bytes,
 * and CRLF "--B"; the last delimiter is followed by "--". Only the
 * Content-Disposition header matters here (name, filename); a part's
 * Content-Type is ignored on purpose: whoever takes a file checks its type
 * from its bytes. A preamble before the first delimiter and an epilogue
 * after the last are skipped, as the RFC says. The parser never reads past
 * `len` and needs no NUL at the end of the body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aftersale/core/mem.h"
#include "aftersale/http/form.h"

static int
hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decoding with '+' as a space: a new string of at most len bytes. */
static char *
url_decode(const char *s, size_t len, size_t *outlen)
{
    char *out = xmalloc(len + 1), *o = out;

    for (size_t j = 0; j < len; j++) {
        if (s[j] == '+') {
            *o++ = ' ';
        } else if (s[j] == '%' && j + 2 < len && hexval(s[j + 1]) >= 0 &&
                   hexval(s[j + 2]) >= 0) {
            *o++ = (char)(hexval(s[j + 1]) * 16 + hexval(s[j + 2]));
            j += 2;
        } else {
            *o++ = s[j];
        }
    }
    *o = '\0';
    *outlen = (size_t)(o - out);
    return out;
}

static struct form_field *
add_field(struct form *f, struct err *e)
{
    if (f->n == FORM_MAX_FIELDS) {
        err_set(e, ERR_TOO_LARGE, NULL, "a form has at most %d fields", FORM_MAX_FIELDS);
        return NULL;
    }
    if (f->fields == NULL)
        f->fields = xcalloc(FORM_MAX_FIELDS, sizeof(*f->fields));
    memset(&f->fields[f->n], 0, sizeof(f->fields[f->n]));
    return &f->fields[f->n++];
}

static int
text_value(struct form_field *fl, char *value, size_t len)
{
    fl->value = value;
    fl->data = value;
    fl->len = len;
    return 0;
}

static int
parse_urlencoded(const char *body, size_t len, struct form *f, struct err *e)
{
    size_t i = 0;

    while (i < len) {
        size_t end = i, eq, nlen, vlen = 0;
        char *name;
        struct form_field *fl;

        while (end < len && body[end] != '&')
            end++;
        for (eq = i; eq < end && body[eq] != '='; eq++)
            ;
        if (eq > i) {
            name = url_decode(body + i, eq - i, &nlen);
            if (nlen >= FORM_MAX_NAME) {
                free(name);
                return err_set(e, ERR_MALFORMED, NULL, "a form field name is over %d bytes",
                               FORM_MAX_NAME - 1);
            }
            if ((fl = add_field(f, e)) == NULL) {
                free(name);
                return -1;
            }
            memcpy(fl->name, name, nlen + 1);
            free(name);
            text_value(fl, eq < end ? url_decode(body + eq + 1, end - eq - 1, &vlen)
                                    : xstrdup(""),
                       eq < end ? vlen : 0);
        }
        i = end + 1;
    }
    return 0;
}

/* The boundary parameter of a multipart Content-Type, unquoted, into out
 * (at most 70 characters, RFC 2046). */
static int
boundary_of(const char *ct, char out[72])
{
    const char *p = strcasestr(ct, "boundary=");
    size_t n = 0;

    if (p == NULL)
        return -1;
    p += 9;
    if (*p == '"') {
        p++;
        while (p[n] && p[n] != '"')
            n++;
    } else {
        while (p[n] && p[n] != ';' && p[n] != ' ' && p[n] != '\t')
            n++;
    }
    if (n == 0 || n > 70)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* A Content-Disposition parameter (`name`, `filename`) of one header line
 * [h, end): its value, unquoted, into out; -1 when absent or too long. The
 * parameter must start after a ';' outside quotes, so that "filename"
 * never answers for "name" and a file called `a; name=b.jpg` does not
 * rename its field. */
static int
disposition_param(const char *h, const char *end, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);
    bool quoted = false;

    for (const char *p = h; p < end; p++) {
        const char *v;
        size_t n = 0;
        if (*p == '"')
            quoted = !quoted;
        if (*p != ';' || quoted)
            continue;
        p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if ((size_t)(end - p) <= klen || strncasecmp(p, key, klen) != 0 || p[klen] != '=')
            continue;
        v = p + klen + 1;
        if (v < end && *v == '"') {
            v++;
            while (v + n < end && v[n] != '"')
                n++;
        } else {
            while (v + n < end && v[n] != ';')
                n++;
        }
        if (n >= outlen)
            return -1;
        memcpy(out, v, n);
        out[n] = '\0';
        return 0;
    }
    return -1;
}

/* One part's headers [h, end): fill the field's name and filename. */
static int
part_headers(const char *h, const char *end, struct form_field *fl, struct err *e)
{
    bool named = false;

    while (h < end) {
        const char *eol = memmem(h, (size_t)(end - h), "\r\n", 2);
        if (eol == NULL)
            eol = end;
        if ((size_t)(eol - h) > 20 && strncasecmp(h, "Content-Disposition:", 20) == 0) {
            char filename[1024];
            if (disposition_param(h, eol, "name", fl->name, sizeof(fl->name)) < 0)
                return err_set(e, ERR_MALFORMED, NULL,
                               "a form part has no name or a name over %d bytes",
                               FORM_MAX_NAME - 1);
            named = true;
            if (disposition_param(h, eol, "filename", filename, sizeof(filename)) == 0) {
                fl->is_file = true;
                /* kept only to name the file in a message: cut to fit */
                size_t n = strlen(filename);
                if (n >= sizeof(fl->filename))
                    n = sizeof(fl->filename) - 1;
                memcpy(fl->filename, filename, n);
                fl->filename[n] = '\0';
            }
        }
        h = eol + 2;
    }
    return named ? 0 : err_set(e, ERR_MALFORMED, NULL, "a form part has no Content-Disposition");
}

static int
parse_multipart(const char *ct, const char *body, size_t len, struct form *f, struct err *e)
{
    char boundary[72], delim[76];
    size_t dlen;
    const char *p, *end = body + len;

    if (boundary_of(ct, boundary) < 0)
        return err_set(e, ERR_MALFORMED, NULL, "multipart/form-data without a usable boundary");
    dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
    /* the first delimiter may open the body (no CRLF before it) */
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
        p = body + dlen - 2;
    else if ((p = memmem(body, len, delim, dlen)) != NULL)
        p += dlen;
    else
        return err_set(e, ERR_MALFORMED, NULL, "multipart body without its boundary");
    for (;;) {
        const char *hend, *next;
        struct form_field *fl;

        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            return 0; /* the closing delimiter */
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return err_set(e, ERR_MALFORMED, NULL, "multipart body cut short");
        p += 2;
        hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (hend == NULL)
            return err_set(e, ERR_MALFORMED, NULL, "multipart part without the end of its headers");
        if ((fl = add_field(f, e)) == NULL || part_headers(p, hend + 2, fl, e) < 0)
            return -1;
        p = hend + 4;
        next = memmem(p, (size_t)(end - p), delim, dlen);
        if (next == NULL)
            return err_set(e, ERR_MALFORMED, NULL, "multipart body without its closing boundary");
        if (fl->is_file) {
            fl->data = p;
            fl->len = (size_t)(next - p);
        } else {
            char *v = xmalloc((size_t)(next - p) + 1);
            memcpy(v, p, (size_t)(next - p));
            v[next - p] = '\0';
            text_value(fl, v, (size_t)(next - p));
        }
        p = next + dlen;
    }
}

int
form_parse(const char *content_type, const char *body, size_t len, struct form *f,
           struct err *e)
{
    int rc;

    f->fields = NULL;
    f->n = 0;
    if (body == NULL)
        body = "";
    if (content_type && strncasecmp(content_type, "multipart/form-data", 19) == 0)
        rc = parse_multipart(content_type, body, len, f, e);
    else
        rc = parse_urlencoded(body, len, f, e);
    if (rc < 0)
        form_free(f);
    return rc;
}

const char *
form_value(const struct form *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (!f->fields[i].is_file && strcmp(f->fields[i].name, name) == 0)
            return f->fields[i].value;
    return NULL;
}

void
form_free(struct form *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->fields[i].value);
    free(f->fields);
    f->fields = NULL;
    f->n = 0;
}
