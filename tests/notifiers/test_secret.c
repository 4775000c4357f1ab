/* secret: notifier secrets inline, from a file (refused when group or
 * others may read it), from the environment and from systemd
 * credentials; exactly one way at a time. */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "secret.h"

static char dir[] = "/tmp/fwsecret.XXXXXX";

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* secret_load on a notifier configured with one option KEY: VALUE. */
static int
load(const char *key, const char *value, char **out, char **cause)
{
	struct notifier_option opt = {key, value, NULL, 0};
	struct notifier_config nc = {"hook", "webhook", &opt, 1, dir};

	*cause = NULL;
	return secret_load(&nc, "secret", out, cause);
}

static void
test_sources(void **state)
{
	char *out, *cause, creds[300];

	assert_int_equal(load("secret", "whsec_aW5saW5l", &out, &cause), 1);
	assert_string_equal(out, "whsec_aW5saW5l");
	secret_free(out);

	/* A file next to the configuration; its trailing newline goes. */
	write_file("s.key", "whsec_c2VjcmV0\n", 0600);
	assert_int_equal(load("secret_file", "s.key", &out, &cause), 1);
	assert_string_equal(out, "whsec_c2VjcmV0");
	secret_free(out);

	setenv("FW_TEST_SECRET", "whsec_ZW52", 1);
	assert_int_equal(load("secret_env", "FW_TEST_SECRET", &out, &cause), 1);
	assert_string_equal(out, "whsec_ZW52");
	secret_free(out);

	snprintf(creds, sizeof creds, "%s/creds", dir);
	assert_int_equal(mkdir(creds, 0700), 0);
	write_file("creds/webhook-secret", "whsec_Y3JlZHM=", 0400);
	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	assert_int_equal(
	    load("secret_credential", "webhook-secret", &out, &cause), 1);
	assert_string_equal(out, "whsec_Y3JlZHM=");
	secret_free(out);
	unsetenv("CREDENTIALS_DIRECTORY");

	/* None configured. */
	assert_int_equal(load("url", "http://x/", &out, &cause), 0);
	assert_null(out);
}

static void
test_refused(void **state)
{
	static const struct {
		const char *key, *value;
		mode_t mode;
		const char *error;
	} cases[] = {
	    {"secret_file", "loose.key", 0644,
		"loose.key: readable or writable by group or others (mode "
		"644); chmod 600 it"},
	    {"secret_file", "group.key", 0640,
		"group.key: readable or writable by group or others (mode "
		"640); chmod 600 it"},
	    {"secret_file", "missing.key", 0, "missing.key: No such file"},
	    {"secret_file", "empty.key", 0600,
		"secret_file: the secret is empty"},
	    {"secret_env", "FW_TEST_UNSET", 0,
		"secret_env: FW_TEST_UNSET is not set"},
	    {"secret_credential", "x", 0,
		"secret_credential: CREDENTIALS_DIRECTORY is not set"},
	};
	char *out, *cause;
	size_t i;

	write_file("loose.key", "whsec_eA==", 0644);
	write_file("group.key", "whsec_eA==", 0640);
	write_file("empty.key", "\n", 0600);
	unsetenv("FW_TEST_UNSET");
	unsetenv("CREDENTIALS_DIRECTORY");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		out = NULL;
		assert_int_equal(
		    load(cases[i].key, cases[i].value, &out, &cause), -1);
		assert_null(out);
		if (strstr(cause, cases[i].error) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, cause,
			    cases[i].error);
		free(cause);
	}
}

static void
test_one_way_only(void **state)
{
	struct notifier_option opts[] = {
	    {"secret", "whsec_eA==", NULL, 0},
	    {"secret_env", "HOME", NULL, 0},
	};
	struct notifier_config nc = {"hook", "webhook", opts, 2, dir};
	char *out = NULL, *cause = NULL;

	assert_int_equal(secret_load(&nc, "secret", &out, &cause), -1);
	assert_non_null(strstr(cause, "give only one of secret, secret_file"));
	free(cause);
}

static int
setup(void **state)
{
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sources),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_one_way_only),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
