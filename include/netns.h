/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Entering a target's network namespace for as long as it takes to make a socket. */
#ifndef INSPECTD_NETNS_H
#define INSPECTD_NETNS_H

#include <stdint.h>
#include <sys/types.h>

/* The inode of /proc/PID/ns/net, which names the namespace. */
int netns_inode(pid_t pid, uint64_t *ret);
/*
 * Switch the calling thread into pid's network namespace. *saved receives an fd
 * of the namespace to return to with netns_leave(), or -1 when pid shares ours.
 */
int netns_enter(pid_t pid, int *saved);
void netns_leave(int saved);

#endif
