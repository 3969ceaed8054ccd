/*
 * protocol.h — the "parley" WebSocket protocol served at /ws: the upgrade
 * (Origin's scheme, host and port checked against cfg.ws_origins or the
 * request's own origin, 403; authenticated by a one-time ?ticket= or by
 * ?token=, refused with an HTTP 401 before any 101; ?since= replay or
 * resync_required; a user over cfg.ws_user_limit sockets closed with
 * 4008), client frames (post and typing, each after a session check;
 * ping), and writing queued frames (and the 4001 close of a revoked
 * session). Plain
 * HTTP requests to the daemon get a JSON error (400 on /ws without an
 * upgrade, else 404). The protocol list also carries "parley-wal", the
 * inotify fd (delivery.h).
 */
#ifndef WSD_PROTOCOL_H
#define WSD_PROTOCOL_H

#include "wsd.h"

/* The daemon's protocol list, for lws_context_creation_info.protocols:
 * the parley protocol (index 0, so it also takes upgrades that name no
 * protocol, as browsers send) and the terminator. The lws context's user
 * pointer must be the struct wsd. */
extern const struct lws_protocols wsd_protocols[];

/* wsd_callback: the lws callback of the parley protocol. */
int wsd_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		 void *in, size_t len);

#endif
