/*
 * link.c - a shop's side of the WooCommerce link: topics, credentials and
 * sync state.
 *
 * Credentials are decrypted here and nowhere else, for one job at a time;
 * they live in a struct woo_creds that the job clears (and wipes) when it
 * is done. A shop gets its sync state and its periodic reconciliation job
 * in the same transaction that creates it, so no shop is ever without one.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/mem.h"
#include "aftersale/jobs/queue.h"
#include "aftersale/shops/shops.h"
#include "aftersale/woo/link.h"

const char *const woo_topics[] = {
    "order.created",    "order.updated",    "order.deleted",    "order.restored",
    "customer.created", "customer.updated", "customer.deleted", "action.woocommerce_order_status_completed",
};
const size_t woo_ntopics = sizeof(woo_topics) / sizeof(woo_topics[0]);

bool
woo_topic_handled(const char *topic)
{
    for (size_t i = 0; topic && i < woo_ntopics; i++)
        if (strcmp(woo_topics[i], topic) == 0)
            return true;
    return false;
}

bool
woo_date_valid(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";

    if (s == NULL || strlen(s) != sizeof(shape) - 1)
        return false;
    for (size_t i = 0; i < sizeof(shape) - 1; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return false;
    return true;
}

bool
woo_rfc3339_valid(const char *s)
{
    char head[20];
    const char *p;

    if (s == NULL || strlen(s) < 20)
        return false;
    memcpy(head, s, 19);
    head[19] = '\0';
    if (!woo_date_valid(head))
        return false;
    p = s + 19;
    if (*p == '.') {
        const char *digits = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == digits || p - digits > 9)
            return false;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return true;
    return (*p == '+' || *p == '-') && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
           p[2] <= '9' && p[3] == ':' && p[4] >= '0' && p[4] <= '9' && p[5] >= '0' &&
           p[5] <= '9' && p[6] == '\0';
}

static char *
open_secret(const uint8_t key[CRYPTO_KEY_LEN], const char *aad, const char *hex, struct err *e)
{
    char *plain = shops_secret_open(key, aad, hex);
    if (plain == NULL)
        err_set(e, ERR_INTERNAL, NULL,
                "cannot decrypt the shop's %s: was AFTERSALE_SECRET_KEY changed?", aad);
    return plain;
}

int
woo_creds_load(struct db_conn *c, int64_t shop_id, const uint8_t key[CRYPTO_KEY_LEN],
               struct woo_creds *out, struct err *e)
{
    char ids[24];
    const char *params[1] = {ids};
    PGresult *res;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    DB_I64(ids, shop_id);
    res = db_exec(c, "woo_creds_load",
                  "SELECT url, consumer_key, consumer_secret_enc, webhook_secret_enc FROM shops"
                  " WHERE id = $1",
                  1, params, e);
    if (res == NULL)
        return -1;
    if (PQntuples(res) != 1) {
        err_set(e, ERR_NOT_FOUND, NULL, "no shop %" PRId64, shop_id);
        goto out;
    }
    out->url = xstrdup(PQgetvalue(res, 0, 0));
    out->consumer_key = xstrdup(PQgetvalue(res, 0, 1));
    out->consumer_secret = open_secret(key, "consumer_secret", PQgetvalue(res, 0, 2), e);
    out->webhook_secret = open_secret(key, "webhook_secret", PQgetvalue(res, 0, 3), e);
    if (out->consumer_secret == NULL || out->webhook_secret == NULL) {
        woo_creds_clear(out);
        goto out;
    }
    out->shop = (struct woo_shop){.id = shop_id, .url = out->url,
                                  .consumer_key = out->consumer_key,
                                  .consumer_secret = out->consumer_secret};
    rc = 0;
out:
    PQclear(res);
    return rc;
}

int
woo_webhook_secret_load(struct db_conn *c, int64_t shop_id, const uint8_t key[CRYPTO_KEY_LEN],
                        char **secret, struct err *e)
{
    char ids[24];
    const char *params[1] = {ids};
    PGresult *res;
    int found;

    *secret = NULL;
    DB_I64(ids, shop_id);
    res = db_exec(c, "woo_webhook_secret_load",
                  "SELECT webhook_secret_enc FROM shops WHERE id = $1", 1, params, e);
    if (res == NULL)
        return -1;
    found = PQntuples(res) == 1;
    if (found)
        *secret = open_secret(key, "webhook_secret", PQgetvalue(res, 0, 0), e);
    PQclear(res);
    return found && *secret == NULL ? -1 : 0;
}

static void
wipe_free(char *s)
{
    if (s) {
        crypto_wipe(s, strlen(s));
        free(s);
    }
}

void
woo_creds_clear(struct woo_creds *cr)
{
    free(cr->url);
    free(cr->consumer_key);
    wipe_free(cr->consumer_secret);
    wipe_free(cr->webhook_secret);
    memset(cr, 0, sizeof(*cr));
}

int
woo_shop_init(struct db_conn *c, int64_t shop_id, struct err *e)
{
    char ids[24];
    const char *params[1] = {ids};
    PGresult *res;
    long interval_s;

    DB_I64(ids, shop_id);
    res = db_exec(c, "woo_shop_init",
                  "INSERT INTO woo_sync (shop_id, watermark) VALUES ($1, now())"
                  " ON CONFLICT (shop_id) DO UPDATE SET shop_id = EXCLUDED.shop_id"
                  " RETURNING interval_s",
                  1, params, e);
    if (res == NULL)
        return -1;
    interval_s = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    return jobs_enqueue(c, shop_id, "woo.sync", NULL, "periodic", interval_s * 1000, 1000000, NULL,
                        e);
}
