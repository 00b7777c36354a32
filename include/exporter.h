/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Exporters: where a capture's files go once its profile is whole. One table of ops,
 * src/export/exporter.c; today it has one entry, the file exporter, which commits the
 * files the capture streamed into the spool under their final names in the output folder
 * (with meta.json), off the loop. An exporter that ships what was committed somewhere
 * else (pprof beside it, S3, Pyroscope) is a new entry.
 */
#ifndef INSPECTD_EXPORTER_H
#define INSPECTD_EXPORTER_H

#include <stddef.h>
#include "spool.h"

/* One capture's files: files[i] (a spool file) to become BASE.exts[i]; meta.json beside. */
struct export_request {
	const char *base;               /* from spool__reserve_base() */
	struct spool_file **files;      /* consumed (set to NULL) */
	const char *const *exts;
	size_t n;
	char *meta_json;                /* malloc()ed; consumed */
};

/* Over: result 0 or -errno; paths: the files' final paths, then meta.json's (n in all). */
typedef void (*export_done_fn)(void *ctx, int result, const char *const *paths, size_t n);

struct exporter_ops {
	const char *name;               /* "file", "pprof" */
	/* Take one capture's files. 0: done is called later, from the loop; -errno: refused,
	 * done is never called. Never blocks. */
	int (*submit)(struct spool *spool, struct export_request *req, export_done_fn done, void *ctx);
	/* The owner of ctx goes away: forget its done callbacks (the export still completes). */
	void (*cancel)(struct spool *spool, void *ctx);
};

/* The exporter every capture's files go to first. */
const struct exporter_ops *exporter_first(void);
/* The exporter of that name ("file", "pprof": the file exporter's commit with BASE.pb.gz
 * made from the profile beside it), or NULL. */
const struct exporter_ops *exporter_by_name(const char *name);

#endif
