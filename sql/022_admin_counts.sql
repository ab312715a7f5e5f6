-- 022_admin_counts: indexes for the merchant's overview in wp-admin.
--
-- GET /v1/counts counts survey responses not yet followed up (the menu's
-- badge asks on every admin page): a partial index holds only those, with
-- what the threshold needs, so the count is an index-only scan whatever
-- the number of responses already handled.
CREATE INDEX survey_responses_follow_up_new ON survey_responses (shop_id, survey_id, version, score)
    WHERE follow_up = 'new' AND score IS NOT NULL;

-- GET /v1/loyalty/report sums the ledger entries of a period.
CREATE INDEX loyalty_ledger_time ON loyalty_ledger (shop_id, created_at);
