// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The rules of --select and --exclude: parsing every field and every refusal, matching
 * over a table of processes (pods, containers, host processes, uids, argv with spaces,
 * a command line past the 4096-byte cut, unicode), exclude beating select, the bounds.
 *
 * regexec() is wrapped (-Wl,--wrap=regexec): it passes through unless a test forces it
 * to fail as out of memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select.h"

static int regexec_fail;        /* nonzero: __wrap_regexec() returns it */

int __real_regexec(const regex_t *re, const char *s, size_t n, regmatch_t m[], int flags);
int __wrap_regexec(const regex_t *re, const char *s, size_t n, regmatch_t m[], int flags)
{
	if (regexec_fail)
		return regexec_fail;
	return __real_regexec(re, s, n, m, flags);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct selection *new_selection(void)
{
	struct selection *s = NULL;

	assert_int_equal(selection__new(&s), 0);
	assert_non_null(s);
	return s;
}

static void add_ok(struct selection *s, bool exclude, const char *text)
{
	char why[256] = "";
	int r = selection__add(s, exclude, text, why, sizeof(why));

	if (r != 0)
		print_error("'%s' refused: %s\n", text, why);
	assert_int_equal(r, 0);
}

/* ---- names ---- */

static void test_names(void **state)
{
	static const char *const fields[] = { "namespace", "pod", "container", "image", "comm", "exe", "uid",
					      "cmdline" };
	static const char *const verdicts[] = { "excluded", "selected", "not-selected" };

	assert_int_equal(N(fields), _SELECT_FIELD_MAX);
	for (int f = 0; f < _SELECT_FIELD_MAX; f++)
		assert_string_equal(select_field_name((enum select_field)f), fields[f]);
	assert_string_equal(select_field_name(_SELECT_FIELD_MAX), "unknown");
	assert_string_equal(select_field_name((enum select_field)-1), "unknown");
	assert_int_equal(N(verdicts), _SELECT_VERDICT_MAX);
	for (int v = 0; v < _SELECT_VERDICT_MAX; v++)
		assert_string_equal(select_verdict_name((enum select_verdict)v), verdicts[v]);
	assert_string_equal(select_verdict_name(_SELECT_VERDICT_MAX), "unknown");
}

/* ---- parsing ---- */

static void test_parse_every_field(void **state)
{
	static const char *const rules[] = {
		"namespace=checkout", "pod=web-*", "container=batch-?", "image=docker.io/library/node:[0-9]*",
		"comm=node", "exe=/usr/*/node", "uid=1000", "uid=10*", "uid=0", "uid=4294967295",
		"cmdline~server\\.js", "cmdline~^node( |$)", "cmdline~a=b",        /* = within a regex */
		"pod=a~b",                                                            /* ~ within a glob */
		"namespace=[",                                                        /* matches nothing: fine */
		"cmdline~[\\1]",                      /* a backslash and 1 in brackets: no back-reference */
		"cmdline~\\\\1",                      /* an escaped backslash, then 1 */
		"cmdline~[[:digit:]]+ [^]\\1]",       /* a class, and ] \\ 1 in brackets */
		"comm=café",
	};
	struct selection *s = new_selection();

	for (size_t i = 0; i < N(rules); i++)
		add_ok(s, i % 2, rules[i]);
	assert_int_equal(selection__count(s, false) + selection__count(s, true), N(rules));
	selection__free(s);
}

/* Back-references after a bracket expression: refused; within one: literal. */
static void test_bracket_then_backref(void **state)
{
	struct selection *s = new_selection();
	char why[256];

	assert_int_equal(selection__add(s, false, "cmdline~(a)[x]\\1", why, sizeof(why)), -EINVAL);
	assert_int_equal(selection__add(s, false, "cmdline~(a)[]\\1]", why, sizeof(why)), 0);
	assert_int_equal(selection__add(s, false, "cmdline~(a)[^]x]\\2", why, sizeof(why)), -EINVAL);
	assert_int_equal(selection__add(s, false, "cmdline~(a)[[.-.]]\\1", why, sizeof(why)), -EINVAL);
	assert_int_equal(selection__count(s, false), 1);
	selection__free(s);
}

struct refusal {
	bool exclude;
	const char *text;
	int err;
	const char *why;        /* the exact line, or NULL: only a non-empty one */
};

static void test_refusals(void **state)
{
	char long_pattern[300], ctl[] = "comm=no\x01" "de", del[] = "pod=a\x7f";
	const struct refusal cases[] = {
		{ false, "", -EINVAL, "--select '': empty rule (FIELD=GLOB or cmdline~REGEX)" },
		{ true, NULL, -EINVAL, "--exclude '': empty rule (FIELD=GLOB or cmdline~REGEX)" },
		{ false, "podweb", -EINVAL, "--select 'podweb': no '=' or '~' (FIELD=GLOB or cmdline~REGEX)" },
		{ false, "node=x", -EINVAL, "--select 'node=x': unknown field 'node' (known: namespace, pod, "
					    "container, image, comm, exe, uid, cmdline)" },
		{ false, "=x", -EINVAL, NULL },
		{ false, "Pod=x", -EINVAL, NULL },                      /* names are exact */
		{ false, " pod=x", -EINVAL, NULL },
		{ true, "pod~web", -EINVAL, "--exclude 'pod~web': '~' (a regex) is for cmdline only; pod takes a "
					    "glob: pod=GLOB" },
		{ false, "uid~0", -EINVAL, NULL },
		{ false, "cmdline=node", -EINVAL, "--select 'cmdline=node': cmdline takes a regex: cmdline~REGEX" },
		{ false, "pod=", -EINVAL, "--select 'pod=': empty pattern" },
		{ false, "cmdline~", -EINVAL, NULL },
		{ false, long_pattern, -EINVAL, NULL },
		{ false, ctl, -EINVAL, "--select 'comm=no\\x01de': control character \\x01 in the pattern" },
		{ false, del, -EINVAL, NULL },
		{ false, "cmdline~a\tb", -EINVAL, NULL },
		{ false, "cmdline~(", -EINVAL, "--select 'cmdline~(': bad regex: Unmatched ( or \\(" },
		{ false, "cmdline~a{2,1}", -EINVAL, NULL },
		{ false, "cmdline~(a)\\1", -EINVAL, "--select 'cmdline~(a)\\1': back-reference \\1 refused (it "
						    "makes matching exponential)" },
		{ false, "cmdline~((a*)*)\\2$", -EINVAL, NULL },
		{ false, "uid=4294967296", -EINVAL, "--select 'uid=4294967296': uid 4294967296 is past 4294967295" },
		{ false, "uid=99999999999999999999999", -EINVAL, NULL },
	};
	struct selection *s = new_selection();

	memset(long_pattern, 'x', sizeof(long_pattern));
	memcpy(long_pattern, "pod=", 4);
	long_pattern[4 + SELECT_PATTERN_MAX + 1] = '\0';

	for (size_t i = 0; i < N(cases); i++) {
		char why[512] = "";
		int r = selection__add(s, cases[i].exclude, cases[i].text, why, sizeof(why));

		if (r != cases[i].err)
			print_error("case %zu '%s': %d, not %d\n", i, cases[i].text ? cases[i].text : "(null)", r,
				    cases[i].err);
		assert_int_equal(r, cases[i].err);
		assert_true(strlen(why) > 0);
		assert_null(strchr(why, '\n'));
		if (cases[i].why)
			assert_string_equal(why, cases[i].why);
	}
	assert_int_equal(selection__count(s, false), 0);
	assert_int_equal(selection__count(s, true), 0);

	/* A pattern of 256 bytes is fine, one of 257 is not, and the line says so. */
	{
		char why[512] = "";

		assert_int_equal(selection__add(s, false, long_pattern, why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, "pattern of 257 bytes, at most 256"));
		assert_non_null(strstr(why, "...'"));           /* the rule is shown cut */
		long_pattern[4 + SELECT_PATTERN_MAX] = '\0';
		assert_int_equal(selection__add(s, false, long_pattern, why, sizeof(why)), 0);
	}
	/* No room for why, or none at all: refused just the same. */
	assert_int_equal(selection__add(s, false, "bogus", NULL, 0), -EINVAL);
	{
		char tiny[8];

		assert_int_equal(selection__add(s, false, "cmdline~(", tiny, sizeof(tiny)), -EINVAL);
		assert_string_equal(tiny, "--selec");
	}
	selection__free(s);
}

static void test_bounds(void **state)
{
	struct selection *s = new_selection();
	char text[32], why[256] = "";

	for (int i = 0; i < SELECT_RULES_MAX; i++) {
		snprintf(text, sizeof(text), "pod=web-%d", i);
		add_ok(s, false, text);
	}
	assert_int_equal(selection__count(s, false), SELECT_RULES_MAX);
	assert_int_equal(selection__add(s, false, "pod=one-more", why, sizeof(why)), -E2BIG);
	assert_string_equal(why, "--select 'pod=one-more': more than 64 --select rules");
	assert_int_equal(selection__count(s, false), SELECT_RULES_MAX);

	/* The excludes have their own 64. */
	for (int i = 0; i < SELECT_RULES_MAX; i++) {
		snprintf(text, sizeof(text), "cmdline~batch-%d$", i);
		add_ok(s, true, text);
	}
	assert_int_equal(selection__add(s, true, "comm=x", why, sizeof(why)), -E2BIG);
	assert_string_equal(why, "--exclude 'comm=x': more than 64 --exclude rules");
	assert_int_equal(selection__count(s, true), SELECT_RULES_MAX);

	/* The last of each still counts. */
	{
		const char *const argv[] = { "node", "batch-63" };
		struct select_subject p = { .pod = "web-63" }, q = { .argv = argv, .argc = 2 };

		assert_int_equal(selection_judge(s, &p), SELECT_SELECTED);
		assert_string_equal(selection_why(s, &p, SELECT_SELECTED), "pod=web-63");
		assert_int_equal(selection_judge(s, &q), SELECT_EXCLUDED);
		assert_string_equal(selection_why(s, &q, SELECT_EXCLUDED), "cmdline~batch-63$");
	}
	selection__free(s);
}

/* ---- matching ---- */

static const char *const argv_web[] = { "node", "--max-old-space-size=512", "server.js" };
static const char *const argv_spaces[] = { "node", "/srv/my app/server.js", "--name", "two words" };
static const char *const argv_unicode[] = { "node", "/srv/café/índex.js", "--title=日本語" };
static const char *const argv_null[] = { "node", NULL, "x.js" };
static const char *const argv_empty[] = { "" };

/* The subjects, by index in the cases below. */
static const struct select_subject subjects[] = {
	/* 0: a pod's container */
	{ .namespace = "checkout", .pod = "web-7d9f-abcde", .container = "web", .image = "node:20-alpine",
	  .comm = "node", .exe = "/usr/local/bin/node", .has_uid = true, .uid = 1000, .argv = argv_web, .argc = 3 },
	/* 1: another namespace's batch container */
	{ .namespace = "jobs", .pod = "nightly-x", .container = "batch-1", .image = "registry.local:5000/batch:1.2",
	  .comm = "node", .exe = "/usr/bin/node", .has_uid = true, .uid = 0, .argv = argv_web, .argc = 3 },
	/* 2: a host process: no container, no pod, no namespace */
	{ .comm = "node", .exe = "/usr/bin/node", .has_uid = true, .uid = 0, .argv = argv_spaces, .argc = 4 },
	/* 3: a container outside Kubernetes: no pod or namespace, "" as absent */
	{ .namespace = "", .pod = "", .container = "compose-api-1", .image = "api:latest", .comm = "node",
	  .exe = "/app/node", .has_uid = true, .uid = 10001, .argv = argv_spaces, .argc = 4 },
	/* 4: unknown uid, no argv (it exited, or a zombie) */
	{ .comm = "node", .exe = "/usr/bin/node" },
	/* 5: unicode in exe and argv */
	{ .comm = "café", .exe = "/srv/café/node", .has_uid = true, .uid = 65534, .argv = argv_unicode, .argc = 3 },
	/* 6: a NULL entry within argv */
	{ .comm = "node", .has_uid = true, .uid = 100, .argv = argv_null, .argc = 3 },
	/* 7: argv of one empty string */
	{ .comm = "node", .has_uid = true, .uid = 1, .argv = argv_empty, .argc = 1 },
	/* 8: argv given but argc 0 */
	{ .comm = "node", .argv = argv_web, .argc = 0 },
	/* 9: argc counts two of three: the third is not seen */
	{ .comm = "node", .argv = argv_web, .argc = 2 },
	/* 10: nothing known at all */
	{ 0 },
};

struct match_case {
	const char *rule;
	unsigned subject;
	bool match;
};

static const struct match_case match_cases[] = {
	{ "namespace=checkout", 0, true },
	{ "namespace=check*", 0, true },
	{ "namespace=checkout", 1, false },
	{ "namespace=*", 2, false },            /* absent never matches, not even * */
	{ "namespace=*", 3, false },            /* "" is absent */
	{ "namespace=*", 1, true },
	{ "pod=web-*", 0, true },
	{ "pod=web-???\?-?????", 0, true },
	{ "pod=web-??\?-?????", 0, false },
	{ "pod=*", 2, false },
	{ "pod=*", 3, false },
	{ "container=batch-*", 1, true },
	{ "container=batch-[0-9]", 1, true },
	{ "container=batch-[!1]", 1, false },
	{ "container=*", 2, false },
	{ "container=*", 3, true },
	{ "container=web", 0, true },
	{ "container=we", 0, false },           /* whole value, not a prefix */
	{ "image=node:20*", 0, true },
	{ "image=registry.local:5000/*", 1, true },
	{ "image=*", 2, false },
	{ "comm=node", 0, true },
	{ "comm=no?e", 4, true },
	{ "comm=NODE", 0, false },              /* case matters */
	{ "comm=*", 10, false },
	{ "exe=/usr/*/node", 0, true },
	{ "exe=/usr/*", 1, true },              /* * crosses / (flags 0) */
	{ "exe=*/node", 3, true },
	{ "exe=/usr/bin/node", 0, false },
	{ "uid=1000", 0, true },
	{ "uid=01000", 0, true },               /* a number, compared as a number */
	{ "uid=100", 0, false },
	{ "uid=0", 1, true },
	{ "uid=0", 4, false },                  /* no uid known */
	{ "uid=*", 4, false },
	{ "uid=*", 2, true },
	{ "uid=10*", 0, true },
	{ "uid=10*", 3, true },
	{ "uid=10*", 6, true },
	{ "uid=10*", 1, false },
	{ "uid=?", 1, true },
	{ "uid=[0-9][0-9][0-9][0-9][0-9]", 5, true },
	{ "uid=nobody", 5, false },              /* a glob that matches nothing */
	{ "cmdline~server\\.js", 0, true },
	{ "cmdline~server\\.js", 2, true },
	{ "cmdline~^node --max-old-space-size=512 server\\.js$", 0, true },   /* single spaces */
	{ "cmdline~my app/server", 2, true },
	{ "cmdline~--name two words$", 2, true },
	{ "cmdline~  ", 2, false },             /* no double spaces added */
	{ "cmdline~^node  x\\.js$", 6, true },  /* a NULL entry is "" */
	{ "cmdline~.*", 4, false },             /* no argv: absent */
	{ "cmdline~.*", 7, false },             /* an empty command line: absent */
	{ "cmdline~.*", 8, false },
	{ "cmdline~^node --max-old-space-size=512$", 9, true },
	{ "cmdline~server", 9, false },
	{ "cmdline~.*", 10, false },
	{ "cmdline~NODE", 0, false },
	{ "cmdline~caf", 5, true },
	{ "cmdline~/srv/café/índex\\.js", 5, true },
	{ "cmdline~--title=日本語$", 5, true },
	{ "cmdline~日本", 0, false },
	{ "comm=café", 5, true },
	{ "comm=caf*", 5, true },
	{ "comm=caf?", 5, false },              /* bytes: é is two */
	{ "comm=caf??", 5, true },
	{ "exe=/srv/café/*", 5, true },
	{ "uid=65534", 5, true },
};

static void test_match_table(void **state)
{
	for (size_t i = 0; i < N(match_cases); i++) {
		const struct match_case *c = &match_cases[i];
		const struct select_subject *subj = &subjects[c->subject];
		struct selection *s = new_selection(), *x = new_selection();
		enum select_verdict v;

		assert_true(c->subject < N(subjects));
		add_ok(s, false, c->rule);
		v = selection_judge(s, subj);
		if (v != (c->match ? SELECT_SELECTED : SELECT_NOT_SELECTED))
			print_error("'%s' on subject %u: %s\n", c->rule, c->subject, select_verdict_name(v));
		assert_int_equal(v, c->match ? SELECT_SELECTED : SELECT_NOT_SELECTED);
		if (c->match)
			assert_string_equal(selection_why(s, subj, v), c->rule);
		else
			assert_null(selection_why(s, subj, SELECT_SELECTED));

		/* The same rule as an --exclude: excluded exactly when it matched. */
		add_ok(x, true, c->rule);
		assert_int_equal(selection_judge(x, subj), c->match ? SELECT_EXCLUDED : SELECT_SELECTED);
		selection__free(s);
		selection__free(x);
	}
}

/* argv of one string: prefix, then tail, past the cut. */
static enum select_verdict judge_argv(const char *rule, const char *arg)
{
	const char *const argv[] = { arg };
	struct select_subject subj = { .argv = argv, .argc = 1 };
	struct selection *s = new_selection();
	enum select_verdict v;

	add_ok(s, false, rule);
	v = selection_judge(s, &subj);
	selection__free(s);
	return v;
}

static char *filled(size_t n, const char *tail)
{
	size_t t = strlen(tail);
	char *p = malloc(n + t + 1);

	assert_non_null(p);
	memset(p, 'a', n);
	memcpy(p + n, tail, t + 1);
	return p;
}

static void test_long_cmdline(void **state)
{
	char *p;

	/* Exactly 4096 bytes: all of it is seen. */
	p = filled(SELECT_CMDLINE_MAX - 6, "secret");
	assert_int_equal(judge_argv("cmdline~secret$", p), SELECT_SELECTED);
	free(p);

	/* 4097 bytes: the last one is beyond the cut. */
	p = filled(SELECT_CMDLINE_MAX - 6, "secretX");
	assert_int_equal(judge_argv("cmdline~secret$", p), SELECT_SELECTED);
	assert_int_equal(judge_argv("cmdline~X", p), SELECT_NOT_SELECTED);
	free(p);

	/* A match wholly past the cut, in a later argument. */
	{
		char *big = filled(5000, "");
		const char *const argv[] = { "node", big, "--inspect-me" };
		struct select_subject subj = { .argv = argv, .argc = 3 };
		struct selection *s = new_selection();

		add_ok(s, false, "cmdline~inspect-me");
		add_ok(s, true, "cmdline~--inspect");
		assert_int_equal(selection_judge(s, &subj), SELECT_NOT_SELECTED);
		add_ok(s, false, "cmdline~^node a+$");
		assert_int_equal(selection_judge(s, &subj), SELECT_SELECTED);
		selection__free(s);
		free(big);
	}

	/* é (2 bytes) at 4094..4095: whole, the cut falls after it. */
	p = filled(SELECT_CMDLINE_MAX - 2, "ébc");
	assert_int_equal(judge_argv("cmdline~aé$", p), SELECT_SELECTED);
	free(p);

	/* é at 4095..4096 straddles the cut: it goes, a is last. */
	p = filled(SELECT_CMDLINE_MAX - 1, "ébc");
	assert_int_equal(judge_argv("cmdline~a$", p), SELECT_SELECTED);
	assert_int_equal(judge_argv("cmdline~\xc3", p), SELECT_NOT_SELECTED);
	free(p);

	/* A 4-byte character (U+1F600) at 4093..4096, and at 4094..4097: it goes whole. */
	p = filled(SELECT_CMDLINE_MAX - 3, "\xf0\x9f\x98\x80z");
	assert_int_equal(judge_argv("cmdline~a$", p), SELECT_SELECTED);
	assert_int_equal(judge_argv("cmdline~\xf0", p), SELECT_NOT_SELECTED);
	free(p);
	p = filled(SELECT_CMDLINE_MAX - 2, "\xf0\x9f\x98\x80z");
	assert_int_equal(judge_argv("cmdline~a$", p), SELECT_SELECTED);
	free(p);
	/* ... and ending at 4095: kept. */
	p = filled(SELECT_CMDLINE_MAX - 4, "\xf0\x9f\x98\x80z");
	assert_int_equal(judge_argv("cmdline~\xf0\x9f\x98\x80$", p), SELECT_SELECTED);
	free(p);

	/* Not UTF-8 (continuation bytes only around the cut): a byte cut at 4096. */
	{
		char *q = malloc(SELECT_CMDLINE_MAX + 10);

		assert_non_null(q);
		memset(q, 0x80, SELECT_CMDLINE_MAX + 9);
		q[SELECT_CMDLINE_MAX + 9] = '\0';
		q[SELECT_CMDLINE_MAX - 4] = 'k';
		assert_int_equal(judge_argv("cmdline~k\x80\x80\x80$", q), SELECT_SELECTED);
		free(q);
	}
}

static void test_exclude_beats_select(void **state)
{
	struct selection *s = new_selection();
	const struct select_subject *web = &subjects[0], *batch = &subjects[1], *host = &subjects[2];

	add_ok(s, false, "comm=node");
	add_ok(s, false, "namespace=checkout");
	add_ok(s, true, "container=batch-*");
	add_ok(s, true, "namespace=checkout");

	assert_int_equal(selection_judge(s, web), SELECT_EXCLUDED);
	assert_string_equal(selection_why(s, web, SELECT_EXCLUDED), "namespace=checkout");
	assert_int_equal(selection_judge(s, batch), SELECT_EXCLUDED);
	assert_string_equal(selection_why(s, batch, SELECT_EXCLUDED), "container=batch-*");
	/* selection_why() answers for the verdict asked: the select rule that matched too. */
	assert_string_equal(selection_why(s, batch, SELECT_SELECTED), "comm=node");
	assert_int_equal(selection_judge(s, host), SELECT_SELECTED);
	assert_string_equal(selection_why(s, host, SELECT_SELECTED), "comm=node");
	assert_null(selection_why(s, host, SELECT_EXCLUDED));
	assert_null(selection_why(s, host, SELECT_NOT_SELECTED));
	assert_null(selection_why(s, host, _SELECT_VERDICT_MAX));
	assert_int_equal(selection_judge(s, &subjects[10]), SELECT_NOT_SELECTED);
	assert_null(selection_why(s, &subjects[10], SELECT_NOT_SELECTED));
	selection__free(s);
}

/* Rules that match none of the processes noted: each said once, in order, selects first. */
struct unmatched {
	char seen[8][SELECT_RULE_MAX + 2];
	int n;
};

static void collect_unmatched(void *ctx, bool exclude, const char *text)
{
	struct unmatched *u = ctx;

	assert_true(u->n < 8);
	snprintf(u->seen[u->n++], sizeof(u->seen[0]), "%c%s", exclude ? '-' : '+', text);
}

static void test_unmatched(void **state)
{
	struct selection *s = new_selection();
	struct unmatched u = { .n = 0 };

	add_ok(s, false, "namespace=checkout");
	add_ok(s, false, "namespace=chekout");          /* misspelt */
	add_ok(s, false, "cmdline~no-such-script");
	add_ok(s, true, "container=batch-*");
	add_ok(s, true, "comm=[");                      /* a glob that can match nothing */
	/* Nothing noted yet: every rule. */
	selection_foreach_unmatched(s, collect_unmatched, &u);
	assert_int_equal(u.n, 5);
	u.n = 0;
	/* Noted: the web server (checkout), the batch job (batch-1); the rest stay unmatched. */
	selection_note(s, &subjects[0]);
	selection_note(s, &subjects[1]);
	selection_foreach_unmatched(s, collect_unmatched, &u);
	assert_int_equal(u.n, 3);
	assert_string_equal(u.seen[0], "+namespace=chekout");
	assert_string_equal(u.seen[1], "+cmdline~no-such-script");
	assert_string_equal(u.seen[2], "-comm=[");
	/* A NULL selection: nothing to say. */
	selection_note(NULL, &subjects[0]);
	selection_foreach_unmatched(NULL, collect_unmatched, &u);
	assert_int_equal(u.n, 3);
	selection__free(s);
}

static void test_no_rules(void **state)
{
	struct selection *s = new_selection();

	assert_int_equal(selection__count(s, false), 0);
	assert_int_equal(selection__count(s, true), 0);
	for (size_t i = 0; i < N(subjects); i++) {
		assert_int_equal(selection_judge(s, &subjects[i]), SELECT_SELECTED);
		assert_null(selection_why(s, &subjects[i], SELECT_SELECTED));
	}
	/* Only excludes: the rest is selected. */
	add_ok(s, true, "uid=0");
	assert_int_equal(selection_judge(s, &subjects[0]), SELECT_SELECTED);
	assert_int_equal(selection_judge(s, &subjects[1]), SELECT_EXCLUDED);
	assert_int_equal(selection_judge(s, &subjects[4]), SELECT_SELECTED);
	selection__free(s);
}

static void test_null_selection(void **state)
{
	for (size_t i = 0; i < N(subjects); i++) {
		assert_int_equal(selection_judge(NULL, &subjects[i]), SELECT_SELECTED);
		assert_null(selection_why(NULL, &subjects[i], SELECT_SELECTED));
		assert_null(selection_why(NULL, &subjects[i], SELECT_EXCLUDED));
	}
	assert_int_equal(selection__count(NULL, false), 0);
	assert_int_equal(selection__count(NULL, true), 0);
	selection__free(NULL);
}

/* regexec() out of memory: in doubt, an --exclude matches and a --select does not. */
static void test_regexec_fails(void **state)
{
	struct selection *s = new_selection(), *x = new_selection();

	add_ok(s, false, "cmdline~node");
	add_ok(x, true, "cmdline~nothing-like-it");
	regexec_fail = REG_ESPACE;
	assert_int_equal(selection_judge(s, &subjects[0]), SELECT_NOT_SELECTED);
	assert_int_equal(selection_judge(x, &subjects[0]), SELECT_EXCLUDED);
	/* Absent argv is decided before any regexec(): never excluded for it. */
	assert_int_equal(selection_judge(x, &subjects[4]), SELECT_SELECTED);
	regexec_fail = 0;
	assert_int_equal(selection_judge(s, &subjects[0]), SELECT_SELECTED);
	assert_int_equal(selection_judge(x, &subjects[0]), SELECT_SELECTED);
	selection__free(s);
	selection__free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse_every_field),
		cmocka_unit_test(test_bracket_then_backref),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_long_cmdline),
		cmocka_unit_test(test_exclude_beats_select),
		cmocka_unit_test(test_unmatched),
		cmocka_unit_test(test_no_rules),
		cmocka_unit_test(test_null_selection),
		cmocka_unit_test(test_regexec_fails),
	};

	return cmocka_run_group_tests_name("select", tests, NULL, NULL);
}
