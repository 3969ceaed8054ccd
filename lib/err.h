/*
 * err.h — the error every lib function reports: an HTTP status plus the
 * contract's snake_case code and a human message, ready to become
 * {"error":{"code","message"}} (../shared/API.md, "Errors").
 */
#ifndef PL_ERR_H
#define PL_ERR_H

#define PL_ERR_MSG_LEN 200

struct pl_err {
	int status;                    /* HTTP status, 0 when no error */
	int retry_after;               /* seconds for 429, else 0 */
	char message[PL_ERR_MSG_LEN];  /* human text, never internals */
};

/*
 * pl_err_set: records `status` and a printf-style message in `err` (which
 * may be NULL). Always returns -1 so callers can `return pl_err_set(...)`.
 */
int pl_err_set(struct pl_err *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* pl_err_internal: logs `what` (with the caller's name) and sets a 500
 * whose message says nothing of internals. Returns -1. */
#define pl_err_internal(err, ...) pl_err_internal_at((err), __func__, __VA_ARGS__)
int pl_err_internal_at(struct pl_err *err, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* pl_err_code: the contract's code for an HTTP status ("bad_request" for
 * 400, ...; "internal" for anything unknown). Static string. */
const char *pl_err_code(int status);

#endif
