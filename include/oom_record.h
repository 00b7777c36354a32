/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The record an OOM kill of a tracked process leaves in the output folder,
 * oom-kill-<pid>-<UTC yyyymmddTHHMMSSZ>.json (with the container's name before the pid, as
 * profiles have it, meta_file_base()): who died, under which limit, how its RSS
 * grew over its last minutes, and the files of its captures meanwhile. Pure: the
 * dispatcher gathers, this builds.
 */
#ifndef INSPECTD_OOM_RECORD_H
#define INSPECTD_OOM_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "container.h"

#define OOM_RECORD_PREFIX       "oom-kill"
#define OOM_RECORD_EXT          "json"

/* How the agent learnt of the kill. */
enum oom_detected_by {
	OOM_BY_MARK_VICTIM,     /* the OOM killer's oom/mark_victim tracepoint */
	OOM_BY_EXIT,            /* the process's exit, marked as the OOM killer's victim */
	_OOM_BY_MAX,
};

/* "mark_victim", "exit"; NULL out of range. */
const char *oom_detected_by_name(enum oom_detected_by by);

struct oom_record_capture {
	unsigned job;                   /* rendered "c-%06u", as the API names it */
	const char *kind;               /* "heap", "cpu" */
	struct timespec ended_at;       /* CLOCK_REALTIME */
	const char *const *files;       /* full paths */
	unsigned n_files;
};

struct oom_record {
	int pid;
	const char *comm;
	char *const *argv;              /* argc strings */
	int argc;
	const char *hostname;
	const struct container_info *container; /* "container" and "kubernetes" as meta.json's; NULL or
						 * id "": both null */
	const char *cgroup;             /* "" when not known */
	uint64_t memory_limit;          /* bytes; 0: none known ("memory_limit_bytes": null) */
	struct timespec killed_at;      /* CLOCK_REALTIME, when the agent learnt of it */
	uint64_t ktime_ns;              /* the kernel event's, CLOCK_MONOTONIC */
	enum oom_detected_by detected_by;
	bool has_victim;                /* mark_victim's facts follow */
	uint64_t rss_at_kill;           /* bytes, the kernel's counters at the kill */
	int oom_score_adj;
	uint32_t invoked_by_pid;        /* the task whose allocation invoked the OOM killer */
	const char *invoked_by_comm;
	const char *rss_timeline_json;  /* "[[unix_ms,bytes],...]" from rss_timeline_format_json(), put in
					 * as it is (it must be JSON); NULL: [] */
	const struct oom_record_capture *captures;
	size_t n_captures;
};

/* The record's document; NULL when out of memory. */
cJSON *oom_record_build(const struct oom_record *r);

#endif
