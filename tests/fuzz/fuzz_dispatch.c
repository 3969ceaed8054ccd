/*
 * fuzz_dispatch.c — libFuzzer target for the whole request path of every
 * FastCGI program: route table, body size and content type, bearer
 * authentication, strict JSON body parsing and the real handlers down to
 * SQLite, exactly as lib/app.c's serve_one runs them (pl_http_dispatch,
 * then the rollback of anything left open), minus the FastCGI I/O.
 *
 * Route tables: the Makefile compiles each fcgi-apps/<name>.c with
 * -Dmain=pl_fuzz_main_<name> -Dpl_app_main=pl_fuzz_app_main and passes
 * the list as PL_FUZZ_APPS = "X(auth) X(channels) ..."; calling each
 * renamed main hands its table to pl_fuzz_app_main below (no change to the
 * programs). A new program in fcgi-apps/ is picked up without editing this file.
 *
 * State: at start-up a fresh in-memory database gets the migrations in
 * schema/ and, through the programs' own routes, users alice 1, bob 2,
 * carol 3 and dave 4 (erased), channels (1 public "general": alice owner,
 * bob, carol admin, dave; 2 private of alice only; 3 a dm of alice and
 * bob), messages (1, 2 (edited, a reply to 1) in general, 3 in the private
 * channel, 4 in the dm, 5 by dave, 6 deleted, 7 in the private channel with
 * alice's file 1 attached), a reaction and presence;
 * alice, bob and carol are signed in. That database is the template:
 * after any input that changed it, it is restored (sqlite3_deserialize of
 * the template's bytes), so every input runs against the same state and a
 * crash input replays alone.
 *
 * Password hashing: crypto_pwhash_str / crypto_pwhash_str_verify are
 * replaced here by a keyed BLAKE2b (the executable's definitions win over
 * libsodium's shared library), because argon2id costs ~50 ms and 64 MiB a
 * call and would hold the fuzzer at a few executions per second.
 *
 * Input layout (see make_dispatch_corpus.py, which writes the seeds):
 *   byte 0, XOR '0':  bits 0-2 credentials: 0 alice, 1 bob, 2 none, 3 the
 *                     authorization line as is, 4 alice's revoked session,
 *                     5 alice's expired token, 6 carol, 7 bob;
 *                     bits 3-4 content type: 0 application/json,
 *                     1 application/json; charset=utf-8, 2 none, 3 the
 *                     content-type line; bit 5 route mode (below);
 *                     bits 6-7 both set: Content-Length over body_limit
 *   byte 1, XOR '0':  route mode: index into every program's routes; else
 *                     the program when the path names none (/api/<name>)
 *   then lines: method \n path \n query \n authorization \n content-type \n
 *   and the body (the rest, raw).
 * Route mode takes the method and pattern of the chosen route and fills
 * its {params} with the path line's '/'-separated pieces (raw, so '/',
 * '%' and anything else reach the router). In the authorization line,
 * query and body, @TOKEN_A@ @TOKEN_B@ @TOKEN_C@ @REFRESH_A@ @REFRESH_B@
 * become the live access / refresh tokens of alice, bob and carol, and
 * @TOKEN_D@ the token of dave's erased account.
 *
 * Invariants (a violation aborts, so libFuzzer saves the input):
 *   - the status is one the contract uses; never 500;
 *   - 204 has no body, every other status a JSON object (or the history
 *     array); errors are {"error":{"code","message"}} with the contract's
 *     code for the status; 405 carries Allow, 429 Retry-After;
 *   - the body, as the program prints it (pl_json_print), parses back
 *     under the strict parser (valid UTF-8, no duplicate keys, ...);
 *   - no statement is left stepped (an open read snapshot) afterwards;
 *   - 400, 404, 405, 413 and 415 leave the database byte for byte as it
 *     was (the contract: nothing written);
 *   - a protected route never answers 2xx to no token, a revoked session
 *     or an expired token, and no request is ever authenticated as a
 *     revoked session, by an expired token or as dave's erased account;
 *   - nobody but alice gets the bytes of her file 1 (or its preview);
 *   - nobody but alice ever sees her private channel (id 2), its messages
 *     or her email address; nobody but alice and bob their dm (id 3).
 */
#include <ctype.h>
#include <stdint.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include <sqlite3.h>
#include "app.h"
#include "db_sqlite.h"
#include "hashslot.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "token.h"
#include "util.h"

#ifndef PL_FUZZ_APPS
#error "PL_FUZZ_APPS (the list of fcgi-apps) comes from the Makefile"
#endif
#ifndef PL_FUZZ_SCHEMA_DIR
#define PL_FUZZ_SCHEMA_DIR "schema"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int pl_fuzz_app_main(const char *program, const struct pl_route *routes, size_t nroutes);

#define X(name) int pl_fuzz_main_##name(void);
PL_FUZZ_APPS
#undef X

/* ---- the programs' route tables ---- */

#define MAX_PROGS 32
#define MAX_ROUTES 256

struct prog {
	const char *name;
	const struct pl_route *routes;
	size_t n;
};

static struct prog progs[MAX_PROGS];
static size_t nprogs;
static struct {
	size_t prog;
	const struct pl_route *route;
} all_routes[MAX_ROUTES];
static size_t nall;

/* Stands in for pl_app_main in the programs: records their table. */
int pl_fuzz_app_main(const char *program, const struct pl_route *routes, size_t nroutes)
{
	if (nprogs == MAX_PROGS)
		abort();
	progs[nprogs].name = program;
	progs[nprogs].routes = routes;
	progs[nprogs].n = nroutes;
	nprogs++;
	return 0;
}

static int prog_cmp(const void *a, const void *b)
{
	return strcmp(((const struct prog *)a)->name, ((const struct prog *)b)->name);
}

/* ---- cheap password hashing (see the header comment) ---- */

#define FAKE_PREFIX "$fuzz$"

static void fake_hash(const char *pw, unsigned long long len, char *out)
{
	static const unsigned char key[crypto_generichash_KEYBYTES] = "parley fuzz_dispatch pw key";
	unsigned char h[16];

	crypto_generichash(h, sizeof(h), (const unsigned char *)pw, len, key, sizeof(key));
	strcpy(out, FAKE_PREFIX);
	sodium_bin2hex(out + strlen(FAKE_PREFIX), 2 * sizeof(h) + 1, h, sizeof(h));
}

int crypto_pwhash_str(char out[crypto_pwhash_STRBYTES], const char *const passwd,
		      unsigned long long passwdlen, unsigned long long opslimit, size_t memlimit)
{
	memset(out, 0, crypto_pwhash_STRBYTES);
	fake_hash(passwd, passwdlen, out);
	return 0;
}

int crypto_pwhash_str_verify(const char str[crypto_pwhash_STRBYTES], const char *const passwd,
			     unsigned long long passwdlen)
{
	char h[crypto_pwhash_STRBYTES];

	if (strncmp(str, FAKE_PREFIX, strlen(FAKE_PREFIX)) != 0)
		return -1;
	fake_hash(passwd, passwdlen, h);
	return strcmp(h, str) == 0 ? 0 : -1;
}

/* ---- state ---- */

static struct pl_ctx ctx;
static unsigned char *tmpl;          /* the template database's bytes */
static sqlite3_int64 tmpl_len;
static char *token_a, *token_b, *token_c, *token_d, *refresh_a, *refresh_b, *token_revoked, *token_expired;
static int64_t user_a, user_b, user_d, revoked_sid, private_channel, dm_channel;
static bool verbose;                 /* FUZZ_DISPATCH_VERBOSE=1: print each exchange */
static int64_t private_file;         /* alice's file, attached in her private channel */

static char files_dir[] = "/tmp/parley-fuzz-files-XXXXXX";

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	remove(path);   /* best effort */
	return 0;
}

static void remove_files_dir(void)
{
	nftw(files_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A streamed body (PL_ROUTE_STREAM: uploads) read from memory. */
struct mem_body {
	const char *p;
	size_t left;
};
static struct mem_body mem_body;

static long mem_read(void *arg, char *buf, size_t n)
{
	struct mem_body *m = arg;

	if (n > m->left)
		n = m->left;
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return (long)n;
}

#define SECRET "fuzz-dispatch-jwt-secret-0123456789abcdef"

struct input {
	const char *method, *path, *query, *auth, *ctype;
	const char *body;
	size_t body_len;
	bool too_large;
};

static void fail(const char *what, const struct pl_request *req, int status, const char *body)
{
	fprintf(stderr, "fuzz_dispatch: INVARIANT VIOLATED: %s\n  %s %s?%s -> %d %s\n",
		what, req->method, req->path, req->query, status, body ? body : "(no body)");
	abort();
}

/* The same steps as app.c's serve_one between building the request and
 * writing the response. */
static void dispatch(const struct prog *p, struct pl_request *req, struct pl_response *resp)
{
	ctx.program = p->name;
	pl_log_set_request(req->request_id);
	pl_http_dispatch(&ctx, p->routes, p->n, req, resp);
	pl_db_rollback(ctx.db);
	pl_log_set_request(NULL);
}

/* Fills `req` as app.c's build_request does from CGI variables. */
static void build(struct pl_request *req, const struct input *in, const struct pl_config *cfg,
		  const struct prog *p)
{
	char uri[4096];
	size_t plen;

	pl_request_init(req);
	snprintf(req->method, sizeof(req->method), "%s", in->method);
	if (in->query[0])
		snprintf(uri, sizeof(uri), "%s?%s", in->path, in->query);
	else
		snprintf(uri, sizeof(uri), "%s", in->path);
	plen = strcspn(uri, "?");
	snprintf(req->path, sizeof(req->path), "%.*s", (int)plen, uri);
	snprintf(req->query, sizeof(req->query), "%s", uri[plen] ? uri + plen + 1 : "");
	snprintf(req->content_type, sizeof(req->content_type), "%s", in->ctype);
	snprintf(req->authorization, sizeof(req->authorization), "%s", in->auth);
	snprintf(req->remote_addr, sizeof(req->remote_addr), "127.0.0.1");
	snprintf(req->request_id, sizeof(req->request_id), "fuzz");
	if (pl_route_streams(p->routes, p->n, req->method, req->path)) {
		/* as app.c: the handler pulls the body itself */
		mem_body.p = in->body;
		mem_body.left = in->body_len;
		req->content_length = (long long)in->body_len;
		req->body_read = mem_read;
		req->body_read_arg = &mem_body;
		return;
	}
	if (in->too_large) {
		req->content_length = (long long)cfg->body_limit + 1;
		req->body_too_large = true;
		return;
	}
	if (in->body_len == 0)
		return;
	req->content_length = (long long)in->body_len;
	req->body = pl_xmalloc(in->body_len + 1);
	memcpy(req->body, in->body, in->body_len);
	req->body[in->body_len] = '\0';
	req->body_len = in->body_len;
	if (in->body_len > cfg->body_limit)
		req->body_too_large = true;
}

/* The program serving `path`: /api/<name>[/...] as scripts/serve.sh maps it. */
static const struct prog *prog_for_path(const char *path)
{
	size_t len;

	if (strncmp(path, "/api/", 5) != 0)
		return NULL;
	path += 5;
	len = strcspn(path, "/?");
	for (size_t i = 0; i < nprogs; i++)
		if (strlen(progs[i].name) == len && strncmp(progs[i].name, path, len) == 0)
			return &progs[i];
	return NULL;
}

/* ---- set-up through the programs' own routes ---- */

static cJSON *setup_call(const char *method, const char *path, const char *auth_token,
			 const char *body, int want)
{
	const struct prog *p = prog_for_path(path);
	struct input in = { method, path, "", "", body ? "application/json" : "", body,
			    body ? strlen(body) : 0, false };
	char auth[2048] = "";
	struct pl_request req;
	struct pl_response resp;
	cJSON *out;

	if (!p) {
		fprintf(stderr, "fuzz_dispatch: no program serves %s\n", path);
		abort();
	}
	if (auth_token)
		snprintf(auth, sizeof(auth), "Bearer %s", auth_token);
	in.auth = auth;
	build(&req, &in, &ctx.cfg, p);
	pl_response_init(&resp);
	dispatch(p, &req, &resp);
	if (resp.status != want) {
		char *s = resp.body ? pl_json_print(resp.body) : NULL;
		fprintf(stderr, "fuzz_dispatch: set-up %s %s -> %d (want %d) %s\n", method, path,
			resp.status, want, s ? s : "");
		abort();
	}
	out = resp.body;
	resp.body = NULL;
	pl_request_release(&req);
	pl_response_release(&resp);
	return out;
}

static char *login(const char *user, const char *pw, char **refresh, int64_t *uid)
{
	char body[256];
	cJSON *r, *u;
	char *tok;

	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);
	r = setup_call("POST", "/api/auth/login", NULL, body, 200);
	tok = pl_xstrdup(cJSON_GetStringValue(cJSON_GetObjectItem(r, "access_token")));
	if (refresh)
		*refresh = pl_xstrdup(cJSON_GetStringValue(cJSON_GetObjectItem(r, "refresh_token")));
	u = cJSON_GetObjectItem(r, "user");
	if (uid)
		*uid = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(u, "id"));
	cJSON_Delete(r);
	return tok;
}

static int64_t id_of(cJSON *obj)
{
	int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(obj, "id"));

	cJSON_Delete(obj);
	return id;
}

static void setup_data(void)
{
	struct pl_claims cl;
	struct pl_err err = { 0 };
	int64_t ch;

	cJSON_Delete(setup_call("POST", "/api/auth/register", NULL,
				"{\"username\":\"alice\",\"password\":\"alice-password\","
				"\"email\":\"alice@example.org\",\"display_name\":\"Alice\"}", 201));
	cJSON_Delete(setup_call("POST", "/api/auth/register", NULL,
				"{\"username\":\"bob\",\"password\":\"bob-password\"}", 201));
	cJSON_Delete(setup_call("POST", "/api/auth/register", NULL,
				"{\"username\":\"carol\",\"password\":\"carol-password\"}", 201));
	token_a = login("alice", "alice-password", &refresh_a, &user_a);
	token_b = login("bob", "bob-password", &refresh_b, &user_b);
	/* A second session of alice, signed out: its token is revoked. */
	token_revoked = login("alice", "alice-password", NULL, NULL);
	if (pl_token_verify(ctx.cfg.jwt_secret, ctx.cfg.jwt_secret_len, token_revoked, time(NULL), &cl, &err) < 0)
		abort();
	revoked_sid = cl.session_id;
	setup_call("POST", "/api/auth/logout", token_revoked, NULL, 204);
	/* An expired token of alice's live session. */
	if (pl_token_verify(ctx.cfg.jwt_secret, ctx.cfg.jwt_secret_len, token_a, time(NULL), &cl, &err) < 0 ||
	    pl_token_issue(ctx.cfg.jwt_secret, ctx.cfg.jwt_secret_len, cl.user_id, cl.username, cl.session_id,
			   time(NULL) - 86400, 60, &token_expired, &err) < 0) {
		fprintf(stderr, "fuzz_dispatch: tokens: %s\n", err.message);
		abort();
	}

	ch = id_of(setup_call("POST", "/api/channels", token_a,
			      "{\"name\":\"general\",\"topic\":\"everyone\"}", 201));
	private_channel = id_of(setup_call("POST", "/api/channels", token_a,
					   "{\"name\":\"alice-only\",\"kind\":\"private\",\"topic\":\"hers\"}", 201));
	cJSON_Delete(setup_call("POST", "/api/channels/1/join", token_b, NULL, 200));
	dm_channel = id_of(setup_call("POST", "/api/channels/dm", token_a, "{\"user_ids\":[2]}", 201));
	cJSON_Delete(setup_call("POST", "/api/messages", token_a,
				"{\"channel_id\":1,\"content\":\"hello @bob\"}", 201));
	cJSON_Delete(setup_call("POST", "/api/messages", token_b,
				"{\"channel_id\":1,\"content\":\"hi alice\",\"client_msg_id\":\"c-1\",\"reply_to\":1}", 201));
	cJSON_Delete(setup_call("POST", "/api/messages", token_a,
				"{\"channel_id\":2,\"content\":\"a private note\"}", 201));
	cJSON_Delete(setup_call("POST", "/api/messages", token_a,
				"{\"channel_id\":3,\"content\":\"a direct message\"}", 201));
	setup_call("PUT", "/api/messages/1/reactions/%F0%9F%91%8D", token_b, NULL, 204);
	/* carol: admin of channel 1; dave: posted there, then erased his account. */
	token_c = login("carol", "carol-password", NULL, NULL);
	cJSON_Delete(setup_call("POST", "/api/channels/1/members", token_a,
				"{\"user_id\":3,\"role\":\"admin\"}", 201));
	cJSON_Delete(setup_call("POST", "/api/auth/register", NULL,
				"{\"username\":\"dave\",\"password\":\"dave-password\"}", 201));
	token_d = login("dave", "dave-password", NULL, &user_d);
	cJSON_Delete(setup_call("POST", "/api/channels/1/join", token_d, NULL, 200));
	cJSON_Delete(setup_call("POST", "/api/messages", token_d,
				"{\"channel_id\":1,\"content\":\"from dave @alice\"}", 201));
	setup_call("DELETE", "/api/users/me", token_d, "{\"password\":\"dave-password\"}", 204);
	/* An edited message and a deleted one. */
	cJSON_Delete(setup_call("PATCH", "/api/messages/2", token_b, "{\"content\":\"hi alice (edited)\"}", 200));
	cJSON_Delete(setup_call("POST", "/api/messages", token_b,
				"{\"channel_id\":1,\"content\":\"oops\"}", 201));
	setup_call("DELETE", "/api/messages/6", token_b, NULL, 204);
	/* Alice's file, attached to message 7 in her private channel. */
	private_file = id_of(setup_call("POST", "/api/files?name=secret.txt", token_a,
					"alice's secret bytes", 201));
	cJSON_Delete(setup_call("POST", "/api/messages", token_a,
				"{\"channel_id\":2,\"content\":\"the file\",\"attachments\":[1]}", 201));
	cJSON_Delete(setup_call("POST", "/api/presence/join", token_a, "{\"channel_id\":1}", 200));
	setup_call("POST", "/api/presence/heartbeat", token_b, "{\"status\":\"away\"}", 204);
	if (ch != 1 || private_channel != 2 || dm_channel != 3 || user_a != 1)
		fprintf(stderr, "fuzz_dispatch: warning: ids differ from the seeds' (channel %lld, private %lld, alice %lld)\n",
			(long long)ch, (long long)private_channel, (long long)user_a);
}

/* ---- the template database ---- */

static void restore(void)
{
	sqlite3 *h = pl_db_sqlite(ctx.db);
	unsigned char *copy = sqlite3_malloc64((sqlite3_uint64)tmpl_len);
	int rc;

	if (!copy)
		abort();
	memcpy(copy, tmpl, (size_t)tmpl_len);
	rc = sqlite3_deserialize(h, "main", copy, tmpl_len, tmpl_len,
				 SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "fuzz_dispatch: restoring the database: %s\n", sqlite3_errstr(rc));
		abort();
	}
	/* Load the restored schema now. Left to the next input, a history
	 * page now and then failed with SQLITE_ABORT_ROLLBACK on its outer
	 * statement while a nested one (a message's attachments) re-prepared
	 * after the swap: about once a minute of fuzzing; none in 400 s once
	 * the schema is loaded here. Swapping a database under open
	 * statements is the harness's doing, not the programs'. */
	if (sqlite3_exec(h, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK)
		abort();
}

/* True when the database differs from the template. */
static bool db_changed(void)
{
	sqlite3 *h = pl_db_sqlite(ctx.db);
	sqlite3_int64 n = 0;
	unsigned char *p = sqlite3_serialize(h, "main", &n, SQLITE_SERIALIZE_NOCOPY);
	bool copied = false, changed;

	if (!p) {
		p = sqlite3_serialize(h, "main", &n, 0);
		copied = true;
	}
	changed = !p || n != tmpl_len || memcmp(p, tmpl, (size_t)n) != 0;
	if (copied)
		sqlite3_free(p);
	return changed;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	extern char **environ;
	struct pl_err err = { 0 };
	const char *schema = getenv("FUZZ_SCHEMA_DIR");
	const char *v = getenv("FUZZ_DISPATCH_VERBOSE");
	int applied = 0;

	verbose = v && *v == '1';
	/* Only our settings: drop any PARLEY_* of the caller's environment. */
	for (char **e = environ; *e;) {
		if (strncmp(*e, "PARLEY_", 7) == 0) {
			char name[128];
			snprintf(name, sizeof(name), "%.*s", (int)strcspn(*e, "="), *e);
			unsetenv(name);
			e = environ;
		} else {
			e++;
		}
	}
	setenv("PARLEY_JWT_SECRET", SECRET, 1);
	if (sodium_init() < 0 || pl_config_load(&ctx.cfg, &err) < 0) {
		fprintf(stderr, "fuzz_dispatch: config: %s\n", err.message);
		abort();
	}
	ctx.cfg.access_ttl = 10 * 365 * 86400;   /* tokens outlive any fuzzing run */
	ctx.cfg.mail_command[0] = '\0';          /* no child processes: 503 */
	ctx.cfg.log_level = PL_LOG_ERROR;
	pl_log_init("fuzz_dispatch", PL_LOG_ERROR);
	snprintf(ctx.cfg.schema_dir, sizeof(ctx.cfg.schema_dir), "%s",
		 schema && *schema ? schema : PL_FUZZ_SCHEMA_DIR);
	snprintf(ctx.cfg.db_path, sizeof(ctx.cfg.db_path), ":memory:");
	pl_hashslot_configure(NULL, 0, 0);   /* no slot files under ./var (hashes are faked) */
	/* uploads go to a directory of this run's, removed at exit */
	if (!mkdtemp(files_dir)) {
		perror("fuzz_dispatch: mkdtemp");
		abort();
	}
	atexit(remove_files_dir);
	snprintf(ctx.cfg.files_dir, sizeof(ctx.cfg.files_dir), "%s", files_dir);
	if (pl_db_open(ctx.cfg.db_path, ctx.cfg.busy_timeout_ms, &ctx.db, &err) < 0 ||
	    pl_db_migrate(ctx.db, ctx.cfg.schema_dir, &applied, &err) < 0 || applied == 0) {
		fprintf(stderr, "fuzz_dispatch: database (schema %s): %s\n", ctx.cfg.schema_dir,
			applied == 0 && !err.message[0] ? "no migrations" : err.message);
		abort();
	}

#define X(name) pl_fuzz_main_##name();
	PL_FUZZ_APPS
#undef X
	qsort(progs, nprogs, sizeof(progs[0]), prog_cmp);
	for (size_t i = 0; i < nprogs; i++)
		for (size_t j = 0; j < progs[i].n && nall < MAX_ROUTES; j++) {
			all_routes[nall].prog = i;
			all_routes[nall].route = &progs[i].routes[j];
			nall++;
		}

	setup_data();
	tmpl = sqlite3_serialize(pl_db_sqlite(ctx.db), "main", &tmpl_len, 0);
	if (!tmpl)
		abort();
	restore();
	return 0;
}

/* ---- one input ---- */

/* Next '\n'-terminated field of the input as a new string. */
static char *field(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = (size_t)((nl ? nl : end) - *p);
	char *s = pl_xstrndup((const char *)*p, n);

	*p = nl ? nl + 1 : end;
	return s;
}

/* Replaces the @TOKEN_A@-style placeholders; returns a new buffer. */
static char *subst(const char *in, size_t len, size_t *out_len)
{
	static const struct {
		const char *name;
		char **value;
	} ph[] = {
		{ "@TOKEN_A@", &token_a }, { "@TOKEN_B@", &token_b },
		{ "@REFRESH_A@", &refresh_a }, { "@REFRESH_B@", &refresh_b },
		{ "@TOKEN_C@", &token_c }, { "@TOKEN_D@", &token_d },
	};
	size_t cap = len + 1, o = 0;
	char *out = pl_xmalloc(cap);

	for (size_t i = 0; i < len;) {
		size_t k, vl = 0;
		const char *v = NULL;
		for (k = 0; in[i] == '@' && k < sizeof(ph) / sizeof(ph[0]); k++) {
			size_t nl = strlen(ph[k].name);
			if (len - i >= nl && memcmp(in + i, ph[k].name, nl) == 0) {
				v = *ph[k].value;
				vl = strlen(v);
				i += nl;
				break;
			}
		}
		if (!v) {
			v = in + i;
			vl = 1;
			i++;
		}
		if (o + vl + 1 > cap) {
			cap = 2 * (o + vl + 1);
			out = pl_xrealloc(out, cap);
		}
		memcpy(out + o, v, vl);
		o += vl;
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

/* Methods reach the programs as HTTP tokens (RFC 9110 §5.6.2) only. */
static void sanitize_method(char *m)
{
	for (; *m; m++)
		if (!isalnum((unsigned char)*m) && !strchr("!#$%&'*+-.^_`|~", *m))
			*m = 'X';
}

/* Builds the path of `r` with its {params} taken from '/'-separated `vals`. */
static void fill_pattern(const char *pattern, const char *vals, char *out, size_t len)
{
	size_t o = 0;

	for (const char *s = pattern; *s && o + 1 < len;) {
		if (*s == '{') {
			const char *e = strchr(s, '}');
			size_t vl = strcspn(vals, "/");
			if (vl == 0) {
				out[o++] = '1';
			} else {
				if (vl > len - o - 1)
					vl = len - o - 1;
				memcpy(out + o, vals, vl);
				o += vl;
			}
			vals += strcspn(vals, "/");
			if (*vals == '/')
				vals++;
			s = e ? e + 1 : s + strlen(s);
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = '\0';
}

/* The long poll would wait up to 60 s for an event: never wait here.
 * timeout=0 goes first unless the request's own timeout is one the
 * handler refuses (that answer stays the handler's). */
static void no_wait(struct pl_request *req)
{
	struct pl_err err = { 0 };
	char q[sizeof(req->query)];
	long t = 25;

	if (pl_query_int(req, "timeout", 0, 60, &t, &err) >= 0 && t != 0) {
		snprintf(q, sizeof(q), "timeout=0&%s", req->query);
		memcpy(req->query, q, sizeof(q));
	}
}

static const int allowed[] = { 200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 413, 415, 429, 503,
				206, 304, 416 /* a file's bytes (file_send.h) */ };

static bool is_channel_object(const cJSON *o)
{
	return cJSON_GetObjectItemCaseSensitive(o, "kind") && cJSON_GetObjectItemCaseSensitive(o, "member_count");
}

static int64_t num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

/* Does `v` show alice's private channel, a message of it, her email, or
 * (when `dm_too`) the dm of alice and bob or a message of it? */
static const char *leak(const cJSON *v, bool check_email, bool dm_too)
{
	const cJSON *c;
	const char *w;

	if (cJSON_IsObject(v)) {
		int64_t ch = num(v, "channel_id");
		if (ch == private_channel || (dm_too && ch == dm_channel))
			return "an object of a channel the caller is not in";
		if (is_channel_object(v) && (num(v, "id") == private_channel ||
					     (dm_too && num(v, "id") == dm_channel)))
			return "a channel the caller is not in";
		if (check_email && num(v, "id") == user_a && cJSON_GetObjectItemCaseSensitive(v, "username") &&
		    cJSON_GetObjectItemCaseSensitive(v, "email"))
			return "alice's email address";
	}
	cJSON_ArrayForEach(c, v)
		if ((w = leak(c, check_email, dm_too)))
			return w;
	return NULL;
}

static void check(const struct prog *p, const struct pl_request *req, const struct pl_response *resp,
		  int auth_choice, bool changed)
{
	sqlite3 *h = pl_db_sqlite(ctx.db);
	char *printed = resp->body ? pl_json_print(resp->body) : NULL;
	const int st = resp->status;
	struct pl_err err = { 0 };
	cJSON *back = NULL;
	bool ok = false;
	const char *w;
	int mstatus;
	char allow[64];

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		ok |= st == allowed[i];
	if (!ok)
		fail("status outside the contract (or 500)", req, st, printed);
	for (sqlite3_stmt *s = sqlite3_next_stmt(h, NULL); s; s = sqlite3_next_stmt(h, s))
		if (sqlite3_stmt_busy(s))
			fail("a statement was left stepped (not reset)", req, st, sqlite3_sql(s));
	if (resp->content_type[0] || resp->file_fd >= 0) {
		/* a file's bytes (or its preview): only to who may read it */
		char mine[64];
		if (resp->body || (st != 200 && st != 206 && st != 304))
			fail("a file answer with a JSON body or an unexpected status", req, st, printed);
		snprintf(mine, sizeof(mine), "/api/files/%lld", (long long)private_file);
		if (strncmp(req->path, mine, strlen(mine)) == 0 &&
		    (req->path[strlen(mine)] == '\0' || req->path[strlen(mine)] == '/') &&
		    !(req->authenticated && req->principal.user_id == user_a))
			fail("alice's private file to someone else", req, st, printed);
	} else if (st == 204 || st == 206 || st == 304) {
		if (resp->body || st != 204)
			fail("204 with a body (or a file status without a file)", req, st, printed);
	} else {
		if (!resp->body || !(cJSON_IsObject(resp->body) || cJSON_IsArray(resp->body)))
			fail("a non-204 response without a JSON object body", req, st, printed);
		if (pl_json_parse(printed, strlen(printed), &back, &err) < 0)
			fail("the printed body does not parse back strictly", req, st, printed);
		cJSON_Delete(back);
	}
	if (st >= 400) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(resp->body, "error");
		const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
		const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
		if (!code || strcmp(code, pl_err_code(st)) != 0 || !msg || !*msg)
			fail("an error without the contract's {\"error\":{\"code\",\"message\"}}", req, st, printed);
	}
	if (st == 405 && !resp->allow[0])
		fail("405 without Allow", req, st, printed);
	if (st == 429 && resp->retry_after <= 0)
		fail("429 without Retry-After", req, st, printed);
	if (changed && (st == 400 || st == 404 || st == 405 || st == 413 || st == 415))
		fail("an error response that changed the database", req, st, printed);
	/* The route the request reached: protected ones need live credentials. */
	{
		const char *m = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
		const struct pl_route *r = pl_route_match(p->routes, p->n, m, req->path, NULL,
							  &mstatus, allow, sizeof(allow));
		if (r && (r->flags & PL_ROUTE_AUTH) && st < 300 &&
		    (auth_choice == 2 || auth_choice == 4 || auth_choice == 5 || (auth_choice == 3 && !req->authorization[0])))
			fail("a protected route answered 2xx without live credentials", req, st, printed);
	}
	if (req->authenticated && (req->principal.session_id == revoked_sid || req->principal.user_id == user_d ||
				   req->principal.expires_at <= (int64_t)time(NULL)))
		fail("authenticated by a revoked session, an expired token or an erased account", req, st, printed);
	if (resp->body && !(req->authenticated && req->principal.user_id == user_a) &&
	    (w = leak(resp->body, strcmp(p->name, "auth") != 0,
		      !(req->authenticated && req->principal.user_id == user_b))))
		fail(w, req, st, printed);
	free(printed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *q = data, *end = data + size;
	unsigned b0, b1, auth_choice, ct;
	char *method, *path, *query, *authl, *ctl, *body, *qs, *al;
	size_t body_len, qs_len, al_len;
	char rpath[1024], auth[2048];
	const struct prog *p;
	struct pl_request req;
	struct pl_response resp;
	struct input in;
	bool changed;

	if (size < 2)
		return 0;
	b0 = data[0] ^ '0';
	b1 = data[1] ^ '0';
	q += 2;
	method = field(&q, end);
	path = field(&q, end);
	query = field(&q, end);
	authl = field(&q, end);
	ctl = field(&q, end);
	body = subst((const char *)q, (size_t)(end - q), &body_len);
	qs = subst(query, strlen(query), &qs_len);
	al = subst(authl, strlen(authl), &al_len);
	sanitize_method(method);

	if (b0 & 0x20) {
		size_t i = b1 % nall;
		p = &progs[all_routes[i].prog];
		fill_pattern(all_routes[i].route->pattern, path, rpath, sizeof(rpath));
		in.method = all_routes[i].route->method;
		in.path = rpath;
	} else {
		p = prog_for_path(path);
		if (!p)
			p = &progs[b1 % nprogs];
		in.method = method;
		in.path = path;
	}
	in.query = qs;

	auth_choice = b0 & 7;
	switch (auth_choice) {
	case 0: snprintf(auth, sizeof(auth), "Bearer %s", token_a); break;
	case 6: snprintf(auth, sizeof(auth), "Bearer %s", token_c); break;
	case 1: case 7: snprintf(auth, sizeof(auth), "Bearer %s", token_b); break;
	case 2: auth[0] = '\0'; break;
	case 3: snprintf(auth, sizeof(auth), "%s", al); break;
	case 4: snprintf(auth, sizeof(auth), "Bearer %s", token_revoked); break;
	default: snprintf(auth, sizeof(auth), "Bearer %s", token_expired); break;
	}
	in.auth = auth;
	ct = (b0 >> 3) & 3;
	in.ctype = ct == 0 ? "application/json" : ct == 1 ? "application/json; charset=utf-8" : ct == 2 ? "" : ctl;
	in.body = body;
	in.body_len = body_len;
	in.too_large = (b0 & 0xc0) == 0xc0;

	build(&req, &in, &ctx.cfg, p);
	if (strcmp(p->name, "events") == 0)
		no_wait(&req);
	pl_response_init(&resp);
	dispatch(p, &req, &resp);
	changed = db_changed();
	if (verbose) {
		char *s = resp.body ? pl_json_print(resp.body) : NULL;
		fprintf(stderr, "[%s] %s %s?%s -> %d%s %.300s\n", p->name, req.method, req.path, req.query,
			resp.status, changed ? " (wrote)" : "", s ? s : "");
		free(s);
	}
	check(p, &req, &resp, (int)auth_choice, changed);
	if (changed)
		restore();
	pl_request_release(&req);
	pl_response_release(&resp);
	free(method);
	free(path);
	free(query);
	free(authl);
	free(ctl);
	free(body);
	free(qs);
	free(al);
	return 0;
}
