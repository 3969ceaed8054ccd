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

/*
 * pl_command_run: the machinery under pl_mail_send, for other senders
 * (sms_verify.c): splits `command` (an absolute path and arguments
 * separated by spaces, at most 16) into argv, appends `last_arg` when not
 * NULL (borrowed; passed as one argument, never interpreted by a shell),
 * runs it with fork(2)/execv(2), every other descriptor closed, writes
 * `input` to its stdin and waits at most PL_MAIL_TIMEOUT_MS (then kills
 * it). Returns 1 when `command` is empty (not configured), -1 when it
 * could not start (not absolute, pipe or fork failed; logged), else 0
 * with *status = its exit status (-1 when killed or timed out; a non-zero
 * status is logged).
 */
int pl_command_run(const char *command, const char *last_arg, const char *input, int *status);

#endif
