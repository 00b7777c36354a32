/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * From kernel events to captures: keeps the table of tracked node processes,
 * judges their triggers (signals, thresholds, API requests), and runs captures
 * as jobs: at most one per process, at most --max-concurrent at once, the
 * rest queued in order.
 */
#ifndef INSPECTD_DISPATCHER_H
#define INSPECTD_DISPATCHER_H

#include <stdbool.h>
#include <time.h>
#include "capture.h"
#include "container.h"
#include "inspectd.h"
#include "trigger.h"

struct dispatcher;
struct tracker;

enum job_state {
	JOB_QUEUED,
	JOB_ACTIVE,     /* a capture exists: starting, running or stopping */
	JOB_DONE,
	JOB_FAILED,
};

/* A capture as the API sees it: from request to files. Read-only outside the dispatcher. */
struct job {
	struct job *next;               /* newest first */
	unsigned id;
	pid_t pid;
	enum profile_kind kind;
	enum job_state state;
	struct capture_trigger trigger;
	uint64_t duration_usec;         /* 0: until stopped */
	uint64_t netns;                 /* one inspector port per network namespace: take turns */
	char queued_reason[128];
	char files[2][4096];
	char error[256];
	struct timespec created_at, started_at, ended_at;
	struct capture *capture;        /* while JOB_ACTIVE */
	bool stop_requested;
};

/* A tracked process as the API sees it. Read-only outside the dispatcher. */
struct process {
	struct process *next;
	pid_t pid;
	int pidfd;                      /* pins the process: a recycled pid is never signalled */
	char comm[INSPECTD_COMM_LEN];
	bool announced;                 /* "discovered" was logged: so will its exit be */
	uint64_t seen_usec;
	struct job *job;                /* queued or active */
	struct trigger_state triggers;
	bool baseline_set;
	uint64_t rss;                   /* bytes, from the kernel side */
	uint64_t cpu_ns, cpu_accum;     /* cumulative CPU time, from the task iterator */
	uint64_t mark_high, mark_low;   /* as last set in the kernel */
	char cgroup_v1[1024], cgroup_v2[1024];
	struct container_info container;        /* from those paths; id "" when none */
};

struct dispatcher_metrics {
	unsigned long captures[_PROFILE_KIND_MAX][_TRIGGER_SOURCE_MAX][2];     /* [kind][source][0 exported, 1 failed] */
	unsigned long skipped[_TRIGGER_SOURCE_MAX];     /* threshold triggers skipped, per source */
	unsigned long export_failures;
	unsigned long latency_buckets[10];                      /* cumulative, le DISPATCHER_LATENCY_LE */
	unsigned long latency_count;
	double latency_sum;                                     /* seconds */
	bool rss_watch;                                         /* rss_stat attached now */
	unsigned long rss_watch_attaches;
};

#define DISPATCHER_LATENCY_BUCKETS 10
extern const double dispatcher_latency_le[DISPATCHER_LATENCY_BUCKETS];

struct dispatcher *dispatcher__new(const struct capture_env *env);
void dispatcher__set_tracker(struct dispatcher *d, struct tracker *t);
/* The tracker's callback: one kernel event. */
void dispatcher__handle_event(void *ctx, const struct inspectd_event *e);
/* Request a capture. 0 and *ret, or -ESRCH (not a tracked process), -EBUSY (one already
 * queued or running), -ESHUTDOWN, -ENOMEM. */
int dispatcher__submit(struct dispatcher *d, pid_t pid, enum profile_kind kind, const struct capture_trigger *t,
		       uint64_t duration_usec, struct job **ret);
/* Stop a queued or running capture (a running one exports what it took). -EALREADY if over. */
int dispatcher__stop_job(struct dispatcher *d, struct job *job);
struct job *dispatcher__job(struct dispatcher *d, unsigned id);
struct job *dispatcher__jobs(struct dispatcher *d);
/* Tracked processes, in no order. */
void dispatcher__foreach_process(struct dispatcher *d, void (*fn)(void *ctx, const struct process *p), void *ctx);
const struct dispatcher_metrics *dispatcher__metrics(const struct dispatcher *d);
unsigned dispatcher__running(const struct dispatcher *d);
unsigned dispatcher__queued(const struct dispatcher *d);
/* Stop every capture and export what was taken; no new ones start. */
void dispatcher__shutdown(struct dispatcher *d);
/* No capture in progress. */
bool dispatcher__idle(const struct dispatcher *d);
unsigned dispatcher__tracked(const struct dispatcher *d);
void dispatcher__free(struct dispatcher *d);

#endif
