/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The outbox: what of the spool the remote exporters (include/delivery.h) have still to
 * deliver, and their delivering, each on a thread of its own ("inspectd-s3"...).
 *
 * A commit in the output folder (BASE.meta.json and the files its profile.files lists,
 * or a record BASE.json alone, BASE one of the agent's names: meta_is_file_base()) is,
 * for each remote exporter, pending, delivered or failed. The state is kept on disk, in
 * the folder's hidden subfolder .outbox/EXPORTER/: an empty-ish file BASE.delivered once
 * the server confirmed every object of the commit, BASE.failed once it was given up
 * (--export-retry-max after it was committed), BASE.unwanted once the exporter's wants()
 * said the commit is not for it (a heap snapshot for Pyroscope: never delivered, never
 * failed, never read again for it); none of them: pending. Each is written synced
 * and renamed into place. A restarted agent reads them back (outbox__new()) and goes on
 * with what was pending: nothing delivered is sent again, nothing pending is forgotten.
 * Markers of commits that are gone are removed then.
 *
 * Each exporter's thread takes its pending commits oldest first. A failed delivery puts
 * the commit at the back of the queue and makes the whole exporter wait (a server that
 * is down is down for every commit): exponential backoff with jitter, from
 * retry_initial_ms up to 10 minutes, reset by any success. A commit not delivered
 * retry_max_ms after it was committed is given up. Without keep_local, a commit that
 * every remote exporter wanting it has delivered is removed from the folder.
 *
 * Threads: outbox__new(), __committed(), __fd(), __dispatch(), __status() and __free()
 * on the loop; outbox__rank() on any thread (the spool's writer asks it). Does not log:
 * the loop is told what happened through noted(), from outbox__dispatch().
 */
#ifndef INSPECTD_OUTBOX_H
#define INSPECTD_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "delivery.h"

#define OUTBOX_DIR            ".outbox"
#define OUTBOX_EXPORTERS_MAX  4
#define OUTBOX_ERROR_SIZE     384
/* Commits pending per exporter; beyond it the newest wait for the next start (and the
 * spool's bytes bound what the folder holds long before that). */
#define OUTBOX_PENDING_MAX    65536

struct outbox;

enum outbox_event_kind {
	OUTBOX_DELIVERED,       /* the server confirmed the commit */
	OUTBOX_RETRY,           /* a delivery failed; it will be tried again */
	OUTBOX_GAVE_UP,         /* not delivered within retry_max_ms: BASE.failed */
	OUTBOX_UNREADABLE,      /* a commit the exporter cannot read (its meta.json): left alone */
	OUTBOX_REMOVED,         /* delivered everywhere, removed from the folder (no keep_local) */
	_OUTBOX_EVENT_MAX,
};

const char *outbox_event_name(enum outbox_event_kind k);

struct outbox_event {
	enum outbox_event_kind kind;
	const char *exporter;           /* its name */
	const char *base;
	unsigned attempts;              /* of this commit, this one included */
	int result;                     /* -errno, for RETRY, GAVE_UP and UNREADABLE */
	const char *error;              /* what the exporter said ("" when nothing) */
	uint64_t bytes;                 /* REMOVED: the bytes removed */
	uint64_t delay_ms;              /* RETRY: until the exporter tries again */
};

struct outbox_remote {
	const struct remote_exporter_ops *ops;
	void *state;                    /* consumed: ops->free() at outbox__free() (or on failure) */
};

struct outbox_config {
	const char *dir;                /* the output folder (the spool's) */
	const char *hostname;
	uint64_t retry_initial_ms;      /* 0: 5 s */
	uint64_t retry_max_ms;          /* give a commit up this long after it was committed; 0: 24 h */
	bool keep_local;
	struct outbox_remote remotes[OUTBOX_EXPORTERS_MAX];
	size_t n_remotes;
	/* On the loop, from outbox__dispatch(). */
	void (*noted)(void *ctx, const struct outbox_event *ev);
	void *ctx;
};

/*
 * Read the state of every commit in the folder for each exporter, and start one thread
 * per exporter. The remotes' states are consumed whatever the result.
 * Returns 0 and *ret; -EINVAL: no remotes, more than OUTBOX_EXPORTERS_MAX, a name that is
 * not a plain word; -errno from opening or making the folder's .outbox/NAME/ (it must be
 * root's alone, as the folder), from reading them, eventfd() or pthread_create().
 */
int outbox__new(const struct outbox_config *cfg, struct outbox **ret);

/* A commit landed in the spool: base (with BASE.meta.json, or BASE.json a record). */
void outbox__committed(struct outbox *ob, const char *base, int64_t committed_at);

/* Retention removed the commit base: its markers go too. NULL: commits too many to name
 * were removed; the markers of every commit gone are looked for, on a thread. */
void outbox__forget(struct outbox *ob, const char *base);

/* Readable when events wait: poll it on the loop, then call outbox__dispatch(). */
int outbox__fd(const struct outbox *ob);
void outbox__dispatch(struct outbox *ob);

/*
 * For the spool's retention, on any thread: 0 when the commit is elsewhere (one remote
 * exporter at least wants it, and every one that does has delivered it) or is nothing an
 * exporter could deliver (gone, unreadable); 1 otherwise (pending, given up: the folder
 * has the only copy; wanted by none; or it could not be read just now). Reads the
 * markers on disk.
 */
int outbox__rank(struct outbox *ob, const char *base);

struct outbox_status {
	const char *name;
	uint64_t pending, delivered, failed;    /* commits; delivered and failed since start */
	uint64_t attempts_failed;               /* deliveries that failed, since start */
	int64_t oldest_pending_at;              /* unix s, committed_at of the oldest; 0: none */
	uint64_t retry_in_ms;                   /* until the exporter tries again after failures; 0: not waiting */
	unsigned consecutive_failures;
	char last_error[OUTBOX_ERROR_SIZE];     /* the last failure's, "" when the last delivery succeeded */
};

/* The state of each exporter (at most max): the count written. */
size_t outbox__status(struct outbox *ob, struct outbox_status *out, size_t max);

/* Stop every delivery under way (each gives up its transfer at once), join the threads,
 * free ob. Pending commits stay pending on disk. Takes NULL. */
void outbox__free(struct outbox *ob);

/* Pure: the wait after the n-th consecutive failure (n >= 1): initial_ms * 2^(n-1), at
 * most max_ms, then scaled by a factor between 0.5 and 1 (jitter01 in [0, 1)). */
uint64_t outbox_backoff_ms(unsigned n, uint64_t initial_ms, uint64_t max_ms, double jitter01);

#endif
