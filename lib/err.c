/* err.c — the lib error record (err.h). */
#include <stdarg.h>
#include <stdio.h>
#include "err.h"
#include "log.h"

int pl_err_set(struct pl_err *err, int status, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->status = status;
	err->retry_after = 0;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

int pl_err_internal_at(struct pl_err *err, const char *func, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pl_log_write(PL_LOG_ERROR, func, "%s", msg);
	return pl_err_set(err, 500, "internal server error");
}

const char *pl_err_code(int status)
{
	switch (status) {
	case 400: return "bad_request";
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not_found";
	case 405: return "method_not_allowed";
	case 409: return "conflict";
	case 411: return "length_required";
	case 413: return "payload_too_large";
	case 415: return "unsupported_media_type";
	case 416: return "range_not_satisfiable";
	case 429: return "rate_limited";
	case 503: return "unavailable";
	default:  return "internal";
	}
}
