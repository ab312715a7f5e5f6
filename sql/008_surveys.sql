-- 008_surveys: feedback surveys: definitions (versioned questions),
-- invitations (one per survey and order), responses (one per invitation)
-- and the per-day aggregates the reports read.

CREATE TABLE surveys (
    shop_id    bigint NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id         bigint GENERATED ALWAYS AS IDENTITY,
    name       text NOT NULL,
    status     text NOT NULL DEFAULT 'draft'
               CHECK (status IN ('draft', 'active', 'paused', 'archived')),
    version    integer NOT NULL DEFAULT 1,   -- the current version of the questions
    settings   jsonb NOT NULL,               -- trigger, audience, sampling, recontact, expiry
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id)
);
CREATE INDEX surveys_active ON surveys (shop_id, status);

-- The questions of a survey never change in place once a response uses
-- them: an edit then makes a new version (surveys/store.c).
CREATE TABLE survey_versions (
    shop_id    bigint NOT NULL,
    survey_id  bigint NOT NULL,
    version    integer NOT NULL,
    questions  jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, survey_id, version),
    FOREIGN KEY (shop_id, survey_id) REFERENCES surveys (shop_id, id) ON DELETE CASCADE
);

CREATE TABLE survey_invitations (
    shop_id       bigint NOT NULL,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    survey_id     bigint NOT NULL,
    version       integer NOT NULL,
    order_id      bigint NOT NULL,
    customer_id   bigint NOT NULL DEFAULT 0,
    email         text NOT NULL DEFAULT '',
    first_name    text NOT NULL DEFAULT '',
    country       text NOT NULL DEFAULT '',      -- billing country
    first_order   boolean NOT NULL DEFAULT true,
    channel       text NOT NULL CHECK (channel IN ('email', 'link')),
    status        text NOT NULL DEFAULT 'scheduled'
                  CHECK (status IN ('scheduled', 'sent', 'answered', 'expired', 'cancelled')),
    cancel_reason text,
    due_at        timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    expires_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, survey_id, order_id),
    FOREIGN KEY (shop_id, survey_id, version) REFERENCES survey_versions (shop_id, survey_id, version)
);
CREATE INDEX survey_invitations_recontact ON survey_invitations (shop_id, survey_id, email, created_at);
CREATE INDEX survey_invitations_order ON survey_invitations (shop_id, order_id);

CREATE TABLE survey_responses (
    shop_id       bigint NOT NULL,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    survey_id     bigint NOT NULL,
    invitation_id bigint NOT NULL,
    version       integer NOT NULL,
    answers       jsonb NOT NULL,           -- {"question id": value}
    other         jsonb NOT NULL DEFAULT '{}', -- {"question id": "other" text}
    complete      boolean NOT NULL DEFAULT false,
    score         smallint,                 -- the first scored question's answer (filters)
    facets        text[] NOT NULL,          -- "qid=value" per counted answer (aggregates)
    search        text NOT NULL DEFAULT '', -- the free-text answers, for text search
    country       text NOT NULL DEFAULT '',
    first_order   boolean NOT NULL DEFAULT true,
    follow_up     text NOT NULL DEFAULT 'new' CHECK (follow_up IN ('new', 'contacted', 'resolved')),
    note          text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, invitation_id),
    FOREIGN KEY (shop_id, invitation_id) REFERENCES survey_invitations (shop_id, id),
    FOREIGN KEY (shop_id, survey_id, version) REFERENCES survey_versions (shop_id, survey_id, version)
);
CREATE INDEX survey_responses_list ON survey_responses (shop_id, survey_id, id);

-- Counts per local day (the shop's time zone) of every facet: '#sent'
-- (invitations sent), '#response' (responses) and 'qid=value' (answers),
-- by billing country and first/repeat customer. Kept by the triggers
-- below in the transaction that changes the row, so an UPDATE of a
-- response subtracts its old answers and adds the new ones.
CREATE TABLE survey_daily (
    shop_id     bigint NOT NULL,
    survey_id   bigint NOT NULL,
    version     integer NOT NULL,
    day         date NOT NULL,
    facet       text NOT NULL,
    country     text NOT NULL,
    first_order boolean NOT NULL,
    n           bigint NOT NULL,
    PRIMARY KEY (shop_id, survey_id, day, version, facet, country, first_order)
);

CREATE FUNCTION survey_daily_add(p_shop bigint, p_survey bigint, p_version integer,
                                 p_at timestamptz, p_facets text[], p_country text,
                                 p_first boolean, p_sign integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO survey_daily AS d (shop_id, survey_id, version, day, facet, country, first_order, n)
    SELECT p_shop, p_survey, p_version,
           (p_at AT TIME ZONE (SELECT timezone FROM shops WHERE id = p_shop))::date,
           f, p_country, p_first, p_sign
      FROM (SELECT DISTINCT unnest(p_facets) AS f) u ORDER BY f
    ON CONFLICT (shop_id, survey_id, day, version, facet, country, first_order)
    DO UPDATE SET n = d.n + EXCLUDED.n
$$;

CREATE FUNCTION survey_responses_agg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM survey_daily_add(OLD.shop_id, OLD.survey_id, OLD.version, OLD.created_at,
                                 OLD.facets || '#response'::text, OLD.country, OLD.first_order, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM survey_daily_add(NEW.shop_id, NEW.survey_id, NEW.version, NEW.created_at,
                                 NEW.facets || '#response'::text, NEW.country, NEW.first_order, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER survey_responses_agg AFTER INSERT OR DELETE ON survey_responses
    FOR EACH ROW EXECUTE FUNCTION survey_responses_agg();
-- An UPDATE moves counts only when a counted column changes (the merchant's
-- follow-up and note do not touch the hot per-day rows).
CREATE TRIGGER survey_responses_agg_update
    AFTER UPDATE OF facets, created_at, version, country, first_order ON survey_responses
    FOR EACH ROW WHEN (OLD.facets IS DISTINCT FROM NEW.facets
                       OR OLD.created_at IS DISTINCT FROM NEW.created_at
                       OR OLD.version IS DISTINCT FROM NEW.version
                       OR OLD.country IS DISTINCT FROM NEW.country
                       OR OLD.first_order IS DISTINCT FROM NEW.first_order)
    EXECUTE FUNCTION survey_responses_agg();

CREATE FUNCTION survey_invitations_agg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.sent_at IS NOT NULL THEN
        PERFORM survey_daily_add(OLD.shop_id, OLD.survey_id, OLD.version, OLD.sent_at,
                                 ARRAY['#sent'], OLD.country, OLD.first_order, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.sent_at IS NOT NULL THEN
        PERFORM survey_daily_add(NEW.shop_id, NEW.survey_id, NEW.version, NEW.sent_at,
                                 ARRAY['#sent'], NEW.country, NEW.first_order, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER survey_invitations_agg AFTER INSERT OR UPDATE OF sent_at, country, first_order
    OR DELETE ON survey_invitations
    FOR EACH ROW EXECUTE FUNCTION survey_invitations_agg();

-- The same counts per product of the order (the report's by_product). The
-- products are copied onto the invitation and the response when they are
-- inserted, so an UPDATE subtracts exactly what the INSERT added.
ALTER TABLE survey_invitations ADD COLUMN products bigint[] NOT NULL DEFAULT '{}';
ALTER TABLE survey_responses ADD COLUMN products bigint[] NOT NULL DEFAULT '{}';

CREATE TABLE survey_daily_products (
    shop_id    bigint NOT NULL,
    survey_id  bigint NOT NULL,
    version    integer NOT NULL,
    day        date NOT NULL,
    product_id bigint NOT NULL,
    facet      text NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (shop_id, survey_id, day, version, product_id, facet)
);

CREATE FUNCTION survey_daily_products_add(p_shop bigint, p_survey bigint, p_version integer,
                                          p_at timestamptz, p_products bigint[],
                                          p_facets text[], p_sign integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO survey_daily_products AS d (shop_id, survey_id, version, day, product_id, facet, n)
    SELECT p_shop, p_survey, p_version,
           (p_at AT TIME ZONE (SELECT timezone FROM shops WHERE id = p_shop))::date,
           pr, f, p_sign
      FROM (SELECT DISTINCT unnest(p_products) AS pr) p,
           (SELECT DISTINCT unnest(p_facets) AS f) u
     ORDER BY pr, f
    ON CONFLICT (shop_id, survey_id, day, version, product_id, facet)
    DO UPDATE SET n = d.n + EXCLUDED.n
$$;

CREATE FUNCTION survey_products_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'survey_invitations' THEN
        SELECT coalesce(array_agg(DISTINCT oi.product_id ORDER BY oi.product_id), '{}')
          INTO NEW.products FROM order_items oi
         WHERE oi.shop_id = NEW.shop_id AND oi.order_id = NEW.order_id AND oi.product_id > 0;
    ELSE
        SELECT i.products INTO NEW.products FROM survey_invitations i
         WHERE i.shop_id = NEW.shop_id AND i.id = NEW.invitation_id;
        NEW.products := coalesce(NEW.products, '{}');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER survey_invitations_products BEFORE INSERT ON survey_invitations
    FOR EACH ROW EXECUTE FUNCTION survey_products_fill();
CREATE TRIGGER survey_responses_products BEFORE INSERT ON survey_responses
    FOR EACH ROW EXECUTE FUNCTION survey_products_fill();

CREATE OR REPLACE FUNCTION survey_responses_agg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM survey_daily_add(OLD.shop_id, OLD.survey_id, OLD.version, OLD.created_at,
                                 OLD.facets || '#response'::text, OLD.country, OLD.first_order, -1);
        PERFORM survey_daily_products_add(OLD.shop_id, OLD.survey_id, OLD.version, OLD.created_at,
                                          OLD.products, OLD.facets || '#response'::text, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM survey_daily_add(NEW.shop_id, NEW.survey_id, NEW.version, NEW.created_at,
                                 NEW.facets || '#response'::text, NEW.country, NEW.first_order, 1);
        PERFORM survey_daily_products_add(NEW.shop_id, NEW.survey_id, NEW.version, NEW.created_at,
                                          NEW.products, NEW.facets || '#response'::text, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION survey_invitations_agg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.sent_at IS NOT NULL THEN
        PERFORM survey_daily_add(OLD.shop_id, OLD.survey_id, OLD.version, OLD.sent_at,
                                 ARRAY['#sent'], OLD.country, OLD.first_order, -1);
        PERFORM survey_daily_products_add(OLD.shop_id, OLD.survey_id, OLD.version, OLD.sent_at,
                                          OLD.products, ARRAY['#sent'], -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.sent_at IS NOT NULL THEN
        PERFORM survey_daily_add(NEW.shop_id, NEW.survey_id, NEW.version, NEW.sent_at,
                                 ARRAY['#sent'], NEW.country, NEW.first_order, 1);
        PERFORM survey_daily_products_add(NEW.shop_id, NEW.survey_id, NEW.version, NEW.sent_at,
                                          NEW.products, ARRAY['#sent'], 1);
    END IF;
    RETURN NULL;
END $$;
