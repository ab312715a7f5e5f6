/* handlers.h - HTTP handlers of the loyalty programme (shop and customer API). */
#ifndef AFTERSALE_LOYALTY_HANDLERS_H
#define AFTERSALE_LOYALTY_HANDLERS_H

#include "aftersale/http/req.h"

void loyalty_handle_settings_get(struct req *r);
void loyalty_handle_settings_put(struct req *r);
void loyalty_handle_accounts_list(struct req *r);
void loyalty_handle_account_get(struct req *r);
void loyalty_handle_ledger_list(struct req *r);
void loyalty_handle_adjustment(struct req *r);
void loyalty_handle_redemption(struct req *r);
void loyalty_handle_birthday(struct req *r);
void loyalty_handle_referral(struct req *r);
void loyalty_handle_me_get(struct req *r);
void loyalty_handle_me_ledger(struct req *r);
void loyalty_handle_me_redemption(struct req *r);
/* GET /v1/loyalty/report: a period's points (src/loyalty/report.c). */
void loyalty_handle_report(struct req *r);

#endif
