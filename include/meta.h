/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What goes beside every profile: file names and the .meta.json document. Pure. */
#ifndef INSPECTD_META_H
#define INSPECTD_META_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "container.h"

struct meta_trigger {
	const char *kind;               /* "signal" */
	const char *signal;             /* "SIGWINCH" */
	uint32_t sender_pid;            /* host pid namespace */
	uint32_t sender_ns_pid;         /* as the sender sees itself */
	const char *sender_comm;
	uint64_t ktime_ns;              /* kernel event, CLOCK_MONOTONIC */
	double latency_ms;              /* kernel event -> profiler start acknowledged */
	double queued_ms;               /* kernel event -> the start of its turn (its wait in the queue) */
	bool has_threshold;             /* threshold triggers: */
	const char *unit;               /* "bytes", "percent" */
	double threshold;               /* as configured for this process */
	double observed;                /* the value that crossed it */
	const char *detected_by;        /* "rss_stat": at the fault; "tick": by the 1 s task iterator */
};

struct meta_profile {
	const char *type;               /* "heap-profile", "cpu-profile" */
	struct timespec started_at;     /* CLOCK_REALTIME */
	struct timespec ended_at;
	const char *interval_name;      /* "sampling_interval_bytes"; NULL: not sampled (no "sampling") */
	uint64_t interval;
	const char *stop_reason;        /* "signal", "max-duration", ... */
	uint64_t requested_duration_usec;       /* how long it was asked to run; 0: until stopped (null) */
};

struct meta_process {
	int pid;
	const char *comm;
	char *const *argv;
	int argc;
	const char *exe;
	const char *node_version;
	const char *hostname;
	const struct container_info *container; /* NULL or id "": "container": null; "kubernetes" too */
	int ns_pid;                     /* its pid in its own pid namespace; 0: unknown (null) */
	const char *boot_id;            /* /proc/sys/kernel/random/boot_id; NULL or "": null */
};

/* The longest container part of a file name. */
#define META_FILE_PART_MAX      63

/* "2026-11-23T08:55:01.123Z" */
int meta_format_rfc3339(struct timespec ts, char *buf, size_t size);
/*
 * s as a part of a file name: [A-Za-z0-9._-] kept, each run of any other bytes one '_',
 * cut to META_FILE_PART_MAX (and size - 1). 0; -EINVAL (buf ""): s NULL, or nothing left
 * but "", ".", ".." or "_".
 */
int meta_file_part(const char *s, char *buf, size_t size);
/*
 * "<prefix>-<container>-<pid>-<yyyymmddTHHMMSSZ>", container through meta_file_part();
 * "<prefix>-<pid>-<...>" when container is NULL or has no part. 0, -EINVAL, -ENOBUFS.
 */
int meta_file_base(const char *prefix, const char *container, int pid, time_t when, char *buf, size_t size);
/* Whether base is one meta_file_base() makes, or that with spool__reserve_base()'s "-1" to
 * "-999": the commits of the agent's own, which the output quota's retention may remove. */
bool meta_is_file_base(const char *base);
cJSON *meta_build(const struct meta_process *p, const struct meta_trigger *t, const struct meta_profile *prof);

#endif
