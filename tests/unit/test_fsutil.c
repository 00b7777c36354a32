// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The file-system helpers, on real files in a fresh folder per test: atomic writes,
 * temporaries under fresh names, renames that never replace, private folders; and what
 * a tenant could plant in the folder (a symlink, a FIFO, a hard link) neither followed,
 * opened nor written through.
 *
 * getrandom() is wrapped (-Wl,--wrap=getrandom): it passes through unless a test forces
 * the letters of the next temporary names, to plant things at the names tried.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "fsutil.h"

/* ---- getrandom(), forced ---- */

ssize_t __real_getrandom(void *buf, size_t len, unsigned int flags);

/* While forced_n > 0, each call fills its buffer with the byte forced[i] (0 = 'A', 1 = 'B'...). */
static unsigned char forced[16];
static size_t forced_n, forced_next;

ssize_t __wrap_getrandom(void *buf, size_t len, unsigned int flags)
{
	if (forced_next < forced_n) {
		memset(buf, forced[forced_next++], len);
		return (ssize_t)len;
	}
	return __real_getrandom(buf, len, flags);
}

static void force_letters(const char *letters)
{
	forced_n = strlen(letters);
	forced_next = 0;
	for (size_t i = 0; i < forced_n; i++)
		forced[i] = (unsigned char)(letters[i] - 'A');
}

/* The name fs_create_temp_at(prefix) makes when every random letter is c. */
static const char *temp_name(char *buf, size_t size, const char *prefix, char c)
{
	char letters[FS_TEMP_RANDOM + 1];

	memset(letters, c, FS_TEMP_RANDOM);
	letters[FS_TEMP_RANDOM] = '\0';
	snprintf(buf, size, ".%s.%s.tmp", prefix, letters);
	return buf;
}

/* ---- helpers ---- */

static int open_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/* The file's whole text (small files), or fails the test. */
static void assert_file(const char *path, const char *expect, mode_t mode)
{
	char buf[4096];
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	if (mode)
		assert_int_equal(st.st_mode & 07777, mode);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, expect);
}

/* How many names the folder holds, and how many of them are temporaries of prefix. */
static int count_names(const char *dir, const char *prefix, int *temps)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	*temps = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		if (fs_is_temp_name(de->d_name, prefix))
			(*temps)++;
	}
	closedir(d);
	return n;
}

/* ---- tests ---- */

static void test_write_atomic(void **state)
{
	const char *dir = *state;
	char path[512];
	int dfd = open_dir(dir), temps;

	assert_int_equal(fs_write_atomic_at(dfd, "a.json", "{\"x\":1}", 7, true), 0);
	assert_file(fixture_path(path, sizeof(path), dir, "a.json"), "{\"x\":1}", 0600);
	/* Written again: replaced whole. */
	assert_int_equal(fs_write_atomic_at(dfd, "a.json", "2", 1, false), 0);
	assert_file(path, "2", 0600);
	/* Empty data: an empty file. */
	assert_int_equal(fs_write_atomic_at(dfd, "empty", "", 0, true), 0);
	assert_file(fixture_path(path, sizeof(path), dir, "empty"), "", 0600);
	assert_int_equal(count_names(dir, "a.json", &temps), 2);
	assert_int_equal(temps, 0);

	/* Names that are not one plain name of ours. */
	assert_int_equal(fs_write_atomic_at(dfd, "", "x", 1, false), -EINVAL);
	assert_int_equal(fs_write_atomic_at(dfd, ".hidden", "x", 1, false), -EINVAL);
	assert_int_equal(fs_write_atomic_at(dfd, "../escape", "x", 1, false), -EINVAL);
	assert_int_equal(fs_write_atomic_at(dfd, "a/b", "x", 1, false), -EINVAL);
	/* A name too long for a temporary. */
	{
		char name[300];

		memset(name, 'n', 250);
		name[250] = '\0';
		assert_int_equal(fs_write_atomic_at(dfd, name, "x", 1, false), -EINVAL);
	}
	/* A folder that is not one. */
	assert_int_equal(fs_write_atomic_at(-1, "x", "x", 1, false), -EBADF);
	close(dfd);
}

/* A symlink, a FIFO and a hard link at the final name: replaced, never followed or opened. */
static void test_write_atomic_over_planted(void **state)
{
	const char *dir = *state;
	char path[512], outside[512], target[512];
	struct stat st;
	int dfd = open_dir(dir);

	/* A symlink to a file elsewhere: the link is replaced, the file is untouched. */
	fixture_path(outside, sizeof(outside), dir, "victim");
	fixture_write(outside, "precious");
	fixture_path(path, sizeof(path), dir, "link");
	assert_int_equal(symlink(outside, path), 0);
	assert_int_equal(fs_write_atomic_at(dfd, "link", "new", 3, true), 0);
	assert_file(path, "new", 0600);
	assert_file(outside, "precious", 0);

	/* A dangling symlink: nothing is created where it points. */
	fixture_path(target, sizeof(target), dir, "created-through-link");
	fixture_path(path, sizeof(path), dir, "dangling");
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(fs_write_atomic_at(dfd, "dangling", "new", 3, true), 0);
	assert_int_equal(access(target, F_OK), -1);
	assert_file(path, "new", 0600);

	/* A FIFO nobody reads: opening it would hang; it is replaced without being opened. */
	fixture_path(path, sizeof(path), dir, "fifo");
	assert_int_equal(mkfifo(path, 0666), 0);
	assert_int_equal(fs_write_atomic_at(dfd, "fifo", "new", 3, true), 0);
	assert_file(path, "new", 0600);

	/* A hard link to the victim: the victim keeps its bytes and loses a link. */
	fixture_path(path, sizeof(path), dir, "hard");
	assert_int_equal(link(outside, path), 0);
	assert_int_equal(fs_write_atomic_at(dfd, "hard", "new", 3, true), 0);
	assert_file(path, "new", 0600);
	assert_file(outside, "precious", 0);
	assert_int_equal(stat(outside, &st), 0);
	assert_int_equal(st.st_nlink, 1);
	close(dfd);
}

/* Things planted at the very names the temporaries would take: skipped, never opened. */
static void test_temp_over_planted(void **state)
{
	const char *dir = *state;
	char path[512], name[FS_NAME_SIZE], target[512], victim[512];
	struct stat st;
	int dfd = open_dir(dir), fd, temps;

	fixture_path(victim, sizeof(victim), dir, "victim");
	fixture_write(victim, "precious");
	fixture_path(target, sizeof(target), dir, "created-through-link");
	/* A: a dangling symlink; B: a FIFO; C: a hard link to the victim. */
	assert_int_equal(symlink(target, fixture_path(path, sizeof(path), dir, temp_name(name, sizeof(name), "p", 'A'))), 0);
	assert_int_equal(mkfifo(fixture_path(path, sizeof(path), dir, temp_name(name, sizeof(name), "p", 'B')), 0666), 0);
	assert_int_equal(link(victim, fixture_path(path, sizeof(path), dir, temp_name(name, sizeof(name), "p", 'C'))), 0);

	force_letters("ABCD");
	assert_int_equal(fs_create_temp_at(dfd, "p", name, sizeof(name), &fd), 0);
	assert_int_equal(forced_next, 4);
	assert_string_equal(name, ".p.DDDDDDDDDDDD.tmp");
	assert_int_equal(write(fd, "mine", 4), 4);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_nlink, 1);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	assert_file(fixture_path(path, sizeof(path), dir, name), "mine", 0600);
	assert_int_equal(access(target, F_OK), -1);
	assert_file(victim, "precious", 0);
	assert_int_equal(lstat(fixture_path(path, sizeof(path), dir, temp_name(name, sizeof(name), "p", 'B')), &st), 0);
	assert_true(S_ISFIFO(st.st_mode));

	/* Every name tried is taken: -EEXIST after FS_TEMP_ATTEMPTS, nothing made. */
	force_letters("AAAAAAAAAAAAAAAA");
	assert_true(FS_TEMP_ATTEMPTS <= 16);
	assert_int_equal(fs_create_temp_at(dfd, "p", name, sizeof(name), &fd), -EEXIST);
	assert_int_equal(forced_next, FS_TEMP_ATTEMPTS);
	force_letters("");
	assert_int_equal(count_names(dir, "p", &temps), 5);
	assert_int_equal(temps, 4);

	/* The atomic write, through the same planted names: the final file, nothing else touched. */
	assert_int_equal(symlink(target, fixture_path(path, sizeof(path), dir, temp_name(name, sizeof(name), "out", 'A'))), 0);
	assert_int_equal(mkfifo(fixture_path(path, sizeof(path), dir, temp_name(name, sizeof(name), "out", 'B')), 0666), 0);
	force_letters("AB");
	assert_int_equal(fs_write_atomic_at(dfd, "out", "data", 4, true), 0);
	assert_file(fixture_path(path, sizeof(path), dir, "out"), "data", 0600);
	assert_int_equal(access(target, F_OK), -1);
	assert_int_equal(count_names(dir, "out", &temps), 8);
	assert_int_equal(temps, 2);
	close(dfd);
}

static void test_create_temp_args(void **state)
{
	const char *dir = *state;
	char name[FS_NAME_SIZE], small[8], prefix[300];
	int dfd = open_dir(dir), fd = -1;

	assert_int_equal(fs_create_temp_at(dfd, "", name, sizeof(name), &fd), -EINVAL);
	assert_int_equal(fs_create_temp_at(dfd, "a/b", name, sizeof(name), &fd), -EINVAL);
	memset(prefix, 'p', 255 - FS_TEMP_EXTRA + 1);
	prefix[255 - FS_TEMP_EXTRA + 1] = '\0';
	assert_int_equal(fs_create_temp_at(dfd, prefix, name, sizeof(name), &fd), -EINVAL);
	prefix[255 - FS_TEMP_EXTRA] = '\0';          /* the longest that fits NAME_MAX */
	assert_int_equal(fs_create_temp_at(dfd, prefix, name, sizeof(name), &fd), 0);
	assert_int_equal(strlen(name), 255);
	close(fd);
	assert_int_equal(unlinkat(dfd, name, 0), 0);
	assert_int_equal(fs_create_temp_at(dfd, "p", small, sizeof(small), &fd), -ENOBUFS);
	assert_int_equal(fs_create_temp_at(dfd, "missing/x", name, sizeof(name), &fd), -EINVAL);
	/* Two in a row: two names. */
	{
		char other[FS_NAME_SIZE];
		int fd2;

		assert_int_equal(fs_create_temp_at(dfd, "p", name, sizeof(name), &fd), 0);
		assert_int_equal(fs_create_temp_at(dfd, "p", other, sizeof(other), &fd2), 0);
		assert_string_not_equal(name, other);
		assert_true(fs_is_temp_name(name, "p"));
		assert_true(fs_is_temp_name(other, "p"));
		close(fd);
		close(fd2);
	}
	close(dfd);
}

static void test_is_temp_name(void **state)
{
	assert_true(fs_is_temp_name(".spool.Ab3defGHij9Z.tmp", "spool"));
	assert_false(fs_is_temp_name(".spool.Ab3defGHij9.tmp", "spool"));      /* 11 letters */
	assert_false(fs_is_temp_name(".spool.Ab3defGHij9ZZ.tmp", "spool"));    /* 13 */
	assert_false(fs_is_temp_name(".spool.Ab3def-Hij9Z.tmp", "spool"));
	assert_false(fs_is_temp_name(".spool.Ab3defGHij9Z.tmpx", "spool"));
	assert_false(fs_is_temp_name("spool.Ab3defGHij9Z.tmp", "spool"));
	assert_false(fs_is_temp_name(".spoo.Ab3defGHij9Z.tmp", "spool"));
	assert_false(fs_is_temp_name(".spoolx.Ab3defGHij9Z.tmp", "spool"));
	assert_false(fs_is_temp_name(".spool.", "spool"));
	assert_false(fs_is_temp_name("", "spool"));
}

static void test_rename_noreplace(void **state)
{
	const char *dir = *state;
	char path[512], outside[512];
	struct stat st;
	int dfd = open_dir(dir);

	fixture_write(fixture_path(path, sizeof(path), dir, "src"), "source");
	/* A file there: -EEXIST, both as they were. */
	fixture_write(fixture_path(path, sizeof(path), dir, "dst"), "other");
	assert_int_equal(fs_rename_noreplace_at(dfd, "src", dfd, "dst"), -EEXIST);
	assert_file(path, "other", 0);
	assert_file(fixture_path(path, sizeof(path), dir, "src"), "source", 0);
	/* A dangling symlink, a FIFO, a hard link: none replaced. */
	fixture_path(outside, sizeof(outside), dir, "nowhere");
	assert_int_equal(symlink(outside, fixture_path(path, sizeof(path), dir, "sym")), 0);
	assert_int_equal(fs_rename_noreplace_at(dfd, "src", dfd, "sym"), -EEXIST);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(access(outside, F_OK), -1);
	assert_int_equal(mkfifo(fixture_path(path, sizeof(path), dir, "fifo"), 0600), 0);
	assert_int_equal(fs_rename_noreplace_at(dfd, "src", dfd, "fifo"), -EEXIST);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(link(fixture_path(outside, sizeof(outside), dir, "dst"), fixture_path(path, sizeof(path), dir, "hard")), 0);
	assert_int_equal(fs_rename_noreplace_at(dfd, "src", dfd, "hard"), -EEXIST);
	assert_file(path, "other", 0);
	/* A free name: moved. */
	assert_int_equal(fs_rename_noreplace_at(dfd, "src", dfd, "final"), 0);
	assert_file(fixture_path(path, sizeof(path), dir, "final"), "source", 0);
	assert_int_equal(access(fixture_path(path, sizeof(path), dir, "src"), F_OK), -1);
	/* Nothing to move. */
	assert_int_equal(fs_rename_noreplace_at(dfd, "src", dfd, "again"), -ENOENT);
	assert_int_equal(fs_fsync_dir_at(dfd), 0);
	assert_int_equal(fs_fsync_dir_at(-1), -EBADF);
	close(dfd);
}

static void test_check_private_dir(void **state)
{
	const char *dir = *state;
	char path[512];
	int dfd = open_dir(dir), fd;

	/* mkdtemp's: 0700, ours. */
	assert_int_equal(fs_check_private_dir(dfd), 0);
	assert_int_equal(fchmod(dfd, 0755), 0);
	assert_int_equal(fs_check_private_dir(dfd), 0);
	assert_int_equal(fchmod(dfd, 0777), 0);
	assert_int_equal(fs_check_private_dir(dfd), -EPERM);
	assert_int_equal(fchmod(dfd, 01777), 0);       /* sticky like /tmp: others still plant names */
	assert_int_equal(fs_check_private_dir(dfd), -EPERM);
	assert_int_equal(fchmod(dfd, 0720), 0);
	assert_int_equal(fs_check_private_dir(dfd), -EPERM);
	assert_int_equal(fchmod(dfd, 0702), 0);
	assert_int_equal(fs_check_private_dir(dfd), -EPERM);
	assert_int_equal(fchmod(dfd, 0700), 0);
	assert_int_equal(fs_check_private_dir(dfd), 0);
	/* Not a folder. */
	fd = open(fixture_path(path, sizeof(path), dir, "file"), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fs_check_private_dir(fd), -ENOTDIR);
	close(fd);
	assert_int_equal(fs_check_private_dir(-1), -EBADF);
	/* Another owner, 0700 still. */
	if (geteuid() != 0) {
		close(dfd);
		print_message("skipped: a folder owned by another uid needs root to make (euid %u)\n", (unsigned)geteuid());
		skip();
	}
	assert_int_equal(fchown(dfd, 12345, 12345), 0);
	assert_int_equal(fs_check_private_dir(dfd), -EPERM);
	assert_int_equal(fchown(dfd, 0, 0), 0);
	assert_int_equal(fs_check_private_dir(dfd), 0);
	close(dfd);
}

static void test_mkdir_parents(void **state)
{
	const char *dir = *state;
	char path[512], sub[512];
	struct stat st;
	mode_t old = umask(022);

	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	assert_int_equal(fs_mkdir_parents(path, 0755, 0700), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* Again: nothing to do. */
	assert_int_equal(fs_mkdir_parents(path, 0755, 0700), 0);
	/* A file in the way. */
	fixture_write(fixture_path(sub, sizeof(sub), dir, "file"), "");
	snprintf(path, sizeof(path), "%s/file/x", dir);
	assert_int_equal(fs_mkdir_parents(path, 0755, 0700), -ENOTDIR);
	assert_int_equal(fs_mkdir_parents("", 0755, 0700), -EINVAL);
	umask(old);
}

static void test_write_all(void **state)
{
	int p[2];
	char buf[8];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(fs_write_all(p[1], "abc", 3), 0);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 3);
	close(p[0]);
	/* No reader: -EPIPE (SIGPIPE ignored here). */
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(fs_write_all(p[1], "abc", 3), -EPIPE);
	close(p[1]);
	assert_int_equal(fs_write_all(-1, "abc", 3), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_atomic, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_over_planted, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_temp_over_planted, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_create_temp_args, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test(test_is_temp_name),
		cmocka_unit_test_setup_teardown(test_rename_noreplace, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_check_private_dir, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_parents, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test(test_write_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
