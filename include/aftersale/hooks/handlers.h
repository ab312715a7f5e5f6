/*
 * handlers.h - the shop API of webhook endpoints (/v1/webhook-endpoints):
 * create, list, read, change, delete, rotate the secret, the delivery log
 * and replays. Shop API key; a shop sees only its own endpoints.
 */
#ifndef AFTERSALE_HOOKS_HANDLERS_H
#define AFTERSALE_HOOKS_HANDLERS_H

#include "aftersale/http/req.h"

void hooks_handle_create(struct req *r);
void hooks_handle_list(struct req *r);
void hooks_handle_get(struct req *r);
void hooks_handle_patch(struct req *r);
void hooks_handle_delete(struct req *r);
void hooks_handle_rotate(struct req *r);
void hooks_handle_deliveries(struct req *r);
void hooks_handle_replay(struct req *r);

#endif
