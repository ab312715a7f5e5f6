-- 007_api_scopes: customer-scoped Idempotency-Keys, and the loyalty opt-in
-- that lets email-only customer tokens reach registered accounts.

-- Keys of the customer routes (/v1/me/...) belong to one customer: scope is
-- 'customer:<id>' or 'email:<address>' there, '' for the shop's own routes.
-- Before, one customer's key made the same key a 409 for every other
-- customer of the shop (and told them it had been used).
ALTER TABLE idempotency_keys ADD COLUMN scope text NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (shop_id, scope, key);

-- An email-only token (a guest's) reaches only guest accounts unless the
-- shop opts in: anyone who can mint a token for an address would otherwise
-- read and spend the points of the registered customer with that address.
ALTER TABLE loyalty_settings
    ADD COLUMN email_tokens_reach_registered boolean NOT NULL DEFAULT false;
