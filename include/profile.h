/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Profile kinds: which CDP commands start and stop each, how much a target may
 * send while it runs, and where its result is. A new kind (heap snapshot,
 * trace) is a new entry in the table of src/profile/profile.c.
 *
 * A kind's result is never held: the capture streams the member of the stop
 * command's answer that result_key names (result.profile for both kinds here),
 * byte for byte as the target sent it, into a file of the spool.
 */
#ifndef INSPECTD_PROFILE_H
#define INSPECTD_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include "inspector_session.h"
#include "settings.h"

enum profile_kind {
	PROFILE_HEAP,
	PROFILE_CPU,
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

/* "heap", "cpu": as on the command line, in the API and in logs; "unknown" out of range. */
const char *profile_kind_name(enum profile_kind kind);
/* The kind of that name: 0, or -EINVAL. */
int profile_kind_from_name(const char *name, enum profile_kind *ret);

struct profile_ops {
	const char *type;               /* "heap-profile": file prefix and meta type */
	const char *extension;          /* "heapprofile" */
	const char *interval_name;      /* meta.json profile.sampling key */
	uint64_t (*interval)(const struct settings *st);
	/* Queue the commands that start it; the last carries PROFILE_TAG_STARTED. */
	int (*start)(struct inspector_session *s, const struct settings *st);
	/* Queue the commands that stop it; one carries PROFILE_TAG_STOPPED. */
	int (*stop)(struct inspector_session *s);
	/* The member of the PROFILE_TAG_STOPPED answer's result that is the profile. */
	const char *result_key;
	/* The largest CDP message accepted in each phase (PROFILE_BUDGET_*, or bytes). */
	size_t budget[_PROFILE_PHASE_MAX];
};

const struct profile_ops *profile_ops(enum profile_kind kind);
/* A phase's budget in bytes, PROFILE_BUDGET_RESULT resolved against the settings. */
size_t profile_budget(const struct profile_ops *ops, enum profile_phase phase, const struct settings *st);

#endif
