// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Entering a process's network namespace through its pidfd, and leaving it: against a
 * child in a namespace of its own (unshare(CLONE_NEWNET), root only), this process, and
 * a process that is gone.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "netns.h"

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static uint64_t thread_netns(void)
{
	struct stat st;

	assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
	return (uint64_t)st.st_ino;
}

static bool unshare_netns(void *msg)
{
	return unshare(CLONE_NEWNET) == 0;
}

/* A child in a network namespace of its own, waiting on a pipe; its pid, or 0 when this
 * process may not make one. */
static pid_t child_in_own_netns(int *release)
{
	char none;

	return fixture_child_held(unshare_netns, &none, 0, release);
}

static void test_enter_pidfd_own_netns(void **state)
{
	uint64_t ours = thread_netns(), theirs, via_pidfd;
	int release, pidfd, saved = 77, r;
	pid_t pid = child_in_own_netns(&release);

	if (!pid) {
		print_message("  cannot unshare a network namespace (not root?): skipping\n");
		skip();
	}
	assert_int_equal(netns_inode(pid, &theirs), 0);
	assert_true(theirs != ours);
	pidfd = pidfd_open(pid);
	assert_true(pidfd >= 0);
	r = netns_pidfd_inode(pidfd, &via_pidfd);
	if (r == 0)
		assert_true(via_pidfd == theirs);
	else
		assert_int_equal(r, -EOPNOTSUPP);

	assert_int_equal(netns_enter_pidfd(pidfd, &saved), 0);
	assert_true(saved >= 0);
	assert_true(thread_netns() == theirs);
	assert_int_equal(netns_leave(saved), 0);
	assert_true(thread_netns() == ours);
	/* saved is closed. */
	assert_int_equal(fcntl(saved, F_GETFD), -1);

	/* Once the process is gone, its pidfd enters nothing. */
	close(release);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	saved = 77;
	assert_int_equal(netns_enter_pidfd(pidfd, &saved), -ESRCH);
	assert_int_equal(saved, -1);
	assert_true(thread_netns() == ours);
	close(pidfd);
}

static void test_enter_pidfd_ours(void **state)
{
	uint64_t ours = thread_netns();
	int pidfd = pidfd_open(getpid()), saved = 77;

	assert_true(pidfd >= 0);
	/* Our own namespace: nothing to leave (or, on a kernel without the pidfd ioctl, a
	 * setns() into the namespace we are in). */
	assert_int_equal(netns_enter_pidfd(pidfd, &saved), 0);
	assert_true(thread_netns() == ours);
	assert_int_equal(netns_leave(saved), 0);
	assert_true(thread_netns() == ours);
	close(pidfd);
}

static void test_enter_not_a_pidfd(void **state)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC), saved = 77;

	assert_true(fd >= 0);
	assert_true(netns_enter_pidfd(fd, &saved) < 0);
	assert_int_equal(saved, -1);
	assert_int_equal(netns_enter_pidfd(-1, &saved), -EBADF);
	close(fd);
}

static void test_leave(void **state)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_int_equal(netns_leave(-1), 0);
	/* Not a namespace: an error for the caller to act on, not an exit, and fd is closed. */
	assert_true(fd >= 0);
	assert_int_equal(netns_leave(fd), -EINVAL);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enter_pidfd_own_netns),
		cmocka_unit_test(test_enter_pidfd_ours),
		cmocka_unit_test(test_enter_not_a_pidfd),
		cmocka_unit_test(test_leave),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
