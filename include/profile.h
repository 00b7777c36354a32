/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Profile kinds: which CDP commands start and stop each, how much a target may
 * send in each phase, and which values of which messages are its files. A new kind
 * (heap snapshot, trace) is a new entry in the table of src/profile/profile.c.
 *
 * A kind's result is never held: the capture streams the values the kind's watch
 * names (result.profile of the stop answer for the two kinds here; a snapshot's
 * params.chunk of every HeapProfiler.addHeapSnapshotChunk event, say), byte for byte
 * or decoded, into files of the spool, and keeps them only for the messages the
 * kind's event and result hooks accept.
 */
#ifndef INSPECTD_PROFILE_H
#define INSPECTD_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cdp_reader.h"
#include "inspector_session.h"
#include "settings.h"

enum profile_kind {
	PROFILE_HEAP,                   /* heap sampling profile */
	PROFILE_CPU,                    /* CPU sampling profile */
	PROFILE_HEAP_SNAPSHOT,          /* the whole heap, the target paused while it is taken */
	PROFILE_ALLOCATION_TIMELINE,    /* every allocation with its stack, then a snapshot */
	PROFILE_TRACE,                  /* trace events of the asked-for categories */
	_PROFILE_KIND_MAX,
};

/* Where a capture is, as far as what the target may send it is concerned. */
enum profile_phase {
	PROFILE_PHASE_STARTING,         /* start commands sent, not all answered */
	PROFILE_PHASE_RUNNING,
	PROFILE_PHASE_STOPPING,         /* stop commands sent: the answer carrying the result is due */
	_PROFILE_PHASE_MAX,
};

/* Response tags the capture reacts to. */
enum profile_tag {
	PROFILE_TAG_STEP = 1,           /* an intermediate command: only errors matter */
	PROFILE_TAG_STARTED,            /* the profiler runs in the target */
	PROFILE_TAG_STOPPED,            /* result.<result_key> holds the profile */
	PROFILE_TAG_OTHER,              /* first tag free for the capture's own commands */
};

/* A budget that means "the largest profile the settings allow" (--max-profile-size). */
#define PROFILE_BUDGET_RESULT   SIZE_MAX
/* Any other CDP message: an answer to a command, or an event nobody asked for. */
#define PROFILE_BUDGET_SMALL    (2u * 1024 * 1024)

/* "heap", "cpu", "heap-snapshot", "allocation-timeline", "trace": as on the command line, in the API and in logs; "unknown" out of range. */
const char *profile_kind_name(enum profile_kind kind);
/* The kind of that name: 0, or -EINVAL. */
int profile_kind_from_name(const char *name, enum profile_kind *ret);
/* "heap, cpu, ... or trace" into buf (truncated to size), each name between quote and quote
 * ("" for none), for a message that says what a kind may be. Returns buf. */
const char *profile_kind_list(char *buf, size_t size, const char *quote);
/* Taken at once, over when the target has sent it (a heap snapshot): no duration to ask for,
 * and its signal takes one rather than toggling a capture on and off. */
bool profile_kind_instantaneous(enum profile_kind kind);

/* Files one capture of a kind may write (meta.json aside). */
#define PROFILE_OUTPUTS_MAX     4

struct profile_ops {
	const char *type;               /* "heap-profile": file prefix and meta type */
	const char *interval_name;      /* meta.json profile.sampling key */
	uint64_t (*interval)(const struct settings *st);
	/* The files it writes, by output index: their extensions, NULL-terminated. */
	const char *const *outputs;
	/* Queue the commands that start it; the last carries PROFILE_TAG_STARTED. */
	int (*start)(struct inspector_session *s, const struct settings *st);
	/* Queue the commands that stop it; one carries PROFILE_TAG_STOPPED. */
	int (*stop)(struct inspector_session *s);
	/*
	 * A CDP message begins in this phase: which of its values to stream (w->path and
	 * w->mode; the capture sets the sink), into which output. The output's index, or -1
	 * to stream nothing. Bytes streamed from a message that the hooks below do not keep
	 * are dropped again.
	 */
	int (*watch)(enum profile_phase phase, struct cdp_reader_watch *w);
	/* An event, read whole: 1 to keep what it streamed, 0 to drop it, -errno to fail the capture. */
	int (*event)(enum profile_phase phase, const struct cdp_reader_header *h);
	/* The answer to the PROFILE_TAG_STOPPED command, read whole: 0 when the result is whole, -errno if not. */
	int (*result)(const struct cdp_reader_header *h);
	/* The largest CDP message accepted in each phase (PROFILE_BUDGET_*, or bytes). */
	size_t budget[_PROFILE_PHASE_MAX];
};

const struct profile_ops *profile_ops(enum profile_kind kind);
/* A phase's budget in bytes, PROFILE_BUDGET_RESULT resolved against the settings. */
size_t profile_budget(const struct profile_ops *ops, enum profile_phase phase, const struct settings *st);

#endif
