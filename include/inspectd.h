/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Shared by bpf/inspectd.bpf.c and userspace: the events the kernel side
 * sends through the ring buffer and the maps both sides read.
 * Fixed-width types only (no pointers, bool or long): both sides must agree
 * on the layout, and userspace _Static_asserts the sizes.
 */
#ifndef INSPECTD_H
#define INSPECTD_H

#define INSPECTD_COMM_LEN       16
#define INSPECTD_MAX_MATCH      8       /* executable basenames tracked */
#define INSPECTD_MAX_TRACKED    65536   /* node processes on one host */

enum inspectd_event_type {
	INSPECTD_EVENT_EXEC   = 1,      /* a tracked executable started */
	INSPECTD_EVENT_EXIT   = 2,      /* the last thread of a tracked process exited */
	INSPECTD_EVENT_SIGNAL = 3,      /* a user sent a trigger signal to a tracked process */
	INSPECTD_EVENT_FORK   = 4,      /* a tracked process forked: the child runs node too */
	INSPECTD_EVENT_RSS_HIGH = 5,    /* RSS reached the process's rss_high mark */
	INSPECTD_EVENT_RSS_LOW  = 6,    /* RSS fell below the process's rss_low mark */
	INSPECTD_EVENT_CGROUP = 7,      /* the process moved to another cgroup */
	INSPECTD_EVENT_OOM_KILL = 8,    /* the kernel's OOM killer chose a tracked process (mark_victim) */
};

/* EXIT's value: flags. */
#define INSPECTD_EXIT_OOM_VICTIM 1ULL   /* the OOM killer had marked it (signal->oom_mm set) */

/*
 * The event streams, each with its own count of events lost for want of room: signals
 * have a ring buffer of their own (one process's signal loop must not crowd out the
 * lifecycle of others); lifecycle and RSS events share the events ring.
 */
enum inspectd_stream {
	INSPECTD_STREAM_LIFECYCLE = 0,  /* EXEC, FORK, EXIT, CGROUP */
	INSPECTD_STREAM_SIGNAL    = 1,  /* SIGNAL */
	INSPECTD_STREAM_RSS       = 2,  /* RSS_HIGH, RSS_LOW */
	INSPECTD_STREAM_OOM       = 3,  /* OOM_KILL: a ring of its own, read before the others */
	INSPECTD_STREAM_COUNT     = 4,
};

/*
 * Value of the tracked map, keyed by tgid (host pid namespace). The kernel
 * side keeps rss_bytes and the signal rate; userspace sets the marks. A mark is
 * one-shot: the kernel clears it when it reports the crossing, userspace sets it again.
 * An entry is written only once the event that reports it is reserved: no event, no
 * change, and both sides still agree.
 */
struct inspectd_tracked {
	__u64 start_ticks;              /* the group leader's start_boottime in clock ticks: field 22
					 * of /proc/PID/stat; with the pid, the process's identity */
	__u64 rss_bytes;                /* last RSS seen on rss_stat (per-CPU approximate) */
	__u64 rss_high;                 /* report RSS_HIGH when rss_bytes >= this; 0: off */
	__u64 rss_low;                  /* report RSS_LOW when rss_bytes < this; 0: off */
	__u64 sig_tat_ns;               /* trigger signals' rate (GCRA): when the next one is due,
					 * bpf_ktime_get_ns(); 0: never limited yet */
};

/* One record of the task iterator: CPU time of one thread of a tracked process. */
struct inspectd_task_sample {
	__u32 tgid;
	__u32 _pad;
	__u64 runtime_ns;               /* the thread's, plus its dead siblings' for the leader */
};

/*
 * One record of the SIGUSR1 iterator, run for one process just before SIGUSR1 would be
 * sent: the handler its signal table holds for SIGUSR1 at that moment.
 */
struct inspectd_sig_handler {
	__u32 tgid;
	__u32 _pad;
	__u64 handler;                  /* sa_handler: 0 SIG_DFL, 1 SIG_IGN, else a code address */
};

struct inspectd_event {
	__u32 type;                     /* enum inspectd_event_type */
	__u32 pid;                      /* the tracked process (tgid, host namespace) */
	__u64 ktime_ns;                 /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 ppid;                     /* EXEC, FORK: parent tgid */
	__u32 sig;                      /* SIGNAL: signal number */
	__s32 si_code;                  /* SIGNAL: SI_USER, SI_QUEUE or SI_TKILL */
	__u32 sender_pid;               /* SIGNAL: sender tgid, host namespace; OOM_KILL: the task whose
					 * allocation invoked the OOM killer */
	__u32 sender_ns_pid;            /* SIGNAL: si_pid, the sender's pid in its own namespace */
	__s32 result;                   /* SIGNAL: TRACE_SIGNAL_* of signal_generate; OOM_KILL: oom_score_adj;
					 * EXIT: the exit status as wait() has it (code << 8, or the
					 * signal, | 0x80 for a core), -1: not known (it exec'd another
					 * program, or its exit was found, not seen) */
	char comm[INSPECTD_COMM_LEN];   /* the tracked process */
	char sender_comm[INSPECTD_COMM_LEN];
	__u64 value;                    /* RSS_HIGH, RSS_LOW, OOM_KILL: RSS in bytes; EXIT: INSPECTD_EXIT_* */
};

#endif /* INSPECTD_H */
