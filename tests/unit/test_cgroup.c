// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cgroup paths and memory limits. The limit tests build small cgroup trees
 * (plain directories and files, cgroup_tree.h) under a mkdtemp() folder, one per test:
 *   TMP/v1/...   as the v1 memory hierarchy (memory.limit_in_bytes, memory.use_hierarchy)
 *   TMP/v2/...   as the v2 hierarchy (memory.max; the root has none, as on a real one)
 * Fixture:
 *   proc-cgroup-v1-hybrid.txt   `cat /proc/self/cgroup` on a Debian 12 host with the v1
 *                               controllers under /sys/fs/cgroup/<controller> and v2 at
 *                               /sys/fs/cgroup/unified (no memory controller in v2)
 */
#define _GNU_SOURCE             /* unshare() */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "fixture.h"
#include "cgroup_tree.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

/*
 * cgroup_memory_limit() returns want (and want_limit); source ends in
 * want_source (NULL: "").
 */
static void expect_limit(const struct cgroup_roots *r, const char *v1, const char *v2,
			 int want, uint64_t want_limit, const char *want_source)
{
	char source[PATH_MAX];
	uint64_t limit = 12345;
	int ret = cgroup_memory_limit(r, v1, v2, &limit, source, sizeof(source));

	if (ret != want || limit != want_limit)
		fail_msg("limit(v1 \"%s\", v2 \"%s\") = %d, %" PRIu64 "; want %d, %" PRIu64,
			 v1 ? v1 : "(null)", v2 ? v2 : "(null)", ret, limit, want, want_limit);
	if (!want_source) {
		assert_string_equal(source, "");
		return;
	}
	size_t n = strlen(source), m = strlen(want_source);

	if (n < m || strcmp(source + n - m, want_source) != 0)
		fail_msg("source \"%s\", want \"...%s\"", source, want_source);
	/* The source names a file that exists and holds the limit. */
	assert_int_equal(access(source, R_OK), 0);
}

/* ---- /proc/PID/cgroup ---- */

static void test_parse_proc_fixture(void **state)
{
	char *text = fixture_read("proc-cgroup-v1-hybrid.txt", NULL);
	char v1[PATH_MAX], v2[PATH_MAX];

	assert_int_equal(cgroup_parse_proc(text, v1, sizeof(v1), v2, sizeof(v2)), 0);
	assert_string_equal(v1, "/process_api/d1593b4f4f208468460a95f2b2702766");
	assert_string_equal(v2, "/");
	/* Either output may be left out. */
	assert_int_equal(cgroup_parse_proc(text, NULL, 0, v2, sizeof(v2)), 0);
	assert_int_equal(cgroup_parse_proc(text, v1, sizeof(v1), NULL, 0), 0);
	assert_string_equal(v1, "/process_api/d1593b4f4f208468460a95f2b2702766");
	free(text);
}

static void test_parse_proc_text(void **state)
{
	char v1[PATH_MAX], v2[PATH_MAX];

	/* Pure v2 (systemd host). */
	assert_int_equal(cgroup_parse_proc("0::/system.slice/node-app.service\n", v1, sizeof(v1), v2, sizeof(v2)), 0);
	assert_string_equal(v1, "");
	assert_string_equal(v2, "/system.slice/node-app.service");
	/* Pure v1: no "0::" line. Memory co-mounted with another controller. */
	assert_int_equal(cgroup_parse_proc("5:cpu,memory:/docker/abc\n1:name=systemd:/docker/abc\n",
					   v1, sizeof(v1), v2, sizeof(v2)), 0);
	assert_string_equal(v1, "/docker/abc");
	assert_string_equal(v2, "");
	assert_int_equal(cgroup_parse_proc("5:memory,cpu:/a", v1, sizeof(v1), v2, sizeof(v2)), 0);
	assert_string_equal(v1, "/a");
	/* Look-alike controller names are other controllers. */
	assert_int_equal(cgroup_parse_proc("5:memoryx:/a\n6:xmemory,cpu:/b\n7:name=memory:/c\n",
					   v1, sizeof(v1), v2, sizeof(v2)), 0);
	assert_string_equal(v1, "");
	/* No final newline, blank lines, ':' and spaces in a name, the root. */
	assert_int_equal(cgroup_parse_proc("\n4:memory:/a:b/c d\n\n0::/", v1, sizeof(v1), v2, sizeof(v2)), 0);
	assert_string_equal(v1, "/a:b/c d");
	assert_string_equal(v2, "/");
	/* ".." inside a name is just a name. */
	assert_int_equal(cgroup_parse_proc("0::/a..b/..c/d..\n", v1, sizeof(v1), v2, sizeof(v2)), 0);
	assert_string_equal(v2, "/a..b/..c/d..");
	/* Nothing at all. */
	strcpy(v1, "x");
	strcpy(v2, "y");
	assert_int_equal(cgroup_parse_proc("", v1, sizeof(v1), v2, sizeof(v2)), 0);
	assert_string_equal(v1, "");
	assert_string_equal(v2, "");
	/* A bad path in a line we do not use does not matter. */
	assert_int_equal(cgroup_parse_proc("3:cpu:/../x\n0::/a\n", v1, sizeof(v1), v2, sizeof(v2)), 0);
	assert_string_equal(v2, "/a");
}

static void test_parse_proc_malformed(void **state)
{
	static const char *const bad[] = {
		"garbage",
		"garbage\n0::/\n",
		"4memory:/a\n",
		"4:memory/a\n",
		":memory:/a\n",
		"x:memory:/a\n",
		"-4:memory:/a\n",
		" 4:memory:/a\n",
		"4:memory:\n",
		"4:memory:a/b\n",
		"0::\n",
		"0::a\n",
		"0:memory:/a\n",        /* hierarchy 0 has no controllers */
		"3::/a\n",              /* every v1 hierarchy has some */
		"00::/a\n",
		"12345678901:cpu:/\n",
		"0::/a\n0::/b\n",       /* twice */
		"4:memory:/a\n5:memory:/b\n",
		"0::/\n4:memory:/a\nnot a line\n",
	};
	char v1[PATH_MAX] = "untouched", v2[PATH_MAX] = "untouched";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = cgroup_parse_proc(bad[i], v1, sizeof(v1), v2, sizeof(v2));

		if (r != -EINVAL)
			fail_msg("cgroup_parse_proc(\"%s\") = %d, want -EINVAL", bad[i], r);
	}
	assert_string_equal(v1, "untouched");
	assert_string_equal(v2, "untouched");
	assert_int_equal(cgroup_parse_proc(NULL, v1, sizeof(v1), v2, sizeof(v2)), -EINVAL);
}

static void test_parse_proc_hostile_paths(void **state)
{
	static const char *const bad[] = {
		"4:memory:/../etc\n",
		"4:memory:/..\n",
		"0::/..\n",
		"0::/a/..\n",
		"0::/a/../../etc\n",
		"0::/a/./b\n",
		"0::/.\n",
		"0::/a//b\n",
		"0::/a/\n",
		"0::/a\033[2J\n",       /* terminal escapes on their way to a log */
		"0::/a\tb\n",
		"0::/a\rb\n",
	};
	char v1[PATH_MAX] = "untouched", v2[PATH_MAX] = "untouched";
	char *text = malloc(PATH_MAX + 16);
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = cgroup_parse_proc(bad[i], v1, sizeof(v1), v2, sizeof(v2));

		if (r != -EINVAL)
			fail_msg("cgroup_parse_proc(\"%s\") = %d, want -EINVAL", bad[i], r);
	}
	assert_string_equal(v1, "untouched");
	assert_string_equal(v2, "untouched");

	/* The longest path PATH_MAX holds is fine; one byte more is not. */
	assert_non_null(text);
	strcpy(text, "0::");
	n = strlen(text);
	for (size_t i = 0; i < PATH_MAX - 1; i++)
		text[n + i] = i % 200 == 0 ? '/' : 'a';
	text[n + PATH_MAX - 1] = '\0';
	assert_int_equal(cgroup_parse_proc(text, v1, sizeof(v1), v2, sizeof(v2)), 0);
	assert_int_equal(strlen(v2), PATH_MAX - 1);
	strcat(text, "a\n");
	assert_int_equal(cgroup_parse_proc(text, v1, sizeof(v1), v2, sizeof(v2)), -EINVAL);
	assert_int_equal(strlen(v2), PATH_MAX - 1);
	free(text);

	/* A valid path that does not fit the caller's buffer. */
	assert_int_equal(cgroup_parse_proc("0::/abcdef\n", v1, sizeof(v1), v2, 7), -ENOBUFS);
	assert_int_equal(cgroup_parse_proc("0::/abcdef\n", v1, sizeof(v1), v2, 8), 0);
	assert_string_equal(v2, "/abcdef");
	assert_int_equal(cgroup_parse_proc("4:memory:/abcdef\n", v1, 0, v2, sizeof(v2)), -ENOBUFS);
}

static void test_path_is_valid(void **state)
{
	char *longest = malloc(PATH_MAX + 1);

	assert_true(cgroup_path_is_valid("/"));
	assert_true(cgroup_path_is_valid("/a"));
	assert_true(cgroup_path_is_valid("/kubepods.slice/kubepods-burstable.slice/cri-containerd-1f.scope"));
	assert_true(cgroup_path_is_valid("/...")); /* a name, not a parent */
	assert_false(cgroup_path_is_valid(NULL));
	assert_false(cgroup_path_is_valid(""));
	assert_false(cgroup_path_is_valid("a"));
	assert_false(cgroup_path_is_valid("//"));
	assert_false(cgroup_path_is_valid("/../etc"));
	assert_false(cgroup_path_is_valid("/a/.."));
	assert_false(cgroup_path_is_valid("/a/\x7f"));

	assert_non_null(longest);
	memset(longest, 'a', PATH_MAX);
	longest[0] = '/';
	longest[PATH_MAX] = '\0';
	assert_false(cgroup_path_is_valid(longest));
	longest[PATH_MAX - 1] = '\0';
	assert_true(cgroup_path_is_valid(longest));
	free(longest);
}

/* ---- v1 ---- */

static void test_v1_leaf_limit(void **state)
{
	struct tree *t = *state;

	tree_put(t, "v1", "memory.limit_in_bytes", V1_UNLIMITED);
	tree_put(t, "v1/a", "memory.limit_in_bytes", V1_UNLIMITED);
	tree_put(t, "v1/a/b", "memory.limit_in_bytes", "268435456\n");
	expect_limit(&t->roots, "/a/b", NULL, 0, 256 * MiB, "/v1/a/b/memory.limit_in_bytes");
	/* Without v2 at all, and without a v2 path. */
	struct cgroup_roots v1_only = { .v1_memory = t->v1 };

	expect_limit(&v1_only, "/a/b", "/a/b", 0, 256 * MiB, "/v1/a/b/memory.limit_in_bytes");
	expect_limit(&t->roots, "/a/b", "", 0, 256 * MiB, "/v1/a/b/memory.limit_in_bytes");
}

static void test_v1_unlimited_leaf_limited_parent(void **state)
{
	struct tree *t = *state;

	tree_put(t, "v1", "memory.limit_in_bytes", V1_UNLIMITED);
	tree_put(t, "v1/a", "memory.limit_in_bytes", "536870912\n");
	tree_put(t, "v1/a/b", "memory.limit_in_bytes", V1_UNLIMITED);
	tree_put(t, "v1/a/b/c", "memory.limit_in_bytes", V1_UNLIMITED);
	expect_limit(&t->roots, "/a/b/c", NULL, 0, 512 * MiB, "/v1/a/memory.limit_in_bytes");
	/* The smallest wins wherever it is. */
	tree_put(t, "v1/a/b", "memory.limit_in_bytes", "1073741824\n");
	expect_limit(&t->roots, "/a/b/c", NULL, 0, 512 * MiB, "/v1/a/memory.limit_in_bytes");
	tree_put(t, "v1/a/b/c", "memory.limit_in_bytes", "4096\n");
	expect_limit(&t->roots, "/a/b/c", NULL, 0, 4096, "/v1/a/b/c/memory.limit_in_bytes");
	/* A missing file in an ancestor is skipped. */
	tree_put(t, "v1/x/y", "memory.limit_in_bytes", V1_UNLIMITED);
	tree_put(t, "v1/x/y/z", "memory.limit_in_bytes", "8192\n");
	expect_limit(&t->roots, "/x/y/z", NULL, 0, 8192, "/v1/x/y/z/memory.limit_in_bytes");
}

static void test_v1_no_limit(void **state)
{
	struct tree *t = *state;

	tree_put(t, "v1", "memory.limit_in_bytes", V1_UNLIMITED);
	tree_put(t, "v1/a", "memory.limit_in_bytes", V1_UNLIMITED);
	tree_put(t, "v1/a/b", "memory.limit_in_bytes", V1_UNLIMITED);
	expect_limit(&t->roots, "/a/b", NULL, -ENOENT, 0, NULL);
	expect_limit(&t->roots, "/", NULL, -ENOENT, 0, NULL);
	/* 2^62 and more are "none" too; less is a (huge) limit. */
	tree_put(t, "v1/a/b", "memory.limit_in_bytes", "4611686018427387904\n");
	expect_limit(&t->roots, "/a/b", NULL, -ENOENT, 0, NULL);
	tree_put(t, "v1/a/b", "memory.limit_in_bytes", "18446744073709551615\n");
	expect_limit(&t->roots, "/a/b", NULL, -ENOENT, 0, NULL);
	tree_put(t, "v1/a/b", "memory.limit_in_bytes", "4611686018427383808\n");
	expect_limit(&t->roots, "/a/b", NULL, 0, UINT64_C(4611686018427383808), "/v1/a/b/memory.limit_in_bytes");
	/* No roots, no paths: nothing known, nothing applies. */
	expect_limit(NULL, "/a/b", "/a/b", -ENOENT, 0, NULL);
	expect_limit(&(struct cgroup_roots){ 0 }, "/a/b", "/a/b", -ENOENT, 0, NULL);
	expect_limit(&t->roots, NULL, NULL, -ENOENT, 0, NULL);
	expect_limit(&t->roots, "", "", -ENOENT, 0, NULL);
}

static void test_v1_use_hierarchy(void **state)
{
	struct tree *t = *state;

	tree_put(t, "v1", "memory.limit_in_bytes", V1_UNLIMITED);
	tree_put(t, "v1/a", "memory.limit_in_bytes", "536870912\n");
	tree_put(t, "v1/a", "memory.use_hierarchy", "1\n");
	tree_put(t, "v1/a/b", "memory.limit_in_bytes", V1_UNLIMITED);
	tree_put(t, "v1/a/b", "memory.use_hierarchy", "1\n");
	expect_limit(&t->roots, "/a/b", NULL, 0, 512 * MiB, "/v1/a/memory.limit_in_bytes");
	/* A parent that does not account its children does not limit them (pre-5.11 kernels). */
	tree_put(t, "v1/a", "memory.use_hierarchy", "0\n");
	expect_limit(&t->roots, "/a/b", NULL, -ENOENT, 0, NULL);
	/* The leaf's own setting is about its children, not about it. */
	tree_put(t, "v1/a/b", "memory.use_hierarchy", "0\n");
	tree_put(t, "v1/a", "memory.use_hierarchy", "1\n");
	expect_limit(&t->roots, "/a/b", NULL, 0, 512 * MiB, "/v1/a/memory.limit_in_bytes");
	tree_put(t, "v1/a", "memory.use_hierarchy", "yes\n");
	expect_limit(&t->roots, "/a/b", NULL, -EINVAL, 0, NULL);
}

/* ---- v2 ---- */

static void test_v2_limits(void **state)
{
	struct tree *t = *state;

	/* The v2 root has no memory.max. */
	tree_put(t, "v2/a", "memory.max", "1073741824\n");
	expect_limit(&t->roots, NULL, "/a", 0, GiB, "/v2/a/memory.max");
	tree_put(t, "v2/a", "memory.max", "max\n");
	expect_limit(&t->roots, NULL, "/a", -ENOENT, 0, NULL);
	expect_limit(&t->roots, NULL, "/", -ENOENT, 0, NULL);
	/* Without the final newline too. */
	tree_put(t, "v2/a", "memory.max", "max");
	expect_limit(&t->roots, NULL, "/a", -ENOENT, 0, NULL);
	tree_put(t, "v2/a", "memory.max", "4096");
	expect_limit(&t->roots, NULL, "/a", 0, 4096, "/v2/a/memory.max");
	/* 0 is a limit (a harsh one). */
	tree_put(t, "v2/a", "memory.max", "0\n");
	expect_limit(&t->roots, NULL, "/a", 0, 0, "/v2/a/memory.max");
	/* The kernel says "max" long before this; a limit this large is none. */
	tree_put(t, "v2/a", "memory.max", "18446744073709551615\n");
	expect_limit(&t->roots, NULL, "/a", -ENOENT, 0, NULL);
}

static void test_v2_nested_min(void **state)
{
	struct tree *t = *state;

	tree_put(t, "v2/a", "memory.max", "1073741824\n");
	tree_put(t, "v2/a/b", "memory.max", "max\n");
	tree_put(t, "v2/a/b/c", "memory.max", "2147483648\n");
	expect_limit(&t->roots, NULL, "/a/b/c", 0, GiB, "/v2/a/memory.max");
	tree_put(t, "v2/a/b", "memory.max", "134217728\n");
	expect_limit(&t->roots, NULL, "/a/b/c", 0, 128 * MiB, "/v2/a/b/memory.max");
	/* A cgroup without the memory controller has no memory.max: skipped. */
	tree_mkdir(t, "v2/a/b/c/d");
	expect_limit(&t->roots, NULL, "/a/b/c/d", 0, 128 * MiB, "/v2/a/b/memory.max");
	/* The hybrid layout of this machine: v2 without memory anywhere. */
	tree_mkdir(t, "v2/x/y");
	expect_limit(&t->roots, NULL, "/x/y", -ENOENT, 0, NULL);
}

static void test_both_smaller_wins(void **state)
{
	struct tree *t = *state;

	tree_put(t, "v1", "memory.limit_in_bytes", V1_UNLIMITED);
	tree_put(t, "v1/a", "memory.limit_in_bytes", "536870912\n");
	tree_put(t, "v2/a", "memory.max", "268435456\n");
	expect_limit(&t->roots, "/a", "/a", 0, 256 * MiB, "/v2/a/memory.max");
	tree_put(t, "v2/a", "memory.max", "1073741824\n");
	expect_limit(&t->roots, "/a", "/a", 0, 512 * MiB, "/v1/a/memory.limit_in_bytes");
	/* A tie goes to v1. */
	tree_put(t, "v2/a", "memory.max", "536870912\n");
	expect_limit(&t->roots, "/a", "/a", 0, 512 * MiB, "/v1/a/memory.limit_in_bytes");
	/* v1 unlimited, v2 limited. */
	tree_put(t, "v1/a", "memory.limit_in_bytes", V1_UNLIMITED);
	expect_limit(&t->roots, "/a", "/a", 0, 512 * MiB, "/v2/a/memory.max");
	/* v1 path known but the controller not mounted: v2 only. */
	struct cgroup_roots v2_only = { .v2 = t->v2 };

	tree_put(t, "v1/a", "memory.limit_in_bytes", "4096\n");
	expect_limit(&v2_only, "/a", "/a", 0, 512 * MiB, "/v2/a/memory.max");
	/* v1 path unknown: v2 only. */
	expect_limit(&t->roots, "", "/a", 0, 512 * MiB, "/v2/a/memory.max");
	expect_limit(&t->roots, "/a", "/a", 0, 4096, "/v1/a/memory.limit_in_bytes");
}

/* ---- failures ---- */

static void test_vanished_leaf(void **state)
{
	struct tree *t = *state;
	char path[PATH_MAX];

	tree_put(t, "v1/a", "memory.limit_in_bytes", "536870912\n");
	tree_put(t, "v2/a", "memory.max", "536870912\n");
	expect_limit(&t->roots, "/a/gone", NULL, -ENOENT, 0, NULL);
	expect_limit(&t->roots, NULL, "/a/gone", -ENOENT, 0, NULL);
	expect_limit(&t->roots, "/gone/too", NULL, -ENOENT, 0, NULL);
	/* One hierarchy gone fails the lookup, even when the other has a limit. */
	expect_limit(&t->roots, "/a", "/a/gone", -ENOENT, 0, NULL);
	expect_limit(&t->roots, "/a/gone", "/a", -ENOENT, 0, NULL);
	/* Removed after a first look. */
	tree_put(t, "v2/a/b", "memory.max", "4096\n");
	expect_limit(&t->roots, NULL, "/a/b", 0, 4096, "/v2/a/b/memory.max");
	snprintf(path, sizeof(path), "%s/a/b/memory.max", t->v2);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/a/b", t->v2);
	assert_int_equal(rmdir(path), 0);
	expect_limit(&t->roots, NULL, "/a/b", -ENOENT, 0, NULL);
	/* A root that is not there. */
	struct cgroup_roots nowhere = { .v1_memory = "/nonexistent/inspectd/memory" };

	expect_limit(&nowhere, "/", NULL, -ENOENT, 0, NULL);
}

static void test_garbage_limit(void **state)
{
	static const char *const garbage[] = {
		"", "\n", "lots\n", "12abc\n", "-1\n", " 4096\n", "4096 \n", "4096\n\n",
		"0x1000\n", "+4096\n", "1e9\n", "MAX\n", "max \n", "maxx\n",
		"18446744073709551616\n",                                       /* 2^64 */
		"00000000000000000000000000000000000000000000000000000004096\n", /* overlong */
	};
	struct tree *t = *state;

	tree_put(t, "v1/a", "memory.limit_in_bytes", "4096\n");
	tree_put(t, "v2/a/b", "memory.max", "4096\n");
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		/* In the leaf or an ancestor, the limit is unknown rather than absent. */
		tree_put(t, "v2/a/b", "memory.max", garbage[i]);
		expect_limit(&t->roots, NULL, "/a/b", -EINVAL, 0, NULL);
		tree_put(t, "v2/a/b", "memory.max", "4096\n");
		tree_put(t, "v2/a", "memory.max", garbage[i]);
		expect_limit(&t->roots, NULL, "/a/b", -EINVAL, 0, NULL);
		tree_put(t, "v2/a", "memory.max", "max\n");
		/* v1 never says "max". */
		if (strncmp(garbage[i], "max", 3) != 0) {
			tree_put(t, "v1/a", "memory.limit_in_bytes", garbage[i]);
			expect_limit(&t->roots, "/a", NULL, -EINVAL, 0, NULL);
		}
	}
	tree_put(t, "v1/a", "memory.limit_in_bytes", "max\n");
	expect_limit(&t->roots, "/a", NULL, -EINVAL, 0, NULL);
	/* Garbage in one hierarchy fails the lookup. */
	expect_limit(&t->roots, "/a", "/a/b", -EINVAL, 0, NULL);
}

static void test_hostile_paths(void **state)
{
	static const char *const bad[] = {
		"/../etc", "/..", "/a/..", "/a/../..", "a", "", "/a//b", "/a/", "/./a",
	};
	struct tree *t = *state;
	char path[PATH_MAX], *longest;

	/* Something to find if ".." were followed out of the root. */
	tree_put(t, "etc", "memory.max", "4096\n");
	tree_put(t, "etc", "memory.limit_in_bytes", "4096\n");
	tree_put(t, "v2/a", "memory.max", "8192\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t limit = 1;
		int want = bad[i][0] ? -EINVAL : -ENOENT;   /* "" is "unknown" */

		if (cgroup_memory_limit(&t->roots, NULL, bad[i], &limit, NULL, 0) != want || limit != 0)
			fail_msg("v2 path \"%s\" not rejected", bad[i]);
		if (cgroup_memory_limit(&t->roots, bad[i], NULL, &limit, NULL, 0) != want || limit != 0)
			fail_msg("v1 path \"%s\" not rejected", bad[i]);
		/* A bad path spoils the lookup even when the other one is fine. */
		if (bad[i][0] && cgroup_memory_limit(&t->roots, bad[i], "/a", &limit, NULL, 0) != -EINVAL)
			fail_msg("v1 path \"%s\" not rejected beside a good v2 path", bad[i]);
	}

	/* Too long for PATH_MAX: invalid. Valid, but too long once the root is added. */
	longest = malloc(PATH_MAX + 1);
	assert_non_null(longest);
	for (size_t i = 0; i < PATH_MAX; i++)
		longest[i] = i % 100 == 0 ? '/' : 'a';
	longest[PATH_MAX] = '\0';
	expect_limit(&t->roots, NULL, longest, -EINVAL, 0, NULL);
	longest[PATH_MAX - 1] = '\0';
	expect_limit(&t->roots, NULL, longest, -ENAMETOOLONG, 0, NULL);
	free(longest);

	/* A symlinked cgroup (cgroupfs has none) is not followed. */
	snprintf(path, sizeof(path), "%s/etc", t->base);
	tree_mkdir(t, "v2/a");
	{
		char link[PATH_MAX];
		uint64_t limit = 1;

		snprintf(link, sizeof(link), "%s/a/link", t->v2);
		assert_int_equal(symlink(path, link), 0);
		assert_true(cgroup_memory_limit(&t->roots, NULL, "/a/link", &limit, NULL, 0) < 0);
		assert_true(limit == 0);
	}
}

/* ---- cgroup_memory_limit_of() ---- */

static void test_limit_of_self(void **state)
{
	struct tree *t = *state;
	char v1[PATH_MAX], v2[PATH_MAX], rel[PATH_MAX + 8], *text;
	uint64_t limit = 1;
	ssize_t n;
	int fd;

	/* Mirror this process's own cgroup paths under the fake roots. */
	text = calloc(1, CGROUP_PROC_MAX + 1);
	assert_non_null(text);
	fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, text, CGROUP_PROC_MAX);
	assert_true(n > 0);
	close(fd);
	assert_int_equal(cgroup_parse_proc(text, v1, sizeof(v1), v2, sizeof(v2)), 0);
	free(text);
	if (!v2[0] && !v1[0]) {
		print_message("skipped: /proc/self/cgroup names neither a v2 nor a v1 memory cgroup\n");
		skip();
	}
	if (v1[0]) {
		snprintf(rel, sizeof(rel), "v1%s", strcmp(v1, "/") ? v1 : "");
		tree_put(t, rel, "memory.limit_in_bytes", V1_UNLIMITED);
	}
	if (v2[0]) {
		snprintf(rel, sizeof(rel), "v2%s", strcmp(v2, "/") ? v2 : "");
		/* The v2 root has no memory.max: limit the v1 side then. */
		if (strcmp(v2, "/") != 0)
			tree_put(t, rel, "memory.max", "123731968\n");
		else
			tree_put(t, "v1", "memory.limit_in_bytes", "123731968\n");
	} else {
		tree_put(t, "v1", "memory.limit_in_bytes", "123731968\n");
	}

	char p1[PATH_MAX], p2[PATH_MAX];

	assert_int_equal(cgroup_memory_limit_of(&t->roots, getpid(), &limit, p1, sizeof(p1), p2, sizeof(p2)), 0);
	assert_true(limit == 123731968);
	assert_string_equal(p1, v1);
	assert_string_equal(p2, v2);
	assert_int_equal(cgroup_memory_limit_of(&t->roots, getpid(), &limit, NULL, 0, NULL, 0), 0);
	assert_true(limit == 123731968);
}

static void test_limit_of_gone(void **state)
{
	struct tree *t = *state;
	char v1[PATH_MAX] = "untouched";
	uint64_t limit = 1;
	int r;

	/* Above any pid_max: no such process. */
	r = cgroup_memory_limit_of(&t->roots, INT_MAX, &limit, v1, sizeof(v1), NULL, 0);
	assert_int_equal(r, -ENOENT);
	assert_true(limit == 0);
	assert_string_equal(v1, "untouched");
}

/* ---- this machine ---- */

static void test_real_system(void **state)
{
	struct cgroup_roots roots;
	char v1[PATH_MAX], v2[PATH_MAX], dir[PATH_MAX * 2], source[PATH_MAX];
	char *text = calloc(1, CGROUP_PROC_MAX + 1);
	uint64_t limit = 1, limit_of = 1;
	ssize_t n;
	int fd, r, r_of;

	assert_non_null(text);
	fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, text, CGROUP_PROC_MAX);
	close(fd);
	assert_true(n > 0);
	/* The kernel's own text always parses. */
	assert_int_equal(cgroup_parse_proc(text, v1, sizeof(v1), v2, sizeof(v2)), 0);
	free(text);

	if (cgroup_detect_roots(&roots) < 0) {
		print_message("skipped: no cgroup hierarchy under /sys/fs/cgroup\n");
		skip();
	}
	print_message("  roots: v1 memory %s, v2 %s; paths: v1 \"%s\", v2 \"%s\"\n",
		      roots.v1_memory ? roots.v1_memory : "-", roots.v2 ? roots.v2 : "-", v1, v2);
	/* A mounted hierarchy is one this process is in, and its cgroup is there. */
	if (roots.v2) {
		assert_true(v2[0] == '/');
		snprintf(dir, sizeof(dir), "%s%s", roots.v2, v2);
		if (access(dir, F_OK) < 0)
			print_message("  %s: %s (another cgroup namespace?)\n", dir, strerror(errno));
	}
	if (!roots.v1_memory) {
		print_message("skipped: no cgroup v1 memory controller at /sys/fs/cgroup/memory\n");
		skip();
	}
	assert_true(v1[0] == '/');
	snprintf(dir, sizeof(dir), "%s%s", roots.v1_memory, v1);
	if (access(dir, F_OK) < 0) {
		print_message("skipped: %s: %s (in another cgroup namespace or container)\n", dir, strerror(errno));
		skip();
	}

	r = cgroup_memory_limit(&roots, v1, v2, &limit, source, sizeof(source));
	assert_true(r == 0 || r == -ENOENT);
	print_message("  limit: %d, %" PRIu64 " from \"%s\"\n", r, limit, source);
	if (r == 0) {
		assert_true(limit > 0);
		assert_int_equal(access(source, R_OK), 0);
	} else {
		assert_true(limit == 0);
		assert_string_equal(source, "");
	}
	/* The convenience wrapper agrees. */
	r_of = cgroup_memory_limit_of(&roots, getpid(), &limit_of, NULL, 0, NULL, 0);
	assert_int_equal(r_of, r);
	assert_true(limit_of == limit);
}

/* ---- cgroup_join_namespace_of() ---- */

static ino_t cgroup_ns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/cgroup", &st) == 0 ? st.st_ino : 0;
}

/* The text of /proc/self/cgroup, as this process's cgroup namespace names it. */
static void read_self_cgroup(char *buf, size_t size)
{
	ssize_t n;
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	n = read(fd, buf, size - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
}

static void test_join_namespace(void **state)
{
	char host[CGROUP_PROC_MAX + 1], joined[CGROUP_PROC_MAX + 1];
	int status;
	pid_t child, parent = getpid();

	if (cgroup_ns_ino() != 0xEFFFFFFBU) {
		print_message("skipped: this test runs in a cgroup namespace of its own, not the kernel's initial one\n");
		skip();
	}
	/* In the initial namespace: nothing to do, pid 1 not even looked at (it may be unreadable). */
	assert_int_equal(cgroup_join_namespace_of(1), 0);
	assert_int_equal(cgroup_join_namespace_of(INT_MAX), 0);
	read_self_cgroup(host, sizeof(host));

	/* A child in a namespace of its own (as a container's), its root the child's own
	 * cgroups, joins its parent's: it then names cgroups as the parent does. Exit codes:
	 * 0 joined, 77 cannot unshare (not root), 1-9 the step that failed. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		if (unshare(CLONE_NEWCGROUP) < 0)
			_exit(77);
		if (cgroup_ns_ino() == 0xEFFFFFFBU)
			_exit(1);
		/* Already in its own: nothing to do when asked for itself. */
		if (cgroup_join_namespace_of(getpid()) != 0)
			_exit(2);
		if (cgroup_join_namespace_of(INT_MAX) != -ENOENT)
			_exit(3);
		if (cgroup_join_namespace_of(parent) != 1)
			_exit(4);
		if (cgroup_ns_ino() != 0xEFFFFFFBU)
			_exit(5);
		read_self_cgroup(joined, sizeof(joined));
		_exit(strcmp(joined, host) == 0 ? 0 : 6);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		print_message("skipped: unshare(CLONE_NEWCGROUP): not allowed here (root's CAP_SYS_ADMIN is needed)\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_proc_fixture),
		cmocka_unit_test(test_parse_proc_text),
		cmocka_unit_test(test_parse_proc_malformed),
		cmocka_unit_test(test_parse_proc_hostile_paths),
		cmocka_unit_test(test_path_is_valid),
		cmocka_unit_test(test_join_namespace),
		cmocka_unit_test_setup_teardown(test_v1_leaf_limit, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_v1_unlimited_leaf_limited_parent, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_v1_no_limit, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_v1_use_hierarchy, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_v2_limits, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_v2_nested_min, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_both_smaller_wins, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_vanished_leaf, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_garbage_limit, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_paths, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_limit_of_self, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_limit_of_gone, tree_setup, tree_teardown),
		cmocka_unit_test(test_real_system),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
