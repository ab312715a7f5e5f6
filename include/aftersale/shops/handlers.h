/* handlers.h - HTTP handlers of the shops module (admin and shop API). */
#ifndef AFTERSALE_SHOPS_HANDLERS_H
#define AFTERSALE_SHOPS_HANDLERS_H

#include "aftersale/http/req.h"

void shops_handle_create(struct req *r);
void shops_handle_list(struct req *r);
void shops_handle_get(struct req *r);
void shops_handle_patch(struct req *r);
void shops_handle_key_create(struct req *r);
void shops_handle_key_list(struct req *r);
void shops_handle_key_revoke(struct req *r);
void shops_handle_self_get(struct req *r);
void shops_handle_self_patch(struct req *r);
/* GET /v1/counts: what waits for the merchant (src/shops/counts.c). */
void shops_handle_counts(struct req *r);

#endif
