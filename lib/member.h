/*
 * member.h — one channel membership as storage returns it (members.c):
 * the member's account, role and joining time. No JSON here:
 * member_view.h renders it.
 */
#ifndef PL_MEMBER_H
#define PL_MEMBER_H

#include <stdbool.h>
#include <stdint.h>
#include "user.h"

struct pl_member {
	int64_t user_id;
	bool found;            /* false when the account row is gone: only
				  user_id is known, `user` is zeroed */
	struct pl_user user;   /* the account (erased ones included); its
				  strings are owned: pl_user_release */
	char role[8];          /* "owner", "admin" or "member" */
	int64_t joined_at;     /* ms since epoch */
};

#endif
