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

#endif
