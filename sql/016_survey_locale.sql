-- 016_survey_locale: the customer's own locale on a survey invitation (a
-- catalogue locale: "de-AT" is stored "de"), when the order event or the
-- call that made the invitation names one; NULL: the locale of the order's
-- review request when it has one, else the shop's default_locale. The
-- email, its reminders and the answer page are written in it.
ALTER TABLE survey_invitations ADD COLUMN locale text;
