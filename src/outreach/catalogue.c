/*
 * catalogue.c - the per-locale catalogues of customer-facing text, and
 * locale negotiation.
 *
 * The catalogues are locales/<locale>.json, compiled into the binary by
 * scripts/embed-locales (build/gen/locales.c). They are parsed once, on
 * first use, under pthread_once; a catalogue that does not parse, or is
 * not a flat object of strings, stops the process at that first use with a
 * message naming it: it is part of the build, as a migration is, and the
 * unit tests parse every one. After that everything here is read-only.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/mem.h"
#include "aftersale/mail/templates.h"
#include "aftersale/outreach/catalogue.h"

/* build/gen/locales.c */
extern const char *const outreach_locale_names[];
extern const char *const outreach_locale_texts[];
extern const size_t outreach_nlocale_files;

#define MAX_LOCALES 16

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *names[MAX_LOCALES + 1]; /* "en" first */
static json_t *catalogues[MAX_LOCALES];
static size_t nlocales;
static char joined[256];

static void
fatal(const char *name, const char *why)
{
    fprintf(stderr,
            "{\"level\":\"error\",\"msg\":\"catalogue locales/%s.json: %s\"}\n", name, why);
    abort();
}

static json_t *
parse(size_t i)
{
    json_error_t jerr;
    json_t *doc = json_loads(outreach_locale_texts[i], JSON_REJECT_DUPLICATES, &jerr);
    const char *key;
    json_t *v;

    if (!json_is_object(doc))
        fatal(outreach_locale_names[i], doc ? "not a JSON object" : jerr.text);
    json_object_foreach(doc, key, v) if (!json_is_string(v))
        fatal(outreach_locale_names[i], "every value must be a string");
    return doc;
}

static void
load_all(void)
{
    size_t n = outreach_nlocale_files < MAX_LOCALES ? outreach_nlocale_files : MAX_LOCALES;

    /* "en" first: the fallback and the reference; the others as built. */
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            bool en = strcmp(outreach_locale_names[i], "en") == 0;
            if (en != (pass == 0))
                continue;
            names[nlocales] = outreach_locale_names[i];
            catalogues[nlocales++] = parse(i);
        }
    }
    if (nlocales == 0 || strcmp(names[0], "en") != 0)
        fatal("en", "missing: English is every catalogue's fallback");
    for (size_t i = 0; i < nlocales; i++) {
        size_t len = strlen(joined);
        snprintf(joined + len, sizeof(joined) - len, "%s%s", i ? ", " : "", names[i]);
    }
}

static void
init(void)
{
    pthread_once(&once, load_all);
}

const char *const *
outreach_locales(size_t *n)
{
    init();
    *n = nlocales;
    return names;
}

const char *
outreach_locales_joined(void)
{
    init();
    return joined;
}

static const json_t *
catalogue_of(const char *locale)
{
    init();
    for (size_t i = 0; locale != NULL && i < nlocales; i++)
        if (strcmp(names[i], locale) == 0)
            return catalogues[i];
    return NULL;
}

bool
outreach_locale_supported(const char *locale)
{
    return catalogue_of(locale) != NULL;
}

const json_t *
outreach_catalogue_raw(const char *locale)
{
    return catalogue_of(locale);
}

/* Length of a tag's first subtag (up to '-', '_', '.', ';', ',' or space). */
static size_t
subtag_len(const char *s)
{
    size_t n = 0;

    while (s[n] != '\0' && strchr("-_.;, \t", s[n]) == NULL)
        n++;
    return n;
}

const char *
outreach_locale_match(const char *tag)
{
    size_t n;

    if (tag == NULL)
        return NULL;
    while (*tag == ' ' || *tag == '\t')
        tag++;
    n = subtag_len(tag);
    if (n == 0)
        return NULL;
    if (n == 2 && strncasecmp(tag, "zh", 2) == 0) {
        /* Simplified Chinese: zh, zh-CN, zh-SG, zh-Hans(-*), zh_CN. Not
         * zh-TW, zh-HK, zh-MO or zh-Hant: traditional script. */
        const char *rest = tag + 2;
        size_t m;
        if (*rest != '-' && *rest != '_')
            return outreach_locale_supported("zh-Hans") ? "zh-Hans" : NULL;
        rest++;
        m = subtag_len(rest);
        if ((m == 4 && strncasecmp(rest, "hans", 4) == 0) ||
            (m == 2 && (strncasecmp(rest, "cn", 2) == 0 || strncasecmp(rest, "sg", 2) == 0)))
            return outreach_locale_supported("zh-Hans") ? "zh-Hans" : NULL;
        return NULL;
    }
    init();
    for (size_t i = 0; i < nlocales; i++)
        if (strlen(names[i]) == n && strncasecmp(names[i], tag, n) == 0)
            return names[i];
    return NULL;
}

/*
 * The best supported locale of an Accept-Language header: the highest
 * q-value wins, the earlier entry on a tie; q=0 means "not this one".
 * Malformed entries are skipped, never an error (browsers send this).
 */
static const char *
accept_language_best(const char *h)
{
    const char *best = NULL;
    int best_q = 0;

    while (h != NULL && *h != '\0') {
        const char *end = strchr(h, ','), *semi, *m;
        size_t len = end ? (size_t)(end - h) : strlen(h);
        char entry[64];
        int q = 1000;

        if (len < sizeof(entry)) {
            memcpy(entry, h, len);
            entry[len] = '\0';
            semi = strchr(entry, ';');
            if (semi != NULL) {
                const char *qp = strstr(semi, "q=");
                q = qp ? (int)(strtod(qp + 2, NULL) * 1000 + 0.5) : 1000;
            }
            m = outreach_locale_match(entry);
            if (m != NULL && q > best_q) {
                best = m;
                best_q = q;
            }
        }
        h = end ? end + 1 : NULL;
    }
    return best;
}

const char *
outreach_locale_pick(const char *customer, const char *accept_language, const char *shop_default)
{
    const char *m;

    if ((m = outreach_locale_match(customer)) != NULL)
        return m;
    if ((m = accept_language_best(accept_language)) != NULL)
        return m;
    if ((m = outreach_locale_match(shop_default)) != NULL)
        return m;
    return "en";
}

const char *
outreach_catalogue_get(const char *locale, const char *key)
{
    const json_t *c = catalogue_of(locale);
    const char *s = c ? json_string_value(json_object_get(c, key)) : NULL;

    if (s == NULL)
        s = json_string_value(json_object_get(catalogue_of("en"), key));
    return s;
}

static const char *
var_value(const char *const *vars, const char *name, size_t n)
{
    for (size_t i = 0; vars != NULL && vars[i] != NULL; i += 2)
        if (strlen(vars[i]) == n && strncmp(vars[i], name, n) == 0)
            return vars[i + 1] ? vars[i + 1] : "";
    return "";
}

static void
put(struct buf *b, const char *s, size_t n, bool html)
{
    char *tmp, *esc;

    if (!html) {
        buf_append(b, s, n);
        return;
    }
    tmp = xstrndup(s, n);
    esc = mail_html_escape(tmp);
    buf_puts(b, esc);
    free(esc);
    free(tmp);
}

char *
outreach_text(const char *locale, const char *key, bool html, const char *const *vars)
{
    const char *s = outreach_catalogue_get(locale, key);
    struct buf b = {0};

    if (s == NULL)
        s = key; /* a missing key shows itself rather than crash a page */
    while (*s) {
        const char *open = strstr(s, "{{"), *close = open ? strstr(open, "}}") : NULL;
        const char *v;

        if (open == NULL || close == NULL) {
            put(&b, s, strlen(s), html);
            break;
        }
        put(&b, s, (size_t)(open - s), html);
        v = var_value(vars, open + 2, (size_t)(close - open - 2));
        put(&b, v, strlen(v), html);
        s = close + 2;
    }
    buf_puts(&b, ""); /* an empty text is "", not NULL */
    return buf_steal(&b);
}
