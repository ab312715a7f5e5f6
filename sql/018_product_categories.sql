-- 018_product_categories: what WooCommerce order lines do not carry, the
-- categories of their products, fetched from the shop (GET /products?include=)
-- by the woo.product_categories job and cached per shop; and the survey
-- report's per-category counts built on them.

-- One row per product the service asked the shop about. A line item names
-- the parent product (product_id) even for a variation, so variations have
-- no rows of their own. `gone`: the shop no longer has the product (it was
-- missing from the answer): no categories, and asked again after the TTL.
CREATE TABLE product_categories (
    shop_id      bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    product_id   bigint NOT NULL,
    category_ids bigint[] NOT NULL DEFAULT '{}',
    gone         boolean NOT NULL DEFAULT false,
    fetched_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, product_id)
);

-- The names and slugs of the categories seen on products (the reports'
-- labels), as the shop last gave them.
CREATE TABLE shop_categories (
    shop_id     bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    category_id bigint NOT NULL,
    name        text NOT NULL DEFAULT '',
    slug        text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, category_id)
);

-- The categories of an order's products as the cache knows them now (a
-- product whose categories are not known yet adds none).
CREATE FUNCTION order_category_ids(p_shop bigint, p_order bigint) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(DISTINCT c ORDER BY c), '{}')
      FROM order_items oi
      JOIN product_categories pc ON pc.shop_id = oi.shop_id AND pc.product_id = oi.product_id
     CROSS JOIN LATERAL unnest(pc.category_ids) AS c
     WHERE oi.shop_id = p_shop AND oi.order_id = p_order
$$;

-- Survey counts per category of the order (the report's by_category), kept
-- like survey_daily_products. The categories are copied onto the invitation
-- when it is sent (days after the order, when the cache knows them) and
-- from it onto the response when that is inserted (from the cache when the
-- invitation has none), so an UPDATE subtracts exactly what was added; an
-- order counts once per category however many of its products share it.
ALTER TABLE survey_invitations ADD COLUMN categories bigint[] NOT NULL DEFAULT '{}';
ALTER TABLE survey_responses ADD COLUMN categories bigint[] NOT NULL DEFAULT '{}';

CREATE TABLE survey_daily_categories (
    shop_id     bigint NOT NULL,
    survey_id   bigint NOT NULL,
    version     integer NOT NULL,
    day         date NOT NULL,
    category_id bigint NOT NULL,
    facet       text NOT NULL,
    n           bigint NOT NULL,
    PRIMARY KEY (shop_id, survey_id, day, version, category_id, facet)
);

CREATE FUNCTION survey_daily_categories_add(p_shop bigint, p_survey bigint, p_version integer,
                                            p_at timestamptz, p_categories bigint[],
                                            p_facets text[], p_sign integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO survey_daily_categories AS d (shop_id, survey_id, version, day, category_id,
                                              facet, n)
    SELECT p_shop, p_survey, p_version,
           (p_at AT TIME ZONE (SELECT timezone FROM shops WHERE id = p_shop))::date,
           ca, f, p_sign
      FROM (SELECT DISTINCT unnest(p_categories) AS ca) c,
           (SELECT DISTINCT unnest(p_facets) AS f) u
     ORDER BY ca, f
    ON CONFLICT (shop_id, survey_id, day, version, category_id, facet)
    DO UPDATE SET n = d.n + EXCLUDED.n
$$;

CREATE FUNCTION survey_categories_fill() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_order bigint;
BEGIN
    IF TG_TABLE_NAME = 'survey_invitations' THEN
        -- On insert, and again when the invitation is sent.
        IF TG_OP = 'INSERT' OR (OLD.sent_at IS NULL AND NEW.sent_at IS NOT NULL) THEN
            NEW.categories := order_category_ids(NEW.shop_id, NEW.order_id);
        END IF;
    ELSE
        -- The invitation's (a key lookup, on the hot path of the one-click
        -- answer), so a category's responses and invitations count the same
        -- orders; the cache only when the invitation got none (its
        -- categories were not known when it was sent).
        SELECT i.categories, i.order_id INTO NEW.categories, v_order
          FROM survey_invitations i
         WHERE i.shop_id = NEW.shop_id AND i.id = NEW.invitation_id;
        IF coalesce(cardinality(NEW.categories), 0) = 0 THEN
            NEW.categories := coalesce(order_category_ids(NEW.shop_id, v_order), '{}');
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER survey_invitations_categories BEFORE INSERT OR UPDATE OF sent_at
    ON survey_invitations FOR EACH ROW EXECUTE FUNCTION survey_categories_fill();
CREATE TRIGGER survey_responses_categories BEFORE INSERT ON survey_responses
    FOR EACH ROW EXECUTE FUNCTION survey_categories_fill();

CREATE FUNCTION survey_invitations_cat_agg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.sent_at IS NOT NULL THEN
        PERFORM survey_daily_categories_add(OLD.shop_id, OLD.survey_id, OLD.version, OLD.sent_at,
                                            OLD.categories, ARRAY['#sent'], -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.sent_at IS NOT NULL THEN
        PERFORM survey_daily_categories_add(NEW.shop_id, NEW.survey_id, NEW.version, NEW.sent_at,
                                            NEW.categories, ARRAY['#sent'], 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER survey_invitations_cat_agg AFTER INSERT OR UPDATE OF sent_at, categories
    OR DELETE ON survey_invitations
    FOR EACH ROW EXECUTE FUNCTION survey_invitations_cat_agg();

CREATE FUNCTION survey_responses_cat_agg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A changed answer (the one-click page, a second submission) on the same
    -- day, version and categories: only the facets that differ move, so an
    -- answer changed from 3 to 5 costs two counts per category, not six.
    IF TG_OP = 'UPDATE' AND OLD.categories = NEW.categories
       AND OLD.created_at = NEW.created_at AND OLD.version = NEW.version THEN
        PERFORM survey_daily_categories_add(OLD.shop_id, OLD.survey_id, OLD.version,
                                            OLD.created_at, OLD.categories,
                                            ARRAY(SELECT unnest(OLD.facets)
                                                  EXCEPT SELECT unnest(NEW.facets)), -1);
        PERFORM survey_daily_categories_add(NEW.shop_id, NEW.survey_id, NEW.version,
                                            NEW.created_at, NEW.categories,
                                            ARRAY(SELECT unnest(NEW.facets)
                                                  EXCEPT SELECT unnest(OLD.facets)), 1);
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM survey_daily_categories_add(OLD.shop_id, OLD.survey_id, OLD.version,
                                            OLD.created_at, OLD.categories,
                                            OLD.facets || '#response'::text, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM survey_daily_categories_add(NEW.shop_id, NEW.survey_id, NEW.version,
                                            NEW.created_at, NEW.categories,
                                            NEW.facets || '#response'::text, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER survey_responses_cat_agg AFTER INSERT OR DELETE ON survey_responses
    FOR EACH ROW EXECUTE FUNCTION survey_responses_cat_agg();
CREATE TRIGGER survey_responses_cat_agg_update
    AFTER UPDATE OF facets, created_at, version, categories ON survey_responses
    FOR EACH ROW WHEN (OLD.facets IS DISTINCT FROM NEW.facets
                       OR OLD.created_at IS DISTINCT FROM NEW.created_at
                       OR OLD.version IS DISTINCT FROM NEW.version
                       OR OLD.categories IS DISTINCT FROM NEW.categories)
    EXECUTE FUNCTION survey_responses_cat_agg();
