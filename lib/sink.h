/*
 * sink.h — where a body produced piece by piece goes (a data export
 * written to the FastCGI or CGI output as it is read, a file for
 * parleyctl): one function and its argument. No error return: a writer
 * that cannot deliver (the client went away) drops the bytes, and the
 * producer finishes or stops on its own terms.
 */
#ifndef PL_SINK_H
#define PL_SINK_H

#include <stddef.h>

struct pl_sink {
	void (*write)(void *arg, const char *buf, size_t n);  /* writes n bytes of buf */
	void *arg;                                           /* borrowed by the sink */
};

/* pl_sink_puts: writes the NUL-terminated `s` to `out`. */
static inline void pl_sink_puts(const struct pl_sink *out, const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	out->write(out->arg, s, n);
}

#endif
