// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* How the agent picks the inspector among a target's listening sockets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/socket.h>

#include "inspector.h"

#define L(ino, p, lo, an) { .inode = (ino), .port = (p), .family = AF_INET, .loopback = (lo), .any = (an) }

static void test_pick_open_default_port(void **state)
{
	/* The app's own server on :3000, the inspector on 127.0.0.1:9229. */
	struct procfs_listener l[] = { L(10, 3000, false, true), L(11, 9229, true, false) };

	assert_int_equal(inspector_pick_open(l, 2, 0), 1);
	/* The command line names another port: 9229 is then someone else's business. */
	assert_int_equal(inspector_pick_open(l, 2, 9333), -1);
}

static void test_pick_open_cmdline_port(void **state)
{
	struct procfs_listener l[] = { L(10, 9229, false, false), L(11, 9333, false, true) };

	assert_int_equal(inspector_pick_open(l, 2, 9333), 1);
	/* 9229 bound to a non-loopback address only: unreachable on 127.0.0.1. */
	assert_int_equal(inspector_pick_open(l, 2, 0), -1);
	assert_int_equal(inspector_pick_open(l, 0, 0), -1);
}

static void test_pick_new(void **state)
{
	struct procfs_listener before[] = { L(10, 3000, false, true) };
	struct procfs_listener after_same[] = { L(10, 3000, false, true) };
	struct procfs_listener after_new[] = { L(10, 3000, false, true), L(12, 9229, true, false) };
	/* A socket the app opened meanwhile on another address, and the inspector. */
	struct procfs_listener after_two[] = { L(13, 4000, false, false), L(10, 3000, false, true),
					       L(12, 9229, true, false) };
	struct procfs_listener after_any[] = { L(14, 9229, false, true) };

	assert_int_equal(inspector_pick_new(before, 1, after_same, 1), -1);
	assert_int_equal(inspector_pick_new(before, 1, after_new, 2), 1);
	assert_int_equal(inspector_pick_new(before, 1, after_two, 3), 2);
	assert_int_equal(inspector_pick_new(before, 1, after_any, 1), 0);
	assert_int_equal(inspector_pick_new(NULL, 0, after_new, 2), 1);
	/* Same port, new inode: a new socket. */
	{
		struct procfs_listener again[] = { L(99, 3000, false, true) };

		assert_int_equal(inspector_pick_new(before, 1, again, 1), 0);
	}
}

static void test_catches_sigusr1(void **state)
{
	/* SigCgt of an idle node 20 (tests/fixtures/node-status.txt): 0000000100004602. */
	assert_true(inspector_catches_sigusr1(0x0000000100004602ull));
	assert_false(inspector_catches_sigusr1(0));
	/* sleep(1): nothing caught. A process catching everything but USR1. */
	assert_false(inspector_catches_sigusr1(~(1ull << (SIGUSR1 - 1))));
	assert_true(inspector_catches_sigusr1(1ull << (SIGUSR1 - 1)));
	/* SIGUSR2's bit is not SIGUSR1's. */
	assert_false(inspector_catches_sigusr1(1ull << (SIGUSR2 - 1)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_open_default_port),
		cmocka_unit_test(test_pick_open_cmdline_port),
		cmocka_unit_test(test_pick_new),
		cmocka_unit_test(test_catches_sigusr1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
