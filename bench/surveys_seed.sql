-- bench/surveys_seed.sql: SURVEYS_RESPONSES responses of one survey spread
-- over one year (2025, the shop's local days), for bench/surveys.sh.
-- psql variables: shop, sid (a survey with the questions nps, csat, why,
-- src of bench/surveys.sh), n (responses). One invitation in six stays
-- unanswered. 10 billing countries, a third first orders, 1-2 of 50
-- products per order. Triggers are off while the rows go in (a million
-- row triggers would take minutes); the aggregates are then made by
-- survey_aggregates_rebuild() (sql/019), which computes them from the rows
-- exactly as the triggers would have.
\set ON_ERROR_STOP 1
SET session_replication_role = replica;
INSERT INTO survey_invitations (shop_id, survey_id, version, order_id, customer_id, email,
                                first_name, country, first_order, channel, status, due_at,
                                sent_at, expires_at, created_at, updated_at, products)
SELECT :shop, :sid, 1, 1000000 + g, g % 200000, 'buyer' || g || '@example.com', 'Ann',
       (ARRAY['SK','CZ','AT','DE','PL','HU','SI','HR','IT','FR'])[1 + abs(hashint8extended(g, 1) % 10)],
       abs(hashint8extended(g, 2) % 3) = 0, 'email', CASE WHEN g % 6 = 0 THEN 'sent' ELSE 'answered' END,
       t, t, t + interval '30 days', t, t,
       CASE WHEN g % 4 = 0 THEN ARRAY[1 + abs(hashint8extended(g, 3) % 50), 1 + abs(hashint8extended(g, 4) % 50)]::bigint[]
            ELSE ARRAY[1 + abs(hashint8extended(g, 3) % 50)]::bigint[] END
  FROM generate_series(1, (:n * 6 + 4) / 5) g,
       LATERAL (SELECT timestamptz '2025-01-01 00:00:00+01'
                       + ((g::bigint * 2654435761) % 31449600) * interval '1 second' AS t) x;
-- The responses: one per answered invitation, a day or so after it was sent.
INSERT INTO survey_responses (shop_id, survey_id, invitation_id, version, answers, other, complete,
                              score, facets, search, country, first_order, created_at, updated_at,
                              products)
SELECT i.shop_id, i.survey_id, i.id, 1,
       jsonb_strip_nulls(jsonb_build_object('nps', a.nps, 'csat', a.csat, 'why', a.why, 'src', a.src)),
       CASE WHEN a.src = 'other' THEN jsonb_build_object('src', 'a blog') ELSE '{}' END,
       true, a.nps,
       ARRAY['nps', 'nps=' || a.nps, 'csat', 'csat=' || a.csat]
         || CASE WHEN a.why IS NULL THEN '{}'::text[] ELSE ARRAY['why'] END
         || CASE WHEN a.src IS NULL THEN '{}'::text[] ELSE ARRAY['src', 'src=' || a.src] END,
       coalesce(a.why, ''), i.country, i.first_order, i.sent_at + (i.id % 47) * interval '1 hour',
       i.sent_at + (i.id % 47) * interval '1 hour', i.products
  FROM survey_invitations i,
       LATERAL (SELECT (ARRAY[0,1,2,3,4,5,6,6,7,7,8,8,8,9,9,9,9,10,10,10])[1 + abs(hashint8extended(i.id, 5) % 20)] AS nps,
                       1 + abs(hashint8extended(i.id, 6) % 5) AS csat,
                       CASE WHEN abs(hashint8extended(i.id, 7) % 5) = 0 THEN 'delivery was ' || (ARRAY['late','fast','fine'])[1 + abs(hashint8extended(i.id, 8) % 3)] END AS why,
                       CASE WHEN abs(hashint8extended(i.id, 9) % 2) = 0 THEN (ARRAY['web','friend','ad','other'])[1 + abs(hashint8extended(i.id, 10) % 4)] END AS src) a
 WHERE i.shop_id = :shop AND i.survey_id = :sid AND i.status = 'answered';
RESET session_replication_role;
SELECT survey_aggregates_rebuild(:shop, :sid);
ANALYZE survey_invitations;
ANALYZE survey_responses;
ANALYZE survey_daily;
ANALYZE survey_daily_products;
