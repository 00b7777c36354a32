// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Kernel events in, captures out:
 *
 *   EXEC/FORK/EXIT      -> the process table
 *   SIGNAL              -> start or stop a capture of that process
 *   RSS_HIGH/RSS_LOW    -> threshold triggers (judged in trigger.c)
 *   CGROUP              -> re-read the memory limit
 *   tick (1 s)          -> CPU time and RSS from the task iterator: CPU triggers,
 *                          growth windows, re-arming, RSS crossings while rss_stat
 *                          is detached; attaches rss_stat near a mark
 *   API                 -> dispatcher__submit(), dispatcher__stop_job()
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <libwebsockets.h>

#include "cgroup.h"
#include "cleanup.h"
#include "dispatcher.h"
#include "log.h"
#include "netns.h"
#include "options.h"
#include "procfs.h"
#include "tracker.h"

#define PROCESS_BUCKETS 1024
#define TICK_USEC       (1 * LWS_US_PER_SEC)
#define JOBS_KEPT       256     /* finished jobs the API still shows */
#define SWEEP_TICKS     5       /* kept ledger records looked at every this many ticks */

const double dispatcher_latency_le[DISPATCHER_LATENCY_BUCKETS] = {
	0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
};

struct dispatcher {
	const struct capture_env *env;
	struct tracker *tracker;
	struct cgroup_roots cgroup_roots;
	struct process *buckets[PROCESS_BUCKETS];
	unsigned tracked;
	struct job *jobs;               /* newest first */
	unsigned next_job_id;
	unsigned running, queued, finished;
	struct rate_limit hourly;
	struct dispatcher_metrics metrics;
	lws_sorted_usec_list_t tick;
	uint64_t rss_watch_until;       /* rss_stat attached until then (--rss-watch near) */
	bool rss_watch_warned;          /* attaching or detaching failed: said once */
	bool shutting_down;
	struct cleanup *sweep;          /* closing inspectors that opened late, if any */
	unsigned ticks;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- the process table ---- */

static struct process **process_slot(struct dispatcher *d, pid_t pid)
{
	struct process **p = &d->buckets[(unsigned)pid % PROCESS_BUCKETS];

	while (*p && (*p)->pid != pid)
		p = &(*p)->next;
	return p;
}

static struct process *process_find(struct dispatcher *d, pid_t pid)
{
	return *process_slot(d, pid);
}

static void process_read_limit(struct dispatcher *d, struct process *p)
{
	uint64_t limit = 0;
	int r;

	/* Not known unless read now: a failed read must not leave the old cgroup's paths. */
	p->cgroup_v1[0] = p->cgroup_v2[0] = '\0';
	r = cgroup_memory_limit_of(&d->cgroup_roots, p->pid, &limit, p->cgroup_v1, sizeof(p->cgroup_v1),
				   p->cgroup_v2, sizeof(p->cgroup_v2));
	if (r == -ENOENT) {
		if (d->env->settings->triggers.limit_percent)
			log_debug("pid %d: no memory limit in its cgroup: --limit-percent not armed", (int)p->pid);
		limit = 0;
	} else if (r < 0) {
		log_warn("pid %d: cannot read its cgroup's memory limit: %s; --limit-percent not armed",
			 (int)p->pid, strerror(-r));
		limit = 0;
	}
	/* A limit of 0 bytes (memory.max = 0) cannot be a percentage trigger either. */
	p->triggers.limit = limit;
	container_from_paths(p->cgroup_v1, p->cgroup_v2, &p->container);
}

/*
 * cgroup_of: a process known to share the new one's cgroup (its parent at fork, itself
 * before an exec), whose limit is copied rather than read again; NULL to read it.
 */
static struct process *process_add(struct dispatcher *d, pid_t pid, const char *comm,
				   const struct process *cgroup_of)
{
	struct process **slot = process_slot(d, pid), *p = *slot;

	if (p) {
		memcpy(p->comm, comm, sizeof(p->comm));
		return p;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p->pidfd < 0) {
		free(p);
		return NULL;    /* already gone */
	}
	memcpy(p->comm, comm, sizeof(p->comm));
	p->comm[sizeof(p->comm) - 1] = '\0';
	p->seen_usec = now_usec();
	trigger_state_init(&p->triggers, &d->env->settings->triggers, p->seen_usec, 0);
	if (cgroup_of) {
		p->triggers.limit = cgroup_of->triggers.limit;
		memcpy(p->cgroup_v1, cgroup_of->cgroup_v1, sizeof(p->cgroup_v1));
		memcpy(p->cgroup_v2, cgroup_of->cgroup_v2, sizeof(p->cgroup_v2));
		p->container = cgroup_of->container;
	} else {
		process_read_limit(d, p);
	}
	/* Known already for a process found at start-up; else the next tick tells. */
	if (d->tracker)
		tracker__rss(d->tracker, (uint32_t)pid, &p->rss);
	*slot = p;
	d->tracked++;
	return p;
}

static void job_finish(struct dispatcher *d, struct job *job, enum capture_outcome outcome, const char *error);

static void process_remove(struct dispatcher *d, pid_t pid)
{
	struct process **slot = process_slot(d, pid), *p = *slot;

	if (!p)
		return;
	*slot = p->next;
	if (p->job) {
		struct job *job = p->job;

		enum capture_outcome outcome = CAPTURE_TARGET_EXITED;

		if (job->capture) {
			capture__target_exited(job->capture);
			if (capture__outcome(job->capture) == CAPTURE_EXPORT_FAILED)
				outcome = CAPTURE_EXPORT_FAILED;
		}
		job_finish(d, job, outcome, job->capture ? capture__error(job->capture) : NULL);
	}
	close(p->pidfd);
	free(p);
	d->tracked--;
}

/* The program is gone (exit, or exec): so is any inspector a kept record stands for. */
static void process_gone(struct dispatcher *d, pid_t pid)
{
	process_remove(d, pid);
	if (d->env->ledger)
		ledger__forget(d->env->ledger, pid);
}

static bool rss_triggers_configured(const struct trigger_config *cfg)
{
	return trigger_configured(cfg, TRIGGER_RSS_THRESHOLD) || trigger_configured(cfg, TRIGGER_RSS_GROWTH) ||
	       trigger_configured(cfg, TRIGGER_LIMIT_PERCENT);
}

/*
 * rss_stat runs on every page fault of every process on the host, and the kernel's
 * dispatch to it costs more than the program: attach it only while some tracked
 * process is near one of its marks (and a while after), or always with --rss-watch
 * always. Otherwise the tick's task iterator keeps RSS.
 */
static void rss_watch_update(struct dispatcher *d, bool near, uint64_t now)
{
	const struct settings *st = d->env->settings;
	bool want;
	int r;

	if (!d->tracker)
		return;
	want = trigger_rss_watch(rss_triggers_configured(&st->triggers), st->rss_watch_always, near, now,
				 &d->rss_watch_until);
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
static void process_update_marks(struct dispatcher *d, struct process *p)
{
	uint64_t high, low;

	if (!d->tracker)
		return;
	trigger_rss_marks(&d->env->settings->triggers, &p->triggers, &high, &low);
	if (high == p->mark_high && low == p->mark_low)
		return;
	if (tracker__set_rss_marks(d->tracker, (uint32_t)p->pid, high, low) < 0)
		return;         /* gone from the kernel side: its exit event follows */
	p->mark_high = high;
	p->mark_low = low;
	/* Attach at once for a process that starts near its mark; only the tick detaches. */
	if (trigger_rss_near(p->rss, high))
		rss_watch_update(d, true, now_usec());
}

/* ---- jobs ---- */

static void job_start_capture(struct dispatcher *d, struct job *job);

static void job_prune(struct dispatcher *d)
{
	struct job **pp = &d->jobs;
	unsigned kept = 0;

	if (d->shutting_down)
		return;         /* dispatcher__shutdown() walks the list */
	while (*pp) {
		struct job *j = *pp;

		if (j->state == JOB_DONE || j->state == JOB_FAILED) {
			if (++kept > JOBS_KEPT) {
				*pp = j->next;
				free(j);
				d->finished--;
				continue;
			}
		}
		pp = &j->next;
	}
}

/* The active job holding the inspector port of this network namespace, if any. */
static struct job *netns_holder(struct dispatcher *d, const struct job *job)
{
	for (struct job *j = d->jobs; j; j = j->next)
		if (j != job && j->state == JOB_ACTIVE && j->netns == job->netns)
			return j;
	return NULL;
}

/* Why job cannot start now, or false when it can. */
static bool must_wait(struct dispatcher *d, struct job *job, char *why, size_t size)
{
	struct job *holder;

	if (d->running >= d->env->settings->max_concurrent) {
		snprintf(why, size, "%u captures running, the --max-concurrent limit", d->running);
		return true;
	}
	if (d->sweep && cleanup__has(d->sweep, job->pid)) {
		snprintf(why, size, "closing an inspector that opened after an earlier capture had ended");
		return true;
	}
	/* Only one inspector can listen on 127.0.0.1:9229 per namespace (nodejs/node#16872). */
	holder = netns_holder(d, job);
	if (holder) {
		snprintf(why, size, "pid %d is being captured in the same network namespace (one inspector port)",
			 (int)holder->pid);
		return true;
	}
	return false;
}

static void start_queued(struct dispatcher *d)
{
	bool started;

	do {
		struct job *queued[64];
		unsigned n = 0;
		char why[128];

		started = false;
		if (d->shutting_down)
			return;
		/* Oldest first: the list is newest first. */
		for (struct job *j = d->jobs; j && n < 64; j = j->next)
			if (j->state == JOB_QUEUED)
				queued[n++] = j;
		while (n-- > 0) {
			if (must_wait(d, queued[n], why, sizeof(why)))
				continue;
			d->queued--;
			job_start_capture(d, queued[n]);
			started = true;
			break;  /* the list changed: look again */
		}
	} while (started && d->queued);
}

/*
 * error: the job's own words, or NULL for the outcome's name; it may point into the
 * job's capture, and is copied before the capture is freed.
 */
static void job_finish(struct dispatcher *d, struct job *job, enum capture_outcome outcome, const char *error)
{
	struct process *p = process_find(d, job->pid);

	if (outcome != CAPTURE_OK)
		snprintf(job->error, sizeof(job->error), "%s", error ? error : capture_outcome_name(outcome));
	if (job->state == JOB_QUEUED)
		d->queued--;
	else if (job->state == JOB_ACTIVE)
		d->running--;
	if (job->capture) {
		for (unsigned i = 0; i < 2; i++)
			if (capture__file(job->capture, i))
				snprintf(job->files[i], sizeof(job->files[i]), "%s", capture__file(job->capture, i));
		job->started_at = capture__started_at(job->capture);
		job->ended_at = capture__ended_at(job->capture);
		capture__free(job->capture);
		job->capture = NULL;
	}
	if (!job->ended_at.tv_sec)
		clock_gettime(CLOCK_REALTIME, &job->ended_at);
	job->state = outcome == CAPTURE_OK ? JOB_DONE : JOB_FAILED;
	if (outcome == CAPTURE_EXPORT_FAILED)
		d->metrics.export_failures++;
	d->metrics.captures[job->kind][job->trigger.source][job->state == JOB_FAILED]++;
	d->finished++;
	if (p && p->job == job)
		p->job = NULL;
	job_prune(d);
	start_queued(d);
}

static void capture_done(void *owner, struct capture *c)
{
	struct dispatcher *d = owner;

	for (struct job *j = d->jobs; j; j = j->next) {
		if (j->capture == c) {
			double latency = capture__latency_ms(c);

			if (latency >= 0) {
				d->metrics.latency_count++;
				d->metrics.latency_sum += latency / 1000.0;
				for (int b = 0; b < DISPATCHER_LATENCY_BUCKETS; b++)
					if (latency / 1000.0 <= dispatcher_latency_le[b])
						d->metrics.latency_buckets[b]++;
			}
			job_finish(d, j, capture__outcome(c), capture__error(c));
			return;
		}
	}
	capture__free(c);
}

static void job_start_capture(struct dispatcher *d, struct job *job)
{
	struct process *p = process_find(d, job->pid);
	int r;

	if (!p) {
		job_finish(d, job, CAPTURE_TARGET_EXITED, "target exited while queued");
		return;
	}
	job->state = JOB_ACTIVE;
	job->queued_reason[0] = '\0';
	d->running++;
	r = capture__new(d->env, p->pid, p->pidfd, &p->container, job->kind, &job->trigger, job->duration_usec,
			 capture_done, d, &job->capture);
	if (r < 0) {
		job->capture = NULL;
		log_error("pid %d: cannot start a %s capture: %s", (int)p->pid, profile_ops(job->kind)->name,
			  strerror(-r));
		job_finish(d, job, CAPTURE_CANNOT_START, NULL);
		return;
	}
	if (job->stop_requested)
		capture__request_stop(job->capture, "request");
}

int dispatcher__submit(struct dispatcher *d, pid_t pid, enum profile_kind kind, const struct capture_trigger *t,
		       uint64_t duration_usec, struct job **ret)
{
	struct process *p;
	struct job *job;

	if (d->shutting_down)
		return -ESHUTDOWN;
	p = process_find(d, pid);
	if (!p)
		return -ESRCH;
	if (p->job)
		return -EBUSY;
	job = calloc(1, sizeof(*job));
	if (!job)
		return -ENOMEM;
	job->id = ++d->next_job_id;
	job->pid = pid;
	job->kind = kind;
	job->trigger = *t;
	job->duration_usec = duration_usec;
	clock_gettime(CLOCK_REALTIME, &job->created_at);
	job->next = d->jobs;
	d->jobs = job;
	p->job = job;

	if (netns_inode(pid, &job->netns) < 0)
		job->netns = 0;
	if (must_wait(d, job, job->queued_reason, sizeof(job->queued_reason))) {
		job->state = JOB_QUEUED;
		d->queued++;
		log_info("pid %d: %s capture queued: %s", (int)pid, profile_ops(kind)->name, job->queued_reason);
	} else {
		job_start_capture(d, job);
	}
	if (ret)
		*ret = job;
	return 0;
}

int dispatcher__stop_job(struct dispatcher *d, struct job *job)
{
	switch (job->state) {
	case JOB_QUEUED:
		job_finish(d, job, CAPTURE_STOPPED_QUEUED, NULL);
		return 0;
	case JOB_ACTIVE:
		job->stop_requested = true;
		capture__request_stop(job->capture, "request");
		return 0;
	default:
		return -EALREADY;
	}
}

struct job *dispatcher__job(struct dispatcher *d, unsigned id)
{
	for (struct job *j = d->jobs; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

struct job *dispatcher__jobs(struct dispatcher *d)
{
	return d->jobs;
}

/* ---- triggers ---- */

static void handle_signal(struct dispatcher *d, const struct inspectd_event *e)
{
	const struct settings *st = d->env->settings;
	char signame[32], sender[INSPECTD_COMM_LEN];
	struct capture_trigger t = { .source = TRIGGER_SOURCE_SIGNAL };
	enum profile_kind kind;
	struct process *p;
	int r;

	memcpy(sender, e->sender_comm, sizeof(sender));
	sender[sizeof(sender) - 1] = '\0';
	options_signal_name((int)e->sig, signame, sizeof(signame));
	if ((int)e->sig == st->heap_signal)
		kind = PROFILE_HEAP;
	else if ((int)e->sig == st->cpu_signal)
		kind = PROFILE_CPU;
	else
		return;

	log_info("pid %u: trigger %s from pid %u (%s)", e->pid, signame, e->sender_pid, sender);
	if (d->shutting_down) {
		log_info("pid %u: agent is shutting down, ignoring the trigger", e->pid);
		return;
	}
	p = process_find(d, (pid_t)e->pid);
	if (!p)
		p = process_add(d, (pid_t)e->pid, e->comm, NULL);
	if (!p) {
		log_warn("pid %u: process gone before the trigger could be served, ignoring", e->pid);
		return;
	}

	if (p->job) {
		if (p->job->kind == kind) {
			dispatcher__stop_job(d, p->job);
			return;
		}
		log_warn("pid %u: a %s capture is in progress; %s trigger ignored", e->pid,
			 profile_ops(p->job->kind)->name, profile_ops(kind)->name);
		return;
	}

	t.sig = (int)e->sig;
	t.sender_pid = e->sender_pid;
	t.sender_ns_pid = e->sender_ns_pid;
	memcpy(t.sender_comm, sender, sizeof(t.sender_comm));
	t.ktime_ns = e->ktime_ns;
	r = dispatcher__submit(d, p->pid, kind, &t, 0, NULL);
	if (r < 0)
		log_error("pid %u: cannot start a %s capture: %s", e->pid, profile_ops(kind)->name, strerror(-r));
}

static void format_value(enum trigger_kind k, double v, char *buf, size_t size)
{
	if (k == TRIGGER_CPU_THRESHOLD)
		snprintf(buf, size, "%.1f%%", v);
	else
		snprintf(buf, size, "%.1f MiB", v / 1048576.0);
}

/* One or more threshold triggers of p crossed now. */
static void thresholds_crossed(struct dispatcher *d, struct process *p, unsigned mask, uint64_t ktime_ns,
			       uint64_t now, const char *detected_by)
{
	const struct settings *st = d->env->settings;
	struct capture_trigger t = { 0 };
	char thr[32], obs[32], why[96] = "";
	enum trigger_kind k;
	int r;

	for (k = 0; k < _TRIGGER_MAX; k++)
		if (mask & TRIGGER_MASK(k))
			break;
	if (k == _TRIGGER_MAX)
		return;
	t.source = trigger_source_of_kind(k);
	t.ktime_ns = ktime_ns;
	t.has_threshold = true;
	t.detected_by = detected_by;
	if (k == TRIGGER_CPU_THRESHOLD) {
		t.unit = "percent";
		t.threshold = st->triggers.cpu_threshold;
		t.observed = p->triggers.cpu_percent;
	} else {
		t.unit = "bytes";
		t.threshold = (double)trigger_threshold(&st->triggers, &p->triggers, k);
		t.observed = (double)p->rss;
	}
	format_value(k, t.threshold, thr, sizeof(thr));
	format_value(k, t.observed, obs, sizeof(obs));

	if (d->shutting_down)
		snprintf(why, sizeof(why), "the agent is shutting down");
	else if (p->job)
		snprintf(why, sizeof(why), "a capture of it is already %s",
			 p->job->state == JOB_QUEUED ? "queued" : "running");
	else if (trigger_in_cooldown(&st->triggers, &p->triggers, now))
		snprintf(why, sizeof(why), "cooldown, %llu s left",
			 (unsigned long long)((p->triggers.last_capture_usec + st->triggers.cooldown_usec - now) /
					      1000000));
	else if (!rate_limit_take(&d->hourly, st->max_captures_per_hour, now))
		snprintf(why, sizeof(why), "host cap of %u threshold captures per hour reached",
			 st->max_captures_per_hour);
	if (why[0]) {
		d->metrics.skipped[t.source]++;
		log_info("pid %d: %s crossed (%s >= %s): skipped, %s", (int)p->pid, trigger_kind_name(k), obs, thr,
			 why);
		return;
	}

	log_info("pid %d: %s crossed (%s >= %s): %s capture for %llu s", (int)p->pid, trigger_kind_name(k), obs, thr,
		 profile_ops(st->threshold_action)->name, (unsigned long long)(st->capture_usec / 1000000));
	r = dispatcher__submit(d, p->pid, st->threshold_action, &t, st->capture_usec, NULL);
	if (r < 0) {
		log_error("pid %d: cannot start a capture: %s", (int)p->pid, strerror(-r));
		return;
	}
	trigger_captured(&p->triggers, now, p->rss);
}

static void handle_rss(struct dispatcher *d, const struct inspectd_event *e)
{
	struct process *p = process_find(d, (pid_t)e->pid);
	uint64_t now = now_usec();
	unsigned crossed;

	if (!p)
		return;
	p->rss = e->value;
	crossed = trigger_eval_rss(&d->env->settings->triggers, &p->triggers, p->rss, now);
	if (crossed)
		thresholds_crossed(d, p, crossed, e->ktime_ns, now, "rss_stat");
	process_update_marks(d, p);
}

static void add_cpu(void *ctx, uint32_t tgid, uint64_t runtime_ns)
{
	struct process *p = process_find(ctx, (pid_t)tgid);

	if (p)
		p->cpu_accum += runtime_ns;
}

/* A running capture owns its process's record. */
static bool sweep_skip(void *ctx, pid_t pid)
{
	struct process *p = process_find(ctx, pid);

	return p && p->job;
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

static void tick(lws_sorted_usec_list_t *sul)
{
	struct dispatcher *d = lws_container_of(sul, struct dispatcher, tick);
	const struct trigger_config *cfg = &d->env->settings->triggers;
	uint64_t now = now_usec(), untracked;
	bool near = false;
	int r;

	lws_sul_schedule(d->env->ctx, 0, &d->tick, tick, TICK_USEC);
	sweep(d);
	if (!d->tracked || !d->tracker) {
		rss_watch_update(d, false, now);
		return;
	}
	/* A crossing rss_stat reported is judged with its own timestamp, not this tick's. */
	tracker__consume(d->tracker);
	untracked = tracker__new_track_failures(d->tracker);
	if (untracked)
		log_warn("%llu new node processes could not be tracked: the kernel side's map is full "
			 "(%u tracked)", (unsigned long long)untracked, d->tracked);
	r = tracker__read_cpu(d->tracker, add_cpu, d);
	if (r < 0)
		log_warn("reading CPU times: %s, ignoring", strerror(-r));

	for (unsigned b = 0; b < PROCESS_BUCKETS; b++) {
		for (struct process *p = d->buckets[b], *next; p; p = next) {
			unsigned crossed;

			next = p->next;
			if (r >= 0 && p->cpu_accum)
				p->cpu_ns = p->cpu_accum;
			p->cpu_accum = 0;
			tracker__rss(d->tracker, (uint32_t)p->pid, &p->rss);
			/* Growth is measured from the RSS a second after we first saw the process. */
			if (!p->baseline_set && p->rss && now >= p->seen_usec + TICK_USEC) {
				p->triggers.baseline = p->rss;
				p->baseline_set = true;
			}
			crossed = trigger_eval_rss(cfg, &p->triggers, p->rss, now);
			crossed |= trigger_eval_cpu(cfg, &p->triggers, p->cpu_ns, now);
			if (crossed)
				thresholds_crossed(d, p, crossed, now * 1000, now, "tick");
			process_update_marks(d, p);
			near |= trigger_rss_near(p->rss, p->mark_high);
		}
	}
	rss_watch_update(d, near, now);
}

/* ---- events ---- */

void dispatcher__handle_event(void *ctx, const struct inspectd_event *e)
{
	struct dispatcher *d = ctx;
	char comm[INSPECTD_COMM_LEN];
	struct process *p;

	memcpy(comm, e->comm, sizeof(comm));
	comm[sizeof(comm) - 1] = '\0';

	switch (e->type) {
	case INSPECTD_EVENT_FORK:
		/* Usually an exec follows at once (child_process.spawn): log that one. A child
		 * starts in its parent's cgroup: no need to read the limit again. */
		p = process_add(d, (pid_t)e->pid, comm, process_find(d, (pid_t)e->ppid));
		if (p) {
			log_debug("pid %u: forked from node process %u", e->pid, e->ppid);
			process_update_marks(d, p);
		}
		break;
	case INSPECTD_EVENT_EXEC:
		/* Known already (forked, or exec'd again): a new program, a new pidfd, the same
		 * cgroup (a move would have come as a CGROUP event). */
		p = process_find(d, (pid_t)e->pid);
		if (p) {
			static struct process before;   /* large: not on the stack */

			before = *p;
			process_gone(d, (pid_t)e->pid);
			p = process_add(d, (pid_t)e->pid, comm, &before);
		} else {
			p = process_add(d, (pid_t)e->pid, comm, NULL);
		}
		if (p) {
			p->announced = true;
			log_info("pid %u: discovered %s (parent %u)", e->pid, comm, e->ppid);
			process_update_marks(d, p);
		}
		break;
	case INSPECTD_EVENT_EXIT:
		p = process_find(d, (pid_t)e->pid);
		if (p) {
			/* A fork that exec'd another program leaves quietly. */
			log_emit(p->announced ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG, "pid %u: %s exited", e->pid,
				 p->comm);
			process_gone(d, (pid_t)e->pid);
		}
		break;
	case INSPECTD_EVENT_SIGNAL:
		handle_signal(d, e);
		break;
	case INSPECTD_EVENT_RSS_HIGH:
	case INSPECTD_EVENT_RSS_LOW:
		handle_rss(d, e);
		break;
	case INSPECTD_EVENT_CGROUP:
		p = process_find(d, (pid_t)e->pid);
		if (p) {
			uint64_t before = p->triggers.limit;

			process_read_limit(d, p);
			if (p->triggers.limit != before)
				log_info("pid %d: moved to another cgroup: memory limit %llu bytes", (int)p->pid,
					 (unsigned long long)p->triggers.limit);
			process_update_marks(d, p);
		}
		break;
	default:
		log_debug("unknown event type %u, ignoring", e->type);
		break;
	}
}

/* ---- the rest ---- */

struct dispatcher *dispatcher__new(const struct capture_env *env)
{
	struct dispatcher *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->env = env;
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

void dispatcher__foreach_process(struct dispatcher *d, void (*fn)(void *ctx, const struct process *p), void *ctx)
{
	for (unsigned b = 0; b < PROCESS_BUCKETS; b++)
		for (struct process *p = d->buckets[b]; p; p = p->next)
			fn(ctx, p);
}

const struct dispatcher_metrics *dispatcher__metrics(const struct dispatcher *d)
{
	return &d->metrics;
}

unsigned dispatcher__running(const struct dispatcher *d)
{
	return d->running;
}

unsigned dispatcher__queued(const struct dispatcher *d)
{
	return d->queued;
}

void dispatcher__shutdown(struct dispatcher *d)
{
	d->shutting_down = true;
	for (struct job *j = d->jobs, *next; j; j = next) {
		next = j->next;
		if (j->state == JOB_QUEUED || j->state == JOB_ACTIVE) {
			if (j->capture)
				capture__request_stop(j->capture, "agent-shutdown");
			else
				job_finish(d, j, CAPTURE_SHUTDOWN_QUEUED, NULL);
		}
	}
}

bool dispatcher__idle(const struct dispatcher *d)
{
	return d->running == 0 && (!d->sweep || cleanup__done(d->sweep));
}

unsigned dispatcher__tracked(const struct dispatcher *d)
{
	return d->tracked;
}

void dispatcher__free(struct dispatcher *d)
{
	if (!d)
		return;
	lws_sul_schedule(d->env->ctx, 0, &d->tick, NULL, LWS_SET_TIMER_USEC_CANCEL);
	cleanup__free(d->sweep);
	for (unsigned b = 0; b < PROCESS_BUCKETS; b++)
		while (d->buckets[b])
			process_remove(d, d->buckets[b]->pid);
	while (d->jobs) {
		struct job *j = d->jobs;

		d->jobs = j->next;
		capture__free(j->capture);
		free(j);
	}
	free(d);
}
