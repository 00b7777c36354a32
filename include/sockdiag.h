/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The TCP listeners of a target's network namespace through NETLINK_SOCK_DIAG, asked
 * from inside that namespace. /proc/PID/net/tcp{,6} walks every established-socket
 * bucket of the namespace (3.5 ms a table on the machines measured); a dump of LISTEN
 * sockets only walks the listening hash, in microseconds. /proc is read only where
 * sock_diag fails.
 */
#ifndef INSPECTD_SOCKDIAG_H
#define INSPECTD_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>
#include "procfs.h"

/*
 * One buffer of a SOCK_DIAG_BY_FAMILY dump reply: appends its LISTEN sockets on a
 * loopback or any address to out, from *n on; every one is counted, and past max the
 * answer is -E2BIG. Messages not addressed to this request (another seq or port id) are
 * skipped. Returns 1 at NLMSG_DONE, 0 when more messages follow, -errno for an error
 * message or a dump the kernel cut short, -EPROTO for an error number no kernel sends,
 * -EINVAL for a malformed buffer.
 */
int sockdiag_parse(const void *buf, size_t len, uint32_t seq, uint32_t portid, struct procfs_listener *out,
		   size_t max, size_t *n);
/*
 * Every TCP listener on a loopback or any address in the network namespace of the process
 * pidfd pins, whoever holds it: one netlink dump, whatever the number of sockets any
 * process holds. Where sock_diag fails (no inet_diag, a dump cut short or not ended within
 * 250 ms, a reply not understood, a namespace not entered), procfs_netns_listeners()
 * instead. Count, or -E2BIG (more than max), -ENOTRECOVERABLE (the thread could not leave
 * that namespace: netns_stranded()), -ENOMEM, or the fallback's -errno: -ESRCH (the
 * process exited), -EINVAL (not a pidfd), -ETIMEDOUT, or another.
 */
int sockdiag_netns_listeners(int pidfd, struct procfs_listener *out, size_t max);

#endif
