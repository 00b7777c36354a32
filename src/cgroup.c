// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup.h"
#include "fsutil.h"

#define CGROUP_FS_ROOT    "/sys/fs/cgroup"
/* v1 shows "no limit" as LLONG_MAX rounded down to a page; anything this large is none. */
#define V1_NO_LIMIT       (UINT64_C(1) << 62)
/* "18446744073709551615\n" and "max\n" fit; a limit file is never longer. */
#define LIMIT_FILE_MAX    32

/* The inode number of the kernel's initial cgroup namespace (PROC_CGROUP_INIT_INO). */
#define CGROUP_INIT_NS_INO 0xEFFFFFFBU

int cgroup_join_namespace_of(pid_t pid)
{
	struct stat ours, theirs;
	char path[64];
	int fd, r = 1;

	if (stat("/proc/self/ns/cgroup", &ours) < 0)
		return -errno;
	if (ours.st_ino == CGROUP_INIT_NS_INO)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/cgroup", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &theirs) < 0)
		r = -errno;
	else if (theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
		r = 0;
	else if (setns(fd, CLONE_NEWCGROUP) < 0)
		r = -errno;
	close(fd);
	return r;
}

int cgroup_detect_roots(struct cgroup_roots *r)
{
	struct statfs sfs;

	r->v1_memory = NULL;
	r->v2 = NULL;
	if (access(CGROUP_FS_ROOT "/cgroup.controllers", F_OK) == 0)
		r->v2 = CGROUP_FS_ROOT;
	else if (statfs(CGROUP_FS_ROOT "/unified", &sfs) == 0 &&
		 (unsigned long)sfs.f_type == CGROUP2_SUPER_MAGIC)
		r->v2 = CGROUP_FS_ROOT "/unified";
	if (access(CGROUP_FS_ROOT "/memory/memory.limit_in_bytes", F_OK) == 0)
		r->v1_memory = CGROUP_FS_ROOT "/memory";
	return r->v1_memory || r->v2 ? 0 : -ENOENT;
}

/* The first len bytes of s as a cgroup path (see cgroup_path_is_valid()). */
static bool path_span_is_valid(const char *s, size_t len)
{
	if (len == 0 || len >= PATH_MAX || s[0] != '/')
		return false;
	if (len == 1)
		return true;
	for (size_t i = 1; i <= len; i++) {
		size_t start = i;

		while (i < len && s[i] != '/') {
			if (iscntrl((unsigned char)s[i]))
				return false;
			i++;
		}
		/* "//", a trailing '/', "." and ".." never name a child cgroup. */
		if (i == start)
			return false;
		if (s[start] == '.' && (i - start == 1 || (i - start == 2 && s[start + 1] == '.')))
			return false;
	}
	return true;
}

bool cgroup_path_is_valid(const char *path)
{
	return path && path_span_is_valid(path, strnlen(path, PATH_MAX));
}

/* True if the comma-separated list (not NUL-terminated) names the controller. */
static bool controllers_have(const char *list, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = list, *end = list + len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);

		if (n == nlen && memcmp(p, name, n) == 0)
			return true;
		if (!comma)
			break;
		p = comma + 1;
	}
	return false;
}

static int copy_span(char *out, size_t size, const char *s, size_t len)
{
	if (!out)
		return 0;
	if (len >= size)
		return -ENOBUFS;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

int cgroup_parse_proc(const char *text, char *v1_path, size_t v1_size, char *v2_path, size_t v2_size)
{
	const char *v1 = NULL, *v2 = NULL, *line = text;
	size_t v1_len = 0, v2_len = 0;
	int r;

	if (!text)
		return -EINVAL;
	while (*line) {
		const char *eol = strchr(line, '\n'), *p = line, *ctl, *colon, *path;
		bool v2_hierarchy;

		if (!eol)
			eol = line + strlen(line);
		if (eol == line) {
			line++;
			continue;
		}
		/* "ID:controllers:/path", the path being the rest of the line. */
		while (p < eol && isdigit((unsigned char)*p))
			p++;
		if (p == line || p - line > 10 || p == eol || *p != ':')
			return -EINVAL;
		v2_hierarchy = p - line == 1 && line[0] == '0';
		ctl = p + 1;
		colon = memchr(ctl, ':', (size_t)(eol - ctl));
		if (!colon)
			return -EINVAL;
		path = colon + 1;
		if (path == eol || *path != '/')
			return -EINVAL;
		/* Hierarchy 0 is v2 and lists no controllers; every v1 hierarchy lists some. */
		if (v2_hierarchy != (ctl == colon))
			return -EINVAL;
		if (v2_hierarchy) {
			if (v2)
				return -EINVAL;
			v2 = path;
			v2_len = (size_t)(eol - path);
		} else if (controllers_have(ctl, (size_t)(colon - ctl), "memory")) {
			if (v1)
				return -EINVAL;
			v1 = path;
			v1_len = (size_t)(eol - path);
		}
		line = *eol ? eol + 1 : eol;
	}
	if ((v1 && !path_span_is_valid(v1, v1_len)) || (v2 && !path_span_is_valid(v2, v2_len)))
		return -EINVAL;
	if ((v1_path && v1_len >= v1_size) || (v2_path && v2_len >= v2_size))
		return -ENOBUFS;
	r = copy_span(v1_path, v1_size, v1 ? v1 : "", v1_len);
	if (r == 0)
		r = copy_span(v2_path, v2_size, v2 ? v2 : "", v2_len);
	return r;
}

/* "123\n" or "123": decimal only, one optional newline. */
static int parse_u64_line(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || (strcmp(end, "\n") != 0 && *end != '\0'))
		return -EINVAL;
	*ret = v;
	return 0;
}

int cgroup_v1_use_hierarchy(int dfd)
{
	char buf[LIMIT_FILE_MAX];
	ssize_t n = fs_read_small_at(dfd, "memory.use_hierarchy", buf, sizeof(buf));

	if (n == -ENOENT)
		return 1;
	if (n == -EFBIG || n == -ELOOP)
		return -EINVAL;
	if (n == -ENODEV)
		return -ENOENT;
	if (n < 0)
		return (int)n;
	if (strcmp(buf, "0\n") == 0 || strcmp(buf, "0") == 0)
		return 0;
	if (strcmp(buf, "1\n") == 0 || strcmp(buf, "1") == 0)
		return 1;
	return -EINVAL;
}

int cgroup_parse_limit(const char *text, bool v1, uint64_t *ret)
{
	uint64_t v;

	if (!v1 && (strcmp(text, "max\n") == 0 || strcmp(text, "max") == 0)) {
		*ret = UINT64_MAX;
		return 0;
	}
	if (parse_u64_line(text, &v) < 0)
		return -EINVAL;
	*ret = v1 && v >= V1_NO_LIMIT ? UINT64_MAX : v;
	return 0;
}

/* One limit file: 0 and *ret (UINT64_MAX for none), or -errno. */
static int read_limit(int dfd, const char *name, bool v1, uint64_t *ret)
{
	char buf[LIMIT_FILE_MAX];
	ssize_t n = fs_read_small_at(dfd, name, buf, sizeof(buf));

	if (n == -EFBIG)
		return -EINVAL;
	if (n < 0)
		return (int)n;          /* -ENODEV: kernfs, the cgroup was removed after open */
	return cgroup_parse_limit(buf, v1, ret);
}

/*
 * Walks from root + cgpath up to root. *ret is the smallest limit (UINT64_MAX
 * for none) and *ret_len the length of the prefix of cgpath it was found at.
 */
static int walk_limits(const char *root, const char *cgpath, const char *file, bool v1,
		       uint64_t *ret, size_t *ret_len)
{
	size_t root_len = strlen(root), len = strlen(cgpath);
	uint64_t best = UINT64_MAX;
	size_t best_len = 0;
	char path[PATH_MAX];
	bool leaf = true;

	if (len == 1)
		len = 0;                /* "/" is the root itself */
	if (root_len + len + 1 + strlen(file) >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, root, root_len);
	memcpy(path + root_len, cgpath, len);

	for (;;) {
		uint64_t v = UINT64_MAX;
		int dfd, r;

		path[root_len + len] = '\0';
		/* cgroupfs has no symlinks; the mount point itself may be one. */
		dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (len ? O_NOFOLLOW : 0));
		if (dfd < 0)
			return -errno;  /* -ENOENT: vanished */
		if (v1 && !leaf) {
			/* This parent does not charge its child's usage to itself: stop here. */
			r = cgroup_v1_use_hierarchy(dfd);
			if (r <= 0) {
				close(dfd);
				if (r < 0)
					return r;
				break;
			}
		}
		r = read_limit(dfd, file, v1, &v);
		close(dfd);
		if (r == -ENODEV)
			return -ENOENT;
		/* A missing file is skipped; a missing directory is caught by open(). */
		if (r < 0 && r != -ENOENT)
			return r;
		if (r == 0 && v < best) {
			best = v;
			best_len = len;
		}
		if (len == 0)
			break;
		while (len > 0 && cgpath[len - 1] != '/')
			len--;
		len--;                  /* drop the '/': "/a" -> "" (the root) */
		leaf = false;
	}
	*ret = best;
	*ret_len = best_len;
	return 0;
}

int cgroup_memory_limit(const struct cgroup_roots *r, const char *v1_path, const char *v2_path,
			uint64_t *limit, char *source, size_t source_size)
{
	/* v1 first: on a tie it is the one named in *source. */
	const struct {
		const char *root, *path, *file;
		bool v1;
	} h[] = {
		{ r ? r->v1_memory : NULL, v1_path, "memory.limit_in_bytes", true },
		{ r ? r->v2 : NULL, v2_path, "memory.max", false },
	};
	bool use[2] = { false, false };
	uint64_t best = UINT64_MAX;
	size_t best_len = 0;
	int best_i = -1;

	*limit = 0;
	if (source && source_size)
		source[0] = '\0';
	for (int i = 0; i < 2; i++) {
		use[i] = h[i].root && h[i].path && h[i].path[0];
		if (use[i] && !cgroup_path_is_valid(h[i].path))
			return -EINVAL;
	}
	for (int i = 0; i < 2; i++) {
		uint64_t v = UINT64_MAX;
		size_t len = 0;
		int ret;

		if (!use[i])
			continue;
		ret = walk_limits(h[i].root, h[i].path, h[i].file, h[i].v1, &v, &len);
		if (ret < 0)
			return ret;
		if (v < best) {
			best = v;
			best_len = len;
			best_i = i;
		}
	}
	if (best_i < 0)
		return -ENOENT;
	*limit = best;
	if (source && source_size)
		snprintf(source, source_size, "%s%.*s/%s",
			 h[best_i].root, (int)best_len, h[best_i].path, h[best_i].file);
	return 0;
}

int cgroup_memory_limit_of(const struct cgroup_roots *r, pid_t pid, uint64_t *limit,
			   char *v1_path, size_t v1_size, char *v2_path, size_t v2_size)
{
	char path[64], *text, v1[PATH_MAX], v2[PATH_MAX];
	ssize_t n;
	int ret;

	*limit = 0;
	text = malloc(CGROUP_PROC_MAX + 1);
	if (!text)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	n = fs_read_small_at(AT_FDCWD, path, text, CGROUP_PROC_MAX + 1);
	if (n < 0) {
		free(text);
		return (int)n;
	}
	ret = cgroup_parse_proc(text, v1, sizeof(v1), v2, sizeof(v2));
	free(text);
	if (ret < 0)
		return ret;
	if ((v1_path && strlen(v1) >= v1_size) || (v2_path && strlen(v2) >= v2_size))
		return -ENOBUFS;
	copy_span(v1_path, v1_size, v1, strlen(v1));
	copy_span(v2_path, v2_size, v2, strlen(v2));
	return cgroup_memory_limit(r, v1, v2, limit, NULL, 0);
}
