-- 004_reviews: review requests, the reviews customers write, unsubscribes
-- and the contact log that the contact policy counts (shared with surveys).

CREATE TABLE review_settings (
    shop_id    bigint PRIMARY KEY REFERENCES shops (id) ON DELETE CASCADE,
    settings   jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every message a customer got from the shop through aftersale.
CREATE TABLE contact_log (
    shop_id bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id      bigint GENERATED ALWAYS AS IDENTITY,
    email   text NOT NULL,
    kind    text NOT NULL,
    ref_id  bigint NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX contact_log_email ON contact_log (shop_id, email, sent_at);

CREATE TABLE unsubscribes (
    shop_id    bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, email)
);

CREATE TABLE review_requests (
    shop_id        bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    order_id       bigint NOT NULL,
    customer_id    bigint,
    email          text NOT NULL,
    first_name     text NOT NULL DEFAULT '',
    country        text NOT NULL DEFAULT '',
    status         text NOT NULL DEFAULT 'scheduled' CHECK (status IN
                   ('scheduled', 'sent', 'answered', 'expired', 'cancelled', 'unsubscribed')),
    cancel_reason  text,
    due_at         timestamptz NOT NULL,
    sent_at        timestamptz,
    reminders_sent integer NOT NULL DEFAULT 0,
    expires_at     timestamptz,
    answered_at    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, order_id)
);

CREATE TABLE review_request_items (
    shop_id    bigint NOT NULL,
    request_id bigint NOT NULL,
    product_id bigint NOT NULL,
    name       text NOT NULL DEFAULT '',
    PRIMARY KEY (shop_id, request_id, product_id),
    FOREIGN KEY (shop_id, request_id) REFERENCES review_requests (shop_id, id) ON DELETE CASCADE
);

CREATE TABLE reviews (
    shop_id        bigint NOT NULL,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    request_id     bigint NOT NULL,
    order_id       bigint NOT NULL,
    product_id     bigint NOT NULL,
    rating         smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title          text NOT NULL DEFAULT '',
    body           text NOT NULL DEFAULT '',
    reviewer_name  text NOT NULL,
    reviewer_email text NOT NULL,
    status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    woo_review_id  bigint,
    verified       boolean,
    published_at   timestamptz,
    reply          text,
    replied_at     timestamptz,
    reply_woo_id   bigint,
    coupon_code    text,
    coupon_id      bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    moderated_at   timestamptz,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, request_id, product_id),
    FOREIGN KEY (shop_id, request_id) REFERENCES review_requests (shop_id, id)
);
CREATE INDEX reviews_by_email ON reviews (shop_id, reviewer_email, product_id);
CREATE INDEX reviews_list ON reviews (shop_id, status, id);

-- WordPress credentials for publishing merchant replies (WooCommerce keys
-- only authenticate wc/* routes): an Application Password, sealed.
ALTER TABLE review_settings ADD COLUMN wp_username text;
ALTER TABLE review_settings ADD COLUMN wp_password_enc bytea;
