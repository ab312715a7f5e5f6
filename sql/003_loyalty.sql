-- 003_loyalty: the loyalty programme: settings, accounts, the append-only
-- ledger, redemptions, referrals; and idempotency keys for the API.

CREATE TABLE loyalty_settings (
    shop_id    bigint PRIMARY KEY REFERENCES shops (id) ON DELETE CASCADE,
    settings   jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One account per shop and customer: the WooCommerce customer id when
-- there is one, else the normalised billing email (a guest). A guest who
-- registers is turned into the customer's account in place (history kept);
-- when both exist, the guest's points move over and merged_into points at
-- the survivor.
CREATE TABLE loyalty_accounts (
    shop_id        bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    customer_id    bigint,
    email          text NOT NULL DEFAULT '',
    balance        bigint NOT NULL DEFAULT 0 CHECK (balance >= 0),
    lifetime       bigint NOT NULL DEFAULT 0 CHECK (lifetime >= 0),
    birthday_month smallint CHECK (birthday_month BETWEEN 1 AND 12),
    birthday_day   smallint CHECK (birthday_day BETWEEN 1 AND 31),
    merged_into    bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    UNIQUE (id)
);
CREATE UNIQUE INDEX loyalty_accounts_customer ON loyalty_accounts (shop_id, customer_id)
    WHERE customer_id IS NOT NULL;
CREATE UNIQUE INDEX loyalty_accounts_guest ON loyalty_accounts (shop_id, email)
    WHERE customer_id IS NULL AND merged_into IS NULL;
CREATE INDEX loyalty_accounts_email ON loyalty_accounts (shop_id, email);

-- The ledger: never updated, never deleted. (shop, source_kind, source_id)
-- is unique, so one source pays or takes once.
CREATE TABLE loyalty_ledger (
    shop_id       bigint NOT NULL,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    account_id    bigint NOT NULL,
    delta         bigint NOT NULL,
    reason        text NOT NULL,
    source_kind   text NOT NULL,
    source_id     text NOT NULL,
    order_id      bigint,
    balance_after bigint NOT NULL CHECK (balance_after >= 0),
    uncollected   bigint NOT NULL DEFAULT 0 CHECK (uncollected >= 0),
    expires_at    timestamptz,
    note          text NOT NULL DEFAULT '',
    actor         text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, source_kind, source_id),
    FOREIGN KEY (shop_id, account_id) REFERENCES loyalty_accounts (shop_id, id)
);
CREATE INDEX loyalty_ledger_account ON loyalty_ledger (shop_id, account_id, id);
CREATE INDEX loyalty_ledger_order ON loyalty_ledger (shop_id, order_id) WHERE order_id IS NOT NULL;

-- Append-only, enforced by the database itself.
CREATE FUNCTION loyalty_ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'loyalty_ledger is append-only' USING ERRCODE = '23514';
END $$;
CREATE TRIGGER loyalty_ledger_no_update BEFORE UPDATE OR DELETE ON loyalty_ledger
    FOR EACH ROW EXECUTE FUNCTION loyalty_ledger_immutable();

CREATE TABLE loyalty_redemptions (
    shop_id     bigint NOT NULL,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    account_id  bigint NOT NULL,
    points      bigint NOT NULL CHECK (points > 0),
    amount      numeric NOT NULL CHECK (amount > 0),
    currency    char(3) NOT NULL,
    code        text NOT NULL,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'created', 'failed')),
    coupon_id   bigint,
    expires_on  date NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, code),
    FOREIGN KEY (shop_id, account_id) REFERENCES loyalty_accounts (shop_id, id)
);

CREATE TABLE loyalty_referrals (
    shop_id        bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    referrer_email text NOT NULL,
    referee_email  text NOT NULL,
    status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid')),
    order_id       bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, referee_email),
    CHECK (referrer_email <> referee_email)
);

-- Idempotency-Key: the first answer to a key is kept and replayed.
CREATE TABLE idempotency_keys (
    shop_id      bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    key          text NOT NULL,
    route        text NOT NULL,
    request_hash text NOT NULL,
    status       integer NOT NULL,
    body         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, key)
);

-- The daily loyalty job (birthdays, anniversaries, expiry) of every shop.
INSERT INTO jobs (shop_id, kind, dedupe_key, max_attempts)
    SELECT id, 'loyalty.daily', 'periodic', 1000000 FROM shops;
