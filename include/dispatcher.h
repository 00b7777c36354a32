/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * From kernel events to captures: keeps the table of tracked node processes,
 * turns trigger signals into capture starts and stops, and keeps one capture
 * per process at a time.
 */
#ifndef INSPECTD_DISPATCHER_H
#define INSPECTD_DISPATCHER_H

#include <stdbool.h>
#include "capture.h"
#include "inspectd.h"

struct dispatcher;

struct dispatcher *dispatcher__new(const struct capture_env *env);
/* The tracker's callback: one kernel event. */
void dispatcher__handle_event(void *ctx, const struct inspectd_event *e);
/* Stop every capture and export what was taken; no new ones start. */
void dispatcher__shutdown(struct dispatcher *d);
/* No capture in progress. */
bool dispatcher__idle(const struct dispatcher *d);
unsigned dispatcher__tracked(const struct dispatcher *d);
void dispatcher__free(struct dispatcher *d);

#endif
