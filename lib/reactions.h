/*
 * reactions.h — emoji reactions on messages: one per user per emoji per
 * message, shown on the message object as [{"emoji","count","me"}].
 */
#ifndef PL_REACTIONS_H
#define PL_REACTIONS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include "db.h"
#include "err.h"

#define PL_EMOJI_MAX 32  /* bytes */

/*
 * pl_reaction_emoji_valid: true when `emoji` (NUL-terminated) is 1-32
 * bytes of valid UTF-8 (RFC 3629) without white space or control
 * characters (C0, DEL, C1; U+0085/U+00A0/U+2028 and other Unicode spaces).
 */
bool pl_reaction_emoji_valid(const char *emoji);

/*
 * pl_reaction_set: adds (`add`) or removes `user_id`'s reaction `emoji`
 * on message `message_id`. Needs post access to its channel (reacting in
 * a public channel joins it, as posting does); a deleted message is 409;
 * a bad emoji 400. Idempotent: an existing reaction (or a missing one on
 * removal) changes nothing and writes no event; otherwise reaction.added /
 * reaction.removed ({"message_id","user_id","emoji"}) in the same
 * transaction. Returns 0 or -1 (`err`).
 */
int pl_reaction_set(struct pl_db *db, int64_t user_id, int64_t message_id, const char *emoji,
		    bool add, struct pl_err *err);

#endif
