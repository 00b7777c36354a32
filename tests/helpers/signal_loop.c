// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A process that sends itself a signal in a tight loop: copied to a file named node
 * and given a trigger signal (SIGWINCH, whose default action discards it), it is a
 * target that floods the agent's kernel side with trigger events.
 *
 *   signal_loop SIGNUM
 *
 * Prints "ready", then loops until killed.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	pid_t self = getpid();
	int sig;

	if (argc != 2) {
		fprintf(stderr, "usage: signal_loop SIGNUM\n");
		return 2;
	}
	sig = atoi(argv[1]);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (kill(self, sig) < 0) {
			perror("signal_loop: kill");
			return 1;
		}
	}
}
