/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Fixture files for the unit tests: text captured from a real node process
 * (see tests/fixtures/README); a fresh temporary folder per test; files written in it;
 * and child processes: one that runs a check, one held until the test lets it go.
 * Include after <cmocka.h>.
 */
#ifndef INSPECTD_TEST_FIXTURE_H
#define INSPECTD_TEST_FIXTURE_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FIXTURES
#error "FIXTURES must name the fixture folder: -DFIXTURES=\"/abs/path/tests/fixtures\""
#endif

#define FIXTURE_MAX_SIZE (1 << 20)

/* The whole file, NUL-terminated; fails the running test when it cannot be read. */
static inline char *fixture_read(const char *name, size_t *ret_len)
{
	char path[4096];
	size_t len = 0;
	char *buf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	f = fopen(path, "re");
	if (!f)
		fail_msg("fixture %s: %s", path, strerror(errno));
	buf = malloc(FIXTURE_MAX_SIZE + 1);
	assert_non_null(buf);
	len = fread(buf, 1, FIXTURE_MAX_SIZE, f);
	if (ferror(f) || !feof(f))
		fail_msg("fixture %s: read error or larger than %d bytes", path, FIXTURE_MAX_SIZE);
	fclose(f);
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return buf;
}

/* Line n (0 = first) of text, without its newline, copied into buf. */
static inline const char *fixture_line(const char *text, int n, char *buf, size_t size)
{
	const char *p = text, *nl;
	size_t len;

	for (int i = 0; i < n; i++) {
		p = strchr(p, '\n');
		if (!p)
			fail_msg("fixture has no line %d", n);
		p++;
	}
	nl = strchr(p, '\n');
	len = nl ? (size_t)(nl - p) : strlen(p);
	assert_true(len < size);
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

/* Remove name and, if it is a folder, everything under it, in the folder at; symlinks are not followed. */
static inline int fixture_remove_at(int at, const char *name)
{
	struct dirent *de;
	DIR *dir;
	int fd;

	if (unlinkat(at, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR)
		return -1;
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && fixture_remove_at(dirfd(dir), de->d_name) < 0) {
			closedir(dir);
			return -1;
		}
	}
	closedir(dir);
	return unlinkat(at, name, AT_REMOVEDIR);
}

/*
 * A setup and a teardown for cmocka_unit_test_setup_teardown(): *state is a fresh folder
 * /tmp/inspectd-test-XXXXXX (a char *, 0700) that the teardown removes with its contents.
 */
static inline int fixture_tmpdir_setup(void **state)
{
	char *dir = strdup("/tmp/inspectd-test-XXXXXX");

	if (!dir || !mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static inline int fixture_tmpdir_teardown(void **state)
{
	char *dir = *state;
	int r;

	if (!dir)
		return 0;
	r = fixture_remove_at(AT_FDCWD, dir);
	free(dir);
	return r;
}

/* dir/name in buf. */
static inline const char *fixture_path(char *buf, size_t size, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
		fail_msg("path %s/%s too long", dir, name);
	return buf;
}

/* path = text (0644, replaced if it is there); fails the running test when it cannot be written. */
static inline void fixture_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Runs fn in a child; its exit status (0: all held), or 100 + the signal that killed it. */
static inline int fixture_in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		return 100 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

#define FIXTURE_HELD_MSG_MAX 256

/*
 * A child that runs fn(msg) (which fills msg, size bytes at most FIXTURE_HELD_MSG_MAX,
 * and says whether the child is ready), hands msg back, then waits until the test
 * closes *release. Its pid; or 0 when fn said no (the child reaped, msg as it filled it).
 */
static inline pid_t fixture_child_held(bool (*fn)(void *msg), void *msg, size_t size, int *release)
{
	char buf[1 + FIXTURE_HELD_MSG_MAX];
	int ready[2], hold[2];
	pid_t pid;
	char c;

	assert_true(size <= FIXTURE_HELD_MSG_MAX);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(hold), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		buf[0] = fn(msg) ? 'y' : 'n';
		memcpy(buf + 1, msg, size);
		if (write(ready[1], buf, 1 + size) != (ssize_t)(1 + size))
			_exit(1);
		/* Until the test closes its end. */
		while (read(hold[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	assert_int_equal(read(ready[0], buf, 1 + size), (ssize_t)(1 + size));
	close(ready[0]);
	memcpy(msg, buf + 1, size);
	*release = hold[1];
	if (buf[0] != 'y') {
		close(hold[1]);
		waitpid(pid, NULL, 0);
		return 0;
	}
	return pid;
}

#endif
