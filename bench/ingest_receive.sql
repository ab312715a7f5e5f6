-- pgbench script for bench/link.sh, scenario "webhook ingest": the database
-- work of one POST /v1/webhooks/woocommerce/{shop_id} (src/woo/webhooks.c).
--
-- The receiver's statements, in its order, as it prepares and runs them:
--   1. woo_webhook_secret_load (src/woo/link.c), outside a transaction
--      (db_run): the shop's sealed webhook secret, to check the signature;
--   2. BEGIN; woo_webhook_store: the delivery, raw body as bytea, ON CONFLICT
--      DO NOTHING RETURNING id;
--   3. jobs_enqueue (src/jobs/queue.c): the woo.delivery job and its
--      pg_notify in one statement; COMMIT.
-- bench/link.sh passes with -D:
--   :shop_id  the shop
--   :body     '\x' || hex of a ~3 KB order body from the same generator as
--             the service's requests (same bytes, so TOAST compression costs
--             the same)
--   :sha      '\x' || hex(sha256(body))
--   :delivery a Delivery-ID string
-- Each transaction takes a random resource id, so the unique key (shop,
-- topic, resource id, body hash) never collides and every delivery is
-- stored, as every distinct delivery of the service run is.
--
-- Differences from the service, all on the client side: the job payload
-- and dedupe key are built in SQL from the returned id (pgbench has no
-- string formatting; the service formats them in C and sends them as
-- parameters), and the constant parameters (topic, status, kind, delay,
-- max attempts) are literals here. The service sends BEGIN and COMMIT as
-- prepared statements (db_tx_begin, db_tx_commit); pgbench -M prepared
-- sends them as simple queries: one round trip each either way.
\set rid random(1, 9000000000000000000)
SELECT webhook_secret_enc FROM shops WHERE id = :shop_id;
BEGIN;
INSERT INTO webhook_deliveries (shop_id, topic, resource_id, delivery_id, webhook_id, body, body_sha256, status) VALUES (:shop_id, 'order.updated', :rid, :delivery, 7::bigint, :body::bytea, :sha::bytea, 'received') ON CONFLICT (shop_id, topic, resource_id, body_sha256) DO NOTHING RETURNING id AS delivery_row \gset
WITH ins AS (INSERT INTO jobs (shop_id, kind, payload, dedupe_key, run_at, max_attempts) VALUES (:shop_id, 'woo.delivery', ('{"delivery":' || :delivery_row || '}')::jsonb, 'delivery:' || :delivery_row, now() + 0::bigint * interval '1 millisecond', 8) ON CONFLICT (shop_id, kind, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING id) SELECT id, CASE WHEN 0::bigint = 0 THEN pg_notify('aftersale_jobs', '') END FROM ins;
COMMIT;
