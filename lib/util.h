/*
 * util.h — small helpers every parley program uses: an allocator that
 * aborts on exhaustion (one policy instead of a check at every call site),
 * wall-clock time in milliseconds, RFC 3339 formatting, UTF-8 checks, and
 * owner-only files.
 */
#ifndef PL_UTIL_H
#define PL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/*
 * pl_xmalloc, pl_xcalloc, pl_xrealloc, pl_xstrdup, pl_xstrndup: like malloc(3) and
 * friends, but abort(3) after logging when memory is exhausted, so they
 * never return NULL. The caller owns the result and releases it with free(3).
 */
void *pl_xmalloc(size_t n);
void *pl_xcalloc(size_t count, size_t n);
void *pl_xrealloc(void *p, size_t n);
char *pl_xstrdup(const char *s);
char *pl_xstrndup(const char *s, size_t n);

/* pl_now_ms: milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t pl_now_ms(void);

/* Size of a buffer for pl_time_format, including the terminating NUL. */
#define PL_TIME_LEN 64

/*
 * pl_time_format: writes `ms` (milliseconds since the epoch) as RFC 3339
 * UTC with milliseconds, e.g. "2026-11-20T09:15:02.123Z" (RFC 3339 §5.6),
 * into `out` (at least PL_TIME_LEN bytes). Returns `out`.
 */
char *pl_time_format(int64_t ms, char out[PL_TIME_LEN]);

/*
 * pl_utf8_valid: true when the `len` bytes at `s` are well-formed UTF-8
 * (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
 * When `codepoints` is not NULL it receives the number of code points.
 */
bool pl_utf8_valid(const char *s, size_t len, size_t *codepoints);

/*
 * pl_trim: returns a newly allocated copy of `s` without leading and
 * trailing ASCII white space (space, tab, CR, LF). Caller frees.
 */
char *pl_trim(const char *s);

/*
 * pl_parse_id: parses a positive decimal id (1..INT64_MAX) from the NUL-
 * terminated `s`, nothing else allowed. Returns 0 and sets *out, or -1.
 */
int pl_parse_id(const char *s, int64_t *out);

/*
 * pl_parse_cursor: parses an event cursor (`since=`): "0" (from the start
 * of what is retained) or a positive id as pl_parse_id. Returns 0 and
 * sets *out, or -1.
 */
int pl_parse_cursor(const char *s, int64_t *out);

/* What pl_text_forbidden lets through (bits). */
#define PL_TEXT_TAB_LF 1u   /* U+0009 tab and U+000A line feed */
#define PL_TEXT_CR     2u   /* U+000D carriage return */

/*
 * pl_text_forbidden: the first code point of the NUL-terminated, valid
 * UTF-8 `s` that text shown to other people must not hold, or 0 when there
 * is none: C0 controls and DEL (U+0001-U+001F, U+007F) but those `allow`
 * names, C1 controls (U+0080-U+009F), and the bidirectional embeddings,
 * overrides and isolates U+202A-U+202E and U+2066-U+2069, which can make
 * text read differently from what it is (CVE-2021-42574, "Trojan Source";
 * Unicode UAX #9). *offset (may be NULL) receives its byte offset.
 */
uint32_t pl_text_forbidden(const char *s, unsigned allow, size_t *offset);

/*
 * pl_text_has_controls: pl_text_forbidden(s, multiline ? PL_TEXT_TAB_LF :
 * 0) != 0: for names (one line) and topics and profile texts (newline and
 * tab allowed), where a control character can forge lines, ring terminals
 * or reorder what others read.
 */
bool pl_text_has_controls(const char *s, bool multiline);

/*
 * pl_file_private: makes sure the file at `path` (NUL-terminated, borrowed)
 * grants nothing to group or others, whatever the umask, for files that
 * hold secrets (the database, its -wal and -shm, backups).
 * - Missing and `create`: created empty with mode exactly 0600 (O_EXCL, so
 *   racing processes are both served by the one that wins).
 * - Missing and not `create`: nothing to do.
 * - Existing regular file with group or other bits, owned by this process's
 *   effective user (or any owner when that user is root): chmod'ed to its
 *   owner bits only, and *was_mode (may be NULL) receives the old mode, so
 *   the caller can say so in the log. Otherwise *was_mode is set to 0.
 * Anything that is not a regular file is left alone.
 * Returns 0 when the file is now private (or absent and not wanted), or -1
 * with errno set: EPERM for another user's file that others may read or
 * write (left as it is), else the error of open(2), stat(2) or chmod(2).
 */
/*
 * pl_url_is_postgres: whether a database address names PostgreSQL: a libpq
 * connection URI ("postgresql://...", "postgres://...") or key/value string
 * ("host=/run/pg dbname=parley"; at least one '=' and no "sqlite:" prefix;
 * https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING).
 * Anything else is an SQLite file path, optionally prefixed "sqlite:".
 */
bool pl_url_is_postgres(const char *url);

int pl_file_private(const char *path, bool create, unsigned *was_mode);

#endif
