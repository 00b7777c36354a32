// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A process whose /proc/PID/status is longer than 4 KiB: NGROUPS supplementary groups
 * (setgroups, as root), and a handler for SIGALRM only (SigCgt 0000000000002000).
 * The groups' widths are tuned so that a read of the first CUT bytes of its status
 * (default 4095: a 4 KiB buffer and its NUL) ends one digit before the end of the SigCgt
 * value, "000000000000200", which read as hex is SIGUSR1's bit. Copied to a file named
 * node, it is a target that any SIGUSR1 kills.
 *
 *   many_groups NGROUPS [CUT]
 *
 * Prints "ready sigcgt_at=N" (the offset of the SigCgt value), then waits for signals.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_GROUPS 4096

static void on_alarm(int sig)
{
	(void)sig;
}

/* Offset of the SigCgt value in our own status once we sleep, or -1. */
static long sigcgt_offset(void)
{
	static const char sleeping[] = "State:\tS (sleeping)\n";
	static char buf[256 * 1024];
	size_t got = 0;
	ssize_t r;
	char *p, *state, *end;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (got < sizeof(buf) - 1 && (r = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)r;
	close(fd);
	buf[got] = '\0';
	p = strstr(buf, "\nSigCgt:\t");
	if (!p)
		return -1;
	/* Read while running ("R (running)"); seen by others while it waits in pause(). */
	state = strstr(buf, "\nState:\t");
	end = state ? strchr(state + 1, '\n') : NULL;
	if (!end)
		return -1;
	return (long)(p - buf) + 9 + (long)(sizeof(sleeping) - 1) - (long)(end - state);
}

int main(int argc, char **argv)
{
	static gid_t gids[MAX_GROUPS];
	static int width[MAX_GROUPS];
	struct sigaction sa = { .sa_handler = on_alarm };
	long n, cut, at = -1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: many_groups NGROUPS [CUT]\n");
		return 2;
	}
	n = strtol(argv[1], NULL, 10);
	cut = argc == 3 ? strtol(argv[2], NULL, 10) : 4095;
	if (n < 1 || n > MAX_GROUPS) {
		fprintf(stderr, "many_groups: NGROUPS must be 1 to %d\n", MAX_GROUPS);
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) < 0) {
		perror("many_groups: sigaction");
		return 1;
	}
	for (long i = 0; i < n; i++)
		width[i] = 6;
	/* Each group's gid is 5, 6 or 7 digits wide: one character more or less per group. */
	for (int round = 0; round < 8; round++) {
		long delta;

		for (long i = 0; i < n; i++)
			gids[i] = (gid_t)(width[i] == 5 ? 10000 + i : width[i] == 6 ? 100000 + i : 1000000 + i);
		if (setgroups((size_t)n, gids) < 0) {
			perror("many_groups: setgroups");
			return 1;
		}
		at = sigcgt_offset();
		if (at < 0) {
			fprintf(stderr, "many_groups: no SigCgt in /proc/self/status\n");
			return 1;
		}
		/* The cut falls after the 15th of the 16 digits. */
		delta = cut - 15 - at;
		if (delta == 0)
			break;
		for (long i = 0; i < n && delta; i++) {
			if (delta > 0 && width[i] < 7) {
				width[i]++;
				delta--;
			} else if (delta < 0 && width[i] > 5) {
				width[i]--;
				delta++;
			}
		}
	}
	printf("ready sigcgt_at=%ld\n", at);
	fflush(stdout);
	for (;;)
		pause();
}
