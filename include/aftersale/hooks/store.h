/*
 * store.h - the SQL of outbound webhooks (endpoints, messages, deliveries,
 * attempts). Every function works on a borrowed connection in the
 * caller's transaction and returns 0/-1 with e; json outputs are new
 * references (NULL when the row does not exist). Secrets arrive and leave
 * in clear only through the arguments named so; the table keeps them
 * sealed with AFTERSALE_SECRET_KEY.
 */
#ifndef AFTERSALE_HOOKS_STORE_H
#define AFTERSALE_HOOKS_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aftersale/core/crypto.h"
#include "aftersale/db/pool.h"

struct hooks_endpoint_input {
    const char *url;         /* NULL: unchanged (PATCH) */
    const char *description; /* NULL: unchanged */
    json_t *event_types;     /* borrowed array of strings; NULL: unchanged */
    int enabled;             /* -1 unchanged, 0, 1 */
};

int hooks_store_create(struct db_conn *c, int64_t shop_id, const struct hooks_endpoint_input *in,
                       const char *sealed_hex, json_t **out, struct err *e);
int hooks_store_list(struct db_conn *c, int64_t shop_id, int64_t after, int limit, json_t **items,
                     int64_t *next_after, struct err *e);
int hooks_store_get(struct db_conn *c, int64_t shop_id, int64_t id, json_t **out, struct err *e);
int hooks_store_patch(struct db_conn *c, int64_t shop_id, int64_t id,
                      const struct hooks_endpoint_input *in, json_t **out, struct err *e);
int hooks_store_delete(struct db_conn *c, int64_t shop_id, int64_t id, bool *found, struct err *e);
/* New secret (sealed_hex); the old one keeps signing for overlap_s seconds. */
int hooks_store_rotate(struct db_conn *c, int64_t shop_id, int64_t id, const char *sealed_hex,
                       long overlap_s, json_t **out, struct err *e);
/* The attempts of an endpoint's deliveries, oldest first. *found false:
 * no such endpoint. */
int hooks_store_attempts(struct db_conn *c, int64_t shop_id, int64_t id, int64_t after, int limit,
                         bool *found, json_t **items, int64_t *next_after, struct err *e);
/* Send a delivery again (same message, same webhook-id): a new job.
 * *out NULL when the delivery is not the endpoint's. */
int hooks_store_replay(struct db_conn *c, int64_t shop_id, int64_t endpoint_id, int64_t delivery_id,
                       json_t **out, struct err *e);

/* What one delivery attempt needs, loaded in one short transaction. */
struct hooks_delivery {
    int64_t shop_id, delivery_id, endpoint_id;
    char msg_id[64];
    char *url;      /* owned */
    char *body;     /* owned */
    char *secret;   /* owned, clear */
    char *previous; /* owned, clear, NULL when none is valid any more */
    bool enabled;   /* the endpoint is enabled */
    bool found;     /* the delivery exists */
    long age_ms;    /* since the message was made */
    int attempts;   /* attempts made before this one */
};
int hooks_store_delivery_load(struct db_conn *c, const uint8_t key[CRYPTO_KEY_LEN], int64_t shop_id,
                              int64_t delivery_id, struct hooks_delivery *d, struct err *e);
void hooks_delivery_clear(struct hooks_delivery *d);

/* Log an attempt and its consequences: the delivery's status (`final`:
 * no more attempts), the endpoint's run of failures; an endpoint failing
 * for disable_after_s or more, or whose delivery failed to the end of its
 * retry window (`final`), is disabled and a hooks.alert job queued
 * (*disabled true). */
int hooks_store_attempt_record(struct db_conn *c, const struct hooks_delivery *d, int status_code,
                               long duration_ms, const char *error, bool final,
                               long disable_after_s, bool *disabled, struct err *e);
/* Mark a delivery cancelled (endpoint gone or disabled). */
int hooks_store_delivery_cancel(struct db_conn *c, int64_t shop_id, int64_t delivery_id,
                                struct err *e);

#define HOOKS_SEAL_AAD "webhook_endpoint_secret"

#endif
