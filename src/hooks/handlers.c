/*
 * handlers.c - the shop API of webhook endpoints.
 *
 * An endpoint is a URL, the event types it wants ("*" for all), a
 * description and an enabled flag. Its signing secret ("whsec_...") is in
 * the answer to create and to rotate-secret only; the table keeps it
 * sealed. Rotation keeps the old secret signing for 24 hours, so a
 * receiver can switch at its own pace. The delivery log lists attempts;
 * a replay sends a delivery's message again, with the same webhook-id.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/jx.h"
#include "aftersale/hooks/handlers.h"
#include "aftersale/hooks/hooks.h"
#include "aftersale/hooks/store.h"
#include "aftersale/http/server.h"
#include "aftersale/shops/shops.h"

#define ROTATE_OVERLAP_S 86400L

static const struct jx_field fields[] = {
    {"url", JX_STRING, false, 1, 2048},
    {"event_types", JX_ARRAY, false, 0, 0},
    {"description", JX_STRING, false, 0, 500},
    {"enabled", JX_BOOLEAN, false, 0, 0},
};

struct hooks_ctx {
    int64_t shop_id, id, delivery_id, after, next_after;
    int limit;
    struct hooks_endpoint_input in;
    const char *sealed;
    bool found;
    json_t *out;
};

/* Shape and rules of a create (all of url and event_types) or a patch. */
static int
read_input(const json_t *body, bool create, struct hooks_endpoint_input *in, struct err *e)
{
    const json_t *v;
    size_t i;

    in->enabled = -1;
    if (jx_check(body, fields, sizeof(fields) / sizeof(fields[0]), NULL, e) < 0)
        return -1;
    in->url = jx_str(body, "url");
    in->description = jx_str(body, "description");
    in->event_types = json_object_get(body, "event_types");
    if ((v = json_object_get(body, "enabled")) != NULL)
        in->enabled = json_is_true(v);
    if (create && in->url == NULL)
        return err_set(e, ERR_INVALID, "url", "url is required");
    if (in->url && !hooks_url_valid(in->url))
        return err_set(e, ERR_INVALID, "url",
                       "url must be an http:// or https:// URL with a host and no user info");
    if (create && in->event_types == NULL)
        return err_set(e, ERR_INVALID, "event_types", "event_types is required");
    if (in->event_types) {
        if (json_array_size(in->event_types) == 0 || json_array_size(in->event_types) > 32)
            return err_set(e, ERR_INVALID, "event_types",
                           "event_types must list 1 to 32 event types (or \"*\")");
        json_array_foreach(in->event_types, i, v)
        {
            const char *t = json_string_value(v);
            if (t == NULL || (strcmp(t, "*") != 0 && !hooks_event_type_known(t)))
                return err_set(e, ERR_INVALID, "event_types",
                               "event_types[%zu] is not a known event type (see docs/webhooks.md)",
                               i);
        }
    }
    if (in->description && !jx_one_line(in->description))
        return err_set(e, ERR_INVALID, "description", "description must be one line");
    return 0;
}

static int
create_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct hooks_ctx *x = ctx;
    json_decref(x->out);
    return hooks_store_create(c, x->shop_id, &x->in, x->sealed, &x->out, e);
}

/* A new secret, sealed for the table; *secret is the clear one (caller frees). */
static char *
new_sealed(char **secret)
{
    *secret = hooks_secret_new();
    return shops_seal_hex(server_config()->secret_key, HOOKS_SEAL_AAD, *secret);
}

static void
reply_with_secret(struct req *r, int status, json_t *ep, char *secret)
{
    json_object_set_new(ep, "secret", json_string(secret));
    crypto_wipe(secret, strlen(secret));
    free(secret);
    reply_json_take(r, status, ep);
}

void
hooks_handle_create(struct req *r)
{
    struct hooks_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};
    char *secret = NULL, *sealed = NULL;

    if (read_input(r->json, true, &x.in, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    sealed = new_sealed(&secret);
    x.sealed = sealed;
    if (db_tx(create_fn, &x, &e) < 0 || x.out == NULL) {
        if (x.out == NULL && e.kind == ERR_NONE)
            err_set(&e, ERR_INTERNAL, NULL, "the endpoint was not created");
        json_decref(x.out);
        crypto_wipe(secret, strlen(secret));
        free(secret);
        reply_err(r, &e);
    } else {
        reply_with_secret(r, 201, x.out, secret);
    }
    free(sealed);
}

static int
list_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct hooks_ctx *x = ctx;
    return hooks_store_list(c, x->shop_id, x->after, x->limit, &x->out, &x->next_after, e);
}

void
hooks_handle_list(struct req *r)
{
    struct hooks_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};

    if (req_page_or_reply(r, &x.limit, &x.after) < 0)
        return;
    if (db_run(list_fn, &x, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    reply_page_take(r, x.out, x.next_after);
}

static int
get_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct hooks_ctx *x = ctx;
    return hooks_store_get(c, x->shop_id, x->id, &x->out, e);
}

static int
patch_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct hooks_ctx *x = ctx;
    json_decref(x->out);
    return hooks_store_patch(c, x->shop_id, x->id, &x->in, &x->out, e);
}

static int
delete_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct hooks_ctx *x = ctx;
    return hooks_store_delete(c, x->shop_id, x->id, &x->found, e);
}

static int
rotate_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct hooks_ctx *x = ctx;
    json_decref(x->out);
    return hooks_store_rotate(c, x->shop_id, x->id, x->sealed, ROTATE_OVERLAP_S, &x->out, e);
}

static void
reply_found(struct req *r, struct hooks_ctx *x, int rc, const struct err *e)
{
    if (rc < 0)
        reply_err(r, e);
    else if (x->out == NULL)
        reply_problem(r, ERR_NOT_FOUND, NULL, "no webhook endpoint %" PRId64, x->id);
    else
        reply_json_take(r, 200, x->out);
}

void
hooks_handle_get(struct req *r)
{
    struct hooks_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};
    int rc;

    if (req_param_id_or_reply(r, "id", &x.id) < 0)
        return;
    rc = db_run(get_fn, &x, &e);
    reply_found(r, &x, rc, &e);
}

void
hooks_handle_patch(struct req *r)
{
    struct hooks_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};
    int rc;

    if (req_param_id_or_reply(r, "id", &x.id) < 0)
        return;
    if (read_input(r->json, false, &x.in, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    rc = db_tx(patch_fn, &x, &e);
    reply_found(r, &x, rc, &e);
}

void
hooks_handle_delete(struct req *r)
{
    struct hooks_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};

    if (req_param_id_or_reply(r, "id", &x.id) < 0)
        return;
    if (db_tx(delete_fn, &x, &e) < 0)
        reply_err(r, &e);
    else if (!x.found)
        reply_problem(r, ERR_NOT_FOUND, NULL, "no webhook endpoint %" PRId64, x.id);
    else
        reply_empty(r, 204);
}

void
hooks_handle_rotate(struct req *r)
{
    struct hooks_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};
    char *secret = NULL, *sealed = NULL;

    if (req_param_id_or_reply(r, "id", &x.id) < 0)
        return;
    if (r->json && jx_check(r->json, NULL, 0, NULL, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    sealed = new_sealed(&secret);
    x.sealed = sealed;
    if (db_tx(rotate_fn, &x, &e) < 0 || x.out == NULL) {
        crypto_wipe(secret, strlen(secret));
        free(secret);
        reply_found(r, &x, x.out == NULL && e.kind == ERR_NONE ? 0 : -1, &e);
    } else {
        reply_with_secret(r, 200, x.out, secret);
    }
    free(sealed);
}

static int
attempts_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct hooks_ctx *x = ctx;
    return hooks_store_attempts(c, x->shop_id, x->id, x->after, x->limit, &x->found, &x->out,
                                &x->next_after, e);
}

void
hooks_handle_deliveries(struct req *r)
{
    struct hooks_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};

    if (req_param_id_or_reply(r, "id", &x.id) < 0 || req_page_or_reply(r, &x.limit, &x.after) < 0)
        return;
    if (db_run(attempts_fn, &x, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if (!x.found) {
        reply_problem(r, ERR_NOT_FOUND, NULL, "no webhook endpoint %" PRId64, x.id);
        return;
    }
    reply_page_take(r, x.out, x.next_after);
}

static int
replay_fn(struct db_conn *c, void *ctx, struct err *e)
{
    struct hooks_ctx *x = ctx;
    json_decref(x->out);
    return hooks_store_replay(c, x->shop_id, x->id, x->delivery_id, &x->out, e);
}

void
hooks_handle_replay(struct req *r)
{
    struct hooks_ctx x = {.shop_id = r->shop_id};
    struct err e = {0};

    if (req_param_id_or_reply(r, "id", &x.id) < 0 ||
        req_param_id_or_reply(r, "delivery_id", &x.delivery_id) < 0)
        return;
    if (r->json && jx_check(r->json, NULL, 0, NULL, &e) < 0) {
        reply_err(r, &e);
        return;
    }
    if (db_tx(replay_fn, &x, &e) < 0)
        reply_err(r, &e);
    else if (x.out == NULL)
        reply_problem(r, ERR_NOT_FOUND, NULL,
                      "no delivery %" PRId64 " of webhook endpoint %" PRId64, x.delivery_id, x.id);
    else {
        char location[48];
        snprintf(location, sizeof(location), "/v1/jobs/%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(x.out, "job_id")));
        req_add_header(r, "Location", location);
        reply_json_take(r, 202, x.out);
    }
}
