// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Snapshot headroom: the parsers of statm, meminfo and memory.stat; the room the cgroups
 * leave, over small cgroup trees (plain directories and files) under a mkdtemp() folder,
 * one per test (cgroup_tree.h, as test_cgroup.c builds them):
 *   TMP/v1/...   as the v1 memory hierarchy (memory.limit_in_bytes, memory.usage_in_bytes,
 *                memory.stat with total_inactive_file, memory.use_hierarchy)
 *   TMP/v2/...   as the v2 hierarchy (memory.max, memory.current, memory.stat; the root
 *                has none of them, as on a real one)
 * and the judge, pure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "headroom.h"
#include "procfs.h"
#include "fixture.h"
#include "cgroup_tree.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

/* memory.stat as the kernels show it, cut short; %s: the inactive file pages. */
#define V2_STAT "anon 104857600\nfile 209715200\nkernel 1048576\nactive_anon 0\ninactive_anon 104857600\n" \
	"active_file 52428800\ninactive_file %s\nslab 524288\n"
#define V1_STAT "cache 209715200\nrss 104857600\ninactive_file 7\nhierarchical_memory_limit 536870912\n" \
	"total_cache 209715200\ntotal_rss 104857600\ntotal_inactive_file %s\ntotal_active_file 0\n"

/* A v2 cgroup TMP/v2/rel with memory.max, memory.current and memory.stat. */
static void put_v2(struct tree *t, const char *rel, const char *max, uint64_t current, uint64_t inactive)
{
	char buf[1024], num[32], dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "v2/%s", rel);
	tree_put(t, dir, "memory.max", max);
	snprintf(num, sizeof(num), "%" PRIu64 "\n", current);
	tree_put(t, dir, "memory.current", num);
	snprintf(num, sizeof(num), "%" PRIu64, inactive);
	snprintf(buf, sizeof(buf), V2_STAT, num);
	tree_put(t, dir, "memory.stat", buf);
}

/* A v1 cgroup TMP/v1/rel with memory.limit_in_bytes, memory.usage_in_bytes and memory.stat. */
static void put_v1(struct tree *t, const char *rel, const char *limit, uint64_t usage, uint64_t inactive)
{
	char buf[1024], num[32], dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "v1/%s", rel);
	tree_put(t, dir, "memory.limit_in_bytes", limit);
	snprintf(num, sizeof(num), "%" PRIu64 "\n", usage);
	tree_put(t, dir, "memory.usage_in_bytes", num);
	snprintf(num, sizeof(num), "%" PRIu64, inactive);
	snprintf(buf, sizeof(buf), V1_STAT, num);
	tree_put(t, dir, "memory.stat", buf);
}

static void assert_ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	if (n < m || strcmp(s + n - m, tail) != 0)
		fail_msg("\"%s\" does not end in \"%s\"", s, tail);
}

/* headroom_read_cgroups() returns want; on 0, limit, usage and the source's tail. */
static void expect_room(const struct cgroup_roots *r, const char *v1, const char *v2, int want,
			uint64_t want_limit, uint64_t want_usage, const char *want_source)
{
	struct headroom h;
	int ret;

	memset(&h, 0x5a, sizeof(h));
	ret = headroom_read_cgroups(r, v1, v2, &h);
	if (ret != want)
		fail_msg("read_cgroups(v1 \"%s\", v2 \"%s\") = %d (%s), want %d", v1 ? v1 : "(null)",
			 v2 ? v2 : "(null)", ret, strerror(-ret), want);
	if (want < 0)
		return;
	if (h.limit != want_limit || h.usage != want_usage)
		fail_msg("limit %" PRIu64 ", usage %" PRIu64 "; want %" PRIu64 ", %" PRIu64,
			 h.limit, h.usage, want_limit, want_usage);
	if (!want_source) {
		assert_string_equal(h.limit_source, "");
		return;
	}
	assert_ends_with(h.limit_source, want_source);
	assert_int_equal(access(h.limit_source, R_OK), 0);
}

/* ---- parsers ---- */

static void test_parse_statm(void **state)
{
	uint64_t rss = 1;

	assert_int_equal(headroom_parse_statm("278873 12345 3276 1 0 60000 0\n", 4096, &rss), 0);
	assert_true(rss == UINT64_C(12345) * 4096);
	/* A zombie's. */
	assert_int_equal(headroom_parse_statm("0 0 0 0 0 0 0\n", 4096, &rss), 0);
	assert_true(rss == 0);

	rss = 7;
	const char *bad[] = {
		"", "\n", "278873 12345 3276 1 0 60000 0", "278873 12345 3276 1 0 60000\n",
		"278873 12345 3276 1 0 60000 0 1\n", "278873  12345 3276 1 0 60000 0\n",
		" 278873 12345 3276 1 0 60000 0\n", "278873 -12345 3276 1 0 60000 0\n",
		"278873 +12345 3276 1 0 60000 0\n", "278873 12345 3276 1 0 60000 0\n\n",
		"278873 12345 3276 1 0 60000 0\nx", "278873 0x10 3276 1 0 60000 0\n",
		"278873 123456789012345678901 3276 1 0 60000 0\n", "278873 1\t2 3276 1 0 60000 0\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (headroom_parse_statm(bad[i], 4096, &rss) != -EINVAL)
			fail_msg("statm \"%s\" accepted", bad[i]);
	}
	/* Resident pages times the page size beyond 64 bits. */
	assert_int_equal(headroom_parse_statm("1 18446744073709551615 0 0 0 0 0\n", 4096, &rss), -EOVERFLOW);
	assert_true(rss == 7);
}

static void test_parse_meminfo(void **state)
{
	const char *text = "MemTotal:       24684556 kB\nMemFree:        23243220 kB\n"
			   "MemAvailable:   24221112 kB\nBuffers:           45076 kB\n";
	uint64_t v = 1;

	assert_int_equal(headroom_parse_meminfo(text, &v), 0);
	assert_true(v == UINT64_C(24221112) * 1024);
	assert_int_equal(headroom_parse_meminfo("MemAvailable: 1 kB\n", &v), 0);
	assert_true(v == 1024);
	/* No such line (before Linux 3.14); a look-alike in the middle of a line is not one. */
	assert_int_equal(headroom_parse_meminfo("MemTotal: 1 kB\nMemFree: 1 kB\n", &v), -ENOENT);
	assert_int_equal(headroom_parse_meminfo("XMemAvailable: 5 kB\n", &v), -ENOENT);
	assert_int_equal(headroom_parse_meminfo("", &v), -ENOENT);
	v = 9;
	const char *bad[] = {
		"MemAvailable:   x kB\n", "MemAvailable:   12 MB\n", "MemAvailable:   12 kB",
		"MemAvailable:12 kB\n", "MemAvailable:   -12 kB\n", "MemAvailable:   12kB\n",
		"MemAvailable:   18014398509481984 kB\n",           /* 2^54 KiB: 2^64 bytes */
		"MemAvailable:   99999999999999999999999 kB\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (headroom_parse_meminfo(bad[i], &v) != -EINVAL)
			fail_msg("meminfo \"%s\" accepted", bad[i]);
	}
	assert_true(v == 9);
	/* The real one parses. */
	char *real = NULL;

	assert_true(procfs_read_whole_path("/proc/meminfo", HEADROOM_STAT_MAX, &real) > 0);
	assert_int_equal(headroom_parse_meminfo(real, &v), 0);
	assert_true(v > 0);
	free(real);
}

static void test_parse_memory_stat(void **state)
{
	char text[1024];
	uint64_t v = 1;

	snprintf(text, sizeof(text), V2_STAT, "4096");
	assert_int_equal(headroom_parse_memory_stat(text, "inactive_file", &v), 0);
	assert_true(v == 4096);
	assert_int_equal(headroom_parse_memory_stat(text, "anon", &v), 0);
	assert_true(v == 104857600);
	/* A key is a whole name: not a prefix, not a suffix. */
	assert_int_equal(headroom_parse_memory_stat(text, "inactive", &v), -ENOENT);
	assert_int_equal(headroom_parse_memory_stat(text, "total_inactive_file", &v), -ENOENT);
	snprintf(text, sizeof(text), V1_STAT, "12345");
	assert_int_equal(headroom_parse_memory_stat(text, "total_inactive_file", &v), 0);
	assert_true(v == 12345);
	assert_int_equal(headroom_parse_memory_stat(text, "inactive_file", &v), 0);
	assert_true(v == 7);
	assert_int_equal(headroom_parse_memory_stat("", "inactive_file", &v), -ENOENT);

	v = 3;
	const char *bad[] = {
		"inactive_file 1",                      /* the last line cut short */
		"inactive_file  1\n", "inactive_file\t1\n", "inactive_file -1\n", "inactive_file 1 2\n",
		"Inactive_file 1\n", "inactive-file 1\n", " inactive_file 1\n", "inactive_file\n",
		"\ninactive_file 1\n", "inactive_file 99999999999999999999\n",
		"anon x\ninactive_file 1\n",            /* any line not the kernel's */
		"inactive_file 1\ninactive_file 2\n",   /* twice */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = headroom_parse_memory_stat(bad[i], "inactive_file", &v);

		if (r != -EINVAL)
			fail_msg("memory.stat \"%s\" gave %d", bad[i], r);
	}
	assert_true(v == 3);
}

/* ---- the cgroups ---- */

static void test_v2_limit(void **state)
{
	struct tree *t = *state;

	/* 1 GiB, 600 MiB charged of which 100 MiB inactive file pages: 500 MiB working set. */
	put_v2(t, "kubepods/pod1/c1", "1073741824\n", 600 * MiB, 100 * MiB);
	tree_put(t, "v2/kubepods/pod1", "memory.max", "max\n");
	expect_room(&t->roots, "", "/kubepods/pod1/c1", 0, GiB, 500 * MiB, "/v2/kubepods/pod1/c1/memory.max");
	/* More inactive file pages than usage: nothing counts. */
	put_v2(t, "kubepods/pod1/c1", "1073741824\n", 100 * MiB, 200 * MiB);
	expect_room(&t->roots, NULL, "/kubepods/pod1/c1", 0, GiB, 0, "/v2/kubepods/pod1/c1/memory.max");
	/* Over its limit (memory.max lowered below the usage): no room, still the one. */
	put_v2(t, "kubepods/pod1/c1", "104857600\n", 300 * MiB, 0);
	expect_room(&t->roots, NULL, "/kubepods/pod1/c1", 0, 100 * MiB, 300 * MiB, "/v2/kubepods/pod1/c1/memory.max");
	/* memory.max 0: a limit, not none. */
	put_v2(t, "kubepods/pod1/c1", "0\n", 0, 0);
	expect_room(&t->roots, NULL, "/kubepods/pod1/c1", 0, 1, 0, "/v2/kubepods/pod1/c1/memory.max");
}

static void test_v2_ancestor_tighter(void **state)
{
	struct tree *t = *state;

	/* The child has the smaller limit but the parent the least room: the parent binds. */
	put_v2(t, "slice", "2147483648\n", 2048 * MiB - 100 * MiB, 0);
	put_v2(t, "slice/app", "1073741824\n", 200 * MiB, 0);
	expect_room(&t->roots, NULL, "/slice/app", 0, 2 * GiB, 1948 * MiB, "/v2/slice/memory.max");
	/* The parent with room again: the child's limit binds. */
	put_v2(t, "slice", "2147483648\n", 300 * MiB, 0);
	expect_room(&t->roots, NULL, "/slice/app", 0, GiB, 200 * MiB, "/v2/slice/app/memory.max");
	/* A level without the memory controller (no files) is passed over. */
	tree_mkdir(t, "v2/slice/app/inner");
	expect_room(&t->roots, NULL, "/slice/app/inner", 0, GiB, 200 * MiB, "/v2/slice/app/memory.max");
}

static void test_no_limit(void **state)
{
	struct tree *t = *state;

	/* v2: "max" all the way; the root has no files. */
	put_v2(t, "a/b", "max\n", 600 * MiB, 0);
	tree_put(t, "v2/a", "memory.max", "max\n");
	expect_room(&t->roots, NULL, "/a/b", 0, 0, 0, NULL);
	expect_room(&t->roots, NULL, "/", 0, 0, 0, NULL);
	/* v1: the kernel's "none" everywhere. */
	put_v1(t, "docker/abc", V1_UNLIMITED, 600 * MiB, 0);
	tree_put(t, "v1/docker", "memory.limit_in_bytes", V1_UNLIMITED);
	tree_put(t, "v1", "memory.limit_in_bytes", V1_UNLIMITED);
	expect_room(&t->roots, "/docker/abc", "/a/b", 0, 0, 0, NULL);
	/* No path, no hierarchy, no roots at all. */
	expect_room(&t->roots, "", "", 0, 0, 0, NULL);
	expect_room(&t->roots, NULL, NULL, 0, 0, 0, NULL);
	expect_room(NULL, "/docker/abc", "/a/b", 0, 0, 0, NULL);
	struct cgroup_roots none = { NULL, NULL };

	expect_room(&none, "/docker/abc", "/a/b", 0, 0, 0, NULL);
}

static void test_v1_limit(void **state)
{
	struct tree *t = *state;

	/* total_inactive_file counts (inactive_file is this cgroup's own, without children). */
	put_v1(t, "docker/abc", "536870912\n", 300 * MiB, 50 * MiB);
	tree_put(t, "v1/docker", "memory.limit_in_bytes", V1_UNLIMITED);
	tree_put(t, "v1", "memory.limit_in_bytes", V1_UNLIMITED);
	expect_room(&t->roots, "/docker/abc", "", 0, 512 * MiB, 250 * MiB, "/v1/docker/abc/memory.limit_in_bytes");
	/* A parent with less room binds... */
	put_v1(t, "docker", "1073741824\n", GiB - 10 * MiB, 0);
	expect_room(&t->roots, "/docker/abc", "", 0, GiB, GiB - 10 * MiB, "/v1/docker/memory.limit_in_bytes");
	/* ...unless it does not charge its children (memory.use_hierarchy 0, before 5.11). */
	tree_put(t, "v1/docker", "memory.use_hierarchy", "0\n");
	expect_room(&t->roots, "/docker/abc", "", 0, 512 * MiB, 250 * MiB, "/v1/docker/abc/memory.limit_in_bytes");
	tree_put(t, "v1/docker", "memory.use_hierarchy", "1\n");
	expect_room(&t->roots, "/docker/abc", "", 0, GiB, GiB - 10 * MiB, "/v1/docker/memory.limit_in_bytes");
	/* The leaf's own use_hierarchy does not matter; garbage in a parent's does. */
	tree_put(t, "v1/docker/abc", "memory.use_hierarchy", "0\n");
	expect_room(&t->roots, "/docker/abc", "", 0, GiB, GiB - 10 * MiB, "/v1/docker/memory.limit_in_bytes");
	tree_put(t, "v1/docker", "memory.use_hierarchy", "2\n");
	expect_room(&t->roots, "/docker/abc", "", -EINVAL, 0, 0, NULL);
}

static void test_v1_and_v2(void **state)
{
	struct tree *t = *state;

	/* Both apply: the least room wins, whichever hierarchy. */
	put_v1(t, "a", "1073741824\n", 100 * MiB, 0);
	put_v2(t, "b", "2147483648\n", 1500 * MiB, 0);
	expect_room(&t->roots, "/a", "/b", 0, 2 * GiB, 1500 * MiB, "/v2/b/memory.max");
	put_v2(t, "b", "2147483648\n", 100 * MiB, 0);
	expect_room(&t->roots, "/a", "/b", 0, GiB, 100 * MiB, "/v1/a/memory.limit_in_bytes");
	/* A tie: v1 is named. */
	put_v2(t, "b", "1073741824\n", 100 * MiB, 0);
	expect_room(&t->roots, "/a", "/b", 0, GiB, 100 * MiB, "/v1/a/memory.limit_in_bytes");
}

static void test_garbage(void **state)
{
	struct tree *t = *state;
	char big[HEADROOM_STAT_MAX + 64];

	put_v2(t, "g", "1073741824\n", 100 * MiB, 0);
	expect_room(&t->roots, NULL, "/g", 0, GiB, 100 * MiB, "/v2/g/memory.max");
	const struct { const char *file, *text; } cases[] = {
		{ "memory.max", "12x\n" }, { "memory.max", "-1\n" }, { "memory.max", "" },
		{ "memory.max", "1073741824 \n" }, { "memory.max", "99999999999999999999999999\n" },
		{ "memory.current", "abc\n" }, { "memory.current", "" }, { "memory.current", "1\n2\n" },
		{ "memory.current", "18446744073709551616\n" },
		{ "memory.stat", "inactive_file 1" }, { "memory.stat", "anon 1\n" },
		{ "memory.stat", "inactive_file 1\ninactive_file 1\n" }, { "memory.stat", "\x01\x02\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put_v2(t, "g", "1073741824\n", 100 * MiB, 0);
		tree_put(t, "v2/g", cases[i].file, cases[i].text);
		if (headroom_read_cgroups(&t->roots, NULL, "/g", &(struct headroom){ 0 }) != -EINVAL)
			fail_msg("%s \"%s\" accepted", cases[i].file, cases[i].text);
	}
	/* memory.stat longer than HEADROOM_STAT_MAX: refused, not cut. */
	put_v2(t, "g", "1073741824\n", 100 * MiB, 0);
	memset(big, 0, sizeof(big));
	for (size_t n = 0; n + 16 < sizeof(big) - 1; n += 16)
		memcpy(big + n, "pgfault 1234567\n", 16);
	tree_put(t, "v2/g", "memory.stat", big);
	expect_room(&t->roots, NULL, "/g", -EINVAL, 0, 0, NULL);
	/* Not a regular file: a folder, a FIFO (never waited on). */
	put_v2(t, "g", "1073741824\n", 100 * MiB, 0);
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/g/memory.current", t->v2);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	expect_room(&t->roots, NULL, "/g", -EINVAL, 0, 0, NULL);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	expect_room(&t->roots, NULL, "/g", -EINVAL, 0, 0, NULL);
	assert_int_equal(rmdir(path), 0);
	/* A limit without its usage or memory.stat beside it: missing. */
	expect_room(&t->roots, NULL, "/g", -ENOENT, 0, 0, NULL);
	put_v2(t, "g", "1073741824\n", 100 * MiB, 0);
	snprintf(path, sizeof(path), "%s/g/memory.stat", t->v2);
	assert_int_equal(unlink(path), 0);
	expect_room(&t->roots, NULL, "/g", -ENOENT, 0, 0, NULL);
	/* Invalid paths never reach the file system. */
	expect_room(&t->roots, NULL, "/../g", -EINVAL, 0, 0, NULL);
	expect_room(&t->roots, "/g/..", NULL, -EINVAL, 0, 0, NULL);
	expect_room(&t->roots, NULL, "g", -EINVAL, 0, 0, NULL);
	expect_room(&t->roots, NULL, "/g//h", -EINVAL, 0, 0, NULL);
}

static void test_symlinks(void **state)
{
	struct tree *t = *state;
	char target[PATH_MAX], link[PATH_MAX];

	/* A tight cgroup outside the hierarchy, and links to it from inside. */
	snprintf(target, sizeof(target), "%s/outside", t->base);
	tree_put(t, "outside", "memory.max", "1048576\n");
	tree_put(t, "outside", "memory.current", "0\n");
	tree_put(t, "outside", "memory.stat", "inactive_file 0\n");
	tree_mkdir(t, "v2/a");
	snprintf(link, sizeof(link), "%s/a/link", t->v2);
	assert_int_equal(symlink(target, link), 0);
	expect_room(&t->roots, NULL, "/a/link", -EINVAL, 0, 0, NULL);
	expect_room(&t->roots, NULL, "/a/link/deeper", -EINVAL, 0, 0, NULL);
	/* A symlinked file in a real cgroup. */
	put_v2(t, "b", "1073741824\n", 100 * MiB, 0);
	snprintf(link, sizeof(link), "%s/b/memory.max", t->v2);
	assert_int_equal(unlink(link), 0);
	snprintf(target, sizeof(target), "%s/outside/memory.max", t->base);
	assert_int_equal(symlink(target, link), 0);
	expect_room(&t->roots, NULL, "/b", -EINVAL, 0, 0, NULL);
}

static void test_vanished(void **state)
{
	struct tree *t = *state;

	put_v2(t, "a", "1073741824\n", 100 * MiB, 0);
	/* The leaf is gone (the process moved, or exited and its cgroup was removed). */
	expect_room(&t->roots, NULL, "/a/gone", -ENOENT, 0, 0, NULL);
	expect_room(&t->roots, "/gone", NULL, -ENOENT, 0, 0, NULL);
	/* A hierarchy's root missing altogether. */
	struct cgroup_roots r = { NULL, "/nonexistent/inspectd-headroom" };

	expect_room(&r, NULL, "/a", -ENOENT, 0, 0, NULL);
}

static void test_depth(void **state)
{
	struct tree *t = *state;
	char rel[PATH_MAX] = "v2", path[PATH_MAX] = "";

	for (int i = 0; i < HEADROOM_MAX_DEPTH; i++) {
		strcat(rel, "/d");
		strcat(path, "/d");
	}
	put_v2(t, rel + 3, "1073741824\n", 100 * MiB, 0);
	expect_room(&t->roots, NULL, path, 0, GiB, 100 * MiB, "/d/memory.max");
	strcat(rel, "/d");
	strcat(path, "/d");
	tree_mkdir(t, rel);
	expect_room(&t->roots, NULL, path, -E2BIG, 0, 0, NULL);
}

/* ---- headroom_read(): this process ---- */

static void test_read_self(void **state)
{
	struct tree *t = *state;
	char v1[PATH_MAX], v2[PATH_MAX], rel[PATH_MAX + 8], *text = NULL;
	struct headroom h = { .heap_used = 42, .heap_total = 43 };
	uint64_t status_rss;

	/* Mirror this process's own cgroup paths under the fake roots, each limited. */
	assert_true(procfs_read_whole(getpid(), "cgroup", CGROUP_PROC_MAX, &text) > 0);
	assert_int_equal(cgroup_parse_proc(text, v1, sizeof(v1), v2, sizeof(v2)), 0);
	free(text);
	if (!v1[0] && (!v2[0] || strcmp(v2, "/") == 0)) {
		print_message("skipped: /proc/self/cgroup names neither a v1 memory cgroup nor a v2 one below the root\n");
		skip();
	}
	if (v1[0]) {
		snprintf(rel, sizeof(rel), "%s", strcmp(v1, "/") ? v1 + 1 : "");
		put_v1(t, rel, "536870912\n", 300 * MiB, 100 * MiB);
	}
	if (v2[0] && strcmp(v2, "/") != 0)
		put_v2(t, v2 + 1, "268435456\n", 100 * MiB, 0);
	assert_int_equal(headroom_read(&t->roots, getpid(), &h), 0);
	/* The caller's fields are left as they are. */
	assert_true(h.heap_used == 42 && h.heap_total == 43);
	if (v2[0] && strcmp(v2, "/") != 0) {
		assert_true(h.limit == 256 * MiB && h.usage == 100 * MiB);
		assert_ends_with(h.limit_source, "/memory.max");
	} else {
		assert_true(h.limit == 512 * MiB && h.usage == 200 * MiB);
		assert_ends_with(h.limit_source, "/memory.limit_in_bytes");
	}
	assert_true(h.host_available > 0);
	/* RSS: what status says, give or take what this test touched between the reads. */
	assert_true(procfs_read_whole(getpid(), "status", PROCFS_TEXT_MAX, &text) > 0);
	assert_true(sscanf(strstr(text, "VmRSS:") + 6, "%" SCNu64, &status_rss) == 1);
	free(text);
	status_rss *= 1024;
	assert_true(h.rss > status_rss / 2 && h.rss < status_rss * 2);

	/* No roots: no limit; the room is the host's. */
	assert_int_equal(headroom_read(NULL, getpid(), &h), 0);
	assert_true(h.limit == 0 && h.usage == 0);
	assert_string_equal(h.limit_source, "/proc/meminfo");
}

static void test_read_gone(void **state)
{
	struct headroom h = { 0 };

	/* Above any pid_max: no such process. */
	assert_int_equal(headroom_read(NULL, INT_MAX, &h), -ESRCH);
	assert_int_equal(headroom_read(NULL, 0, &h), -ESRCH);
	assert_int_equal(headroom_read(NULL, -1, &h), -ESRCH);
}

static void test_read_real_system(void **state)
{
	struct cgroup_roots roots;
	struct headroom h = { 0 };
	int r;

	if (cgroup_detect_roots(&roots) < 0) {
		print_message("skipped: no cgroup hierarchy under /sys/fs/cgroup\n");
		skip();
	}
	r = headroom_read(&roots, getpid(), &h);
	print_message("  self: %d, rss %" PRIu64 " KiB, limit %" PRIu64 " MiB, working set %" PRIu64
		      " MiB, host available %" PRIu64 " MiB, from %s\n", r, h.rss >> 10, h.limit >> 20,
		      h.usage >> 20, h.host_available >> 20, h.limit_source);
	/* In another cgroup namespace the paths may not exist from here. */
	if (r == -ENOENT) {
		print_message("skipped: a cgroup of this process is not under the roots (another cgroup namespace?)\n");
		skip();
	}
	assert_int_equal(r, 0);
	assert_true(h.rss > 0 && h.host_available > 0);
	assert_true(h.limit_source[0] == '/');

	/* The kernel's memory.stat parses, whether or not a limit made the walk read it. */
	const struct { const char *root, *key; } stats[] = {
		{ roots.v1_memory, "total_inactive_file" }, { roots.v2, "inactive_file" },
	};
	for (size_t i = 0; i < 2; i++) {
		char path[PATH_MAX], *text = NULL;
		uint64_t v;

		if (!stats[i].root)
			continue;
		snprintf(path, sizeof(path), "%s/memory.stat", stats[i].root);
		if (procfs_read_whole_path(path, HEADROOM_STAT_MAX, &text) < 0)
			continue;       /* the v2 root has none on older kernels, nor without the controller */
		assert_int_equal(headroom_parse_memory_stat(text, stats[i].key, &v), 0);
		print_message("  %s: %s %" PRIu64 " MiB\n", path, stats[i].key, v >> 20);
		free(text);
	}
}

/* ---- the judge ---- */

static struct headroom room_of(uint64_t heap_used, uint64_t limit, uint64_t usage, uint64_t host)
{
	struct headroom h = { .heap_used = heap_used, .heap_total = heap_used * 2, .rss = 3 * heap_used,
			      .limit = limit, .usage = usage, .host_available = host };

	snprintf(h.limit_source, sizeof(h.limit_source), limit ? "/sys/fs/cgroup/x/memory.max" : "/proc/meminfo");
	return h;
}

static void test_judge_no_limit(void **state)
{
	struct headroom_verdict v;
	struct headroom h = room_of(64 * MiB, 0, 0, GiB);

	/* 16 x 64 MiB is the host's 1 GiB exactly: fits. */
	headroom_judge(&h, 16, &v);
	assert_true(v.allowed);
	assert_true(v.estimate == GiB && v.room == GiB);
	assert_string_equal(v.reason, "estimated peak 1024 MiB (16 x 64 MiB used heap) fits in 1024 MiB of room "
			    "(no memory limit, host available 1024 MiB)");
	/* A byte less: refused. */
	h.host_available = GiB - 1;
	headroom_judge(&h, 16, &v);
	assert_false(v.allowed);
	assert_true(v.estimate == GiB && v.room == GiB - 1);
	assert_string_equal(v.reason, "estimated peak 1024 MiB (16 x 64 MiB used heap) exceeds the 1023 MiB of room "
			    "(no memory limit, host available 1023 MiB)");
	/* A byte more of heap: refused too. */
	h = room_of(64 * MiB + 1, 0, 0, GiB);
	headroom_judge(&h, 16, &v);
	assert_false(v.allowed);
	assert_true(v.estimate == GiB + 16);
}

static void test_judge_limit(void **state)
{
	struct headroom_verdict v;
	/* 2 GiB limit, 1 GiB working set: 1 GiB of room; the host has plenty. */
	struct headroom h = room_of(100 * MiB, 2 * GiB, GiB, 20 * GiB);

	headroom_judge(&h, 10.24, &v);
	assert_true(v.allowed);
	assert_true(v.room == GiB);
	headroom_judge(&h, 16, &v);
	assert_false(v.allowed);
	assert_true(v.estimate == 1600 * MiB && v.room == GiB);
	assert_string_equal(v.reason, "estimated peak 1600 MiB (16 x 100 MiB used heap) exceeds the 1024 MiB of room "
			    "(limit 2048 MiB, working set 1024 MiB, host available 20480 MiB)");
	/* Boundary on the limit side: room = limit - usage exactly. */
	h = room_of(100 * MiB, 1600 * MiB + 5, 5, 20 * GiB);
	headroom_judge(&h, 16, &v);
	assert_true(v.allowed);
	h.usage = 6;
	headroom_judge(&h, 16, &v);
	assert_false(v.allowed);
	/* The host has less than the cgroup leaves: the host's is the room. */
	h = room_of(100 * MiB, 8 * GiB, GiB, 1500 * MiB);
	headroom_judge(&h, 16, &v);
	assert_false(v.allowed);
	assert_true(v.room == 1500 * MiB);
	assert_non_null(strstr(v.reason, "exceeds the 1500 MiB of room (limit 8192 MiB, working set 1024 MiB, "
				"host available 1500 MiB)"));
	/* Over the limit already: no room at all. */
	h = room_of(MiB, GiB, 2 * GiB, 20 * GiB);
	headroom_judge(&h, 16, &v);
	assert_false(v.allowed);
	assert_true(v.room == 0);
}

static void test_judge_floor(void **state)
{
	struct headroom_verdict v;
	struct headroom h = room_of(MiB, 0, 0, HEADROOM_FLOOR);

	/* 16 x 1 MiB is under the floor: the floor is the estimate. */
	headroom_judge(&h, 16, &v);
	assert_true(v.allowed);
	assert_true(v.estimate == HEADROOM_FLOOR);
	assert_string_equal(v.reason, "estimated peak 64 MiB (16 x 1 MiB used heap, at least 64 MiB) fits in 64 MiB "
			    "of room (no memory limit, host available 64 MiB)");
	h.host_available--;
	headroom_judge(&h, 16, &v);
	assert_false(v.allowed);
	/* A used heap of 0 (a target that says so) still costs the floor. */
	h = room_of(0, 0, 0, HEADROOM_FLOOR - 1);
	headroom_judge(&h, 16, &v);
	assert_false(v.allowed);
	assert_true(v.estimate == HEADROOM_FLOOR);
	/* A tiny factor too. */
	h = room_of(GiB, 0, 0, 20 * GiB);
	headroom_judge(&h, 1e-300, &v);
	assert_true(v.allowed && v.estimate == HEADROOM_FLOOR);
}

static void test_judge_unchecked_and_invalid(void **state)
{
	struct headroom_verdict v;
	struct headroom h = room_of(100 * GiB, GiB, 2 * GiB, 0);

	/* Factor 0: allowed whatever the numbers, and said to be unchecked. */
	headroom_judge(&h, 0, &v);
	assert_true(v.allowed);
	assert_true(v.estimate == 0 && v.room == 0);
	assert_string_equal(v.reason, "unchecked (headroom factor 0): 102400 MiB used heap, 0 MiB of room "
			    "(limit 1024 MiB, working set 2048 MiB, host available 0 MiB)");
	/* Not a factor: refused, plenty of room or not. */
	h = room_of(MiB, 0, 0, 20 * GiB);
	const double bad[] = { -1, -0.5, NAN, INFINITY, -INFINITY };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		headroom_judge(&h, bad[i], &v);
		assert_false(v.allowed);
		assert_non_null(strstr(v.reason, "headroom factor"));
	}
}

static void test_judge_huge(void **state)
{
	struct headroom_verdict v;
	struct headroom h = room_of(UINT64_MAX, UINT64_MAX, 0, UINT64_MAX);

	/* factor x usedSize beyond 2^64 saturates: never wraps to a small estimate. */
	headroom_judge(&h, 16, &v);
	assert_true(v.estimate == UINT64_MAX);
	assert_true(v.room == UINT64_MAX);
	assert_true(v.allowed);         /* everything, of everything */
	h.host_available = UINT64_MAX - 1;
	headroom_judge(&h, 16, &v);
	assert_false(v.allowed);
	h = room_of(UINT64_C(1) << 62, 0, 0, UINT64_MAX - 1);
	headroom_judge(&h, 4, &v);
	assert_true(v.estimate == UINT64_MAX);
	assert_false(v.allowed);
	headroom_judge(&h, 1e300, &v);
	assert_true(v.estimate == UINT64_MAX);
	assert_false(v.allowed);
	/* Just under 2^64: a double's rounding must not wrap either. */
	h = room_of(UINT64_C(1) << 60, 0, 0, UINT64_MAX);
	headroom_judge(&h, 15.999999999999998, &v);
	assert_true(v.estimate >= UINT64_C(1) << 63);
	/* Usage beyond the limit at the top of the range. */
	h = room_of(MiB, UINT64_MAX - 1, UINT64_MAX, UINT64_MAX);
	headroom_judge(&h, 16, &v);
	assert_true(v.room == 0);
	assert_false(v.allowed);
	/* The longest reason still fits, whole. */
	h = room_of(UINT64_MAX, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX);
	headroom_judge(&h, 1.2345678901234567e-300, &v);
	assert_true(strlen(v.reason) < sizeof(v.reason) - 1);
	assert_true(v.reason[strlen(v.reason) - 1] == ')');
	h = room_of(UINT64_MAX, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX);
	headroom_judge(&h, 1.2345678901234567e+300, &v);
	assert_true(v.reason[strlen(v.reason) - 1] == ')');
	h = room_of(1, UINT64_MAX, UINT64_MAX - 1, UINT64_MAX);
	headroom_judge(&h, 1.2345678901234567e-300, &v);
	assert_non_null(strstr(v.reason, ", at least 64 MiB)"));
	assert_true(v.reason[strlen(v.reason) - 1] == ')');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_statm),
		cmocka_unit_test(test_parse_meminfo),
		cmocka_unit_test(test_parse_memory_stat),
		cmocka_unit_test_setup_teardown(test_v2_limit, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_v2_ancestor_tighter, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_no_limit, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_v1_limit, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_v1_and_v2, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_garbage, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_symlinks, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_vanished, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_depth, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_read_self, tree_setup, tree_teardown),
		cmocka_unit_test(test_read_gone),
		cmocka_unit_test(test_read_real_system),
		cmocka_unit_test(test_judge_no_limit),
		cmocka_unit_test(test_judge_limit),
		cmocka_unit_test(test_judge_floor),
		cmocka_unit_test(test_judge_unchecked_and_invalid),
		cmocka_unit_test(test_judge_huge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
