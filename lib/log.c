/* log.c — one-line logs to stderr (log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "log.h"

/* Per-process logging settings; the request id is reset every request. */
static struct {
	const char *program;
	enum pl_log_level max_level;
	char request_id[32];
} log_state = { "parley", PL_LOG_INFO, "-" };

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void pl_log_init(const char *program, enum pl_log_level max_level)
{
	log_state.program = program;
	log_state.max_level = max_level;
}

void pl_log_set_request(const char *request_id)
{
	snprintf(log_state.request_id, sizeof(log_state.request_id), "%s",
		 request_id && *request_id ? request_id : "-");
}

void pl_log_write(enum pl_log_level level, const char *func, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > log_state.max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One line per record: control characters (newlines from SQL, or
	 * anything a client sent) become spaces, so lines cannot be forged. */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	/* One write per line keeps lines from interleaving between processes. */
	char line[1280];
	int n = snprintf(line, sizeof(line), "parley %s[%ld] %s req=%s %s: %s\n",
			 log_state.program, (long)getpid(), level_names[level],
			 log_state.request_id, func, msg);
	if (n > 0) {
		size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
		ssize_t w = write(STDERR_FILENO, line, len);
		(void)w;
	}
}
