/*
 * mention_mail.h — one batched email of the mentions and direct messages
 * a user missed: sent when the user has been offline (presence.h:
 * presence_state) for mention_mail_delay seconds and has unread mention/dm
 * notifications (notifications.h; "reply" ones, of followed threads, are
 * not mailed) at least that old and newer than their
 * last such mail, at most one per mention_mail_interval, only to a
 * verified address, only while users.mention_mail is 1 (the user's
 * opt-out) and the server's mention_mail setting is 1 with a mail_command
 * (mail.h). users.mention_mail_at (seconds since the epoch, schema 010)
 * records the last send. Run by parley-hookd every 2 s and by
 * `parleyctl send-mention-mail`; any number of them may run at once:
 * each user is claimed with one conditional UPDATE of mention_mail_at
 * (the one whose UPDATE changed the row sends), so nobody gets a mail
 * twice. Only notifications of channels the user can still read
 * (authz.h) and of messages not deleted are listed.
 */
#ifndef PL_MENTION_MAIL_H
#define PL_MENTION_MAIL_H

#include "config.h"
#include "db.h"
#include "err.h"

#define PL_MENTION_MAIL_ITEMS 20     /* notifications listed in one mail (the rest counted) */
#define PL_MENTION_MAIL_EXCERPT 140  /* bytes of a message's excerpt, at most (UTF-8 kept whole) */

/*
 * pl_mention_mail_run: one pass: finds at most `max_mails` users due a
 * mail (as above, at time now), claims each, and hands each mail to
 * mail_command. A failed send gives the claim back (the user is tried
 * again at the next pass) and is logged. Does nothing when the
 * mention_mail setting is 0 or mail_command is empty. *sent (may be
 * NULL) receives how many mails went. Returns 0, or -1 with `err` on a
 * database error (mails already sent stay sent).
 */
int pl_mention_mail_run(struct pl_db *db, const struct pl_config *cfg, int max_mails, int *sent,
			struct pl_err *err);

#endif
