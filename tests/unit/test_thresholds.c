// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The threshold policy's decisions: a crossing and what is told of it, each
 * reason to skip one (shutting down, busy, cooldown, the hourly cap), and when
 * rss_stat is worth attaching.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "thresholds.h"

#define SEC     UINT64_C(1000000)
#define MiB     (UINT64_C(1) << 20)

static struct settings settings(void)
{
	return (struct settings){
		.triggers = {
			.rss_threshold = 512 * MiB,
			.cpu_threshold = 90, .cpu_window_usec = 10 * SEC,
			.cooldown_usec = 600 * SEC,
		},
		.max_captures_per_hour = 2,
		.max_per_container_hour = 12,
	};
}

struct fixture {
	struct settings st;
	struct thresholds *th;
	struct trigger_state ts;
	struct threshold_subject s;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.st = settings();
	f.th = thresholds__new(&f.st);
	if (!f.th)
		return -1;
	trigger_state_init(&f.ts, &f.st.triggers, 1000 * SEC, 0);
	f.s = (struct threshold_subject){ .cfg = &f.st.triggers, .triggers = &f.ts };
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	thresholds__free(f->th);
	return 0;
}

static void test_names(void **state)
{
	assert_string_equal(threshold_skip_name(THRESHOLD_CAPTURE), "capture");
	assert_string_equal(threshold_skip_name(THRESHOLD_SKIP_SHUTDOWN), "shutdown");
	assert_string_equal(threshold_skip_name(THRESHOLD_SKIP_QUEUED), "queued");
	assert_string_equal(threshold_skip_name(THRESHOLD_SKIP_RUNNING), "running");
	assert_string_equal(threshold_skip_name(THRESHOLD_SKIP_COOLDOWN), "cooldown");
	assert_string_equal(threshold_skip_name(THRESHOLD_SKIP_CONTAINER_CAP), "container-hourly-cap");
	assert_string_equal(threshold_skip_name(THRESHOLD_SKIP_HOURLY_CAP), "hourly-cap");
	assert_string_equal(threshold_skip_name(_THRESHOLD_SKIP_MAX), "unknown");
	assert_string_equal(threshold_detector_name(THRESHOLD_BY_RSS_STAT), "rss_stat");
	assert_string_equal(threshold_detector_name(THRESHOLD_BY_TICK), "tick");
	assert_string_equal(threshold_detector_name(_THRESHOLD_DETECTOR_MAX), "unknown");
}

/* Below: nothing. Crossing: one decision, with what meta.json and the API tell. Once. */
static void test_crossing(void **state)
{
	struct fixture *f = *state;
	struct threshold_decision d;
	uint64_t now = 1001 * SEC;

	f->s.rss = 511 * MiB;
	assert_int_equal(thresholds__rss(f->th, &f->s, THRESHOLD_BY_RSS_STAT, now, &d), 0);
	f->s.rss = 600 * MiB;
	assert_int_equal(thresholds__rss(f->th, &f->s, THRESHOLD_BY_RSS_STAT, now, &d), 1);
	assert_int_equal(d.skip, THRESHOLD_CAPTURE);
	assert_int_equal(d.source, TRIGGER_SOURCE_RSS_THRESHOLD);
	assert_int_equal(d.kind, TRIGGER_RSS_THRESHOLD);
	assert_string_equal(d.unit, "bytes");
	assert_string_equal(d.detected_by, "rss_stat");
	assert_true(d.threshold == (double)(512 * MiB));
	assert_true(d.observed == (double)(600 * MiB));
	/* Fired: not again while above. */
	assert_int_equal(thresholds__rss(f->th, &f->s, THRESHOLD_BY_RSS_STAT, now + SEC, &d), 0);
	assert_int_equal(thresholds__tick(f->th, &f->s, now + 2 * SEC, &d), 0);
}

static void test_cpu_by_tick(void **state)
{
	struct fixture *f = *state;
	struct threshold_decision d;
	uint64_t t0 = 1000 * SEC;
	int fired = 0;

	/* 95% of a core, sampled once a second: fires once the window is covered. */
	f->s.cpu_fresh = true;
	for (uint64_t k = 0; k <= 12; k++) {
		f->s.cpu_ns = k * 950000000ull;
		if (thresholds__tick(f->th, &f->s, t0 + k * SEC, &d) == 1) {
			fired++;
			assert_int_equal(d.source, TRIGGER_SOURCE_CPU_THRESHOLD);
			assert_int_equal(d.kind, TRIGGER_CPU_THRESHOLD);
			assert_string_equal(d.unit, "percent");
			assert_string_equal(d.detected_by, "tick");
			assert_true(d.threshold == 90);
			assert_true(d.observed > 94 && d.observed < 96);
			assert_int_equal(d.skip, THRESHOLD_CAPTURE);
		}
	}
	assert_int_equal(fired, 1);
}

/*
 * Without a CPU threshold the agent reads CPU times every 10 ticks: a tick between reads
 * (cpu_fresh false, cpu_ns as last read) is not a sample, or the share would be wrong.
 */
static void test_cpu_read_seldom(void **state)
{
	struct fixture *f = *state;
	struct threshold_decision d;
	uint64_t t0 = 1000 * SEC;

	/* a window that is not a multiple of the reads, as the default 15 s */
	f->st.triggers.cpu_window_usec = 15 * SEC;
	trigger_state_init(&f->ts, &f->st.triggers, t0, 0);
	for (uint64_t k = 0; k <= 60; k++) {
		f->s.cpu_fresh = k % 10 == 0;
		if (f->s.cpu_fresh)
			f->s.cpu_ns = k * 500000000ull;         /* half a core */
		thresholds__tick(f->th, &f->s, t0 + k * SEC, &d);
		if (k >= 20 && f->s.cpu_fresh)
			assert_true(f->s.triggers->cpu_percent > 49.9 && f->s.triggers->cpu_percent < 50.1);
	}
	assert_true(f->s.triggers->cpu_percent > 49.9 && f->s.triggers->cpu_percent < 50.1);
}

/* Re-armed below 90%, then crossed again within the cooldown: skipped, with the time left. */
static void test_cooldown(void **state)
{
	struct fixture *f = *state;
	struct threshold_decision d;
	uint64_t now = 1001 * SEC;
	char why[96];

	f->s.rss = 600 * MiB;
	assert_int_equal(thresholds__rss(f->th, &f->s, THRESHOLD_BY_RSS_STAT, now, &d), 1);
	assert_int_equal(d.skip, THRESHOLD_CAPTURE);
	thresholds_captured(&f->s, now);
	f->s.rss = 100 * MiB;
	assert_int_equal(thresholds__tick(f->th, &f->s, now + 10 * SEC, &d), 0);
	f->s.rss = 600 * MiB;
	/* Still armed? Only after the cooldown: re-arming waits for it too. */
	assert_int_equal(thresholds__tick(f->th, &f->s, now + 20 * SEC, &d), 0);
	f->s.rss = 100 * MiB;
	assert_int_equal(thresholds__tick(f->th, &f->s, now + 601 * SEC, &d), 0);
	f->s.rss = 600 * MiB;
	assert_int_equal(thresholds__tick(f->th, &f->s, now + 602 * SEC, &d), 1);
	assert_int_equal(d.skip, THRESHOLD_CAPTURE);

	/* A crossing judged inside the cooldown (a state that fired without a capture). */
	thresholds_captured(&f->s, now + 602 * SEC);
	f->ts.fired[TRIGGER_RSS_THRESHOLD] = false;
	assert_int_equal(thresholds__tick(f->th, &f->s, now + 660 * SEC, &d), 1);
	assert_int_equal(d.skip, THRESHOLD_SKIP_COOLDOWN);
	assert_int_equal(d.cooldown_left_usec, 542 * SEC);
	threshold_skip_describe(&d, &f->st, why, sizeof(why));
	assert_string_equal(why, "cooldown, 542 s left");
}

static void test_busy_and_shutdown(void **state)
{
	struct fixture *f = *state;
	struct threshold_decision d;
	char why[96];

	f->s.rss = 600 * MiB;
	f->s.busy = THRESHOLD_BUSY_QUEUED;
	assert_int_equal(thresholds__rss(f->th, &f->s, THRESHOLD_BY_RSS_STAT, 1001 * SEC, &d), 1);
	assert_int_equal(d.skip, THRESHOLD_SKIP_QUEUED);
	threshold_skip_describe(&d, &f->st, why, sizeof(why));
	assert_string_equal(why, "a capture of it is already queued");

	f->ts.fired[TRIGGER_RSS_THRESHOLD] = false;
	f->s.busy = THRESHOLD_BUSY_RUNNING;
	assert_int_equal(thresholds__rss(f->th, &f->s, THRESHOLD_BY_RSS_STAT, 1002 * SEC, &d), 1);
	assert_int_equal(d.skip, THRESHOLD_SKIP_RUNNING);
	threshold_skip_describe(&d, &f->st, why, sizeof(why));
	assert_string_equal(why, "a capture of it is already running");

	/* Shutting down comes first, busy or not. */
	thresholds__shutdown(f->th);
	f->ts.fired[TRIGGER_RSS_THRESHOLD] = false;
	assert_int_equal(thresholds__rss(f->th, &f->s, THRESHOLD_BY_RSS_STAT, 1003 * SEC, &d), 1);
	assert_int_equal(d.skip, THRESHOLD_SKIP_SHUTDOWN);
	threshold_skip_describe(&d, &f->st, why, sizeof(why));
	assert_string_equal(why, "the agent is shutting down");
}

/* Two an hour on the host: the third is skipped, and a skipped one takes no slot. */
static void test_hourly_cap(void **state)
{
	struct fixture *f = *state;
	struct threshold_decision d;
	struct trigger_state other[4];
	char why[96];

	for (int i = 0; i < 4; i++) {
		struct threshold_subject s = { .cfg = &f->st.triggers, .triggers = &other[i], .rss = 600 * MiB };

		trigger_state_init(&other[i], &f->st.triggers, 0, 0);
		if (i == 2)
			s.busy = THRESHOLD_BUSY_RUNNING;
		assert_int_equal(thresholds__rss(f->th, &s, THRESHOLD_BY_TICK, 1000 * SEC + (uint64_t)i, &d), 1);
		assert_int_equal(d.skip, i < 2 ? THRESHOLD_CAPTURE : i == 2 ? THRESHOLD_SKIP_RUNNING
									    : THRESHOLD_SKIP_HOURLY_CAP);
	}
	threshold_skip_describe(&d, &f->st, why, sizeof(why));
	assert_string_equal(why, "host cap of 2 threshold captures per hour reached");
	/* An hour later, a slot again. */
	f->s.rss = 600 * MiB;
	assert_int_equal(thresholds__rss(f->th, &f->s, THRESHOLD_BY_TICK, 4601 * SEC, &d), 1);
	assert_int_equal(d.skip, THRESHOLD_CAPTURE);
}

/* A container at its hourly cap: skipped, and no slot of the host's cap spent on it. */
static void test_container_cap(void **state)
{
	struct fixture *f = *state;
	struct threshold_decision d;
	struct trigger_state other[3];
	char why[96];

	for (int i = 0; i < 3; i++) {
		struct threshold_subject s = {
			.cfg = &f->st.triggers, .triggers = &other[i], .rss = 600 * MiB, .container_full = i == 0,
		};

		trigger_state_init(&other[i], &f->st.triggers, 0, 0);
		assert_int_equal(thresholds__rss(f->th, &s, THRESHOLD_BY_TICK, 1000 * SEC + (uint64_t)i, &d), 1);
		assert_int_equal(d.skip, i == 0 ? THRESHOLD_SKIP_CONTAINER_CAP : THRESHOLD_CAPTURE);
		if (i == 0) {
			threshold_skip_describe(&d, &f->st, why, sizeof(why));
			assert_string_equal(why, "its container's cap of 12 captures per hour reached");
		}
	}
}

/* rss_stat: attached near a mark, and a while after; never without an RSS trigger. */
static void test_rss_stat_attach(void **state)
{
	struct fixture *f = *state;
	uint64_t high, low, now = 2000 * SEC;
	struct settings cpu_only = settings();
	struct thresholds *th;

	assert_false(thresholds_marks(&f->st.triggers, &f->ts, 100 * MiB, &high, &low));
	assert_int_equal(high, 512 * MiB);
	assert_true(thresholds_marks(&f->st.triggers, &f->ts, 300 * MiB, &high, &low));
	assert_true(thresholds_marks(&f->st.triggers, &f->ts, 700 * MiB, &high, &low));

	assert_true(thresholds_rss_configured(&f->st.triggers));
	assert_false(thresholds__rss_watch(f->th, true, false, now));
	assert_true(thresholds__rss_watch(f->th, true, true, now));
	assert_true(thresholds__rss_watch(f->th, true, false, now + TRIGGER_WATCH_LINGER_USEC - 1));
	assert_false(thresholds__rss_watch(f->th, true, false, now + TRIGGER_WATCH_LINGER_USEC));

	/* --rss-watch always: attached from the start. */
	f->st.rss_watch_always = true;
	assert_true(thresholds__rss_watch(f->th, true, false, now));

	/* No RSS trigger, in the settings or a section's: never, even always. */
	cpu_only.triggers.rss_threshold = 0;
	cpu_only.rss_watch_always = true;
	assert_false(thresholds_rss_configured(&cpu_only.triggers));
	th = thresholds__new(&cpu_only);
	assert_non_null(th);
	assert_false(thresholds__rss_watch(th, false, true, now));
	/* One in a section's settings alone: attached (always), as the dispatcher tells it. */
	assert_true(thresholds__rss_watch(th, true, false, now));
	thresholds__free(th);
	thresholds__free(NULL);
}

/*
 * Each process with its own triggers (a section of the configuration file's): the same RSS
 * crosses one process's threshold and not another's, and each cooldown is its own.
 */
static void test_own_triggers(void **state)
{
	struct fixture *f = *state;
	struct trigger_config low = f->st.triggers;
	struct trigger_state ts;
	struct threshold_subject s = { .cfg = &low, .triggers = &ts, .rss = 200 * MiB };
	struct threshold_decision d;
	uint64_t now = 1001 * SEC;

	low.rss_threshold = 100 * MiB;
	low.cooldown_usec = 10 * SEC;
	trigger_state_init(&ts, &low, 1000 * SEC, 0);
	f->s.rss = 200 * MiB;
	assert_int_equal(thresholds__rss(f->th, &f->s, THRESHOLD_BY_TICK, now, &d), 0);
	assert_int_equal(thresholds__rss(f->th, &s, THRESHOLD_BY_TICK, now, &d), 1);
	assert_int_equal(d.skip, THRESHOLD_CAPTURE);
	assert_true(d.threshold == (double)(100 * MiB));
	thresholds_captured(&s, now);
	/* Down and up again after its own cooldown (10 s, not the settings' 600 s). */
	s.rss = 50 * MiB;
	assert_int_equal(thresholds__tick(f->th, &s, now + 11 * SEC, &d), 0);
	s.rss = 200 * MiB;
	assert_int_equal(thresholds__tick(f->th, &s, now + 12 * SEC, &d), 1);
	assert_int_equal(d.skip, THRESHOLD_CAPTURE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_crossing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_triggers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpu_by_tick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpu_read_seldom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cooldown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_and_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hourly_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_container_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rss_stat_attach, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
