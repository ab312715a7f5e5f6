/* handlers.h - HTTP handlers of the outreach layer: the messaging settings
 * (shop API) and the unsubscribe page every marketing message links to. */
#ifndef AFTERSALE_OUTREACH_HANDLERS_H
#define AFTERSALE_OUTREACH_HANDLERS_H

#include "aftersale/http/req.h"

void outreach_handle_settings_get(struct req *r);
void outreach_handle_settings_put(struct req *r);
void outreach_handle_test_email(struct req *r);
void outreach_handle_contact_status(struct req *r);
void outreach_handle_unsubscribe_page(struct req *r);
void outreach_handle_unsubscribe(struct req *r);

/* The order and language a message is asked for in a request body:
 * "order_id" a positive integer, and "locale" (optional) one of the
 * catalogue's locales, matched ("de-AT" is de; *locale NULL when absent).
 * On a bad value replies 422 naming the field and returns -1. */
int outreach_order_locale_or_reply(struct req *r, int64_t *order_id, const char **locale);

#endif
