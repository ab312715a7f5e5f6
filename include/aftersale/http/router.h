/*
 * router.h - matching a method and path against the route table.
 *
 * Patterns are literal segments and `{name}` parameters that match one
 * non-empty segment ("/v1/shops/{id}/api-keys/{key_id}"). A path that
 * matches a pattern under another method is a 405 with the allowed
 * methods; a path that matches nothing is a 404. HEAD matches GET. Pure
 * and thread-safe: the table is read-only after start-up.
 */
#ifndef AFTERSALE_HTTP_ROUTER_H
#define AFTERSALE_HTTP_ROUTER_H

#include <stddef.h>

#define ROUTER_MAX_PARAMS 4
#define ROUTER_MAX_VALUE 1024 /* a customer token can be a path segment */

struct req;
typedef void (*handler_fn)(struct req *r);

/* AUTH_CUSTOMER: a customer token (http/token.h) of scope "loyalty". */
enum auth_kind { AUTH_NONE, AUTH_ADMIN, AUTH_SHOP, AUTH_CUSTOMER };
/* BODY_JSON: a JSON object; BODY_JSON_ANY: any JSON value (arrays);
 * BODY_RAW: bytes as sent, any media type (signed webhooks, forms);
 * BODY_IMAGE: as BODY_RAW, with its own cap ROUTER_IMAGE_MAX_BYTES instead of
 * MAX_BODY_BYTES when that is larger (return photos of 5 MiB while JSON
 * routes keep the 1 MiB default);
 * BODY_FORM: as BODY_RAW, with the cap ROUTER_FORM_MAX_BYTES (an HTML form
 * with file uploads: the returns portal's 5 photos of 5 MiB and the rest
 * of the form). */
enum body_kind {
    BODY_NONE,
    BODY_JSON,
    BODY_JSON_OPTIONAL,
    BODY_JSON_ANY,
    BODY_RAW,
    BODY_IMAGE,
    BODY_FORM
};
#define ROUTER_IMAGE_MAX_BYTES (5L * 1024 * 1024)
#define ROUTER_FORM_MAX_BYTES (5 * ROUTER_IMAGE_MAX_BYTES + 1024L * 1024)

struct route {
    const char *method;
    const char *pattern;
    handler_fn handler;
    enum auth_kind auth;
    enum body_kind body;
};

struct route_params {
    int n;
    char names[ROUTER_MAX_PARAMS][32];
    char values[ROUTER_MAX_PARAMS][ROUTER_MAX_VALUE + 1];
};

enum router_result { ROUTER_FOUND, ROUTER_METHOD_NOT_ALLOWED, ROUTER_NOT_FOUND };

/* Match; on ROUTER_FOUND *index is the route and params are filled; on
 * ROUTER_METHOD_NOT_ALLOWED `allow` holds "GET, POST" (allowlen bytes). */
enum router_result router_match(const struct route *routes, size_t nroutes, const char *method,
                                const char *path, size_t *index, struct route_params *params,
                                char *allow, size_t allowlen);

/* Value of parameter `name`, or NULL. Borrowed from params. */
const char *router_param(const struct route_params *params, const char *name);

const char *router_auth_name(enum auth_kind auth);

#endif
