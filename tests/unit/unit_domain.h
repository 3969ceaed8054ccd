/*
 * unit_domain.h — two ready-made worlds for the unit tests of the domain
 * modules, each in a migrated scratch database (unit_util.h):
 *   struct dom (dom_setup/dom_teardown): alice, bob and carol, and two
 *     channels of alice's made with pl_channel_create: public "general"
 *     and private "secret" (bob a member); helpers to post (post_full,
 *     post), make channels and count rows;
 *   struct rt (rt_setup/rt_teardown): the same three users and two
 *     private channels inserted with SQL (alice and bob in "x", carol
 *     alone in "y"), and append() for raw events.
 * Include it after <cmocka.h> and unit_util.h. Everything is `static
 * inline` so a test file may use any subset without unused-function
 * warnings.
 */
#ifndef PL_UNIT_DOMAIN_H
#define PL_UNIT_DOMAIN_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "channels.h"
#include "direct.h"
#include "events.h"
#include "messages.h"
#include "read_markers.h"
#include "util.h"
#include "unit_util.h"

/* Three users and two channels of alice's: public "general" and private
 * "secret" (alice owner, bob member); carol is in neither. */
struct dom {
	struct unit_env env;
	struct pl_db *db;
	int64_t alice, bob, carol;
	int64_t pub, priv;
};

/* Creates a channel (kind NULL: public); returns its id, or -1 (printed). */
static inline int64_t create_channel(struct pl_db *db, int64_t owner, const char *name,
				     const char *kind, const int64_t *members, size_t nmembers)
{
	struct pl_channel_new in = { name, kind, NULL, members, nmembers };
	struct pl_err err = { 0 };
	cJSON *out = NULL;
	int64_t id;

	if (pl_channel_create(db, owner, &in, &out, &err) < 0) {
		fprintf(stderr, "pl_channel_create %s: %d %s\n", name, err.status, err.message);
		return -1;
	}
	id = (int64_t)cJSON_GetObjectItemCaseSensitive(out, "id")->valuedouble;
	cJSON_Delete(out);
	return id;
}

static inline int dom_setup(void **state)
{
	struct dom *d = calloc(1, sizeof(*d));

	if (!d || unit_env_open(&d->env, 1) < 0)
		return -1;
	d->db = d->env.db;
	d->alice = unit_add_user(d->db, "alice");
	d->bob = unit_add_user(d->db, "bob");
	d->carol = unit_add_user(d->db, "carol");
	if (d->alice < 0 || d->bob < 0 || d->carol < 0)
		return -1;
	d->pub = create_channel(d->db, d->alice, "general", NULL, NULL, 0);
	d->priv = create_channel(d->db, d->alice, "secret", "private", &d->bob, 1);
	if (d->pub < 0 || d->priv < 0)
		return -1;
	*state = d;
	return 0;
}

static inline int dom_teardown(void **state)
{
	struct dom *d = *state;

	unit_env_close(&d->env);
	free(d);
	return 0;
}

/* Rows of `table` matching `where` (SQL text, test-controlled). */
static inline int64_t count_rows(struct pl_db *db, const char *table, const char *where)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE %s", table, where);
	return unit_int(db, sql);
}

/* Events of `type`. */
static inline int64_t count_events(struct pl_db *db, const char *type)
{
	char where[128];

	snprintf(where, sizeof(where), "type = '%s'", type);
	return count_rows(db, "events", where);
}

/* Posts; returns the message id, or -1 with `err` filled. */
static inline int64_t post_full(struct pl_db *db, int64_t user, int64_t channel,
				const char *content, const char *cmid, int64_t reply_to,
				bool *created, struct pl_err *err)
{
	struct pl_message_new in = { .channel_id = channel, .content = content, .client_msg_id = cmid,
				      .reply_to = reply_to };
	cJSON *out = NULL;
	bool dummy;
	int64_t id;

	memset(err, 0, sizeof(*err));
	if (pl_message_post(db, user, &in, &out, created ? created : &dummy, err) < 0) {
		assert_null(out);
		return -1;
	}
	assert_non_null(out);
	id = (int64_t)cJSON_GetObjectItemCaseSensitive(out, "id")->valuedouble;
	cJSON_Delete(out);
	return id;
}

/* Posts; returns the message id; a failure fails the test. */
static inline int64_t post(struct pl_db *db, int64_t user, int64_t channel, const char *content)
{
	struct pl_err err;
	int64_t id = post_full(db, user, channel, content, NULL, 0, NULL, &err);

	if (id < 0)
		fail_msg("post failed: %d %s", err.status, err.message);
	return id;
}

/* The string / number member `key` of `o`, which must be one. */
static inline const char *str_field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static inline int64_t num_field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsNumber(v));
	return (int64_t)v->valuedouble;
}

/* Like create_channel, but a failure fails the test. */
static inline int64_t mk_channel(struct pl_db *db, int64_t owner, const char *name,
				 const char *kind, const int64_t *members, size_t n)
{
	struct pl_channel_new in = { name, kind, NULL, members, n };
	struct pl_err err = { 0 };
	cJSON *out = NULL;
	int64_t id;

	if (pl_channel_create(db, owner, &in, &out, &err) < 0)
		fail_msg("create %s: %d %s", name, err.status, err.message);
	id = (int64_t)cJSON_GetObjectItem(out, "id")->valuedouble;
	cJSON_Delete(out);
	return id;
}

#define DOM_TEST(f) cmocka_unit_test_setup_teardown(f, dom_setup, dom_teardown)

/* The same three users (a, b, c) and two private channels, all inserted
 * with SQL: no event is written by the setup. */
struct rt {
	struct unit_env env;
	struct pl_db *db;
	int64_t a, b, c;
	int64_t ch;        /* a and b are members, c is not */
	int64_t other;     /* c alone */
};

static inline int rt_setup(void **state)
{
	struct rt *t = calloc(1, sizeof(*t));
	char sql[256];

	if (!t || unit_env_open(&t->env, 1) < 0)
		return -1;
	t->db = t->env.db;
	t->a = unit_add_user(t->db, "alice");
	t->b = unit_add_user(t->db, "bob");
	t->c = unit_add_user(t->db, "carol");
	if (unit_exec(t->db, "INSERT INTO channels (name, kind, topic, created_by, created_at) "
			     "VALUES ('x', 'private', '', 1, 0), ('y', 'private', '', 3, 0)") < 0)
		return -1;
	t->ch = unit_int(t->db, "SELECT id FROM channels WHERE name = 'x'");
	t->other = unit_int(t->db, "SELECT id FROM channels WHERE name = 'y'");
	snprintf(sql, sizeof(sql),
		 "INSERT INTO channel_members (channel_id, user_id, role, joined_at) VALUES "
		 "(%lld, %lld, 'owner', 0), (%lld, %lld, 'member', 0), (%lld, %lld, 'owner', 0)",
		 (long long)t->ch, (long long)t->a, (long long)t->ch, (long long)t->b,
		 (long long)t->other, (long long)t->c);
	if (unit_exec(t->db, sql) < 0)
		return -1;
	*state = t;
	return 0;
}

static inline int rt_teardown(void **state)
{
	struct rt *t = *state;

	unit_env_close(&t->env);
	free(t);
	return 0;
}

/* Appends a raw event whose payload names `user`; returns its id. */
static inline int64_t append(struct rt *t, const char *type, enum pl_event_scope scope,
			     int64_t channel, int64_t user)
{
	struct pl_err err = { 0 };
	cJSON *p = cJSON_CreateObject();
	int64_t id = 0;

	cJSON_AddNumberToObject(p, "user_id", (double)user);
	assert_int_equal(pl_event_append(t->db, type, scope, channel, user, p, &id, &err), 0);
	cJSON_Delete(p);
	return id;
}

#define RT_TEST(f) cmocka_unit_test_setup_teardown(f, rt_setup, rt_teardown)

#endif
