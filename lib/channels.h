/*
 * channels.h — channels, membership, and the one authorization function
 * every path calls (REST, WebSocket frames, history, events): may this user
 * read / post in / manage this channel. A channel the caller may not see
 * is 404, never 403 (API.md conventions).
 */
#ifndef PL_CHANNELS_H
#define PL_CHANNELS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

enum pl_role { PL_ROLE_NONE = 0, PL_ROLE_MEMBER, PL_ROLE_ADMIN, PL_ROLE_OWNER };
enum pl_action { PL_ACT_READ, PL_ACT_POST, PL_ACT_MANAGE };

struct pl_access {
	char kind[8];        /* "public", "private", "dm" */
	enum pl_role role;   /* caller's role, PL_ROLE_NONE if not a member */
};

/*
 * pl_authz_channel: decides whether `user_id` may perform `action` on
 * `channel_id`. Rules: a missing channel, or a private/dm channel the user
 * is not a member of, is 404; anyone signed in may read and post in a
 * public channel (posting joins it: the caller does that); managing needs
 * owner or admin (403). `acc` (may be NULL) receives kind and role.
 * Returns 0 when allowed, -1 with `err` otherwise.
 */
int pl_authz_channel(struct pl_db *db, int64_t user_id, int64_t channel_id,
		     enum pl_action action, struct pl_access *acc, struct pl_err *err);

/* pl_channel_is_member: true when `user_id` is a member of `channel_id`
 * (the rule for receiving a channel's events). False on any error. */
bool pl_channel_is_member(struct pl_db *db, int64_t user_id, int64_t channel_id);

struct pl_channel_new {
	const char *name;      /* 1-80 code points after trimming */
	const char *kind;      /* "public" (default when NULL) or "private" */
	const char *topic;     /* optional, <= 250 code points */
	const int64_t *members;/* optional extra member ids */
	size_t nmembers;       /* <= 100 */
};

/*
 * pl_channel_create: creates a channel owned by `user_id` with the extra
 * members, writing channel.created and member.joined events in the same
 * transaction. *out receives the channel object as the creator sees it
 * (caller frees). Returns 0, or -1 with `err`: 400 invalid, 409 name
 * taken (case-insensitive, public and private share one namespace).
 */
int pl_channel_create(struct pl_db *db, int64_t user_id, const struct pl_channel_new *in,
		      cJSON **out, struct pl_err *err);

/*
 * pl_channel_join_locked: makes `user_id` a member of public channel
 * `channel_id` if not already, with its member.joined event. Must run
 * inside a write transaction (pl_db_begin). Sets *joined when a row was
 * added. Returns 0 or -1 (`err`).
 */
int pl_channel_join_locked(struct pl_db *db, int64_t user_id, int64_t channel_id,
			   bool *joined, struct pl_err *err);

/*
 * pl_channel_json: the channel object of `channel_id` as `user_id` sees it
 * (role, unread_count, last_message_id), after pl_authz_channel READ.
 * Returns a new object (caller frees) or NULL with `err` (404).
 */
cJSON *pl_channel_json(struct pl_db *db, int64_t user_id, int64_t channel_id, struct pl_err *err);

/*
 * pl_channel_list: every public channel plus every channel `user_id` is a
 * member of, as an array of channel objects with unread counts, in one
 * query. Returns a new array (caller frees) or NULL with `err`.
 */
cJSON *pl_channel_list(struct pl_db *db, int64_t user_id, struct pl_err *err);

#endif
