/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The table of tracked node processes. It owns each one's pidfd (a capture
 * borrows it), its cgroup and container facts and its trigger state, and
 * names its queued or active job by id: removing a process hands that id back
 * for the caller to finish. No lws, no jobs, no logging.
 */
#ifndef INSPECTD_PROCESSES_H
#define INSPECTD_PROCESSES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <linux/types.h>      /* inspectd.h's */

#include "cgroup.h"
#include "container.h"
#include "inspectd.h"
#include "schedule.h"
#include "select.h"
#include "trigger.h"

#define PROCESS_CGROUP_MAX 1024
#define PROCESS_TENANT_MAX 256
/* Kept for an OOM-kill record: its command line, cut to this (with its NULs), and its
 * last captures' files. */
#define PROCESS_CMDLINE_MAX     4096
#define PROCESS_CAPTURES_MAX    16
#define PROCESS_CAPTURE_FILES   3       /* as JOB_FILES_MAX */

struct processes;
struct process;
struct names_cache;
struct rss_timeline;

/* A capture of a process that wrote files, as an OOM-kill record lists it. */
struct process_capture {
	unsigned job;
	int kind;                               /* enum profile_kind */
	struct timespec ended_at;               /* CLOCK_REALTIME */
	char *files[PROCESS_CAPTURE_FILES];     /* full paths; NULL past the last */
};

/* A tracked process as the API sees it: a copy. */
struct process_view {
	pid_t pid;
	char comm[INSPECTD_COMM_LEN];
	uint64_t rss;                   /* bytes */
	double cpu_percent;             /* over the CPU window; <0 until it is covered */
	uint64_t memory_limit;          /* its cgroup's, bytes; 0: none */
	char cgroup[PROCESS_CGROUP_MAX];        /* the v1 memory cgroup when there is one, else v2 */
	struct container_info container;        /* id "" when none */
	unsigned armed;                 /* TRIGGER_MASK()s of the triggers armed for it: with the table's
					 * settings until the dispatcher judges it with its own */
	unsigned job;                   /* its queued or active job; 0: none */
	int selection;                  /* enum select_verdict: SELECT_SELECTED until the dispatcher judges it */
	/* The rule of the configuration file's section whose settings it has (sections.h), "" for
	 * none (the agent's settings): "" until the dispatcher judges it. */
	char section[SELECT_RULE_MAX];
	/* Its next scheduled round (--every), as the dispatcher judges it: tv_sec 0 when none. */
	struct timespec next_capture_at;        /* wall clock */
	int next_capture_kind;                  /* enum profile_kind; -1: none */
};

/*
 * The tenant whose captures a process's count against (the per-container caps), from its
 * cgroup paths as the host names them (pure): its outermost container's cgroup
 * (container_outer_cgroup(); the v2 path first, as container_from_paths()); for a process
 * in no container, its cgroup (v1 memory first, as process_view's) cut after the second
 * level, "/system.slice/x.service" or "/user.slice/user-1000.slice": a service, a user,
 * whatever it makes beneath; "/" when neither path is known. A container cannot choose
 * this key (it can only name cgroups beneath its own), nor a user with a delegated
 * subtree. A key longer than size - 1 is cut: tenants may merge, never split. buf gets
 * the key (size > 1).
 */
void processes_tenant_key(const char *v1_path, const char *v2_path, char *buf, size_t size);

/* cfg: the triggers' settings, borrowed for the table's life. NULL only when out of memory. */
struct processes *processes__new(const struct trigger_config *cfg);
/* Closes every pidfd: end the jobs that borrow them first. */
void processes__free(struct processes *ps);

/*
 * comm: a string, or INSPECTD_COMM_LEN bytes without a NUL (an event's); cut to fit.
 *
 * Track pid: 0 and *ret; already tracked, its comm is updated. -ESRCH (gone already:
 * no pidfd), -ENOMEM, or another -errno of pidfd_open() (-EMFILE). cgroup_of: a tracked process known to share pid's cgroup (its
 * parent at fork), whose cgroup facts are copied; NULL: none are known until
 * process__read_cgroup().
 */
int processes__add(struct processes *ps, pid_t pid, const char *comm, const struct process *cgroup_of,
		   uint64_t now_usec, struct process **ret);
/*
 * A tracked process runs a new program (exec): 0, *ret (the same process: its pidfd,
 * cgroup facts and memory limit kept, the rest as new) and *ret_job (the job of the
 * program that is gone, for the caller to finish; 0: none). -ENOENT when not tracked.
 */
int processes__exec(struct processes *ps, pid_t pid, const char *comm, uint64_t now_usec, struct process **ret,
		    unsigned *ret_job);
/*
 * Forget pid: 0, *ret_job (its job, for the caller to finish; 0: none) and *ret_pidfd
 * (its pidfd, now the caller's: a running job's capture borrows it, so it is closed
 * once that job is over). -ENOENT.
 */
int processes__remove(struct processes *ps, pid_t pid, unsigned *ret_job, int *ret_pidfd);
/*
 * Container names come from nc (borrowed for the table's life; NULL, the default: none):
 * each process holds a reference to its container's entry, released when it is removed
 * or found in another container.
 */
void processes__set_names(struct processes *ps, struct names_cache *nc);
/*
 * After process__read_cgroup(): p's container names, from the entry it holds when its
 * container is the same, else from its new container's (looked up if no process holds it;
 * the old one's reference dropped). A container inside another gets none: its id is a
 * name the outer one's owner chose (container_outer_from_paths()).
 */
void processes__refresh_names(struct processes *ps, struct process *p);
/* NULL when not tracked. */
struct process *processes__find(const struct processes *ps, pid_t pid);
unsigned processes__count(const struct processes *ps);
/* Every process, in no order. fn may change a process, not add or remove one. */
void processes__foreach(const struct processes *ps, void (*fn)(void *ctx, struct process *p), void *ctx);
/* The task iterator's CPU time for pid, summed until process__sample(); pid untracked: ignored. */
void processes__add_cpu(struct processes *ps, pid_t pid, uint64_t runtime_ns);
void processes__view(const struct processes *ps, const struct process *p, struct process_view *ret);

/*
 * Its cgroup paths, memory limit and container, read now (what is not read is cleared:
 * no old cgroup's facts stay). 0, -ENOENT (no memory limit), or -errno of the read.
 */
int process__read_cgroup(struct process *p, const struct cgroup_roots *roots);
/*
 * The tick: RSS now, and the CPU time summed since the last (kept as it was when
 * !cpu_read, or when none was summed). Growth is measured from the RSS a tick after
 * the process was first seen.
 */
void process__sample(struct process *p, uint64_t rss, bool cpu_read, uint64_t now_usec);
void process__set_rss(struct process *p, uint64_t rss);

pid_t process__pid(const struct process *p);
/* Borrowed: valid while the process is tracked. */
int process__pidfd(const struct process *p);
const char *process__comm(const struct process *p);
const struct container_info *process__container(const struct process *p);
/* processes_tenant_key() of its cgroup as last read ("/" until then). */
const char *process__tenant(const struct process *p);
uint64_t process__rss(const struct process *p);
uint64_t process__cpu_ns(const struct process *p);
uint64_t process__memory_limit(const struct process *p);
/* Its threshold triggers' state, for trigger.h's functions. */
struct trigger_state *process__triggers(struct process *p);
/* Its place in the schedule (--every): zeroed when tracked, the dispatcher's to keep. */
struct schedule_state *process__schedule(struct process *p);
/*
 * Its section of the configuration file (sections.h) as the dispatcher last judged it: an
 * index, SECTION_NONE, or PROCESS_SECTION_UNJUDGED: not judged since it was tracked, or
 * since what a rule matches changed: its program (exec), its comm, its command line, its
 * cgroup or its container's names. Its uid and executable are read when it is judged: a
 * change of uid alone is seen at the next of those, or at a reload.
 */
#define PROCESS_SECTION_UNJUDGED (-2)
int process__section(const struct process *p);
void process__set_section(struct process *p, int section);
/* Every process to be judged again (a reload: other sections, or other rules). */
void processes__forget_sections(struct processes *ps);
/* Its queued or active job; 0: none. */
unsigned process__job(const struct process *p);
void process__set_job(struct process *p, unsigned id);
/* Its discovery was logged, so will its exit be. */
bool process__announced(const struct process *p);
void process__set_announced(struct process *p);
/* The RSS marks as last set in the kernel (0, 0: none yet). */
void process__marks(const struct process *p, uint64_t *high, uint64_t *low);
void process__set_marks(struct process *p, uint64_t high, uint64_t low);

/*
 * What an OOM-kill record needs of a process, kept while it is tracked (an exec starts
 * afresh; a fork inherits nothing but what it reads itself).
 *
 * Its command line as read at discovery (NUL-separated, cut to PROCESS_CMDLINE_MAX bytes):
 * 0, -ENOMEM (the old one kept).
 */
int process__set_cmdline(struct process *p, const char *cmdline, size_t len);
/* Borrowed, valid until the next set or the process's removal; *len 0: not read. A NUL
 * follows its len bytes, so that its last argument is a string even when cut. */
const char *process__cmdline(const struct process *p, size_t *len);
/* RSS at second sec of the caller's monotonic clock, into its RSS_TIMELINE_SECONDS
 * timeline (allocated at the first point): 0, -ENOMEM (nothing kept). */
int process__push_rss(struct process *p, uint64_t sec, uint64_t rss);
/* Borrowed; NULL before the first point. */
const struct rss_timeline *process__timeline(const struct process *p);
/*
 * A capture of p's current job ended with files (copied; the oldest of PROCESS_CAPTURES_MAX
 * goes): call it before clearing the job. 0; -ESTALE: job is not p's job (0, another
 * process's, or an earlier program's: an exec clears it), nothing kept; -ENOMEM.
 */
int process__note_capture(struct process *p, unsigned job, int kind, struct timespec ended_at,
			  const char *const *files, unsigned n_files);
/* Its noted captures, oldest first. */
void process__foreach_capture(const struct process *p, void (*fn)(void *ctx, const struct process_capture *c),
			      void *ctx);
/* Its cgroup paths as last read ("" when not known), borrowed. */
void process__cgroup_paths(const struct process *p, const char **v1, const char **v2);
/* An OOM-kill record was written for this process (or refused): not again. */
bool process__oom_recorded(const struct process *p);
void process__set_oom_recorded(struct process *p);

#endif
