/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Remote exporters: what ships a spooled commit (a profile, its derived files and its
 * meta.json; or a record alone) to somewhere else than the output folder. One table of
 * ops (src/export/outbox.c); each entry runs on a thread of its own ("inspectd-s3",
 * "inspectd-pyroscope"), which calls deliver() for one commit at a time and may block
 * there (bounded by its own timeouts and by stop). Nothing of the loop's is touched.
 */
#ifndef INSPECTD_DELIVERY_H
#define INSPECTD_DELIVERY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

/* Files in one delivery: a commit's (SPOOL_COMMIT_FILES_MAX) and its meta.json. */
#define DELIVERY_FILES_MAX 9

struct delivery_file {
	const char *name;       /* the file's name in the output folder: "BASE.heapprofile" */
	const char *ext;        /* what follows "BASE.": "heapprofile", "pb.gz", "meta.json", "json" */
	uint64_t size;          /* when the commit was read; the file is opened afresh */
};

/*
 * One spooled commit, read from the output folder. Everything here is borrowed for the
 * duration of deliver(). Files are opened by the exporter with
 * openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), checked to be regular, and
 * streamed: never read whole into memory (a file may be tens of GB).
 */
struct delivery {
	int dirfd;                              /* the output folder */
	const char *base;                       /* "heap-profile-api-4242-20261201T101500Z" */
	const char *kind;                       /* meta's profile.type ("heap-profile",
						 * "cpu-profile"...) or a record's event ("oom-kill") */
	const struct delivery_file *files;      /* the commit's files; meta.json (or the record) last */
	size_t n_files;
	const struct cJSON *meta;               /* meta.json (or the record), parsed; read only */
	const char *hostname;                   /* this host's */
	int64_t committed_at;                   /* unix seconds: meta.json's mtime */
	const atomic_bool *stop;                /* set at shutdown: abort what is under way, return -ECANCELED */
};

struct remote_exporter_ops {
	const char *name;       /* "s3", "pyroscope": the state folder's and the metric's name */
	/* Whether the commit is for this exporter at all (Pyroscope: heap and CPU profiles
	 * with a pprof beside them). Pure. */
	bool (*wants)(const struct delivery *d);
	/*
	 * On the exporter's thread: deliver the whole commit, blocking. 0 only when the server
	 * confirmed every object; else -errno and err (one line for the log, naming what
	 * failed, never a secret): the commit is tried again later. Safe to repeat.
	 */
	int (*deliver)(void *state, const struct delivery *d, char *err, size_t errsize);
	void (*free)(void *state);
};

#endif
