/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A target's listening TCP sockets through NETLINK_SOCK_DIAG, asked from inside
 * its network namespace. /proc/PID/net/tcp{,6} walks every established-socket
 * bucket of the namespace (3.5 ms a table on the machines measured); a dump of
 * LISTEN sockets only walks the listening hash, in microseconds.
 */
#ifndef INSPECTD_SOCKDIAG_H
#define INSPECTD_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "procfs.h"

/*
 * One buffer of a SOCK_DIAG_BY_FAMILY dump reply: appends its LISTEN sockets whose inode
 * is among inodes (sorted) to out, while *n < max. inodes NULL: every LISTEN socket on a
 * loopback or any address, and -E2BIG when there are more than max. Messages not addressed to this request
 * (another seq or port id) are skipped. Returns 1 at NLMSG_DONE, 0 when more messages
 * follow, -errno for an error message, a dump the kernel cut short, or a malformed buffer.
 */
int sockdiag_parse(const void *buf, size_t len, uint32_t seq, uint32_t portid, const uint64_t *inodes,
		   size_t ninodes, struct procfs_listener *out, size_t max, size_t *n);
/*
 * TCP listeners in pid's network namespace whose inodes are among inodes (sorted, as
 * procfs_socket_inodes() gives them), through sock_diag only: count or -errno (no
 * sock_diag, a dump cut short, replies that do not end within 250 ms), or
 * -ENOTRECOVERABLE when the calling thread could not return from pid's network
 * namespace (netns_leave()): it must make no other socket; on the loop, end the agent.
 */
int sockdiag_dump_listeners(pid_t pid, const uint64_t *inodes, size_t ninodes, struct procfs_listener *out,
			    size_t max);
/*
 * Every TCP listener on a loopback or any address in the network namespace of the process
 * pidfd pins, whoever holds it: one netlink dump, whatever the number of sockets any
 * process holds. Count, -E2BIG (more than max), -ENOTRECOVERABLE (the thread could not
 * leave that namespace: netns_stranded()), or -errno as sockdiag_dump_listeners().
 */
int sockdiag_netns_listeners(int pidfd, struct procfs_listener *out, size_t max);
/* The same, falling back to procfs_target_listeners() where sock_diag fails (but for
 * -ENOMEM and -ENOTRECOVERABLE, which are passed on). */
int sockdiag_listeners(pid_t pid, const uint64_t *inodes, size_t ninodes, struct procfs_listener *out,
		       size_t max);
/* The same among every socket pid holds now. */
int sockdiag_target_listeners(pid_t pid, struct procfs_listener *out, size_t max);

#endif
