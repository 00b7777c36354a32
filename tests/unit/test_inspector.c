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

/* Where a listener is reached, from a /proc/net/tcp line as the kernel writes it. */
static void endpoint_of_line(const char *line, int family, const char *want_addr, int want_family)
{
	struct procfs_listener l;
	struct inspector_endpoint e;
	char buf[64];

	assert_int_equal(procfs_parse_net_tcp_line(line, family, &l), 1);
	inspector_endpoint_of(&l, &e);
	assert_int_equal(e.family, want_family);
	assert_int_equal(e.port, 9229);
	assert_int_equal(inspector_endpoint_address(&e, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want_addr);
}

static void test_endpoint(void **state)
{
	/* Its own address: 127.0.0.2 is reached at 127.0.0.2, not at 127.0.0.1. */
	endpoint_of_line("   0: 0200007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4711 1",
			 AF_INET, "127.0.0.2", AF_INET);
	endpoint_of_line("   0: 0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4711 1",
			 AF_INET, "127.0.0.1", AF_INET);
	/* Any address: the loopback of its family. */
	endpoint_of_line("   0: 00000000:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4711 1",
			 AF_INET, "127.0.0.1", AF_INET);
	endpoint_of_line("   0: 00000000000000000000000001000000:240D 00000000000000000000000000000000:0000 0A "
			 "00000000:00000000 00:00000000 00000000     0        0 4712 1", AF_INET6, "::1", AF_INET6);
	endpoint_of_line("   0: 00000000000000000000000000000000:240D 00000000000000000000000000000000:0000 0A "
			 "00000000:00000000 00:00000000 00000000     0        0 4712 1", AF_INET6, "::1", AF_INET6);
	/* ::ffff:127.0.0.3 is IPv4's 127.0.0.3. */
	endpoint_of_line("   0: 0000000000000000FFFF00000300007F:240D 00000000000000000000000000000000:0000 0A "
			 "00000000:00000000 00:00000000 00000000     0        0 4713 1", AF_INET6, "127.0.0.3", AF_INET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_open_default_port),
		cmocka_unit_test(test_pick_open_cmdline_port),
		cmocka_unit_test(test_pick_new),
		cmocka_unit_test(test_catches_sigusr1),
		cmocka_unit_test(test_endpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
