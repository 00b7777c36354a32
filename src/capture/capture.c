// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * One capture, as a state machine over three collaborators:
 *
 *   locate (locate.h) -> connect -> start -> running -> stop, the profile streamed
 *   into the spool -> commit (spool.h) and close (inspector_close.h) -> done
 *
 * One timer drives the waits of the session's states; each state's timeout ends the
 * capture with a reason. Every way out goes through capture_fail() or capture_close(),
 * which leave the target as they found it: the profiler stopped with the session, the
 * inspector closed if we opened it, the ledger settled.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "cdp.h"
#include "exporter.h"
#include "headroom.h"
#include "inspector_close.h"
#include "locate.h"
#include "log.h"
#include "meta.h"
#include "options.h"
#include "procfs.h"
#include "spool.h"

#define STOP_TIMEOUT_USEC       (120 * LWS_US_PER_SEC)  /* a large profile to serialize */
#define RSS_SAMPLE_USEC         (100 * LWS_US_PER_MS)   /* the target's RSS while a snapshot is taken */
#define USAGE_MAX               4096                    /* Runtime.getHeapUsage's result: ~100 bytes */
#define RSS_NEAR_LIMIT          0.9                     /* of the room a snapshot had: warn once */

/* The capture's own commands. */
enum {
	CAPTURE_TAG_HEAP_USAGE = PROFILE_TAG_OTHER,     /* Runtime.getHeapUsage: the headroom's input */
};

/* Where output 0's framing is in the watched value of the message being read (profile.h). */
enum items_state {
	ITEMS_BEFORE,           /* before its '[' */
	ITEMS_OPEN,             /* after '[': an item, or ']' */
	ITEMS_IN,               /* in its items: each byte written once the next one came */
	ITEMS_CLOSED,           /* after an empty array's ']' */
};

/* A heap snapshot's cost to the target, for meta.json and the log. */
struct snapshot_cost {
	bool usage_known;               /* Runtime.getHeapUsage answered */
	struct headroom room;
	struct headroom_verdict verdict;
	bool judged;
	uint64_t rss_before, rss_peak, rss_after;       /* bytes; 0: not read */
	bool warned;                    /* RSS near the room it had: said once */
	lws_usec_t pause_start, pause_end;      /* its command sent, answered */
	struct profile_count_scan objects;
};
#define CMDLINE_MAX             (64 * 1024)
#define CMDLINE_ARGS_MAX        256

enum capture_state {
	CAPTURE_LOCATING,       /* finding or opening the inspector */
	CAPTURE_CONNECTING,     /* /json/version, /json/list, WebSocket */
	CAPTURE_STARTING,
	CAPTURE_RUNNING,
	CAPTURE_STOPPING,
	CAPTURE_CLOSING,        /* closing the inspector we opened */
	CAPTURE_DONE,
};

static const char *const state_names[] = {
	[CAPTURE_LOCATING] = "locating",   [CAPTURE_CONNECTING] = "connecting",
	[CAPTURE_STARTING] = "starting",   [CAPTURE_RUNNING] = "running",
	[CAPTURE_STOPPING] = "stopping",   [CAPTURE_CLOSING] = "closing",
	[CAPTURE_DONE] = "done",
};

struct capture {
	const struct capture_env *env;  /* &own_env: the agent's, with the settings as they were */
	struct capture_env own_env;
	struct settings settings;       /* kept from the start: a reload does not change a capture */
	const struct exporter_ops *exporter;    /* settings.exporter's, or the first */
	const struct profile_ops *ops;  /* the kind's; a heap profile's once fallen back */
	enum profile_kind kind;         /* as asked for */
	char categories[CAPTURE_CATEGORIES_MAX];
	bool fell_back;                 /* a snapshot refused for its headroom: a heap profile instead */
	struct locate_target target;    /* pid, pidfd (borrowed), start time, --inspect port */
	struct capture_trigger trigger;
	struct container_info container;        /* the target's, for meta.json */
	enum capture_state state;
	capture_done_fn done;
	void *owner;

	struct inspector_claim claim;   /* the inspector, and what we owe it */
	struct locate *locate;
	struct inspector_session *session;
	struct inspector_close *close;
	bool closed;                    /* nothing of ours is open in the target */
	bool target_exited;             /* told so (a zombie still takes signal 0) */
	bool probe_failed;              /* a session to the port failed before it said it was node's */
	char node_version[CDP_VERSION_MAX];     /* set once the port answered as node's inspector */

	lws_sorted_usec_list_t timer;           /* the current state's timeout */
	lws_sorted_usec_list_t max_timer;       /* the limit: --max-duration, --max-signal-duration, or the requested duration */
	lws_sorted_usec_list_t done_sul;
	lws_sorted_usec_list_t rss_sul;         /* sampling the target's RSS during a snapshot */

	struct timespec started_rt, ended_rt;
	lws_usec_t started_us;          /* the loop's clock when the profiler started */
	uint64_t duration_usec;
	double queued_ms;               /* from the trigger to capture__new(): the start of its turn */
	double latency_ms;
	bool stop_requested;
	const char *stop_reason;
	const char *limit_reason;       /* the max_timer's stop_reason (static storage) */

	/* The profile, from the inspector to the output folder: the kind's outputs. */
	struct spool_file *out[PROFILE_OUTPUTS_MAX];    /* as they stream in; NULL before and after */
	unsigned nout;
	char ext[PROFILE_OUTPUTS_MAX][SPOOL_EXT_SIZE];   /* the kind's, ".gz" added when compressed */
	const char *exts[PROFILE_OUTPUTS_MAX + 1];
	int msg_output;                 /* the output the message being read streams into; -1: none */
	uint64_t msg_mark;              /* that output's size before the message */
	uint64_t msg_bytes;             /* what the message streamed */
	int sink_error;                 /* writing it failed: -errno */
	enum items_state items;         /* output 0 framed with items: this message's value */
	bool items_any;                 /* an item was kept in output 0 */
	char held;                      /* ITEMS_IN: the last byte seen, written once another comes */
	bool holding;
	uint64_t streamed;              /* bytes of the profile as the target sent them */
	char usage[USAGE_MAX];          /* Runtime.getHeapUsage's result as it streams in */
	size_t usage_len;
	bool usage_over;
	struct snapshot_cost snap;
	bool committing;                /* handed to the spool: done only once it answered */
	char files[CAPTURE_FILES_MAX][4096];

	char error[256];
	bool export_failed;             /* profiled, not written: the error says why */

	/* Read at trigger time: the target may be gone at export. */
	char comm[INSPECTD_COMM_LEN];
	pid_t ns_pid;                   /* in its own pid namespace; 0: unknown */
	char exe[4096];
	char *cmdline;
	char *argv[CMDLINE_ARGS_MAX];
	int argc;
};

static const struct inspector_session_ops session_ops;
static void capture_fail(struct capture *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void capture_close(struct capture *c);

static pid_t pid_of(const struct capture *c)
{
	return c->target.pid;
}

static void set_state(struct capture *c, enum capture_state state)
{
	log_debug("pid %d: %s capture %s -> %s", (int)pid_of(c), profile_kind_name(c->kind), state_names[c->state],
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

static void drop_outputs(struct capture *c)
{
	for (unsigned i = 0; i < c->nout; i++) {
		spool_file__abort(c->out[i]);
		c->out[i] = NULL;
	}
	c->msg_output = -1;
}

static void capture_finish(struct capture *c)
{
	if (c->state == CAPTURE_DONE)
		return;
	disarm(c);
	lws_sul_schedule(c->env->ctx, 0, &c->max_timer, NULL, LWS_SET_TIMER_USEC_CANCEL);
	lws_sul_schedule(c->env->ctx, 0, &c->rss_sul, NULL, LWS_SET_TIMER_USEC_CANCEL);
	locate__free(c->locate);
	c->locate = NULL;
	inspector_session__free(c->session);
	c->session = NULL;
	if (claim_settle(c->env, &c->target, &c->claim, c->closed, c->target_exited) > 0)
		log_warn("pid %d: %s: kept in %s for the next capture or agent to close", (int)pid_of(c),
			 c->claim.opened_by_us ? "the inspector we opened may still be open"
					       : "SIGUSR1 was sent and no inspector appeared (it may open late)",
			 ledger__path(c->env->ledger));
	set_state(c, CAPTURE_DONE);
	drop_outputs(c);                /* a profile that never became whole */
	/* The owner frees us: not from inside whatever callback got us here, and not
	 * before the spool said whether the files are there. */
	if (!c->committing)
		lws_sul_schedule(c->env->ctx, 0, &c->done_sul, done_cb, 1);
}

/* ---- leaving the target as we found it ---- */

static void close_done(void *owner, bool closed)
{
	struct capture *c = owner;

	c->closed = closed;
	capture_finish(c);
}

static void capture_close(struct capture *c)
{
	struct inspector_session *s = c->session;
	unsigned flags = 0;
	int r;

	disarm(c);
	c->session = NULL;
	if (!c->claim.opened_by_us) {
		/* Someone else's inspector stays open; our session ends, and with it the profiler. */
		if (c->claim.port)
			log_info("pid %d: inspector left open as found", (int)pid_of(c));
		inspector_session__free(s);
		capture_finish(c);
		return;
	}
	if (c->probe_failed && !c->node_version[0])
		flags |= INSPECTOR_CLOSE_NO_RECONNECT;
	set_state(c, CAPTURE_CLOSING);
	r = inspector_close__start(c->env, &c->target, &c->claim, s, flags, "", close_done, c, &c->close);
	if (r < 0) {
		log_error("pid %d: cannot close the inspector: %s", (int)pid_of(c), strerror(-r));
		capture_finish(c);
	}
}

static void capture_fail(struct capture *c, const char *fmt, ...)
{
	va_list ap;

	if (c->state >= CAPTURE_CLOSING)
		return;
	if (!c->error[0]) {
		va_start(ap, fmt);
		vsnprintf(c->error, sizeof(c->error), fmt, ap);
		va_end(ap);
	}
	log_error("pid %d: %s capture failed: %s", (int)pid_of(c), profile_kind_name(c->kind), c->error);
	capture_close(c);
}

/* ---- the session ---- */

/* What the port said of itself, before the session goes: node's inspector is ours to close. */
static void keep_node_version(struct capture *c)
{
	const char *v = c->session ? inspector_session__node_version(c->session) : NULL;

	if (v && !c->node_version[0])
		snprintf(c->node_version, sizeof(c->node_version), "%s", v);
}

static void state_timeout(lws_sorted_usec_list_t *sul)
{
	struct capture *c = lws_container_of(sul, struct capture, timer);

	keep_node_version(c);
	if (c->state == CAPTURE_CONNECTING)
		c->probe_failed = true;
	capture_fail(c, "no answer from the inspector while %s", state_names[c->state]);
}

static void capture_connect(struct capture *c)
{
	int r;

	set_state(c, CAPTURE_CONNECTING);
	c->session = inspector_session__new(c->env->ctx, pid_of(c), c->target.pidfd, &c->claim.endpoint, &session_ops, c);
	if (!c->session) {
		capture_fail(c, "cannot connect to the inspector on port %u", c->claim.port);
		return;
	}
	arm(c, state_timeout, (lws_usec_t)c->env->settings->attach_timeout_usec);
	/* Its port into the record while the connection is under way (a replacing write
	 * costs ~80 us on tmpfs; not on the trigger's path). */
	if (c->claim.opened_by_us && c->claim.sigusr1_sent) {
		r = claim_note(c->env, &c->target, &c->claim);
		if (r < 0)
			log_warn("pid %d: cannot record the inspector we opened in %s: %s", (int)pid_of(c),
				 ledger__path(c->env->ledger), strerror(-r));
	}
}

static void locate_done(void *owner, int r, const char *reason)
{
	struct capture *c = owner;

	locate__free(c->locate);
	c->locate = NULL;
	if (r < 0) {
		if (c->claim.port)
			c->claim.opened_by_us = true;   /* opened too late to be used: closed all the same */
		capture_fail(c, "%s", reason);
		return;
	}
	if (c->claim.opened_by_us && !c->claim.sigusr1_sent)
		log_info("pid %d: inspector on port %u is one an earlier capture opened and could not "
			 "close: using it, closing it afterwards", (int)pid_of(c), c->claim.port);
	else if (!c->claim.opened_by_us)
		log_info("pid %d: inspector already open on port %u, using it (left open afterwards)",
			 (int)pid_of(c), c->claim.port);
	else
		log_debug("pid %d: inspector listening on port %u", (int)pid_of(c), c->claim.port);
	capture_connect(c);
}

/*
 * How long a capture runs unless stopped, and the stop_reason it then gets: the requested
 * duration, within --max-duration; a signal's capture, which nobody may come back to stop
 * (a tenant's own kill -s WINCH), within --max-signal-duration too.
 */
static uint64_t run_limit(const struct capture *c, const char **reason)
{
	const struct settings *st = c->env->settings;
	uint64_t us = st->max_duration_usec;

	*reason = "max-duration";
	if (c->trigger.source == TRIGGER_SOURCE_SIGNAL && st->max_signal_duration_usec &&
	    st->max_signal_duration_usec < us) {
		us = st->max_signal_duration_usec;
		*reason = "max-signal-duration";
	}
	if (c->duration_usec && c->duration_usec < us) {
		us = c->duration_usec;
		*reason = "duration";
	}
	return us;
}

static void max_duration_reached(lws_sorted_usec_list_t *sul)
{
	struct capture *c = lws_container_of(sul, struct capture, max_timer);

	if (strcmp(c->limit_reason, "duration") == 0)
		log_info("pid %d: %s capture ran its %.3f s, stopping", (int)pid_of(c), profile_kind_name(c->kind),
			 c->duration_usec / 1e6);
	else
		log_info("pid %d: %s capture reached --%s, stopping", (int)pid_of(c), profile_kind_name(c->kind),
			 c->limit_reason);
	capture__request_stop(c, c->limit_reason);
}

/* How long the target may stay silent while stopping (re-armed by every message of a kind that streams). */
static lws_usec_t stop_timeout(const struct capture *c)
{
	if (c->ops->flags & PROFILE_STREAMS)
		return (lws_usec_t)c->env->settings->snapshot_stall_usec;
	return STOP_TIMEOUT_USEC;
}

static void stall_timeout(lws_sorted_usec_list_t *sul)
{
	struct capture *c = lws_container_of(sul, struct capture, timer);

	capture_fail(c, "the inspector sent nothing for %.0f s while the %s was being taken "
		     "(--snapshot-stall-timeout): abandoned", stop_timeout(c) / 1e6, c->ops->type);
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
	if (c->ops->flags & PROFILE_SNAPSHOT)
		c->snap.pause_start = lws_now_usecs();
	arm(c, (c->ops->flags & PROFILE_STREAMS) ? stall_timeout : state_timeout, stop_timeout(c));
}

/* ---- a snapshot's headroom: judged before, the target's RSS watched while it runs ---- */

static uint64_t target_rss(const struct capture *c)
{
	char text[128];
	unsigned long long size, resident;
	ssize_t n = procfs_read(pid_of(c), "statm", text, sizeof(text));
	long page = sysconf(_SC_PAGESIZE);

	if (n <= 0 || page <= 0)
		return 0;
	text[n < (ssize_t)sizeof(text) ? n : (ssize_t)sizeof(text) - 1] = '\0';
	if (sscanf(text, "%llu %llu", &size, &resident) != 2 || resident > UINT64_MAX / (uint64_t)page)
		return 0;
	return (uint64_t)resident * (uint64_t)page;
}

static void note_rss(struct capture *c)
{
	const struct snapshot_cost *s = &c->snap;
	uint64_t rss = target_rss(c), room;

	if (rss > c->snap.rss_peak)
		c->snap.rss_peak = rss;
	/* The room it had, from where it was: V8 cannot be stopped mid-snapshot, so this is
	 * only said, for whoever tunes --snapshot-headroom. */
	room = s->verdict.room;
	if (!s->warned && s->judged && room && rss > s->rss_before &&
	    (double)(rss - s->rss_before) > RSS_NEAR_LIMIT * (double)room) {
		c->snap.warned = true;
		log_warn("pid %d: RSS %.0f MiB while the %s is taken: within %.0f%% of the room it had "
			 "(%.0f MiB): consider a larger --snapshot-headroom", (int)pid_of(c), rss / 1048576.0,
			 c->ops->type, (1 - RSS_NEAR_LIMIT) * 100, room / 1048576.0);
	}
}

static void rss_sample(lws_sorted_usec_list_t *sul)
{
	struct capture *c = lws_container_of(sul, struct capture, rss_sul);

	note_rss(c);
	lws_sul_schedule(c->env->ctx, 0, &c->rss_sul, rss_sample, RSS_SAMPLE_USEC);
}

/* A number of Runtime.getHeapUsage's result: a non-negative integer of at most 2^53. */
static int usage_number(const cJSON *result, const char *name, uint64_t *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(result, name);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 9007199254740992.0)
		return -EPROTO;
	*ret = (uint64_t)v->valuedouble;
	return 0;
}

static int parse_usage(struct capture *c)
{
	cJSON *result;
	int r;

	if (c->usage_over || !c->usage_len)
		return -EPROTO;
	result = cJSON_ParseWithLength(c->usage, c->usage_len);
	if (!result)
		return -EPROTO;
	r = usage_number(result, "usedSize", &c->snap.room.heap_used);
	if (r == 0)
		r = usage_number(result, "totalSize", &c->snap.room.heap_total);
	cJSON_Delete(result);
	return r;
}

static int usage_sink(void *ctx, const char *buf, size_t len)
{
	struct capture *c = ctx;

	if (len > sizeof(c->usage) - c->usage_len) {
		c->usage_over = true;
		return 0;
	}
	memcpy(c->usage + c->usage_len, buf, len);
	c->usage_len += len;
	return 0;
}

static void start_kind(struct capture *c);

/*
 * Whether the target can afford the snapshot: its used heap (answered), its RSS and the
 * room below its memory limit (read now). Refused: a heap sampling profile instead, as
 * long as the capture was asked to run (--capture-seconds when it had no duration).
 */
static void judge_headroom(struct capture *c)
{
	struct snapshot_cost *s = &c->snap;
	const struct settings *st = c->env->settings;
	int r;

	r = headroom_read(&c->env->cgroup_roots, pid_of(c), &s->room);
	if (r < 0 && st->snapshot_headroom > 0) {
		/* Not known is not enough. */
		s->verdict = (struct headroom_verdict){ .allowed = false };
		snprintf(s->verdict.reason, sizeof(s->verdict.reason), "cannot read the target's memory: %s",
			 strerror(-r));
	} else {
		headroom_judge(&s->room, st->snapshot_headroom, &s->verdict);
	}
	s->rss_before = s->room.rss;
	s->rss_peak = s->room.rss;
	s->judged = true;
	if (s->verdict.allowed) {
		log_info("pid %d: %s: %s", (int)pid_of(c), c->ops->type, s->verdict.reason);
		start_kind(c);
		return;
	}
	log_warn("pid %d: %s refused, a heap sampling profile instead: %s", (int)pid_of(c), c->ops->type,
		 s->verdict.reason);
	c->fell_back = true;
	c->ops = profile_ops(PROFILE_HEAP);
	if (!c->duration_usec)
		c->duration_usec = st->capture_usec;
	start_kind(c);
}

/* The kind's outputs and their extensions (c->ops may have changed: a fallback). */
static void set_outputs(struct capture *c)
{
	bool gz = (c->ops->flags & PROFILE_LARGE) && c->env->settings->compress;

	c->nout = 0;
	while (c->ops->outputs[c->nout] && c->nout < PROFILE_OUTPUTS_MAX) {
		snprintf(c->ext[c->nout], sizeof(c->ext[c->nout]), "%s%s", c->ops->outputs[c->nout], gz ? ".gz" : "");
		c->exts[c->nout] = c->ext[c->nout];
		c->nout++;
	}
	c->exts[c->nout] = NULL;
}

static void start_kind(struct capture *c)
{
	int r;

	set_outputs(c);
	r = c->ops->start(c->session, c->env->settings, c->categories);
	if (r < 0) {
		capture_fail(c, "cannot send the start command: %s", strerror(-r));
		return;
	}
	arm(c, state_timeout, (lws_usec_t)c->env->settings->command_timeout_usec);
}

static void session_ready(void *owner)
{
	struct capture *c = owner;
	const char *v = inspector_session__node_version(c->session);
	int r;

	snprintf(c->node_version, sizeof(c->node_version), "%s", v ? v : "");
	set_state(c, CAPTURE_STARTING);
	if (!(c->ops->flags & PROFILE_SNAPSHOT)) {
		start_kind(c);
		return;
	}
	/* The used heap first: what the snapshot's cost is estimated from. */
	r = inspector_session__send(c->session, CAPTURE_TAG_HEAP_USAGE, "Runtime.getHeapUsage", NULL);
	if (r < 0) {
		capture_fail(c, "cannot ask for the target's heap usage: %s", strerror(-r));
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

/* ---- the profile: streamed into the spool, committed with its meta.json ---- */

/* The spool committed the profile and its meta.json, or could not. */
static void commit_done(void *ctx, int result, const char *const *paths, size_t n)
{
	struct capture *c = ctx;

	c->committing = false;
	if (result < 0) {
		log_error("pid %d: writing %s: %s", (int)pid_of(c), n ? paths[0] : spool__dir(c->env->spool),
			  strerror(-result));
		if (!c->error[0])
			snprintf(c->error, sizeof(c->error), "export failed: %s", strerror(-result));
		c->export_failed = true;
	} else {
		for (size_t i = 0; i < n && i < CAPTURE_FILES_MAX; i++)
			snprintf(c->files[i], sizeof(c->files[i]), "%s", paths[i]);
		log_info("pid %d: %s exported to %s", (int)pid_of(c), c->ops->type, c->files[0]);
	}
	if (c->state == CAPTURE_DONE)
		lws_sul_schedule(c->env->ctx, 0, &c->done_sul, done_cb, 1);
}

/* Output i's file in the spool: capped and compressed as its kind says, its framing's head written. */
static int begin_output(struct capture *c, unsigned i)
{
	const struct settings *st = c->env->settings;
	struct spool_file *f;
	int r;

	r = spool__begin(c->env->spool, &f);
	if (r < 0)
		return r;
	if (c->ops->flags & PROFILE_LARGE) {
		r = spool_file__set_max(f, st->max_snapshot_bytes);
		if (r == 0 && st->compress)
			r = spool_file__compress(f);
	}
	if (r == 0 && i == 0 && c->ops->framing && c->ops->framing->head)
		r = spool_file__write(f, c->ops->framing->head, strlen(c->ops->framing->head));
	if (r < 0) {
		spool_file__abort(f);
		return r;
	}
	c->out[i] = f;
	return 0;
}

static double mib(uint64_t bytes)
{
	return bytes / 1048576.0;
}

static bool add_mib(cJSON *o, const char *name, uint64_t bytes)
{
	return bytes ? cJSON_AddNumberToObject(o, name, mib(bytes)) != NULL : cJSON_AddNullToObject(o, name) != NULL;
}

/* What meta.json says of the kind beyond the common fields: a snapshot's cost, a trace's categories. */
static int add_kind_meta(struct capture *c, cJSON *profile)
{
	const struct snapshot_cost *s = &c->snap;
	const struct headroom *h = &s->room;
	cJSON *o, *room, *cats;

	if (!profile)
		return -ENOMEM;
	if (!cJSON_AddBoolToObject(profile, "compressed", (c->ops->flags & PROFILE_LARGE) && c->env->settings->compress) ||
	    !cJSON_AddNumberToObject(profile, "bytes_sent", (double)c->streamed))
		return -ENOMEM;
	if (c->kind == PROFILE_TRACE) {
		const char *p = c->categories[0] ? c->categories : c->env->settings->trace_categories;

		if (!(cats = cJSON_AddArrayToObject(profile, "categories")))
			return -ENOMEM;
		while (*p) {
			size_t n = strcspn(p, ",");
			char name[128];

			if (n && n < sizeof(name)) {
				memcpy(name, p, n);
				name[n] = '\0';
				if (!cJSON_AddItemToArray(cats, cJSON_CreateString(name)))
					return -ENOMEM;
			}
			p += n + (p[n] == ',');
		}
	}
	if (!s->judged)
		return 0;
	if (!(room = cJSON_AddObjectToObject(profile, "headroom")) ||
	    !cJSON_AddBoolToObject(room, "allowed", s->verdict.allowed) ||
	    !cJSON_AddStringToObject(room, "reason", s->verdict.reason) ||
	    !cJSON_AddNumberToObject(room, "factor", c->env->settings->snapshot_headroom) ||
	    !add_mib(room, "heap_used_mib", h->heap_used) || !add_mib(room, "heap_total_mib", h->heap_total) ||
	    !add_mib(room, "rss_mib", h->rss) || !add_mib(room, "limit_mib", h->limit) ||
	    !add_mib(room, "usage_mib", h->usage) || !add_mib(room, "host_available_mib", h->host_available) ||
	    !add_mib(room, "estimate_mib", s->verdict.estimate) || !add_mib(room, "room_mib", s->verdict.room) ||
	    !cJSON_AddStringToObject(room, "limit_source", h->limit_source))
		return -ENOMEM;
	if (c->fell_back)
		return cJSON_AddStringToObject(profile, "instead_of", profile_kind_name(c->kind)) ? 0 : -ENOMEM;
	if (!(o = cJSON_AddObjectToObject(profile, "snapshot")) ||
	    !cJSON_AddNumberToObject(o, "pause_ms", s->pause_end > s->pause_start ? (s->pause_end - s->pause_start) / 1e3 : 0) ||
	    !cJSON_AddNumberToObject(o, "bytes", (double)c->streamed) ||
	    !(s->objects.found ? cJSON_AddNumberToObject(o, "objects", (double)s->objects.value)
			       : cJSON_AddNullToObject(o, "objects")) ||
	    !add_mib(o, "rss_before_mib", s->rss_before) || !add_mib(o, "rss_peak_mib", s->rss_peak) ||
	    !add_mib(o, "rss_after_mib", s->rss_after) ||
	    !cJSON_AddNumberToObject(o, "rss_sampled_every_ms", RSS_SAMPLE_USEC / 1e3))
		return -ENOMEM;
	return 0;
}

/* The profile is whole in its outputs: name them, describe them, and hand all to the spool. */
static int export_profile(struct capture *c)
{
	const char *const *exts = c->exts;
	const struct settings *st = c->env->settings;
	struct meta_process mp = {
		.pid = pid_of(c), .comm = c->comm, .argv = c->argv, .argc = c->argc, .exe = c->exe,
		.node_version = c->node_version[0] ? c->node_version : NULL,
		.hostname = c->env->hostname, .container = &c->container,
		.ns_pid = (int)c->ns_pid, .boot_id = c->env->boot_id,
	};
	char signame[32], base[SPOOL_BASE_SIZE], stamp[256], name[SPOOL_BASE_SIZE + SPOOL_EXT_SIZE];
	struct meta_trigger mt = {
		.kind = trigger_source_name(c->trigger.source),
		.signal = c->trigger.sig ? options_signal_name(c->trigger.sig, signame, sizeof(signame)) : NULL,
		.sender_pid = c->trigger.sender_pid, .sender_ns_pid = c->trigger.sender_ns_pid,
		.sender_comm = c->trigger.sender_comm, .ktime_ns = c->trigger.ktime_ns,
		.latency_ms = c->latency_ms, .queued_ms = c->queued_ms,
		.has_threshold = c->trigger.has_threshold, .unit = c->trigger.unit,
		.threshold = c->trigger.threshold, .observed = c->trigger.observed,
		.detected_by = c->trigger.detected_by,
	};
	struct meta_profile mprof = {
		.type = c->ops->type, .started_at = c->started_rt, .ended_at = c->ended_rt,
		.interval_name = c->ops->interval_name, .interval = c->ops->interval ? c->ops->interval(st) : 0,
		.stop_reason = c->stop_reason, .requested_duration_usec = c->duration_usec,
	};
	struct export_request req;
	char *text = NULL;
	cJSON *meta, *files = NULL;
	int r;

	/* An output nothing was streamed into is an empty file (or its framing alone): the
	 * kind said it writes it. */
	for (unsigned i = 0; i < c->nout; i++) {
		if (!c->out[i]) {
			r = begin_output(c, i);
			if (r < 0)
				return r;
		}
	}
	if (c->ops->framing && c->ops->framing->tail) {
		r = spool_file__write(c->out[0], c->ops->framing->tail, strlen(c->ops->framing->tail));
		if (r < 0)
			return r;
	}
	r = meta_file_base(c->ops->type, container_display_name(&c->container), pid_of(c), c->started_rt.tv_sec, stamp, sizeof(stamp));
	if (r < 0)
		return r;
	r = spool__reserve_base(c->env->spool, stamp, exts, c->nout, base, sizeof(base));
	if (r < 0)
		return r;
	meta = meta_build(&mp, &mt, &mprof);
	if (meta && add_kind_meta(c, cJSON_GetObjectItem(meta, "profile")) < 0) {
		cJSON_Delete(meta);
		meta = NULL;
	}
	if (meta && c->nout > 1)
		files = cJSON_AddArrayToObject(cJSON_GetObjectItem(meta, "profile"), "files");
	for (unsigned i = 0; meta && i < c->nout; i++) {
		snprintf(name, sizeof(name), "%s.%s", base, exts[i]);
		if ((i == 0 && !cJSON_AddStringToObject(cJSON_GetObjectItem(meta, "profile"), "file", name)) ||
		    (files && !cJSON_AddItemToArray(files, cJSON_CreateString(name)))) {
			cJSON_Delete(meta);
			meta = NULL;
		}
	}
	if (!meta || !(text = cJSON_Print(meta))) {
		cJSON_Delete(meta);
		return -ENOMEM;
	}
	cJSON_Delete(meta);
	/* The outputs and text are the exporter's now, whatever it answers. */
	req = (struct export_request){ .base = base, .files = c->out, .exts = exts, .n = c->nout, .meta_json = text };
	r = c->exporter->submit(c->env->spool, &req, commit_done, c);
	for (unsigned i = 0; i < c->nout; i++)
		c->out[i] = NULL;
	if (r < 0)
		return r;
	c->committing = true;
	return 0;
}

static int write_output(struct capture *c, const char *buf, size_t len)
{
	if (!len)
		return 0;
	if (c->ops->flags & PROFILE_SNAPSHOT && c->msg_output == 0 && !c->snap.objects.done)
		profile_count_scan(&c->snap.objects, buf, len);
	return spool_file__write(c->out[c->msg_output], buf, len);
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* A watched array's items into output 0: its brackets dropped, a comma after the items kept before. */
static int write_items(struct capture *c, const char *buf, size_t len)
{
	size_t i = 0;
	int r;

	while (i < len) {
		switch (c->items) {
		case ITEMS_BEFORE:
		case ITEMS_CLOSED:
			if (!is_space(buf[i])) {
				if (c->items == ITEMS_CLOSED || buf[i] != '[')
					return -EPROTO;
				c->items = ITEMS_OPEN;
			}
			i++;
			break;
		case ITEMS_OPEN:
			if (is_space(buf[i])) {
				i++;
				break;
			}
			if (buf[i] == ']') {
				c->items = ITEMS_CLOSED;
				i++;
				break;
			}
			if (c->items_any && (r = write_output(c, ",", 1)) < 0)
				return r;
			c->items = ITEMS_IN;
			break;
		case ITEMS_IN:
			/* The value's last byte is its ']': every byte waits for the next one. */
			if (c->holding && (r = write_output(c, &c->held, 1)) < 0)
				return r;
			if ((r = write_output(c, buf + i, len - i - 1)) < 0)
				return r;
			c->held = buf[len - 1];
			c->holding = true;
			i = len;
			break;
		}
	}
	return 0;
}

/* Bytes of the profile as they arrive: straight to the output's file in the spool. */
static int profile_sink(void *ctx, const char *buf, size_t len)
{
	struct capture *c = ctx;
	int r = 0;

	if (c->sink_error)
		return c->sink_error;
	if (!c->out[c->msg_output])
		r = begin_output(c, (unsigned)c->msg_output);
	if (r == 0) {
		c->streamed += len;
		c->msg_bytes += len;
		if (c->msg_output == 0 && c->ops->framing && c->ops->framing->items)
			r = write_items(c, buf, len);
		else
			r = write_output(c, buf, len);
	}
	if (r == -EPROTO) {
		c->sink_error = r;
		snprintf(c->error, sizeof(c->error), "the %s's data is not an array", c->ops->type);
		return r;
	}
	if (r < 0) {
		char stamp[256];

		c->sink_error = r;
		if (meta_file_base(c->ops->type, container_display_name(&c->container), pid_of(c), c->started_rt.tv_sec, stamp, sizeof(stamp)) < 0)
			stamp[0] = '\0';
		log_error("pid %d: writing %s/%s.%s: %s", (int)pid_of(c), spool__dir(c->env->spool), stamp,
			  c->exts[c->msg_output], strerror(-r));
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

/*
 * The message just read streamed into an output: keep it there, or take it out again.
 * false when neither can be done (a compressed file cannot take bytes back; a framed
 * value was not an array): the profile is no longer whole and the capture must fail.
 */
static bool settle_message(struct capture *c, bool keep)
{
	struct spool_file *f = c->msg_output >= 0 ? c->out[c->msg_output] : NULL;
	bool items = c->msg_output == 0 && c->ops->framing && c->ops->framing->items;
	bool ok = true;
	int r;

	if (f && keep && items && c->msg_bytes) {
		if (c->items == ITEMS_IN && c->holding && c->held == ']')
			c->items_any = true;
		else if (c->items != ITEMS_CLOSED)
			ok = false;
	}
	if (f && (!keep || !ok) && (r = spool_file__truncate(f, c->msg_mark)) < 0) {
		if (!c->error[0])
			snprintf(c->error, sizeof(c->error), "cannot take back what a message that was not the %s's "
				 "wrote: %s", c->ops->type, strerror(-r));
		ok = false;
	}
	if (!ok && !c->error[0])
		snprintf(c->error, sizeof(c->error), "the %s's data is not an array", c->ops->type);
	if (!ok && !c->sink_error)
		c->sink_error = -EPROTO;
	c->msg_output = -1;
	c->items = ITEMS_BEFORE;
	c->holding = false;
	return ok;
}

/* What the target may send now, and which of its values go to which output. */
static void session_message_begin(void *owner, struct cdp_reader_watch *w, size_t *budget)
{
	struct capture *c = owner;
	enum profile_phase phase = phase_of(c);
	int i, r;

	/* A message nobody took (it answered nothing we sent): what it streamed goes. */
	settle_message(c, false);
	*budget = profile_budget(c->ops, phase, c->env->settings);
	if (c->state < CAPTURE_STARTING || c->state > CAPTURE_STOPPING)
		return;
	/* A streaming kind's target is alive as long as it sends. */
	if (c->state == CAPTURE_STOPPING && (c->ops->flags & PROFILE_STREAMS))
		arm(c, stall_timeout, stop_timeout(c));
	if (c->state == CAPTURE_STARTING && (c->ops->flags & PROFILE_SNAPSHOT) && !c->snap.usage_known) {
		/* Runtime.getHeapUsage's result, small, read whole (its answer says whether it is). */
		c->usage_len = 0;
		c->usage_over = false;
		w->path[0] = "result";
		w->path[1] = NULL;
		w->mode = CDP_READER_RAW;
		w->sink = usage_sink;
		w->ctx = c;
		return;
	}
	i = c->ops->watch(phase, w);
	if (i < 0 || (unsigned)i >= c->nout) {
		memset(w, 0, sizeof(*w));
		return;
	}
	/* The file exists before the mark is taken: a framing's head is never taken back. */
	if (!c->out[i] && !c->sink_error && (r = begin_output(c, (unsigned)i)) < 0)
		log_debug("pid %d: cannot begin the %s's file yet: %s", (int)pid_of(c), c->ops->type, strerror(-r));
	c->msg_output = i;
	c->msg_mark = c->out[i] ? spool_file__size(c->out[i]) : 0;
	c->msg_bytes = 0;
	c->items = ITEMS_BEFORE;
	c->holding = false;
	w->sink = profile_sink;
	w->ctx = c;
}

static void finish_profile(struct capture *c);

static void session_response(void *owner, int tag, const struct cdp_reader_header *h)
{
	struct capture *c = owner;
	const char *error = h->has_error ? (h->error[0] ? h->error : "(no message)") : NULL;
	uint64_t us;
	int r;

	if (!settle_message(c, tag == PROFILE_TAG_STOPPED && !error && c->state == CAPTURE_STOPPING &&
				       c->ops->result(h) == 0)) {
		capture_fail(c, "%s", c->error);
		return;
	}
	if (tag == CAPTURE_TAG_HEAP_USAGE) {
		if (c->state != CAPTURE_STARTING || c->snap.usage_known)
			return;
		disarm(c);
		if (error || parse_usage(c) < 0) {
			capture_fail(c, "the inspector did not tell the target's heap usage%s%s: a %s needs it",
				     error ? ": " : "", error ? error : "", c->ops->type);
			return;
		}
		c->snap.usage_known = true;
		judge_headroom(c);
		return;
	}
	if (error) {
		if (tag == PROFILE_TAG_STEP && c->state != CAPTURE_STARTING) {
			log_warn("pid %d: inspector refused a command: %s, ignoring", (int)pid_of(c), error);
			return;
		}
		capture_fail(c, "inspector refused to %s the %s profiler: %s",
			     c->state == CAPTURE_STOPPING ? "stop" : "start", profile_kind_name(c->kind), error);
		return;
	}

	switch (tag) {
	case PROFILE_TAG_STARTED:
		if (c->state != CAPTURE_STARTING)
			return;
		disarm(c);
		clock_gettime(CLOCK_REALTIME, &c->started_rt);
		c->started_us = lws_now_usecs();
		c->latency_ms = monotonic_ms_since(c->trigger.ktime_ns);
		set_state(c, CAPTURE_RUNNING);
		log_info("pid %d: %s started (%.1f ms after the trigger)", (int)pid_of(c), c->ops->type, c->latency_ms);
		if (c->ops->flags & PROFILE_SNAPSHOT)
			lws_sul_schedule(c->env->ctx, 0, &c->rss_sul, rss_sample, RSS_SAMPLE_USEC);
		if (c->ops->flags & PROFILE_INSTANT) {
			if (!c->stop_reason)
				c->stop_reason = "taken";       /* over once the target sent it */
			capture_stop(c);
			return;
		}
		if (c->stop_requested) {
			capture_stop(c);
			return;
		}
		us = run_limit(c, &c->limit_reason);
		lws_sul_schedule(c->env->ctx, 0, &c->max_timer, max_duration_reached, (lws_usec_t)us);
		return;

	case PROFILE_TAG_STOPPED:
		if (c->state != CAPTURE_STOPPING)
			return;
		disarm(c);
		clock_gettime(CLOCK_REALTIME, &c->ended_rt);
		r = c->ops->result(h);
		if (r == -ENODATA) {
			capture_fail(c, "stop answered without a profile");
			return;
		}
		if (r < 0) {
			capture_fail(c, "stop answered without a whole profile: %s", strerror(-r));
			return;
		}
		if (c->ops->flags & PROFILE_SNAPSHOT) {
			lws_sul_schedule(c->env->ctx, 0, &c->rss_sul, NULL, LWS_SET_TIMER_USEC_CANCEL);
			c->snap.pause_end = lws_now_usecs();
			note_rss(c);
			c->snap.rss_after = target_rss(c);
			log_info("pid %d: %s taken: %.1f s paused, %.0f MiB sent, RSS %.0f MiB before, %.0f MiB at "
				 "its peak, %.0f MiB after", (int)pid_of(c), c->ops->type,
				 (c->snap.pause_end - c->snap.pause_start) / 1e6, mib(c->streamed), mib(c->snap.rss_before),
				 mib(c->snap.rss_peak), mib(c->snap.rss_after));
		}
		if (c->ops->flush) {
			/* What the target still owes comes before the flush's answer. */
			r = c->ops->flush(c->session);
			if (r < 0) {
				capture_fail(c, "cannot send the flush command: %s", strerror(-r));
				return;
			}
			arm(c, state_timeout, (lws_usec_t)c->env->settings->command_timeout_usec);
			return;
		}
		finish_profile(c);
		return;

	case PROFILE_TAG_FLUSHED:
		if (c->state != CAPTURE_STOPPING)
			return;
		disarm(c);
		finish_profile(c);
		return;

	default:
		return;
	}
}

/* The profile is whole: to the spool, and the inspector closed. */
static void finish_profile(struct capture *c)
{
	int r;

	if (c->sink_error) {
		capture_fail(c, "%s", c->error[0] ? c->error : strerror(-c->sink_error));
		return;
	}
	if ((c->ops->flags & PROFILE_STREAMS) && !c->streamed) {
		capture_fail(c, "the %s was answered without any of its data", c->ops->type);
		return;
	}
	r = export_profile(c);
	if (r < 0) {
		log_error("pid %d: exporting to %s: %s", (int)pid_of(c), spool__dir(c->env->spool), strerror(-r));
		if (!c->error[0])
			snprintf(c->error, sizeof(c->error), "export failed: %s", strerror(-r));
		c->export_failed = true;
	}
	capture_close(c);
}

static void session_event(void *owner, const struct cdp_reader_header *h)
{
	struct capture *c = owner;
	int r = c->state >= CAPTURE_STARTING && c->state <= CAPTURE_STOPPING ?
		c->ops->event(phase_of(c), h) : 0;

	if (!settle_message(c, r > 0)) {
		capture_fail(c, "%s", c->error);
		return;
	}
	if (r < 0)
		capture_fail(c, "the %s profiler reported %s: %s", profile_kind_name(c->kind), h->method,
			     strerror(-r));
	else if (r == 0)
		log_debug("pid %d: event %s, ignoring", (int)pid_of(c), h->method);
}

static void session_closed(void *owner, const char *reason)
{
	struct capture *c = owner;

	keep_node_version(c);
	inspector_session__free(c->session);
	c->session = NULL;
	switch (c->state) {
	case CAPTURE_CONNECTING:
		c->probe_failed = true;
		capture_fail(c, "%s", reason);
		return;
	case CAPTURE_STARTING:
	case CAPTURE_RUNNING:
	case CAPTURE_STOPPING:
		capture_fail(c, "DevTools session lost while %s, the profile is lost: %s", state_names[c->state],
			     reason);
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

/* ---- the public side ---- */

static int read_metadata(struct capture *c)
{
	ssize_t n;

	procfs_read_comm(pid_of(c), c->comm, sizeof(c->comm));
	procfs_read_exe(pid_of(c), c->exe, sizeof(c->exe));
	if (procfs_read_ns_pid(pid_of(c), &c->ns_pid) < 0)
		c->ns_pid = 0;
	if (procfs_read_starttime(pid_of(c), &c->target.start_time) < 0)
		c->target.start_time = 0;
	c->cmdline = malloc(CMDLINE_MAX);
	if (!c->cmdline)
		return -ENOMEM;
	n = procfs_read(pid_of(c), "cmdline", c->cmdline, CMDLINE_MAX);
	if (n < 0)
		return (int)n;
	c->argc = procfs_split_cmdline(c->cmdline, (size_t)n, c->argv, CMDLINE_ARGS_MAX);
	procfs_cmdline_inspect_port(c->argv, c->argc, &c->target.cmdline_port);
	return 0;
}

int capture__new(const struct capture_env *env, pid_t pid, int pidfd, const struct container_info *container,
		 const struct capture_request *rq, const struct capture_trigger *t, capture_done_fn done, void *owner,
		 struct capture **ret)
{
	enum profile_kind kind = rq->kind;
	uint64_t duration_usec = rq->duration_usec;
	struct capture *c;
	int r;

	if (!profile_ops(kind))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->own_env = *env;
	c->settings = *env->settings;
	c->own_env.settings = &c->settings;
	c->env = &c->own_env;
	c->kind = kind;
	c->exporter = exporter_by_name(c->settings.exporter) ?: exporter_first();
	c->ops = profile_ops(kind);
	snprintf(c->categories, sizeof(c->categories), "%s", rq->categories);
	c->msg_output = -1;
	set_outputs(c);
	c->target.pid = pid;
	c->target.pidfd = pidfd;
	c->done = done;
	c->owner = owner;
	c->latency_ms = -1;
	c->state = CAPTURE_LOCATING;
	if (container)
		c->container = *container;
	c->trigger = *t;
	/* A snapshot is over when it is taken; the heap profile that may replace it runs
	 * --capture-seconds. */
	c->duration_usec = (c->ops->flags & PROFILE_INSTANT) ? 0 : duration_usec;
	if ((c->ops->flags & PROFILE_COSTLY) && (!c->duration_usec || c->duration_usec > c->settings.capture_usec)) {
		if (c->duration_usec)
			log_info("pid %d: an %s costs the target all the while it runs: %.0f s, --capture-seconds, "
				 "instead of the %.0f s asked for", (int)pid, c->ops->type, c->settings.capture_usec / 1e6,
				 c->duration_usec / 1e6);
		c->duration_usec = c->settings.capture_usec;
	}
	c->queued_ms = t->ktime_ns ? monotonic_ms_since(t->ktime_ns) : 0;
	r = read_metadata(c);
	if (r == 0)
		r = locate__start(c->env, &c->target, &c->claim, locate_done, c, &c->locate);
	if (r < 0) {
		capture__free(c);
		return r;
	}
	*ret = c;
	return 0;
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
			 (int)pid_of(c), profile_kind_name(c->kind));
}

int capture__set_duration(struct capture *c, uint64_t usec)
{
	lws_usec_t limit, ran;

	if (c->stop_requested || c->state > CAPTURE_RUNNING)
		return -EALREADY;
	c->duration_usec = usec;
	if (c->state != CAPTURE_RUNNING)
		return 0;               /* its limit is set when the profiler starts */
	limit = (lws_usec_t)run_limit(c, &c->limit_reason);
	ran = lws_now_usecs() - c->started_us;
	if (ran >= limit) {
		capture__request_stop(c, c->limit_reason);
		return 0;
	}
	lws_sul_schedule(c->env->ctx, 0, &c->max_timer, max_duration_reached, limit - ran);
	return 0;
}

bool capture__target_exited(struct capture *c)
{
	bool lost = false;

	c->target_exited = true;
	if (c->state == CAPTURE_DONE)
		return false;
	if (c->state < CAPTURE_CLOSING && !c->error[0]) {
		snprintf(c->error, sizeof(c->error), "target exited while %s", state_names[c->state]);
		lost = true;
	}
	inspector_close__free(c->close);
	c->close = NULL;
	capture_finish(c);
	return lost;
}

enum profile_kind capture__kind(const struct capture *c)
{
	return c->kind;
}

pid_t capture__pid(const struct capture *c)
{
	return pid_of(c);
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
		return "stopping";
	case CAPTURE_DONE:
		/* Over, but its job is not yet: its files may still be written, and only the job
		 * says done or failed. */
		return "stopping";
	default:
		return "starting";
	}
}

const char *capture__file(const struct capture *c, unsigned i)
{
	return i < CAPTURE_FILES_MAX && c->files[i][0] ? c->files[i] : NULL;
}

enum sigusr1_handler capture__sigusr1_refused(const struct capture *c)
{
	enum sigusr1_handler h = c->claim.sigusr1_handler;

	return h == SIGUSR1_HANDLER_NODE ? SIGUSR1_HANDLER_UNCHECKED : h;
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
	lws_sul_schedule(c->env->ctx, 0, &c->rss_sul, NULL, LWS_SET_TIMER_USEC_CANCEL);
	locate__free(c->locate);
	inspector_close__free(c->close);
	inspector_session__free(c->session);
	if (c->committing)
		c->exporter->cancel(c->env->spool, c);     /* the files still land; nobody is told */
	drop_outputs(c);
	free(c->cmdline);
	free(c);
}
