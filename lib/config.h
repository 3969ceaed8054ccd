/*
 * config.h — parley's configuration: built-in defaults, then an optional
 * config file, then environment variables (each later source wins).
 *
 * The file is named by $PARLEY_CONFIG; lines are `key = value`, `#` starts
 * a comment. Every key has an environment twin: PARLEY_ + upper-case key
 * (db_path -> PARLEY_DB_PATH). The keys, their defaults, bounds and
 * meanings are one table, config_keys.h (the README's table and
 * parley.conf(5) are generated from it); the comments below name each
 * field's key.
 */
#ifndef PL_CONFIG_H
#define PL_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define PL_SECRET_MAX 256

struct pl_config {
	char db_url[1024];           /* db_url: the database (pl_url_is_postgres, util.h):
	                              * a libpq connection string for PostgreSQL, or an
	                              * SQLite path ("sqlite:" optional); empty: db_path */
	char db_path[1024];          /* db_path: SQLite file; set from db_url
	                              * when that names SQLite */
	char state_dir[1024];        /* state_dir: this machine's own state (hash slots)
	                              * on PostgreSQL */
	char slots_base[1100];       /* where this machine's slot directories go
	                              * ("<slots_base>-hashslots", "-pollslots"):
	                              * db_path on SQLite, "<state_dir>/parley" on
	                              * PostgreSQL (derived, not a setting) */
	char schema_dir[1024];       /* schema_dir: migrations directory */
	char jwt_secret_file[1024];  /* jwt_secret_file: file holding the HS256 key */
	unsigned char jwt_secret[PL_SECRET_MAX]; /* the key bytes read from it */
	size_t jwt_secret_len;       /* key length in bytes (>= 32 required) */
	int access_ttl;              /* access_token_ttl: seconds */
	int refresh_ttl;             /* refresh_token_ttl: seconds */
	size_t body_limit;           /* body_limit: request body bytes */
	int presence_window;         /* presence_window: seconds */
	int presence_close_grace;    /* presence_close_grace: seconds */
	int pins_by_members;         /* pins_by_members: 1 members may pin, 0 owner/admins */
	int busy_timeout_ms;         /* busy_timeout: SQLite busy wait, ms */
	int ws_port;                 /* ws_port: daemon port on 127.0.0.1 */
	char ws_listen[64];          /* ws_listen: daemon address */
	int ws_poll_ms;              /* ws_poll_ms: event poll interval, ms */
	char ws_origins[1024];       /* ws_origins: allowed origins (scheme://host[:port]), space/comma-separated; "*" any; empty = the request's own origin only */
	int event_retention_days;    /* event_retention_days: events kept this long */
	int ws_inotify;              /* ws_inotify: 1 = wake on -wal changes as well as polling */
	int ws_stall_timeout;        /* ws_stall_timeout: s a socket may leave frames untaken before it is dropped */
	int ws_ping_interval;        /* ws_ping_interval: s of silence before the daemon pings a socket */
	int ws_hangup;               /* ws_hangup: s of silence (no frame, no pong) before the daemon drops a socket */
	int ws_user_limit;           /* ws_user_limit: sockets per user per daemon, more are closed with 4008 (0 = no cap) */
	int poll_user_limit;         /* poll_user_limit: waiting long polls per user, all processes; more get 429 (0 = no cap) */
	/* accounts (issue 3): rate limits are events per window (seconds); 0 = no limit */
	int login_user_limit;        /* login_user_limit: failed logins per username */
	int login_user_window;       /* login_user_window: seconds */
	int login_addr_limit;        /* login_addr_limit: failed logins per client address */
	int login_addr_window;       /* login_addr_window: seconds */
	int register_addr_limit;     /* register_addr_limit: registrations per client address */
	int register_addr_window;    /* register_addr_window: seconds */
	int webhook_rate_limit;      /* webhook_rate_limit: posts per webhook per window */
	int webhook_rate_window;     /* webhook_rate_window: seconds */
	int verify_request_limit;    /* verify_request_limit: verification mails per user */
	int verify_request_window;   /* verify_request_window: seconds */
	int verify_code_ttl;         /* verify_code_ttl: verification code lifetime, seconds */
	char mail_command[1024];     /* mail_command: sendmail-compatible argv, space-separated (empty = off) */
	char mail_from[256];         /* mail_from: From: address of verification mails */
	int hash_concurrency;        /* hash_concurrency: password hashes at once, all processes (0 = CPUs - 1, >= 1) */
	int hash_wait_ms;            /* hash_wait_ms: ms a hash waits for a free slot before 503 */
	int log_level;               /* log_level: 0 error .. 3 debug */
	/* files (issue 15, lib/files.h) */
	char files_dir[1024];        /* files_dir: uploaded files, content-addressed, outside the web root */
	size_t file_max_bytes;       /* file_max_bytes: largest upload, bytes */
	size_t file_quota_bytes;     /* file_quota_bytes: bytes of uploads per user */
	char file_offload[32];       /* file_offload: who sends a file's bytes: "none" (the program streams them,
	                              * plain CGI), "x-sendfile" (lighttpd, Apache mod_xsendfile),
	                              * "x-accel-redirect" (nginx) */
	char file_accel_prefix[256]; /* file_accel_prefix: nginx's internal location for files_dir */
	char file_inline_types[1024]; /* file_inline_types: content types shown inline, space-separated; others download */
	enum pl_offload { PL_OFFLOAD_NONE, PL_OFFLOAD_SENDFILE, PL_OFFLOAD_ACCEL } offload; /* from file_offload */
	/* outgoing webhooks (issue 16, lib/outhooks.h, parley-hookd) */
	char outgoing_webhook_allow_hosts[1024]; /* outgoing_webhook_allow_hosts: hosts exempt from the SSRF address check */
	int outgoing_webhook_connect_timeout_ms; /* outgoing_webhook_connect_timeout_ms: connect (and TLS) timeout, ms */
	int outgoing_webhook_timeout_ms;         /* outgoing_webhook_timeout_ms: one attempt in all, ms */
	int outgoing_webhook_max_attempts;       /* outgoing_webhook_max_attempts: attempts before failed */
	int outgoing_webhook_backoff_ms;         /* outgoing_webhook_backoff_ms: first retry delay, ms */
	int outgoing_webhook_queue_max;          /* outgoing_webhook_queue_max: pending deliveries per hook */
	int outgoing_webhook_poll_ms;            /* outgoing_webhook_poll_ms: worker poll interval, ms */
	/* server administration (issue 16, lib/admin.h) */
	char registration[16];       /* registration: "open", "invite" or "closed" */
	enum pl_reg_mode { PL_REG_OPEN = 0, PL_REG_INVITE, PL_REG_CLOSED } reg_mode; /* from registration */
	/* phone verification, data export, missed-mention mail (issue 16: sms_verify.h, export.h, mention_mail.h) */
	char sms_command[1024];      /* sms_command: SMS sender argv, space-separated; text on stdin, number appended (empty = off) */
	int sms_code_ttl;            /* sms_code_ttl: SMS code lifetime, seconds */
	int sms_user_limit;          /* sms_user_limit: SMS codes per user per sms_window */
	int sms_number_limit;        /* sms_number_limit: SMS codes per number per sms_window */
	int sms_window;              /* sms_window: seconds */
	int sms_max_attempts;        /* sms_max_attempts: wrong entries before a code is void */
	int export_limit;            /* export_limit: data exports per user per export_window */
	int export_window;           /* export_window: seconds */
	int mention_mail;            /* mention_mail: 1 = mail missed mentions/DMs (needs mail_command), 0 = off */
	int mention_mail_delay;      /* mention_mail_delay: seconds offline before such a mail */
	int mention_mail_interval;   /* mention_mail_interval: seconds, at most one such mail per user */
	char public_url[512];        /* public_url: base of links in mails ("" = none) */
};

/*
 * pl_config_load: fills `cfg` from defaults, the file named by
 * $PARLEY_CONFIG (if set) and the environment, then reads the JWT secret
 * from jwt_secret_file (or $PARLEY_JWT_SECRET, the key itself). A missing
 * or short (< 32 bytes) secret is an error: parley never runs unkeyed;
 * so is a key file other users may read or write (mode & 0006): it is
 * refused, not tightened (DECISIONS.md, files on disk). Also applies this process's password-hash bound (hash_concurrency,
 * hash_wait_ms, slots next to db_path: hashslot.h).
 * Returns 0, or -1 with `err` describing the problem (status 500).
 */
int pl_config_load(struct pl_config *cfg, struct pl_err *err);

#endif
