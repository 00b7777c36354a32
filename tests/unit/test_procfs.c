// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The pure /proc parsers, against text captured from real node processes:
 *   node-status.txt             /proc/PID/status of an idle `node -e 'setInterval(()=>{},1000)'`
 *   net-tcp.txt, net-tcp6.txt   /proc/PID/net/tcp{,6} of that node after SIGUSR1
 *                               (inspector on 127.0.0.1:9229; no IPv6 sockets)
 *   net-tcp-established.txt     net/tcp with listeners, ESTABLISHED and TIME_WAIT lines
 *   net-tcp6-listeners.txt      net/tcp6 with listeners on [::1]:9331,
 *                               [::ffff:127.0.0.1]:9332, [::]:9333 and one connection
 *   status-480-groups.txt       /proc/PID/status of a process with 480 supplementary groups
 *                               that catches SIGALRM only: 4 777 bytes
 * and the namespace's listeners read from net/tcp{,6} line by line (the fallback of
 * sock_diag), on those tables, tables written here, and this process's own.
 */
#define _GNU_SOURCE             /* memfd_create */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "procfs.h"

#define SIGBIT(sig) (UINT64_C(1) << ((sig) - 1))

/* ---- status masks ---- */

static void test_status_mask_fixture(void **state)
{
	char *status = fixture_read("node-status.txt", NULL);
	uint64_t mask = 0;

	assert_int_equal(procfs_parse_status_mask(status, "SigCgt", &mask), 0);
	assert_true(mask == UINT64_C(0x0000000100004602));
	/* An idle node catches SIGUSR1 (bit 9) for its inspector; SIGINT, SIGSEGV, SIGTERM too. */
	assert_true(mask & SIGBIT(SIGUSR1));
	assert_true(mask & (1 << 9));
	assert_true(mask & SIGBIT(SIGINT));
	assert_true(mask & SIGBIT(SIGSEGV));
	assert_true(mask & SIGBIT(SIGTERM));
	/* ...and leaves SIGWINCH alone: the agent's trigger is harmless to it. */
	assert_false(mask & SIGBIT(SIGWINCH));
	assert_false(mask & SIGBIT(SIGUSR2));

	assert_int_equal(procfs_parse_status_mask(status, "SigIgn", &mask), 0);
	assert_true(mask == UINT64_C(0x0000000001001000));
	assert_true(mask & SIGBIT(SIGPIPE));
	assert_true(mask & SIGBIT(SIGXFSZ));

	assert_int_equal(procfs_parse_status_mask(status, "SigBlk", &mask), 0);
	assert_true(mask == 0);
	assert_int_equal(procfs_parse_status_mask(status, "ShdPnd", &mask), 0);
	assert_true(mask == 0);
	assert_int_equal(procfs_parse_status_mask(status, "CapEff", &mask), 0);
	assert_true(mask == UINT64_C(0x000001fffeffffff));
	free(status);
}

static void test_status_mask_missing(void **state)
{
	char *status = fixture_read("node-status.txt", NULL);
	uint64_t mask = 77;

	assert_int_equal(procfs_parse_status_mask(status, "SigFoo", &mask), -ENOENT);
	/* A prefix of a field name is not the field. */
	assert_int_equal(procfs_parse_status_mask(status, "Sig", &mask), -ENOENT);
	assert_int_equal(procfs_parse_status_mask(status, "SigCg", &mask), -ENOENT);
	/* Only at the start of a line. */
	assert_int_equal(procfs_parse_status_mask(status, "Cgt", &mask), -ENOENT);
	assert_int_equal(procfs_parse_status_mask("", "SigCgt", &mask), -ENOENT);
	assert_int_equal(procfs_parse_status_mask("Name:\tSigCgt: 1\n", "SigCgt", &mask), -ENOENT);
	assert_int_equal(procfs_parse_status_mask("SigCgt\t0000000000000200\n", "SigCgt", &mask), -ENOENT);
	assert_int_equal(mask, 77);
	free(status);
}

static void test_status_mask_text(void **state)
{
	uint64_t mask = 0;

	assert_int_equal(procfs_parse_status_mask("Name:\tnode\nSigCgt:\t0000000000000200\n", "SigCgt", &mask), 0);
	assert_true(mask == SIGBIT(SIGUSR1));
	assert_int_equal(procfs_parse_status_mask("SigCgt: ffffffffffffffff\n", "SigCgt", &mask), 0);
	assert_true(mask == UINT64_MAX);
	assert_int_equal(procfs_parse_status_mask("SigCgt:\tFFFFFFFFFFFFFFFE\n", "SigCgt", &mask), 0);
	assert_true(mask == UINT64_MAX - 1);
	/* The first line that names the field counts. */
	assert_int_equal(procfs_parse_status_mask("SigCgt:\t0000000000000001\nSigCgt:\t0000000000000002\n",
						  "SigCgt", &mask), 0);
	assert_true(mask == 1);
}

static void test_status_mask_malformed(void **state)
{
	static const char *const bad[] = {
		"SigCgt:\t\n",
		"SigCgt:\n",
		"SigCgt:",
		"SigCgt:\tzz\n",
		"SigCgt:\t00000000000002g0\n",
		"SigCgt:\t0000000000000200 \n",
		"SigCgt:\t0000000000000200\r\n",
		"SigCgt:\t12 34\n",
		"SigCgt:\t-1\n",
		"SigCgt:\t-000000000000001\n",
		"SigCgt:\t+000000000000001\n",
		"SigCgt:\t0x00000000000001\n",
		"SigCgt:\t1ffffffffffffffff\n",         /* 65 bits */
		"SigCgt:\t00000000000000000\n",         /* 17 digits */
		"SigCgt:\t200\n",                       /* not as the kernel prints it */
		/* A read cut short: the prefix of SIGALRM's mask is SIGUSR1's. */
		"Name:\tnode\nSigCgt:\t000000000000200",
		"Name:\tnode\nSigCgt:\t0000000000002000",  /* whole digits, no newline */
		"SigCgt:\t000000000000200\n",
	};
	uint64_t mask = 5;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = procfs_parse_status_mask(bad[i], "SigCgt", &mask);

		if (r != -EINVAL)
			fail_msg("status line %zu (\"%s\") = %d, want -EINVAL", i, bad[i], r);
	}
	assert_int_equal(mask, 5);
}

/* 480 supplementary groups push SigCgt past 4 KiB: whole, it says SIGALRM only; cut at 4 095
 * bytes (the old reader's 4 KiB buffer), it must not read as SIGUSR1. */
static void test_status_many_groups(void **state)
{
	size_t len;
	char *status = fixture_read("status-480-groups.txt", &len);
	uint64_t mask = 77;

	assert_true(len > 4096);
	assert_int_equal(procfs_status_signal_caught(status, len, &mask), 0);
	assert_true(mask == SIGBIT(SIGALRM));
	assert_false(mask & SIGBIT(SIGUSR1));

	/* Every prefix is refused or, where it ends after a whole SigCgt line, right. */
	for (size_t cut = 1; cut < len; cut++) {
		uint64_t m = 77;
		int r = procfs_status_signal_caught(status, cut, &m);

		if (r == 0 && m != SIGBIT(SIGALRM))
			fail_msg("status cut at %zu read as mask %" PRIx64, cut, m);
		if (r != 0 && m != 77)
			fail_msg("status cut at %zu: %d, but the mask was written", cut, r);
	}
	/* The cut the old 4 KiB buffer made, NUL-terminated where the buffer ended. */
	status[4095] = '\0';
	assert_int_equal(procfs_parse_status_mask(status, "SigCgt", &mask), -EINVAL);
	assert_int_equal(procfs_status_signal_caught(status, 4095, &mask), -EINVAL);
	assert_true(mask == SIGBIT(SIGALRM));
	free(status);
}

static void test_status_signal_caught_text(void **state)
{
	uint64_t mask = 5;

	assert_int_equal(procfs_status_signal_caught("SigCgt:\t0000000000000200\n", 25, &mask), 0);
	assert_true(mask == SIGBIT(SIGUSR1));
	mask = 5;
	assert_int_equal(procfs_status_signal_caught("", 0, &mask), -EINVAL);
	/* A NUL inside: not the kernel's text, whatever follows it. */
	assert_int_equal(procfs_status_signal_caught("Name:\tx\0\nSigCgt:\t0000000000000200\n", 34, &mask),
			 -EINVAL);
	/* The last line must be whole. */
	assert_int_equal(procfs_status_signal_caught("SigCgt:\t0000000000000200\nVmRSS:\t12", 35, &mask),
			 -EINVAL);
	assert_int_equal(procfs_status_signal_caught("Name:\tnode\n", 11, &mask), -ENOENT);
	assert_int_equal(mask, 5);
}

/* ---- whole-file reads ---- */

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_read_whole(void **state)
{
	const char *dir = *state;
	size_t sizes[] = { 0, 1, 4095, 4096, 4097, 8191, 8192, 70000 };
	char path[4096], *big, *got;
	ssize_t n;

	big = malloc(70001);
	assert_non_null(big);
	for (size_t i = 0; i < 70000; i++)
		big[i] = (char)('a' + i % 26);
	fixture_path(path, sizeof(path), dir, "f");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		write_file(path, big, sizes[s]);
		/* Exactly max, max + 1, and far more. */
		n = procfs_read_whole_path(path, sizes[s], &got);
		assert_int_equal(n, (ssize_t)sizes[s]);
		assert_non_null(got);
		assert_memory_equal(got, big, sizes[s]);
		assert_int_equal(got[sizes[s]], '\0');
		free(got);
		if (sizes[s] > 0) {
			got = (char *)1;
			assert_int_equal(procfs_read_whole_path(path, sizes[s] - 1, &got), -EFBIG);
			assert_null(got);
			assert_int_equal(procfs_read_whole_path(path, sizes[s] / 3, &got), -EFBIG);
		}
		n = procfs_read_whole_path(path, PROCFS_TEXT_MAX, &got);
		if (sizes[s] > PROCFS_TEXT_MAX) {
			assert_int_equal(n, -EFBIG);
		} else {
			assert_int_equal(n, (ssize_t)sizes[s]);
			free(got);
		}
	}
	fixture_path(path, sizeof(path), dir, "missing");
	assert_int_equal(procfs_read_whole_path(path, 100, &got), -ENOENT);
	assert_null(got);
	free(big);
}

/* The reader on this process's own status, which the kernel writes whole. */
static void test_read_whole_self(void **state)
{
	uint64_t caught, start;
	char *status;
	ssize_t n = procfs_read_whole(getpid(), "status", PROCFS_TEXT_MAX, &status);

	assert_true(n > 0);
	assert_int_equal(status[n - 1], '\n');
	assert_int_equal((size_t)n, strlen(status));
	free(status);
	assert_int_equal(procfs_read_signal_caught(getpid(), &caught), 0);
	assert_int_equal(procfs_read_starttime(getpid(), &start), 0);
	assert_true(start > 0);
}

/* ---- net/tcp lines ---- */

/* Lines copied from the fixtures. */
#define TCP_INSPECTOR "   0: 0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7691 1 00000000dbb22c1b 100 0 0 10 0                      \n"
#define TCP_ANY_2024  "   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 571 1 00000000564fd18c 100 0 0 10 0                       \n"
#define TCP_ESTAB     "   3: 0100007F:DFAE 0100007F:2476 01 00000000:00000000 00:00000000 00000000     0        0 6832 1 00000000c49d2d7c 20 0 0 10 -1                      \n"
#define TCP_TIMEWAIT  "   4: 0100007F:EB96 0100007F:240D 06 00000000:00000000 03:0000158E 00000000     0        0 0 3 00000000a4c5d4d9                                      \n"
#define TCP6_LO       "   0: 00000000000000000000000001000000:2473 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6828 1 00000000b17c66d9 100 0 0 10 0\n"
#define TCP6_ANY      "   1: 00000000000000000000000000000000:2475 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6830 1 00000000b452a3f3 100 0 0 10 0\n"
#define TCP6_MAPPED   "   2: 0000000000000000FFFF00000100007F:2474 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6829 1 00000000f96d7601 100 0 0 10 0\n"
#define TCP6_ESTAB    "   3: 00000000000000000000000001000000:2473 00000000000000000000000001000000:CE28 01 00000000:00000000 00:00000000 00000000     0        0 6834 1 00000000b6aaef7d 20 0 0 10 -1\n"

static const struct procfs_listener poison = {
	.inode = 0xdeadbeef, .port = 4242, .family = -1, .loopback = true, .any = true,
};

static void assert_listener(const struct procfs_listener *l, int family, uint16_t port,
			    uint64_t inode, bool loopback, bool any)
{
	assert_int_equal(l->family, family);
	assert_int_equal(l->port, port);
	assert_true(l->inode == inode);
	assert_int_equal(l->loopback, loopback);
	assert_int_equal(l->any, any);
}

static void assert_untouched(const struct procfs_listener *l)
{
	assert_listener(l, poison.family, poison.port, poison.inode, poison.loopback, poison.any);
}

static void test_tcp_line_inspector(void **state)
{
	struct procfs_listener l = poison;

	assert_int_equal(procfs_parse_net_tcp_line(TCP_INSPECTOR, AF_INET, &l), 1);
	assert_listener(&l, AF_INET, 9229, 7691, true, false);

	l = poison;
	assert_int_equal(procfs_parse_net_tcp_line(TCP_ANY_2024, AF_INET, &l), 1);
	assert_listener(&l, AF_INET, 2024, 571, false, true);
}

static void test_tcp_line_not_listening(void **state)
{
	struct procfs_listener l = poison;

	assert_int_equal(procfs_parse_net_tcp_line(TCP_ESTAB, AF_INET, &l), 0);
	assert_int_equal(procfs_parse_net_tcp_line(TCP_TIMEWAIT, AF_INET, &l), 0);
	assert_int_equal(procfs_parse_net_tcp_line(TCP6_ESTAB, AF_INET6, &l), 0);
	/* SYN_SENT, CLOSE_WAIT, CLOSE */
	assert_int_equal(procfs_parse_net_tcp_line(
		"   9: 0100007F:240D 0100007F:0050 02 00000000:00000000 00:00000000 00000000     0        0 1 1\n",
		AF_INET, &l), 0);
	assert_int_equal(procfs_parse_net_tcp_line(
		"   9: 0100007F:240D 0100007F:0050 08 00000000:00000000 00:00000000 00000000     0        0 1 1\n",
		AF_INET, &l), 0);
	assert_int_equal(procfs_parse_net_tcp_line(
		"   9: 0100007F:240D 0100007F:0050 07 00000000:00000000 00:00000000 00000000     0        0 1 1\n",
		AF_INET, &l), 0);
	/* out is untouched */
	assert_untouched(&l);
}

static void test_tcp_line_addresses(void **state)
{
	struct procfs_listener l;

	/* 127.0.0.53:53 (systemd-resolved) is loopback too. */
	assert_int_equal(procfs_parse_net_tcp_line(
		"   2: 3500007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 1234 1 0000000000000000 100 0 0 10 5\n",
		AF_INET, &l), 1);
	assert_listener(&l, AF_INET, 53, 1234, true, false);
	/* 10.0.0.5:8080 is neither. */
	assert_int_equal(procfs_parse_net_tcp_line(
		"   2: 0500000A:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 99 1 0000000000000000 100 0 0 10 0\n",
		AF_INET, &l), 1);
	assert_listener(&l, AF_INET, 8080, 99, false, false);
	/* Lower-case hex, highest port, inode at the end of the text. */
	assert_int_equal(procfs_parse_net_tcp_line(
		"0: 0100007f:ffff 00000000:0000 0a 00000000:00000000 00:00000000 00000000 0 0 18446744073709551615",
		AF_INET, &l), 1);
	assert_listener(&l, AF_INET, 65535, UINT64_MAX, true, false);
}

static void test_tcp6_line(void **state)
{
	struct procfs_listener l = poison;

	assert_int_equal(procfs_parse_net_tcp_line(TCP6_LO, AF_INET6, &l), 1);
	assert_listener(&l, AF_INET6, 9331, 6828, true, false);

	l = poison;
	assert_int_equal(procfs_parse_net_tcp_line(TCP6_MAPPED, AF_INET6, &l), 1);
	assert_listener(&l, AF_INET6, 9332, 6829, true, false);

	l = poison;
	assert_int_equal(procfs_parse_net_tcp_line(TCP6_ANY, AF_INET6, &l), 1);
	assert_listener(&l, AF_INET6, 9333, 6830, false, true);

	/* ::ffff:10.0.0.1 is mapped but not loopback. */
	assert_int_equal(procfs_parse_net_tcp_line(
		"   0: 0000000000000000FFFF00000100000A:2474 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11 1\n",
		AF_INET6, &l), 1);
	assert_listener(&l, AF_INET6, 9332, 11, false, false);
	/* ::ffff:127.0.0.1 needs the 0000:ffff: prefix exactly: 0:0:0:0:3412:ffff:7f00:1 is not it. */
	assert_int_equal(procfs_parse_net_tcp_line(
		"   0: 0000000000000000FFFF12340100007F:2474 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 15 1\n",
		AF_INET6, &l), 1);
	assert_listener(&l, AF_INET6, 9332, 15, false, false);
	/* ...nor is ::1:ffff:7f00:1 (a non-zero word before the ffff). */
	assert_int_equal(procfs_parse_net_tcp_line(
		"   0: 0000000001000000FFFF00000100007F:2474 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 16 1\n",
		AF_INET6, &l), 1);
	assert_listener(&l, AF_INET6, 9332, 16, false, false);
	/* 2001:db8::1 */
	assert_int_equal(procfs_parse_net_tcp_line(
		"   0: B80D0120000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12 1\n",
		AF_INET6, &l), 1);
	assert_listener(&l, AF_INET6, 80, 12, false, false);
	/* ::2 is not ::1. */
	assert_int_equal(procfs_parse_net_tcp_line(
		"   0: 00000000000000000000000002000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 13 1\n",
		AF_INET6, &l), 1);
	assert_listener(&l, AF_INET6, 80, 13, false, false);
	/* 1:: in the wrong byte order is not ::1 either. */
	assert_int_equal(procfs_parse_net_tcp_line(
		"   0: 00000001000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 14 1\n",
		AF_INET6, &l), 1);
	assert_false(l.loopback);
}

static void test_tcp_line_malformed(void **state)
{
	static const struct {
		const char *line;
		int family;
	} bad[] = {
		{ "", AF_INET },
		{ "\n", AF_INET },
		/* the header */
		{ "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n", AF_INET },
		/* no "sl:" */
		{ "0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7691 1\n", AF_INET },
		{ "   0 0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7691 1\n", AF_INET },
		{ "   x: 0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7691 1\n", AF_INET },
		/* bad local address */
		{ "   0: 0100007G:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7691 1\n", AF_INET },
		{ "   0: 0100007F240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7691 1\n", AF_INET },
		{ "   0: 100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7691 1\n", AF_INET },
		{ "   0: 0100007F:24 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7691 1\n", AF_INET },
		{ "   0: 0100007F:24", AF_INET },
		{ "   0: 0100007F:", AF_INET },
		{ "   0: 0100", AF_INET },
		/* no or bad state */
		{ "   0: 0100007F:240D 00000000:0000", AF_INET },
		{ "   0: 0100007F:240D 00000000:0000 \n", AF_INET },
		{ "   0: 0100007F:240D 00000000:0000 0\n", AF_INET },
		{ "   0: 0100007F:240D 00000000:0000 ZZ 00000000:00000000 00:00000000 00000000     0        0 7691 1\n", AF_INET },
		/* LISTEN, but no inode or a bad one */
		{ "   0: 0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0\n", AF_INET },
		{ "   0: 0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n", AF_INET },
		{ "   0: 0100007F:240D 00000000:0000 0A\n", AF_INET },
		{ "   0: 0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 abc 1\n", AF_INET },
		{ "   0: 0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 76x1 1\n", AF_INET },
		{ "   0: 0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 -7691 1\n", AF_INET },
		{ "   0: 0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 18446744073709551616 1\n", AF_INET },
		/* the wrong table for the family */
		{ TCP_INSPECTOR, AF_INET6 },
		{ TCP6_LO, AF_INET },
		{ TCP_INSPECTOR, AF_UNIX },
		{ TCP6_LO, 0 },
		/* a v6 address cut short */
		{ "   0: 000000000000000000000000010000:2473 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6828 1\n", AF_INET6 },
	};
	struct procfs_listener l = poison;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = procfs_parse_net_tcp_line(bad[i].line, bad[i].family, &l);

		if (r != -EINVAL)
			fail_msg("bad line %zu (\"%s\") = %d, want -EINVAL", i, bad[i].line, r);
	}
	assert_untouched(&l);
}

/* ---- whole tables ---- */

/* What a simple independent reading of the fixture says: LISTEN lines, in order. */
static size_t expected_listeners(const char *text, struct procfs_listener *out, size_t max)
{
	const char *line = strchr(text, '\n');
	size_t n = 0;

	while (line && *++line && n < max) {
		unsigned port, st;
		uint64_t inode;

		if (sscanf(line, "%*d: %*[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*u %*u %" SCNu64,
			   &port, &st, &inode) == 3 && st == 0x0A) {
			out[n].port = (uint16_t)port;
			out[n].inode = inode;
			n++;
		}
		line = strchr(line, '\n');
	}
	return n;
}

static void assert_matches_fixture(const char *text, const struct procfs_listener *got, int n)
{
	struct procfs_listener want[PROCFS_MAX_LISTENERS];
	size_t nwant = expected_listeners(text, want, PROCFS_MAX_LISTENERS);

	assert_int_equal(n, nwant);
	for (int i = 0; i < n; i++) {
		assert_int_equal(got[i].port, want[i].port);
		assert_true(got[i].inode == want[i].inode);
	}
}

static void test_tcp_table_inspector(void **state)
{
	char *text = fixture_read("net-tcp.txt", NULL);
	struct procfs_listener l[PROCFS_MAX_LISTENERS];
	char line[512];
	uint64_t inode;
	int n;

	n = procfs_parse_net_tcp(text, AF_INET, l, PROCFS_MAX_LISTENERS);
	assert_int_equal(n, 2);
	assert_matches_fixture(text, l, n);

	/* The inspector node opened on SIGUSR1: the inode as the fixture has it. */
	fixture_line(text, 1, line, sizeof(line));
	assert_int_equal(sscanf(line, "%*d: %*s %*s %*s %*s %*s %*s %*u %*u %" SCNu64, &inode), 1);
	assert_true(inode == 7691);
	assert_listener(&l[0], AF_INET, 9229, inode, true, false);
	assert_listener(&l[1], AF_INET, 2024, 571, false, true);

	/* max bounds the output. */
	l[1] = poison;
	assert_int_equal(procfs_parse_net_tcp(text, AF_INET, l, 1), 1);
	assert_listener(&l[0], AF_INET, 9229, 7691, true, false);
	assert_untouched(&l[1]);
	assert_int_equal(procfs_parse_net_tcp(text, AF_INET, l, 0), 0);
	/* The v4 table read as v6 holds nothing. */
	assert_int_equal(procfs_parse_net_tcp(text, AF_INET6, l, PROCFS_MAX_LISTENERS), 0);
	free(text);
}

static void test_tcp6_table_empty(void **state)
{
	char *text = fixture_read("net-tcp6.txt", NULL);
	struct procfs_listener l[4];

	/* Header only: node's inspector listens on 127.0.0.1. */
	assert_non_null(strstr(text, "local_address"));
	assert_int_equal(procfs_parse_net_tcp(text, AF_INET6, l, 4), 0);
	free(text);
}

static void test_tcp_table_mixed_states(void **state)
{
	char *text = fixture_read("net-tcp-established.txt", NULL);
	struct procfs_listener l[PROCFS_MAX_LISTENERS];
	int n;

	/* Seven sockets, three listening; ESTABLISHED and TIME_WAIT are skipped. */
	n = procfs_parse_net_tcp(text, AF_INET, l, PROCFS_MAX_LISTENERS);
	assert_int_equal(n, 3);
	assert_matches_fixture(text, l, n);
	assert_listener(&l[0], AF_INET, 9229, 7691, true, false);
	assert_listener(&l[1], AF_INET, 9334, 6831, true, false);
	assert_listener(&l[2], AF_INET, 2024, 571, false, true);
	free(text);
}

static void test_tcp6_table_listeners(void **state)
{
	char *text = fixture_read("net-tcp6-listeners.txt", NULL);
	struct procfs_listener l[PROCFS_MAX_LISTENERS];
	int n;

	n = procfs_parse_net_tcp(text, AF_INET6, l, PROCFS_MAX_LISTENERS);
	assert_int_equal(n, 3);
	assert_matches_fixture(text, l, n);
	assert_listener(&l[0], AF_INET6, 9331, 6828, true, false);     /* [::1] */
	assert_listener(&l[1], AF_INET6, 9333, 6830, false, true);     /* [::] */
	assert_listener(&l[2], AF_INET6, 9332, 6829, true, false);     /* [::ffff:127.0.0.1] */
	assert_int_equal(procfs_parse_net_tcp(text, AF_INET, l, PROCFS_MAX_LISTENERS), 0);
	free(text);
}

static void test_tcp_table_text(void **state)
{
	struct procfs_listener l[4];

	assert_int_equal(procfs_parse_net_tcp("", AF_INET, l, 4), 0);
	assert_int_equal(procfs_parse_net_tcp("  sl  local_address", AF_INET, l, 4), 0);
	assert_int_equal(procfs_parse_net_tcp("  sl  local_address\n", AF_INET, l, 4), 0);
	/* The first line is the header even when it looks like a socket. */
	assert_int_equal(procfs_parse_net_tcp(TCP_INSPECTOR, AF_INET, l, 4), 0);
	/* A malformed line is skipped; the ones after it still count; no final newline needed. */
	assert_int_equal(procfs_parse_net_tcp("header\n" TCP_INSPECTOR "garbage\n\n" TCP_ESTAB
					      "   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 571 1",
					      AF_INET, l, 4), 2);
	assert_listener(&l[0], AF_INET, 9229, 7691, true, false);
	assert_listener(&l[1], AF_INET, 2024, 571, false, true);
}

/* ---- /proc/PID/fd links ---- */

static void test_socket_link(void **state)
{
	uint64_t v = 0;

	assert_int_equal(procfs_parse_socket_link("socket:[7691]", &v), 0);
	assert_true(v == 7691);
	assert_int_equal(procfs_parse_socket_link("socket:[0]", &v), 0);
	assert_true(v == 0);
	assert_int_equal(procfs_parse_socket_link("socket:[18446744073709551615]", &v), 0);
	assert_true(v == UINT64_MAX);

	v = 9;
	static const char *const bad[] = {
		"", "socket:", "socket:[", "socket:[]", "socket:[12", "socket:[12]x", "socket:[12] ",
		"socket:[-1]", "socket:[ 1]", "socket:[+1]", "socket:[0x10]", "socket:[1a]",
		"socket:[18446744073709551616]", "pipe:[7691]", "anon_inode:[eventpoll]",
		"/dev/null", "Socket:[1]", "socket[1]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = procfs_parse_socket_link(bad[i], &v);

		if (r != -EINVAL)
			fail_msg("procfs_parse_socket_link(\"%s\") = %d, want -EINVAL", bad[i], r);
	}
	assert_true(v == 9);
}

/* ---- command lines ---- */

static void test_split_cmdline(void **state)
{
	char buf[] = "node\0--inspect=9230\0app.js\0";        /* as /proc/PID/cmdline, plus the reader's NUL */
	char *argv[8];

	assert_int_equal(procfs_split_cmdline(buf, sizeof(buf) - 1, argv, 8), 3);
	assert_string_equal(argv[0], "node");
	assert_string_equal(argv[1], "--inspect=9230");
	assert_string_equal(argv[2], "app.js");
	assert_ptr_equal(argv[0], buf);

	/* Bounded by max. */
	argv[2] = NULL;
	assert_int_equal(procfs_split_cmdline(buf, sizeof(buf) - 1, argv, 2), 2);
	assert_string_equal(argv[1], "--inspect=9230");
	assert_null(argv[2]);
	assert_int_equal(procfs_split_cmdline(buf, sizeof(buf) - 1, argv, 0), 0);
	assert_int_equal(procfs_split_cmdline(buf, 0, argv, 8), 0);
}

static void test_split_cmdline_odd(void **state)
{
	char empty_arg[] = "node\0\0app.js\0";
	char truncated[] = "node\0app";     /* cut short: the reader's NUL ends the last argument */
	char rewritten[] = "node: worker 1 (idle)";   /* a process that rewrote its argv with spaces */
	char *argv[8];

	assert_int_equal(procfs_split_cmdline(empty_arg, sizeof(empty_arg) - 1, argv, 8), 3);
	assert_string_equal(argv[0], "node");
	assert_string_equal(argv[1], "");
	assert_string_equal(argv[2], "app.js");

	assert_int_equal(procfs_split_cmdline(truncated, sizeof(truncated) - 1, argv, 8), 2);
	assert_string_equal(argv[1], "app");

	assert_int_equal(procfs_split_cmdline(rewritten, sizeof(rewritten) - 1, argv, 8), 1);
	assert_string_equal(argv[0], "node: worker 1 (idle)");
}

static int inspect_port(int argc, char **argv)
{
	uint16_t port = 1;
	int r = procfs_cmdline_inspect_port(argv, argc, &port);

	if (r < 0) {
		assert_int_equal(r, -ENOENT);
		assert_int_equal(port, 0);
		return r;
	}
	assert_int_equal(r, 0);
	return port;
}

#define PORT_OF(...) ({ char *_a[] = { __VA_ARGS__ }; inspect_port((int)(sizeof(_a) / sizeof(_a[0])), _a); })

static void test_cmdline_inspect_port(void **state)
{
	assert_int_equal(PORT_OF("node", "--inspect=9230", "app.js"), 9230);
	assert_int_equal(PORT_OF("node", "--inspect=127.0.0.1:9231", "app.js"), 9231);
	assert_int_equal(PORT_OF("node", "--inspect=[::1]:9232", "app.js"), 9232);
	assert_int_equal(PORT_OF("node", "--inspect-brk=0.0.0.0:9233", "app.js"), 9233);
	assert_int_equal(PORT_OF("node", "--inspect-wait=9234", "app.js"), 9234);
	assert_int_equal(PORT_OF("node", "--inspect-port=9235", "app.js"), 9235);
	assert_int_equal(PORT_OF("node", "--inspect-port", "9236", "app.js"), 9236);
	assert_int_equal(PORT_OF("node", "--debug-port=9237", "app.js"), 9237);
	assert_int_equal(PORT_OF("node", "--debug-port", "9238"), 9238);
	assert_int_equal(PORT_OF("node", "--inspect=1"), 1);
	assert_int_equal(PORT_OF("node", "--inspect=65535"), 65535);
	/* Other options before and after. */
	assert_int_equal(PORT_OF("node", "--max-old-space-size=4096", "--inspect=9239", "--trace-warnings", "app.js"), 9239);
	/* Node takes the last one. */
	assert_int_equal(PORT_OF("node", "--inspect=9230", "--inspect-port=9240", "app.js"), 9240);
	assert_int_equal(PORT_OF("node", "--inspect-port=9240", "--inspect=9241", "app.js"), 9241);
	/* A port-less flag later keeps the port. */
	assert_int_equal(PORT_OF("node", "--inspect-port=9242", "--inspect", "app.js"), 9242);
	/* Options whose value is the next argument do not end node's options. */
	assert_int_equal(PORT_OF("node", "-r", "./tracing.js", "--inspect=9243", "app.js"), 9243);
	assert_int_equal(PORT_OF("node", "--require", "x", "--import", "y", "--inspect=9244", "app.js"), 9244);
	assert_int_equal(PORT_OF("node", "--inspect-port", "9230", "--inspect=9245", "app.js"), 9245);
	/* "--" ends them. */
	assert_int_equal(PORT_OF("node", "--", "--inspect=9246"), -ENOENT);
}

static void test_cmdline_inspect_port_none(void **state)
{
	/* No port named: the default (9229) is the caller's business. */
	assert_int_equal(PORT_OF("node"), -ENOENT);
	assert_int_equal(PORT_OF("node", "app.js"), -ENOENT);
	assert_int_equal(PORT_OF("node", "--inspect", "app.js"), -ENOENT);
	assert_int_equal(PORT_OF("node", "--inspect-brk", "app.js"), -ENOENT);
	assert_int_equal(PORT_OF("node", "--inspect=localhost", "app.js"), -ENOENT);
	/* --inspect takes no separate value. */
	assert_int_equal(PORT_OF("node", "--inspect", "9230", "app.js"), -ENOENT);
	assert_int_equal(PORT_OF("node", "--inspect-brk", "9230", "app.js"), -ENOENT);
	assert_int_equal(PORT_OF("node", "--inspect-port"), -ENOENT);
	/* Arguments of the script are not node's. */
	assert_int_equal(PORT_OF("node", "app.js", "--inspect=9230"), -ENOENT);
	assert_int_equal(PORT_OF("node", "app.js", "--inspect-port", "9230"), -ENOENT);
	/* Look-alike flags. */
	assert_int_equal(PORT_OF("node", "--inspect-publish-uid=http", "app.js"), -ENOENT);
	assert_int_equal(PORT_OF("node", "--inspectx=9230", "app.js"), -ENOENT);
	assert_int_equal(PORT_OF("node", "--inspect-brk-node=9230", "app.js"), -ENOENT);
	assert_int_equal(PORT_OF("node", "-inspect=9230", "app.js"), -ENOENT);
	/* Bad ports. */
	assert_int_equal(PORT_OF("node", "--inspect=0", "app.js"), -ENOENT);
	assert_int_equal(PORT_OF("node", "--inspect=65536", "app.js"), -ENOENT);
	assert_int_equal(PORT_OF("node", "--inspect=99999999999999999999", "app.js"), -ENOENT);
	assert_int_equal(PORT_OF("node", "--inspect=9230x", "app.js"), -ENOENT);
	assert_int_equal(PORT_OF("node", "--inspect=-1", "app.js"), -ENOENT);
	assert_int_equal(PORT_OF("node", "--inspect=", "app.js"), -ENOENT);
	assert_int_equal(PORT_OF("node", "--inspect=127.0.0.1:", "app.js"), -ENOENT);
	assert_int_equal(PORT_OF("node", "--inspect-port", "x9230", "app.js"), -ENOENT);
}

/* ---- the namespace's listeners from /proc/PID/net/tcp{,6}, line by line ---- */

#define FAR (UINT64_MAX / 2)            /* a deadline never reached */

/* text in a file of its own, at its start: an fd to read. */
static int table_fd(const char *text, size_t len)
{
	int fd = memfd_create("net-tcp", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static int fixture_fd(const char *name)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("fixture %s: %s", path, strerror(errno));
	return fd;
}

/* procfs_read_net_tcp() of text, as family, into out[*n..max). */
static int read_table(const char *text, int family, size_t max_lines, struct procfs_listener *out, size_t max,
		      size_t *n)
{
	int fd = table_fd(text, strlen(text)), r;

	r = procfs_read_net_tcp(fd, family, max_lines, FAR, out, max, n);
	close(fd);
	return r;
}

static void test_read_net_tcp_fixtures(void **state)
{
	static const uint8_t v4_loop[4] = { 127, 0, 0, 1 }, v6_loop[16] = { [15] = 1 };
	static const uint8_t v6_mapped[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };
	struct procfs_listener l[8];
	size_t n = 0;
	int fd;

	/* LISTEN on 127.0.0.1:9229, 127.0.0.1:9334 and *:2024; ESTABLISHED and TIME_WAIT not. */
	fd = fixture_fd("net-tcp-established.txt");
	assert_int_equal(procfs_read_net_tcp(fd, AF_INET, PROCFS_NET_TCP_LINES, FAR, l, 8, &n), 0);
	close(fd);
	assert_int_equal(n, 3);
	assert_listener(&l[0], AF_INET, 9229, 7691, true, false);
	assert_memory_equal(l[0].addr, v4_loop, 4);
	assert_listener(&l[1], AF_INET, 9334, 6831, true, false);
	assert_listener(&l[2], AF_INET, 2024, 571, false, true);
	/* Then the IPv6 table, after them: [::1]:9331, [::]:9333, [::ffff:127.0.0.1]:9332. */
	fd = fixture_fd("net-tcp6-listeners.txt");
	assert_int_equal(procfs_read_net_tcp(fd, AF_INET6, PROCFS_NET_TCP_LINES, FAR, l, 8, &n), 0);
	close(fd);
	assert_int_equal(n, 6);
	assert_listener(&l[3], AF_INET6, 9331, 6828, true, false);
	assert_memory_equal(l[3].addr, v6_loop, 16);
	assert_listener(&l[4], AF_INET6, 9333, 6830, false, true);
	assert_listener(&l[5], AF_INET6, 9332, 6829, true, false);
	assert_memory_equal(l[5].addr, v6_mapped, 16);

	/* A header alone holds nothing. */
	n = 0;
	fd = fixture_fd("net-tcp6.txt");
	assert_int_equal(procfs_read_net_tcp(fd, AF_INET6, PROCFS_NET_TCP_LINES, FAR, l, 8, &n), 0);
	close(fd);
	assert_int_equal(n, 0);
	fd = fixture_fd("net-tcp.txt");
	assert_int_equal(procfs_read_net_tcp(fd, AF_INET, PROCFS_NET_TCP_LINES, FAR, l, 8, &n), 0);
	close(fd);
	assert_int_equal(n, 2);
	assert_listener(&l[0], AF_INET, 9229, 7691, true, false);
}

#define LISTEN_LAN "   1: 0A01A8C0:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n"
#define LISTEN_ANY "   2: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 571 1 00000000564fd18c 100 0 0 10 0\n"

static void test_read_net_tcp_bounds(void **state)
{
	struct procfs_listener l[4];
	size_t n = 0;
	int fd;

	/* Only a loopback or any address: not 192.168.1.10. */
	assert_int_equal(read_table("header\n" TCP_INSPECTOR LISTEN_LAN TCP_ESTAB LISTEN_ANY, AF_INET,
				    PROCFS_NET_TCP_LINES, l, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_listener(&l[0], AF_INET, 9229, 7691, true, false);
	assert_listener(&l[1], AF_INET, 2024, 571, false, true);
	/* Every one counted: past max, refused; nothing written past it. */
	n = 0;
	l[1] = poison;
	assert_int_equal(read_table("header\n" TCP_INSPECTOR LISTEN_ANY, AF_INET, PROCFS_NET_TCP_LINES, l, 1, &n),
			 -E2BIG);
	assert_int_equal(n, 1);
	assert_untouched(&l[1]);
	/* The count goes on from *n: the IPv4 table's and the IPv6 table's together. */
	n = 3;
	assert_int_equal(read_table("header\n" TCP_INSPECTOR, AF_INET, PROCFS_NET_TCP_LINES, l, 4, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(read_table("header\n" LISTEN_ANY, AF_INET, PROCFS_NET_TCP_LINES, l, 4, &n), -E2BIG);
	/* Lines, the header included. */
	n = 0;
	assert_int_equal(read_table("header\n" TCP_ESTAB TCP_ESTAB, AF_INET, 3, l, 4, &n), 0);
	assert_int_equal(read_table("header\n" TCP_ESTAB TCP_ESTAB TCP_ESTAB, AF_INET, 3, l, 4, &n), -EFBIG);
	/* Time: a deadline passed. */
	fd = table_fd("header\n" TCP_INSPECTOR, strlen("header\n" TCP_INSPECTOR));
	assert_int_equal(procfs_read_net_tcp(fd, AF_INET, PROCFS_NET_TCP_LINES, 0, l, 4, &n), -ETIMEDOUT);
	close(fd);
	/* Not a table: -EBADF, a folder. */
	assert_int_equal(procfs_read_net_tcp(-1, AF_INET, PROCFS_NET_TCP_LINES, FAR, l, 4, &n), -EBADF);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(procfs_read_net_tcp(fd, AF_INET, PROCFS_NET_TCP_LINES, FAR, l, 4, &n), -EISDIR);
	close(fd);
}

static void test_read_net_tcp_not_the_kernels(void **state)
{
	static const char *const bad[] = {
		"header\n" TCP_INSPECTOR "garbage\n",
		"header\n\n" TCP_INSPECTOR,
		/* Cut short: the last line has no newline. */
		"header\n" TCP_INSPECTOR "   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 571",
		"header\n   1: 00000000:07E8 00000000:0000 0A",
		/* A LISTEN line whose inode is not a number. */
		"header\n   0: 0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 x 1\n",
		/* A NUL inside. */
		"header\n" TCP_INSPECTOR "   1: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 571\0 1\n",
	};
	struct procfs_listener l[4];
	char *text;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = 0, len = strlen(bad[i]);
		int fd, r;

		/* The one with a NUL: its length as written. */
		if (i == sizeof(bad) / sizeof(bad[0]) - 1)
			len += strlen(bad[i] + len + 1) + 1;
		fd = table_fd(bad[i], len);
		r = procfs_read_net_tcp(fd, AF_INET, PROCFS_NET_TCP_LINES, FAR, l, 4, &n);
		close(fd);
		if (r != -EINVAL)
			fail_msg("table %zu: %d, want -EINVAL", i, r);
	}
	/* A line longer than the kernel's: 511 bytes are, 512 are not. */
	text = malloc(2048);
	assert_non_null(text);
	for (size_t width = 510; width <= 513; width++) {
		size_t n = 0, len = (size_t)sprintf(text, "header\n%s", TCP_INSPECTOR);
		int r;

		/* The inspector's line, padded with spaces to width bytes before its newline. */
		len--;
		while (len - 7 < width)
			text[len++] = ' ';
		text[len++] = '\n';
		text[len] = '\0';
		r = read_table(text, AF_INET, PROCFS_NET_TCP_LINES, l, 4, &n);
		assert_int_equal(r, width <= 511 ? 0 : -EINVAL);
		assert_int_equal(n, width <= 511 ? 1 : 0);
	}
	/* Nothing at all: no listener (the kernel always writes its header). */
	{
		size_t n = 0;

		assert_int_equal(read_table("", AF_INET, PROCFS_NET_TCP_LINES, l, 4, &n), 0);
		assert_int_equal(n, 0);
	}
	free(text);
}

/* A namespace of 100 000 sockets, as a busy host's: read through, line by line. */
static void test_read_net_tcp_many(void **state)
{
	const size_t sockets = 100000, width = strlen(TCP_ESTAB);
	size_t len = 0, n = 0;
	struct procfs_listener l[4];
	char *text = malloc(7 + (sockets + 2) * width + 1);
	int fd;

	assert_non_null(text);
	len += (size_t)sprintf(text, "header\n");
	for (size_t i = 0; i < sockets; i++, len += width)
		memcpy(text + len, TCP_ESTAB, width);
	len += (size_t)sprintf(text + len, "%s%s", LISTEN_LAN, TCP_INSPECTOR);
	fd = table_fd(text, len);
	assert_int_equal(procfs_read_net_tcp(fd, AF_INET, PROCFS_NET_TCP_LINES, FAR, l, 4, &n), 0);
	close(fd);
	assert_int_equal(n, 1);
	assert_listener(&l[0], AF_INET, 9229, 7691, true, false);
	free(text);
}

static void test_fdinfo_pid(void **state)
{
	pid_t pid = 0;

	assert_int_equal(procfs_parse_fdinfo_pid("pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\nPid:\t4242\nNSpid:\t4242\n", &pid), 0);
	assert_int_equal(pid, 4242);
	assert_int_equal(procfs_parse_fdinfo_pid("Pid:\t1\n", &pid), 0);
	assert_int_equal(pid, 1);
	/* Exited; not in this /proc's pid namespace. */
	assert_int_equal(procfs_parse_fdinfo_pid("pos:\t0\nPid:\t-1\nNSpid:\t-1\n", &pid), -ESRCH);
	assert_int_equal(procfs_parse_fdinfo_pid("pos:\t0\nPid:\t0\n", &pid), -ENXIO);
	/* Not a pidfd's; not the kernel's. */
	assert_int_equal(procfs_parse_fdinfo_pid("pos:\t0\nflags:\t02\n", &pid), -EINVAL);
	assert_int_equal(procfs_parse_fdinfo_pid("", &pid), -EINVAL);
	assert_int_equal(procfs_parse_fdinfo_pid("Pid:\t42", &pid), -EINVAL);
	assert_int_equal(procfs_parse_fdinfo_pid("Pid:\t42x\n", &pid), -EINVAL);
	assert_int_equal(procfs_parse_fdinfo_pid("Pid:\t-2\n", &pid), -EINVAL);
	assert_int_equal(procfs_parse_fdinfo_pid("Pid:\t99999999999999999999\n", &pid), -EINVAL);
	assert_int_equal(procfs_parse_fdinfo_pid("Pid:\t4294967297\n", &pid), -EINVAL);
	assert_int_equal(procfs_parse_fdinfo_pid("NSpid:\t7\n", &pid), -EINVAL);
	assert_int_equal(pid, 1);
}

static int listen_any(uint16_t *port, uint64_t *inode)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct stat st;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, len), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(fstat(fd, &st), 0);
	*port = ntohs(sin.sin_port);
	*inode = (uint64_t)st.st_ino;
	return fd;
}

static void test_netns_listeners(void **state)
{
	struct procfs_listener *l = calloc(8192, sizeof(*l));
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0), fd, devnull, n;
	uint64_t inode;
	uint16_t port;
	bool seen = false;
	pid_t child;

	assert_non_null(l);
	assert_true(pidfd >= 0);
	fd = listen_any(&port, &inode);
	/* This process's namespace, through its pidfd: its own listener among them. */
	n = procfs_netns_listeners(pidfd, l, 8192);
	assert_true(n >= 1);
	for (int i = 0; i < n; i++)
		if (l[i].inode == inode) {
			assert_listener(&l[i], AF_INET, port, inode, false, true);
			seen = true;
		}
	assert_true(seen);
	assert_int_equal(procfs_netns_listeners(pidfd, l, 0), -E2BIG);
	close(fd);
	close(pidfd);

	/* A process that is gone; an fd that is no pidfd. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	assert_true(pidfd >= 0);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(procfs_netns_listeners(pidfd, l, 8192), -ESRCH);
	close(pidfd);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(procfs_netns_listeners(devnull, l, 8192), -EINVAL);
	close(devnull);
	assert_int_equal(procfs_netns_listeners(-1, l, 8192), -EBADF);
	free(l);
}

/* NSpid: the innermost namespace's pid, the last value; the kernel's text only. */
#define NS_PID(text) procfs_status_ns_pid((text), strlen(text), &pid)

static void test_status_ns_pid(void **state)
{
	size_t len;
	char *status = fixture_read("node-status.txt", &len);
	pid_t pid = 0;

	assert_int_equal(procfs_status_ns_pid(status, len, &pid), 0);
	assert_int_equal(pid, 3229);
	free(status);
	assert_int_equal(NS_PID("Name:\tnode\nNSpid:\t4242\t17\t1\n"), 0);
	assert_int_equal(pid, 1);
	assert_int_equal(NS_PID("Name:\tnode\n"), -ENOENT);
	/* A name that looks like the line is escaped by the kernel; a line cut short is refused. */
	assert_int_equal(NS_PID("NSpid:\t4242\t"), -EINVAL);
	assert_int_equal(NS_PID("NSpid:\t4242\tx\n"), -EINVAL);
	assert_int_equal(NS_PID("NSpid:\n"), -EINVAL);
	assert_int_equal(NS_PID("NSpid:\t0\n"), -EINVAL);
	assert_int_equal(NS_PID("NSpid:\t99999999999\n"), -EINVAL);
	assert_int_equal(NS_PID("NSpid:\t1\0\n"), -EINVAL);
	assert_int_equal(NS_PID(""), -EINVAL);
	/* The process itself, in the test's own namespace. */
	assert_int_equal(procfs_read_ns_pid(getpid(), &pid), 0);
	assert_true(pid > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_mask_fixture),
		cmocka_unit_test(test_status_mask_missing),
		cmocka_unit_test(test_status_mask_text),
		cmocka_unit_test(test_status_mask_malformed),
		cmocka_unit_test(test_status_many_groups),
		cmocka_unit_test(test_status_signal_caught_text),
		cmocka_unit_test_setup_teardown(test_read_whole, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test(test_read_whole_self),
		cmocka_unit_test(test_tcp_line_inspector),
		cmocka_unit_test(test_tcp_line_not_listening),
		cmocka_unit_test(test_tcp_line_addresses),
		cmocka_unit_test(test_tcp6_line),
		cmocka_unit_test(test_tcp_line_malformed),
		cmocka_unit_test(test_tcp_table_inspector),
		cmocka_unit_test(test_tcp6_table_empty),
		cmocka_unit_test(test_tcp_table_mixed_states),
		cmocka_unit_test(test_tcp6_table_listeners),
		cmocka_unit_test(test_tcp_table_text),
		cmocka_unit_test(test_socket_link),
		cmocka_unit_test(test_split_cmdline),
		cmocka_unit_test(test_split_cmdline_odd),
		cmocka_unit_test(test_cmdline_inspect_port),
		cmocka_unit_test(test_cmdline_inspect_port_none),
		cmocka_unit_test(test_read_net_tcp_fixtures),
		cmocka_unit_test(test_read_net_tcp_bounds),
		cmocka_unit_test(test_read_net_tcp_not_the_kernels),
		cmocka_unit_test(test_read_net_tcp_many),
		cmocka_unit_test(test_fdinfo_pid),
		cmocka_unit_test(test_netns_listeners),
		cmocka_unit_test(test_status_ns_pid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
