-- pgbench script for bench/run: the database work of one GET /v1/shop.
--
-- The same two statements the service prepares and runs (src/http/auth.c
-- auth_lookup_key, then src/shops/store.c shops_store_get), one after the
-- other, outside a transaction block as the service runs them. bench/run
-- passes the variables with -D and runs pgbench -M prepared, so both are
-- prepared once per connection and the parameters travel as text, as with
-- the service's PQexecPrepared:
--   :key_hash  '\x' || hex(sha256(api key)) of the shop's key
--   :shop_id   that shop's id
--
-- The one textual difference: pgbench -M prepared turns every :name into a
-- parameter, even inside a string literal, so the to_char format
-- 'YYYY-MM-DD"T"HH24:MI:SS"Z"' would lose :MI and :SS. It is written as
-- adjacent literals separated by newlines, which SQL joins into the same
-- constant at parse time: the server gets the same query tree and plan.
SELECT shop_id, id, encode(key_hash, 'hex') FROM api_keys WHERE key_hash = :key_hash::bytea AND revoked_at IS NULL;
SELECT id, name, url, consumer_key, currency, timezone, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:'
'MI:'
'SS"Z"'), to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:'
'MI:'
'SS"Z"') FROM shops WHERE id = :shop_id;
