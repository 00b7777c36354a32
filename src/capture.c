// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The capture state machine. One timer drives the waits of the current
 * state; each state's timeout ends the capture with a reason, and every
 * way out goes through capture_fail() or capture_close_inspector(), which
 * leave the target as they found it.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "cdp.h"
#include "inspector.h"
#include "log.h"
#include "meta.h"
#include "options.h"
#include "procfs.h"
#include "sockdiag.h"
#include "spool.h"

#define SIGCGT_WAIT_USEC        (500 * LWS_US_PER_MS)   /* a process just after exec */
#define SIGCGT_POLL_USEC        (10 * LWS_US_PER_MS)
#define OPEN_POLL_USEC          (1 * LWS_US_PER_MS)
#define STOP_TIMEOUT_USEC       (120 * LWS_US_PER_SEC)  /* a large profile to serialize */
#define CLOSE_TIMEOUT_USEC      (5 * LWS_US_PER_SEC)
#define VERIFY_TIMEOUT_USEC     (2 * LWS_US_PER_SEC)
#define VERIFY_POLL_USEC        (5 * LWS_US_PER_MS)
#define CMDLINE_MAX             (64 * 1024)
#define CMDLINE_ARGS_MAX        256

enum capture_state {
	CAPTURE_LOCATING,       /* waiting for SIGUSR1 to be caught */
	CAPTURE_OPENING,        /* SIGUSR1 sent: waiting for the inspector's port */
	CAPTURE_CONNECTING,     /* /json/version, /json/list, WebSocket */
	CAPTURE_STARTING,
	CAPTURE_RUNNING,
	CAPTURE_STOPPING,
	CAPTURE_CLOSING,        /* process._debugEnd() sent */
	CAPTURE_VERIFYING,      /* waiting for the port to be gone */
	CAPTURE_DONE,
};

static const char *const state_names[] = {
	[CAPTURE_LOCATING] = "locating",   [CAPTURE_OPENING] = "opening",
	[CAPTURE_CONNECTING] = "connecting", [CAPTURE_STARTING] = "starting",
	[CAPTURE_RUNNING] = "running",     [CAPTURE_STOPPING] = "stopping",
	[CAPTURE_CLOSING] = "closing",     [CAPTURE_VERIFYING] = "verifying",
	[CAPTURE_DONE] = "done",
};

enum { TAG_DEBUG_END = PROFILE_TAG_OTHER };

struct capture {
	const struct capture_env *env;
	const struct profile_ops *ops;
	enum profile_kind kind;
	pid_t pid;
	int pidfd;
	struct capture_trigger trigger;
	enum capture_state state;
	capture_done_fn done;
	void *owner;

	struct container_info container;        /* the target's, for meta.json */

	/* What the target looked like before we sent SIGUSR1. */
	uint64_t *sockets_before;
	int nsockets_before;
	uint64_t *sockets_now;          /* while opening: the fds' socket inodes at the last poll */
	struct procfs_listener listeners_before[PROCFS_MAX_LISTENERS];
	int nlisteners_before;

	uint16_t port;
	uint64_t listener_inode;
	uint64_t start_time;            /* /proc/PID/stat's, for the ledger; 0 if unread */
	bool recorded;                  /* in the ledger: an inspector we opened may be open */
	bool closed;                    /* the inspector we opened is verified closed */
	bool closer;                    /* capture__new_closer(): no profile, only the closing */
	bool at_start;                  /* closer: for a previous agent, not a late inspector */
	bool target_exited;             /* told so (a zombie still takes signal 0) */
	bool sigusr1_sent;              /* an inspector of ours may open, even late */
	bool guessed_port;              /* closer: the record had no port, one was picked */
	bool opened_by_us;
	bool close_retried;
	bool debug_end_sent;
	bool export_failed;             /* profiled, not written: the error says why */
	char node_version[CDP_VERSION_MAX];     /* set once the port answered as node's inspector */
	bool probe_failed;                      /* a session to the port failed before it said so */
	struct inspector_session *session;

	lws_sorted_usec_list_t timer;           /* the current state's poll or timeout */
	lws_sorted_usec_list_t max_timer;       /* --max-duration */
	lws_sorted_usec_list_t done_sul;
	lws_usec_t deadline;

	struct timespec started_rt, ended_rt;
	uint64_t duration_usec;
	struct spool_file *file;        /* the profile as it streams in; NULL before and after */
	int sink_error;                 /* writing it failed: -errno */
	bool committing;                /* handed to the spool: done only once it answered */
	char files[CAPTURE_FILES_MAX][4096];
	double latency_ms;
	bool stop_requested;
	const char *stop_reason;
	char error[256];

	/* Read at trigger time: the target may be gone at export. */
	char comm[INSPECTD_COMM_LEN];
	char exe[4096];
	char *cmdline;
	char *argv[CMDLINE_ARGS_MAX];
	int argc;
};

static const struct inspector_session_ops session_ops;
static void capture_fail(struct capture *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void capture_close_inspector(struct capture *c);
static void capture_connect(struct capture *c);
static void ledger_settle(struct capture *c);

static void set_state(struct capture *c, enum capture_state state)
{
	log_debug("pid %d: %s capture %s -> %s", (int)c->pid, c->ops->name, state_names[c->state],
		  state_names[state]);
	c->state = state;
}

static void arm(struct capture *c, sul_cb_t cb, lws_usec_t us)
{
	lws_sul_schedule(c->env->ctx, 0, &c->timer, cb, us);
}

static void disarm(struct capture *c)
{
	lws_sul_schedule(c->env->ctx, 0, &c->timer, NULL, LWS_SET_TIMER_USEC_CANCEL);
}

static void done_cb(lws_sorted_usec_list_t *sul)
{
	struct capture *c = lws_container_of(sul, struct capture, done_sul);

	c->done(c->owner, c);
}

static void capture_finish(struct capture *c)
{
	if (c->state == CAPTURE_DONE)
		return;
	disarm(c);
	lws_sul_schedule(c->env->ctx, 0, &c->max_timer, NULL, LWS_SET_TIMER_USEC_CANCEL);
	inspector_session__free(c->session);
	c->session = NULL;
	ledger_settle(c);
	set_state(c, CAPTURE_DONE);
	spool_file__abort(c->file);     /* a profile that never became whole */
	c->file = NULL;
	/* The owner frees us: not from inside whatever callback got us here, and not
	 * before the spool said whether the files are there. */
	if (!c->committing)
		lws_sul_schedule(c->env->ctx, 0, &c->done_sul, done_cb, 1);
}

static int send_sigusr1(struct capture *c)
{
	/* Through the pidfd: a recycled pid can never receive it. */
	if (syscall(SYS_pidfd_send_signal, c->pidfd, SIGUSR1, NULL, 0) < 0)
		return -errno;
	return 0;
}

static bool target_alive(const struct capture *c)
{
	return syscall(SYS_pidfd_send_signal, c->pidfd, 0, NULL, 0) == 0;
}

/* ---- the ledger: what a killed agent would leave open ---- */

static int ledger_note(struct capture *c)
{
	struct ledger_entry e = {
		.pid = c->pid, .start_time = c->start_time, .port = c->port, .inode = c->listener_inode,
	};
	int r;

	if (!c->env->ledger || c->state == CAPTURE_DONE)
		return 0;
	if (!c->start_time)
		return -ESRCH;          /* /proc/PID/stat was not readable at the trigger */
	r = ledger__record(c->env->ledger, &e);
	if (r < 0) {
		log_warn("pid %d: cannot record the inspector we open in %s: %s", (int)c->pid,
			 ledger__path(c->env->ledger), strerror(-r));
		return r;
	}
	c->recorded = true;
	return 0;
}

/* Kept while an inspector we opened, or asked to open, may still be open in a live target. */
static void ledger_settle(struct capture *c)
{
	if (!c->recorded)
		return;
	if ((c->opened_by_us || c->sigusr1_sent) && !c->closed && !c->target_exited && target_alive(c)) {
		if (!c->closer)         /* a closer said why itself */
			log_warn("pid %d: %s: kept in %s for the next capture or agent to close", (int)c->pid,
				 c->opened_by_us ? "the inspector we opened may still be open"
						 : "SIGUSR1 was sent and no inspector appeared (it may open late)",
				 ledger__path(c->env->ledger));
		return;
	}
	ledger__forget(c->env->ledger, c->pid);
	c->recorded = false;
}

/*
 * A record of ours for this very process (same start time) that an earlier capture or
 * agent kept: the inspector it names, or the one it asked for, is ours to close.
 */
static bool ledger_kept(struct capture *c, struct ledger_entry *e)
{
	return c->env->ledger && c->start_time && ledger__get(c->env->ledger, c->pid, e) == 0 &&
	       e->start_time == c->start_time;
}

/* ---- locating and opening the inspector ---- */

/* The listener with this socket inode among l, or -1. */
static int listener_index(const struct procfs_listener *l, int n, uint64_t inode)
{
	for (int i = 0; i < n; i++)
		if (l[i].inode == inode)
			return i;
	return -1;
}

/* The target's socket inodes into c->sockets_now when they differ from before SIGUSR1; else -1. */
static int sockets_changed(struct capture *c)
{
	int n = procfs_socket_inodes(c->pid, c->sockets_now, PROCFS_MAX_SOCKETS);

	if (n < 0)
		return -1;
	if (n == c->nsockets_before && !memcmp(c->sockets_now, c->sockets_before, (size_t)n * sizeof(uint64_t)))
		return -1;
	return n;
}

static void poll_open(lws_sorted_usec_list_t *sul)
{
	struct capture *c = lws_container_of(sul, struct capture, timer);
	struct procfs_listener now[PROCFS_MAX_LISTENERS];
	int nsockets, n, i;

	/* Listing listeners takes two netlink round trips; the fd list is cheaper: only once a new socket exists. */
	nsockets = sockets_changed(c);
	if (nsockets >= 0) {
		n = sockdiag_listeners(c->pid, c->sockets_now, (size_t)nsockets, now, PROCFS_MAX_LISTENERS);
		i = n > 0 ? inspector_pick_new(c->listeners_before, c->nlisteners_before, now, n) : -1;
		if (i >= 0) {
			c->port = now[i].port;
			c->listener_inode = now[i].inode;
			c->opened_by_us = true;
			log_debug("pid %d: inspector listening on port %u", (int)c->pid, c->port);
			capture_connect(c);
			/* Its port into the record while the connection is under way (a replacing
			 * write costs ~80 us on tmpfs; not on the trigger's path). */
			ledger_note(c);
			return;
		}
	}
	if (lws_now_usecs() > c->deadline) {
		capture_fail(c, "inspector did not open within %llu ms after SIGUSR1 "
			     "(port taken by another process in its network namespace?)",
			     (unsigned long long)(c->env->settings->attach_timeout_usec / 1000));
		return;
	}
	arm(c, poll_open, OPEN_POLL_USEC);
}

static void poll_sigcgt(lws_sorted_usec_list_t *sul)
{
	struct capture *c = lws_container_of(sul, struct capture, timer);
	uint64_t caught = 0;
	int r;

	r = procfs_read_signal_caught(c->pid, &caught);
	if (r < 0 || !target_alive(c)) {
		capture_fail(c, "cannot read /proc/%d/status: %s", (int)c->pid, strerror(r < 0 ? -r : ESRCH));
		return;
	}
	if (!inspector_catches_sigusr1(caught)) {
		if (lws_now_usecs() < c->deadline) {
			arm(c, poll_sigcgt, SIGCGT_POLL_USEC);
			return;
		}
		capture_fail(c, "process does not catch SIGUSR1 (not node, or node started with "
			     "--disable-sigusr1): not sending it");
		return;
	}
	/* Recorded before it can open: an agent killed from here on leaves a record. Without
	 * one, a killed agent would leave the inspector open: no SIGUSR1 then. */
	r = ledger_note(c);
	if (r < 0) {
		capture_fail(c, "cannot record the inspector we would open (%s): not sending SIGUSR1",
			     strerror(-r));
		return;
	}
	c->sigusr1_sent = true;
	r = send_sigusr1(c);
	if (r < 0) {
		capture_fail(c, "sending SIGUSR1: %s", strerror(-r));
		return;
	}
	log_debug("pid %d: SIGUSR1 sent to open the inspector", (int)c->pid);
	set_state(c, CAPTURE_OPENING);
	c->deadline = lws_now_usecs() + (lws_usec_t)c->env->settings->attach_timeout_usec;
	arm(c, poll_open, OPEN_POLL_USEC);
}

static void capture_locate(struct capture *c)
{
	struct ledger_entry e;
	uint16_t cmdline_port = 0;
	bool kept;
	int n, i;

	/* The target's sockets once: what it listens on now, and what SIGUSR1 must add to. */
	c->sockets_before = calloc(PROCFS_MAX_SOCKETS, sizeof(uint64_t));
	c->sockets_now = calloc(PROCFS_MAX_SOCKETS, sizeof(uint64_t));
	if (!c->sockets_before || !c->sockets_now) {
		capture_fail(c, "out of memory");
		return;
	}
	n = procfs_socket_inodes(c->pid, c->sockets_before, PROCFS_MAX_SOCKETS);
	if (n >= 0) {
		c->nsockets_before = n;
		n = sockdiag_listeners(c->pid, c->sockets_before, (size_t)n, c->listeners_before,
				       PROCFS_MAX_LISTENERS);
	}
	if (n < 0) {
		capture_fail(c, "cannot read the sockets of /proc/%d: %s", (int)c->pid, strerror(-n));
		return;
	}
	c->nlisteners_before = n;
	kept = ledger_kept(c, &e);
	i = kept && e.inode ? listener_index(c->listeners_before, n, e.inode) : -1;
	procfs_cmdline_inspect_port(c->argv, c->argc, &cmdline_port);
	if (i < 0)
		i = inspector_pick_open(c->listeners_before, n, cmdline_port);
	if (i >= 0) {
		c->port = c->listeners_before[i].port;
		c->listener_inode = c->listeners_before[i].inode;
		c->opened_by_us = kept && (!e.inode || e.inode == c->listener_inode);
		if (c->opened_by_us) {
			c->recorded = true;
			log_info("pid %d: inspector on port %u is one an earlier capture opened and could not "
				 "close: using it, closing it afterwards", (int)c->pid, c->port);
		} else {
			log_info("pid %d: inspector already open on port %u, using it (left open afterwards)",
				 (int)c->pid, c->port);
		}
		capture_connect(c);
		return;
	}

	set_state(c, CAPTURE_LOCATING);
	c->deadline = lws_now_usecs() + SIGCGT_WAIT_USEC;
	poll_sigcgt(&c->timer);
}

/* ---- the session ---- */

static void state_timeout(lws_sorted_usec_list_t *sul)
{
	struct capture *c = lws_container_of(sul, struct capture, timer);

	if (c->state == CAPTURE_CLOSING) {
		/* _debugEnd() normally drops the WebSocket at once. */
		if (c->debug_end_sent)
			log_error("pid %d: inspector did not close after process._debugEnd()", (int)c->pid);
		else
			log_error("pid %d: no answer from the inspector: it may stay open on port %u",
				  (int)c->pid, c->port);
		capture_finish(c);
		return;
	}
	if (c->state == CAPTURE_CONNECTING)
		c->probe_failed = true;
	capture_fail(c, "no answer from the inspector while %s", state_names[c->state]);
}

static void capture_connect(struct capture *c)
{
	set_state(c, CAPTURE_CONNECTING);
	c->session = inspector_session__new(c->env->ctx, c->pid, c->port, &session_ops, c);
	if (!c->session) {
		capture_fail(c, "cannot connect to the inspector on port %u", c->port);
		return;
	}
	arm(c, state_timeout, (lws_usec_t)c->env->settings->attach_timeout_usec);
}

static void max_duration_reached(lws_sorted_usec_list_t *sul)
{
	struct capture *c = lws_container_of(sul, struct capture, max_timer);

	if (c->duration_usec && c->duration_usec < c->env->settings->max_duration_usec) {
		log_info("pid %d: %s capture ran its %llu s, stopping", (int)c->pid, c->ops->name,
			 (unsigned long long)(c->duration_usec / 1000000));
		capture__request_stop(c, "duration");
		return;
	}
	log_info("pid %d: %s capture reached --max-duration, stopping", (int)c->pid, c->ops->name);
	capture__request_stop(c, "max-duration");
}

static void capture_stop(struct capture *c)
{
	int r;

	set_state(c, CAPTURE_STOPPING);
	lws_sul_schedule(c->env->ctx, 0, &c->max_timer, NULL, LWS_SET_TIMER_USEC_CANCEL);
	r = c->ops->stop(c->session);
	if (r < 0) {
		capture_fail(c, "cannot send the stop command: %s", strerror(-r));
		return;
	}
	arm(c, state_timeout, STOP_TIMEOUT_USEC);
}

static void session_ready(void *owner)
{
	struct capture *c = owner;
	int r;

	snprintf(c->node_version, sizeof(c->node_version), "%s",
		 inspector_session__node_version(c->session) ? inspector_session__node_version(c->session) : "");
	if (c->state == CAPTURE_CLOSING) {
		/* Reconnected only to close what we opened. */
		capture_close_inspector(c);
		return;
	}
	set_state(c, CAPTURE_STARTING);
	r = c->ops->start(c->session, c->env->settings);
	if (r < 0) {
		capture_fail(c, "cannot send the start command: %s", strerror(-r));
		return;
	}
	arm(c, state_timeout, (lws_usec_t)c->env->settings->command_timeout_usec);
}

static double monotonic_ms_since(uint64_t ktime_ns)
{
	struct timespec now;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	return ns > ktime_ns ? (double)(ns - ktime_ns) / 1e6 : 0;
}

static int read_metadata(struct capture *c)
{
	ssize_t n;

	procfs_read_comm(c->pid, c->comm, sizeof(c->comm));
	procfs_read_exe(c->pid, c->exe, sizeof(c->exe));
	if (procfs_read_starttime(c->pid, &c->start_time) < 0)
		c->start_time = 0;
	c->cmdline = malloc(CMDLINE_MAX);
	if (!c->cmdline)
		return -ENOMEM;
	n = procfs_read(c->pid, "cmdline", c->cmdline, CMDLINE_MAX);
	if (n < 0)
		return (int)n;
	c->argc = procfs_split_cmdline(c->cmdline, (size_t)n, c->argv, CMDLINE_ARGS_MAX);
	return 0;
}

/* The spool committed the profile and its meta.json, or could not. */
static void commit_done(void *ctx, int result, const char *const *paths, size_t n)
{
	struct capture *c = ctx;

	c->committing = false;
	if (result < 0) {
		log_error("pid %d: writing %s: %s", (int)c->pid, n ? paths[0] : spool__dir(c->env->spool),
			  strerror(-result));
		if (!c->error[0])
			snprintf(c->error, sizeof(c->error), "export failed: %s", strerror(-result));
		c->export_failed = true;
	} else {
		for (size_t i = 0; i < n && i < CAPTURE_FILES_MAX; i++)
			snprintf(c->files[i], sizeof(c->files[i]), "%s", paths[i]);
		log_info("pid %d: %s exported to %s", (int)c->pid, c->ops->type, c->files[0]);
	}
	if (c->state == CAPTURE_DONE)
		lws_sul_schedule(c->env->ctx, 0, &c->done_sul, done_cb, 1);
}

/* The profile is whole in c->file: name it, describe it, and hand both to the spool. */
static int export_profile(struct capture *c)
{
	const char *const exts[] = { c->ops->extension };
	const struct settings *st = c->env->settings;
	struct meta_process mp = {
		.pid = c->pid, .comm = c->comm, .argv = c->argv, .argc = c->argc, .exe = c->exe,
		.node_version = c->node_version[0] ? c->node_version : NULL,
		.hostname = c->env->hostname, .container = &c->container,
	};
	char signame[32], base[SPOOL_BASE_SIZE], stamp[256], name[SPOOL_BASE_SIZE + SPOOL_EXT_SIZE];
	struct meta_trigger mt = {
		.kind = trigger_source_name(c->trigger.source),
		.signal = c->trigger.sig ? options_signal_name(c->trigger.sig, signame, sizeof(signame)) : NULL,
		.sender_pid = c->trigger.sender_pid, .sender_ns_pid = c->trigger.sender_ns_pid,
		.sender_comm = c->trigger.sender_comm, .ktime_ns = c->trigger.ktime_ns,
		.latency_ms = c->latency_ms,
		.has_threshold = c->trigger.has_threshold, .unit = c->trigger.unit,
		.threshold = c->trigger.threshold, .observed = c->trigger.observed,
		.detected_by = c->trigger.detected_by,
	};
	struct meta_profile mprof = {
		.type = c->ops->type, .started_at = c->started_rt, .ended_at = c->ended_rt,
		.interval_name = c->ops->interval_name, .interval = c->ops->interval(st),
		.stop_reason = c->stop_reason,
	};
	char *text = NULL;
	cJSON *meta;
	int r;

	r = meta_file_base(c->ops->type, c->pid, c->started_rt.tv_sec, stamp, sizeof(stamp));
	if (r < 0)
		return r;
	r = spool__reserve_base(c->env->spool, stamp, exts, 1, base, sizeof(base));
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%s.%s", base, c->ops->extension);
	meta = meta_build(&mp, &mt, &mprof);
	if (!meta || !cJSON_AddStringToObject(cJSON_GetObjectItem(meta, "profile"), "file", name) ||
	    !(text = cJSON_Print(meta))) {
		cJSON_Delete(meta);
		return -ENOMEM;
	}
	cJSON_Delete(meta);
	/* file and text are the spool's now, whatever it answers. */
	r = spool__commit(c->env->spool, base, &c->file, exts, 1, text, commit_done, c);
	c->file = NULL;
	if (r < 0)
		return r;
	c->committing = true;
	return 0;
}

/* Bytes of the profile as they arrive: straight to its file in the spool. */
static int profile_sink(void *ctx, const char *buf, size_t len)
{
	struct capture *c = ctx;
	int r = 0;

	if (c->sink_error)
		return c->sink_error;
	if (!c->file)
		r = spool__begin(c->env->spool, &c->file);
	if (r == 0)
		r = spool_file__write(c->file, buf, len);
	if (r < 0) {
		char stamp[256];

		c->sink_error = r;
		if (meta_file_base(c->ops->type, c->pid, c->started_rt.tv_sec, stamp, sizeof(stamp)) < 0)
			stamp[0] = '\0';
		log_error("pid %d: writing %s/%s.%s: %s", (int)c->pid, spool__dir(c->env->spool), stamp,
			  c->ops->extension, strerror(-r));
		snprintf(c->error, sizeof(c->error), "export failed: %s", strerror(-r));
		c->export_failed = true;
	}
	return r;
}

static enum profile_phase phase_of(const struct capture *c)
{
	switch (c->state) {
	case CAPTURE_RUNNING:
		return PROFILE_PHASE_RUNNING;
	case CAPTURE_STOPPING:
		return PROFILE_PHASE_STOPPING;
	default:
		return PROFILE_PHASE_STARTING;
	}
}

/* What the target may send now, and where its profile goes. */
static void session_message_begin(void *owner, struct cdp_reader_watch *w, size_t *budget)
{
	struct capture *c = owner;
	enum profile_phase phase = phase_of(c);

	*budget = profile_budget(c->ops, phase, c->env->settings);
	if (phase != PROFILE_PHASE_STOPPING || c->closer)
		return;
	/* Only the stop answer's profile counts: anything an earlier message streamed goes. */
	if (c->file && spool_file__size(c->file) && spool_file__reset(c->file) < 0) {
		spool_file__abort(c->file);
		c->file = NULL;
	}
	w->path[0] = "result";
	w->path[1] = c->ops->result_key;
	w->mode = CDP_READER_RAW;
	w->sink = profile_sink;
	w->ctx = c;
}

static void session_response(void *owner, int tag, const struct cdp_reader_header *h)
{
	struct capture *c = owner;
	const char *error = h->has_error ? (h->error[0] ? h->error : "(no message)") : NULL;
	int r;

	if (error) {
		if (tag == PROFILE_TAG_STEP && c->state != CAPTURE_STARTING) {
			log_warn("pid %d: inspector refused a command: %s, ignoring", (int)c->pid, error);
			return;
		}
		capture_fail(c, "inspector refused to %s the %s profiler: %s",
			     c->state == CAPTURE_STOPPING ? "stop" : "start", c->ops->name, error);
		return;
	}

	switch (tag) {
	case PROFILE_TAG_STARTED:
		if (c->state != CAPTURE_STARTING)
			return;
		disarm(c);
		clock_gettime(CLOCK_REALTIME, &c->started_rt);
		c->latency_ms = monotonic_ms_since(c->trigger.ktime_ns);
		set_state(c, CAPTURE_RUNNING);
		log_info("pid %d: %s profiling started (%.1f ms after the trigger)", (int)c->pid, c->ops->name,
			 c->latency_ms);
		if (c->stop_requested) {
			capture_stop(c);
			return;
		}
		{
			uint64_t us = c->env->settings->max_duration_usec;

			if (c->duration_usec && c->duration_usec < us)
				us = c->duration_usec;
			lws_sul_schedule(c->env->ctx, 0, &c->max_timer, max_duration_reached, (lws_usec_t)us);
		}
		return;

	case PROFILE_TAG_STOPPED:
		if (c->state != CAPTURE_STOPPING)
			return;
		disarm(c);
		clock_gettime(CLOCK_REALTIME, &c->ended_rt);
		if (!h->watched_seen || !c->file) {
			capture_fail(c, "stop answered without a profile");
			return;
		}
		r = export_profile(c);
		if (r < 0) {
			log_error("pid %d: exporting to %s: %s", (int)c->pid, spool__dir(c->env->spool), strerror(-r));
			if (!c->error[0])
				snprintf(c->error, sizeof(c->error), "export failed: %s", strerror(-r));
			c->export_failed = true;
		}
		capture_close_inspector(c);
		return;

	default:
		return;
	}
}

static void session_event(void *owner, const struct cdp_reader_header *h)
{
	struct capture *c = owner;

	log_debug("pid %d: event %s, ignoring", (int)c->pid, h->method);
}

static void verify_closed(lws_sorted_usec_list_t *sul)
{
	struct capture *c = lws_container_of(sul, struct capture, timer);
	struct procfs_listener now[PROCFS_MAX_LISTENERS];
	int n = sockdiag_target_listeners(c->pid, now, PROCFS_MAX_LISTENERS);
	bool open = listener_index(now, n, c->listener_inode) >= 0;

	if (!open || n < 0) {
		log_info("pid %d: inspector closed%s", (int)c->pid,
			 !c->closer ? "" : c->at_start ? " (a previous agent opened it and was killed before it could)"
						       : " (it opened after its capture had ended)");
		c->closed = n >= 0;
		capture_finish(c);
		return;
	}
	if (lws_now_usecs() > c->deadline) {
		log_error("pid %d: inspector port %u still open%s", (int)c->pid, c->port,
			  c->debug_end_sent ? " after process._debugEnd()" : "");
		capture_finish(c);
		return;
	}
	arm(c, verify_closed, VERIFY_POLL_USEC);
}

static void session_closed(void *owner, const char *reason)
{
	struct capture *c = owner;

	inspector_session__free(c->session);
	c->session = NULL;

	switch (c->state) {
	case CAPTURE_CLOSING:
		if (c->guessed_port && !c->node_version[0]) {
			/* The record had no port and the one picked is not node's inspector. */
			log_info("pid %d: port %u is not an inspector: nothing of ours to close", (int)c->pid,
				 c->port);
			c->closed = true;
			capture_finish(c);
		} else if (c->opened_by_us) {
			/* _debugEnd() drops the connection: expected. */
			set_state(c, CAPTURE_VERIFYING);
			c->deadline = lws_now_usecs() + VERIFY_TIMEOUT_USEC;
			arm(c, verify_closed, VERIFY_POLL_USEC);
		} else {
			capture_finish(c);
		}
		return;
	case CAPTURE_CONNECTING:
		c->probe_failed = true;
		capture_fail(c, "%s", reason);
		return;
	case CAPTURE_STARTING:
	case CAPTURE_RUNNING:
	case CAPTURE_STOPPING:
		capture_fail(c, "DevTools session lost while %s, the profile is lost: %s",
			     state_names[c->state], reason);
		return;
	default:
		return;
	}
}

static const struct inspector_session_ops session_ops = {
	.ready = session_ready,
	.message_begin = session_message_begin,
	.response = session_response,
	.event = session_event,
	.closed = session_closed,
};

/* ---- leaving the target as we found it ---- */

static void capture_close_inspector(struct capture *c)
{
	cJSON *params;
	int r;

	if (!c->opened_by_us) {
		/* Someone else's inspector stays open; our session ends, and with it the profiler. */
		log_info("pid %d: inspector left open as found", (int)c->pid);
		capture_finish(c);
		return;
	}
	set_state(c, CAPTURE_CLOSING);
	if (c->session && !inspector_session__is_open(c->session)) {
		/* Half-way through connecting: start over, just to close. */
		inspector_session__free(c->session);
		c->session = NULL;
	}
	if (!c->session) {
		/* The session broke: open another just to close the inspector. Once, and only
		 * if the port ever answered as node's inspector: a stranger's port is not ours
		 * to talk to again. */
		if (c->probe_failed && !c->node_version[0]) {
			log_warn("pid %d: port %u never answered as a node inspector: not closing it",
				 (int)c->pid, c->port);
			c->closed = true;       /* no inspector of ours to close there */
			capture_finish(c);
			return;
		}
		if (c->close_retried || !target_alive(c)) {
			log_error("pid %d: cannot reach the inspector to close it", (int)c->pid);
			capture_finish(c);
			return;
		}
		c->close_retried = true;
		c->session = inspector_session__new(c->env->ctx, c->pid, c->port, &session_ops, c);
		if (!c->session) {
			log_error("pid %d: cannot reconnect to close the inspector on port %u", (int)c->pid,
				  c->port);
			capture_finish(c);
			return;
		}
		arm(c, state_timeout, (lws_usec_t)c->env->settings->attach_timeout_usec);
		return;
	}
	params = cJSON_CreateObject();
	if (params)
		cJSON_AddStringToObject(params, "expression", "process._debugEnd()");
	r = inspector_session__send(c->session, TAG_DEBUG_END, "Runtime.evaluate", params);
	if (r < 0) {
		log_error("pid %d: cannot ask the inspector to close: %s", (int)c->pid, strerror(-r));
		capture_finish(c);
		return;
	}
	c->debug_end_sent = true;
	arm(c, state_timeout, CLOSE_TIMEOUT_USEC);
}

static void capture_fail(struct capture *c, const char *fmt, ...)
{
	va_list ap;

	if (c->state == CAPTURE_DONE)
		return;
	if (!c->error[0]) {
		va_start(ap, fmt);
		vsnprintf(c->error, sizeof(c->error), fmt, ap);
		va_end(ap);
	}
	log_error("pid %d: %s capture failed: %s", (int)c->pid, c->ops->name, c->error);
	disarm(c);

	switch (c->state) {
	case CAPTURE_CLOSING:
	case CAPTURE_VERIFYING:
		capture_finish(c);
		return;
	case CAPTURE_OPENING: {
		/* SIGUSR1 was sent: the inspector may have opened just now. One last look. */
		struct procfs_listener now[PROCFS_MAX_LISTENERS];
		int n = sockdiag_target_listeners(c->pid, now, PROCFS_MAX_LISTENERS);
		int i = n > 0 ? inspector_pick_new(c->listeners_before, c->nlisteners_before, now, n) : -1;

		if (i < 0) {
			capture_finish(c);
			return;
		}
		c->port = now[i].port;
		c->listener_inode = now[i].inode;
		c->opened_by_us = true;
		ledger_note(c);
		break;
	}
	default:
		break;
	}
	capture_close_inspector(c);
}

/* ---- the public side ---- */

/* A capture of pid, locating, with what /proc says of it read now; NULL on failure. */
static struct capture *capture_alloc(const struct capture_env *env, pid_t pid, int pidfd,
				     enum profile_kind kind, capture_done_fn done, void *owner)
{
	struct capture *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->env = env;
	c->kind = kind;
	c->ops = profile_ops(kind);
	c->pid = pid;
	c->pidfd = pidfd;
	c->done = done;
	c->owner = owner;
	c->latency_ms = -1;
	c->state = CAPTURE_LOCATING;
	if (read_metadata(c) < 0) {
		capture__free(c);
		return NULL;
	}
	return c;
}

struct capture *capture__new(const struct capture_env *env, pid_t pid, int pidfd,
			     const struct container_info *container, enum profile_kind kind,
			     const struct capture_trigger *t, uint64_t duration_usec, capture_done_fn done,
			     void *owner)
{
	struct capture *c = capture_alloc(env, pid, pidfd, kind, done, owner);

	if (!c)
		return NULL;
	if (container)
		c->container = *container;
	c->trigger = *t;
	c->duration_usec = duration_usec;
	capture_locate(c);
	return c;
}

struct capture *capture__new_closer(const struct capture_env *env, pid_t pid, int pidfd,
				    const struct ledger_entry *e, bool at_start, capture_done_fn done,
				    void *owner)
{
	struct procfs_listener now[PROCFS_MAX_LISTENERS];
	struct capture *c = capture_alloc(env, pid, pidfd, PROFILE_HEAP, done, owner);
	uint16_t cmdline_port = 0;
	int n, i = -1;

	if (!c)
		return NULL;
	/* Its start time, read now, is the record's: the caller checked it under the pidfd. */
	c->closer = true;
	c->at_start = at_start;
	c->opened_by_us = true;
	c->recorded = true;
	c->trigger.source = TRIGGER_SOURCE_CLEANUP;

	/* The record's own socket; without one (killed between SIGUSR1 and finding the port),
	 * the inspector as a capture would pick an open one. */
	n = sockdiag_target_listeners(pid, now, PROCFS_MAX_LISTENERS);
	if (n > 0 && e->inode) {
		i = listener_index(now, n, e->inode);
	} else if (n > 0) {
		procfs_cmdline_inspect_port(c->argv, c->argc, &cmdline_port);
		i = inspector_pick_open(now, n, cmdline_port);
	}
	if (i < 0) {
		if (e->inode) {
			log_info("pid %d: the inspector recorded for it is not open any more", (int)pid);
			c->closed = n >= 0;
		} else {
			/* SIGUSR1 was sent (by an agent killed right after, or answered late): the
			 * inspector may still open. The record stays; looked at again later. */
			log_emit(at_start ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
				 "pid %d: %s sent SIGUSR1 and no inspector is open (yet): record kept", (int)pid,
				 at_start ? "a previous agent" : "an earlier capture");
			c->sigusr1_sent = true;
		}
		capture_finish(c);
		return c;
	}
	c->guessed_port = !e->inode;
	c->port = now[i].port;
	c->listener_inode = now[i].inode;
	if (at_start)
		log_info("pid %d: a previous agent opened its inspector (port %u) and was killed: closing it",
			 (int)pid, c->port);
	else
		log_info("pid %d: inspector on port %u opened after its capture had ended: closing it",
			 (int)pid, c->port);
	capture_close_inspector(c);
	return c;
}

void capture__request_stop(struct capture *c, const char *reason)
{
	if (c->stop_requested || c->state > CAPTURE_RUNNING)
		return;
	c->stop_requested = true;
	c->stop_reason = reason;
	if (c->state == CAPTURE_RUNNING)
		capture_stop(c);
	else
		log_info("pid %d: stop requested before the %s profiler runs: stopping once it does",
			 (int)c->pid, c->ops->name);
}

void capture__target_exited(struct capture *c)
{
	c->target_exited = true;
	if (c->state == CAPTURE_DONE)
		return;
	if (c->state < CAPTURE_CLOSING && !c->error[0]) {
		snprintf(c->error, sizeof(c->error), "target exited while %s", state_names[c->state]);
		log_warn("pid %d: %s capture abandoned: %s", (int)c->pid, c->ops->name, c->error);
	}
	capture_finish(c);
}

enum profile_kind capture__kind(const struct capture *c)
{
	return c->kind;
}

pid_t capture__pid(const struct capture *c)
{
	return c->pid;
}

const char *capture__error(const struct capture *c)
{
	return c->error[0] ? c->error : NULL;
}

enum capture_outcome capture__outcome(const struct capture *c)
{
	if (c->export_failed)
		return CAPTURE_EXPORT_FAILED;
	return c->error[0] ? CAPTURE_FAILED : CAPTURE_OK;
}

double capture__latency_ms(const struct capture *c)
{
	return c->latency_ms;
}

const char *capture__state_name(const struct capture *c)
{
	switch (c->state) {
	case CAPTURE_RUNNING:
		return "running";
	case CAPTURE_STOPPING:
	case CAPTURE_CLOSING:
	case CAPTURE_VERIFYING:
		return "stopping";
	case CAPTURE_DONE:
		return c->committing ? "stopping" : "done";    /* its files are still being written */
	default:
		return "starting";
	}
}

const char *capture__file(const struct capture *c, unsigned i)
{
	return i < CAPTURE_FILES_MAX && c->files[i][0] ? c->files[i] : NULL;
}

struct timespec capture__started_at(const struct capture *c)
{
	return c->started_rt;
}

struct timespec capture__ended_at(const struct capture *c)
{
	return c->ended_rt;
}

void capture__free(struct capture *c)
{
	if (!c)
		return;
	lws_sul_schedule(c->env->ctx, 0, &c->timer, NULL, LWS_SET_TIMER_USEC_CANCEL);
	lws_sul_schedule(c->env->ctx, 0, &c->max_timer, NULL, LWS_SET_TIMER_USEC_CANCEL);
	lws_sul_schedule(c->env->ctx, 0, &c->done_sul, NULL, LWS_SET_TIMER_USEC_CANCEL);
	inspector_session__free(c->session);
	if (c->committing)
		spool__cancel(c->env->spool, c);        /* the files still land; nobody is told */
	spool_file__abort(c->file);
	free(c->sockets_before);
	free(c->sockets_now);
	free(c->cmdline);
	free(c);
}
