-- 025_privacy_outbound: erasing a customer's personal data from the
-- outbound webhook messages (outbound_events.body; docs/privacy.md).
--
-- A message's body is the JSON a delivery signs and sends; it is read at
-- each attempt (src/hooks/store.c), so a rewritten body is what a pending
-- retry or a replay sends afterwards. Erasing keeps the envelope (type,
-- timestamp), ids, amounts, states and dates, and replaces, at any depth
-- of `data`, the personal fields by the tombstones the rest of the erasure
-- uses: addresses by customer_tombstone(), names by '' (a reviewer's name
-- by '[erased]', as in reviews), free texts by '[erased]'.

-- A number-valued key of a JSON object as bigint, else NULL (never an
-- error on a body some other code wrote).
CREATE FUNCTION customer_json_id(doc jsonb, key text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(doc -> key) = 'number'
                THEN trunc((doc ->> key)::numeric)::bigint END
$$;

-- `doc` with every personal field, at any depth, replaced by its
-- tombstone (idempotent: a tombstone maps to itself).
CREATE FUNCTION customer_scrub_deep(doc jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    out jsonb;
BEGIN
    IF doc IS NULL THEN
        RETURN NULL;
    ELSIF jsonb_typeof(doc) = 'array' THEN
        SELECT coalesce(jsonb_agg(customer_scrub_deep(v) ORDER BY i), '[]'::jsonb) INTO out
        FROM jsonb_array_elements(doc) WITH ORDINALITY AS a (v, i);
        RETURN out;
    ELSIF jsonb_typeof(doc) <> 'object' THEN
        RETURN doc;
    END IF;
    SELECT coalesce(jsonb_object_agg(k, CASE
        WHEN jsonb_typeof(v) IN ('object', 'array') THEN customer_scrub_deep(v)
        WHEN jsonb_typeof(v) <> 'string' OR v #>> '{}' = '' THEN v
        WHEN k IN ('email', 'billing_email', 'reviewer_email', 'referrer_email', 'referee_email',
                   'customer_email')
            THEN to_jsonb(customer_tombstone(lower(btrim(v #>> '{}'))))
        WHEN k IN ('first_name', 'last_name', 'billing_first_name', 'billing_last_name',
                   'shipping_first_name', 'shipping_last_name', 'company', 'phone',
                   'address_1', 'address_2', 'city', 'postcode')
            THEN to_jsonb(''::text)
        WHEN k IN ('reviewer_name', 'customer_name', 'title', 'body', 'reply', 'note', 'notes',
                   'customer_note', 'search', 'comment', 'text')
            THEN to_jsonb('[erased]'::text)
        ELSE v END), '{}'::jsonb) INTO out
    FROM jsonb_each(doc) AS e (k, v);
    RETURN out;
END $$;

-- The erased body of an outbound message of shop `shop` (a text that
-- parses as JSON, as hooks_emit writes it): `data` scrubbed as above; in a
-- survey response, the answers to questions of kind text and every
-- "other" text -> '[erased]' (as the erasure does to survey_responses:
-- scores and choices kept, as they were when the message was written);
-- any remaining mention of `email` -> its tombstone.
CREATE FUNCTION customer_outbound_erased(shop bigint, type text, body text, email text)
RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    doc  jsonb := body::jsonb;
    d    jsonb := doc -> 'data';
BEGIN
    IF d IS NULL OR jsonb_typeof(d) <> 'object' THEN
        RETURN CASE WHEN email IS NULL THEN body
                    ELSE customer_redact(body, email, customer_tombstone(email)) END;
    END IF;
    IF type = 'survey.response.created' THEN
        IF jsonb_typeof(d -> 'answers') = 'object' THEN
            d := jsonb_set(d, '{answers}', coalesce((
                SELECT jsonb_object_agg(a.key, CASE WHEN EXISTS (
                    SELECT 1 FROM survey_versions v, jsonb_array_elements(v.questions) q
                    WHERE v.shop_id = shop AND v.survey_id = customer_json_id(d, 'survey_id')
                      AND (customer_json_id(d, 'version') IS NULL
                           OR v.version = customer_json_id(d, 'version'))
                      AND q ->> 'id' = a.key AND q ->> 'kind' = 'text')
                    THEN to_jsonb('[erased]'::text) ELSE a.value END)
                FROM jsonb_each(d -> 'answers') a), '{}'::jsonb));
        END IF;
        IF jsonb_typeof(d -> 'other') = 'object' THEN
            d := jsonb_set(d, '{other}', coalesce((
                SELECT jsonb_object_agg(o.key, to_jsonb('[erased]'::text))
                FROM jsonb_each(d -> 'other') o), '{}'::jsonb));
        END IF;
    END IF;
    doc := jsonb_set(doc, '{data}', customer_scrub_deep(d));
    IF email IS NULL THEN
        RETURN doc::text;
    END IF;
    RETURN customer_redact(doc::text, email, customer_tombstone(email));
END $$;
