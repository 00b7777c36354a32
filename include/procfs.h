/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * /proc as text. The parsers are pure (fixture-tested); the readers bound
 * every read, since a target controls much of what /proc shows of it.
 */
#ifndef INSPECTD_PROCFS_H
#define INSPECTD_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROCFS_MAX_LISTENERS 64
#define PROCFS_MAX_SOCKETS   4096

struct procfs_listener {
	uint64_t inode;
	uint16_t port;
	int family;             /* AF_INET or AF_INET6 */
	bool loopback;
	bool any;               /* 0.0.0.0 or :: */
};

/* "SigCgt:\t0000000000004a02" -> mask (bit N-1 is signal N). */
int procfs_parse_status_mask(const char *status, const char *field, uint64_t *ret);
/* One line of /proc/PID/net/tcp{,6}: 1 and *out for a LISTEN socket, 0 for another state, -EINVAL. */
int procfs_parse_net_tcp_line(const char *line, int family, struct procfs_listener *out);
/* TCP sockets in LISTEN state from a whole table (header first). Returns count. */
int procfs_parse_net_tcp(const char *text, int family, struct procfs_listener *out, size_t max);
/* /proc/PID/stat -> field 22, the start time in clock ticks after boot: with the pid, a
 * process's identity across the agent's restarts. The comm field may hold ") " itself. */
int procfs_parse_stat_starttime(const char *stat, uint64_t *ret);
/* "socket:[12345]" -> 12345. */
int procfs_parse_socket_link(const char *link, uint64_t *ret);
/* NUL-separated cmdline -> up to max pointers into buf (buf is NUL-terminated). Returns argc. */
int procfs_split_cmdline(char *buf, size_t len, char **argv, size_t max);
/* The inspector port named on a node command line (--inspect[-brk|-port][=[host:]port]), or 0. */
int procfs_cmdline_inspect_port(char *const *argv, int argc, uint16_t *ret);

/* Readers: bounded, NUL-terminate, return bytes read or -errno. */
ssize_t procfs_read(pid_t pid, const char *name, char *buf, size_t size);
int procfs_read_comm(pid_t pid, char *buf, size_t size);
int procfs_read_exe(pid_t pid, char *buf, size_t size);
int procfs_read_signal_caught(pid_t pid, uint64_t *caught);
int procfs_read_starttime(pid_t pid, uint64_t *ret);
/* Socket inodes among /proc/PID/fd, sorted. Returns count or -errno. */
int procfs_socket_inodes(pid_t pid, uint64_t *out, size_t max);
/* Whether inode is among n inodes sorted as procfs_socket_inodes() gives them. */
bool procfs_inode_among(const uint64_t *inodes, size_t n, uint64_t inode);
/* TCP listeners of the target's network namespace that the target owns. */
int procfs_target_listeners(pid_t pid, struct procfs_listener *out, size_t max);

#endif
