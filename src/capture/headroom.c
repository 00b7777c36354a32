// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "headroom.h"
#include "fsutil.h"
#include "procfs.h"

#define MiB(b)           ((b) >> 20)
/* A counter or limit file: "18446744073709551615\n" fits. */
#define NUMBER_FILE_MAX  32
/* /proc/PID/statm: seven numbers of up to 20 digits. */
#define STATM_MAX        160

/* Decimal digits at s (at least one, at most what fits in 64 bits): 0, *ret, *end past them. */
static int parse_decimal(const char *s, const char **end, uint64_t *ret)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*end = p;
	*ret = v;
	return 0;
}

/* A file holding one number: "123\n" or "123". */
static int parse_number_file(const char *s, uint64_t *ret)
{
	const char *end;

	if (parse_decimal(s, &end, ret) < 0)
		return -EINVAL;
	return strcmp(end, "\n") == 0 || *end == '\0' ? 0 : -EINVAL;
}

int headroom_parse_statm(const char *text, uint64_t page_size, uint64_t *rss)
{
	const char *p = text;
	uint64_t v, resident = 0;

	for (int i = 0; i < 7; i++) {
		if (parse_decimal(p, &p, &v) < 0)
			return -EINVAL;
		if (i == 1)
			resident = v;
		if (*p++ != (i < 6 ? ' ' : '\n'))
			return -EINVAL;
	}
	if (*p != '\0')
		return -EINVAL;
	if (page_size && resident > UINT64_MAX / page_size)
		return -EOVERFLOW;
	*rss = resident * page_size;
	return 0;
}

int headroom_parse_meminfo(const char *text, uint64_t *available)
{
	static const char key[] = "MemAvailable:";
	const char *p = text;
	uint64_t kib;

	for (;;) {
		if (strncmp(p, key, sizeof(key) - 1) == 0)
			break;
		p = strchr(p, '\n');
		if (!p)
			return -ENOENT;
		p++;
	}
	p += sizeof(key) - 1;
	if (*p != ' ')
		return -EINVAL;
	while (*p == ' ')
		p++;
	if (parse_decimal(p, &p, &kib) < 0 || strncmp(p, " kB\n", 4) != 0)
		return -EINVAL;
	if (kib > UINT64_MAX / 1024)
		return -EINVAL;
	*available = kib * 1024;
	return 0;
}

int headroom_parse_memory_stat(const char *text, const char *key, uint64_t *ret)
{
	size_t key_len = strlen(key);
	bool found = false;
	const char *p = text;
	uint64_t v, got = 0;

	while (*p) {
		const char *name = p;

		while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
			p++;
		if (p == name || *p != ' ')
			return -EINVAL;
		bool match = (size_t)(p - name) == key_len && memcmp(name, key, key_len) == 0;

		if (parse_decimal(p + 1, &p, &v) < 0 || *p != '\n')
			return -EINVAL;
		p++;
		if (match) {
			if (found)
				return -EINVAL;     /* twice: not the kernel's */
			found = true;
			got = v;
		}
	}
	if (!found)
		return -ENOENT;
	*ret = got;
	return 0;
}

/* The files of one hierarchy's memory controller. */
struct hierarchy {
	const char *root;
	bool v1;
	const char *limit_file, *usage_file, *inactive_key;
};

static const struct hierarchy V1 = { NULL, true, "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file" };
static const struct hierarchy V2 = { NULL, false, "memory.max", "memory.current", "inactive_file" };

/* The level that leaves the least room so far. */
struct tightest {
	bool found;
	uint64_t room, limit, usage;
	char source[sizeof(((struct headroom *)0)->limit_source)];
};

/* A small file of the cgroup open at dfd; -ENODEV (kernfs: removed after open) is -ENOENT. */
static ssize_t read_cgroup_file(int dfd, const char *name, char *buf, size_t size)
{
	ssize_t n = fs_read_small_at(dfd, name, buf, size);

	if (n == -ENODEV)
		return -ENOENT;
	/* Too long, or a symlink (cgroupfs has none): not the kernel's. */
	if (n == -EFBIG || n == -ELOOP)
		return -EINVAL;
	return n;
}

/*
 * One cgroup, open at dfd, named root + prefix: if it sets a limit, its working set and
 * the room left; kept in *t when tighter. stat: a scratch buffer of HEADROOM_STAT_MAX.
 */
static int judge_level(const struct hierarchy *hy, int dfd, const char *prefix, size_t prefix_len,
		       char *stat, struct tightest *t)
{
	char buf[NUMBER_FILE_MAX];
	uint64_t limit, usage, inactive, ws, room;
	ssize_t n;
	int r;

	n = read_cgroup_file(dfd, hy->limit_file, buf, sizeof(buf));
	if (n == -ENOENT)
		return 0;       /* the v2 root, or no memory controller here */
	if (n < 0)
		return (int)n;
	if (cgroup_parse_limit(buf, hy->v1, &limit) < 0)
		return -EINVAL;
	if (limit == UINT64_MAX)
		return 0;
	n = read_cgroup_file(dfd, hy->usage_file, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (parse_number_file(buf, &usage) < 0)
		return -EINVAL;
	n = read_cgroup_file(dfd, "memory.stat", stat, HEADROOM_STAT_MAX);
	if (n < 0)
		return (int)n;
	r = headroom_parse_memory_stat(stat, hy->inactive_key, &inactive);
	if (r < 0)
		return -EINVAL;
	/* kubelet's working set: usage less the file pages that are easiest to reclaim. */
	ws = usage > inactive ? usage - inactive : 0;
	/* memory.max may be 0: no room, and a limit the struct can still tell from none. */
	if (limit == 0)
		limit = 1;
	room = limit > ws ? limit - ws : 0;
	if (t->found && room >= t->room)
		return 0;
	t->found = true;
	t->room = room;
	t->limit = limit;
	t->usage = ws;
	snprintf(t->source, sizeof(t->source), "%s%.*s/%s", hy->root, (int)prefix_len, prefix, hy->limit_file);
	return 0;
}

/*
 * root + cgpath and each ancestor, from the top down, one component at a time below
 * root with O_NOFOLLOW: the tightest level into *t. cgpath: valid, not "".
 */
static int walk_hierarchy(const struct hierarchy *hy, const char *cgpath, char *stat, struct tightest *t)
{
	struct tightest here = { .found = false };
	size_t len = strlen(cgpath), at = 0;
	unsigned depth = 0;
	int dfd, r = 0;

	/* The mount point itself may be a symlink (/sys/fs/cgroup/cpu -> cpu,cpuacct). */
	dfd = open(hy->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (len == 1)
		len = 0;        /* "/" is the root itself */
	for (;;) {
		bool leaf = at == len, counts = true;
		char name[NAME_MAX + 1];
		size_t start, n;
		int next;

		if (hy->v1 && !leaf) {
			/* A parent that does not charge its children: it and all above it do
			 * not bind this cgroup (only before Linux 5.11). */
			r = cgroup_v1_use_hierarchy(dfd);
			if (r < 0)
				break;
			if (r == 0) {
				here.found = false;
				counts = false;
			}
		}
		if (counts) {
			r = judge_level(hy, dfd, cgpath, at, stat, &here);
			if (r < 0)
				break;
		}
		if (leaf)
			break;
		if (++depth > HEADROOM_MAX_DEPTH) {
			r = -E2BIG;
			break;
		}
		start = at + 1;         /* past the '/' */
		for (at = start; at < len && cgpath[at] != '/'; at++)
			;
		n = at - start;
		if (n > NAME_MAX) {
			r = -ENAMETOOLONG;
			break;
		}
		memcpy(name, cgpath + start, n);
		name[n] = '\0';
		next = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (next < 0) {
			/* A symlink in the path: not a cgroup (cgroupfs has none). */
			r = errno == ELOOP || errno == ENOTDIR ? -EINVAL : -errno;
			break;
		}
		close(dfd);
		dfd = next;
	}
	close(dfd);
	if (r < 0)
		return r;
	if (here.found && (!t->found || here.room < t->room))
		*t = here;
	return 0;
}

int headroom_read_cgroups(const struct cgroup_roots *roots, const char *v1_path, const char *v2_path,
			  struct headroom *h)
{
	struct hierarchy hy[2] = { V1, V2 };
	const char *paths[2] = { v1_path, v2_path };
	struct tightest t = { .found = false };
	char *stat;
	int r = 0;

	hy[0].root = roots ? roots->v1_memory : NULL;
	hy[1].root = roots ? roots->v2 : NULL;
	h->limit = 0;
	h->usage = 0;
	h->limit_source[0] = '\0';
	for (int i = 0; i < 2; i++)
		if (paths[i] && paths[i][0] && !cgroup_path_is_valid(paths[i]))
			return -EINVAL;
	stat = malloc(HEADROOM_STAT_MAX);
	if (!stat)
		return -ENOMEM;
	/* v1 first: on a tie it is the one named. */
	for (int i = 0; i < 2 && r == 0; i++)
		if (hy[i].root && paths[i] && paths[i][0])
			r = walk_hierarchy(&hy[i], paths[i], stat, &t);
	free(stat);
	if (r < 0)
		return r;
	if (t.found) {
		h->limit = t.limit;
		h->usage = t.usage;
		memcpy(h->limit_source, t.source, sizeof(h->limit_source));
	}
	return 0;
}

/* A failed read of /proc/PID/'s as headroom_read() says it: gone, too large, or as it is. */
static int proc_read_error(ssize_t n)
{
	if (n == -ENOENT || n == -ESRCH)
		return -ESRCH;
	if (n == -EFBIG)
		return -EINVAL;
	return (int)n;
}

int headroom_read(const struct cgroup_roots *roots, pid_t pid, struct headroom *h)
{
	char path[64], statm[STATM_MAX], v1[PATH_MAX], v2[PATH_MAX], *text;
	long page = sysconf(_SC_PAGESIZE);
	ssize_t n;
	int r;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	n = fs_read_small_at(AT_FDCWD, path, statm, sizeof(statm));
	if (n < 0)
		return proc_read_error(n);
	if (page <= 0 || headroom_parse_statm(statm, (uint64_t)page, &h->rss) < 0)
		return -EINVAL;

	n = procfs_read_whole(pid, "cgroup", CGROUP_PROC_MAX, &text);
	if (n < 0)
		return proc_read_error(n);
	r = cgroup_parse_proc(text, v1, sizeof(v1), v2, sizeof(v2));
	free(text);
	if (r < 0)
		return r == -ENOBUFS ? -ENAMETOOLONG : r;
	r = headroom_read_cgroups(roots, v1, v2, h);
	if (r < 0)
		return r;

	n = procfs_read_whole_path("/proc/meminfo", HEADROOM_STAT_MAX, &text);
	if (n == -EFBIG)
		return -EINVAL;
	if (n < 0)
		return (int)n;
	r = headroom_parse_meminfo(text, &h->host_available);
	free(text);
	if (r < 0)
		return -EINVAL;
	if (!h->limit)
		snprintf(h->limit_source, sizeof(h->limit_source), "/proc/meminfo");
	return 0;
}

/* printf into buf, cut to fit: no reason comes near (test_judge_huge has the longest). */
static void __attribute__((format(printf, 3, 4))) say(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* factor x bytes, saturated at UINT64_MAX. factor: finite, positive. */
static uint64_t scale(uint64_t bytes, double factor)
{
	double v = factor * (double)bytes;

	/* 2^64: UINT64_MAX rounds up to it as a double. */
	if (v >= 18446744073709551616.0)
		return UINT64_MAX;
	return (uint64_t)v;
}

void headroom_judge(const struct headroom *h, double factor, struct headroom_verdict *v)
{
	uint64_t room = h->host_available, estimate;
	char where[128], floor_note[32] = "";

	memset(v, 0, sizeof(*v));
	if (h->limit) {
		uint64_t left = h->limit > h->usage ? h->limit - h->usage : 0;

		if (left < room)
			room = left;
		say(where, sizeof(where), "limit %" PRIu64 " MiB, working set %" PRIu64 " MiB, host available %" PRIu64 " MiB",
			 MiB(h->limit), MiB(h->usage), MiB(h->host_available));
	} else {
		say(where, sizeof(where), "no memory limit, host available %" PRIu64 " MiB", MiB(h->host_available));
	}
	v->room = room;
	if (factor == 0) {
		v->allowed = true;
		say(v->reason, sizeof(v->reason), "unchecked (headroom factor 0): %" PRIu64 " MiB used heap, "
			 "%" PRIu64 " MiB of room (%s)", MiB(h->heap_used), MiB(room), where);
		return;
	}
	if (!isfinite(factor) || factor < 0) {
		v->allowed = false;
		say(v->reason, sizeof(v->reason), "refused: headroom factor %g is not a finite number >= 0", factor);
		return;
	}
	estimate = scale(h->heap_used, factor);
	if (estimate < HEADROOM_FLOOR) {
		estimate = HEADROOM_FLOOR;
		say(floor_note, sizeof(floor_note), ", at least %" PRIu64 " MiB", MiB(HEADROOM_FLOOR));
	}
	v->estimate = estimate;
	v->allowed = estimate <= room;
	say(v->reason, sizeof(v->reason), "estimated peak %" PRIu64 " MiB (%g x %" PRIu64 " MiB used heap%s) %s "
		 "%" PRIu64 " MiB of room (%s)", MiB(estimate), factor, MiB(h->heap_used), floor_note,
		 v->allowed ? "fits in" : "exceeds the", MiB(room), where);
}
