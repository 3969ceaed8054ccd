/*
 * fuzz_json.c — libFuzzer target for the JSON edge (lib/json.c): every
 * request body and WebSocket frame goes through pl_json_parse first, then
 * through the typed getters. Must never crash, leak or accept something
 * outside its rules.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_err err = { 0 };
	cJSON *v = NULL;
	const char *s;
	int64_t id;
	bool b;

	if (pl_json_parse((const char *)data, size, &v, &err) == 0) {
		/* Accepted input is valid UTF-8 and has no NUL byte. */
		if (!pl_utf8_valid((const char *)data, size, NULL) || memchr(data, 0, size))
			abort();
		if (cJSON_IsObject(v)) {
			(void)pl_json_string(v, "content", false, &s, &err);
			(void)pl_json_id(v, "channel_id", false, &id, &err);
			(void)pl_json_bool(v, "all", false, &b, &err);
		}
		free(pl_json_print(v));
		cJSON_Delete(v);
	} else if (err.status != 400) {
		abort();
	}
	return 0;
}
