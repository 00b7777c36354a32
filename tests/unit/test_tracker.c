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
#define NAME_OOM "inspectd-otest"       /* hold_memory under a name of its own */

struct seen {
	unsigned exec, exit, signal;
	uint32_t last_pid;
	uint32_t pids[64];
	unsigned types[64];
	uint64_t values[64];
	unsigned n;
};

static void on_event(void *ctx, const struct inspectd_event *e)
{
	struct seen *s = ctx;

	if (s->n < 64) {
		s->pids[s->n] = e->pid;
		s->values[s->n] = e->value;
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
	char oom_exe[4096];
	struct tracker *tracker;
	struct seen seen;
};

static int setup(void **state)
{
	static const char *const match[] = { NAME, NAME_OOM };
	struct tracker_config cfg = {
		.match = match, .nmatch = 2, .trigger_sigmask = 1ull << SIGWINCH,
	};
	struct fixture *f = calloc(1, sizeof(*f));
	char cmd[16384], self[4096];
	ssize_t n;

	if (!f || fixture_tmpdir_setup((void **)&f->dir) < 0)
		return -1;
	snprintf(f->exe, sizeof(f->exe), "%s/%s", f->dir, NAME);
	snprintf(cmd, sizeof(cmd), "cp /bin/sleep %s", f->exe);
	if (system(cmd) != 0)
		return -1;
	/* The helper beside this test's binary. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(f->oom_exe, sizeof(f->oom_exe), "%s/%s", f->dir, NAME_OOM);
	snprintf(cmd, sizeof(cmd), "cp %s/hold_memory %s", self, f->oom_exe);
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

/* Wait (up to 5 s) for pid to be asleep, as sleep(1) is once it runs its nanosleep(). */
static void wait_asleep(pid_t pid)
{
	char path[64], buf[512], *p = NULL;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 1000; i++) {
		FILE *fp = fopen(path, "r");
		size_t n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;

		if (fp)
			fclose(fp);
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return;
		usleep(5000);
	}
	fail_msg("pid %d not asleep after 5 s (stat: %s)", (int)pid, buf);
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

static void ignore_cpu(void *ctx, uint32_t tgid, uint64_t runtime_ns)
{
}

#define NULL_CPU_FN ignore_cpu

struct rss_seen {
	uint32_t pids[512];
	uint64_t rss[512];
	unsigned n;
};

static void on_rss(void *ctx, uint32_t pid, uint64_t rss)
{
	struct rss_seen *s = ctx;

	if (s->n < 512) {
		s->pids[s->n] = pid;
		s->rss[s->n++] = rss;
	}
}

/* The tick's RSS in one pass over the kernel's table: each tracked process once, with what a
 * lookup of it says; more processes than one batch's slice all come. */
static void test_read_rss(void **state)
{
	struct fixture *f = *state;
	static struct rss_seen seen;
	pid_t targets[300];
	unsigned found = 0;
	int status, n;

	NEED_TRACKER(f);
	for (int i = 0; i < 300; i++)
		targets[i] = start_target(f);
	/* Tracked at exec, in the kernel (more events than the fixture keeps: the map says). */
	for (int i = 0, tries = 0; i < 300 && tries < 400; tries++) {
		uint64_t rss;

		tracker__consume(f->tracker);
		while (i < 300 && tracker__rss(f->tracker, (uint32_t)targets[i], &rss) == 0)
			i++;
		if (i < 300)
			usleep(5000);
	}
	/*
	 * Asleep, each has faulted in what it runs: just after exec the kernel's RSS counters
	 * (per-CPU since 6.2, folded into the total 32 pages at a time) may still read 0.
	 */
	for (int i = 0; i < 300; i++)
		wait_asleep(targets[i]);
	assert_true(tracker__read_cpu(f->tracker, NULL_CPU_FN, NULL) >= 0);    /* RSS read by the iterator */
	memset(&seen, 0, sizeof(seen));
	n = tracker__read_rss(f->tracker, on_rss, &seen);
	assert_int_equal(n, (int)seen.n);
	for (int i = 0; i < 300; i++) {
		for (unsigned j = 0; j < seen.n; j++) {
			uint64_t one = 0;

			if (seen.pids[j] != (uint32_t)targets[i])
				continue;
			found++;
			assert_int_equal(tracker__rss(f->tracker, seen.pids[j], &one), 0);
			assert_true(seen.rss[j] > 0);
			/* Read twice, a moment apart: a sleeping process's RSS moves by a page at most. */
			assert_true(one + 4096 >= seen.rss[j] && seen.rss[j] + 4096 >= one);
		}
	}
	assert_int_equal(found, 300);
	for (int i = 0; i < 300; i++)
		kill(targets[i], SIGKILL);
	for (int i = 0; i < 300; i++)
		waitpid(targets[i], &status, 0);
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

/* This process's v1 memory cgroup folder, or "" (no v1 memory controller). */
static void own_memory_cgroup(char *buf, size_t size)
{
	char line[4096];
	FILE *fp = fopen("/proc/self/cgroup", "r");

	buf[0] = '\0';
	while (fp && fgets(line, sizeof(line), fp)) {
		char *ctrl = strchr(line, ':'), *path = ctrl ? strchr(ctrl + 1, ':') : NULL;

		if (!path)
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		if (strcmp(ctrl + 1, "memory") == 0 || strstr(ctrl + 1, ",memory") || strstr(ctrl + 1, "memory,"))
			snprintf(buf, size, "/sys/fs/cgroup/memory%s", path);
	}
	if (fp)
		fclose(fp);
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static int index_of(const struct seen *s, unsigned type, uint32_t pid)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->types[i] == type && s->pids[i] == pid)
			return (int)i;
	return -1;
}

/*
 * An OOM kill: OOM_KILL (its ring read first) before EXIT, and the EXIT marked as the OOM
 * killer's victim; a SIGKILL from a user is an EXIT without the mark.
 */
static void test_oom_kill(void **state)
{
	struct fixture *f = *state;
	char own[4096], cg[4200], path[4300];
	pid_t victim, killed;
	int status, io, ix;

	NEED_TRACKER(f);
	own_memory_cgroup(own, sizeof(own));
	if (!own[0] || !tracker__oom_events(f->tracker)) {
		print_message("  no v1 memory cgroup, or no mark_victim with a task here: skipping\n");
		skip();
	}
	snprintf(cg, sizeof(cg), "%s/inspectd-test-oom-%d", own, (int)getpid());
	assert_int_equal(mkdir(cg, 0755), 0);
	snprintf(path, sizeof(path), "%s/memory.limit_in_bytes", cg);
	write_text(path, "16777216");

	victim = fork();
	assert_true(victim >= 0);
	if (victim == 0) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		write_text(path, "0");
		execl(f->oom_exe, NAME_OOM, "64", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(victim, &status, 0), victim);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	consume_until(f, INSPECTD_EVENT_EXIT, (uint32_t)victim);
	io = index_of(&f->seen, INSPECTD_EVENT_OOM_KILL, (uint32_t)victim);
	ix = index_of(&f->seen, INSPECTD_EVENT_EXIT, (uint32_t)victim);
	assert_true(io >= 0);
	assert_true(io < ix);
	assert_true(f->seen.values[io] >= 8 << 20);     /* its RSS at the kill, near the limit */
	assert_int_equal(f->seen.values[ix] & INSPECTD_EXIT_OOM_VICTIM, INSPECTD_EXIT_OOM_VICTIM);
	assert_int_equal(count_of(&f->seen, INSPECTD_EVENT_OOM_KILL, (uint32_t)victim), 1);
	assert_int_equal(rmdir(cg), 0);

	killed = start_target(f);
	consume_until(f, INSPECTD_EVENT_EXEC, (uint32_t)killed);
	kill(killed, SIGKILL);
	waitpid(killed, &status, 0);
	consume_until(f, INSPECTD_EVENT_EXIT, (uint32_t)killed);
	ix = index_of(&f->seen, INSPECTD_EVENT_EXIT, (uint32_t)killed);
	assert_int_equal(f->seen.values[ix], 0);
	assert_int_equal(count_of(&f->seen, INSPECTD_EVENT_OOM_KILL, (uint32_t)killed), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signal_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_rss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_caller_lacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_map_lacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile_exit_missed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oom_kill, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
