// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The threshold triggers as a pure state machine: rss-threshold, rss-growth
 * (since the baseline, or within a window), limit-percent, cpu-threshold, the
 * 90% hysteresis with the per-process cooldown, the kernel marks, and the
 * host-wide cap on captures per hour.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "trigger.h"

#define SEC     UINT64_C(1000000)               /* microseconds */
#define MiB     UINT64_C(1048576)
#define GiB     UINT64_C(1073741824)
#define NSEC    UINT64_C(1000000000)
/* CPU ns per second at 95%, 85%, 70%, 50% of a core. */
#define CPU95   UINT64_C(950000000)
#define CPU85   UINT64_C(850000000)
#define CPU70   UINT64_C(700000000)
#define CPU50   UINT64_C(500000000)

#define M_THR   TRIGGER_MASK(TRIGGER_RSS_THRESHOLD)
#define M_GROW  TRIGGER_MASK(TRIGGER_RSS_GROWTH)
#define M_LIM   TRIGGER_MASK(TRIGGER_LIMIT_PERCENT)
#define M_CPU   TRIGGER_MASK(TRIGGER_CPU_THRESHOLD)

/* |a - b| <= eps, naming both values when not (no libm). */
static void assert_near(double a, double b, double eps)
{
	double d = a > b ? a - b : b - a;

	if (!(d <= eps))
		print_error("%f is not within %f of %f\n", a, eps, b);
	assert_true(d <= eps);
}

static void assert_marks(const struct trigger_config *cfg, const struct trigger_state *st, uint64_t want_high,
			 uint64_t want_low)
{
	uint64_t high = 12345, low = 12345;

	trigger_rss_marks(cfg, st, &high, &low);
	assert_int_equal(high, want_high);
	assert_int_equal(low, want_low);
}

/* ---- names, configuration, init ---- */

static void test_kind_name(void **state)
{
	assert_string_equal(trigger_kind_name(TRIGGER_RSS_THRESHOLD), "rss-threshold");
	assert_string_equal(trigger_kind_name(TRIGGER_RSS_GROWTH), "rss-growth");
	assert_string_equal(trigger_kind_name(TRIGGER_LIMIT_PERCENT), "limit-percent");
	assert_string_equal(trigger_kind_name(TRIGGER_CPU_THRESHOLD), "cpu-threshold");
	assert_string_equal(trigger_kind_name(_TRIGGER_MAX), "unknown");
	assert_string_equal(trigger_kind_name((enum trigger_kind)99), "unknown");
}

static void test_source_names(void **state)
{
	static const char *const names[] = { "signal", "api", "rss-threshold", "rss-growth", "limit-percent",
					     "cpu-threshold", "schedule", "cleanup" };
	enum trigger_source s;
	enum trigger_kind k;

	assert_int_equal(sizeof(names) / sizeof(names[0]), _TRIGGER_SOURCE_MAX);
	for (int i = 0; i < _TRIGGER_SOURCE_MAX; i++) {
		assert_string_equal(trigger_source_name((enum trigger_source)i), names[i]);
		assert_int_equal(trigger_source_from_name(names[i], &s), 0);
		assert_int_equal(s, i);
	}
	/* Who asked: a person (signal, API), or the agent by itself (--select governs those). */
	assert_false(trigger_source_automatic(TRIGGER_SOURCE_SIGNAL));
	assert_false(trigger_source_automatic(TRIGGER_SOURCE_API));
	assert_false(trigger_source_automatic(TRIGGER_SOURCE_CLEANUP));
	assert_true(trigger_source_automatic(TRIGGER_SOURCE_RSS_THRESHOLD));
	assert_true(trigger_source_automatic(TRIGGER_SOURCE_CPU_THRESHOLD));
	assert_true(trigger_source_automatic(TRIGGER_SOURCE_SCHEDULE));
	assert_string_equal(trigger_source_name(_TRIGGER_SOURCE_MAX), "unknown");
	assert_string_equal(trigger_source_name((enum trigger_source)-1), "unknown");
	s = TRIGGER_SOURCE_API;
	assert_int_equal(trigger_source_from_name("unknown", &s), -EINVAL);
	assert_int_equal(trigger_source_from_name("", &s), -EINVAL);
	assert_int_equal(trigger_source_from_name("Signal", &s), -EINVAL);
	assert_int_equal(trigger_source_from_name("rss", &s), -EINVAL);
	assert_int_equal(s, TRIGGER_SOURCE_API);

	/* A threshold source and its trigger, both ways, with the same name. */
	for (k = 0; k < _TRIGGER_MAX; k++) {
		enum trigger_kind back;

		s = trigger_source_of_kind(k);
		assert_string_equal(trigger_source_name(s), trigger_kind_name(k));
		assert_int_equal(trigger_source_kind(s, &back), 0);
		assert_int_equal(back, k);
		assert_true(trigger_source_profiles(s));
	}
	k = TRIGGER_RSS_GROWTH;
	assert_int_equal(trigger_source_kind(TRIGGER_SOURCE_SIGNAL, &k), -EINVAL);
	assert_int_equal(trigger_source_kind(TRIGGER_SOURCE_API, &k), -EINVAL);
	assert_int_equal(trigger_source_kind(TRIGGER_SOURCE_CLEANUP, &k), -EINVAL);
	assert_int_equal(k, TRIGGER_RSS_GROWTH);
	assert_true(trigger_source_profiles(TRIGGER_SOURCE_SIGNAL));
	assert_true(trigger_source_profiles(TRIGGER_SOURCE_API));
	assert_false(trigger_source_profiles(TRIGGER_SOURCE_CLEANUP));
	assert_false(trigger_source_profiles(_TRIGGER_SOURCE_MAX));
}

static void test_configured(void **state)
{
	struct trigger_config cfg = { 0 };

	for (int k = 0; k <= _TRIGGER_MAX; k++)
		assert_false(trigger_configured(&cfg, k));
	cfg.rss_threshold = 1;
	cfg.rss_growth = 1;
	cfg.limit_percent = 1;
	cfg.cpu_threshold = 50;
	assert_true(trigger_configured(&cfg, TRIGGER_RSS_THRESHOLD));
	assert_true(trigger_configured(&cfg, TRIGGER_RSS_GROWTH));
	assert_true(trigger_configured(&cfg, TRIGGER_LIMIT_PERCENT));
	/* CPU needs a window too. */
	assert_false(trigger_configured(&cfg, TRIGGER_CPU_THRESHOLD));
	cfg.cpu_window_usec = 15 * SEC;
	assert_true(trigger_configured(&cfg, TRIGGER_CPU_THRESHOLD));
	assert_false(trigger_configured(&cfg, _TRIGGER_MAX));
}

static void test_state_init(void **state)
{
	struct trigger_config cfg = { .rss_growth = 10 * MiB, .cpu_threshold = 90, .cpu_window_usec = 15 * SEC };
	struct trigger_state st;

	memset(&st, 0xa5, sizeof(st));
	trigger_state_init(&st, &cfg, 7 * SEC, 300 * MiB);
	for (int k = 0; k < _TRIGGER_MAX; k++)
		assert_false(st.fired[k]);
	assert_int_equal(st.last_capture_usec, 0);
	assert_int_equal(st.baseline, 300 * MiB);
	assert_int_equal(st.limit, 0);
	assert_int_equal(st.cpu_count, 0);
	assert_true(st.cpu_percent < 0);
	assert_false(trigger_in_cooldown(&cfg, &st, 7 * SEC));
	assert_int_equal(trigger_threshold(&cfg, &st, TRIGGER_RSS_GROWTH), 310 * MiB);
}

/* ---- rss-threshold ---- */

/* 1000 MiB: its 90% (943718400) and 95% (996147200) are whole bytes. */
#define THR     (1000 * MiB)
#define THR90   UINT64_C(943718400)
#define THR95   UINT64_C(996147200)

static void test_rss_threshold_fires_once(void **state)
{
	struct trigger_config cfg = { .rss_threshold = THR, .cooldown_usec = 30 * SEC };
	struct trigger_state st;

	trigger_state_init(&st, &cfg, 0, 100 * MiB);
	assert_int_equal(trigger_threshold(&cfg, &st, TRIGGER_RSS_THRESHOLD), THR);
	assert_int_equal(trigger_armed(&cfg, &st), M_THR);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 500 * MiB, 1 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR - 1, 2 * SEC), 0);
	assert_int_equal(trigger_armed(&cfg, &st), M_THR);

	/* Crossing: exactly once. */
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR, 3 * SEC), M_THR);
	assert_true(st.fired[TRIGGER_RSS_THRESHOLD]);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	/* Not again while above, however far. */
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR, 4 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 2 * THR, 5 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR + 1, 6 * SEC), 0);
	/* Nor after a dip to 95%, nor to exactly 90%: no capture, no cooldown, still no re-arm. */
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR95, 7 * SEC), 0);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR, 8 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR90, 9 * SEC), 0);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR, 10 * SEC), 0);

	/* Below 90% with no capture ever (no cooldown): re-armed, and it does not fire on that eval. */
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR90 - 1, 11 * SEC), 0);
	assert_false(st.fired[TRIGGER_RSS_THRESHOLD]);
	assert_int_equal(trigger_armed(&cfg, &st), M_THR);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR, 12 * SEC), M_THR);
}

/* Falls below 90% during the cooldown, then the cooldown passes: re-armed at the next eval. */
static void test_rss_threshold_below_then_cooldown(void **state)
{
	struct trigger_config cfg = { .rss_threshold = THR, .cooldown_usec = 30 * SEC };
	struct trigger_state st;

	trigger_state_init(&st, &cfg, 0, 100 * MiB);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR + 5 * MiB, 2 * SEC), M_THR);
	trigger_captured(&st, 2 * SEC, THR + 5 * MiB);
	assert_true(trigger_in_cooldown(&cfg, &st, 2 * SEC));
	assert_true(trigger_in_cooldown(&cfg, &st, 32 * SEC - 1));
	assert_false(trigger_in_cooldown(&cfg, &st, 32 * SEC));

	assert_int_equal(trigger_eval_rss(&cfg, &st, THR95, 3 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR90 - 1, 4 * SEC), 0);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 600 * MiB, 20 * SEC), 0);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	/* Going up again during the cooldown does not fire: still not armed. */
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR, 21 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 600 * MiB, 22 * SEC), 0);
	/* One microsecond before the end of the cooldown. */
	assert_int_equal(trigger_eval_rss(&cfg, &st, 600 * MiB, 32 * SEC - 1), 0);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	/* The cooldown is over: the next eval, still below, re-arms. */
	assert_int_equal(trigger_eval_rss(&cfg, &st, 600 * MiB, 32 * SEC), 0);
	assert_int_equal(trigger_armed(&cfg, &st), M_THR);
	assert_false(trigger_in_cooldown(&cfg, &st, 32 * SEC));
	/* And it fires on the next crossing, once. */
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR - 1, 33 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR, 34 * SEC), M_THR);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR + 1, 35 * SEC), 0);
}

/* The cooldown passes while the value is still above: not re-armed until it falls below 90%. */
static void test_rss_threshold_cooldown_then_below(void **state)
{
	struct trigger_config cfg = { .rss_threshold = THR, .cooldown_usec = 30 * SEC };
	struct trigger_state st;

	trigger_state_init(&st, &cfg, 0, 100 * MiB);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR, 2 * SEC), M_THR);
	trigger_captured(&st, 2 * SEC, THR);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR + 20 * MiB, 10 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR + 20 * MiB, 40 * SEC), 0);
	assert_false(trigger_in_cooldown(&cfg, &st, 40 * SEC));
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	/* 95%, then exactly 90%, after the cooldown: still not armed. */
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR95, 41 * SEC), 0);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR90, 42 * SEC), 0);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR, 43 * SEC), 0);
	/* One byte below 90%: re-armed. */
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR90 - 1, 44 * SEC), 0);
	assert_int_equal(trigger_armed(&cfg, &st), M_THR);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR + 1, 45 * SEC), M_THR);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
}

/* A capture at time 0 still starts a cooldown. */
static void test_captured_at_zero(void **state)
{
	struct trigger_config cfg = { .rss_threshold = THR, .cooldown_usec = 30 * SEC };
	struct trigger_state st;

	trigger_state_init(&st, &cfg, 0, 100 * MiB);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR, 0), M_THR);
	trigger_captured(&st, 0, THR);
	assert_true(trigger_in_cooldown(&cfg, &st, 0));
	assert_true(trigger_in_cooldown(&cfg, &st, 29 * SEC));
	assert_int_equal(trigger_eval_rss(&cfg, &st, 100 * MiB, 29 * SEC), 0);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	assert_false(trigger_in_cooldown(&cfg, &st, 31 * SEC));
	assert_int_equal(trigger_eval_rss(&cfg, &st, 100 * MiB, 31 * SEC), 0);
	assert_int_equal(trigger_armed(&cfg, &st), M_THR);
}

/* ---- the kernel marks ---- */

static void test_growth_needs_a_baseline(void **state)
{
	struct trigger_config cfg = { .rss_growth = 100 * MiB, .cooldown_usec = 30 * SEC };
	struct trigger_state st;

	/* Found by an exec event: RSS not known yet. Growth is not armed, and a first RSS
	 * of 1 GiB is where the process is, not growth. */
	trigger_state_init(&st, &cfg, 0, 0);
	assert_int_equal(trigger_threshold(&cfg, &st, TRIGGER_RSS_GROWTH), 0);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, GiB, 1 * SEC), 0);
	/* The baseline the dispatcher sets a second after discovery arms it. */
	st.baseline = GiB;
	assert_int_equal(trigger_threshold(&cfg, &st, TRIGGER_RSS_GROWTH), GiB + 100 * MiB);
	assert_int_equal(trigger_eval_rss(&cfg, &st, GiB + 100 * MiB, 2 * SEC), TRIGGER_MASK(TRIGGER_RSS_GROWTH));
}

static void test_rss_near(void **state)
{
	/* No mark: never near. */
	assert_false(trigger_rss_near(0, 0));
	assert_false(trigger_rss_near(100 * GiB, 0));
	/* Up to 2 GiB: near within 256 MiB of the mark. */
	assert_false(trigger_rss_near(800 * MiB, 1600 * MiB));      /* half a 1.6 GiB mark is far */
	assert_false(trigger_rss_near(1344 * MiB - 1, 1600 * MiB));
	assert_true(trigger_rss_near(1344 * MiB, 1600 * MiB));
	assert_true(trigger_rss_near(1600 * MiB, 1600 * MiB));
	assert_true(trigger_rss_near(100 * GiB, 1600 * MiB));
	assert_false(trigger_rss_near(1792 * MiB - 1, 2 * GiB));
	assert_true(trigger_rss_near(1792 * MiB, 2 * GiB));
	/* Above: within an eighth of it (1 GiB of an 8 GiB mark). */
	assert_false(trigger_rss_near(7 * GiB - 1, 8 * GiB));
	assert_true(trigger_rss_near(7 * GiB, 8 * GiB));
	assert_false(trigger_rss_near(100 * MiB, 100 * GiB));
	/* A mark of 256 MiB or less: always near. */
	assert_true(trigger_rss_near(0, 256 * MiB));
	assert_true(trigger_rss_near(44 * MiB, 300 * MiB));
	assert_false(trigger_rss_near(43 * MiB, 300 * MiB));
	/* No overflow near the top of the range. */
	assert_true(trigger_rss_near(UINT64_MAX - 1, UINT64_MAX));
	assert_true(trigger_rss_near(UINT64_MAX, UINT64_MAX));
	assert_false(trigger_rss_near(0, UINT64_MAX));
}

static void test_rss_watch(void **state)
{
	uint64_t until = 0;

	/* No RSS trigger: never attached, whatever else holds. */
	assert_false(trigger_rss_watch(false, true, true, 1 * SEC, &until));
	assert_false(trigger_rss_watch(false, false, true, 1 * SEC, &until));
	/* --rss-watch always: attached even when nothing is near. */
	assert_true(trigger_rss_watch(true, true, false, 1 * SEC, &until));
	/* near: attached while near, and for the linger after the last near RSS. */
	until = 0;
	assert_false(trigger_rss_watch(true, false, false, 1 * SEC, &until));
	assert_true(trigger_rss_watch(true, false, true, 2 * SEC, &until));
	assert_int_equal(until, 2 * SEC + TRIGGER_WATCH_LINGER_USEC);
	assert_true(trigger_rss_watch(true, false, false, 3 * SEC, &until));
	assert_true(trigger_rss_watch(true, false, true, 5 * SEC, &until));          /* near again: pushed on */
	assert_true(trigger_rss_watch(true, false, false, 5 * SEC + TRIGGER_WATCH_LINGER_USEC - 1, &until));
	assert_false(trigger_rss_watch(true, false, false, 5 * SEC + TRIGGER_WATCH_LINGER_USEC, &until));
	assert_false(trigger_rss_watch(true, false, false, 60 * SEC, &until));
}

static void test_rss_marks(void **state)
{
	struct trigger_config cfg = {
		.rss_threshold = THR, .rss_growth = 500 * MiB, .limit_percent = 80,
		.cpu_threshold = 90, .cpu_window_usec = 15 * SEC, .cooldown_usec = 30 * SEC,
	};
	struct trigger_config none = { .cpu_threshold = 90, .cpu_window_usec = 15 * SEC };
	struct trigger_state st;

	trigger_state_init(&st, &none, 0, 100 * MiB);
	assert_marks(&none, &st, 0, 0);

	trigger_state_init(&st, &cfg, 0, 100 * MiB);
	/* No limit: threshold and growth (100 + 500 MiB). */
	assert_marks(&cfg, &st, 600 * MiB, 0);
	st.limit = GiB;
	/* 80% of 1 GiB = 858993459 is above 600 MiB = 629145600. */
	assert_marks(&cfg, &st, 600 * MiB, 0);

	assert_int_equal(trigger_eval_rss(&cfg, &st, 650 * MiB, 1 * SEC), M_GROW);
	/* Armed: limit (858993459) and threshold; fired: growth, re-arms below 90% of 600 MiB. */
	assert_marks(&cfg, &st, 858993459, 566231040);

	assert_int_equal(trigger_eval_rss(&cfg, &st, 900 * MiB, 2 * SEC), M_LIM);
	/* 90% of 858993459 = 773094113.1, rounded up (eval re-arms below the exact value). */
	assert_marks(&cfg, &st, THR, 773094114);

	assert_int_equal(trigger_eval_rss(&cfg, &st, 1100 * MiB, 3 * SEC), M_THR);
	assert_marks(&cfg, &st, 0, THR90);
	assert_int_equal(trigger_armed(&cfg, &st), M_CPU);

	/* The capture re-arms growth at 1100 + 500 MiB; the others stay fired. */
	trigger_captured(&st, 3 * SEC, 1100 * MiB);
	assert_marks(&cfg, &st, 1600 * MiB, THR90);
	assert_int_equal(trigger_armed(&cfg, &st), M_GROW | M_CPU);
}

/* ---- rss-growth ---- */

static void test_rss_growth_since_baseline(void **state)
{
	struct trigger_config cfg = { .rss_growth = 50 * MiB, .cooldown_usec = 30 * SEC };
	struct trigger_state st;

	trigger_state_init(&st, &cfg, 0, 200 * MiB);
	assert_int_equal(trigger_threshold(&cfg, &st, TRIGGER_RSS_GROWTH), 250 * MiB);
	assert_int_equal(trigger_armed(&cfg, &st), M_GROW);
	/* The baseline is the RSS at init, not the lowest seen since. */
	assert_int_equal(trigger_eval_rss(&cfg, &st, 150 * MiB, 1 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 240 * MiB, 2 * SEC), 0);
	assert_int_equal(trigger_threshold(&cfg, &st, TRIGGER_RSS_GROWTH), 250 * MiB);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 250 * MiB - 1, 3 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 250 * MiB, 4 * SEC), M_GROW);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 300 * MiB, 5 * SEC), 0);

	/* The capture: growth counts from its RSS, armed at once. */
	trigger_captured(&st, 5 * SEC, 300 * MiB);
	assert_int_equal(st.baseline, 300 * MiB);
	assert_true(trigger_in_cooldown(&cfg, &st, 5 * SEC));
	assert_int_equal(trigger_threshold(&cfg, &st, TRIGGER_RSS_GROWTH), 350 * MiB);
	assert_int_equal(trigger_armed(&cfg, &st), M_GROW);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 300 * MiB, 6 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 320 * MiB, 7 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 350 * MiB - 1, 8 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 350 * MiB, 9 * SEC), M_GROW);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 400 * MiB, 10 * SEC), 0);
}

/* Window 16 s (slices of 1 s), growth 160 MiB, RSS sampled every second. */
static const struct trigger_config growth_window_cfg = {
	.rss_growth = 160 * MiB, .growth_window_usec = 16 * SEC, .cooldown_usec = 30 * SEC,
};

static void test_rss_growth_window_slow(void **state)
{
	const struct trigger_config *cfg = &growth_window_cfg;
	struct trigger_config nowindow = *cfg;
	struct trigger_state st, st_nowindow;
	unsigned fired_nowindow = 0;

	nowindow.growth_window_usec = 0;
	trigger_state_init(&st, cfg, 0, 1000 * MiB);
	trigger_state_init(&st_nowindow, &nowindow, 0, 1000 * MiB);
	assert_int_equal(trigger_threshold(cfg, &st, TRIGGER_RSS_GROWTH), 1160 * MiB);
	/* 8 MiB a second for 40 s: 320 MiB in all, at most 120 MiB within any window. */
	for (uint64_t t = 1; t <= 40; t++) {
		uint64_t rss = (1000 + 8 * t) * MiB;

		assert_int_equal(trigger_eval_rss(cfg, &st, rss, t * SEC), 0);
		assert_int_equal(trigger_armed(cfg, &st), M_GROW);
		/* The lowest in the window: the sample 15 s ago (the one at init before that). */
		assert_int_equal(trigger_threshold(cfg, &st, TRIGGER_RSS_GROWTH),
				 (t < 15 ? 1000 * MiB : (1000 + 8 * (t - 15)) * MiB) + 160 * MiB);
		/* The same growth without a window fires once, at 1160 MiB. */
		if (trigger_eval_rss(&nowindow, &st_nowindow, rss, t * SEC)) {
			assert_int_equal(t, 20);
			fired_nowindow++;
		}
	}
	assert_int_equal(fired_nowindow, 1);
}

static void test_rss_growth_window_fast(void **state)
{
	const struct trigger_config *cfg = &growth_window_cfg;
	struct trigger_state st;

	trigger_state_init(&st, cfg, 0, 1000 * MiB);
	/* The same 160 MiB in 8 s: fires when reached, not before. */
	for (uint64_t t = 1; t < 8; t++)
		assert_int_equal(trigger_eval_rss(cfg, &st, (1000 + 20 * t) * MiB, t * SEC), 0);
	assert_int_equal(trigger_threshold(cfg, &st, TRIGGER_RSS_GROWTH), 1160 * MiB);
	assert_int_equal(trigger_eval_rss(cfg, &st, 1160 * MiB, 8 * SEC), M_GROW);
	assert_int_equal(trigger_armed(cfg, &st), 0);
	assert_int_equal(trigger_eval_rss(cfg, &st, 1180 * MiB, 9 * SEC), 0);

	/* Slow growth, a plateau longer than the window, then a fast rise from the plateau fires. */
	trigger_state_init(&st, cfg, 0, 1000 * MiB);
	for (uint64_t t = 1; t <= 20; t++)
		assert_int_equal(trigger_eval_rss(cfg, &st, (1000 + 8 * t) * MiB, t * SEC), 0);
	for (uint64_t t = 21; t <= 40; t++)
		assert_int_equal(trigger_eval_rss(cfg, &st, 1160 * MiB, t * SEC), 0);
	assert_int_equal(trigger_threshold(cfg, &st, TRIGGER_RSS_GROWTH), 1320 * MiB);
	assert_int_equal(trigger_eval_rss(cfg, &st, 1240 * MiB, 41 * SEC), 0);
	assert_int_equal(trigger_eval_rss(cfg, &st, 1320 * MiB - 1, 42 * SEC), 0);
	assert_int_equal(trigger_eval_rss(cfg, &st, 1320 * MiB, 43 * SEC), M_GROW);
}

/*
 * After a capture, growth within the window counts from the captured RSS
 * ("growth measured from rss"), as it counts from the RSS at init.
 */
static void test_rss_growth_window_after_capture(void **state)
{
	const struct trigger_config *cfg = &growth_window_cfg;
	struct trigger_state st;

	/* From init: 1000 -> 1160 MiB within 2 s fires. */
	trigger_state_init(&st, cfg, 0, 1000 * MiB);
	assert_int_equal(trigger_eval_rss(cfg, &st, 1080 * MiB, 1 * SEC), 0);
	assert_int_equal(trigger_eval_rss(cfg, &st, 1160 * MiB, 2 * SEC), M_GROW);

	/* From a capture: 1160 -> 1320 MiB within 2 s must fire the same way. */
	trigger_captured(&st, 2 * SEC, 1160 * MiB);
	assert_int_equal(trigger_armed(cfg, &st), M_GROW);
	assert_int_equal(trigger_threshold(cfg, &st, TRIGGER_RSS_GROWTH), 1320 * MiB);
	assert_int_equal(trigger_eval_rss(cfg, &st, 1240 * MiB, 3 * SEC), 0);
	assert_int_equal(trigger_threshold(cfg, &st, TRIGGER_RSS_GROWTH), 1320 * MiB);
	assert_int_equal(trigger_eval_rss(cfg, &st, 1320 * MiB, 4 * SEC), M_GROW);
}

/* ---- limit-percent ---- */

static void test_limit_percent(void **state)
{
	struct trigger_config cfg = { .limit_percent = 80, .cooldown_usec = 30 * SEC };
	struct trigger_state st;

	/* No limit: no threshold, not armed, never fires. */
	trigger_state_init(&st, &cfg, 0, 100 * MiB);
	assert_true(trigger_configured(&cfg, TRIGGER_LIMIT_PERCENT));
	assert_int_equal(trigger_threshold(&cfg, &st, TRIGGER_LIMIT_PERCENT), 0);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	assert_marks(&cfg, &st, 0, 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 0, 1 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 900 * MiB, 2 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, UINT64_MAX, 3 * SEC), 0);
	assert_false(st.fired[TRIGGER_LIMIT_PERCENT]);

	/* 1 GiB at 80%: 858993459.2 bytes. */
	st.limit = GiB;
	assert_int_equal(trigger_threshold(&cfg, &st, TRIGGER_LIMIT_PERCENT), 858993459);
	assert_int_equal(trigger_armed(&cfg, &st), M_LIM);
	assert_marks(&cfg, &st, 858993459, 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 858993458, 4 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 858993459, 5 * SEC), M_LIM);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 900 * MiB, 6 * SEC), 0);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	/* Re-arms below 90% of 858993459 (773094113.1), no cooldown without a capture. */
	assert_int_equal(trigger_eval_rss(&cfg, &st, 773094114, 7 * SEC), 0);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 773094113, 8 * SEC), 0);
	assert_int_equal(trigger_armed(&cfg, &st), M_LIM);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 858993459, 9 * SEC), M_LIM);

	/* 100% of a 512 MiB limit. */
	cfg.limit_percent = 100;
	trigger_state_init(&st, &cfg, 0, 100 * MiB);
	st.limit = 512 * MiB;
	assert_int_equal(trigger_threshold(&cfg, &st, TRIGGER_LIMIT_PERCENT), 512 * MiB);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 512 * MiB - 1, 1 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 512 * MiB, 2 * SEC), M_LIM);

	/* The limit goes away: no threshold, not armed. */
	st.limit = 0;
	cfg.limit_percent = 80;
	trigger_state_init(&st, &cfg, 0, 100 * MiB);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
}

/* Several triggers crossing on one value are reported together. */
static void test_eval_rss_several(void **state)
{
	struct trigger_config cfg = { .rss_threshold = 800 * MiB, .rss_growth = 100 * MiB, .limit_percent = 50 };
	struct trigger_state st;

	trigger_state_init(&st, &cfg, 0, 100 * MiB);
	st.limit = GiB;
	assert_int_equal(trigger_eval_rss(&cfg, &st, 199 * MiB, 1 * SEC), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 900 * MiB, 2 * SEC), M_THR | M_GROW | M_LIM);
	assert_int_equal(trigger_armed(&cfg, &st), 0);
	assert_int_equal(trigger_eval_rss(&cfg, &st, 900 * MiB, 3 * SEC), 0);
}

/* ---- trigger_armed ---- */

static void test_armed_mask(void **state)
{
	struct trigger_config cfg = {
		.rss_threshold = THR, .rss_growth = 100 * MiB, .limit_percent = 80,
		.cpu_threshold = 90, .cpu_window_usec = 15 * SEC, .cooldown_usec = 30 * SEC,
	};
	struct trigger_config off = { 0 };
	struct trigger_state st;

	trigger_state_init(&st, &off, 0, 100 * MiB);
	assert_int_equal(trigger_armed(&off, &st), 0);

	trigger_state_init(&st, &cfg, 0, 100 * MiB);
	/* limit-percent needs a limit. */
	assert_int_equal(trigger_armed(&cfg, &st), M_THR | M_GROW | M_CPU);
	st.limit = 2 * GiB;
	assert_int_equal(trigger_armed(&cfg, &st), M_THR | M_GROW | M_LIM | M_CPU);

	st.fired[TRIGGER_CPU_THRESHOLD] = true;
	assert_int_equal(trigger_armed(&cfg, &st), M_THR | M_GROW | M_LIM);
	st.fired[TRIGGER_CPU_THRESHOLD] = false;

	assert_int_equal(trigger_eval_rss(&cfg, &st, 200 * MiB, 1 * SEC), M_GROW);
	assert_int_equal(trigger_armed(&cfg, &st), M_THR | M_LIM | M_CPU);
	assert_int_equal(trigger_eval_rss(&cfg, &st, THR, 2 * SEC), M_THR);
	assert_int_equal(trigger_armed(&cfg, &st), M_LIM | M_CPU);

	/* A CPU threshold without a window is not configured, so not armed. */
	cfg.cpu_window_usec = 0;
	assert_int_equal(trigger_armed(&cfg, &st) & M_CPU, 0);
	cfg.cpu_threshold = 0;
	cfg.cpu_window_usec = 15 * SEC;
	assert_int_equal(trigger_armed(&cfg, &st), M_LIM);
}

/* ---- cpu-threshold ---- */

static const struct trigger_config cpu_cfg = {
	.cpu_threshold = 90, .cpu_window_usec = 15 * SEC, .cooldown_usec = 60 * SEC,
};

static void test_cpu_fires_after_window(void **state)
{
	const struct trigger_config *cfg = &cpu_cfg;
	struct trigger_state st;
	uint64_t t0 = 1000 * SEC, cpu0 = 42 * NSEC;

	trigger_state_init(&st, cfg, t0, 100 * MiB);
	assert_int_equal(trigger_armed(cfg, &st), M_CPU);
	/* 95% of a core, one sample a second: the window is covered after 15 s. */
	for (uint64_t k = 0; k < 15; k++) {
		assert_int_equal(trigger_eval_cpu(cfg, &st, cpu0 + k * CPU95, t0 + k * SEC), 0);
		assert_true(st.cpu_percent < 0);
		assert_int_equal(trigger_armed(cfg, &st), M_CPU);
	}
	assert_int_equal(trigger_eval_cpu(cfg, &st, cpu0 + 15 * CPU95, t0 + 15 * SEC), M_CPU);
	assert_near(st.cpu_percent, 95.0, 0.5);
	assert_int_equal(trigger_armed(cfg, &st), 0);
	/* Not again while above, long enough for the sample ring to wrap several times. */
	for (uint64_t k = 16; k < 300; k++) {
		assert_int_equal(trigger_eval_cpu(cfg, &st, cpu0 + k * CPU95, t0 + k * SEC), 0);
		assert_near(st.cpu_percent, 95.0, 0.5);
	}
	assert_int_equal(trigger_armed(cfg, &st), 0);
}

/*
 * Other settings for a process (a reload, a section of the configuration file): a window of
 * 10 minutes where its state was made for 15 s. Unless the state follows (its samples spaced
 * for 10 minutes), its 64 samples of one a second never cover the window.
 */
static void test_cpu_configure(void **state)
{
	struct trigger_config wide = cpu_cfg;
	struct trigger_state kept, st;
	uint64_t t0 = 1000 * SEC, k;
	unsigned fired = 0;

	wide.cpu_window_usec = 600 * SEC;
	trigger_state_init(&kept, &cpu_cfg, t0, 0);
	trigger_state_init(&st, &cpu_cfg, t0, 0);
	trigger_state_configure(&st, &wide);
	for (k = 0; k <= 700; k++) {
		assert_int_equal(trigger_eval_cpu(&wide, &kept, k * CPU95, t0 + k * SEC), 0);
		if (trigger_eval_cpu(&wide, &st, k * CPU95, t0 + k * SEC)) {
			assert_true(k >= 600);
			fired++;
		}
	}
	assert_true(kept.cpu_percent < 0);
	assert_int_equal(fired, 1);
	assert_near(st.cpu_percent, 95.0, 0.5);
	/* The other way: what it saw is kept. */
	trigger_state_configure(&st, &cpu_cfg);
	assert_int_equal(st.cpu_every_usec, cpu_cfg.cpu_window_usec / (TRIGGER_CPU_SAMPLES / 2));
	assert_true(st.fired[TRIGGER_CPU_THRESHOLD]);
}

static void test_cpu_idle_never_fires(void **state)
{
	const struct trigger_config *cfg = &cpu_cfg;
	struct trigger_state st;

	trigger_state_init(&st, cfg, 0, 100 * MiB);
	for (uint64_t k = 0; k < 300; k++) {
		assert_int_equal(trigger_eval_cpu(cfg, &st, 1234 * NSEC, k * SEC), 0);
		if (k >= 15)
			assert_near(st.cpu_percent, 0.0, 0.5);
	}
	assert_int_equal(trigger_armed(cfg, &st), M_CPU);

	/* 85% of a core, below the threshold, never fires either. */
	trigger_state_init(&st, cfg, 0, 100 * MiB);
	for (uint64_t k = 0; k < 300; k++) {
		assert_int_equal(trigger_eval_cpu(cfg, &st, k * CPU85, k * SEC), 0);
		if (k >= 15)
			assert_near(st.cpu_percent, 85.0, 0.5);
	}
	assert_int_equal(trigger_armed(cfg, &st), M_CPU);

	/* Two full cores: 200%. */
	trigger_state_init(&st, cfg, 0, 100 * MiB);
	for (uint64_t k = 0; k < 15; k++)
		assert_int_equal(trigger_eval_cpu(cfg, &st, k * 2 * NSEC, k * SEC), 0);
	assert_int_equal(trigger_eval_cpu(cfg, &st, 15 * 2 * NSEC, 15 * SEC), M_CPU);
	assert_near(st.cpu_percent, 200.0, 0.5);

	/* Not configured: nothing, whatever the load. */
	trigger_state_init(&st, &(struct trigger_config){ .cpu_threshold = 90 }, 0, 100 * MiB);
	for (uint64_t k = 0; k < 40; k++)
		assert_int_equal(trigger_eval_cpu(&(struct trigger_config){ .cpu_threshold = 90 }, &st, k * NSEC,
						  k * SEC), 0);
}

/* CPU time per second: 95% up to `until`, then `after`; cumulative ns at second k. */
static uint64_t cpu_at(uint64_t k, uint64_t until, uint64_t after_ns_per_s)
{
	return k <= until ? k * CPU95 : until * CPU95 + (k - until) * after_ns_per_s;
}

static void test_cpu_hysteresis(void **state)
{
	const struct trigger_config *cfg = &cpu_cfg;
	struct trigger_state st;
	uint64_t k, cpu75;

	trigger_state_init(&st, cfg, 0, 100 * MiB);
	for (k = 0; k < 15; k++)
		assert_int_equal(trigger_eval_cpu(cfg, &st, cpu_at(k, 15, 0), k * SEC), 0);
	assert_int_equal(trigger_eval_cpu(cfg, &st, cpu_at(15, 15, 0), 15 * SEC), M_CPU);
	trigger_captured(&st, 15 * SEC, 100 * MiB);

	/* Down to 50% from 15 s: the window's percent is 95 - 3n, below 81% from 20 s on,
	 * but the cooldown lasts until 75 s. */
	for (k = 16; k < 75; k++) {
		assert_int_equal(trigger_eval_cpu(cfg, &st, cpu_at(k, 15, CPU50), k * SEC), 0);
		assert_near(st.cpu_percent, k < 30 ? 95.0 - 3.0 * (double)(k - 15) : 50.0, 0.5);
		assert_int_equal(trigger_armed(cfg, &st), 0);
	}
	/* The cooldown is over: re-armed at this eval, which does not fire. */
	assert_int_equal(trigger_eval_cpu(cfg, &st, cpu_at(75, 15, CPU50), 75 * SEC), 0);
	assert_int_equal(trigger_armed(cfg, &st), M_CPU);

	/* Back to 95% from 75 s: 50 + 3n percent, 89% at 88 s, 92% at 89 s. */
	cpu75 = cpu_at(75, 15, CPU50);
	for (k = 76; k < 89; k++) {
		assert_int_equal(trigger_eval_cpu(cfg, &st, cpu75 + (k - 75) * CPU95, k * SEC), 0);
		assert_near(st.cpu_percent, 50.0 + 3.0 * (double)(k - 75), 0.5);
	}
	assert_int_equal(trigger_eval_cpu(cfg, &st, cpu75 + 14 * CPU95, 89 * SEC), M_CPU);
	assert_near(st.cpu_percent, 92.0, 0.5);
	assert_int_equal(trigger_eval_cpu(cfg, &st, cpu75 + 15 * CPU95, 90 * SEC), 0);
}

/* The cooldown passes while CPU stays high, or between 81% and 90%: not re-armed. */
static void test_cpu_no_rearm_while_high(void **state)
{
	const struct trigger_config *cfg = &cpu_cfg;
	struct trigger_state st;
	uint64_t k;

	trigger_state_init(&st, cfg, 0, 100 * MiB);
	for (k = 0; k < 15; k++)
		assert_int_equal(trigger_eval_cpu(cfg, &st, cpu_at(k, 15, 0), k * SEC), 0);
	assert_int_equal(trigger_eval_cpu(cfg, &st, cpu_at(15, 15, 0), 15 * SEC), M_CPU);
	trigger_captured(&st, 15 * SEC, 100 * MiB);
	for (k = 16; k <= 100; k++)
		assert_int_equal(trigger_eval_cpu(cfg, &st, cpu_at(k, 200, 0), k * SEC), 0);
	assert_false(trigger_in_cooldown(cfg, &st, 100 * SEC));
	assert_int_equal(trigger_armed(cfg, &st), 0);
	/* 85%: below the threshold, above its 90%. */
	for (k = 101; k <= 200; k++)
		assert_int_equal(trigger_eval_cpu(cfg, &st, cpu_at(k, 100, CPU85), k * SEC), 0);
	assert_near(st.cpu_percent, 85.0, 0.5);
	assert_int_equal(trigger_armed(cfg, &st), 0);
	/* 70%: re-armed once the window shows below 81%. */
	for (k = 201; k <= 230; k++)
		assert_int_equal(trigger_eval_cpu(cfg, &st, cpu_at(100, 100, 0) + 100 * CPU85 + (k - 200) * CPU70,
						  k * SEC), 0);
	assert_near(st.cpu_percent, 70.0, 0.5);
	assert_int_equal(trigger_armed(cfg, &st), M_CPU);
}

/* ---- rate_limit_take ---- */

static void test_rate_limit(void **state)
{
	static struct rate_limit rl;
	const uint64_t hour = 3600 * SEC, t0 = 5000 * SEC;

	memset(&rl, 0, sizeof(rl));
	for (uint64_t i = 0; i < 6; i++)
		assert_true(rate_limit_take(&rl, 6, t0 + i * 60 * SEC));
	assert_false(rate_limit_take(&rl, 6, t0 + 6 * 60 * SEC));
	/* Refusals are not recorded. */
	for (int i = 0; i < 20; i++)
		assert_false(rate_limit_take(&rl, 6, t0 + 30 * 60 * SEC));
	assert_false(rate_limit_take(&rl, 6, t0 + hour - 1));
	/* The first one is an hour old: one more. */
	assert_true(rate_limit_take(&rl, 6, t0 + hour));
	assert_false(rate_limit_take(&rl, 6, t0 + hour));
	assert_false(rate_limit_take(&rl, 6, t0 + hour + 60 * SEC - 1));
	assert_true(rate_limit_take(&rl, 6, t0 + hour + 60 * SEC));
	assert_false(rate_limit_take(&rl, 6, t0 + hour + 60 * SEC));
	/* Much later: the whole allowance again. */
	for (int i = 0; i < 6; i++)
		assert_true(rate_limit_take(&rl, 6, t0 + 10 * hour));
	assert_false(rate_limit_take(&rl, 6, t0 + 10 * hour));

	/* From a fresh clock at 0. */
	memset(&rl, 0, sizeof(rl));
	assert_true(rate_limit_take(&rl, 1, 0));
	assert_false(rate_limit_take(&rl, 1, hour - 1));
	assert_true(rate_limit_take(&rl, 1, hour));

	/* Capped at RATE_LIMIT_MAX, all at once. */
	memset(&rl, 0, sizeof(rl));
	for (int i = 0; i < RATE_LIMIT_MAX; i++)
		assert_true(rate_limit_take(&rl, 5000, t0));
	assert_false(rate_limit_take(&rl, 5000, t0 + 1));
	assert_true(rate_limit_take(&rl, 5000, t0 + hour));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_name),
		cmocka_unit_test(test_source_names),
		cmocka_unit_test(test_configured),
		cmocka_unit_test(test_state_init),
		cmocka_unit_test(test_rss_near),
		cmocka_unit_test(test_rss_watch),
		cmocka_unit_test(test_growth_needs_a_baseline),
		cmocka_unit_test(test_rss_threshold_fires_once),
		cmocka_unit_test(test_rss_threshold_below_then_cooldown),
		cmocka_unit_test(test_rss_threshold_cooldown_then_below),
		cmocka_unit_test(test_captured_at_zero),
		cmocka_unit_test(test_rss_marks),
		cmocka_unit_test(test_rss_growth_since_baseline),
		cmocka_unit_test(test_rss_growth_window_slow),
		cmocka_unit_test(test_rss_growth_window_fast),
		cmocka_unit_test(test_rss_growth_window_after_capture),
		cmocka_unit_test(test_limit_percent),
		cmocka_unit_test(test_eval_rss_several),
		cmocka_unit_test(test_armed_mask),
		cmocka_unit_test(test_cpu_fires_after_window),
		cmocka_unit_test(test_cpu_configure),
		cmocka_unit_test(test_cpu_idle_never_fires),
		cmocka_unit_test(test_cpu_hysteresis),
		cmocka_unit_test(test_cpu_no_rearm_while_high),
		cmocka_unit_test(test_rate_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
