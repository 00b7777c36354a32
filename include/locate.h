/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Finding a node process's inspector, and opening it when nothing of its listens:
 *
 *   the namespace's listeners -> one already open and the target's? -> use it
 *   else: SigCgt has SIGUSR1? -> is its handler node's inspector (sighandler.h)? ->
 *   note it in the ledger -> SIGUSR1 -> poll the namespace's listeners for a new one
 *   -> is it the target's? -> use it
 *
 * Listeners come from one sock_diag dump of the target's network namespace; only a
 * new listener's owner is checked, by a scan of the target's fd table in bounded steps
 * (fdscan.h): a target holding any number of sockets or files is found, and never holds
 * the loop. SIGUSR1 goes only to a process that catches it, through its pidfd, and only
 * once the ledger says so: an agent killed from then on leaves a record that the next
 * one acts on (cleanup.h). Every ledger note about an inspector is made here.
 */
#ifndef INSPECTD_LOCATE_H
#define INSPECTD_LOCATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "capture.h"
#include "inspector.h"
#include "ledger.h"
#include "sighandler.h"

/* What the agent knows of one target's inspector, and owes it. */
struct inspector_claim {
	uint16_t port;                  /* 0: none found */
	uint64_t inode;                 /* its listening socket */
	struct inspector_endpoint endpoint;     /* where that socket is reached */
	bool opened_by_us;              /* by this agent (or one before it, says the ledger): ours to close */
	bool sigusr1_sent;              /* an inspector of ours may open, even late */
	bool recorded;                  /* the ledger holds a record for the target */
	enum sigusr1_handler sigusr1_handler;   /* whose handler SIGUSR1 would run, once looked at */
};

struct locate_target {
	pid_t pid;
	int pidfd;                      /* borrowed: pins the process */
	uint64_t start_time;            /* /proc/PID/stat's; 0: unknown (then no SIGUSR1) */
	uint16_t cmdline_port;          /* an --inspect port on its command line, or 0 */
};

struct locate;

/*
 * Over: r 0, the inspector found (claim's port and inode set, opened_by_us as it
 * is); or r -errno and reason (then claim->port 0, or an inspector of ours that
 * opened too late to be used, which is the caller's to close). Never called from
 * inside locate__start(). done may free the locate; reason stays valid for the call.
 */
typedef void (*locate_done_fn)(void *owner, int r, const char *reason);

/*
 * Find or open t's inspector into *claim (borrowed until done or locate__free()).
 * 0 and *ret; -ENOMEM. Everything else comes to done.
 */
int locate__start(const struct capture_env *env, const struct locate_target *t, struct inspector_claim *claim,
		  locate_done_fn done, void *owner, struct locate **ret);
/*
 * The inspector a ledger record e names in its live target: the record's own socket, or
 * for a record without one (SIGUSR1 sent, the port not found yet) one open on the
 * inspector's port and held by the target. r 0: found, claim set (opened_by_us,
 * recorded); -ENOENT: nothing of the record's is open; -errno.
 */
int locate__recorded(const struct capture_env *env, const struct locate_target *t, const struct ledger_entry *e,
		     struct inspector_claim *claim, locate_done_fn done, void *owner, struct locate **ret);
/* Stop looking; done is not called. Takes NULL. */
void locate__free(struct locate *l);

/*
 * Whether the listener with this inode is still open in the namespace of pidfd's
 * process: 1 yes, 0 no, -errno when that cannot be told. One netlink dump (or a read of
 * /proc/PID/net/tcp{,6} where sock_diag fails: sockdiag_netns_listeners()).
 */
int locate_listener_open(int pidfd, uint64_t inode);

/*
 * Record claim in the ledger for t: before SIGUSR1 is sent, and again once its port is
 * known. 0 (or no ledger), -ESRCH (t's start time unknown), -errno from the ledger.
 */
int claim_note(const struct capture_env *env, const struct locate_target *t, struct inspector_claim *claim);
/*
 * The capture is over: forget t's record, unless an inspector we opened, or asked to
 * open, may still be open in a live target (closed false). 1: kept, 0: forgotten or
 * none.
 */
int claim_settle(const struct capture_env *env, const struct locate_target *t, struct inspector_claim *claim,
		 bool closed, bool target_exited);

#endif
