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
	PROFILE_TAG_FLUSHED,            /* the kind's flush command: everything was sent before its answer */
	PROFILE_TAG_OTHER,              /* first tag free for the capture's own commands */
};

/* A budget that means "the largest profile the settings allow" (--max-profile-size). */
#define PROFILE_BUDGET_RESULT   SIZE_MAX
/* Any other CDP message: an answer to a command, or an event nobody asked for. */
#define PROFILE_BUDGET_SMALL    (2u * 1024 * 1024)
/* One piece of a streamed kind: V8 sends snapshot chunks of 100 KiB, node trace
 * batches of a few hundred KiB; far more is not a piece. */
#define PROFILE_BUDGET_CHUNK    (16u * 1024 * 1024)
#define PROFILE_BUDGET_BATCH    (64u * 1024 * 1024)

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
/* What kind costs the target, in one sentence, for the costly ones; else NULL. */
const char *profile_kind_cost(enum profile_kind kind);

/* Files one capture of a kind may write (meta.json aside). */
#define PROFILE_OUTPUTS_MAX     4

/*
 * Finds "node_count":N at the start of a heap snapshot as its bytes stream past (the
 * snapshot's object count): the first PROFILE_COUNT_WINDOW bytes only.
 */
#define PROFILE_COUNT_WINDOW    (1u << 20)
struct profile_count_scan {
	uint64_t seen;                  /* bytes looked at */
	unsigned matched;               /* of the key */
	bool in_digits, done;
	uint64_t value;                 /* valid once done and found */
	bool found;
};
void profile_count_scan(struct profile_count_scan *cs, const char *buf, size_t len);

/* What sets a kind apart, as bits of profile_ops.flags. */
enum {
	/* Over as soon as it runs: stopped at once, no duration (a heap snapshot). */
	PROFILE_INSTANT         = 1 << 0,
	/* Its files are large: --max-snapshot-size caps them, --compress writes them .gz. */
	PROFILE_LARGE           = 1 << 1,
	/* It ends with a heap snapshot: the target's headroom is judged before it starts
	 * (headroom.h), a heap sampling profile taken instead when it is short, and the
	 * target's RSS watched while it runs. */
	PROFILE_SNAPSHOT        = 1 << 2,
	/* While stopping, the target sends pieces for as long as it needs: what ends the
	 * wait is --snapshot-stall-timeout without any message, not a fixed time. */
	PROFILE_STREAMS         = 1 << 3,
	/* Costly in the target all the while it runs: never longer than --capture-seconds. */
	PROFILE_COSTLY          = 1 << 4,
};

/*
 * How an output's file is framed. Without items, the watched values' bytes follow each
 * other as sent. With items, each watched value is a JSON array and the file one array
 * of all their items: head, the items joined by commas, tail.
 */
struct profile_framing {
	const char *head;               /* written first ("{\"traceEvents\":[") */
	const char *tail;               /* written last ("]}") */
	bool items;
};

struct profile_ops {
	const char *type;               /* "heap-profile": file prefix and meta type */
	unsigned flags;                 /* PROFILE_INSTANT, ... */
	const char *interval_name;      /* meta.json profile.sampling key; NULL: not sampled */
	uint64_t (*interval)(const struct settings *st);
	/* The files it writes, by output index: their extensions, NULL-terminated. */
	const char *const *outputs;
	/* Output 0's framing; NULL: the bytes as sent. */
	const struct profile_framing *framing;
	/* Queue the commands that start it; the last carries PROFILE_TAG_STARTED.
	 * categories: the trace categories asked for, never NULL ("" for none). */
	int (*start)(struct inspector_session *s, const struct settings *st, const char *categories);
	/* Queue the commands that stop it; one carries PROFILE_TAG_STOPPED. */
	int (*stop)(struct inspector_session *s);
	/*
	 * NULL, or: the stop was answered, but the target may still send what it owes
	 * (node posts its last trace batches after answering NodeTracing.stop): queue one
	 * command carrying PROFILE_TAG_FLUSHED whose answer comes after all of it.
	 */
	int (*flush)(struct inspector_session *s);
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
