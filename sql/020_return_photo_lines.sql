-- 020_return_photo_lines: a photo may belong to one line of its request
-- (the portal's form takes up to 5 photos per line); NULL for a photo of
-- the whole request (the photo API). At most 5 photos per line, and 5
-- without a line, counted under the request's row lock (src/returns/store.c).
ALTER TABLE return_photos ADD COLUMN line_item_id bigint;
CREATE INDEX return_photos_request ON return_photos (shop_id, request_id, line_item_id);

-- GET /v1/me/returns: a customer's requests, newest first, by their
-- WooCommerce customer id or by email.
CREATE INDEX return_requests_customer ON return_requests (shop_id, customer_id, id);
CREATE INDEX return_requests_email ON return_requests (shop_id, lower(email), id);

-- The merchant's alert of a new request (returns.alert), sent at most
-- once: the job claims the row ('sending') in a committed transaction
-- before it talks to the SMTP server and marks it 'sent' after. A retry
-- that finds 'sending' knows an earlier attempt was cut off while the
-- server may have taken the message (a crash, or a timeout after the
-- whole message was handed over) and does not send again: the row becomes
-- 'unconfirmed'. A send that certainly failed gives the claim back.
CREATE TABLE return_alerts (
    shop_id    bigint NOT NULL,
    request_id bigint NOT NULL,
    status     text NOT NULL CHECK (status IN ('sending', 'sent', 'unconfirmed')),
    detail     text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop_id, request_id),
    FOREIGN KEY (shop_id, request_id) REFERENCES return_requests (shop_id, id) ON DELETE CASCADE
);

-- Lanes of outbound jobs. At most one running job per shop AND lane (it
-- was per shop): webhook deliveries (hooks.deliver, which may wait on a
-- slow endpoint for WEBHOOK_TIMEOUT_MS) run in the lane 'webhooks', on
-- their own worker threads (WEBHOOK_WORKERS); everything else that calls
-- out (WooCommerce, mails) in the lane 'shop'. The claim writes the lane
-- of the worker that took the job (src/jobs/worker.c decides which kinds
-- are in which lane); the index is the rule.
-- (A constant default: no table rewrite. A job running before this
-- migration, or set running by hand, is in the lane 'shop'.)
ALTER TABLE jobs ADD COLUMN lane text NOT NULL DEFAULT 'shop';
DROP INDEX jobs_one_running_per_shop;
CREATE UNIQUE INDEX jobs_one_running_per_shop_lane ON jobs (shop_id, lane) WHERE status = 'running';
