/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Entering a target's network namespace for as long as it takes to make a socket. */
#ifndef INSPECTD_NETNS_H
#define INSPECTD_NETNS_H

#include <stdint.h>
#include <sys/types.h>

/* The inode of /proc/PID/ns/net, which names the namespace. */
int netns_inode(pid_t pid, uint64_t *ret);
/* The same through a pidfd (PIDFD_GET_NET_NAMESPACE, Linux 6.11+): 0, -ESRCH (the process
 * is gone), -EOPNOTSUPP (an older kernel), or -errno. */
int netns_pidfd_inode(int pidfd, uint64_t *ret);
/*
 * Switch the calling thread into the network namespace of the process pidfd pins
 * (setns() on the pidfd, Linux 5.8+): a pid recycled meanwhile cannot send the caller
 * into another process's namespace. *saved receives an fd of the namespace to return to
 * with netns_leave(), or -1 when that process shares ours (and on failure). 0, -ESRCH
 * (the process exited), -EINVAL (not a pidfd), or -errno of open()/setns().
 */
int netns_enter_pidfd(int pidfd, int *saved);
/*
 * Return the calling thread to the namespace saved by netns_enter_pidfd(), and close saved
 * either way; saved < 0: nothing to do. 0, or -errno of setns(): then the thread is still
 * in the target's namespace, and the caller must make no other socket on it (on the
 * agent's event loop thread: end the agent).
 */
int netns_leave(int saved);
/*
 * What an agent whose event loop thread could not leave a container's namespace does: log
 * and end at once (a socket made from here would be the container's; the next agent
 * closes, from the ledger, what this one leaves open). The caller's decision, not
 * netns_leave()'s.
 */
void netns_stranded(void) __attribute__((noreturn));

#endif
