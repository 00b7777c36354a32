// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Touches MIB mebibytes, says "ready", then sleeps without faulting again: a
 * process whose RSS is past a mark before anyone watches its page faults.
 * Usage: hold_memory MIB
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	size_t size;
	char *p;

	if (argc != 2 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: hold_memory MIB\n");
		return 2;
	}
	size = (size_t)atoi(argv[1]) << 20;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	/* No huge pages: khugepaged collapsing them later would change the RSS counters. */
	madvise(p, size, MADV_NOHUGEPAGE);
	memset(p, 1, size);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
