/*
 * idempotency.h - the Idempotency-Key rule for POSTs that move points or
 * money: the same key with the same request replays the first answer; the
 * same key with another request is a 409.
 *
 * Keys are per shop, and within a shop per scope (see struct idempotency).
 * Both calls run inside the caller's transaction, so the answer is stored
 * together with the change it describes. Requests with the same key are
 * serialised by a transaction-level advisory lock, so a retry that races
 * the original waits for it and then replays it.
 */
#ifndef AFTERSALE_DB_IDEMPOTENCY_H
#define AFTERSALE_DB_IDEMPOTENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aftersale/core/err.h"
#include "aftersale/db/pool.h"

struct idempotency {
    const char *key; /* borrowed; NULL = no key sent */
    /* Whose keys these are, within the shop: "" for the shop's routes,
     * "customer:<id>" or "email:<address>" for a customer's (/v1/me/...),
     * so one customer's key is never another's replay or 409. Set it after
     * db_idempotency_init, which empties it. */
    char scope[300];
    char hash[65];   /* sha256 hex of route + body */
    bool replay;     /* a stored answer was found */
    int status;
    char *body;      /* stored answer (owned) when replay */
};

/* Validate the header value: 1-255 visible ASCII characters. */
bool db_idempotency_key_valid(const char *key);

/* Prepare `i` for a request (hash of route and raw body). */
void db_idempotency_init(struct idempotency *i, const char *key, const char *route,
                         const char *body, size_t len);

/* Look the key up (locking it). Sets i->replay with the stored answer, or
 * ERR_CONFLICT when the key was used for another request. */
int db_idempotency_begin(struct db_conn *c, int64_t shop_id, struct idempotency *i,
                         const char *route, struct err *e);
/* Store the answer for the key (no-op without a key). */
int db_idempotency_save(struct db_conn *c, int64_t shop_id, const struct idempotency *i,
                        const char *route, int status, const char *body, struct err *e);

void db_idempotency_clear(struct idempotency *i);

#endif
