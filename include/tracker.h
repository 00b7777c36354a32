/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The kernel side's loader: open -> configure -> load -> attach the BPF
 * programs, and hand ring buffer events to a callback.
 */
#ifndef INSPECTD_TRACKER_H
#define INSPECTD_TRACKER_H

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
/* Stop tracking a pid (its exit may have been missed). */
void tracker__forget(struct tracker *t, uint32_t pid);
void tracker__free(struct tracker *t);

#endif
