/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The kernel side's loader: open -> configure -> load -> attach the BPF
 * programs, and hand ring buffer events to a callback.
 */
#ifndef INSPECTD_TRACKER_H
#define INSPECTD_TRACKER_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "inspectd.h"

struct tracker;

typedef void (*tracker_event_fn)(void *ctx, const struct inspectd_event *e);

struct tracker_config {
	const char *const *match;       /* executable basenames */
	int nmatch;
	uint64_t trigger_sigmask;       /* bit N: signal N triggers */
};

struct tracker *tracker__new(const struct tracker_config *cfg, tracker_event_fn fn, void *ctx);
/* Readable when events wait: put it in the event loop. */
int tracker__fd(const struct tracker *t);
/* Deliver waiting events to the callback. Returns count or -errno. */
int tracker__consume(struct tracker *t);
/* Track node processes that started before us; reports each as an EXEC event. */
int tracker__scan_proc(struct tracker *t);
/* Arm the RSS marks of a tracked process (0 disarms one). */
int tracker__set_rss_marks(struct tracker *t, uint32_t pid, uint64_t high, uint64_t low);
/* Attach (on) or detach the rss_stat program, which sees every page fault on the host:
 * detached, RSS is read once per tick by the task iterator. */
int tracker__watch_rss(struct tracker *t, bool on);
bool tracker__rss_watched(const struct tracker *t);
/* The RSS the kernel side last saw for pid, in bytes; -ERANGE for a value no process can have. */
int tracker__rss(struct tracker *t, uint32_t pid, uint64_t *rss);
/* Node processes the kernel side could not track (its map full) since the last call. */
uint64_t tracker__new_track_failures(struct tracker *t);
/* One pass of the task iterator: fn once per thread of each tracked process. Returns records or -errno. */
typedef void (*tracker_cpu_fn)(void *ctx, uint32_t tgid, uint64_t runtime_ns);
int tracker__read_cpu(struct tracker *t, tracker_cpu_fn fn, void *ctx);
void tracker__free(struct tracker *t);

#endif
