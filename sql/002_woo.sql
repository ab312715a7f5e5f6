-- 002_woo: the WooCommerce link: job queue, webhook deliveries, order and
-- customer snapshots, internal events, and the reconciliation state.

-- Jobs: the outbox and work queue. A handler that changes state inserts its
-- jobs in the same transaction. dedupe_key makes an enqueue idempotent per
-- (shop, kind). Outbound jobs are leased (lease_until) so a crashed
-- worker's job runs again once the lease has passed.
CREATE TABLE jobs (
    shop_id      bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    kind         text NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}',
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'running', 'done', 'dead')),
    run_at       timestamptz NOT NULL DEFAULT now(),
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts integer NOT NULL DEFAULT 8 CHECK (max_attempts >= 1),
    last_error   text,
    result       jsonb,
    dedupe_key   text,
    lease_until  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    PRIMARY KEY (shop_id, id),
    UNIQUE (id)
);
CREATE UNIQUE INDEX jobs_dedupe ON jobs (shop_id, kind, dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX jobs_due ON jobs (run_at) WHERE status = 'pending';
CREATE INDEX jobs_running ON jobs (shop_id) WHERE status = 'running';
CREATE INDEX jobs_list ON jobs (shop_id, status, kind, id);

-- Every signed delivery as it arrived (raw body bytes), deduplicated by
-- content: WooCommerce's delivery id has one-second resolution.
CREATE TABLE webhook_deliveries (
    shop_id      bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    topic        text NOT NULL,
    resource_id  bigint NOT NULL DEFAULT 0,
    delivery_id  text,
    webhook_id   bigint,
    body         bytea NOT NULL,
    body_sha256  bytea NOT NULL,
    status       text NOT NULL DEFAULT 'received'
                 CHECK (status IN ('received', 'processed', 'ignored', 'failed')),
    note         text,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, topic, resource_id, body_sha256)
);

-- Snapshots of WooCommerce objects. date_modified_gmt orders them: an
-- older delivery never rolls a snapshot back.
CREATE TABLE orders (
    shop_id            bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    order_id           bigint NOT NULL,
    status             text NOT NULL,
    customer_id        bigint NOT NULL DEFAULT 0,
    billing_email      text NOT NULL DEFAULT '',
    billing_first_name text NOT NULL DEFAULT '',
    billing_last_name  text NOT NULL DEFAULT '',
    billing_country    text NOT NULL DEFAULT '',
    shipping_country   text NOT NULL DEFAULT '',
    currency           char(3) NOT NULL,
    total              numeric NOT NULL DEFAULT 0,
    total_tax          numeric NOT NULL DEFAULT 0,
    shipping_total     numeric NOT NULL DEFAULT 0,
    discount_total     numeric NOT NULL DEFAULT 0,
    refunded_total     numeric NOT NULL DEFAULT 0,
    date_created_gmt   timestamptz,
    date_paid_gmt      timestamptz,
    date_completed_gmt timestamptz,
    date_modified_gmt  timestamptz NOT NULL,
    deleted            boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, order_id)
);

CREATE TABLE order_items (
    shop_id      bigint NOT NULL,
    order_id     bigint NOT NULL,
    line_item_id bigint NOT NULL,
    product_id   bigint NOT NULL DEFAULT 0,
    variation_id bigint NOT NULL DEFAULT 0,
    name         text NOT NULL DEFAULT '',
    quantity     integer NOT NULL DEFAULT 0,
    subtotal     numeric NOT NULL DEFAULT 0,
    total        numeric NOT NULL DEFAULT 0,
    total_tax    numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (shop_id, order_id, line_item_id),
    FOREIGN KEY (shop_id, order_id) REFERENCES orders (shop_id, order_id) ON DELETE CASCADE
);

CREATE TABLE order_refunds (
    shop_id    bigint NOT NULL,
    order_id   bigint NOT NULL,
    refund_id  bigint NOT NULL,
    amount     numeric NOT NULL,
    reason     text NOT NULL DEFAULT '',
    seen_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, order_id, refund_id),
    FOREIGN KEY (shop_id, order_id) REFERENCES orders (shop_id, order_id) ON DELETE CASCADE
);

CREATE TABLE customers (
    shop_id           bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    customer_id       bigint NOT NULL,
    email             text NOT NULL DEFAULT '',
    first_name        text NOT NULL DEFAULT '',
    last_name         text NOT NULL DEFAULT '',
    date_created_gmt  timestamptz,
    date_modified_gmt timestamptz,
    deleted           boolean NOT NULL DEFAULT false,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, customer_id)
);

-- Internal events: one row per real transition, made exactly-once by
-- dedupe_key. Other modules subscribe through jobs.
CREATE TABLE events (
    shop_id     bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    kind        text NOT NULL,
    order_id    bigint,
    customer_id bigint,
    payload     jsonb NOT NULL DEFAULT '{}',
    dedupe_key  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, dedupe_key)
);
CREATE INDEX events_kind ON events (shop_id, kind, id);
CREATE INDEX events_order ON events (shop_id, order_id, id);

-- Reconciliation state, one row per shop.
CREATE TABLE woo_sync (
    shop_id           bigint PRIMARY KEY REFERENCES shops (id) ON DELETE CASCADE,
    interval_s        integer NOT NULL DEFAULT 600 CHECK (interval_s BETWEEN 10 AND 86400),
    watermark         timestamptz NOT NULL,
    last_started_at   timestamptz,
    last_finished_at  timestamptz,
    last_error        text,
    last_orders       integer NOT NULL DEFAULT 0
);

-- Existing shops get their sync state (from their creation on: a first
-- sync never imports years of history; POST /v1/woocommerce/sync can).
INSERT INTO woo_sync (shop_id, watermark) SELECT id, created_at FROM shops;
INSERT INTO jobs (shop_id, kind, dedupe_key) SELECT id, 'woo.sync', 'periodic' FROM shops;
