/*
 * wsd.h — the ws-daemon's state: one per-process struct (struct wsd, the
 * lws context's user pointer) and one per-socket struct (struct wsd_conn,
 * the lws per-session data). Nothing else survives between callbacks.
 *
 * Invariants:
 * - Every established, authenticated socket is on wsd.conns exactly once,
 *   from LWS_CALLBACK_ESTABLISHED until LWS_CALLBACK_CLOSED.
 * - conn.cursor is the id of the last event that was considered for the
 *   socket (queued if visible, skipped if not): the socket receives every
 *   visible event with a higher id, once, in id order.
 * - wsd.cursor is the id of the last event the live pass handled. A socket
 *   that is not catching up has cursor >= wsd.cursor, so the live pass alone
 *   brings it every later event; a socket catching up (?since=) reads the
 *   events table itself until a short read proves it reached the head.
 * - A socket's queue holds at most WSD_QUEUE_SOFT_* of event frames: a
 *   socket that falls that far behind (a burst, a slow link) stops taking
 *   live events and catches up from the events table instead, at its own
 *   pace, with no gap and no duplicate (its cursor did not move). Replies
 *   (ack, error, pong) may go past the soft limit; past WSD_QUEUE_MAX_* the
 *   socket is dropped. So is a socket that has frames queued but has not
 *   taken one for cfg.ws_stall_timeout seconds (a client that does not read).
 * - A socket with close_code set is closing: nothing is queued for it that
 *   will be written, no client frame of it is acted on, and its next
 *   WRITEABLE writes only the close frame.
 * - WebSocket frames are written only from LWS_CALLBACK_SERVER_WRITEABLE
 *   (a refused upgrade's HTTP error is written from the filter callback,
 *   before any 101, as lws_return_http_status would).
 */
#ifndef WSD_H
#define WSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libwebsockets.h>
#include "app.h"
#include "events.h"

#define WSD_BATCH 256                 /* events read per query (catch-up) */
#define WSD_LIVE_BATCH 64             /* events per live pass: sockets drain in between */
#define WSD_BACKLOG_POLL_MS 1         /* next live pass after a full one */
#define WSD_QUEUE_SOFT_FRAMES 500     /* event frames queued per socket... */
#define WSD_QUEUE_SOFT_BYTES (512 << 10) /* ...and bytes: beyond, it catches up */
#define WSD_QUEUE_MAX_FRAMES 1000     /* any frames per socket... */
#define WSD_QUEUE_MAX_BYTES (1 << 20) /* ...and bytes: beyond, the socket is dropped */
#define WSD_SNDBUF (64 << 10)         /* SO_SNDBUF per socket (the kernel doubles it) */
#define WSD_CATCHUP_LOW 64            /* replay more only below this many queued frames */
#define WSD_FALLBACK_POLL_MS 1000     /* read events at least this often */
#define WSD_INOTIFY_POLL_MS 50        /* data_version poll floor while inotify or LISTEN works */
#define WSD_LISTEN_RETRY_MS 1000      /* reconnecting a lost LISTEN connection */
#define WSD_HOUSEKEEPING_MS 1000     /* housekeeping tick: stall check, presence sweep */
#define WSD_SESSION_TICKS 5           /* revoked-session check every 5 ticks (5 s) */
#define WSD_PRESENCE_REFRESH_S 20     /* last_seen refresh of connected users (at most) */
#define WSD_PRUNE_TICKS 60            /* event retention prune every 60 ticks */
#define WSD_CLOSE_REVOKED 4001        /* close code: the session was revoked */
#define WSD_CLOSE_TOO_MANY 4008       /* close code: the user has cfg.ws_user_limit sockets here */

/*
 * One serialized frame with LWS_PRE bytes of headroom before the text, as
 * lws_write() needs. Shared by every socket it is queued on; freed when the
 * last reference goes (wsd_frame_unref).
 */
struct wsd_frame {
	unsigned refs;
	size_t len;                    /* bytes of text after the headroom */
	unsigned char buf[];           /* LWS_PRE + len bytes */
};

struct wsd_qitem {
	struct wsd_frame *frame;       /* one reference held by the queue */
	struct wsd_qitem *next;
};

struct wsd;

/* Per-socket state: lws allocates and zeroes it, and frees it after CLOSED. */
struct wsd_conn {
	struct wsd_conn *prev, *next;  /* on wsd.conns while registered */
	struct wsd *wsd;
	struct lws *wsi;
	int64_t user_id;               /* from the access token */
	int64_t session_id;            /* 0 when opened with an API token */
	int64_t token_id;              /* the API token's id, 0 for a session */
	int scope;                     /* enum pl_scope of the credential */
	int64_t since;                 /* ?since=, valid when has_since */
	bool has_since;
	bool authed;                   /* the upgrade was accepted */
	bool registered;               /* on wsd.conns */
	bool catching_up;              /* replaying history after ?since= */
	bool dead;                     /* dropped (queue bound): queue nothing more */
	int close_code;                /* nonzero: close with this code at next WRITEABLE */
	int64_t cursor;                /* see the invariants above */
	struct wsd_qitem *head, *tail; /* outgoing frames, oldest first */
	size_t qlen, qbytes;
	int64_t progress_ms;           /* last time the queue moved (monotonic) */
	int64_t heard_ms;              /* last frame or pong from the peer (monotonic) */
	int64_t ping_ms;               /* when our last ping went out (monotonic) */
	bool ping_due;                 /* send a ping at the next WRITEABLE */
	char *rx;                      /* a message arriving in parts (owned) */
	size_t rx_len;
	bool rx_binary;                /* the message being received is binary */
};

/* Per-process state: the one deliberate context struct. */
struct wsd {
	struct pl_ctx ctx;             /* config + database connection */
	struct lws_context *lws;
	struct wsd_conn *conns;        /* registered sockets */
	size_t nconns;
	int64_t cursor;                /* last event handled by the live pass */
	int64_t data_version;          /* last PRAGMA data_version seen */
	int64_t last_read_ms;          /* when the live pass last read events */
	bool dirty;                    /* this process committed: run a pass */
	bool stopping;                 /* closing every socket at exit: no presence writes */
	char node[96];                 /* this daemon's name in presence_sockets (presence.h) */
	struct pl_event *live_buf;     /* WSD_BATCH events for the live pass */
	struct pl_event *replay_buf;   /* WSD_BATCH events for catch-up reads */
	lws_sorted_usec_list_t poll_sul;
	lws_sorted_usec_list_t house_sul;
	unsigned house_ticks;
	int inotify_fd;                /* -1, or watching the database's -wal file */
	struct lws *inotify_wsi;       /* the inotify fd adopted into the loop */
	unsigned rechecks;             /* 1 ms re-checks after an early inotify wake-up */
	unsigned long wakeups_inotify, wakeups_poll; /* passes that found news, by source */
	lws_sorted_usec_list_t recheck_sul; /* the re-checks' timer without a timerfd */
	int recheck_fd;                /* -1, or a timerfd for the re-checks, in the loop */
	struct lws *recheck_wsi;       /* recheck_fd adopted into the loop */
	struct pl_db_listener *listener; /* PostgreSQL: LISTEN parley_events, or NULL */
	struct lws *listen_wsi;        /* a dup of the listener's socket, in the loop */
	lws_sorted_usec_list_t listen_sul; /* reconnecting a lost listener */
	unsigned long wakeups_notify;  /* passes woken by a NOTIFY */
};

#endif
