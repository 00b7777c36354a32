// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The outbox, on real files in a fresh folder per test, with its real threads and a fake
 * remote exporter whose answers the test scripts: commits found at start and committed
 * later delivered, oldest first, once; the state on disk across a restart (delivered not
 * sent again, pending resumed); failures retried with backoff until they succeed, given
 * up after retry_max; unreadable commits left alone; keep_local; the rank retention
 * asks; two exporters, one of which does not want a commit (marked, never read again for
 * it: the new kinds' snapshots and traces); and the backoff schedule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "outbox.h"

#define BASE_A "heap-profile-4242-20261201T101500Z"
#define BASE_B "cpu-profile-4243-20261201T101600Z"
#define BASE_R "oom-kill-4244-20261201T101700Z"
#define BASE_S "heap-snapshot-4245-20261201T101800Z"
#define BASE_T "trace-4246-20261201T101900Z"

/* ---- a fake exporter ---- */

struct fake {
	const char *name;
	pthread_mutex_t lock;
	int fail_first;                 /* deliveries that fail before any succeeds */
	int result;                     /* what a failure returns */
	bool heap_only;                 /* wants heap-profile commits only */
	int calls;
	char delivered[16][128];
	int n_delivered;
	size_t files_seen;              /* of the last delivery */
	char last_ext[16];
	char first_ext[32];             /* of the last delivery's first file */
	const char *remove_dir;         /* set: deliver removes the commit's meta.json first, answers -ENOENT */
};

static bool fake_wants(const struct delivery *d)
{
	/* Which fake: the ops are per fake, see below. */
	(void)d;
	return true;
}

static int fake_deliver_common(struct fake *f, const struct delivery *d, char *err, size_t size)
{
	int r = 0;

	pthread_mutex_lock(&f->lock);
	f->calls++;
	if (f->remove_dir) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s.meta.json", f->remove_dir, d->base);
		unlink(path);
		r = -ENOENT;
	} else if (f->fail_first > 0) {
		f->fail_first--;
		snprintf(err, size, "PUT %s: HTTP 503 SlowDown", d->base);
		r = f->result;
	} else if (f->n_delivered < 16) {
		snprintf(f->delivered[f->n_delivered++], 128, "%s", d->base);
		f->files_seen = d->n_files;
		snprintf(f->last_ext, sizeof(f->last_ext), "%s", d->files[d->n_files - 1].ext);
		snprintf(f->first_ext, sizeof(f->first_ext), "%s", d->files[0].ext);
	}
	pthread_mutex_unlock(&f->lock);
	return r;
}

static struct fake fake1 = { .name = "fakeone", .lock = PTHREAD_MUTEX_INITIALIZER };
static struct fake fake2 = { .name = "faketwo", .lock = PTHREAD_MUTEX_INITIALIZER };

static int deliver1(void *state, const struct delivery *d, char *err, size_t size)
{
	return fake_deliver_common(&fake1, d, err, size);
}

static int deliver2(void *state, const struct delivery *d, char *err, size_t size)
{
	return fake_deliver_common(&fake2, d, err, size);
}

static bool wants2(const struct delivery *d)
{
	return !fake2.heap_only || strcmp(d->kind, "heap-profile") == 0;
}

static int frees;
static void fake_free(void *state)
{
	frees++;
}

static const struct remote_exporter_ops ops1 = { .name = "fakeone", .wants = fake_wants, .deliver = deliver1,
						 .free = fake_free };
static const struct remote_exporter_ops ops2 = { .name = "faketwo", .wants = wants2, .deliver = deliver2,
						 .free = fake_free };

static void fake_reset(struct fake *f)
{
	pthread_mutex_lock(&f->lock);
	f->fail_first = 0;
	f->result = -EAGAIN;
	f->heap_only = false;
	f->calls = 0;
	f->n_delivered = 0;
	f->files_seen = 0;
	f->last_ext[0] = '\0';
	f->first_ext[0] = '\0';
	f->remove_dir = NULL;
	pthread_mutex_unlock(&f->lock);
}

static int fake_count(struct fake *f, int *calls)
{
	int n;

	pthread_mutex_lock(&f->lock);
	n = f->n_delivered;
	if (calls)
		*calls = f->calls;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* ---- events ---- */

struct events {
	int n[_OUTBOX_EVENT_MAX];
	char last_error[OUTBOX_ERROR_SIZE];
	uint64_t removed_bytes;
};

static void noted(void *ctx, const struct outbox_event *ev)
{
	struct events *e = ctx;

	e->n[ev->kind]++;
	if (ev->kind == OUTBOX_RETRY)
		snprintf(e->last_error, sizeof(e->last_error), "%s", ev->error);
	if (ev->kind == OUTBOX_REMOVED)
		e->removed_bytes += ev->bytes;
}

/* Dispatch until events of kind reach want (5 s at most). */
static void wait_event(struct outbox *ob, struct events *e, enum outbox_event_kind kind, int want)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (e->n[kind] < want) {
		struct pollfd p = { .fd = outbox__fd(ob), .events = POLLIN };

		assert_true(poll(&p, 1, 50) >= 0);
		outbox__dispatch(ob);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 5)
			fail_msg("waited 5 s for %d %s events, got %d", want, outbox_event_name(kind), e->n[kind]);
	}
}

/* Dispatch for ms, whatever comes. */
static void settle(struct outbox *ob, int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
	outbox__dispatch(ob);
}

/* ---- the folder ---- */

static void put(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static bool exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static void age(const char *dir, const char *name, time_t seconds)
{
	char path[4096];
	struct timespec ts[2];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= seconds;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* A commit as the capture writes it: the profile, its pprof, meta.json listing both. */
static void put_commit(const char *dir, const char *base, const char *type, const char *ext)
{
	char name[256], meta[1024];

	snprintf(name, sizeof(name), "%s.%s", base, ext);
	put(dir, name, "{\"nodes\":[]}");
	snprintf(name, sizeof(name), "%s.pb.gz", base);
	put(dir, name, "pprof");
	snprintf(meta, sizeof(meta),
		 "{\"pid\":4242,\"profile\":{\"type\":\"%s\",\"file\":\"%s.%s\",\"files\":[\"%s.%s\",\"%s.pb.gz\"]}}",
		 type, base, ext, base, ext, base);
	snprintf(name, sizeof(name), "%s.meta.json", base);
	put(dir, name, meta);
}

static struct outbox_config config(const char *dir, struct events *ev, size_t n_remotes)
{
	struct outbox_config cfg = {
		.dir = dir, .hostname = "host-a", .retry_initial_ms = 100, .keep_local = true,
		.n_remotes = n_remotes, .noted = noted, .ctx = ev,
	};

	cfg.remotes[0] = (struct outbox_remote){ .ops = &ops1 };
	cfg.remotes[1] = (struct outbox_remote){ .ops = &ops2 };
	return cfg;
}

static int setup(void **state)
{
	fake_reset(&fake1);
	fake_reset(&fake2);
	return fixture_tmpdir_setup(state);
}

/* ---- tests ---- */

static void test_backoff(void **state)
{
	/* 100 ms doubling, capped at 1 s; jitter keeps it between half and all of it. */
	assert_int_equal(outbox_backoff_ms(1, 100, 1000, 0), 50);
	assert_int_equal(outbox_backoff_ms(1, 100, 1000, 0.999999), 99);
	assert_int_equal(outbox_backoff_ms(2, 100, 1000, 0), 100);
	assert_int_equal(outbox_backoff_ms(3, 100, 1000, 0), 200);
	assert_int_equal(outbox_backoff_ms(4, 100, 1000, 0.5), 600);
	assert_int_equal(outbox_backoff_ms(5, 100, 1000, 0), 500);      /* 1600 capped to 1000 */
	assert_int_equal(outbox_backoff_ms(1000, 100, 1000, 0), 500);   /* no overflow */
	assert_int_equal(outbox_backoff_ms(64, 5000, 600000, 0.25), 375000);
	/* A jitter out of range is no jitter. */
	assert_int_equal(outbox_backoff_ms(1, 100, 1000, 1.5), 50);
	for (unsigned n = 1; n < 40; n++) {
		uint64_t lo = outbox_backoff_ms(n, 5000, 600000, 0), hi = outbox_backoff_ms(n, 5000, 600000, 0.9999);

		assert_true(lo <= hi && hi <= 600000 && lo >= 2500);
	}
}

static void test_found_at_start_then_committed(void **state)
{
	const char *dir = *state;
	struct events ev = { 0 };
	struct outbox_config cfg = config(dir, &ev, 1);
	struct outbox *ob;
	struct outbox_status st;

	put_commit(dir, BASE_A, "heap-profile", "heapprofile");
	/* Not ours: another name, a temporary, a folder: never looked at. */
	put(dir, "notes.meta.json", "{}");
	put(dir, ".inspectd-spool.abcdef.tmp", "x");
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	wait_event(ob, &ev, OUTBOX_DELIVERED, 1);
	assert_int_equal(fake_count(&fake1, NULL), 1);
	assert_string_equal(fake1.delivered[0], BASE_A);
	assert_int_equal(fake1.files_seen, 3);                  /* profile, pprof, meta.json */
	assert_string_equal(fake1.last_ext, "meta.json");       /* meta.json last */
	assert_true(exists(dir, ".outbox/fakeone/" BASE_A ".delivered"));

	put_commit(dir, BASE_B, "cpu-profile", "cpuprofile");
	outbox__committed(ob, BASE_B, (int64_t)time(NULL));
	wait_event(ob, &ev, OUTBOX_DELIVERED, 2);
	assert_string_equal(fake1.delivered[1], BASE_B);
	assert_int_equal(outbox__status(ob, &st, 1), 1);
	assert_string_equal(st.name, "fakeone");
	assert_int_equal(st.delivered, 2);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.failed, 0);
	/* Kept: keep_local. */
	assert_true(exists(dir, BASE_A ".heapprofile") && exists(dir, BASE_B ".meta.json"));
	assert_int_equal(outbox__rank(ob, BASE_A), 0);
	outbox__free(ob);
	assert_int_equal(ev.n[OUTBOX_UNREADABLE], 0);
}

static void test_restart(void **state)
{
	const char *dir = *state;
	struct events ev = { 0 };
	struct outbox_config cfg = config(dir, &ev, 1);
	struct outbox_status st;
	struct outbox *ob;
	int calls;

	put_commit(dir, BASE_A, "heap-profile", "heapprofile");
	put_commit(dir, BASE_B, "cpu-profile", "cpuprofile");
	age(dir, BASE_A ".meta.json", 60);      /* the older: tried first */
	fake1.fail_first = 1000;
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	wait_event(ob, &ev, OUTBOX_RETRY, 2);
	assert_string_equal(ev.last_error, "PUT " BASE_B ": HTTP 503 SlowDown");
	assert_int_equal(outbox__status(ob, &st, 1), 1);
	assert_int_equal(st.pending, 2);
	assert_true(st.attempts_failed >= 2);
	assert_true(st.consecutive_failures >= 2);
	assert_string_equal(st.last_error, ev.last_error);
	assert_true(st.oldest_pending_at > 0 && st.oldest_pending_at <= (int64_t)time(NULL) - 59);
	assert_int_equal(outbox__rank(ob, BASE_A), 1);
	outbox__free(ob);       /* "killed" with both pending */
	assert_false(exists(dir, ".outbox/fakeone/" BASE_A ".delivered"));

	/* The next agent delivers both, oldest first. */
	fake_reset(&fake1);
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	wait_event(ob, &ev, OUTBOX_DELIVERED, 2);
	assert_string_equal(fake1.delivered[0], BASE_A);
	assert_string_equal(fake1.delivered[1], BASE_B);
	outbox__free(ob);

	/* And the one after that sends nothing again. */
	fake_reset(&fake1);
	memset(&ev, 0, sizeof(ev));
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	settle(ob, 300);
	assert_int_equal(fake_count(&fake1, &calls), 0);
	assert_int_equal(calls, 0);
	assert_int_equal(outbox__status(ob, &st, 1), 1);
	assert_int_equal(st.pending, 0);
	outbox__free(ob);
}

static void test_retry_then_delivered(void **state)
{
	const char *dir = *state;
	struct events ev = { 0 };
	struct outbox_config cfg = config(dir, &ev, 1);
	struct timespec a, b;
	struct outbox *ob;
	int calls;

	put_commit(dir, BASE_A, "heap-profile", "heapprofile");
	fake1.fail_first = 3;
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	wait_event(ob, &ev, OUTBOX_DELIVERED, 1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	fake_count(&fake1, &calls);
	assert_int_equal(calls, 4);
	assert_int_equal(ev.n[OUTBOX_RETRY], 3);
	/* Waited 50-100, 100-200, 200-400 ms between them: 350 ms at least. */
	assert_true((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 >= 350);
	outbox__free(ob);
}

static void test_gave_up(void **state)
{
	const char *dir = *state;
	struct events ev = { 0 };
	struct outbox_config cfg = config(dir, &ev, 1);
	struct outbox_status st;
	struct outbox *ob;

	put_commit(dir, BASE_A, "heap-profile", "heapprofile");
	age(dir, BASE_A ".meta.json", 3 * 3600);
	cfg.retry_max_ms = 3600 * 1000;
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	wait_event(ob, &ev, OUTBOX_GAVE_UP, 1);
	assert_int_equal(fake_count(&fake1, NULL), 0);
	assert_true(exists(dir, ".outbox/fakeone/" BASE_A ".failed"));
	assert_true(exists(dir, BASE_A ".heapprofile"));        /* the only copy: kept */
	assert_int_equal(outbox__status(ob, &st, 1), 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.pending, 0);
	assert_int_equal(outbox__rank(ob, BASE_A), 1);          /* not delivered anywhere */
	outbox__free(ob);

	/* Given up stays given up. */
	memset(&ev, 0, sizeof(ev));
	cfg.retry_max_ms = 0;
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	settle(ob, 200);
	assert_int_equal(fake_count(&fake1, NULL), 0);
	outbox__free(ob);
}

static void test_unreadable(void **state)
{
	const char *dir = *state;
	struct events ev = { 0 };
	struct outbox_config cfg = config(dir, &ev, 1);
	struct outbox *ob;

	/* Garbage; a file listed that is another commit's; one listed that is missing. */
	put(dir, BASE_A ".meta.json", "{\"profile\":");
	put(dir, BASE_A ".heapprofile", "x");
	put(dir, BASE_B ".meta.json", "{\"profile\":{\"type\":\"cpu-profile\",\"files\":[\"../etc/passwd\"]}}");
	put(dir, BASE_R ".json", "{\"event\":\"oom-kill\",\"pid\":4244}");
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	wait_event(ob, &ev, OUTBOX_UNREADABLE, 2);
	wait_event(ob, &ev, OUTBOX_DELIVERED, 1);       /* the record is fine */
	assert_string_equal(fake1.delivered[0], BASE_R);
	assert_int_equal(fake1.files_seen, 1);
	assert_string_equal(fake1.last_ext, "json");
	settle(ob, 200);
	assert_int_equal(fake_count(&fake1, NULL), 1);
	assert_true(exists(dir, BASE_A ".meta.json") && exists(dir, BASE_A ".heapprofile"));      /* left alone */
	outbox__free(ob);
}

static void test_not_keep_local(void **state)
{
	const char *dir = *state;
	struct events ev = { 0 };
	struct outbox_config cfg = config(dir, &ev, 2);
	struct outbox *ob;

	cfg.keep_local = false;
	fake2.heap_only = true;
	fake2.fail_first = 2;
	put_commit(dir, BASE_A, "heap-profile", "heapprofile");
	put_commit(dir, BASE_B, "cpu-profile", "cpuprofile");
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	/* B: only fakeone wants it; gone once it has it. A: once both have it. */
	wait_event(ob, &ev, OUTBOX_REMOVED, 2);
	assert_int_equal(fake_count(&fake1, NULL), 2);
	assert_int_equal(fake_count(&fake2, NULL), 1);
	assert_string_equal(fake2.delivered[0], BASE_A);
	assert_false(exists(dir, BASE_A ".heapprofile") || exists(dir, BASE_A ".pb.gz") ||
		     exists(dir, BASE_A ".meta.json") || exists(dir, BASE_B ".meta.json"));
	assert_false(exists(dir, ".outbox/fakeone/" BASE_A ".delivered"));     /* markers gone too */
	assert_int_equal(ev.removed_bytes, 2 * (strlen("{\"nodes\":[]}") + strlen("pprof")) +
					   strlen("{\"pid\":4242,\"profile\":{\"type\":\"heap-profile\",\"file\":\"" BASE_A
						  ".heapprofile\",\"files\":[\"" BASE_A ".heapprofile\",\"" BASE_A
						  ".pb.gz\"]}}") +
					   strlen("{\"pid\":4242,\"profile\":{\"type\":\"cpu-profile\",\"file\":\"" BASE_B
						  ".cpuprofile\",\"files\":[\"" BASE_B ".cpuprofile\",\"" BASE_B
						  ".pb.gz\"]}}"));
	outbox__free(ob);
}

/* A commit of one file and its meta.json, as the capture writes a snapshot or a trace. */
static void put_single(const char *dir, const char *base, const char *type, const char *ext, const char *text)
{
	char name[256], meta[1024];

	snprintf(name, sizeof(name), "%s.%s", base, ext);
	put(dir, name, text);
	snprintf(meta, sizeof(meta), "{\"pid\":4245,\"profile\":{\"type\":\"%s\",\"file\":\"%s.%s\"}}", type, base,
		 ext);
	snprintf(name, sizeof(name), "%s.meta.json", base);
	put(dir, name, meta);
}

/* The new kinds' commits: a compressed snapshot, a trace whose file is BASE.json (a
 * member of its commit, not a record). fakeone takes them whole; faketwo (heap profiles
 * only, as Pyroscope) skips them: nothing failed, nothing retried, marked, and not read
 * again by the next start. */
static void test_unwanted(void **state)
{
	const char *dir = *state;
	struct events ev = { 0 };
	struct outbox_config cfg = config(dir, &ev, 2);
	struct outbox_status st[2];
	struct outbox *ob;
	int calls;

	fake2.heap_only = true;
	put_single(dir, BASE_S, "heap-snapshot", "heapsnapshot.gz", "\x1f\x8b gzip");
	put_single(dir, BASE_T, "trace", "json", "{\"traceEvents\":[]}");
	age(dir, BASE_S ".meta.json", 60);      /* the older: first */
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	wait_event(ob, &ev, OUTBOX_DELIVERED, 2);
	settle(ob, 200);
	assert_int_equal(fake_count(&fake1, NULL), 2);
	assert_string_equal(fake1.delivered[0], BASE_S);
	assert_string_equal(fake1.delivered[1], BASE_T);
	assert_int_equal(fake1.files_seen, 2);          /* BASE.json, then meta.json */
	assert_string_equal(fake1.first_ext, "json");
	assert_string_equal(fake1.last_ext, "meta.json");
	assert_int_equal(fake_count(&fake2, &calls), 0);
	assert_int_equal(calls, 0);
	assert_int_equal(outbox__status(ob, st, 2), 2);
	assert_int_equal(st[1].pending, 0);
	assert_int_equal(st[1].delivered, 0);
	assert_int_equal(st[1].failed, 0);
	assert_int_equal(st[1].attempts_failed, 0);
	assert_int_equal(st[1].consecutive_failures, 0);
	assert_int_equal(st[1].retry_in_ms, 0);
	assert_int_equal(ev.n[OUTBOX_RETRY] + ev.n[OUTBOX_GAVE_UP] + ev.n[OUTBOX_UNREADABLE], 0);
	assert_true(exists(dir, ".outbox/faketwo/" BASE_S ".unwanted"));
	assert_true(exists(dir, ".outbox/faketwo/" BASE_T ".unwanted"));
	assert_false(exists(dir, ".outbox/faketwo/" BASE_S ".delivered") ||
		     exists(dir, ".outbox/faketwo/" BASE_S ".failed"));
	/* Delivered by the one that wants them: elsewhere, for retention. */
	assert_int_equal(outbox__rank(ob, BASE_S), 0);
	outbox__free(ob);

	/* Started again: nothing pending for either. */
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	assert_int_equal(outbox__status(ob, st, 2), 2);
	assert_int_equal(st[0].pending, 0);
	assert_int_equal(st[1].pending, 0);
	outbox__free(ob);
	/* Removed from the folder (an operator): its marker goes at the next start. */
	{
		char path[4096];

		snprintf(path, sizeof(path), "%s/" BASE_S ".meta.json", dir);
		assert_int_equal(unlink(path), 0);
	}
	cfg = config(dir, &ev, 2);
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	assert_false(exists(dir, ".outbox/faketwo/" BASE_S ".unwanted"));
	assert_true(exists(dir, ".outbox/faketwo/" BASE_T ".unwanted"));
	outbox__free(ob);
}

static void test_rank_two_exporters(void **state)
{
	const char *dir = *state;
	struct events ev = { 0 };
	struct outbox_config cfg = config(dir, &ev, 2);
	struct outbox *ob;

	fake2.fail_first = 1000;
	put_commit(dir, BASE_A, "heap-profile", "heapprofile");
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	wait_event(ob, &ev, OUTBOX_DELIVERED, 1);
	wait_event(ob, &ev, OUTBOX_RETRY, 1);
	/* One has it, the other not: still to deliver. */
	assert_int_equal(outbox__rank(ob, BASE_A), 1);
	assert_int_equal(outbox__rank(ob, "heap-profile-1-20261201T000000Z"), 0);     /* gone: nothing to lose */
	outbox__free(ob);
	assert_int_equal(frees >= 2, 1);
}

/* While it waits out a backoff the exporter's thread sleeps: no CPU burnt. */
static void test_backoff_sleeps(void **state)
{
	const char *dir = *state;
	struct events ev = { 0 };
	struct outbox_config cfg = config(dir, &ev, 1);
	struct timespec a, b;
	struct outbox *ob;
	double cpu_ms;

	cfg.retry_initial_ms = 4000;
	fake1.fail_first = 1000;
	put_commit(dir, BASE_A, "heap-profile", "heapprofile");
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	wait_event(ob, &ev, OUTBOX_RETRY, 1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	settle(ob, 1000);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	cpu_ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	assert_true(cpu_ms < 50);
	assert_int_equal(ev.n[OUTBOX_RETRY], 1);
	outbox__free(ob);
}

/* Delivered, but its marker cannot be written: the marker is tried again, never the upload. */
static void test_marker_fails(void **state)
{
	const char *dir = *state;
	struct events ev = { 0 };
	struct outbox_config cfg = config(dir, &ev, 1);
	char path[4096];
	struct outbox *ob;
	int calls;

	put_commit(dir, BASE_A, "heap-profile", "heapprofile");
	fake1.fail_first = 1;   /* the first attempt fails: the test removes the state folder meanwhile */
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	snprintf(path, sizeof(path), "%s/.outbox/fakeone", dir);
	assert_int_equal(rmdir(path), 0);       /* the thread's dirfd now names a removed folder */
	wait_event(ob, &ev, OUTBOX_RETRY, 4);
	assert_int_equal(fake_count(&fake1, &calls), 1);
	assert_int_equal(calls, 2);             /* the failure, then the one delivery */
	assert_int_equal(ev.n[OUTBOX_DELIVERED], 0);
	assert_non_null(strstr(ev.last_error, "delivered, but cannot record it"));
	outbox__free(ob);
}

/* A commit removed while it went up is dropped, and the exporter does not wait for it. */
static void test_removed_while_delivering(void **state)
{
	const char *dir = *state;
	struct events ev = { 0 };
	struct outbox_config cfg = config(dir, &ev, 1);
	struct outbox_status st;
	struct outbox *ob;

	put_commit(dir, BASE_A, "heap-profile", "heapprofile");
	put_commit(dir, BASE_B, "cpu-profile", "cpuprofile");
	age(dir, BASE_A ".meta.json", 60);
	fake1.remove_dir = dir;
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	settle(ob, 300);
	assert_int_equal(ev.n[OUTBOX_RETRY], 0);
	assert_int_equal(outbox__status(ob, &st, 1), 1);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.consecutive_failures, 0);
	assert_int_equal(st.retry_in_ms, 0);
	outbox__free(ob);
}

/* Retention removed a commit: outbox__forget() takes its markers; NULL sweeps them all. */
static void test_forget(void **state)
{
	const char *dir = *state;
	struct events ev = { 0 };
	struct outbox_config cfg = config(dir, &ev, 1);
	char path[4096];
	struct outbox *ob;

	put_commit(dir, BASE_A, "heap-profile", "heapprofile");
	put_commit(dir, BASE_B, "cpu-profile", "cpuprofile");
	assert_int_equal(outbox__new(&cfg, &ob), 0);
	wait_event(ob, &ev, OUTBOX_DELIVERED, 2);
	assert_true(exists(dir, ".outbox/fakeone/" BASE_A ".delivered"));
	snprintf(path, sizeof(path), "%s/" BASE_A ".meta.json", dir);
	unlink(path);
	outbox__forget(ob, BASE_A);
	assert_false(exists(dir, ".outbox/fakeone/" BASE_A ".delivered"));
	snprintf(path, sizeof(path), "%s/" BASE_B ".meta.json", dir);
	unlink(path);
	outbox__forget(ob, NULL);
	for (int i = 0; i < 100 && exists(dir, ".outbox/fakeone/" BASE_B ".delivered"); i++)
		settle(ob, 20);
	assert_false(exists(dir, ".outbox/fakeone/" BASE_B ".delivered"));
	outbox__free(ob);
}

static void test_refused(void **state)
{
	const char *dir = *state;
	struct events ev = { 0 };
	struct outbox_config cfg = config(dir, &ev, 0);
	static const struct remote_exporter_ops bad = { .name = "S3/x", .deliver = deliver1, .free = fake_free };
	struct outbox *ob;
	int before = frees;

	assert_int_equal(outbox__new(&cfg, &ob), -EINVAL);
	cfg = config(dir, &ev, 1);
	cfg.remotes[0].ops = &bad;
	assert_int_equal(outbox__new(&cfg, &ob), -EINVAL);
	assert_int_equal(frees, before + 1);    /* the state was consumed */
	/* A state folder that is not root's alone. */
	cfg = config(dir, &ev, 1);
	{
		char path[4096];

		snprintf(path, sizeof(path), "%s/.outbox", dir);
		assert_int_equal(mkdir(path, 0777), 0);
		assert_int_equal(chmod(path, 0777), 0);
	}
	assert_int_equal(outbox__new(&cfg, &ob), -EPERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test_setup_teardown(test_found_at_start_then_committed, setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_retry_then_delivered, setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_gave_up, setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_not_keep_local, setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_unwanted, setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_rank_two_exporters, setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_backoff_sleeps, setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_marker_fails, setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_removed_while_delivering, setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_forget, setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, fixture_tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
