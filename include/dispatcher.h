/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * From kernel events to captures: composes the process table (processes.h), the
 * job queue (jobs.h) and the threshold policy (thresholds.h), runs each job as a
 * capture, sweeps kept ledger records, and counts (metrics.h). At most one job
 * per process, at most --max-concurrent at once and --max-concurrent-per-container of
 * one container, the rest queued in order; at most --max-captures-per-container-per-hour
 * asked for per container (tenants.h).
 */
#ifndef INSPECTD_DISPATCHER_H
#define INSPECTD_DISPATCHER_H

#include <stdbool.h>
#include "capture.h"
#include "inspectd.h"
#include "jobs.h"
#include "select.h"
#include "metrics.h"
#include "processes.h"
#include "sections.h"

struct dispatcher;
struct tracker;

/* sections: the configuration file's (sections.h), the dispatcher's from now on, freed with it
 * (or at once when it cannot be made); NULL: none. NULL only when out of memory. */
struct dispatcher *dispatcher__new(const struct capture_env *env, struct sections *sections);
void dispatcher__set_tracker(struct dispatcher *d, struct tracker *t);
/* The tracker's callback: one kernel event. */
void dispatcher__handle_event(void *ctx, const struct inspectd_event *e);
/* Request a capture of what rq asks for (copied; a trace that names no categories records
 * --trace-categories as they are now, which its job shows). 0 and *ret_id (may be NULL), or
 * -EINVAL (a duration for a kind that has none, profile_kind_instantaneous(); categories for
 * a kind other than a trace, or not as settings_check_categories() wants them), -ESRCH (not a
 * tracked process), -EPERM (--exclude excludes it; or an automatic trigger, and --select does
 * not select it: dispatcher__verdict() says which rule), -EBUSY (one already queued or
 * running: *ret_id is its job's), -EDQUOT (its container asked for
 * --max-captures-per-container-per-hour within the last hour: refused, counted in the
 * metrics' refused), -ESHUTDOWN, -ENOMEM. A queued job expires after --queue-timeout, unless a
 * stop reached it while it waited. */
int dispatcher__submit(struct dispatcher *d, pid_t pid, const struct capture_request *rq,
		       const struct capture_trigger *t, unsigned *ret_id);
/*
 * The settings changed in place (a reload), and sections come with them (the dispatcher's
 * from now on, the old ones freed; NULL: none): --select/--exclude taken again, and each
 * process's settings (its section's, or the agent's) judged again when next used. Thresholds
 * read the settings as they are; a process whose --every changed is placed anew in the
 * schedule; captures running keep their settings.
 */
void dispatcher__reload(struct dispatcher *d, struct sections *sections);
/* What --select and --exclude say of pid now (select.h), and the rule that decided
 * (borrowed, may be NULL): -ESRCH when it is not tracked. */
int dispatcher__verdict(const struct dispatcher *d, pid_t pid, enum select_verdict *ret, const char **rule);
/* Stop a queued or running capture: a running one exports what it took; a queued one is kept,
 * and runs for the time from its trigger to now once its turn comes (jobs__stop_queued()); a
 * stop of one already stopped changes nothing. A heap snapshot (an instantaneous kind) has no
 * time to shorten: queued, it ends unrun (CAPTURE_STOPPED_QUEUED); started, its capture is
 * asked to stop. 0, -ENOENT (no such job), -EALREADY (over). */
int dispatcher__stop_job(struct dispatcher *d, unsigned id);
/* A job as the API shows it, the running capture's state and files included: 0, or -ENOENT. */
int dispatcher__job(const struct dispatcher *d, unsigned id, struct job_view *ret);
/* Every job still shown, newest first. */
void dispatcher__foreach_job(const struct dispatcher *d, void (*fn)(void *ctx, const struct job_view *v),
			     void *ctx);
/* Tracked processes, in no order; job: its queued or active job, NULL when none. */
void dispatcher__foreach_process(const struct dispatcher *d,
				 void (*fn)(void *ctx, const struct process_view *p, const struct job_view *job),
				 void *ctx);
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
