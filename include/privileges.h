/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The capabilities the running agent keeps, and dropping the others (capabilities(7)).
 *
 * Capabilities, the bounding set and no_new_privs belong to a thread, not to the process:
 * privileges_drop() changes the calling thread alone, and a thread inherits its creator's.
 * So it runs before the agent's first thread is made (it refuses otherwise), and every
 * thread made later (the spool's, the exporters', the symbol reader, libcurl's resolvers)
 * starts with what it left.
 *
 * Capabilities are numbered as in <linux/capability.h>; a set is a mask of 1ull << CAP_*.
 * Nothing here logs: the caller does, with privileges_names().
 */
#ifndef INSPECTD_PRIVILEGES_H
#define INSPECTD_PRIVILEGES_H

#include <stddef.h>
#include <stdint.h>

#define PRIVILEGES_MASK(cap)    (UINT64_C(1) << (cap))

/*
 * The capabilities the agent needs once started (measured; README "Hardening"):
 * CAP_SYS_ADMIN (setns() into a target's network namespace, /proc/PID/map_files, and bpf()
 * itself on kernels that refuse it to others: kernel.unprivileged_bpf_disabled before 6.5),
 * CAP_SYS_PTRACE (a target's /proc/PID/fd, maps, exe), CAP_DAC_READ_SEARCH (another user's
 * /proc/PID/fd), CAP_KILL (SIGUSR1 to another user's process, and the liveness checks),
 * CAP_NET_ADMIN (SIOCGSKNS on an inspector connection); and CAP_NET_BIND_SERVICE when
 * api_listen ("ADDR:PORT", or NULL) names a port below 1024, bound after the drop.
 * Pure.
 */
uint64_t privileges_needed(const char *api_listen);

/* A capability's name as capabilities(7) writes it ("CAP_SYS_ADMIN"), or NULL for a number
 * this build does not know. Pure. */
const char *privileges_name(unsigned cap);

/*
 * "CAP_SYS_ADMIN,CAP_KILL": the names in mask, lowest number first ("cap_41" for one with
 * no name), or "none"; cut short (still a string) when size is too small. Returns buf. Pure.
 */
const char *privileges_names(uint64_t mask, char *buf, size_t size);

struct privileges_state {
	uint64_t effective, permitted, inheritable, bounding;
	int no_new_privs;
};

/* The calling thread's sets and no_new_privs: 0, or -errno. */
int privileges_read(struct privileges_state *ret);

/*
 * Leave the calling thread only what keep names of what it has: the bounding set lowered to
 * keep (each capability dropped needs CAP_SETPCAP, dropped last), the ambient and inheritable
 * sets emptied, the effective and permitted sets made keep & permitted, no_new_privs set.
 * *ret: what the thread holds afterwards. The bounding set keeps what it cannot lose (no
 * CAP_SETPCAP): the caller compares ret->bounding with keep.
 * 0; -EBUSY: the process has more than one thread (they would keep everything: nothing is
 * changed); -errno from capget(), capset() or prctl().
 */
int privileges_drop(uint64_t keep, struct privileges_state *ret);

#endif
