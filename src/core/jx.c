/*
 * jx.c - jansson helpers: the body parser and the declarative field check.
 *
 * jx_parse is the only place request bodies become JSON: UTF-8 validated
 * by jansson, duplicate keys rejected (two values for one key would make
 * "which one did we store?" ambiguous), and the root must be an object.
 * jx_check walks a field table so every handler validates the same way and
 * every 422 names its field. Nothing here touches the network or database.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/core/mem.h"

json_t *
jx_parse_any(const char *data, size_t len, struct err *e)
{
    json_error_t jerr;
    json_t *root;

    if (len == 0) {
        err_set(e, ERR_MALFORMED, NULL, "request body is empty; expected JSON");
        return NULL;
    }
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (root == NULL)
        err_set(e, ERR_MALFORMED, NULL, "body is not valid JSON: %s (line %d, column %d)",
                jerr.text, jerr.line, jerr.column);
    return root;
}

json_t *
jx_parse(const char *data, size_t len, struct err *e)
{
    json_error_t jerr;
    json_t *root;

    if (len == 0) {
        err_set(e, ERR_MALFORMED, NULL, "request body is empty; expected a JSON object");
        return NULL;
    }
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        err_set(e, ERR_MALFORMED, NULL, "body is not valid JSON: %s (line %d, column %d)",
                jerr.text, jerr.line, jerr.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        err_set(e, ERR_MALFORMED, NULL, "body must be a JSON object");
        return NULL;
    }
    return root;
}

size_t
jx_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

bool
jx_one_line(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    for (; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return false;
        /* C1 controls U+0080..U+009F are C2 80..C2 9F in UTF-8 (NEL, U+0085,
         * is a line break to some readers); U+2028 and U+2029 (E2 80 A8/A9)
         * are line and paragraph separators. */
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return false;
        if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
            return false;
    }
    return true;
}

static const char *
type_name(enum jx_type t)
{
    switch (t) {
    case JX_STRING:
        return "a string";
    case JX_INTEGER:
        return "an integer";
    case JX_BOOLEAN:
        return "a boolean";
    case JX_OBJECT:
        return "an object";
    case JX_ARRAY:
        return "an array";
    case JX_NUMBER:
        return "a number";
    }
    return "?";
}

static bool
type_ok(const json_t *v, enum jx_type t)
{
    switch (t) {
    case JX_STRING:
        return json_is_string(v);
    case JX_INTEGER:
        return json_is_integer(v);
    case JX_BOOLEAN:
        return json_is_boolean(v);
    case JX_OBJECT:
        return json_is_object(v);
    case JX_ARRAY:
        return json_is_array(v);
    case JX_NUMBER:
        return json_is_number(v);
    }
    return false;
}

int
jx_check(const json_t *obj, const struct jx_field *fields, size_t nfields, const char *prefix,
         struct err *e)
{
    const char *key;
    json_t *v;
    char name[64];

    if (prefix == NULL)
        prefix = "";
    /* Unknown keys first: a misspelt optional field is the commonest mistake. */
    json_object_foreach((json_t *)(uintptr_t)obj, key, v) {
        size_t i;
        for (i = 0; i < nfields; i++)
            if (strcmp(fields[i].name, key) == 0)
                break;
        if (i == nfields) {
            snprintf(name, sizeof(name), "%s%s", prefix, key);
            return err_set(e, ERR_INVALID, name, "unknown field '%.60s'", name);
        }
    }
    for (size_t i = 0; i < nfields; i++) {
        const struct jx_field *f = &fields[i];
        snprintf(name, sizeof(name), "%s%s", prefix, f->name);
        v = json_object_get(obj, f->name);
        if (v == NULL) {
            if (f->required)
                return err_set(e, ERR_INVALID, name, "%s is required", name);
            continue;
        }
        if (json_is_null(v))
            return err_set(e, ERR_INVALID, name, "%s must not be null", name);
        if (!type_ok(v, f->type))
            return err_set(e, ERR_INVALID, name, "%s must be %s", name, type_name(f->type));
        if (f->type == JX_STRING) {
            size_t len = jx_utf8_len(json_string_value(v));
            if (len < f->min_len)
                return err_set(e, ERR_INVALID, name, "%s must be at least %zu characters", name,
                               f->min_len);
            if (f->max_len > 0 && len > f->max_len)
                return err_set(e, ERR_INVALID, name, "%s must be at most %zu characters", name,
                               f->max_len);
        }
    }
    return 0;
}

int
jx_known_keys(const json_t *obj, const char *const *names, const char *prefix, struct err *e)
{
    const char *key;
    json_t *v;
    char field[64];

    json_object_foreach((json_t *)(uintptr_t)obj, key, v) {
        size_t i;
        (void)v;
        for (i = 0; names[i] != NULL; i++)
            if (strcmp(names[i], key) == 0)
                break;
        if (names[i] == NULL) {
            snprintf(field, sizeof(field), "%s%s", prefix ? prefix : "", key);
            return err_set(e, ERR_INVALID, field, "unknown field '%.60s'", field);
        }
    }
    return 0;
}

json_t *
jx_without_read_only(const json_t *obj, const char *const *paths)
{
    json_t *copy = json_deep_copy(obj);

    if (copy == NULL) {
        fprintf(stderr, "{\"level\":\"error\",\"msg\":\"json_deep_copy failed\"}\n");
        abort();
    }
    for (size_t i = 0; paths != NULL && paths[i] != NULL; i++) {
        const char *p = paths[i], *dot;
        json_t *at = copy;
        char part[64];

        /* Walk the objects named before the last dot; a part that is not
         * an object here is left to the document's own validation. */
        while (at != NULL && (dot = strchr(p, '.')) != NULL) {
            snprintf(part, sizeof(part), "%.*s", (int)(dot - p), p);
            at = json_object_get(at, part);
            if (!json_is_object(at))
                at = NULL;
            p = dot + 1;
        }
        if (at != NULL)
            json_object_del(at, p);
    }
    return copy;
}

int
jx_choice(const json_t *v, const char *field, const char *const *names, size_t n, int *out,
          struct err *e)
{
    const char *s = json_string_value(v);

    for (size_t i = 0; s != NULL && i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    if (n == 2)
        return err_set(e, ERR_INVALID, field, "%s must be \"%s\" or \"%s\"", field, names[0],
                       names[1]);
    return err_set(e, ERR_INVALID, field, "%s must be \"%s\", \"%s\" or \"%s\"", field,
                   names[0], names[1], names[2]);
}

const char *
jx_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

const char *
jx_str_or_empty(const json_t *obj, const char *key)
{
    const char *s = jx_str(obj, key);
    return s ? s : "";
}

json_int_t
jx_int(const json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

char *
jx_dump(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL) {
        fprintf(stderr, "{\"level\":\"error\",\"msg\":\"json_dumps failed\"}\n");
        abort();
    }
    return s;
}
