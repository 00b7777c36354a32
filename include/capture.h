/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * One capture of one process, from trigger to exported files:
 *
 *   locate inspector -> (SIGUSR1, wait for its port) -> session -> start
 *   -> running -> stop, the profile streamed to the spool -> commit, and close
 *   the inspector if we opened it
 *
 * The target is never harmed: SIGUSR1 only to a process that catches it,
 * the profiler stopped and the inspector closed on every path out.
 */
#ifndef INSPECTD_CAPTURE_H
#define INSPECTD_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <libwebsockets.h>

#include "cgroup.h"
#include "container.h"
#include "inspectd.h"
#include "ledger.h"
#include "profile.h"
#include "settings.h"
#include "sighandler.h"
#include "spool.h"

struct capture;

struct capture_trigger {
	enum trigger_source source;
	int sig;                        /* signal: the signal */
	uint32_t sender_pid;
	uint32_t sender_ns_pid;
	char sender_comm[INSPECTD_COMM_LEN];
	uint64_t ktime_ns;              /* CLOCK_MONOTONIC of the event */
	bool has_threshold;             /* thresholds: configured and observed values */
	const char *unit;               /* "bytes", "percent" */
	double threshold;
	double observed;
	const char *detected_by;        /* thresholds: "rss_stat" (at the fault) or "tick" (static storage) */
};

/*
 * How a capture ended. Its name is the error a job shows when it has no text of its
 * own (a capture's failures carry theirs: capture__error()).
 */
enum capture_outcome {
	CAPTURE_OK,                     /* profiled and exported */
	CAPTURE_FAILED,                 /* see the error */
	CAPTURE_EXPORT_FAILED,          /* profiled, not written */
	CAPTURE_TARGET_EXITED,
	CAPTURE_STOPPED_QUEUED,         /* stopped before its turn */
	CAPTURE_SHUTDOWN_QUEUED,        /* the agent exits before its turn */
	CAPTURE_EXPIRED_QUEUED,         /* waited past its expiry */
	CAPTURE_CANNOT_START,
	_CAPTURE_OUTCOME_MAX,
};

/* "ok", "failed", "export failed", "target exited", ...; "unknown" out of range. */
const char *capture_outcome_name(enum capture_outcome o);

/* What every capture shares: the agent. */
struct capture_env {
	struct lws_context *ctx;
	const struct settings *settings;
	struct spool *spool;            /* the output folder */
	struct ledger *ledger;          /* inspectors we opened; NULL: not kept */
	struct sighandlers *sighandlers;        /* whose handler SIGUSR1 runs; NULL: never sent */
	struct cgroup_roots cgroup_roots;       /* a snapshot's headroom: the target's memory limit */
	char hostname[256];
	char boot_id[37];               /* this boot's, for meta.json; "": unknown */
};

/* Trace categories asked for: "cat,cat,...", each [A-Za-z0-9._-]+ (settings.h checks them). */
#define CAPTURE_CATEGORIES_MAX  512

/* What was asked for, as the trigger's owner (the API, a signal, a threshold) puts it. */
struct capture_request {
	enum profile_kind kind;
	/* Stop and export after this long running; 0: on request. Either way within
	 * --max-duration, and a capture a signal started within --max-signal-duration (its
	 * meta.json's stop_reason then "duration", "max-duration" or "max-signal-duration").
	 * A heap snapshot has none: it is over when the target sent it. */
	uint64_t duration_usec;
	char categories[CAPTURE_CATEGORIES_MAX];        /* trace: ""  is --trace-categories */
};

/* Called once, outside any lws callback, when the capture is over. */
typedef void (*capture_done_fn)(void *owner, struct capture *c);

/*
 * Start capturing pid (pidfd borrowed: the owner keeps it open until capture__free()).
 * container: the target's, as the dispatcher knows it (copied; NULL for none).
 * rq: what to capture (copied).
 * done is called once, outside any lws callback, when the capture is over.
 * 0 and *ret; -EINVAL (no such kind), -ENOMEM, -errno reading /proc/PID (-ENOENT: gone).
 */
int capture__new(const struct capture_env *env, pid_t pid, int pidfd, const struct container_info *container,
		 const struct capture_request *rq, const struct capture_trigger *t, capture_done_fn done, void *owner, struct capture **ret);
/* Stop and export (at once, or as soon as the profiler runs). */
void capture__request_stop(struct capture *c, const char *reason);
/*
 * Run for usec from the profiler's start instead (within --max-duration, and
 * --max-signal-duration for a signal's capture), then stop and export, its stop_reason
 * "duration" (or the limit's): what is left of it if the profiler runs already, at once if
 * nothing is. For a capture that waited its turn and was then stopped: it runs as long as was
 * asked for. 0, or -EALREADY (a stop was asked for already, or it is past running).
 */
int capture__set_duration(struct capture *c, uint64_t usec);
/* The target is gone: abandon without touching it. True when that lost work under way (the
 * capture's error then says so: "target exited while running"), false when it was over or
 * failing already. Not logged: the caller says it once, with the exit. */
bool capture__target_exited(struct capture *c);
enum profile_kind capture__kind(const struct capture *c);
pid_t capture__pid(const struct capture *c);
/* NULL on success, else why it failed. */
const char *capture__error(const struct capture *c);
/* CAPTURE_OK, CAPTURE_FAILED or CAPTURE_EXPORT_FAILED, as far as it has gone. */
enum capture_outcome capture__outcome(const struct capture *c);
/* Milliseconds from the kernel event to the profiler's start acknowledged; <0 if never started. */
double capture__latency_ms(const struct capture *c);
/* "starting", "running", "stopping" or "done", as the API shows it. */
const char *capture__state_name(const struct capture *c);
/* Files a capture writes: its profile's, then meta.json. */
#define CAPTURE_FILES_MAX       (SPOOL_COMMIT_FILES_MAX + 1)
/* Files written so far (profile, then meta.json): NULL past the last. */
const char *capture__file(const struct capture *c, unsigned i);
/* Whose handler SIGUSR1 would have run, when that was why it was not sent (the capture
 * then failed); SIGUSR1_HANDLER_UNCHECKED otherwise. */
enum sigusr1_handler capture__sigusr1_refused(const struct capture *c);
/* CLOCK_REALTIME when the profiler started, ended; tv_sec 0 when not (yet). */
struct timespec capture__started_at(const struct capture *c);
struct timespec capture__ended_at(const struct capture *c);
void capture__free(struct capture *c);

#endif
