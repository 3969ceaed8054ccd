/*
 * mention_mail.c — batched mail of missed mentions and direct messages
 * (mention_mail.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "authz.h"
#include "log.h"
#include "mail.h"
#include "mention_mail.h"
#include "util.h"

#define MAIL_MAX 12288   /* bytes of one mail */

enum mm_stmt {
	MM_STMT_DUE,
	MM_STMT_CLAIM,
	MM_STMT_UNCLAIM,
	MM_STMT_ITEMS,
	MM_STMT__MAX
};

/* A user is due when: opted in, verified address, live; last mail before
 * ?1 (seconds: now - interval); offline since before ?2 (ms: now -
 * delay) or never seen; an unread notification created after the last
 * mail and before ?2, in a channel the user can read. */
#define DUE_NOTIFICATION(u, last_s) \
	"FROM notifications n JOIN messages m ON m.id = n.message_id " \
	"JOIN channels c ON c.id = m.channel_id " \
	"LEFT JOIN channel_members me ON me.channel_id = c.id AND me.user_id = n.user_id " \
	"WHERE n.user_id = " u " AND n.read_at IS NULL AND m.deleted = 0 AND n.kind <> 'reply' " \
	"AND n.created_at > " last_s " * 1000 AND n.created_at <= ?2 AND " \
	PL_AUTHZ_SQL_CAN_READ("c", "me")

static const struct pl_sql mm_stmts[MM_STMT__MAX] = {
	[MM_STMT_DUE] = {
		"SELECT u.id, coalesce(u.mention_mail_at, 0) FROM users u "
		"WHERE u.mention_mail = 1 AND u.email_verified = 1 AND u.email IS NOT NULL "
		"AND u.deleted_at IS NULL AND u.deactivated_at IS NULL "
		"AND (u.mention_mail_at IS NULL OR u.mention_mail_at <= ?1) "
		"AND NOT EXISTS (SELECT 1 FROM presence_state p WHERE p.user_id = u.id "
		"AND (p.online = 1 OR p.changed_at > ?2)) "
		"AND EXISTS (SELECT 1 " DUE_NOTIFICATION("u.id", "coalesce(u.mention_mail_at, 0)") ") "
		"ORDER BY u.id LIMIT ?3" },
	/* The claim: only the pass whose UPDATE changes the row sends. */
	[MM_STMT_CLAIM] = {
		"UPDATE users SET mention_mail_at = ?2 WHERE id = ?1 AND mention_mail = 1 "
		"AND coalesce(mention_mail_at, 0) = ?3" },
	[MM_STMT_UNCLAIM] = {
		"UPDATE users SET mention_mail_at = CASE WHEN ?3 = 0 THEN NULL ELSE ?3 END "
		"WHERE id = ?1 AND mention_mail_at = ?2" },
	/* ?1 user, ?2 newest created_at (ms), ?3 last mail (s); the email
	 * rides along on every row. */
	[MM_STMT_ITEMS] = {
		"SELECT n.kind, c.name, c.kind, a.username, m.content, m.channel_id, m.id, "
		"(SELECT email FROM users WHERE id = ?1) "
		"FROM notifications n JOIN messages m ON m.id = n.message_id "
		"JOIN channels c ON c.id = m.channel_id JOIN users a ON a.id = m.user_id "
		"LEFT JOIN channel_members me ON me.channel_id = c.id AND me.user_id = n.user_id "
		"WHERE n.user_id = ?1 AND n.read_at IS NULL AND m.deleted = 0 AND n.kind <> 'reply' "
		"AND n.created_at > ?3 * 1000 AND n.created_at <= ?2 AND "
		PL_AUTHZ_SQL_CAN_READ("c", "me") " ORDER BY n.id" },
};

struct due {
	int64_t user_id;
	int64_t last_s;   /* mention_mail_at before the claim, 0 never */
};

static int find_due(struct pl_db *db, const struct pl_config *cfg, int64_t now_ms, int max,
		    struct due *out, int *n, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &mm_stmts[MM_STMT_DUE], err);
	int step;

	*n = 0;
	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, now_ms / 1000 - cfg->mention_mail_interval);
	pl_stmt_bind_int64(st, 2, now_ms - (int64_t)cfg->mention_mail_delay * 1000);
	pl_stmt_bind_int(st, 3, max);
	while ((step = pl_stmt_step(st)) == PL_ROW && *n < max) {
		out[*n].user_id = pl_stmt_int64(st, 0);
		out[*n].last_s = pl_stmt_int64(st, 1);
		(*n)++;
	}
	pl_db_done(st);
	if (step != PL_DONE && step != PL_ROW)
		return pl_err_internal(err, "mention mail due: %s", pl_db_last_error(db));
	return 0;
}

/* Runs the claim (or, with `undo`, gives it back). 1 = this pass owns it. */
static int claim(struct pl_db *db, const struct due *d, int64_t now_s, bool undo, struct pl_err *err)
{
	struct pl_stmt *st;
	int rc = -1;

	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &mm_stmts[undo ? MM_STMT_UNCLAIM : MM_STMT_CLAIM], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, d->user_id);
	pl_stmt_bind_int64(st, 2, now_s);
	pl_stmt_bind_int64(st, 3, d->last_s);
	if (pl_db_step_done(db, st, err) < 0)
		goto out;
	rc = pl_db_changes(db) == 1 ? 1 : 0;
out:
	if (pl_db_end(db, rc < 0 ? -1 : 0, err) < 0)
		return -1;
	return rc;
}

/* Appends a one-line excerpt of `s`: control characters as spaces, at
 * most PL_MENTION_MAIL_EXCERPT bytes cut at a character boundary. */
static void excerpt(char *buf, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s), i;

	if (n > PL_MENTION_MAIL_EXCERPT) {
		n = PL_MENTION_MAIL_EXCERPT;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	for (i = 0; i < n && *len + 1 < cap; i++)
		buf[(*len)++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	if (n < strlen(s) && *len + 4 < cap) {
		memcpy(buf + *len, "...", 3);
		*len += 3;
	}
	buf[*len] = '\0';
}

static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = (size_t)n >= cap - *len ? cap - 1 : *len + (size_t)n;
}

/* Builds the mail of `d` into `msg` (items up to `upto_ms`); returns the
 * number of notifications listed (0: nothing to send), -1 on error. */
static int build_mail(struct pl_db *db, const struct pl_config *cfg, const struct due *d,
		      int64_t upto_ms, char *msg, size_t cap, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &mm_stmts[MM_STMT_ITEMS], err);
	char body[MAIL_MAX - 1024] = "", email[256] = "";
	size_t blen = 0, mlen = 0;
	int step, count = 0;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, d->user_id);
	pl_stmt_bind_int64(st, 2, upto_ms);
	pl_stmt_bind_int64(st, 3, d->last_s);
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		if (!email[0] && pl_stmt_text(st, 7))
			snprintf(email, sizeof(email), "%s", pl_stmt_text(st, 7));
		if (++count > PL_MENTION_MAIL_ITEMS)
			continue;
		if (strcmp(pl_stmt_text(st, 2), "dm") == 0)
			append(body, sizeof(body), &blen, "* direct message from %s:\n  ", pl_stmt_text(st, 3));
		else
			append(body, sizeof(body), &blen, "* %s by %s in #%s:\n  ",
			       strcmp(pl_stmt_text(st, 0), "dm") == 0 ? "message" : "mention",
			       pl_stmt_text(st, 3), pl_stmt_text(st, 1));
		excerpt(body, sizeof(body), &blen, pl_stmt_text(st, 4));
		append(body, sizeof(body), &blen, "\n");
		if (cfg->public_url[0])
			append(body, sizeof(body), &blen, "  %s/?channel=%lld&message=%lld\n", cfg->public_url,
			       (long long)pl_stmt_int64(st, 5), (long long)pl_stmt_int64(st, 6));
	}
	pl_db_done(st);
	if (step != PL_DONE)
		return pl_err_internal(err, "mention mail items: %s", pl_db_last_error(db));
	if (count == 0 || !email[0])
		return 0;
	if (count > PL_MENTION_MAIL_ITEMS)
		append(body, sizeof(body), &blen, "... and %d more.\n", count - PL_MENTION_MAIL_ITEMS);
	/* The address passed pl_user_validate_email (no CR, LF, comma or
	 * brackets); nothing a user wrote goes in a header. */
	append(msg, cap, &mlen,
	       "To: %s\nFrom: %s\nSubject: You have %d unread mention%s or direct message%s on parley\n"
	       "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
	       "Content-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n\n"
	       "While you were away:\n\n%s\n%s%s%s"
	       "To stop these mails, set \"mention_mail\" to false in your profile.\n",
	       email, cfg->mail_from, count, count == 1 ? "" : "s", count == 1 ? "" : "s", body,
	       cfg->public_url[0] ? "Open parley: " : "", cfg->public_url, cfg->public_url[0] ? "\n\n" : "");
	return count;
}

/* Claims, builds and sends the mail of one due user; 1 sent, 0 not. */
static int mail_one(struct pl_db *db, const struct pl_config *cfg, const struct due *d,
		    int64_t now_ms, struct pl_err *err)
{
	char *msg;
	struct pl_err send_err = { 0 };
	int got, n;

	if ((got = claim(db, d, now_ms / 1000, false, err)) <= 0)
		return got;   /* another pass has it, or an error */
	msg = pl_xmalloc(MAIL_MAX);
	msg[0] = '\0';
	n = build_mail(db, cfg, d, now_ms - (int64_t)cfg->mention_mail_delay * 1000, msg, MAIL_MAX, err);
	if (n > 0 && pl_mail_send(cfg->mail_command, msg, &send_err) == 0) {
		free(msg);
		return 1;
	}
	free(msg);
	if (n > 0)
		pl_warn_log("mention mail to user %lld: %s", (long long)d->user_id, send_err.message);
	/* Nothing went: give the claim back so the next pass tries again. */
	if (claim(db, d, now_ms / 1000, true, n < 0 ? &send_err : err) < 0 || n < 0)
		return -1;
	return 0;
}

int pl_mention_mail_run(struct pl_db *db, const struct pl_config *cfg, int max_mails, int *sent,
			struct pl_err *err)
{
	struct due *due;
	int64_t now_ms = pl_now_ms();
	int n = 0, count = 0, rc = -1, r;

	if (sent)
		*sent = 0;
	if (!cfg->mention_mail || !cfg->mail_command[0] || max_mails <= 0)
		return 0;
	due = pl_xcalloc((size_t)max_mails, sizeof(*due));
	if (find_due(db, cfg, now_ms, max_mails, due, &n, err) < 0)
		goto out;
	for (int i = 0; i < n; i++) {
		if ((r = mail_one(db, cfg, &due[i], now_ms, err)) < 0)
			goto out;
		count += r;
	}
	rc = 0;
out:
	free(due);
	if (sent)
		*sent = count;
	return rc;
}
