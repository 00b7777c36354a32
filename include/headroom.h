/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Whether a V8 heap snapshot fits in the memory left to the process it is taken of
 * (issue 11). A snapshot is built inside the target: it can take the target, or its
 * container, past its memory limit, and a process killed for a snapshot is worse than no
 * snapshot. Before one, headroom_read() reads the target's RSS, the room its cgroups leave
 * it and the host's available memory; the caller adds the used JS heap
 * (Runtime.getHeapUsage); headroom_judge() estimates the snapshot's peak and says whether
 * it fits, or why not (the caller then takes a heap sampling profile instead).
 *
 * The model (tests/bench/snapshot-model.js measures it: `make bench`, part 12):
 *
 *     estimate = max(factor x usedSize, HEADROOM_FLOOR)
 *     allowed  = estimate <= room
 *
 * usedSize is Runtime.getHeapUsage's, before the snapshot (garbage included: the snapshot
 * collects it first, so it only makes the estimate larger). What a snapshot costs is V8's
 * snapshot generator (v8.writeHeapSnapshot() in the process costs the same as the
 * inspector's chunks), about 610-1460 bytes of RSS per object in the snapshot whatever the
 * node major (20, 22, 24, 26): the cost follows the count of objects, and usedSize is the
 * only size at hand. Measured on heaps of 20-190 MiB (RSS peak minus RSS before / usedSize):
 *
 *     few big arrays of doubles, typed arrays     0.2-0.6x   (few objects, many bytes)
 *     node's own heap (nothing built, ~4 MiB)     +31-54 MiB (10-13x)
 *     distinct short strings                      17-22x
 *     objects {a:i, b:'x'+i}; with two doubles    22-24x; 20-24x
 *     a Map of such objects                       23-29x
 *     an array of boxed doubles (HeapNumbers)     43-51x, ~53x as the heap grows
 *
 * The smallest object that is a node of its own is a HeapNumber, 16 bytes and an 8-byte
 * reference: at the most a node was measured to cost (1.46 KB), 61x. The default factor,
 * 64, covers every shape measured and that bound; a heap of ordinary objects takes 2.7x
 * less, so a refusal may be one a snapshot would have survived: the fallback is a heap
 * sampling profile, while a snapshot that does not fit gets the target OOM-killed. The
 * floor covers node's own heap. --snapshot-headroom lowers the factor for heaps known to
 * be mostly bytes (0: no check).
 *
 * Room: the least, over the target's memory cgroup and each ancestor that sets a limit
 * (v1 memory.limit_in_bytes, v2 memory.max; in v1 the walk stops below an ancestor whose
 * memory.use_hierarchy is 0, which does not charge its children), of that limit minus
 * what counts against it, its working set as kubelet computes it: v2 memory.current
 * minus memory.stat's inactive_file, v1 memory.usage_in_bytes minus total_inactive_file
 * (0 when the inactive file pages exceed the usage). Never more than the host's
 * MemAvailable; without any limit, MemAvailable.
 *
 * Everything read comes from files a container influences (its cgroup path; a delegated
 * subtree's files): paths are validated (cgroup_parse_proc()), opened one component at a
 * time below the hierarchy's root with O_NOFOLLOW (no symlink is followed out of the
 * tree), files opened O_NOFOLLOW|O_NONBLOCK and read only when regular, within a few KiB,
 * and parsed strictly. Nothing here logs; reason carries the numbers for the caller's line.
 */
#ifndef INSPECTD_HEADROOM_H
#define INSPECTD_HEADROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"

/* The smallest estimate, whatever the heap (or a target that says its heap is empty):
 * a snapshot of node's own heap, nothing built, took 31-54 MiB. */
#define HEADROOM_FLOOR          (UINT64_C(64) << 20)
/* --snapshot-headroom's default factor (see the model above). */
#define HEADROOM_DEFAULT_FACTOR 64.0
/* Deeper cgroup paths are refused (-E2BIG): so many levels, three small files each. */
#define HEADROOM_MAX_DEPTH      64
/* memory.stat is about 1.5 KiB (v1 with its total_ lines); /proc/meminfo about 1.5 KiB. */
#define HEADROOM_STAT_MAX       (16 * 1024)

struct headroom {
	uint64_t heap_used;             /* usedSize of Runtime.getHeapUsage: set by the caller */
	uint64_t heap_total;            /* totalSize: set by the caller */
	uint64_t rss;                   /* the target's RSS now */
	uint64_t limit;                 /* the limit of the cgroup that leaves the least room; 0: none
					 * (a memory.max of 0 reads as 1) */
	uint64_t usage;                 /* that cgroup's working set (0 without a limit) */
	uint64_t host_available;        /* MemAvailable of /proc/meminfo */
	char limit_source[256];         /* the file limit came from (cut to fit), or "/proc/meminfo" */
};

/*
 * Fill rss (/proc/PID/statm), limit, usage and limit_source (from /proc/PID/cgroup and the
 * hierarchies at roots; roots or either of its members may be NULL: no such hierarchy),
 * and host_available (/proc/meminfo) for pid; heap_used and heap_total are left as they
 * are. Returns 0; -ESRCH: the process is gone; -ENOENT: a cgroup of its vanished
 * meanwhile (it moved, or is exiting), or a limit's usage or memory.stat is missing;
 * -EINVAL: a file that is not the kernel's text (garbage, not a regular file, a symlink
 * on the way) or an invalid cgroup path; -E2BIG:
 * a cgroup path deeper than HEADROOM_MAX_DEPTH; -ENAMETOOLONG; -ENOMEM; another -errno
 * of open() or read(). On failure *h's read fields are unspecified: judge nothing then.
 */
int headroom_read(const struct cgroup_roots *roots, pid_t pid, struct headroom *h);

/*
 * The cgroup part of headroom_read(), for the cgroup paths of /proc/PID/cgroup (v1 memory
 * controller's and v2's, as cgroup_parse_proc() returns them; NULL or "": not in that
 * hierarchy): limit, usage and limit_source, "" and 0s when no limit applies. Returns as
 * headroom_read() (-ENOENT: a cgroup directory is missing; -EINVAL also for an invalid path).
 */
int headroom_read_cgroups(const struct cgroup_roots *roots, const char *v1_path, const char *v2_path,
			  struct headroom *h);

/* The parsers, pure. Each returns 0 or -EINVAL (not the kernel's text). */
/* /proc/PID/statm: seven decimal numbers, one space apart, a newline; the second (resident
 * pages) times page_size in *rss (-EOVERFLOW when that does not fit). */
int headroom_parse_statm(const char *text, uint64_t page_size, uint64_t *rss);
/* /proc/meminfo: "MemAvailable:   N kB" in bytes (-ENOENT: no such line, before Linux 3.14). */
int headroom_parse_meminfo(const char *text, uint64_t *available);
/* memory.stat: the value of the line "key N" (-ENOENT: no such line). Every line must be
 * a name, one space, a decimal number and a newline. */
int headroom_parse_memory_stat(const char *text, const char *key, uint64_t *ret);

struct headroom_verdict {
	bool allowed;
	uint64_t estimate;              /* the snapshot's estimated peak, bytes over the RSS now */
	uint64_t room;                  /* what the target may still take, bytes */
	char reason[256];               /* the decision with its numbers in MiB, for a log line */
};

/*
 * Pure: whether a snapshot fits, by the model above. factor 0: always allowed, unchecked
 * (reason says so); factor negative, NaN or infinite: refused. Saturating arithmetic: no
 * value of *h overflows.
 */
void headroom_judge(const struct headroom *h, double factor, struct headroom_verdict *v);

#endif
