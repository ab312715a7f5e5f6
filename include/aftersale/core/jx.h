/*
 * jx.h - jansson helpers: strict body parsing and declarative field checks.
 *
 * Ownership follows jansson: jx_parse returns a new reference; the checks
 * only borrow. A field table describes what an object may hold; anything
 * else is a 422 naming the key, so a typo never silently does nothing.
 */
#ifndef AFTERSALE_CORE_JX_H
#define AFTERSALE_CORE_JX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "aftersale/core/err.h"

enum jx_type { JX_STRING, JX_INTEGER, JX_BOOLEAN, JX_OBJECT, JX_ARRAY, JX_NUMBER };

struct jx_field {
    const char *name;
    enum jx_type type;
    bool required;
    size_t min_len; /* strings: in characters (code points) */
    size_t max_len; /* strings: 0 = no limit */
};

/* Parse a request body: must be UTF-8 JSON holding one object, no duplicate
 * keys. Returns: new reference, or NULL with e = ERR_MALFORMED. */
json_t *jx_parse(const char *data, size_t len, struct err *e);

/* As jx_parse, but any JSON value (an array of reviews, say). */
json_t *jx_parse_any(const char *data, size_t len, struct err *e);

/* Check `obj` against the table: unknown keys, missing required keys, null
 * values, types and string lengths, each a 422 naming the field. `prefix`
 * (may be NULL) is prepended to field names ("settings."). */
int jx_check(const json_t *obj, const struct jx_field *fields, size_t nfields, const char *prefix,
             struct err *e);

/* Unknown keys of `obj` (not in the NULL-terminated `names`) are a 422
 * naming the key with `prefix` ("bonuses."). For objects whose fields are
 * too varied for jx_check (a number or a string, or null). */
int jx_known_keys(const json_t *obj, const char *const *names, const char *prefix, struct err *e);

/* Settings documents go back as they were read: a client GETs one,
 * changes a field and writes the whole document. The fields the service
 * computes (read-only: "wordpress.application_password_set") are accepted
 * on write and ignored. Returns: new reference, a deep copy of `obj`
 * without the dotted `paths` (NULL-terminated; nested through objects
 * only), so the strict checks that follow still refuse any other unknown
 * field with a 422. Aborts on OOM. */
json_t *jx_without_read_only(const json_t *obj, const char *const *paths);

/* A string that must be one of n `names` (n is 2 or 3); *out gets the index,
 * else a 422 naming `field` and listing the choices. */
int jx_choice(const json_t *v, const char *field, const char *const *names, size_t n, int *out,
              struct err *e);

/* Number of Unicode code points in valid UTF-8 text. */
size_t jx_utf8_len(const char *s);

/* True when UTF-8 text is one line without control characters: no C0
 * control (CR, LF, NUL, TAB...), DEL, C1 control (NEL...), U+2028 or
 * U+2029. What every text that may end up in an email header (a shop's
 * name, a sender name, a subject) must be when it is written. */
bool jx_one_line(const char *s);

/* Borrowed string value of obj[key], or NULL when absent or not a string. */
const char *jx_str(const json_t *obj, const char *key);

/* As jx_str, but "" when absent or not a string (for payloads whose
 * fields were validated when they were written). */
const char *jx_str_or_empty(const json_t *obj, const char *key);

/* Integer value of obj[key], or 0 when absent or not an integer. */
json_int_t jx_int(const json_t *obj, const char *key);

/* Serialise compactly. Returns: new string, caller frees; aborts on OOM. */
char *jx_dump(const json_t *v);

#endif
