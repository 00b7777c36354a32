/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The kernel side's loader: open -> configure -> load -> attach the BPF
 * programs, and hand ring buffer events to a callback.
 */
#ifndef INSPECTD_TRACKER_H
#define INSPECTD_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "inspectd.h"

struct tracker;

typedef void (*tracker_event_fn)(void *ctx, const struct inspectd_event *e);

struct tracker_config {
	const char *const *match;       /* executable basenames */
	int nmatch;
	uint64_t trigger_sigmask;       /* bit N: signal N triggers */
	/* Trigger signals reported per target process: one each signal_interval_ms, up to
	 * signal_burst at once; the rest are counted as limited. 0: 500 ms and 4. */
	unsigned signal_interval_ms;
	unsigned signal_burst;
};

/* Counts since the tracker started: Prometheus counters. */
struct tracker_drops {
	uint64_t lost[INSPECTD_STREAM_COUNT];   /* events with no room in their ring, per stream */
	uint64_t signals_limited;               /* trigger signals over their target's rate */
	uint64_t track_failures;                /* node processes not tracked: the map was full */
};

/* Where the running kernel's BTF is: the kernel exposes it there when built with
 * CONFIG_DEBUG_INFO_BTF=y, and the tp_btf programs cannot load without it. */
#define TRACKER_KERNEL_BTF "/sys/kernel/btf/vmlinux"
/*
 * Whether this kernel has BTF, before anything is loaded: 0, or -errno of reading
 * TRACKER_KERNEL_BTF (-ENOENT: a kernel without BTF). Does not log.
 */
int tracker_kernel_btf(void);
struct tracker *tracker__new(const struct tracker_config *cfg, tracker_event_fn fn, void *ctx);
/* Readable when events wait in any of the ring buffers: put it in the event loop. */
int tracker__fd(const struct tracker *t);
/* Deliver waiting events (every ring buffer's) to the callback. Returns count or -errno. */
int tracker__consume(struct tracker *t);
/* "lifecycle", "signal", "rss", "oom"; NULL for no stream. */
const char *tracker_stream_name(enum inspectd_stream s);
/* The kernel side's counts of what it could not report, since start. */
void tracker__drops(const struct tracker *t, struct tracker_drops *ret);
/*
 * Find what lost lifecycle events hid, by comparing the kernel side's tracked map with the
 * caller's table: pids, the n processes the caller tracks, in any order. Call it from a
 * periodic tick, after tracker__consume() and with pids taken after it. Corrections come
 * through the event callback, as the events that were lost:
 *  - a pid in the map whose process is gone, or runs another program now (a lost EXIT, or
 *    an exec away from node): its entry is deleted, and EXIT delivered if pids has it;
 *  - a pid in the map, running, that pids lacks: EXEC;
 *  - a pid in pids that the map lacks: tracked again if it still runs a matching program,
 *    else EXIT;
 *  - after lifecycle events were lost since the last call, /proc is scanned for matching
 *    processes neither side tracks (a lost EXEC or FORK): EXEC for each.
 * A pid that is in one table only is corrected when the previous call saw it so too (an
 * event in flight must not be answered twice); every map entry's process is checked (one
 * read of /proc/PID/stat each) only after lifecycle events were lost.
 * Returns the number of events delivered, or -ENOMEM.
 */
int tracker__reconcile(struct tracker *t, const uint32_t *pids, size_t n);
/* Track node processes that started before us; reports each as an EXEC event. */
int tracker__scan_proc(struct tracker *t);
/* Arm the RSS marks of a tracked process (0 disarms one). */
int tracker__set_rss_marks(struct tracker *t, uint32_t pid, uint64_t high, uint64_t low);
/* Attach (on) or detach the rss_stat program, which sees every page fault on the host:
 * detached, RSS is read once per tick by the task iterator. */
int tracker__watch_rss(struct tracker *t, bool on);
bool tracker__rss_watched(const struct tracker *t);
/* Whether OOM_KILL events come (this kernel's mark_victim passes the victim's task); else
 * an OOM kill shows only as an EXIT with INSPECTD_EXIT_OOM_VICTIM. */
bool tracker__oom_events(const struct tracker *t);
/* The RSS the kernel side last saw for pid, in bytes; -ERANGE for a value no process can have. */
int tracker__rss(struct tracker *t, uint32_t pid, uint64_t *rss);
/* The same for every process the kernel side tracks, in one pass over its table (a few
 * system calls, not one a process): fn once per process, values no process can have left
 * out. Returns the processes read, or -errno (a kernel without batched lookups: -EINVAL,
 * -ENOTSUPP; then tracker__rss() a process). */
typedef void (*tracker_rss_fn)(void *ctx, uint32_t pid, uint64_t rss);
int tracker__read_rss(struct tracker *t, tracker_rss_fn fn, void *ctx);
/* Node processes the kernel side could not track (its map full) since the last call. */
uint64_t tracker__new_track_failures(struct tracker *t);
/* One pass of the task iterator: fn once per thread of each tracked process. Returns records or -errno. */
typedef void (*tracker_cpu_fn)(void *ctx, uint32_t tgid, uint64_t runtime_ns);
int tracker__read_cpu(struct tracker *t, tracker_cpu_fn fn, void *ctx);
/*
 * The handler pid (pinned by pidfd) has for SIGUSR1 now, read from its signal table by a
 * task iterator run for that process alone: *handler is sa_handler (0 SIG_DFL, 1 SIG_IGN,
 * else an address in the process). 0; -ESRCH (gone, or pidfd is not pid's), -errno.
 */
int tracker__sigusr1_handler(struct tracker *t, int pidfd, uint32_t pid, uint64_t *handler);
void tracker__free(struct tracker *t);

#endif
