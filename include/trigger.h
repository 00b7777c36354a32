/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Threshold triggers as a pure state machine: RSS over an absolute size, RSS
 * growth, a percentage of the cgroup's memory limit, CPU over a window.
 *
 * Each trigger fires once per crossing. After it fired it re-arms only when
 * the value fell below 90% of its threshold and the process's cooldown (from
 * its last capture) is over. Times are microseconds on one monotonic clock.
 */
#ifndef INSPECTD_TRIGGER_H
#define INSPECTD_TRIGGER_H

#include <stdbool.h>
#include <stdint.h>

enum trigger_kind {
	TRIGGER_RSS_THRESHOLD,
	TRIGGER_RSS_GROWTH,
	TRIGGER_LIMIT_PERCENT,
	TRIGGER_CPU_THRESHOLD,
	_TRIGGER_MAX,
};

/*
 * What asked for a capture: a signal, the API, or a threshold trigger (the four
 * after API, in trigger_kind's order). The closer is not a capture of a profile:
 * closing an inspector left open (start-up cleanup, the sweep).
 */
enum trigger_source {
	TRIGGER_SOURCE_SIGNAL,
	TRIGGER_SOURCE_API,
	TRIGGER_SOURCE_RSS_THRESHOLD,
	TRIGGER_SOURCE_RSS_GROWTH,
	TRIGGER_SOURCE_LIMIT_PERCENT,
	TRIGGER_SOURCE_CPU_THRESHOLD,
	TRIGGER_SOURCE_SCHEDULE,        /* --every: the schedule's round (schedule.h) */
	TRIGGER_SOURCE_CLEANUP,
	_TRIGGER_SOURCE_MAX,
};

#define TRIGGER_MASK(k)         (1u << (k))
#define TRIGGER_RSS_MASK        (TRIGGER_MASK(TRIGGER_RSS_THRESHOLD) | TRIGGER_MASK(TRIGGER_RSS_GROWTH) | \
				 TRIGGER_MASK(TRIGGER_LIMIT_PERCENT))
#define TRIGGER_HYSTERESIS      0.9
#define TRIGGER_WINDOW_BUCKETS  16
#define TRIGGER_CPU_SAMPLES     64

struct trigger_config {
	uint64_t rss_threshold;         /* bytes; 0: off */
	uint64_t rss_growth;            /* bytes; 0: off */
	uint64_t growth_window_usec;    /* 0: growth since the baseline */
	unsigned limit_percent;         /* 1..100; 0: off */
	double cpu_threshold;           /* percent of one core; 0: off */
	uint64_t cpu_window_usec;
	uint64_t cooldown_usec;
};

struct trigger_state {
	bool fired[_TRIGGER_MAX];       /* crossed; waiting to re-arm */
	uint64_t last_capture_usec;     /* 0: never captured */
	uint64_t baseline;              /* rss-growth: RSS when first seen or last captured */
	uint64_t limit;                 /* the cgroup's memory limit; 0: none */
	struct {
		uint64_t start_usec;
		uint64_t min;
	} window[TRIGGER_WINDOW_BUCKETS];       /* rss-growth within a window: minimum per slice */
	struct {
		uint64_t usec;
		uint64_t cpu_ns;
	} cpu[TRIGGER_CPU_SAMPLES];
	unsigned cpu_head, cpu_count;
	uint64_t cpu_every_usec;        /* spacing of kept CPU samples */
	double cpu_percent;             /* over the window; <0 until the window is covered */
};

const char *trigger_kind_name(enum trigger_kind k);
/* "signal", "api", "rss-threshold", ..., "cleanup"; "unknown" out of range. */
const char *trigger_source_name(enum trigger_source s);
/* 0 and *ret, or -EINVAL for a name that is none of trigger_source_name()'s. */
int trigger_source_from_name(const char *name, enum trigger_source *ret);
enum trigger_source trigger_source_of_kind(enum trigger_kind k);
/* The threshold trigger behind a source: 0 and *ret, or -EINVAL (signal, api, cleanup). */
int trigger_source_kind(enum trigger_source s, enum trigger_kind *ret);
/* Whether captures of a profile come from this source (all but the closer's). */
bool trigger_source_profiles(enum trigger_source s);
/* Whether the agent starts captures of s by itself (thresholds), rather than a person
 * asking (a signal, the API): --select governs those. */
bool trigger_source_automatic(enum trigger_source s);
bool trigger_configured(const struct trigger_config *cfg, enum trigger_kind k);
void trigger_state_init(struct trigger_state *st, const struct trigger_config *cfg, uint64_t now, uint64_t rss);
/* The settings that apply to the process changed (a reload, another section of the
 * configuration file): what st derives from them (the CPU samples' spacing) follows; what
 * it saw (samples, crossings, its last capture) is kept. */
void trigger_state_configure(struct trigger_state *st, const struct trigger_config *cfg);
/* The threshold of an RSS trigger for this process now, in bytes; 0 when it does not apply. */
uint64_t trigger_threshold(const struct trigger_config *cfg, const struct trigger_state *st, enum trigger_kind k);
/* Triggers that apply and are armed. */
unsigned trigger_armed(const struct trigger_config *cfg, const struct trigger_state *st);
/* The marks for the kernel side: report at >= high (armed triggers), at < low (re-arm levels). */
void trigger_rss_marks(const struct trigger_config *cfg, const struct trigger_state *st, uint64_t *high,
		       uint64_t *low);
/*
 * Whether RSS is near enough to a high mark to watch every page fault (rss_stat):
 * within TRIGGER_NEAR_BYTES of it, or within an eighth of it for marks above 2 GiB.
 * Farther below, the once-a-second look sees the crossing unless the process grows by
 * more than that within a second. Not "half the mark": services routinely sit at half
 * their container limit, and would keep rss_stat attached for the whole host.
 */
#define TRIGGER_NEAR_BYTES      (256ull << 20)
bool trigger_rss_near(uint64_t rss, uint64_t high);
/*
 * Whether rss_stat should be attached now, for --rss-watch near (always == false) or
 * always. Never without an RSS trigger. *until is when the last near RSS stops
 * counting: pushed to now + TRIGGER_WATCH_LINGER_USEC while near.
 */
#define TRIGGER_WATCH_LINGER_USEC (10ull * 1000000)
bool trigger_rss_watch(bool rss_triggers, bool always, bool near, uint64_t now, uint64_t *until);
/* A new RSS value: re-arms what may re-arm, returns the mask of triggers that crossed now. */
unsigned trigger_eval_rss(const struct trigger_config *cfg, struct trigger_state *st, uint64_t rss, uint64_t now);
/* A new cumulative CPU time: returns TRIGGER_MASK(TRIGGER_CPU_THRESHOLD) when it crossed now. */
unsigned trigger_eval_cpu(const struct trigger_config *cfg, struct trigger_state *st, uint64_t cpu_ns, uint64_t now);
bool trigger_in_cooldown(const struct trigger_config *cfg, const struct trigger_state *st, uint64_t now);
/* A capture of this process started: cooldown from now, growth measured from rss. */
void trigger_captured(struct trigger_state *st, uint64_t now, uint64_t rss);

/* The host-wide cap on captures per hour. */
#define RATE_LIMIT_MAX 1024
struct rate_limit {
	uint64_t at[RATE_LIMIT_MAX];    /* ring of capture start times */
	unsigned head, count;
};
/* Whether one more capture fits in the last hour's cap; records it if so. */
bool rate_limit_take(struct rate_limit *rl, unsigned per_hour, uint64_t now);

#endif
