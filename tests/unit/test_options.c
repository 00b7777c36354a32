// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Command-line value parsers: signals, integers, sizes, durations, --match names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sys/wait.h>
#include <unistd.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "options.h"

static int parse_signal(const char *s)
{
	int sig = -1;
	int r = options_parse_signal(s, &sig);

	return r < 0 ? r : sig;
}

static void test_parse_signal_names(void **state)
{
	assert_int_equal(parse_signal("WINCH"), SIGWINCH);
	assert_int_equal(parse_signal("SIGWINCH"), SIGWINCH);
	assert_int_equal(parse_signal("sigwinch"), SIGWINCH);
	assert_int_equal(parse_signal("SigWinch"), SIGWINCH);
	assert_int_equal(parse_signal("URG"), SIGURG);
	assert_int_equal(parse_signal("SIGUSR1"), SIGUSR1);
	assert_int_equal(parse_signal("usr2"), SIGUSR2);
	assert_int_equal(parse_signal("HUP"), SIGHUP);
	assert_int_equal(parse_signal("SIGSYS"), SIGSYS);
	assert_int_equal(parse_signal("PWR"), SIGPWR);
	/* The Linux numbers the agent documents. */
	assert_int_equal(parse_signal("WINCH"), 28);
	assert_int_equal(parse_signal("URG"), 23);
	assert_int_equal(parse_signal("USR1"), 10);
}

static void test_parse_signal_numbers(void **state)
{
	assert_int_equal(parse_signal("28"), 28);
	assert_int_equal(parse_signal("1"), 1);
	assert_int_equal(parse_signal("64"), 64);
	assert_int_equal(parse_signal("010"), 10);
}

static void test_parse_signal_realtime(void **state)
{
	assert_int_equal(parse_signal("RTMIN"), SIGRTMIN);
	assert_int_equal(parse_signal("RTMIN+2"), SIGRTMIN + 2);
	assert_int_equal(parse_signal("SIGRTMIN+2"), SIGRTMIN + 2);
	assert_int_equal(parse_signal("rtmin+0"), SIGRTMIN);
	assert_int_equal(parse_signal("RTMAX"), SIGRTMAX);
	assert_int_equal(parse_signal("RTMAX-1"), SIGRTMAX - 1);
	assert_int_equal(parse_signal("SIGRTMAX-3"), SIGRTMAX - 3);
}

static void test_parse_signal_realtime_range(void **state)
{
	char s[32];

	/* The whole real-time range and no further. */
	snprintf(s, sizeof(s), "RTMIN+%d", SIGRTMAX - SIGRTMIN);
	assert_int_equal(parse_signal(s), SIGRTMAX);
	snprintf(s, sizeof(s), "RTMIN+%d", SIGRTMAX - SIGRTMIN + 1);
	assert_int_equal(parse_signal(s), -EINVAL);
	snprintf(s, sizeof(s), "RTMAX-%d", SIGRTMAX - SIGRTMIN);
	assert_int_equal(parse_signal(s), SIGRTMIN);
	snprintf(s, sizeof(s), "RTMAX-%d", SIGRTMAX - SIGRTMIN + 1);
	assert_int_equal(parse_signal(s), -EINVAL);
}

static void test_parse_signal_invalid(void **state)
{
	static const char *const bad[] = {
		"", "FOO", "0", "65", "28x", "SIG", "-1", " 28", "28 ", "+28",
		"SIGSIGWINCH", "WINCH ", "WINCHX", "SIG 28", "99999999999999999999999",
		"RTMIN+", "RTMIN-1", "RTMAX+1", "RTMIN+x", "RTMIN+2x", "RTMINX", "RTMIN+-1",
		"RTMIN+1000",
	};
	int sig = 12345;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = options_parse_signal(bad[i], &sig);

		if (r != -EINVAL)
			fail_msg("options_parse_signal(\"%s\") = %d, want -EINVAL", bad[i], r);
	}
	assert_int_equal(options_parse_signal(NULL, &sig), -EINVAL);
	assert_int_equal(sig, 12345);
}

/* Statuses from real children, as wait() gives them (and as the kernel's exit_code holds them). */
static int status_of_child(int how)
{
	pid_t pid = fork();
	int status = -1;

	assert_true(pid >= 0);
	if (pid == 0) {
		if (how > 0)
			raise(how);
		_exit(-how);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_exit_status(void **state)
{
	char buf[48];

	(void)state;
	assert_ptr_equal(options_exit_status(status_of_child(0), buf, sizeof(buf)), buf);
	assert_string_equal(buf, "exit 0");
	assert_string_equal(options_exit_status(status_of_child(-3), buf, sizeof(buf)), "exit 3");
	assert_string_equal(options_exit_status(status_of_child(SIGKILL), buf, sizeof(buf)), "killed by SIGKILL");
	assert_string_equal(options_exit_status(SIGSEGV | 0x80, buf, sizeof(buf)), "killed by SIGSEGV, core dumped");
	assert_string_equal(options_exit_status(-1, buf, sizeof(buf)), "status unknown");
	assert_string_equal(options_exit_status(status_of_child(SIGKILL), buf, 10), "killed by");
}

static void test_signal_name(void **state)
{
	char buf[32], want[32];

	assert_ptr_equal(options_signal_name(SIGWINCH, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "SIGWINCH");
	assert_string_equal(options_signal_name(SIGUSR1, buf, sizeof(buf)), "SIGUSR1");
	assert_string_equal(options_signal_name(SIGURG, buf, sizeof(buf)), "SIGURG");
	assert_string_equal(options_signal_name(SIGSTKFLT, buf, sizeof(buf)), "SIGSTKFLT");
	/* No name: the number. */
	snprintf(want, sizeof(want), "SIG%d", SIGRTMIN + 2);
	assert_string_equal(options_signal_name(SIGRTMIN + 2, buf, sizeof(buf)), want);
	assert_string_equal(options_signal_name(0, buf, sizeof(buf)), "SIG0");
	/* Bounded by len. */
	assert_string_equal(options_signal_name(SIGWINCH, buf, 4), "SIG");
	assert_string_equal(options_signal_name(SIGUSR1, buf, 5), "SIGU");
}

static void test_signal_name_roundtrip(void **state)
{
	char buf[32];

	/* A signal without a name prints as SIG<n> and parses back. */
	assert_string_equal(options_signal_name(36, buf, sizeof(buf)), "SIG36");
	assert_int_equal(parse_signal("SIG36"), 36);
	assert_int_equal(parse_signal("sig28"), 28);

	/* Every classic Linux signal has a name, and the name parses back. */
	for (int sig = 1; sig < 32; sig++) {
		const char *name = options_signal_name(sig, buf, sizeof(buf));

		if (strncmp(name, "SIG", 3) != 0 || (name[3] >= '0' && name[3] <= '9'))
			fail_msg("signal %d has no name: \"%s\"", sig, name);
		if (parse_signal(name) != sig)
			fail_msg("\"%s\" parses to %d, want %d", name, parse_signal(name), sig);
		if (parse_signal(name + 3) != sig)
			fail_msg("\"%s\" parses to %d, want %d", name + 3, parse_signal(name + 3), sig);
	}
}

static void test_signal_default_ignored(void **state)
{
	assert_true(options_signal_default_ignored(SIGWINCH));
	assert_true(options_signal_default_ignored(SIGURG));
	assert_true(options_signal_default_ignored(SIGCHLD));
	assert_true(options_signal_default_ignored(SIGCONT));
	assert_false(options_signal_default_ignored(SIGUSR1));
	assert_false(options_signal_default_ignored(SIGUSR2));
	assert_false(options_signal_default_ignored(SIGTERM));
	assert_false(options_signal_default_ignored(SIGHUP));
	assert_false(options_signal_default_ignored(SIGSTOP));
	assert_false(options_signal_default_ignored(SIGRTMIN));
}

static void test_parse_u64(void **state)
{
	uint64_t v = 0;

	assert_int_equal(options_parse_u64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(options_parse_u64("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(options_parse_u64("6", 6, 6, &v), 0);
	assert_int_equal(v, 6);
	assert_int_equal(options_parse_u64("007", 0, 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(options_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);

	v = 42;
	/* Out of [min, max]. */
	assert_int_equal(options_parse_u64("11", 0, 10, &v), -ERANGE);
	assert_int_equal(options_parse_u64("5", 6, 10, &v), -ERANGE);
	assert_int_equal(options_parse_u64("0", 1, 64, &v), -ERANGE);
	/* Overflow. */
	assert_int_equal(options_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(options_parse_u64("99999999999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
	/* Not a plain decimal. */
	assert_int_equal(options_parse_u64("", 0, 10, &v), -EINVAL);
	assert_int_equal(options_parse_u64(NULL, 0, 10, &v), -EINVAL);
	assert_int_equal(options_parse_u64("12a", 0, 100, &v), -EINVAL);
	assert_int_equal(options_parse_u64("1 ", 0, 10, &v), -EINVAL);
	assert_int_equal(options_parse_u64(" 1", 0, 10, &v), -EINVAL);
	assert_int_equal(options_parse_u64("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(options_parse_u64("+1", 0, 10, &v), -EINVAL);
	assert_int_equal(options_parse_u64("0x10", 0, 100, &v), -EINVAL);
	assert_int_equal(options_parse_u64("1.0", 0, 10, &v), -EINVAL);
	assert_int_equal(v, 42);
}

static void test_parse_size(void **state)
{
	static const struct {
		const char *s;
		uint64_t bytes;
	} good[] = {
		{ "512", 512 },
		{ "1", 1 },
		{ "1B", 1 },
		{ "64K", 65536 },
		{ "64k", 65536 },
		{ "64KB", 65536 },
		{ "64KiB", 65536 },
		{ "0.5K", 512 },
		{ "1.5G", 1610612736ULL },
		{ "1.5g", 1610612736ULL },
		{ "300MiB", 314572800ULL },
		{ "300mib", 314572800ULL },
		{ "300MB", 314572800ULL },
		{ "2T", 2199023255552ULL },
		{ "2TiB", 2199023255552ULL },
		{ "16777215T", 18446742974197923840ULL },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 0;
		if (options_parse_size(good[i].s, &v) != 0 || v != good[i].bytes)
			fail_msg("options_parse_size(\"%s\"): got %llu, want %llu", good[i].s,
				 (unsigned long long)v, (unsigned long long)good[i].bytes);
	}
}

static void test_parse_size_invalid(void **state)
{
	static const char *const bad[] = {
		"", "-1", "1.5.2", "0x10", "10Q", "inf", "nan", "1e3", "1E3", ".5", " 1", "1 ", "1 K",
		"K", "64KK", "64Ki", "64iB", "1,5G", "+1",
	};
	uint64_t v = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = options_parse_size(bad[i], &v);

		if (r != -EINVAL)
			fail_msg("options_parse_size(\"%s\") = %d, want -EINVAL", bad[i], r);
	}
	assert_int_equal(options_parse_size(NULL, &v), -EINVAL);
	/* Zero bytes and more than 2^64 - 1 bytes are out of range. */
	assert_int_equal(options_parse_size("0", &v), -ERANGE);
	assert_int_equal(options_parse_size("0.1", &v), -ERANGE);
	assert_int_equal(options_parse_size("0K", &v), -ERANGE);
	assert_int_equal(options_parse_size("16777216T", &v), -ERANGE);
	assert_int_equal(options_parse_size("18446744073709551616", &v), -ERANGE);
	assert_int_equal(v, 7);
}

static void test_parse_duration(void **state)
{
	static const struct {
		const char *s;
		uint64_t usec;
	} good[] = {
		{ "30", 30000000ULL },
		{ "30s", 30000000ULL },
		{ "250ms", 250000ULL },
		{ "500us", 500ULL },
		{ "10m", 600000000ULL },
		{ "10min", 600000000ULL },
		{ "1h", 3600000000ULL },
		{ "2d", 172800000000ULL },
		{ "1.5s", 1500000ULL },
		{ "0.5", 500000ULL },
		{ "1.5h", 5400000000ULL },
		{ "1.001s", 1001000ULL },        /* not 1000999: rounded, not truncated */
		{ "1.003ms", 1003ULL },
		{ "0", 0 },
		{ "0s", 0 },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 1;
		if (options_parse_duration(good[i].s, &v) != 0 || v != good[i].usec)
			fail_msg("options_parse_duration(\"%s\"): got %llu, want %llu", good[i].s,
				 (unsigned long long)v, (unsigned long long)good[i].usec);
	}
}

static void test_parse_duration_invalid(void **state)
{
	static const char *const bad[] = {
		/* "5M": M is mebibytes for sizes, so it is not minutes here. */
		"", "abc", "-5", "5x", "5 s", " 5", "5M", "s", "1e3", "0x10",
		"inf", "1.2.3s", "5sec", "5mss",
	};
	uint64_t v = 3;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = options_parse_duration(bad[i], &v);

		if (r != -EINVAL)
			fail_msg("options_parse_duration(\"%s\") = %d, want -EINVAL", bad[i], r);
	}
	assert_int_equal(options_parse_duration(NULL, &v), -EINVAL);
	/* More microseconds than fit an int64. */
	assert_int_equal(options_parse_duration("200000000d", &v), -ERANGE);
	assert_int_equal(options_parse_duration("9300000000000s", &v), -ERANGE);
	assert_int_equal(v, 3);
}

static void test_check_match_name(void **state)
{
	assert_int_equal(options_check_match_name("node"), 0);
	assert_int_equal(options_check_match_name("n"), 0);
	assert_int_equal(options_check_match_name("MainThread"), 0);
	assert_int_equal(options_check_match_name("abcdefghijklmno"), 0);       /* 15: TASK_COMM_LEN - 1 */
	assert_int_equal(options_check_match_name("abcdefghijklmnop"), -EINVAL); /* 16 */
	assert_int_equal(options_check_match_name(""), -EINVAL);
	assert_int_equal(options_check_match_name(NULL), -EINVAL);
	assert_int_equal(options_check_match_name("/"), -EINVAL);
	assert_int_equal(options_check_match_name("bin/node"), -EINVAL);
	assert_int_equal(options_check_match_name("/usr/bin/node"), -EINVAL);
	assert_int_equal(options_check_match_name("node/"), -EINVAL);
}

static void test_parse_decimal(void **state)
{
	static const char *const bad[] = {
		"", "-1", "+1", "1e3", "0x10", "inf", "nan", ".5", "1.5x", " 1", "1 ", "1.2.3",
	};
	double v = -1;

	assert_int_equal(options_parse_decimal("16", 0, 1000, &v), 0);
	assert_true(v == 16);
	assert_int_equal(options_parse_decimal("2.5", 0, 1000, &v), 0);
	assert_true(v == 2.5);
	assert_int_equal(options_parse_decimal("0", 0, 1000, &v), 0);
	assert_true(v == 0);
	assert_int_equal(options_parse_decimal("1000", 0, 1000, &v), 0);
	assert_true(v == 1000);
	assert_int_equal(options_parse_decimal("1000.01", 0, 1000, &v), -ERANGE);
	assert_int_equal(options_parse_decimal("0.5", 1, 1000, &v), -ERANGE);
	assert_int_equal(options_parse_decimal(NULL, 0, 1000, &v), -EINVAL);
	v = -1;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (options_parse_decimal(bad[i], 0, 1000, &v) == 0)
			fail_msg("'%s' parsed as %g", bad[i], v);
	assert_true(v == -1);
}

static void test_parse_choice(void **state)
{
	static const char *const kinds[] = { "heap", "cpu", NULL };
	static const char *const none[] = { NULL };
	int i = -1;

	assert_int_equal(options_parse_choice("heap", kinds, &i), 0);
	assert_int_equal(i, 0);
	assert_int_equal(options_parse_choice("cpu", kinds, &i), 0);
	assert_int_equal(i, 1);
	/* Exactly: no case folding, no prefixes, no trailing characters. */
	i = -1;
	assert_int_equal(options_parse_choice("CPU", kinds, &i), -EINVAL);
	assert_int_equal(options_parse_choice("he", kinds, &i), -EINVAL);
	assert_int_equal(options_parse_choice("heap ", kinds, &i), -EINVAL);
	assert_int_equal(options_parse_choice("", kinds, &i), -EINVAL);
	assert_int_equal(options_parse_choice("heap", none, &i), -EINVAL);
	assert_int_equal(i, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_signal_names),
		cmocka_unit_test(test_parse_signal_numbers),
		cmocka_unit_test(test_parse_signal_realtime),
		cmocka_unit_test(test_parse_signal_realtime_range),
		cmocka_unit_test(test_parse_signal_invalid),
		cmocka_unit_test(test_signal_name),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_signal_name_roundtrip),
		cmocka_unit_test(test_signal_default_ignored),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_size_invalid),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_duration_invalid),
		cmocka_unit_test(test_check_match_name),
		cmocka_unit_test(test_parse_decimal),
		cmocka_unit_test(test_parse_choice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
