/* hashslot.c — the bound on concurrent password hashes (hashslot.h): one
 * slot set (slots.h), every hash under key 0. */
#include <unistd.h>
#include "hashslot.h"
#include "slots.h"

/* Per-process settings (set once from the configuration). */
static struct pl_slots hashes;

void pl_hashslot_configure(const char *db_path, int slots, int wait_ms)
{
	long cpus;

	if (slots <= 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN) - 1;  /* -2 when unknown */
		slots = cpus < 1 ? 1 : cpus > PL_HASHSLOT_MAX ? PL_HASHSLOT_MAX : (int)cpus;
	}
	pl_slots_init(&hashes, db_path, "hashslots", slots > PL_HASHSLOT_MAX ? PL_HASHSLOT_MAX : slots,
		      wait_ms, 503, PL_HASHSLOT_RETRY, "server busy, retry later");
}

int pl_hashslot_limit(void)
{
	return pl_slots_limit(&hashes);
}

int pl_hashslot_acquire(int *slot, struct pl_err *err)
{
	return pl_slots_acquire(&hashes, 0, slot, err);
}

void pl_hashslot_release(int slot)
{
	pl_slots_release(slot);
}
