/*
 * member_view.h — the member object of the contract (API.md, Channels):
 * {"user","role","joined_at"}, from a struct pl_member (member.h).
 */
#ifndef PL_MEMBER_VIEW_H
#define PL_MEMBER_VIEW_H

#include <cjson/cJSON.h>
#include "member.h"

/*
 * pl_member_view: the object for `m` (borrowed). "user" is the public
 * user object (user_view.h), or {"id","username":""} when the account row
 * is gone (m->found false). Returns a new object (caller frees).
 */
cJSON *pl_member_view(const struct pl_member *m);

#endif
