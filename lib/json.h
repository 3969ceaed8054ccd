/*
 * json.h — JSON at the edge, through cJSON. cJSON 1.7.15 alone accepts
 * invalid UTF-8, truncates at \u0000, keeps the first of duplicate keys,
 * turns 1e400 into inf and accepts trailing garbage (FACTS.md); this module
 * refuses all of those, and nesting deeper than PL_JSON_MAX_DEPTH, so
 * handlers only ever see a clean document.
 */
#ifndef PL_JSON_H
#define PL_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define PL_JSON_MAX_DEPTH 32

/*
 * pl_json_parse: parses the `len` bytes at `buf` (need not be NUL-
 * terminated) as one JSON value (RFC 8259) and checks the rules above.
 * On success *out owns the tree: release with cJSON_Delete(). Returns 0,
 * or -1 with `err` = 400 and a message naming the problem.
 */
int pl_json_parse(const char *buf, size_t len, cJSON **out, struct pl_err *err);

/*
 * Field getters for an object `obj`. Each returns 0 when the field is
 * present with the right type (setting *out), 1 when it is absent or null
 * and `required` is false (leaving *out untouched), and -1 with `err` = 400
 * naming the field when it is missing but required or of the wrong type.
 * Strings are borrowed from `obj`.
 */
int pl_json_string(const cJSON *obj, const char *key, bool required, const char **out, struct pl_err *err);
/* integers: JSON numbers with no fraction within [1, 2^53 - 1] (ids; a
 * larger number may have been rounded by cJSON's double) */
int pl_json_id(const cJSON *obj, const char *key, bool required, int64_t *out, struct pl_err *err);

/*
 * pl_json_id_array: reads `key` as an array of `min`-`max` ids, each by
 * pl_json_id's rule, into *out (allocated; caller frees; NULL when absent
 * or on error) and *n. Absent or null: 0 when not `required` (nothing
 * read: returns 1), else 400. Returns 0, 1, or -1 with `err` = 400.
 */
int pl_json_id_array(const cJSON *obj, const char *key, bool required, size_t min, size_t max,
		     int64_t **out, size_t *n, struct pl_err *err);
int pl_json_bool(const cJSON *obj, const char *key, bool required, bool *out, struct pl_err *err);

/*
 * pl_json_print: serializes `v` unformatted (RFC 8259), as
 * cJSON_PrintUnformatted does except that integral numbers up to 2^53 print
 * exactly and fast. Caller frees the string with free(3). Aborts on
 * exhaustion.
 */
char *pl_json_print(const cJSON *v);

/*
 * pl_json_init: makes cJSON allocate with the project's allocator
 * (pl_xmalloc: out of memory aborts, util.h), so no cJSON call returns
 * NULL for want of memory. Call once per process before any cJSON use
 * (pl_ctx_open does). cJSON_InitHooks: cJSON.h.
 */
void pl_json_init(void);

/* pl_json_add_time: adds `key` as an RFC 3339 string for `ms`, or null
 * when ms is 0. Returns the added item (owned by `obj`). `key` is not
 * copied (cJSON_AddItemToObjectCS): it must outlive `obj` — a string
 * literal. Same for pl_json_add_id. */
cJSON *pl_json_add_time(cJSON *obj, const char *key, int64_t ms);

/* pl_json_add_id: adds `key` as a number, or null when id is 0. */
cJSON *pl_json_add_id(cJSON *obj, const char *key, int64_t id);

#endif
