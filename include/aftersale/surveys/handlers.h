/* handlers.h - HTTP handlers of surveys: shop API (definitions,
 * invitations, responses, reports) and the customer's public API. */
#ifndef AFTERSALE_SURVEYS_HANDLERS_H
#define AFTERSALE_SURVEYS_HANDLERS_H

#include "aftersale/http/req.h"

void surveys_handle_templates(struct req *r);
void surveys_handle_create(struct req *r);
void surveys_handle_list(struct req *r);
void surveys_handle_get(struct req *r);
void surveys_handle_patch(struct req *r);
void surveys_handle_archive(struct req *r);
void surveys_handle_invitations_list(struct req *r);
void surveys_handle_link_create(struct req *r);
void surveys_handle_responses_list(struct req *r);
void surveys_handle_order_responses(struct req *r);
void surveys_handle_response_patch(struct req *r);
void surveys_handle_public_get(struct req *r);
void surveys_handle_public_put(struct req *r);
void surveys_handle_report(struct req *r);
void surveys_handle_csv(struct req *r);
void surveys_handle_score_page(struct req *r);
void surveys_handle_score_post(struct req *r);

/* POST /v1/orders/{order_id}/delivered: emit order.delivered once. */
void surveys_handle_order_delivered(struct req *r);
/* POST /v1/orders/{order_id}/survey-link: the order's link survey, if any. */
void surveys_handle_order_survey_link(struct req *r);

#endif
