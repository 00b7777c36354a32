/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Where profiles go, as the settings say: the spool's commits (the file exporter, with
 * pprof beside them when asked) and the remote exporters that ship them elsewhere (a
 * table: S3, Pyroscope), each behind the outbox. The agent's side of it: builds the
 * remote exporters from the settings, observes the spool, logs what the outbox and the
 * spool's retention did (one line each), and answers the status of every exporter.
 * On the loop.
 */
#ifndef INSPECTD_EXPORTS_H
#define INSPECTD_EXPORTS_H

#include <stddef.h>

#include "outbox.h"
#include "settings.h"
#include "spool.h"

struct exports;

/*
 * Observe spool; with a remote exporter in settings, build each and start the outbox
 * (which reads what is still to deliver in the folder). Call before the first commit.
 * Returns 0 and *ret; -EINVAL with why: a remote exporter's settings are wrong (why says
 * which); -errno from the outbox (why says so).
 */
int exports__new(const struct settings *st, const char *hostname, struct spool *spool, struct exports **ret,
		 char *why, size_t size);
/* The outbox's fd (-1 without remote exporters): poll it, then call exports__dispatch(). */
int exports__fd(const struct exports *ex);
void exports__dispatch(struct exports *ex);
/* Every exporter's row: "file", "pprof" when on, then the remote ones, from
 * *first_remote on. At most max. */
size_t exports__status(struct exports *ex, struct outbox_status *out, size_t max, size_t *first_remote);
/* Stops the remote exporters (pending commits stay pending on disk). Takes NULL. */
void exports__free(struct exports *ex);

/* The names of the remote exporters the agent has, for --help and messages. */
#define EXPORTS_ROWS_MAX (2 + OUTBOX_EXPORTERS_MAX)

#endif
