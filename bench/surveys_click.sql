-- pgbench script for bench/surveys.sh: the database work of one click on a
-- score of the survey email, POST /s/{token} (q=nps&v=8), the first answer
-- of its invitation.
--
-- The fifteen statements the service runs for it, in its order, with the
-- same parameters (captured with log_min_duration_statement = 0 on
-- 2026-12-02, after the answer page, the alert hold and the outbound
-- webhooks landed):
--   src/http/auth.c       auth_token_secret      the shop's token secret
--   src/outreach/         outreach_settings_load, outreach_brand_shop (the
--                         page's brand frame)
--   src/surveys/page.c    surveys_page_state, surveys_questions_load
--   src/surveys/responses.c submit_fn, in one transaction:
--     surveys_submit_lock (the invitation, FOR UPDATE), surveys_questions_load,
--     surveys_response_of (answers so far), surveys_submit_upsert (the
--     response; the triggers of sql/008, sql/018 and sql/019 count it per
--     day, month and category), surveys_answered, surveys_alert_check
--     (src/surveys/alert.c; drops a held alert of a raised score),
--     surveys_response_of, hooks_emit (the survey.response.created event:
--     no endpoint in the bench, so it inserts nothing), loyalty_settings_load
-- run with pgbench -M prepared (the service prepares each once per
-- connection and sends the parameters as text). Variables (-D):
--   :shop_id :sid :ver        the shop, the survey, its version
--   :first :pool :clients     invitations first .. first + pool - 1 are this
--                             side's; :k counts this client's transactions
--                             (pgbench keeps a client's variables between
--                             transactions), so every transaction answers an
--                             invitation nobody answered before (until the
--                             pool runs out: then it starts over, as the wrk
--                             side does, and bench/surveys.sh says so)
--   :answers :facets :other :complete :score
--                             '{"nps": 8}', '{nps,nps=8}', '{}', t, 8 as the service sends them
-- Differences: the event body of hooks_emit is a literal with a space
-- after each colon and no colons in its times (pgbench would read ":8",
-- ":true" and ":17" as its variables; the service sends it compact, as a
-- parameter; with no endpoint nothing is inserted either way); the empty
-- text `search` is the literal '' (pgbench -D cannot
-- hold an empty value; the service sends it as a parameter), and the
-- to_char formats are split into adjacent literals, as in get_shop.sql,
-- because pgbench would turn :MI and :SS into parameters.
\set k :k + 1
\set iid :first + (:client_id + :k * :clients) % :pool
SELECT token_secret_enc FROM shops WHERE id = :shop_id;
SELECT settings::text FROM messaging_settings WHERE shop_id = :shop_id;
SELECT name FROM shops WHERE id = :shop_id;
SELECT i.status, coalesce(i.expires_at < now(), false), s.status, i.survey_id, i.version, coalesce(i.locale, (SELECT rr.locale  FROM review_requests rr WHERE rr.shop_id = i.shop_id  AND rr.order_id = i.order_id AND rr.locale IS NOT NULL  ORDER BY rr.id DESC LIMIT 1), ''), r.answers::text, r.other::text, coalesce(r.complete, false) FROM survey_invitations i JOIN surveys s ON s.shop_id = i.shop_id AND s.id = i.survey_id LEFT JOIN survey_responses r ON r.shop_id = i.shop_id AND r.invitation_id = i.id WHERE i.shop_id = :shop_id AND i.id = :iid;
SELECT questions::text FROM survey_versions WHERE shop_id = :shop_id AND survey_id = :sid AND version = :ver;
BEGIN;
SELECT i.status, i.survey_id, i.version, coalesce(i.expires_at < now(), false), s.name, sh.name, i.first_name, to_char(i.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:'
'MI:'
'SS"Z"'), s.status FROM survey_invitations i JOIN surveys s ON s.shop_id = i.shop_id AND s.id = i.survey_id JOIN shops sh ON sh.id = i.shop_id WHERE i.shop_id = :shop_id AND i.id = :iid FOR UPDATE OF i;
SELECT questions::text FROM survey_versions WHERE shop_id = :shop_id AND survey_id = :sid AND version = :ver;
SELECT r.id, r.survey_id, r.invitation_id, i.order_id, r.version, r.answers::text, r.other::text, r.complete, r.score, r.country, r.first_order, i.email, r.follow_up, r.note, to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:'
'MI:'
'SS"Z"'), to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:'
'MI:'
'SS"Z"') FROM survey_responses r JOIN survey_invitations i ON i.shop_id = r.shop_id AND i.id = r.invitation_id WHERE r.shop_id = :shop_id AND r.invitation_id = :iid;
INSERT INTO survey_responses AS r (shop_id, survey_id, invitation_id, version, answers, other, complete, score, facets, search, country, first_order) SELECT :shop_id, i.survey_id, :iid, :ver, :answers::jsonb, :other::jsonb, :complete, :score, :facets::text[], '', i.country, i.first_order FROM survey_invitations i WHERE i.shop_id = :shop_id AND i.id = :iid ON CONFLICT (shop_id, invitation_id) DO UPDATE SET answers = EXCLUDED.answers, other = EXCLUDED.other, complete = EXCLUDED.complete, score = EXCLUDED.score, facets = EXCLUDED.facets, search = EXCLUDED.search, updated_at = now() RETURNING (xmax = 0);
UPDATE survey_invitations SET status = 'answered', updated_at = now() WHERE shop_id = :shop_id AND id = :iid AND status IN ('scheduled', 'sent');
WITH chk AS (SELECT r.id, coalesce(s.settings->>'alert_order_note', 'true') = 'true', r.survey_id, r.score, (SELECT i.order_id FROM survey_invitations i  WHERE i.shop_id = r.shop_id AND i.id = r.invitation_id) FROM survey_responses r JOIN surveys s ON s.shop_id = r.shop_id  AND s.id = r.survey_id CROSS JOIN LATERAL (SELECT q->>'kind' AS kind FROM survey_versions v,   jsonb_array_elements(v.questions) WITH ORDINALITY AS x(q, n)   WHERE v.shop_id = r.shop_id AND v.survey_id = r.survey_id   AND v.version = r.version AND q->>'kind' IN ('nps', 'csat', 'ces', 'rating')   ORDER BY n LIMIT 1) k WHERE r.shop_id = :shop_id AND r.invitation_id = :iid AND r.score IS NOT NULL AND r.score <= coalesce((s.settings->>'alert_threshold')::integer,  CASE k.kind WHEN 'nps' THEN 6 WHEN 'ces' THEN 3 ELSE 2 END)), dropped AS (DELETE FROM jobs j USING survey_responses r  WHERE NOT EXISTS (SELECT 1 FROM chk) AND r.shop_id = :shop_id AND r.invitation_id = :iid AND j.shop_id = :shop_id AND j.status = 'pending' AND j.run_at > now() AND j.attempts = 0 AND ((j.kind = 'surveys.alert' AND j.dedupe_key = 'alert:' || r.id)  OR (j.kind = 'surveys.alert_note' AND j.dedupe_key = 'alert_note:' || r.id))) SELECT * FROM chk;
SELECT r.id, r.survey_id, r.invitation_id, i.order_id, r.version, r.answers::text, r.other::text, r.complete, r.score, r.country, r.first_order, i.email, r.follow_up, r.note, to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:'
'MI:'
'SS"Z"'), to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:'
'MI:'
'SS"Z"') FROM survey_responses r JOIN survey_invitations i ON i.shop_id = r.shop_id AND i.id = r.invitation_id WHERE r.shop_id = :shop_id AND r.invitation_id = :iid;
WITH ev AS (  INSERT INTO outbound_events (shop_id, msg_id, type, body)  SELECT :shop_id, 'msg_bench_' || :iid::text, 'survey.response.created', '{"data": {"answers": {"nps": 8},"complete": true,"country": "SK","created_at": "2026-12-02T201723Z","email": "p.0ee00a37@example.com","first_order": true,"follow_up": "new","id": 1,"invitation_id": 1,"note": null,"order_id": 11,"other": {},"score": 8,"survey_id": 1,"updated_at": "2026-12-02T201723Z","version": 1},"timestamp": "2026-12-02T201723Z","type": "survey.response.created"}' WHERE EXISTS (SELECT 1 FROM webhook_endpoints w   WHERE w.shop_id = :shop_id AND w.enabled AND ('survey.response.created' = ANY (w.event_types) OR '*' = ANY (w.event_types))) RETURNING id) INSERT INTO outbound_deliveries (shop_id, endpoint_id, event_id) SELECT :shop_id, w.id, ev.id FROM webhook_endpoints w, ev  WHERE w.shop_id = :shop_id AND w.enabled AND ('survey.response.created' = ANY (w.event_types) OR '*' = ANY (w.event_types)) RETURNING id;
SELECT settings::text FROM loyalty_settings WHERE shop_id = :shop_id;
COMMIT;
