/*
 * catalogue.h - customer-facing text, one catalogue per locale.
 *
 * Every word a customer reads (email subjects and bodies, the review and
 * survey pages, the unsubscribe page) lives in locales/<locale>.json, a
 * flat object of key -> text, not in C strings. The files are compiled
 * into the binary (scripts/embed-locales, as sql/ is), so the Docker image
 * and `make run` need no file beside the binary. Texts may hold
 * {{placeholders}} (shop_name, first_name, email, ...); every locale holds
 * exactly the keys and the placeholders of "en" (tests/unit/test_outreach.c
 * checks it).
 *
 * Locales: en, de, pl, sk, tr, bg, zh-Hans. Negotiation (outreach_locale_pick)
 * takes, in order: the customer's own locale (order or customer data),
 * the page's Accept-Language, the shop's default_locale, "en". A tag
 * matches by its language ("de-AT", "de_DE.UTF-8" -> de); Chinese matches
 * zh-Hans for zh, zh-CN, zh-SG and zh-Hans-*, but not zh-TW, zh-HK or
 * zh-Hant (traditional script, which we do not have).
 *
 * Parsed once, on first use (pthread_once); afterwards read-only and
 * thread-safe. Strings returned are borrowed for the life of the process.
 */
#ifndef AFTERSALE_OUTREACH_CATALOGUE_H
#define AFTERSALE_OUTREACH_CATALOGUE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The supported locales, "en" first. Borrowed, static. */
const char *const *outreach_locales(size_t *n);
/* "en, de, pl, ..." for error messages. Borrowed, static. */
const char *outreach_locales_joined(void);
/* True for exactly one of outreach_locales() (case as listed). */
bool outreach_locale_supported(const char *locale);

/* The supported locale a language tag means ("de-AT" -> "de", "zh-CN" ->
 * "zh-Hans"), or NULL. */
const char *outreach_locale_match(const char *tag);

/*
 * The locale to write in: the first of `customer` (a tag, may be NULL),
 * `accept_language` (an Accept-Language header, q-values honoured, may be
 * NULL) and `shop_default` that matches a supported locale; else "en".
 * Borrowed, static.
 */
const char *outreach_locale_pick(const char *customer, const char *accept_language,
                                 const char *shop_default);

/* The text of `key` in `locale`, else in "en", else NULL (an unknown key:
 * a programming error). Borrowed, static. */
const char *outreach_catalogue_get(const char *locale, const char *key);

/*
 * The text of `key` with its {{name}} placeholders replaced from `vars`
 * (name, value pairs, NULL-terminated; an absent or NULL value renders
 * empty). html: values and text are HTML-escaped. Returns: new string.
 */
char *outreach_text(const char *locale, const char *key, bool html, const char *const *vars);

/* For tests: the catalogue of a locale as parsed. Borrowed, or NULL. */
const json_t *outreach_catalogue_raw(const char *locale);

#endif
