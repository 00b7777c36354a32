/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Which of a few socket inodes a process holds, found by reading its fd table a
 * bounded number of entries at a time, so that a target with a million open files
 * never holds the event loop: the caller steps the scan from a timer until it is
 * over. Only the sockets asked about are looked for; nothing is kept of the others.
 */
#ifndef INSPECTD_FDSCAN_H
#define INSPECTD_FDSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FDSCAN_INODES_MAX       16      /* inodes asked about in one scan */
#define FDSCAN_STEP             2048    /* fd entries read by one fdscan__step() */

struct fdscan;

/*
 * A scan of /proc/PID/fd for n inodes (at most FDSCAN_INODES_MAX). 0 and *ret;
 * -EINVAL (n 0 or too many), -ENOMEM, -errno from opening the folder (-ENOENT: gone).
 */
int fdscan__new(pid_t pid, const uint64_t *inodes, size_t n, struct fdscan **ret);
/*
 * Read up to max more entries. 1: over (the whole table read, or every inode found);
 * 0: more to read; -errno from reading the folder.
 */
int fdscan__step(struct fdscan *s, unsigned max);
/* Whether the scan found inode among the process's fds (so far). */
bool fdscan__holds(const struct fdscan *s, uint64_t inode);
/* Entries read so far. */
uint64_t fdscan__read(const struct fdscan *s);
void fdscan__free(struct fdscan *s);

#endif
