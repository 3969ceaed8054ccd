/*
 * test_files.c — unit tests of the file store: blob.h (content-addressed,
 * nothing left by an abandoned upload, the lock), multipart.h (parts,
 * names, refusals, delimiters split across feeds), files.h (attach rules,
 * collection of unattached attachments and unnamed avatars, and a busy
 * lock that makes collection wait for its next round) and file_send.h's
 * Range parsing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include "avatars.h"
#include "blob.h"
#include "file_send.h"
#include "files.h"
#include "multipart.h"
#include "unit_util.h"
#include "unit_domain.h"

/* Regular files under `dir` (recursively), the lock file aside. */
static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];
	struct stat sb;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &sb) < 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			n += count_files(path);
		else
			n++;
	}
	closedir(d);
	return n;
}

static void files_dir_of(const struct dom *d, char *out, size_t len)
{
	snprintf(out, len, "%s/files", d->env.dir);
}

static void test_blob_store_and_abandon(void **state)
{
	struct dom *d = *state;
	struct pl_blob_writer w;
	struct pl_err err = { 0 };
	char dir[600], sha[PL_SHA256_HEX], again[PL_SHA256_HEX], path[1300];

	files_dir_of(d, dir, sizeof(dir));
	/* abandoned: nothing stays */
	assert_int_equal(pl_blob_begin(&w, dir, 1000, &err), 0);
	assert_int_equal(pl_blob_write(&w, "abc", 3, &err), 0);
	pl_blob_abort(&w);
	assert_int_equal(count_files(dir), 0);
	/* over the limit: 413, nothing stays */
	assert_int_equal(pl_blob_begin(&w, dir, 4, &err), 0);
	assert_int_equal(pl_blob_write(&w, "abcd", 4, &err), 0);
	assert_int_equal(pl_blob_write(&w, "e", 1, &err), -1);
	assert_int_equal(err.status, 413);
	pl_blob_abort(&w);
	assert_int_equal(count_files(dir), 0);
	/* stored under its SHA-256 (FIPS 180-2's "abc" vector), once */
	assert_int_equal(pl_blob_store_buffer(dir, "abc", 3, sha, &err), 0);
	assert_string_equal(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(pl_blob_store_buffer(dir, "abc", 3, again, &err), 0);
	assert_string_equal(sha, again);
	assert_int_equal(count_files(dir), 1);
	assert_int_equal(pl_blob_path(dir, sha, path, sizeof(path)), 0);
	assert_int_equal(unit_mode_of(path) & 0777, 0640);
	/* names that are not a digest name nothing */
	assert_int_equal(pl_blob_path(dir, "../../etc/passwd", path, sizeof(path)), -1);
	assert_int_equal(pl_blob_path(dir, "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
				      path, sizeof(path)), -1);
}

/* ---- multipart ---- */

struct mp_seen {
	char names[4][2 * PL_MP_NAME_MAX + 2];
	char data[4][256];
	size_t len[4];
	int parts;
};

static int mp_begin(void *arg, const struct pl_mp_part *p, struct pl_err *err)
{
	struct mp_seen *s = arg;

	if (s->parts >= 4)
		return pl_err_set(err, 400, "too many parts");
	snprintf(s->names[s->parts], sizeof(s->names[0]), "%s|%s", p->name, p->filename);
	s->parts++;
	return 0;
}

static int mp_data(void *arg, const char *buf, size_t n, struct pl_err *err)
{
	struct mp_seen *s = arg;
	int i = s->parts - 1;

	if (s->len[i] + n >= sizeof(s->data[0]))
		return pl_err_set(err, 400, "too long");
	memcpy(s->data[i] + s->len[i], buf, n);
	s->len[i] += n;
	return 0;
}

static int mp_end(void *arg, struct pl_err *err)
{
	return 0;
}

static const struct pl_mp_callbacks mp_cb = { mp_begin, mp_data, mp_end };

/* Feeds `body` in pieces of `chunk`; returns the outcome. */
static int mp_run(const char *ctype, const char *body, size_t chunk, struct mp_seen *s,
		  struct pl_err *err)
{
	struct pl_multipart *mp = malloc(sizeof(*mp));
	size_t len = strlen(body);
	int rc;

	memset(s, 0, sizeof(*s));
	rc = pl_multipart_init(mp, ctype, &mp_cb, s, err);
	for (size_t off = 0; rc == 0 && off < len; off += chunk)
		rc = pl_multipart_feed(mp, body + off, len - off < chunk ? len - off : chunk, err);
	if (rc == 0)
		rc = pl_multipart_finish(mp, err);
	free(mp);
	return rc;
}

static void test_multipart(void **state)
{
	static const char body[] =
		"preamble to ignore\r\n"
		"--b0undary\r\n"
		"Content-Disposition: form-data; name=\"note\"\r\n\r\n"
		"hi\r\n"
		"--b0undary\r\n"
		"Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"q\\\".txt\"\r\n"
		"Content-Type: text/plain\r\n\r\n"
		"line one\r\n--b0undar not yet\r\nline two\r\n"
		"--b0undary--\r\nepilogue";
	struct mp_seen s;
	struct pl_err err = { 0 };

	(void)state;
	/* the same parts however the body is split */
	for (size_t chunk = 1; chunk <= sizeof(body); chunk += (chunk < 20 ? 1 : 37)) {
		assert_int_equal(mp_run("multipart/form-data; boundary=b0undary", body, chunk, &s, &err), 0);
		assert_int_equal(s.parts, 2);
		assert_string_equal(s.names[0], "note|");
		assert_string_equal(s.names[1], "file|a \"q\".txt");
		assert_int_equal(s.len[1], strlen("line one\r\n--b0undar not yet\r\nline two"));
		assert_memory_equal(s.data[1], "line one\r\n--b0undar not yet\r\nline two", s.len[1]);
	}
	/* quoted boundary; no closing delimiter; no boundary; not multipart */
	assert_int_equal(mp_run("multipart/form-data; boundary=\"x y\"",
				"--x y\r\n\r\nz\r\n--x y--", 3, &s, &err), 0);
	assert_int_equal(s.len[0], 1);
	assert_int_equal(mp_run("multipart/form-data; boundary=b", "--b\r\n\r\nabc", 2, &s, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(mp_run("multipart/form-data", "--b\r\n\r\n--b--", 2, &s, &err), -1);
	assert_int_equal(mp_run("text/plain; boundary=b", "--b\r\n\r\n--b--", 2, &s, &err), -1);
	/* a header block longer than PL_MP_HEADERS_MAX arriving in one feed
	 * (a 64 KiB read does that): 400, not a copy past the line buffer */
	{
		size_t n = 3 * PL_MP_HEADERS_MAX;
		char *big = malloc(n + 64);
		strcpy(big, "--b\r\nX-Pad: ");
		memset(big + strlen(big), 'a', n);
		strcpy(big + 12 + n, "\r\n\r\ndata\r\n--b--");
		assert_int_equal(mp_run("multipart/form-data; boundary=b", big, n + 64, &s, &err), -1);
		assert_int_equal(err.status, 400);
		assert_int_equal(s.parts, 0);
		free(big);
	}
	assert_false(pl_is_multipart("multipart/form-database"));
	assert_true(pl_is_multipart("Multipart/Form-Data; boundary=z"));
}

/* ---- rows ---- */

static int64_t add_file(struct dom *d, int64_t user, const char *purpose, const char *content,
			int64_t age_ms)
{
	struct pl_file_new in = { 0 };
	struct pl_err err = { 0 };
	char dir[600], sql[256];
	cJSON *out = NULL;
	int64_t id = 0;

	files_dir_of(d, dir, sizeof(dir));
	in.purpose = purpose;
	in.name = "f.txt";
	in.size = strlen(content);
	in.content_type = "text/plain";
	assert_int_equal(pl_blob_store_buffer(dir, content, strlen(content), in.sha256, &err), 0);
	assert_int_equal(pl_file_create(d->db, user, &in, 0, &out, &id, &err), 0);
	cJSON_Delete(out);
	snprintf(sql, sizeof(sql), "UPDATE files SET created_at = created_at - %lld WHERE id = %lld",
		 (long long)age_ms, (long long)id);
	assert_int_equal(unit_exec(d->db, sql), 0);
	return id;
}

static void test_attach_rules(void **state)
{
	struct dom *d = *state;
	struct pl_err err = { 0 };
	int64_t mine = add_file(d, d->alice, "attachment", "alice's", 0);
	int64_t theirs = add_file(d, d->bob, "attachment", "bob's", 0);
	int64_t avatar = add_file(d, d->alice, "avatar", "alice's face", 0);
	int64_t m = post(d->db, d->alice, d->pub, "with a file");

	assert_int_equal(pl_db_begin(d->db, &err), 0);
	assert_int_equal(pl_files_attach_locked(d->db, d->alice, m, &theirs, 1, &err), -1);
	assert_int_equal(err.status, 400);
	assert_int_equal(pl_files_attach_locked(d->db, d->alice, m, &avatar, 1, &err), -1);
	assert_int_equal(pl_files_attach_locked(d->db, d->alice, m, &mine, 1, &err), 0);
	assert_int_equal(pl_files_attach_locked(d->db, d->alice, m, &mine, 1, &err), -1);
	assert_int_equal(pl_db_commit(d->db, &err), 0);
	assert_int_equal(count_rows(d->db, "files", "message_id IS NOT NULL"), 1);
	assert_int_equal(pl_db_begin(d->db, &err), 0);
	assert_int_equal(pl_files_detach_locked(d->db, m, &err), 0);
	assert_int_equal(pl_db_commit(d->db, &err), 0);
	assert_int_equal(count_rows(d->db, "files", "message_id IS NOT NULL"), 0);
}

static void test_collect(void **state)
{
	struct dom *d = *state;
	struct pl_err err = { 0 };
	char dir[600], where[64];
	int64_t rows = 0, bytes = 0, lock;
	int64_t old = add_file(d, d->alice, "attachment", "old and alone", 2 * 86400000LL);
	int64_t fresh = add_file(d, d->alice, "attachment", "fresh and alone", 0);
	int64_t kept = add_file(d, d->alice, "attachment", "old but attached", 2 * 86400000LL);
	int64_t shared = add_file(d, d->bob, "attachment", "old and alone", 0);   /* same bytes as `old` */
	int64_t m = post(d->db, d->alice, d->pub, "keeps one");
	cJSON *user = NULL;
	struct pl_file_new face = { 0 };

	(void)fresh;
	(void)shared;
	files_dir_of(d, dir, sizeof(dir));
	assert_int_equal(pl_db_begin(d->db, &err), 0);
	assert_int_equal(pl_files_attach_locked(d->db, d->alice, m, &kept, 1, &err), 0);
	assert_int_equal(pl_db_commit(d->db, &err), 0);
	/* an avatar that alice's avatar_url names, then replaced */
	face.purpose = "avatar";
	face.name = "face.png";
	face.size = 4;
	face.content_type = "image/png";
	assert_int_equal(pl_blob_store_buffer(dir, "face", 4, face.sha256, &err), 0);
	assert_int_equal(pl_avatar_set(d->db, d->alice, &face, &user, &err), 0);
	cJSON_Delete(user);
	assert_int_equal(pl_blob_store_buffer(dir, "face2", 5, face.sha256, &err), 0);
	assert_int_equal(pl_avatar_set(d->db, d->alice, &face, &user, &err), 0);
	cJSON_Delete(user);
	assert_int_equal(count_files(dir), 5);

	/* busy: an upload holds the lock; collection waits for its next round */
	lock = pl_blob_lock(dir, false, true);
	assert_true(lock >= 0);
	assert_int_equal(pl_files_collect(d->db, dir, 86400, 100, &rows, &bytes, &err), 0);
	assert_int_equal(rows, 0);
	pl_blob_unlock((int)lock);

	assert_int_equal(pl_files_collect(d->db, dir, 86400, 100, &rows, &bytes, &err), 0);
	/* the old lonely attachment and the first avatar; the bytes of the
	 * first stay (bob's file names them too), the avatar's go */
	assert_int_equal(rows, 2);
	assert_int_equal(bytes, 4);
	assert_int_equal(count_rows(d->db, "files", "1 = 1"), 4);
	snprintf(where, sizeof(where), "id = %lld", (long long)old);
	assert_int_equal(count_rows(d->db, "files", where), 0);
	assert_int_equal(count_files(dir), 4);
	assert_int_equal(count_rows(d->db, "files", "purpose = 'avatar'"), 1);
}

static void test_range(void **state)
{
	int64_t a = -1, b = -1;

	(void)state;
	assert_int_equal(pl_range_parse("bytes=0-99", 1000, &a, &b), 1);
	assert_true(a == 0 && b == 99);
	assert_int_equal(pl_range_parse("bytes=900-", 1000, &a, &b), 1);
	assert_true(a == 900 && b == 999);
	assert_int_equal(pl_range_parse("bytes=-10", 1000, &a, &b), 1);
	assert_true(a == 990 && b == 999);
	assert_int_equal(pl_range_parse("bytes=990-5000", 1000, &a, &b), 1);
	assert_true(a == 990 && b == 999);
	assert_int_equal(pl_range_parse("bytes=1000-", 1000, &a, &b), -1);
	assert_int_equal(pl_range_parse("bytes=-0", 1000, &a, &b), -1);
	assert_int_equal(pl_range_parse("bytes=0-1,5-6", 1000, &a, &b), 0);
	assert_int_equal(pl_range_parse("items=0-1", 1000, &a, &b), 0);
	assert_int_equal(pl_range_parse("bytes=5-1", 1000, &a, &b), 0);
	assert_int_equal(pl_range_parse("bytes=a-b", 1000, &a, &b), 0);
	assert_int_equal(pl_range_parse("", 1000, &a, &b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_blob_store_and_abandon, dom_setup, dom_teardown),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test_setup_teardown(test_attach_rules, dom_setup, dom_teardown),
		cmocka_unit_test_setup_teardown(test_collect, dom_setup, dom_teardown),
		cmocka_unit_test(test_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
