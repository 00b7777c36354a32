// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The spool, on real files in a fresh folder per test, with its real writer thread:
 * files streamed and committed (exact bytes, 0600, meta.json, the done callback and its
 * paths, only from spool__dispatch()); unique bases against the folder and the commits
 * in flight; final names never replaced, whatever is planted there; all or nothing;
 * abort, reset, the per-file cap and the quota; retention (the oldest of the caller's
 * commits removed, whole, to make room; nothing else); compressed files (gzip that
 * inflate() reads back, their cap and the quota on disk bytes, no truncate but to their
 * size, reset, abort); a killed agent's temporaries; cancel;
 * free with commits in flight; and a real full disk (a 256 KiB tmpfs, in a private
 * mount namespace of a child: root only).
 */
#define _GNU_SOURCE             /* unshare() */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "fixture.h"
#include "fsutil.h"
#include "spool.h"
#include "spool_outcome.h"

static const char *const heap_ext[] = { "heapprofile" };

/* ---- helpers ---- */

static const char *out_dir(char *buf, size_t size, void **state)
{
	return fixture_path(buf, size, *state, "out");
}

static struct spool *open_spool(const char *dir, uint64_t file_max, uint64_t quota)
{
	struct spool_limits lim = { .file_max = file_max, .quota = quota };
	struct spool *s = NULL;

	assert_int_equal(spool__open(dir, &lim, &s), 0);
	assert_non_null(s);
	return s;
}

static struct spool_file *file_with(struct spool *s, const char *text)
{
	struct spool_file *f = NULL;

	assert_int_equal(spool__begin(s, &f), 0);
	assert_int_equal(spool_file__write(f, text, strlen(text)), 0);
	return f;
}

static void assert_file(const char *dir, const char *name, const char *expect, mode_t mode)
{
	char path[512], *buf;
	size_t len = strlen(expect);
	struct stat st;
	ssize_t n;
	int fd;

	fixture_path(path, sizeof(path), dir, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	if (mode)
		assert_int_equal(st.st_mode & 07777, mode);
	assert_int_equal(st.st_size, len);
	buf = malloc(len + 1);
	assert_non_null(buf);
	n = read(fd, buf, len + 1);
	close(fd);
	assert_int_equal(n, len);
	assert_memory_equal(buf, expect, len);
	free(buf);
}

static bool exists(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	return lstat(fixture_path(path, sizeof(path), dir, name), &st) == 0;
}

/* Names in the folder, and how many of them are the spool's temporaries; -1 if it cannot be read. */
static int names_in(const char *dir, int *temps)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	*temps = 0;
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		if (fs_is_temp_name(de->d_name, SPOOL_TEMP_PREFIX))
			(*temps)++;
	}
	closedir(d);
	return n;
}

static int count_names(const char *dir, int *temps)
{
	int n = names_in(dir, temps);

	assert_true(n >= 0);
	return n;
}

/* Whether a thread of this process is named name. */
static bool have_thread(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	bool found = false;

	assert_non_null(d);
	while (!found && (de = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
		found = strcmp(comm, name) == 0;
	}
	closedir(d);
	return found;
}

/* ---- tests ---- */

static void test_commit(void **state)
{
	const char *const exts[] = { "heapprofile", "cpuprofile" };
	struct outcome o = { 0 };
	struct spool_file *files[2];
	char dir[512], base[SPOOL_BASE_SIZE], expect[600];
	mode_t old = umask(022);
	struct spool *s;
	struct stat st;
	int temps, fl;

	snprintf(dir, sizeof(dir), "%s/a/out", (char *)*state);
	s = open_spool(dir, 0, 0);
	umask(old);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(fixture_path(expect, sizeof(expect), *state, "a"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_string_equal(spool__dir(s), dir);
	fl = fcntl(spool__fd(s), F_GETFL);
	assert_true(fl & O_NONBLOCK);
	assert_true(fcntl(spool__fd(s), F_GETFD) & FD_CLOEXEC);
	assert_true(have_thread("inspectd-spool"));

	/* Streamed in chunks. */
	assert_int_equal(spool__begin(s, &files[0]), 0);
	assert_int_equal(spool_file__write(files[0], "{\"head\":", 8), 0);
	assert_int_equal(spool_file__write(files[0], "", 0), 0);
	assert_int_equal(spool_file__write(files[0], "{}}", 3), 0);
	assert_int_equal(spool_file__size(files[0]), 11);
	files[1] = file_with(s, "cpu");
	assert_int_equal(count_names(dir, &temps), 2);
	assert_int_equal(temps, 2);
	assert_int_equal(spool__used(s), 14);

	assert_int_equal(spool__reserve_base(s, "heap-42", exts, 2, base, sizeof(base)), 0);
	assert_string_equal(base, "heap-42");
	assert_int_equal(spool__commit(s, base, files, exts, 2, strdup("{\"meta\":1}\n"), record, &o), 0);
	assert_null(files[0]);
	assert_null(files[1]);
	assert_int_equal(o.calls, 0);          /* never from inside spool__commit() */
	wait_calls(s, &o.calls, 1);
	assert_int_equal(o.result, 0);
	assert_int_equal(o.n_paths, 3);
	snprintf(expect, sizeof(expect), "%s/heap-42.heapprofile", dir);
	assert_string_equal(o.paths[0], expect);
	snprintf(expect, sizeof(expect), "%s/heap-42.cpuprofile", dir);
	assert_string_equal(o.paths[1], expect);
	snprintf(expect, sizeof(expect), "%s/heap-42.meta.json", dir);
	assert_string_equal(o.paths[2], expect);
	assert_file(dir, "heap-42.heapprofile", "{\"head\":{}}", 0600);
	assert_file(dir, "heap-42.cpuprofile", "cpu", 0600);
	assert_file(dir, "heap-42.meta.json", "{\"meta\":1}\n", 0600);
	assert_int_equal(count_names(dir, &temps), 3);
	assert_int_equal(temps, 0);
	assert_int_equal(spool__used(s), 14 + 11);
	/* Dispatching again: nothing more. */
	spool__dispatch(s);
	assert_int_equal(o.calls, 1);

	/* No files, only a meta.json; and no callback. */
	assert_int_equal(spool__commit(s, "alone", NULL, NULL, 0, strdup("{}"), NULL, NULL), 0);
	spool__free(s);
	assert_file(dir, "alone.meta.json", "{}", 0600);

	/* Opened again: the folder's files counted. */
	s = open_spool(dir, 0, 0);
	assert_int_equal(spool__used(s), 14 + 11 + 2);
	spool__free(s);
	spool__free(NULL);
}

/* ---- a derived file: made on the writer thread, committed with the others, or not at all ---- */

struct derive_seen {
	int makes, frees, notes;
	int result;                     /* what make returns */
	bool on_thread;
	int noted_result;
	char from[512], path[512];
};

/* Upper-cases the input: the input read by pread from 0, the output written at its offset. */
static int upper(int in_fd, int out_fd, void *arg)
{
	struct derive_seen *d = arg;
	char buf[256], comm[32] = "";
	ssize_t n = pread(in_fd, buf, sizeof(buf), 0);
	FILE *f = fopen("/proc/thread-self/comm", "re");

	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	d->on_thread = strcmp(comm, "inspectd-spool") == 0;
	d->makes++;
	if (d->result)
		return d->result;
	for (ssize_t i = 0; i < n; i++)
		buf[i] = (char)(buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
	return write(out_fd, buf, (size_t)n) == n ? 0 : -EIO;
}

static void derive_free(void *arg)
{
	((struct derive_seen *)arg)->frees++;
}

static struct derive_seen *noted_into;

static void noted(void *ctx, int result, const char *from, const char *path)
{
	noted_into->notes++;
	noted_into->noted_result = result;
	snprintf(noted_into->from, sizeof(noted_into->from), "%s", from);
	snprintf(noted_into->path, sizeof(noted_into->path), "%s", path);
}

static void test_derived(void **state)
{
	const char *const exts[] = { "cpuprofile" };
	const struct spool_derive_count *counts;
	struct derive_seen d = { 0 };
	struct outcome o = { 0 };
	struct spool_file *files[1];
	char dir[512], expect[600];
	struct spool *s;
	int temps;
	struct spool_derive der = {
		.name = "upper", .from = 0, .ext = "up", .make = upper, .arg = &d, .free_arg = derive_free,
		.noted = noted,
	};

	noted_into = &d;
	s = open_spool(out_dir(dir, sizeof(dir), state), 0, 0);
	assert_int_equal(spool__derive_counts(s, &counts), 0);

	/* Written: the file, the derived one, meta.json (the one listing it). */
	files[0] = file_with(s, "profile");
	der.meta_without = strdup("{\"without\":1}");
	assert_int_equal(spool__commit_derived(s, "p1", files, exts, 1, strdup("{\"with\":1}"), &der, record, &o), 0);
	assert_null(files[0]);
	assert_null(der.meta_without);         /* consumed */
	assert_null(der.arg);
	wait_calls(s, &o.calls, 1);
	assert_int_equal(o.result, 0);
	assert_int_equal(o.n_paths, 3);
	snprintf(expect, sizeof(expect), "%s/p1.up", dir);
	assert_string_equal(o.paths[1], expect);
	assert_file(dir, "p1.cpuprofile", "profile", 0600);
	assert_file(dir, "p1.up", "PROFILE", 0600);
	assert_file(dir, "p1.meta.json", "{\"with\":1}", 0600);
	assert_int_equal(d.makes, 1);
	assert_true(d.on_thread);
	assert_int_equal(d.frees, 1);
	assert_int_equal(d.notes, 1);
	assert_int_equal(d.noted_result, 0);
	assert_string_equal(d.path, expect);
	snprintf(expect, sizeof(expect), "%s/p1.cpuprofile", dir);
	assert_string_equal(d.from, expect);
	assert_int_equal(spool__derive_counts(s, &counts), 1);
	assert_string_equal(counts[0].name, "upper");
	assert_int_equal(counts[0].written, 1);
	assert_int_equal(counts[0].failed, 0);

	/* Its maker fails: the commit lands without it, with the other meta.json. */
	d.result = -EPROTO;
	files[0] = file_with(s, "bad");
	der.arg = &d;
	der.free_arg = derive_free;
	der.meta_without = strdup("{\"without\":2}");
	assert_int_equal(spool__commit_derived(s, "p2", files, exts, 1, strdup("{\"with\":2}"), &der, record, &o), 0);
	wait_calls(s, &o.calls, 2);
	assert_int_equal(o.result, 0);
	assert_int_equal(o.n_paths, 2);
	snprintf(expect, sizeof(expect), "%s/p2.meta.json", dir);
	assert_string_equal(o.paths[1], expect);
	assert_file(dir, "p2.cpuprofile", "bad", 0600);
	assert_false(exists(dir, "p2.up"));
	assert_file(dir, "p2.meta.json", "{\"without\":2}", 0600);
	assert_int_equal(d.notes, 2);
	assert_int_equal(d.noted_result, -EPROTO);
	assert_int_equal(d.frees, 2);
	assert_int_equal(spool__derive_counts(s, &counts), 1);
	assert_int_equal(counts[0].written, 1);
	assert_int_equal(counts[0].failed, 1);

	/* Its name is taken (planted): not replaced, the commit lands without it. */
	d.result = 0;
	fixture_write(fixture_path(expect, sizeof(expect), dir, "p3.up"), "planted");
	files[0] = file_with(s, "three");
	der.arg = &d;
	der.free_arg = derive_free;
	der.meta_without = strdup("{\"without\":3}");
	assert_int_equal(spool__commit_derived(s, "p3", files, exts, 1, strdup("{\"with\":3}"), &der, record, &o), 0);
	wait_calls(s, &o.calls, 3);
	assert_int_equal(o.result, 0);
	assert_file(dir, "p3.up", "planted", 0);
	assert_file(dir, "p3.cpuprofile", "three", 0600);
	assert_file(dir, "p3.meta.json", "{\"without\":3}", 0600);
	assert_int_equal(d.noted_result, -EEXIST);
	assert_int_equal(counts[0].failed, 2);

	/* Refused: from not one of the files; everything consumed, nothing left. */
	files[0] = file_with(s, "four");
	der.from = 1;
	der.arg = &d;
	der.free_arg = derive_free;
	der.meta_without = strdup("{}");
	assert_int_equal(spool__commit_derived(s, "p4", files, exts, 1, strdup("{}"), &der, record, &o), -EINVAL);
	assert_null(files[0]);
	assert_null(der.meta_without);
	assert_int_equal(d.frees, 4);
	assert_false(exists(dir, "p4.cpuprofile"));
	count_names(dir, &temps);
	assert_int_equal(temps, 0);
	spool__free(s);
}

static void test_unique_base(void **state)
{
	const char *const exts[] = { "heapprofile" };
	struct outcome o1 = { 0 }, o2 = { 0 };
	char dir[512], base[SPOOL_BASE_SIZE], small[3], path[512];
	struct spool_file *f;
	struct spool *s = open_spool(out_dir(dir, sizeof(dir), state), 0, 0);

	/* A file of the first name, a meta.json alone of the second, a FIFO of the third. */
	fixture_write(fixture_path(path, sizeof(path), dir, "p.heapprofile"), "old");
	fixture_write(fixture_path(path, sizeof(path), dir, "p-1.meta.json"), "old");
	assert_int_equal(mkfifo(fixture_path(path, sizeof(path), dir, "p-2.heapprofile"), 0600), 0);
	assert_int_equal(spool__reserve_base(s, "p", exts, 1, base, sizeof(base)), 0);
	assert_string_equal(base, "p-3");
	/* Not held until committed: asked again, the same. */
	assert_int_equal(spool__reserve_base(s, "p", exts, 1, base, sizeof(base)), 0);
	assert_string_equal(base, "p-3");
	f = file_with(s, "first");
	assert_int_equal(spool__commit(s, base, &f, exts, 1, strdup("{}"), record, &o1), 0);
	/* In flight (not dispatched, whether or not the thread is done): skipped. */
	assert_int_equal(spool__reserve_base(s, "p", exts, 1, base, sizeof(base)), 0);
	assert_string_equal(base, "p-4");
	/* The same names as a commit in flight: refused, the file consumed. */
	f = file_with(s, "second");
	assert_int_equal(spool__commit(s, "p-3", &f, exts, 1, strdup("{}"), record, &o2), -EEXIST);
	assert_null(f);
	/* Names, not bases, are compared: "r" + "tar.gz" in flight takes "r.tar" + "gz". */
	{
		const char *const targz[] = { "tar.gz" }, *const gz[] = { "gz" };

		f = file_with(s, "r");
		assert_int_equal(spool__commit(s, "r", &f, targz, 1, strdup("{}"), record, &o2), 0);
		assert_int_equal(spool__reserve_base(s, "r.tar", gz, 1, base, sizeof(base)), 0);
		assert_string_equal(base, "r.tar-1");
	}
	wait_calls(s, &o1.calls, 1);
	wait_calls(s, &o2.calls, 1);
	assert_int_equal(o1.result, 0);
	assert_int_equal(o2.result, 0);
	assert_file(dir, "r.tar.gz", "r", 0600);
	/* Dispatched, the file is there: still skipped. */
	assert_int_equal(spool__reserve_base(s, "p", exts, 1, base, sizeof(base)), 0);
	assert_string_equal(base, "p-4");
	assert_file(dir, "p-3.heapprofile", "first", 0600);
	assert_file(dir, "p.heapprofile", "old", 0);

	/* What is not a base or an extension. */
	assert_int_equal(spool__reserve_base(s, "", exts, 1, base, sizeof(base)), -EINVAL);
	assert_int_equal(spool__reserve_base(s, ".p", exts, 1, base, sizeof(base)), -EINVAL);
	assert_int_equal(spool__reserve_base(s, "../p", exts, 1, base, sizeof(base)), -EINVAL);
	{
		const char *const bad[] = { "meta.json" }, *const slash[] = { "a/b" }, *const empty[] = { "" };

		assert_int_equal(spool__reserve_base(s, "p", bad, 1, base, sizeof(base)), -EINVAL);
		assert_int_equal(spool__reserve_base(s, "p", slash, 1, base, sizeof(base)), -EINVAL);
		assert_int_equal(spool__reserve_base(s, "p", empty, 1, base, sizeof(base)), -EINVAL);
	}
	assert_int_equal(spool__reserve_base(s, "p", exts, 1, small, sizeof(small)), -ENOBUFS);
	spool__free(s);
}

/* What is at a final name, whatever it is, is never replaced, followed or opened; the commit fails whole. */
static void test_noreplace(void **state)
{
	const char *const two[] = { "heapprofile", "cpuprofile" };
	struct outcome o = { 0 };
	char dir[512], path[512], victim[512], nowhere[512];
	struct spool_file *files[2];
	struct spool *s = open_spool(out_dir(dir, sizeof(dir), state), 0, 0);
	struct stat st;
	int temps;

	fixture_path(victim, sizeof(victim), *state, "victim");
	fixture_write(victim, "precious");
	fixture_path(nowhere, sizeof(nowhere), *state, "nowhere");

	/* A regular file at the second file's name: the first file's final name goes again. */
	fixture_write(fixture_path(path, sizeof(path), dir, "a.cpuprofile"), "old");
	files[0] = file_with(s, "new-heap");
	files[1] = file_with(s, "new-cpu");
	assert_int_equal(spool__commit(s, "a", files, two, 2, strdup("{}"), record, &o), 0);
	wait_calls(s, &o.calls, 1);
	assert_int_equal(o.result, -EEXIST);
	assert_file(dir, "a.cpuprofile", "old", 0);
	assert_false(exists(dir, "a.heapprofile"));
	assert_false(exists(dir, "a.meta.json"));

	/* A FIFO nobody reads at the data's name: no hang. */
	assert_int_equal(mkfifo(fixture_path(path, sizeof(path), dir, "b.heapprofile"), 0600), 0);
	files[0] = file_with(s, "x");
	assert_int_equal(spool__commit(s, "b", files, heap_ext, 1, strdup("{}"), record, &o), 0);
	wait_calls(s, &o.calls, 2);
	assert_int_equal(o.result, -EEXIST);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_false(exists(dir, "b.meta.json"));

	/* A dangling symlink at the meta.json's name: nothing made where it points, the data goes. */
	assert_int_equal(symlink(nowhere, fixture_path(path, sizeof(path), dir, "c.meta.json")), 0);
	files[0] = file_with(s, "x");
	assert_int_equal(spool__commit(s, "c", files, heap_ext, 1, strdup("{}"), record, &o), 0);
	wait_calls(s, &o.calls, 3);
	assert_int_equal(o.result, -EEXIST);
	assert_int_equal(access(nowhere, F_OK), -1);
	assert_false(exists(dir, "c.heapprofile"));
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));

	/* A symlink and a hard link to the victim: the victim is untouched. */
	assert_int_equal(symlink(victim, fixture_path(path, sizeof(path), dir, "d.heapprofile")), 0);
	assert_int_equal(link(victim, fixture_path(path, sizeof(path), dir, "e.heapprofile")), 0);
	files[0] = file_with(s, "x");
	assert_int_equal(spool__commit(s, "d", files, heap_ext, 1, strdup("{}"), record, &o), 0);
	wait_calls(s, &o.calls, 4);
	assert_int_equal(o.result, -EEXIST);
	files[0] = file_with(s, "x");
	assert_int_equal(spool__commit(s, "e", files, heap_ext, 1, strdup("{}"), record, &o), 0);
	wait_calls(s, &o.calls, 5);
	assert_int_equal(o.result, -EEXIST);
	assert_file(*state, "victim", "precious", 0);
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_nlink, 2);

	/* Nothing of ours left, and the failures counted nothing. */
	assert_int_equal(count_names(dir, &temps), 5);
	assert_int_equal(temps, 0);
	assert_int_equal(spool__used(s), strlen("old") + strlen("precious"));
	spool__free(s);

	/* At open, the planted FIFO is only looked at (a hang would stop the test here). */
	s = open_spool(dir, 0, 0);
	spool__free(s);
}

static void test_abort_reset(void **state)
{
	struct outcome o = { 0 };
	char dir[512];
	struct spool *s = open_spool(out_dir(dir, sizeof(dir), state), 0, 0);
	struct spool_file *f, *g;
	int temps;

	f = file_with(s, "dropped, then");
	g = file_with(s, "aborted");
	assert_int_equal(count_names(dir, &temps), 2);
	assert_int_equal(spool__used(s), 13 + 7);
	spool_file__abort(g);
	spool_file__abort(NULL);
	assert_int_equal(count_names(dir, &temps), 1);
	assert_int_equal(spool__used(s), 13);
	/* Back to what was there before a message that is not the one awaited. */
	assert_int_equal(spool_file__truncate(f, 14), -EINVAL);
	assert_int_equal(spool_file__truncate(f, 8), 0);
	assert_int_equal(spool_file__size(f), 8);
	assert_int_equal(spool__used(s), 8);
	assert_int_equal(spool_file__write(f, "!", 1), 0);
	assert_int_equal(spool_file__size(f), 9);
	assert_int_equal(spool_file__reset(f), 0);
	assert_int_equal(spool_file__size(f), 0);
	assert_int_equal(spool__used(s), 0);
	assert_int_equal(spool_file__write(f, "kept", 4), 0);
	assert_int_equal(spool__commit(s, "r", &f, heap_ext, 1, strdup("m"), record, &o), 0);
	wait_calls(s, &o.calls, 1);
	assert_int_equal(o.result, 0);
	assert_file(dir, "r.heapprofile", "kept", 0600);
	assert_int_equal(count_names(dir, &temps), 2);
	assert_int_equal(temps, 0);

	/* Refused commits consume their files and meta.json all the same (ASan sees leaks). */
	f = file_with(s, "x");
	assert_int_equal(spool__commit(s, "../r", &f, heap_ext, 1, strdup("m"), record, &o), -EINVAL);
	f = file_with(s, "x");
	assert_int_equal(spool__commit(s, "s", &f, heap_ext, 1, NULL, record, &o), -EINVAL);
	{
		struct spool_file *twice[2];
		const char *const exts[] = { "a", "b" };

		twice[0] = twice[1] = file_with(s, "x");
		assert_int_equal(spool__commit(s, "t", twice, exts, 2, strdup("m"), record, &o), -EINVAL);
		twice[0] = file_with(s, "x");
		twice[1] = file_with(s, "y");
		{
			const char *const same[] = { "a", "a" };

			assert_int_equal(spool__commit(s, "t", twice, same, 2, strdup("m"), record, &o), -EINVAL);
		}
	}
	assert_int_equal(count_names(dir, &temps), 2);
	assert_int_equal(temps, 0);
	spool__dispatch(s);
	assert_int_equal(o.calls, 1);
	spool__free(s);
}

static void test_file_cap(void **state)
{
	struct outcome o = { 0 };
	char dir[512];
	struct spool *s = open_spool(out_dir(dir, sizeof(dir), state), 10, 0);
	struct spool_file *f = NULL;

	assert_int_equal(spool__begin(s, &f), 0);
	assert_int_equal(spool_file__write(f, "123456", 6), 0);
	assert_int_equal(spool_file__write(f, "78901", 5), -EFBIG);
	assert_int_equal(spool_file__size(f), 6);
	assert_int_equal(spool_file__write(f, "7890", 4), 0);
	assert_int_equal(spool_file__write(f, "1", 1), -EFBIG);
	assert_int_equal(spool_file__write(f, "", 0), 0);
	assert_int_equal(spool_file__size(f), 10);
	/* The cap is per file, and meta.json is not one. */
	assert_int_equal(spool__commit(s, "cap", &f, heap_ext, 1, strdup("a meta.json longer than 10"), record, &o), 0);
	wait_calls(s, &o.calls, 1);
	assert_int_equal(o.result, 0);
	assert_file(dir, "cap.heapprofile", "1234567890", 0600);
	spool__free(s);
}

static void test_quota(void **state)
{
	struct outcome o = { 0 };
	char dir[512], path[512], hundred[101];
	struct spool_file *f, *g;
	struct spool *s;
	int temps;

	/* 100 bytes there before the agent. */
	memset(hundred, 'h', 100);
	hundred[100] = '\0';
	assert_int_equal(mkdir(out_dir(dir, sizeof(dir), state), 0700), 0);
	fixture_write(fixture_path(path, sizeof(path), dir, "old"), hundred);
	s = open_spool(dir, 0, 150);
	assert_int_equal(spool__used(s), 100);

	f = file_with(s, "0123456789012345678901234567890123456789");        /* 40: 140 */
	assert_int_equal(spool__begin(s, &g), 0);
	assert_int_equal(spool_file__write(g, "01234567890", 11), -EDQUOT);     /* 151 */
	assert_int_equal(spool_file__size(g), 0);
	assert_int_equal(spool_file__write(g, "0123456789", 10), 0);            /* 150 */
	assert_int_equal(spool_file__write(g, "x", 1), -EDQUOT);
	spool_file__abort(g);                                                   /* 140 */
	assert_int_equal(spool__used(s), 140);
	/* A meta.json that does not fit: refused, the file consumed. */
	assert_int_equal(spool__commit(s, "big", &f, heap_ext, 1, strdup("01234567890"), record, &o), -EDQUOT);
	assert_int_equal(spool__used(s), 100);
	assert_int_equal(count_names(dir, &temps), 1);
	/* One that fits. */
	f = file_with(s, "0123456789012345678901234567890123456789");
	assert_int_equal(spool__commit(s, "fits", &f, heap_ext, 1, strdup("0123456789"), record, &o), 0);
	assert_int_equal(spool__used(s), 150);
	wait_calls(s, &o.calls, 1);
	assert_int_equal(o.result, 0);
	assert_int_equal(spool__used(s), 150);
	assert_int_equal(spool__begin(s, &g), 0);
	assert_int_equal(spool_file__write(g, "x", 1), -EDQUOT);
	/* An operator removes the old file: seen after the next commit. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(spool__commit(s, "empty", &g, heap_ext, 1, strdup(""), record, &o), 0);
	wait_calls(s, &o.calls, 2);
	assert_int_equal(o.result, 0);
	assert_int_equal(spool__used(s), 50);
	f = file_with(s, "room again");
	spool_file__abort(f);
	spool__free(s);
}

/* Retention's bases, as the test names them: "c" and digits. */
static bool test_base(const char *base)
{
	if (base[0] != 'c' || !base[1])
		return false;
	for (const char *p = base + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static void text_of(char *buf, size_t n, char c)
{
	memset(buf, c, n);
	buf[n] = '\0';
}

/* Commit BASE.heapprofile (size bytes) and a meta.json of 10, and wait for it; its meta.json's mtime is age. */
static int commit_aged(struct spool *s, const char *dir, const char *base, size_t size, time_t age,
		       struct outcome *o)
{
	char text[512], meta[64], path[512];
	struct spool_file *f = NULL;
	int calls = o->calls, r;

	text_of(text, size, 'p');
	assert_int_equal(spool__begin(s, &f), 0);
	r = spool_file__write(f, text, size);
	if (r < 0) {
		spool_file__abort(f);
		return r;
	}
	r = spool__commit(s, base, &f, heap_ext, 1, strdup("0123456789"), record, o);
	if (r < 0)
		return r;
	wait_calls(s, &o->calls, calls + 1);
	if (o->result == 0) {
		snprintf(meta, sizeof(meta), "%s.meta.json", base);
		assert_int_equal(utimensat(AT_FDCWD, fixture_path(path, sizeof(path), dir, meta),
					   (struct timespec[]){ { age, 0 }, { age, 0 } }, 0), 0);
	}
	return o->result;
}

static void test_retention(void **state)
{
	struct spool_limits lim = { .quota = 350, .retain = test_base };
	char dir[512], path[512], text[512];
	struct outcome o = { 0 };
	struct spool_file *g;
	struct spool *s;
	int temps;

	/* Not ours: a file of another name, a meta.json of a base retain() refuses, a
	 * member with a dotted extension, and a pair whose meta.json is a symlink. 80 bytes. */
	assert_int_equal(mkdir(out_dir(dir, sizeof(dir), state), 0700), 0);
	text_of(text, 50, 'n');
	fixture_write(fixture_path(path, sizeof(path), dir, "notes"), text);
	fixture_write(fixture_path(path, sizeof(path), dir, "zz.meta.json"), "0123456789");
	fixture_write(fixture_path(path, sizeof(path), dir, "c1.x.y"), "0123456789");
	fixture_write(fixture_path(path, sizeof(path), dir, "c8.heapprofile"), "0123456789");
	assert_int_equal(symlink("notes", fixture_path(path, sizeof(path), dir, "c8.meta.json")), 0);
	assert_int_equal(spool__open(dir, &lim, &s), 0);
	assert_int_equal(spool__used(s), 80);

	assert_int_equal(commit_aged(s, dir, "c1", 100, 1000, &o), 0);         /* 190 */
	assert_int_equal(commit_aged(s, dir, "c2", 100, 2000, &o), 0);         /* 300 */
	assert_int_equal(spool__used(s), 300);
	assert_int_equal(spool__removed(s), 0);
	/* Another capture's temporary, being written: 20 bytes, never removed. */
	assert_int_equal(spool__begin(s, &g), 0);
	assert_int_equal(spool_file__write(g, "01234567890123456789", 20), 0);
	/* 300 + 20 + 110 > 350: c1, the oldest, goes, whole; nothing else does. */
	assert_int_equal(commit_aged(s, dir, "c3", 100, 3000, &o), 0);
	assert_int_equal(spool__removed(s), 1);
	assert_false(exists(dir, "c1.heapprofile"));
	assert_false(exists(dir, "c1.meta.json"));
	assert_true(exists(dir, "c1.x.y"));
	assert_true(exists(dir, "c2.heapprofile") && exists(dir, "c2.meta.json"));
	assert_true(exists(dir, "c3.heapprofile") && exists(dir, "c3.meta.json"));
	assert_true(exists(dir, "notes") && exists(dir, "zz.meta.json"));
	assert_true(exists(dir, "c8.heapprofile") && exists(dir, "c8.meta.json"));
	assert_int_equal(count_names(dir, &temps), 10);
	assert_int_equal(temps, 1);
	assert_int_equal(spool__used(s), 300 + 20);

	/* A write is refused only when it could not fit with every commit of ours gone: 80 are
	 * not ours, 20 are being written, so 250 fit, 251 do not. */
	text_of(text, 251, 'b');
	assert_int_equal(spool_file__write(g, text, 251), -EDQUOT);
	/* 250 and its meta.json of 10 do not fit either: at the commit. */
	assert_int_equal(commit_aged(s, dir, "c4", 250, 4000, &o), -EDQUOT);
	assert_int_equal(spool__removed(s), 1);
	spool_file__abort(g);
	/* 240 + 10: c2 and c3 both go. */
	assert_int_equal(commit_aged(s, dir, "c5", 240, 5000, &o), 0);
	assert_int_equal(spool__removed(s), 3);
	assert_false(exists(dir, "c2.meta.json") || exists(dir, "c3.meta.json"));
	assert_int_equal(spool__used(s), 80 + 250);

	/* What the loop did not know (an operator's file): the thread finds no room, removes nothing. */
	text_of(text, 300, 'o');
	fixture_write(fixture_path(path, sizeof(path), dir, "operator"), text);
	assert_int_equal(commit_aged(s, dir, "c6", 10, 6000, &o), -EDQUOT);
	assert_true(exists(dir, "c5.heapprofile") && exists(dir, "c5.meta.json"));
	assert_false(exists(dir, "c6.heapprofile") || exists(dir, "c6.meta.json"));
	assert_int_equal(spool__removed(s), 3);
	count_names(dir, &temps);
	assert_int_equal(temps, 0);
	spool__free(s);
}

/* The outbox's rank, faked: c2 and c4 are delivered (0), the rest not yet (1). */
static int delivered_rank(void *arg, const char *base)
{
	(*(int *)arg)++;
	return strcmp(base, "c2") == 0 || strcmp(base, "c4") == 0 ? 0 : 1;
}

struct observed {
	char committed[8][16];
	int n_committed;
	char removed[8][16];
	int removed_rank[8];
	int n_removed;
};

static void observe_committed(void *ctx, const char *base, int64_t at)
{
	struct observed *o = ctx;

	assert_true(at > 0);
	if (o->n_committed < 8)
		snprintf(o->committed[o->n_committed++], 16, "%s", base);
}

static void observe_removed(void *ctx, const char *base, int rank, unsigned long n)
{
	struct observed *o = ctx;

	assert_non_null(base);
	assert_int_equal(n, 1);
	if (o->n_removed < 8) {
		o->removed_rank[o->n_removed] = rank;
		snprintf(o->removed[o->n_removed++], 16, "%s", base);
	}
}

/* Retention with a rank: delivered commits go first, oldest first; then the undelivered.
 * The observer hears what landed and what was removed, with its rank. */
static void test_retention_delivered_first(void **state)
{
	struct spool_limits lim = { .quota = 450, .retain = test_base };
	struct observed seen = { 0 };
	struct outcome o = { 0 };
	char dir[512];
	struct spool *s;
	int asked = 0;

	assert_int_equal(mkdir(out_dir(dir, sizeof(dir), state), 0700), 0);
	assert_int_equal(spool__open(dir, &lim, &s), 0);
	spool__set_rank(s, delivered_rank, &asked);
	spool__observe(s, &(struct spool_observer){ .committed = observe_committed, .removed = observe_removed,
						     .ctx = &seen });
	assert_int_equal(commit_aged(s, dir, "c1", 100, 1000, &o), 0);         /* 110 */
	assert_int_equal(commit_aged(s, dir, "c2", 100, 2000, &o), 0);         /* 220 */
	assert_int_equal(commit_aged(s, dir, "c3", 100, 3000, &o), 0);         /* 330 */
	assert_int_equal(commit_aged(s, dir, "c4", 100, 4000, &o), 0);         /* 440 */
	assert_int_equal(asked, 0);                     /* no retention yet: never asked */
	assert_int_equal(seen.n_committed, 4);
	assert_string_equal(seen.committed[3], "c4");
	/* 550 > 450: c2, delivered, goes before c1, older but not delivered. */
	assert_int_equal(commit_aged(s, dir, "c5", 100, 5000, &o), 0);
	assert_true(asked >= 4);
	assert_int_equal(seen.n_removed, 1);
	assert_string_equal(seen.removed[0], "c2");
	assert_int_equal(seen.removed_rank[0], 0);
	assert_true(exists(dir, "c1.meta.json") && !exists(dir, "c2.meta.json"));
	/* Then c4 (delivered, newer than c1), then c1: the oldest undelivered. */
	assert_int_equal(commit_aged(s, dir, "c6", 210, 6000, &o), 0);
	assert_int_equal(seen.n_removed, 3);
	assert_string_equal(seen.removed[1], "c4");
	assert_string_equal(seen.removed[2], "c1");
	assert_int_equal(seen.removed_rank[2], 1);
	assert_true(exists(dir, "c3.meta.json") && exists(dir, "c5.meta.json") && exists(dir, "c6.meta.json"));
	spool__uncount(s, 1u << 30);    /* saturates: never below 0 */
	assert_int_equal(spool__used(s), 0);
	spool__free(s);
}

/* Commit the record BASE.json (size bytes) alone, wait for it; its mtime is age. */
static int record_aged(struct spool *s, const char *dir, const char *base, size_t size, time_t age,
		       struct outcome *o)
{
	char text[512], name[64], path[512];
	int calls = o->calls, r;

	text_of(text, size, 'r');
	r = spool__commit_record(s, base, "json", strdup(text), record, o);
	if (r < 0)
		return r;
	wait_calls(s, &o->calls, calls + 1);
	if (o->result == 0) {
		snprintf(name, sizeof(name), "%s.json", base);
		assert_int_equal(utimensat(AT_FDCWD, fixture_path(path, sizeof(path), dir, name),
					   (struct timespec[]){ { age, 0 }, { age, 0 } }, 0), 0);
	}
	return o->result;
}

static void test_record(void **state)
{
	struct spool_limits lim = { .quota = 400, .retain = test_base };
	const char *ext = "json";
	char dir[512], path[512], base[64];
	struct outcome o = { 0 };
	struct spool *s;
	int temps;

	assert_int_equal(mkdir(out_dir(dir, sizeof(dir), state), 0700), 0);
	/* A profile commit's member BASE.json is its commit's, never a record of its own. */
	fixture_write(fixture_path(path, sizeof(path), dir, "c9.json"), "0123456789");
	fixture_write(fixture_path(path, sizeof(path), dir, "c9.meta.json"), "0123456789");
	assert_int_equal(spool__open(dir, &lim, &s), 0);

	/* Its one name, 0600, the text as given; nothing else, no temporary left. */
	assert_int_equal(spool__reserve_base(s, "c1", &ext, 1, base, sizeof(base)), 0);
	assert_string_equal(base, "c1");
	assert_int_equal(record_aged(s, dir, "c1", 100, 1000, &o), 0);
	assert_int_equal(o.n_paths, 1);
	assert_string_equal(o.paths[0], fixture_path(path, sizeof(path), dir, "c1.json"));
	assert_file(dir, "c1.json", "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
		    "rrrr", 0600);
	assert_false(exists(dir, "c1.meta.json"));
	assert_int_equal(count_names(dir, &temps), 3);
	assert_int_equal(temps, 0);
	/* Its name is taken: the next base differs; a second commit of it is refused. */
	assert_int_equal(spool__reserve_base(s, "c1", &ext, 1, base, sizeof(base)), 0);
	assert_string_equal(base, "c1-1");
	assert_int_equal(record_aged(s, dir, "c1", 10, 1000, &o), -EEXIST);
	/* Bad extensions. */
	assert_int_equal(spool__commit_record(s, "c2", "meta.json", strdup("x"), NULL, NULL), -EINVAL);
	assert_int_equal(spool__commit_record(s, "c2", "a.json", strdup("x"), NULL, NULL), -EINVAL);
	assert_int_equal(spool__commit_record(s, "c2", "json", NULL, NULL, NULL), -EINVAL);

	/* Retention: a record is a commit of its own, oldest first with profiles. 120 now. */
	assert_int_equal(commit_aged(s, dir, "c2", 140, 2000, &o), 0);        /* 270 */
	assert_int_equal(record_aged(s, dir, "c3", 100, 3000, &o), 0);        /* 370 */
	assert_int_equal(spool__removed(s), 0);
	/* 370 + 50: c1, the record, is the oldest (c9, of now, the newest). */
	assert_int_equal(record_aged(s, dir, "c4", 50, 4000, &o), 0);
	assert_int_equal(spool__removed(s), 1);
	assert_false(exists(dir, "c1.json"));
	assert_true(exists(dir, "c2.heapprofile") && exists(dir, "c2.meta.json") && exists(dir, "c3.json"));
	/* A profile makes room by removing records too: c2, then c3. */
	assert_int_equal(commit_aged(s, dir, "c5", 250, 5000, &o), 0);
	assert_false(exists(dir, "c2.meta.json") || exists(dir, "c3.json"));
	assert_true(exists(dir, "c4.json") && exists(dir, "c5.meta.json"));
	assert_int_equal(spool__removed(s), 3);
	spool__free(s);
}

static void test_stale_temps(void **state)
{
	char dir[512], path[512];
	struct spool *s;
	int temps;

	assert_int_equal(mkdir(out_dir(dir, sizeof(dir), state), 0700), 0);
	/* What a killed agent left: two of ours, and names that are not (kept, and counted). */
	fixture_write(fixture_path(path, sizeof(path), dir, ".inspectd-spool.AAAAAAAAAAAA.tmp"), "half a profile");
	fixture_write(fixture_path(path, sizeof(path), dir, ".inspectd-spool.b9Zq0Xy7Wv6U.tmp"), "");
	fixture_write(fixture_path(path, sizeof(path), dir, ".inspectd-spool.short.tmp"), "1");
	fixture_write(fixture_path(path, sizeof(path), dir, "inspectd-spool.AAAAAAAAAAAA.tmp"), "22");
	fixture_write(fixture_path(path, sizeof(path), dir, "heap-1.heapprofile"), "333");
	assert_int_equal(mkdir(fixture_path(path, sizeof(path), dir, "sub"), 0700), 0);
	s = open_spool(dir, 0, 0);
	assert_false(exists(dir, ".inspectd-spool.AAAAAAAAAAAA.tmp"));
	assert_false(exists(dir, ".inspectd-spool.b9Zq0Xy7Wv6U.tmp"));
	assert_int_equal(count_names(dir, &temps), 4);
	assert_int_equal(temps, 0);
	assert_int_equal(spool__used(s), 1 + 2 + 3);
	spool__free(s);
}

static void test_private(void **state)
{
	char dir[512];
	struct spool *s = NULL;

	assert_int_equal(mkdir(out_dir(dir, sizeof(dir), state), 0700), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(spool__open(dir, NULL, &s), -EPERM);
	assert_null(s);
	assert_int_equal(chmod(dir, 0750), 0);
	assert_int_equal(spool__open(dir, NULL, &s), 0);
	spool__free(s);
	s = NULL;
	assert_int_equal(spool__open("", NULL, &s), -EINVAL);
	assert_true(spool__open("/proc/inspectd-no-such-dir/out", NULL, &s) < 0);
	assert_null(s);
	if (geteuid() != 0) {
		print_message("skipped: a folder owned by another uid needs root to make (euid %u)\n", (unsigned)geteuid());
		skip();
	}
	assert_int_equal(chown(dir, 12345, 12345), 0);
	assert_int_equal(spool__open(dir, NULL, &s), -EPERM);
	assert_null(s);
}

static void test_cancel(void **state)
{
	struct outcome gone = { 0 }, stays = { 0 };
	char dir[512];
	struct spool *s = open_spool(out_dir(dir, sizeof(dir), state), 0, 0);
	struct spool_file *f;

	f = file_with(s, "a");
	assert_int_equal(spool__commit(s, "a", &f, heap_ext, 1, strdup("{}"), record, &gone), 0);
	f = file_with(s, "b");
	assert_int_equal(spool__commit(s, "b", &f, heap_ext, 1, strdup("{}"), record, &gone), 0);
	f = file_with(s, "c");
	assert_int_equal(spool__commit(s, "c", &f, heap_ext, 1, strdup("{}"), record, &stays), 0);
	spool__cancel(s, &gone);
	wait_calls(s, &stays.calls, 1);
	spool__dispatch(s);
	assert_int_equal(gone.calls, 0);
	assert_int_equal(stays.calls, 1);
	/* The cancelled commits completed all the same. */
	assert_file(dir, "a.heapprofile", "a", 0600);
	assert_file(dir, "b.meta.json", "{}", 0600);
	assert_file(dir, "c.heapprofile", "c", 0600);
	spool__free(s);
}

static void test_free_in_flight(void **state)
{
	struct outcome o = { 0 };
	char dir[512], base[32], *chunk;
	struct spool *s = open_spool(out_dir(dir, sizeof(dir), state), 0, 0);
	size_t chunk_len = 256 * 1024;
	int temps;

	chunk = malloc(chunk_len);
	assert_non_null(chunk);
	memset(chunk, 'z', chunk_len);
	for (int i = 0; i < 16; i++) {
		struct spool_file *f = NULL;

		assert_int_equal(spool__begin(s, &f), 0);
		for (int k = 0; k < 4; k++)
			assert_int_equal(spool_file__write(f, chunk, chunk_len), 0);
		snprintf(base, sizeof(base), "big-%d", i);
		assert_int_equal(spool__commit(s, base, &f, heap_ext, 1, strdup("{}"), record, &o), 0);
	}
	free(chunk);
	/* Returns once every commit is on disk; no callback. */
	spool__free(s);
	assert_int_equal(o.calls, 0);
	assert_int_equal(count_names(dir, &temps), 32);
	assert_int_equal(temps, 0);
	for (int i = 0; i < 16; i++) {
		char path[600];
		struct stat st;

		snprintf(path, sizeof(path), "%s/big-%d.heapprofile", dir, i);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 4 * chunk_len);
	}
}

/* ---- compressed files ---- */

static const char *const snap_ext[] = { "heapsnapshot.gz" };

/* n bytes that look like a heap snapshot's nodes: they compress (about 7 to 1), not to nothing. */
static char *snapshot_like(size_t n)
{
	char *buf = malloc(n + 64);
	uint32_t x = 2463534242u;
	size_t at = 0;

	assert_non_null(buf);
	while (at < n) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		at += (size_t)sprintf(buf + at, "%u,\"item\",%zu,32,1,0,0,\n", x % 4, at);
	}
	return buf;
}

/* n bytes that do not compress. */
static char *noise(size_t n)
{
	unsigned char *buf = malloc(n);
	uint32_t x = 88172645u;

	assert_non_null(buf);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)(x >> 11);
	}
	return (char *)buf;
}

static uint64_t size_of(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	assert_int_equal(stat(fixture_path(path, sizeof(path), dir, name), &st), 0);
	return (uint64_t)st.st_size;
}

/* The file dir/name is one whole gzip stream (header, CRC and length checked by inflate())
 * of exactly the len bytes of expect. */
static void assert_gzip(const char *dir, const char *name, const char *expect, size_t len)
{
	uint64_t size = size_of(dir, name);
	unsigned char *in = malloc(size ? size : 1), *out = malloc(len + 1);
	char path[512];
	z_stream zs = { 0 };
	int fd;

	assert_true(in && out);
	fd = open(fixture_path(path, sizeof(path), dir, name), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, in, size), (ssize_t)size);
	close(fd);
	assert_true(size >= 18 && in[0] == 0x1f && in[1] == 0x8b);
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = in;
	zs.avail_in = (uInt)size;
	zs.next_out = out;
	zs.avail_out = (uInt)len + 1;
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.avail_in, 0);               /* nothing after the stream */
	assert_int_equal(zs.total_out, len);
	assert_memory_equal(out, expect, len);
	inflateEnd(&zs);
	free(in);
	free(out);
}

static void test_compress(void **state)
{
	const size_t len = 3 << 20;
	char dir[512], *text = snapshot_like(len);
	struct outcome o = { 0 };
	struct spool_file *f, *g;
	struct spool *s = open_spool(out_dir(dir, sizeof(dir), state), 0, 0);
	uint64_t disk;
	int temps;

	assert_int_equal(spool__begin(s, &f), 0);
	assert_int_equal(spool_file__compress(f), 0);
	assert_int_equal(spool_file__compress(f), 0);  /* again: nothing to do */
	/* Chunks of every size, as CDP's arrive: one byte, odd sizes, over 64 KiB. */
	for (size_t at = 0, step = 1; at < len; at += step, step = step * 3 + 7) {
		if (step > len - at)
			step = len - at;
		assert_int_equal(spool_file__write(f, text + at, step), 0);
	}
	assert_int_equal(spool_file__write(f, "", 0), 0);
	/* size: what was written, the caller's mark; on disk: the blocks zlib gave out. */
	assert_int_equal(spool_file__size(f), len);
	disk = spool_file__disk_size(f);
	assert_true(disk > 0 && disk < len / 2 && disk % (64 * 1024) == 0);
	assert_int_equal(spool__used(s), disk);
	/* Nothing to drop is fine; anything else is not, and the file is as it was. */
	assert_int_equal(spool_file__truncate(f, len), 0);
	assert_int_equal(spool_file__truncate(f, len - 1), -EOPNOTSUPP);
	assert_int_equal(spool_file__truncate(f, len + 1), -EINVAL);
	assert_int_equal(spool_file__size(f), len);

	/* Too late for a file written to. */
	g = file_with(s, "plain");
	assert_int_equal(spool_file__compress(g), -EBUSY);
	spool_file__abort(g);

	assert_int_equal(spool__commit(s, "snap", &f, snap_ext, 1, strdup("{}"), record, &o), 0);
	wait_calls(s, &o.calls, 1);
	assert_int_equal(o.result, 0);
	assert_gzip(dir, "snap.heapsnapshot.gz", text, len);
	/* The end of the stream is counted too: the quota's bytes are the file's. */
	assert_true(size_of(dir, "snap.heapsnapshot.gz") > disk);
	assert_int_equal(spool__used(s), size_of(dir, "snap.heapsnapshot.gz") + 2);
	assert_int_equal(count_names(dir, &temps), 2);
	assert_int_equal(temps, 0);

	/* Nothing written: an empty stream, still a gzip file. */
	assert_int_equal(spool__begin(s, &f), 0);
	assert_int_equal(spool_file__compress(f), 0);
	assert_int_equal(spool_file__disk_size(f), 0);
	assert_int_equal(spool__commit(s, "empty", &f, snap_ext, 1, strdup("{}"), record, &o), 0);
	wait_calls(s, &o.calls, 2);
	assert_int_equal(o.result, 0);
	assert_gzip(dir, "empty.heapsnapshot.gz", "", 0);

	/* Compressed beside plain in one commit. */
	{
		const char *const exts[] = { "heaptimeline.gz", "heapprofile" };
		struct spool_file *two[2];

		assert_int_equal(spool__begin(s, &two[0]), 0);
		assert_int_equal(spool_file__compress(two[0]), 0);
		assert_int_equal(spool_file__write(two[0], "timeline", 8), 0);
		assert_int_equal(spool_file__disk_size(two[0]), 0);    /* all of it in zlib's block */
		two[1] = file_with(s, "plain");
		assert_int_equal(spool__commit(s, "both", two, exts, 2, strdup("{}"), record, &o), 0);
		wait_calls(s, &o.calls, 3);
		assert_int_equal(o.result, 0);
		assert_gzip(dir, "both.heaptimeline.gz", "timeline", 8);
		assert_file(dir, "both.heapprofile", "plain", 0600);
	}
	spool__free(s);
	free(text);
}

/* The cap of a compressed file counts its bytes on disk; its own cap, spool_file__set_max(). */
static void test_compress_cap(void **state)
{
	const size_t len = 2 << 20, cap = 512 * 1024;
	char dir[512], *text = snapshot_like(len), *rnd = noise(len);
	struct outcome o = { 0 };
	struct spool_file *f;
	struct spool *s = open_spool(out_dir(dir, sizeof(dir), state), 10, 0);
	int r = 0, temps;
	size_t at;

	/* The spool's cap, 10: a file of its own may be larger. */
	f = file_with(s, "0123456789");
	assert_int_equal(spool_file__write(f, "x", 1), -EFBIG);
	assert_int_equal(spool_file__set_max(f, 20), 0);
	assert_int_equal(spool_file__write(f, "0123456789", 10), 0);
	assert_int_equal(spool_file__write(f, "x", 1), -EFBIG);
	assert_int_equal(spool_file__set_max(f, 19), -EFBIG);  /* holds 20 already */
	assert_int_equal(spool_file__set_max(f, 0), 0);        /* no cap */
	assert_int_equal(spool_file__write(f, text, 1000), 0);
	spool_file__abort(f);

	/* 2 MiB that compress fit a cap of 512 KiB: only the disk's bytes count. */
	assert_int_equal(spool__begin(s, &f), 0);
	assert_int_equal(spool_file__set_max(f, cap), 0);
	assert_int_equal(spool_file__compress(f), 0);
	for (at = 0; at < len; at += 32 * 1024)
		assert_int_equal(spool_file__write(f, text + at, 32 * 1024), 0);
	assert_int_equal(spool_file__size(f), len);
	assert_int_equal(spool__commit(s, "fits", &f, snap_ext, 1, strdup("{}"), record, &o), 0);
	wait_calls(s, &o.calls, 1);
	assert_int_equal(o.result, 0);
	assert_true(size_of(dir, "fits.heapsnapshot.gz") <= cap);
	assert_gzip(dir, "fits.heapsnapshot.gz", text, len);

	/* 2 MiB that do not: -EFBIG once the next block would pass the cap, then -EIO (the
	 * stream lacks what zlib took); never more than the cap on disk. */
	assert_int_equal(spool__begin(s, &f), 0);
	assert_int_equal(spool_file__set_max(f, cap), 0);
	assert_int_equal(spool_file__compress(f), 0);
	for (at = 0; at < len && r == 0; at += 16 * 1024)
		r = spool_file__write(f, rnd + at, 16 * 1024);
	assert_int_equal(r, -EFBIG);
	assert_true(spool_file__disk_size(f) <= cap && spool_file__disk_size(f) > cap - 64 * 1024);
	assert_int_equal(spool__used(s), size_of(dir, "fits.heapsnapshot.gz") + 2 + spool_file__disk_size(f));
	assert_int_equal(spool_file__write(f, "x", 1), -EIO);
	assert_int_equal(spool_file__truncate(f, spool_file__size(f)), -EIO);
	/* Reset: a new stream, usable again. */
	assert_int_equal(spool_file__reset(f), 0);
	assert_int_equal(spool_file__size(f), 0);
	assert_int_equal(spool_file__disk_size(f), 0);
	assert_int_equal(spool__used(s), size_of(dir, "fits.heapsnapshot.gz") + 2);
	assert_int_equal(spool_file__write(f, "again", 5), 0);
	assert_int_equal(spool__commit(s, "again", &f, snap_ext, 1, strdup("{}"), record, &o), 0);
	wait_calls(s, &o.calls, 2);
	assert_int_equal(o.result, 0);
	assert_gzip(dir, "again.heapsnapshot.gz", "again", 5);

	/* A failed write fails the commit, which consumes the file all the same. */
	assert_int_equal(spool__begin(s, &f), 0);
	assert_int_equal(spool_file__set_max(f, cap), 0);
	assert_int_equal(spool_file__compress(f), 0);
	for (r = 0, at = 0; at < len && r == 0; at += 16 * 1024)
		r = spool_file__write(f, rnd + at, 16 * 1024);
	assert_int_equal(r, -EFBIG);
	assert_int_equal(spool__commit(s, "broken", &f, snap_ext, 1, strdup("{}"), record, &o), -EIO);
	assert_null(f);

	/* The end of the stream passes the cap: the commit fails, nothing left. Five bytes
	 * are in zlib's block, none on disk yet; the header and trailer alone are 20. */
	assert_int_equal(spool__begin(s, &f), 0);
	assert_int_equal(spool_file__set_max(f, 19), 0);
	assert_int_equal(spool_file__compress(f), 0);
	assert_int_equal(spool_file__write(f, "hello", 5), 0);
	assert_int_equal(spool__commit(s, "over", &f, snap_ext, 1, strdup("{}"), record, &o), -EFBIG);
	assert_null(f);
	assert_false(exists(dir, "over.heapsnapshot.gz") || exists(dir, "over.meta.json"));
	assert_int_equal(count_names(dir, &temps), 4);
	assert_int_equal(temps, 0);
	assert_int_equal(spool__used(s),
			 size_of(dir, "fits.heapsnapshot.gz") + size_of(dir, "again.heapsnapshot.gz") + 2 + 2);
	spool__dispatch(s);
	assert_int_equal(o.calls, 2);
	spool__free(s);
	free(text);
	free(rnd);
}

/* The quota counts a compressed file's bytes on disk; abort and refused commits free its
 * stream (ASan's leak check sees it). */
static void test_compress_quota_abort(void **state)
{
	const size_t len = 1 << 20, quota = 300 * 1024;
	char dir[512], *rnd = noise(len);
	struct outcome o = { 0 };
	struct spool_file *f;
	struct spool *s = open_spool(out_dir(dir, sizeof(dir), state), 0, quota);
	size_t at;
	int r = 0, temps;

	assert_int_equal(spool__begin(s, &f), 0);
	assert_int_equal(spool_file__compress(f), 0);
	for (at = 0; at < len && r == 0; at += 16 * 1024)
		r = spool_file__write(f, rnd + at, 16 * 1024);
	assert_int_equal(r, -EDQUOT);
	assert_true(spool__used(s) <= quota && spool__used(s) == spool_file__disk_size(f));
	assert_int_equal(spool_file__write(f, "x", 1), -EIO);
	spool_file__abort(f);
	assert_int_equal(spool__used(s), 0);

	/* Aborted mid-stream, and with nothing written. */
	assert_int_equal(spool__begin(s, &f), 0);
	assert_int_equal(spool_file__compress(f), 0);
	assert_int_equal(spool_file__write(f, rnd, 100 * 1024), 0);
	assert_true(spool_file__disk_size(f) > 0);
	spool_file__abort(f);
	assert_int_equal(spool__begin(s, &f), 0);
	assert_int_equal(spool_file__compress(f), 0);
	spool_file__abort(f);
	/* Refused before the stream ended (a bad base), and after (meta.json past the quota). */
	assert_int_equal(spool__begin(s, &f), 0);
	assert_int_equal(spool_file__compress(f), 0);
	assert_int_equal(spool_file__write(f, "x", 1), 0);
	assert_int_equal(spool__commit(s, "../bad", &f, snap_ext, 1, strdup("{}"), record, &o), -EINVAL);
	assert_int_equal(spool__begin(s, &f), 0);
	assert_int_equal(spool_file__compress(f), 0);
	assert_int_equal(spool_file__write(f, rnd, 200 * 1024), 0);
	{
		char *meta = malloc(quota);

		assert_non_null(meta);
		memset(meta, 'm', quota - 1);
		meta[quota - 1] = '\0';
		assert_int_equal(spool__commit(s, "big", &f, snap_ext, 1, meta, record, &o), -EDQUOT);
	}
	assert_int_equal(count_names(dir, &temps), 0);
	assert_int_equal(spool__used(s), 0);
	spool__dispatch(s);
	assert_int_equal(o.calls, 0);
	spool__free(s);
	free(rnd);
}

/* Retention removes a commit whole, its BASE.EXT.gz files too (a snapshot, a pprof). */
static void test_retention_gz(void **state)
{
	struct spool_limits lim = { .quota = 300, .retain = test_base };
	const char *const exts[] = { "heapprofile", "pb.gz" };
	char dir[512], path[512], text[128];
	struct outcome o = { 0 };
	struct spool_file *files[2];
	struct spool *s;

	assert_int_equal(mkdir(out_dir(dir, sizeof(dir), state), 0700), 0);
	assert_int_equal(spool__open(dir, &lim, &s), 0);
	text_of(text, 100, 's');
	files[0] = file_with(s, text);
	assert_int_equal(spool__commit(s, "c1", files, snap_ext, 1, strdup("0123456789"), record, &o), 0);
	wait_calls(s, &o.calls, 1);
	assert_int_equal(o.result, 0);
	assert_int_equal(utimensat(AT_FDCWD, fixture_path(path, sizeof(path), dir, "c1.meta.json"),
				   (struct timespec[]){ { 1000, 0 }, { 1000, 0 } }, 0), 0);
	text_of(text, 50, 'p');
	files[0] = file_with(s, text);
	files[1] = file_with(s, text);
	assert_int_equal(spool__commit(s, "c2", files, exts, 2, strdup("0123456789"), record, &o), 0);
	wait_calls(s, &o.calls, 2);
	assert_int_equal(o.result, 0);
	assert_int_equal(utimensat(AT_FDCWD, fixture_path(path, sizeof(path), dir, "c2.meta.json"),
				   (struct timespec[]){ { 2000, 0 }, { 2000, 0 } }, 0), 0);
	assert_int_equal(spool__used(s), 220);
	/* 220 + 110: c1 goes, its .heapsnapshot.gz with it. */
	assert_int_equal(commit_aged(s, dir, "c3", 100, 3000, &o), 0);
	assert_false(exists(dir, "c1.heapsnapshot.gz") || exists(dir, "c1.meta.json"));
	assert_int_equal(spool__used(s), 220);
	/* 220 + 110: c2 goes, its .pb.gz with it. */
	assert_int_equal(commit_aged(s, dir, "c4", 100, 4000, &o), 0);
	assert_false(exists(dir, "c2.heapprofile") || exists(dir, "c2.pb.gz") || exists(dir, "c2.meta.json"));
	assert_int_equal(spool__used(s), 220);
	assert_int_equal(spool__removed(s), 2);
	spool__free(s);
}

/* ---- a real full disk, in a child ---- */

/* A check in the child (no cmocka there): the failed condition to stderr, exit status 1. */
#define CHILD_CHECK(cond) do { if (!(cond)) { fprintf(stderr, "child: %s:%d: %s\n", __FILE__, __LINE__, #cond); _exit(1); } } while (0)
#define CHILD_SKIP 77

static int child_done_result = 1;
static int child_done_calls;

static void child_done(void *ctx, int result, const char *const *paths, size_t n_paths)
{
	child_done_calls++;
	child_done_result = result;
}

static void child_wait(struct spool *s, int want)
{
	for (int i = 0; i < 50 && child_done_calls < want; i++) {
		struct pollfd p = { .fd = spool__fd(s), .events = POLLIN };

		poll(&p, 1, 100);
		spool__dispatch(s);
	}
	CHILD_CHECK(child_done_calls == want);
}

static void full_disk_child(const char *mnt)
{
	size_t chunk_len = 16 * 1024, big = 200 * 1024, meta_len = 128 * 1024;
	char dir[512], *chunk, *meta;
	struct spool_file *f = NULL;
	struct spool *s = NULL;
	int r = 0, temps;

	if (unshare(CLONE_NEWNS) < 0) {
		fprintf(stderr, "skipped: unshare(CLONE_NEWNS): %s\n", strerror(errno));
		_exit(CHILD_SKIP);
	}
	CHILD_CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
	if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=256k,mode=0700") < 0) {
		fprintf(stderr, "skipped: mounting a tmpfs: %s\n", strerror(errno));
		_exit(CHILD_SKIP);
	}
	CHILD_CHECK((size_t)snprintf(dir, sizeof(dir), "%s/out", mnt) < sizeof(dir));
	CHILD_CHECK(spool__open(dir, NULL, &s) == 0);
	chunk = malloc(chunk_len);
	meta = malloc(meta_len + 1);
	CHILD_CHECK(chunk && meta);
	memset(chunk, 'd', chunk_len);
	memset(meta, 'm', meta_len);
	meta[meta_len] = '\0';

	/* Streaming past the end of the disk: -ENOSPC, the file as it was before that write. */
	CHILD_CHECK(spool__begin(s, &f) == 0);
	for (int i = 0; i < 64 && r == 0; i++)
		r = spool_file__write(f, chunk, chunk_len);
	CHILD_CHECK(r == -ENOSPC);
	CHILD_CHECK(spool_file__size(f) > 0 && spool_file__size(f) % chunk_len == 0);
	{
		struct stat st;
		char path[600];

		CHILD_CHECK(names_in(dir, &temps) == 1 && temps == 1);
		/* The one name there is the temporary: its size is what the spool counted. */
		DIR *d = opendir(dir);
		struct dirent *de;

		CHILD_CHECK(d);
		while ((de = readdir(d))) {
			if (fs_is_temp_name(de->d_name, SPOOL_TEMP_PREFIX)) {
				CHILD_CHECK((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < sizeof(path));
				CHILD_CHECK(stat(path, &st) == 0 && (uint64_t)st.st_size == spool_file__size(f));
			}
		}
		closedir(d);
	}
	spool_file__abort(f);
	CHILD_CHECK(names_in(dir, &temps) == 0);

	/* Data that fits, a meta.json that does not: the commit fails whole, with -ENOSPC. */
	CHILD_CHECK(spool__begin(s, &f) == 0);
	for (size_t done = 0; done < big; done += chunk_len)
		CHILD_CHECK(spool_file__write(f, chunk, chunk_len) == 0);
	CHILD_CHECK(spool__commit(s, "full", &f, heap_ext, 1, meta, child_done, NULL) == 0);
	child_wait(s, 1);
	CHILD_CHECK(child_done_result == -ENOSPC);
	CHILD_CHECK(names_in(dir, &temps) == 0);

	/* Compressed, what does not compress: -ENOSPC, then -EIO (the stream is broken). */
	{
		char *rnd = noise(512 * 1024);

		r = 0;
		CHILD_CHECK(spool__begin(s, &f) == 0);
		CHILD_CHECK(spool_file__compress(f) == 0);
		for (size_t at = 0; at < 512 * 1024 && r == 0; at += chunk_len)
			r = spool_file__write(f, rnd + at, chunk_len);
		CHILD_CHECK(r == -ENOSPC);
		CHILD_CHECK(spool_file__write(f, chunk, 1) == -EIO);
		spool_file__abort(f);
		CHILD_CHECK(names_in(dir, &temps) == 0);
		free(rnd);
	}

	/* The disk is usable again afterwards: a small commit goes through. */
	CHILD_CHECK(spool__begin(s, &f) == 0);
	CHILD_CHECK(spool_file__write(f, chunk, chunk_len) == 0);
	CHILD_CHECK(spool__commit(s, "small", &f, heap_ext, 1, strdup("{}"), child_done, NULL) == 0);
	child_wait(s, 2);
	CHILD_CHECK(child_done_result == 0);
	CHILD_CHECK(names_in(dir, &temps) == 2 && temps == 0);
	spool__free(s);
	free(chunk);
	_exit(0);
}

static void test_full_disk(void **state)
{
	char mnt[512];
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		print_message("skipped: mounting a small tmpfs needs root (euid %u)\n", (unsigned)geteuid());
		skip();
	}
	assert_int_equal(mkdir(fixture_path(mnt, sizeof(mnt), *state, "small"), 0700), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		full_disk_child(mnt);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == CHILD_SKIP) {
		print_message("skipped: no private mount namespace with a tmpfs here (see the child's reason above)\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The mount lived in the child's namespace only. */
	{
		int temps;

		assert_int_equal(count_names(mnt, &temps), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_retention_delivered_first, fixture_tmpdir_setup,
						fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_unique_base, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_derived, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_noreplace, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_abort_reset, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_file_cap, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_quota, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_retention, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_record, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_stale_temps, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_private, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_cancel, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_free_in_flight, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_compress, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_compress_cap, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_compress_quota_abort, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_retention_gz, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_full_disk, fixture_tmpdir_setup, fixture_tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
