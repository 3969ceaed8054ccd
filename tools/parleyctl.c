/*
 * parleyctl.c — parley's admin command line (see parleyctl(8)):
 *   parleyctl migrate [SCHEMA_DIR]   apply pending schema/NNN_*.sql migrations
 *   parleyctl version                print parley's release and the database's
 *                                    schema version (parleyctl --version: the
 *                                    release alone, no database opened)
 *   parleyctl backup FILE            online, consistent copy of the database
 *   parleyctl stats                  users, channels, messages, db size, events
 *   parleyctl create-user NAME       new account; password on standard input
 *   parleyctl reset-password NAME    new password from standard input; signs out
 *   parleyctl set-role CHANNEL NAME ROLE   owner | admin | member in a channel
 *   parleyctl prune-events [DAYS]    delete events older than DAYS (default:
 *                                    event_retention_days)
 *   parleyctl prune-files [HOURS]    delete attachments no message carries
 *                                    (uploaded more than HOURS ago, default
 *                                    24) and bytes on disk no file names
 *   parleyctl list-users [PREFIX]    accounts with their admin fields
 *   parleyctl deactivate NAME | reactivate NAME
 *   parleyctl set-server-admin [--revoke] NAME
 *   parleyctl create-invite [--uses N] [--expires SECONDS]
 *   parleyctl audit [--limit N]      the audit log, newest first
 *                                    (these act as "parleyctl" in the log)
 *   parleyctl export-user NAME       a user's data export (JSON) on stdout
 *   parleyctl export-channel ID      a channel, its members and every message (JSON)
 *   parleyctl send-mention-mail      mail users their missed mentions and DMs now
 *   parleyctl copy-to-postgres SQLITE_FILE PG_URL
 *                                    every row of a SQLite database into a new
 *                                    PostgreSQL database (migrated first)
 * Configuration as for every parley program ($PARLEY_CONFIG, PARLEY_* env).
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <stdlib.h>
#include "admin.h"
#include "app.h"
#include "invites.h"
#include "channels.h"
#include "db_copy.h"
#include "events.h"
#include "export.h"
#include "files.h"
#include "log.h"
#include "mention_mail.h"
#include "users.h"
#include "util.h"
#include "version.h"

struct command {
	const char *name;
	int min_args;             /* after the command name */
	int (*run)(struct pl_ctx *ctx, int argc, char **argv);
	const char *usage;
};

static int cmd_migrate(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_err err = { 0 };
	int applied = 0;

	if (pl_db_migrate(ctx->db, argc > 0 ? argv[0] : ctx->cfg.schema_dir, &applied, &err) < 0) {
		fprintf(stderr, "parleyctl: migrate failed: %s\n", err.message);
		return 1;
	}
	printf("parleyctl: %d migration(s) applied, schema version %d\n", applied, pl_db_version(ctx->db));
	return 0;
}

/* Two "key value" lines, as stats prints them. */
static int cmd_version(struct pl_ctx *ctx, int argc, char **argv)
{
	printf("version %s\nschema_version %d\n", pl_version(), pl_db_version(ctx->db));
	return 0;
}

static int cmd_backup(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_err err = { 0 };

	if (pl_db_backup(ctx->db, argv[0], &err) < 0) {
		fprintf(stderr, "parleyctl: backup failed: %s\n", err.message);
		return 1;
	}
	printf("parleyctl: backup written to %s\n", argv[0]);
	return 0;
}

static const char sql_stats[] =
	"SELECT (SELECT count(*) FROM users WHERE deleted_at IS NULL), "
	"(SELECT count(*) FROM channels), (SELECT count(*) FROM messages), "
	"(SELECT count(*) FROM events), (SELECT coalesce(max(id), 0) FROM events)";

static long long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static int cmd_stats(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_err err = { 0 };
	struct pl_stmt *st = pl_db_stmt(ctx->db, sql_stats, &err);
	char wal[1100];
	int rc = 1;

	if (!st) {
		fprintf(stderr, "parleyctl: stats failed: %s\n", err.message);
		return 1;
	}
	if (pl_stmt_step(st) == PL_ROW) {
		snprintf(wal, sizeof(wal), "%s-wal", ctx->cfg.db_path);
		printf("users %lld\nchannels %lld\nmessages %lld\nevents %lld\nlast_event_id %lld\n"
		       "db_bytes %lld\nwal_bytes %lld\nschema_version %d\n",
		       (long long)pl_stmt_int64(st, 0), (long long)pl_stmt_int64(st, 1),
		       (long long)pl_stmt_int64(st, 2), (long long)pl_stmt_int64(st, 3),
		       (long long)pl_stmt_int64(st, 4), (long long)pl_db_size(ctx->db),
		       file_size(wal), pl_db_version(ctx->db));
		rc = 0;
	} else {
		fprintf(stderr, "parleyctl: stats failed: %s\n", pl_db_last_error(ctx->db));
	}
	pl_db_done(st);
	return rc;
}

/* Reads one line (the password) from standard input, without its newline.
 * Returns a malloc'd string (caller frees) or NULL. */
static char *read_password(void)
{
	char buf[1100];
	size_t n;

	if (!fgets(buf, sizeof(buf), stdin))
		return NULL;
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	char *p = pl_xstrdup(buf);
	sodium_memzero(buf, sizeof(buf));
	return p;
}

static int fail(const char *what, const struct pl_err *err)
{
	fprintf(stderr, "parleyctl: %s: %s\n", what, err->message);
	return 1;
}

static int cmd_create_user(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_registration reg = { .username = argv[0] };
	struct pl_err err = { 0 };
	cJSON *user = NULL;
	char *password = read_password();
	int rc;

	if (!password)
		return fail("create-user", &(struct pl_err){ 400, 0, "no password on standard input" });
	reg.password = password;
	reg.password_len = strlen(password);
	rc = pl_user_register(ctx->db, &reg, &user, &err);
	sodium_memzero(password, strlen(password));
	free(password);
	if (rc < 0)
		return fail("create-user", &err);
	printf("parleyctl: created user %s (id %.0f)\n", argv[0],
	       cJSON_GetObjectItem(user, "id")->valuedouble);
	cJSON_Delete(user);
	return 0;
}

static int cmd_reset_password(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_err err = { 0 };
	int64_t id;
	char *password;
	int rc;

	if (pl_user_find(ctx->db, argv[0], &id, &err) < 0)
		return fail("reset-password", &err);
	if (!(password = read_password()))
		return fail("reset-password", &(struct pl_err){ 400, 0, "no password on standard input" });
	rc = pl_user_reset_password(ctx->db, id, password, strlen(password), &err);
	sodium_memzero(password, strlen(password));
	free(password);
	if (rc < 0)
		return fail("reset-password", &err);
	printf("parleyctl: password of %s reset; every session signed out\n", argv[0]);
	return 0;
}

static int cmd_set_role(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_err err = { 0 };
	int64_t channel, target, owner;
	cJSON *member = NULL;
	bool created;

	if (pl_parse_id(argv[0], &channel) < 0)
		return fail("set-role", &(struct pl_err){ 400, 0, "CHANNEL must be a channel id" });
	/* The change is made with the authority of the channel's owner. */
	if (pl_user_find(ctx->db, argv[1], &target, &err) < 0 ||
	    pl_channel_an_owner(ctx->db, channel, &owner, &err) < 0 ||
	    pl_channel_member_set(ctx->db, owner, channel, target, argv[2], &created, &member, &err) < 0)
		return fail("set-role", &err);
	cJSON_Delete(member);
	printf("parleyctl: %s is now %s of channel %s%s\n", argv[1], argv[2], argv[0],
	       created ? " (added)" : "");
	return 0;
}

static int cmd_prune_events(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_err err = { 0 };
	int64_t days = ctx->cfg.event_retention_days;
	long total = 0;
	int deleted;

	if (argc > 0 && (pl_parse_id(argv[0], &days) < 0 || days > 3650))
		return fail("prune-events", &(struct pl_err){ 400, 0, "DAYS must be an integer from 1 to 3650" });
	/* Short transactions of 5,000 rows: writers never wait long. */
	do {
		if (pl_events_prune(ctx->db, pl_now_ms() - days * 86400000, 5000, &deleted, &err) < 0)
			return fail("prune-events", &err);
		total += deleted;
	} while (deleted > 0);
	printf("parleyctl: %ld event(s) older than %lld day(s) deleted\n", total, (long long)days);
	return 0;
}

static int cmd_prune_files(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_err err = { 0 };
	int64_t hours = 24, rows = 0, bytes = 0, total_rows = 0, blobs = 0, swept = 0;

	if (argc > 0 && (strcmp(argv[0], "0") == 0 ? (hours = 0, 0) : pl_parse_id(argv[0], &hours)) < 0)
		return fail("prune-files", &(struct pl_err){ 400, 0, "HOURS must be an integer from 0" });
	do {
		if (pl_files_collect(ctx->db, ctx->cfg.files_dir, hours * 3600, 500, &rows, &bytes, &err) < 0)
			return fail("prune-files", &err);
		total_rows += rows;
		swept += bytes;
	} while (rows > 0);
	if (pl_files_sweep(ctx->db, ctx->cfg.files_dir, hours * 3600, &blobs, &bytes, &err) < 0)
		return fail("prune-files", &err);
	printf("parleyctl: %lld unattached file(s) deleted, %lld unreferenced blob(s) removed, "
	       "%lld bytes freed\n", (long long)total_rows, (long long)blobs, (long long)(swept + bytes));
	return 0;
}

/*
 * copy-to-postgres SQLITE_FILE PG_URL: migrates the PostgreSQL database to
 * this schema version, then copies (db_copy.h). Stop the programs that
 * write the SQLite file first: rows written after the copy's snapshot stay
 * behind.
 */
static int cmd_copy_to_postgres(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_db *src = NULL, *dst = NULL;
	struct pl_err err = { 0 };
	int applied = 0, rc = 1;

	if (access(argv[0], R_OK) < 0) {
		fprintf(stderr, "parleyctl: copy-to-postgres: %s: cannot read it\n", argv[0]);
		return 1;
	}
	if (pl_db_engine_of(argv[0]) != PL_DB_SQLITE || pl_db_engine_of(argv[1]) != PL_DB_POSTGRES)
		return fail("copy-to-postgres", &(struct pl_err){ 400, 0,
			    "usage: copy-to-postgres SQLITE_FILE PG_URL" });
	if (pl_db_open(argv[0], ctx->cfg.busy_timeout_ms, &src, &err) < 0 ||
	    pl_db_open(argv[1], ctx->cfg.busy_timeout_ms, &dst, &err) < 0 ||
	    pl_db_migrate(dst, ctx->cfg.schema_dir, &applied, &err) < 0 ||
	    pl_db_copy_to_postgres(src, dst, stdout, &err) < 0) {
		fail("copy-to-postgres", &err);
		goto out;
	}
	printf("parleyctl: copied %s into PostgreSQL (schema version %d)\n", argv[0],
	       pl_db_version(dst));
	rc = 0;
out:
	pl_db_close(dst);
	pl_db_close(src);
	return rc;
}

/* ---- server administration (issue 16): parleyctl acts as the operator
 * (actor 0: trusted, "parleyctl" in the audit log) ---- */

/* Prints a JSON answer, one object per line for a list under `key`. */
static void print_list(const cJSON *body, const char *key)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(body, key)) {
		char *line = cJSON_PrintUnformatted(item);
		printf("%s\n", line);
		free(line);
	}
}

static int cmd_list_users(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_err err = { 0 };
	cJSON *body = NULL;

	if (pl_admin_users(ctx->db, 0, argc > 0 ? argv[0] : "", 200, 0, &body, &err) < 0)
		return fail("list-users", &err);
	print_list(body, "users");
	cJSON_Delete(body);
	return 0;
}

static int set_active(struct pl_ctx *ctx, const char *name, bool active)
{
	struct pl_err err = { 0 };
	const char *what = active ? "reactivate" : "deactivate";
	int64_t id;

	if (pl_user_find(ctx->db, name, &id, &err) < 0 ||
	    pl_admin_set_active(ctx->db, 0, id, active, NULL, &err) < 0)
		return fail(what, &err);
	printf("parleyctl: %s %s\n", name, active ? "reactivated" : "deactivated; every session signed out");
	return 0;
}

static int cmd_deactivate(struct pl_ctx *ctx, int argc, char **argv)
{
	return set_active(ctx, argv[0], false);
}

static int cmd_reactivate(struct pl_ctx *ctx, int argc, char **argv)
{
	return set_active(ctx, argv[0], true);
}

static int cmd_set_server_admin(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_err err = { 0 };
	bool revoke = strcmp(argv[0], "--revoke") == 0;
	const char *name = revoke ? argv[1] : argv[0];
	int64_t id;

	if (!name || (revoke && argc < 2))
		return fail("set-server-admin", &(struct pl_err){ 400, 0, "usage: set-server-admin [--revoke] NAME" });
	if (pl_user_find(ctx->db, name, &id, &err) < 0 ||
	    pl_admin_set_server_admin(ctx->db, 0, id, !revoke, NULL, &err) < 0)
		return fail("set-server-admin", &err);
	printf("parleyctl: %s is %s a server admin\n", name, revoke ? "no longer" : "now");
	return 0;
}

/* "--NAME N" options into *value; -1 on anything else. */
static int option(int argc, char **argv, const char *name, int64_t *value)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], name) != 0)
			continue;
		if (i + 1 >= argc || pl_parse_id(argv[i + 1], value) < 0)
			return -1;
	}
	for (int i = 0; i < argc; i += 2)
		if (strncmp(argv[i], "--", 2) != 0)
			return -1;
	return 0;
}

static int cmd_create_invite(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_err err = { 0 };
	int64_t uses = 1, ttl = PL_INVITE_DEFAULT_TTL;
	cJSON *inv = NULL;
	const cJSON *token;

	if (option(argc, argv, "--uses", &uses) < 0 || option(argc, argv, "--expires", &ttl) < 0)
		return fail("create-invite", &(struct pl_err){ 400, 0,
			    "usage: create-invite [--uses N] [--expires SECONDS]" });
	if (pl_admin_invite_create(ctx->db, 0, uses, ttl, &inv, &err) < 0)
		return fail("create-invite", &err);
	token = cJSON_GetObjectItemCaseSensitive(inv, "token");
	printf("%s\n", cJSON_IsString(token) ? token->valuestring : "");
	fprintf(stderr, "parleyctl: invite %.0f for %lld registration(s), valid %lld s (the token is shown once)\n",
		cJSON_GetObjectItem(inv, "id")->valuedouble, (long long)uses, (long long)ttl);
	cJSON_Delete(inv);
	return 0;
}

static int cmd_audit(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_err err = { 0 };
	int64_t limit = 50;
	cJSON *body = NULL;

	if (option(argc, argv, "--limit", &limit) < 0 || limit > 200)
		return fail("audit", &(struct pl_err){ 400, 0, "usage: audit [--limit N] (N at most 200)" });
	if (pl_admin_audit(ctx->db, 0, (int)limit, 0, &body, &err) < 0)
		return fail("audit", &err);
	print_list(body, "entries");
	cJSON_Delete(body);
	return 0;
}

/* ---- exports (issue 16, lib/export.h) ---- */

static void stdout_write(void *arg, const char *buf, size_t n)
{
	fwrite(buf, 1, n, stdout);
}

static int cmd_export_user(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_sink out = { stdout_write, NULL };
	struct pl_err err = { 0 };
	int64_t id;

	if (pl_user_find(ctx->db, argv[0], &id, &err) < 0 || pl_export_user(ctx->db, id, &out, &err) < 0)
		return fail("export-user", &err);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_export_channel(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_sink out = { stdout_write, NULL };
	struct pl_err err = { 0 };
	int64_t id;

	if (pl_parse_id(argv[0], &id) < 0) {
		fprintf(stderr, "parleyctl: export-channel: not a channel id: %s\n", argv[0]);
		return 2;
	}
	if (pl_export_channel(ctx->db, id, &out, &err) < 0)
		return fail("export-channel", &err);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- missed-mention mail (issue 16, lib/mention_mail.h) ---- */

static int cmd_send_mention_mail(struct pl_ctx *ctx, int argc, char **argv)
{
	struct pl_err err = { 0 };
	int sent = 0, total = 0;

	if (!ctx->cfg.mention_mail || !ctx->cfg.mail_command[0]) {
		fprintf(stderr, "parleyctl: send-mention-mail: mention_mail is 0 or mail_command is empty\n");
		return 1;
	}
	do {   /* batches until nobody is due */
		if (pl_mention_mail_run(ctx->db, &ctx->cfg, 100, &sent, &err) < 0) {
			fprintf(stderr, "parleyctl: send-mention-mail: %s (%d sent)\n", err.message, total + sent);
			return 1;
		}
		total += sent;
	} while (sent > 0);
	printf("parleyctl: %d missed-mention mail(s) sent\n", total);
	return 0;
}

static const struct command commands[] = {
	{ "migrate", 0, cmd_migrate, "migrate [SCHEMA_DIR]" },
	{ "version", 0, cmd_version, "version" },
	{ "backup", 1, cmd_backup, "backup FILE" },
	{ "stats", 0, cmd_stats, "stats" },
	{ "create-user", 1, cmd_create_user, "create-user USERNAME   (password on standard input)" },
	{ "reset-password", 1, cmd_reset_password, "reset-password USERNAME   (new password on standard input)" },
	{ "prune-events", 0, cmd_prune_events, "prune-events [DAYS]" },
	{ "prune-files", 0, cmd_prune_files, "prune-files [HOURS]" },
	{ "set-role", 3, cmd_set_role, "set-role CHANNEL_ID USERNAME owner|admin|member" },
	{ "copy-to-postgres", 2, cmd_copy_to_postgres, "copy-to-postgres SQLITE_FILE PG_URL" },
	{ "list-users", 0, cmd_list_users, "list-users [PREFIX]" },
	{ "deactivate", 1, cmd_deactivate, "deactivate USERNAME" },
	{ "reactivate", 1, cmd_reactivate, "reactivate USERNAME" },
	{ "set-server-admin", 1, cmd_set_server_admin, "set-server-admin [--revoke] USERNAME" },
	{ "create-invite", 0, cmd_create_invite, "create-invite [--uses N] [--expires SECONDS]" },
	{ "audit", 0, cmd_audit, "audit [--limit N]" },
	{ "export-user", 1, cmd_export_user, "export-user USERNAME   (JSON on standard output)" },
	{ "send-mention-mail", 0, cmd_send_mention_mail, "send-mention-mail" },
	{ "export-channel", 1, cmd_export_channel, "export-channel CHANNEL_ID   (JSON on standard output)" },
};

static int usage(void)
{
	fprintf(stderr, "usage:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  parleyctl %s\n", commands[i].usage);
	fprintf(stderr, "  parleyctl --version\n");
	return 2;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct pl_ctx ctx;
	struct pl_err err = { 0 };
	int rc;

	if (pl_version_option())
		return 0;
	for (size_t i = 0; argc > 1 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd || argc - 2 < cmd->min_args)
		return usage();
	pl_log_init("parleyctl", PL_LOG_INFO);
	if (pl_ctx_open(&ctx, "parleyctl", &err) < 0) {
		fprintf(stderr, "parleyctl: %s\n", err.message);
		pl_ctx_close(&ctx);
		return 1;
	}
	rc = cmd->run(&ctx, argc - 2, argv + 2);
	pl_ctx_close(&ctx);
	return rc;
}
