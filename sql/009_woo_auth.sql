-- 009_woo_auth: one-click connection through WooCommerce's app authorisation.
--
-- The plugin asks for an authorisation request (POST
-- /v1/woocommerce/auth-requests); the answer carries a one-time random
-- `state` that is part of the callback URL WooCommerce posts the new
-- consumer key and secret to. The state is the only credential of that
-- callback, so only its SHA-256 is stored, it expires (15 minutes) and it
-- is used once: used_at is set in the same transaction that stores the
-- keys on the shop the state belongs to.

CREATE TABLE woo_auth_requests (
    shop_id     bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    state_hash  bytea NOT NULL CHECK (length(state_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    woo_key_id  bigint,          -- WooCommerce's key_id of the keys it sent
    PRIMARY KEY (shop_id, id),
    UNIQUE (state_hash)
);
