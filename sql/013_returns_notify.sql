-- 013_returns_notify: the customer's locale on a return request (the
-- portal's page language), so the messages of its transitions are written
-- in it; NULL: the shop's default_locale.
ALTER TABLE return_requests ADD COLUMN locale text;
