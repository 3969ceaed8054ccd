/* json.c — strict JSON parsing and typed field access over cJSON (json.h). */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "util.h"

/* Length of the RFC 8259 number at s (-1 if malformed):
 * -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static long number_len(const char *s, size_t len)
{
	size_t i = 0, digits;

	if (i < len && s[i] == '-')
		i++;
	if (i < len && s[i] == '0') {
		i++;
	} else {
		for (digits = 0; i < len && isdigit((unsigned char)s[i]); i++)
			digits++;
		if (!digits)
			return -1;
	}
	if (i < len && s[i] == '.') {
		for (i++, digits = 0; i < len && isdigit((unsigned char)s[i]); i++)
			digits++;
		if (!digits)
			return -1;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (digits = 0; i < len && isdigit((unsigned char)s[i]); i++)
			digits++;
		if (!digits)
			return -1;
	}
	if (i < len && (isdigit((unsigned char)s[i]) || s[i] == '.'))
		return -1;  /* e.g. 01 */
	return (long)i;
}

/*
 * Lexical pre-scan of the raw text, for what cJSON lets through: nesting
 * depth, the \u0000 escape (cJSON would truncate there), raw control
 * characters inside strings, and numbers outside RFC 8259's grammar
 * (cJSON reads them with strtod: 01, 1., .5).
 */
static int prescan(const char *s, size_t len, struct pl_err *err)
{
	int depth = 0;
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (in_string) {
			if ((unsigned char)c < 0x20)
				return pl_err_set(err, 400, "invalid JSON: control character in a string");
			if (c == '\\' && i + 1 < len) {
				if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0)
					return pl_err_set(err, 400, "invalid JSON: \\u0000 is not allowed in strings");
				i++;
			} else if (c == '"') {
				in_string = false;
			}
		} else if (c == '"') {
			in_string = true;
		} else if (c == '-' || isdigit((unsigned char)c) || c == '.') {
			long n = c == '.' ? -1 : number_len(s + i, len - i);
			if (n < 0)
				return pl_err_set(err, 400, "invalid JSON: malformed number");
			i += (size_t)n - 1;
		} else if (c == '{' || c == '[') {
			if (++depth > PL_JSON_MAX_DEPTH)
				return pl_err_set(err, 400, "invalid JSON: nested deeper than %d", PL_JSON_MAX_DEPTH);
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Duplicate keys and non-finite numbers, anywhere in the tree. */
static int check_tree(const cJSON *v, struct pl_err *err)
{
	if (cJSON_IsNumber(v) && !isfinite(v->valuedouble))
		return pl_err_set(err, 400, "invalid JSON: number out of range");
	if (cJSON_IsObject(v)) {
		size_t n = 0, i = 0;
		const cJSON *c;
		const char **keys;
		int rc = 0;

		cJSON_ArrayForEach(c, v)
			n++;
		keys = pl_xmalloc(n * sizeof(*keys));
		cJSON_ArrayForEach(c, v)
			keys[i++] = c->string;
		qsort(keys, n, sizeof(*keys), cmp_str);
		for (i = 1; i < n && rc == 0; i++)
			if (strcmp(keys[i - 1], keys[i]) == 0)
				rc = pl_err_set(err, 400, "invalid JSON: duplicate key \"%.40s\"", keys[i]);
		free(keys);
		if (rc < 0)
			return -1;
	}
	if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
		const cJSON *c;
		cJSON_ArrayForEach(c, v)
			if (check_tree(c, err) < 0)
				return -1;
	}
	return 0;
}

int pl_json_parse(const char *buf, size_t len, cJSON **out, struct pl_err *err)
{
	const char *end = NULL;
	char *copy;
	cJSON *v;

	*out = NULL;
	if (len == 0)
		return pl_err_set(err, 400, "invalid JSON: empty body");
	if (memchr(buf, '\0', len))
		return pl_err_set(err, 400, "invalid JSON: NUL byte");
	if (!pl_utf8_valid(buf, len, NULL))
		return pl_err_set(err, 400, "invalid JSON: body is not valid UTF-8");
	if (prescan(buf, len, err) < 0)
		return -1;
	copy = pl_xstrndup(buf, len);
	v = cJSON_ParseWithOpts(copy, &end, 1);
	free(copy);
	if (!v)
		return pl_err_set(err, 400, "invalid JSON: malformed or trailing data");
	if (check_tree(v, err) < 0) {
		cJSON_Delete(v);
		return -1;
	}
	*out = v;
	return 0;
}

static const cJSON *field(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return (v && !cJSON_IsNull(v)) ? v : NULL;
}

static int absent(const char *key, bool required, struct pl_err *err)
{
	if (required)
		return pl_err_set(err, 400, "field \"%s\" is required", key);
	return 1;
}

int pl_json_string(const cJSON *obj, const char *key, bool required, const char **out, struct pl_err *err)
{
	const cJSON *v = field(obj, key);

	if (!v)
		return absent(key, required, err);
	if (!cJSON_IsString(v))
		return pl_err_set(err, 400, "field \"%s\" must be a string", key);
	*out = v->valuestring;
	return 0;
}

/* The one rule for an id in a body: a JSON number with no fraction in
 * [1, 2^53 - 1]. cJSON reads numbers as doubles, and 2^53 + 1 arrives as
 * 2^53, so 2^53 itself must be refused to refuse what rounds to it. */
static bool id_value(const cJSON *v, int64_t *out)
{
	double d = v->valuedouble;

	if (!cJSON_IsNumber(v) || d < 1 || d >= 9007199254740992.0 || d != floor(d))
		return false;
	*out = (int64_t)d;
	return true;
}

int pl_json_id(const cJSON *obj, const char *key, bool required, int64_t *out, struct pl_err *err)
{
	const cJSON *v = field(obj, key);

	if (!v)
		return absent(key, required, err);
	if (!id_value(v, out))
		return pl_err_set(err, 400, "field \"%s\" must be a positive integer id", key);
	return 0;
}

int pl_json_id_array(const cJSON *obj, const char *key, bool required, size_t min, size_t max,
		     int64_t **out, size_t *n, struct pl_err *err)
{
	const cJSON *v = field(obj, key), *it;
	size_t count;

	*out = NULL;
	*n = 0;
	if (!v)
		return absent(key, required, err);
	if (!cJSON_IsArray(v))
		return pl_err_set(err, 400, "field \"%s\" must be an array of ids", key);
	count = (size_t)cJSON_GetArraySize(v);
	if (count < min || count > max)
		return pl_err_set(err, 400, "field \"%s\" must hold %zu-%zu ids", key, min, max);
	*out = pl_xcalloc(count ? count : 1, sizeof(**out));
	cJSON_ArrayForEach(it, v) {
		if (!id_value(it, &(*out)[*n])) {
			free(*out);
			*out = NULL;
			*n = 0;
			return pl_err_set(err, 400, "field \"%s\" must be an array of positive integer ids", key);
		}
		(*n)++;
	}
	return 0;
}

int pl_json_bool(const cJSON *obj, const char *key, bool required, bool *out, struct pl_err *err)
{
	const cJSON *v = field(obj, key);

	if (!v)
		return absent(key, required, err);
	if (!cJSON_IsBool(v))
		return pl_err_set(err, 400, "field \"%s\" must be a boolean", key);
	*out = cJSON_IsTrue(v);
	return 0;
}

/*
 * The serializer. cJSON_PrintUnformatted prints every number with
 * sprintf("%1.15g") and reads it back with sscanf to check the round trip:
 * with ids and counts in every object that was ~40 % of a 50-message
 * history page (callgrind, docs/BENCHMARKS.md). This walks the same cJSON
 * tree and prints integers (all parley's numbers) directly; other numbers
 * and everything else come out as cJSON prints them (RFC 8259).
 */
struct out {
	char *p;
	size_t len, cap;
};

/* Grows the buffer to hold `n` more bytes (the slow path of the puts). */
static void out_grow(struct out *o, size_t n)
{
	while (o->len + n > o->cap)
		o->cap = o->cap ? o->cap * 2 : 1024;
	o->p = pl_xrealloc(o->p, o->cap);
}

static inline void out_reserve(struct out *o, size_t n)
{
	if (o->len + n > o->cap)
		out_grow(o, n);
}

static inline void out_put(struct out *o, const char *s, size_t n)
{
	out_reserve(o, n);
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static inline void out_ch(struct out *o, char c)
{
	out_reserve(o, 1);
	o->p[o->len++] = c;
}

/* The bytes a JSON string must escape (RFC 8259 section 7): controls,
 * the quotation mark and the reverse solidus. */
static inline bool needs_escape(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

/* Whether any of the 8 bytes of `x` needs an escape: the "has a byte
 * less than n" and "has a zero byte" tests of Bit Twiddling Hacks (Sean
 * Anderson), exact as a yes/no for the word; the bytes are then looked at
 * one by one. */
static inline bool word_needs_escape(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t q = x ^ (ones * (unsigned char)'"'), b = x ^ (ones * (unsigned char)'\\');

	return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
}

/* The length of the prefix of u[0..len) that needs no escape. */
static inline size_t plain_run(const unsigned char *u, size_t len)
{
	size_t run = 0;
	uint64_t x;

	for (; run + 8 <= len; run += 8) {
		memcpy(&x, u + run, 8);
		if (word_needs_escape(x))
			break;
	}
	while (run < len && !needs_escape(u[run]))
		run++;
	return run;
}

static void out_string(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)u), run;
	char *w;

	/* Room for the common case (nothing to escape) at once: the quotes
	 * and the bytes; an escape reserves its own few bytes. */
	out_reserve(o, len + 2);
	o->p[o->len++] = '"';
	for (;;) {
		run = plain_run(u, len);
		memcpy(o->p + o->len, u, run);
		o->len += run;
		u += run;
		len -= run;
		if (len == 0)
			break;
		out_reserve(o, 6 + len + 1);
		w = o->p + o->len;
		*w++ = '\\';
		switch (*u) {
		case '"': *w++ = '"'; break;
		case '\\': *w++ = '\\'; break;
		case '\b': *w++ = 'b'; break;
		case '\f': *w++ = 'f'; break;
		case '\n': *w++ = 'n'; break;
		case '\r': *w++ = 'r'; break;
		case '\t': *w++ = 't'; break;
		default:
			memcpy(w, "u00", 3);
			w[3] = hex[*u >> 4];
			w[4] = hex[*u & 15];
			w += 5;
		}
		o->len = (size_t)(w - o->p);
		u++;
		len--;
	}
	o->p[o->len++] = '"';
}

static void out_number(struct out *o, double d)
{
	char buf[32];
	int n;

	if (!isfinite(d)) {
		out_put(o, "null", 4); /* as cJSON: JSON has no inf or nan */
		return;
	}
	if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double)(int64_t)d) {
		int64_t v = (int64_t)d;
		uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
		char *e = buf + sizeof(buf), *p = e;

		do
			*--p = (char)('0' + m % 10);
		while ((m /= 10) != 0);
		if (v < 0)
			*--p = '-';
		out_put(o, p, (size_t)(e - p));
		return;
	}
	/* cJSON's rule: 15 significant digits when they round-trip, else 17 */
	n = snprintf(buf, sizeof(buf), "%1.15g", d);
	if (strtod(buf, NULL) != d)
		n = snprintf(buf, sizeof(buf), "%1.17g", d);
	out_put(o, buf, (size_t)n);
}

static void out_value(struct out *o, const cJSON *v)
{
	const cJSON *c;

	switch (v->type & 0xFF) {
	case cJSON_False: out_put(o, "false", 5); break;
	case cJSON_True: out_put(o, "true", 4); break;
	case cJSON_NULL: out_put(o, "null", 4); break;
	case cJSON_Number: out_number(o, v->valuedouble); break;
	case cJSON_String: out_string(o, v->valuestring); break;
	case cJSON_Raw:
		if (v->valuestring)
			out_put(o, v->valuestring, strlen(v->valuestring));
		break;
	case cJSON_Array:
		out_ch(o, '[');
		for (c = v->child; c; c = c->next) {
			out_value(o, c);
			if (c->next)
				out_ch(o, ',');
		}
		out_ch(o, ']');
		break;
	case cJSON_Object:
		out_ch(o, '{');
		for (c = v->child; c; c = c->next) {
			out_string(o, c->string);
			out_ch(o, ':');
			out_value(o, c);
			if (c->next)
				out_ch(o, ',');
		}
		out_ch(o, '}');
		break;
	default:
		abort(); /* cJSON_Invalid: a construction bug, never input */
	}
}

char *pl_json_print(const cJSON *v)
{
	struct out o = { NULL, 0, 0 };

	out_value(&o, v);
	out_put(&o, "", 1);
	return o.p;
}

/* Adds `item` under the constant `key` (not copied: see json.h). */
static cJSON *add_const(cJSON *obj, const char *key, cJSON *item)
{
	if (!item || !cJSON_AddItemToObjectCS(obj, key, item))
		abort(); /* cJSON fails only on allocation */
	return item;
}

cJSON *pl_json_add_time(cJSON *obj, const char *key, int64_t ms)
{
	char buf[PL_TIME_LEN];

	if (ms == 0)
		return add_const(obj, key, cJSON_CreateNull());
	return add_const(obj, key, cJSON_CreateString(pl_time_format(ms, buf)));
}

cJSON *pl_json_add_id(cJSON *obj, const char *key, int64_t id)
{
	if (id == 0)
		return add_const(obj, key, cJSON_CreateNull());
	return add_const(obj, key, cJSON_CreateNumber((double)id));
}

static void *json_malloc(size_t n)
{
	return pl_xmalloc(n);
}

void pl_json_init(void)
{
	cJSON_Hooks hooks = { json_malloc, free };

	cJSON_InitHooks(&hooks);
}
