/*
 * send.c - the two channels (SMTP email, a WooCommerce customer note) and
 * the signed links every message carries.
 *
 * Called from job workers only, with no database connection held: the
 * programme loaded what it needs (settings, the shop's token secret and
 * WooCommerce credentials) in a transaction before. The sender's name
 * falls back from the programme's own to the messaging settings', the
 * brand name, then the shop's name; the address from the programme's to
 * the messaging settings', then MAIL_FROM.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/core/mem.h"
#include "aftersale/outreach/outreach.h"

#define UNSUBSCRIBE_LIFETIME_S (366 * 86400LL)

char *
outreach_link(const char *base, const char *token_secret, const struct token_claims *claims)
{
    char *tok = token_mint(token_secret, claims), *link;

    if (tok == NULL)
        return NULL;
    link = xasprintf("%s?token=%s", base, tok);
    free(tok);
    return link;
}

char *
outreach_unsubscribe_link(const struct config *cfg, const char *fallback_base,
                          const char *token_secret, int64_t shop_id, const char *email,
                          int64_t ref_id, const char *programme)
{
    struct token_claims unsub = {.shop_id = shop_id, .scope = "unsubscribe", .rid = ref_id};
    char *base, *link;

    snprintf(unsub.email, sizeof(unsub.email), "%s", email);
    unsub.exp = time(NULL) + UNSUBSCRIBE_LIFETIME_S;
    base = xasprintf("%s/unsubscribe", cfg->public_url ? cfg->public_url : fallback_base);
    link = outreach_link(base, token_secret, &unsub);
    free(base);
    if (link != NULL && programme != NULL) {
        /* After the token: the page reads it back (an unsigned hint). */
        char *with = xasprintf("%s&from=%s", link, programme);
        free(link);
        link = with;
    }
    return link;
}

static enum mail_tls
tls_of(const char *s)
{
    if (s == NULL)
        return MAIL_TLS_STARTTLS_TRY;
    if (strcmp(s, "none") == 0)
        return MAIL_TLS_NONE;
    if (strcmp(s, "starttls") == 0)
        return MAIL_TLS_STARTTLS;
    if (strcmp(s, "implicit") == 0)
        return MAIL_TLS_IMPLICIT;
    return MAIL_TLS_STARTTLS_TRY;
}

static const char *
first_set(const char *a, const char *b, const char *c)
{
    if (a != NULL && a[0] != '\0')
        return a;
    if (b != NULL && b[0] != '\0')
        return b;
    return c;
}

enum mail_result
outreach_send_email(const struct config *cfg, const struct outreach_settings *s,
                    const struct outreach_email *m, struct err *e)
{
    struct mail_server server = {.host = cfg->smtp_host, .port = (int)cfg->smtp_port,
                                 .tls = tls_of(cfg->smtp_tls), .user = cfg->smtp_user,
                                 .password = cfg->smtp_password,
                                 .timeout_ms = cfg->smtp_timeout_ms, .verify_peer = true};
    const char *brand = first_set(s->brand_name, m->shop_name, NULL);
    struct mail_message msg = {
        .from_name = first_set(m->from_name, s->sender_name, brand),
        .from_addr = first_set(m->from_addr, s->sender_email, cfg->mail_from),
        .to_name = m->to_name != NULL && m->to_name[0] != '\0' ? m->to_name : NULL,
        .to_addr = m->to_addr, .reply_to = s->reply_to[0] ? s->reply_to : NULL,
        .subject = m->subject, .text = m->text, .html = m->html,
        .unsubscribe_url = m->unsubscribe_url, .message_id = m->message_id,
        .outcome_unknown = m->outcome_unknown};

    return mail_send(&server, &msg, time(NULL), e);
}

enum woo_result
outreach_send_note(struct woo_client *wc, const struct woo_shop *shop, int64_t order_id,
                   const char *subject, const char *text, struct err *e)
{
    json_t *note = NULL;
    char *body = xasprintf("%s\n\n%s", subject, text);
    enum woo_result r = woo_order_note_add(wc, shop, order_id, body, true, &note, e);

    free(body);
    json_decref(note);
    return r;
}
