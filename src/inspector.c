// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <signal.h>

#include "inspector.h"

int inspector_pick_open(const struct procfs_listener *l, int n, uint16_t cmdline_port)
{
	uint16_t port = cmdline_port ? cmdline_port : INSPECTOR_DEFAULT_PORT;

	for (int i = 0; i < n; i++)
		if (l[i].port == port && (l[i].loopback || l[i].any))
			return i;
	return -1;
}

int inspector_pick_new(const struct procfs_listener *before, int nb,
		       const struct procfs_listener *after, int na)
{
	int pick = -1;

	for (int i = 0; i < na; i++) {
		bool seen = false;

		for (int j = 0; j < nb && !seen; j++)
			seen = before[j].inode == after[i].inode;
		/* We connect to 127.0.0.1: a socket bound elsewhere is not reachable so. */
		if (seen || (!after[i].loopback && !after[i].any))
			continue;
		if (after[i].loopback)
			return i;
		if (pick < 0)
			pick = i;
	}
	return pick;
}

bool inspector_catches_sigusr1(uint64_t sigcgt)
{
	return sigcgt & (1ull << (SIGUSR1 - 1));
}
