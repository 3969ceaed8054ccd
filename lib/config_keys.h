/*
 * config_keys.h — every setting parley reads, in one table: the key (in
 * parley.conf, and PARLEY_<KEY> in upper case in the environment), the
 * field of struct pl_config it fills, its default, its bounds and what it
 * means. This is the one source of the settings:
 *   - lib/config.c builds its key table and applies the defaults from it;
 *   - scripts/settings.py generates the settings table of README.md and the
 *     KEYS section of man/parley.conf.5 from it (`make docs`), and
 *     `scripts/settings.py --check` (make check, "structure") fails when
 *     they differ from what it would generate, or when parley.conf.example
 *     names an unknown key or a commented-out `#key = number` there is not
 *     the default.
 *
 * An X-macro list with no include guard: the includer defines
 *   PL_SETTING_STR(key, field, default, meaning)
 *   PL_SETTING_INT(key, field, default, min, max, meaning)     (an int field)
 *   PL_SETTING_SIZE(key, field, default, min, max, meaning)    (a size_t field)
 * then includes this file (config.c also turns each entry into a
 * _Static_assert: field type, default within bounds, string default fits).
 *
 * To add a setting: a field in struct pl_config (config.h), one entry here,
 * then `make docs` (rewrites README.md and man/parley.conf.5); if
 * parley.conf.example should show it, add a commented-out `#key = default`
 * line there. What scripts/settings.py can read, and so all an entry may
 * contain:
 *   - key and meaning: string literals (adjacent literals are joined);
 *     `backticks` mark literal text (code in the README, bold in the man
 *     page); no other Markdown or roff. Non-ASCII only among − – — ↔ … ≤ ≥.
 *   - numbers: decimal integer literals (an L suffix where a product would
 *     overflow int: 4L * 1024 * 1024 * 1024) with + - * and parentheses;
 *     bounds and defaults are long (64 bits on Linux), PL_SETTING_SIZE
 *     fields size_t;
 *   - no comments inside an entry (between entries they are fine).
 * The meaning is one paragraph; the generator adds the default and range.
 */

PL_SETTING_STR("db_url", db_url, "",
	"The database, which also chooses the engine: a libpq connection string "
	"(`postgresql://parley@db.example/parley`, `host=/run/postgresql dbname=parley`) "
	"for PostgreSQL 15, or a file path (`sqlite:` optional) for SQLite. Empty: "
	"`db_path`. Every other key means the same on both engines.")
PL_SETTING_STR("db_path", db_path, "var/parley.db",
	"SQLite database file. Its directory must be writable by the serving user "
	"(SQLite creates `-wal` and `-shm` files beside it).")
PL_SETTING_STR("state_dir", state_dir, "var",
	"On PostgreSQL, a directory of this machine's own state: the password-hash "
	"and long-poll slot files (`<state_dir>/parley-hashslots/`, `-pollslots/`), "
	"which bound one machine's memory and processes, so every machine has its "
	"own. On SQLite they sit beside `db_path`.")
PL_SETTING_STR("schema_dir", schema_dir, "schema",
	"Directory of the numbered migrations applied by `parleyctl migrate`.")
PL_SETTING_STR("jwt_secret_file", jwt_secret_file, "var/jwt_secret",
	"File holding the HS256 key of access tokens, at least 32 bytes, mode 0600. "
	"A key file other users may read or write is refused: every program fails "
	"to start until it is chmod'ed. `PARLEY_JWT_SECRET` may give the key itself "
	"instead.")
PL_SETTING_INT("access_token_ttl", access_ttl, 900, 60, 86400 * 7,
	"Access token lifetime, seconds (clients renew with `POST /api/auth/refresh`).")
PL_SETTING_INT("refresh_token_ttl", refresh_ttl, 30 * 86400, 300, 86400 * 365,
	"Session (refresh token) lifetime, seconds (the default is 30 days).")
PL_SETTING_SIZE("body_limit", body_limit, 65536, 1024, 16 * 1024 * 1024,
	"Largest request body, bytes; larger requests get 413.")
PL_SETTING_INT("presence_window", presence_window, 60, 5, 86400,
	"Seconds a user stays online after their last socket or heartbeat.")
PL_SETTING_INT("pins_by_members", pins_by_members, 1, 0, 1,
	"1: any member of a channel may pin and unpin its messages; 0: only the "
	"channel's owner and admins.")
PL_SETTING_INT("presence_close_grace", presence_close_grace, 5, 0, 86400,
	"Seconds a user stays online after closing their last socket on a "
	"`parley-wsd` (a reload reconnects within it without flicker); at most "
	"`presence_window`. With several daemons, a user whose other sockets are "
	"on another daemon may show offline until that daemon's next refresh "
	"(a third of `presence_window`).")
PL_SETTING_INT("busy_timeout", busy_timeout_ms, 5000, 100, 60000,
	"Milliseconds a writer waits for the write lock (SQLite's busy timeout, "
	"PostgreSQL's `lock_timeout`); a writer that waits longer gets 503.")
PL_SETTING_INT("ws_port", ws_port, 8081, 1, 65535,
	"Port of `parley-wsd`; the web server proxies `/ws` there (`make run` uses "
	"its PORT + 1).")
PL_SETTING_STR("ws_listen", ws_listen, "127.0.0.1",
	"Address `parley-wsd` listens on.")
PL_SETTING_INT("ws_poll_ms", ws_poll_ms, 5, 1, 10000,
	"How often `parley-wsd` checks for new events, milliseconds.")
PL_SETTING_STR("ws_origins", ws_origins, "",
	"Origins allowed to open `/ws`, each `scheme://host[:port]`, separated by "
	"spaces or commas (e.g. `https://chat.example.com`); `*` allows any. Scheme, "
	"host and port must all match (ASCII case is ignored; `:80` for http and "
	"`:443` for https may be left out). Empty: only the request's own origin, "
	"that is its `Host` header with the scheme the proxy in front was reached by "
	"(`X-Forwarded-Proto`, which lighttpd sets itself; else http). An upgrade "
	"without `Origin` (not a browser) is not checked; others get 403. Behind a "
	"TLS proxy that reaches the web server over plain HTTP, list the https "
	"origin here.")
PL_SETTING_INT("event_retention_days", event_retention_days, 7, 1, 3650,
	"Events older than this many days are pruned (by `parley-wsd`, or by the "
	"long-poll program where no daemon runs); a client resuming from before "
	"that gets `resync_required`.")
PL_SETTING_INT("ws_inotify", ws_inotify, 1, 0, 1,
	"1: `parley-wsd` also wakes on writes to the SQLite database's `-wal` file "
	"(inotify) and then polls only every 50 ms as a floor; 0: it polls every "
	"`ws_poll_ms` only.")
PL_SETTING_INT("ws_stall_timeout", ws_stall_timeout, 15, 1, 3600,
	"Seconds a socket may leave queued frames untaken before `parley-wsd` "
	"drops it.")
PL_SETTING_INT("ws_ping_interval", ws_ping_interval, 25, 1, 3600,
	"Seconds a socket may stay silent before `parley-wsd` sends it a "
	"WebSocket ping (RFC 6455 5.5.2; browsers answer with a pong). Proxies "
	"in front must allow at least this much idle time.")
PL_SETTING_INT("ws_hangup", ws_hangup, 70, 2, 7200,
	"Seconds without any frame or pong from a socket before `parley-wsd` "
	"drops it (a peer gone without closing). Raised to `ws_ping_interval` + "
	"1 when set below it.")
PL_SETTING_INT("ws_user_limit", ws_user_limit, 20, 0, 1000000,
	"Sockets one user may hold on one `parley-wsd` (0: no cap). One more is "
	"accepted and closed at once with close code 4008 (\"too many sockets for "
	"this user\"), before any frame.")
PL_SETTING_INT("poll_user_limit", poll_user_limit, 2, 0, 64,
	"Long polls (`GET /api/events`) one user may have waiting at once, across "
	"every process (0: no cap). One more that would wait gets 429 `rate_limited` "
	"with `Retry-After: 5`; a poll that answers at once is not counted. Each "
	"waiting poll holds a `parley-events` process: run at least this many plus "
	"2 (`PARLEY_EVENTS_PROCS`, lighttpd `max-procs`, `multiwatch -f`). The slots "
	"are locks in `<db_path>-pollslots/`, freed when a process dies.")
PL_SETTING_INT("login_user_limit", login_user_limit, 10, 0, 1000000,
	"Failed logins per username (any case) per `login_user_window`; then 429 "
	"with `Retry-After` (0: no limit).")
PL_SETTING_INT("login_user_window", login_user_window, 900, 1, 86400 * 30,
	"The window of `login_user_limit`, seconds.")
PL_SETTING_INT("login_addr_limit", login_addr_limit, 100, 0, 1000000,
	"Failed logins per client address per `login_addr_window` (0: no limit).")
PL_SETTING_INT("login_addr_window", login_addr_window, 900, 1, 86400 * 30,
	"The window of `login_addr_limit`, seconds.")
PL_SETTING_INT("register_addr_limit", register_addr_limit, 30, 0, 1000000,
	"Registrations per client address per `register_addr_window` (0: no limit).")
PL_SETTING_INT("register_addr_window", register_addr_window, 3600, 1, 86400 * 30,
	"The window of `register_addr_limit`, seconds.")
PL_SETTING_INT("verify_request_limit", verify_request_limit, 5, 0, 1000000,
	"Verification mails per user per `verify_request_window` (0: no limit).")
PL_SETTING_INT("verify_request_window", verify_request_window, 3600, 1, 86400 * 30,
	"The window of `verify_request_limit`, seconds.")
PL_SETTING_INT("verify_code_ttl", verify_code_ttl, 900, 1, 86400 * 7,
	"Lifetime of an email verification code, seconds.")
PL_SETTING_STR("mail_command", mail_command, "",
	"Sendmail-compatible command for verification mails: an absolute path plus "
	"arguments split on spaces, run without a shell, the message on standard "
	"input (e.g. `/usr/sbin/sendmail -t -i`). Empty: mail is off and "
	"`POST /api/auth/verify-email/request` answers 503.")
PL_SETTING_STR("mail_from", mail_from, "parley@localhost",
	"`From:` address of verification mails.")
PL_SETTING_INT("hash_concurrency", hash_concurrency, 0, 0, 64,
	"Argon2id password hashes (about 64 MiB and 55 ms each: login, registration, "
	"password change) allowed at once across all parley processes; 0: the "
	"number of online CPUs minus one, at least 1. Each hash holds a lock (an "
	"open file description lock, `F_OFD_SETLK`) on one of the slot files in "
	"`<db_path>-hashslots/` (on PostgreSQL in `state_dir`); a process that "
	"dies frees its slot.")
PL_SETTING_INT("hash_wait_ms", hash_wait_ms, 200, 0, 10000,
	"Milliseconds a hash waits for a free slot (0: tries once); then the "
	"request gets 503 `unavailable` with `Retry-After: 1` and nothing is "
	"hashed (a refused login does not count against the login limits).")
PL_SETTING_INT("log_level", log_level, 2, 0, 3,
	"0 error, 1 warn, 2 info, 3 debug. Logs go to standard error (the web "
	"server's error log for the FastCGI programs, the journal under systemd).")
PL_SETTING_STR("files_dir", files_dir, "var/files",
	"Directory of uploaded files (attachments, avatars), stored once per "
	"content under their SHA-256; keep it outside the web root. The programs "
	"write it; with an offloading web server (`file_offload`) the server's "
	"user must read it (e.g. its group, set-group-id on the directory).")
PL_SETTING_SIZE("file_max_bytes", file_max_bytes, 25L * 1024 * 1024, 1024, 1024L * 1024 * 1024 * 1024,
	"Largest upload, bytes; a larger one gets 413 and nothing of it is kept. "
	"The web server's own body limit for `/api/files` must be a little "
	"larger (the multipart envelope): `scripts/serve.sh` sets both.")
PL_SETTING_SIZE("file_quota_bytes", file_quota_bytes, 1024L * 1024 * 1024, 0, 1024L * 1024 * 1024 * 1024 * 1024,
	"Bytes of uploads one user may keep (0: no quota); an upload past it gets 413.")
PL_SETTING_STR("file_offload", file_offload, "none",
	"Who sends a file's bytes: `none` (the program streams them itself: plain "
	"CGI), `x-sendfile` (lighttpd's `x-sendfile` for the files program, or "
	"Apache with mod_xsendfile), `x-accel-redirect` (nginx, with an `internal` "
	"location at `file_accel_prefix`). The web server then does `Range` and "
	"conditional requests itself.")
PL_SETTING_STR("file_accel_prefix", file_accel_prefix, "/_parley_files/",
	"The nginx location (marked `internal`, an `alias` of `files_dir`) that "
	"`X-Accel-Redirect` names.")
PL_SETTING_STR("file_inline_types", file_inline_types, "image/png image/jpeg image/gif image/webp",
	"Content types (as sniffed from the bytes) a browser may show inline, "
	"space-separated; every other file is sent as an attachment. Never add "
	"`text/html` or `image/svg+xml`.")

/* Outgoing webhooks (issue 16: lib/outhooks.h, lib/outhook_queue.h, parley-hookd). */
PL_SETTING_STR("outgoing_webhook_allow_hosts", outgoing_webhook_allow_hosts, "",
	"Hosts outgoing webhooks may reach although they resolve to an address "
	"webhooks are otherwise refused (loopback, private, link-local, CGNAT, "
	"unique-local IPv6, multicast, reserved), separated by commas or spaces, "
	"each a host name or address as written in the URL, matched exactly "
	"(e.g. `127.0.0.1,receiver.internal`). Empty: only public addresses.")
PL_SETTING_INT("outgoing_webhook_connect_timeout_ms", outgoing_webhook_connect_timeout_ms, 5000, 100, 60000,
	"Milliseconds `parley-hookd` waits for a webhook receiver to accept the "
	"connection (TLS included).")
PL_SETTING_INT("outgoing_webhook_timeout_ms", outgoing_webhook_timeout_ms, 10000, 100, 300000,
	"Milliseconds one delivery attempt may take in all; then it counts as a "
	"network error (retried).")
PL_SETTING_INT("outgoing_webhook_max_attempts", outgoing_webhook_max_attempts, 6, 1, 50,
	"Attempts of one delivery before it is marked failed. Only network "
	"errors, 5xx and 429 answers are retried.")
PL_SETTING_INT("outgoing_webhook_backoff_ms", outgoing_webhook_backoff_ms, 10000, 1, 3600000,
	"The first retry delay, milliseconds; later ones grow as 1, 3, 12, 60, 360 "
	"times it (10 s, 30 s, 2 min, 10 min, 1 h by default), each with up to "
	"20 % random jitter.")
PL_SETTING_INT("outgoing_webhook_queue_max", outgoing_webhook_queue_max, 1000, 1, 1000000,
	"Pending deliveries one hook may have; a new one past this drops the "
	"oldest pending one (marked failed, logged).")
PL_SETTING_INT("outgoing_webhook_poll_ms", outgoing_webhook_poll_ms, 250, 10, 60000,
	"How often `parley-hookd` looks for new messages and due deliveries, "
	"milliseconds.")
PL_SETTING_STR("registration", registration, "open",
	"Who may create an account with `POST /api/auth/register`: `open` (anyone), "
	"`invite` (only with an unused, unexpired `invite` token that a server admin "
	"made: `POST /api/admin/invites`, `parleyctl create-invite`) or `closed` "
	"(nobody: 403; `parleyctl create-user` still works). On a server without "
	"any account the first registration is always accepted, whatever the mode, "
	"and that account becomes the server admin.")
PL_SETTING_STR("sms_command", sms_command, "",
	"Command that sends an SMS for phone verification: an absolute path plus "
	"arguments split on spaces, run without a shell, the message text on "
	"standard input and the E.164 number appended as the last argument. "
	"Empty: SMS is off and `POST /api/auth/verify-sms/request` answers 503.")
PL_SETTING_INT("sms_code_ttl", sms_code_ttl, 600, 1, 86400,
	"Lifetime of a phone verification code, seconds.")
PL_SETTING_INT("sms_user_limit", sms_user_limit, 5, 0, 1000000,
	"SMS codes per user per `sms_window` (0: no limit).")
PL_SETTING_INT("sms_number_limit", sms_number_limit, 5, 0, 1000000,
	"SMS codes per phone number per `sms_window`, whoever asks (0: no limit).")
PL_SETTING_INT("sms_window", sms_window, 3600, 1, 86400 * 30,
	"The window of `sms_user_limit` and `sms_number_limit`, seconds.")
PL_SETTING_INT("sms_max_attempts", sms_max_attempts, 5, 1, 100,
	"Wrong entries of a phone verification code before the code is void.")
PL_SETTING_INT("export_limit", export_limit, 1, 0, 1000000,
	"Data exports (`GET /api/users/me/export`) per user per `export_window` (0: no limit).")
PL_SETTING_INT("export_window", export_window, 600, 1, 86400 * 30,
	"The window of `export_limit`, seconds.")
PL_SETTING_INT("mention_mail", mention_mail, 1, 0, 1,
	"1: mail users a batch of the mentions and direct messages they missed while "
	"offline (needs `mail_command` and a verified address; each user may opt "
	"out); 0: never.")
PL_SETTING_INT("mention_mail_delay", mention_mail_delay, 900, 0, 86400 * 7,
	"Seconds a user must have been offline, and a notification unread, before "
	"it is mailed.")
PL_SETTING_INT("mention_mail_interval", mention_mail_interval, 3600, 0, 86400 * 30,
	"At most one missed-mention mail per user per this many seconds.")
PL_SETTING_STR("public_url", public_url, "",
	"The server's public base URL (e.g. `https://chat.example.org`), for links "
	"in mails. Empty: mails carry no links.")
PL_SETTING_INT("webhook_rate_limit", webhook_rate_limit, 60, 0, 1000000,
	"Messages one incoming webhook may post per `webhook_rate_window` (0: no "
	"limit); past it `POST /hooks/<secret>` gets 429 with Retry-After.")
PL_SETTING_INT("webhook_rate_window", webhook_rate_window, 60, 1, 86400,
	"The window of `webhook_rate_limit`, seconds.")
