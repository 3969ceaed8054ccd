/*
 * log.h — one logging function for every parley program. Lines go to
 * stderr (journald and lighttpd's error log collect it) in a stable
 * one-line format:
 *   parley <program>[pid] <level> req=<request id> <function>: <message>
 * Never pass a password, token, ticket, code or secret to it.
 */
#ifndef PL_LOG_H
#define PL_LOG_H

enum pl_log_level { PL_LOG_ERROR, PL_LOG_WARN, PL_LOG_INFO, PL_LOG_DEBUG };

/* pl_log_init: sets the program name (borrowed, must outlive logging) and
 * the most verbose level written. */
void pl_log_init(const char *program, enum pl_log_level max_level);

/* pl_log_set_request: sets the request id shown in later lines (copied);
 * NULL clears it. Per-request state: set at the start of every request. */
void pl_log_set_request(const char *request_id);

/* pl_log_write: formats one line (printf-style) at `level`; use the
 * PL_LOG_* macros so the calling function is named. */
void pl_log_write(enum pl_log_level level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define pl_err_log(...)   pl_log_write(PL_LOG_ERROR, __func__, __VA_ARGS__)
#define pl_warn_log(...)  pl_log_write(PL_LOG_WARN, __func__, __VA_ARGS__)
#define pl_info_log(...)  pl_log_write(PL_LOG_INFO, __func__, __VA_ARGS__)
#define pl_debug_log(...) pl_log_write(PL_LOG_DEBUG, __func__, __VA_ARGS__)

#endif
