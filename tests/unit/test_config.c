// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The configuration file: every kind of line (settings, flags, repeatable keys, comments,
 * blank lines, spaces and CRLF), each refusal with its file and line, values interned (the
 * same text, the same pointer, across loads), and the checks on the file and the folders
 * on its way (root's alone; a link into a world-writable folder refused).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/types.h>

#include "config.h"
#include "fixture.h"
#include "log.h"

static int apply(const char *text, struct settings *st, struct config_pool *pool, char *why, size_t size)
{
	settings_defaults(st);
	return config_apply("inspectd.conf", text, strlen(text), pool, st, why, size);
}

static void test_lines(void **state)
{
	struct config_pool *pool;
	struct settings st;
	char why[512] = "";

	assert_int_equal(config_pool__new(&pool), 0);
	assert_int_equal(apply("# a comment\n\n  rss-threshold = 1.5G\r\ncapture-seconds=20\n"
			       "select = cmdline~server\\.js\nselect = namespace=checkout\nexclude = container=batch-*\n"
			       "pprof\nkeep-local = false\ns3-path-style = true\n\tlog-level = debug  \n",
			       &st, pool, why, sizeof(why)), 0);
	assert_int_equal(st.triggers.rss_threshold, 1536ull << 20);
	assert_int_equal(st.capture_usec, 20000000);
	assert_int_equal(st.n_select, 2);
	assert_string_equal(st.select_rules[0], "cmdline~server\\.js");
	assert_string_equal(st.select_rules[1], "namespace=checkout");
	assert_int_equal(st.n_exclude, 1);
	assert_string_equal(st.exporter, "pprof");
	assert_false(st.keep_local);
	assert_true(st.s3_path_style);
	assert_int_equal(st.log_level, LOG_LEVEL_DEBUG);
	/* A second load of the same text: the same strings, no more memory. */
	{
		const char *first = st.select_rules[0];
		struct settings again;

		assert_int_equal(apply("select = cmdline~server\\.js\n", &again, pool, why, sizeof(why)), 0);
		assert_ptr_equal(again.select_rules[0], first);
	}
	config_pool__free(pool);
}

static void test_refusals(void **state)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "rss-threshold = 1G\nno-such-key = 1\n", "inspectd.conf:2: unknown setting 'no-such-key'" },
		{ "rss-threshold\n", "inspectd.conf:1: rss-threshold needs a value" },
		{ "rss-threshold =   \n", "inspectd.conf:1: rss-threshold needs a value" },
		{ "pprof = yes\n", "inspectd.conf:1: pprof is a flag" },
		{ "# ok\n[select namespace=a]\nevery = 1m\n", "inspectd.conf:2: sections ([select RULE]) are not read yet" },
		{ "capture-seconds = ten\n", "inspectd.conf:1: invalid --capture-seconds 'ten'" },
		{ "select = node=x\n", "inspectd.conf:1: --select 'node=x': unknown field 'node'" },
		{ "--rss-threshold = 1G\n", "inspectd.conf:1: unknown setting '--rss-threshold'" },
	};
	struct config_pool *pool;
	struct settings st;
	char why[512];

	assert_int_equal(config_pool__new(&pool), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(apply(bad[i].text, &st, pool, why, sizeof(why)), -EINVAL);
		if (strncmp(why, bad[i].why, strlen(bad[i].why)) != 0)
			fail_msg("case %zu: \"%s\", wanted \"%s...\"", i, why, bad[i].why);
		assert_null(strchr(why, '\n'));
	}
	/* A NUL byte, a line past the bound. */
	settings_defaults(&st);
	assert_int_equal(config_apply("f", "a\0b\n", 4, pool, &st, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "f:1: a NUL byte");
	{
		char *line = malloc(CONFIG_LINE_MAX + 10);

		memset(line, 'x', CONFIG_LINE_MAX + 9);
		line[CONFIG_LINE_MAX + 9] = '\0';
		assert_int_equal(config_apply("f", line, strlen(line), pool, &st, why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, "longer than"));
		free(line);
	}
	config_pool__free(pool);
}

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* A folder of root's alone, for the checks (the fixture's is beneath /tmp: world-writable). */
static int root_dir_setup(void **state)
{
	static char dir[] = "/run/inspectd-test-config-XXXXXX";

	memcpy(dir + sizeof("/run/inspectd-test-config-") - 1, "XXXXXX", 6);
	if (!mkdtemp(dir))
		return -1;
	*state = dir;
	return 0;
}

static int root_dir_teardown(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (const char *)*state);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_file_checks(void **state)
{
	const char *dir = *state;
	char path[4096], sub[4096], link[4096], tmp[] = "/tmp/inspectd-config-XXXXXX", why[1024];
	struct config_pool *pool;
	struct settings st;

	if (geteuid() != 0) {
		print_message("skipped: the checks want root's files (run as root)\n");
		return;
	}
	assert_int_equal(config_pool__new(&pool), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/inspectd.conf", dir);
	put(path, "capture-seconds = 7\n", 0644);
	settings_defaults(&st);
	assert_int_equal(config_load(path, pool, &st, why, sizeof(why)), 0);
	assert_int_equal(st.capture_usec, 7000000);
	/* Writable by others: refused, naming it. */
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(config_load(path, pool, &st, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "not root's alone"));
	assert_int_equal(chmod(path, 0644), 0);
	/* A folder on the way writable by group. */
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0775), 0);
	assert_int_equal(chmod(sub, 0775), 0);
	snprintf(path, sizeof(path), "%s/sub/inspectd.conf", dir);
	put(path, "capture-seconds = 7\n", 0644);
	assert_int_equal(config_load(path, pool, &st, why, sizeof(why)), -EPERM);
	/* A link into a world-writable folder (as /tmp is), however fine the file looks. */
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(chmod(tmp, 01777), 0);
	snprintf(path, sizeof(path), "%s/target.conf", tmp);
	put(path, "capture-seconds = 7\n", 0644);
	snprintf(link, sizeof(link), "%s/link.conf", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(config_load(link, pool, &st, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, tmp));
	unlink(path);
	rmdir(tmp);
	/* Not a regular file. */
	assert_int_equal(config_load(dir, pool, &st, why, sizeof(why)), -EPERM);
	/* Missing. */
	snprintf(path, sizeof(path), "%s/none.conf", dir);
	assert_int_equal(config_load(path, pool, &st, why, sizeof(why)), -ENOENT);
	config_pool__free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test_setup_teardown(test_file_checks, root_dir_setup, root_dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
