-- order.delivered from a WooCommerce status, and survey invitations as
-- customer notes on the order (docs/surveys.md).

-- The order status (WooCommerce's name, without "wc-") that means the
-- order reached the customer; NULL: no status does (only the API call
-- POST /v1/orders/{id}/delivered emits order.delivered). Part of the
-- WooCommerce settings document (GET/PATCH /v1/woocommerce/settings).
ALTER TABLE woo_sync ADD COLUMN delivered_status text
    CHECK (delivered_status ~ '^[a-z0-9_-]{1,17}$');

-- A survey may invite by a customer-visible WooCommerce order note.
ALTER TABLE survey_invitations DROP CONSTRAINT survey_invitations_channel_check;
ALTER TABLE survey_invitations ADD CONSTRAINT survey_invitations_channel_check
    CHECK (channel IN ('email', 'link', 'order_note'));
