/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The agent's system call filter (seccomp(2), through libseccomp), installed once it has
 * started: the system calls of its allow-list (src/syscall_filter.c, measured with strace
 * through the integration suites) pass, with their arguments checked for a few; any other
 * fails with EPERM in the thread that made it. A profiling agent whose rare path meets a
 * refused call loses that one operation (logged where it fails) rather than the host's
 * profiling: the filter does not kill. execve(), fork() and loading BPF programs are
 * among what it refuses; a call from a foreign ABI (x32, i386) kills the process.
 *
 * It covers every thread at once (SCMP_FLTATR_CTL_TSYNC) and every thread made later, and
 * sets no_new_privs on them all. It cannot be removed.
 *
 * Refusals are counted: the filter's action is SECCOMP_RET_TRAP, whose SIGSYS handler makes
 * the call return -EPERM, counts it by number and wakes syscall_filter__fd(). So no thread of
 * the agent may block SIGSYS (the kernel would kill the process for a trap it cannot
 * deliver): syscall_filter__install() checks every thread's mask, and where one blocks it
 * (or on an architecture whose return register the handler does not know) the filter
 * answers EPERM itself (SECCOMP_RET_ERRNO), uncounted. The counters live in the process (a
 * signal handler reaches nothing else): one filter per process.
 */
#ifndef INSPECTD_SYSCALL_FILTER_H
#define INSPECTD_SYSCALL_FILTER_H

#include <stdbool.h>
#include <stdint.h>

struct syscall_filter;

/*
 * Install the filter on every thread. 0 and *ret; -EALREADY: installed before in this
 * process; -EINVAL: libseccomp refused the allow-list; -ENOMEM; -errno from seccomp() (EPERM:
 * neither no_new_privs nor CAP_SYS_ADMIN, or an outer filter refuses seccomp() itself;
 * ESRCH: a thread could not be synchronised).
 */
int syscall_filter__install(struct syscall_filter **ret);

/* Whether refusals are counted (SECCOMP_RET_TRAP), or only answered EPERM by the kernel. */
bool syscall_filter__counting(const struct syscall_filter *f);

/* Readable when a call was refused since the last syscall_filter__each_refused(); -1 when
 * refusals are not counted. Put it in the event loop. */
int syscall_filter__fd(const struct syscall_filter *f);

/*
 * For each system call refused since the last call: fn(ctx, name, nr, total), total being
 * its refusals since the filter came (name "?" for a number libseccomp cannot name). Clears
 * the fd's readiness. Not for the signal handler's thread: the loop's.
 */
void syscall_filter__each_refused(struct syscall_filter *f,
				  void (*fn)(void *ctx, const char *name, int nr, uint64_t total), void *ctx);

/* Every refusal since the filter came. */
uint64_t syscall_filter__refused_total(const struct syscall_filter *f);

/* The reporting state freed (NULL is fine); the filter itself stays, as seccomp filters do. */
void syscall_filter__free(struct syscall_filter *f);

#endif
