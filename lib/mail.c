/* mail.c — a sendmail-compatible command, fork/exec, message on stdin (mail.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "mail.h"
#include "util.h"

#define MAX_ARGS 16

/* Splits `buf` in place on spaces/tabs into argv (NULL-terminated). */
static int split_args(char *buf, char *argv[MAX_ARGS + 1])
{
	int argc = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(buf, " \t", &save); tok && argc < MAX_ARGS;
	     tok = strtok_r(NULL, " \t", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	return argc;
}

/* closefrom(3) came with glibc 2.34; the shared-host bundle is built
 * against 2.31 (scripts/bundle.sh), where every descriptor up to the
 * limit is closed instead (in the mail child only). */
static void close_from(int lowfd)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	closefrom(lowfd);
#else
	long max = sysconf(_SC_OPEN_MAX);

	for (long fd = lowfd; fd < (max > 0 ? max : 1024); fd++)
		close((int)fd);
#endif
}

/* In the child: stdin from the pipe, stdout/stderr to /dev/null, nothing
 * else inherited (the FastCGI socket, the database), default signals. */
static void child_exec(int in_fd, char *argv[])
{
	int devnull = open("/dev/null", O_RDWR);

	if (dup2(in_fd, 0) < 0 || devnull < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
		_exit(127);
	close_from(3);
	signal(SIGPIPE, SIG_DFL);
	execv(argv[0], argv);
	_exit(127);
}

static void write_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, s, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;   /* the command closed its stdin: its exit status tells */
		s += w;
		len -= (size_t)w;
	}
}

/* Waits for `pid` at most PL_MAIL_TIMEOUT_MS; kills it after. Exit status or -1. */
static int wait_child(pid_t pid)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int64_t deadline = pl_now_ms() + PL_MAIL_TIMEOUT_MS;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (pl_now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			pl_err_log("command timed out after %d ms", PL_MAIL_TIMEOUT_MS);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
}

int pl_command_run(const char *command, const char *last_arg, const char *input, int *status)
{
	char buf[1024], *argv[MAX_ARGS + 2];
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	int fds[2], argc;
	pid_t pid;

	*status = -1;
	snprintf(buf, sizeof(buf), "%s", command ? command : "");
	if ((argc = split_args(buf, argv)) == 0)
		return 1;
	if (argv[0][0] != '/') {
		pl_err_log("command %s must be an absolute path", argv[0]);
		return -1;
	}
	if (last_arg) {
		argv[argc++] = (char *)last_arg;
		argv[argc] = NULL;
	}
	/* waitpid needs SIGCHLD not ignored (a supervisor may have left it so). */
	signal(SIGCHLD, SIG_DFL);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		pl_err_log("pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		pl_err_log("fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0)
		child_exec(fds[0], argv);
	close(fds[0]);
	/* A command that exits without reading must not kill us with SIGPIPE
	 * (FastCGI programs ignore it already; other callers may not). */
	sigaction(SIGPIPE, &ign, &old_pipe);
	write_all(fds[1], input, strlen(input));
	close(fds[1]);
	sigaction(SIGPIPE, &old_pipe, NULL);
	*status = wait_child(pid);
	if (*status != 0)
		pl_err_log("command %s failed (status %d)", argv[0], *status);
	return 0;
}

int pl_mail_send(const char *command, const char *message, struct pl_err *err)
{
	int status, rc = pl_command_run(command, NULL, message, &status);

	if (rc == 1)
		return pl_err_set(err, 503, "email delivery is not configured");
	if (rc < 0)
		return pl_err_set(err, 503, "email delivery is not available");
	if (status != 0)
		return pl_err_set(err, 503, "email delivery failed, retry later");
	return 0;
}
