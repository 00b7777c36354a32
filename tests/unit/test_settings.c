// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "capture.h"
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
	/* Issue 11's kinds: no signal of their own unless given one. */
	assert_int_equal(st.snapshot_signal, 0);
	assert_int_equal(st.timeline_signal, 0);
	assert_int_equal(st.trace_signal, 0);
	assert_string_equal(st.trace_categories, "node,node.perf,v8");
	assert_true(st.snapshot_headroom == 64);
	assert_int_equal(st.snapshot_stall_usec, 60000000);
	assert_int_equal(st.max_snapshot_bytes, 4ull << 30);
	assert_false(st.compress);
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
		{ "snapshot-signal", "PWR", offsetof(struct settings, snapshot_signal), 4, SIGPWR },
		{ "allocation-timeline-signal", "SIGIO", offsetof(struct settings, timeline_signal), 4, SIGIO },
		{ "trace-signal", "35", offsetof(struct settings, trace_signal), 4, 35 },
		{ "max-snapshot-size", "64G", offsetof(struct settings, max_snapshot_bytes), 8, 64ull << 30 },
		{ "max-snapshot-size", "1M", offsetof(struct settings, max_snapshot_bytes), 8, 1ull << 20 },
		{ "snapshot-stall-timeout", "90", offsetof(struct settings, snapshot_stall_usec), 8, 90000000 },
		{ "snapshot-stall-timeout", "1h", offsetof(struct settings, snapshot_stall_usec), 8, 3600000000ull },
		{ "snapshot-stall-timeout", "1s", offsetof(struct settings, snapshot_stall_usec), 8, 1000000 },
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

/*
 * What a configuration file's section may set: what the dispatcher applies per process, and
 * nothing of the whole agent's (no flag among them); each of those can be turned off again
 * where it is a trigger or the schedule.
 */
static void test_per_process_keys(void **state)
{
	static const char *const process_keys[] = {
		"rss-threshold", "rss-growth", "limit-percent", "cpu-threshold", "cpu-window", "threshold-action",
		"capture-seconds", "cooldown", "every", "schedule-kinds",
	};
	const struct setting_def *defs;
	struct settings st;
	char why[256];
	size_t n, found = 0;

	defs = settings_defs(&n);
	for (size_t i = 0; i < n; i++) {
		bool listed = false;

		for (size_t k = 0; k < sizeof(process_keys) / sizeof(process_keys[0]); k++)
			listed |= strcmp(defs[i].key, process_keys[k]) == 0;
		if (listed != (defs[i].scope == SETTING_PROCESS))
			fail_msg("%s: scope %d", defs[i].key, defs[i].scope);
		if (defs[i].scope == SETTING_PROCESS) {
			assert_false(defs[i].flag);
			found++;
		}
	}
	assert_int_equal(found, sizeof(process_keys) / sizeof(process_keys[0]));

	settings_defaults(&st);
	assert_int_equal(settings_set(&st, "rss-threshold", "1G", why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "rss-growth", "300M/10m", why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "limit-percent", "80", why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "cpu-threshold", "90", why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "every", "1m", why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "rss-threshold", "off", why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "rss-growth", "OFF", why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "limit-percent", "none", why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "cpu-threshold", "off", why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "every", "off", why, sizeof(why)), 0);
	assert_int_equal(st.triggers.rss_threshold, 0);
	assert_int_equal(st.triggers.rss_growth, 0);
	assert_int_equal(st.triggers.growth_window_usec, 0);
	assert_int_equal(st.triggers.limit_percent, 0);
	assert_true(st.triggers.cpu_threshold == 0);
	assert_int_equal(st.every_usec, 0);
	assert_int_equal(settings_set(&st, "capture-seconds", "off", why, sizeof(why)), -EINVAL);
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
		/* Issue 11's settings. */
		{ "snapshot-signal", "KILL" }, { "snapshot-signal", "USR1" }, { "snapshot-signal", "bogus" },
		{ "snapshot-signal", "0" }, { "allocation-timeline-signal", "STOP" }, { "trace-signal", "nothing" },
		{ "trace-signal", "RTMAX" }, { "heap-signal", "64" }, { "heap-signal", "none" },
		{ "trace-categories", "" }, { "trace-categories", "node,,v8" }, { "trace-categories", "node v8" },
		{ "trace-categories", "node;v8" }, { "trace-categories", ",node" }, { "trace-categories", "node," },
		{ "snapshot-headroom", "-1" }, { "snapshot-headroom", "1000.5" }, { "snapshot-headroom", "1e3" },
		{ "snapshot-headroom", "lots" }, { "snapshot-stall-timeout", "0" }, { "snapshot-stall-timeout", "500ms" },
		{ "snapshot-stall-timeout", "61m" }, { "max-snapshot-size", "512K" }, { "max-snapshot-size", "65G" },
		{ "max-snapshot-size", "huge" }, { "schedule-kinds", "heap-snapshot" },
		{ "schedule-kinds", "cpu,allocation-timeline" }, { "schedule-kinds", "trace,trace" },
		{ "threshold-action", "snapshot" },
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
		/* A refused value leaves the setting as it was. */
		assert_memory_equal(&st, &before, sizeof(st));
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

/* Every kind is a threshold's to take; the why of a bad one names them all. */
static void test_threshold_action_every_kind(void **state)
{
	struct settings st;
	char why[256];

	for (int k = 0; k < _PROFILE_KIND_MAX; k++) {
		settings_defaults(&st);
		assert_int_equal(settings_set(&st, "threshold-action", profile_kind_name(k), why, sizeof(why)), 0);
		assert_int_equal(st.threshold_action, k);
	}
	assert_int_equal(settings_set(&st, "threshold-action", "Heap", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "invalid --threshold-action 'Heap' (heap, cpu, heap-snapshot, allocation-timeline "
			    "or trace)");
}

/* A schedule takes trace, never what pauses or slows a service, and says why. */
static void test_schedule_kinds(void **state)
{
	struct settings st;
	char why[256];

	settings_defaults(&st);
	assert_int_equal(settings_set(&st, "schedule-kinds", "cpu,trace", why, sizeof(why)), 0);
	assert_int_equal(st.schedule_kinds, 1u << PROFILE_CPU | 1u << PROFILE_TRACE);
	assert_int_equal(settings_set(&st, "schedule-kinds", "heap,heap-snapshot", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "never pauses a service"));
	assert_int_equal(settings_set(&st, "schedule-kinds", "allocation-timeline", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "allocation timeline slows"));
	assert_int_equal(st.schedule_kinds, 1u << PROFILE_CPU | 1u << PROFILE_TRACE);
}

/* A bare --every: rounds of 10 s of cpu, heap in turn (the measured choice); --capture-seconds,
 * when given, is a round's length too; --every must be longer than a round, and says which. */
static void test_schedule_defaults(void **state)
{
	struct settings st;
	char why[256];

	settings_defaults(&st);
	assert_int_equal(st.every_usec, 0);
	assert_int_equal(st.schedule_kinds, 1u << PROFILE_CPU | 1u << PROFILE_HEAP);
	assert_int_equal(st.capture_usec, 30000000);    /* a threshold's or the API's */
	assert_int_equal(settings_round_usec(&st), 10000000);
	assert_int_equal(settings_set(&st, "every", "1m", why, sizeof(why)), 0);
	assert_int_equal(settings_check(&st, why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "every", "10s", why, sizeof(why)), 0);
	assert_int_equal(settings_check(&st, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "--every must be longer than a round (10 s without --capture-seconds): a capture a "
			    "round, with time between them");
	assert_int_equal(settings_set(&st, "capture-seconds", "5", why, sizeof(why)), 0);
	assert_int_equal(settings_round_usec(&st), 5000000);
	assert_int_equal(settings_check(&st, why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "capture-seconds", "30", why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "every", "30s", why, sizeof(why)), 0);
	assert_int_equal(settings_check(&st, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "--every must be longer than --capture-seconds: a capture a round, with time between "
			    "them");
	/* Given as the default's value, it is still given. */
	assert_int_equal(settings_set(&st, "every", "1m", why, sizeof(why)), 0);
	assert_int_equal(settings_check(&st, why, sizeof(why)), 0);
	assert_int_equal(settings_round_usec(&st), 30000000);
}

/* --snapshot-signal and the others: off by default, given like --heap-signal, off again by name. */
static void test_optional_signals(void **state)
{
	static const char *const keys[] = { "snapshot-signal", "allocation-timeline-signal", "trace-signal" };
	static const char *const off[] = { "none", "off", "NONE", "Off" };
	struct settings st;
	char why[256];
	size_t n;
	const struct signal_setting *sigs = settings_signals(&n);

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct signal_setting *s = NULL;

		for (size_t j = 0; j < n; j++)
			if (strcmp(sigs[j].key, keys[i]) == 0)
				s = &sigs[j];
		assert_non_null(s);
		for (size_t j = 0; j < sizeof(off) / sizeof(off[0]); j++) {
			settings_defaults(&st);
			assert_int_equal(settings_set(&st, keys[i], "RTMIN+3", why, sizeof(why)), 0);
			assert_int_equal(settings_signal(&st, s), SIGRTMIN + 3);
			assert_int_equal(settings_set(&st, keys[i], off[j], why, sizeof(why)), 0);
			assert_int_equal(settings_signal(&st, s), 0);
		}
	}
	/* The two there always are cannot be turned off. */
	assert_int_equal(settings_set(&st, "cpu-signal", "off", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "invalid signal 'off'");
	assert_int_equal(settings_set(&st, "trace-signal", "RTMAX", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "signal 'RTMAX' cannot be a trigger (signals 1 to 63 only)");
	assert_int_equal(settings_set(&st, "snapshot-signal", "SIGKILL", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "signal 'SIGKILL' cannot be a trigger (KILL, STOP and USR1 are reserved)");
}

/* The signal table: each setting's kind, in one place for the dispatcher, main.c and the checks. */
static void test_signal_table(void **state)
{
	struct settings st;
	char why[256];
	size_t n;
	const struct signal_setting *sigs = settings_signals(&n);
	uint32_t kinds = 0;
	int kind = -1;

	/* A kind has one signal setting at most; the setting is a key of the table. */
	for (size_t i = 0; i < n; i++) {
		assert_true(sigs[i].kind >= 0 && sigs[i].kind < _PROFILE_KIND_MAX);
		assert_false(kinds & (1u << sigs[i].kind));
		kinds |= 1u << sigs[i].kind;
		settings_defaults(&st);
		assert_int_equal(settings_set(&st, sigs[i].key, "SIGPWR", why, sizeof(why)), 0);
		assert_int_equal(settings_signal(&st, &sigs[i]), SIGPWR);
		assert_int_equal(settings_signal_kind(&st, SIGPWR, &kind), 0);
		assert_int_equal(kind, sigs[i].kind);
	}
	assert_int_equal(n, 5);

	settings_defaults(&st);
	assert_int_equal(settings_signal_kind(&st, SIGWINCH, &kind), 0);
	assert_int_equal(kind, PROFILE_HEAP);
	assert_int_equal(settings_signal_kind(&st, SIGURG, &kind), 0);
	assert_int_equal(kind, PROFILE_CPU);
	/* The settings at 0 are no signal, and 0 is no signal's. */
	kind = -1;
	assert_int_equal(settings_signal_kind(&st, 0, &kind), -ENOENT);
	assert_int_equal(settings_signal_kind(&st, SIGPWR, &kind), -ENOENT);
	assert_int_equal(kind, -1);
	assert_int_equal(settings_trigger_sigmask(&st), 1ull << SIGWINCH | 1ull << SIGURG);

	assert_int_equal(settings_set(&st, "snapshot-signal", "PWR", why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "allocation-timeline-signal", "RTMIN", why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "trace-signal", "RTMAX-1", why, sizeof(why)), 0);
	assert_int_equal(settings_signal_kind(&st, SIGPWR, &kind), 0);
	assert_int_equal(kind, PROFILE_HEAP_SNAPSHOT);
	assert_int_equal(settings_signal_kind(&st, SIGRTMIN, &kind), 0);
	assert_int_equal(kind, PROFILE_ALLOCATION_TIMELINE);
	assert_int_equal(settings_signal_kind(&st, 63, &kind), 0);
	assert_int_equal(kind, PROFILE_TRACE);
	assert_int_equal(settings_trigger_sigmask(&st), 1ull << SIGWINCH | 1ull << SIGURG | 1ull << SIGPWR |
			 1ull << SIGRTMIN | 1ull << 63);
	assert_int_equal(settings_check(&st, why, sizeof(why)), 0);
}

/* Every configured signal differs from every other; those at 0 are none. */
static void test_signals_differ(void **state)
{
	struct settings st;
	char why[256];

	settings_defaults(&st);
	assert_int_equal(settings_set(&st, "snapshot-signal", "WINCH", why, sizeof(why)), 0);
	assert_int_equal(settings_check(&st, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "--heap-signal and --snapshot-signal must differ");
	settings_defaults(&st);
	assert_int_equal(settings_set(&st, "allocation-timeline-signal", "PWR", why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "trace-signal", "PWR", why, sizeof(why)), 0);
	assert_int_equal(settings_check(&st, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "--allocation-timeline-signal and --trace-signal must differ");
	assert_int_equal(settings_set(&st, "trace-signal", "off", why, sizeof(why)), 0);
	assert_int_equal(settings_check(&st, why, sizeof(why)), 0);
	assert_int_equal(settings_set(&st, "cpu-signal", "PWR", why, sizeof(why)), 0);
	assert_int_equal(settings_check(&st, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "--cpu-signal and --allocation-timeline-signal must differ");
}

static void assert_categories_bad(const char *v, const char *want)
{
	char why[256] = "";

	if (settings_check_categories(v, why, sizeof(why)) != -EINVAL)
		fail_msg("'%.80s' accepted", v);
	assert_string_equal(why, want);
}

/* The pure check the setting and the API share. */
static void test_categories(void **state)
{
	char v[1024], why[256];
	struct settings st;
	size_t n = 0;

	assert_int_equal(settings_check_categories("node", why, sizeof(why)), 0);
	assert_int_equal(settings_check_categories("node,node.perf,v8", why, sizeof(why)), 0);
	assert_int_equal(settings_check_categories("disabled-by-default-v8.cpu_profiler,node.fs.sync", why,
						   sizeof(why)), 0);
	assert_categories_bad("", "an empty category");
	assert_categories_bad(",", "an empty category");
	assert_categories_bad("node,", "an empty category");
	assert_categories_bad(",node", "an empty category");
	assert_categories_bad("node,,v8", "an empty category");
	assert_categories_bad("node v8", "' ' in a category (letters, digits, '.', '_' and '-' only)");
	assert_categories_bad("node,v8*", "'*' in a category (letters, digits, '.', '_' and '-' only)");
	assert_categories_bad("node/v8", "'/' in a category (letters, digits, '.', '_' and '-' only)");
	assert_categories_bad("v8\n", "byte 0x0a in a category (letters, digits, '.', '_' and '-' only)");
	assert_categories_bad("n\xc3\xa9", "byte 0xc3 in a category (letters, digits, '.', '_' and '-' only)");

	/* 64 characters a category, 32 categories. */
	memset(v, 'a', 64);
	v[64] = '\0';
	assert_int_equal(settings_check_categories(v, why, sizeof(why)), 0);
	v[64] = 'a';
	v[65] = '\0';
	assert_categories_bad(v, "a category longer than 64 characters");
	for (int i = 0; i < 32; i++)
		n += (size_t)snprintf(v + n, sizeof(v) - n, "%sc%d", i ? "," : "", i);
	assert_int_equal(settings_check_categories(v, why, sizeof(why)), 0);
	snprintf(v + n, sizeof(v) - n, ",c32");
	assert_categories_bad(v, "more than 32 categories");

	/* Shorter than CAPTURE_CATEGORIES_MAX (512): 8 of 63 characters and their commas is 511. */
	n = 0;
	for (int i = 0; i < 8; i++) {
		if (i)
			v[n++] = ',';
		memset(v + n, 'a' + i, 63);
		n += 63;
	}
	v[n] = '\0';
	assert_int_equal(n, CAPTURE_CATEGORIES_MAX - 1);
	assert_int_equal(settings_check_categories(v, why, sizeof(why)), 0);
	v[n] = 'z';
	v[n + 1] = '\0';
	assert_categories_bad(v, "longer than 511 characters");

	/* The setting keeps the text as given, and says which it refused. */
	settings_defaults(&st);
	assert_int_equal(settings_set(&st, "trace-categories", "v8,node.async_hooks", why, sizeof(why)), 0);
	assert_string_equal(st.trace_categories, "v8,node.async_hooks");
	assert_int_equal(settings_set(&st, "trace-categories", "v8,,node", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "invalid --trace-categories 'v8,,node': an empty category (a list such as "
			    "node,node.perf,v8)");
	assert_string_equal(st.trace_categories, "v8,node.async_hooks");
}

/* --snapshot-headroom: a decimal factor, 0 for none. --compress: a flag. */
static void test_snapshot_settings(void **state)
{
	struct settings st;
	char why[256];

	settings_defaults(&st);
	assert_int_equal(settings_set(&st, "snapshot-headroom", "0", why, sizeof(why)), 0);
	assert_true(st.snapshot_headroom == 0);
	assert_int_equal(settings_set(&st, "snapshot-headroom", "2.5", why, sizeof(why)), 0);
	assert_true(st.snapshot_headroom == 2.5);
	assert_int_equal(settings_set(&st, "snapshot-headroom", "1000", why, sizeof(why)), 0);
	assert_true(st.snapshot_headroom == 1000);
	assert_int_equal(settings_set(&st, "snapshot-headroom", "1001", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "invalid --snapshot-headroom '1001' (a factor from 0 to 1000, such as 64; 0: no check)");
	assert_true(st.snapshot_headroom == 1000);
	assert_int_equal(settings_set(&st, "compress", NULL, why, sizeof(why)), 0);
	assert_true(st.compress);
	assert_int_equal(settings_set(&st, "compress", "yes", why, sizeof(why)), -EINVAL);
	assert_int_equal(settings_set(&st, "snapshot-stall-timeout", "2h", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "invalid --snapshot-stall-timeout '2h' (a duration such as 60s, 1s to 1h)");
	assert_int_equal(settings_set(&st, "max-snapshot-size", "100G", why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "invalid --max-snapshot-size '100G' (1M to 64G)");
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
		cmocka_unit_test(test_per_process_keys),
		cmocka_unit_test(test_bad_values_say_why),
		cmocka_unit_test(test_threshold_action_by_kind_name),
		cmocka_unit_test(test_threshold_action_every_kind),
		cmocka_unit_test(test_schedule_kinds),
		cmocka_unit_test(test_schedule_defaults),
		cmocka_unit_test(test_optional_signals),
		cmocka_unit_test(test_signal_table),
		cmocka_unit_test(test_signals_differ),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_snapshot_settings),
		cmocka_unit_test(test_match_is_bounded),
		cmocka_unit_test(test_checks_across_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
