// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The configuration file: every kind of line (settings, flags, repeatable keys, comments,
 * blank lines, spaces and CRLF), each refusal with its file and line, values interned (the
 * same text, the same pointer, across loads), and the checks on the file and the folders
 * on its way (root's alone; a link into a world-writable folder refused). Its [select RULE]
 * sections: parsed, their settings the agent's with theirs over them and checked as the
 * agent's are, the first that matches a process its, the agent's keys refused in them, their
 * rules checked as --select's, at most SECTIONS_MAX of them.
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
#include "profile.h"

/* text as inspectd.conf over the defaults, its sections resolved as the agent does: in *ret
 * (when ret is not NULL and all went well), else dropped. */
static int load(const char *text, struct settings *st, struct config_pool *pool, struct sections **ret, char *why,
		size_t size)
{
	struct sections *secs;
	int r;

	settings_defaults(st);
	assert_int_equal(sections__new(&secs), 0);
	r = config_apply("inspectd.conf", text, strlen(text), pool, st, secs, why, size);
	if (r == 0)
		r = sections__resolve(secs, st, "inspectd.conf", why, size);
	if (r == 0 && ret)
		*ret = secs;
	else
		sections__free(secs);
	return r;
}

static int apply(const char *text, struct settings *st, struct config_pool *pool, char *why, size_t size)
{
	return load(text, st, pool, NULL, why, size);
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
	{
		struct sections *secs;
		char *line = malloc(CONFIG_LINE_MAX + 10);

		assert_int_equal(sections__new(&secs), 0);
		settings_defaults(&st);
		assert_int_equal(config_apply("f", "a\0b\n", 4, pool, &st, secs, why, sizeof(why)), -EINVAL);
		assert_string_equal(why, "f:1: a NUL byte");
		memset(line, 'x', CONFIG_LINE_MAX + 9);
		line[CONFIG_LINE_MAX + 9] = '\0';
		assert_int_equal(config_apply("f", line, strlen(line), pool, &st, secs, why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, "longer than"));
		free(line);
		sections__free(secs);
	}
	config_pool__free(pool);
}

/* A subject as select.h's rules see it: comm, a namespace or none, argv. */
static struct select_subject subject(const char *comm, const char *namespace, const char *const *argv, size_t argc)
{
	return (struct select_subject){ .comm = comm, .namespace = namespace, .argv = argv, .argc = argc };
}

static void test_sections(void **state)
{
	static const char text[] =
		"rss-threshold = 1G\n"
		"capture-seconds = 20\n"
		"every = 1m\n"
		"select = cmdline~svc-\n"
		"# the batch jobs: rarely, and a CPU profile only\n"
		"[select namespace=batch]\n"
		"rss-threshold = 4G\n"
		"every = 5m\n"
		"schedule-kinds = cpu\n"
		"\n"
		"  [ select   cmdline~server\\.js ]  \r\n"
		"limit-percent = 90\n"
		"rss-threshold = 2G\n"
		"threshold-action = cpu\n"
		"rss-threshold = 3G\n"
		"[select comm=node]\n"
		"[select comm=quiet]\n"
		"rss-threshold = off\n"
		"every = off\n";
	static const char *const server[] = { "node", "server.js" }, *const other[] = { "node", "worker.js" };
	struct select_subject subj;
	struct config_pool *pool;
	const struct settings *own;
	struct sections *secs;
	struct settings st;
	char why[512] = "";

	assert_int_equal(config_pool__new(&pool), 0);
	assert_int_equal(load(text, &st, pool, &secs, why, sizeof(why)), 0);
	/* The agent's: the lines before the first section. */
	assert_int_equal(st.triggers.rss_threshold, 1ull << 30);
	assert_int_equal(st.triggers.limit_percent, 0);
	assert_int_equal(st.n_select, 1);
	assert_int_equal(st.every_usec, 60000000);
	assert_int_equal(sections__count(secs), 4);
	assert_string_equal(sections__rule(secs, 0), "namespace=batch");
	assert_int_equal(sections__line(secs, 0), 6);
	assert_string_equal(sections__rule(secs, 1), "cmdline~server\\.js");
	assert_int_equal(sections__line(secs, 1), 11);
	assert_string_equal(sections__rule(secs, 2), "comm=node");
	/* Each: the agent's settings with its own over them. */
	own = sections__settings(secs, 0, &st);
	assert_int_equal(own->triggers.rss_threshold, 4ull << 30);
	assert_int_equal(own->every_usec, 300000000);
	assert_int_equal(own->schedule_kinds, 1u << PROFILE_CPU);
	assert_int_equal(own->capture_usec, 20000000);
	assert_int_equal(own->n_select, 1);
	own = sections__settings(secs, 1, &st);
	assert_int_equal(own->triggers.rss_threshold, 3ull << 30);      /* set again: the last */
	assert_int_equal(own->triggers.limit_percent, 90);
	assert_int_equal(own->threshold_action, PROFILE_CPU);
	assert_int_equal(own->every_usec, 60000000);
	own = sections__settings(secs, 2, &st);
	assert_int_equal(own->triggers.rss_threshold, 1ull << 30);
	own = sections__settings(secs, 3, &st);
	assert_int_equal(own->triggers.rss_threshold, 0);               /* off */
	assert_int_equal(own->every_usec, 0);
	assert_ptr_equal(sections__settings(secs, SECTION_NONE, &st), &st);
	/* What the log and --check-config say of each. */
	sections__describe(secs, 1, why, sizeof(why));
	assert_string_equal(why, "rss-threshold = 3G, limit-percent = 90, threshold-action = cpu");
	sections__describe(secs, 2, why, sizeof(why));
	assert_string_equal(why, "no settings of its own");

	/* The first section whose rule matches, though later ones match too. */
	subj = subject("node", "batch", server, 2);
	assert_int_equal(sections__match(secs, &subj), 0);
	subj = subject("node", NULL, server, 2);
	assert_int_equal(sections__match(secs, &subj), 1);
	subj = subject("node", "web", other, 2);
	assert_int_equal(sections__match(secs, &subj), 2);
	subj = subject("quiet", NULL, other, 2);
	assert_int_equal(sections__match(secs, &subj), 3);
	subj = subject("deno", NULL, other, 2);
	assert_int_equal(sections__match(secs, &subj), SECTION_NONE);
	assert_int_equal(sections__match(NULL, &subj), SECTION_NONE);

	/* Over the agent's settings whatever set them (the command line, after the file): resolved again. */
	st.capture_usec = 7000000;
	assert_int_equal(sections__resolve(secs, &st, "inspectd.conf", why, sizeof(why)), 0);
	assert_int_equal(sections__settings(secs, 0, &st)->capture_usec, 7000000);
	assert_int_equal(sections__settings(secs, 0, &st)->triggers.rss_threshold, 4ull << 30);
	/* The same rule, the same interned text. */
	{
		struct sections *again;
		struct settings st2;

		assert_int_equal(load(text, &st2, pool, &again, why, sizeof(why)), 0);
		assert_ptr_equal(sections__rule(again, 0), sections__rule(secs, 0));
		sections__free(again);
	}
	sections__free(secs);
	sections__free(NULL);
	assert_int_equal(sections__count(NULL), 0);
	config_pool__free(pool);
}

/* What a section refuses, each with its file and line; and the checks across keys, per section. */
static void test_section_refusals(void **state)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "# ok\n[select namespace=a]\nevery = 1m\nmax-concurrent = 9\n",
		  "inspectd.conf:4: max-concurrent applies to the whole agent, not to a section (a section takes "
		  "rss-threshold, rss-growth, limit-percent, cpu-threshold, cpu-window, threshold-action, "
		  "capture-seconds, cooldown, every, schedule-kinds)" },
		{ "[select namespace=a]\npprof\n", "inspectd.conf:2: pprof applies to the whole agent, not to a section" },
		{ "[select namespace=a]\nkeep-local = false\n", "inspectd.conf:2: keep-local applies to the whole agent" },
		{ "[select namespace=a]\nselect = pod=x\n", "inspectd.conf:2: select applies to the whole agent" },
		{ "[select namespace=a]\nmax-captures-per-hour = 9\n",
		  "inspectd.conf:2: max-captures-per-hour applies to the whole agent" },
		{ "[select namespace=a]\nevery = soon\n", "inspectd.conf:2: invalid --every 'soon'" },
		{ "[select namespace=a]\nno-such-key = 1\n", "inspectd.conf:2: unknown setting 'no-such-key'" },
		{ "[select namespace=a]\ncapture-seconds\n", "inspectd.conf:2: capture-seconds needs a value" },
		/* Rules as --select's. */
		{ "\n[select node=x]\n", "inspectd.conf:2: --select 'node=x': unknown field 'node'" },
		{ "[select cmdline~(a]\n", "inspectd.conf:1: --select 'cmdline~(a': bad regex" },
		{ "[select cmdline~(a)\\1]\n", "inspectd.conf:1: --select 'cmdline~(a)\\1': back-reference" },
		{ "[select comm~node]\n", "inspectd.conf:1: --select 'comm~node': '~' (a regex) is for cmdline only" },
		{ "[select]\n", "inspectd.conf:1: [select RULE] needs a rule" },
		{ "[ select  ]\n", "inspectd.conf:1: [select RULE] needs a rule" },
		{ "[namespace=a]\n", "inspectd.conf:1: a section's header is '[select RULE]': select sections only" },
		{ "[selectcomm=a]\n", "inspectd.conf:1: a section's header is '[select RULE]': select sections only" },
		{ "[select namespace=a\n", "inspectd.conf:1: a section's header is '[select RULE]', on a line of its own" },
		{ "[select namespace=a] every = 1m\n", "inspectd.conf:1: a section's header is '[select RULE]'" },
		/* Across keys, per section: its own --every against the agent's --capture-seconds, and the other way. */
		{ "capture-seconds = 60\n[select comm=a]\n[select comm=b]\nevery = 30s\n",
		  "inspectd.conf:3: [select comm=b]: --every must be longer than --capture-seconds" },
		{ "every = 1m\n[select comm=a]\ncapture-seconds = 120\n",
		  "inspectd.conf:2: [select comm=a]: --every must be longer than --capture-seconds" },
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
	/* An --every a section turns off is no longer checked against --capture-seconds. */
	assert_int_equal(apply("every = 1m\n[select comm=a]\nevery = off\ncapture-seconds = 120\n", &st, pool, why,
			       sizeof(why)), 0);
	config_pool__free(pool);
}

/* SECTIONS_MAX sections, and not one more: refused at the header past it. */
static void test_too_many_sections(void **state)
{
	struct config_pool *pool;
	struct sections *secs;
	struct settings st;
	char text[SECTIONS_MAX * 40 + 64], why[512];
	size_t n = 0;

	assert_int_equal(config_pool__new(&pool), 0);
	for (int i = 0; i < SECTIONS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[select comm=n%d]\nevery = 1m\n", i);
	assert_int_equal(load(text, &st, pool, &secs, why, sizeof(why)), 0);
	assert_int_equal(sections__count(secs), SECTIONS_MAX);
	sections__free(secs);
	snprintf(text + n, sizeof(text) - n, "[select comm=one-more]\n");
	assert_int_equal(apply(text, &st, pool, why, sizeof(why)), -EINVAL);
	snprintf(text, sizeof(text), "inspectd.conf:%d: more than %d sections", 2 * SECTIONS_MAX + 1, SECTIONS_MAX);
	assert_string_equal(why, text);
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
	struct sections *secs;
	struct settings st;

	if (geteuid() != 0) {
		print_message("skipped: the checks want root's files (run as root)\n");
		return;
	}
	assert_int_equal(config_pool__new(&pool), 0);
	assert_int_equal(sections__new(&secs), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/inspectd.conf", dir);
	put(path, "capture-seconds = 7\n[select comm=node]\nevery = 1m\n", 0644);
	settings_defaults(&st);
	assert_int_equal(config_load(path, pool, &st, secs, why, sizeof(why)), 0);
	assert_int_equal(st.capture_usec, 7000000);
	assert_int_equal(st.every_usec, 0);
	assert_int_equal(sections__count(secs), 1);
	assert_string_equal(sections__rule(secs, 0), "comm=node");
	/* Writable by others: refused, naming it. */
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(config_load(path, pool, &st, secs, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "not root's alone"));
	assert_int_equal(chmod(path, 0644), 0);
	/* A folder on the way writable by group. */
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0775), 0);
	assert_int_equal(chmod(sub, 0775), 0);
	snprintf(path, sizeof(path), "%s/sub/inspectd.conf", dir);
	put(path, "capture-seconds = 7\n", 0644);
	assert_int_equal(config_load(path, pool, &st, secs, why, sizeof(why)), -EPERM);
	/* A link into a world-writable folder (as /tmp is), however fine the file looks. */
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(chmod(tmp, 01777), 0);
	snprintf(path, sizeof(path), "%s/target.conf", tmp);
	put(path, "capture-seconds = 7\n", 0644);
	snprintf(link, sizeof(link), "%s/link.conf", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(config_load(link, pool, &st, secs, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, tmp));
	unlink(path);
	rmdir(tmp);
	/* Not a regular file. */
	assert_int_equal(config_load(dir, pool, &st, secs, why, sizeof(why)), -EPERM);
	/* Missing. */
	snprintf(path, sizeof(path), "%s/none.conf", dir);
	assert_int_equal(config_load(path, pool, &st, secs, why, sizeof(why)), -ENOENT);
	sections__free(secs);
	config_pool__free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_section_refusals),
		cmocka_unit_test(test_too_many_sections),
		cmocka_unit_test_setup_teardown(test_file_checks, root_dir_setup, root_dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
