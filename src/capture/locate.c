// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdscan.h"
#include "inspector.h"
#include "locate.h"
#include "netns.h"
#include "procfs.h"
#include "sockdiag.h"

#define SIGCGT_WAIT_USEC        (500 * LWS_US_PER_MS)   /* a process just after exec */
#define SIGCGT_POLL_USEC        (10 * LWS_US_PER_MS)
#define OPEN_POLL_USEC          (1 * LWS_US_PER_MS)
#define SCAN_POLL_USEC          (1 * LWS_US_PER_MS)
/* An executable's symbols being read (on their thread) at the first trigger: so long. */
#define SYMTAB_POLL_USEC        (1 * LWS_US_PER_MS)      /* doubled each poll, up to: */
#define SYMTAB_POLL_MAX_USEC    (64 * LWS_US_PER_MS)
#define SYMTAB_WAIT_USEC        (2 * LWS_US_PER_SEC)
/* Listeners on loopback or any address in one namespace: more is refused, not cut. */
#define NETNS_LISTENERS_MAX     8192

enum locate_state {
	LOCATE_OWNER_OF_OPEN,   /* is a listener open already the target's? */
	LOCATE_SIGCGT,          /* waiting for SIGUSR1 to be caught */
	LOCATE_OPENING,         /* SIGUSR1 sent: waiting for a new listener */
	LOCATE_OWNER_OF_NEW,    /* is the new listener the target's? */
	LOCATE_DONE,
};

struct locate {
	const struct capture_env *env;
	struct locate_target t;
	struct inspector_claim *claim;
	locate_done_fn done;
	void *owner;
	enum locate_state state;

	struct procfs_listener *before; /* the namespace's listeners before SIGUSR1, and others' since */
	int nbefore;
	struct procfs_listener cand[FDSCAN_INODES_MAX]; /* whose owner the scan looks for */
	int ncand;
	struct fdscan *scan;
	struct ledger_entry kept;       /* an earlier capture's record of this very process */
	bool has_kept;
	bool recorded_only;             /* locate__recorded(): no SIGUSR1 */

	lws_sorted_usec_list_t timer;
	lws_sorted_usec_list_t report;
	lws_usec_t deadline;
	lws_usec_t symtab_deadline;     /* 0 until its symbols are waited for */
	lws_usec_t symtab_poll;         /* the next wait for them: each poll reads the target's
					 * maps again on the loop, so a slow read is polled less */
	int result;
	char reason[256];
};

static void arm(struct locate *l, sul_cb_t cb, lws_usec_t us)
{
	lws_sul_schedule(l->env->ctx, 0, &l->timer, cb, us);
}

static void report_cb(lws_sorted_usec_list_t *sul)
{
	struct locate *l = lws_container_of(sul, struct locate, report);
	char reason[sizeof(l->reason)];

	/* The owner frees the locate from inside done: nothing of it is read after. */
	snprintf(reason, sizeof(reason), "%s", l->reason);
	l->done(l->owner, l->result, l->result < 0 ? reason : NULL);
}

static void finish(struct locate *l, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void finish(struct locate *l, int r, const char *fmt, ...)
{
	va_list ap;

	l->state = LOCATE_DONE;
	l->result = r;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(l->reason, sizeof(l->reason), fmt, ap);
		va_end(ap);
	}
	fdscan__free(l->scan);
	l->scan = NULL;
	lws_sul_schedule(l->env->ctx, 0, &l->timer, NULL, LWS_SET_TIMER_USEC_CANCEL);
	/* Not from inside locate__start() or a callback of the caller's. */
	lws_sul_schedule(l->env->ctx, 0, &l->report, report_cb, 1);
}

static bool target_alive(const struct locate *l)
{
	return syscall(SYS_pidfd_send_signal, l->t.pidfd, 0, NULL, 0) == 0;
}

static int listener_index(const struct procfs_listener *v, int n, uint64_t inode)
{
	for (int i = 0; i < n; i++)
		if (v[i].inode == inode)
			return i;
	return -1;
}

/*
 * The namespace's listeners into a new array: count, or -errno (-E2BIG: more than
 * NETNS_LISTENERS_MAX). Sized for the usual few, grown when the dump says so.
 */
static int list_netns(const struct locate *l, struct procfs_listener **ret)
{
	for (size_t max = 64;; max = max * 8 > NETNS_LISTENERS_MAX ? NETNS_LISTENERS_MAX : max * 8) {
		struct procfs_listener *v = calloc(max, sizeof(*v));
		int n;

		if (!v)
			return -ENOMEM;
		n = sockdiag_netns_listeners(l->t.pidfd, v, max);
		if (n == -ENOTRECOVERABLE)
			netns_stranded();
		if (n >= 0) {
			*ret = v;
			return n;
		}
		free(v);
		if (n != -E2BIG || max >= NETNS_LISTENERS_MAX)
			return n;
	}
}

/* Start a scan of the target's fds for the candidates' owners. */
static int scan_start(struct locate *l)
{
	uint64_t inodes[FDSCAN_INODES_MAX];
	int r;

	for (int i = 0; i < l->ncand; i++)
		inodes[i] = l->cand[i].inode;
	fdscan__free(l->scan);
	l->scan = NULL;
	r = fdscan__new(l->t.pid, inodes, (size_t)l->ncand, &l->scan);
	return r;
}

/* The candidate the target holds, loopback first: its index, or -1. */
static int held_candidate(const struct locate *l)
{
	int pick = -1;

	for (int i = 0; i < l->ncand; i++) {
		if (!fdscan__holds(l->scan, l->cand[i].inode))
			continue;
		if (l->cand[i].loopback)
			return i;
		if (pick < 0)
			pick = i;
	}
	return pick;
}

static void found(struct locate *l, const struct procfs_listener *li, bool opened_by_us)
{
	l->claim->port = li->port;
	l->claim->inode = li->inode;
	inspector_endpoint_of(li, &l->claim->endpoint);
	l->claim->opened_by_us = opened_by_us;
	finish(l, 0, NULL);
}

/* ---- after SIGUSR1 ---- */

static void poll_open(lws_sorted_usec_list_t *sul);

static void poll_new_owner(lws_sorted_usec_list_t *sul)
{
	struct locate *l = lws_container_of(sul, struct locate, timer);
	int r = fdscan__step(l->scan, FDSCAN_STEP), i;
	struct procfs_listener *grown;

	if (r < 0) {
		finish(l, r, "cannot read the fds of /proc/%d: %s", (int)l->t.pid, strerror(-r));
		return;
	}
	if (r == 0) {
		arm(l, poll_new_owner, SCAN_POLL_USEC);
		return;
	}
	i = held_candidate(l);
	if (i >= 0) {
		found(l, &l->cand[i], true);
		return;
	}
	/* Somebody else's new listeners: part of the landscape from now on. */
	grown = realloc(l->before, (size_t)(l->nbefore + l->ncand) * sizeof(*grown));
	if (!grown) {
		finish(l, -ENOMEM, "out of memory");
		return;
	}
	l->before = grown;
	memcpy(l->before + l->nbefore, l->cand, (size_t)l->ncand * sizeof(*grown));
	l->nbefore += l->ncand;
	l->ncand = 0;
	l->state = LOCATE_OPENING;
	poll_open(&l->timer);
}

static void poll_open(lws_sorted_usec_list_t *sul)
{
	struct locate *l = lws_container_of(sul, struct locate, timer);
	struct procfs_listener *now = NULL;
	int n = list_netns(l, &now), r;

	l->ncand = 0;
	for (int i = 0; i < n && l->ncand < FDSCAN_INODES_MAX; i++)
		if (listener_index(l->before, l->nbefore, now[i].inode) < 0)
			l->cand[l->ncand++] = now[i];
	free(now);
	if (l->ncand) {
		r = scan_start(l);
		if (r < 0) {
			finish(l, r, "cannot read the fds of /proc/%d: %s", (int)l->t.pid, strerror(-r));
			return;
		}
		l->state = LOCATE_OWNER_OF_NEW;
		poll_new_owner(&l->timer);
		return;
	}
	if (lws_now_usecs() > l->deadline) {
		finish(l, -ETIMEDOUT, "inspector did not open within %llu ms after SIGUSR1 "
		       "(port taken by another process in its network namespace?)",
		       (unsigned long long)(l->env->settings->attach_timeout_usec / 1000));
		return;
	}
	arm(l, poll_open, OPEN_POLL_USEC);
}

/* ---- SIGUSR1 ---- */

static void poll_sigcgt(lws_sorted_usec_list_t *sul);

/*
 * Whose handler SIGUSR1 would run now: 0 when it is node's inspector; 1 when its file's
 * symbols are still being read (poll_sigcgt() is armed again: SigCgt and the handler are
 * both read anew then); else the locate is finished with -EPERM and why (the one log line
 * the capture's failure gives).
 */
static int check_handler(struct locate *l)
{
	static const char what_to_do[] = "move that handler to another signal, or start the service with "
					 "--inspect=127.0.0.1:PORT";
	enum sigusr1_handler h = SIGUSR1_HANDLER_UNKNOWN;
	int r = -ENOSYS;

	if (l->env->sighandlers)
		r = sighandlers__check(l->env->sighandlers, l->t.pid, l->t.pidfd, &h, NULL);
	if (r == -EINPROGRESS || r == -EBUSY) {
		if (!l->symtab_deadline) {
			l->symtab_deadline = lws_now_usecs() + SYMTAB_WAIT_USEC;
			l->symtab_poll = SYMTAB_POLL_USEC;
		}
		if (lws_now_usecs() < l->symtab_deadline) {
			arm(l, poll_sigcgt, l->symtab_poll);
			if (l->symtab_poll < SYMTAB_POLL_MAX_USEC)
				l->symtab_poll *= 2;
			return 1;
		}
		r = -ETIMEDOUT;
	}
	l->claim->sigusr1_handler = h;
	switch (h) {
	case SIGUSR1_HANDLER_NODE:
		return 0;
	case SIGUSR1_HANDLER_APPLICATION:
		finish(l, -EPERM, "SIGUSR1 runs the application's own handler (process.on('SIGUSR1')), not node's "
		       "inspector: not sent; %s", what_to_do);
		break;
	case SIGUSR1_HANDLER_OTHER:
		finish(l, -EPERM, "SIGUSR1 runs a handler that is not node's inspector (not node, or not a node "
		       "build): not sent; %s", what_to_do);
		break;
	case SIGUSR1_HANDLER_NONE:
		finish(l, -EPERM, "process stopped catching SIGUSR1: not sending it");
		break;
	default:
		finish(l, -EPERM, "cannot tell whose handler SIGUSR1 runs (%s): not sent; start the service "
		       "with --inspect=127.0.0.1:PORT",
		       r == -ETIMEDOUT ? "its file's symbols were not read in time" :
		       r < 0 ? strerror(-r) : "no symbol of its file holds it: a stripped binary?");
		break;
	}
	return -EPERM;
}

/*
 * Just before SIGUSR1 goes: still node's handler? 0; else the locate is finished with -EPERM
 * (a handler that changed, or one not known at once, is not waited for).
 */
static int recheck_handler(struct locate *l)
{
	enum sigusr1_handler h = SIGUSR1_HANDLER_UNKNOWN;
	int r;

	r = sighandlers__check(l->env->sighandlers, l->t.pid, l->t.pidfd, &h, NULL);
	if (r == 0 && h == SIGUSR1_HANDLER_NODE)
		return 0;
	l->claim->sigusr1_handler = h == SIGUSR1_HANDLER_NODE ? SIGUSR1_HANDLER_UNKNOWN : h;
	finish(l, -EPERM, "SIGUSR1's handler changed just before it would have been sent (%s): not sent",
	       r < 0 ? strerror(-r) : h == SIGUSR1_HANDLER_APPLICATION ? "the application's own" : "not node's inspector");
	return -EPERM;
}

static void poll_sigcgt(lws_sorted_usec_list_t *sul)
{
	struct locate *l = lws_container_of(sul, struct locate, timer);
	uint64_t caught = 0;
	int r;

	r = procfs_read_signal_caught(l->t.pid, &caught);
	if (r < 0 || !target_alive(l)) {
		finish(l, r < 0 ? r : -ESRCH, "cannot read /proc/%d/status: %s", (int)l->t.pid,
		       strerror(r < 0 ? -r : ESRCH));
		return;
	}
	if (!inspector_catches_sigusr1(caught)) {
		if (lws_now_usecs() < l->deadline) {
			arm(l, poll_sigcgt, SIGCGT_POLL_USEC);
			return;
		}
		finish(l, -EPERM, "process does not catch SIGUSR1 (not node, or node started with "
		       "--disable-sigusr1): not sending it");
		return;
	}
	/* Read now: the application may call process.on('SIGUSR1') at any moment. */
	if (check_handler(l) != 0)
		return;
	/* Recorded before it can open: an agent killed from here on leaves a record. Without
	 * one, a killed agent would leave the inspector open: no SIGUSR1 then. */
	r = claim_note(l->env, &l->t, l->claim);
	if (r < 0) {
		finish(l, r, "cannot record the inspector we would open (%s): not sending SIGUSR1", strerror(-r));
		return;
	}
	/* Read once more at the last moment: the first reading may be milliseconds old (the maps,
	 * the file, the ledger's write), and a process.on('SIGUSR1') in between would get it.
	 * The same handler is the cached verdict: one pass of the kernel's iterator. */
	if (recheck_handler(l) < 0)
		return;
	/* Through the pidfd: a recycled pid can never receive it. */
	if (syscall(SYS_pidfd_send_signal, l->t.pidfd, SIGUSR1, NULL, 0) < 0) {
		r = -errno;
		finish(l, r, "sending SIGUSR1: %s", strerror(-r));
		return;
	}
	l->claim->sigusr1_sent = true;
	l->state = LOCATE_OPENING;
	l->deadline = lws_now_usecs() + (lws_usec_t)l->env->settings->attach_timeout_usec;
	arm(l, poll_open, OPEN_POLL_USEC);
}

static void start_sigusr1(struct locate *l)
{
	if (l->recorded_only) {
		finish(l, -ENOENT, "nothing of the record's is open");
		return;
	}
	l->state = LOCATE_SIGCGT;
	l->deadline = lws_now_usecs() + SIGCGT_WAIT_USEC;
	poll_sigcgt(&l->timer);
}

/* ---- an inspector open already ---- */

static void poll_open_owner(lws_sorted_usec_list_t *sul)
{
	struct locate *l = lws_container_of(sul, struct locate, timer);
	int r = fdscan__step(l->scan, FDSCAN_STEP), i;

	if (r < 0) {
		finish(l, r, "cannot read the fds of /proc/%d: %s", (int)l->t.pid, strerror(-r));
		return;
	}
	if (r == 0) {
		arm(l, poll_open_owner, SCAN_POLL_USEC);
		return;
	}
	if (l->has_kept && l->kept.inode && fdscan__holds(l->scan, l->kept.inode)) {
		/* The very socket an earlier capture of ours opened and could not close. */
		i = listener_index(l->cand, l->ncand, l->kept.inode);
		l->claim->recorded = true;
		found(l, &l->cand[i], true);
		return;
	}
	i = held_candidate(l);
	if (i < 0) {
		start_sigusr1(l);
		return;
	}
	/* A record without a port: the SIGUSR1 it stands for opened this one. */
	if (l->has_kept && !l->kept.inode) {
		l->claim->recorded = true;
		found(l, &l->cand[i], true);
		return;
	}
	found(l, &l->cand[i], false);
}

/* The candidates among the listeners open now: the kept record's, then the inspector port's. */
static void pick_candidates(struct locate *l)
{
	uint16_t port = l->t.cmdline_port ? l->t.cmdline_port : INSPECTOR_DEFAULT_PORT;

	l->ncand = 0;
	for (int i = 0; i < l->nbefore && l->ncand < FDSCAN_INODES_MAX; i++) {
		const struct procfs_listener *li = &l->before[i];
		bool kept = l->has_kept && l->kept.inode == li->inode;

		/* Without a record's inode, the inspector as node opens it: on its port. */
		if (kept || (li->port == port && !(l->recorded_only && l->kept.inode)))
			l->cand[l->ncand++] = *li;
	}
}

static int locate_new(const struct capture_env *env, const struct locate_target *t, struct inspector_claim *claim,
		      locate_done_fn done, void *owner, struct locate **ret)
{
	struct locate *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->env = env;
	l->t = *t;
	l->claim = claim;
	l->done = done;
	l->owner = owner;
	*ret = l;
	return 0;
}

static void locate_begin(struct locate *l)
{
	int n = list_netns(l, &l->before), r;

	if (n < 0) {
		l->before = NULL;
		finish(l, n, "cannot list the listeners of /proc/%d's network namespace: %s", (int)l->t.pid,
		       strerror(-n));
		return;
	}
	l->nbefore = n;
	pick_candidates(l);
	if (!l->ncand) {
		start_sigusr1(l);
		return;
	}
	r = scan_start(l);
	if (r < 0) {
		finish(l, r, "cannot read the fds of /proc/%d: %s", (int)l->t.pid, strerror(-r));
		return;
	}
	l->state = LOCATE_OWNER_OF_OPEN;
	poll_open_owner(&l->timer);
}

int locate__start(const struct capture_env *env, const struct locate_target *t, struct inspector_claim *claim,
		  locate_done_fn done, void *owner, struct locate **ret)
{
	struct locate *l;
	int r = locate_new(env, t, claim, done, owner, &l);

	if (r < 0)
		return r;
	/* A record of ours for this very process (same start time) that an earlier capture
	 * or agent kept: the inspector it names, or the one it asked for, is ours to close. */
	l->has_kept = env->ledger && t->start_time && ledger__get(env->ledger, t->pid, &l->kept) == 0 &&
		      l->kept.start_time == t->start_time;
	/* Whatever is found, the record is this capture's to settle: kept only if it still
	 * stands for an inspector that may be open. */
	claim->recorded = l->has_kept;
	locate_begin(l);
	*ret = l;
	return 0;
}

int locate__recorded(const struct capture_env *env, const struct locate_target *t, const struct ledger_entry *e,
		     struct inspector_claim *claim, locate_done_fn done, void *owner, struct locate **ret)
{
	struct locate *l;
	int r = locate_new(env, t, claim, done, owner, &l);

	if (r < 0)
		return r;
	l->kept = *e;
	l->has_kept = true;
	l->recorded_only = true;
	claim->recorded = true;
	claim->sigusr1_sent = !e->inode;
	locate_begin(l);
	*ret = l;
	return 0;
}

void locate__free(struct locate *l)
{
	if (!l)
		return;
	lws_sul_schedule(l->env->ctx, 0, &l->timer, NULL, LWS_SET_TIMER_USEC_CANCEL);
	lws_sul_schedule(l->env->ctx, 0, &l->report, NULL, LWS_SET_TIMER_USEC_CANCEL);
	fdscan__free(l->scan);
	free(l->before);
	free(l);
}

int locate_listener_open(int pidfd, uint64_t inode)
{
	struct locate l = { .t.pidfd = pidfd };
	struct procfs_listener *v = NULL;
	int n = list_netns(&l, &v), open;

	open = n < 0 ? n : listener_index(v, n, inode) >= 0;
	free(v);
	return open;
}

/* ---- the ledger ---- */

int claim_note(const struct capture_env *env, const struct locate_target *t, struct inspector_claim *claim)
{
	struct ledger_entry e = {
		.pid = t->pid, .start_time = t->start_time, .port = claim->port, .inode = claim->inode,
	};
	int r;

	if (!env->ledger)
		return 0;
	if (!t->start_time)
		return -ESRCH;          /* /proc/PID/stat was not readable at the trigger */
	r = ledger__record(env->ledger, &e);
	if (r < 0)
		return r;
	claim->recorded = true;
	return 0;
}

int claim_settle(const struct capture_env *env, const struct locate_target *t, struct inspector_claim *claim,
		 bool closed, bool target_exited)
{
	if (!claim->recorded)
		return 0;
	if ((claim->opened_by_us || claim->sigusr1_sent) && !closed && !target_exited &&
	    syscall(SYS_pidfd_send_signal, t->pidfd, 0, NULL, 0) == 0)
		return 1;
	ledger__forget(env->ledger, t->pid);
	claim->recorded = false;
	return 0;
}
