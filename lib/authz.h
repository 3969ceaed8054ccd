/*
 * authz.h — the only place that decides visibility: who may read, post in
 * or manage a channel, edit or delete a message, and which events a user
 * receives. REST handlers, WebSocket frames, the long poll and replay all
 * ask these functions. Rules (API.md, docs/DECISIONS.md):
 * - A channel the caller may not see is 404, never 403: a missing channel
 *   and a private or dm channel they are not a member of look the same.
 * - Anyone signed in may read and post in a public channel (posting joins
 *   it); managing needs owner or admin (403).
 * - A channel's events go to its members at the moment of delivery;
 *   channel.created of a public channel to everyone; presence to those
 *   who share a channel with its user; a notification to its owner.
 */
#ifndef PL_AUTHZ_H
#define PL_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "db.h"
#include "err.h"
#include "events.h"
#include "file.h"

/* The message of the 403 for a write refused because the channel is
 * archived (posts, edits, reactions, joins; REST and WebSocket alike). */
#define PL_AUTHZ_ARCHIVED_MSG "the channel is archived: it can be read but not changed"

enum pl_role { PL_ROLE_NONE = 0, PL_ROLE_MEMBER, PL_ROLE_ADMIN, PL_ROLE_OWNER };
enum pl_action {
	PL_ACT_READ,    /* see it and its history */
	PL_ACT_POST,    /* post in it (a public channel: posting joins it) */
	PL_ACT_MEMBER,  /* act as a member (read markers, typing): 403 for a
			   visible channel the caller has not joined */
	PL_ACT_MANAGE   /* change it, its members and roles: owner or admin */
};

/* What may be done to one message (pl_authz_message). */
enum pl_msg_action {
	PL_MSG_READ,    /* see it: read access to its channel */
	PL_MSG_REACT,   /* react: post access to its channel */
	PL_MSG_EDIT,    /* change its content: its author only */
	PL_MSG_DELETE,  /* delete it: its author, or the channel's owner/admins */
	PL_MSG_PIN,     /* pin or unpin it: a member of its channel */
	PL_MSG_PIN_MANAGE /* the same where members may not: owner/admins only */
};

/*
 * The same rules as SQL fragments, for list queries that filter many rows
 * at once (string literals: concatenate them into a statement's text).
 * Arguments are SQL texts: table aliases or parameters such as "?1".
 *
 * PL_AUTHZ_SQL_CAN_READ(c, me): pl_authz_channel READ for the channel row
 * `c`, where `me` is the caller's membership row joined as
 * LEFT JOIN channel_members me ON me.channel_id = c.id AND me.user_id = <caller>.
 * PL_AUTHZ_SQL_IS_MEMBER(channel, user): pl_channel_is_member.
 * PL_AUTHZ_SQL_SHARE_CHANNEL(a, b): users a and b are members of one
 * channel (who receives the other's presence).
 */
#define PL_AUTHZ_SQL_CAN_READ(c, me) "(" c ".kind = 'public' OR " me ".user_id IS NOT NULL)"
#define PL_AUTHZ_SQL_IS_MEMBER(channel, user) \
	"EXISTS (SELECT 1 FROM channel_members im WHERE im.channel_id = " channel \
	" AND im.user_id = " user ")"
#define PL_AUTHZ_SQL_SHARE_CHANNEL(a, b) \
	"EXISTS (SELECT 1 FROM channel_members sa JOIN channel_members sb " \
	"ON sa.channel_id = sb.channel_id WHERE sa.user_id = " a " AND sb.user_id = " b ")"

/* pl_role_from_text: "owner", "admin", "member" -> the role; NULL (no
 * membership row) -> PL_ROLE_NONE; anything else reads as a member. */
enum pl_role pl_role_from_text(const char *s);

struct pl_access {
	char kind[8];        /* "public", "private", "dm" */
	enum pl_role role;   /* caller's role, PL_ROLE_NONE if not a member */
	bool archived;       /* a server admin archived it (channels.archived_at) */
};

/*
 * pl_authz_channel: decides whether `user_id` may perform `action` on
 * `channel_id`. Rules: a missing channel, or a private/dm channel the user
 * is not a member of, is 404; anyone signed in may read and post in a
 * public channel (posting joins it: the caller does that); acting as a
 * member of a public channel one has not joined is 403 (it is visible);
 * managing needs owner or admin (403); posting in an archived channel is
 * 403 (readable as before). `acc` (may be NULL) receives kind, role and
 * whether it is archived.
 * Returns 0 when allowed, -1 with `err` otherwise.
 */
int pl_authz_channel(struct pl_db *db, int64_t user_id, int64_t channel_id,
		     enum pl_action action, struct pl_access *acc, struct pl_err *err);

/*
 * pl_authz_message: decides whether `user_id` may perform `action` on
 * message `message_id`, after pl_authz_channel on its channel (READ, or
 * POST for PL_MSG_REACT). A message of a channel the user may not see is
 * 404 like a missing one. *channel_id (may be NULL) receives its channel.
 * Returns 0 when allowed, -1 with `err`: 404, or 403 (edit by someone
 * other than the author; delete by a plain member who is not the author;
 * edit or react in an archived channel; pin without having joined the
 * (public) channel, PL_MSG_PIN_MANAGE by a plain member, or any pin in an
 * archived channel).
 */
int pl_authz_message(struct pl_db *db, int64_t user_id, int64_t message_id,
		     enum pl_msg_action action, int64_t *channel_id, struct pl_err *err);

/*
 * pl_authz_file: decides whether `user_id` may read file `f` (its bytes,
 * its thumbnail, its object). Rules (API.md "Files"): its uploader may; an
 * avatar anyone signed in may; an attachment whoever may read the message
 * it is attached to (pl_authz_message READ, at this moment: a member
 * removed from a private channel loses its files at once). Anything else
 * is 404, like a missing file. Returns 0 when allowed, -1 with `err`.
 */
int pl_authz_file(struct pl_db *db, int64_t user_id, const struct pl_file *f, struct pl_err *err);

/*
 * Server administration (issue 16; docs/DECISIONS.md "Integrations and
 * administration"). A server admin is a live, not deactivated account
 * whose users.server_role is 'admin'.
 *
 * pl_authz_server_admin: 0 when `user_id` is a server admin; -1 with `err`
 * 403 ("server admins only") when not, 500 on a database error. Every
 * /api/admin endpoint asks this first (anonymous callers never get here:
 * the route needs a bearer token, 401).
 */
int pl_authz_server_admin(struct pl_db *db, int64_t user_id, struct pl_err *err);

/*
 * pl_authz_channel_admin: a server admin acting on any channel, whatever
 * its kind and their membership: pl_authz_server_admin (skipped for
 * `user_id` 0, the operator through parleyctl), then 404 when there is no
 * such channel. `acc` (may be NULL) receives its kind,
 * archived state and the admin's own role in it. Returns 0 or -1 (`err`).
 */
int pl_authz_channel_admin(struct pl_db *db, int64_t user_id, int64_t channel_id,
			   struct pl_access *acc, struct pl_err *err);

/* pl_channel_is_member: true when `user_id` is a member of `channel_id`
 * (the rule for receiving a channel's events). False on any error. */
bool pl_channel_is_member(struct pl_db *db, int64_t user_id, int64_t channel_id);

/*
 * The set of users who may see one event, loaded once and asked per socket
 * (the fan-out of one event to many sockets): the same rules as
 * pl_event_visible, at the same moment.
 */
struct pl_event_audience {
	const struct pl_event *ev; /* borrowed (or &own) */
	struct pl_event own;       /* the event a channel audience stands for */
	bool all;                  /* everyone (PL_SCOPE_ALL) */
	int64_t *ids;              /* sorted user ids (owned) */
	size_t n;
	bool loaded;
};

/* pl_event_audience_init: prepares `a` for `ev` (borrowed; must outlive
 * `a`); the set is read on first use. Release with
 * pl_event_audience_release. */
void pl_event_audience_init(struct pl_event_audience *a, const struct pl_event *ev);

/* pl_event_audience_init_channel: prepares `a` as the members of
 * `channel_id` (whatever an event's scope). `a` must not be moved or
 * copied before its release (it points into itself). */
void pl_event_audience_init_channel(struct pl_event_audience *a, int64_t channel_id);

/* pl_event_audience_has: whether `user_id` may see the event. */
bool pl_event_audience_has(struct pl_db *db, struct pl_event_audience *a, int64_t user_id);

void pl_event_audience_release(struct pl_event_audience *a);

/*
 * pl_event_visible: whether `user_id` may receive `ev` now (membership is
 * checked at the moment of delivery, so a removed member stops at once).
 */
bool pl_event_visible(struct pl_db *db, int64_t user_id, const struct pl_event *ev);

/*
 * pl_authz_is_server_admin: whether `user_id` is a live server admin, as a
 * yes/no answer (pl_authz_server_admin answers 403 instead)
 * (users.server_role = 'admin', not erased, not deactivated; struct
 * pl_user.server_admin). Returns 1 yes, 0 no (also for no such user), -1
 * with `err` = 500.
 */
int pl_authz_is_server_admin(struct pl_db *db, int64_t user_id, struct pl_err *err);

/*
 * pl_authz_bot: whether `user_id` may manage bot `bot_id` (delete it,
 * manage its API tokens): its owner (users.bot_owner_id) or a server
 * admin. Returns 0 when allowed; -1 with `err` = 404 (no such live bot),
 * 403 (someone else's bot), 500.
 */
int pl_authz_bot(struct pl_db *db, int64_t user_id, int64_t bot_id, struct pl_err *err);

#endif
