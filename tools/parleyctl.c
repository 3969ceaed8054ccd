/*
 * parleyctl.c — parley's admin command line. Commands:
 *   parleyctl migrate [SCHEMA_DIR]   apply pending schema/NNN_*.sql migrations
 *   parleyctl version                print the schema version of the database
 * Configuration as for every parley program (env, $PARLEY_CONFIG).
 */
#include <stdio.h>
#include <string.h>
#include "app.h"
#include "log.h"

static int usage(void)
{
	fprintf(stderr, "usage: parleyctl migrate [SCHEMA_DIR] | version\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct pl_ctx ctx;
	struct pl_err err = { 0 };
	int applied = 0, rc = 1;

	if (argc < 2)
		return usage();
	pl_log_init("parleyctl", PL_LOG_INFO);
	if (pl_ctx_open(&ctx, "parleyctl", &err) < 0) {
		fprintf(stderr, "parleyctl: %s\n", err.message);
		goto out;
	}
	if (strcmp(argv[1], "migrate") == 0) {
		const char *dir = argc > 2 ? argv[2] : "schema";
		if (pl_db_migrate(ctx.db, dir, &applied, &err) < 0) {
			fprintf(stderr, "parleyctl: migrate failed: %s\n", err.message);
			goto out;
		}
		printf("parleyctl: %d migration(s) applied, schema version %d\n",
		       applied, pl_db_version(ctx.db));
		rc = 0;
	} else if (strcmp(argv[1], "version") == 0) {
		printf("%d\n", pl_db_version(ctx.db));
		rc = 0;
	} else {
		rc = usage();
	}
out:
	pl_ctx_close(&ctx);
	return rc;
}
