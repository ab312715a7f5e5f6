-- pgbench script for bench/link.sh: the database work of one
-- GET /v1/loyalty/accounts/{id}, statement for statement:
--   auth_lookup_key (src/http/auth.c), then, on one connection and outside
--   a transaction block (db_run), loyalty_account_json (src/loyalty/store.c):
--   loyalty_settings_load, loyalty_account_get, loyalty_account_credits.
-- bench/link.sh passes with -D: :key_hash ('\x' || hex(sha256(api key))),
-- :shop_id, :account_first, :account_last (the accounts of
-- bench/loyalty_setup.sql; each transaction takes one at random, as
-- bench/loyalty_wrk.lua does).
--
-- As in bench/get_shop.sql, the to_char format 'YYYY-MM-DD"T"HH24:MI:SS"Z"'
-- is written as adjacent literals split before :MI and :SS, which pgbench
-- -M prepared would otherwise take for variables; PostgreSQL joins them
-- into the same constant, so the server gets the same query.
\set aid random(:account_first, :account_last)
SELECT shop_id, id, encode(key_hash, 'hex') FROM api_keys WHERE key_hash = :key_hash::bytea AND revoked_at IS NULL;
SELECT settings::text FROM loyalty_settings WHERE shop_id = :shop_id;
SELECT id, customer_id, email, balance, lifetime, birthday_month, birthday_day, merged_into, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:'
'MI:'
'SS"Z"') FROM loyalty_accounts WHERE shop_id = :shop_id AND id = :aid;
SELECT delta, expires_at <= now() + interval '30 days', to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:'
'MI:'
'SS"Z"'), (SELECT coalesce(-sum(delta), 0) FROM loyalty_ledger   WHERE shop_id = :shop_id AND account_id = :aid AND delta < 0) FROM loyalty_ledger WHERE shop_id = :shop_id AND account_id = :aid AND delta > 0 ORDER BY expires_at NULLS LAST, id;
