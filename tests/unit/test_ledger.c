// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The ledger of inspectors being opened: its one-line format, strictly parsed; the
 * files in a directory made here; and the start time that identifies a process across
 * restarts, from /proc/PID/stat lines whose comm is hostile.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ledger.h"
#include "procfs.h"

static void assert_entry(const struct ledger_entry *a, const struct ledger_entry *b)
{
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->start_time, b->start_time);
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->inode, b->inode);
}

static void test_format_parse(void **state)
{
	struct ledger_entry e = { .pid = 4242, .start_time = 193541, .port = 9229, .inode = 123456789 }, back;
	char buf[128];

	assert_true(ledger_format(&e, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "inspectd-opened 1 pid=4242 start=193541 port=9229 inode=123456789\n");
	assert_int_equal(ledger_parse(buf, &back), 0);
	assert_entry(&e, &back);
	/* SIGUSR1 sent, port not found yet. */
	e.port = 0;
	e.inode = 0;
	assert_true(ledger_format(&e, buf, sizeof(buf)) > 0);
	assert_int_equal(ledger_parse(buf, &back), 0);
	assert_int_equal(back.port, 0);
	/* The extremes. */
	e = (struct ledger_entry){ .pid = 0x3fffffff, .start_time = UINT64_MAX, .port = 65535, .inode = UINT64_MAX };
	assert_true(ledger_format(&e, buf, sizeof(buf)) > 0);
	assert_int_equal(ledger_parse(buf, &back), 0);
	assert_entry(&e, &back);
	assert_int_equal(ledger_format(&e, buf, 20), -ENOBUFS);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"inspectd-opened 2 pid=1 start=1 port=0 inode=0\n",             /* another version */
		"inspectd-opened 1 pid=1 start=1 port=0 inode=0",               /* no newline */
		"inspectd-opened 1 pid=1 start=1 port=0 inode=0\n\n",           /* trailing data */
		"inspectd-opened 1 pid=1 start=1 port=0 inode=0 x=1\n",
		"inspectd-opened 1 pid=0 start=1 port=0 inode=0\n",             /* no pid 0 */
		"inspectd-opened 1 pid=-1 start=1 port=0 inode=0\n",
		"inspectd-opened 1 pid=1073741824 start=1 port=0 inode=0\n",    /* above PID_MAX_LIMIT */
		"inspectd-opened 1 pid=1 start=18446744073709551616 port=0 inode=0\n",
		"inspectd-opened 1 pid=1 start=1 port=65536 inode=1\n",
		"inspectd-opened 1 pid=1 start=1 port=9229 inode=0\n",          /* a port without its socket */
		"inspectd-opened 1 pid=1 start=1 port=0 inode=7\n",
		"inspectd-opened 1 pid=01 start=1 port=0 inode=0\n",            /* leading zero */
		"inspectd-opened 1 pid= start=1 port=0 inode=0\n",
		"inspectd-opened 1 pid=1  start=1 port=0 inode=0\n",
		"inspectd-opened 1 start=1 pid=1 port=0 inode=0\n",             /* another order */
		"inspectd-opened 1 pid=1 start=1 port=+1 inode=1\n",
		"inspectd-opened 1 pid=1 start=1 port=0 inode=0\r\n",
	};
	struct ledger_entry e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ledger_parse(bad[i], &e) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	}
}

static char *make_dir(void)
{
	char *dir = strdup("/tmp/inspectd-ledger-XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static void seen(void *ctx, const struct ledger_entry *e)
{
	struct ledger_entry *out = ctx;

	out[e->pid == 100 ? 0 : 1] = *e;
}

static void test_files(void **state)
{
	struct ledger_entry a = { .pid = 100, .start_time = 5 }, b = { .pid = 200, .start_time = 6, .port = 9229, .inode = 77 };
	struct ledger_entry got[2] = { 0 };
	char *dir = make_dir(), path[256];
	struct ledger_skips skips = { 0 };
	struct ledger *l = NULL;
	struct stat st;
	int fd;

	assert_int_equal(ledger__open(dir, &l), 0);
	assert_non_null(l);
	snprintf(path, sizeof(path), "%s/opened", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(ledger__record(l, &a), 0);
	assert_int_equal(ledger__record(l, &b), 0);
	/* Recorded again with the port: the same file, replaced. */
	a.port = 9230;
	a.inode = 88;
	assert_int_equal(ledger__record(l, &a), 0);

	/* What else may lie there: garbage, a file named after another pid, a leftover temporary. */
	snprintf(path, sizeof(path), "%s/opened/300", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "garbage\n", 8), 8);
	close(fd);
	snprintf(path, sizeof(path), "%s/opened/400", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_int_equal(write(fd, "inspectd-opened 1 pid=401 start=1 port=0 inode=0\n", 50), 50);
	close(fd);
	snprintf(path, sizeof(path), "%s/opened/.500.tmp", dir);
	close(open(path, O_WRONLY | O_CREAT, 0600));

	{
		struct ledger_entry one;

		assert_int_equal(ledger__get(l, 100, &one), 0);
		assert_entry(&a, &one);
		assert_true(one.written > 0 && labs((long)(time(NULL) - one.written)) < 60);  /* its mtime */
		assert_int_equal(ledger__get(l, 300, &one), -EINVAL);  /* garbage */
		assert_int_equal(ledger__get(l, 400, &one), -EINVAL);  /* another pid's */
		assert_int_equal(ledger__get(l, 999, &one), -ENOENT);
	}
	assert_int_equal(ledger__each(l, seen, got, &skips), 2);
	assert_int_equal(skips.removed, 2);     /* garbage, and another pid's */
	assert_int_equal(skips.unread, 0);
	assert_int_equal(got[0].pid, 100);
	assert_int_equal(got[0].port, 9230);
	assert_int_equal(got[0].inode, 88);
	assert_int_equal(got[1].pid, 200);
	assert_int_equal(got[1].inode, 77);
	/* The strangers were removed. */
	snprintf(path, sizeof(path), "%s/opened/300", dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/opened/400", dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/opened/.500.tmp", dir);
	assert_int_equal(access(path, F_OK), -1);

	assert_int_equal(ledger__forget(l, 100), 0);
	assert_int_equal(ledger__forget(l, 100), -ENOENT);
	assert_int_equal(ledger__forget(l, 200), 0);
	memset(got, 0, sizeof(got));
	assert_int_equal(ledger__each(l, seen, got, NULL), 0);
	ledger__free(l);

	/* Opened again: the same (empty) directory. */
	assert_int_equal(ledger__open(dir, &l), 0);
	ledger__free(l);
	/* A folder others may write to: records could be planted, refused. */
	snprintf(path, sizeof(path), "%s/opened", dir);
	assert_int_equal(chmod(path, 0733), 0);
	assert_int_equal(ledger__open(dir, &l), -EPERM);
	assert_int_equal(chmod(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/opened", dir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
	/* A parent that does not exist. */
	assert_int_equal(ledger__open("/nonexistent-inspectd/state", &l), -ENOENT);
}

static void test_stat_starttime(void **state)
{
	static const char tail[] = " R 13782 13782 1207 0 -1 4194304 126 0 1 0 0 0 0 0 20 0 1 0 193541 3133440 413 "
				   "18446744073709551615 94576200003584 0\n";
	char line[512];
	uint64_t v = 0;

	snprintf(line, sizeof(line), "13825 (cat)%s", tail);
	assert_int_equal(procfs_parse_stat_starttime(line, &v), 0);
	assert_int_equal(v, 193541);
	/* A comm that looks like more fields: ") 1 2 3" and spaces. */
	snprintf(line, sizeof(line), "13825 (a) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 99)%s", tail);
	assert_int_equal(procfs_parse_stat_starttime(line, &v), 0);
	assert_int_equal(v, 193541);
	/* Cut short, no comm, garbage where the number is. */
	assert_int_equal(procfs_parse_stat_starttime("13825 (cat) R 1 2 3\n", &v), -EINVAL);
	assert_int_equal(procfs_parse_stat_starttime("13825 cat R\n", &v), -EINVAL);
	snprintf(line, sizeof(line), "1 (x) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5 0\n");
	assert_int_equal(procfs_parse_stat_starttime(line, &v), -EINVAL);
	/* This process's own, twice the same. */
	{
		uint64_t a = 0, b = 0;

		assert_int_equal(procfs_read_starttime(getpid(), &a), 0);
		assert_int_equal(procfs_read_starttime(getpid(), &b), 0);
		assert_true(a > 0);
		assert_int_equal(a, b);
		assert_true(procfs_read_starttime(0x3fffffff, &a) < 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_stat_starttime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
