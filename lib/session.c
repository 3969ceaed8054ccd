/* session.c — login, sessions and the bearer check (session.h). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "apitokens.h"
#include "log.h"
#include "password.h"
#include "ratelimit.h"
#include "session.h"
#include "user_view.h"
#include "util.h"

#define REFRESH_BYTES 32

/*
 * Every statement of this file. One text serves both engines: the boolean
 * column of SESSION_STMT_BY_REFRESH reads as 1/0 on both (db.h), and
 * sessions get ids from AUTOINCREMENT (SQLite) or an identity column
 * (PostgreSQL), read back with pl_db_last_id.
 */
enum session_stmt {
	SESSION_STMT_FIND_USER,
	SESSION_STMT_INSERT,
	SESSION_STMT_SWEEP,
	SESSION_STMT_CHECK,
	SESSION_STMT_USERNAME,
	SESSION_STMT_TICKET_SWEEP,
	SESSION_STMT_TICKET_INSERT,
	SESSION_STMT_TICKET_TAKE,
	SESSION_STMT_BY_REFRESH,
	SESSION_STMT_ROTATED_LOOKUP,
	SESSION_STMT_ROTATED_INSERT,
	SESSION_STMT_ROTATE,
	SESSION_STMT_REVOKE,
	SESSION_STMT_REVOKE_OWN,
	SESSION_STMT_REVOKE_USER,
	SESSION_STMT_TICKETS_DROP_USER,
	SESSION_STMT_TICKETS_DROP_SESSION,
	SESSION_STMT__MAX
};

static const struct pl_sql session_stmts[SESSION_STMT__MAX] = {
	[SESSION_STMT_FIND_USER] = {
		"SELECT id, username, password_hash, deactivated_at IS NOT NULL FROM users "
		"WHERE username = ?1 AND deleted_at IS NULL" },
	[SESSION_STMT_INSERT] = {
		"INSERT INTO sessions (user_id, refresh_hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)" },
	/*
	 * A user's dead sessions go when they next sign in (rotated hashes
	 * and tickets follow by ON DELETE CASCADE), but never the row holding
	 * the highest id: before schema 007 session ids were plain rowids and
	 * SQLite gave a new row max(id) + 1, so deleting the newest row would
	 * have handed its id to the next session — and an access token of the
	 * ended session (sid = that id, still unexpired) would have validated
	 * again. AUTOINCREMENT (007) and PostgreSQL's identity never reuse an
	 * id; keeping the newest row stays as a second guard.
	 */
	[SESSION_STMT_SWEEP] = {
		"DELETE FROM sessions WHERE user_id = ?1 AND (expires_at <= ?2 OR revoked_at IS NOT NULL) "
		"AND id < (SELECT max(id) FROM sessions)" },
	[SESSION_STMT_CHECK] = {
		"SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id "
		"WHERE s.id = ?1 AND s.user_id = ?2 AND s.revoked_at IS NULL "
		"AND s.expires_at > ?3 AND u.deleted_at IS NULL AND u.deactivated_at IS NULL" },
	[SESSION_STMT_USERNAME] = { "SELECT username FROM users WHERE id = ?1" },

	/* WebSocket tickets */
	[SESSION_STMT_TICKET_SWEEP] = { "DELETE FROM ws_tickets WHERE expires_at <= ?1" },
	[SESSION_STMT_TICKET_INSERT] = {
		"INSERT INTO ws_tickets (ticket_hash, user_id, session_id, expires_at) VALUES (?1, ?2, ?3, ?4)" },
	[SESSION_STMT_TICKET_TAKE] = {
		"DELETE FROM ws_tickets WHERE ticket_hash = ?1 RETURNING user_id, session_id, expires_at" },

	/* refresh-token rotation, logout, revocation */
	[SESSION_STMT_BY_REFRESH] = {
		"SELECT s.id, s.user_id, s.revoked_at IS NULL AND s.expires_at > ?2 AND u.deleted_at IS NULL "
		"AND u.deactivated_at IS NULL, "
		"u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.refresh_hash = ?1" },
	[SESSION_STMT_ROTATED_LOOKUP] = {
		"SELECT session_id FROM refresh_rotated WHERE refresh_hash = ?1" },
	[SESSION_STMT_ROTATED_INSERT] = {
		"INSERT INTO refresh_rotated (refresh_hash, session_id, rotated_at) VALUES (?1, ?2, ?3) "
		"ON CONFLICT DO NOTHING" },
	[SESSION_STMT_ROTATE] = {
		"UPDATE sessions SET refresh_hash = ?2, expires_at = ?3 WHERE id = ?1" },
	[SESSION_STMT_REVOKE] = {
		"UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL" },
	[SESSION_STMT_REVOKE_OWN] = {
		"UPDATE sessions SET revoked_at = ?3 WHERE user_id = ?1 AND revoked_at IS NULL AND "
		"(refresh_hash = ?2 OR id IN (SELECT session_id FROM refresh_rotated WHERE refresh_hash = ?2))" },
	[SESSION_STMT_REVOKE_USER] = {
		"UPDATE sessions SET revoked_at = ?3 WHERE user_id = ?1 AND id <> ?2 AND revoked_at IS NULL" },
	[SESSION_STMT_TICKETS_DROP_USER] = {
		"DELETE FROM ws_tickets WHERE user_id = ?1 AND session_id <> ?2" },
	[SESSION_STMT_TICKETS_DROP_SESSION] = { "DELETE FROM ws_tickets WHERE session_id = ?1" },
};

/* A new refresh token (base64url text) and the hex hash stored for it. */
static void new_refresh_token(char token[64], char hash_hex[65])
{
	unsigned char raw[REFRESH_BYTES], hash[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token, 64, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	crypto_generichash(hash, sizeof(hash), (const unsigned char *)token, strlen(token), NULL, 0);
	sodium_bin2hex(hash_hex, 65, hash, sizeof(hash));
}

static int create_session(struct pl_db *db, int64_t user_id, int refresh_ttl,
			  int64_t *sid, char refresh[64], struct pl_err *err)
{
	char hash_hex[65];
	int64_t now = pl_now_ms();
	struct pl_stmt *st;
	int rc = -1;

	new_refresh_token(refresh, hash_hex);
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &session_stmts[SESSION_STMT_SWEEP], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_int64(st, 2, now);
	if (pl_stmt_step(st) != PL_DONE) {
		pl_err_internal(err, "sweep sessions: %s", pl_db_last_error(db));
		goto out;
	}
	pl_db_done(st);
	if (!(st = pl_db_prepare(db, &session_stmts[SESSION_STMT_INSERT], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_text(st, 2, hash_hex);
	pl_stmt_bind_int64(st, 3, now);
	pl_stmt_bind_int64(st, 4, now + (int64_t)refresh_ttl * 1000);
	if (pl_stmt_step(st) != PL_DONE) {
		pl_err_internal(err, "insert session: %s", pl_db_last_error(db));
		goto out;
	}
	*sid = pl_db_last_id(db);
	pl_db_done(st);
	st = NULL;
	rc = 0;
out:
	pl_db_done(st);
	return pl_db_end(db, rc, err);
}

/* Looks the user up; copies id, canonical name and hash. 1 when unknown. */
static int find_user(struct pl_db *db, const char *username, int64_t *id,
		     char name[PL_USERNAME_MAX + 1], char hash[PL_PASSWORD_HASH_LEN], bool *deactivated,
		     struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &session_stmts[SESSION_STMT_FIND_USER], err);
	int step, rc = 1;

	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, username);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		*id = pl_stmt_int64(st, 0);
		snprintf(name, PL_USERNAME_MAX + 1, "%s", pl_stmt_text(st, 1));
		snprintf(hash, PL_PASSWORD_HASH_LEN, "%s", pl_stmt_text(st, 2));
		*deactivated = pl_stmt_int(st, 3) != 0;
		rc = 0;
	} else if (step != PL_DONE) {
		rc = pl_err_internal(err, "find user: %s", pl_db_last_error(db));
	}
	pl_db_done(st);
	return rc;
}

int pl_session_try_password(struct pl_db *db, const struct pl_config *cfg, const char *username,
			    const char *stored_hash, const char *password, size_t len,
			    const char *remote_addr, struct pl_err *err)
{
	struct pl_rate rates[2];
	struct pl_err ignored = { 0 };
	int match;

	pl_rate_set(&rates[0], "login_user", username, cfg->login_user_limit, cfg->login_user_window);
	pl_rate_set(&rates[1], "login_addr", remote_addr, cfg->login_addr_limit, cfg->login_addr_window);
	/* The limits answer first (429) and cheaply: no hash slot is taken. */
	if (pl_ratelimit_take(db, rates, 2, pl_now_ms(), err) < 0)
		return -1;
	/* No transaction is open here: argon2id (~55 ms) never holds the lock. */
	if (len > PL_PASSWORD_MAX) {  /* never a valid password: same cost, no match */
		stored_hash = NULL;
		len = PL_PASSWORD_MAX;
	}
	match = pl_password_check(stored_hash, password, len, err);
	if (match < 0) {
		/* 503, every hash slot busy: the password was not checked, so
		 * the attempt does not count either. */
		pl_ratelimit_refund(db, rates, 2, &ignored);
		return -1;
	}
	if (match > 0)
		return pl_err_set(err, 401, "invalid username or password");
	/* Successful attempts do not count: give back exactly what we took. */
	return pl_ratelimit_refund(db, rates, 2, err);
}

/* The body login and refresh answer with; takes no ownership of `refresh`. */
static int token_body(struct pl_db *db, const struct pl_config *cfg, int64_t uid, const char *name,
		      int64_t sid, const char *refresh, cJSON **out, struct pl_err *err)
{
	char *access = NULL;
	cJSON *body, *user;

	if (pl_token_issue(cfg->jwt_secret, cfg->jwt_secret_len, uid, name, sid,
			   pl_now_ms() / 1000, cfg->access_ttl, &access, err) < 0)
		return -1;
	if (!(user = pl_user_json(db, uid, true, err))) {
		free(access);
		return -1;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "token", access);
	cJSON_AddStringToObject(body, "access_token", access);
	cJSON_AddStringToObject(body, "refresh_token", refresh);
	cJSON_AddStringToObject(body, "token_type", "Bearer");
	cJSON_AddNumberToObject(body, "expires_in", cfg->access_ttl);
	cJSON_AddItemToObject(body, "user", user);
	free(access);
	*out = body;
	return 0;
}

int pl_session_login(struct pl_db *db, const struct pl_config *cfg, const char *username,
		     const char *password, const char *remote_addr, cJSON **out, struct pl_err *err)
{
	char name[PL_USERNAME_MAX + 1], hash[PL_PASSWORD_HASH_LEN], refresh[64];
	int64_t uid = 0, sid = 0;
	bool deactivated = false;
	int found, rc;

	*out = NULL;
	found = strlen(username) <= PL_USERNAME_MAX
		? find_user(db, username, &uid, name, hash, &deactivated, err) : 1;
	if (found < 0)
		return -1;
	if (pl_session_try_password(db, cfg, username, found == 0 ? hash : NULL, password,
				    strlen(password), remote_addr, err) < 0)
		return -1;
	/* Said only to whoever knows the password: it is no oracle. */
	if (deactivated)
		return pl_err_set(err, 403, PL_SESSION_DEACTIVATED_MSG);
	if (create_session(db, uid, cfg->refresh_ttl, &sid, refresh, err) < 0)
		return -1;
	rc = token_body(db, cfg, uid, name, sid, refresh, out, err);
	sodium_memzero(refresh, sizeof(refresh));
	return rc;
}

static int session_active(struct pl_db *db, const struct pl_claims *c, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &session_stmts[SESSION_STMT_CHECK], err);
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, c->session_id);
	pl_stmt_bind_int64(st, 2, c->user_id);
	pl_stmt_bind_int64(st, 3, pl_now_ms());
	step = pl_stmt_step(st);
	pl_db_done(st);
	if (step == PL_ROW)
		return 0;
	if (step != PL_DONE)
		return pl_err_internal(err, "check session: %s", pl_db_last_error(db));
	return pl_err_set(err, 401, "session revoked or expired");
}

int pl_session_authenticate(struct pl_db *db, const struct pl_config *cfg,
			    struct pl_token_cache *tokens, const char *authorization, bool bare,
			    struct pl_claims *claims, struct pl_err *err)
{
	const char *token = authorization;

	if (!bare) {
		if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
			return pl_err_set(err, 401, "missing bearer token");
		token = authorization + 7;
		while (*token == ' ')
			token++;
	}
	if (pl_apitoken_is_one(token))  /* a personal API token (apitokens.h) */
		return pl_apitoken_authenticate(db, token, claims, err);
	if (pl_token_verify_cached(tokens, cfg->jwt_secret, cfg->jwt_secret_len, token,
				   pl_now_ms() / 1000, claims, NULL, err) < 0)
		return -1;
	return session_active(db, claims, err);
}

int pl_session_check(struct pl_db *db, int64_t session_id, int64_t user_id, struct pl_err *err)
{
	struct pl_claims c = { .user_id = user_id, .session_id = session_id };
	return session_active(db, &c, err);
}

int pl_session_check_principal(struct pl_db *db, const struct pl_claims *claims, struct pl_err *err)
{
	if (claims->token_id)
		return pl_apitoken_check(db, claims->token_id, claims->user_id, err);
	return session_active(db, claims, err);
}

int pl_ws_ticket_issue(struct pl_db *db, const struct pl_claims *claims,
		       char out[PL_WS_TICKET_LEN], struct pl_err *err)
{
	char hash_hex[65];
	int64_t now = pl_now_ms();
	struct pl_stmt *st;
	int rc = -1;

	/* A ticket names a session (ws_tickets.session_id): an API token opens
	 * the socket itself, /ws?token=plt_... (docs/DECISIONS.md). */
	if (claims->token_id)
		return pl_err_set(err, 403, "an API token opens /ws with ?token= itself, not with a ticket");
	new_refresh_token(out, hash_hex);  /* same shape: 32 random bytes */
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(st = pl_db_prepare(db, &session_stmts[SESSION_STMT_TICKET_SWEEP], err)))
		goto out;
	pl_stmt_bind_int64(st, 1, now);
	if (pl_db_step_done(db, st, err) < 0 ||
	    !(st = pl_db_prepare(db, &session_stmts[SESSION_STMT_TICKET_INSERT], err)))
		goto out;
	pl_stmt_bind_text(st, 1, hash_hex);
	pl_stmt_bind_int64(st, 2, claims->user_id);
	pl_stmt_bind_int64(st, 3, claims->session_id);
	pl_stmt_bind_int64(st, 4, now + PL_WS_TICKET_TTL * 1000);
	if (pl_db_step_done(db, st, err) < 0)
		goto out;
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}

/* Deletes the ticket row and reads it; 1 when there was none. */
static int take_ticket(struct pl_db *db, const char *hash_hex, int64_t *uid, int64_t *sid,
		       int64_t *expires, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &session_stmts[SESSION_STMT_TICKET_TAKE], err);
	int step, rc = 1;

	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, hash_hex);
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		*uid = pl_stmt_int64(st, 0);
		*sid = pl_stmt_int64(st, 1);
		*expires = pl_stmt_int64(st, 2);
		rc = 0;
		step = pl_stmt_step(st);
	}
	pl_db_done(st);
	if (step != PL_DONE)
		return pl_err_internal(err, "take ticket: %s", pl_db_last_error(db));
	return rc;
}

static int fill_username(struct pl_db *db, struct pl_claims *claims, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &session_stmts[SESSION_STMT_USERNAME], err);
	int rc = -1;

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, claims->user_id);
	if (pl_stmt_step(st) == PL_ROW) {
		snprintf(claims->username, sizeof(claims->username), "%s",
			 pl_stmt_text(st, 0));
		rc = 0;
	}
	pl_db_done(st);
	return rc == 0 ? 0 : pl_err_set(err, 401, "invalid or expired ticket");
}

int pl_ws_ticket_redeem(struct pl_db *db, const char *ticket, struct pl_claims *claims,
			struct pl_err *err)
{
	unsigned char hash[32];
	char hash_hex[65];
	int64_t expires = 0;
	int found, rc = -1;

	memset(claims, 0, sizeof(*claims));
	if (!ticket || strlen(ticket) < 16 || strlen(ticket) >= PL_WS_TICKET_LEN)
		return pl_err_set(err, 401, "invalid or expired ticket");
	crypto_generichash(hash, sizeof(hash), (const unsigned char *)ticket, strlen(ticket), NULL, 0);
	sodium_bin2hex(hash_hex, sizeof(hash_hex), hash, sizeof(hash));
	/* Deleting under the write lock makes the ticket single-use even when
	 * two daemons race for it. */
	if (pl_db_begin(db, err) < 0)
		return -1;
	found = take_ticket(db, hash_hex, &claims->user_id, &claims->session_id, &expires, err);
	if (found < 0)
		goto out;
	if (pl_db_commit(db, err) < 0)
		goto out;
	if (found == 1 || expires <= pl_now_ms()) {
		pl_err_set(err, 401, "invalid or expired ticket");
		goto out;
	}
	if (pl_session_check(db, claims->session_id, claims->user_id, err) < 0 ||
	    fill_username(db, claims, err) < 0)
		goto out;
	rc = 0;
out:
	pl_db_rollback(db);
	if (rc < 0)
		memset(claims, 0, sizeof(*claims));
	return rc;
}

/* ---- refresh-token rotation, logout, revocation ---- */

/* hex BLAKE2b of a presented refresh token; -1 when it cannot be one. */
static int refresh_hash(const char *token, char hash_hex[65])
{
	unsigned char hash[32];
	size_t len = token ? strlen(token) : 0;

	if (len < 16 || len >= 64)
		return -1;
	crypto_generichash(hash, sizeof(hash), (const unsigned char *)token, len, NULL, 0);
	sodium_bin2hex(hash_hex, 65, hash, sizeof(hash));
	return 0;
}

/* Revokes session `sid` (inside a transaction). */
static int revoke_session(struct pl_db *db, int64_t sid, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &session_stmts[SESSION_STMT_REVOKE], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, sid);
	pl_stmt_bind_int64(st, 2, pl_now_ms());
	if (pl_db_step_done(db, st, err) < 0 ||
	    !(st = pl_db_prepare(db, &session_stmts[SESSION_STMT_TICKETS_DROP_SESSION], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, sid);
	return pl_db_step_done(db, st, err);
}

/* A rotated token presented again: revoke its session. 1 if it was one. */
static int detect_reuse(struct pl_db *db, const char *old_hex, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &session_stmts[SESSION_STMT_ROTATED_LOOKUP], err);
	int64_t sid = 0;
	int step;

	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, old_hex);
	step = pl_stmt_step(st);
	if (step == PL_ROW)
		sid = pl_stmt_int64(st, 0);
	pl_db_done(st);
	if (step != PL_ROW && step != PL_DONE)
		return pl_err_internal(err, "rotated lookup: %s", pl_db_last_error(db));
	if (sid == 0)
		return 0;
	if (revoke_session(db, sid, err) < 0)
		return -1;
	pl_warn_log("rotated refresh token presented again: session %lld revoked", (long long)sid);
	return 1;
}

/* Moves session `sid` from `old_hex` to `new_hex` (inside a transaction). */
static int rotate(struct pl_db *db, int64_t sid, const char *old_hex, const char *new_hex,
		  int refresh_ttl, struct pl_err *err)
{
	int64_t now = pl_now_ms();
	struct pl_stmt *st = pl_db_prepare(db, &session_stmts[SESSION_STMT_ROTATED_INSERT], err);

	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, old_hex);
	pl_stmt_bind_int64(st, 2, sid);
	pl_stmt_bind_int64(st, 3, now);
	if (pl_db_step_done(db, st, err) < 0 ||
	    !(st = pl_db_prepare(db, &session_stmts[SESSION_STMT_ROTATE], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, sid);
	pl_stmt_bind_text(st, 2, new_hex);
	pl_stmt_bind_int64(st, 3, now + (int64_t)refresh_ttl * 1000);
	return pl_db_step_done(db, st, err);
}

/* Finds the session whose current token hashes to `old_hex`: 0 live
 * (sid, uid, name set), 1 none, 2 dead (revoked, expired, user deleted). */
static int session_by_refresh(struct pl_db *db, const char *old_hex, int64_t *sid, int64_t *uid,
			      char name[PL_USERNAME_MAX + 1], struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &session_stmts[SESSION_STMT_BY_REFRESH], err);
	int step, rc = 1;

	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, old_hex);
	pl_stmt_bind_int64(st, 2, pl_now_ms());
	step = pl_stmt_step(st);
	if (step == PL_ROW) {
		*sid = pl_stmt_int64(st, 0);
		*uid = pl_stmt_int64(st, 1);
		rc = pl_stmt_int(st, 2) ? 0 : 2;
		snprintf(name, PL_USERNAME_MAX + 1, "%s", pl_stmt_text(st, 3));
	} else if (step != PL_DONE) {
		rc = pl_err_internal(err, "session by refresh: %s", pl_db_last_error(db));
	}
	pl_db_done(st);
	return rc;
}

int pl_session_refresh(struct pl_db *db, const struct pl_config *cfg, const char *refresh_token,
		       cJSON **out, struct pl_err *err)
{
	char old_hex[65], new_hex[65], fresh[64], name[PL_USERNAME_MAX + 1];
	int64_t sid = 0, uid = 0;
	int found, rc = -1;

	*out = NULL;
	if (refresh_hash(refresh_token, old_hex) < 0)
		return pl_err_set(err, 401, "invalid refresh token");
	new_refresh_token(fresh, new_hex);
	if (pl_db_begin(db, err) < 0)
		return -1;
	found = session_by_refresh(db, old_hex, &sid, &uid, name, err);
	if (found < 0)
		goto out;
	if (found == 1) {
		/* Not a current token: a rotated one is theft (or a replay). */
		int reused = detect_reuse(db, old_hex, err);
		if (reused < 0 || pl_db_commit(db, err) < 0)
			goto out;
		pl_err_set(err, 401, reused ? "refresh token reused; session revoked" : "invalid refresh token");
		goto out;
	}
	if (found == 2) {
		pl_err_set(err, 401, "session revoked or expired");
		goto out;
	}
	if (rotate(db, sid, old_hex, new_hex, cfg->refresh_ttl, err) < 0 || pl_db_commit(db, err) < 0)
		goto out;
	rc = token_body(db, cfg, uid, name, sid, fresh, out, err);
out:
	pl_db_rollback(db);
	sodium_memzero(fresh, sizeof(fresh));
	return rc;
}

int pl_session_logout(struct pl_db *db, const struct pl_claims *claims, const char *refresh_token,
		      struct pl_err *err)
{
	char hex[65];
	struct pl_stmt *st;
	int rc = -1;

	/* Logging out with an API token revokes that token. */
	if (claims->token_id)
		return pl_apitoken_delete(db, claims->user_id, claims->token_id, err);
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (revoke_session(db, claims->session_id, err) < 0)
		goto out;
	if (refresh_token && refresh_hash(refresh_token, hex) == 0) {
		if (!(st = pl_db_prepare(db, &session_stmts[SESSION_STMT_REVOKE_OWN], err)))
			goto out;
		pl_stmt_bind_int64(st, 1, claims->user_id);
		pl_stmt_bind_text(st, 2, hex);
		pl_stmt_bind_int64(st, 3, pl_now_ms());
		if (pl_db_step_done(db, st, err) < 0)
			goto out;
	}
	rc = 0;
out:
	return pl_db_end(db, rc, err);
}

int pl_session_revoke_user_locked(struct pl_db *db, int64_t user_id, int64_t keep_sid,
				  struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &session_stmts[SESSION_STMT_REVOKE_USER], err);

	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_int64(st, 2, keep_sid);
	pl_stmt_bind_int64(st, 3, pl_now_ms());
	if (pl_db_step_done(db, st, err) < 0 ||
	    !(st = pl_db_prepare(db, &session_stmts[SESSION_STMT_TICKETS_DROP_USER], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	pl_stmt_bind_int64(st, 2, keep_sid);
	return pl_db_step_done(db, st, err);
}
