// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "inspector_close.h"
#include "locate.h"
#include "log.h"
#include "procfs.h"

#define CLEANUP_MAX 256         /* closers at once; more records wait for the next look */
#define CMDLINE_MAX (64 * 1024)
#define CMDLINE_ARGS_MAX 256
/*
 * A SIGUSR1 unanswered this long was not answered late but refused (node could not bind
 * its port, and does not try again): an inspector open later is somebody else's doing.
 */
#define LATE_OPEN_MAX_SEC 120

/* One record's inspector: found by locate, closed by inspector_close. */
struct closer {
	struct cleanup *cu;
	struct ledger_entry e;
	struct locate_target t;
	struct inspector_claim claim;
	struct locate *locate;
	struct inspector_close *close;
	bool closed;
	bool done;
};

struct cleanup {
	const struct capture_env *env;
	bool at_start;
	cleanup_skip_fn skip;
	void *skip_ctx;
	struct closer closers[CLEANUP_MAX];
	unsigned n;
};

static void closer_finish(struct closer *cl)
{
	claim_settle(cl->cu->env, &cl->t, &cl->claim, cl->closed, false);
	cl->done = true;
	/* Called from a timer, which lws runs before it polls: wake that poll, which has
	 * nothing else to wait for, so that start-up goes on at once. */
	lws_cancel_service(cl->cu->env->ctx);
}

static void close_done(void *owner, bool closed)
{
	struct closer *cl = owner;

	cl->closed = closed;
	closer_finish(cl);
}

static void located(void *owner, int r, const char *reason)
{
	struct closer *cl = owner;
	bool at_start = cl->cu->at_start;
	pid_t pid = cl->t.pid;

	locate__free(cl->locate);
	cl->locate = NULL;
	if (r == -ENOENT && cl->e.inode) {
		log_info("pid %d: the inspector recorded for it is not open any more", (int)pid);
		cl->closed = true;
	} else if (r == -ENOENT) {
		/* SIGUSR1 was sent (by an agent killed right after, or answered late): the
		 * inspector may still open. The record stays; looked at again later. */
		log_emit(at_start ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
			 "pid %d: %s sent SIGUSR1 and no inspector is open (yet): record kept", (int)pid,
			 at_start ? "a previous agent" : "an earlier capture");
	} else if (r < 0) {
		log_warn("pid %d: cannot look for the inspector a record names: %s; record kept", (int)pid, reason);
	}
	if (r < 0) {
		closer_finish(cl);
		return;
	}
	if (at_start)
		log_info("pid %d: a previous agent opened its inspector (port %u) and was killed: closing it",
			 (int)pid, cl->claim.port);
	else
		log_info("pid %d: inspector on port %u opened after its capture had ended: closing it", (int)pid,
			 cl->claim.port);
	r = inspector_close__start(cl->cu->env, &cl->t, &cl->claim, NULL,
				   cl->e.inode ? 0 : INSPECTOR_CLOSE_GUESSED_PORT,
				   at_start ? " (a previous agent opened it and was killed before it could)"
					    : " (it opened after its capture had ended)",
				   close_done, cl, &cl->close);
	if (r < 0) {
		log_error("pid %d: cannot close the inspector: %s", (int)pid, strerror(-r));
		closer_finish(cl);
	}
}

/*
 * The record's process, by pid and start time: a pidfd; -1 after dropping the record
 * (the process is gone, or its pid names another one now), or after keeping it when
 * that could not be told (out of fds, say).
 */
static int open_recorded(const struct capture_env *env, const struct ledger_entry *e, bool at_start)
{
	uint64_t start;
	int pidfd, r;

	pidfd = (int)syscall(SYS_pidfd_open, e->pid, 0);
	if (pidfd < 0) {
		r = -errno;
	} else {
		/* Checked after the pidfd exists: the pid cannot be reused under it from here on. */
		r = procfs_read_starttime(e->pid, &start);
		if (r == 0 && start != e->start_time)
			r = -ESRCH;
	}
	if (r == 0)
		return pidfd;
	if (pidfd >= 0)
		close(pidfd);
	if (r == -ESRCH || r == -ENOENT) {
		log_info("pid %d: gone since %s: record dropped", (int)e->pid,
			 at_start ? "a previous agent opened its inspector" : "its inspector was recorded");
		ledger__forget(env->ledger, e->pid);
	} else {
		log_warn("pid %d: cannot look at the process a record names (%s): record kept", (int)e->pid,
			 strerror(-r));
	}
	return -1;
}

/* The --inspect port on pid's command line, or 0. */
static int read_cmdline_port(pid_t pid, uint16_t *port)
{
	char *buf = malloc(CMDLINE_MAX), *argv[CMDLINE_ARGS_MAX];
	ssize_t n;

	*port = 0;
	if (!buf)
		return -ENOMEM;
	n = procfs_read(pid, "cmdline", buf, CMDLINE_MAX);
	if (n >= 0)
		procfs_cmdline_inspect_port(argv, procfs_split_cmdline(buf, (size_t)n, argv, CMDLINE_ARGS_MAX), port);
	free(buf);
	return n < 0 ? (int)n : 0;
}

static void start_closer(void *ctx, const struct ledger_entry *e)
{
	struct cleanup *cu = ctx;
	struct closer *cl;
	int pidfd, r;

	if (cu->skip && cu->skip(cu->skip_ctx, e->pid))
		return;
	if (!e->inode && e->written && time(NULL) - e->written > LATE_OPEN_MAX_SEC) {
		log_info("pid %d: no inspector opened within %d s of our SIGUSR1: record dropped (an "
			 "inspector opened later is not ours)", (int)e->pid, LATE_OPEN_MAX_SEC);
		ledger__forget(cu->env->ledger, e->pid);
		return;
	}
	if (cu->n == CLEANUP_MAX) {
		log_warn("pid %d: more than %d inspectors to close at once: this one waits for the next look",
			 (int)e->pid, CLEANUP_MAX);
		return;
	}
	pidfd = open_recorded(cu->env, e, cu->at_start);
	if (pidfd < 0)
		return;
	cl = &cu->closers[cu->n];
	memset(cl, 0, sizeof(*cl));
	cl->cu = cu;
	cl->e = *e;
	cl->t.pid = e->pid;
	cl->t.pidfd = pidfd;
	cl->t.start_time = e->start_time;
	cl->claim.opened_by_us = true;  /* the record says so */
	if (read_cmdline_port(e->pid, &cl->t.cmdline_port) < 0)
		cl->t.cmdline_port = 0;
	r = locate__recorded(cu->env, &cl->t, e, &cl->claim, located, cl, &cl->locate);
	if (r < 0) {
		log_error("pid %d: cannot close the inspector a previous agent left open: %s", (int)e->pid,
			  strerror(-r));
		close(pidfd);
		return;
	}
	cu->n++;
}

struct cleanup *cleanup__start(const struct capture_env *env, bool at_start, cleanup_skip_fn skip,
			       void *ctx)
{
	struct ledger_skips skips = { 0 };
	struct cleanup *cu;
	int r;

	if (!env->ledger)
		return NULL;
	cu = calloc(1, sizeof(*cu));
	if (!cu)
		return NULL;
	cu->env = env;
	cu->at_start = at_start;
	cu->skip = skip;
	cu->skip_ctx = ctx;
	r = ledger__each(env->ledger, start_closer, cu, &skips);
	if (r < 0)
		log_warn("cannot read %s: %s", ledger__path(env->ledger), strerror(-r));
	if (skips.removed)
		log_warn("%s: %u files that are not records of ours, removed", ledger__path(env->ledger),
			 skips.removed);
	if (skips.unread)
		log_warn("%s: %u records could not be read now, kept for the next look", ledger__path(env->ledger),
			 skips.unread);
	if (cu->n == 0) {
		free(cu);
		return NULL;
	}
	return cu;
}

bool cleanup__done(const struct cleanup *cu)
{
	for (unsigned i = 0; i < cu->n; i++)
		if (!cu->closers[i].done)
			return false;
	return true;
}

bool cleanup__has(const struct cleanup *cu, pid_t pid)
{
	for (unsigned i = 0; i < cu->n; i++)
		if (!cu->closers[i].done && cu->closers[i].t.pid == pid)
			return true;
	return false;
}

void cleanup__free(struct cleanup *cu)
{
	if (!cu)
		return;
	for (unsigned i = 0; i < cu->n; i++) {
		locate__free(cu->closers[i].locate);
		inspector_close__free(cu->closers[i].close);
		close(cu->closers[i].t.pidfd);
	}
	free(cu);
}
