/*
 * smtp.h - building and sending email with libcurl's SMTP.
 *
 * mail_build() renders one RFC 5322 message: CRLF line ends, a
 * multipart/alternative body (text/plain then text/html, both UTF-8 in
 * quoted-printable), RFC 2047 encoded-words for non-ASCII display names
 * and subjects, Date, Message-ID, MIME-Version, List-Unsubscribe (URL)
 * with List-Unsubscribe-Post (RFC 8058 one-click), Auto-Submitted:
 * auto-generated. No header value may contain CR or LF: those are refused
 * (header injection), not stripped. mail_send() hands the message to an
 * SMTP server (smtp:// with optional or required STARTTLS, or smtps:// for
 * implicit TLS) with timeouts; like the WooCommerce client it is used only
 * by job workers, one CURL handle per call.
 */
#ifndef AFTERSALE_MAIL_SMTP_H
#define AFTERSALE_MAIL_SMTP_H

#include <stdbool.h>
#include <time.h>

#include "aftersale/core/err.h"

struct mail_message {
    const char *from_name, *from_addr; /* from_name may be NULL */
    const char *to_name, *to_addr;     /* to_name may be NULL */
    const char *reply_to;              /* Reply-To address; NULL or "" = none */
    const char *subject;
    const char *text, *html;           /* UTF-8 bodies; html may be NULL (text only) */
    const char *unsubscribe_url;       /* List-Unsubscribe; may be NULL */
    const char *message_id;            /* "<...@...>", fixed by the caller so a retry reuses it */
    /* Optional out (NULL: not wanted): set true when the send failed after
     * the whole message had gone to the server with no error reply to it
     * (a timeout or a lost connection while waiting for the "250" after
     * the final dot): the server may have taken it. False otherwise. A
     * caller that must not send twice does not retry such a failure. */
    bool *outcome_unknown;
};

enum mail_tls { MAIL_TLS_NONE, MAIL_TLS_STARTTLS_TRY, MAIL_TLS_STARTTLS, MAIL_TLS_IMPLICIT };

struct mail_server {
    const char *host;
    int port;
    enum mail_tls tls;
    const char *user, *password; /* may be NULL: no AUTH */
    long timeout_ms;
    bool verify_peer;            /* TLS certificate check (default true) */
};

enum mail_result { MAIL_OK = 0, MAIL_RETRY, MAIL_FAIL };

/* The whole message. Returns: new string, or NULL with e (ERR_INVALID and
 * the field: an address or header value with CR/LF or no '@'...). */
char *mail_build(const struct mail_message *m, time_t date, struct err *e);

/* Send. MAIL_RETRY: connection, timeout, 4xx SMTP replies; MAIL_FAIL: 5xx
 * replies (e.g. recipient refused), bad addresses. e->detail carries the
 * server's reply code and text, never the password. */
enum mail_result mail_send(const struct mail_server *s, const struct mail_message *m, time_t date,
                           struct err *e);

/* True for a plausible single address: one '@', non-empty local part and
 * domain with a dot, no spaces, no CR/LF, no angle brackets, <= 254 bytes.
 * Also refused: non-ASCII (no SMTPUTF8), RFC 5322 specials and control
 * characters, a local part over 64 bytes or with leading, trailing or
 * doubled dots, a domain with empty labels or other than [A-Za-z0-9.-]. */
bool mail_address_valid(const char *addr);

#endif
