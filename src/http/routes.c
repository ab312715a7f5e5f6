/*
 * routes.c - THE route table: every HTTP route of aftersale, in one place.
 *
 * Each row: method, path pattern, handler, credential realm and body kind.
 * The server checks the realm and the body kind before a handler runs, so
 * a handler can rely on both. openapi/openapi.yaml describes exactly these
 * rows; tests/integration/test_routes.py holds the two together through
 * `aftersale routes`.
 */
#include "aftersale/customers/privacy.h"
#include "aftersale/http/ops.h"
#include "aftersale/hooks/handlers.h"
#include "aftersale/http/routes.h"
#include "aftersale/loyalty/handlers.h"
#include "aftersale/loyalty/preview.h"
#include "aftersale/outreach/handlers.h"
#include "aftersale/returns/handlers.h"
#include "aftersale/reviews/handlers.h"
#include "aftersale/shops/handlers.h"
#include "aftersale/woo/auth_callback.h"
#include "aftersale/surveys/handlers.h"
#include "aftersale/woo/handlers.h"

const struct route routes[] = {
    {"GET", "/healthz", ops_handle_healthz, AUTH_NONE, BODY_NONE},
    {"GET", "/readyz", ops_handle_readyz, AUTH_NONE, BODY_NONE},
    {"GET", "/metrics", ops_handle_metrics, AUTH_NONE, BODY_NONE},

    /* admin API */
    {"POST", "/v1/shops", shops_handle_create, AUTH_ADMIN, BODY_JSON},
    {"GET", "/v1/shops", shops_handle_list, AUTH_ADMIN, BODY_NONE},
    {"GET", "/v1/shops/{id}", shops_handle_get, AUTH_ADMIN, BODY_NONE},
    {"PATCH", "/v1/shops/{id}", shops_handle_patch, AUTH_ADMIN, BODY_JSON},
    {"POST", "/v1/shops/{id}/api-keys", shops_handle_key_create, AUTH_ADMIN, BODY_JSON_OPTIONAL},
    {"GET", "/v1/shops/{id}/api-keys", shops_handle_key_list, AUTH_ADMIN, BODY_NONE},
    {"DELETE", "/v1/shops/{id}/api-keys/{key_id}", shops_handle_key_revoke, AUTH_ADMIN, BODY_NONE},

    /* shop API */
    {"GET", "/v1/shop", shops_handle_self_get, AUTH_SHOP, BODY_NONE},
    {"PATCH", "/v1/shop", shops_handle_self_patch, AUTH_SHOP, BODY_JSON},
    {"GET", "/v1/counts", shops_handle_counts, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/events", woo_handle_events_list, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/jobs", jobs_handle_list, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/jobs/{id}", jobs_handle_get, AUTH_SHOP, BODY_NONE},
    {"POST", "/v1/jobs/{id}/retry", jobs_handle_retry, AUTH_SHOP, BODY_JSON_OPTIONAL},
    {"POST", "/v1/woocommerce/sync", woo_handle_sync, AUTH_SHOP, BODY_JSON_OPTIONAL},
    {"GET", "/v1/woocommerce/status", woo_handle_status, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/woocommerce/settings", woo_handle_settings_get, AUTH_SHOP, BODY_NONE},
    {"PATCH", "/v1/woocommerce/settings", woo_handle_settings_patch, AUTH_SHOP, BODY_JSON},
    {"POST", "/v1/woocommerce/webhooks", woo_handle_webhooks_setup, AUTH_SHOP,
     BODY_JSON_OPTIONAL},
    {"POST", "/v1/woocommerce/auth-requests", woo_handle_auth_request, AUTH_SHOP, BODY_JSON_OPTIONAL},

    {"GET", "/v1/loyalty/settings", loyalty_handle_settings_get, AUTH_SHOP, BODY_NONE},
    {"PUT", "/v1/loyalty/settings", loyalty_handle_settings_put, AUTH_SHOP, BODY_JSON},
    {"GET", "/v1/loyalty/accounts", loyalty_handle_accounts_list, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/loyalty/accounts/{account}", loyalty_handle_account_get, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/loyalty/accounts/{account}/ledger", loyalty_handle_ledger_list, AUTH_SHOP,
     BODY_NONE},
    {"POST", "/v1/loyalty/accounts/{account}/adjustments", loyalty_handle_adjustment, AUTH_SHOP,
     BODY_JSON},
    {"POST", "/v1/loyalty/accounts/{account}/redemptions", loyalty_handle_redemption, AUTH_SHOP,
     BODY_JSON},
    {"PUT", "/v1/loyalty/accounts/{account}/birthday", loyalty_handle_birthday, AUTH_SHOP,
     BODY_JSON},
    {"POST", "/v1/loyalty/referrals", loyalty_handle_referral, AUTH_SHOP, BODY_JSON},
    {"POST", "/v1/loyalty/preview", loyalty_handle_preview, AUTH_SHOP, BODY_JSON},
    {"GET", "/v1/loyalty/report", loyalty_handle_report, AUTH_SHOP, BODY_NONE},

    /* customer API: a customer token of scope "loyalty" */
    {"GET", "/v1/me/loyalty", loyalty_handle_me_get, AUTH_CUSTOMER, BODY_NONE},
    {"GET", "/v1/me/loyalty/ledger", loyalty_handle_me_ledger, AUTH_CUSTOMER, BODY_NONE},
    {"POST", "/v1/me/loyalty/redemptions", loyalty_handle_me_redemption, AUTH_CUSTOMER,
     BODY_JSON},

    {"GET", "/v1/customers/export", customers_handle_export, AUTH_SHOP, BODY_NONE},
    {"POST", "/v1/customers/erase", customers_handle_erase, AUTH_SHOP, BODY_JSON},

    {"GET", "/v1/messaging/settings", outreach_handle_settings_get, AUTH_SHOP, BODY_NONE},
    {"PUT", "/v1/messaging/settings", outreach_handle_settings_put, AUTH_SHOP, BODY_JSON},
    {"POST", "/v1/messaging/test-email", outreach_handle_test_email, AUTH_SHOP, BODY_JSON},
    {"GET", "/v1/messaging/contact-status", outreach_handle_contact_status, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/reviews/settings", reviews_handle_settings_get, AUTH_SHOP, BODY_NONE},
    {"PUT", "/v1/reviews/settings", reviews_handle_settings_put, AUTH_SHOP, BODY_JSON},
    {"POST", "/v1/review-requests", reviews_handle_request_create, AUTH_SHOP, BODY_JSON},
    {"GET", "/v1/review-requests/{id}", reviews_handle_request_get, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/review-requests", reviews_handle_requests_list, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/reviews", reviews_handle_list, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/reviews/stats", reviews_handle_stats, AUTH_SHOP, BODY_NONE},
    {"POST", "/v1/reviews/{id}/approve", reviews_handle_approve, AUTH_SHOP, BODY_JSON_OPTIONAL},
    {"POST", "/v1/reviews/{id}/reject", reviews_handle_reject, AUTH_SHOP, BODY_JSON_OPTIONAL},
    {"POST", "/v1/reviews/{id}/reply", reviews_handle_reply, AUTH_SHOP, BODY_JSON},

    {"GET", "/v1/returns/settings", returns_handle_settings_get, AUTH_SHOP, BODY_NONE},
    {"PUT", "/v1/returns/settings", returns_handle_settings_put, AUTH_SHOP, BODY_JSON},
    {"POST", "/v1/returns", returns_handle_create, AUTH_SHOP, BODY_JSON},
    {"GET", "/v1/returns", returns_handle_list, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/returns/report", returns_handle_report, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/returns/{id}", returns_handle_get, AUTH_SHOP, BODY_NONE},
    {"POST", "/v1/returns/{id}/approve", returns_handle_approve, AUTH_SHOP, BODY_JSON_OPTIONAL},
    {"POST", "/v1/returns/{id}/reject", returns_handle_reject, AUTH_SHOP, BODY_JSON_OPTIONAL},
    {"POST", "/v1/returns/{id}/receive", returns_handle_receive, AUTH_SHOP, BODY_JSON},
    {"POST", "/v1/returns/{id}/resolve", returns_handle_resolve, AUTH_SHOP, BODY_JSON_OPTIONAL},
    {"POST", "/v1/returns/{id}/cancel", returns_handle_cancel, AUTH_SHOP, BODY_JSON_OPTIONAL},
    {"POST", "/v1/returns/{id}/close", returns_handle_close, AUTH_SHOP, BODY_JSON_OPTIONAL},
    {"POST", "/v1/returns/{id}/photos", returns_handle_photo_add, AUTH_SHOP, BODY_IMAGE},
    {"GET", "/v1/returns/{id}/photos/{photo_id}", returns_handle_photo_get, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/returns/{id}/resolution-preview", returns_handle_preview, AUTH_SHOP, BODY_NONE},
    {"POST", "/v1/webhook-endpoints", hooks_handle_create, AUTH_SHOP, BODY_JSON},
    {"GET", "/v1/webhook-endpoints", hooks_handle_list, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/webhook-endpoints/{id}", hooks_handle_get, AUTH_SHOP, BODY_NONE},
    {"PATCH", "/v1/webhook-endpoints/{id}", hooks_handle_patch, AUTH_SHOP, BODY_JSON},
    {"DELETE", "/v1/webhook-endpoints/{id}", hooks_handle_delete, AUTH_SHOP, BODY_NONE},
    {"POST", "/v1/webhook-endpoints/{id}/rotate-secret", hooks_handle_rotate, AUTH_SHOP, BODY_JSON_OPTIONAL},
    {"GET", "/v1/webhook-endpoints/{id}/deliveries", hooks_handle_deliveries, AUTH_SHOP, BODY_NONE},
    {"POST", "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/replay", hooks_handle_replay, AUTH_SHOP, BODY_JSON_OPTIONAL},
    /* customers: a token of scope "returns", checked by the handlers */
    /* customers: a token of scope "reviews", checked by the handler */
    {"GET", "/v1/me/review-requests", reviews_handle_me_requests, AUTH_NONE, BODY_NONE},
    {"POST", "/v1/me/returns", returns_handle_me_create, AUTH_NONE, BODY_JSON},
    {"GET", "/v1/me/returns", returns_handle_me_list, AUTH_NONE, BODY_NONE},
    {"GET", "/v1/me/returns/{id}", returns_handle_me_get, AUTH_NONE, BODY_NONE},
    {"POST", "/v1/me/returns/{id}/cancel", returns_handle_me_cancel, AUTH_NONE, BODY_JSON_OPTIONAL},
    {"POST", "/v1/me/returns/{id}/photos", returns_handle_me_photo_add, AUTH_NONE, BODY_IMAGE},
    {"GET", "/v1/me/returns/{id}/photos/{photo_id}", returns_handle_me_photo_get, AUTH_NONE,
     BODY_NONE},
    {"GET", "/v1/survey-templates", surveys_handle_templates, AUTH_SHOP, BODY_NONE},
    {"POST", "/v1/surveys", surveys_handle_create, AUTH_SHOP, BODY_JSON},
    {"GET", "/v1/surveys", surveys_handle_list, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/surveys/{id}", surveys_handle_get, AUTH_SHOP, BODY_NONE},
    {"PATCH", "/v1/surveys/{id}", surveys_handle_patch, AUTH_SHOP, BODY_JSON},
    {"DELETE", "/v1/surveys/{id}", surveys_handle_archive, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/surveys/{id}/invitations", surveys_handle_invitations_list, AUTH_SHOP, BODY_NONE},
    {"POST", "/v1/surveys/{id}/invitations", surveys_handle_link_create, AUTH_SHOP, BODY_JSON},
    {"GET", "/v1/surveys/{id}/responses", surveys_handle_responses_list, AUTH_SHOP, BODY_NONE},
    {"GET", "/v1/surveys/{id}/responses.csv", surveys_handle_csv, AUTH_SHOP, BODY_NONE},
    {"POST", "/v1/orders/{order_id}/delivered", surveys_handle_order_delivered, AUTH_SHOP, BODY_JSON_OPTIONAL},
    {"POST", "/v1/orders/{order_id}/survey-link", surveys_handle_order_survey_link, AUTH_SHOP,
     BODY_JSON_OPTIONAL},
    {"GET", "/v1/surveys/{id}/report", surveys_handle_report, AUTH_SHOP, BODY_NONE},
    {"PATCH", "/v1/survey-responses/{id}", surveys_handle_response_patch, AUTH_SHOP, BODY_JSON},
    {"GET", "/v1/survey-responses", surveys_handle_order_responses, AUTH_SHOP, BODY_NONE},

    /* customers, from the links in review emails: the token is the credential */
    {"GET", "/v1/public/review-requests/{token}", reviews_handle_public_get, AUTH_NONE, BODY_NONE},
    {"POST", "/v1/public/review-requests/{token}/reviews", reviews_handle_public_submit, AUTH_NONE,
     BODY_JSON_ANY},
    {"GET", "/review", reviews_handle_page, AUTH_NONE, BODY_NONE},
    {"GET", "/returns", returns_handle_page, AUTH_NONE, BODY_NONE},
    {"POST", "/returns", returns_handle_page_post, AUTH_NONE, BODY_FORM},
    /* the portal's request page: a token of scope "return_photos" in the link */
    {"GET", "/returns/photos/{photo_id}", returns_handle_page_photo, AUTH_NONE, BODY_NONE},
    {"GET", "/returns/requests/{id}", returns_handle_page_request, AUTH_NONE, BODY_NONE},
    {"POST", "/returns/requests/{id}/cancel", returns_handle_page_request_cancel, AUTH_NONE,
     BODY_FORM},
    /* customers, from survey links: the survey token is the credential */
    {"GET", "/v1/public/survey-invitations/{token}", surveys_handle_public_get, AUTH_NONE,
     BODY_NONE},
    {"PUT", "/v1/public/survey-invitations/{token}", surveys_handle_public_put, AUTH_NONE,
     BODY_JSON},
    {"GET", "/s/{token}", surveys_handle_score_page, AUTH_NONE, BODY_NONE},
    {"POST", "/s/{token}", surveys_handle_score_post, AUTH_NONE, BODY_RAW},
    {"GET", "/unsubscribe", outreach_handle_unsubscribe_page, AUTH_NONE, BODY_NONE},
    {"POST", "/unsubscribe", outreach_handle_unsubscribe, AUTH_NONE, BODY_RAW},

    /* WooCommerce itself: authenticated by the X-WC-Webhook-Signature HMAC */
    {"POST", "/v1/webhooks/woocommerce/{shop_id}", woo_handle_webhook, AUTH_NONE, BODY_RAW},
    /* WooCommerce's app authorisation: the one-time state is the credential */
    {"POST", "/v1/woocommerce/auth-callback/{state}", woo_handle_auth_callback, AUTH_NONE, BODY_JSON},
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);

void
routes_print(FILE *out)
{
    for (size_t i = 0; i < nroutes; i++)
        fprintf(out, "%s %s %s\n", routes[i].method, routes[i].pattern,
                router_auth_name(routes[i].auth));
}
