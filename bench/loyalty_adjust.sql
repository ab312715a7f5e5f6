-- pgbench script for bench/link.sh: the database work of one
-- POST /v1/loyalty/accounts/{id}/adjustments with an Idempotency-Key,
-- statement for statement:
--   auth_lookup_key (src/http/auth.c), outside a transaction; then one
--   transaction (db_tx, src/loyalty/handlers.c adjust_fn):
--   db_idempotency_lock and db_idempotency_begin (src/db/idempotency.c),
--   loyalty_settings_load, loyalty_ledger_lock (the account FOR UPDATE),
--   loyalty_ledger_insert, loyalty_ledger_balance (src/loyalty/store.c),
--   db_idempotency_save; COMMIT.
-- bench/link.sh passes with -D: :key_hash, :shop_id, :account_first,
-- :account_last (as bench/loyalty_get.sql), :req_hash (64 hex, the request
-- hash the service stores), :entry (the JSON of a ledger entry, ~330 bytes,
-- the stored answer) and :route.
--
-- Each transaction takes a random account and a random 63-bit number that
-- serves as the Idempotency-Key and as the ledger source id, so neither the
-- key nor (shop, source_kind, source_id) ever repeats, as in the service
-- run. The service computes balance_after (balance + 1) in C from the
-- locked row; here \gset and \set do it. expires_at: 12 months (the
-- settings bench/link.sh saves). The DB_TS format is split as in
-- bench/loyalty_get.sql.
\set aid random(:account_first, :account_last)
\set k random(1, 9000000000000000000)
SELECT shop_id, id, encode(key_hash, 'hex') FROM api_keys WHERE key_hash = :key_hash::bytea AND revoked_at IS NULL;
BEGIN;
SELECT pg_advisory_xact_lock(hashtextextended(:shop_id || ':' || :k, 7311));
SELECT request_hash, status, body, route FROM idempotency_keys WHERE shop_id = :shop_id AND key = :k;
SELECT settings::text FROM loyalty_settings WHERE shop_id = :shop_id;
SELECT balance AS balance, merged_into FROM loyalty_accounts WHERE shop_id = :shop_id AND id = :aid FOR UPDATE \gset
\set after :balance + 1
INSERT INTO loyalty_ledger (shop_id, account_id, delta, reason, source_kind, source_id, order_id, balance_after, uncollected, expires_at, note, actor) VALUES (:shop_id, :aid, 1, 'adjustment', 'adjustment', :k, NULL, :after, 0,  CASE WHEN 12::integer > 0 THEN now() + make_interval(months => 12::integer)  END, 'bench', 'api_key:1') ON CONFLICT (shop_id, source_kind, source_id) DO NOTHING RETURNING id, account_id, delta, reason, source_kind, source_id, order_id, balance_after, uncollected, to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:'
'MI:'
'SS"Z"'), note, actor, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:'
'MI:'
'SS"Z"');
UPDATE loyalty_accounts SET balance = balance + 1::bigint, lifetime = lifetime + 1::bigint, updated_at = now() WHERE shop_id = :shop_id AND id = :aid;
INSERT INTO idempotency_keys (shop_id, key, route, request_hash, status, body) VALUES (:shop_id, :k, :route, :req_hash, 201, :entry);
COMMIT;
