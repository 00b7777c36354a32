// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Makes the kernel itself send a signal to a process, as a terminal resize
 * or urgent TCP data would: F_SETOWN + F_SETSIG on a pipe, then a write.
 * The signal arrives with si_code POLL_IN, not SI_USER: not a trigger.
 *
 *   sigio_send PID SIGNUM
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fds[2], pid, sig;

	if (argc != 3) {
		fprintf(stderr, "usage: sigio_send PID SIGNUM\n");
		return 2;
	}
	pid = atoi(argv[1]);
	sig = atoi(argv[2]);
	if (pipe(fds) < 0 ||
	    fcntl(fds[0], F_SETOWN, pid) < 0 ||
	    fcntl(fds[0], F_SETSIG, sig) < 0 ||
	    fcntl(fds[0], F_SETFL, O_ASYNC | O_NONBLOCK) < 0) {
		perror("sigio_send: fcntl");
		return 1;
	}
	if (write(fds[1], "x", 1) != 1) {
		perror("sigio_send: write");
		return 1;
	}
	return 0;
}
