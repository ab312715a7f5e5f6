/* handlers.h - HTTP handlers of the WooCommerce link and the jobs API. */
#ifndef AFTERSALE_WOO_HANDLERS_H
#define AFTERSALE_WOO_HANDLERS_H

#include "aftersale/http/req.h"

void woo_handle_webhook(struct req *r);
void woo_handle_events_list(struct req *r);
void woo_handle_sync(struct req *r);
void woo_handle_status(struct req *r);
void woo_handle_webhooks_setup(struct req *r);
void woo_handle_settings_get(struct req *r);
void woo_handle_settings_patch(struct req *r);

void jobs_handle_list(struct req *r);
void jobs_handle_get(struct req *r);
void jobs_handle_retry(struct req *r);

#endif
