// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The job queue: arrival order however long the queue, one lane per network
 * namespace, --max-concurrent, the per-container cap and the owner's hold,
 * states and outcomes, expiry, and the finished jobs kept for the API.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"

static struct jobs *new_jobs(unsigned max_concurrent, unsigned per_container)
{
	struct jobs_limits l = { .max_concurrent = max_concurrent, .max_per_container = per_container };
	struct jobs *js = jobs__new(&l, NULL, NULL);

	assert_non_null(js);
	return js;
}

static unsigned add(struct jobs *js, pid_t pid, uint64_t netns)
{
	struct job_request req = {
		.pid = pid, .kind = PROFILE_HEAP, .netns = netns,
		.trigger = { .source = TRIGGER_SOURCE_API },
		.created_at = { 1700000000 + pid, 0 },
	};
	unsigned id = 0;

	assert_int_equal(jobs__add(js, &req, &id), 0);
	assert_int_not_equal(id, 0);
	return id;
}

static void finish(struct jobs *js, unsigned id, enum capture_outcome o, const char *error)
{
	struct job_result r = { .outcome = o };

	snprintf(r.error, sizeof(r.error), "%s", error ? error : "");
	assert_int_equal(jobs__finish(js, id, &r), 0);
}

static enum job_state state_of(struct jobs *js, unsigned id)
{
	struct job_view v;

	assert_int_equal(jobs__view(js, id, &v), 0);
	return v.state;
}

static void test_names(void **state)
{
	assert_string_equal(job_state_name(JOB_QUEUED), "queued");
	assert_string_equal(job_state_name(JOB_ACTIVE), "active");
	assert_string_equal(job_state_name(JOB_DONE), "done");
	assert_string_equal(job_state_name(JOB_FAILED), "failed");
	assert_string_equal(job_state_name(_JOB_STATE_MAX), "unknown");
	assert_string_equal(job_wait_name(JOB_WAIT_NONE), "none");
	assert_string_equal(job_wait_name(JOB_WAIT_MAX_CONCURRENT), "max-concurrent");
	assert_string_equal(job_wait_name(JOB_WAIT_CONTAINER), "container");
	assert_string_equal(job_wait_name(JOB_WAIT_HELD), "held");
	assert_string_equal(job_wait_name(JOB_WAIT_NETNS), "netns");
	assert_string_equal(job_wait_name((enum job_wait)-1), "unknown");
	/* The outcomes' names are the errors the API shows for jobs that end without words of their own. */
	assert_string_equal(capture_outcome_name(CAPTURE_OK), "ok");
	assert_string_equal(capture_outcome_name(CAPTURE_FAILED), "failed");
	assert_string_equal(capture_outcome_name(CAPTURE_EXPORT_FAILED), "export failed");
	assert_string_equal(capture_outcome_name(CAPTURE_TARGET_EXITED), "target exited");
	assert_string_equal(capture_outcome_name(CAPTURE_STOPPED_QUEUED), "stopped while queued");
	assert_string_equal(capture_outcome_name(CAPTURE_SHUTDOWN_QUEUED), "agent shut down while queued");
	assert_string_equal(capture_outcome_name(CAPTURE_EXPIRED_QUEUED), "expired while queued");
	assert_string_equal(capture_outcome_name(CAPTURE_CANNOT_START), "cannot start the capture");
	assert_string_equal(capture_outcome_name(_CAPTURE_OUTCOME_MAX), "unknown");
	for (int o = 0; o < _CAPTURE_OUTCOME_MAX; o++)
		assert_string_not_equal(capture_outcome_name(o), "unknown");
}

/* More than 64 queued (the old window): every one starts, oldest first. */
static void test_arrival_order(void **state)
{
	enum { N = 200 };
	struct jobs *js = new_jobs(1, 0);
	unsigned ids[N], id = 0;

	for (unsigned i = 0; i < N; i++)
		ids[i] = add(js, (pid_t)(1000 + i), 100 + i);   /* each in its own namespace */
	assert_int_equal(jobs__count(js, JOB_QUEUED), N);
	assert_int_equal(jobs__oldest(js, JOB_QUEUED, &id), 0);
	assert_int_equal(id, ids[0]);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(jobs__start_next(js, &id), 0);
		assert_int_equal(id, ids[i]);
		assert_int_equal(state_of(js, id), JOB_ACTIVE);
		/* One at a time. */
		assert_int_equal(jobs__start_next(js, &id), -EAGAIN);
		finish(js, ids[i], CAPTURE_OK, NULL);
	}
	assert_int_equal(jobs__count(js, JOB_QUEUED), 0);
	assert_int_equal(jobs__start_next(js, &id), -EAGAIN);
	jobs__free(js);
}

/* One inspector port per network namespace: a job waits while its namespace is busy,
 * and does not hold back a younger job of another namespace. */
static void test_netns_lanes(void **state)
{
	struct jobs *js = new_jobs(4, 0);
	unsigned a = add(js, 10, 7), b = add(js, 11, 7), c = add(js, 12, 8), d = add(js, 13, 0), e = add(js, 14, 0);
	struct job_wait_info w;
	unsigned id;

	assert_int_equal(jobs__start(js, a, &w), 0);
	assert_int_equal(w.wait, JOB_WAIT_NONE);
	assert_int_equal(jobs__start(js, b, &w), -EAGAIN);
	assert_int_equal(w.wait, JOB_WAIT_NETNS);
	assert_int_equal(w.holder, 10);
	assert_int_equal(jobs__wait(js, b, &w), 0);
	assert_int_equal(w.wait, JOB_WAIT_NETNS);
	/* b waits: c, younger, in another namespace, goes first. */
	assert_int_equal(jobs__start_next(js, &id), 0);
	assert_int_equal(id, c);
	/* Namespace unknown (0): a lane of its own, shared by the unknown. */
	assert_int_equal(jobs__start_next(js, &id), 0);
	assert_int_equal(id, d);
	assert_int_equal(jobs__start_next(js, &id), -EAGAIN);
	assert_int_equal(jobs__wait(js, e, &w), 0);
	assert_int_equal(w.wait, JOB_WAIT_NETNS);
	assert_int_equal(w.holder, 13);
	assert_int_equal(state_of(js, b), JOB_QUEUED);
	/* The namespace's holder ends: b's turn, not e's. */
	finish(js, a, CAPTURE_FAILED, "boom");
	assert_int_equal(jobs__start_next(js, &id), 0);
	assert_int_equal(id, b);
	assert_int_equal(jobs__start_next(js, &id), -EAGAIN);
	finish(js, d, CAPTURE_OK, NULL);
	assert_int_equal(jobs__start_next(js, &id), 0);
	assert_int_equal(id, e);
	assert_int_equal(jobs__count(js, JOB_ACTIVE), 3);
	jobs__free(js);
}

static void test_max_concurrent(void **state)
{
	struct jobs *js = new_jobs(2, 0);
	unsigned a = add(js, 1, 1), b = add(js, 2, 2), c = add(js, 3, 3), d = add(js, 4, 4);
	struct job_wait_info w;
	unsigned id;

	assert_int_equal(jobs__start(js, a, NULL), 0);
	assert_int_equal(jobs__start(js, b, NULL), 0);
	assert_int_equal(jobs__start(js, c, &w), -EAGAIN);
	assert_int_equal(w.wait, JOB_WAIT_MAX_CONCURRENT);
	assert_int_equal(w.active, 2);
	assert_int_equal(jobs__start_next(js, &id), -EAGAIN);
	assert_int_equal(jobs__count(js, JOB_ACTIVE), 2);
	assert_int_equal(jobs__count(js, JOB_QUEUED), 2);
	finish(js, b, CAPTURE_OK, NULL);
	assert_int_equal(jobs__start_next(js, &id), 0);
	assert_int_equal(id, c);
	assert_int_equal(jobs__start_next(js, &id), -EAGAIN);
	assert_int_equal(state_of(js, d), JOB_QUEUED);
	/* Starting what is not queued. */
	assert_int_equal(jobs__start(js, a, NULL), -EALREADY);
	assert_int_equal(jobs__start(js, b, NULL), -EALREADY);
	assert_int_equal(jobs__start(js, 999, NULL), -ENOENT);
	assert_int_equal(jobs__wait(js, a, &w), -EALREADY);
	jobs__free(js);

	/* 0 is one at a time, not none. */
	js = new_jobs(0, 0);
	a = add(js, 1, 1);
	b = add(js, 2, 2);
	assert_int_equal(jobs__start(js, a, NULL), 0);
	assert_int_equal(jobs__start(js, b, &w), -EAGAIN);
	assert_int_equal(w.wait, JOB_WAIT_MAX_CONCURRENT);
	jobs__free(js);
}

static unsigned add_in(struct jobs *js, pid_t pid, const char *container)
{
	struct job_request req = { .pid = pid, .netns = (uint64_t)pid, .trigger = { .source = TRIGGER_SOURCE_SIGNAL } };
	unsigned id;

	snprintf(req.tenant, sizeof(req.tenant), "%s", container);
	assert_int_equal(jobs__add(js, &req, &id), 0);
	return id;
}

static void test_per_container(void **state)
{
	struct jobs *js = new_jobs(8, 1);
	unsigned a = add_in(js, 1, "aaa"), b = add_in(js, 2, "aaa"), c = add_in(js, 3, "bbb"), d = add_in(js, 4, ""),
		 e = add_in(js, 5, ""), id;
	struct job_wait_info w;

	assert_int_equal(jobs__start(js, a, NULL), 0);
	assert_int_equal(jobs__start(js, b, &w), -EAGAIN);
	assert_int_equal(w.wait, JOB_WAIT_CONTAINER);
	assert_int_equal(jobs__start_next(js, &id), 0);
	assert_int_equal(id, c);
	/* No container: no cap. */
	assert_int_equal(jobs__start_next(js, &id), 0);
	assert_int_equal(id, d);
	assert_int_equal(jobs__start_next(js, &id), 0);
	assert_int_equal(id, e);
	assert_int_equal(jobs__start_next(js, &id), -EAGAIN);
	finish(js, a, CAPTURE_OK, NULL);
	assert_int_equal(jobs__start_next(js, &id), 0);
	assert_int_equal(id, b);
	jobs__free(js);
}

static bool hold_pid_7(void *ctx, pid_t pid)
{
	return *(bool *)ctx && pid == 7;
}

static void test_hold(void **state)
{
	struct jobs_limits l = { .max_concurrent = 4 };
	bool holding = true;
	struct jobs *js = jobs__new(&l, hold_pid_7, &holding);
	struct job_wait_info w;
	unsigned a, b, id;

	assert_non_null(js);
	a = add(js, 7, 1);
	b = add(js, 8, 2);
	assert_int_equal(jobs__start(js, a, &w), -EAGAIN);
	assert_int_equal(w.wait, JOB_WAIT_HELD);
	assert_int_equal(jobs__start_next(js, &id), 0);
	assert_int_equal(id, b);
	assert_int_equal(jobs__start_next(js, &id), -EAGAIN);
	holding = false;
	assert_int_equal(jobs__start_next(js, &id), 0);
	assert_int_equal(id, a);
	jobs__free(js);
}

static void test_states_and_outcomes(void **state)
{
	struct jobs *js = new_jobs(4, 0);
	struct job_request req = {
		.pid = 42, .kind = PROFILE_CPU, .duration_usec = 30000000, .netns = 5,
		.trigger = { .source = TRIGGER_SOURCE_RSS_GROWTH, .has_threshold = true, .threshold = 1e9,
			     .observed = 2e9, .unit = "bytes", .detected_by = "tick" },
		.created_at = { 1700000000, 1 },
	};
	struct job_result r = { .outcome = CAPTURE_OK };
	unsigned a, b, c, d, oldest;
	struct job_view v;
	int data;

	assert_int_equal(jobs__add(js, &req, &a), 0);
	assert_int_equal(jobs__view(js, a, &v), 0);
	assert_int_equal(v.id, a);
	assert_int_equal(v.pid, 42);
	assert_int_equal(v.kind, PROFILE_CPU);
	assert_int_equal(v.state, JOB_QUEUED);
	assert_null(v.capture_state);
	assert_int_equal(v.trigger.source, TRIGGER_SOURCE_RSS_GROWTH);
	assert_true(v.trigger.has_threshold);
	assert_string_equal(v.trigger.detected_by, "tick");
	assert_int_equal(v.duration_usec, 30000000);
	assert_string_equal(v.categories, "");
	assert_int_equal(v.created_at.tv_sec, 1700000000);
	assert_string_equal(v.queued_reason, "");
	assert_string_equal(v.error, "");
	assert_int_equal(v.started_at.tv_sec, 0);

	assert_int_equal(jobs__set_queued_reason(js, a, "waiting"), 0);
	assert_int_equal(jobs__view(js, a, &v), 0);
	assert_string_equal(v.queued_reason, "waiting");
	assert_int_equal(jobs__state(js, a, &v.state), 0);
	assert_int_equal(v.state, JOB_QUEUED);
	assert_int_equal(jobs__state(js, 12345, &v.state), -ENOENT);
	assert_int_equal(jobs__set_data(js, a, &data), 0);
	assert_ptr_equal(jobs__data(js, a), &data);
	assert_int_equal(jobs__start(js, a, NULL), 0);

	/* Done: the files and times, copied; the result may go away after. */
	snprintf(r.files[0], sizeof(r.files[0]), "/out/heap.heapprofile");
	snprintf(r.files[1], sizeof(r.files[1]), "/out/heap.meta.json");
	r.started_at = (struct timespec){ 1700000001, 0 };
	r.ended_at = (struct timespec){ 1700000031, 0 };
	snprintf(r.error, sizeof(r.error), "ignored when ok");
	assert_int_equal(jobs__finish(js, a, &r), 0);
	memset(&r, 'x', sizeof(r));
	assert_int_equal(jobs__view(js, a, &v), 0);
	assert_int_equal(v.state, JOB_DONE);
	assert_int_equal(v.outcome, CAPTURE_OK);
	assert_string_equal(v.error, "");
	/* It waits no more. */
	assert_string_equal(v.queued_reason, "");
	assert_string_equal(v.files[0], "/out/heap.heapprofile");
	assert_string_equal(v.files[1], "/out/heap.meta.json");
	assert_int_equal(v.started_at.tv_sec, 1700000001);
	assert_int_equal(v.ended_at.tv_sec, 1700000031);
	/* The owner's pointer goes with the run. */
	assert_null(jobs__data(js, a));
	assert_int_equal(jobs__finish(js, a, &(struct job_result){ .outcome = CAPTURE_FAILED }), -EALREADY);
	assert_int_equal(jobs__finish(js, 12345, &(struct job_result){ .outcome = CAPTURE_FAILED }), -ENOENT);
	assert_int_equal(jobs__view(js, 12345, &v), -ENOENT);
	assert_int_equal(jobs__set_data(js, 12345, &data), -ENOENT);
	assert_null(jobs__data(js, 12345));

	/* Failed, with the capture's words and an errno. */
	b = add(js, 43, 6);
	assert_int_equal(jobs__start(js, b, NULL), 0);
	memset(&r, 0, sizeof(r));
	r.outcome = CAPTURE_EXPORT_FAILED;
	r.error_code = -ENOSPC;
	snprintf(r.error, sizeof(r.error), "export failed: No space left on device");
	assert_int_equal(jobs__finish(js, b, &r), 0);
	assert_int_equal(jobs__view(js, b, &v), 0);
	assert_int_equal(v.state, JOB_FAILED);
	assert_int_equal(v.outcome, CAPTURE_EXPORT_FAILED);
	assert_int_equal(v.error_code, -ENOSPC);
	assert_string_equal(v.error, "export failed: No space left on device");

	/* Failed while queued, without words: the outcome's name. */
	c = add(js, 44, 7);
	finish(js, c, CAPTURE_STOPPED_QUEUED, NULL);
	assert_int_equal(jobs__view(js, c, &v), 0);
	assert_int_equal(v.state, JOB_FAILED);
	assert_string_equal(v.error, "stopped while queued");
	assert_int_equal(jobs__start(js, c, NULL), -EALREADY);
	d = add(js, 45, 8);
	finish(js, d, CAPTURE_TARGET_EXITED, NULL);
	assert_int_equal(jobs__view(js, d, &v), 0);
	assert_string_equal(v.error, "target exited");

	assert_int_equal(jobs__count(js, JOB_DONE), 1);
	assert_int_equal(jobs__count(js, JOB_FAILED), 3);
	assert_int_equal(jobs__oldest(js, JOB_DONE, &oldest), 0);
	assert_int_equal(oldest, a);
	assert_int_equal(jobs__oldest(js, JOB_FAILED, &oldest), 0);
	assert_int_equal(oldest, b);
	assert_int_equal(jobs__oldest(js, JOB_QUEUED, &oldest), -ENOENT);
	assert_int_equal(jobs__oldest(js, JOB_ACTIVE, &oldest), -ENOENT);
	assert_int_equal(jobs__count(js, JOB_QUEUED), 0);
	assert_int_equal(jobs__count(js, JOB_ACTIVE), 0);
	/* Ids are never reused. */
	assert_true(a < b && b < c && c < d);
	jobs__free(js);
}

struct seen {
	unsigned ids[512];
	unsigned n;
};

static void collect(void *ctx, const struct job_view *v, void *data)
{
	struct seen *s = ctx;

	assert_true(s->n < 512);
	s->ids[s->n++] = v->id;
}

/* A trace's categories go with its job, as asked for, for the API to show and the capture to use. */
static void test_categories(void **state)
{
	struct jobs *js = new_jobs(4, 0);
	struct job_request req = {
		.pid = 42, .kind = PROFILE_TRACE, .duration_usec = 10000000, .netns = 5,
		.trigger = { .source = TRIGGER_SOURCE_API }, .categories = "node.perf,v8",
	};
	struct job_view v;
	unsigned id;

	assert_int_equal(jobs__add(js, &req, &id), 0);
	memset(&req, 'x', sizeof(req));
	assert_int_equal(jobs__view(js, id, &v), 0);
	assert_int_equal(v.kind, PROFILE_TRACE);
	assert_string_equal(v.categories, "node.perf,v8");
	assert_int_equal(jobs__start(js, id, NULL), 0);
	finish(js, id, CAPTURE_OK, NULL);
	assert_int_equal(jobs__view(js, id, &v), 0);
	assert_string_equal(v.categories, "node.perf,v8");
	jobs__free(js);
}

static void test_kept(void **state)
{
	enum { N = JOBS_KEPT + 44 };
	struct jobs *js = new_jobs(1, 0);
	struct seen *seen = calloc(1, sizeof(*seen));
	unsigned waiting, ids[N], id;
	struct job_view v;

	assert_non_null(seen);
	/* The oldest job waits throughout (its namespace's holder never ends): never pruned. */
	waiting = add(js, 1, 0);
	assert_int_equal(jobs__start(js, waiting, NULL), 0);
	for (unsigned i = 0; i < N; i++) {
		ids[i] = add(js, (pid_t)(100 + i), 9);
		finish(js, ids[i], CAPTURE_STOPPED_QUEUED, NULL);
		assert_int_equal(jobs__count(js, JOB_FAILED), i + 1 < JOBS_KEPT ? i + 1 : JOBS_KEPT);
	}
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(jobs__view(js, ids[i], &v), i < N - JOBS_KEPT ? -ENOENT : 0);
	assert_int_equal(jobs__view(js, waiting, &v), 0);
	assert_int_equal(v.state, JOB_ACTIVE);
	/* Newest first, the active one last (it came first). */
	jobs__foreach(js, collect, seen);
	assert_int_equal(seen->n, JOBS_KEPT + 1);
	for (unsigned i = 0; i < JOBS_KEPT; i++)
		assert_int_equal(seen->ids[i], ids[N - 1 - i]);
	assert_int_equal(seen->ids[JOBS_KEPT], waiting);
	assert_int_equal(jobs__start_next(js, &id), -EAGAIN);
	free(seen);
	jobs__free(js);
}

static void note_expired(void *ctx, unsigned id, pid_t pid)
{
	struct seen *s = ctx;

	s->ids[s->n++] = id;
	assert_true(pid == 2 || pid == 4);
}

static void test_expiry(void **state)
{
	struct jobs *js = new_jobs(1, 0);
	struct job_request req = { .netns = 1 };
	struct seen seen = { 0 };
	unsigned ids[5];
	struct job_view v;

	for (int i = 0; i < 5; i++) {
		req.pid = i;
		/* 1 and 3 never expire; 2 and 4 do at 100, 0 is active. */
		req.expires_usec = i % 2 ? 0 : 100;
		assert_int_equal(jobs__add(js, &req, &ids[i]), 0);
	}
	assert_int_equal(jobs__start(js, ids[0], NULL), 0);
	assert_int_equal(jobs__set_queued_reason(js, ids[4], "1 captures running"), 0);
	assert_int_equal(jobs__expire(js, 99, NULL, note_expired, &seen), 0);
	assert_int_equal(jobs__expire(js, 100, &(struct timespec){ 1700000100, 0 }, note_expired, &seen), 2);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.ids[0], ids[2]);
	assert_int_equal(seen.ids[1], ids[4]);
	assert_int_equal(jobs__view(js, ids[2], &v), 0);
	assert_int_equal(v.state, JOB_FAILED);
	assert_int_equal(v.outcome, CAPTURE_EXPIRED_QUEUED);
	assert_string_equal(v.error, "expired while queued");
	assert_int_equal(v.ended_at.tv_sec, 1700000100);
	/* With the reason it waited for, when it had one. */
	assert_int_equal(jobs__view(js, ids[4], &v), 0);
	assert_string_equal(v.error, "expired while queued: 1 captures running");
	assert_string_equal(v.queued_reason, "");
	/* The active one is not a queued one. */
	assert_int_equal(state_of(js, ids[0]), JOB_ACTIVE);
	assert_int_equal(jobs__count(js, JOB_QUEUED), 2);
	assert_int_equal(jobs__expire(js, UINT64_MAX, NULL, NULL, NULL), 0);
	jobs__free(js);
}

#define MS (UINT64_C(1000000))          /* ns */

static unsigned add_at(struct jobs *js, pid_t pid, uint64_t netns, enum trigger_source source, uint64_t ktime_ns,
		       uint64_t duration_usec, uint64_t expires_usec)
{
	struct job_request req = {
		.pid = pid, .kind = PROFILE_HEAP, .netns = netns,
		.trigger = { .source = source, .ktime_ns = ktime_ns },
		.duration_usec = duration_usec, .expires_usec = expires_usec,
	};
	unsigned id = 0;

	assert_int_equal(jobs__add(js, &req, &id), 0);
	return id;
}

/* A stop that reaches a queued job keeps it: it runs, when its turn comes, for the time from its
 * trigger to that stop; the eight of one namespace, each started and stopped, all run in order. */
static void test_stop_queued(void **state)
{
	enum { N = 8 };
	struct jobs *js = new_jobs(4, 2);
	unsigned ids[N], id;
	uint64_t us = 0;
	struct job_view v;

	for (unsigned i = 0; i < N; i++)
		ids[i] = add_at(js, (pid_t)(100 + i), 7, TRIGGER_SOURCE_SIGNAL, 1000 * MS + i * MS, 0, 60000000);
	assert_int_equal(jobs__start_next(js, &id), 0);
	assert_int_equal(id, ids[0]);
	assert_int_equal(jobs__view(js, ids[1], &v), 0);
	assert_int_equal(v.requested_usec, 0);         /* until stopped */
	assert_false(v.stopped_queued);
	/* The active one started at once: its capture stops now. */
	assert_int_equal(jobs__stop(js, ids[0], 2000 * MS, &us), -EAGAIN);
	assert_int_equal(jobs__view(js, ids[0], &v), 0);
	assert_false(v.waited);
	/* Each stopped 1 s after its own trigger (ns on the trigger's clock; us out). */
	for (unsigned i = 1; i < N; i++) {
		assert_int_equal(jobs__stop(js, ids[i], 2000 * MS + i * MS + 250, &us), 0);
		assert_int_equal(us, 1000000);
		assert_int_equal(jobs__view(js, ids[i], &v), 0);
		assert_int_equal(v.state, JOB_QUEUED);
		assert_true(v.stopped_queued);
		assert_int_equal(v.requested_usec, 1000000);
		assert_int_equal(v.duration_usec, 0);  /* as asked for */
	}
	/* A later stop changes nothing. */
	assert_int_equal(jobs__stop(js, ids[3], 9000 * MS, &us), -EEXIST);
	assert_int_equal(jobs__view(js, ids[3], &v), 0);
	assert_int_equal(v.requested_usec, 1000000);
	assert_int_equal(jobs__stop(js, 12345, 9000 * MS, NULL), -ENOENT);
	/* Stopped, they no longer expire: long past their expiry, each still runs in turn. */
	assert_int_equal(jobs__expire(js, UINT64_MAX, NULL, NULL, NULL), 0);
	for (unsigned i = 0; i < N; i++) {
		if (i > 0) {
			assert_int_equal(jobs__start_next(js, &id), 0);
			assert_int_equal(id, ids[i]);
		}
		assert_int_equal(jobs__start_next(js, &id), -EAGAIN);  /* one port per namespace */
		finish(js, ids[i], CAPTURE_OK, NULL);
	}
	assert_int_equal(jobs__count(js, JOB_DONE), N);
	/* Over: -EALREADY. */
	assert_int_equal(jobs__stop(js, ids[1], 9000 * MS, NULL), -EALREADY);
	jobs__free(js);
}

/* Within the job's own duration (API, thresholds); never 0 ("until stopped"); a queued job
 * not stopped still expires. */
static void test_stop_queued_durations(void **state)
{
	struct jobs *js = new_jobs(1, 0);
	unsigned run = add_at(js, 1, 1, TRIGGER_SOURCE_API, 0, 0, 0);
	unsigned api = add_at(js, 2, 1, TRIGGER_SOURCE_API, 5000 * MS, 30000000, 100);
	unsigned api_long = add_at(js, 3, 1, TRIGGER_SOURCE_API, 5000 * MS, 2000000, 100);
	unsigned thr = add_at(js, 4, 1, TRIGGER_SOURCE_RSS_THRESHOLD, 5000 * MS, 30000000, 100);
	unsigned early = add_at(js, 5, 1, TRIGGER_SOURCE_SIGNAL, 5000 * MS, 0, 100);
	unsigned left = add_at(js, 6, 1, TRIGGER_SOURCE_SIGNAL, 5000 * MS, 0, 100);
	uint64_t us;
	struct job_view v;

	assert_int_equal(jobs__start(js, run, NULL), 0);
	assert_int_equal(jobs__view(js, api, &v), 0);
	assert_int_equal(v.requested_usec, 30000000);  /* its own, before any stop */
	/* Stopped 1.5 s after it was asked for: 1.5 s of its 30. */
	assert_int_equal(jobs__stop(js, api, 6500 * MS, &us), 0);
	assert_int_equal(us, 1500000);
	/* Stopped after longer than its own duration: its own. */
	assert_int_equal(jobs__stop(js, api_long, 9000 * MS, &us), 0);
	assert_int_equal(us, 2000000);
	assert_int_equal(jobs__stop(js, thr, 5000 * MS + 1234567, &us), 0);
	assert_int_equal(us, 1234);
	/* A stop no later than its trigger (clocks of two CPUs): 1 us, never "until stopped". */
	assert_int_equal(jobs__stop(js, early, 4000 * MS, &us), 0);
	assert_int_equal(us, 1);
	/* Expiry: only the one nobody stopped. */
	assert_int_equal(jobs__expire(js, 100, NULL, NULL, NULL), 1);
	assert_int_equal(state_of(js, left), JOB_FAILED);
	assert_int_equal(jobs__stop(js, left, 9000 * MS, &us), -EALREADY);
	assert_int_equal(jobs__count(js, JOB_QUEUED), 4);
	assert_int_equal(state_of(js, api), JOB_QUEUED);
	jobs__free(js);
}

/* A job that waited its turn, whose turn came before its stop did: the same duration, which its
 * owner runs from its start; one that started at once is stopped now. */
static void test_stop_after_waiting(void **state)
{
	struct jobs *js = new_jobs(4, 0);
	unsigned a = add_at(js, 1, 1, TRIGGER_SOURCE_SIGNAL, 1000 * MS, 0, 100);
	unsigned b = add_at(js, 2, 1, TRIGGER_SOURCE_SIGNAL, 1001 * MS, 0, 100);
	unsigned c = add_at(js, 3, 1, TRIGGER_SOURCE_API, 1002 * MS, 2000000, 100);
	struct job_wait_info w;
	struct job_view v;
	uint64_t us = 0;
	unsigned id;

	assert_int_equal(jobs__start(js, a, &w), 0);
	assert_int_equal(jobs__start(js, b, &w), -EAGAIN);
	assert_int_equal(jobs__start(js, c, &w), -EAGAIN);
	assert_int_equal(jobs__view(js, a, &v), 0);
	assert_false(v.waited);
	assert_int_equal(jobs__view(js, b, &v), 0);
	assert_true(v.waited);
	assert_int_equal(jobs__stop(js, a, 4000 * MS, &us), -EAGAIN);
	finish(js, a, CAPTURE_OK, NULL);
	assert_int_equal(jobs__start_next(js, &id), 0);
	assert_int_equal(id, b);
	/* b's turn came at 4 s; its stop at 4.5 s: 3.5 s from its trigger, run from its start. */
	assert_int_equal(jobs__stop(js, b, 4501 * MS, &us), 0);
	assert_int_equal(us, 3500000);
	assert_int_equal(jobs__view(js, b, &v), 0);
	assert_int_equal(v.state, JOB_ACTIVE);
	assert_true(v.stopped_waited);
	assert_false(v.stopped_queued);
	assert_int_equal(v.requested_usec, 3500000);
	assert_int_equal(jobs__stop(js, b, 6000 * MS, &us), -EEXIST);
	/* c, queued still: kept, within its own 2 s. */
	assert_int_equal(jobs__stop(js, c, 4502 * MS, &us), 0);
	assert_int_equal(us, 2000000);
	assert_int_equal(jobs__view(js, c, &v), 0);
	assert_true(v.stopped_queued);
	finish(js, b, CAPTURE_OK, NULL);
	assert_int_equal(jobs__stop(js, b, 7000 * MS, &us), -EALREADY);
	jobs__free(js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_arrival_order),
		cmocka_unit_test(test_netns_lanes),
		cmocka_unit_test(test_max_concurrent),
		cmocka_unit_test(test_per_container),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_states_and_outcomes),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_kept),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_stop_queued),
		cmocka_unit_test(test_stop_queued_durations),
		cmocka_unit_test(test_stop_after_waiting),
	};

	jobs__free(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
