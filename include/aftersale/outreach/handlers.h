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

#endif
