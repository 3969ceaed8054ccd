/* direct.c — direct message channels (direct.h). */
#include <stdio.h>
#include <stdlib.h>
#include "channel_common.h"
#include "channels.h"
#include "direct.h"
#include "util.h"

enum direct_stmt {
	DIRECT_STMT_BY_KEY,
	DIRECT_STMT_INSERT,
	DIRECT_STMT_USERNAME,
	DIRECT_STMT__MAX
};

static const struct pl_sql direct_stmts[DIRECT_STMT__MAX] = {
	[DIRECT_STMT_BY_KEY] = { "SELECT id FROM channels WHERE dm_key = ?1" },
	[DIRECT_STMT_INSERT] = {
		"INSERT INTO channels (name, kind, topic, created_by, created_at, dm_key) "
		"VALUES (?1, 'dm', '', ?2, ?3, ?4)" },
	[DIRECT_STMT_USERNAME] = { "SELECT username FROM users WHERE id = ?1" },
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

/* Key "3,8,12" and name "alice, bob, carol" of the sorted ids. */
static void dm_key_name(struct pl_db *db, const int64_t *ids, size_t n, char *key, size_t klen,
			char *name, size_t nlen)
{
	size_t ku = 0, nu = 0;

	key[0] = name[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		struct pl_stmt *st = pl_db_prepare(db, &direct_stmts[DIRECT_STMT_USERNAME], NULL);
		const char *u = "";

		ku += (size_t)snprintf(key + ku, klen - ku, "%s%lld", i ? "," : "", (long long)ids[i]);
		if (st) {
			pl_stmt_bind_int64(st, 1, ids[i]);
			if (pl_stmt_step(st) == PL_ROW)
				u = pl_stmt_text(st, 0);
			if (nu < nlen)
				nu += (size_t)snprintf(name + nu, nlen - nu, "%s%s", i ? ", " : "", u);
			pl_db_done(st);
		}
	}
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
	dm_key_name(db, ids, n, key, sizeof(key), name, sizeof(name));
	if ((id = dm_by_key(db, key, err)) < 0)
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
