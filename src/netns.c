// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"

int netns_inode(pid_t pid, uint64_t *ret)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat(path, &st) < 0)
		return -errno;
	*ret = (uint64_t)st.st_ino;
	return 0;
}

int netns_enter(pid_t pid, int *saved)
{
	uint64_t ours, theirs;
	char path[64];
	int self, target, r;

	*saved = -1;
	r = netns_inode(getpid(), &ours);
	if (r < 0)
		return r;
	r = netns_inode(pid, &theirs);
	if (r < 0)
		return r;
	if (ours == theirs)
		return 0;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		r = -errno;
		close(self);
		return r;
	}
	r = setns(target, CLONE_NEWNET) < 0 ? -errno : 0;
	close(target);
	if (r < 0) {
		close(self);
		return r;
	}
	*saved = self;
	return 0;
}

void netns_leave(int saved)
{
	if (saved < 0)
		return;
	/* Failing to return would leave the whole agent in a container's namespace. */
	if (setns(saved, CLONE_NEWNET) < 0) {
		log_error("cannot return to the agent's network namespace: %m; exiting");
		_exit(1);
	}
	close(saved);
}
