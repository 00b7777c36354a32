/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Profile kinds: which CDP commands start and stop each, and what the result
 * is saved as. A new kind (heap snapshot, trace) is a new entry here.
 */
#ifndef INSPECTD_PROFILE_H
#define INSPECTD_PROFILE_H

#include <stdint.h>
#include "inspector_session.h"
#include "settings.h"

enum profile_kind {
	PROFILE_HEAP,
	PROFILE_CPU,
	_PROFILE_KIND_MAX,
};

/* Response tags the capture reacts to. */
enum profile_tag {
	PROFILE_TAG_STEP = 1,           /* an intermediate command: only errors matter */
	PROFILE_TAG_STARTED,            /* the profiler runs in the target */
	PROFILE_TAG_STOPPED,            /* result.profile holds the profile */
	PROFILE_TAG_OTHER,              /* first tag free for the capture's own commands */
};

struct profile_ops {
	const char *name;               /* "heap", as on the command line and in logs */
	const char *type;               /* "heap-profile": file prefix and meta type */
	const char *extension;          /* "heapprofile" */
	const char *interval_name;      /* meta.json profile.sampling key */
	uint64_t (*interval)(const struct settings *st);
	/* Queue the commands that start it; the last carries PROFILE_TAG_STARTED. */
	int (*start)(struct inspector_session *s, const struct settings *st);
	/* Queue the commands that stop it; one carries PROFILE_TAG_STOPPED. */
	int (*stop)(struct inspector_session *s);
};

const struct profile_ops *profile_ops(enum profile_kind kind);

#endif
