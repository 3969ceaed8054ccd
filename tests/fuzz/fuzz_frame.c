/*
 * fuzz_frame.c — libFuzzer target for a WebSocket client frame as the
 * ws-daemon reads it: strict JSON (pl_json_parse), then the post fields
 * (pl_message_new_from_json), the same path a REST post body takes.
 */
#include <stdint.h>
#include <stdlib.h>
#include "json.h"
#include "messages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pl_message_new in;
	struct pl_err err = { 0 };
	cJSON *v = NULL;

	if (pl_json_parse((const char *)data, size, &v, &err) < 0)
		return 0;
	if (cJSON_IsObject(v) && pl_message_new_from_json(v, &in, &err) == 0) {
		if (in.channel_id < 1 || !in.content)
			abort();
	}
	cJSON_Delete(v);
	return 0;
}
