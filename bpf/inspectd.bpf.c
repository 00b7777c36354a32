// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Kernel side of inspectd: keeps the set of node processes on the host and
 * reports the user-sent signals that trigger a capture.
 *
 *   sched_process_exec/fork/exit -> tracked map (+ events ring buffer)
 *   signal_generate              -> signal_events ring buffer, only for tracked
 *                                   targets, only for the configured signals, and
 *                                   at most a few a second per target
 *
 * Every event reserves its room before the map changes: an event that finds no
 * room changes nothing, and is counted in drops[] (its stream's).
 *   rss_stat                     -> tracked map's rss_bytes; ring buffer only
 *                                   when a mark userspace set is crossed.
 *                                   Attached by userspace only while a tracked
 *                                   process is near one of its marks.
 *   cgroup_attach_task           -> ring buffer, for tracked processes
 *   iter/task                    -> CPU time and RSS of tracked processes,
 *                                   read by userspace once per tick
 *   mark_victim                  -> oom_events ring buffer, for tracked processes the
 *                                   OOM killer chose (EXIT says so too)
 *   iter/task (one process)      -> its SIGUSR1 handler, read by userspace just
 *                                   before it would send SIGUSR1
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "inspectd.h"

#define SI_USER   0
#define SI_QUEUE  (-1)
#define SI_TKILL  (-6)

/* enum mm_counter_type */
#define MM_FILEPAGES   0
#define MM_ANONPAGES   1
#define MM_SHMEMPAGES  3

#define PF_EXITING     0x00000004       /* include/linux/sched.h */

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by userspace through skel->rodata before load. */
const volatile char match_names[INSPECTD_MAX_MATCH][INSPECTD_COMM_LEN] = {};
const volatile __u32 match_count = 0;
const volatile __u64 trigger_sigmask = 0;       /* bit N set: signal N is a trigger */
const volatile __u32 agent_tgid = 0;            /* our own signals never trigger */
const volatile __u64 page_size = 4096;
const volatile __u64 tick_ns = 10000000;        /* NSEC_PER_SEC / USER_HZ */
/* Trigger signals per target: one each sig_interval_ns, sig_burst at once. */
const volatile __u64 sig_interval_ns = 500000000;
const volatile __u64 sig_burst = 4;

/*
 * Preallocated: tracking a process at exec or fork must not fail for want of memory
 * on a host under pressure. Userspace sets marks by replacing a whole element, and the
 * kernel may hand the old one to the next update at once: a program on another CPU
 * that looked it up just before may store one process's RSS in, or clear the mark of,
 * the process that gets it next. The window is a few instructions, and nothing is
 * lost: the tick judges every tracked process's RSS from the task iterator each second.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, INSPECTD_MAX_TRACKED);
	__type(key, __u32);
	__type(value, struct inspectd_tracked);
} tracked SEC(".maps");

/*
 * The rss_stat fast path: per CPU, what the last mm seen there needs. A page fault of
 * the same mm whose RSS stays between its marks (and within a MiB of the RSS last
 * stored) costs one array lookup and a few loads, no hash lookup. Any change to the
 * tracked set or to marks bumps marks_gen, which invalidates every CPU's entry.
 */
struct rss_cache {
	__u64 mm;
	__u64 gen;
	__u64 high;             /* ~0: no high mark */
	__u64 low;
	__u64 stored_rss;       /* the tracked map's rss_bytes as last written */
	__u32 tracked;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rss_cache);
} rss_cache SEC(".maps");

volatile __u64 marks_gen = 0;   /* bumped by userspace after it sets marks, and here */
volatile __u64 track_failures = 0;      /* a node process not tracked: the map was full */
volatile __u64 drops[INSPECTD_STREAM_COUNT] = {};       /* events lost: their ring was full */
volatile __u64 signals_limited = 0;     /* trigger signals over their target's rate */

#define RSS_STORE_STEP  (1ULL << 20)

/* Lifecycle and RSS events. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Trigger signals only: 819 events of room, refilled at a few a second per target. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} signal_events SEC(".maps");

static __always_inline void count_drop(__u32 stream)
{
	if (stream < INSPECTD_STREAM_COUNT)
		__sync_fetch_and_add(&drops[stream], 1);
}

/* The process's identity beside its pid, as /proc/PID/stat's field 22 gives it. */
static __always_inline __u64 start_ticks(struct task_struct *task)
{
	__u64 boottime = BPF_CORE_READ(task, group_leader, start_boottime);

	return tick_ns ? boottime / tick_ns : boottime;
}

/* The tracked entry of task's process; NULL when none, or when it is a stale entry
 * whose pid another process has now. */
static __always_inline struct inspectd_tracked *tracked_task(struct task_struct *task, __u32 pid)
{
	struct inspectd_tracked *t = bpf_map_lookup_elem(&tracked, &pid);

	if (!t || t->start_ticks != start_ticks(task))
		return NULL;
	return t;
}

static __always_inline bool name_matches(const char *name)
{
	for (__u32 i = 0; i < INSPECTD_MAX_MATCH; i++) {
		bool equal = true;

		if (i >= match_count)
			break;
		for (__u32 j = 0; j < INSPECTD_COMM_LEN; j++) {
			char c = match_names[i][j];

			if (name[j] != c) {
				equal = false;
				break;
			}
			if (c == '\0')
				break;
		}
		if (equal)
			return true;
	}
	return false;
}

/* A zeroed event of this type for pid in ring, stamped now; NULL (and counted as a drop
 * of stream) when the ring buffer is full. */
static __always_inline struct inspectd_event *event_reserve(void *ring, __u32 stream, __u32 type, __u32 pid)
{
	struct inspectd_event *e;

	e = bpf_ringbuf_reserve(ring, sizeof(*e), 0);
	if (!e) {
		count_drop(stream);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->pid = pid;
	e->ktime_ns = bpf_ktime_get_ns();
	return e;
}

static __always_inline void track(__u32 type, struct task_struct *task, __u32 pid, __u32 ppid,
				   const char *comm)
{
	struct inspectd_tracked t = {
		.start_ticks = start_ticks(task),
	};
	struct inspectd_tracked *old;
	struct inspectd_event *e;

	/* Room first: without it, neither side tracks the process (a rescan finds it). */
	e = event_reserve(&events, INSPECTD_STREAM_LIFECYCLE, type, pid);
	if (!e)
		return;
	/* A process that exec's node again keeps its signal rate. */
	old = bpf_map_lookup_elem(&tracked, &pid);
	if (old && old->start_ticks == t.start_ticks)
		t.sig_tat_ns = old->sig_tat_ns;
	/* Userspace must not track what the kernel side does not: no map entry, no event. */
	if (bpf_map_update_elem(&tracked, &pid, &t, BPF_ANY) != 0) {
		bpf_ringbuf_discard(e, 0);
		__sync_fetch_and_add(&track_failures, 1);
		return;
	}
	__sync_fetch_and_add(&marks_gen, 1);
	e->ppid = ppid;
	__builtin_memcpy(e->comm, comm, INSPECTD_COMM_LEN);
	bpf_ringbuf_submit(e, 0);
}

/*
 * pid leaves the tracked map, reported as EXIT (with flags and status, the exit status as
 * wait() has it, -1 for an exec); with no room to report it, it stays.
 */
static __always_inline void untrack(__u32 pid, const char *comm, __u64 flags, __s32 status)
{
	struct inspectd_event *e;

	e = event_reserve(&events, INSPECTD_STREAM_LIFECYCLE, INSPECTD_EVENT_EXIT, pid);
	if (!e)
		return;
	if (bpf_map_delete_elem(&tracked, &pid) != 0) {
		bpf_ringbuf_discard(e, 0);
		return;
	}
	__sync_fetch_and_add(&marks_gen, 1);
	__builtin_memcpy(e->comm, comm, INSPECTD_COMM_LEN);
	e->value = flags;
	e->result = status;
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	char name[INSPECTD_COMM_LEN] = {};
	const unsigned char *dname;
	__u32 pid = BPF_CORE_READ(task, tgid);

	/* The real file's name, after symlinks: /usr/bin/nodejs -> node. */
	dname = BPF_CORE_READ(bprm, file, f_path.dentry, d_name.name);
	bpf_probe_read_kernel_str(name, sizeof(name), dname);

	if (name_matches(name)) {
		track(INSPECTD_EVENT_EXEC, task, pid, BPF_CORE_READ(task, real_parent, tgid), name);
	} else if (bpf_map_lookup_elem(&tracked, &pid)) {
		/* A node process exec'd into something else: no longer a target. */
		untrack(pid, name, 0, -1);
	}
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ppid = BPF_CORE_READ(parent, tgid);
	__u32 pid = BPF_CORE_READ(child, pid);
	char comm[INSPECTD_COMM_LEN];

	if (pid != BPF_CORE_READ(child, tgid))
		return 0;       /* a new thread, not a new process */
	if (!tracked_task(parent, ppid))
		return 0;
	BPF_CORE_READ_STR_INTO(&comm, child, comm);
	track(INSPECTD_EVENT_FORK, child, pid, ppid, comm);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task)
{
	__u32 pid = BPF_CORE_READ(task, tgid);
	char comm[INSPECTD_COMM_LEN];

	/* Only the last thread of the group: signal->live already dropped. */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	if (!bpf_map_lookup_elem(&tracked, &pid))
		return 0;
	BPF_CORE_READ_STR_INTO(&comm, task, comm);
	/* Set by mark_oom_victim(), kept until the signal struct goes: an OOM kill whose own
	 * event was lost, or is read after this one, is still known as one. */
	untrack(pid, comm, BPF_CORE_READ(task, signal, oom_mm) ? INSPECTD_EXIT_OOM_VICTIM : 0,
		BPF_CORE_READ(task, exit_code));
	return 0;
}

SEC("tp_btf/signal_generate")
int BPF_PROG(handle_signal, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	struct inspectd_tracked *t;
	struct inspectd_event *e;
	__u64 now, tat, next;
	__u32 pid, sender;
	int code;

	if (sig <= 0 || sig >= 64 || !(trigger_sigmask & (1ULL << sig)))
		return 0;
	/* SEND_SIG_NOINFO (0) and SEND_SIG_PRIV (1) come from inside the kernel. */
	if ((unsigned long)info <= 1)
		return 0;
	code = BPF_CORE_READ(info, si_code);
	if (code != SI_USER && code != SI_QUEUE && code != SI_TKILL)
		return 0;       /* kernel-generated: tty resize, SIGIO, ... */
	sender = bpf_get_current_pid_tgid() >> 32;
	if (sender == agent_tgid)
		return 0;
	pid = BPF_CORE_READ(task, tgid);
	t = tracked_task(task, pid);
	if (!t)
		return 0;

	/* A token bucket per target, as a GCRA: a trigger is two signals seconds apart, and a
	 * loop of them must cost the others nothing. */
	now = bpf_ktime_get_ns();
	tat = t->sig_tat_ns;
	if (tat > now + (sig_burst ? sig_burst - 1 : 0) * sig_interval_ns) {
		__sync_fetch_and_add(&signals_limited, 1);
		return 0;
	}
	e = event_reserve(&signal_events, INSPECTD_STREAM_SIGNAL, INSPECTD_EVENT_SIGNAL, pid);
	if (!e)
		return 0;
	next = (tat > now ? tat : now) + sig_interval_ns;
	if (__sync_val_compare_and_swap(&t->sig_tat_ns, tat, next) != tat) {
		/* Another CPU took this turn. */
		bpf_ringbuf_discard(e, 0);
		__sync_fetch_and_add(&signals_limited, 1);
		return 0;
	}
	e->sig = sig;
	e->si_code = code;
	e->sender_pid = sender;
	e->sender_ns_pid = BPF_CORE_READ(info, _sifields._kill._pid);
	e->result = result;
	BPF_CORE_READ_STR_INTO(&e->comm, task, group_leader, comm);
	bpf_get_current_comm(e->sender_comm, sizeof(e->sender_comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * Before 6.2 (Debian 12's stock 6.1) mm->rss_stat was a struct of atomic_long_t
 * counters; since, an array of percpu_counter. CO-RE picks the branch at load time and
 * the verifier drops the other one with its unresolved relocations. Only the 6.2+
 * branch has run here (kernel 6.18): the older one follows the layout, untested.
 */
struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
};

struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

/* RSS in bytes as the kernel's own approximate counters say (exact to a batch per CPU). */
static __always_inline __u64 mm_rss(struct mm_struct *mm)
{
	__s64 pages;

	if (bpf_core_type_exists(struct mm_rss_stat___pre62)) {
		struct mm_struct___pre62 *old = (void *)mm;

		pages = BPF_CORE_READ(old, rss_stat.count[MM_FILEPAGES].counter) +
			BPF_CORE_READ(old, rss_stat.count[MM_ANONPAGES].counter) +
			BPF_CORE_READ(old, rss_stat.count[MM_SHMEMPAGES].counter);
	} else {
		/* BTF-typed pointers: plain loads, not bpf_probe_read calls. */
		pages = mm->rss_stat[MM_FILEPAGES].count + mm->rss_stat[MM_ANONPAGES].count +
			mm->rss_stat[MM_SHMEMPAGES].count;
	}
	return pages > 0 ? (__u64)pages * page_size : 0;
}

/*
 * Once per page fault of every process on the host, while attached: the kernel's
 * own dispatch to this program costs more than the program (see the README), so
 * userspace attaches it only while some tracked process is near a mark, and the
 * task iterator keeps RSS once a second otherwise. The event runs in the context of
 * whichever task changed the counters; mm->owner names the process that owns the
 * memory.
 */
SEC("tp_btf/rss_stat")
int BPF_PROG(handle_rss_stat, struct mm_struct *mm, int member)
{
	struct task_struct *owner;
	struct inspectd_tracked *t;
	struct inspectd_event *e;
	struct rss_cache *c;
	__u32 zero = 0, pid;
	__u64 gen = marks_gen, rss, high, low;

	c = bpf_map_lookup_elem(&rss_cache, &zero);
	if (!c)
		return 0;
	if (c->mm == (__u64)mm && c->gen == gen) {
		if (!c->tracked)
			return 0;
		rss = mm_rss(mm);
		if (rss < c->high && rss >= c->low && rss < c->stored_rss + RSS_STORE_STEP &&
		    rss + RSS_STORE_STEP > c->stored_rss)
			return 0;       /* nothing to report, the stored RSS is close enough */
	}

	/* The slow path: a new mm on this CPU, new marks, or something to do. A NULL
	 * owner (an exiting mm) reads as 0. */
	c->mm = (__u64)mm;
	c->gen = gen;
	c->tracked = 0;
	owner = mm->owner;
	if (!owner)
		return 0;
	pid = owner->tgid;
	t = bpf_map_lookup_elem(&tracked, &pid);
	if (!t)
		return 0;

	rss = mm_rss(mm);
	t->rss_bytes = rss;
	/* The marks are one-shot; two CPUs faulting for one mm may race: whoever clears one reports it. */
	high = t->rss_high;
	low = t->rss_low;
	if (high && rss >= high) {
		e = event_reserve(&events, INSPECTD_STREAM_RSS, INSPECTD_EVENT_RSS_HIGH, pid);
		/* No room: the mark stays, and the next fault reports it. */
		if (e) {
			e->value = rss;
			if (__sync_val_compare_and_swap(&t->rss_high, high, 0) == high)
				bpf_ringbuf_submit(e, 0);
			else
				bpf_ringbuf_discard(e, 0);
		}
	} else if (low && rss < low) {
		e = event_reserve(&events, INSPECTD_STREAM_RSS, INSPECTD_EVENT_RSS_LOW, pid);
		if (e) {
			e->value = rss;
			if (__sync_val_compare_and_swap(&t->rss_low, low, 0) == low)
				bpf_ringbuf_submit(e, 0);
			else
				bpf_ringbuf_discard(e, 0);
		}
	}
	c->tracked = 1;
	c->stored_rss = rss;
	c->high = t->rss_high ? t->rss_high : ~0ULL;
	c->low = t->rss_low;
	return 0;
}

SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(handle_cgroup_attach, struct cgroup *dst, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	__u32 pid = BPF_CORE_READ(task, tgid);
	struct inspectd_event *e;

	if (!bpf_map_lookup_elem(&tracked, &pid))
		return 0;
	e = event_reserve(&events, INSPECTD_STREAM_LIFECYCLE, INSPECTD_EVENT_CGROUP, pid);
	if (e)
		bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * Read by userspace once per tick: one record per thread of each tracked process,
 * and the process's RSS into the tracked map, so that RSS is known (to a second)
 * while rss_stat is not attached.
 */
SEC("iter/task")
int dump_task_cpu(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct inspectd_task_sample s = {};
	struct inspectd_tracked *t;
	struct mm_struct *mm;
	__u32 pid;

	if (!task)
		return 0;
	pid = task->tgid;
	t = bpf_map_lookup_elem(&tracked, &pid);
	if (!t)
		return 0;
	s.tgid = pid;
	s.runtime_ns = task->se.sum_exec_runtime;
	if (task->pid == pid)
		s.runtime_ns += BPF_CORE_READ(task, signal, sum_sched_runtime);
	/* An exiting task's mm may be freed under us (it is not RCU-freed): not read from
	 * PF_EXITING on, and userspace rejects RSS beyond the machine's memory. */
	mm = task->mm;
	if (mm && !(task->flags & PF_EXITING))
		t->rss_bytes = mm_rss(mm);
	bpf_seq_write(ctx->meta->seq, &s, sizeof(s));
	return 0;
}

/* OOM kills of tracked processes: rare, and never behind a full lifecycle ring. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024);
} oom_events SEC(".maps");

/*
 * The OOM killer chose task (mark_oom_victim(), after its SIGKILL was queued and before
 * it exits): the only event that says "OOM kill" and nothing else. A kernel SIGKILL on
 * signal_generate (SEND_SIG_PRIV) is also what seccomp, rlimits and others send. The
 * victim's mm is pinned here (find_lock_task_mm() holds its task lock): its RSS at the
 * kill is read from it. current is the task whose allocation invoked the killer.
 */
SEC("tp_btf/mark_victim")
int BPF_PROG(handle_oom_victim, struct task_struct *task, uid_t uid)
{
	__u32 pid = BPF_CORE_READ(task, tgid);
	struct inspectd_event *e;
	struct mm_struct *mm;

	if (!tracked_task(task, pid))
		return 0;
	e = event_reserve(&oom_events, INSPECTD_STREAM_OOM, INSPECTD_EVENT_OOM_KILL, pid);
	if (!e)
		return 0;
	mm = task->mm;
	if (mm)
		e->value = mm_rss(mm);
	e->result = BPF_CORE_READ(task, signal, oom_score_adj);
	e->sender_pid = bpf_get_current_pid_tgid() >> 32;
	BPF_CORE_READ_STR_INTO(&e->comm, task, group_leader, comm);
	bpf_get_current_comm(e->sender_comm, sizeof(e->sender_comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#define SIGUSR1_NR      10

/*
 * Attached by userspace for one process (link_info.task.pid_fd) each time it is about to
 * send SIGUSR1: which handler catches SIGUSR1 now. The signal table is the thread group's;
 * the group leader's is read.
 */
SEC("iter/task")
int dump_sigusr1_handler(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct inspectd_sig_handler h = {};

	if (!task || task->pid != task->tgid)
		return 0;
	h.tgid = task->tgid;
	h.handler = (__u64)BPF_CORE_READ(task, sighand, action[SIGUSR1_NR - 1].sa.sa_handler);
	bpf_seq_write(ctx->meta->seq, &h, sizeof(h));
	return 0;
}
