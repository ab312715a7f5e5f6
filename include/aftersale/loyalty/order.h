/*
 * order.h - the points of one order, reconciled from the order's events.
 *
 * An order's ledger entries (the earn "order:727", one reversal per refund
 * "refund:801", the cancellation "cancel:727") are a function of the
 * order's internal events, not of the order in which the jobs that saw
 * those events happened to run. loyalty_order_reconcile computes what the
 * order's entries should be and writes only the missing ones, under a
 * per-order lock, so any interleaving of deliveries and jobs converges on
 * the ledger that the deliveries give one after the other. The rules are
 * in docs/loyalty.md ("Refunds and cancellations", "Order of events").
 */
#ifndef AFTERSALE_LOYALTY_ORDER_H
#define AFTERSALE_LOYALTY_ORDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aftersale/core/err.h"
#include "aftersale/db/pool.h"

/*
 * Bring the ledger of order `order_id` up to date with its events, in the
 * caller's transaction. Takes the order's lock with a try-lock: when
 * another transaction holds it, *busy is set and nothing is done (the
 * caller runs again later; the holder may not have seen the caller's
 * event). `actor` names the writer ("job:17"). *result (new reference)
 * says what was done. 0, or -1 with e (database error).
 */
int loyalty_order_reconcile(struct db_conn *c, int64_t shop_id, int64_t order_id,
                            const char *actor, bool *busy, json_t **result, struct err *e);

#endif
