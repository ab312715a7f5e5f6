/*
 * loyalty.h - the loyalty ledger and accounts (store) and the operations
 * other modules call (grants).
 *
 * Every function runs on a borrowed connection inside the caller's
 * transaction. The ledger rules, enforced here and by the schema:
 *   - an entry is never updated or deleted (a trigger refuses it);
 *   - (shop, source_kind, source_id) is unique: a source pays once;
 *   - the account row is locked (FOR UPDATE) before an entry is written,
 *     so concurrent writers to one account queue up and balance_after is
 *     always the previous balance plus delta;
 *   - the balance never goes below zero: a debit that may be short
 *     (reversals) is clamped and the shortfall kept in `uncollected`; a
 *     debit that must not be short (redemption, manual) is refused (409).
 */
#ifndef AFTERSALE_LOYALTY_LOYALTY_H
#define AFTERSALE_LOYALTY_LOYALTY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "aftersale/core/err.h"
#include "aftersale/db/pool.h"
#include "aftersale/loyalty/rules.h"

/* Settings of a shop: the stored JSON over the defaults. */
int loyalty_settings_load(struct db_conn *c, int64_t shop_id, struct loyalty_settings *s,
                          struct err *e);
int loyalty_settings_save(struct db_conn *c, int64_t shop_id, const struct loyalty_settings *s,
                          struct err *e);

/* Lower-cased, trimmed email into out (256 bytes); "" when none. */
void loyalty_email_normalise(const char *email, char out[256]);

/* The shop's currency (and, when tz is not NULL, its time zone). */
int loyalty_shop_currency(struct db_conn *c, int64_t shop_id, char out[4], char tz[64],
                          struct err *e);

/*
 * The account of a customer: by WooCommerce customer id when > 0 (a guest
 * account with the same email is taken over or merged), else by
 * normalised email. Created when missing and `create`; *account_id = 0
 * when missing and not created.
 */
int loyalty_account_resolve(struct db_conn *c, int64_t shop_id, int64_t customer_id,
                            const char *email, bool create, int64_t *account_id, struct err *e);

/*
 * The account a customer token reaches, never created (*account_id = 0
 * when none). A token with a customer id: as loyalty_account_resolve. A
 * token with an email only (a guest's): only a guest account (no customer
 * id, not merged) with that email, unless the shop opted in
 * (email_tokens_reach_registered), when the registered customer's
 * account with that email is preferred as for guest orders.
 */
int loyalty_account_for_token(struct db_conn *c, int64_t shop_id, int64_t customer_id,
                              const char *email, int64_t *account_id, struct err *e);

struct loyalty_entry {
    int64_t account_id;
    int64_t delta;            /* signed */
    const char *reason;       /* earn, bonus, refund, cancel, redeem, redemption_refund,
                                 adjustment, expiry, merge_in, merge_out */
    const char *source_kind;  /* order, refund, cancel, signup, birthday, ... */
    const char *source_id;
    int64_t order_id;         /* 0 = none */
    bool clamp;               /* debit: stop at zero and record the shortfall */
    bool expires;             /* credit: expires after the shop's expiry_months */
    int expiry_months;
    const char *note;
    const char *actor;        /* "api_key:3", "webhook", "job:17", "cli" */
};

/* Append one entry. *duplicate when the source already paid (nothing
 * written). *entry_out (may be NULL) gets the entry as JSON (new ref). */
int loyalty_ledger_append(struct db_conn *c, int64_t shop_id, const struct loyalty_entry *en,
                          bool *duplicate, json_t **entry_out, struct err *e);

/* Lock an account row (FOR UPDATE) before writing rows that reference it:
 * taking the row lock first avoids the deadlock of two transactions that
 * both hold the foreign key's share lock and then want the update lock.
 * ERR_NOT_FOUND, or ERR_CONFLICT for a merged account. */
int loyalty_account_lock(struct db_conn *c, int64_t shop_id, int64_t account_id, struct err *e);

/* Grant a bonus of the shop's settings (kind: "signup", "review",
 * "survey", "birthday", "anniversary", "referrer", "referee") to a
 * customer, once per source id. What the review and survey modules call. */
int loyalty_grant(struct db_conn *c, int64_t shop_id, int64_t customer_id, const char *email,
                  const char *kind, const char *source_id, const char *actor, struct err *e);

/* Account as the API shows it (balance, lifetime, tier, next tier,
 * expiring soon). *out NULL when there is no such account. */
int loyalty_account_json(struct db_conn *c, int64_t shop_id, int64_t account_id, json_t **out,
                         struct err *e);

/* Check every account against its ledger; prints one line per problem to
 * `report` (may be NULL). *problems gets the count. */
int loyalty_verify(struct db_conn *c, int *problems, struct err *e);

#endif
