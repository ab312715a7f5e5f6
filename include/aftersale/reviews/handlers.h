/* handlers.h - HTTP handlers of review requests: shop API, public API, pages. */
#ifndef AFTERSALE_REVIEWS_HANDLERS_H
#define AFTERSALE_REVIEWS_HANDLERS_H

#include "aftersale/http/req.h"

void reviews_handle_settings_get(struct req *r);
void reviews_handle_settings_put(struct req *r);
void reviews_handle_request_create(struct req *r);
void reviews_handle_request_get(struct req *r);
void reviews_handle_requests_list(struct req *r);
void reviews_handle_list(struct req *r);
void reviews_handle_stats(struct req *r);
void reviews_handle_approve(struct req *r);
void reviews_handle_reject(struct req *r);
void reviews_handle_reply(struct req *r);
void reviews_handle_public_get(struct req *r);
void reviews_handle_public_submit(struct req *r);
void reviews_handle_page(struct req *r);

/* GET /v1/me/review-requests: the customer's open review requests (a
 * customer token of scope "reviews"; reviews/me.c). */
void reviews_handle_me_requests(struct req *r);

#endif
