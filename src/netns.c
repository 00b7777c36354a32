// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"

/* <linux/pidfd.h> of Linux 6.11; Debian 12's headers predate it. */
#ifndef PIDFD_GET_NET_NAMESPACE
#define PIDFD_GET_NET_NAMESPACE _IO(0xFF, 4)
#endif

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

int netns_pidfd_inode(int pidfd, uint64_t *ret)
{
	struct stat st;
	int ns, r = 0;

	ns = ioctl(pidfd, PIDFD_GET_NET_NAMESPACE, 0);
	if (ns < 0)
		return errno == ENOTTY ? -EOPNOTSUPP : -errno;
	if (fstat(ns, &st) < 0)
		r = -errno;
	else
		*ret = (uint64_t)st.st_ino;
	close(ns);
	return r;
}

int netns_enter_pidfd(int pidfd, int *saved)
{
	struct stat ours;
	uint64_t theirs;
	int self, r;

	*saved = -1;
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (fstat(self, &ours) < 0) {
		r = -errno;
		close(self);
		return r;
	}
	/* Ours already: nothing to enter, nothing to leave. */
	r = netns_pidfd_inode(pidfd, &theirs);
	if (r == 0 && theirs == (uint64_t)ours.st_ino) {
		close(self);
		return 0;
	}
	if (r < 0 && r != -EOPNOTSUPP) {
		close(self);
		return r;
	}
	if (setns(pidfd, CLONE_NEWNET) < 0) {
		r = -errno;
		close(self);
		return r;
	}
	*saved = self;
	return 0;
}

int netns_leave(int saved)
{
	int r = 0;

	if (saved < 0)
		return 0;
	if (setns(saved, CLONE_NEWNET) < 0)
		r = -errno;
	close(saved);
	return r;
}

void netns_stranded(void)
{
	log_error("the event loop cannot return from a container's network namespace: exiting at once");
	_exit(1);
}
