/*
 * test_mail.c — unit tests of mail.h, the mail command: off when empty,
 * an absolute path only, its exit status decides, no SIGPIPE when it
 * reads nothing, arguments split on spaces and passed as argv without a
 * shell, the message on stdin byte for byte (tests/fixtures/fake_sendmail.sh
 * writes it into the scratch directory). Runs from the repository root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "mail.h"
#include "unit_util.h"

static void test_mail_command(void **state)
{
	struct unit_env *env = *state;
	struct pl_err err = { 0 };
	char cmd[1500], path[600], big[200000];
	FILE *f;

	assert_int_equal(pl_mail_send("", "To: a@b\n\nhi\n", &err), -1);
	assert_int_equal(err.status, 503);
	assert_int_equal(pl_mail_send("sendmail -t", "To: a@b\n\nhi\n", &err), -1);
	assert_int_equal(err.status, 503);
	assert_int_equal(pl_mail_send("/nonexistent/sendmail", "x", &err), -1);
	assert_int_equal(pl_mail_send("/bin/false", "x", &err), -1);
	assert_int_equal(err.status, 503);
	/* a command that reads nothing: no SIGPIPE, its status decides */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pl_mail_send("/bin/true", big, &err), 0);
	/* arguments are split on spaces and passed as argv, no shell: the
	 * message arrives on stdin byte for byte */
	snprintf(cmd, sizeof(cmd), "tests/fixtures/fake_sendmail.sh %s", env->dir);
	assert_int_equal(pl_mail_send(cmd, "x", &err), -1);   /* not absolute */
	if (!getcwd(path, sizeof(path) - 100))
		fail();
	snprintf(cmd, sizeof(cmd), "%s/tests/fixtures/fake_sendmail.sh %s", path, env->dir);
	assert_int_equal(pl_mail_send(cmd, "To: a@b.c\nSubject: s; $(touch pwned)\n\nbody\n", &err), 0);
	snprintf(cmd, sizeof(cmd), "cat %s/mail-*.eml", env->dir);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(path, sizeof(path), f));
	assert_string_equal(path, "To: a@b.c\n");
	assert_non_null(fgets(path, sizeof(path), f));
	assert_string_equal(path, "Subject: s; $(touch pwned)\n");
	pclose(f);
	assert_int_equal(access("pwned", F_OK), -1);
}

/* pl_command_run (sms_command): the last argument is passed as one argv
 * entry, literally; the input arrives on stdin; empty command = 1. */
static void test_command_run_last_arg(void **state)
{
	struct unit_env *env = *state;
	char cmd[1500], cwd[600], line[600];
	int status = 0;
	FILE *f;

	assert_int_equal(pl_command_run("", "x", "y", &status), 1);
	assert_int_equal(pl_command_run("relative/path", "x", "y", &status), -1);
	assert_int_equal(pl_command_run("/bin/false", "x", "y", &status), 0);
	assert_int_not_equal(status, 0);
	if (!getcwd(cwd, sizeof(cwd) - 100))
		fail();
	snprintf(cmd, sizeof(cmd), "%s/tests/fixtures/fake_sms.sh %s a;b", cwd, env->dir);
	assert_int_equal(pl_command_run(cmd, "+49 $(touch pwned2)", "code 123456\n", &status), 0);
	assert_int_equal(status, 0);
	snprintf(cmd, sizeof(cmd), "cat %s/sms-*.txt", env->dir);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "arg:a;b\n");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "arg:+49 $(touch pwned2)\n");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "--\n");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "code 123456\n");
	pclose(f);
	assert_int_equal(access("pwned2", F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mail_command, unit_env_setup_empty, unit_env_teardown),
		cmocka_unit_test_setup_teardown(test_command_run_last_arg, unit_env_setup_empty, unit_env_teardown),
	};

	pl_log_init("test_mail", PL_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
