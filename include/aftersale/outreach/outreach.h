/*
 * outreach.h - the outreach layer: what every programme that writes to
 * customers shares (reviews now; surveys and returns next).
 *
 * A programme that sends a message does, in this order:
 *
 *   1. In a transaction (its load step):
 *        outreach_settings_load(c, shop, &os, e);
 *        outreach_contact_check(c, shop, email, OUTREACH_MARKETING, now,
 *                               &verdict, &next_slot, e);
 *      verdict OUTREACH_SUPPRESSED: the address unsubscribed; do not send
 *      (mark the programme's object as such). OUTREACH_WAIT: over the
 *      shop's contact policy; postpone the job to next_slot (never drop
 *      it). OUTREACH_SEND: go on. A transactional message (a return's
 *      status) passes OUTREACH_TRANSACTIONAL and always gets SEND.
 *   2. With no connection held (a job's outbound step): render in the
 *      customer's locale (outreach_locale_pick, outreach_catalogue_get,
 *      outreach_template_builtin), make the links (outreach_link), then
 *      outreach_send_email() or outreach_send_note().
 *   3. In a transaction, with its own state change:
 *        outreach_contact_record(c, shop, email, "surveys", "survey_invitation",
 *                                ref_id, OUTREACH_MARKETING, e);
 *
 * The contact log counts marketing messages of every programme together
 * against one cap per customer (messaging settings' contact_policy);
 * transactional messages are logged and never counted. One unsubscribe
 * (per shop and address, lower-cased) stops every marketing programme and
 * no transactional message. Check and record are two transactions, as a
 * send lies between them: two programmes sending to one address in the
 * same second may both pass a full cap; the next message sees both.
 *
 * Every function here works on a borrowed connection in the caller's
 * transaction and returns 0/-1 with e, except the senders (no connection:
 * they are called from job workers only, never on a request thread).
 */
#ifndef AFTERSALE_OUTREACH_OUTREACH_H
#define AFTERSALE_OUTREACH_OUTREACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "aftersale/core/config.h"
#include "aftersale/db/pool.h"
#include "aftersale/http/token.h"
#include "aftersale/mail/smtp.h"
#include "aftersale/outreach/rules.h"
#include "aftersale/woo/client.h"

enum outreach_kind { OUTREACH_MARKETING, OUTREACH_TRANSACTIONAL };
enum outreach_verdict { OUTREACH_SEND, OUTREACH_WAIT, OUTREACH_SUPPRESSED };

/* The shop's messaging settings (defaults when it has none). */
int outreach_settings_load(struct db_conn *c, int64_t shop_id, struct outreach_settings *s,
                           struct err *e);
int outreach_settings_save(struct db_conn *c, int64_t shop_id, const struct outreach_settings *s,
                           struct err *e);

/*
 * May a message of `kind` go to `email` at `now`? *verdict as above;
 * *next_slot = now for SEND, the first free slot for WAIT. Reads the
 * shop's messaging settings itself.
 */
int outreach_contact_check(struct db_conn *c, int64_t shop_id, const char *email,
                           enum outreach_kind kind, time_t now, enum outreach_verdict *verdict,
                           time_t *next_slot, struct err *e);

/* Log a message sent: `programme` ("reviews", "surveys", "returns"),
 * `what` ("review_request", "survey_invitation", ...), the programme's id
 * of the object it was about. */
int outreach_contact_record(struct db_conn *c, int64_t shop_id, const char *email,
                            const char *programme, const char *what, int64_t ref_id,
                            enum outreach_kind kind, struct err *e);

/* The shop's name into out (size n, cut to fit; "" when there is no such
 * shop): what a message or page shows when the brand name is not set. */
int outreach_shop_name(struct db_conn *c, int64_t shop_id, char *out, size_t n, struct err *e);

/* *out = the address unsubscribed from the shop's marketing messages. */
int outreach_unsubscribed(struct db_conn *c, int64_t shop_id, const char *email, bool *out,
                          struct err *e);
/* Unsubscribe an address (idempotent); `programme` is where it happened. */
int outreach_unsubscribe(struct db_conn *c, int64_t shop_id, const char *email,
                         const char *programme, struct err *e);

/*
 * A signed link to a customer page: `base` (a URL without query) +
 * "?token=" + a token of `claims` signed with the shop's token secret.
 * Returns: new string, or NULL when the token cannot be minted.
 */
char *outreach_link(const char *base, const char *token_secret, const struct token_claims *claims);
/* The unsubscribe link of the shop for `email` (scope "unsubscribe", a
 * year long; `ref_id` names the message's object; `programme`, such as
 * "surveys", is recorded with the unsubscribe, for information). Needs
 * PUBLIC_URL, else `fallback_base`. Returns: new string, or NULL. */
char *outreach_unsubscribe_link(const struct config *cfg, const char *fallback_base,
                                const char *token_secret, int64_t shop_id, const char *email,
                                int64_t ref_id, const char *programme);

/* One email to send. from_name / from_addr: the programme's own sender
 * ("" or NULL = the messaging settings' sender, then the brand name or
 * `shop_name`, and MAIL_FROM). unsubscribe_url: NULL for a transactional
 * message (no List-Unsubscribe: there is nothing to unsubscribe from). */
struct outreach_email {
    const char *shop_name;
    const char *from_name, *from_addr;
    const char *to_name, *to_addr;
    const char *subject, *text, *html;
    const char *unsubscribe_url;
    const char *message_id; /* fixed by the caller so a retry is the same message */
    bool *outcome_unknown;  /* optional out, as struct mail_message's */
};

/* Send through the service's SMTP server (SMTP_* settings); Reply-To is
 * the messaging settings' reply_to. MAIL_RETRY / MAIL_FAIL as mail_send. */
enum mail_result outreach_send_email(const struct config *cfg, const struct outreach_settings *s,
                                     const struct outreach_email *m, struct err *e);

/* The other channel: a customer note on the order, which WooCommerce
 * emails to the order's billing address ("subject\n\ntext"). */
enum woo_result outreach_send_note(struct woo_client *wc, const struct woo_shop *shop,
                                   int64_t order_id, const char *subject, const char *text,
                                   struct err *e);

#endif
