/*
 * store.h - SQL for shops and API keys. Never sees a struct req.
 *
 * Every function runs on a borrowed connection inside the caller's
 * transaction, returns 0/-1 with e, and hands back new JSON references
 * (caller decrefs). Sealed secrets travel as bytea hex text ("\\x...").
 */
#ifndef AFTERSALE_SHOPS_STORE_H
#define AFTERSALE_SHOPS_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aftersale/db/pool.h"
#include "aftersale/shops/shops.h"

struct shop_sealed {
    char *consumer_secret, *webhook_secret, *token_secret; /* "\\x..." or NULL */
};

int shops_store_timezone_valid(struct db_conn *c, const char *tz, bool *ok, struct err *e);
int shops_store_insert(struct db_conn *c, const struct shop_input *in,
                       const struct shop_sealed *sealed, json_t **shop, struct err *e);
/* *shop = NULL when there is no such shop. */
int shops_store_get(struct db_conn *c, int64_t id, json_t **shop, struct err *e);
int shops_store_update(struct db_conn *c, int64_t id, const struct shop_input *in,
                       const struct shop_sealed *sealed, json_t **shop, struct err *e);
/* Page of shops with id > after; *next_after = last id when more remain, else 0. */
int shops_store_list(struct db_conn *c, int64_t after, int limit, json_t **items,
                     int64_t *next_after, struct err *e);

/* *key = NULL when the shop does not exist. */
int shops_store_key_insert(struct db_conn *c, int64_t shop_id, const char *hash_param,
                           const char *prefix, json_t **key, struct err *e);
int shops_store_key_list(struct db_conn *c, int64_t shop_id, int64_t after, int limit,
                         json_t **items, int64_t *next_after, struct err *e);
/* *found = false when the key (of that shop) does not exist. */
int shops_store_key_revoke(struct db_conn *c, int64_t shop_id, int64_t key_id, bool *found,
                           struct err *e);

#endif
