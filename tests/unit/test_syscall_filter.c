// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The system call filter for real, in child processes (a filter cannot be removed): what it
 * lets through works, what it refuses fails with EPERM and is counted by name, threads made
 * before and after are covered, and a thread that blocks SIGSYS turns counting off rather
 * than getting the process killed.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "syscall_filter.h"

static void *thread_getpid(void *arg)
{
	*(pid_t *)arg = getpid();
	return NULL;
}

static void *thread_execve(void *arg)
{
	char *argv[] = { "true", NULL };

	*(int *)arg = execve("/bin/true", argv, NULL) < 0 ? errno : 0;
	return NULL;
}

/* Made before the filter, tries execve() after it: arg[0] a pipe to wait on, arg[1] the errno. */
static void *thread_waits_then_execve(void *arg)
{
	int *io = arg;
	char c;

	if (read(io[0], &c, 1) != 1)
		return NULL;
	return thread_execve(&io[1]);
}

struct seen {
	char names[16][32];
	uint64_t totals[16];
	int n;
};

static void collect(void *ctx, const char *name, int nr, uint64_t total)
{
	struct seen *s = ctx;

	if (s->n < 16) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
		s->totals[s->n++] = total;
	}
}

static uint64_t total_of(const struct seen *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->names[i], name) == 0)
			return s->totals[i];
	return 0;
}

/* Under ASan clone() is allowed (LeakSanitizer's tracer is a cloned process): fork() is not refused. */
#if defined(__SANITIZE_ADDRESS__)
#define FORK_REFUSED 0
#else
#define FORK_REFUSED 1
#endif

static int filtered(void)
{
	union bpf_attr attr = { .prog_type = BPF_PROG_TYPE_SOCKET_FILTER };
	struct syscall_filter *f, *again;
	struct seen seen = { 0 };
	char *argv[] = { "true", NULL };
	pthread_t t, before;
	pid_t in_thread = 0;
	int fd, err = -1, p[2], io[2] = { -1, -1 };

	/* A thread made before the filter is covered too (TSYNC). */
	if (pipe(p) < 0)
		return 1;
	io[0] = p[0];
	if (pthread_create(&before, NULL, thread_waits_then_execve, io) != 0)
		return 1;
	if (syscall_filter__install(&f) < 0)
		return 2;
	if (write(p[1], "x", 1) != 1 || pthread_join(before, NULL) != 0 || io[1] != EPERM)
		return 16;
	if (!syscall_filter__counting(f) || syscall_filter__fd(f) < 0)
		return 3;
	if (syscall_filter__install(&again) != -EALREADY)
		return 4;
	/* Allowed: a thread (clone3 refused with ENOSYS, glibc falls back to clone), a Unix socket. */
	if (pthread_create(&t, NULL, thread_getpid, &in_thread) != 0 || pthread_join(t, NULL) != 0 ||
	    in_thread != getpid())
		return 5;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 6;
	close(fd);
	/* Refused with EPERM: exec (from a thread too), fork, another family, another namespace
	 * kind, loading a BPF program. */
	if (execve("/bin/true", argv, NULL) != -1 || errno != EPERM)
		return 7;
	err = 0;
	if (pthread_create(&t, NULL, thread_execve, &err) != 0 || pthread_join(t, NULL) != 0 || err != EPERM)
		return 8;
	if (FORK_REFUSED && (fork() != -1 || errno != EPERM))
		return 9;
	if (socket(AF_PACKET, SOCK_RAW, 0) != -1 || errno != EPERM)
		return 10;
	if (setns(0, CLONE_NEWNS) != -1 || errno != EPERM)
		return 11;
	if (syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr)) != -1 || errno != EPERM)
		return 12;
	/* Counted by name, the fd readable until read. */
	if (syscall_filter__refused_total(f) != 6 + FORK_REFUSED)
		return 13;
	syscall_filter__each_refused(f, collect, &seen);
	if (total_of(&seen, "execve") != 3 || total_of(&seen, "clone") != FORK_REFUSED || total_of(&seen, "socket") != 1 ||
	    total_of(&seen, "setns") != 1 || total_of(&seen, "bpf") != 1)
		return 14;
	/* Reported once: nothing new since. */
	seen.n = 0;
	syscall_filter__each_refused(f, collect, &seen);
	if (seen.n != 0)
		return 15;
	syscall_filter__free(f);
	return 0;
}

static void test_filter(void **state)
{
	assert_int_equal(fixture_in_child(filtered), 0);
}

static void *blocked_idle(void *arg)
{
	pause();
	return NULL;
}

/* A thread blocking SIGSYS: the kernel answers EPERM itself, uncounted; nobody is killed. */
static int sigsys_blocked(void)
{
	struct syscall_filter *f;
	char *argv[] = { "true", NULL };
	sigset_t all, old;
	pthread_t t;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&t, NULL, blocked_idle, NULL) != 0)
		return 1;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (syscall_filter__install(&f) < 0)
		return 2;
	if (syscall_filter__counting(f) || syscall_filter__fd(f) != -1)
		return 3;
	if (execve("/bin/true", argv, NULL) != -1 || errno != EPERM)
		return 4;
	if (syscall_filter__refused_total(f) != 0)
		return 5;
	syscall_filter__free(f);
	return 0;
}

static void test_sigsys_blocked(void **state)
{
	assert_int_equal(fixture_in_child(sigsys_blocked), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_sigsys_blocked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
