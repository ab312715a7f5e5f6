/*
 * handlers.h - the HTTP side of returns (routes.c names these). Shop API
 * (a shop key): policy, requests and their transitions. POSTs take an
 * Idempotency-Key (db/idempotency.h).
 */
#ifndef AFTERSALE_RETURNS_HANDLERS_H
#define AFTERSALE_RETURNS_HANDLERS_H

#include "aftersale/http/req.h"

void returns_handle_settings_get(struct req *r);
void returns_handle_settings_put(struct req *r);
void returns_handle_create(struct req *r);
void returns_handle_list(struct req *r);
void returns_handle_report(struct req *r);
void returns_handle_get(struct req *r);
void returns_handle_approve(struct req *r);
void returns_handle_reject(struct req *r);
void returns_handle_receive(struct req *r);
void returns_handle_resolve(struct req *r);
void returns_handle_cancel(struct req *r);
void returns_handle_close(struct req *r);
void returns_handle_photo_add(struct req *r);
void returns_handle_photo_get(struct req *r);
/* The figures a resolution would have, from the service's copy of the
 * order (preview.c); read-only. */
void returns_handle_preview(struct req *r);

/* Customers: a customer token of scope "returns" (the plugin mints it for
 * a logged-in customer), checked by the handlers (route realm "none"). */
void returns_handle_me_create(struct req *r);
void returns_handle_me_get(struct req *r);
void returns_handle_me_cancel(struct req *r);
/* GET /v1/me/returns: the customer's requests, newest first, paged. */
void returns_handle_me_list(struct req *r);
void returns_handle_me_photo_add(struct req *r);
void returns_handle_me_photo_get(struct req *r);

/* The returns portal (page.c): no bearer credential; a guest looks an
 * order up by number and billing email. */
void returns_handle_page(struct req *r);
void returns_handle_page_post(struct req *r);
/* GET /returns/photos/{photo_id}?token=: a photo shown on the portal's request page. */
void returns_handle_page_photo(struct req *r);
/* GET /returns/requests/{id}?token=: the request's status and history;
 * POST /returns/requests/{id}/cancel (form, token): the customer cancels. */
void returns_handle_page_request(struct req *r);
void returns_handle_page_request_cancel(struct req *r);

#endif
