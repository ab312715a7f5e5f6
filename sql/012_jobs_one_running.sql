-- 012_jobs_one_running: at most one running (leased) job per shop, enforced
-- by the database. The outbound claim used to check "no running job of this
-- shop" in its subquery only: two workers claiming at the same moment both
-- saw none (READ COMMITTED snapshots) and ran two calls to one shop at once.
-- Only outbound jobs are ever 'running' (internal jobs are claimed and
-- finished in one transaction), so the index is exactly that rule.

-- A database that already holds two running jobs of one shop keeps the
-- newest lease and hands the others back to the queue.
UPDATE jobs SET status = 'pending', lease_until = NULL, updated_at = now()
 WHERE status = 'running'
   AND (shop_id, id) NOT IN (SELECT DISTINCT ON (shop_id) shop_id, id FROM jobs
                              WHERE status = 'running'
                              ORDER BY shop_id, lease_until DESC NULLS LAST, id);

CREATE UNIQUE INDEX jobs_one_running_per_shop ON jobs (shop_id) WHERE status = 'running';
