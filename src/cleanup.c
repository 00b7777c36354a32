// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "procfs.h"

#define CLEANUP_MAX 256         /* closers at once; more records wait for the next look */
/*
 * A SIGUSR1 unanswered this long was not answered late but refused (node could not bind
 * its port, and does not try again): an inspector open later is somebody else's doing.
 */
#define LATE_OPEN_MAX_SEC 120

struct closer {
	struct capture *capture;
	int pidfd;
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

static void closer_done(void *owner, struct capture *c)
{
	struct cleanup *cu = owner;

	for (unsigned i = 0; i < cu->n; i++)
		if (cu->closers[i].capture == c)
			cu->closers[i].done = true;
	/* Called from a timer, which lws runs before it polls: wake that poll, which has
	 * nothing else to wait for, so that start-up goes on at once. */
	lws_cancel_service(cu->env->ctx);
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

static void start_closer(void *ctx, const struct ledger_entry *e)
{
	struct cleanup *cu = ctx;
	struct closer *cl;
	int pidfd;

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
	cl->pidfd = pidfd;
	cl->capture = capture__new_closer(cu->env, e->pid, pidfd, e, cu->at_start, closer_done, cu);
	if (!cl->capture) {
		log_error("pid %d: cannot close the inspector a previous agent left open: %s", (int)e->pid,
			  strerror(errno ? errno : ENOMEM));
		close(pidfd);
		return;
	}
	cu->n++;
}

struct cleanup *cleanup__start(const struct capture_env *env, bool at_start, cleanup_skip_fn skip,
			       void *ctx)
{
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
	r = ledger__each(env->ledger, start_closer, cu);
	if (r < 0)
		log_warn("cannot read %s: %s", ledger__path(env->ledger), strerror(-r));
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
		if (!cu->closers[i].done && capture__pid(cu->closers[i].capture) == pid)
			return true;
	return false;
}

void cleanup__free(struct cleanup *cu)
{
	if (!cu)
		return;
	for (unsigned i = 0; i < cu->n; i++) {
		capture__free(cu->closers[i].capture);
		close(cu->closers[i].pidfd);
	}
	free(cu);
}
