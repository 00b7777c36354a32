// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Kernel events in, captures out:
 *
 *   EXEC/FORK/EXIT      -> the process table (processes.c)
 *   SIGNAL              -> start or stop a capture of that process
 *   RSS_HIGH/RSS_LOW    -> threshold decisions (thresholds.c)
 *   CGROUP              -> re-read the memory limit
 *   OOM_KILL, EXIT      -> an OOM-kill record (oom-kill-<pid>-<stamp>.json) through the
 *     (marked OOM)         spool: the process's command line, limit, RSS timeline and
 *                          captures, within hourly caps (oom_kills.h)
 *   tick (1 s)          -> CPU time and RSS from the task iterator: CPU triggers,
 *                          growth windows, re-arming, RSS crossings while rss_stat
 *                          is detached; attaches rss_stat near a mark; the sweep
 *   API                 -> dispatcher__submit(), dispatcher__stop_job()
 *
 * Fairness: every capture counts against its tenant (processes_tenant_key(): its
 * container, or its service's cgroup): at most --max-concurrent-per-container running at
 * once (the rest queued, jobs.c), at most --max-captures-per-container-per-hour
 * requested (tenants.c; the rest refused), whatever the trigger; a queued job expires
 * after --queue-timeout.
 *
 * Each process has its own settings for what the dispatcher decides of it (its thresholds,
 * what a threshold captures and for how long, its schedule, what its capture keeps): those of
 * the configuration file's first section whose rule matches it, else the agent's
 * (settings_of(): process_settings() in selected.h, sections.h), judged once and kept in it.
 *
 * A job (jobs.c) is run as a capture: the job's data is a struct run, the
 * capture's owner. When the capture is over, its outcome, error and files are
 * copied into a job_result by value and the capture freed, then the job finished.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <libwebsockets.h>

#include "cgroup.h"
#include "cleanup.h"
#include "dispatcher.h"
#include "log.h"
#include "names_cache.h"
#include "netns.h"
#include "oom_kills.h"
#include "options.h"
#include "procfs.h"
#include "selected.h"
#include "tenants.h"
#include "thresholds.h"
#include "tracker.h"

#define TICK_USEC       (1 * LWS_US_PER_SEC)
#define SWEEP_TICKS     5       /* kept ledger records looked at every this many ticks */
#define RECONCILE_TICKS 5       /* the kernel's table compared with ours every this many ticks */
/* The task walk, every this many ticks while no threshold is configured (below, tick()) */
#define WALK_IDLE_TICKS 10
/* --select and --exclude rules that match no process running, said this many ticks after the
 * start or a reload (the container names looked up by then) */
#define UNMATCHED_TICKS 5

/* A job being run. Owned by the dispatcher, named by the job's data; owns its capture. */
struct run {
	struct dispatcher *d;
	unsigned job;
	struct capture *capture;
};

struct dispatcher {
	const struct capture_env *env;
	struct tracker *tracker;
	struct cgroup_roots cgroup_roots;
	struct processes *processes;
	struct jobs *jobs;
	struct thresholds *thresholds;
	struct tenants *tenants;        /* captures per container per hour */
	struct names_cache *names;      /* container names, by container id */
	struct oom_kills *oom_kills;    /* OOM-kill records; NULL without a spool */
	struct selection *selection;    /* --select, --exclude */
	struct sections *sections;      /* the configuration file's: each process's settings (sections.h) */
	bool rss_triggers;              /* an RSS trigger in the settings or a section's: rss_stat may be wanted */
	bool cpu_triggers;              /* a CPU threshold in the settings or a section's */
	unsigned walk_ticks;
	unsigned unmatched_ticks;       /* to the look at the rules that match nothing; 0: none due */
	bool walked;                    /* this tick walked the host's tasks: CPU times and RSS are fresh */
	uint64_t schedule_seed;         /* this agent's: its hosts' rounds fall elsewhere than another's */
	struct dispatcher_metrics metrics;
	lws_sorted_usec_list_t tick;
	bool rss_watch_warned;          /* attaching or detaching failed: said once */
	bool shutting_down;
	struct cleanup *sweep;          /* closing inspectors that opened late, if any */
	unsigned ticks;
	unsigned reconcile_ticks;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The settings that apply to p: its section's of the configuration file, or the agent's. */
static const struct settings *settings_of(const struct dispatcher *d, struct process *p)
{
	return process_settings(d->sections, d->env->settings, p);
}

/* ---- jobs and their captures ---- */

static void start_queued(struct dispatcher *d);

/* What a capture leaves, copied out of it: nothing of the capture's is read after. */
static void result_of(struct capture *c, struct job_result *r)
{
	const char *error = capture__error(c);

	r->outcome = capture__outcome(c);
	if (error)
		snprintf(r->error, sizeof(r->error), "%s", error);
	for (unsigned i = 0; i < JOB_FILES_MAX; i++) {
		const char *path = capture__file(c, i);

		if (path)
			snprintf(r->files[i], sizeof(r->files[i]), "%s", path);
	}
	r->started_at = capture__started_at(c);
	r->ended_at = capture__ended_at(c);
}

/* Its files, for the OOM-kill record it may leave (failing that, the record lacks them);
 * p's current job only (process__note_capture()). */
static void note_capture(struct process *p, unsigned id, enum profile_kind kind, const struct job_result *r)
{
	const char *files[JOB_FILES_MAX];
	unsigned n = 0;

	while (n < JOB_FILES_MAX && r->files[n][0]) {
		files[n] = r->files[n];
		n++;
	}
	if (n)
		process__note_capture(p, id, (int)kind, r->ended_at, files, n);
}

/* Finish job id with r: its capture, if any, is freed first (r holds copies only). */
static void end_job(struct dispatcher *d, unsigned id, struct job_result *r)
{
	struct run *run = jobs__data(d->jobs, id);
	struct job_view v;
	struct process *p;

	if (jobs__view(d->jobs, id, &v) < 0)
		return;
	if (run) {
		capture__free(run->capture);
		free(run);
	}
	if (!r->ended_at.tv_sec)
		clock_gettime(CLOCK_REALTIME, &r->ended_at);
	if (jobs__finish(d->jobs, id, r) < 0)
		return;
	metrics_count_capture(&d->metrics, v.kind, v.trigger.source, r->outcome);
	p = processes__find(d->processes, v.pid);
	/* The job of the program p runs now, not of one before an exec (whose job went with it). */
	if (!p || process__job(p) != id)
		return;
	if (r->outcome == CAPTURE_OK)
		note_capture(p, id, v.kind, r);
	process__set_job(p, 0);
}

static void end_job_with(struct dispatcher *d, unsigned id, enum capture_outcome outcome, int error_code)
{
	struct job_result r = { .outcome = outcome, .error_code = error_code };

	end_job(d, id, &r);
}

static void capture_done(void *owner, struct capture *c)
{
	struct run *run = owner;
	struct dispatcher *d = run->d;
	struct job_result r = { 0 };
	enum sigusr1_handler refused = capture__sigusr1_refused(c);

	metrics_observe_latency(&d->metrics, capture__latency_ms(c));
	if (refused != SIGUSR1_HANDLER_UNCHECKED && (unsigned)refused < _SIGUSR1_HANDLER_MAX)
		d->metrics.sigusr1_refused[refused]++;
	result_of(c, &r);
	end_job(d, run->job, &r);       /* frees c and run */
	start_queued(d);
}

/* The target of job id is gone (exit, or exec of another program). True when that abandoned
 * its capture under way: what then names it ("cpu capture (trigger schedule)") for the
 * caller's one line. */
static bool end_job_target_gone(struct dispatcher *d, unsigned id, char *what, size_t size)
{
	struct run *run = jobs__data(d->jobs, id);
	struct job_result r = { 0 };
	struct job_view v;
	bool lost = false;

	if (run) {
		lost = capture__target_exited(run->capture);
		result_of(run->capture, &r);
	}
	if (lost && jobs__view(d->jobs, id, &v) == 0)
		snprintf(what, size, "%s capture (trigger %s)", profile_kind_name(v.kind),
			 trigger_source_name(v.trigger.source));
	else if (lost)
		snprintf(what, size, "capture");
	if (r.outcome != CAPTURE_EXPORT_FAILED)
		r.outcome = CAPTURE_TARGET_EXITED;
	end_job(d, id, &r);
	return lost;
}

/* Job id was started in the queue: its capture now. */
static void run_job(struct dispatcher *d, unsigned id)
{
	struct capture_env env = *d->env;
	struct capture_request rq;
	struct job_view v;
	struct process *p;
	struct run *run;
	int r;

	if (jobs__view(d->jobs, id, &v) < 0)
		return;
	p = processes__find(d->processes, v.pid);
	if (!p) {
		/* Not expected: a process's removal ends its job. */
		end_job_with(d, id, CAPTURE_TARGET_EXITED, -ESRCH);
		return;
	}
	run = calloc(1, sizeof(*run));
	if (!run) {
		log_error("pid %d: cannot start a %s capture: %s", (int)v.pid, profile_kind_name(v.kind),
			  strerror(ENOMEM));
		end_job_with(d, id, CAPTURE_CANNOT_START, -ENOMEM);
		return;
	}
	run->d = d;
	run->job = id;
	rq = (struct capture_request){
		.kind = v.kind, .duration_usec = profile_kind_instantaneous(v.kind) ? 0 : v.requested_usec,
	};
	snprintf(rq.categories, sizeof(rq.categories), "%s", v.categories);
	/* Its capture keeps p's settings, its section's (--capture-seconds caps a costly kind). */
	env.settings = settings_of(d, p);
	r = capture__new(&env, v.pid, process__pidfd(p), process__container(p), &rq, &v.trigger, capture_done,
			 run, &run->capture);
	if (r < 0) {
		log_error("pid %d: cannot start a %s capture: %s", (int)v.pid, profile_kind_name(v.kind), strerror(-r));
		free(run);
		end_job_with(d, id, CAPTURE_CANNOT_START, r);
		return;
	}
	jobs__set_data(d->jobs, id, run);
}

static void start_queued(struct dispatcher *d)
{
	unsigned id;

	if (d->shutting_down)
		return;
	while (jobs__start_next(d->jobs, &id) == 0)
		run_job(d, id);
}

/* The sweep is closing an inspector of pid's: a capture of it waits. */
static bool held_by_sweep(void *ctx, pid_t pid)
{
	struct dispatcher *d = ctx;

	return d->sweep && cleanup__has(d->sweep, pid);
}

static void describe_wait(const struct job_wait_info *w, unsigned max_per_container, char *why, size_t size)
{
	switch (w->wait) {
	case JOB_WAIT_MAX_CONCURRENT:
		snprintf(why, size, "%u captures running, the --max-concurrent limit", w->active);
		break;
	case JOB_WAIT_CONTAINER:
		snprintf(why, size, "%u captures of its container running, the --max-concurrent-per-container limit",
			 max_per_container);
		break;
	case JOB_WAIT_HELD:
		snprintf(why, size, "closing an inspector that opened after an earlier capture had ended");
		break;
	case JOB_WAIT_NETNS:
		/* Only one inspector can listen on 127.0.0.1:9229 per namespace (nodejs/node#16872). */
		snprintf(why, size, "pid %d is being captured in the same network namespace (one inspector port)",
			 (int)w->holder);
		break;
	default:
		snprintf(why, size, "%s", job_wait_name(w->wait));
		break;
	}
}

/* What rq may ask for: a duration only of a kind that has one, categories only of a trace. */
static bool request_valid(const struct capture_request *rq)
{
	char why[128];

	if ((unsigned)rq->kind >= _PROFILE_KIND_MAX)
		return false;
	if (profile_kind_instantaneous(rq->kind) && rq->duration_usec)
		return false;
	if (!rq->categories[0])
		return true;
	return rq->kind == PROFILE_TRACE && strnlen(rq->categories, sizeof(rq->categories)) < sizeof(rq->categories) &&
	       settings_check_categories(rq->categories, why, sizeof(why)) == 0;
}

int dispatcher__submit(struct dispatcher *d, pid_t pid, const struct capture_request *rq,
		       const struct capture_trigger *t, unsigned *ret_id)
{
	struct job_request req = {
		.pid = pid, .kind = rq->kind, .trigger = *t, .duration_usec = rq->duration_usec,
	};
	enum profile_kind kind = rq->kind;
	uint64_t now = now_usec();
	char why[JOB_REASON_MAX];
	struct job_wait_info w;
	struct process *p;
	unsigned id;
	int r;

	if (!request_valid(rq))
		return -EINVAL;
	if (d->shutting_down)
		return -ESHUTDOWN;
	p = processes__find(d->processes, pid);
	if (!p)
		return -ESRCH;
	switch (process_verdict(d->selection, p, NULL)) {
	case SELECT_EXCLUDED:
		if ((unsigned)t->source < _TRIGGER_SOURCE_MAX)
			d->metrics.excluded[t->source]++;
		return -EPERM;
	case SELECT_NOT_SELECTED:
		if (!trigger_source_automatic(t->source))
			break;
		if ((unsigned)t->source < _TRIGGER_SOURCE_MAX)
			d->metrics.not_selected[t->source]++;
		return -EPERM;
	default:
		break;
	}
	if (process__job(p)) {
		if (ret_id)
			*ret_id = process__job(p);
		return -EBUSY;
	}
	/* Counted when asked for, queued or not: a container cannot queue more than its hour's
	 * worth. The schedule's rounds are the agent's own pace, not a container's asking. */
	r = t->source == TRIGGER_SOURCE_SCHEDULE ? 0 : tenants__take(d->tenants, process__tenant(p), now);
	if (r == -EDQUOT && (unsigned)t->source < _TRIGGER_SOURCE_MAX)
		d->metrics.refused[t->source]++;
	if (r < 0)
		return r;
	clock_gettime(CLOCK_REALTIME, &req.created_at);
	/* A trace that names none records the settings' as they are now: the job shows them. */
	if (kind == PROFILE_TRACE)
		snprintf(req.categories, sizeof(req.categories), "%s",
			 rq->categories[0] ? rq->categories : d->env->settings->trace_categories);
	if (netns_inode(pid, &req.netns) < 0)
		req.netns = 0;
	snprintf(req.tenant, sizeof(req.tenant), "%s", process__tenant(p));
	req.expires_usec = now + d->env->settings->queue_timeout_usec;
	r = jobs__add(d->jobs, &req, &id);
	if (r < 0)
		return r;
	process__set_job(p, id);
	if (jobs__start(d->jobs, id, &w) == 0) {
		run_job(d, id);
	} else {
		describe_wait(&w, d->env->settings->max_per_container, why, sizeof(why));
		jobs__set_queued_reason(d->jobs, id, why);
		log_info("pid %d: %s capture queued: %s", (int)pid, profile_kind_name(kind), why);
	}
	if (ret_id)
		*ret_id = id;
	return 0;
}

/*
 * Stop job id, asked for at stop_ns (CLOCK_MONOTONIC: a signal's kernel event, else now). A job
 * that had to take its turn runs for the time from its trigger to this stop, from the start of
 * its turn (jobs__stop()): kept if it is still queued, told to its capture if its turn has come.
 * Whether a capture had to wait for its namespace's port or a slot is an accident of what else
 * runs, and a stop means the same either way; one that started at once stops now.
 */
static int stop_job_at(struct dispatcher *d, unsigned id, uint64_t stop_ns)
{
	struct run *run = jobs__data(d->jobs, id);
	struct job_view v;
	uint64_t us = 0;
	int r;

	/* A heap snapshot has no time to shorten: before its turn it is called off; once
	 * started, ending it is its capture's (the target may be paused mid-snapshot). */
	if (jobs__view(d->jobs, id, &v) == 0 && profile_kind_instantaneous(v.kind)) {
		if (v.state != JOB_QUEUED && v.state != JOB_ACTIVE)
			return -EALREADY;
		if (v.state == JOB_QUEUED) {
			log_info("pid %d: %s capture stopped while queued: it will not be taken", (int)v.pid,
				 profile_kind_name(v.kind));
			end_job_with(d, id, CAPTURE_STOPPED_QUEUED, 0);
		} else if (run) {
			capture__request_stop(run->capture, "request");
		}
		return 0;
	}
	r = jobs__stop(d->jobs, id, stop_ns, &us);
	if (r == -ENOENT || r == -EALREADY)
		return r;
	if (jobs__view(d->jobs, id, &v) < 0)
		return -ENOENT;
	if (r == -EAGAIN) {
		if (run)
			capture__request_stop(run->capture, "request");
		return 0;
	}
	if (r == -EEXIST) {
		log_info("pid %d: %s capture was stopped already after it waited its turn; it runs %.3f s from "
			 "the start of its turn, ignoring", (int)v.pid, profile_kind_name(v.kind), v.requested_usec / 1e6);
		return 0;
	}
	if (v.state == JOB_QUEUED) {
		log_info("pid %d: %s capture stopped while queued: kept, to run %.3f s (from its trigger to "
			 "this stop) when its turn comes", (int)v.pid, profile_kind_name(v.kind), us / 1e6);
		return 0;
	}
	if (!run)
		return 0;
	if (capture__set_duration(run->capture, us) < 0) {
		capture__request_stop(run->capture, "request");        /* stopping already */
		return 0;
	}
	log_info("pid %d: %s capture stopped after it waited its turn: runs %.3f s (from its trigger to "
		 "this stop) from the start of its turn", (int)v.pid, profile_kind_name(v.kind), us / 1e6);
	return 0;
}

int dispatcher__stop_job(struct dispatcher *d, unsigned id)
{
	return stop_job_at(d, id, now_usec() * 1000);
}

/* What the queue does not know of a running job: its capture's state, files and start. */
static void add_run(const struct run *run, struct job_view *v)
{
	if (!run)
		return;
	v->capture_state = capture__state_name(run->capture);
	for (unsigned i = 0; i < JOB_FILES_MAX; i++) {
		const char *path = capture__file(run->capture, i);

		snprintf(v->files[i], sizeof(v->files[i]), "%s", path ? path : "");
	}
	v->started_at = capture__started_at(run->capture);
	/* Its profile may be over while its inspector is being closed: "done", with its end. */
	v->ended_at = capture__ended_at(run->capture);
}

int dispatcher__job(const struct dispatcher *d, unsigned id, struct job_view *ret)
{
	int r = jobs__view(d->jobs, id, ret);

	if (r < 0)
		return r;
	add_run(jobs__data(d->jobs, id), ret);
	return 0;
}

struct job_walk {
	void (*fn)(void *ctx, const struct job_view *v);
	void *ctx;
};

static void walk_job(void *ctx, const struct job_view *v, void *data)
{
	struct job_walk *w = ctx;
	struct job_view copy = *v;

	add_run(data, &copy);
	w->fn(w->ctx, &copy);
}

void dispatcher__foreach_job(const struct dispatcher *d, void (*fn)(void *ctx, const struct job_view *v),
			     void *ctx)
{
	struct job_walk w = { fn, ctx };

	jobs__foreach(d->jobs, walk_job, &w);
}

/* ---- processes ---- */

static void read_cgroup(struct dispatcher *d, struct process *p)
{
	int r = process__read_cgroup(p, &d->cgroup_roots);

	processes__refresh_names(d->processes, p);

	if (r == -ENOENT) {
		if (settings_of(d, p)->triggers.limit_percent)
			log_debug("pid %d: no memory limit in its cgroup: --limit-percent not armed",
				  (int)process__pid(p));
	} else if (r < 0) {
		log_warn("pid %d: cannot read its cgroup's memory limit: %s; --limit-percent not armed",
			 (int)process__pid(p), strerror(-r));
	}
}

static void read_rss(struct dispatcher *d, struct process *p)
{
	uint64_t rss = process__rss(p);

	/* Known already for a process found at start-up; else the next tick tells. */
	if (d->tracker) {
		tracker__rss(d->tracker, (uint32_t)process__pid(p), &rss);
		process__set_rss(p, rss);
	}
}

/*
 * Its command line now, while it can be read: an OOM-kill record is written when the
 * victim's memory may already be gone (its /proc/PID/cmdline then reads empty).
 */
static void read_cmdline(struct process *p)
{
	char buf[PROCESS_CMDLINE_MAX];
	ssize_t n = procfs_read(process__pid(p), "cmdline", buf, sizeof(buf));

	if (n > 0)
		process__set_cmdline(p, buf, (size_t)n);
}

/*
 * pid, tracked from now on (or already): NULL when it is gone. cgroup_of: a process
 * known to share its cgroup (its parent at fork), whose limit is copied rather than
 * read again; NULL to read it.
 */
static struct process *track(struct dispatcher *d, pid_t pid, const char *comm, const struct process *cgroup_of)
{
	struct process *p = processes__find(d->processes, pid);
	bool known = p != NULL;

	if (processes__add(d->processes, pid, comm, cgroup_of, now_usec(), &p) < 0)
		return NULL;
	if (known)
		return p;
	if (!cgroup_of)
		read_cgroup(d, p);
	read_rss(d, p);
	read_cmdline(p);
	return p;
}

/* The program is gone (exit): so are its job and any inspector a kept record stands for. */
/* pid is gone: its record, and its job. True when that abandoned a capture under way,
 * which what names (end_job_target_gone()). */
static bool process_gone(struct dispatcher *d, pid_t pid, char *what, size_t size)
{
	unsigned job = 0;
	bool lost = false;
	int pidfd;

	if (processes__remove(d->processes, pid, &job, &pidfd) < 0)
		return false;
	sighandlers__forget(d->env->sighandlers, pid);
	if (job)
		lost = end_job_target_gone(d, job, what, size);
	close(pidfd);           /* its capture, which borrowed it, is over */
	if (d->env->ledger)
		ledger__forget(d->env->ledger, pid);
	if (job)
		start_queued(d);
	return lost;
}

/*
 * rss_stat runs on every page fault of every process on the host: attached only while
 * the threshold policy says it is worth it (thresholds.h).
 */
static void rss_watch_update(struct dispatcher *d, bool near, uint64_t now)
{
	bool want;
	int r;

	if (!d->tracker)
		return;
	want = thresholds__rss_watch(d->thresholds, d->rss_triggers, near, now);
	if (want == tracker__rss_watched(d->tracker))
		return;
	r = tracker__watch_rss(d->tracker, want);
	if (r < 0) {
		if (!d->rss_watch_warned)
			log_warn("%s rss_stat: %s; RSS is judged once a second meanwhile (said once)",
				 want ? "attaching" : "detaching", strerror(-r));
		d->rss_watch_warned = true;
		return;
	}
	log_debug("rss_stat %s", want ? "attached: a tracked process is near a mark" : "detached");
	d->metrics.rss_watch = want;
	if (want)
		d->metrics.rss_watch_attaches++;
}

/* Tell the kernel side where this process's RSS triggers are now. */
static void update_marks(struct dispatcher *d, struct process *p)
{
	uint64_t high, low, old_high, old_low;
	bool near;

	if (!d->tracker)
		return;
	near = thresholds_marks(&settings_of(d, p)->triggers, process__triggers(p), process__rss(p), &high, &low);
	process__marks(p, &old_high, &old_low);
	if (high == old_high && low == old_low)
		return;
	if (tracker__set_rss_marks(d->tracker, (uint32_t)process__pid(p), high, low) < 0)
		return;         /* gone from the kernel side: its exit event follows */
	process__set_marks(p, high, low);
	/* Attach at once for a process that starts near its mark; only the tick detaches. */
	if (near)
		rss_watch_update(d, true, now_usec());
}

/* ---- triggers ---- */

static void handle_signal(struct dispatcher *d, const struct inspectd_event *e)
{
	const struct settings *st = d->env->settings;
	char signame[32], sender[INSPECTD_COMM_LEN];
	struct capture_trigger t = { .source = TRIGGER_SOURCE_SIGNAL };
	struct capture_request rq = { 0 };
	enum profile_kind kind;
	struct job_view job;
	struct process *p;
	int k, r;

	memcpy(sender, e->sender_comm, sizeof(sender));
	sender[sizeof(sender) - 1] = '\0';
	options_signal_name((int)e->sig, signame, sizeof(signame));
	/* The settings' table says which kind each signal takes (settings_signals()). */
	if (settings_signal_kind(st, (int)e->sig, &k) < 0)
		return;
	kind = (enum profile_kind)k;

	log_info("pid %u: trigger %s from pid %u (%s)", e->pid, signame, e->sender_pid, sender);
	if (d->shutting_down) {
		log_info("pid %u: agent is shutting down, ignoring the trigger", e->pid);
		return;
	}
	p = processes__find(d->processes, (pid_t)e->pid);
	if (!p)
		p = track(d, (pid_t)e->pid, e->comm, NULL);
	if (!p) {
		log_warn("pid %u: process gone before the trigger could be served, ignoring", e->pid);
		return;
	}

	if (process__job(p) && jobs__view(d->jobs, process__job(p), &job) == 0) {
		/* A snapshot is not toggled: it ends when the target has sent it. */
		if (job.kind == kind && profile_kind_instantaneous(kind)) {
			log_info("pid %u: a %s of pid %u is already being taken; %s ignored", e->pid,
				 profile_kind_name(kind), e->pid, signame);
			return;
		}
		if (job.kind == kind) {
			stop_job_at(d, job.id, e->ktime_ns ? e->ktime_ns : now_usec() * 1000);
			return;
		}
		log_warn("pid %u: a %s capture is in progress; %s trigger ignored", e->pid, profile_kind_name(job.kind),
			 profile_kind_name(kind));
		return;
	}

	t.sig = (int)e->sig;
	t.sender_pid = e->sender_pid;
	t.sender_ns_pid = e->sender_ns_pid;
	memcpy(t.sender_comm, sender, sizeof(t.sender_comm));
	t.ktime_ns = e->ktime_ns;
	/* Until the same signal again (within --max-signal-duration); a snapshot has no duration. */
	rq.kind = kind;
	r = dispatcher__submit(d, process__pid(p), &rq, &t, NULL);
	if (r == -EPERM) {
		const char *rule = NULL;

		process_verdict(d->selection, p, &rule);
		log_info("pid %u: excluded by --exclude '%s': %s trigger ignored", e->pid, rule ?: "?", signame);
	} else if (r == -EDQUOT)
		log_warn("pid %u: %s capture refused: its container had %u captures within the hour "
			 "(--max-captures-per-container-per-hour)", e->pid, profile_kind_name(kind),
			 st->max_per_container_hour);
	else if (r < 0)
		log_error("pid %u: cannot start a %s capture: %s", e->pid, profile_kind_name(kind), strerror(-r));
}

static void format_value(enum trigger_kind k, double v, char *buf, size_t size)
{
	if (k == TRIGGER_CPU_THRESHOLD)
		snprintf(buf, size, "%.1f%%", v);
	else
		snprintf(buf, size, "%.1f MiB", v / 1048576.0);
}

static struct threshold_subject subject_of(struct dispatcher *d, struct process *p)
{
	struct threshold_subject s = {
		.cfg = &settings_of(d, p)->triggers, .triggers = process__triggers(p), .rss = process__rss(p),
		.cpu_ns = process__cpu_ns(p), .cpu_fresh = d->walked,
	};
	enum job_state state;

	if (process__job(p) && jobs__state(d->jobs, process__job(p), &state) == 0)
		s.busy = state == JOB_QUEUED ? THRESHOLD_BUSY_QUEUED : THRESHOLD_BUSY_RUNNING;
	s.container_full = !tenants__fits(d->tenants, process__tenant(p), now_usec());
	return s;
}

/* A threshold of p crossed now: capture it, or say why not. */
static void act_on(struct dispatcher *d, struct process *p, const struct threshold_subject *s,
		   const struct threshold_decision *dec, uint64_t ktime_ns, uint64_t now)
{
	const struct settings *st = settings_of(d, p);
	struct capture_trigger t = {
		.source = dec->source, .ktime_ns = ktime_ns, .has_threshold = true, .unit = dec->unit,
		.threshold = dec->threshold, .observed = dec->observed, .detected_by = dec->detected_by,
	};
	struct capture_request rq = { .kind = (enum profile_kind)st->threshold_action };
	char thr[32], obs[32], why[96], length[48] = "";
	int pid = (int)process__pid(p), r;

	format_value(dec->kind, dec->threshold, thr, sizeof(thr));
	format_value(dec->kind, dec->observed, obs, sizeof(obs));
	if (dec->skip == THRESHOLD_CAPTURE && process_verdict(d->selection, p, NULL) != SELECT_SELECTED) {
		/* Not the agent's to capture on its own: counted, and said once a crossing at debug. */
		d->metrics.not_selected[dec->source]++;
		log_debug("pid %d: %s crossed (%s >= %s): not selected (--select, --exclude), no capture", pid,
			  trigger_kind_name(dec->kind), obs, thr);
		return;
	}
	if (dec->skip != THRESHOLD_CAPTURE) {
		d->metrics.skipped[dec->source]++;
		threshold_skip_describe(dec, st, why, sizeof(why));
		log_info("pid %d: %s crossed (%s >= %s): skipped, %s", pid, trigger_kind_name(dec->kind), obs, thr,
			 why);
		return;
	}
	/* --capture-seconds, unless the kind has no duration (a heap snapshot). */
	if (!profile_kind_instantaneous(rq.kind)) {
		rq.duration_usec = st->capture_usec;
		snprintf(length, sizeof(length), " for %llu s", (unsigned long long)(st->capture_usec / 1000000));
	}
	log_info("pid %d: %s crossed (%s >= %s): %s capture%s", pid, trigger_kind_name(dec->kind), obs, thr,
		 profile_kind_name(rq.kind), length);
	r = dispatcher__submit(d, pid, &rq, &t, NULL);
	if (r < 0) {
		log_error("pid %d: cannot start a capture: %s", pid, strerror(-r));
		return;
	}
	thresholds_captured(s, now);
}

static void handle_rss(struct dispatcher *d, const struct inspectd_event *e)
{
	struct process *p = processes__find(d->processes, (pid_t)e->pid);
	struct threshold_decision dec;
	struct threshold_subject s;
	uint64_t now = now_usec();

	if (!p)
		return;
	process__set_rss(p, e->value);
	s = subject_of(d, p);
	/* A crossing rss_stat reported is judged with its own timestamp, not this tick's. */
	if (thresholds__rss(d->thresholds, &s, THRESHOLD_BY_RSS_STAT, now, &dec) == 1)
		act_on(d, p, &s, &dec, e->ktime_ns, now);
	update_marks(d, p);
}

static void add_cpu(void *ctx, uint32_t tgid, uint64_t runtime_ns)
{
	struct dispatcher *d = ctx;

	processes__add_cpu(d->processes, (pid_t)tgid, runtime_ns);
}

/* A running capture owns its process's record. */
static bool sweep_skip(void *ctx, pid_t pid)
{
	struct dispatcher *d = ctx;
	struct process *p = processes__find(d->processes, pid);

	return p && process__job(p);
}

/*
 * Records kept after a capture (SIGUSR1 answered late, an inspector that would not
 * close) are looked at every few seconds: an inspector that has opened since is closed.
 */
static void sweep(struct dispatcher *d)
{
	if (d->sweep && cleanup__done(d->sweep)) {
		cleanup__free(d->sweep);
		d->sweep = NULL;
		start_queued(d);
	}
	if (!d->sweep && !d->shutting_down && ++d->ticks % SWEEP_TICKS == 0)
		d->sweep = cleanup__start(d->env, false, sweep_skip, d);
}

struct tick_walk {
	struct dispatcher *d;
	uint64_t now;
	bool cpu_read;
	bool rss_fresh;                 /* the kernel side's RSS is new this tick (the walk, rss_stat) */
	bool rss_read;                  /* every process's RSS read already (tracker__read_rss()) */
	bool near;
};

static double random01(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)now_usec() * 2654435761u;
	return (double)r / 4294967296.0;
}

/* --every: p's round, when it is due. A round a capture already holds is skipped, and said. */
static void schedule_tick(struct dispatcher *d, struct process *p, uint64_t now)
{
	const struct settings *st = settings_of(d, p);
	const struct schedule_config sc = { .every_usec = st->every_usec, .kinds = st->schedule_kinds };
	struct schedule_state *s = process__schedule(p);
	struct capture_trigger t = { .source = TRIGGER_SOURCE_SCHEDULE };
	struct capture_request rq = { 0 };
	int pid = (int)process__pid(p), kind, r;

	if (!sc.every_usec || d->shutting_down)
		return;
	/* Placed anew when its interval changed (a reload, another section). */
	if (!schedule_placed(&sc, s)) {
		schedule_place(&sc, s, schedule_key((uint64_t)pid, d->schedule_seed), now, random01());
		return;
	}
	if (now < s->due_usec)
		return;
	kind = schedule_kind(&sc, s->round);
	schedule_advance(&sc, s, now, random01());
	if (kind < 0)
		return;
	if (process_verdict(d->selection, p, NULL) != SELECT_SELECTED)
		return;         /* not the agent's to capture on its own; said in ps, not in the log */
	if (process__job(p)) {
		d->metrics.skipped[TRIGGER_SOURCE_SCHEDULE]++;
		log_info("pid %d: scheduled %s capture skipped: a capture of it is in progress", pid,
			 profile_kind_name((enum profile_kind)kind));
		return;
	}
	t.ktime_ns = now * 1000;
	rq.kind = (enum profile_kind)kind;
	/* --schedule-kinds takes no kind without a duration; should one come, it gets none. */
	rq.duration_usec = profile_kind_instantaneous(rq.kind) ? 0 : settings_round_usec(st);
	r = dispatcher__submit(d, pid, &rq, &t, NULL);
	if (r < 0)
		log_warn("pid %d: scheduled %s capture not started: %s", pid, profile_kind_name((enum profile_kind)kind),
			 strerror(-r));
}

static void tick_process(void *ctx, struct process *p)
{
	struct tick_walk *w = ctx;
	struct dispatcher *d = w->d;
	struct threshold_decision dec;
	struct threshold_subject s;
	uint64_t rss = process__rss(p), high, low;

	if (w->rss_fresh && !w->rss_read)
		tracker__rss(d->tracker, (uint32_t)process__pid(p), &rss);
	process__sample(p, rss, w->cpu_read, w->now);
	if (w->rss_fresh && process__rss(p))
		process__push_rss(p, w->now / 1000000, process__rss(p));    /* else a gap */
	s = subject_of(d, p);
	if (thresholds__tick(d->thresholds, &s, w->now, &dec) == 1)
		act_on(d, p, &s, &dec, w->now * 1000, w->now);
	schedule_tick(d, p, w->now);
	update_marks(d, p);
	process__marks(p, &high, &low);
	w->near |= trigger_rss_near(process__rss(p), high);
}

/* jobs__expire()'s: job id, queued too long, is over; what end_job() does besides. */
static void job_expired(void *ctx, unsigned id, pid_t pid)
{
	struct dispatcher *d = ctx;
	struct process *p = processes__find(d->processes, pid);
	struct job_view v;

	if (jobs__view(d->jobs, id, &v) < 0)
		return;
	log_warn("pid %d: %s capture %s", (int)pid, profile_kind_name(v.kind), v.error);
	metrics_count_capture(&d->metrics, v.kind, v.trigger.source, v.outcome);
	if ((unsigned)v.trigger.source < _TRIGGER_SOURCE_MAX)
		d->metrics.expired[v.trigger.source]++;
	if (p && process__job(p) == id)
		process__set_job(p, 0);
}

_Static_assert(METRICS_STREAMS == INSPECTD_STREAM_COUNT, "one lost-events counter per kernel stream");

struct pid_list {
	uint32_t *pids;
	size_t n, max;
	bool gone_only;                 /* only those whose pidfd says they exited */
};

static void collect_pid(void *ctx, struct process *p)
{
	struct pid_list *l = ctx;
	struct pollfd pfd = { .fd = process__pidfd(p), .events = POLLIN };

	if (l->n == l->max)
		return;
	/* A pidfd is readable once its process has exited. */
	if (l->gone_only && (pfd.fd < 0 || poll(&pfd, 1, 0) != 1))
		return;
	l->pids[l->n++] = (uint32_t)process__pid(p);
}

/*
 * What lost events hid: tracked processes that exited without their EXIT reaching us
 * (their pidfd says so), and the kernel's table against ours (tracker__reconcile()
 * delivers the lost EXEC and EXIT events through dispatcher__handle_event()).
 */
static void reconcile(struct dispatcher *d)
{
	struct pid_list l = { .max = processes__count(d->processes) };
	int r;

	l.pids = calloc(l.max ? l.max : 1, sizeof(*l.pids));
	if (!l.pids)
		return;
	l.gone_only = true;
	processes__foreach(d->processes, collect_pid, &l);
	for (size_t i = 0; i < l.n; i++) {
		struct inspectd_event e = { .type = INSPECTD_EVENT_EXIT, .pid = l.pids[i], .result = -1 };

		d->metrics.exits_found++;
		dispatcher__handle_event(d, &e);
	}
	l.n = 0;
	l.gone_only = false;
	l.max = processes__count(d->processes);
	processes__foreach(d->processes, collect_pid, &l);
	r = tracker__reconcile(d->tracker, l.pids, l.n);
	if (r > 0) {
		d->metrics.reconciled += (unsigned long)r;
		log_info("%d lost exec or exit events found again by comparing the kernel's table with ours", r);
	} else if (r < 0) {
		log_warn("comparing the kernel's table with ours: %s, ignoring", strerror(-r));
	}
	free(l.pids);
}

/* The kernel side's drop counters into the metrics: said once per tick that saw new ones. */
static bool update_drops(struct dispatcher *d)
{
	struct tracker_drops drops;
	unsigned long lost = 0;

	tracker__drops(d->tracker, &drops);
	for (int i = 0; i < METRICS_STREAMS; i++) {
		if (drops.lost[i] > d->metrics.events_lost[i]) {
			log_warn("%llu %s events lost (their ring buffer was full): counted, and reconciled",
				 (unsigned long long)(drops.lost[i] - d->metrics.events_lost[i]), metrics_stream_names[i]);
			lost += (unsigned long)(drops.lost[i] - d->metrics.events_lost[i]);
		}
		d->metrics.events_lost[i] = (unsigned long)drops.lost[i];
	}
	d->metrics.signals_limited = (unsigned long)drops.signals_limited;
	d->metrics.track_failures = (unsigned long)drops.track_failures;
	return lost > 0;
}

/* ---- rules that match nothing ---- */

static void note_process(void *ctx, struct process *p)
{
	struct dispatcher *d = ctx;

	process_note(d->selection, p);
}

static void warn_unmatched(void *ctx, bool exclude, const char *text)
{
	struct dispatcher *d = ctx;

	log_warn("%s '%s' matches none of the %u node processes running (it holds for those that start later)",
		 exclude ? "--exclude" : "--select", text, processes__count(d->processes));
}

/* A glob that matches nothing is a warning, not an error: the process it means may start later. */
static void check_unmatched(struct dispatcher *d)
{
	if (!d->unmatched_ticks || --d->unmatched_ticks)
		return;
	processes__foreach(d->processes, note_process, d);
	selection_foreach_unmatched(d->selection, warn_unmatched, d);
}

static void set_rss(void *ctx, uint32_t pid, uint64_t rss)
{
	struct dispatcher *d = ctx;
	struct process *p = processes__find(d->processes, (pid_t)pid);

	if (p)
		process__set_rss(p, rss);
}

static void tick(lws_sorted_usec_list_t *sul)
{
	struct dispatcher *d = lws_container_of(sul, struct dispatcher, tick);
	struct tick_walk w = { .d = d, .now = now_usec() };
	struct timespec ended_at;
	uint64_t untracked;
	int r;

	lws_sul_schedule(d->env->ctx, 0, &d->tick, tick, TICK_USEC);
	/* Within a tick of --queue-timeout: a job's expiry is never later than that. */
	clock_gettime(CLOCK_REALTIME, &ended_at);
	jobs__expire(d->jobs, w.now, &ended_at, job_expired, d);
	tenants__expire(d->tenants, w.now);
	if (d->oom_kills)
		oom_kills__expire(d->oom_kills, w.now);
	sweep(d);
	check_unmatched(d);
	if (!processes__count(d->processes) || !d->tracker) {
		rss_watch_update(d, false, w.now);
		return;
	}
	tracker__consume(d->tracker);
	/* Every few seconds, and at once after events were lost: nothing stays hidden long. */
	if (update_drops(d) || ++d->reconcile_ticks % RECONCILE_TICKS == 0)
		reconcile(d);
	untracked = tracker__new_track_failures(d->tracker);
	if (untracked)
		log_warn("%llu new node processes could not be tracked: the kernel side's map is full "
			 "(%u tracked)", (unsigned long long)untracked, processes__count(d->processes));
	/*
	 * The task iterator walks every thread of the host, and is what refreshes the tracked
	 * processes' CPU times and, rss_stat aside, their RSS: with 200 idle node processes it
	 * was more than half of the idle agent's time (README, *Cost*). Each tick while a
	 * threshold judges them; else every WALK_IDLE_TICKS, for /v1/processes and the RSS
	 * timelines (a point a walk).
	 */
	d->walked = false;
	if (d->cpu_triggers || d->rss_triggers || d->walk_ticks++ % WALK_IDLE_TICKS == 0) {
		r = tracker__read_cpu(d->tracker, add_cpu, d);
		if (r < 0)
			log_warn("reading CPU times: %s, ignoring", strerror(-r));
		d->walked = r >= 0;
	}
	w.cpu_read = d->walked;
	w.rss_fresh = d->walked || tracker__rss_watched(d->tracker);
	/* The kernel's table in one pass: a lookup a process cost 200 system calls a second. */
	w.rss_read = w.rss_fresh && tracker__read_rss(d->tracker, set_rss, d) >= 0;
	processes__foreach(d->processes, tick_process, &w);
	rss_watch_update(d, w.near, w.now);
}

/* ---- OOM kills ---- */

/* A record's end on disk (oom_kills.h): counted, and said only when it failed. */
static void oom_written(void *ctx, int result, const char *const *paths, size_t n_paths)
{
	struct dispatcher *d = ctx;

	if (result < 0) {
		d->metrics.oom_record_failures++;
		log_error("cannot write the OOM-kill record %s: %s", n_paths ? paths[0] : "", strerror(-result));
		return;
	}
	d->metrics.oom_records++;
}

/*
 * A tracked process was OOM-killed: counted, and recorded once (its OOM_KILL and its
 * EXIT both say so), within the hourly caps (oom_kills.h). One line a kill recorded; of
 * the kills over a cap, one line per container within the hour.
 */
static void record_oom(struct dispatcher *d, struct process *p, const struct inspectd_event *e,
		       enum oom_detected_by by)
{
	struct oom_kill_result res;
	int pid = (int)process__pid(p), r;
	const char *comm = process__comm(p), *seen = oom_detected_by_name(by);

	if (process__oom_recorded(p))
		return;
	process__set_oom_recorded(p);
	d->metrics.oom_kills++;
	if (!d->oom_kills) {
		log_warn("pid %d: %s was killed by the kernel's OOM killer (seen at %s)", pid, comm, seen);
		return;
	}
	r = oom_kills__record(d->oom_kills, d->processes, p, e, by, now_usec(), &res);
	switch (res.outcome) {
	case OOM_KILL_WRITTEN:
		log_warn("pid %d: %s was killed by the kernel's OOM killer (seen at %s): record %s", pid, comm, seen,
			 res.name);
		break;
	case OOM_KILL_LIMITED:
		d->metrics.oom_records_limited++;
		if (res.first_limited)
			log_warn("pid %d: %s was killed by the kernel's OOM killer (seen at %s): no record, its container "
				 "had %u within the hour or the host %u; further OOM kills of this container this hour "
				 "are counted in /metrics only", pid, comm, seen, OOM_KILLS_PER_CONTAINER_HOUR,
				 OOM_KILLS_PER_HOUR);
		else
			log_debug("pid %d: %s was killed by the kernel's OOM killer (seen at %s): no record (hourly caps)",
				  pid, comm, seen);
		break;
	default:
		d->metrics.oom_record_failures++;
		log_error("pid %d: %s was killed by the kernel's OOM killer (seen at %s): cannot write its record: %s",
			  pid, comm, seen, strerror(-r));
		break;
	}
}

/* ---- events ---- */

void dispatcher__handle_event(void *ctx, const struct inspectd_event *e)
{
	struct dispatcher *d = ctx;
	char comm[INSPECTD_COMM_LEN], what[96], how[48];
	struct process *p;
	unsigned job = 0;
	uint64_t before;
	enum log_level level;

	memcpy(comm, e->comm, sizeof(comm));
	comm[sizeof(comm) - 1] = '\0';

	switch (e->type) {
	case INSPECTD_EVENT_FORK:
		/* Usually an exec follows at once (child_process.spawn): log that one. A child
		 * starts in its parent's cgroup: no need to read the limit again. */
		p = track(d, (pid_t)e->pid, comm, processes__find(d->processes, (pid_t)e->ppid));
		if (p) {
			log_debug("pid %u: forked from node process %u", e->pid, e->ppid);
			update_marks(d, p);
		}
		break;
	case INSPECTD_EVENT_EXEC:
		/* Known already (forked, or exec'd again): a new program, the same cgroup (a move
		 * would have come as a CGROUP event). The old program's job and records go. */
		if (processes__exec(d->processes, (pid_t)e->pid, comm, now_usec(), &p, &job) == 0) {
			if (job && end_job_target_gone(d, job, what, sizeof(what)))
				log_warn("pid %u: exec'd %s during its %s: abandoned", e->pid, comm, what);
			if (d->env->ledger)
				ledger__forget(d->env->ledger, (pid_t)e->pid);
			sighandlers__forget(d->env->sighandlers, (pid_t)e->pid);     /* a new program */
			read_rss(d, p);
			read_cmdline(p);
		} else {
			p = track(d, (pid_t)e->pid, comm, NULL);
		}
		if (p) {
			process__set_announced(p);
			log_info("pid %u: discovered %s (parent %u)", e->pid, comm, e->ppid);
			/* Its executable's symbols read now, on their thread, not at the trigger. */
			sighandlers__prepare(d->env->sighandlers, (pid_t)e->pid);
			update_marks(d, p);
		}
		if (job)
			start_queued(d);
		break;
	case INSPECTD_EVENT_EXIT:
		p = processes__find(d->processes, (pid_t)e->pid);
		/* Its OOM_KILL lost, or still unread: the record now, before p goes. */
		if (p && (e->value & INSPECTD_EXIT_OOM_VICTIM))
			record_oom(d, p, e, OOM_BY_EXIT);
		if (p) {
			/* One line: a capture under way goes with it. A fork that exec'd another
			 * program leaves quietly. */
			snprintf(comm, sizeof(comm), "%s", process__comm(p));
			level = process__announced(p) ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG;
			options_exit_status(e->result, how, sizeof(how));
			if (process_gone(d, (pid_t)e->pid, what, sizeof(what)))
				log_warn("pid %u: %s exited (%s) during its %s: abandoned", e->pid, comm, how, what);
			else
				log_emit(level, "pid %u: %s exited (%s)", e->pid, comm, how);
		}
		break;
	case INSPECTD_EVENT_SIGNAL:
		handle_signal(d, e);
		break;
	case INSPECTD_EVENT_OOM_KILL:
		/* Not in the table: its EXIT came first and recorded it, or it was never known. */
		p = processes__find(d->processes, (pid_t)e->pid);
		if (p)
			record_oom(d, p, e, OOM_BY_MARK_VICTIM);
		break;
	case INSPECTD_EVENT_RSS_HIGH:
	case INSPECTD_EVENT_RSS_LOW:
		handle_rss(d, e);
		break;
	case INSPECTD_EVENT_CGROUP:
		p = processes__find(d->processes, (pid_t)e->pid);
		if (p) {
			before = process__memory_limit(p);
			read_cgroup(d, p);
			if (process__memory_limit(p) != before)
				log_info("pid %d: moved to another cgroup: memory limit %llu bytes", (int)e->pid,
					 (unsigned long long)process__memory_limit(p));
			update_marks(d, p);
		}
		break;
	default:
		log_debug("unknown event type %u, ignoring", e->type);
		break;
	}
}

/* ---- the rest ---- */

/* names_cache's report of a lookup: a container without names is said once, at debug. */
static void names_looked_up(void *ctx, const struct container_info *c, int result, const char *file, uint64_t usec)
{
	if (result < 0)
		log_debug("container %.12s: no names (%s%s%s), ignoring", c->id, strerror(-result), file[0] ? ": " : "",
			  file);
	else
		log_debug("container %.12s: names from %s in %llu us", c->id, file, (unsigned long long)usec);
}

/* --host-root, for the runtimes' state files; -1 (no names) when it cannot be opened. */
static int open_host_root(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		log_warn("--host-root %s: %s: containers get no names, ignoring", dir, strerror(errno));
	return fd;
}

/* --select and --exclude as the settings have them; NULL only when out of memory. */
static struct selection *selection_of(const struct settings *st)
{
	struct selection *sel;

	if (selection__new(&sel) < 0)
		return NULL;
	/* Checked when the settings were read: only memory can fail here. */
	for (unsigned i = 0; i < st->n_select; i++)
		selection__add(sel, false, st->select_rules[i], NULL, 0);
	for (unsigned i = 0; i < st->n_exclude; i++)
		selection__add(sel, true, st->exclude_rules[i], NULL, 0);
	return sel;
}

/* Whether the settings or a section's have a trigger that configured() says is there. */
static bool any_configured(const struct settings *st, const struct sections *secs,
			   bool (*configured)(const struct trigger_config *cfg))
{
	bool any = configured(&st->triggers);

	for (unsigned i = 0; i < sections__count(secs) && !any; i++)
		any = configured(&sections__settings(secs, (int)i, st)->triggers);
	return any;
}

static bool cpu_configured(const struct trigger_config *cfg)
{
	return trigger_configured(cfg, TRIGGER_CPU_THRESHOLD);
}

/* Each process's settings are judged again, on first use, from secs (now d's). */
static void set_sections(struct dispatcher *d, struct sections *secs)
{
	sections__free(d->sections);
	d->sections = secs;
	processes__forget_sections(d->processes);
	d->rss_triggers = any_configured(d->env->settings, secs, thresholds_rss_configured);
	d->cpu_triggers = any_configured(d->env->settings, secs, cpu_configured);
}

void dispatcher__reload(struct dispatcher *d, struct sections *sections)
{
	struct selection *sel = selection_of(d->env->settings);

	if (sel) {
		selection__free(d->selection);
		d->selection = sel;
		d->unmatched_ticks = UNMATCHED_TICKS;
	} else {
		log_warn("reload: out of memory for --select and --exclude: the old rules stay");
	}
	set_sections(d, sections);
}

struct dispatcher *dispatcher__new(const struct capture_env *env, struct sections *sections)
{
	const struct settings *st = env->settings;
	struct jobs_limits limits = { .max_concurrent = st->max_concurrent, .max_per_container = st->max_per_container };
	struct dispatcher *d = calloc(1, sizeof(*d));

	if (!d) {
		sections__free(sections);
		return NULL;
	}
	d->env = env;
	d->processes = processes__new(&st->triggers);
	d->jobs = jobs__new(&limits, held_by_sweep, d);
	d->thresholds = thresholds__new(st);
	d->tenants = tenants__new(st->max_per_container_hour);
	d->names = names_cache__new(open_host_root(st->host_root), names_looked_up, d);
	if (getrandom(&d->schedule_seed, sizeof(d->schedule_seed), GRND_NONBLOCK) != sizeof(d->schedule_seed))
		d->schedule_seed = now_usec();
	d->selection = selection_of(st);
	d->unmatched_ticks = UNMATCHED_TICKS;
	if (env->spool)
		d->oom_kills = oom_kills__new(env->spool, env->hostname, &d->cgroup_roots, oom_written, d);
	if (!d->processes || !d->jobs || !d->thresholds || !d->tenants || !d->names || !d->selection ||
	    (env->spool && !d->oom_kills)) {
		selection__free(d->selection);
		processes__free(d->processes);
		jobs__free(d->jobs);
		thresholds__free(d->thresholds);
		tenants__free(d->tenants);
		names_cache__free(d->names);
		oom_kills__free(d->oom_kills);
		sections__free(sections);
		free(d);
		return NULL;
	}
	set_sections(d, sections);
	processes__set_names(d->processes, d->names);
	if (cgroup_detect_roots(&d->cgroup_roots) < 0)
		log_warn("no cgroup memory controller found: --limit-percent cannot be armed");
	lws_sul_schedule(env->ctx, 0, &d->tick, tick, TICK_USEC);
	return d;
}

void dispatcher__set_tracker(struct dispatcher *d, struct tracker *t)
{
	d->tracker = t;
	rss_watch_update(d, false, now_usec());     /* --rss-watch always: from the start */
}

struct process_walk {
	const struct dispatcher *d;
	void (*fn)(void *ctx, const struct process_view *p, const struct job_view *job);
	void *ctx;
};

/* Its next round, for a process the schedule will capture: one it selects, while the agent runs. */
static void schedule_view(const struct dispatcher *d, struct process *p, const struct settings *st,
			  struct process_view *pv)
{
	const struct schedule_config sc = { .every_usec = st->every_usec, .kinds = st->schedule_kinds };
	struct timespec wall;
	uint64_t at;

	clock_gettime(CLOCK_REALTIME, &wall);
	if (pv->selection != SELECT_SELECTED || d->shutting_down ||
	    schedule_next(&sc, process__schedule(p), now_usec(),
			  (uint64_t)wall.tv_sec * 1000000 + (uint64_t)wall.tv_nsec / 1000, &at, &pv->next_capture_kind) < 0)
		return;
	pv->next_capture_at = (struct timespec){ .tv_sec = (time_t)(at / 1000000), .tv_nsec = (long)(at % 1000000) * 1000 };
}

static void walk_process(void *ctx, struct process *p)
{
	struct process_walk *w = ctx;
	const struct settings *st = settings_of(w->d, p);
	int section = process__section(p);      /* as settings_of() judged it */
	struct process_view pv;
	struct job_view jv;

	processes__view(w->d->processes, p, &pv);
	pv.selection = process_verdict(w->d->selection, p, NULL);
	pv.armed = trigger_armed(&st->triggers, process__triggers(p));
	if (section >= 0 && (unsigned)section < sections__count(w->d->sections))
		snprintf(pv.section, sizeof(pv.section), "%s", sections__rule(w->d->sections, (unsigned)section));
	schedule_view(w->d, p, st, &pv);
	w->fn(w->ctx, &pv, pv.job && dispatcher__job(w->d, pv.job, &jv) == 0 ? &jv : NULL);
}

void dispatcher__foreach_process(const struct dispatcher *d,
				 void (*fn)(void *ctx, const struct process_view *p, const struct job_view *job),
				 void *ctx)
{
	struct process_walk w = { d, fn, ctx };

	processes__foreach(d->processes, walk_process, &w);
}

const struct dispatcher_metrics *dispatcher__metrics(const struct dispatcher *d)
{
	return &d->metrics;
}

unsigned dispatcher__running(const struct dispatcher *d)
{
	return jobs__count(d->jobs, JOB_ACTIVE);
}

unsigned dispatcher__queued(const struct dispatcher *d)
{
	return jobs__count(d->jobs, JOB_QUEUED);
}

static void stop_run(void *ctx, const struct job_view *v, void *data)
{
	struct run *run = data;

	if (run)
		capture__request_stop(run->capture, "agent-shutdown");
}

void dispatcher__shutdown(struct dispatcher *d)
{
	unsigned id;

	d->shutting_down = true;
	thresholds__shutdown(d->thresholds);
	while (jobs__oldest(d->jobs, JOB_QUEUED, &id) == 0)
		end_job_with(d, id, CAPTURE_SHUTDOWN_QUEUED, 0);
	/* A capture's end comes later, from a timer: nothing here changes the queue. */
	jobs__foreach(d->jobs, stop_run, NULL);
}

bool dispatcher__idle(const struct dispatcher *d)
{
	return jobs__count(d->jobs, JOB_ACTIVE) == 0 && (!d->sweep || cleanup__done(d->sweep));
}

unsigned dispatcher__tracked(const struct dispatcher *d)
{
	return processes__count(d->processes);
}

static void free_run(void *ctx, const struct job_view *v, void *data)
{
	struct run *run = data;

	if (run) {
		capture__free(run->capture);
		free(run);
	}
}

void dispatcher__free(struct dispatcher *d)
{
	if (!d)
		return;
	lws_sul_schedule(d->env->ctx, 0, &d->tick, NULL, LWS_SET_TIMER_USEC_CANCEL);
	cleanup__free(d->sweep);
	jobs__foreach(d->jobs, free_run, NULL);
	jobs__free(d->jobs);
	processes__free(d->processes);
	names_cache__free(d->names);
	thresholds__free(d->thresholds);
	tenants__free(d->tenants);
	oom_kills__free(d->oom_kills);          /* OOM-kill records in flight: no callback */
	selection__free(d->selection);
	sections__free(d->sections);
	free(d);
}

int dispatcher__verdict(const struct dispatcher *d, pid_t pid, enum select_verdict *ret, const char **rule)
{
	struct process *p = processes__find(d->processes, pid);

	if (!p)
		return -ESRCH;
	*ret = process_verdict(d->selection, p, rule);
	return 0;
}
