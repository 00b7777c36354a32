// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Whether a target may be sent SIGUSR1, and where its inspector's listener is reached. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/socket.h>

#include "inspector.h"

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
		cmocka_unit_test(test_catches_sigusr1),
		cmocka_unit_test(test_endpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
