// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Each job is on two lists: every job in arrival order (the API's, read newest
 * first), and its state's: queued in arrival order (the order they start in),
 * active, finished in the order they finished (the oldest pruned first).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"

struct job;

struct job_link {
	struct job *prev, *next;
};

struct job_list {
	struct job *head, *tail;        /* oldest, newest */
	unsigned n;
};

struct job {
	struct job_link all, state;
	struct job_view v;              /* capture_state stays NULL here: the owner's to fill */
	uint64_t netns;
	char tenant[JOB_TENANT_MAX];
	uint64_t expires_usec;
	void *data;
};

enum { LIST_ALL, LIST_STATE };

struct jobs {
	struct jobs_limits limits;
	jobs_hold_fn hold;
	void *hold_ctx;
	unsigned next_id;
	struct job_list all;
	struct job_list by_state[_JOB_STATE_MAX];       /* done and failed share JOB_DONE's */
};

static const char *const state_names[_JOB_STATE_MAX] = {
	[JOB_QUEUED] = "queued", [JOB_ACTIVE] = "active", [JOB_DONE] = "done", [JOB_FAILED] = "failed",
};

static const char *const wait_names[_JOB_WAIT_MAX] = {
	[JOB_WAIT_NONE] = "none", [JOB_WAIT_MAX_CONCURRENT] = "max-concurrent",
	[JOB_WAIT_CONTAINER] = "container", [JOB_WAIT_HELD] = "held", [JOB_WAIT_NETNS] = "netns",
};

const char *job_state_name(enum job_state s)
{
	return (unsigned)s < _JOB_STATE_MAX ? state_names[s] : "unknown";
}

const char *job_wait_name(enum job_wait w)
{
	return (unsigned)w < _JOB_WAIT_MAX ? wait_names[w] : "unknown";
}

/* ---- lists ---- */

static struct job_link *link_of(struct job *j, int which)
{
	return which == LIST_ALL ? &j->all : &j->state;
}

static void list_append(struct job_list *l, struct job *j, int which)
{
	struct job_link *k = link_of(j, which);

	k->prev = l->tail;
	k->next = NULL;
	if (l->tail)
		link_of(l->tail, which)->next = j;
	else
		l->head = j;
	l->tail = j;
	l->n++;
}

static void list_remove(struct job_list *l, struct job *j, int which)
{
	struct job_link *k = link_of(j, which);

	if (k->prev)
		link_of(k->prev, which)->next = k->next;
	else
		l->head = k->next;
	if (k->next)
		link_of(k->next, which)->prev = k->prev;
	else
		l->tail = k->prev;
	k->prev = k->next = NULL;
	l->n--;
}

static struct job_list *state_list(struct jobs *js, enum job_state s)
{
	return &js->by_state[s == JOB_FAILED ? JOB_DONE : s];
}

static void set_state(struct jobs *js, struct job *j, enum job_state s)
{
	list_remove(state_list(js, j->v.state), j, LIST_STATE);
	if (j->v.state == JOB_QUEUED)
		j->v.queued_reason[0] = '\0';         /* waits no more */
	j->v.state = s;
	list_append(state_list(js, s), j, LIST_STATE);
}

static struct job *find(const struct jobs *js, unsigned id)
{
	/* Newest first: the API asks mostly about recent jobs. */
	for (struct job *j = js->all.tail; j; j = j->all.prev)
		if (j->v.id == id)
			return j;
	return NULL;
}

/* ---- the queue ---- */

struct jobs *jobs__new(const struct jobs_limits *limits, jobs_hold_fn hold, void *hold_ctx)
{
	struct jobs *js = calloc(1, sizeof(*js));

	if (!js)
		return NULL;
	js->limits = *limits;
	if (!js->limits.max_concurrent)
		js->limits.max_concurrent = 1;
	js->hold = hold;
	js->hold_ctx = hold_ctx;
	return js;
}

void jobs__free(struct jobs *js)
{
	if (!js)
		return;
	while (js->all.head) {
		struct job *j = js->all.head;

		list_remove(&js->all, j, LIST_ALL);
		free(j);
	}
	free(js);
}

int jobs__add(struct jobs *js, const struct job_request *req, unsigned *ret_id)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	if (++js->next_id == 0)
		js->next_id = 1;
	j->v.id = js->next_id;
	j->v.pid = req->pid;
	j->v.kind = req->kind;
	j->v.state = JOB_QUEUED;
	j->v.trigger = req->trigger;
	j->v.duration_usec = req->duration_usec;
	j->v.requested_usec = req->duration_usec;
	snprintf(j->v.categories, sizeof(j->v.categories), "%s", req->categories);
	j->v.created_at = req->created_at;
	j->netns = req->netns;
	snprintf(j->tenant, sizeof(j->tenant), "%s", req->tenant);
	j->expires_usec = req->expires_usec;
	list_append(&js->all, j, LIST_ALL);
	list_append(state_list(js, JOB_QUEUED), j, LIST_STATE);
	*ret_id = j->v.id;
	return 0;
}

int jobs__stop(struct jobs *js, unsigned id, uint64_t stop_ns, uint64_t *ret_usec)
{
	struct job *j = find(js, id);
	uint64_t us;

	if (!j)
		return -ENOENT;
	if (j->v.state != JOB_QUEUED && j->v.state != JOB_ACTIVE)
		return -EALREADY;
	if (j->v.stopped_queued || j->v.stopped_waited)
		return -EEXIST;
	if (j->v.state == JOB_ACTIVE && !j->v.waited)
		return -EAGAIN;
	us = stop_ns > j->v.trigger.ktime_ns ? (stop_ns - j->v.trigger.ktime_ns) / 1000 : 0;
	if (j->v.duration_usec && j->v.duration_usec < us)
		us = j->v.duration_usec;
	if (!us)
		us = 1;                 /* 0 would be "until stopped" */
	j->v.requested_usec = us;
	if (j->v.state == JOB_QUEUED)
		j->v.stopped_queued = true;
	else
		j->v.stopped_waited = true;
	j->expires_usec = 0;
	if (ret_usec)
		*ret_usec = us;
	return 0;
}

static void wait_of(const struct jobs *js, const struct job *job, struct job_wait_info *w)
{
	const struct job_list *active = &js->by_state[JOB_ACTIVE];
	unsigned in_container = 0;

	w->wait = JOB_WAIT_NONE;
	w->active = active->n;
	w->holder = 0;
	if (active->n >= js->limits.max_concurrent) {
		w->wait = JOB_WAIT_MAX_CONCURRENT;
		return;
	}
	if (js->limits.max_per_container && job->tenant[0]) {
		for (const struct job *j = active->head; j; j = j->state.next)
			if (strcmp(j->tenant, job->tenant) == 0)
				in_container++;
		if (in_container >= js->limits.max_per_container) {
			w->wait = JOB_WAIT_CONTAINER;
			return;
		}
	}
	if (js->hold && js->hold(js->hold_ctx, job->v.pid)) {
		w->wait = JOB_WAIT_HELD;
		return;
	}
	for (const struct job *j = active->head; j; j = j->state.next) {
		if (j->netns == job->netns) {
			w->wait = JOB_WAIT_NETNS;
			w->holder = j->v.pid;
			return;
		}
	}
}

int jobs__wait(const struct jobs *js, unsigned id, struct job_wait_info *ret)
{
	const struct job *j = find(js, id);

	if (!j)
		return -ENOENT;
	if (j->v.state != JOB_QUEUED)
		return -EALREADY;
	wait_of(js, j, ret);
	return 0;
}

int jobs__start(struct jobs *js, unsigned id, struct job_wait_info *why)
{
	struct job *j = find(js, id);
	struct job_wait_info w;

	if (!j)
		return -ENOENT;
	if (j->v.state != JOB_QUEUED)
		return -EALREADY;
	wait_of(js, j, &w);
	if (why)
		*why = w;
	if (w.wait != JOB_WAIT_NONE) {
		j->v.waited = true;
		return -EAGAIN;
	}
	set_state(js, j, JOB_ACTIVE);
	return 0;
}

int jobs__start_next(struct jobs *js, unsigned *ret_id)
{
	/* Every queued job, oldest first: no window, whatever the queue's length. */
	for (struct job *j = js->by_state[JOB_QUEUED].head; j; j = j->state.next) {
		struct job_wait_info w;

		wait_of(js, j, &w);
		if (w.wait == JOB_WAIT_MAX_CONCURRENT)
			return -EAGAIN;         /* nobody can */
		if (w.wait != JOB_WAIT_NONE)
			continue;
		set_state(js, j, JOB_ACTIVE);
		*ret_id = j->v.id;
		return 0;
	}
	return -EAGAIN;
}

static void prune(struct jobs *js)
{
	struct job_list *finished = &js->by_state[JOB_DONE];

	while (finished->n > JOBS_KEPT) {
		struct job *j = finished->head;

		list_remove(finished, j, LIST_STATE);
		list_remove(&js->all, j, LIST_ALL);
		free(j);
	}
}

int jobs__finish(struct jobs *js, unsigned id, const struct job_result *r)
{
	struct job *j = find(js, id);

	if (!j)
		return -ENOENT;
	if (j->v.state != JOB_QUEUED && j->v.state != JOB_ACTIVE)
		return -EALREADY;
	j->v.outcome = r->outcome;
	j->v.error_code = r->error_code;
	if (r->outcome != CAPTURE_OK)
		snprintf(j->v.error, sizeof(j->v.error), "%s",
			 r->error[0] ? r->error : capture_outcome_name(r->outcome));
	memcpy(j->v.files, r->files, sizeof(j->v.files));
	for (unsigned i = 0; i < JOB_FILES_MAX; i++)
		j->v.files[i][JOB_PATH_MAX - 1] = '\0';
	j->v.started_at = r->started_at;
	j->v.ended_at = r->ended_at;
	j->data = NULL;
	set_state(js, j, r->outcome == CAPTURE_OK ? JOB_DONE : JOB_FAILED);
	prune(js);
	return 0;
}

unsigned jobs__expire(struct jobs *js, uint64_t now_usec, const struct timespec *ended_at,
		      void (*expired)(void *ctx, unsigned id, pid_t pid), void *ctx)
{
	unsigned n = 0;

	for (struct job *j = js->by_state[JOB_QUEUED].head, *next; j; j = next) {
		struct job_result r = { .outcome = CAPTURE_EXPIRED_QUEUED };
		unsigned id = j->v.id;
		pid_t pid = j->v.pid;

		next = j->state.next;
		if (!j->expires_usec || now_usec < j->expires_usec)
			continue;
		if (ended_at)
			r.ended_at = *ended_at;
		if (j->v.queued_reason[0])
			snprintf(r.error, sizeof(r.error), "%s: %s", capture_outcome_name(r.outcome), j->v.queued_reason);
		jobs__finish(js, id, &r);       /* may prune, but never a queued job: next stays */
		n++;
		if (expired)
			expired(ctx, id, pid);
	}
	return n;
}

int jobs__set_queued_reason(struct jobs *js, unsigned id, const char *why)
{
	struct job *j = find(js, id);

	if (!j)
		return -ENOENT;
	snprintf(j->v.queued_reason, sizeof(j->v.queued_reason), "%s", why);
	return 0;
}

int jobs__set_data(struct jobs *js, unsigned id, void *data)
{
	struct job *j = find(js, id);

	if (!j)
		return -ENOENT;
	j->data = data;
	return 0;
}

void *jobs__data(const struct jobs *js, unsigned id)
{
	const struct job *j = find(js, id);

	return j ? j->data : NULL;
}

int jobs__view(const struct jobs *js, unsigned id, struct job_view *ret)
{
	const struct job *j = find(js, id);

	if (!j)
		return -ENOENT;
	*ret = j->v;
	return 0;
}

void jobs__foreach(const struct jobs *js, void (*fn)(void *ctx, const struct job_view *v, void *data), void *ctx)
{
	for (const struct job *j = js->all.tail; j; j = j->all.prev)
		fn(ctx, &j->v, j->data);
}

int jobs__state(const struct jobs *js, unsigned id, enum job_state *ret)
{
	const struct job *j = find(js, id);

	if (!j)
		return -ENOENT;
	*ret = j->v.state;
	return 0;
}

int jobs__oldest(const struct jobs *js, enum job_state s, unsigned *ret_id)
{
	if ((unsigned)s >= _JOB_STATE_MAX)
		return -ENOENT;
	for (const struct job *j = js->by_state[s == JOB_FAILED ? JOB_DONE : s].head; j; j = j->state.next) {
		if (j->v.state == s) {
			*ret_id = j->v.id;
			return 0;
		}
	}
	return -ENOENT;
}

unsigned jobs__count(const struct jobs *js, enum job_state s)
{
	unsigned n = 0;

	if ((unsigned)s >= _JOB_STATE_MAX)
		return 0;
	if (s == JOB_QUEUED || s == JOB_ACTIVE)
		return js->by_state[s].n;
	for (const struct job *j = js->by_state[JOB_DONE].head; j; j = j->state.next)
		n += j->v.state == s;
	return n;
}
