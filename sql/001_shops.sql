-- 001_shops: tenants and their API keys.
--
-- Every table that belongs to a shop carries shop_id first in its primary
-- key (design.md: isolation, and distribution by shop later). Secrets are
-- stored sealed with AES-256-GCM (AFTERSALE_SECRET_KEY); API keys only as
-- their SHA-256.

CREATE TABLE shops (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    url                 text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    consumer_key        text NOT NULL CHECK (length(consumer_key) BETWEEN 1 AND 200),
    consumer_secret_enc bytea NOT NULL,
    webhook_secret_enc  bytea NOT NULL,
    token_secret_enc    bytea NOT NULL,
    currency            char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    timezone            text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    shop_id     bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    key_hash    bytea NOT NULL CHECK (length(key_hash) = 32),
    prefix      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    PRIMARY KEY (shop_id, id),
    UNIQUE (id)
);

-- The lookup on every shop request: hash -> live key.
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);
