/* direct.c — direct message channels (direct.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "channel_common.h"
#include "channels.h"
#include "direct.h"
#include "util.h"

enum direct_stmt {
	DIRECT_STMT_BY_KEY,
	DIRECT_STMT_INSERT,
	DIRECT_STMT_USERNAME,
	DIRECT_STMT_OF_USER,
	DIRECT_STMT_RENAME,
	DIRECT_STMT__MAX
};

static const struct pl_sql direct_stmts[DIRECT_STMT__MAX] = {
	[DIRECT_STMT_BY_KEY] = { "SELECT id FROM channels WHERE dm_key = ?1" },
	[DIRECT_STMT_INSERT] = {
		"INSERT INTO channels (name, kind, topic, created_by, created_at, dm_key) "
		"VALUES (?1, 'dm', '', ?2, ?3, ?4)" },
	[DIRECT_STMT_USERNAME] = { "SELECT username FROM users WHERE id = ?1" },
	/* A user's memberships on channel_members_user, then each channel
	 * by its id. */
	[DIRECT_STMT_OF_USER] = {
		"SELECT c.id, c.dm_key, c.name FROM channel_members m JOIN channels c "
		"ON c.id = m.channel_id WHERE m.user_id = ?1 AND c.kind = 'dm' ORDER BY c.id" },
	[DIRECT_STMT_RENAME] = { "UPDATE channels SET name = ?2 WHERE id = ?1 AND kind = 'dm'" },
};

/* The key holds up to 9 ids of at most 20 digits and 8 commas; the name up
 * to 9 usernames (32 bytes) and 8 ", ". */
#define DM_PEOPLE_MAX (PL_DM_OTHERS_MAX + 1)
#define DM_KEY_LEN (DM_PEOPLE_MAX * 21 + 1)
#define DM_NAME_LEN (DM_PEOPLE_MAX * 34 + 1)

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Sorted, distinct ids of the caller plus `others`, each an existing
 * user; *n receives the count. Caller frees. */
static int64_t *dm_people(struct pl_db *db, int64_t user_id, const int64_t *others, size_t n_in,
			  size_t *n, struct pl_err *err)
{
	int64_t *ids = pl_xcalloc(n_in + 1, sizeof(*ids));
	size_t k = 0;

	ids[k++] = user_id;
	for (size_t i = 0; i < n_in; i++)
		ids[k++] = others[i];
	qsort(ids, k, sizeof(*ids), cmp_id);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (*n == 0 || ids[*n - 1] != ids[i])
			ids[(*n)++] = ids[i];
	if (*n < 2 || *n > DM_PEOPLE_MAX) {
		free(ids);
		pl_err_set(err, 400, "user_ids must name 1-%d other users", PL_DM_OTHERS_MAX);
		return NULL;
	}
	for (size_t i = 0; i < *n; i++)
		if (!pl_chan_user_exists(db, ids[i])) {
			pl_err_set(err, 400, "user_ids: no user with id %lld", (long long)ids[i]);
			free(ids);
			return NULL;
		}
	return ids;
}

/* Key "3,8,12" of the sorted ids. */
static void dm_key(const int64_t *ids, size_t n, char *key, size_t klen)
{
	size_t ku = 0;

	key[0] = '\0';
	for (size_t i = 0; i < n && ku < klen; i++)
		ku += (size_t)snprintf(key + ku, klen - ku, "%s%lld", i ? "," : "", (long long)ids[i]);
}

/* The ids of key "3,8,12" into `ids` (room for `max`); *n their count.
 * Returns 0, or -1 when `key` is not such a list. */
static int dm_key_ids(const char *key, int64_t *ids, size_t max, size_t *n)
{
	const char *p = key;

	*n = 0;
	while (p && *p) {
		char *end;
		long long v;

		if (*p < '0' || *p > '9' || *n == max)
			return -1;
		v = strtoll(p, &end, 10);
		if (v <= 0 || (*end != ',' && *end != '\0') || (*end == ',' && end[1] == '\0'))
			return -1;
		ids[(*n)++] = (int64_t)v;
		p = *end ? end + 1 : end;
	}
	return *n > 0 ? 0 : -1;
}

/* Name "alice, bob, carol" of the ids, from the users' current usernames
 * (an erased account's is deleted-user-<id>). Returns 0 or -1 (`err` 500). */
static int dm_name(struct pl_db *db, const int64_t *ids, size_t n, char *name, size_t nlen,
		   struct pl_err *err)
{
	size_t nu = 0;

	name[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		struct pl_stmt *st = pl_db_prepare(db, &direct_stmts[DIRECT_STMT_USERNAME], err);
		int step;

		if (!st)
			return -1;
		pl_stmt_bind_int64(st, 1, ids[i]);
		step = pl_stmt_step(st);
		if (nu < nlen)
			nu += (size_t)snprintf(name + nu, nlen - nu, "%s%s", i ? ", " : "",
					       step == PL_ROW ? pl_stmt_text(st, 0) : "");
		pl_db_done(st);
		if (step != PL_ROW && step != PL_DONE)
			return pl_err_internal(err, "dm name: %s", pl_db_last_error(db));
	}
	return 0;
}

/* The id of the dm channel with `key`, 0 when there is none (or -1 with
 * `err` 500). */
static int64_t dm_by_key(struct pl_db *db, const char *key, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &direct_stmts[DIRECT_STMT_BY_KEY], err);
	int64_t id = 0;

	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, key);
	if (pl_db_step_id(db, st, &id, err) < 0)
		return -1;
	return id;
}

static int create_dm(struct pl_db *db, int64_t user_id, const int64_t *ids, size_t n,
		     const char *key, const char *name, int64_t *id, struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &direct_stmts[DIRECT_STMT_INSERT], err);
	bool added;

	if (!st)
		return -1;
	pl_stmt_bind_text(st, 1, name);
	pl_stmt_bind_int64(st, 2, user_id);
	pl_stmt_bind_int64(st, 3, pl_now_ms());
	pl_stmt_bind_text(st, 4, key);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	*id = pl_db_last_id(db);
	for (size_t i = 0; i < n; i++)
		if (pl_chan_add_member_locked(db, *id, ids[i], "member", false, &added, err) < 0)
			return -1;
	return pl_chan_announce_created(db, user_id, *id, false, err);
}

int pl_channel_dm(struct pl_db *db, int64_t user_id, const int64_t *others, size_t n_in,
		  bool *created, cJSON **out, struct pl_err *err)
{
	char key[DM_KEY_LEN], name[DM_NAME_LEN];
	int64_t *ids = NULL, id = 0;
	size_t n;
	int rc = -1;

	*out = NULL;
	*created = false;
	if (n_in < 1 || n_in > PL_DM_OTHERS_MAX)
		return pl_err_set(err, 400, "user_ids must name 1-%d other users", PL_DM_OTHERS_MAX);
	if (pl_db_begin(db, err) < 0)
		return -1;
	if (!(ids = dm_people(db, user_id, others, n_in, &n, err)))
		goto out;
	dm_key(ids, n, key, sizeof(key));
	if (dm_name(db, ids, n, name, sizeof(name), err) < 0 || (id = dm_by_key(db, key, err)) < 0)
		goto out;
	if (id == 0) {
		if (create_dm(db, user_id, ids, n, key, name, &id, err) < 0)
			goto out;
		*created = true;
	}
	rc = 0;
out:
	free(ids);
	rc = pl_db_end(db, rc, err);
	if (rc == 0 && !(*out = pl_channel_json(db, user_id, id, err)))
		rc = -1;
	if (rc < 0)
		*created = false;
	return rc;
}

/* ---- erasure ---- */

struct dm_row {
	int64_t id;
	char *key, *name;
};

/* The dm channels `user_id` is a member of into *out (caller frees with
 * free_rows); *n their count. Returns 0 or -1 (`err` 500). */
static int dm_rows_of(struct pl_db *db, int64_t user_id, struct dm_row **out, size_t *n,
		      struct pl_err *err)
{
	struct pl_stmt *st = pl_db_prepare(db, &direct_stmts[DIRECT_STMT_OF_USER], err);
	size_t cap = 0;
	int step;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	pl_stmt_bind_int64(st, 1, user_id);
	while ((step = pl_stmt_step(st)) == PL_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = pl_xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[*n].id = pl_stmt_int64(st, 0);
		(*out)[*n].key = pl_xstrdup(pl_stmt_null(st, 1) ? "" : pl_stmt_text(st, 1));
		(*out)[(*n)++].name = pl_xstrdup(pl_stmt_text(st, 2));
	}
	pl_db_done(st);
	if (step != PL_DONE)
		return pl_err_internal(err, "dm channels of a user: %s", pl_db_last_error(db));
	return 0;
}

static void free_rows(struct dm_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].key);
		free(rows[i].name);
	}
	free(rows);
}

/* Renames dm `r` after its people's current usernames, with its
 * channel.updated, when the name changes. */
static int rename_dm(struct pl_db *db, int64_t user_id, const struct dm_row *r,
		     struct pl_err *err)
{
	int64_t ids[DM_PEOPLE_MAX];
	char name[DM_NAME_LEN];
	struct pl_stmt *st;
	cJSON *ref;
	size_t n;
	int rc;

	if (dm_key_ids(r->key, ids, DM_PEOPLE_MAX, &n) < 0)
		return pl_err_internal(err, "dm channel %lld has no valid key", (long long)r->id);
	if (dm_name(db, ids, n, name, sizeof(name), err) < 0)
		return -1;
	if (strcmp(name, r->name) == 0)
		return 0;
	if (!(st = pl_db_prepare(db, &direct_stmts[DIRECT_STMT_RENAME], err)))
		return -1;
	pl_stmt_bind_int64(st, 1, r->id);
	pl_stmt_bind_text(st, 2, name);
	if (pl_db_step_done(db, st, err) < 0)
		return -1;
	ref = pl_chan_ref(r->id, NULL);
	rc = pl_chan_event(db, "channel.updated", PL_SCOPE_CHANNEL, r->id, user_id, "channel", ref,
			   err);
	cJSON_Delete(ref);
	return rc;
}

int pl_channel_dm_rename_locked(struct pl_db *db, int64_t user_id, struct pl_err *err)
{
	struct dm_row *rows;
	size_t n;
	int rc = -1;

	/* Collect first: renaming uses statements of its own. */
	if (dm_rows_of(db, user_id, &rows, &n, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (rename_dm(db, user_id, &rows[i], err) < 0)
			goto out;
	rc = 0;
out:
	free_rows(rows, n);
	return rc;
}
