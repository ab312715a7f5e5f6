-- 010_outreach: the outreach layer that every programme writing to
-- customers shares (reviews now; surveys and returns next): one settings
-- document per shop (contact policy, sender, brand, default locale), one
-- unsubscribe list for every marketing message, one contact log whose
-- caps count every programme's marketing messages together.

CREATE TABLE messaging_settings (
    shop_id    bigint PRIMARY KEY REFERENCES shops (id) ON DELETE CASCADE,
    settings   jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- An upgraded shop keeps its behaviour: its review contact policy and
-- sender move into the messaging settings (the review sender fields are
-- then "" and mean "the messaging sender"), and its review locale becomes
-- the shop's default locale when it is one the catalogues have.
INSERT INTO messaging_settings (shop_id, settings)
SELECT shop_id, jsonb_strip_nulls(jsonb_build_object(
           'contact_policy', settings -> 'contact_policy',
           'sender_name', settings -> 'sender_name',
           'sender_email', settings -> 'sender_email',
           'default_locale', CASE WHEN settings ->> 'locale' IN
                                       ('en', 'de', 'pl', 'sk', 'tr', 'bg', 'zh-Hans')
                                  THEN settings -> 'locale' END))
FROM review_settings;

UPDATE review_settings
SET settings = (settings - 'contact_policy')
               || jsonb_build_object('sender_name', '', 'sender_email', '')
WHERE settings ? 'contact_policy' OR settings ? 'sender_name' OR settings ? 'sender_email';

-- A catalogue locale moved to default_locale above: the review locale
-- becomes "" ("the shop's default"), so changing default_locale later
-- changes the review emails too. Others (pt_BR, which only a merchant's
-- own template can serve) stay.
UPDATE review_settings
SET settings = settings || jsonb_build_object('locale', '')
WHERE settings ->> 'locale' IN ('en', 'de', 'pl', 'sk', 'tr', 'bg', 'zh-Hans');

-- Which programme sent a message, and whether it was transactional (a
-- return's status: logged, never counted against the cap). Every row so
-- far came from reviews.
ALTER TABLE contact_log ADD COLUMN programme text NOT NULL DEFAULT 'reviews';
ALTER TABLE contact_log ALTER COLUMN programme DROP DEFAULT;
ALTER TABLE contact_log ADD COLUMN transactional boolean NOT NULL DEFAULT false;

-- One unsubscribe per shop and address stops every marketing programme;
-- `programme` only records where the customer clicked.
ALTER TABLE unsubscribes ADD COLUMN programme text;
UPDATE unsubscribes SET programme = 'reviews';

-- The customer's own locale, when the order (or the API call that made the
-- request) says it; NULL: the review settings' locale, else the shop's.
ALTER TABLE review_requests ADD COLUMN locale text;

-- The contact check counts by lower-cased address across programmes.
CREATE INDEX contact_log_lower_email ON contact_log (shop_id, lower(email), sent_at);
