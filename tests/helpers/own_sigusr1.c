// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A program that is not node but catches SIGUSR1 with a handler of its own, as Bun or
 * Deno installed under the name node might: the tests copy it to a file named node.
 * Each SIGUSR1 it gets is counted in the file named by its argument (rewritten whole);
 * "ready" on stdout once the handler is in place.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_usr1(int sig)
{
	(void)sig;
	got++;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	int seen = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s COUNT-FILE\n", argv[0]);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		pause();
		if (got != seen) {
			int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

			seen = got;
			if (fd >= 0) {
				dprintf(fd, "%d\n", seen);
				close(fd);
			}
		}
	}
}
