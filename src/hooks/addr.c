/*
 * addr.c - which addresses a webhook delivery may connect to (SSRF).
 *
 * A merchant types the URL; the service connects from inside the
 * operator's network. So by default a delivery connects only to public
 * unicast addresses: never loopback, private (RFC 1918), shared (CGNAT),
 * link-local (cloud metadata lives at 169.254.169.254), unique-local,
 * multicast, reserved or documentation ranges, nor an IPv6 form that
 * embeds one of those (IPv4-mapped, IPv4-compatible, NAT64, 6to4).
 * WEBHOOK_ALLOW_PRIVATE lets an operator open all of them ("on") or some
 * CIDRs. deliver.c checks EVERY address a name resolves to and then
 * connects to a checked address only. Pure: no I/O.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aftersale/hooks/hooks.h"

struct net4 {
    uint32_t addr;
    int bits;
};

static const struct net4 private4[] = {
    {0x00000000, 8},  /* 0.0.0.0/8 "this network" */
    {0x0A000000, 8},  /* 10/8 */
    {0x64400000, 10}, /* 100.64/10 shared address space */
    {0x7F000000, 8},  /* 127/8 loopback */
    {0xA9FE0000, 16}, /* 169.254/16 link-local (metadata services) */
    {0xAC100000, 12}, /* 172.16/12 */
    {0xC0000000, 24}, /* 192.0.0/24 IETF protocol assignments */
    {0xC0000200, 24}, /* 192.0.2/24 TEST-NET-1 */
    {0xC0586300, 24}, /* 192.88.99/24 6to4 relay anycast */
    {0xC0A80000, 16}, /* 192.168/16 */
    {0xC6120000, 15}, /* 198.18/15 benchmarking */
    {0xC6336400, 24}, /* 198.51.100/24 TEST-NET-2 */
    {0xCB007100, 24}, /* 203.0.113/24 TEST-NET-3 */
    {0xE0000000, 4},  /* 224/4 multicast */
    {0xF0000000, 4},  /* 240/4 reserved, and 255.255.255.255 */
};

static bool
in4(uint32_t a, uint32_t net, int bits)
{
    uint32_t mask = bits == 0 ? 0 : 0xFFFFFFFFu << (32 - bits);
    return (a & mask) == (net & mask);
}

static bool
private_v4(uint32_t a)
{
    for (size_t i = 0; i < sizeof(private4) / sizeof(private4[0]); i++)
        if (in4(a, private4[i].addr, private4[i].bits))
            return true;
    return false;
}

static bool
prefix_match(const uint8_t *a, const uint8_t *net, int bits)
{
    int whole = bits / 8, rest = bits % 8;

    if (memcmp(a, net, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    return ((a[whole] ^ net[whole]) & (uint8_t)(0xFF << (8 - rest))) == 0;
}

static uint32_t
v4_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The IPv4 address an IPv6 one stands for (mapped, compatible, NAT64,
 * 6to4), so the v4 rules apply to it: true with *v4 set. */
static bool
embedded_v4(const uint8_t *a, uint32_t *v4)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    static const uint8_t zero[12] = {0};
    static const uint8_t nat64[12] = {0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};

    if (memcmp(a, mapped, 12) == 0 || memcmp(a, zero, 12) == 0 || memcmp(a, nat64, 12) == 0) {
        *v4 = v4_at(a + 12);
        return true;
    }
    if (a[0] == 0x20 && a[1] == 0x02) { /* 2002::/16 6to4 */
        *v4 = v4_at(a + 2);
        return true;
    }
    return false;
}

static bool
private_v6(const uint8_t *a)
{
    static const uint8_t doc[4] = {0x20, 0x01, 0x0D, 0xB8};
    static const uint8_t teredo[4] = {0x20, 0x01, 0x00, 0x00};
    static const uint8_t discard[8] = {0x01, 0, 0, 0, 0, 0, 0, 0};
    uint32_t v4;

    if (embedded_v4(a, &v4))
        /* ::/128 and ::1 land here as 0.0.0.0 and 0.0.0.1: both in 0/8. */
        return private_v4(v4);
    if ((a[0] & 0xFE) == 0xFC) /* fc00::/7 unique local */
        return true;
    if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) /* fe80::/10 link-local */
        return true;
    if (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0) /* fec0::/10 old site-local */
        return true;
    if (a[0] == 0xFF) /* ff00::/8 multicast */
        return true;
    if (memcmp(a, doc, 4) == 0 || memcmp(a, teredo, 4) == 0 || memcmp(a, discard, 8) == 0)
        return true;
    return false;
}

bool
hooks_addr_is_private(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        return private_v4(ntohl(s4->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        return private_v6(s6->sin6_addr.s6_addr);
    }
    return true; /* anything else is not a place to post to */
}

bool
hooks_addr_allowed(const struct hooks_allow *allow, const struct sockaddr *sa)
{
    uint8_t v4b[4];
    const uint8_t *a4 = NULL, *a6 = NULL;
    uint32_t v4;

    if (!hooks_addr_is_private(sa))
        return true;
    if (allow->all)
        return sa->sa_family == AF_INET || sa->sa_family == AF_INET6;
    if (sa->sa_family == AF_INET) {
        a4 = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr;
    } else if (sa->sa_family == AF_INET6) {
        a6 = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        if (embedded_v4(a6, &v4)) {
            v4b[0] = (uint8_t)(v4 >> 24);
            v4b[1] = (uint8_t)(v4 >> 16);
            v4b[2] = (uint8_t)(v4 >> 8);
            v4b[3] = (uint8_t)v4;
            a4 = v4b;
        }
    } else {
        return false;
    }
    for (int i = 0; i < allow->n; i++) {
        if (allow->nets[i].family == AF_INET && a4 &&
            prefix_match(a4, allow->nets[i].addr, allow->nets[i].bits))
            return true;
        if (allow->nets[i].family == AF_INET6 && a6 &&
            prefix_match(a6, allow->nets[i].addr, allow->nets[i].bits))
            return true;
    }
    return false;
}

static int
parse_cidr(const char *s, size_t len, struct hooks_allow *out)
{
    char tmp[64], *slash, *end;
    int family, max;
    long bits;

    if (len == 0 || len >= sizeof(tmp) || out->n >= HOOKS_ALLOW_MAX)
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    slash = strchr(tmp, '/');
    if (slash)
        *slash = '\0';
    memset(out->nets[out->n].addr, 0, 16);
    if (inet_pton(AF_INET, tmp, out->nets[out->n].addr) == 1) {
        family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, tmp, out->nets[out->n].addr) == 1) {
        family = AF_INET6;
        max = 128;
    } else {
        return -1;
    }
    bits = max;
    if (slash) {
        bits = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || bits < 0 || bits > max)
            return -1;
    }
    out->nets[out->n].family = family;
    out->nets[out->n].bits = (int)bits;
    out->n++;
    return 0;
}

int
hooks_allow_parse(const char *spec, struct hooks_allow *out, struct err *e)
{
    const char *p;

    memset(out, 0, sizeof(*out));
    if (spec == NULL || strcmp(spec, "off") == 0)
        return 0;
    if (strcmp(spec, "on") == 0) {
        out->all = true;
        return 0;
    }
    for (p = spec;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len > 0 && *p == ' ') {
            p++;
            len--;
        }
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (parse_cidr(p, len, out) < 0)
            return err_set(e, ERR_INVALID, "WEBHOOK_ALLOW_PRIVATE",
                           "WEBHOOK_ALLOW_PRIVATE must be off, on or up to %d CIDRs separated "
                           "by commas (such as 127.0.0.0/8,fd00::/8)",
                           HOOKS_ALLOW_MAX);
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return 0;
}

bool
hooks_url_valid(const char *url)
{
    const char *host, *end;
    size_t n = strlen(url);

    if (n == 0 || n > 2048)
        return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    if (strncmp(url, "https://", 8) == 0)
        host = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        host = url + 7;
    else
        return false;
    end = host + strcspn(host, "/?#");
    if (end == host)
        return false;
    if (memchr(host, '@', (size_t)(end - host)) != NULL) /* user info */
        return false;
    if (*host == ':') /* a port but no host */
        return false;
    return true;
}
