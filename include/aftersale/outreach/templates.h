/*
 * templates.h - the built-in email templates, built from the catalogues.
 *
 * One layout per part (subject, text, HTML) written once in C; every word
 * in it comes from the locale's catalogue (locales/<locale>.json), so a
 * new language is a new catalogue file, not code. The result is a
 * template in the mail/templates.h language ({{placeholders}}, the
 * products section), rendered by mail_template_render like a merchant's
 * own template, and built once per process.
 *
 * Kinds: "review_request", "review_reminder". Survey invitations will add
 * theirs here (their words are in the catalogues already: survey.*).
 */
#ifndef AFTERSALE_OUTREACH_TEMPLATES_H
#define AFTERSALE_OUTREACH_TEMPLATES_H

#include "aftersale/mail/templates.h"

/* The built-in template of a kind for a locale (an unsupported locale gets
 * "en"); NULL for an unknown kind. Borrowed, static. */
const char *outreach_template_builtin(const char *kind, const char *locale, enum mail_part part);

/*
 * The frame of any programme's email, for messages that are not built
 * from a template (a survey invitation's first question, a return's
 * status): the same card as the built-in templates, in the shop's brand
 * (logo, accent colour), around `body_html` (trusted HTML the programme
 * made, values already escaped). With an `unsubscribe_link` (a marketing
 * message) the footer gives the reason and the link in the locale's
 * words; without (transactional) there is no footer. `brand` is the brand
 * or shop name shown as the logo's alt text and in the footer. Returns:
 * new string.
 */
struct outreach_settings;
char *outreach_email_html(const char *locale, const struct outreach_settings *os,
                          const char *brand, const char *title, const char *body_html,
                          const char *unsubscribe_link);
/* The text part's footer for the same: "-- \n<reason>\n<link text> <link>\n",
 * or "" without a link. Returns: new string. */
char *outreach_email_text_footer(const char *locale, const char *brand,
                                 const char *unsubscribe_link);

#endif
