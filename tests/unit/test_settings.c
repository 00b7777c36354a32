// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "log.h"
#include "profile.h"
#include "settings.h"

static void test_defaults(void **state)
{
	struct settings st;

	settings_defaults(&st);
	assert_int_equal(st.heap_signal, SIGWINCH);
	assert_int_equal(st.cpu_signal, SIGURG);
	assert_int_equal(st.cpu_sampling_interval, 10000);
	assert_int_equal(st.heap_sampling_interval, 131072);
	assert_int_equal(st.max_profile_bytes, 512ull << 20);
	assert_int_equal(st.output_quota_bytes, 1ull << 30);
	assert_int_equal(st.export_retry_max_usec, 24ull * 3600 * 1000000);
	assert_int_equal(st.export_retry_initial_usec, 5000000);
	assert_int_equal(st.s3_part_size, 64ull << 20);
	assert_false(st.keep_local);
	assert_int_equal(st.max_concurrent, 4);
	assert_int_equal(st.max_per_container, 2);
	assert_int_equal(st.max_per_container_hour, 12);
	assert_int_equal(st.queue_timeout_usec, 60000000);
	assert_int_equal(st.max_duration_usec, 600000000);
	assert_int_equal(st.max_signal_duration_usec, 120000000);
	assert_int_equal(st.nmatch, 2);
	assert_int_equal(st.log_level, LOG_LEVEL_INFO);
}

static void test_every_key_sets_its_field(void **state)
{
	static const struct {
		const char *key, *value;
		size_t offset, width;
		uint64_t want;
	} cases[] = {
		{ "cpu-sampling-interval", "1000", offsetof(struct settings, cpu_sampling_interval), 8, 1000 },
		{ "heap-sampling-interval", "8192", offsetof(struct settings, heap_sampling_interval), 8, 8192 },
		{ "max-duration", "30", offsetof(struct settings, max_duration_usec), 8, 30000000 },
		{ "attach-timeout", "1500", offsetof(struct settings, attach_timeout_usec), 8, 1500000 },
		{ "max-profile-size", "64M", offsetof(struct settings, max_profile_bytes), 8, 64ull << 20 },
		{ "output-quota", "2G", offsetof(struct settings, output_quota_bytes), 8, 2ull << 30 },
		{ "spool-max-bytes", "3G", offsetof(struct settings, output_quota_bytes), 8, 3ull << 30 },
		{ "export-retry-max", "2h", offsetof(struct settings, export_retry_max_usec), 8, 7200000000ull },
		{ "export-retry-initial", "500ms", offsetof(struct settings, export_retry_initial_usec), 8, 500000 },
		{ "s3-part-size", "8M", offsetof(struct settings, s3_part_size), 8, 8ull << 20 },
		{ "capture-seconds", "5", offsetof(struct settings, capture_usec), 8, 5000000 },
		{ "max-concurrent", "7", offsetof(struct settings, max_concurrent), 4, 7 },
		{ "max-captures-per-hour", "9", offsetof(struct settings, max_captures_per_hour), 4, 9 },
		{ "max-concurrent-per-container", "3", offsetof(struct settings, max_per_container), 4, 3 },
		{ "max-captures-per-container-per-hour", "40", offsetof(struct settings, max_per_container_hour), 4,
		  40 },
		{ "queue-timeout", "2m", offsetof(struct settings, queue_timeout_usec), 8, 120000000 },
		{ "max-signal-duration", "45", offsetof(struct settings, max_signal_duration_usec), 8, 45000000 },
		{ "heap-signal", "RTMIN+1", offsetof(struct settings, heap_signal), 4, 0 },
	};
	char why[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct settings st;
		uint64_t got = 0;

		settings_defaults(&st);
		assert_int_equal(settings_set(&st, cases[i].key, cases[i].value, why, sizeof(why)), 0);
		memcpy(&got, (char *)&st + cases[i].offset, cases[i].width);
		if (cases[i].want)
			assert_int_equal(got, cases[i].want);
		else
			assert_int_not_equal(got, SIGWINCH);
	}
}

static void test_keys_are_the_long_options(void **state)
{
	size_t n;
	const struct setting_def *defs = settings_defs(&n);

	assert_true(n >= 26);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(defs[i].key);
		assert_non_null(defs[i].set);
		assert_null(strchr(defs[i].key, '_'));
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(defs[i].key, defs[j].key);
	}
}

static void test_bad_values_say_why(void **state)
{
	static const char *const bad[][2] = {
		{ "cpu-sampling-interval", "10" }, { "heap-signal", "USR1" }, { "heap-signal", "KILL" },
		{ "output-dir", "relative/dir" }, { "host-root", "host" }, { "max-profile-size", "1K" }, { "output-quota", "100K" },
		{ "threshold-action", "flamegraph" }, { "rss-watch", "sometimes" }, { "limit-percent", "12.5" },
		{ "match", "a/b" }, { "log-level", "loud" }, { "api-listen", "nocolon" },
		{ "max-concurrent", "0" }, { "cooldown", "8d" }, { "max-concurrent-per-container", "0" },
		{ "max-captures-per-container-per-hour", "0" }, { "queue-timeout", "500ms" },
		{ "max-signal-duration", "0" },
	};
	char why[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct settings st, before;

		settings_defaults(&st);
		before = st;
		why[0] = '\0';
		assert_int_equal(settings_set(&st, bad[i][0], bad[i][1], why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, bad[i][1]));
		assert_null(strchr(why, '\n'));
		assert_int_equal(st.cpu_sampling_interval, before.cpu_sampling_interval);
	}
	assert_int_equal(settings_set(&(struct settings){ 0 }, "no-such-key", "1", why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "no-such-key"));
}

static void test_threshold_action_by_kind_name(void **state)
{
	struct settings st;
	char why[256];

	settings_defaults(&st);
	assert_int_equal(settings_set(&st, "threshold-action", "cpu", why, sizeof(why)), 0);
	assert_int_equal(st.threshold_action, PROFILE_CPU);
}

static void test_match_is_bounded(void **state)
{
	struct settings st;
	char why[256];
	int r = 0;

	settings_defaults(&st);
	for (int i = 0; i < INSPECTD_MAX_MATCH + 2 && r == 0; i++)
		r = settings_set(&st, "match", "node22", why, sizeof(why));
	assert_int_equal(r, -EINVAL);
	assert_int_equal(st.nmatch, INSPECTD_MAX_MATCH);
}

static void test_checks_across_keys(void **state)
{
	struct settings st;
	char why[256];

	settings_defaults(&st);
	assert_int_equal(settings_check(&st, why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "cpu-signal", "WINCH", why, sizeof(why)), 0);
	assert_int_equal(settings_check(&st, why, sizeof(why)), -EINVAL);
	settings_defaults(&st);
	assert_int_equal(settings_set(&st, "api-listen", "127.0.0.1:9000", why, sizeof(why)), 0);
	assert_int_equal(settings_check(&st, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "--api-token-file"));
	/* The exporters' settings go with the one that enables them. */
	settings_defaults(&st);
	assert_int_equal(settings_set(&st, "s3-region", "eu-west-1", why, sizeof(why)), 0);
	assert_int_equal(settings_check(&st, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "--s3-bucket"));
	assert_int_equal(settings_set(&st, "s3-bucket", "profiles", why, sizeof(why)), 0);
	assert_int_equal(settings_check(&st, why, sizeof(why)), 0);
	settings_defaults(&st);
	assert_int_equal(settings_set(&st, "pyroscope-user", "u", why, sizeof(why)), 0);
	assert_int_equal(settings_check(&st, why, sizeof(why)), -EINVAL);
	assert_int_equal(settings_set(&st, "pyroscope-url", "http://p:4040", why, sizeof(why)), 0);
	assert_int_equal(settings_check(&st, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "--pyroscope-password-file"));
	assert_int_equal(settings_set(&st, "pyroscope-password-file", "/etc/p", why, sizeof(why)), 0);
	assert_int_equal(settings_check(&st, why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "keep-local", NULL, why, sizeof(why)), 0);
	assert_true(st.keep_local);
	assert_int_equal(settings_set(&st, "s3-part-size", "1M", why, sizeof(why)), -EINVAL);
	assert_int_equal(settings_set(&st, "export-retry-max", "forever", why, sizeof(why)), -EINVAL);
	assert_int_equal(settings_set(&st, "s3-bucket", "a\nb", why, sizeof(why)), -EINVAL);
}

/* --host-root: "/" unless told, an absolute path. */
static void test_host_root(void **state)
{
	struct settings st;
	char why[256];

	settings_defaults(&st);
	assert_string_equal(st.host_root, "/");
	assert_int_equal(settings_set(&st, "host-root", "/host", why, sizeof(why)), 0);
	assert_string_equal(st.host_root, "/host");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_root),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key_sets_its_field),
		cmocka_unit_test(test_keys_are_the_long_options),
		cmocka_unit_test(test_bad_values_say_why),
		cmocka_unit_test(test_threshold_action_by_kind_name),
		cmocka_unit_test(test_match_is_bounded),
		cmocka_unit_test(test_checks_across_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
