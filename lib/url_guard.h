/*
 * url_guard.h — may parley's server make a request to this URL? The guard
 * against server-side request forgery (SSRF) for outgoing webhooks: a URL
 * whose host resolves to loopback, a private or link-local network, CGNAT,
 * unique-local IPv6, multicast or an unspecified/reserved address is
 * refused, unless its host is in an allow-list (config
 * outgoing_webhook_allow_hosts). The check runs when a hook is created and
 * again at every delivery (DNS may have changed); the delivering side
 * connects to exactly the address checked here (pinned: hookd passes it to
 * libcurl's CURLOPT_RESOLVE), so a DNS rebind between check and connect
 * cannot reach another address.
 *
 * Ranges refused (RFC 6890 special-purpose registries): 0.0.0.0/8,
 * 10.0.0.0/8, 100.64.0.0/10 (CGNAT, RFC 6598), 127.0.0.0/8, 169.254.0.0/16,
 * 172.16.0.0/12, 192.0.0.0/24, 192.0.2.0/24, 192.168.0.0/16, 198.18.0.0/15,
 * 198.51.100.0/24, 203.0.113.0/24, 224.0.0.0/4, 240.0.0.0/4; ::/128, ::1,
 * IPv4-mapped/-compatible and NAT64 (64:ff9b::/96) addresses by the IPv4
 * rule, 100::/64, 2001:db8::/32, fc00::/7 (RFC 4193), fe80::/10, fec0::/10,
 * ff00::/8.
 */
#ifndef PL_URL_GUARD_H
#define PL_URL_GUARD_H

#include <stdbool.h>
#include <sys/socket.h>
#include "err.h"

#define PL_URL_MAX 2000       /* bytes of a webhook URL */
#define PL_URL_HOST_MAX 256   /* bytes of its host */

/* What a checked URL resolved to. */
struct pl_url_target {
	bool https;
	char host[PL_URL_HOST_MAX];  /* as written, without IPv6 brackets */
	int port;                    /* explicit or the scheme's default */
	char addr[64];               /* the numeric address to connect to */
	bool allowed_host;           /* the host is in the allow-list */
};

/*
 * pl_url_parse: splits an absolute http or https URL (RFC 3986) into
 * scheme, host and port, refusing what a webhook URL must not have:
 * another scheme, user information ("user@"), an empty or over-long host,
 * a bad port, spaces or control bytes, a fragment. `t` receives https,
 * host and port (addr stays empty). Returns 0, or -1 with `err` = 400 and
 * a message naming the problem.
 */
int pl_url_parse(const char *url, struct pl_url_target *t, struct pl_err *err);

/*
 * pl_url_host_allowed: whether `host` (without brackets) is in
 * `allow_list` (host names or addresses separated by commas or spaces;
 * ASCII case ignored, exact match, no wildcards).
 */
bool pl_url_host_allowed(const char *host, const char *allow_list);

/*
 * pl_addr_forbidden: whether the socket address `sa` is in one of the
 * refused ranges above. `why` (may be NULL) receives a static word for
 * the log and the error message ("loopback", "private", ...).
 */
bool pl_addr_forbidden(const struct sockaddr *sa, const char **why);

/*
 * pl_url_check: pl_url_parse, then resolves the host (getaddrinfo(3); a
 * numeric host needs no DNS) and refuses the URL when any of its addresses
 * is forbidden, unless the host is in `allow_list`. `t` receives the parse
 * and the first address (t->addr) to pin the connection to. Blocks for the
 * resolver. Returns 0, or -1 with `err` = 400 (bad URL, unresolvable host,
 * forbidden address: the message says which and why).
 */
int pl_url_check(const char *url, const char *allow_list, struct pl_url_target *t,
		 struct pl_err *err);

#endif
