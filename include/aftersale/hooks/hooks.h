/*
 * hooks.h - signed outbound webhooks (Standard Webhooks) to the endpoints
 * a shop registers. docs/webhooks.md is the user's side of this contract.
 *
 * Emitting: the code where something happens calls hooks_emit() on its
 * own connection, inside the transaction of the change. That writes the
 * message once (outbound_events: webhook-id and body) and, per enabled
 * endpoint subscribed to the type, a delivery row and a `hooks.deliver`
 * job (the outbox rule: no change without its event, no event without
 * its change). Delivering (hooks.deliver, a job off the request path)
 * signs "id.timestamp.body" with each valid secret, checks the target
 * address against WEBHOOK_ALLOW_PRIVATE, posts without following
 * redirects, logs the attempt and retries with backoff for
 * WEBHOOK_DISABLE_AFTER_S; an endpoint failing that long is disabled and
 * the merchant gets an email (hooks.alert).
 *
 * The pure parts (signatures, address classification) take values and
 * return values, for the unit tests.
 */
#ifndef AFTERSALE_HOOKS_HOOKS_H
#define AFTERSALE_HOOKS_HOOKS_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "aftersale/core/err.h"
#include "aftersale/db/pool.h"

/* The event types an endpoint may subscribe to ("*" subscribes to all). */
extern const char *const hooks_event_types[];
extern const size_t hooks_event_types_n;
bool hooks_event_type_known(const char *type);

/*
 * Record event `type` about the shop with `data` (stolen, even on failure;
 * NULL = {}) in the caller's transaction: the message and one delivery job
 * per enabled endpoint that wants it. 0, or -1 with e (roll back).
 */
int hooks_emit(struct db_conn *c, int64_t shop_id, const char *type, json_t *data, struct err *e);

/* ---- signatures (sign.c, pure) ----------------------------------------- */

#define HOOKS_SECRET_PREFIX "whsec_"
#define HOOKS_KEY_LEN 32

/* A new secret "whsec_<base64 of 32 random bytes>". Returns: new string. */
char *hooks_secret_new(void);
/* The HMAC key of a "whsec_..." secret (the base64-decoded part; the
 * prefix is optional). 0 with *key (caller frees) and *keylen, or -1. */
int hooks_secret_key(const char *secret, uint8_t **key, size_t *keylen);
/* "v1,<base64 HMAC-SHA256(key, id "." ts "." body)>" for the secret.
 * Returns: new string, or NULL when the secret does not decode. */
char *hooks_sign(const char *secret, const char *msg_id, long long ts, const char *body,
                 size_t body_len);

/* ---- target addresses (addr.c, pure) ------------------------------------ */

#define HOOKS_ALLOW_MAX 16

/* WEBHOOK_ALLOW_PRIVATE parsed: "off", "on" or a list of CIDRs. */
struct hooks_allow {
    bool all; /* "on" */
    int n;
    struct {
        int family; /* AF_INET or AF_INET6 */
        uint8_t addr[16];
        int bits;
    } nets[HOOKS_ALLOW_MAX];
};

/* Parse WEBHOOK_ALLOW_PRIVATE (NULL = "off"). 0, or -1 with e naming it. */
int hooks_allow_parse(const char *spec, struct hooks_allow *out, struct err *e);
/* True when the address is not a public unicast one: unspecified, loopback,
 * private, shared (CGNAT), link-local, multicast, reserved, documentation,
 * unique-local, and IPv4-mapped/compatible or NAT64 forms of those. */
bool hooks_addr_is_private(const struct sockaddr *sa);
/* May a delivery connect to this address? Public ones always; private
 * ones only as WEBHOOK_ALLOW_PRIVATE says. */
bool hooks_addr_allowed(const struct hooks_allow *allow, const struct sockaddr *sa);

/* URL shape check at endpoint creation: http or https, a host, no user
 * info, at most 2048 bytes. */
bool hooks_url_valid(const char *url);

#endif
