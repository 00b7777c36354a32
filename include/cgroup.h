/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The memory limit a process runs under, from cgroup v1 (the memory
 * controller) and cgroup v2. The text of /proc/PID/cgroup names paths a
 * target can influence (delegated subtrees), so paths are validated before
 * they reach the filesystem and every file is read with a small bounded
 * buffer. Nothing here logs: the caller logs once, with *source as context.
 */
#ifndef INSPECTD_CGROUP_H
#define INSPECTD_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Mount points of the hierarchies, as the agent (the host's cgroup namespace)
 * sees them; NULL where a hierarchy is absent. A root must be the mount of the
 * hierarchy's top, so that root + the path from /proc/PID/cgroup names the
 * process's cgroup directory.
 */
struct cgroup_roots {
	const char *v1_memory;  /* e.g. "/sys/fs/cgroup/memory" */
	const char *v2;         /* e.g. "/sys/fs/cgroup/unified" or "/sys/fs/cgroup" */
};

/*
 * Join the cgroup namespace of process pid, so that /proc/PID/cgroup names every process's
 * cgroup from the root the roots above are mounts of. For an agent in a container that has
 * the host's pid namespace (a Kubernetes pod with hostPID) but a cgroup namespace of its own
 * (containerd gives every unprivileged container one on cgroup v2), pid 1 is the host's
 * init: without this, processes outside the agent's own cgroup would read as "/../..".
 * Nothing is touched when the caller already is in the kernel's initial cgroup namespace,
 * or in pid's. setns() moves the calling thread only, and threads made later inherit its
 * namespace: call it before any thread exists.
 * 1: joined; 0: nothing to do; -errno (-ENOENT: a kernel without cgroup namespaces, or pid
 * is gone; -EACCES, -EPERM: not allowed to look at pid, or to join, which needs
 * CAP_SYS_ADMIN and a seccomp or LSM profile that lets setns() through).
 */
int cgroup_join_namespace_of(pid_t pid);

/*
 * The roots on this machine. v2: /sys/fs/cgroup if it holds cgroup.controllers,
 * else /sys/fs/cgroup/unified if that is a cgroup2 mount. v1: /sys/fs/cgroup/memory
 * if it holds memory.limit_in_bytes. The strings are static: nothing to free.
 * Returns 0 when at least one root was found, -ENOENT when none (both NULL).
 */
int cgroup_detect_roots(struct cgroup_roots *r);

/*
 * The text of /proc/PID/cgroup -> the v1 memory controller's path ("4:memory:/a/b",
 * also when co-mounted: "4:cpu,memory:/a/b") and the v2 path ("0::/a/b"). An absent
 * one is returned as "". Either output may be NULL (not wanted).
 *
 * Every line must read "ID:controllers:/path" (ID decimal; the path is the rest
 * of the line, ':' included); blank lines are skipped. The two paths returned
 * must also be valid cgroup paths (see cgroup_path_is_valid()), and each of the
 * two may appear only once.
 *
 * Returns 0; -EINVAL for malformed text or an invalid path; -ENOBUFS when a
 * valid path does not fit its output (PATH_MAX always fits). The outputs are
 * written only on success.
 */
int cgroup_parse_proc(const char *text, char *v1_path, size_t v1_size, char *v2_path, size_t v2_size);

/*
 * A path as /proc/PID/cgroup shows it: starts with '/', shorter than PATH_MAX,
 * no component is empty, "." or "..", and no control characters ("/" alone is
 * the root). Rejects "/../etc", "/a/..", "/a//b", "/a/" and "/a\033[2J".
 */
bool cgroup_path_is_valid(const char *path);

/*
 * The effective memory limit for a process in these cgroups: the smallest limit
 * set on the cgroup or on any ancestor up to the root.
 *   v1 (r->v1_memory and a non-empty v1_path): memory.limit_in_bytes; a value
 *      >= 2^62 (the kernel shows "none" as the page-rounded LLONG_MAX,
 *      9223372036854771712) means no limit. An ancestor whose
 *      memory.use_hierarchy is "0" does not account its children, so the walk
 *      stops below it (only pre-5.11 kernels let it be 0).
 *   v2 (r->v2 and a non-empty v2_path): memory.max; "max" (or 2^64-1) means no limit.
 * When both apply the smaller limit wins (v1 on a tie). v1_path/v2_path may be
 * NULL or "" for "unknown".
 *
 * A missing limit file is skipped (the v2 root has no memory.max; a v2 cgroup
 * without the memory controller neither). A missing cgroup directory means the
 * cgroup vanished meanwhile: -ENOENT. A limit file whose text is not a number
 * (nor "max" in v2) gives -EINVAL: the limit is unknown, not absent.
 *
 * Returns 0 with *limit in bytes (0 is a valid limit: memory.max can be 0);
 * -ENOENT with *limit = 0 when no limit applies or a cgroup vanished; -EINVAL
 * for an invalid path or garbage in a limit file; -ENAMETOOLONG when root +
 * path is too long; another -errno from open/read. On error *limit = 0.
 * source (may be NULL) receives the file the limit was read from, truncated to
 * source_size, or "" when there is none.
 */
int cgroup_memory_limit(const struct cgroup_roots *r, const char *v1_path, const char *v2_path,
			uint64_t *limit, char *source, size_t source_size);

/*
 * The text of one limit file: v1 memory.limit_in_bytes (a value >= 2^62 is none) or v2
 * memory.max ("max" is none); a decimal number, one optional newline. 0 and *ret
 * (UINT64_MAX: no limit), or -EINVAL.
 */
/*
 * v1: does the cgroup open at dfd charge its children's memory to itself? 1, 0, or
 * -errno (-ENOENT: the cgroup was removed; -EINVAL: not the kernel's text). Only "0"
 * says no; a missing file means a kernel (5.11+) where it always does.
 */
int cgroup_v1_use_hierarchy(int dfd);

int cgroup_parse_limit(const char *text, bool v1, uint64_t *ret);

/* Upper bound on /proc/PID/cgroup; a longer file is -EFBIG. */
#define CGROUP_PROC_MAX (64 * 1024)

/*
 * Reads /proc/PID/cgroup (-ENOENT or -ESRCH when the process is gone), parses it
 * with cgroup_parse_proc(), then cgroup_memory_limit(). The paths are also
 * returned when v1_path/v2_path are non-NULL: written whenever the parse
 * succeeded and both fit (else -ENOBUFS, neither written), also when the limit
 * lookup then fails. Same return values as cgroup_memory_limit(), plus those of
 * the read and the parse.
 */
int cgroup_memory_limit_of(const struct cgroup_roots *r, pid_t pid, uint64_t *limit,
			   char *v1_path, size_t v1_size, char *v2_path, size_t v2_size);

#endif
