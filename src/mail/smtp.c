/*
 * smtp.c - turning a struct mail_message into RFC 5322 bytes and handing
 * them to an SMTP server through libcurl.
 *
 * mail_build() is pure: it validates every header value first (CR or LF
 * anywhere is header injection and is refused, never stripped; addresses
 * must pass mail_address_valid), then writes the headers, folding at
 * spaces so lines stay within 78 characters where the value allows it.
 * Non-ASCII subjects and display names become RFC 2047 "B" encoded-words
 * of at most 42 bytes of UTF-8 each, cut on character boundaries. Bodies
 * are quoted-printable (RFC 2045 6.7), so the wire is 7-bit whatever the
 * language. The multipart boundary starts with "=_", which quoted-printable
 * output can never contain, and is checked against the bodies anyway.
 *
 * mail_send() is called only from job workers. It owns one CURL handle for
 * the duration of the call (never shared, never global-initialised here:
 * main() does that before threads start) and classifies the outcome: a
 * final 5xx reply is permanent (MAIL_FAIL), anything else that went wrong
 * (no connection, timeout, TLS trouble, 4xx) is worth retrying
 * (MAIL_RETRY). The detail names the SMTP reply code and the server's text
 * or curl's message, tidied to one line; the password never appears in it.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/crypto.h"
#include "aftersale/core/mem.h"
#include "aftersale/mail/smtp.h"

#define LINE_MAX_SOFT 78   /* RFC 5322 2.1.1 "SHOULD" for header lines */
#define QP_LINE_MAX 76     /* RFC 2045 6.7 rule 5, including a soft break's '=' */
#define EW_CHUNK 42        /* UTF-8 bytes per encoded-word: 56 base64 chars, 68 in all */
#define QUOTED_NAME_MAX 70 /* longer ASCII names become encoded-words, which fold */
#define VALUE_MAX 900      /* any single header value; keeps lines below 998 */
#define BOUNDARY_PREFIX "=_aftersale_"
#define BOUNDARY_RANDOM 24
#define DEFAULT_TIMEOUT_MS 30000L
#define CONNECT_TIMEOUT_MAX_MS 10000L

/* ---- validation -------------------------------------------------------- */

static bool
has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

/* Well-formed UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
static bool
utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        unsigned char c = *p;
        size_t n;
        unsigned cp;

        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        p += n + 1;
    }
    return true;
}

static bool
domain_valid(const char *d, size_t n)
{
    bool dot = false;

    if (n == 0 || d[0] == '.' || d[0] == '-' || d[n - 1] == '.' || d[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = d[i];

        if (c == '.') {
            if (d[i + 1] == '.')
                return false;
            dot = true;
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-')) {
            return false;
        }
    }
    return dot;
}

bool
mail_address_valid(const char *addr)
{
    /* Besides the contract's list, refuse what would break the header or
     * the SMTP command it is copied into: RFC 5322 specials, controls,
     * non-ASCII (we do not speak SMTPUTF8) and dots that make the local
     * part an invalid dot-atom. */
    static const char specials[] = " \t<>()[],;:\\\"";
    const char *at;
    size_t len, local;

    if (addr == NULL)
        return false;
    len = strlen(addr);
    at = strchr(addr, '@');
    if (len == 0 || len > 254 || at == NULL || strchr(at + 1, '@') != NULL)
        return false;
    local = (size_t)(at - addr);
    if (local == 0 || local > 64 || addr[0] == '.' || addr[local - 1] == '.')
        return false;
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)addr[i];

        if (c <= 0x20 || c >= 0x7F || strchr(specials, c) != NULL)
            return false;
        if (c == '.' && addr[i + 1] == '.')
            return false;
    }
    return domain_valid(at + 1, len - local - 1);
}

/* A display name or subject: present (names may be NULL), no CR/LF,
 * UTF-8, bounded. */
static bool
has_control(const char *s)
{
    /* TAB is header white space; every other control is refused. */
    for (; *s != '\0'; s++)
        if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
            return true;
    return false;
}

static int
check_text(const char *v, const char *field, bool required, struct err *e)
{
    if (v == NULL)
        return required ? err_set(e, ERR_INVALID, field, "is required") : 0;
    /* The API refuses these when the text is written; this catches what was
     * stored before that, so the message is refused with the header named
     * (the job records it) instead of going out broken or injected. */
    if (has_crlf(v))
        return err_set(e, ERR_INVALID, field,
                       "%s must not contain CR or LF (header injection); message not sent",
                       field);
    if (has_control(v))
        return err_set(e, ERR_INVALID, field,
                       "%s must not contain control characters; message not sent", field);
    if (!utf8_valid(v))
        return err_set(e, ERR_INVALID, field, "%s must be UTF-8", field);
    if (strlen(v) > VALUE_MAX)
        return err_set(e, ERR_INVALID, field, "%s is longer than %d bytes", field, VALUE_MAX);
    return 0;
}

/* Printable ASCII without spaces or angle brackets: a Message-ID or URL
 * that can sit between < and > on one header line. */
static bool
token_valid(const char *v, size_t n)
{
    if (n == 0 || n > VALUE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7F || v[i] == '<' ||
            v[i] == '>')
            return false;
    return true;
}

static int
check_message(const struct mail_message *m, struct err *e)
{
    const char *mid = m->message_id;
    size_t n;

    if (m->from_addr == NULL || has_crlf(m->from_addr) || !mail_address_valid(m->from_addr))
        return err_set(e, ERR_INVALID, "from_addr", "from_addr is not a valid email address");
    if (check_text(m->from_name, "from_name", false, e) < 0)
        return -1;
    if (m->to_addr == NULL || has_crlf(m->to_addr) || !mail_address_valid(m->to_addr))
        return err_set(e, ERR_INVALID, "to_addr", "to_addr is not a valid email address");
    if (check_text(m->to_name, "to_name", false, e) < 0)
        return -1;
    if (m->reply_to != NULL && m->reply_to[0] != '\0' &&
        (has_crlf(m->reply_to) || !mail_address_valid(m->reply_to)))
        return err_set(e, ERR_INVALID, "reply_to", "reply_to is not a valid email address");
    if (check_text(m->subject, "subject", true, e) < 0)
        return -1;
    if (mid == NULL || has_crlf(mid))
        return err_set(e, ERR_INVALID, "message_id", "message_id must be \"<id@domain>\" on one line");
    n = strlen(mid);
    if (n < 5 || mid[0] != '<' || mid[n - 1] != '>' || strchr(mid, '@') == NULL ||
        !token_valid(mid + 1, n - 2))
        return err_set(e, ERR_INVALID, "message_id",
                       "message_id must be \"<id@domain>\" in printable ASCII without spaces");
    if (m->unsubscribe_url != NULL) {
        const char *u = m->unsubscribe_url;

        if (has_crlf(u) || !token_valid(u, strlen(u)) ||
            (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0))
            return err_set(e, ERR_INVALID, "unsubscribe_url",
                           "unsubscribe_url must be an http(s) URL without spaces, CR or LF");
    }
    if (m->text == NULL)
        return err_set(e, ERR_INVALID, "text", "is required");
    if (!utf8_valid(m->text))
        return err_set(e, ERR_INVALID, "text", "must be UTF-8");
    if (m->html != NULL && !utf8_valid(m->html))
        return err_set(e, ERR_INVALID, "html", "must be UTF-8");
    return 0;
}

/* ---- headers ----------------------------------------------------------- */

/* A header being written: `col` is the length of the current line so far,
 * `name` the length of "Name:", before which we never fold. */
struct hdr {
    struct buf *b;
    size_t col, name;
};

static void
hdr_start(struct hdr *h, struct buf *b, const char *name)
{
    h->b = b;
    buf_printf(b, "%s:", name);
    h->col = h->name = strlen(name) + 1;
}

/* One space, then `w`; the space becomes CRLF SP when the line would pass
 * 78 characters. Unfolding (deleting the CRLF) restores the value. */
static void
hdr_word(struct hdr *h, const char *w, size_t n)
{
    if (h->col > h->name && h->col + 1 + n > LINE_MAX_SOFT) {
        buf_puts(h->b, "\r\n");
        h->col = 0;
    }
    buf_puts(h->b, " ");
    buf_append(h->b, w, n);
    h->col += 1 + n;
}

static void
hdr_end(struct hdr *h)
{
    buf_puts(h->b, "\r\n");
}

/* Anything but printable ASCII and tab, or a "=?" that a reader could take
 * for the start of an encoded-word, needs RFC 2047 encoding. */
static bool
needs_encoding(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p >= 0x7F)
            return true;
    return strstr(s, "=?") != NULL;
}

/* RFC 2047 "B" encoded-words, each from at most EW_CHUNK bytes and never
 * splitting a UTF-8 sequence; readers join adjacent words without the
 * folding white space between them. */
static void
hdr_encoded_words(struct hdr *h, const char *s)
{
    size_t len = strlen(s), off = 0;

    while (off < len) {
        size_t n = len - off < EW_CHUNK ? len - off : EW_CHUNK;
        char *b64, *word;

        /* Back off to a character boundary (utf8_valid held earlier). */
        while (off + n < len && ((unsigned char)s[off + n] & 0xC0) == 0x80)
            n--;
        b64 = crypto_base64((const uint8_t *)s + off, n);
        word = xasprintf("=?utf-8?B?%s?=", b64);
        hdr_word(h, word, strlen(word));
        free(word);
        free(b64);
        off += n;
    }
}

/* The longest run of non-spaces: a run that cannot fit on a folded line
 * on its own is better encoded (encoded-words fold anywhere). */
static size_t
longest_run(const char *s)
{
    size_t longest = 0;

    for (;;) {
        size_t run = strcspn(s, " ");

        if (run > longest)
            longest = run;
        if (s[run] == '\0')
            return longest;
        s += run + 1;
    }
}

/* Unstructured text (Subject): ASCII is split at its spaces so that it can
 * fold there; anything else is encoded. */
static void
hdr_text(struct hdr *h, const char *s)
{
    if (needs_encoding(s) || longest_run(s) > LINE_MAX_SOFT - 1) {
        hdr_encoded_words(h, s);
        return;
    }
    for (;;) {
        size_t run = strcspn(s, " ");

        hdr_word(h, s, run);
        if (s[run] == '\0')
            return;
        s += run + 1;
    }
}

/* From/To: a display name (quoted-string when plain ASCII and short,
 * encoded-words otherwise) and the address in angle brackets. */
static void
hdr_address(struct buf *b, const char *header, const char *name, const char *addr)
{
    struct hdr h;
    char *angle;

    hdr_start(&h, b, header);
    if (name == NULL || name[0] == '\0') {
        hdr_word(&h, addr, strlen(addr));
        hdr_end(&h);
        return;
    }
    if (!needs_encoding(name) && strlen(name) <= QUOTED_NAME_MAX) {
        struct buf q = {0};

        buf_puts(&q, "\"");
        for (const char *p = name; *p; p++) {
            if (*p == '"' || *p == '\\')
                buf_puts(&q, "\\");
            buf_append(&q, p, 1);
        }
        buf_puts(&q, "\"");
        hdr_word(&h, q.data, q.len);
        buf_free(&q);
    } else {
        hdr_encoded_words(&h, name);
    }
    angle = xasprintf("<%s>", addr);
    hdr_word(&h, angle, strlen(angle));
    free(angle);
    hdr_end(&h);
}

static void
hdr_date(struct buf *b, time_t date)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;

    /* Names from tables, not strftime: the C locale must not matter. */
    gmtime_r(&date, &tm);
    buf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday], tm.tm_mday,
               months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* ---- quoted-printable -------------------------------------------------- */

/* RFC 2045 6.7. Line breaks (LF or CRLF) become CRLF; a lone CR is data.
 * Printable ASCII except '=' stays; space and tab stay unless they end a
 * line; everything else is =XX. Soft breaks keep each line at most 76
 * characters and never split an =XX. A '.' starting a line is encoded too,
 * for relays that still mishandle a lone dot. */
static void
qp_encode(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        bool eol, literal;
        char tok[3];
        size_t n;

        if (c == '\n' || (c == '\r' && p[1] == '\n')) {
            if (c == '\r')
                p++;
            buf_puts(out, "\r\n");
            col = 0;
            continue;
        }
        /* Last character of its line: it may use the 76th column, and
         * white space there must be encoded to survive transport. */
        eol = p[1] == '\0' || p[1] == '\n' || (p[1] == '\r' && p[2] == '\n');
        literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !eol);
        if (c == '.' && col == 0)
            literal = false;
        if (literal) {
            tok[0] = (char)c;
            n = 1;
        } else {
            tok[0] = '=';
            tok[1] = hex[c >> 4];
            tok[2] = hex[c & 0x0F];
            n = 3;
        }
        if (col + n > (eol ? QP_LINE_MAX : QP_LINE_MAX - 1)) {
            buf_puts(out, "=\r\n");
            col = 0;
            /* The new line starts here: a '.' would now lead it. */
            if (c == '.' && n == 1) {
                tok[0] = '=';
                tok[1] = hex[c >> 4];
                tok[2] = hex[c & 0x0F];
                n = 3;
            }
        }
        buf_append(out, tok, n);
        col += n;
    }
}

/* ---- the message ------------------------------------------------------- */

static void
part_headers(struct buf *b)
{
    buf_puts(b, "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
}

char *
mail_build(const struct mail_message *m, time_t date, struct err *e)
{
    struct buf b = {0}, text = {0}, html = {0};
    struct hdr h;
    char boundary[sizeof(BOUNDARY_PREFIX) + BOUNDARY_RANDOM];
    char *msg = NULL;

    if (check_message(m, e) < 0)
        goto out;

    hdr_address(&b, "From", m->from_name, m->from_addr);
    hdr_address(&b, "To", m->to_name, m->to_addr);
    if (m->reply_to != NULL && m->reply_to[0] != '\0')
        hdr_address(&b, "Reply-To", NULL, m->reply_to);
    hdr_start(&h, &b, "Subject");
    hdr_text(&h, m->subject);
    hdr_end(&h);
    hdr_date(&b, date);
    buf_printf(&b, "Message-ID: %s\r\n", m->message_id);
    buf_puts(&b, "MIME-Version: 1.0\r\n");
    if (m->unsubscribe_url != NULL) {
        buf_printf(&b, "List-Unsubscribe: <%s>\r\n", m->unsubscribe_url);
        buf_puts(&b, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    }
    buf_puts(&b, "Auto-Submitted: auto-generated\r\n");

    qp_encode(&text, m->text);
    if (m->html == NULL) {
        buf_puts(&b, "Content-Type: text/plain; charset=utf-8\r\n");
        part_headers(&b);
        buf_append(&b, text.data, text.len);
        if (text.len < 2 || memcmp(text.data + text.len - 2, "\r\n", 2) != 0)
            buf_puts(&b, "\r\n");
    } else {
        qp_encode(&html, m->html);
        /* "=_" cannot occur in quoted-printable output; the loop is the
         * belt to that pair of braces. */
        do {
            memcpy(boundary, BOUNDARY_PREFIX, sizeof(BOUNDARY_PREFIX) - 1);
            crypto_random_alnum(boundary + sizeof(BOUNDARY_PREFIX) - 1, BOUNDARY_RANDOM);
        } while ((text.data && strstr(text.data, boundary)) ||
                 (html.data && strstr(html.data, boundary)));
        buf_printf(&b, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n",
                   boundary);
        buf_printf(&b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n", boundary);
        part_headers(&b);
        if (text.len)
            buf_append(&b, text.data, text.len);
        buf_printf(&b, "\r\n--%s\r\nContent-Type: text/html; charset=utf-8\r\n", boundary);
        part_headers(&b);
        if (html.len)
            buf_append(&b, html.data, html.len);
        buf_printf(&b, "\r\n--%s--\r\n", boundary);
    }
    msg = buf_steal(&b);
out:
    buf_free(&html);
    buf_free(&text);
    buf_free(&b);
    return msg;
}

/* ---- sending ----------------------------------------------------------- */

struct upload {
    const char *data;
    size_t len, off;
};

static size_t
on_read(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct upload *u = userdata;
    size_t n = size * nmemb;

    if (n > u->len - u->off)
        n = u->len - u->off;
    memcpy(ptr, u->data + u->off, n);
    u->off += n;
    return n;
}

/* libcurl passes every SMTP reply line to the header callback; keep the
 * last error reply (>= 400), which is the one that ended the transaction
 * (a later "221" to QUIT must not hide it). */
struct reply {
    char line[160];
};

static size_t
on_reply(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct reply *r = userdata;
    size_t n = size * nmemb;

    if (n >= 3 && data[0] >= '4' && data[0] <= '5' && data[1] >= '0' && data[1] <= '9' &&
        data[2] >= '0' && data[2] <= '9') {
        size_t k = n < sizeof(r->line) - 1 ? n : sizeof(r->line) - 1;

        memcpy(r->line, data, k);
        r->line[k] = '\0';
        r->line[strcspn(r->line, "\r\n")] = '\0';
    }
    return n;
}

/* One line, no controls, and no password even if a server echoes it
 * (overwritten in place, so the detail keeps its length). */
static void
detail_tidy(struct err *e, const char *password)
{
    size_t pl = password ? strlen(password) : 0;
    char *p;

    if (e == NULL)
        return;
    for (p = e->detail; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            *p = ' ';
    if (pl == 0)
        return;
    for (p = e->detail; (p = strstr(p, password)) != NULL; p += pl)
        memset(p, '*', pl);
}

/* Host names and IP literals only: no scheme, path, user info or spaces. */
static bool
host_valid(const char *h)
{
    if (h == NULL || h[0] == '\0' || strlen(h) > 253)
        return false;
    for (const char *p = h; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == ':'))
            return false;
    return true;
}

static long
use_ssl(enum mail_tls tls)
{
    switch (tls) {
    case MAIL_TLS_NONE:
        return (long)CURLUSESSL_NONE;
    case MAIL_TLS_STARTTLS_TRY:
        return (long)CURLUSESSL_TRY;
    case MAIL_TLS_STARTTLS:
    case MAIL_TLS_IMPLICIT:
        break;
    }
    return (long)CURLUSESSL_ALL;
}

enum mail_result
mail_send(const struct mail_server *s, const struct mail_message *m, time_t date, struct err *e)
{
    enum mail_result res = MAIL_RETRY;
    struct curl_slist *rcpt = NULL;
    struct upload up = {0};
    struct reply reply = {{0}};
    char errbuf[CURL_ERROR_SIZE] = {0};
    char *msg = NULL, *url = NULL, *from = NULL, *to = NULL;
    long timeout, code = 0;
    CURL *curl = NULL;
    CURLcode rc;

    if (m->outcome_unknown)
        *m->outcome_unknown = false;
    msg = mail_build(m, date, e);
    if (msg == NULL) {
        res = MAIL_FAIL;
        goto out;
    }
    if (!host_valid(s->host) || s->port <= 0 || s->port > 65535) {
        err_set(e, ERR_INVALID, "host", "SMTP host or port is not valid");
        res = MAIL_FAIL;
        goto out;
    }
    /* The path is the EHLO name: the sender's domain is a better
     * introduction than curl's default "localhost". */
    url = xasprintf("%s://%s%s%s:%d/%s", s->tls == MAIL_TLS_IMPLICIT ? "smtps" : "smtp",
                    strchr(s->host, ':') ? "[" : "", s->host, strchr(s->host, ':') ? "]" : "",
                    s->port, strchr(m->from_addr, '@') + 1);
    from = xasprintf("<%s>", m->from_addr);
    to = xasprintf("<%s>", m->to_addr);
    up.data = msg;
    up.len = strlen(msg);
    timeout = s->timeout_ms > 0 ? s->timeout_ms : DEFAULT_TIMEOUT_MS;

    curl = curl_easy_init();
    rcpt = curl_slist_append(NULL, to);
    if (curl == NULL || rcpt == NULL) {
        err_set(e, ERR_INTERNAL, NULL, "libcurl could not allocate a handle");
        goto out;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout < CONNECT_TIMEOUT_MAX_MS ? timeout : CONNECT_TIMEOUT_MAX_MS);
    curl_easy_setopt(curl, CURLOPT_USE_SSL, use_ssl(s->tls));
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, s->verify_peer ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, s->verify_peer ? 2L : 0L);
    if (s->user != NULL && s->user[0] != '\0') {
        curl_easy_setopt(curl, CURLOPT_USERNAME, s->user);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, s->password ? s->password : "");
    }
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_reply);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply);

    rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK) {
        res = MAIL_OK;
        goto out;
    }
    /* Every byte handed over and no error reply to the data: the server
     * may have queued the message before the failure (RFC 1047). A failure
     * earlier (connect, MAIL FROM, RCPT, mid-body) leaves nothing queued:
     * a server drops a message whose final dot never came. */
    if (m->outcome_unknown)
        *m->outcome_unknown = up.len > 0 && up.off == up.len && code < 400;
    /* The last reply code decides: 5xx is the server's final word (unknown
     * recipient, policy, bad credentials); 4xx and everything without a
     * reply (refused, timeout, TLS) may work later. */
    res = code >= 500 && code <= 599 ? MAIL_FAIL : MAIL_RETRY;
    if (code >= 400 && reply.line[0] != '\0' && strtol(reply.line, NULL, 10) == code)
        err_set(e, res == MAIL_FAIL ? ERR_INVALID : ERR_UNAVAILABLE, NULL, "SMTP %ld: %s", code,
                reply.line[3] ? reply.line + 4 : "");
    else if (code >= 400)
        err_set(e, res == MAIL_FAIL ? ERR_INVALID : ERR_UNAVAILABLE, NULL, "SMTP %ld: %s", code,
                errbuf[0] ? errbuf : curl_easy_strerror(rc));
    else
        err_set(e, ERR_UNAVAILABLE, NULL, "SMTP: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
    detail_tidy(e, s->password);
out:
    curl_easy_cleanup(curl);
    curl_slist_free_all(rcpt);
    free(to);
    free(from);
    free(url);
    free(msg);
    return res;
}
