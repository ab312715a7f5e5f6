-- 019_survey_aggregates: per-month counts beside the per-day ones, so a
-- year's report reads twelve months instead of 365 days (bench/README.md:
-- over a million responses the per-day tables hold ~150,000 and ~500,000
-- rows for a year, the per-month ones 1/30 of that).
--
-- survey_monthly and survey_monthly_products have the columns of
-- survey_daily and survey_daily_products, with `month` (the first local
-- day of the month) for `day`. The same functions keep both, in the
-- transaction that changes the response or the invitation (the triggers of
-- sql/008 call them): a month's count is always the sum of its days.
-- The report reads whole months of its range from the monthly tables and
-- the days before the first and after the last whole month from the daily
-- ones (surveys/report.c).
CREATE TABLE survey_monthly (
    shop_id     bigint NOT NULL,
    survey_id   bigint NOT NULL,
    version     integer NOT NULL,
    month       date NOT NULL,
    facet       text NOT NULL,
    country     text NOT NULL,
    first_order boolean NOT NULL,
    n           bigint NOT NULL,
    PRIMARY KEY (shop_id, survey_id, month, version, facet, country, first_order)
);

CREATE TABLE survey_monthly_products (
    shop_id    bigint NOT NULL,
    survey_id  bigint NOT NULL,
    version    integer NOT NULL,
    month      date NOT NULL,
    product_id bigint NOT NULL,
    facet      text NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (shop_id, survey_id, month, version, product_id, facet)
);

-- The day rows first, then the month rows, each in facet order: every
-- transaction takes the row locks in the same order.
CREATE OR REPLACE FUNCTION survey_daily_add(p_shop bigint, p_survey bigint, p_version integer,
                                            p_at timestamptz, p_facets text[], p_country text,
                                            p_first boolean, p_sign integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO survey_daily AS d (shop_id, survey_id, version, day, facet, country, first_order, n)
    SELECT p_shop, p_survey, p_version,
           (p_at AT TIME ZONE (SELECT timezone FROM shops WHERE id = p_shop))::date,
           f, p_country, p_first, p_sign
      FROM (SELECT DISTINCT unnest(p_facets) AS f) u ORDER BY f
    ON CONFLICT (shop_id, survey_id, day, version, facet, country, first_order)
    DO UPDATE SET n = d.n + EXCLUDED.n;
    INSERT INTO survey_monthly AS d (shop_id, survey_id, version, month, facet, country,
                                     first_order, n)
    SELECT p_shop, p_survey, p_version,
           date_trunc('month', (p_at AT TIME ZONE (SELECT timezone FROM shops WHERE id = p_shop)))::date,
           f, p_country, p_first, p_sign
      FROM (SELECT DISTINCT unnest(p_facets) AS f) u ORDER BY f
    ON CONFLICT (shop_id, survey_id, month, version, facet, country, first_order)
    DO UPDATE SET n = d.n + EXCLUDED.n;
$$;

CREATE OR REPLACE FUNCTION survey_daily_products_add(p_shop bigint, p_survey bigint,
                                                     p_version integer, p_at timestamptz,
                                                     p_products bigint[], p_facets text[],
                                                     p_sign integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO survey_daily_products AS d (shop_id, survey_id, version, day, product_id, facet, n)
    SELECT p_shop, p_survey, p_version,
           (p_at AT TIME ZONE (SELECT timezone FROM shops WHERE id = p_shop))::date,
           pr, f, p_sign
      FROM (SELECT DISTINCT unnest(p_products) AS pr) p,
           (SELECT DISTINCT unnest(p_facets) AS f) u
     ORDER BY pr, f
    ON CONFLICT (shop_id, survey_id, day, version, product_id, facet)
    DO UPDATE SET n = d.n + EXCLUDED.n;
    INSERT INTO survey_monthly_products AS d (shop_id, survey_id, version, month, product_id,
                                              facet, n)
    SELECT p_shop, p_survey, p_version,
           date_trunc('month', (p_at AT TIME ZONE (SELECT timezone FROM shops WHERE id = p_shop)))::date,
           pr, f, p_sign
      FROM (SELECT DISTINCT unnest(p_products) AS pr) p,
           (SELECT DISTINCT unnest(p_facets) AS f) u
     ORDER BY pr, f
    ON CONFLICT (shop_id, survey_id, month, version, product_id, facet)
    DO UPDATE SET n = d.n + EXCLUDED.n;
$$;

-- The months of the counts kept so far.
INSERT INTO survey_monthly (shop_id, survey_id, version, month, facet, country, first_order, n)
SELECT shop_id, survey_id, version, date_trunc('month', day)::date, facet, country, first_order,
       sum(n)
  FROM survey_daily
 GROUP BY shop_id, survey_id, version, date_trunc('month', day)::date, facet, country, first_order;
INSERT INTO survey_monthly_products (shop_id, survey_id, version, month, product_id, facet, n)
SELECT shop_id, survey_id, version, date_trunc('month', day)::date, product_id, facet, sum(n)
  FROM survey_daily_products
 GROUP BY shop_id, survey_id, version, date_trunc('month', day)::date, product_id, facet;

-- The report names each of its top products after its latest order line:
-- one index probe per product instead of a scan of the shop's order lines.
CREATE INDEX order_items_product ON order_items (shop_id, product_id, order_id);

-- survey_aggregates_rebuild(shop, survey): the four aggregate tables of one
-- survey computed again from its rows, exactly as the triggers keep them
-- (the shop's local day of the first answer or of the sending, each facet
-- of a row counted once). For a bulk load made with the triggers off
-- (bench/surveys_seed.sql) and for checking that the kept counts equal the
-- rows (tests/integration/test_surveys_aggregates.py).
CREATE FUNCTION survey_aggregates_rebuild(p_shop bigint, p_survey bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    tz text := (SELECT timezone FROM shops WHERE id = p_shop);
BEGIN
    DELETE FROM survey_daily WHERE shop_id = p_shop AND survey_id = p_survey;
    DELETE FROM survey_daily_products WHERE shop_id = p_shop AND survey_id = p_survey;
    DELETE FROM survey_monthly WHERE shop_id = p_shop AND survey_id = p_survey;
    DELETE FROM survey_monthly_products WHERE shop_id = p_shop AND survey_id = p_survey;
    INSERT INTO survey_daily (shop_id, survey_id, version, day, facet, country, first_order, n)
    SELECT p_shop, p_survey, version, day, facet, country, first_order, count(*)
      FROM (SELECT r.version, (r.created_at AT TIME ZONE tz)::date AS day, f.facet, r.country,
                   r.first_order
              FROM survey_responses r,
                   LATERAL (SELECT DISTINCT unnest(r.facets || '#response'::text) AS facet) f
             WHERE r.shop_id = p_shop AND r.survey_id = p_survey
            UNION ALL
            SELECT i.version, (i.sent_at AT TIME ZONE tz)::date, '#sent', i.country, i.first_order
              FROM survey_invitations i
             WHERE i.shop_id = p_shop AND i.survey_id = p_survey AND i.sent_at IS NOT NULL) x
     GROUP BY version, day, facet, country, first_order;
    INSERT INTO survey_daily_products (shop_id, survey_id, version, day, product_id, facet, n)
    SELECT p_shop, p_survey, version, day, product_id, facet, count(*)
      FROM (SELECT r.version, (r.created_at AT TIME ZONE tz)::date AS day, p.product_id, f.facet
              FROM survey_responses r,
                   LATERAL (SELECT DISTINCT unnest(r.products) AS product_id) p,
                   LATERAL (SELECT DISTINCT unnest(r.facets || '#response'::text) AS facet) f
             WHERE r.shop_id = p_shop AND r.survey_id = p_survey
            UNION ALL
            SELECT i.version, (i.sent_at AT TIME ZONE tz)::date, p.product_id, '#sent'
              FROM survey_invitations i,
                   LATERAL (SELECT DISTINCT unnest(i.products) AS product_id) p
             WHERE i.shop_id = p_shop AND i.survey_id = p_survey AND i.sent_at IS NOT NULL) x
     GROUP BY version, day, product_id, facet;
    INSERT INTO survey_monthly (shop_id, survey_id, version, month, facet, country, first_order, n)
    SELECT p_shop, p_survey, version, date_trunc('month', day)::date, facet, country, first_order,
           sum(n)
      FROM survey_daily WHERE shop_id = p_shop AND survey_id = p_survey
     GROUP BY version, date_trunc('month', day)::date, facet, country, first_order;
    INSERT INTO survey_monthly_products (shop_id, survey_id, version, month, product_id, facet, n)
    SELECT p_shop, p_survey, version, date_trunc('month', day)::date, product_id, facet, sum(n)
      FROM survey_daily_products WHERE shop_id = p_shop AND survey_id = p_survey
     GROUP BY version, date_trunc('month', day)::date, product_id, facet;
END $$;
