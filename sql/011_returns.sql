-- 011_returns: return requests (RMA): the shop's return policy, the
-- requests with their lines and photos, the history of every transition,
-- and the customer messages waiting for the outreach layer.

CREATE TABLE return_settings (
    shop_id    bigint PRIMARY KEY REFERENCES shops (id) ON DELETE CASCADE,
    settings   jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- RMA numbers are per shop and human-readable (R-1001, R-1002, ...): one
-- counter row per shop, taken with UPDATE ... RETURNING so two requests
-- never share a number.
CREATE TABLE return_counters (
    shop_id     bigint PRIMARY KEY REFERENCES shops (id) ON DELETE CASCADE,
    last_number bigint NOT NULL DEFAULT 1000
);

CREATE TABLE return_requests (
    shop_id         bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    number          bigint NOT NULL,
    order_id        bigint NOT NULL,
    customer_id     bigint NOT NULL DEFAULT 0,
    email           text NOT NULL DEFAULT '',
    state           text NOT NULL DEFAULT 'requested' CHECK (state IN
                    ('requested', 'approved', 'rejected', 'received', 'resolving',
                     'resolution_failed', 'resolved', 'closed', 'cancelled')),
    resolution      text NOT NULL CHECK (resolution IN ('refund', 'store_credit', 'exchange')),
    -- the merchant's choice at resolve: refund what is left of the shipping too
    refund_shipping boolean NOT NULL DEFAULT false,
    created_by      text NOT NULL,
    -- what the shop made: {"refund_id": ..} / {"coupon_id", "code", "amount"} / {"order_id"}
    result          jsonb,
    failure_message text,
    -- a coupon code chosen once at resolve time, so a retried job finds it
    resolution_ref  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, number),
    FOREIGN KEY (shop_id, order_id) REFERENCES orders (shop_id, order_id)
);
CREATE INDEX return_requests_order ON return_requests (shop_id, order_id);
CREATE INDEX return_requests_state ON return_requests (shop_id, state, id);

CREATE TABLE return_lines (
    shop_id           bigint NOT NULL,
    request_id        bigint NOT NULL,
    line_item_id      bigint NOT NULL,
    product_id        bigint NOT NULL DEFAULT 0,
    quantity          integer NOT NULL CHECK (quantity > 0),
    reason            text NOT NULL,
    note              text NOT NULL DEFAULT '',
    quantity_received integer CHECK (quantity_received >= 0),
    condition         text CHECK (condition IN ('resellable', 'damaged')),
    restock           boolean,
    exchange_product_id   bigint,
    exchange_variation_id bigint,
    PRIMARY KEY (shop_id, request_id, line_item_id),
    FOREIGN KEY (shop_id, request_id) REFERENCES return_requests (shop_id, id) ON DELETE CASCADE
);

CREATE TABLE return_photos (
    shop_id      bigint NOT NULL,
    request_id   bigint NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    media_type   text NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png', 'image/webp')),
    bytes        bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, request_id) REFERENCES return_requests (shop_id, id) ON DELETE CASCADE
);

-- One row per transition: the request's history.
CREATE TABLE return_events (
    shop_id     bigint NOT NULL,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    request_id  bigint NOT NULL,
    actor       text NOT NULL,
    from_state  text,
    to_state    text NOT NULL,
    changes     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, request_id) REFERENCES return_requests (shop_id, id) ON DELETE CASCADE
);
CREATE INDEX return_events_request ON return_events (shop_id, request_id, id);

-- Customer messages (transactional) for each transition, recorded in the
-- transition's transaction. The outreach layer (being built) sends them.
CREATE TABLE return_outbox (
    shop_id     bigint NOT NULL,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    request_id  bigint NOT NULL,
    event_id    bigint NOT NULL,
    to_state    text NOT NULL,
    email       text NOT NULL,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dropped')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, event_id),
    FOREIGN KEY (shop_id, request_id) REFERENCES return_requests (shop_id, id) ON DELETE CASCADE
);

-- Guest look-ups on the returns portal (GET/POST /returns), counted per
-- client address and per order for the rate limit; rows older than a day
-- are dropped as new ones arrive.
CREATE TABLE return_lookups (
    shop_id bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    key     text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX return_lookups_key ON return_lookups (shop_id, key, at);
