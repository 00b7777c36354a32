/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The dispatcher's counters, as /metrics shows them (api_json.h renders them).
 * Pure: the dispatcher counts, the API reads a copy's worth through a const pointer.
 */
#ifndef INSPECTD_METRICS_H
#define INSPECTD_METRICS_H

#include <stdbool.h>

#include "capture.h"
#include "profile.h"
#include "sighandler.h"
#include "trigger.h"

#define DISPATCHER_LATENCY_BUCKETS 10
/* Upper bounds of the trigger-to-start histogram's buckets, in seconds. */
extern const double dispatcher_latency_le[DISPATCHER_LATENCY_BUCKETS];

/* The kernel side's event streams, in enum inspectd_stream's order. */
#define METRICS_STREAMS 4
extern const char *const metrics_stream_names[METRICS_STREAMS];

struct dispatcher_metrics {
	unsigned long captures[_PROFILE_KIND_MAX][_TRIGGER_SOURCE_MAX][2];     /* [kind][source][0 exported, 1 failed] */
	unsigned long skipped[_TRIGGER_SOURCE_MAX];     /* threshold triggers skipped, per source */
	unsigned long refused[_TRIGGER_SOURCE_MAX];     /* requests refused: the container's hourly cap */
	unsigned long expired[_TRIGGER_SOURCE_MAX];     /* jobs that waited past --queue-timeout */
	unsigned long excluded[_TRIGGER_SOURCE_MAX];    /* triggers of processes --exclude excludes */
	unsigned long not_selected[_TRIGGER_SOURCE_MAX];        /* automatic ones of processes --select does not select */
	unsigned long export_failures;
	unsigned long latency_buckets[DISPATCHER_LATENCY_BUCKETS];     /* cumulative, le dispatcher_latency_le */
	unsigned long latency_count;
	double latency_sum;                             /* seconds */
	bool rss_watch;                                 /* rss_stat attached now */
	unsigned long rss_watch_attaches;
	/* What the kernel side could not report, and what was found again. */
	unsigned long events_lost[METRICS_STREAMS];     /* no room in their ring buffer */
	unsigned long signals_limited;                  /* trigger signals over their target's rate */
	unsigned long sigusr1_refused[_SIGUSR1_HANDLER_MAX];    /* SIGUSR1 not sent: whose handler it was */
	unsigned long track_failures;                   /* node processes the kernel's map had no room for */
	unsigned long reconciled;                       /* events a comparison of the tables found lost */
	unsigned long exits_found;                      /* tracked processes found gone by their pidfd */
	/* OOM kills of tracked processes, and their records (oom-kill-*.json). */
	unsigned long oom_kills;                        /* seen (mark_victim, or an exit marked so) */
	unsigned long oom_records;                      /* written */
	unsigned long oom_records_limited;              /* not written: over the hourly caps */
	unsigned long oom_record_failures;              /* not written: the write failed */
};

/* A job ended: counted as exported (CAPTURE_OK) or failed, and export failures apart. */
void metrics_count_capture(struct dispatcher_metrics *m, enum profile_kind kind, enum trigger_source source,
			   enum capture_outcome outcome);
/* From a trigger's event to its profiler running; latency_ms < 0 (never started) is not counted. */
void metrics_observe_latency(struct dispatcher_metrics *m, double latency_ms);

#endif
