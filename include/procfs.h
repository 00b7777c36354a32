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
#define PROCFS_TEXT_MAX      (64 * 1024)        /* /proc/PID/status: thousands of groups fit */
#define PROCFS_STAT_MAX      4096               /* /proc/PID/stat: one line of numbers and a comm */
/* /proc/PID/net/tcp{,6} is read line by line, a namespace may hold any number of
 * sockets: so many lines a table, both tables within so long. */
#define PROCFS_NET_TCP_LINES (1u << 20)
#define PROCFS_NET_TCP_USEC  250000

struct procfs_listener {
	uint64_t inode;
	uint16_t port;
	int family;             /* AF_INET or AF_INET6 */
	bool loopback;
	bool any;               /* 0.0.0.0 or :: */
	uint8_t addr[16];       /* the bound address, network order (IPv4: the first 4 bytes) */
};

/*
 * "SigCgt:\t0000000000004a02\n" -> mask (bit N-1 is signal N): the first line naming the
 * field, whose value must be exactly 16 hex digits ended by a newline. -EINVAL for
 * anything else (a line cut short included), -ENOENT when no line names the field.
 */
int procfs_parse_status_mask(const char *status, const char *field, uint64_t *ret);
/* SigCgt of a whole /proc/PID/status of len bytes: -EINVAL unless the text is NUL-free
 * and its last line ends in a newline; else as procfs_parse_status_mask(). */
int procfs_status_signal_caught(const char *status, size_t len, uint64_t *caught);
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

/* Readers: bounded, NUL-terminate, return bytes read or -errno. procfs_read() keeps what
 * fits in size - 1 bytes and drops the rest: not for text that is parsed. */
ssize_t procfs_read(pid_t pid, const char *name, char *buf, size_t size);
/*
 * The whole file, in a NUL-terminated buffer *ret that the caller frees: its length, or
 * -EFBIG when it holds more than max bytes (never a truncated read), -ENOMEM, or -errno
 * of open()/read(). *ret is NULL on failure.
 */
ssize_t procfs_read_whole_path(const char *path, size_t max, char **ret);
/* The same for /proc/PID/name. */
ssize_t procfs_read_whole(pid_t pid, const char *name, size_t max, char **ret);
int procfs_read_comm(pid_t pid, char *buf, size_t size);
int procfs_read_exe(pid_t pid, char *buf, size_t size);
/* SigCgt from the whole of /proc/PID/status (at most PROCFS_TEXT_MAX bytes): 0, -EFBIG,
 * -EINVAL (not the kernel's text, or no whole line), -ENOENT (no SigCgt) or -errno. */
int procfs_read_signal_caught(pid_t pid, uint64_t *caught);
/* Field 22 of the whole of /proc/PID/stat, which must be one line ended by a newline. */
int procfs_read_starttime(pid_t pid, uint64_t *ret);
/*
 * The pid in its own (innermost) pid namespace: the last of the "NSpid:" line's values in
 * a whole /proc/PID/status of len bytes (NUL-free, its last line whole). 0 and *ret;
 * -ENOENT: no NSpid line (before Linux 4.1); -EINVAL: not the kernel's text.
 */
int procfs_status_ns_pid(const char *status, size_t len, pid_t *ret);
/* The same from the whole of /proc/PID/status; or -errno, -EFBIG of the read. */
int procfs_read_ns_pid(pid_t pid, pid_t *ret);

/*
 * "Pid:\t4242\n" in /proc/self/fdinfo/FD of a pidfd -> the pid in that /proc's namespace:
 * 0, -ESRCH ("-1": the process exited), -ENXIO ("0": not in that namespace), or -EINVAL
 * (no such line: not a pidfd; or not a number ended by a newline).
 */
int procfs_parse_fdinfo_pid(const char *fdinfo, pid_t *ret);
/*
 * One /proc/PID/net/tcp or tcp6 table (family AF_INET or AF_INET6) read from fd line by
 * line, header first: appends its LISTEN sockets on a loopback or any address to out from
 * *n on, every one counted, as sockdiag_parse() does. 0; -E2BIG (more than max), -EFBIG
 * (more than max_lines lines), -ETIMEDOUT (still reading at deadline_usec, CLOCK_MONOTONIC
 * in microseconds), -EINVAL (a line that is not the kernel's: not understood, longer than
 * 511 bytes, or the last one cut short), or -errno of read().
 */
int procfs_read_net_tcp(int fd, int family, size_t max_lines, uint64_t deadline_usec, struct procfs_listener *out,
			size_t max, size_t *n);
/*
 * The TCP listeners on a loopback or any address in the network namespace of the process
 * pidfd pins, from its /proc/PID/net/tcp and tcp6 (the pid from /proc/self/fdinfo, checked
 * again once /proc/PID is open): the slow way, for where sock_diag fails. Count, or as
 * procfs_read_net_tcp() with PROCFS_NET_TCP_LINES lines a table and PROCFS_NET_TCP_USEC
 * for both, or -ESRCH (the process exited), -EINVAL (not a pidfd), -errno.
 */
int procfs_netns_listeners(int pidfd, struct procfs_listener *out, size_t max);

#endif
