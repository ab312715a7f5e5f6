-- 014_webhook_endpoints: signed outbound webhooks (docs/webhooks.md).
--
-- A shop registers endpoints (a URL and the event types it wants). When
-- something happens, the transaction that changes it also writes one
-- outbound_events row (the message: its webhook-id and JSON body, fixed
-- once so every retry and replay sends the same bytes) and one
-- outbound_deliveries row plus one `hooks.deliver` job per matching
-- endpoint (the outbox rule). Every attempt is logged in outbound_attempts.

CREATE TABLE webhook_endpoints (
    shop_id          bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    url              text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description      text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    event_types      text[] NOT NULL,
    enabled          boolean NOT NULL DEFAULT true,
    -- the signing secret ("whsec_..."), sealed with AFTERSALE_SECRET_KEY
    secret_sealed    bytea NOT NULL,
    -- the secret before the last rotation, still signing until it expires
    previous_sealed  bytea,
    previous_until   timestamptz,
    -- first failure of the current run of failures; NULL when the last attempt succeeded
    failing_since    timestamptz,
    disabled_reason  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    UNIQUE (id)
);

CREATE TABLE outbound_events (
    shop_id     bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    msg_id      text NOT NULL,  -- the webhook-id
    type        text NOT NULL,
    body        text NOT NULL,  -- the exact bytes every delivery signs and sends
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    UNIQUE (msg_id)
);
CREATE INDEX outbound_events_time ON outbound_events (shop_id, created_at);

CREATE TABLE outbound_deliveries (
    shop_id      bigint NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    endpoint_id  bigint NOT NULL,
    event_id     bigint NOT NULL,
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled')),
    attempts     integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    UNIQUE (id),
    FOREIGN KEY (shop_id, endpoint_id) REFERENCES webhook_endpoints (shop_id, id) ON DELETE CASCADE,
    FOREIGN KEY (shop_id, event_id) REFERENCES outbound_events (shop_id, id) ON DELETE CASCADE
);
CREATE INDEX outbound_deliveries_endpoint ON outbound_deliveries (shop_id, endpoint_id, id);

CREATE TABLE outbound_attempts (
    shop_id      bigint NOT NULL,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    delivery_id  bigint NOT NULL,
    endpoint_id  bigint NOT NULL,
    attempt      integer NOT NULL,
    status_code  integer,          -- NULL when no HTTP answer came
    duration_ms  integer NOT NULL,
    error        text,             -- NULL on success
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, delivery_id) REFERENCES outbound_deliveries (shop_id, id) ON DELETE CASCADE
);
CREATE INDEX outbound_attempts_endpoint ON outbound_attempts (shop_id, endpoint_id, id);
