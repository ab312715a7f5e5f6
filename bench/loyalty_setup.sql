-- psql script for bench/link.sh, scenario "loyalty": accounts with a history.
--
--   psql -v shop_id=N -v accounts=M -f bench/loyalty_setup.sql
--
-- M customer accounts for shop N, each with 15 ledger entries over the last
-- ~11 months: 12 earned credits (40-159 points, expiring 12 months after
-- they were earned, so the oldest falls inside the 30-day "expiring soon"
-- window) and 3 redemptions of 100 points. balance_after is the running
-- sum, the account's balance and lifetime match the ledger (what `aftersale
-- loyalty verify` checks), and the table statistics are fresh. Prints the
-- first and the last account id.
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO loyalty_accounts (shop_id, customer_id, email, birthday_month, birthday_day, created_at)
SELECT :shop_id, 100000 + g, 'customer' || g || '@example.com',
       CASE WHEN g % 3 = 0 THEN 1 + g % 12 END, CASE WHEN g % 3 = 0 THEN 1 + g % 28 END,
       now() - interval '400 days'
FROM generate_series(1, :accounts) g;

WITH e AS (
    SELECT a.id AS account_id, n,
           CASE WHEN n % 5 = 0 THEN -100 ELSE 40 + (a.id * 7 + n * 13) % 120 END AS delta,
           now() - (15 - n) * interval '24 days' AS at
    FROM loyalty_accounts a, generate_series(1, 15) n
    WHERE a.shop_id = :shop_id
)
INSERT INTO loyalty_ledger (shop_id, account_id, delta, reason, source_kind, source_id, order_id,
                            balance_after, expires_at, note, actor, created_at)
SELECT :shop_id, account_id, delta,
       CASE WHEN delta > 0 THEN 'earn' ELSE 'redeem' END,
       CASE WHEN delta > 0 THEN 'order' ELSE 'redemption' END,
       account_id || ':' || n,
       CASE WHEN delta > 0 THEN account_id * 100 + n END,
       sum(delta) OVER (PARTITION BY account_id ORDER BY n),
       CASE WHEN delta > 0 THEN at + interval '12 months' END,
       CASE WHEN delta > 0 THEN 'order ' || (account_id * 100 + n) ELSE 'coupon AS-BENCH' || n END,
       CASE WHEN delta > 0 THEN 'job:loyalty.earn' ELSE 'api_key:1' END,
       at
FROM e;

UPDATE loyalty_accounts a SET balance = l.balance, lifetime = l.lifetime
FROM (SELECT account_id, sum(delta) AS balance, sum(delta) FILTER (WHERE delta > 0) AS lifetime
      FROM loyalty_ledger WHERE shop_id = :shop_id GROUP BY account_id) l
WHERE a.shop_id = :shop_id AND a.id = l.account_id;
COMMIT;
ANALYZE loyalty_accounts;
ANALYZE loyalty_ledger;
SELECT min(id) || ' ' || max(id) FROM loyalty_accounts WHERE shop_id = :shop_id;
