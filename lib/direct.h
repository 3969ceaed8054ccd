/*
 * direct.h — direct message channels: one "dm" channel per set of 2-9
 * people, found or created on demand. Their membership is fixed
 * (members.h refuses changes) and nobody can rename them (channels.h):
 * a dm's name is made of its people's usernames, and only an account's
 * erasure changes one of those (pl_channel_dm_rename_locked).
 */
#ifndef PL_DIRECT_H
#define PL_DIRECT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

#define PL_DM_OTHERS_MAX 8   /* other people in one dm channel */

/*
 * pl_channel_dm: finds or creates the dm channel of exactly `user_id` plus
 * the `n` users in `others` (borrowed; 1-8 distinct other users after
 * dropping duplicates and the caller; each must exist: 400). The set's
 * canonical key (sorted ids) is unique in the database, so concurrent
 * calls cannot create two. A new one is named after its members'
 * usernames and announced with channel.created to its members. *created
 * says whether it is new; *out receives the channel object as `user_id`
 * sees it (caller frees; NULL on error). Returns 0 or -1 (`err` 400, 500).
 */
int pl_channel_dm(struct pl_db *db, int64_t user_id, const int64_t *others, size_t n,
		  bool *created, cJSON **out, struct pl_err *err);

/*
 * pl_channel_dm_rename_locked: names every dm channel `user_id` is a
 * member of after its people's current usernames again, and writes
 * channel.updated (to its members) for each whose name changed. Called
 * by an account's erasure once the users row holds deleted-user-<id> and
 * before the account leaves its channels, inside that write transaction:
 * no name keeps the old username. Returns 0 or -1 (`err` 500, also for a
 * dm channel without a valid key).
 */
int pl_channel_dm_rename_locked(struct pl_db *db, int64_t user_id, struct pl_err *err);

#endif
