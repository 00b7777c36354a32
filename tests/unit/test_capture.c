// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * One capture's state machine, its collaborators wrapped (-Wl,--wrap=...): the
 * session (inspector_session__*: the test plays the inspector through the ops the
 * capture hands it), locate (locate__start/free, claim_note/claim_settle), the closer
 * (inspector_close__start/free), the spool (spool__*, spool_file__*) and the lws
 * timers (fake_sul.h: the test moves the clock). Linked with capture.o and the pure
 * modules it uses: profile.o (the real kinds' commands), meta.o, procfs.o (the test's
 * own /proc/self stands for the target), options.o, trigger.o, container.o, log.o.
 *
 * Every way out is checked for what a capture owes: the target left as found (the
 * profiler stopped with the session, our inspector closed, someone else's left open),
 * done called once, after both the close and the commit, and never after capture__free().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <libwebsockets.h>
#include <cjson/cJSON.h>

#include "fake_sul.h"
#include "capture.h"
#include "headroom.h"
#include "inspector_close.h"
#include "locate.h"
#include "log.h"
#include "profile.h"
#include "spool.h"

#define PIDFD           99
#define PORT            9229
#define ATTACH_USEC     (5 * LWS_US_PER_SEC)
#define COMMAND_USEC    (3 * LWS_US_PER_SEC)
#define MAX_USEC        (600 * LWS_US_PER_SEC)
#define STALL_USEC      (60 * LWS_US_PER_SEC)
#define SIGNAL_MAX_USEC (120 * LWS_US_PER_SEC)
#define STOP_USEC       (120 * LWS_US_PER_SEC)  /* capture.c's STOP_TIMEOUT_USEC */
#define PROFILE_TEXT    "{\"head\":{\"callFrame\":{}},\"samples\":[1,2,3]}"

static char ctx_mem, spool_mem, ledger_mem, session_mem, locate_mem, close_mem;
#define CTX     ((struct lws_context *)&ctx_mem)
#define SESSION ((struct inspector_session *)&session_mem)
#define LOCATE  ((struct locate *)&locate_mem)
#define CLOSE   ((struct inspector_close *)&close_mem)

static struct settings st = {
	.heap_sampling_interval = 32768,
	.cpu_sampling_interval = 1000,
	.max_duration_usec = MAX_USEC,
	.max_signal_duration_usec = SIGNAL_MAX_USEC,
	.attach_timeout_usec = ATTACH_USEC,
	.command_timeout_usec = COMMAND_USEC,
	.max_profile_bytes = 64 << 20,
};
static struct capture_env env = {
	.ctx = CTX,
	.settings = &st,
	.spool = (struct spool *)&spool_mem,
	.ledger = (struct ledger *)&ledger_mem,
	.hostname = "testhost",
};


/* ---- a kind of two files that keeps events: what a snapshot or a trace will be ---- */

const struct profile_ops *__real_profile_ops(enum profile_kind kind);
const struct profile_ops *__wrap_profile_ops(enum profile_kind kind);
static bool fake_kind;

static int chunked_watch(enum profile_phase phase, struct cdp_reader_watch *w)
{
	if (phase == PROFILE_PHASE_RUNNING) {
		w->path[0] = "params";
		w->path[1] = "chunk";
		w->mode = CDP_READER_STRING;
		return 0;
	}
	if (phase == PROFILE_PHASE_STOPPING) {
		w->path[0] = "result";
		w->path[1] = "profile";
		w->mode = CDP_READER_RAW;
		return 1;
	}
	return -1;
}

static int chunked_event(enum profile_phase phase, const struct cdp_reader_header *h)
{
	if (strcmp(h->method, "Fake.bad") == 0)
		return -EPROTO;
	return strcmp(h->method, "Fake.chunk") == 0;
}

static int chunked_result(const struct cdp_reader_header *h)
{
	return h->watched_bytes ? 0 : -ENODATA;
}

static const char *const chunked_outputs[] = { "chunks", "last", NULL };

const struct profile_ops *__wrap_profile_ops(enum profile_kind kind)
{
	static struct profile_ops chunked;

	if (!fake_kind)
		return __real_profile_ops(kind);
	chunked = *__real_profile_ops(PROFILE_HEAP);
	chunked.outputs = chunked_outputs;
	chunked.watch = chunked_watch;
	chunked.event = chunked_event;
	chunked.result = chunked_result;
	return &chunked;
}

/* ---- the session ---- */

static struct {
	int news, frees;
	bool new_fails;
	bool live;                      /* made and not freed, nor handed to a closer */
	pid_t pid;
	uint16_t port;
	const struct inspector_session_ops *ops;
	void *owner;
	char sent[16][48];              /* methods, in order */
	int tags[16];
	int nsent;
	int send_error;
	struct inspector_endpoint ep;   /* where it was to connect */
	const char *version;            /* what /json/version said: set once it answered */
} ss;

struct inspector_session *__wrap_inspector_session__new(struct lws_context *ctx, pid_t pid, int pidfd,
							const struct inspector_endpoint *ep,
							const struct inspector_session_ops *ops, void *owner);
int __wrap_inspector_session__send(struct inspector_session *s, int tag, const char *method, cJSON *params);
const char *__wrap_inspector_session__node_version(const struct inspector_session *s);
void __wrap_inspector_session__free(struct inspector_session *s);

struct inspector_session *__wrap_inspector_session__new(struct lws_context *ctx, pid_t pid, int pidfd,
							const struct inspector_endpoint *ep,
							const struct inspector_session_ops *ops, void *owner)
{
	uint16_t port = ep->port;

	assert_int_equal(pidfd, PIDFD);         /* the namespace is entered through it */
	assert_ptr_equal(ctx, CTX);
	assert_false(ss.live);
	ss.news++;
	if (ss.new_fails)
		return NULL;
	ss.pid = pid;
	ss.port = port;
	ss.ep = *ep;
	ss.ops = ops;
	ss.owner = owner;
	ss.live = true;
	return SESSION;
}

int __wrap_inspector_session__send(struct inspector_session *s, int tag, const char *method, cJSON *params)
{
	assert_ptr_equal(s, SESSION);
	assert_true(ss.live);
	cJSON_Delete(params);
	if (ss.send_error)
		return ss.send_error;
	assert_true(ss.nsent < 16);
	snprintf(ss.sent[ss.nsent], sizeof(ss.sent[0]), "%s", method);
	ss.tags[ss.nsent++] = tag;
	return 0;
}

const char *__wrap_inspector_session__node_version(const struct inspector_session *s)
{
	assert_ptr_equal(s, SESSION);
	return ss.version;
}

void __wrap_inspector_session__free(struct inspector_session *s)
{
	if (!s)
		return;
	assert_ptr_equal(s, SESSION);
	assert_true(ss.live);
	ss.live = false;
	ss.frees++;
}

/* ---- locate and the ledger ---- */

static struct {
	int starts, frees, start_error;
	bool live;
	struct locate_target t;
	struct inspector_claim *claim;
	locate_done_fn done;
	void *owner;
	int notes, note_error;
	int settles, settle_result;
	bool settle_closed, settle_exited;
} loc;

int __wrap_locate__start(const struct capture_env *e, const struct locate_target *t, struct inspector_claim *claim,
			 locate_done_fn done, void *owner, struct locate **ret);
void __wrap_locate__free(struct locate *l);
int __wrap_claim_note(const struct capture_env *e, const struct locate_target *t, struct inspector_claim *claim);
int __wrap_claim_settle(const struct capture_env *e, const struct locate_target *t, struct inspector_claim *claim,
			bool closed, bool target_exited);
const char *__wrap_ledger__path(const struct ledger *l);

int __wrap_locate__start(const struct capture_env *e, const struct locate_target *t, struct inspector_claim *claim,
			 locate_done_fn done, void *owner, struct locate **ret)
{
	/* The agent's, with the settings copied at the start: the capture keeps them. */
	assert_ptr_not_equal(e, &env);
	assert_ptr_equal(e->ctx, env.ctx);
	assert_ptr_equal(e->spool, env.spool);
	assert_ptr_equal(e->ledger, env.ledger);
	assert_ptr_not_equal(e->settings, &st);
	assert_memory_equal(e->settings, &st, sizeof(st));
	loc.starts++;
	if (loc.start_error)
		return loc.start_error;
	loc.t = *t;
	loc.claim = claim;
	loc.done = done;
	loc.owner = owner;
	loc.live = true;
	*ret = LOCATE;
	return 0;
}

void __wrap_locate__free(struct locate *l)
{
	if (!l)
		return;
	assert_ptr_equal(l, LOCATE);
	assert_true(loc.live);
	loc.live = false;
	loc.frees++;
}

int __wrap_claim_note(const struct capture_env *e, const struct locate_target *t, struct inspector_claim *claim)
{
	loc.notes++;
	assert_int_equal(claim->port, PORT);
	return loc.note_error;
}

int __wrap_claim_settle(const struct capture_env *e, const struct locate_target *t, struct inspector_claim *claim,
			bool closed, bool target_exited)
{
	loc.settles++;
	loc.settle_closed = closed;
	loc.settle_exited = target_exited;
	return loc.settle_result;
}

const char *__wrap_ledger__path(const struct ledger *l)
{
	return "/run/inspectd/opened";
}

/* ---- the closer ---- */

static struct {
	int starts, frees, start_error;
	bool live;
	struct inspector_session *session;      /* handed over */
	unsigned flags;
	struct inspector_claim claim;
	inspector_close_done_fn done;
	void *owner;
} cl;

int __wrap_inspector_close__start(const struct capture_env *e, const struct locate_target *t,
				  const struct inspector_claim *claim, struct inspector_session *session, unsigned flags,
				  const char *why, inspector_close_done_fn done, void *owner, struct inspector_close **ret);
void __wrap_inspector_close__free(struct inspector_close *ic);

int __wrap_inspector_close__start(const struct capture_env *e, const struct locate_target *t,
				  const struct inspector_claim *claim, struct inspector_session *session, unsigned flags,
				  const char *why, inspector_close_done_fn done, void *owner, struct inspector_close **ret)
{
	assert_false(cl.live);
	cl.starts++;
	cl.session = session;
	/* The session is the closer's now, whatever comes. */
	if (session) {
		assert_true(ss.live);
		ss.live = false;
	}
	if (cl.start_error)
		return cl.start_error;
	cl.flags = flags;
	cl.claim = *claim;
	cl.done = done;
	cl.owner = owner;
	cl.live = true;
	*ret = CLOSE;
	return 0;
}

void __wrap_inspector_close__free(struct inspector_close *ic)
{
	if (!ic)
		return;
	assert_ptr_equal(ic, CLOSE);
	assert_true(cl.live);
	cl.live = false;
	cl.frees++;
}

/* ---- the spool ---- */

struct spool_file {
	char buf[4096];
	size_t len;
	uint64_t max;
	bool compressed;
};

/* The target's memory as headroom_read() would find it. */
static struct {
	int error;
	struct headroom h;
	int reads;
} room;

int __wrap_headroom_read(const struct cgroup_roots *roots, pid_t pid, struct headroom *h);

int __wrap_headroom_read(const struct cgroup_roots *roots, pid_t pid, struct headroom *h)
{
	room.reads++;
	if (room.error)
		return room.error;
	room.h.heap_used = h->heap_used;
	room.h.heap_total = h->heap_total;
	*h = room.h;
	return 0;
}

static struct {
	int begins, begin_error, writes, write_error, resets, aborts, commits, commit_error, cancels;
	int files_open;
	char base[SPOOL_BASE_SIZE];
	char ext[SPOOL_EXT_SIZE];
	char content[4096];
	size_t content_len;
	size_t n;                       /* files in the last commit */
	char exts[4][SPOOL_EXT_SIZE];
	char contents[4][4096];
	size_t lens[4];
	cJSON *meta;
	spool_done_fn done;
	void *ctx;
	int derived;                    /* commits with a derived file */
	char derived_ext[SPOOL_EXT_SIZE];
	char derived_name[32];
	size_t derived_from;
} sp;

int __wrap_spool__begin(struct spool *s, struct spool_file **ret);
int __wrap_spool_file__write(struct spool_file *f, const void *buf, size_t len);
int __wrap_spool_file__reset(struct spool_file *f);
int __wrap_spool_file__truncate(struct spool_file *f, uint64_t size);
uint64_t __wrap_spool_file__size(const struct spool_file *f);
void __wrap_spool_file__abort(struct spool_file *f);
int __wrap_spool__reserve_base(struct spool *s, const char *stamp, const char *const *exts, size_t n, char *out,
			       size_t size);
int __wrap_spool__commit(struct spool *s, const char *base, struct spool_file **files, const char *const *exts,
			 size_t n, char *meta_json, spool_done_fn done, void *ctx);
int __wrap_spool__commit_derived(struct spool *s, const char *base, struct spool_file **files,
				 const char *const *exts, size_t n, char *meta_json, struct spool_derive *derive,
				 spool_done_fn done, void *ctx);
void __wrap_spool__cancel(struct spool *s, void *ctx);
const char *__wrap_spool__dir(const struct spool *s);

int __wrap_spool__begin(struct spool *s, struct spool_file **ret)
{
	assert_ptr_equal(s, env.spool);
	sp.begins++;
	if (sp.begin_error)
		return sp.begin_error;
	*ret = calloc(1, sizeof(**ret));
	assert_non_null(*ret);
	sp.files_open++;
	return 0;
}

int __wrap_spool_file__write(struct spool_file *f, const void *buf, size_t len)
{
	assert_non_null(f);
	sp.writes++;
	if (sp.write_error)
		return sp.write_error;
	assert_true(f->len + len <= sizeof(f->buf));
	memcpy(f->buf + f->len, buf, len);
	f->len += len;
	return 0;
}

int __wrap_spool_file__reset(struct spool_file *f)
{
	sp.resets++;
	f->len = 0;
	return 0;
}

int __wrap_spool_file__truncate(struct spool_file *f, uint64_t size)
{
	assert_true(size <= f->len);
	if (f->compressed && size != f->len)
		return -EOPNOTSUPP;     /* as the spool: a deflate stream cannot take bytes back */
	if (size < f->len)
		sp.resets++;            /* what a message streamed, taken out again */
	f->len = size;
	return 0;
}

int __wrap_spool_file__set_max(struct spool_file *f, uint64_t max);
int __wrap_spool_file__compress(struct spool_file *f);

int __wrap_spool_file__set_max(struct spool_file *f, uint64_t max)
{
	f->max = max;
	return 0;
}

int __wrap_spool_file__compress(struct spool_file *f)
{
	f->compressed = true;
	return 0;
}

uint64_t __wrap_spool_file__size(const struct spool_file *f)
{
	return f->len;
}

void __wrap_spool_file__abort(struct spool_file *f)
{
	if (!f)
		return;
	sp.aborts++;
	sp.files_open--;
	free(f);
}

int __wrap_spool__reserve_base(struct spool *s, const char *stamp, const char *const *exts, size_t n, char *out,
			       size_t size)
{
	assert_int_equal(n, fake_kind ? 2 : 1);
	snprintf(out, size, "%s", stamp);
	return 0;
}

int __wrap_spool__commit(struct spool *s, const char *base, struct spool_file **files, const char *const *exts,
			 size_t n, char *meta_json, spool_done_fn done, void *ctx)
{
	sp.commits++;
	assert_true(n >= 1 && n <= 4);
	sp.n = n;
	snprintf(sp.base, sizeof(sp.base), "%s", base);
	snprintf(sp.ext, sizeof(sp.ext), "%s", exts[0]);
	memcpy(sp.content, files[0]->buf, files[0]->len);
	sp.content_len = files[0]->len;
	for (size_t i = 0; i < n; i++) {
		assert_non_null(files[i]);
		snprintf(sp.exts[i], sizeof(sp.exts[i]), "%s", exts[i]);
		memcpy(sp.contents[i], files[i]->buf, files[i]->len);
		sp.lens[i] = files[i]->len;
		/* Consumed, whatever the result. */
		free(files[i]);
		files[i] = NULL;
		sp.files_open--;
	}
	cJSON_Delete(sp.meta);
	sp.meta = cJSON_Parse(meta_json);
	assert_non_null(sp.meta);
	free(meta_json);
	if (sp.commit_error)
		return sp.commit_error;
	sp.done = done;
	sp.ctx = ctx;
	return 0;
}

/* The pprof exporter's commit: the derived file's parts recorded and freed, the rest as a commit. */
int __wrap_spool__commit_derived(struct spool *s, const char *base, struct spool_file **files,
				 const char *const *exts, size_t n, char *meta_json, struct spool_derive *derive,
				 spool_done_fn done, void *ctx)
{
	assert_non_null(derive);
	assert_non_null(derive->make);
	assert_non_null(derive->meta_without);
	sp.derived++;
	snprintf(sp.derived_ext, sizeof(sp.derived_ext), "%s", derive->ext);
	snprintf(sp.derived_name, sizeof(sp.derived_name), "%s", derive->name);
	sp.derived_from = derive->from;
	free(derive->meta_without);
	derive->free_arg(derive->arg);
	return __wrap_spool__commit(s, base, files, exts, n, meta_json, done, ctx);
}

void __wrap_spool__cancel(struct spool *s, void *ctx)
{
	assert_ptr_equal(ctx, sp.ctx);
	sp.cancels++;
}

const char *__wrap_spool__dir(const struct spool *s)
{
	return "/var/lib/inspectd/out";
}

/* The spool's writer thread answering a commit. */
static void commit_finishes(int result)
{
	char profile[512], meta[512];
	const char *paths[] = { profile, meta };
	spool_done_fn done = sp.done;

	assert_non_null(done);
	snprintf(profile, sizeof(profile), "/var/lib/inspectd/out/%s.%s", sp.base, sp.ext);
	snprintf(meta, sizeof(meta), "/var/lib/inspectd/out/%s.meta.json", sp.base);
	sp.done = NULL;
	done(sp.ctx, result, paths, 2);
}

/* ---- the capture and its owner ---- */

static struct capture *cap;
static enum trigger_source source;     /* of the next start() */
static uint64_t trigger_ago_ns;         /* how long before the next start() its trigger was */
static size_t streamed;                 /* bytes given to the sink by the last message */
static int dones;
static char owner_mem;

static void on_done(void *owner, struct capture *c)
{
	assert_ptr_equal(owner, &owner_mem);
	assert_ptr_equal(c, cap);
	dones++;
}

static int setup(void **state)
{
	st.max_duration_usec = MAX_USEC;
	st.max_signal_duration_usec = SIGNAL_MAX_USEC;
	st.exporter = NULL;
	st.capture_usec = 30 * LWS_US_PER_SEC;
	st.max_snapshot_bytes = 4ull << 30;
	st.compress = false;
	st.trace_categories = "node,v8";
	st.snapshot_headroom = 16;
	st.snapshot_stall_usec = STALL_USEC;
	memset(&room, 0, sizeof(room));
	source = TRIGGER_SOURCE_API;
	trigger_ago_ns = 0;
	sul_reset();
	memset(&ss, 0, sizeof(ss));
	memset(&loc, 0, sizeof(loc));
	memset(&cl, 0, sizeof(cl));
	memset(&sp, 0, sizeof(sp));
	cap = NULL;
	dones = 0;
	streamed = 0;
	fake_kind = false;
	return 0;
}

static int teardown(void **state)
{
	capture__free(cap);
	cap = NULL;
	/* Nothing of the capture's is left behind: timers, session, locate, closer, files. */
	assert_int_equal(sul_pending(), 0);
	assert_false(ss.live);
	assert_false(loc.live);
	assert_false(cl.live);
	assert_int_equal(sp.files_open, 0);
	cJSON_Delete(sp.meta);
	sp.meta = NULL;
	return 0;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A capture of this very process (its /proc stands for the target's). */
static void start(enum profile_kind kind, uint64_t duration_usec)
{
	struct capture_trigger t = { .source = source, .ktime_ns = monotonic_ns() - trigger_ago_ns };

	assert_int_equal(capture__new(&env, getpid(), PIDFD, NULL, &(struct capture_request){ .kind = kind, .duration_usec = duration_usec }, &t, on_done, &owner_mem, &cap),
			 0);
	assert_int_equal(loc.starts, 1);
	assert_int_equal(loc.t.pid, getpid());
	assert_int_equal(loc.t.pidfd, PIDFD);
	assert_true(loc.t.start_time > 0);
	assert_int_equal(capture__pid(cap), getpid());
	assert_int_equal(capture__kind(cap), kind);
	assert_string_equal(capture__state_name(cap), "starting");
	assert_true(capture__latency_ms(cap) < 0);
}

/* Locate found the inspector: ours (SIGUSR1 sent by it) or one already open. */
static void located(bool ours)
{
	loc.claim->port = PORT;
	loc.claim->endpoint = (struct inspector_endpoint){ .family = AF_INET, .addr = { 127, 0, 0, 2 }, .port = PORT };
	loc.claim->inode = 4711;
	loc.claim->opened_by_us = ours;
	loc.claim->sigusr1_sent = ours;
	loc.claim->recorded = ours;
	loc.done(loc.owner, 0, NULL);
	assert_false(loc.live);
	assert_int_equal(ss.news, 1);
	assert_int_equal(ss.port, PORT);
	/* The listener's own address: a socket bound to 127.0.0.2 is reached there. */
	assert_int_equal(ss.ep.family, AF_INET);
	assert_memory_equal(ss.ep.addr, ((uint8_t[]){ 127, 0, 0, 2 }), 4);
	assert_int_equal(ss.pid, getpid());
	assert_int_equal(loc.notes, ours ? 1 : 0);      /* its port recorded once it is known */
}

static void respond(int tag, const char *error)
{
	struct cdp_reader_header h = { .has_id = true, .id = 1 };

	if (error) {
		h.has_error = true;
		snprintf(h.error, sizeof(h.error), "%s", error);
	} else {
		h.has_result = true;
	}
	ss.ops->response(ss.owner, tag, &h);
}

static void connected(enum profile_kind kind, uint64_t duration_usec, bool ours)
{
	start(kind, duration_usec);
	located(ours);
	assert_string_equal(capture__state_name(cap), "starting");
	ss.version = "v20.20.2";
	ss.ops->ready(ss.owner);
}

/* Up to the profiler running in the target. */
static void running(enum profile_kind kind, uint64_t duration_usec, bool ours)
{
	connected(kind, duration_usec, ours);
	if (kind == PROFILE_CPU) {
		respond(PROFILE_TAG_STEP, NULL);
		respond(PROFILE_TAG_STEP, NULL);
	}
	respond(PROFILE_TAG_STARTED, NULL);
	assert_string_equal(capture__state_name(cap), "running");
	assert_true(capture__latency_ms(cap) >= 0);
	assert_true(capture__started_at(cap).tv_sec > 0);
}

/* One message's begin, as the session asks: what to stream, and the budget. */
static void message_begin(struct cdp_reader_watch *w, size_t *budget)
{
	memset(w, 0, sizeof(*w));
	*budget = 0;
	ss.ops->message_begin(ss.owner, w, budget);
}

/* A message streaming text as the watched value, in two pieces; 0 or the sink's error. */
static int stream(const char *text)
{
	struct cdp_reader_watch w;
	size_t budget, half = strlen(text) / 2;
	int r;

	message_begin(&w, &budget);
	streamed = strlen(text);
	assert_int_equal(budget, st.max_profile_bytes);
	assert_string_equal(w.path[0], "result");
	assert_string_equal(w.path[1], "profile");
	assert_int_equal(w.mode, CDP_READER_RAW);
	assert_non_null(w.sink);
	r = w.sink(w.ctx, text, half);
	if (r < 0)
		return r;
	return w.sink(w.ctx, text + half, strlen(text) - half);
}

/* The stop command's answer, its profile streamed before it. */
static void stop_answer(bool with_profile)
{
	struct cdp_reader_header h = { .has_id = true, .has_result = true, .watched_seen = with_profile,
				       .watched_bytes = with_profile ? streamed : 0 };

	ss.ops->response(ss.owner, PROFILE_TAG_STOPPED, &h);
	streamed = 0;
}

static double meta_number(const char *object, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(sp.meta, object), key);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static bool meta_null(const char *object, const char *key)
{
	return cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(sp.meta, object), key));
}

static const char *meta_string(const char *object, const char *key)
{
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(sp.meta, object), key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

/* Advance the loop a little: done runs if it is due. */
static void settle(void)
{
	sul_advance(1);
}

/* ---- the whole way ---- */

static void test_happy_path_inspector_not_ours(void **state)
{
	char prefix[64];

	running(PROFILE_HEAP, 0, false);
	assert_int_equal(ss.nsent, 1);
	assert_string_equal(ss.sent[0], "HeapProfiler.startSampling");
	assert_int_equal(ss.tags[0], PROFILE_TAG_STARTED);

	capture__request_stop(cap, "api");
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_int_equal(ss.nsent, 2);
	assert_string_equal(ss.sent[1], "HeapProfiler.stopSampling");
	assert_int_equal(ss.tags[1], PROFILE_TAG_STOPPED);
	capture__request_stop(cap, "again");    /* once */
	assert_int_equal(ss.nsent, 2);

	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	/* The profile, byte for byte, handed to the spool with its meta.json. */
	assert_int_equal(sp.commits, 1);
	assert_int_equal(sp.content_len, strlen(PROFILE_TEXT));
	assert_memory_equal(sp.content, PROFILE_TEXT, sp.content_len);
	snprintf(prefix, sizeof(prefix), "heap-profile-%d-", (int)getpid());
	assert_memory_equal(sp.base, prefix, strlen(prefix));
	assert_string_equal(sp.ext, "heapprofile");
	assert_string_equal(meta_string("profile", "stop_reason"), "api");
	assert_string_equal(meta_string("trigger", "kind"), "api");
	assert_true(capture__ended_at(cap).tv_sec > 0);

	/* Someone else's inspector: our session ends, the inspector stays open. */
	assert_int_equal(ss.frees, 1);
	assert_int_equal(cl.starts, 0);
	assert_int_equal(loc.settles, 1);
	assert_false(loc.settle_closed);
	/* Over but for the files: not done until the spool answers. */
	assert_string_equal(capture__state_name(cap), "stopping");
	sul_advance(LWS_US_PER_SEC);
	assert_int_equal(dones, 0);
	assert_null(capture__file(cap, 0));

	commit_finishes(0);
	assert_string_equal(capture__state_name(cap), "stopping");     /* done or failed: the job says */
	assert_int_equal(dones, 0);             /* not from inside the spool's callback */
	settle();
	assert_int_equal(dones, 1);
	assert_int_equal(capture__outcome(cap), CAPTURE_OK);
	assert_null(capture__error(cap));
	assert_non_null(strstr(capture__file(cap, 0), ".heapprofile"));
	assert_non_null(strstr(capture__file(cap, 1), ".meta.json"));
	assert_null(capture__file(cap, 2));
	sul_advance(MAX_USEC);
	assert_int_equal(dones, 1);
}

/* Ours: closed once profiled; the commit finishes before the close. */
static void test_commit_before_close(void **state)
{
	running(PROFILE_HEAP, 0, true);
	capture__request_stop(cap, "api");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_int_equal(sp.commits, 1);
	/* The open session goes to the closer, which may use it to ask node to close. */
	assert_int_equal(cl.starts, 1);
	assert_ptr_equal(cl.session, SESSION);
	assert_int_equal(cl.flags, 0);
	assert_int_equal(cl.claim.port, PORT);
	assert_int_equal(ss.frees, 0);
	assert_string_equal(capture__state_name(cap), "stopping");

	commit_finishes(0);
	settle();
	assert_int_equal(dones, 0);             /* still closing */
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_int_equal(loc.settles, 0);

	cl.done(cl.owner, true);
	assert_int_equal(loc.settles, 1);
	assert_true(loc.settle_closed);
	assert_false(loc.settle_exited);
	settle();
	assert_int_equal(dones, 1);
	assert_int_equal(capture__outcome(cap), CAPTURE_OK);
	assert_non_null(capture__file(cap, 0));
}

static void test_commit_after_close(void **state)
{
	running(PROFILE_HEAP, 0, true);
	capture__request_stop(cap, "api");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	cl.done(cl.owner, true);
	/* Closed, but the files are not there yet. */
	assert_string_equal(capture__state_name(cap), "stopping");
	sul_advance(LWS_US_PER_SEC);
	assert_int_equal(dones, 0);
	commit_finishes(0);
	assert_string_equal(capture__state_name(cap), "stopping");     /* done or failed: the job says */
	settle();
	assert_int_equal(dones, 1);
	assert_int_equal(capture__outcome(cap), CAPTURE_OK);
}

/* --pprof: the pprof exporter's commit, BASE.pb.gz made from the profile and listed. */
static void test_pprof_exporter(void **state)
{
	cJSON *files;

	st.exporter = "pprof";
	running(PROFILE_CPU, 0, false);
	capture__request_stop(cap, "api");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_int_equal(sp.commits, 1);
	assert_int_equal(sp.derived, 1);
	assert_string_equal(sp.derived_ext, "pb.gz");
	assert_string_equal(sp.derived_name, "pprof");
	assert_int_equal(sp.derived_from, 0);
	assert_string_equal(sp.ext, "cpuprofile");
	files = cJSON_GetObjectItem(cJSON_GetObjectItem(sp.meta, "profile"), "files");
	assert_int_equal(cJSON_GetArraySize(files), 2);
	assert_non_null(strstr(cJSON_GetArrayItem(files, 0)->valuestring, ".cpuprofile"));
	assert_non_null(strstr(cJSON_GetArrayItem(files, 1)->valuestring, ".pb.gz"));
	assert_non_null(strstr(meta_string("profile", "pprof"), ".pb.gz"));
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
	assert_int_equal(capture__outcome(cap), CAPTURE_OK);
}

/* Without it, the file exporter: no derived file. */
static void test_file_exporter(void **state)
{
	st.exporter = "file";
	running(PROFILE_HEAP, 0, false);
	capture__request_stop(cap, "api");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_int_equal(sp.commits, 1);
	assert_int_equal(sp.derived, 0);
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(sp.meta, "profile"), "pprof"));
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
}

static void test_cpu_commands(void **state)
{
	connected(PROFILE_CPU, 0, false);
	assert_int_equal(ss.nsent, 3);
	assert_string_equal(ss.sent[0], "Profiler.enable");
	assert_string_equal(ss.sent[1], "Profiler.setSamplingInterval");
	assert_string_equal(ss.sent[2], "Profiler.start");
	assert_int_equal(ss.tags[0], PROFILE_TAG_STEP);
	assert_int_equal(ss.tags[1], PROFILE_TAG_STEP);
	assert_int_equal(ss.tags[2], PROFILE_TAG_STARTED);
	respond(PROFILE_TAG_STEP, NULL);
	respond(PROFILE_TAG_STEP, NULL);
	assert_string_equal(capture__state_name(cap), "starting");
	respond(PROFILE_TAG_STARTED, NULL);
	assert_string_equal(capture__state_name(cap), "running");

	capture__request_stop(cap, "signal");
	assert_int_equal(ss.nsent, 5);
	assert_string_equal(ss.sent[3], "Profiler.stop");
	assert_int_equal(ss.tags[3], PROFILE_TAG_STOPPED);
	assert_string_equal(ss.sent[4], "Profiler.disable");
	/* An intermediate command refused once the profiler runs: only noted. */
	respond(PROFILE_TAG_STEP, "Profiler is not enabled");
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_null(capture__error(cap));
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_string_equal(sp.ext, "cpuprofile");
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
	assert_int_equal(capture__outcome(cap), CAPTURE_OK);
}

/* What the target may send in each state, and where the profile goes. */
static void test_budgets(void **state)
{
	struct cdp_reader_watch w;
	size_t budget;

	connected(PROFILE_HEAP, 0, false);
	message_begin(&w, &budget);
	assert_int_equal(budget, PROFILE_BUDGET_SMALL);
	assert_null(w.path[0]);
	assert_null(w.sink);
	respond(PROFILE_TAG_STARTED, NULL);
	message_begin(&w, &budget);
	assert_int_equal(budget, PROFILE_BUDGET_SMALL);
	assert_null(w.path[0]);
	capture__request_stop(cap, "api");
	message_begin(&w, &budget);
	assert_int_equal(budget, st.max_profile_bytes);
	assert_non_null(w.sink);
}

/* A message before the stop answer streamed something: only the answer's profile counts. */
static void test_only_the_answer_counts(void **state)
{
	running(PROFILE_HEAP, 0, false);
	capture__request_stop(cap, "api");
	assert_int_equal(stream("{\"not\":\"it\"}"), 0);        /* an answer to an id never sent */
	assert_int_equal(stream(PROFILE_TEXT), 0);
	assert_int_equal(sp.resets, 1);
	stop_answer(true);
	assert_int_equal(sp.content_len, strlen(PROFILE_TEXT));
	assert_memory_equal(sp.content, PROFILE_TEXT, sp.content_len);
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
}

/* ---- stopping ---- */

static void test_stop_requested_before_running(void **state)
{
	start(PROFILE_HEAP, 0);
	capture__request_stop(cap, "api");      /* while locating */
	assert_string_equal(capture__state_name(cap), "starting");
	located(false);
	ss.version = "v20.20.2";
	ss.ops->ready(ss.owner);
	capture__request_stop(cap, "other");    /* while starting: the first reason stays */
	assert_int_equal(ss.nsent, 1);
	respond(PROFILE_TAG_STARTED, NULL);
	/* Stopped as soon as it runs; no duration timer left behind. */
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_int_equal(ss.nsent, 2);
	assert_string_equal(ss.sent[1], "HeapProfiler.stopSampling");
	assert_int_equal(sul_pending(), 1);     /* the stop's timeout */
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_string_equal(meta_string("profile", "stop_reason"), "api");
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
}

static void test_max_duration(void **state)
{
	running(PROFILE_HEAP, 0, false);
	sul_advance(MAX_USEC - 1);
	assert_string_equal(capture__state_name(cap), "running");
	assert_int_equal(ss.nsent, 1);
	sul_advance(1);
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_string_equal(ss.sent[1], "HeapProfiler.stopSampling");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_string_equal(meta_string("profile", "stop_reason"), "max-duration");
	/* Until stopped: no duration asked for; started at once. */
	assert_true(meta_null("profile", "requested_duration_ms"));
	assert_true(meta_number("trigger", "queued_ms") < 1000);
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
}

/* A capture that waited its turn (the dispatcher starts it 2.5 s after its trigger), stopped
 * while it waited: it runs the duration that stop made it, and meta.json says both. */
static void test_queued_and_requested(void **state)
{
	source = TRIGGER_SOURCE_SIGNAL;
	trigger_ago_ns = 2500 * UINT64_C(1000000);
	running(PROFILE_HEAP, 1234567, false);
	sul_advance(1234566);
	assert_string_equal(capture__state_name(cap), "running");
	sul_advance(1);
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_string_equal(meta_string("profile", "stop_reason"), "duration");
	assert_true(meta_number("profile", "requested_duration_ms") == 1234.567);
	assert_true(meta_number("trigger", "queued_ms") >= 2500 && meta_number("trigger", "queued_ms") < 3500);
	assert_true(meta_number("trigger", "latency_ms") >= meta_number("trigger", "queued_ms"));
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
}

/* Stopped after it had waited its turn, while it ran: it runs, from its start, the time from its
 * trigger to that stop; what is left of it. */
static void test_set_duration_running(void **state)
{
	source = TRIGGER_SOURCE_SIGNAL;
	running(PROFILE_HEAP, 0, false);
	sul_advance(LWS_US_PER_SEC);
	assert_int_equal(capture__set_duration(cap, 3 * LWS_US_PER_SEC), 0);
	sul_advance(2 * LWS_US_PER_SEC - 1);
	assert_string_equal(capture__state_name(cap), "running");
	assert_int_equal(ss.nsent, 1);
	sul_advance(1);
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_string_equal(meta_string("profile", "stop_reason"), "duration");
	assert_true(meta_number("profile", "requested_duration_ms") == 3000);
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
}

/* ... having run that long already: stopped at once. Stopping already: -EALREADY. */
static void test_set_duration_past(void **state)
{
	source = TRIGGER_SOURCE_SIGNAL;
	running(PROFILE_CPU, 0, false);
	sul_advance(2 * LWS_US_PER_SEC);
	assert_int_equal(capture__set_duration(cap, LWS_US_PER_SEC), 0);
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_int_equal(capture__set_duration(cap, 5 * LWS_US_PER_SEC), -EALREADY);
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_string_equal(meta_string("profile", "stop_reason"), "duration");
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
}

/* ... before its profiler runs: the duration counts from its start. */
static void test_set_duration_starting(void **state)
{
	source = TRIGGER_SOURCE_SIGNAL;
	start(PROFILE_HEAP, 0);
	assert_int_equal(capture__set_duration(cap, 1500000), 0);
	located(false);
	ss.version = "v20.20.2";
	ss.ops->ready(ss.owner);
	sul_advance(LWS_US_PER_SEC);    /* the start command's answer is slow */
	respond(PROFILE_TAG_STARTED, NULL);
	sul_advance(1500000 - 1);
	assert_string_equal(capture__state_name(cap), "running");
	sul_advance(1);
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_true(meta_number("profile", "requested_duration_ms") == 1500);
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
}

/* Stopped while queued after longer than --max-signal-duration: a signal's capture runs no
 * longer than that all the same, and says so; what was asked for is still told. */
static void test_requested_within_max_signal_duration(void **state)
{
	source = TRIGGER_SOURCE_SIGNAL;
	running(PROFILE_HEAP, SIGNAL_MAX_USEC + LWS_US_PER_SEC, false);
	sul_advance(SIGNAL_MAX_USEC);
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_string_equal(meta_string("profile", "stop_reason"), "max-signal-duration");
	assert_true(meta_number("profile", "requested_duration_ms") == (SIGNAL_MAX_USEC + LWS_US_PER_SEC) / 1e3);
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
}

/* A signal's capture nobody stopped: --max-signal-duration, not --max-duration. */
static void test_max_signal_duration(void **state)
{
	source = TRIGGER_SOURCE_SIGNAL;
	running(PROFILE_CPU, 0, false);
	sul_advance(SIGNAL_MAX_USEC - 1);
	assert_string_equal(capture__state_name(cap), "running");
	sul_advance(1);
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_string_equal(meta_string("profile", "stop_reason"), "max-signal-duration");
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
}

/* Above --max-duration it is --max-duration that stops it; API captures never see it. */
static void test_max_signal_duration_within_max(void **state)
{
	st.max_signal_duration_usec = MAX_USEC * 2;
	source = TRIGGER_SOURCE_SIGNAL;
	running(PROFILE_HEAP, 0, false);
	sul_advance(MAX_USEC);
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_string_equal(meta_string("profile", "stop_reason"), "max-duration");
	commit_finishes(0);
	settle();
}

/* Settings changed after the start (a reload) do not change a capture under way. */
/* An event the kind keeps streams into its output; one it drops is taken out again. */
static int event(const char *method, const char *chunk)
{
	struct cdp_reader_watch w;
	struct cdp_reader_header h = { .has_method = true, .has_params = true };
	size_t budget;
	int r = 0;

	message_begin(&w, &budget);
	if (chunk && w.sink)
		r = w.sink(w.ctx, chunk, strlen(chunk));
	snprintf(h.method, sizeof(h.method), "%s", method);
	h.watched_seen = chunk != NULL;
	h.watched_bytes = chunk ? strlen(chunk) : 0;
	ss.ops->event(ss.owner, &h);
	return r;
}

static void test_kind_of_two_files_keeping_events(void **state)
{
	const cJSON *files;

	fake_kind = true;
	running(PROFILE_HEAP, 0, false);
	assert_int_equal(event("Fake.chunk", "abc"), 0);
	assert_int_equal(event("Fake.other", "zzz"), 0);       /* streamed, then dropped */
	assert_int_equal(event("Fake.chunk", "def"), 0);
	capture__request_stop(cap, "api");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_int_equal(sp.commits, 1);
	assert_int_equal(sp.n, 2);
	assert_string_equal(sp.exts[0], "chunks");
	assert_string_equal(sp.exts[1], "last");
	assert_int_equal(sp.lens[0], 6);
	assert_memory_equal(sp.contents[0], "abcdef", 6);
	assert_int_equal(sp.lens[1], strlen(PROFILE_TEXT));
	files = cJSON_GetObjectItem(cJSON_GetObjectItem(sp.meta, "profile"), "files");
	assert_int_equal(cJSON_GetArraySize(files), 2);
	assert_string_equal(meta_string("profile", "file"), cJSON_GetArrayItem(files, 0)->valuestring);
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
}

static void test_keeps_its_settings(void **state)
{
	start(PROFILE_HEAP, 0);
	st.max_duration_usec = MAX_USEC / 2;    /* before its profiler runs */
	located(false);
	ss.version = "v20.20.2";
	ss.ops->ready(ss.owner);
	respond(PROFILE_TAG_STARTED, NULL);
	sul_advance(MAX_USEC / 2);
	st.max_duration_usec = MAX_USEC;
	assert_string_equal(capture__state_name(cap), "running");
	sul_advance(MAX_USEC / 2);
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
}

static void test_requested_duration(void **state)
{
	running(PROFILE_CPU, 10 * LWS_US_PER_SEC, false);
	sul_advance(10 * LWS_US_PER_SEC - 1);
	assert_string_equal(capture__state_name(cap), "running");
	sul_advance(1);
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_string_equal(meta_string("profile", "stop_reason"), "duration");
	assert_true(meta_number("profile", "requested_duration_ms") == 10000);
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
}

static void test_requested_duration_over_max(void **state)
{
	running(PROFILE_HEAP, MAX_USEC + LWS_US_PER_SEC, false);
	sul_advance(MAX_USEC);
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_string_equal(meta_string("profile", "stop_reason"), "max-duration");
	commit_finishes(0);
	settle();
}

/* ---- failures ---- */

static void expect_failed(const char *error)
{
	assert_string_equal(capture__error(cap), error);
	assert_int_equal(capture__outcome(cap), CAPTURE_FAILED);
	assert_int_equal(sp.commits, 0);
}

/* A failed capture with someone else's inspector: done at once, nothing closed. */
static void expect_over_not_ours(void)
{
	assert_int_equal(cl.starts, 0);
	assert_false(ss.live);
	assert_string_equal(capture__state_name(cap), "stopping");     /* done or failed: the job says */
	settle();
	assert_int_equal(dones, 1);
}

/* A failed capture with our inspector: the closer has it; done once it closed it. */
static void expect_closing(void)
{
	assert_int_equal(cl.starts, 1);
	assert_string_equal(capture__state_name(cap), "stopping");
	settle();
	assert_int_equal(dones, 0);
	cl.done(cl.owner, true);
	assert_true(loc.settle_closed);
	settle();
	assert_int_equal(dones, 1);
}

static void test_timeout_connecting(void **state)
{
	start(PROFILE_HEAP, 0);
	located(true);
	sul_advance(ATTACH_USEC - 1);
	assert_int_equal(cl.starts, 0);
	sul_advance(1);
	expect_failed("no answer from the inspector while connecting");
	/* The port never answered as node's: the closer is not to talk to it again. */
	assert_ptr_equal(cl.session, SESSION);
	assert_int_equal(cl.flags, INSPECTOR_CLOSE_NO_RECONNECT);
	expect_closing();
}

static void test_timeout_connecting_not_ours(void **state)
{
	start(PROFILE_HEAP, 0);
	located(false);
	sul_advance(ATTACH_USEC);
	expect_failed("no answer from the inspector while connecting");
	assert_int_equal(ss.frees, 1);
	expect_over_not_ours();
}

static void test_timeout_starting(void **state)
{
	connected(PROFILE_HEAP, 0, true);
	sul_advance(COMMAND_USEC - 1);
	assert_int_equal(cl.starts, 0);
	sul_advance(1);
	expect_failed("no answer from the inspector while starting");
	assert_ptr_equal(cl.session, SESSION);
	assert_int_equal(cl.flags, 0);          /* it answered as node's: reconnecting is fine */
	expect_closing();
}

static void test_timeout_stopping(void **state)
{
	running(PROFILE_HEAP, 0, false);
	capture__request_stop(cap, "api");
	sul_advance(STOP_USEC - 1);
	assert_string_equal(capture__state_name(cap), "stopping");
	sul_advance(1);
	expect_failed("no answer from the inspector while stopping");
	expect_over_not_ours();
}

static void test_start_refused(void **state)
{
	connected(PROFILE_HEAP, 0, false);
	respond(PROFILE_TAG_STARTED, "Not allowed");
	expect_failed("inspector refused to start the heap profiler: Not allowed");
	assert_true(capture__latency_ms(cap) < 0);
	assert_int_equal(capture__started_at(cap).tv_sec, 0);
	expect_over_not_ours();
}

static void test_cpu_step_refused_while_starting(void **state)
{
	connected(PROFILE_CPU, 0, true);
	respond(PROFILE_TAG_STEP, "Profiler is busy");
	expect_failed("inspector refused to start the cpu profiler: Profiler is busy");
	expect_closing();
}

static void test_stop_refused(void **state)
{
	running(PROFILE_HEAP, 0, false);
	capture__request_stop(cap, "api");
	respond(PROFILE_TAG_STOPPED, "Sampling not started");
	expect_failed("inspector refused to stop the heap profiler: Sampling not started");
	expect_over_not_ours();
}

static void test_send_fails(void **state)
{
	start(PROFILE_HEAP, 0);
	located(false);
	ss.send_error = -ENOMEM;
	ss.version = "v20.20.2";
	ss.ops->ready(ss.owner);
	expect_failed("cannot send the start command: Cannot allocate memory");
	expect_over_not_ours();
}

static void test_session_lost_running(void **state)
{
	running(PROFILE_HEAP, 0, true);
	/* The session reports its end, and expects its owner to free it. */
	ss.ops->closed(ss.owner, "inspector closed the WebSocket");
	expect_failed("DevTools session lost while running, the profile is lost: inspector closed the WebSocket");
	assert_int_equal(ss.frees, 1);
	/* Ours, and it answered as node's: the closer connects anew to close it. */
	assert_null(cl.session);
	assert_int_equal(cl.flags, 0);
	expect_closing();
}

/* /json/version said node, then /json/list failed: ours, and node's, so closed anew. */
static void test_session_lost_after_version(void **state)
{
	start(PROFILE_HEAP, 0);
	located(true);
	ss.version = "v20.20.2";
	ss.ops->closed(ss.owner, "no usable webSocketDebuggerUrl in /json/list");
	expect_failed("no usable webSocketDebuggerUrl in /json/list");
	assert_null(cl.session);
	assert_int_equal(cl.flags, 0);
	expect_closing();
}

static void test_session_lost_connecting(void **state)
{
	start(PROFILE_HEAP, 0);
	located(true);
	ss.ops->closed(ss.owner, "the port does not answer as a node inspector (/json/version)");
	expect_failed("the port does not answer as a node inspector (/json/version)");
	assert_null(cl.session);
	assert_int_equal(cl.flags, INSPECTOR_CLOSE_NO_RECONNECT);
	expect_closing();
}

static void test_stop_without_profile(void **state)
{
	running(PROFILE_HEAP, 0, false);
	capture__request_stop(cap, "api");
	stop_answer(false);
	expect_failed("stop answered without a profile");
	expect_over_not_ours();
}

static void test_kind_fails_on_an_event(void **state)
{
	fake_kind = true;
	running(PROFILE_HEAP, 0, false);
	assert_int_equal(event("Fake.chunk", "abc"), 0);
	event("Fake.bad", NULL);
	expect_failed("the heap profiler reported Fake.bad: Protocol error");
	expect_over_not_ours();
	assert_int_equal(sp.commits, 0);
}

static void test_stop_watched_but_nothing_written(void **state)
{
	running(PROFILE_HEAP, 0, false);
	capture__request_stop(cap, "api");
	stop_answer(true);                      /* the member there, no byte of it streamed */
	expect_failed("stop answered without a profile");
	expect_over_not_ours();
}

static void test_sink_write_fails(void **state)
{
	running(PROFILE_HEAP, 0, true);
	capture__request_stop(cap, "api");
	sp.write_error = -ENOSPC;
	assert_int_equal(stream(PROFILE_TEXT), -ENOSPC);
	/* Stays failed without writing again. */
	assert_int_equal(stream(PROFILE_TEXT), -ENOSPC);
	assert_int_equal(sp.writes, 1);
	/* The reader stops at the sink's error, and the session ends. */
	ss.ops->closed(ss.owner, "CDP message could not be kept");
	assert_string_equal(capture__error(cap), "export failed: No space left on device");
	assert_int_equal(capture__outcome(cap), CAPTURE_EXPORT_FAILED);
	assert_int_equal(sp.commits, 0);
	/* The inspector is closed all the same; then the temporary is removed. */
	expect_closing();
	assert_int_equal(sp.aborts, 1);
	assert_int_equal(capture__outcome(cap), CAPTURE_EXPORT_FAILED);
}

static void test_spool_begin_fails(void **state)
{
	running(PROFILE_HEAP, 0, false);
	capture__request_stop(cap, "api");
	sp.begin_error = -EDQUOT;
	assert_int_equal(stream(PROFILE_TEXT), -EDQUOT);
	ss.ops->closed(ss.owner, "CDP message could not be kept");
	assert_string_equal(capture__error(cap), "export failed: Disk quota exceeded");
	assert_int_equal(capture__outcome(cap), CAPTURE_EXPORT_FAILED);
	expect_over_not_ours();
}

static void test_commit_refused(void **state)
{
	running(PROFILE_HEAP, 0, true);
	capture__request_stop(cap, "api");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	sp.commit_error = -EBUSY;
	stop_answer(true);
	assert_int_equal(capture__outcome(cap), CAPTURE_EXPORT_FAILED);
	assert_string_equal(capture__error(cap), "export failed: Device or resource busy");
	/* Nothing in flight: done once closed. */
	expect_closing();
	assert_null(capture__file(cap, 0));
}

static void test_commit_fails(void **state)
{
	running(PROFILE_HEAP, 0, false);
	capture__request_stop(cap, "api");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	commit_finishes(-EIO);
	settle();
	assert_int_equal(dones, 1);
	assert_int_equal(capture__outcome(cap), CAPTURE_EXPORT_FAILED);
	assert_string_equal(capture__error(cap), "export failed: Input/output error");
	assert_null(capture__file(cap, 0));
}

static void test_locate_fails(void **state)
{
	start(PROFILE_HEAP, 0);
	loc.done(loc.owner, -EPERM, "process does not catch SIGUSR1");
	expect_failed("process does not catch SIGUSR1");
	assert_int_equal(ss.news, 0);
	expect_over_not_ours();
}

/* SIGUSR1 sent, the inspector opened too late to be used: closed all the same. */
static void test_locate_opened_too_late(void **state)
{
	start(PROFILE_HEAP, 0);
	loc.claim->port = PORT;
	loc.claim->endpoint = (struct inspector_endpoint){ .family = AF_INET, .addr = { 127, 0, 0, 2 }, .port = PORT };
	loc.claim->sigusr1_sent = true;
	loc.done(loc.owner, -ETIMEDOUT, "inspector did not open within 5000 ms after SIGUSR1");
	expect_failed("inspector did not open within 5000 ms after SIGUSR1");
	assert_int_equal(ss.news, 0);
	assert_null(cl.session);
	assert_true(cl.claim.opened_by_us);
	expect_closing();
}

static void test_session_new_fails(void **state)
{
	start(PROFILE_HEAP, 0);
	ss.new_fails = true;
	loc.claim->port = PORT;
	loc.claim->endpoint = (struct inspector_endpoint){ .family = AF_INET, .addr = { 127, 0, 0, 2 }, .port = PORT };
	loc.done(loc.owner, 0, NULL);
	expect_failed("cannot connect to the inspector on port 9229");
	expect_over_not_ours();
}

static void test_close_cannot_start(void **state)
{
	connected(PROFILE_HEAP, 0, true);
	cl.start_error = -ENOMEM;
	respond(PROFILE_TAG_STARTED, "Not allowed");
	/* The closer took the session and could not start: over, the record kept if need be. */
	assert_int_equal(cl.starts, 1);
	assert_string_equal(capture__state_name(cap), "stopping");     /* done or failed: the job says */
	assert_int_equal(loc.settles, 1);
	assert_false(loc.settle_closed);
	settle();
	assert_int_equal(dones, 1);
}

static void test_record_kept(void **state)
{
	connected(PROFILE_HEAP, 0, true);
	loc.settle_result = 1;                  /* the ledger keeps it for the next agent */
	respond(PROFILE_TAG_STARTED, "Not allowed");
	cl.done(cl.owner, false);
	assert_false(loc.settle_closed);
	settle();
	assert_int_equal(dones, 1);
}

static void test_new_fails(void **state)
{
	struct capture_trigger t = { .source = TRIGGER_SOURCE_API };
	struct capture *c = NULL;

	assert_int_equal(capture__new(&env, getpid(), PIDFD, NULL, &(struct capture_request){ .kind = _PROFILE_KIND_MAX }, &t, on_done, &owner_mem, &c),
			 -EINVAL);
	assert_int_equal(loc.starts, 0);
	loc.start_error = -ENOMEM;
	assert_int_equal(capture__new(&env, getpid(), PIDFD, NULL, &(struct capture_request){ .kind = PROFILE_HEAP }, &t, on_done, &owner_mem, &c),
			 -ENOMEM);
	assert_null(c);
	/* A pid that is no more: its /proc cannot be read. */
	loc.start_error = 0;
	assert_int_equal(capture__new(&env, 0x3fffffff, PIDFD, NULL, &(struct capture_request){ .kind = PROFILE_HEAP }, &t, on_done, &owner_mem, &c),
			 -ENOENT);
	assert_int_equal(loc.starts, 1);
	assert_null(c);
}

/* ---- the target exits ---- */

/* Whatever state it was in: abandoned, nothing sent, nothing closed, the record settled. */
static void expect_abandoned(const char *error, int sent_before)
{
	assert_true(capture__target_exited(cap));       /* work lost: the caller says so */
	if (error)
		assert_string_equal(capture__error(cap), error);
	assert_int_equal(ss.nsent, sent_before);
	assert_false(ss.live);
	assert_false(loc.live);
	assert_false(cl.live);
	assert_true(loc.settle_exited);
	assert_int_equal(loc.settles, 1);
	assert_string_equal(capture__state_name(cap), "stopping");     /* done or failed: the job says */
	settle();
	assert_int_equal(dones, 1);
	assert_false(capture__target_exited(cap));      /* told again: nothing more */
	settle();
	assert_int_equal(dones, 1);
}

static void test_target_exited_locating(void **state)
{
	start(PROFILE_HEAP, 0);
	expect_abandoned("target exited while locating", 0);
	assert_int_equal(loc.frees, 1);
	assert_int_equal(ss.news, 0);
}

static void test_target_exited_connecting(void **state)
{
	start(PROFILE_HEAP, 0);
	located(true);
	expect_abandoned("target exited while connecting", 0);
	assert_int_equal(cl.starts, 0);
	assert_int_equal(ss.frees, 1);
}

static void test_target_exited_starting(void **state)
{
	connected(PROFILE_HEAP, 0, true);
	expect_abandoned("target exited while starting", 1);
	assert_int_equal(cl.starts, 0);
}

static void test_target_exited_running(void **state)
{
	running(PROFILE_HEAP, 0, true);
	expect_abandoned("target exited while running", 1);
	assert_int_equal(cl.starts, 0);
	sul_advance(MAX_USEC);                  /* no duration timer left */
	assert_int_equal(ss.nsent, 1);
}

static void test_target_exited_stopping(void **state)
{
	running(PROFILE_HEAP, 0, true);
	capture__request_stop(cap, "api");
	assert_int_equal(stream("{\"half\":"), 0);
	expect_abandoned("target exited while stopping", 2);
	assert_int_equal(cl.starts, 0);
	assert_int_equal(sp.aborts, 1);         /* the half profile removed */
	assert_int_equal(capture__outcome(cap), CAPTURE_FAILED);
}

/* Profiled, committing, closing: the closer stops, the files still land. */
static void test_target_exited_closing(void **state)
{
	running(PROFILE_HEAP, 0, true);
	capture__request_stop(cap, "api");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_true(cl.live);
	assert_false(capture__target_exited(cap));      /* nothing lost: the profile was taken */
	assert_int_equal(cl.frees, 1);
	assert_true(loc.settle_exited);
	assert_null(capture__error(cap));       /* the profile was taken */
	settle();
	assert_int_equal(dones, 0);             /* the commit is in flight */
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
	assert_int_equal(capture__outcome(cap), CAPTURE_OK);
}

/* ---- freed by its owner ---- */

static void test_free_while_committing(void **state)
{
	struct capture *c;

	running(PROFILE_HEAP, 0, false);
	capture__request_stop(cap, "api");
	assert_int_equal(stream(PROFILE_TEXT), 0);
	stop_answer(true);
	assert_string_equal(capture__state_name(cap), "stopping");
	c = cap;
	cap = NULL;
	capture__free(c);
	/* The commit completes without us: its callback is cancelled. */
	assert_int_equal(sp.cancels, 1);
	assert_int_equal(sul_pending(), 0);
	assert_int_equal(dones, 0);
}

static void test_free_in_each_state(void **state)
{
	/* Freed while running: the session and the duration timer go with it. */
	running(PROFILE_HEAP, 0, true);
	capture__free(cap);
	cap = NULL;
	assert_false(ss.live);
	assert_int_equal(sul_pending(), 0);
	assert_int_equal(sp.cancels, 0);

	/* Freed while closing: the closer goes too. */
	setup(state);
	connected(PROFILE_HEAP, 0, true);
	respond(PROFILE_TAG_STARTED, "Not allowed");
	assert_true(cl.live);
	capture__free(cap);
	cap = NULL;
	assert_false(cl.live);
	assert_int_equal(sul_pending(), 0);
	assert_int_equal(dones, 0);
}

/* ---- kinds that stream: snapshots, timelines, traces ---- */

/* The used heap asked for first; its result streams whole into the capture. */
static void heap_usage(const char *result, const char *error)
{
	struct cdp_reader_watch w;
	size_t budget;

	assert_string_equal(ss.sent[ss.nsent - 1], "Runtime.getHeapUsage");
	assert_int_equal(ss.tags[ss.nsent - 1], PROFILE_TAG_OTHER);
	message_begin(&w, &budget);
	assert_string_equal(w.path[0], "result");
	assert_null(w.path[1]);
	assert_int_equal(w.mode, CDP_READER_RAW);
	if (result)
		assert_int_equal(w.sink(w.ctx, result, strlen(result)), 0);
	respond(PROFILE_TAG_OTHER, error);
}

/* A room that fits anything: a host with 64 GiB available, no limit. */
static void plenty_of_room(void)
{
	room.h.rss = 100ull << 20;
	room.h.host_available = 64ull << 30;
	snprintf(room.h.limit_source, sizeof(room.h.limit_source), "/proc/meminfo");
}

static uint64_t timeline_usec = 5 * LWS_US_PER_SEC;    /* of the next snapshot_running() */

static void snapshot_running(enum profile_kind kind)
{
	plenty_of_room();
	connected(kind, kind == PROFILE_HEAP_SNAPSHOT ? 0 : timeline_usec, false);
	assert_int_equal(ss.nsent, 1);
	heap_usage("{\"usedSize\":10485760,\"totalSize\":20971520,\"backingStorageSize\":0}", NULL);
	assert_int_equal(room.reads, 1);
	if (kind == PROFILE_ALLOCATION_TIMELINE) {
		assert_int_equal(ss.nsent, 3);
		assert_string_equal(ss.sent[1], "HeapProfiler.enable");
		assert_string_equal(ss.sent[2], "HeapProfiler.startTrackingHeapObjects");
		respond(PROFILE_TAG_STEP, NULL);
	} else {
		assert_int_equal(ss.nsent, 2);
		assert_string_equal(ss.sent[1], "HeapProfiler.enable");
	}
	assert_int_equal(ss.tags[ss.nsent - 1], PROFILE_TAG_STARTED);
	respond(PROFILE_TAG_STARTED, NULL);
}

#define SNAPSHOT_HEAD "{\"snapshot\":{\"meta\":{\"node_fields\":[\"type\"]},\"node_count\":"
#define SNAPSHOT_TAIL "77,\"edge_count\":1},\"nodes\":[1],\"edges\":[],\"strings\":[\"\"]}"

static void test_heap_snapshot(void **state)
{
	struct cdp_reader_watch w;
	size_t budget;

	snapshot_running(PROFILE_HEAP_SNAPSHOT);
	/* Instant: its stop is the snapshot, sent at once. */
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_int_equal(ss.nsent, 4);
	assert_string_equal(ss.sent[2], "HeapProfiler.takeHeapSnapshot");
	assert_int_equal(ss.tags[2], PROFILE_TAG_STOPPED);
	assert_string_equal(ss.sent[3], "HeapProfiler.disable");

	message_begin(&w, &budget);
	assert_int_equal(budget, PROFILE_BUDGET_CHUNK);
	assert_string_equal(w.path[0], "params");
	assert_string_equal(w.path[1], "chunk");
	assert_int_equal(w.mode, CDP_READER_STRING);
	ss.ops->event(ss.owner, &(struct cdp_reader_header){ .has_method = true, .method = "HeapProfiler.reportHeapSnapshotProgress" });
	/* The count split across two chunks. */
	assert_int_equal(event("HeapProfiler.addHeapSnapshotChunk", SNAPSHOT_HEAD "1"), 0);
	assert_int_equal(event("HeapProfiler.addHeapSnapshotChunk", SNAPSHOT_TAIL), 0);
	stop_answer(false);
	assert_int_equal(sp.commits, 1);
	assert_string_equal(sp.ext, "heapsnapshot");
	assert_int_equal(sp.content_len, strlen(SNAPSHOT_HEAD "1" SNAPSHOT_TAIL));
	assert_memory_equal(sp.content, SNAPSHOT_HEAD "1" SNAPSHOT_TAIL, sp.content_len);
	assert_string_equal(meta_string("profile", "type"), "heap-snapshot");
	assert_string_equal(meta_string("profile", "stop_reason"), "taken");
	assert_true(meta_null("profile", "requested_duration_ms"));
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(sp.meta, "profile"), "sampling"));
	{
		const cJSON *snap = cJSON_GetObjectItem(cJSON_GetObjectItem(sp.meta, "profile"), "snapshot");
		const cJSON *head = cJSON_GetObjectItem(cJSON_GetObjectItem(sp.meta, "profile"), "headroom");

		assert_int_equal((int)cJSON_GetObjectItem(snap, "objects")->valuedouble, 177);
		assert_int_equal((int)cJSON_GetObjectItem(snap, "bytes")->valuedouble, (int)sp.content_len);
		assert_true(cJSON_GetObjectItem(snap, "rss_peak_mib")->valuedouble > 0);
		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(head, "allowed")));
		assert_int_equal((int)cJSON_GetObjectItem(head, "heap_used_mib")->valuedouble, 10);
	}
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
	assert_int_equal(capture__outcome(cap), CAPTURE_OK);
}

/* The inspector stops sending: abandoned after --snapshot-stall-timeout of silence, however long it ran. */
static void test_snapshot_stalls(void **state)
{
	snapshot_running(PROFILE_HEAP_SNAPSHOT);
	for (int i = 0; i < 5; i++) {
		sul_advance(STALL_USEC - LWS_US_PER_SEC);
		assert_int_equal(event("HeapProfiler.addHeapSnapshotChunk", "x"), 0);
	}
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_int_equal(cl.starts, 0);
	sul_advance(STALL_USEC);
	assert_int_equal(capture__outcome(cap), CAPTURE_FAILED);
	assert_non_null(strstr(capture__error(cap), "sent nothing"));
	assert_int_equal(sp.commits, 0);
	assert_int_equal(sp.aborts, 1);         /* the partial file: never under its name */
	settle();
	assert_int_equal(dones, 1);
}

/* A chunk event without its chunk, an answer without any: the snapshot is not whole. */
static void test_snapshot_without_chunks(void **state)
{
	snapshot_running(PROFILE_HEAP_SNAPSHOT);
	assert_int_equal(event("HeapProfiler.addHeapSnapshotChunk", NULL), 0);
	assert_int_equal(capture__outcome(cap), CAPTURE_FAILED);
	settle();
	assert_int_equal(dones, 1);
	capture__free(cap);
	cap = NULL;
	setup(NULL);

	snapshot_running(PROFILE_HEAP_SNAPSHOT);
	stop_answer(false);
	assert_int_equal(capture__outcome(cap), CAPTURE_FAILED);
	assert_non_null(strstr(capture__error(cap), "without any of its data"));
	assert_int_equal(sp.commits, 0);
	settle();
}

/* Target gone mid-snapshot: the partial file removed, nothing committed. */
static void test_target_exits_mid_snapshot(void **state)
{
	snapshot_running(PROFILE_HEAP_SNAPSHOT);
	assert_int_equal(event("HeapProfiler.addHeapSnapshotChunk", SNAPSHOT_HEAD), 0);
	capture__target_exited(cap);
	assert_int_equal(sp.commits, 0);
	assert_int_equal(sp.aborts, 1);
	assert_int_equal(capture__outcome(cap), CAPTURE_FAILED);
	settle();
	assert_int_equal(dones, 1);
}

/* No heap usage: no snapshot (its cost cannot be judged). */
static void test_snapshot_usage_unknown(void **state)
{
	connected(PROFILE_HEAP_SNAPSHOT, 0, false);
	heap_usage("{\"usedSize\":-1,\"totalSize\":2}", NULL);
	assert_int_equal(capture__outcome(cap), CAPTURE_FAILED);
	assert_int_equal(ss.nsent, 1);
	settle();
	capture__free(cap);
	cap = NULL;
	setup(NULL);
	connected(PROFILE_HEAP_SNAPSHOT, 0, false);
	heap_usage(NULL, "Runtime.getHeapUsage wasn't found");
	assert_int_equal(capture__outcome(cap), CAPTURE_FAILED);
	assert_int_equal(ss.nsent, 1);
	settle();
}

/* Compressed, and a message streamed that is then not kept: it cannot be taken back. */
static void test_compressed_cannot_take_back(void **state)
{
	st.compress = true;
	snapshot_running(PROFILE_HEAP_SNAPSHOT);
	assert_int_equal(event("HeapProfiler.addHeapSnapshotChunk", "abc"), 0);
	assert_int_equal(event("HeapProfiler.somethingElse", "zzz"), 0);
	assert_int_equal(capture__outcome(cap), CAPTURE_FAILED);
	assert_non_null(strstr(capture__error(cap), "take back"));
	assert_int_equal(sp.commits, 0);
	settle();
	assert_int_equal(dones, 1);
}

static void test_compressed_names(void **state)
{
	st.compress = true;
	snapshot_running(PROFILE_HEAP_SNAPSHOT);
	assert_int_equal(event("HeapProfiler.addHeapSnapshotChunk", SNAPSHOT_HEAD "1" SNAPSHOT_TAIL), 0);
	stop_answer(false);
	assert_int_equal(sp.commits, 1);
	assert_string_equal(sp.ext, "heapsnapshot.gz");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(sp.meta, "profile"), "compressed")));
	commit_finishes(0);
	settle();
}

static void test_allocation_timeline(void **state)
{
	snapshot_running(PROFILE_ALLOCATION_TIMELINE);
	assert_string_equal(capture__state_name(cap), "running");
	/* What V8 sends while it tracks: not the timeline's. */
	assert_int_equal(event("HeapProfiler.heapStatsUpdate", NULL), 0);
	assert_int_equal(event("HeapProfiler.lastSeenObjectId", NULL), 0);
	sul_advance(5 * LWS_US_PER_SEC);
	assert_string_equal(capture__state_name(cap), "stopping");
	assert_string_equal(ss.sent[3], "HeapProfiler.stopTrackingHeapObjects");
	assert_int_equal(ss.tags[3], PROFILE_TAG_STOPPED);
	assert_string_equal(ss.sent[4], "HeapProfiler.disable");
	assert_int_equal(event("HeapProfiler.addHeapSnapshotChunk", SNAPSHOT_HEAD "1" SNAPSHOT_TAIL), 0);
	stop_answer(false);
	assert_int_equal(sp.commits, 1);
	assert_string_equal(sp.ext, "heaptimeline");
	assert_string_equal(meta_string("profile", "type"), "allocation-timeline");
	assert_string_equal(meta_string("profile", "stop_reason"), "duration");
	commit_finishes(0);
	settle();
}

/* Costly: never longer than --capture-seconds, asked for or not. */
static void test_allocation_timeline_bounded(void **state)
{
	for (int i = 0; i < 2; i++) {
		timeline_usec = i ? 3600 * LWS_US_PER_SEC : 0;
		snapshot_running(PROFILE_ALLOCATION_TIMELINE);
		sul_advance(st.capture_usec - 1);
		assert_string_equal(capture__state_name(cap), "running");
		sul_advance(1);
		assert_string_equal(capture__state_name(cap), "stopping");
		capture__free(cap);
		cap = NULL;
		setup(NULL);
	}
	timeline_usec = 5 * LWS_US_PER_SEC;
}

/* A trace: NodeTracing's batches joined into one {"traceEvents":[...]}, the last ones after the stop's answer. */
static void test_trace(void **state)
{
	struct capture_trigger t = { .source = TRIGGER_SOURCE_API, .ktime_ns = monotonic_ns() };
	struct capture_request rq = { .kind = PROFILE_TRACE, .duration_usec = 0 };
	struct cdp_reader_watch w;
	size_t budget;
	cJSON *trace;

	snprintf(rq.categories, sizeof(rq.categories), "node.perf,v8");
	assert_int_equal(capture__new(&env, getpid(), PIDFD, NULL, &rq, &t, on_done, &owner_mem, &cap), 0);
	located(false);
	ss.version = "v20.20.2";
	ss.ops->ready(ss.owner);
	assert_int_equal(ss.nsent, 1);
	assert_string_equal(ss.sent[0], "NodeTracing.start");
	respond(PROFILE_TAG_STARTED, NULL);
	message_begin(&w, &budget);
	assert_int_equal(budget, PROFILE_BUDGET_BATCH);
	assert_string_equal(w.path[1], "value");
	ss.ops->event(ss.owner, &(struct cdp_reader_header){ .has_method = true, .method = "Fake.nothing" });
	assert_int_equal(event("NodeTracing.dataCollected", " [ {\"a\":1}, {\"b\":[2]} ]"), 0);
	assert_int_equal(event("NodeTracing.dataCollected", "[]"), 0);
	assert_int_equal(event("NodeTracing.other", "[{\"x\":0}]"), 0);        /* not kept */
	assert_int_equal(event("NodeTracing.dataCollected", "[{\"c\":3}]"), 0);
	capture__request_stop(cap, "api");
	assert_string_equal(ss.sent[1], "NodeTracing.stop");
	stop_answer(false);
	/* Not yet: what node posted after its answer comes before the flush's. */
	assert_int_equal(sp.commits, 0);
	assert_string_equal(ss.sent[2], "NodeTracing.getCategories");
	assert_int_equal(ss.tags[2], PROFILE_TAG_FLUSHED);
	ss.ops->event(ss.owner, &(struct cdp_reader_header){ .has_method = true, .method = "NodeTracing.tracingComplete" });
	assert_int_equal(event("NodeTracing.dataCollected", "[{\"d\":4}]"), 0);
	respond(PROFILE_TAG_FLUSHED, NULL);
	assert_int_equal(sp.commits, 1);
	assert_string_equal(sp.ext, "json");
	sp.content[sp.content_len] = '\0';
	assert_string_equal(sp.content, "{\"traceEvents\":[{\"a\":1}, {\"b\":[2]} ,{\"c\":3},{\"d\":4}]}\n");
	trace = cJSON_Parse(sp.content);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(trace, "traceEvents")), 4);
	cJSON_Delete(trace);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(sp.meta, "profile"), "categories"), 1)->valuestring, "v8");
	commit_finishes(0);
	settle();
	assert_int_equal(dones, 1);
}

/* No event at all: a trace of none, still a valid file. Without categories: --trace-categories. */
static void test_trace_empty(void **state)
{
	running(PROFILE_TRACE, 0, false);
	capture__request_stop(cap, "api");
	stop_answer(false);
	respond(PROFILE_TAG_FLUSHED, NULL);
	assert_int_equal(sp.commits, 1);
	sp.content[sp.content_len] = '\0';
	assert_string_equal(sp.content, "{\"traceEvents\":[]}\n");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(sp.meta, "profile"), "categories"), 0)->valuestring, "node");
	commit_finishes(0);
	settle();
}

/* A batch that is not an array: the trace would not be one file. */
static void test_trace_not_an_array(void **state)
{
	running(PROFILE_TRACE, 0, false);
	assert_int_equal(event("NodeTracing.dataCollected", "{\"a\":1}"), -EPROTO);
	/* The reader stops the message at the sink's error; the session then ends. */
	ss.ops->closed(ss.owner, "message refused");
	assert_int_equal(capture__outcome(cap), CAPTURE_FAILED);
	assert_int_equal(sp.commits, 0);
	settle();
	capture__free(cap);
	cap = NULL;
	setup(NULL);
	running(PROFILE_TRACE, 0, false);
	assert_int_equal(event("NodeTracing.dataCollected", "[1"), 0);         /* cut short: no ']' */
	assert_int_equal(capture__outcome(cap), CAPTURE_FAILED);
	assert_non_null(strstr(capture__error(cap), "not an array"));
	settle();
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_happy_path_inspector_not_ours),
		T(test_commit_before_close),
		T(test_commit_after_close),
		T(test_pprof_exporter),
		T(test_file_exporter),
		T(test_cpu_commands),
		T(test_budgets),
		T(test_only_the_answer_counts),
		T(test_stop_requested_before_running),
		T(test_max_duration),
		T(test_max_signal_duration),
		T(test_max_signal_duration_within_max),
		T(test_keeps_its_settings),
		T(test_kind_of_two_files_keeping_events),
		T(test_kind_fails_on_an_event),
		T(test_requested_duration),
		T(test_requested_duration_over_max),
		T(test_queued_and_requested),
		T(test_requested_within_max_signal_duration),
		T(test_set_duration_running),
		T(test_set_duration_past),
		T(test_set_duration_starting),
		T(test_timeout_connecting),
		T(test_timeout_connecting_not_ours),
		T(test_timeout_starting),
		T(test_timeout_stopping),
		T(test_start_refused),
		T(test_cpu_step_refused_while_starting),
		T(test_stop_refused),
		T(test_send_fails),
		T(test_session_lost_running),
		T(test_session_lost_after_version),
		T(test_session_lost_connecting),
		T(test_stop_without_profile),
		T(test_stop_watched_but_nothing_written),
		T(test_sink_write_fails),
		T(test_spool_begin_fails),
		T(test_commit_refused),
		T(test_commit_fails),
		T(test_locate_fails),
		T(test_locate_opened_too_late),
		T(test_session_new_fails),
		T(test_close_cannot_start),
		T(test_record_kept),
		T(test_new_fails),
		T(test_target_exited_locating),
		T(test_target_exited_connecting),
		T(test_target_exited_starting),
		T(test_target_exited_running),
		T(test_target_exited_stopping),
		T(test_target_exited_closing),
		T(test_free_while_committing),
		T(test_free_in_each_state),
		T(test_heap_snapshot),
		T(test_snapshot_stalls),
		T(test_snapshot_without_chunks),
		T(test_target_exits_mid_snapshot),
		T(test_snapshot_usage_unknown),
		T(test_compressed_cannot_take_back),
		T(test_compressed_names),
		T(test_allocation_timeline),
		T(test_allocation_timeline_bounded),
		T(test_trace),
		T(test_trace_empty),
		T(test_trace_not_an_array),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
