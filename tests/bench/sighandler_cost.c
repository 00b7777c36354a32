// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * make bench: what the SIGUSR1 handler check costs on the trigger path, with the real
 * kernel side (the task iterator run for one pidfd) and a real node:
 *
 *   first    a node executable never seen: its maps, its file through map_files, its
 *            .symtab streamed on the thread inspectd-symtab (once per executable; the
 *            agent does it at discovery, before any trigger)
 *   process  a new process of a known executable: the kernel's reading, its maps, the file's
 *            identity (every capture of a fresh process pays this)
 *   again    a process already judged: the kernel's reading only (the handler is read
 *            fresh each time; the verdict is the cached one while the address stays)
 *   kernel   the kernel's reading alone
 *
 * and the agent's memory (VmRSS, VmHWM) before and after node's symbol table was read:
 * only a few addresses are kept, so neither grows by its size (10 MB for node 20).
 *
 *   sighandler_cost NODE [ROUNDS]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sighandler.h"
#include "tracker.h"

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void memory(const char *when)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	printf("   %-34s", when);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6) || !strncmp(line, "VmHWM:", 6)) {
			line[strcspn(line, "\n")] = '\0';
			printf("  %s", line);
		}
	printf("\n");
	if (f)
		fclose(f);
}

static void on_event(void *ctx, const struct inspectd_event *e)
{
	(void)ctx;
	(void)e;
}

static int read_handler(void *ctx, int pidfd, pid_t pid, uint64_t *handler)
{
	return tracker__sigusr1_handler(ctx, pidfd, (uint32_t)pid, handler);
}

struct child {
	pid_t pid;
	int pidfd;
};

/* node running script, once it printed its first line. */
static void spawn_node(const char *node, const char *script, struct child *c)
{
	int out[2];
	char buf[64];

	if (pipe2(out, O_CLOEXEC) < 0)
		exit(1);
	c->pid = fork();
	if (c->pid == 0) {
		dup2(out[1], 1);
		execl(node, node, "-e", script, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	if (read(out[0], buf, sizeof(buf)) <= 0) {
		fprintf(stderr, "node did not start\n");
		exit(1);
	}
	close(out[0]);
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
}

static void stop(struct child *c)
{
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	close(c->pidfd);
}

int main(int argc, char **argv)
{
	static const char *const match[] = { "node" };
	const char *node = argc > 1 ? argv[1] : "/usr/bin/node";
	int rounds = argc > 2 ? atoi(argv[2]) : 200;
	struct tracker_config cfg = { .match = match, .nmatch = 1, .trigger_sigmask = 1ull << SIGWINCH };
	double *v = calloc((size_t)rounds, sizeof(*v)), t0, first;
	enum sigusr1_handler h;
	struct sighandlers *s;
	struct tracker *t;
	struct child plain, own;
	uint64_t addr;
	int r;

	if (!v || rounds < 1)
		return 1;
	t = tracker__new(&cfg, on_event, NULL);
	if (!t || sighandlers__new(read_handler, t, &s) < 0) {
		fprintf(stderr, "cannot load the kernel side (root, BTF)\n");
		return 1;
	}
	spawn_node(node, "setInterval(() => {}, 1000); console.log('ready')", &plain);
	spawn_node(node, "process.on('SIGUSR1', () => {}); setInterval(() => {}, 1000); console.log('ready')", &own);
	printf("SIGUSR1 handler check (%s, %d rounds each)\n", node, rounds);
	memory("before node's .symtab was read:");
	t0 = now_us();
	r = sighandlers__check(s, plain.pid, plain.pidfd, &h, &addr);
	first = now_us() - t0;
	/* Read on the thread inspectd-symtab: the loop asks again each millisecond meanwhile. */
	while (r == -EINPROGRESS) {
		usleep(100);
		r = sighandlers__check(s, plain.pid, plain.pidfd, &h, &addr);
	}
	memory("after:");
	printf("   first check of an executable:    %6.1f us on the loop, %.1f us until answered on the "
	       "thread (%s, r %d, handler 0x%llx)\n", first, now_us() - t0, sigusr1_handler_name(h), r,
	       (unsigned long long)addr);
	if (h != SIGUSR1_HANDLER_NODE)
		return 1;

	for (int i = 0; i < rounds; i++) {
		sighandlers__forget(s, plain.pid);
		t0 = now_us();
		sighandlers__check(s, plain.pid, plain.pidfd, &h, NULL);
		v[i] = now_us() - t0;
	}
	printf("   a new process, known executable: %6.1f us median\n", median(v, rounds));
	for (int i = 0; i < rounds; i++) {
		t0 = now_us();
		sighandlers__check(s, plain.pid, plain.pidfd, &h, NULL);
		v[i] = now_us() - t0;
	}
	printf("   a process judged before:         %6.1f us median (the handler read fresh)\n", median(v, rounds));
	for (int i = 0; i < rounds; i++) {
		t0 = now_us();
		tracker__sigusr1_handler(t, plain.pidfd, (uint32_t)plain.pid, &addr);
		v[i] = now_us() - t0;
	}
	printf("   the kernel's reading alone:      %6.1f us median\n", median(v, rounds));
	r = sighandlers__check(s, own.pid, own.pidfd, &h, NULL);
	printf("   process.on('SIGUSR1') beside it: %s (r %d)\n", sigusr1_handler_name(h), r);
	memory("at the end:");
	stop(&plain);
	stop(&own);
	sighandlers__free(s);
	tracker__free(t);
	free(v);
	return h == SIGUSR1_HANDLER_APPLICATION ? 0 : 1;
}
