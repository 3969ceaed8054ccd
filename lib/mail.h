/*
 * mail.h — hands a message to a sendmail-compatible command, `sendmail -t`
 * style: the complete message (headers To/From/Subject, a blank line,
 * the body; RFC 5322) on the command's standard input, recipients taken
 * from the headers. The command is run with fork(2)/execv(2) — no shell,
 * so nothing a user typed is ever interpreted — with every other file
 * descriptor closed and a time limit.
 */
#ifndef PL_MAIL_H
#define PL_MAIL_H

#include "err.h"

#define PL_MAIL_TIMEOUT_MS 10000   /* a command still running after this is killed */

/*
 * pl_mail_send: runs `command` (from the configuration: an absolute path
 * followed by arguments, separated by spaces, e.g. "/usr/sbin/sendmail -t
 * -i") and writes `message` to its stdin. `message` must already be a
 * valid RFC 5322 message with CRLF-free header values (the caller
 * validates the addresses it puts there). Returns 0 when the command
 * exited with status 0; -1 with `err` = 503 when `command` is empty
 * (mail not configured) or the command failed, could not start, or ran
 * out of time (logged, without the message).
 */
int pl_mail_send(const char *command, const char *message, struct pl_err *err);

#endif
