// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The agent's system call filter: an allow-list, refusals trapped and counted. See
 * syscall_filter.h; README "Hardening" says how the list was measured.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "syscall_filter.h"

/*
 * What the running agent calls: every system call strace -f saw the agent make once ready,
 * through the integration suites (README "Hardening": captures of every kind in the host's
 * and in other network namespaces, the S3 and Pyroscope exporters, SIGHUP reloads, the API,
 * the threshold triggers, restarts and shutdown), then a few on paths the suites do not
 * reach, each with its reason. A call listed with argument rules (below) is allowed only as
 * they say. What start-up alone calls (bpf() loads, signalfd4, eventfd2, listen, bind of
 * the API, flock, umask, setrlimit, capset, prctl) is not here.
 */
static const char *const allowed[] = {
	/* measured: files and folders (the spool, the ledger, /proc, cgroups, the runtimes'
	 * state files, the configuration on a reload) */
	"openat", "read", "pread64", "write", "lseek", "close", "fcntl", "newfstatat", "statx",
	"getdents64", "readlink", "readlinkat", "ftruncate", "fsync", "renameat", "renameat2",
	"unlink", "unlinkat",
	/* measured: a container's name from its runtime's state files below --host-root
	 * (openat2, RESOLVE_IN_ROOT), where a container runs on the host */
	"openat2",
	/* measured: sockets (inspectors, the API: accept4 on its Unix socket, lws's accept on
	 * --api-listen; the exporters, sock_diag) and the loop */
	"socket", "socketpair", "connect", "accept4", "accept", "getsockname", "getpeername",
	"getsockopt", "setsockopt", "sendto", "recvfrom", "shutdown", "ioctl", "poll",
	/* measured: memory, threads' waits, randomness */
	"mmap", "munmap", "mprotect", "madvise", "futex", "getrandom", "getpid",
	"rt_sigaction", "rt_sigprocmask", "exit", "exit_group",
	/* measured: the targets (pidfds, their signals, their network namespace) */
	"pidfd_open", "pidfd_send_signal", "setns",
	/* measured: the maps, rss_stat attached on demand, the SIGUSR1 handler's iterator */
	"bpf",
	/* not reached by the suites: a relative --config path on a reload (realpath); a rename
	 * refused by the file system (link then unlink, fsutil.c); a folder made again */
	"getcwd", "linkat", "mkdir", "mkdirat",
	/* not reached: a thread started (libcurl's resolver, for a host name), and glibc's
	 * malloc growing and shrinking; clone only for a thread (the rules) */
	"clone", "set_robust_list", "rseq", "brk", "mremap", "gettid",
	/* not reached: the name resolver (/etc/hosts, DNS over UDP, netlink for the
	 * interfaces' addresses) */
	"bind", "sendmmsg", "recvmsg", "uname",
	/* not reached: sleeps and clocks without the vDSO, a signal handler's return (the
	 * filter's own SIGSYS), a call interrupted and restarted, abort() */
	"clock_gettime", "gettimeofday", "nanosleep", "clock_nanosleep", "rt_sigreturn",
	"restart_syscall", "tgkill",
	/* not reached: whose credentials (glibc, OpenSSL) */
	"getuid", "geteuid", "getgid", "getegid",
	/* found by the suites (the queue of more than 64 jobs): glibc's qsort() of more than
	 * 1 KiB asks sysconf(_SC_PHYS_PAGES) once, which is sysinfo() */
	"sysinfo",
};

/* socket(): the families the agent speaks (and the unit's RestrictAddressFamilies=). */
static const int families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };

/* bpf(): the running agent's commands (measured: lookups, updates, walks, a link created,
 * an iterator read, the tick's batched read of every tracked process's RSS; deleting an
 * entry and the older raw tracepoint attach kept); never BPF_PROG_LOAD, BPF_MAP_CREATE or
 * BPF_BTF_LOAD. */
static const int bpf_commands[] = {
	BPF_MAP_LOOKUP_ELEM, BPF_MAP_LOOKUP_BATCH, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY,
	BPF_LINK_CREATE, BPF_RAW_TRACEPOINT_OPEN, BPF_ITER_CREATE,
};

/*
 * make SANITIZE=1 only: LeakSanitizer's check at exit stops the world with a tracer it
 * clones as a process (not a thread) and ptrace()s the threads from it.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_RUNTIME 1
static const char *const allowed_sanitizer[] = { "ptrace", "wait4", "waitid", "kill", "sched_yield", "prctl",
						 "sigaltstack", "getppid", "dup", "dup3", "pipe2",
						 /* the tracer lists the threads with the old calls: open(), getdents() (measured);
						 * the runtime's other internal_*() calls alike */
						 "open", "getdents", "stat", "lstat", "fstat", "dup2",
						 /* ASan reads a new thread's stack bounds: pthread_getattr_np() */
						 "sched_getaffinity" };
#else
#define SANITIZER_RUNTIME 0
static const char *const allowed_sanitizer[] = { NULL };
#endif

/* A seccomp trap's si_code (the kernel's SYS_SECCOMP; glibc 2.36 does not name it). */
#define SECCOMP_TRAP_CODE 1

/* One slot per system call number; numbers beyond share the last. */
#define SLOTS 1024

/*
 * Process-wide, as the filter and its SIGSYS handler are: a filter covers every thread for
 * the process's life (installed: one at most), and the handler is given no context of ours,
 * so what it counts and the fd it wakes are here, as lock-free atomics it may touch.
 */
static atomic_uint_fast64_t refused[SLOTS];
static atomic_int notify_fd = -1;
static atomic_bool installed;

struct syscall_filter {
	bool counting;
	int efd;                                /* the handler's wake-up; -1 when not counting */
	uint64_t reported[SLOTS];               /* refused[] at the last report */
};

/* The trap: the call returns -EPERM, counted. A SIGSYS that is no trap (kill -SYS) is ignored. */
static void on_sigsys(int sig, siginfo_t *si, void *context)
{
	ucontext_t *uc = context;
	int saved = errno, fd;
	uint64_t one = 1;
	unsigned nr;

	if (si->si_code != SECCOMP_TRAP_CODE)
		return;
	nr = (unsigned)si->si_syscall;
	atomic_fetch_add_explicit(&refused[nr < SLOTS ? nr : SLOTS - 1], 1, memory_order_relaxed);
#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
#elif defined(__aarch64__)
	uc->uc_mcontext.regs[0] = (unsigned long long)-EPERM;
#endif
	fd = atomic_load_explicit(&notify_fd, memory_order_relaxed);
	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: already awake */
	}
	errno = saved;
}

/* Whether any thread of this process blocks SIGSYS (SigBlk in its status): 0, 1 or -errno. */
static int sigsys_blocked_anywhere(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");
	int r = 0;

	if (!d)
		return -errno;
	while (r == 0 && (de = readdir(d))) {
		char path[300], buf[4096], *line;
		unsigned long long blocked;
		ssize_t n;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;       /* the thread ended */
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		line = strstr(buf, "\nSigBlk:");
		if (!line || sscanf(line + 8, "%llx", &blocked) != 1)
			r = -EIO;
		else if (blocked & (1ull << (SIGSYS - 1)))
			r = 1;
	}
	closedir(d);
	return r;
}

/*
 * Whether the handler can set a trapped call's return value here. A thread being made has
 * every signal blocked until glibc's start_thread() gives it its creator's mask: a few
 * looks, a millisecond apart, tell it from a thread that blocks SIGSYS for good.
 */
static bool can_trap(void)
{
#if defined(__x86_64__) || defined(__aarch64__)
	for (int i = 0; i < 20; i++) {
		int r = sigsys_blocked_anywhere();

		if (r <= 0)
			return r == 0;
		usleep(1000);
	}
#endif
	return false;
}

static int add_rules(scmp_filter_ctx ctx)
{
	int r, nr;

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;       /* not on this architecture (open, stat, ... on aarch64) */
		if (strcmp(allowed[i], "socket") == 0) {
			for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
				r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[f]));
				if (r < 0)
					return r;
			}
		} else if (strcmp(allowed[i], "bpf") == 0) {
			for (size_t c = 0; c < sizeof(bpf_commands) / sizeof(bpf_commands[0]); c++) {
				r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
						     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)bpf_commands[c]));
				if (r < 0)
					return r;
			}
		} else if (strcmp(allowed[i], "setns") == 0) {
			/* A target's network namespace, and back: no other kind. */
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A1(SCMP_CMP_EQ, CLONE_NEWNET));
		} else if (strcmp(allowed[i], "clone") == 0 && !SANITIZER_RUNTIME) {
			/* Threads only: no fork(), no new process. */
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
					     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
		} else {
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		}
		if (r < 0)
			return r;
	}
	for (size_t i = 0; SANITIZER_RUNTIME && i < sizeof(allowed_sanitizer) / sizeof(allowed_sanitizer[0]); i++) {
		nr = seccomp_syscall_resolve_name(allowed_sanitizer[i]);
		if (nr != __NR_SCMP_ERROR && (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0)
			return r;
	}
	/* clone3()'s flags are out of the filter's reach (a pointer): ENOSYS sends glibc back
	 * to clone(), whose flags it can check. */
	nr = seccomp_syscall_resolve_name("clone3");
	if (nr != __NR_SCMP_ERROR) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

int syscall_filter__install(struct syscall_filter **ret)
{
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct syscall_filter *f;
	scmp_filter_ctx ctx;
	int r;

	if (atomic_exchange(&installed, true))
		return -EALREADY;
	f = calloc(1, sizeof(*f));
	if (!f) {
		r = -ENOMEM;
		goto fail;
	}
	f->efd = -1;
	f->counting = can_trap();
	if (f->counting) {
		f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (f->efd < 0 || sigaction(SIGSYS, &sa, NULL) < 0) {
			r = -errno;
			goto fail;
		}
		atomic_store(&notify_fd, f->efd);
	}
	ctx = seccomp_init(f->counting ? SCMP_ACT_TRAP : SCMP_ACT_ERRNO(EPERM));
	if (!ctx) {
		r = -ENOMEM;
		goto fail;
	}
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r == 0)
		r = add_rules(ctx);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		goto fail;
	*ret = f;
	return 0;
fail:
	if (f && f->counting)
		atomic_store(&notify_fd, -1);
	if (f && f->efd >= 0)
		close(f->efd);
	free(f);
	atomic_store(&installed, false);
	return r;
}

bool syscall_filter__counting(const struct syscall_filter *f)
{
	return f->counting;
}

int syscall_filter__fd(const struct syscall_filter *f)
{
	return f->efd;
}

void syscall_filter__each_refused(struct syscall_filter *f,
				  void (*fn)(void *ctx, const char *name, int nr, uint64_t total), void *ctx)
{
	uint64_t n;

	if (f->efd >= 0 && read(f->efd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing new */
	}
	for (int nr = 0; nr < SLOTS; nr++) {
		uint64_t total = atomic_load_explicit(&refused[nr], memory_order_relaxed);
		char *name;

		if (total == f->reported[nr])
			continue;
		f->reported[nr] = total;
		name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		fn(ctx, name ? name : "?", nr, total);
		free(name);
	}
}

uint64_t syscall_filter__refused_total(const struct syscall_filter *f)
{
	uint64_t sum = 0;

	for (int nr = 0; nr < SLOTS; nr++)
		sum += atomic_load_explicit(&refused[nr], memory_order_relaxed);
	return sum;
}

void syscall_filter__free(struct syscall_filter *f)
{
	if (!f)
		return;
	/* The handler stays (the filter does): it counts on, waking nobody. The eventfd stays
	 * open too: a handler running now must not write into whatever reuses its number. */
	atomic_store(&notify_fd, -1);
	free(f);
}
