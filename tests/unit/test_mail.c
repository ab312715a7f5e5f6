/*
 * test_mail.c - unit tests of mail/smtp.c and mail/templates.c.
 *
 * mail_build and the templates are pure and tested on their output bytes:
 * quoted-printable edge cases are checked against hand-encoded bodies and a
 * small decoder, headers against RFC 5322/2047 shapes. mail_send is tested
 * against a tiny SMTP server on a thread in this process (127.0.0.1, an
 * ephemeral port) that speaks just enough SMTP to accept, reject (550 for
 * any "reject@" recipient), fail temporarily (421 greeting) or stay silent.
 * Every socket wait is bounded (poll and SO_RCVTIMEO, 5 s), so a broken
 * client fails a test instead of hanging it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "aftersale/core/buf.h"
#include "aftersale/core/crypto.h"
#include "aftersale/core/err.h"
#include "aftersale/core/mem.h"
#include "aftersale/mail/smtp.h"
#include "aftersale/mail/templates.h"
#include "aftersale/outreach/templates.h"

#define DATE 1700000000 /* Tue, 14 Nov 2023 22:13:20 +0000 */

/* ---- helpers ------------------------------------------------------------ */

static struct mail_message
message(void)
{
    struct mail_message m = {
        .from_name = "Kaffee & Co",
        .from_addr = "shop@kaffee.example",
        .to_name = "Jane Doe",
        .to_addr = "jane@example.com",
        .subject = "How was your order?",
        .text = "Hello\n",
        .html = "<p>Hello</p>\n",
        .unsubscribe_url = "https://reviews.example/u/abc",
        .message_id = "<r1.abc@aftersale.example>",
    };
    return m;
}

/* A text-only message with `text` as its body; returns the built message. */
static char *
build_text(const char *text)
{
    struct mail_message m = message();
    struct err e = {0};
    char *msg;

    m.text = text;
    m.html = NULL;
    msg = mail_build(&m, DATE, &e);
    assert_non_null(msg);
    return msg;
}

static const char *
body_of(const char *msg)
{
    const char *p = strstr(msg, "\r\n\r\n");

    assert_non_null(p);
    return p + 4;
}

/* The raw (still folded) value of a header, without the name. */
static char *
header_raw(const char *msg, const char *name)
{
    size_t n = strlen(name);
    const char *p = msg, *end;

    for (;;) {
        if (strncmp(p, name, n) == 0 && p[n] == ':')
            break;
        p = strstr(p, "\r\n");
        if (p == NULL || p[2] == '\r')
            return NULL;
        p += 2;
    }
    p += n + 1;
    end = p;
    while ((end = strstr(end, "\r\n")) != NULL && (end[2] == ' ' || end[2] == '\t'))
        end += 2;
    return xstrndup(p, (size_t)(end - p));
}

/* Unfold (drop CRLF before white space) and decode "B" encoded-words; the
 * white space between two adjacent encoded-words disappears. */
static char *
header_decoded(const char *msg, const char *name)
{
    char *raw = header_raw(msg, name), *r, *tok, *save = NULL;
    struct buf out = {0};
    bool prev_ew = false, first = true;

    assert_non_null(raw);
    r = raw;
    /* Unfold in place. */
    for (char *w = raw, *p = raw;; p++) {
        if (p[0] == '\r' && p[1] == '\n') {
            p++;
            continue;
        }
        *w++ = *p;
        if (*p == '\0')
            break;
    }
    if (*r == ' ')
        r++;
    buf_puts(&out, "");
    for (tok = strtok_r(r, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        size_t n = strlen(tok);
        bool ew = n > 12 && strncmp(tok, "=?utf-8?B?", 10) == 0 && strcmp(tok + n - 2, "?=") == 0;

        if (!first && !(ew && prev_ew))
            buf_puts(&out, " ");
        if (ew) {
            char *b64 = xstrndup(tok + 10, n - 12);
            uint8_t *bytes = NULL;
            size_t len = 0;

            for (char *c = b64; *c; c++)
                *c = *c == '+' ? '-' : *c == '/' ? '_' : *c == '=' ? '\0' : *c;
            assert_int_equal(crypto_unbase64url(b64, &bytes, &len), 0);
            buf_append(&out, bytes, len);
            free(bytes);
            free(b64);
        } else {
            buf_puts(&out, tok);
        }
        prev_ew = ew;
        first = false;
    }
    free(raw);
    return buf_steal(&out);
}

/* Quoted-printable to bytes; CRLF becomes LF, soft breaks vanish. */
static char *
qp_decode(const char *s, size_t n)
{
    struct buf out = {0};

    buf_puts(&out, "");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
        } else if (s[i] == '=') {
            unsigned v;

            assert_true(i + 2 < n);
            assert_int_equal(sscanf(s + i + 1, "%2X", &v), 1);
            buf_append(&out, &(char){(char)v}, 1);
            i += 2;
        } else if (s[i] == '\r' && s[i + 1] == '\n') {
            buf_puts(&out, "\n");
            i++;
        } else {
            buf_append(&out, s + i, 1);
        }
    }
    return buf_steal(&out);
}

static void
assert_lines_at_most(const char *s, size_t max)
{
    for (const char *p = s; *p;) {
        const char *e = strstr(p, "\r\n");
        size_t n = e ? (size_t)(e - p) : strlen(p);

        if (n > max)
            fail_msg("line of %zu > %zu: %.*s", n, max, (int)n, p);
        p += n + (e ? 2 : 0);
    }
}

static size_t
count(const char *hay, const char *needle)
{
    size_t k = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        k++;
    return k;
}

/* New string with every `from` replaced by `to`. */
static char *
replace_all(const char *s, const char *from, const char *to)
{
    struct buf out = {0};
    const char *p;

    buf_puts(&out, "");
    while ((p = strstr(s, from)) != NULL) {
        buf_append(&out, s, (size_t)(p - s));
        buf_puts(&out, to);
        s = p + strlen(from);
    }
    buf_puts(&out, s);
    return buf_steal(&out);
}

static char *
boundary_of(const char *msg)
{
    const char *p = strstr(msg, "boundary=\"");

    assert_non_null(p);
    p += 10;
    return xstrndup(p, strcspn(p, "\""));
}

/* ---- quoted-printable --------------------------------------------------- */

static void
qp_encodes_equals_trailing_space_and_utf8(void **state)
{
    struct {
        const char *in, *out;
    } cases[] = {
        {"a=b", "a=3Db\r\n"},
        {"end  \nx\t", "end =20\r\nx=09\r\n"},
        {"Grüße ★\n", "Gr=C3=BC=C3=9Fe =E2=98=85\r\n"},
        {"a\r\nb\nc", "a\r\nb\r\nc\r\n"},
        {"a\rb", "a=0Db\r\n"},
        {".\n..x", "=2E\r\n=2E.x\r\n"},
        {"tab\there ~!", "tab\there ~!\r\n"},
        {"\x01\x7f", "=01=7F\r\n"},
        {"", "\r\n"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *msg = build_text(cases[i].in);

        assert_string_equal(body_of(msg), cases[i].out);
        free(msg);
    }
}

static void
qp_soft_breaks_at_76(void **state)
{
    char line76[77], line77[78], in[80], *msg;
    (void)state;

    memset(line76, 'a', 76);
    line76[76] = '\0';
    msg = build_text(line76);
    assert_int_equal(strlen(body_of(msg)), 76 + 2); /* fits: no soft break */
    free(msg);

    memset(line77, 'a', 77);
    line77[77] = '\0';
    msg = build_text(line77);
    assert_int_equal(strncmp(body_of(msg) + 75, "=\r\naa\r\n", 7), 0);
    free(msg);

    /* An escape never straddles a soft break. */
    memset(in, 'a', 74);
    strcpy(in + 74, "=b");
    msg = build_text(in);
    assert_int_equal(strncmp(body_of(msg) + 74, "=\r\n=3Db\r\n", 10), 0);
    free(msg);

    /* Trailing space at the break is still encoded. */
    memset(in, 'a', 75);
    strcpy(in + 75, " ");
    msg = build_text(in);
    assert_int_equal(strncmp(body_of(msg) + 75, "=\r\n=20\r\n", 9), 0);
    free(msg);
}

static void
qp_long_mixed_text_round_trips(void **state)
{
    struct buf in = {0};
    char *msg, *dec, *want;
    const char *body;
    (void)state;

    for (int i = 0; i < 60; i++)
        buf_puts(&in, "Grüße = ★ größer als 3 ");
    buf_puts(&in, "  \n\n.dot\t\nend");
    msg = build_text(in.data);
    body = body_of(msg);
    assert_lines_at_most(body, 76);
    for (const unsigned char *p = (const unsigned char *)body; *p; p++)
        assert_true(*p < 0x80);
    dec = qp_decode(body, strlen(body));
    want = xasprintf("%s\n", in.data);
    assert_string_equal(dec, want);
    free(want);
    free(dec);
    free(msg);
    buf_free(&in);
}

/* ---- headers ------------------------------------------------------------ */

static void
headers_are_complete(void **state)
{
    struct mail_message m = message();
    struct err e = {0};
    char *msg;
    (void)state;

    msg = mail_build(&m, DATE, &e);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "From: \"Kaffee & Co\" <shop@kaffee.example>\r\n"));
    assert_non_null(strstr(msg, "\r\nTo: \"Jane Doe\" <jane@example.com>\r\n"));
    assert_non_null(strstr(msg, "\r\nSubject: How was your order?\r\n"));
    assert_non_null(strstr(msg, "\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
    assert_non_null(strstr(msg, "\r\nMessage-ID: <r1.abc@aftersale.example>\r\n"));
    assert_non_null(strstr(msg, "\r\nMIME-Version: 1.0\r\n"));
    assert_non_null(strstr(msg, "\r\nList-Unsubscribe: <https://reviews.example/u/abc>\r\n"));
    assert_non_null(strstr(msg, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
    assert_non_null(strstr(msg, "\r\nAuto-Submitted: auto-generated\r\n"));
    /* Nothing but CRLF line ends, and 7-bit throughout. */
    for (const char *p = msg; *p; p++) {
        if (*p == '\n')
            assert_int_equal(p[-1], '\r');
        if (*p == '\r')
            assert_int_equal(p[1], '\n');
        assert_true((unsigned char)*p < 0x80);
    }
    free(msg);

    /* No URL, no List-Unsubscribe headers. */
    m.unsubscribe_url = NULL;
    msg = mail_build(&m, DATE, &e);
    assert_non_null(msg);
    assert_null(strstr(msg, "List-Unsubscribe"));
    free(msg);
}

static void
subject_uses_encoded_words_when_not_ascii(void **state)
{
    struct mail_message m = message();
    struct err e = {0};
    char *msg, *v;
    const char *long_subject =
        "Wie gefällt Ihnen Ihre Bestellung bei Kaffee & Co? Ihre Meinung zählt für uns – "
        "und für alle, die nach Ihnen bestellen. ★★★★★";
    (void)state;

    m.subject = "Grüße aus Köln";
    msg = mail_build(&m, DATE, &e);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "\r\nSubject: =?utf-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n"));
    free(msg);

    /* Long: several words, each <= 75 chars, lines <= 78, content intact. */
    m.subject = long_subject;
    msg = mail_build(&m, DATE, &e);
    assert_non_null(msg);
    v = header_raw(msg, "Subject");
    assert_true(count(v, "=?utf-8?B?") >= 3);
    assert_lines_at_most(v, 78 - strlen("Subject:"));
    free(v);
    v = header_decoded(msg, "Subject");
    assert_string_equal(v, long_subject);
    free(v);
    free(msg);

    /* Something that looks like an encoded-word is encoded itself. */
    m.subject = "=?utf-8?B?Zm9v?=";
    msg = mail_build(&m, DATE, &e);
    assert_non_null(msg);
    v = header_decoded(msg, "Subject");
    assert_string_equal(v, "=?utf-8?B?Zm9v?=");
    free(v);
    free(msg);
}

static void
long_ascii_subject_folds_at_spaces(void **state)
{
    struct mail_message m = message();
    struct err e = {0};
    char *msg, *v, *raw;
    const char *s = "A quick reminder: how was your order from The Very Long Shop Name "
                    "Incorporated International? We would love to hear from you  (twice).";
    (void)state;

    m.subject = s;
    msg = mail_build(&m, DATE, &e);
    assert_non_null(msg);
    raw = header_raw(msg, "Subject");
    assert_non_null(strstr(raw, "\r\n "));
    assert_lines_at_most(raw, 78 - strlen("Subject:"));
    assert_null(strstr(raw, "=?"));
    v = replace_all(raw, "\r\n", "");
    assert_string_equal(v + 1, s); /* unfolding restores it, double space too */
    free(v);
    free(raw);
    free(msg);
}

static void
display_names_are_quoted_or_encoded(void **state)
{
    struct mail_message m = message();
    struct err e = {0};
    char *msg, *v;
    (void)state;

    m.from_name = "O'Brien, \"Bob\" \\ Co";
    m.to_name = "Jürgen Müller";
    msg = mail_build(&m, DATE, &e);
    assert_non_null(msg);
    assert_non_null(
        strstr(msg, "From: \"O'Brien, \\\"Bob\\\" \\\\ Co\" <shop@kaffee.example>\r\n"));
    assert_non_null(strstr(msg, "\r\nTo: =?utf-8?B?"));
    v = header_decoded(msg, "To");
    assert_string_equal(v, "Jürgen Müller <jane@example.com>");
    free(v);
    free(msg);

    m.from_name = NULL;
    m.to_name = "";
    msg = mail_build(&m, DATE, &e);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "From: shop@kaffee.example\r\n"));
    assert_non_null(strstr(msg, "\r\nTo: jane@example.com\r\n"));
    free(msg);
}

static void
header_injection_is_refused(void **state)
{
    struct {
        const char *field, *value;
    } cases[] = {
        {"subject", "Hi\r\nBcc: victim@example.com"},
        {"subject", "Hi\nthere"},
        {"to_addr", "jane@example.com\r\nBcc: victim@example.com"},
        {"from_addr", "shop@kaffee.example\n"},
        {"to_name", "Jane\r\nBcc: victim@example.com"},
        {"from_name", "Shop\rX"},
        {"unsubscribe_url", "https://x.example/u\r\nX: y"},
        {"message_id", "<a@b>\r\nX: y"},
        /* Other controls, stored before the API refused them. */
        {"from_name", "Shop\x1b[31m"},
        {"subject", "Hi\x7f"},
        {"to_name", "Jane\x0b" "Doe"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mail_message m = message();
        struct err e = {0};
        const char **slot = strcmp(cases[i].field, "subject") == 0      ? &m.subject
                            : strcmp(cases[i].field, "to_addr") == 0    ? &m.to_addr
                            : strcmp(cases[i].field, "from_addr") == 0  ? &m.from_addr
                            : strcmp(cases[i].field, "to_name") == 0    ? &m.to_name
                            : strcmp(cases[i].field, "from_name") == 0  ? &m.from_name
                            : strcmp(cases[i].field, "message_id") == 0 ? &m.message_id
                                                                        : &m.unsubscribe_url;

        *slot = cases[i].value;
        assert_null(mail_build(&m, DATE, &e));
        assert_int_equal(e.kind, ERR_INVALID);
        assert_string_equal(e.field, cases[i].field);
        /* The job records only the detail: it must name the header. */
        if (strstr(e.detail, cases[i].field) == NULL)
            fail_msg("%s: %s", cases[i].field, e.detail);
    }
}

static void
bad_values_name_their_field(void **state)
{
    struct mail_message m;
    struct err e = {0};
    (void)state;

    m = message();
    m.to_addr = "not-an-address";
    assert_null(mail_build(&m, DATE, &e));
    assert_string_equal(e.field, "to_addr");
    m = message();
    m.subject = NULL;
    assert_null(mail_build(&m, DATE, &e));
    assert_string_equal(e.field, "subject");
    m = message();
    m.subject = "bad \xff utf-8";
    assert_null(mail_build(&m, DATE, &e));
    assert_string_equal(e.field, "subject");
    m = message();
    m.message_id = "no-brackets@x";
    assert_null(mail_build(&m, DATE, &e));
    assert_string_equal(e.field, "message_id");
    m = message();
    m.unsubscribe_url = "mailto:u@x.example";
    assert_null(mail_build(&m, DATE, &e));
    assert_string_equal(e.field, "unsubscribe_url");
    m = message();
    m.text = NULL;
    assert_null(mail_build(&m, DATE, &e));
    assert_string_equal(e.field, "text");
}

static void
address_validation(void **state)
{
    char longest[256];
    (void)state;

    assert_true(mail_address_valid("a@b.co"));
    assert_true(mail_address_valid("first.last+tag@sub.example.org"));
    assert_true(mail_address_valid("o'brien_x-1@my-shop.de"));
    assert_false(mail_address_valid(NULL));
    assert_false(mail_address_valid(""));
    assert_false(mail_address_valid("ab.co"));
    assert_false(mail_address_valid("a@b@c.co"));
    assert_false(mail_address_valid("@b.co"));
    assert_false(mail_address_valid("a@"));
    assert_false(mail_address_valid("a@localhost"));
    assert_false(mail_address_valid("a b@c.co"));
    assert_false(mail_address_valid("a@b .co"));
    assert_false(mail_address_valid("<a@b.co>"));
    assert_false(mail_address_valid("a@b.co>"));
    assert_false(mail_address_valid("a@b.co\r\n"));
    assert_false(mail_address_valid("a@b.co\n"));
    assert_false(mail_address_valid("a@.b.co"));
    assert_false(mail_address_valid("a@b..co"));
    assert_false(mail_address_valid("a@b.co."));
    assert_false(mail_address_valid("a..b@c.co"));
    assert_false(mail_address_valid(".a@c.co"));
    assert_false(mail_address_valid("a,b@c.co"));
    assert_false(mail_address_valid("\"a\"@c.co"));
    assert_false(mail_address_valid("jürgen@c.co"));
    /* 254 bytes is the limit. */
    memset(longest, 'a', sizeof(longest));
    memcpy(longest, "x@", 2);
    memcpy(longest + 250, ".com", 5);
    assert_int_equal(strlen(longest), 254);
    assert_true(mail_address_valid(longest));
    memcpy(longest + 250, "a.com", 6);
    assert_false(mail_address_valid(longest));
}

/* ---- MIME structure ------------------------------------------------------ */

static void
multipart_has_both_parts_and_a_fresh_boundary(void **state)
{
    struct mail_message m = message();
    struct err e = {0};
    char *msg, *b, *delim, *close, *msg2, *b2;
    const char *text_hdr = "Content-Type: text/plain; charset=utf-8\r\n"
                           "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    const char *html_hdr = "Content-Type: text/html; charset=utf-8\r\n"
                           "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    (void)state;

    m.text = "--=_aftersale_ looks like a boundary\n";
    m.html = "<p>--=_aftersale_</p>";
    msg = mail_build(&m, DATE, &e);
    assert_non_null(msg);
    b = boundary_of(msg);
    assert_int_equal(strncmp(b, "=_aftersale_", 12), 0);
    assert_true(strlen(b) >= 30);
    delim = xasprintf("\r\n--%s\r\n", b);
    close = xasprintf("\r\n--%s--\r\n", b);
    assert_non_null(strstr(msg, "Content-Type: multipart/alternative;\r\n boundary=\""));
    /* The boundary appears only where it delimits: Content-Type, 2 + 1. */
    assert_int_equal(count(msg, b), 4);
    assert_int_equal(count(msg, delim), 2);
    assert_non_null(strstr(msg, close));
    assert_int_equal(strcmp(strstr(msg, close) + strlen(close), ""), 0);
    assert_non_null(strstr(msg, text_hdr));
    assert_non_null(strstr(msg, html_hdr));
    assert_true(strstr(msg, text_hdr) < strstr(msg, html_hdr));
    assert_non_null(strstr(msg, "--=3D_aftersale_ looks like a boundary\r\n"));
    assert_non_null(strstr(msg, "<p>--=3D_aftersale_</p>"));

    /* A second build draws another boundary. */
    msg2 = mail_build(&m, DATE, &e);
    b2 = boundary_of(msg2);
    assert_string_not_equal(b, b2);
    free(b2);
    free(msg2);
    free(close);
    free(delim);
    free(b);
    free(msg);
}

static void
text_only_is_a_single_part(void **state)
{
    struct mail_message m = message();
    struct err e = {0};
    char *msg;
    (void)state;

    m.html = NULL;
    msg = mail_build(&m, DATE, &e);
    assert_non_null(msg);
    assert_null(strstr(msg, "multipart"));
    assert_null(strstr(msg, "boundary"));
    assert_non_null(strstr(msg, "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                "Content-Transfer-Encoding: quoted-printable\r\n\r\nHello\r\n"));
    assert_int_equal(count(msg, "Content-Type:"), 1);
    free(msg);
}

/* ---- templates ------------------------------------------------------------ */

static const struct mail_product evil = {
    .name = "<script>alert(1)</script> & \"x\"",
    .image = "https://shop.example/i.jpg?a=1&b=2",
    .link = "https://r.example/p/1",
    .star_links = {"https://r.example/p/1?r=1", "https://r.example/p/1?r=2",
                   "https://r.example/p/1?r=3", "https://r.example/p/1?r=4",
                   "https://r.example/p/1?r=5"},
};

static struct mail_vars
vars(const struct mail_product *p, size_t n)
{
    struct mail_vars v = {
        .first_name = "<b>Jane</b>",
        .shop_name = "Kaffee & Co",
        .review_link = "https://r.example/all?x=1&y=2",
        .unsubscribe_link = "https://r.example/unsub",
        .products = p,
        .nproducts = n,
    };
    return v;
}

static char *
render(const char *tmpl, enum mail_part part, const struct mail_vars *v)
{
    struct err e = {0};
    char *s = mail_template_render(tmpl, part, v, &e);

    if (s == NULL)
        fail_msg("render failed: %s: %s", e.field, e.detail);
    return s;
}

static void
html_escape_all_five(void **state)
{
    char *s = mail_html_escape("a&b<c>d\"e'f ★");
    (void)state;
    assert_string_equal(s, "a&amp;b&lt;c&gt;d&quot;e&#39;f ★");
    free(s);
    s = mail_html_escape("");
    assert_string_equal(s, "");
    free(s);
}

static void
values_escaped_in_html_verbatim_in_text(void **state)
{
    struct mail_vars v = vars(&evil, 1);
    const char *tmpl = "Hi {{first_name}}.{{#products}}[{{product_name}}]{{/products}}";
    char *s;
    (void)state;

    s = render(tmpl, MAIL_HTML, &v);
    assert_string_equal(s, "Hi &lt;b&gt;Jane&lt;/b&gt;.[&lt;script&gt;alert(1)&lt;/script&gt; "
                           "&amp; &quot;x&quot;]");
    free(s);
    s = render(tmpl, MAIL_TEXT, &v);
    assert_string_equal(s, "Hi <b>Jane</b>.[<script>alert(1)</script> & \"x\"]");
    free(s);

    /* Built-in HTML: no live tag from a value anywhere. */
    s = render(outreach_template_builtin("review_request", "en", MAIL_HTML), MAIL_HTML, &v);
    assert_null(strstr(s, "<script>"));
    assert_null(strstr(s, "<b>"));
    assert_non_null(strstr(s, "alt=\"&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;\""));
    assert_non_null(strstr(s, "src=\"https://shop.example/i.jpg?a=1&amp;b=2\""));
    assert_non_null(strstr(s, "href=\"https://r.example/all?x=1&amp;y=2\""));
    free(s);
    s = render(outreach_template_builtin("review_request", "en", MAIL_TEXT), MAIL_TEXT, &v);
    assert_non_null(strstr(s, "<script>alert(1)</script> & \"x\""));
    assert_non_null(strstr(s, "Hi <b>Jane</b>,"));
    free(s);
}

static void
subject_values_lose_line_breaks(void **state)
{
    struct mail_vars v = vars(NULL, 0);
    char *s;
    (void)state;

    v.shop_name = "Evil\r\nBcc: x@y.example";
    s = render("Order from {{shop_name}}", MAIL_SUBJECT, &v);
    assert_string_equal(s, "Order from Evil  Bcc: x@y.example");
    free(s);
}

static void
products_section_repeats(void **state)
{
    struct mail_product p[3] = {{.name = "A"}, {.name = "B"}, {.name = "C"}};
    struct mail_vars v;
    const char *tmpl = "<{{#products}}[{{product_name}}|{{shop_name}}]{{/products}}>";
    char *s;
    (void)state;

    v = vars(p, 0);
    s = render(tmpl, MAIL_TEXT, &v);
    assert_string_equal(s, "<>");
    free(s);
    v = vars(p, 1);
    s = render(tmpl, MAIL_TEXT, &v);
    assert_string_equal(s, "<[A|Kaffee & Co]>");
    free(s);
    v = vars(p, 3);
    s = render(tmpl, MAIL_TEXT, &v);
    assert_string_equal(s, "<[A|Kaffee & Co][B|Kaffee & Co][C|Kaffee & Co]>");
    free(s);
}

static void
image_section_renders_only_with_an_image(void **state)
{
    struct mail_product p[3] = {
        {.name = "A", .image = "https://i.example/a.png"},
        {.name = "B", .image = ""},
        {.name = "C", .image = NULL},
    };
    struct mail_vars v = vars(p, 3);
    const char *tmpl = "{{#products}}{{#product_image}}<img src=\"{{product_image}}\">"
                       "{{/product_image}}{{product_name}};{{/products}}";
    char *s;
    (void)state;

    s = render(tmpl, MAIL_HTML, &v);
    assert_string_equal(s, "<img src=\"https://i.example/a.png\">A;B;C;");
    free(s);
    s = render(outreach_template_builtin("review_request", "de", MAIL_HTML), MAIL_HTML, &v);
    assert_int_equal(count(s, "<img "), 1);
    assert_null(strstr(s, "src=\"\""));
    free(s);
}

static void
standalone_section_lines_vanish(void **state)
{
    struct mail_product p[2] = {{.name = "x"}, {.name = "y"}};
    struct mail_vars v = vars(p, 2);
    char *s;
    (void)state;

    s = render("a\n  {{#products}}  \r\n- {{product_name}}\n{{/products}}\nb\n", MAIL_TEXT, &v);
    assert_string_equal(s, "a\n- x\n- y\nb\n");
    free(s);
    /* Not alone on its line: nothing is eaten. */
    s = render("a {{#products}}{{product_name}} {{/products}}b", MAIL_TEXT, &v);
    assert_string_equal(s, "a x y b");
    free(s);
}

static void
template_errors_name_field_and_placeholder(void **state)
{
    struct {
        const char *tmpl, *needle;
    } bad[] = {
        {"Hi {{frist_name}}", "frist_name"},
        {"{{product_name}}", "product_name"},
        {"{{#products}}x", "products"},
        {"x{{/products}}", "products"},
        {"{{#products}}{{#product_image}}{{/products}}{{/product_image}}", "product_image"},
        {"{{#products}}{{#products}}{{/products}}{{/products}}", "products"},
        {"{{#product_image}}{{/product_image}}", "product_image"},
        {"{{#foo}}{{/foo}}", "foo"},
        {"Hi {{first_name", "{{"},
        {"{{}}", "{{}}"},
    };
    struct mail_vars v = vars(NULL, 0);
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err e = {0};

        assert_int_equal(mail_template_check(bad[i].tmpl, "html", &e), -1);
        assert_int_equal(e.kind, ERR_INVALID);
        assert_int_equal(err_status(e.kind), 422);
        assert_string_equal(e.field, "html");
        if (strstr(e.detail, bad[i].needle) == NULL)
            fail_msg("%s: detail \"%s\" lacks \"%s\"", bad[i].tmpl, e.detail, bad[i].needle);
        err_clear(&e);
        assert_null(mail_template_render(bad[i].tmpl, MAIL_TEXT, &v, &e));
        assert_string_equal(e.field, "text");
    }
    {
        struct err e = {0};

        assert_int_equal(mail_template_check("{{ first_name }} {{#products}}{{star_link_5}}"
                                             "{{/products}}",
                                             "text", &e),
                         0);
    }
}

static void
builtins_check_and_render(void **state)
{
    static const char *const kinds[] = {"review_request", "review_reminder"};
    static const char *const locales[] = {"en", "de"};
    struct mail_product p[1] = {evil};
    struct mail_vars v = vars(p, 1);
    char *s;
    (void)state;

    for (size_t k = 0; k < 2; k++) {
        for (size_t l = 0; l < 2; l++) {
            for (int part = MAIL_SUBJECT; part <= MAIL_HTML; part++) {
                const char *t = outreach_template_builtin(kinds[k], locales[l], (enum mail_part)part);
                struct err e = {0};

                assert_non_null(t);
                assert_int_equal(mail_template_check(t, "html", &e), 0);
                s = render(t, (enum mail_part)part, &v);
                assert_true(strlen(s) > 10);
                if (part != MAIL_SUBJECT) {
                    assert_non_null(strstr(s, "Kaffee"));
                    assert_non_null(strstr(s, "https://r.example/p/1?r=3"));
                    assert_non_null(strstr(s, "https://r.example/unsub"));
                    assert_non_null(strstr(s, "https://r.example/all?x=1"));
                }
                if (part == MAIL_HTML) {
                    assert_non_null(
                        strstr(s, locales[l][0] == 'e' ? "lang=\"en\"" : "lang=\"de\""));
                    assert_non_null(strstr(s, locales[l][0] == 'e'
                                                  ? "aria-label=\"Rate 3 of 5 stars\""
                                                  : "aria-label=\"Mit 3 von 5 Sternen bewerten\""));
                    assert_int_equal(count(s, ">★</a>"), 5);
                }
                free(s);
            }
        }
    }
    assert_ptr_equal(outreach_template_builtin("review_request", "fr", MAIL_HTML),
                     outreach_template_builtin("review_request", "en", MAIL_HTML));
    assert_ptr_equal(outreach_template_builtin("review_request", NULL, MAIL_TEXT),
                     outreach_template_builtin("review_request", "en", MAIL_TEXT));
    assert_ptr_equal(outreach_template_builtin("review_reminder", "de-AT", MAIL_SUBJECT),
                     outreach_template_builtin("review_reminder", "de", MAIL_SUBJECT));
    assert_ptr_equal(outreach_template_builtin("review_reminder", "de_DE", MAIL_SUBJECT),
                     outreach_template_builtin("review_reminder", "de", MAIL_SUBJECT));
    assert_ptr_not_equal(outreach_template_builtin("review_request", "de", MAIL_SUBJECT),
                         outreach_template_builtin("review_request", "en", MAIL_SUBJECT));
    assert_string_not_equal(outreach_template_builtin("review_request", "en", MAIL_TEXT),
                            outreach_template_builtin("review_reminder", "en", MAIL_TEXT));
    assert_null(outreach_template_builtin("survey", "en", MAIL_HTML));
}

/* ---- an SMTP server on a thread ------------------------------------------- */

enum sink_mode { SINK_OK, SINK_GREET_421, SINK_SILENT };

struct sink {
    int lfd, port;
    enum sink_mode mode;
    pthread_t thread;
    /* What the client did (read after pthread_join). */
    char mail_from[256], rcpt[256], auth[256];
    struct buf data;
    bool got_data, quit;
    /* Line reader. */
    int fd;
    char in[8192];
    size_t len;
};

static void
say(struct sink *s, const char *line)
{
    size_t n = strlen(line);

    if (send(s->fd, line, n, MSG_NOSIGNAL) != (ssize_t)n)
        return;
}

/* One line without its CRLF into `out`; -1 on EOF, timeout or overflow. */
static int
read_line(struct sink *s, char *out, size_t cap)
{
    for (;;) {
        char *nl = memmem(s->in, s->len, "\r\n", 2);
        ssize_t r;

        if (nl != NULL) {
            size_t n = (size_t)(nl - s->in);

            if (n >= cap)
                return -1;
            memcpy(out, s->in, n);
            out[n] = '\0';
            memmove(s->in, nl + 2, s->len - n - 2);
            s->len -= n + 2;
            return (int)n;
        }
        if (s->len == sizeof(s->in))
            return -1;
        r = recv(s->fd, s->in + s->len, sizeof(s->in) - s->len, 0);
        if (r <= 0)
            return -1;
        s->len += (size_t)r;
    }
}

static void
copy_arg(char *dst, size_t cap, const char *line)
{
    const char *lt = strchr(line, '<'), *gt = lt ? strchr(lt, '>') : NULL;

    if (lt && gt && (size_t)(gt - lt - 1) < cap)
        snprintf(dst, cap, "%.*s", (int)(gt - lt - 1), lt + 1);
}

static void
converse(struct sink *s)
{
    char line[4096];

    say(s, "220 sink.test ESMTP\r\n");
    while (read_line(s, line, sizeof(line)) >= 0) {
        if (strncasecmp(line, "EHLO", 4) == 0) {
            say(s, "250-sink.test\r\n250 AUTH PLAIN\r\n");
        } else if (strncasecmp(line, "HELO", 4) == 0) {
            say(s, "250 sink.test\r\n");
        } else if (strncasecmp(line, "AUTH PLAIN ", 11) == 0) {
            snprintf(s->auth, sizeof(s->auth), "%.255s", line + 11);
            say(s, "235 2.7.0 Authentication successful\r\n");
        } else if (strcasecmp(line, "AUTH PLAIN") == 0) {
            say(s, "334 \r\n");
            if (read_line(s, line, sizeof(line)) < 0)
                return;
            snprintf(s->auth, sizeof(s->auth), "%.255s", line);
            say(s, "235 2.7.0 Authentication successful\r\n");
        } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
            copy_arg(s->mail_from, sizeof(s->mail_from), line);
            say(s, "250 2.1.0 Ok\r\n");
        } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
            if (strstr(line, "reject@") != NULL) {
                say(s, "550 5.1.1 <reject@example.com>: Recipient address rejected\r\n");
            } else {
                copy_arg(s->rcpt, sizeof(s->rcpt), line);
                say(s, "250 2.1.5 Ok\r\n");
            }
        } else if (strcasecmp(line, "DATA") == 0) {
            int n;

            say(s, "354 End data with <CR><LF>.<CR><LF>\r\n");
            buf_puts(&s->data, "");
            while ((n = read_line(s, line, sizeof(line))) >= 0) {
                if (strcmp(line, ".") == 0)
                    break;
                /* Undo dot-stuffing. */
                buf_append(&s->data, line[0] == '.' ? line + 1 : line,
                           (size_t)n - (line[0] == '.'));
                buf_puts(&s->data, "\r\n");
            }
            if (n < 0)
                return;
            s->got_data = true;
            say(s, "250 2.0.0 Ok: queued\r\n");
        } else if (strcasecmp(line, "QUIT") == 0) {
            s->quit = true;
            say(s, "221 2.0.0 Bye\r\n");
            return;
        } else if (strcasecmp(line, "RSET") == 0 || strcasecmp(line, "NOOP") == 0) {
            say(s, "250 2.0.0 Ok\r\n");
        } else {
            say(s, "502 5.5.2 Error: command not recognized\r\n");
        }
    }
}

static void *
sink_main(void *arg)
{
    struct sink *s = arg;
    struct pollfd pfd = {.fd = s->lfd, .events = POLLIN};
    struct timeval tv = {.tv_sec = 5};
    char junk[256];

    if (poll(&pfd, 1, 5000) != 1)
        return NULL;
    s->fd = accept(s->lfd, NULL, NULL);
    if (s->fd < 0)
        return NULL;
    setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    switch (s->mode) {
    case SINK_OK:
        converse(s);
        break;
    case SINK_GREET_421:
        say(s, "421 4.3.2 Service not available, try later\r\n");
        break;
    case SINK_SILENT:
        /* Say nothing until the client gives up and closes. */
        while (recv(s->fd, junk, sizeof(junk), 0) > 0)
            ;
        break;
    }
    close(s->fd);
    return NULL;
}

static int
listen_any(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void
sink_start(struct sink *s, enum sink_mode mode)
{
    memset(s, 0, sizeof(*s));
    s->mode = mode;
    s->fd = -1;
    s->lfd = listen_any(&s->port);
    assert_int_equal(pthread_create(&s->thread, NULL, sink_main, s), 0);
}

static void
sink_stop(struct sink *s)
{
    pthread_join(s->thread, NULL);
    close(s->lfd);
}

static struct mail_server
server(int port)
{
    struct mail_server sv = {
        .host = "127.0.0.1",
        .port = port,
        .tls = MAIL_TLS_NONE,
        .timeout_ms = 5000,
        .verify_peer = true,
    };
    return sv;
}

static void
send_delivers_exactly_the_built_message(void **state)
{
    struct mail_message m = message();
    struct mail_server sv;
    struct err e = {0};
    struct sink s;
    char *want, *got, *b, *b2;
    (void)state;

    /* Text only: the bytes are deterministic, so they must match. */
    m.html = NULL;
    m.text = "Hello\n.leading dot\n..two\n";
    sink_start(&s, SINK_OK);
    sv = server(s.port);
    assert_int_equal(mail_send(&sv, &m, DATE, &e), MAIL_OK);
    sink_stop(&s);
    assert_true(s.got_data);
    assert_string_equal(s.mail_from, "shop@kaffee.example");
    assert_string_equal(s.rcpt, "jane@example.com");
    assert_string_equal(s.auth, ""); /* no user, no AUTH */
    want = mail_build(&m, DATE, &e);
    assert_string_equal(s.data.data, want);
    free(want);
    buf_free(&s.data);

    /* Multipart, with credentials: equal up to the random boundary. */
    m = message();
    sink_start(&s, SINK_OK);
    sv = server(s.port);
    sv.user = "mailer";
    sv.password = "s3cret-pw";
    assert_int_equal(mail_send(&sv, &m, DATE, &e), MAIL_OK);
    sink_stop(&s);
    assert_true(s.got_data);
    assert_true(s.quit);
    {
        char *plain = crypto_base64((const uint8_t *)"\0mailer\0s3cret-pw", 17);

        assert_string_equal(s.auth, plain);
        free(plain);
    }
    want = mail_build(&m, DATE, &e);
    b = boundary_of(want);
    b2 = boundary_of(s.data.data);
    got = replace_all(s.data.data, b2, b);
    assert_string_equal(got, want);
    free(got);
    free(b2);
    free(b);
    free(want);
    buf_free(&s.data);
}

static void
send_550_is_permanent(void **state)
{
    struct mail_message m = message();
    struct mail_server sv;
    struct err e = {0};
    struct sink s;
    (void)state;

    m.to_addr = "reject@example.com";
    sink_start(&s, SINK_OK);
    sv = server(s.port);
    sv.user = "mailer";
    sv.password = "s3cret-pw";
    assert_int_equal(mail_send(&sv, &m, DATE, &e), MAIL_FAIL);
    sink_stop(&s);
    assert_false(s.got_data);
    assert_int_equal(e.kind, ERR_INVALID);
    assert_string_equal(e.detail,
                        "SMTP 550: 5.1.1 <reject@example.com>: Recipient address rejected");
    assert_null(strstr(e.detail, "s3cret"));
    buf_free(&s.data);
}

static void
send_421_and_refused_are_retried(void **state)
{
    struct mail_message m = message();
    struct mail_server sv;
    struct err e = {0};
    struct sink s;
    int fd, port;
    (void)state;

    sink_start(&s, SINK_GREET_421);
    sv = server(s.port);
    assert_int_equal(mail_send(&sv, &m, DATE, &e), MAIL_RETRY);
    sink_stop(&s);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_string_equal(e.detail, "SMTP 421: 4.3.2 Service not available, try later");

    /* Nobody listening: a port that was just free. */
    fd = listen_any(&port);
    close(fd);
    sv = server(port);
    err_clear(&e);
    assert_int_equal(mail_send(&sv, &m, DATE, &e), MAIL_RETRY);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
    assert_true(strlen(e.detail) > 0);
}

static void
send_times_out_and_retries(void **state)
{
    struct mail_message m = message();
    struct mail_server sv;
    struct err e = {0};
    struct sink s;
    (void)state;

    sink_start(&s, SINK_SILENT);
    sv = server(s.port);
    sv.timeout_ms = 300;
    assert_int_equal(mail_send(&sv, &m, DATE, &e), MAIL_RETRY);
    sink_stop(&s);
    assert_int_equal(e.kind, ERR_UNAVAILABLE);
}

static void
send_refuses_bad_input_without_connecting(void **state)
{
    struct mail_message m = message();
    struct mail_server sv = server(1);
    struct err e = {0};
    (void)state;

    m.subject = "x\r\nBcc: y@z.example";
    assert_int_equal(mail_send(&sv, &m, DATE, &e), MAIL_FAIL);
    assert_string_equal(e.field, "subject");
    m = message();
    sv.host = "evil.example/path?x";
    assert_int_equal(mail_send(&sv, &m, DATE, &e), MAIL_FAIL);
    assert_string_equal(e.field, "host");
}

static int
curl_up(void **state)
{
    (void)state;
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static int
curl_down(void **state)
{
    (void)state;
    curl_global_cleanup();
    return 0;
}

/* Reply-To: the messaging settings' address, one header, only when set;
 * an address with CR/LF (header injection) is refused naming reply_to. */
static void
reply_to_header_only_when_set(void **state)
{
    struct mail_message m = message();
    struct err e = {0};
    char *msg;
    (void)state;

    msg = mail_build(&m, DATE, &e);
    assert_non_null(msg);
    assert_null(strstr(msg, "Reply-To:"));
    free(msg);
    m.reply_to = "";
    msg = mail_build(&m, DATE, &e);
    assert_non_null(msg);
    assert_null(strstr(msg, "Reply-To:"));
    free(msg);
    m.reply_to = "help@kaffee.example";
    msg = mail_build(&m, DATE, &e);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "\r\nReply-To: help@kaffee.example\r\n"));
    free(msg);
    m.reply_to = "help@kaffee.example\r\nBcc: victim@example.com";
    assert_null(mail_build(&m, DATE, &e));
    assert_string_equal(e.field, "reply_to");
    m.reply_to = "not an address";
    assert_null(mail_build(&m, DATE, &e));
    assert_string_equal(e.field, "reply_to");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qp_encodes_equals_trailing_space_and_utf8),
        cmocka_unit_test(qp_soft_breaks_at_76),
        cmocka_unit_test(qp_long_mixed_text_round_trips),
        cmocka_unit_test(headers_are_complete),
        cmocka_unit_test(reply_to_header_only_when_set),
        cmocka_unit_test(subject_uses_encoded_words_when_not_ascii),
        cmocka_unit_test(long_ascii_subject_folds_at_spaces),
        cmocka_unit_test(display_names_are_quoted_or_encoded),
        cmocka_unit_test(header_injection_is_refused),
        cmocka_unit_test(bad_values_name_their_field),
        cmocka_unit_test(address_validation),
        cmocka_unit_test(multipart_has_both_parts_and_a_fresh_boundary),
        cmocka_unit_test(text_only_is_a_single_part),
        cmocka_unit_test(html_escape_all_five),
        cmocka_unit_test(values_escaped_in_html_verbatim_in_text),
        cmocka_unit_test(subject_values_lose_line_breaks),
        cmocka_unit_test(products_section_repeats),
        cmocka_unit_test(image_section_renders_only_with_an_image),
        cmocka_unit_test(standalone_section_lines_vanish),
        cmocka_unit_test(template_errors_name_field_and_placeholder),
        cmocka_unit_test(builtins_check_and_render),
        cmocka_unit_test(send_delivers_exactly_the_built_message),
        cmocka_unit_test(send_550_is_permanent),
        cmocka_unit_test(send_421_and_refused_are_retried),
        cmocka_unit_test(send_times_out_and_retries),
        cmocka_unit_test(send_refuses_bad_input_without_connecting),
    };
    return cmocka_run_group_tests_name("mail", tests, curl_up, curl_down);
}
