/*
 * router.c - segment-by-segment matching of paths against patterns.
 *
 * The table is small (tens of routes), so a linear scan that compares
 * segments in place beats building a trie: no allocation, no start-up
 * step, and the order of the table is the order of matching. A path
 * matches a pattern when both have the same number of segments and every
 * literal segment is equal; `{name}` segments capture. Trailing slashes
 * are not stripped: "/v1/shop/" is a different path and a 404.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "aftersale/http/router.h"

/* Length of the segment starting at s (up to '/' or end). */
static size_t
seglen(const char *s)
{
    return strcspn(s, "/");
}

static int
match_path(const char *pattern, const char *path, struct route_params *params)
{
    const char *p = pattern, *q = path;

    params->n = 0;
    if (*p != '/' || *q != '/')
        return 0;
    while (*p == '/' && *q == '/') {
        size_t pl, ql;
        p++;
        q++;
        pl = seglen(p);
        ql = seglen(q);
        if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
            if (ql == 0 || ql > ROUTER_MAX_VALUE || params->n == ROUTER_MAX_PARAMS || pl - 2 >= 32)
                return 0;
            snprintf(params->names[params->n], sizeof(params->names[0]), "%.*s", (int)(pl - 2),
                     p + 1);
            snprintf(params->values[params->n], sizeof(params->values[0]), "%.*s", (int)ql, q);
            params->n++;
        } else if (pl != ql || strncmp(p, q, pl) != 0) {
            return 0;
        }
        p += pl;
        q += ql;
    }
    return *p == '\0' && *q == '\0';
}

enum router_result
router_match(const struct route *routes, size_t nroutes, const char *method, const char *path,
             size_t *index, struct route_params *params, char *allow, size_t allowlen)
{
    struct route_params scratch;
    bool path_known = false;
    size_t used = 0;

    if (strcmp(method, "HEAD") == 0)
        method = "GET";
    if (allowlen > 0)
        allow[0] = '\0';
    for (size_t i = 0; i < nroutes; i++) {
        if (!match_path(routes[i].pattern, path, &scratch))
            continue;
        if (strcmp(routes[i].method, method) == 0) {
            *index = i;
            *params = scratch;
            return ROUTER_FOUND;
        }
        path_known = true;
        if (allowlen > used) {
            int n = snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "",
                             routes[i].method);
            if (n > 0)
                used += (size_t)n;
        }
    }
    return path_known ? ROUTER_METHOD_NOT_ALLOWED : ROUTER_NOT_FOUND;
}

const char *
router_param(const struct route_params *params, const char *name)
{
    for (int i = 0; i < params->n; i++)
        if (strcmp(params->names[i], name) == 0)
            return params->values[i];
    return NULL;
}

const char *
router_auth_name(enum auth_kind auth)
{
    switch (auth) {
    case AUTH_NONE:
        return "none";
    case AUTH_ADMIN:
        return "admin";
    case AUTH_SHOP:
        return "shop";
    case AUTH_CUSTOMER:
        return "customer";
    }
    return "?";
}
