/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * OOM kills of tracked processes into records (oom-kill-<pid>-<stamp>.json, oom_record.h):
 * the hourly caps, and the gathering of what the record says of a process (its command
 * line, limit, RSS timeline and captures), handed to the spool's thread. No logging: the
 * caller says what happened, once.
 *
 * A container's processes can be OOM-killed in a loop, and so control their rate: at most
 * OOM_KILLS_PER_CONTAINER_HOUR records of one tenant (processes_tenant_key()) and
 * OOM_KILLS_PER_HOUR of the host within any hour. The caps are pure (times are the
 * caller's, microseconds on one monotonic clock).
 */
#ifndef INSPECTD_OOM_KILLS_H
#define INSPECTD_OOM_KILLS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>      /* inspectd.h's */

#include "cgroup.h"
#include "inspectd.h"
#include "oom_record.h"
#include "spool.h"

#define OOM_KILLS_PER_CONTAINER_HOUR    6
#define OOM_KILLS_PER_HOUR              60

struct oom_kills;
struct processes;
struct process;

/* What became of a kill's record: the labels of inspectd_oom_records_total{outcome}. */
enum oom_kill_outcome {
	OOM_KILL_WRITTEN,       /* handed to the spool's thread: its end is told to done() */
	OOM_KILL_LIMITED,       /* over a cap: none */
	OOM_KILL_FAILED,        /* it could not be built or handed over */
	_OOM_KILL_OUTCOME_MAX,
};

/* "written", "limited", "failed"; NULL out of range. */
const char *oom_kill_outcome_name(enum oom_kill_outcome o);

struct oom_kill_result {
	enum oom_kill_outcome outcome;
	char name[SPOOL_BASE_SIZE + 8]; /* WRITTEN: the record's file name in the output folder */
	bool first_limited;             /* LIMITED: the first of its tenant within the hour */
};

/*
 * spool: the output folder, borrowed (NULL: the caps alone, every record FAILED with
 * -EINVAL); hostname and roots borrowed for the
 * table's life. done(ctx, ...) is told each record's end on disk (spool_done_fn: result
 * 0 or -errno, the record's path), from spool__dispatch(). NULL only when out of memory.
 */
struct oom_kills *oom_kills__new(struct spool *spool, const char *hostname, const struct cgroup_roots *roots,
				 spool_done_fn done, void *ctx);
/* Takes NULL. Records in flight still complete; done is not called for them. */
void oom_kills__free(struct oom_kills *k);

/*
 * The caps' decision for one kill of tenant at now_usec: 0, counted against both caps;
 * -EDQUOT: its tenant's or the host's hour is full (nothing counted), *ret_first true for
 * the first such of tenant within the hour (for the caller to say once); -ENOMEM.
 */
int oom_kills__take(struct oom_kills *k, const char *tenant, uint64_t now_usec, bool *ret_first);
/* Forget what no longer counts at now_usec (the tick). */
void oom_kills__expire(struct oom_kills *k, uint64_t now_usec);

/*
 * p (a process of ps) was OOM-killed, as event e (an OOM_KILL with the victim's facts when
 * by is OOM_BY_MARK_VICTIM, else its EXIT) says: its record, within the caps at now_usec
 * (oom_kills__take()). p's timeline gets the kernel's RSS at the kill as its last point.
 * Returns 0 and *ret (WRITTEN or LIMITED); -errno and *ret FAILED: -ENOMEM, -EINVAL (no
 * spool), or the spool's (spool__reserve_base(), spool__commit_record(): -EDQUOT, -EBUSY).
 */
int oom_kills__record(struct oom_kills *k, const struct processes *ps, struct process *p,
		      const struct inspectd_event *e, enum oom_detected_by by, uint64_t now_usec,
		      struct oom_kill_result *ret);

#endif
