-- pgbench script for bench/surveys.sh: the database work of one
-- GET /v1/surveys/{id}/report?from=&to=&interval=month.
--
-- The statements the service runs for it, in its order, with the same
-- parameters: auth_lookup_key (src/http/auth.c, the shop's API key), then
-- src/surveys/report.c: surveys_report_range, surveys_questions_span, the
-- counts (totals, countries, first/repeat customers and months, from the
-- monthly table for whole months and the daily one for the edge days),
-- surveys_report_periods, and the 50 top products. Run with pgbench
-- -M extended: the counting statements are unprepared in the service
-- (planned with the actual dates each time), and extended mode is what
-- they get (PQexecParams); the three small ones are prepared in the
-- service and parsed each time here, which costs pgbench, not the service,
-- a few hundredths of a millisecond. Variables (-D): :key_hash :shop_id
-- :sid :from :to :interval, and :m1 :m2 (the whole months, as
-- surveys_report_range computes them; bench/surveys.sh takes them from the
-- same SQL). The version filter is NULL in the service (no ?version=), a
-- constant NULL here: both are folded away by the planner.
SELECT shop_id, id, encode(key_hash, 'hex') FROM api_keys WHERE key_hash = :key_hash::bytea AND revoked_at IS NULL;
SELECT f::text, t::text, tz, CASE WHEN m1 < m2 THEN m1 ELSE t + 1 END::text, CASE WHEN m1 < m2 THEN m2 ELSE t + 1 END::text FROM (SELECT f, t, tz, CASE WHEN date_trunc('month', f)::date = f THEN f ELSE (date_trunc('month', f) + interval '1 month')::date END AS m1, date_trunc('month', t + 1)::date AS m2 FROM (SELECT coalesce(:from::date, (now() AT TIME ZONE sh.timezone)::date - 29) AS f, coalesce(:to::date, (now() AT TIME ZONE sh.timezone)::date) AS t, sh.timezone AS tz FROM surveys s JOIN shops sh ON sh.id = s.shop_id WHERE s.shop_id = :shop_id AND s.id = :sid) r) m;
SELECT v.questions::text FROM survey_versions v JOIN surveys s ON s.shop_id = v.shop_id AND s.id = v.survey_id WHERE v.shop_id = :shop_id AND v.survey_id = :sid ORDER BY v.version = coalesce(NULL::integer, s.version) DESC, v.version DESC;
WITH c AS (SELECT month AS day, facet, country, first_order, n FROM survey_monthly WHERE shop_id = :shop_id AND survey_id = :sid AND month >= :m1::date AND month < :m2::date AND (NULL::integer IS NULL OR version = NULL::integer) UNION ALL SELECT day, facet, country, first_order, n FROM survey_daily WHERE shop_id = :shop_id AND survey_id = :sid AND day >= :from::date AND day < :m1::date AND (NULL::integer IS NULL OR version = NULL::integer) UNION ALL SELECT day, facet, country, first_order, n FROM survey_daily WHERE shop_id = :shop_id AND survey_id = :sid AND day >= :m2::date AND day <= :to::date AND (NULL::integer IS NULL OR version = NULL::integer)) SELECT GROUPING(date_trunc('month', day)), GROUPING(country), GROUPING(first_order), date_trunc('month', day)::date::text, country, first_order, facet, sum(n)::bigint FROM c GROUP BY GROUPING SETS ((facet), (date_trunc('month', day), facet), (country, facet), (first_order, facet)) HAVING sum(n) <> 0;
SELECT g::date::text FROM generate_series(date_trunc(:interval, :from::date::timestamp), :to::date::timestamp, ('1 ' || :interval)::interval) g;
WITH c AS (SELECT month AS day, product_id, facet, n FROM survey_monthly_products WHERE shop_id = :shop_id AND survey_id = :sid AND month >= :m1::date AND month < :m2::date AND (NULL::integer IS NULL OR version = NULL::integer) UNION ALL SELECT day, product_id, facet, n FROM survey_daily_products WHERE shop_id = :shop_id AND survey_id = :sid AND day >= :from::date AND day < :m1::date AND (NULL::integer IS NULL OR version = NULL::integer) UNION ALL SELECT day, product_id, facet, n FROM survey_daily_products WHERE shop_id = :shop_id AND survey_id = :sid AND day >= :m2::date AND day <= :to::date AND (NULL::integer IS NULL OR version = NULL::integer)), a AS (SELECT product_id, facet, sum(n)::bigint AS n FROM c GROUP BY product_id, facet HAVING sum(n) <> 0), top AS MATERIALIZED (SELECT t.product_id, (SELECT oi.name FROM order_items oi WHERE oi.shop_id = :shop_id AND oi.product_id = t.product_id ORDER BY oi.order_id DESC LIMIT 1) AS name FROM (SELECT product_id FROM a WHERE facet = '#response' AND n > 0 ORDER BY n DESC, product_id LIMIT 50) t) SELECT a.product_id, a.facet, a.n, top.name FROM a JOIN top USING (product_id) ORDER BY a.product_id;
