// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dispatcher.h"
#include "log.h"
#include "options.h"

#define PROCESS_BUCKETS 1024

struct process {
	struct process *next;
	pid_t pid;
	int pidfd;              /* pins the process: a recycled pid is never signalled */
	char comm[INSPECTD_COMM_LEN];
	bool announced;         /* "discovered" was logged: so will its exit be */
	struct capture *capture;
};

struct dispatcher {
	const struct capture_env *env;
	struct process *buckets[PROCESS_BUCKETS];
	unsigned tracked;
	unsigned captures;
	bool shutting_down;
};

static struct process **process_slot(struct dispatcher *d, pid_t pid)
{
	struct process **p = &d->buckets[(unsigned)pid % PROCESS_BUCKETS];

	while (*p && (*p)->pid != pid)
		p = &(*p)->next;
	return p;
}

static struct process *process_find(struct dispatcher *d, pid_t pid)
{
	return *process_slot(d, pid);
}

static struct process *process_add(struct dispatcher *d, pid_t pid, const char *comm)
{
	struct process **slot = process_slot(d, pid), *p = *slot;

	if (p) {
		memcpy(p->comm, comm, sizeof(p->comm));
		return p;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p->pidfd < 0) {
		free(p);
		return NULL;    /* already gone */
	}
	memcpy(p->comm, comm, sizeof(p->comm));
	p->comm[sizeof(p->comm) - 1] = '\0';
	*slot = p;
	d->tracked++;
	return p;
}

static void process_remove(struct dispatcher *d, pid_t pid)
{
	struct process **slot = process_slot(d, pid), *p = *slot;

	if (!p)
		return;
	*slot = p->next;
	if (p->capture) {
		capture__target_exited(p->capture);
		capture__free(p->capture);
		d->captures--;
	}
	close(p->pidfd);
	free(p);
	d->tracked--;
}

static void capture_done(void *owner, struct capture *c)
{
	struct dispatcher *d = owner;
	struct process *p = process_find(d, capture__pid(c));
	const char *error = capture__error(c);

	if (error)
		log_debug("pid %d: capture ended with an error: %s", (int)capture__pid(c), error);
	if (p && p->capture == c)
		p->capture = NULL;
	capture__free(c);
	d->captures--;
}

static void handle_signal(struct dispatcher *d, const struct inspectd_event *e)
{
	const struct settings *st = d->env->settings;
	char signame[32], sender[INSPECTD_COMM_LEN];
	struct capture_trigger t = { .kind = "signal" };
	enum profile_kind kind;
	struct process *p;

	memcpy(sender, e->sender_comm, sizeof(sender));
	sender[sizeof(sender) - 1] = '\0';
	options_signal_name((int)e->sig, signame, sizeof(signame));
	if ((int)e->sig == st->heap_signal)
		kind = PROFILE_HEAP;
	else if ((int)e->sig == st->cpu_signal)
		kind = PROFILE_CPU;
	else
		return;

	log_info("pid %u: trigger %s from pid %u (%s)", e->pid, signame, e->sender_pid, sender);
	if (d->shutting_down) {
		log_info("pid %u: agent is shutting down, ignoring the trigger", e->pid);
		return;
	}
	p = process_find(d, (pid_t)e->pid);
	if (!p)
		p = process_add(d, (pid_t)e->pid, e->comm);
	if (!p) {
		log_warn("pid %u: process gone before the trigger could be served, ignoring", e->pid);
		return;
	}

	if (p->capture) {
		if (capture__kind(p->capture) == kind) {
			capture__request_stop(p->capture, "signal");
			return;
		}
		log_warn("pid %u: a %s capture is in progress; %s trigger ignored", e->pid,
			 profile_ops(capture__kind(p->capture))->name, profile_ops(kind)->name);
		return;
	}

	t.sig = (int)e->sig;
	t.sender_pid = e->sender_pid;
	t.sender_ns_pid = e->sender_ns_pid;
	memcpy(t.sender_comm, sender, sizeof(t.sender_comm));
	t.ktime_ns = e->ktime_ns;
	p->capture = capture__new(d->env, p->pid, p->pidfd, kind, &t, capture_done, d);
	if (!p->capture) {
		log_error("pid %u: cannot start a %s capture: %m", e->pid, profile_ops(kind)->name);
		return;
	}
	d->captures++;
}

void dispatcher__handle_event(void *ctx, const struct inspectd_event *e)
{
	struct dispatcher *d = ctx;
	char comm[INSPECTD_COMM_LEN];
	struct process *p;

	memcpy(comm, e->comm, sizeof(comm));
	comm[sizeof(comm) - 1] = '\0';

	switch (e->type) {
	case INSPECTD_EVENT_FORK:
		/* Usually an exec follows at once (child_process.spawn): log that one. */
		if (process_add(d, (pid_t)e->pid, comm))
			log_debug("pid %u: forked from node process %u", e->pid, e->ppid);
		break;
	case INSPECTD_EVENT_EXEC:
		/* Known already (forked, or exec'd again): a new program, a new pidfd. */
		process_remove(d, (pid_t)e->pid);
		p = process_add(d, (pid_t)e->pid, comm);
		if (p) {
			p->announced = true;
			log_info("pid %u: discovered %s (parent %u)", e->pid, comm, e->ppid);
		}
		break;
	case INSPECTD_EVENT_EXIT:
		p = process_find(d, (pid_t)e->pid);
		if (p) {
			/* A fork that exec'd another program leaves quietly. */
			log_emit(p->announced ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG, "pid %u: %s exited", e->pid,
				 p->comm);
			process_remove(d, (pid_t)e->pid);
		}
		break;
	case INSPECTD_EVENT_SIGNAL:
		handle_signal(d, e);
		break;
	default:
		log_debug("unknown event type %u, ignoring", e->type);
		break;
	}
}

struct dispatcher *dispatcher__new(const struct capture_env *env)
{
	struct dispatcher *d = calloc(1, sizeof(*d));

	if (d)
		d->env = env;
	return d;
}

void dispatcher__shutdown(struct dispatcher *d)
{
	d->shutting_down = true;
	for (unsigned b = 0; b < PROCESS_BUCKETS; b++)
		for (struct process *p = d->buckets[b]; p; p = p->next)
			if (p->capture)
				capture__request_stop(p->capture, "agent-shutdown");
}

bool dispatcher__idle(const struct dispatcher *d)
{
	return d->captures == 0;
}

unsigned dispatcher__tracked(const struct dispatcher *d)
{
	return d->tracked;
}

void dispatcher__free(struct dispatcher *d)
{
	if (!d)
		return;
	for (unsigned b = 0; b < PROCESS_BUCKETS; b++)
		while (d->buckets[b])
			process_remove(d, d->buckets[b]->pid);
	free(d);
}
