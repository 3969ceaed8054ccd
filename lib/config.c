/* config.c — defaults, config file, environment (config.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"
#include "util.h"
#include "hashslot.h"
#include "log.h"

enum key_type { K_STR, K_INT, K_SIZE };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	size_t size;      /* for strings: buffer size */
	long min, max;    /* for numbers */
};

#define STR(n, f)  { n, K_STR, offsetof(struct pl_config, f), sizeof(((struct pl_config *)0)->f), 0, 0 }
#define INT(n, f, lo, hi) { n, K_INT, offsetof(struct pl_config, f), 0, lo, hi }
#define SIZE(n, f, lo, hi) { n, K_SIZE, offsetof(struct pl_config, f), 0, lo, hi }

static const struct key keys[] = {
	STR("db_url", db_url),
	STR("db_path", db_path),
	STR("state_dir", state_dir),
	STR("schema_dir", schema_dir),
	STR("jwt_secret_file", jwt_secret_file),
	INT("access_token_ttl", access_ttl, 60, 86400 * 7),
	INT("refresh_token_ttl", refresh_ttl, 300, 86400 * 365),
	SIZE("body_limit", body_limit, 1024, 16 * 1024 * 1024),
	INT("presence_window", presence_window, 5, 86400),
	INT("busy_timeout", busy_timeout_ms, 100, 60000),
	INT("ws_port", ws_port, 1, 65535),
	STR("ws_listen", ws_listen),
	INT("ws_poll_ms", ws_poll_ms, 1, 10000),
	STR("ws_origins", ws_origins),
	INT("event_retention_days", event_retention_days, 1, 3650),
	INT("ws_inotify", ws_inotify, 0, 1),
	INT("ws_stall_timeout", ws_stall_timeout, 1, 3600),
	INT("ws_user_limit", ws_user_limit, 0, 1000000),
	INT("poll_user_limit", poll_user_limit, 0, 64),
	INT("login_user_limit", login_user_limit, 0, 1000000),
	INT("login_user_window", login_user_window, 1, 86400 * 30),
	INT("login_addr_limit", login_addr_limit, 0, 1000000),
	INT("login_addr_window", login_addr_window, 1, 86400 * 30),
	INT("register_addr_limit", register_addr_limit, 0, 1000000),
	INT("register_addr_window", register_addr_window, 1, 86400 * 30),
	INT("verify_request_limit", verify_request_limit, 0, 1000000),
	INT("verify_request_window", verify_request_window, 1, 86400 * 30),
	INT("verify_code_ttl", verify_code_ttl, 1, 86400 * 7),
	STR("mail_command", mail_command),
	STR("mail_from", mail_from),
	INT("hash_concurrency", hash_concurrency, 0, 64),
	INT("hash_wait_ms", hash_wait_ms, 0, 10000),
	INT("log_level", log_level, 0, 3),
	STR("files_dir", files_dir),
	SIZE("file_max_bytes", file_max_bytes, 1024, 1L << 40),
	SIZE("file_quota_bytes", file_quota_bytes, 0, 1L << 50),
	STR("file_offload", file_offload),
	STR("file_accel_prefix", file_accel_prefix),
	STR("file_inline_types", file_inline_types),
};

static void set_defaults(struct pl_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->db_path, sizeof(cfg->db_path), "var/parley.db");
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "var");
	snprintf(cfg->schema_dir, sizeof(cfg->schema_dir), "schema");
	snprintf(cfg->jwt_secret_file, sizeof(cfg->jwt_secret_file), "var/jwt_secret");
	cfg->access_ttl = 900;
	cfg->refresh_ttl = 30 * 86400;
	cfg->body_limit = 65536;
	cfg->presence_window = 60;
	cfg->busy_timeout_ms = 5000;
	cfg->ws_port = 8081;
	snprintf(cfg->ws_listen, sizeof(cfg->ws_listen), "127.0.0.1");
	cfg->ws_poll_ms = 5;
	cfg->event_retention_days = 7;
	cfg->ws_inotify = 1;
	cfg->ws_stall_timeout = 15;
	cfg->ws_user_limit = 20;
	cfg->poll_user_limit = 2;
	cfg->login_user_limit = 10;
	cfg->login_user_window = 900;
	cfg->login_addr_limit = 100;
	cfg->login_addr_window = 900;
	cfg->register_addr_limit = 30;
	cfg->register_addr_window = 3600;
	cfg->verify_request_limit = 5;
	cfg->verify_request_window = 3600;
	cfg->verify_code_ttl = 900;
	snprintf(cfg->mail_from, sizeof(cfg->mail_from), "parley@localhost");
	cfg->hash_wait_ms = 200;
	cfg->log_level = 2;
	snprintf(cfg->files_dir, sizeof(cfg->files_dir), "var/files");
	cfg->file_max_bytes = 25u << 20;
	cfg->file_quota_bytes = 1u << 30;
	snprintf(cfg->file_offload, sizeof(cfg->file_offload), "none");
	snprintf(cfg->file_accel_prefix, sizeof(cfg->file_accel_prefix), "/_parley_files/");
	snprintf(cfg->file_inline_types, sizeof(cfg->file_inline_types),
		 "image/png image/jpeg image/gif image/webp");
}

static int resolve_offload(struct pl_config *cfg, struct pl_err *err)
{
	if (strcmp(cfg->file_offload, "none") == 0)
		cfg->offload = PL_OFFLOAD_NONE;
	else if (strcmp(cfg->file_offload, "x-sendfile") == 0)
		cfg->offload = PL_OFFLOAD_SENDFILE;
	else if (strcmp(cfg->file_offload, "x-accel-redirect") == 0)
		cfg->offload = PL_OFFLOAD_ACCEL;
	else
		return pl_err_set(err, 500, "file_offload must be none, x-sendfile or x-accel-redirect");
	if (cfg->file_accel_prefix[0] != '/')
		return pl_err_set(err, 500, "file_accel_prefix must start with /");
	return 0;
}

static int set_key(struct pl_config *cfg, const struct key *k, const char *value,
		   const char *origin, struct pl_err *err)
{
	char *base = (char *)cfg + k->offset;
	char *end;
	long v;

	if (k->type == K_STR) {
		if (strlen(value) >= k->size)
			return pl_err_set(err, 500, "%s: value of %s too long", origin, k->name);
		memcpy(base, value, strlen(value) + 1);
		return 0;
	}
	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < k->min || v > k->max)
		return pl_err_set(err, 500, "%s: %s must be an integer in [%ld, %ld]",
				  origin, k->name, k->min, k->max);
	if (k->type == K_INT)
		*(int *)(void *)base = (int)v;
	else
		*(size_t *)(void *)base = (size_t)v;
	return 0;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static char *strip(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int load_file(struct pl_config *cfg, const char *path, struct pl_err *err)
{
	char line[2048], origin[1100];
	int lineno = 0, rc = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return pl_err_set(err, 500, "cannot open config file %s: %s", path, strerror(errno));
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		char *s, *eq;
		const struct key *k;

		lineno++;
		if ((s = strchr(line, '#')))
			*s = '\0';
		s = strip(line);
		if (!*s)
			continue;
		snprintf(origin, sizeof(origin), "%s:%d", path, lineno);
		if (!(eq = strchr(s, '='))) {
			rc = pl_err_set(err, 500, "%s: expected key = value", origin);
			break;
		}
		*eq = '\0';
		if (!(k = find_key(strip(s)))) {
			rc = pl_err_set(err, 500, "%s: unknown key %s", origin, strip(s));
			break;
		}
		rc = set_key(cfg, k, strip(eq + 1), origin, err);
	}
	fclose(f);
	return rc;
}

static int load_env(struct pl_config *cfg, struct pl_err *err)
{
	char name[64];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v;
		size_t j;

		snprintf(name, sizeof(name), "PARLEY_%s", keys[i].name);
		for (j = 7; name[j]; j++)
			name[j] = (char)toupper((unsigned char)name[j]);
		if ((v = getenv(name)) && set_key(cfg, &keys[i], v, name, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * Whoever reads the token key signs tokens for any account; whoever writes
 * it replaces it. A key file other users may read or write is refused
 * (like ssh with a private key): the admin chmods it, nothing is served
 * with it meanwhile. Group bits are the admin's call (a root-owned key
 * readable by the service's group, 0640, is a common layout). True (with
 * `err` set) when refused.
 */
static bool secret_exposed(int fd, const char *path, struct pl_err *err)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0) {
		pl_err_set(err, 500, "cannot stat jwt_secret_file %s: %s", path, strerror(errno));
		return true;
	}
	if (!(sb.st_mode & (S_IROTH | S_IWOTH)))
		return false;
	pl_err_set(err, 500, "jwt_secret_file %s is open to other users (mode %04o): "
		   "chmod 600 it", path, (unsigned)(sb.st_mode & 07777));
	return true;
}

static int load_secret(struct pl_config *cfg, struct pl_err *err)
{
	const char *inline_secret = getenv("PARLEY_JWT_SECRET");
	ssize_t n;
	int fd;

	if (inline_secret && *inline_secret) {
		size_t len = strlen(inline_secret);
		if (len > sizeof(cfg->jwt_secret))
			len = sizeof(cfg->jwt_secret);
		memcpy(cfg->jwt_secret, inline_secret, len);
		cfg->jwt_secret_len = len;
	} else {
		fd = open(cfg->jwt_secret_file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return pl_err_set(err, 500, "cannot open jwt_secret_file %s: %s",
					  cfg->jwt_secret_file, strerror(errno));
		if (secret_exposed(fd, cfg->jwt_secret_file, err)) {
			close(fd);
			return -1;
		}
		n = read(fd, cfg->jwt_secret, sizeof(cfg->jwt_secret));
		close(fd);
		if (n < 0)
			return pl_err_set(err, 500, "cannot read jwt_secret_file %s", cfg->jwt_secret_file);
		/* A trailing newline (echo > file) is not part of the key. */
		while (n > 0 && (cfg->jwt_secret[n - 1] == '\n' || cfg->jwt_secret[n - 1] == '\r'))
			n--;
		cfg->jwt_secret_len = (size_t)n;
	}
	if (cfg->jwt_secret_len < 32)
		return pl_err_set(err, 500, "jwt secret is shorter than 32 bytes");
	return 0;
}

/* db_url and db_path agree: db_url names the database, db_path the SQLite
 * file when it is one (what the daemon watches, what stats measure). */
static int resolve_db(struct pl_config *cfg, struct pl_err *err)
{
	const char *path = cfg->db_url;

	if (!cfg->db_url[0]) {
		snprintf(cfg->db_url, sizeof(cfg->db_url), "%s", cfg->db_path);
		return 0;
	}
	if (pl_url_is_postgres(cfg->db_url)) {
		cfg->db_path[0] = '\0';
		return 0;
	}
	if (strncmp(path, "sqlite:", 7) == 0)
		path += 7;
	if (!*path)
		return pl_err_set(err, 500, "db_url names no SQLite file");
	snprintf(cfg->db_path, sizeof(cfg->db_path), "%s", path);
	return 0;
}

int pl_config_load(struct pl_config *cfg, struct pl_err *err)
{
	const char *file = getenv("PARLEY_CONFIG");

	set_defaults(cfg);
	if (file && *file && load_file(cfg, file, err) < 0)
		return -1;
	if (load_env(cfg, err) < 0)
		return -1;
	if (resolve_db(cfg, err) < 0 || resolve_offload(cfg, err) < 0)
		return -1;
	/* Slot directories (the password-hash bound, waiting long polls) are
	 * this machine's: beside the SQLite file, or in its state_dir. */
	if (pl_url_is_postgres(cfg->db_url))
		snprintf(cfg->slots_base, sizeof(cfg->slots_base), "%s/parley", cfg->state_dir);
	else
		snprintf(cfg->slots_base, sizeof(cfg->slots_base), "%s", cfg->db_path);
	pl_hashslot_configure(cfg->slots_base, cfg->hash_concurrency, cfg->hash_wait_ms);
	return load_secret(cfg, err);
}
