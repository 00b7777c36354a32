// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The kernel side for real (root and BPF; skipped with the reason otherwise): trigger
 * signals limited per target in the kernel and counted, and tracker__reconcile() finding
 * what one table has and the other lacks. Targets are copies of /bin/sleep under a name
 * of their own, so that no other program on the host is tracked.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "tracker.h"

#define NAME "inspectd-rtest"

struct seen {
	unsigned exec, exit, signal;
	uint32_t last_pid;
	uint32_t pids[64];
	unsigned types[64];
	unsigned n;
};

static void on_event(void *ctx, const struct inspectd_event *e)
{
	struct seen *s = ctx;

	if (s->n < 64) {
		s->pids[s->n] = e->pid;
		s->types[s->n++] = e->type;
	}
	s->last_pid = e->pid;
	if (e->type == INSPECTD_EVENT_EXEC)
		s->exec++;
	else if (e->type == INSPECTD_EVENT_EXIT)
		s->exit++;
	else if (e->type == INSPECTD_EVENT_SIGNAL)
		s->signal++;
}

static unsigned count_of(const struct seen *s, unsigned type, uint32_t pid)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->n; i++)
		n += s->types[i] == type && s->pids[i] == pid;
	return n;
}

struct fixture {
	char *dir;
	char exe[4096];
	struct tracker *tracker;
	struct seen seen;
};

static int setup(void **state)
{
	static const char *const match[] = { NAME };
	struct tracker_config cfg = {
		.match = match, .nmatch = 1, .trigger_sigmask = 1ull << SIGWINCH,
	};
	struct fixture *f = calloc(1, sizeof(*f));
	char cmd[8192];

	if (!f || fixture_tmpdir_setup((void **)&f->dir) < 0)
		return -1;
	snprintf(f->exe, sizeof(f->exe), "%s/%s", f->dir, NAME);
	snprintf(cmd, sizeof(cmd), "cp /bin/sleep %s", f->exe);
	if (system(cmd) != 0)
		return -1;
	if (geteuid() == 0)
		f->tracker = tracker__new(&cfg, on_event, &f->seen);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	void *dir = f->dir;

	tracker__free(f->tracker);
	fixture_tmpdir_teardown(&dir);
	free(f);
	return 0;
}

static pid_t start_target(struct fixture *f)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		execl(f->exe, NAME, "30", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void consume_until(struct fixture *f, unsigned type, uint32_t pid)
{
	for (int i = 0; i < 200 && !count_of(&f->seen, type, pid); i++) {
		tracker__consume(f->tracker);
		usleep(5000);
	}
	assert_true(count_of(&f->seen, type, pid) > 0);
}

#define NEED_TRACKER(f) do { \
	if (!(f)->tracker) { \
		print_message("  no BPF here (%s): skipping\n", geteuid() ? "not root" : "the programs did not load"); \
		skip(); \
	} \
} while (0)

/* 1 000 trigger signals from another process: the burst (4) is reported, the rest limited. */
static void test_signal_rate_limited(void **state)
{
	struct fixture *f = *state;
	struct tracker_drops before, after;
	pid_t target, sender;
	int status;

	NEED_TRACKER(f);
	target = start_target(f);
	consume_until(f, INSPECTD_EVENT_EXEC, (uint32_t)target);
	tracker__drops(f->tracker, &before);
	/* The tracker ignores its own process's signals: a child sends them. */
	sender = fork();
	assert_true(sender >= 0);
	if (sender == 0) {
		for (int i = 0; i < 1000; i++)
			kill(target, SIGWINCH);
		_exit(0);
	}
	assert_int_equal(waitpid(sender, &status, 0), sender);
	tracker__consume(f->tracker);
	tracker__drops(f->tracker, &after);
	assert_int_equal(count_of(&f->seen, INSPECTD_EVENT_SIGNAL, (uint32_t)target), 4);
	assert_true(after.signals_limited - before.signals_limited == 996);
	assert_true(after.lost[INSPECTD_STREAM_SIGNAL] == before.lost[INSPECTD_STREAM_SIGNAL]);
	assert_true(after.lost[INSPECTD_STREAM_LIFECYCLE] == before.lost[INSPECTD_STREAM_LIFECYCLE]);

	/* Half a second later, one more is due. */
	usleep(600000);
	sender = fork();
	if (sender == 0) {
		kill(target, SIGWINCH);
		kill(target, SIGWINCH);
		_exit(0);
	}
	waitpid(sender, &status, 0);
	tracker__consume(f->tracker);
	assert_int_equal(count_of(&f->seen, INSPECTD_EVENT_SIGNAL, (uint32_t)target), 5);

	kill(target, SIGKILL);
	waitpid(target, &status, 0);
	consume_until(f, INSPECTD_EVENT_EXIT, (uint32_t)target);
	assert_string_equal(tracker_stream_name(INSPECTD_STREAM_LIFECYCLE), "lifecycle");
	assert_string_equal(tracker_stream_name(INSPECTD_STREAM_SIGNAL), "signal");
	assert_string_equal(tracker_stream_name(INSPECTD_STREAM_RSS), "rss");
	assert_null(tracker_stream_name(INSPECTD_STREAM_COUNT));
}

/* The caller lost a tracked process: the second reconcile (not the first) gives it back. */
static void test_reconcile_caller_lacks(void **state)
{
	struct fixture *f = *state;
	pid_t target;
	int status;

	NEED_TRACKER(f);
	target = start_target(f);
	consume_until(f, INSPECTD_EVENT_EXEC, (uint32_t)target);
	memset(&f->seen, 0, sizeof(f->seen));
	/* As if the caller had never heard: an empty table. */
	assert_int_equal(tracker__reconcile(f->tracker, NULL, 0), 0);
	assert_int_equal(f->seen.n, 0);
	assert_int_equal(tracker__reconcile(f->tracker, NULL, 0), 1);
	assert_int_equal(count_of(&f->seen, INSPECTD_EVENT_EXEC, (uint32_t)target), 1);
	/* Now both tables agree: nothing more. */
	memset(&f->seen, 0, sizeof(f->seen));
	assert_int_equal(tracker__reconcile(f->tracker, (uint32_t[]){ (uint32_t)target }, 1), 0);
	assert_int_equal(tracker__reconcile(f->tracker, (uint32_t[]){ (uint32_t)target }, 1), 0);
	assert_int_equal(f->seen.n, 0);

	kill(target, SIGKILL);
	waitpid(target, &status, 0);
	consume_until(f, INSPECTD_EVENT_EXIT, (uint32_t)target);
}

/* The caller holds a pid the kernel side does not track: a process that is not a target
 * (this one), and one that is gone. Both are reported gone, on the second call. */
static void test_reconcile_map_lacks(void **state)
{
	struct fixture *f = *state;
	uint32_t pids[2];
	pid_t gone;
	int status;

	NEED_TRACKER(f);
	gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, &status, 0);
	pids[0] = (uint32_t)getpid();
	pids[1] = (uint32_t)gone;
	memset(&f->seen, 0, sizeof(f->seen));
	assert_int_equal(tracker__reconcile(f->tracker, pids, 2), 0);
	assert_int_equal(tracker__reconcile(f->tracker, pids, 2), 2);
	assert_int_equal(count_of(&f->seen, INSPECTD_EVENT_EXIT, pids[0]), 1);
	assert_int_equal(count_of(&f->seen, INSPECTD_EVENT_EXIT, pids[1]), 1);
}

/* A target both tables hold needs nothing; once it exited and the kernel side reported it,
 * a caller that still holds it (it missed the EXIT) is told on the second call. */
static void test_reconcile_exit_missed(void **state)
{
	struct fixture *f = *state;
	uint32_t pid;
	pid_t target;
	int status;

	NEED_TRACKER(f);
	target = start_target(f);
	pid = (uint32_t)target;
	consume_until(f, INSPECTD_EVENT_EXEC, pid);
	/* In the map. */
	assert_int_equal(tracker__set_rss_marks(f->tracker, pid, 0, 0), 0);
	memset(&f->seen, 0, sizeof(f->seen));
	assert_int_equal(tracker__reconcile(f->tracker, &pid, 1), 0);
	assert_int_equal(tracker__reconcile(f->tracker, &pid, 1), 0);
	assert_int_equal(f->seen.n, 0);
	kill(target, SIGKILL);
	waitpid(target, &status, 0);
	consume_until(f, INSPECTD_EVENT_EXIT, pid);
	/* Gone, and the kernel side reported it: no entry, and a caller still holding it is told. */
	assert_int_equal(tracker__set_rss_marks(f->tracker, pid, 0, 0), -ENOENT);
	memset(&f->seen, 0, sizeof(f->seen));
	assert_int_equal(tracker__reconcile(f->tracker, &pid, 1), 0);
	assert_int_equal(tracker__reconcile(f->tracker, &pid, 1), 1);
	assert_int_equal(count_of(&f->seen, INSPECTD_EVENT_EXIT, pid), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signal_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_caller_lacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_map_lacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_exit_missed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
