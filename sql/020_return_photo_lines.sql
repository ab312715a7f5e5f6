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
