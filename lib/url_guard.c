/* url_guard.c — may the server request this URL (SSRF guard; url_guard.h). */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "url_guard.h"

/* One refused IPv4 range: network and prefix length. */
struct v4_range {
	uint32_t net;
	int bits;
	const char *why;
};

static const struct v4_range v4_refused[] = {
	{ 0x00000000u, 8, "unspecified" },   /* 0.0.0.0/8 */
	{ 0x0a000000u, 8, "private" },       /* 10.0.0.0/8 */
	{ 0x64400000u, 10, "shared (CGNAT)" }, /* 100.64.0.0/10 */
	{ 0x7f000000u, 8, "loopback" },      /* 127.0.0.0/8 */
	{ 0xa9fe0000u, 16, "link-local" },   /* 169.254.0.0/16 */
	{ 0xac100000u, 12, "private" },      /* 172.16.0.0/12 */
	{ 0xc0000000u, 24, "reserved" },     /* 192.0.0.0/24 */
	{ 0xc0000200u, 24, "reserved" },     /* 192.0.2.0/24 */
	{ 0xc0a80000u, 16, "private" },      /* 192.168.0.0/16 */
	{ 0xc6120000u, 15, "reserved" },     /* 198.18.0.0/15 */
	{ 0xc6336400u, 24, "reserved" },     /* 198.51.100.0/24 */
	{ 0xcb007100u, 24, "reserved" },     /* 203.0.113.0/24 */
	{ 0xe0000000u, 4, "multicast" },     /* 224.0.0.0/4 */
	{ 0xf0000000u, 4, "reserved" },      /* 240.0.0.0/4, broadcast */
};

static bool v4_forbidden(uint32_t a, const char **why)
{
	for (size_t i = 0; i < sizeof(v4_refused) / sizeof(v4_refused[0]); i++) {
		uint32_t mask = 0xffffffffu << (32 - v4_refused[i].bits);
		if ((a & mask) == v4_refused[i].net) {
			*why = v4_refused[i].why;
			return true;
		}
	}
	return false;
}

static uint32_t v4_at(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool v6_forbidden(const unsigned char *a, const char **why)
{
	static const unsigned char zero[12] = { 0 };
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b };

	/* ::/96 (unspecified, loopback, IPv4-compatible), ::ffff:0:0/96 and
	 * 64:ff9b::/96 carry an IPv4 address: judge that. */
	if (!memcmp(a, zero, 12)) {
		uint32_t v4 = v4_at(a + 12);
		if (v4 <= 1) {
			*why = v4 ? "loopback" : "unspecified";
			return true;
		}
		return v4_forbidden(v4, why);
	}
	if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12))
		return v4_forbidden(v4_at(a + 12), why);
	if (a[0] == 0x01 && a[1] == 0 && !memcmp(a + 2, zero, 6))
		return *why = "reserved", true;          /* 100::/64 discard */
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		return *why = "reserved", true;          /* 2001:db8::/32 */
	if ((a[0] & 0xfe) == 0xfc)
		return *why = "unique-local", true;      /* fc00::/7 */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return *why = "link-local", true;        /* fe80::/10 */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return *why = "site-local", true;        /* fec0::/10 */
	if (a[0] == 0xff)
		return *why = "multicast", true;         /* ff00::/8 */
	return false;
}

bool pl_addr_forbidden(const struct sockaddr *sa, const char **why)
{
	const char *dummy;

	if (!why)
		why = &dummy;
	*why = "";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		return v4_forbidden(ntohl(in->sin_addr.s_addr), why);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		return v6_forbidden(in6->sin6_addr.s6_addr, why);
	}
	*why = "not an internet address";
	return true;
}

/* Reads the port of "…:port" at `p` up to `end`; -1 when bad. */
static int parse_port(const char *p, const char *end)
{
	long v = 0;

	if (p == end || end - p > 5)
		return -1;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

static bool host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

int pl_url_parse(const char *url, struct pl_url_target *t, struct pl_err *err)
{
	const char *p, *auth_end, *host, *host_end, *port = NULL;
	size_t len = strlen(url);

	memset(t, 0, sizeof(*t));
	if (len == 0 || len > PL_URL_MAX)
		return pl_err_set(err, 400, "url must be 1-%d bytes", PL_URL_MAX);
	for (p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || (unsigned char)*p >= 0x80)
			return pl_err_set(err, 400, "url must not contain spaces, control or non-ASCII bytes");
	if (!strncasecmp(url, "https://", 8)) {
		t->https = true;
		p = url + 8;
	} else if (!strncasecmp(url, "http://", 7)) {
		p = url + 7;
	} else {
		return pl_err_set(err, 400, "url must start with http:// or https://");
	}
	if (strchr(url, '#'))
		return pl_err_set(err, 400, "url must not have a fragment");
	auth_end = p + strcspn(p, "/?");
	if (memchr(p, '@', (size_t)(auth_end - p)))
		return pl_err_set(err, 400, "url must not carry user information");
	if (*p == '[') {
		host = p + 1;
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (!host_end)
			return pl_err_set(err, 400, "url has an unclosed IPv6 address");
		if (host_end + 1 < auth_end) {
			if (host_end[1] != ':')
				return pl_err_set(err, 400, "url has a bad host");
			port = host_end + 2;
		}
	} else {
		host = p;
		host_end = memchr(p, ':', (size_t)(auth_end - p));
		if (host_end)
			port = host_end + 1;
		else
			host_end = auth_end;
		for (const char *c = host; c < host_end; c++)
			if (!host_char_ok(*c))
				return pl_err_set(err, 400, "url has a bad host");
	}
	if (host_end == host || (size_t)(host_end - host) >= sizeof(t->host))
		return pl_err_set(err, 400, "url needs a host (at most %d bytes)", PL_URL_HOST_MAX - 1);
	memcpy(t->host, host, (size_t)(host_end - host));
	t->port = t->https ? 443 : 80;
	if (port && (t->port = parse_port(port, auth_end)) < 0)
		return pl_err_set(err, 400, "url has a bad port");
	return 0;
}

bool pl_url_host_allowed(const char *host, const char *allow_list)
{
	size_t hlen = strlen(host);
	const char *p = allow_list;

	while (p && *p) {
		size_t n;
		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n == hlen && n > 0 && !strncasecmp(p, host, n))
			return true;
		p += n;
	}
	return false;
}

int pl_url_check(const char *url, const char *allow_list, struct pl_url_target *t,
		 struct pl_err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[8];
	const char *why = "";
	int rc = -1, gai;

	if (pl_url_parse(url, t, err) < 0)
		return -1;
	t->allowed_host = pl_url_host_allowed(t->host, allow_list);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", t->port);
	if ((gai = getaddrinfo(t->host, port, &hints, &res)) != 0 || !res) {
		pl_err_set(err, 400, "url host %s does not resolve", t->host);
		goto out;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (!t->allowed_host && pl_addr_forbidden(ai->ai_addr, &why)) {
			pl_err_set(err, 400, "url host %s resolves to a %s address, which webhooks may "
				   "not reach (unless the host is in outgoing_webhook_allow_hosts)",
				   t->host, why);
			goto out;
		}
	}
	if (getnameinfo(res->ai_addr, res->ai_addrlen, t->addr, sizeof(t->addr), NULL, 0,
			NI_NUMERICHOST) != 0) {
		pl_err_set(err, 400, "url host %s does not resolve", t->host);
		goto out;
	}
	rc = 0;
out:
	if (res)
		freeaddrinfo(res);
	return rc;
}
