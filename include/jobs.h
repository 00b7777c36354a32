/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The job queue: captures from request to outcome, as data. Pure: no lws, no
 * capture inside, no clock (times come from the caller).
 *
 *   queued -> active -> done | failed        (or queued -> failed: expired, shut down)
 *
 * A job that had to take its turn loses nothing to a stop (jobs__stop()): the time from its
 * trigger to the stop becomes how long it runs from the start of its turn; queued, it is kept
 * for that turn, and no longer expires.
 *
 * Queued jobs start in arrival order, oldest first, each as soon as nothing holds
 * it back: the --max-concurrent cap, a per-container cap, its owner's hold, or an
 * active job in the same network namespace (one inspector port, 9229, per
 * namespace: nodejs/node#16872). A job held back does not hold back younger jobs
 * that can start. Finished jobs are kept, the newest JOBS_KEPT of them.
 */
#ifndef INSPECTD_JOBS_H
#define INSPECTD_JOBS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "capture.h"
#include "container.h"
#include "profile.h"

#define JOBS_KEPT       256             /* finished jobs the API still shows */
#define JOB_REASON_MAX  128
#define JOB_ERROR_MAX   256
#define JOB_FILES_MAX   3               /* profile, BASE.pb.gz with --pprof, then meta.json */
#define JOB_PATH_MAX    4096
#define JOB_TENANT_MAX  256             /* processes_tenant_key()'s */

struct jobs;

enum job_state {
	JOB_QUEUED,
	JOB_ACTIVE,     /* its owner runs it: a capture starting, running or stopping */
	JOB_DONE,
	JOB_FAILED,
	_JOB_STATE_MAX,
};

/* "queued", "active", "done", "failed"; "unknown" out of range. */
const char *job_state_name(enum job_state s);

/* Why a queued job does not start now. */
enum job_wait {
	JOB_WAIT_NONE,
	JOB_WAIT_MAX_CONCURRENT,        /* --max-concurrent jobs are active */
	JOB_WAIT_CONTAINER,             /* the per-container cap: as many active of its tenant */
	JOB_WAIT_HELD,                  /* its owner holds it (jobs_hold_fn) */
	JOB_WAIT_NETNS,                 /* an active job holds its network namespace's port */
	_JOB_WAIT_MAX,
};

/* "none", "max-concurrent", "container", "held", "netns"; "unknown" out of range. */
const char *job_wait_name(enum job_wait w);

struct job_wait_info {
	enum job_wait wait;
	unsigned active;                /* jobs active now */
	pid_t holder;                   /* JOB_WAIT_NETNS: the pid whose job holds the port */
};

struct jobs_limits {
	unsigned max_concurrent;        /* active at once; 0 is taken as 1 */
	unsigned max_per_container;     /* active at once of one tenant; 0: no cap */
};

/* The owner's own reason to keep a queued job of pid waiting: true to hold it. */
typedef bool (*jobs_hold_fn)(void *ctx, pid_t pid);

struct job_request {
	pid_t pid;
	enum profile_kind kind;
	struct capture_trigger trigger; /* its ktime_ns (CLOCK_MONOTONIC) is when it was asked for */
	uint64_t duration_usec;         /* 0: until stopped (or, for an instantaneous kind, none) */
	char categories[CAPTURE_CATEGORIES_MAX];        /* a trace's; "" for any other kind */
	uint64_t netns;                 /* its network namespace's inode; 0 (unknown) is a lane of its own */
	char tenant[JOB_TENANT_MAX];    /* whose captures it counts as (a container's); "": not capped */
	uint64_t expires_usec;          /* queued past this (caller's clock): expired; 0 never */
	struct timespec created_at;
};

/* How a job ended, handed over by value: nothing of a capture is kept. */
struct job_result {
	enum capture_outcome outcome;
	int error_code;                 /* 0, or -errno when one is known */
	char error[JOB_ERROR_MAX];      /* "": the outcome's name (for an outcome other than ok) */
	char files[JOB_FILES_MAX][JOB_PATH_MAX];        /* "" past the last */
	struct timespec started_at, ended_at;           /* tv_sec 0: never started, or not known */
};

/* A job as the API sees it: a copy. */
struct job_view {
	unsigned id;
	pid_t pid;
	enum profile_kind kind;
	enum job_state state;
	/* active: the capture's state ("starting", "running", "stopping"; static storage),
	 * NULL while it has none; filled by the job's owner, who runs the capture. */
	const char *capture_state;
	struct capture_trigger trigger;
	uint64_t duration_usec;                 /* as asked for: 0, until stopped */
	char categories[CAPTURE_CATEGORIES_MAX];        /* a trace's, as asked for; "" for any other kind */
	/* How long it runs once started: duration_usec, or, for a job a stop reached while it was
	 * queued, the time from its trigger to that stop (within duration_usec); 0: until stopped. */
	uint64_t requested_usec;
	bool waited;                            /* jobs__start() found it had to wait: it took its turn */
	bool stopped_queued;                    /* a stop reached it queued (jobs__stop()) */
	bool stopped_waited;                    /* a stop reached it after it had waited (jobs__stop()) */
	char queued_reason[JOB_REASON_MAX];     /* while queued: why; "" otherwise */
	enum capture_outcome outcome;           /* done or failed */
	int error_code;
	char error[JOB_ERROR_MAX];              /* "" unless failed */
	char files[JOB_FILES_MAX][JOB_PATH_MAX];
	struct timespec created_at, started_at, ended_at;
};

/* NULL only when out of memory. */
struct jobs *jobs__new(const struct jobs_limits *limits, jobs_hold_fn hold, void *hold_ctx);
/* The owners' data of jobs still there are the owners' to free first (jobs__foreach()). */
void jobs__free(struct jobs *js);

/* A new queued job: 0 and *ret_id (never 0), or -ENOMEM. Start it with jobs__start(). */
int jobs__add(struct jobs *js, const struct job_request *req, unsigned *ret_id);
/*
 * A stop reached job id at stop_ns (CLOCK_MONOTONIC, as its trigger's ktime_ns). A job that had
 * to wait its turn is owed what was asked for: the time from its trigger to this stop (within its
 * own duration, if it had one; at least 1 us), run from the start of its turn. Queued, it is
 * kept, runs that long once its turn comes, and no longer expires: what it asked for is whole,
 * and its wait is bounded by the durations of the jobs ahead of it. Active after a wait (its
 * turn came before the stop did), its owner has it run that long from its start. 0 and
 * *ret_usec (that duration; may be NULL); -ENOENT; -EALREADY (over); -EAGAIN (active and it
 * never waited: its owner stops it now); -EEXIST (a stop reached it this way already: kept as
 * that one made it).
 */
int jobs__stop(struct jobs *js, unsigned id, uint64_t stop_ns, uint64_t *ret_usec);
/* Why the queued job id would wait now: JOB_WAIT_NONE when it can start. -ENOENT, -EALREADY (not queued). */
int jobs__wait(const struct jobs *js, unsigned id, struct job_wait_info *ret);
/* Start the queued job id: 0 (active now), -EAGAIN (it must wait: *why, if not NULL, says why),
 * -ENOENT, -EALREADY (not queued). */
int jobs__start(struct jobs *js, unsigned id, struct job_wait_info *why);
/* Start the oldest queued job that can: 0 and *ret_id (active now), or -EAGAIN when none can. */
int jobs__start_next(struct jobs *js, unsigned *ret_id);
/* Finish a queued or active job with r (copied). 0, -ENOENT, -EALREADY (over already).
 * Prunes the oldest finished jobs past JOBS_KEPT (never the one just finished). */
int jobs__finish(struct jobs *js, unsigned id, const struct job_result *r);
/* Fail every queued job queued past its expiry with CAPTURE_EXPIRED_QUEUED, its error
 * "expired while queued: " and its queued reason (when it had one): how many. A job whose
 * expires_usec is 0 never expires; ended_at (may be NULL) is when they ended, on the clock
 * of created_at. expired (may be NULL) is told of each, after it is finished. */
unsigned jobs__expire(struct jobs *js, uint64_t now_usec, const struct timespec *ended_at,
		      void (*expired)(void *ctx, unsigned id, pid_t pid), void *ctx);

/* Why it waited, as the API shows it (truncated to JOB_REASON_MAX). -ENOENT. */
int jobs__set_queued_reason(struct jobs *js, unsigned id, const char *why);
/* The owner's pointer for a job (a capture, say); borrowed, never freed here. -ENOENT. */
int jobs__set_data(struct jobs *js, unsigned id, void *data);
/* NULL when none, or no such job. */
void *jobs__data(const struct jobs *js, unsigned id);

/* 0 and *ret, or -ENOENT (never was, or pruned). */
int jobs__view(const struct jobs *js, unsigned id, struct job_view *ret);
/* Every job, newest first; fn may not add, start or finish jobs. */
void jobs__foreach(const struct jobs *js, void (*fn)(void *ctx, const struct job_view *v, void *data), void *ctx);
unsigned jobs__count(const struct jobs *js, enum job_state s);
/* 0 and *ret, or -ENOENT. */
int jobs__state(const struct jobs *js, unsigned id, enum job_state *ret);
/* The oldest job in state s (queued: the next in line; done or failed: the next pruned):
 * 0 and *ret_id, or -ENOENT when none. */
int jobs__oldest(const struct jobs *js, enum job_state s, unsigned *ret_id);

#endif
