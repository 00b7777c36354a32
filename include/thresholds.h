/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The threshold policy, on trigger.c's state machine: given a process's state and
 * the settings, whether a threshold crossed now, what to tell of it (source,
 * threshold, observed value, unit, who saw it), and whether to capture it or why
 * not (busy, cooldown, its container's hourly cap, the host's hourly cap, shutting down); and when rss_stat is
 * worth attaching. Decisions only: the dispatcher acts on them, and logs.
 */
#ifndef INSPECTD_THRESHOLDS_H
#define INSPECTD_THRESHOLDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>      /* inspectd.h's, through settings.h */

#include "settings.h"
#include "trigger.h"

struct thresholds;

/* Why a crossing is not captured. */
enum threshold_skip {
	THRESHOLD_CAPTURE,              /* not skipped: capture it */
	THRESHOLD_SKIP_SHUTDOWN,        /* the agent is shutting down */
	THRESHOLD_SKIP_QUEUED,          /* a capture of it is queued already */
	THRESHOLD_SKIP_RUNNING,         /* a capture of it is running already */
	THRESHOLD_SKIP_COOLDOWN,        /* its cooldown since its last capture */
	THRESHOLD_SKIP_CONTAINER_CAP,   /* its container's --max-captures-per-container-per-hour */
	THRESHOLD_SKIP_HOURLY_CAP,      /* the host's --max-captures-per-hour */
	_THRESHOLD_SKIP_MAX,
};

/* "capture", "shutdown", "queued", "running", "cooldown", "container-hourly-cap", "hourly-cap";
 * "unknown" out of range. */
const char *threshold_skip_name(enum threshold_skip s);

/* Who saw the crossing. */
enum threshold_detector {
	THRESHOLD_BY_RSS_STAT,          /* at the page fault */
	THRESHOLD_BY_TICK,              /* the once-a-second look */
	_THRESHOLD_DETECTOR_MAX,
};

/* "rss_stat", "tick" (static storage: meta.json's detected_by); "unknown" out of range. */
const char *threshold_detector_name(enum threshold_detector d);

enum threshold_busy {
	THRESHOLD_IDLE,
	THRESHOLD_BUSY_QUEUED,
	THRESHOLD_BUSY_RUNNING,
};

/* A process as the policy sees it. */
struct threshold_subject {
	const struct trigger_config *cfg;       /* its triggers' settings: the agent's, or its section's (borrowed) */
	struct trigger_state *triggers; /* judged and updated (borrowed) */
	uint64_t rss;                   /* bytes */
	uint64_t cpu_ns;                /* cumulative */
	bool cpu_fresh;                 /* cpu_ns read at this tick (else not judged) */
	enum threshold_busy busy;       /* its capture, if it has one */
	bool container_full;            /* its container's hourly cap is reached (tenants.h) */
};

struct threshold_decision {
	enum trigger_source source;
	enum trigger_kind kind;
	double threshold;               /* bytes, or percent of one core */
	double observed;
	const char *unit;               /* "bytes", "percent" (static storage) */
	const char *detected_by;        /* threshold_detector_name() */
	enum threshold_skip skip;
	uint64_t cooldown_left_usec;    /* THRESHOLD_SKIP_COOLDOWN */
};

/* st: borrowed for its life, for what is the whole host's (the hourly cap, --rss-watch); each
 * process's triggers come with it (threshold_subject). NULL only when out of memory. */
struct thresholds *thresholds__new(const struct settings *st);
void thresholds__free(struct thresholds *th);
/* From now on every crossing is skipped: THRESHOLD_SKIP_SHUTDOWN. */
void thresholds__shutdown(struct thresholds *th);

/*
 * A new RSS value (rss_stat's): 1 and *ret when a threshold crossed now, or 0. When
 * ret->skip is THRESHOLD_CAPTURE a slot of the hourly cap is taken: capture, then
 * thresholds_captured().
 */
int thresholds__rss(struct thresholds *th, const struct threshold_subject *s, enum threshold_detector by,
		    uint64_t now_usec, struct threshold_decision *ret);
/* The tick: RSS and CPU time, as thresholds__rss(). */
int thresholds__tick(struct thresholds *th, const struct threshold_subject *s, uint64_t now_usec,
		     struct threshold_decision *ret);
/* The capture a decision asked for was submitted: cooldown from now, growth from its RSS now. */
void thresholds_captured(const struct threshold_subject *s, uint64_t now_usec);
/* Why it was skipped, in words for a log line ("cooldown, 42 s left"). */
void threshold_skip_describe(const struct threshold_decision *d, const struct settings *st, char *buf,
			     size_t size);

/* The RSS marks for the kernel side; true when RSS is near enough the high one to attach rss_stat. */
bool thresholds_marks(const struct trigger_config *cfg, const struct trigger_state *ts, uint64_t rss,
		      uint64_t *high, uint64_t *low);
/* Whether cfg has an RSS trigger (rss-threshold, rss-growth, limit-percent). */
bool thresholds_rss_configured(const struct trigger_config *cfg);
/* Whether rss_stat should be attached now, given whether some process may have an RSS trigger
 * (the agent's settings or a section's: thresholds_rss_configured()) and whether some process is
 * near a mark now. */
bool thresholds__rss_watch(struct thresholds *th, bool rss_triggers, bool near, uint64_t now_usec);

#endif
