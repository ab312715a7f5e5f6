-- 015_privacy: erasing a customer's personal data (GET /v1/customers/export,
-- POST /v1/customers/erase; see docs/privacy.md).

-- The tombstone that replaces an erased email: stable for one address (so
-- unique keys on email columns still hold, a second erase finds nothing,
-- and the unsubscribe list can still match the address by its hash), and
-- an address that can never be delivered (.invalid, RFC 2606). A
-- tombstone (or '') maps to itself, so erasing twice changes nothing.
CREATE FUNCTION customer_tombstone(email text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN email = '' OR email LIKE 'erased-%@erased.invalid' THEN email
                ELSE 'erased-' || left(encode(sha256(convert_to(lower(btrim(email)), 'UTF8')),
                                              'hex'), 32) || '@erased.invalid' END
$$;

-- Every occurrence of `needle` in `t`, ignoring case, replaced by `repl`:
-- used on JSON texts (job payloads, stored responses, event payloads)
-- where an email sits among data that must keep working.
CREATE FUNCTION customer_redact(t text, needle text, repl text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_replace(t, regexp_replace(needle, '([.*+?^${}()|\[\]\\])', '\\\1', 'g'),
                          repl, 'gi')
$$;

-- A JSON document (event or job payload, job result) with the names a
-- customer gave emptied (top-level keys only, as the service writes them)
-- and `email` replaced by its tombstone; `email` NULL: names only.
CREATE FUNCTION customer_scrub(doc jsonb, email text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN doc IS NULL OR email IS NULL THEN named
                ELSE customer_redact(named::text, email, customer_tombstone(email))::jsonb END
    FROM (SELECT CASE WHEN jsonb_typeof(doc) = 'object' THEN doc || coalesce(
                     (SELECT jsonb_object_agg(k, '') FROM unnest(ARRAY['first_name', 'last_name',
                          'reviewer_name', 'billing_first_name', 'billing_last_name']) AS k
                      WHERE doc ? k AND doc ->> k <> ''), '{}'::jsonb)
                 ELSE doc END AS named) AS d
$$;

-- One row per erase request, also the ones that found nothing: who asked,
-- when, and what was changed; the address only as its tombstone.
CREATE TABLE customer_erasures (
    shop_id     bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id          bigint GENERATED ALWAYS AS IDENTITY,
    email_tombstone text NOT NULL, -- customer_tombstone(email), or ''
    customer_id bigint,
    counts      jsonb NOT NULL,
    actor       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX customer_erasures_tombstone ON customer_erasures (shop_id, email_tombstone);

-- The ledger stays append-only, with one exception: a note may be replaced
-- by '[erased]' when every other column stays as it was, so an erasure
-- removes what a merchant wrote about a customer without touching a
-- single amount (loyalty verify stays clean).
CREATE OR REPLACE FUNCTION loyalty_ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.note = '[erased]'
       AND (to_jsonb(NEW) - 'note') = (to_jsonb(OLD) - 'note') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'loyalty_ledger is append-only' USING ERRCODE = '23514';
END $$;

-- The look-ups by address of an export or erasure (lower-cased, as the
-- routes match), so they do not scan a shop's every order.
CREATE INDEX orders_lower_billing_email ON orders (shop_id, lower(billing_email));
CREATE INDEX customers_lower_email ON customers (shop_id, lower(email));
CREATE INDEX review_requests_lower_email ON review_requests (shop_id, lower(email));
CREATE INDEX return_requests_lower_email ON return_requests (shop_id, lower(email));
