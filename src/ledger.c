// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <stdbool.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "ledger.h"

#define LEDGER_MAGIC    "inspectd-opened 1"
#define LEDGER_LINE_MAX 128

struct ledger {
	char *path;     /* STATE_DIR/opened */
	int dirfd;
};

int ledger_format(const struct ledger_entry *e, char *buf, size_t size)
{
	int n = snprintf(buf, size, LEDGER_MAGIC " pid=%d start=%llu port=%u inode=%llu\n", (int)e->pid,
			 (unsigned long long)e->start_time, (unsigned)e->port, (unsigned long long)e->inode);

	return n < 0 || (size_t)n >= size ? -ENOBUFS : n;
}

/* "name=DIGITS" at *p, then one space or the final newline; advances *p. */
static int parse_field(const char **p, const char *name, unsigned long long max, unsigned long long *ret)
{
	size_t len = strlen(name);
	unsigned long long v = 0;
	const char *q;

	if (strncmp(*p, name, len) != 0 || (*p)[len] != '=')
		return -EINVAL;
	q = *p + len + 1;
	if (!isdigit((unsigned char)*q) || (*q == '0' && isdigit((unsigned char)q[1])))
		return -EINVAL;
	for (; isdigit((unsigned char)*q); q++) {
		unsigned d = (unsigned)(*q - '0');

		if (v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (*q != ' ' && *q != '\n')
		return -EINVAL;
	*p = q + 1;
	*ret = v;
	return 0;
}

int ledger_parse(const char *buf, struct ledger_entry *e)
{
	const char *p = buf;
	unsigned long long pid, start, port, inode;

	if (strncmp(p, LEDGER_MAGIC " ", sizeof(LEDGER_MAGIC)) != 0)
		return -EINVAL;
	p += sizeof(LEDGER_MAGIC);
	if (parse_field(&p, "pid", 0x3fffffff, &pid) < 0 || p[-1] != ' ' ||
	    parse_field(&p, "start", UINT64_MAX, &start) < 0 || p[-1] != ' ' ||
	    parse_field(&p, "port", UINT16_MAX, &port) < 0 || p[-1] != ' ' ||
	    parse_field(&p, "inode", UINT64_MAX, &inode) < 0 || p[-1] != '\n' || *p != '\0')
		return -EINVAL;
	if (pid < 1 || (port == 0) != (inode == 0))
		return -EINVAL;
	e->pid = (pid_t)pid;
	e->start_time = start;
	e->port = (uint16_t)port;
	e->inode = inode;
	e->written = 0;
	return 0;
}

int ledger__open(const char *state_dir, struct ledger **ret)
{
	struct ledger *l = calloc(1, sizeof(*l));
	size_t len = strlen(state_dir) + sizeof("/opened");
	int r;

	if (!l)
		return -ENOMEM;
	l->dirfd = -1;
	l->path = malloc(len);
	if (!l->path) {
		r = -ENOMEM;
		goto fail;
	}
	snprintf(l->path, len, "%s/opened", state_dir);
	if ((mkdir(state_dir, 0700) < 0 && errno != EEXIST) || (mkdir(l->path, 0700) < 0 && errno != EEXIST)) {
		r = -errno;
		goto fail;
	}
	l->dirfd = open(l->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (l->dirfd < 0) {
		r = -errno;
		goto fail;
	}
	r = fs_check_private_dir(l->dirfd);
	if (r < 0)
		goto fail;
	*ret = l;
	return 0;
fail:
	ledger__free(l);
	return r;
}

int ledger__record(struct ledger *l, const struct ledger_entry *e)
{
	char line[LEDGER_LINE_MAX], name[32];
	int n = ledger_format(e, line, sizeof(line));

	if (n < 0)
		return n;
	snprintf(name, sizeof(name), "%d", (int)e->pid);
	/* Not synced: a record matters only as long as the boot whose processes it names. */
	return fs_write_atomic_at(l->dirfd, name, line, (size_t)n, false);
}

int ledger__forget(struct ledger *l, pid_t pid)
{
	char name[32];

	snprintf(name, sizeof(name), "%d", (int)pid);
	return unlinkat(l->dirfd, name, 0) < 0 ? -errno : 0;
}

/* The record in file name: 0, -EINVAL for one that is not ours, or -errno reading it. */
static int read_record(const struct ledger *l, const char *name, struct ledger_entry *e)
{
	char buf[LEDGER_LINE_MAX + 1], expect[32];
	struct stat st;
	ssize_t n;
	int fd;

	fd = openat(l->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0 || fstat(fd, &st) < 0) {
		n = errno == EISDIR ? -EINVAL : -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	if (ledger_parse(buf, e) < 0)
		return -EINVAL;
	e->written = st.st_mtime;
	snprintf(expect, sizeof(expect), "%d", (int)e->pid);
	return strcmp(expect, name) == 0 ? 0 : -EINVAL;      /* named after its pid */
}

int ledger__get(struct ledger *l, pid_t pid, struct ledger_entry *e)
{
	char name[32];

	snprintf(name, sizeof(name), "%d", (int)pid);
	return read_record(l, name, e);
}

int ledger__each(struct ledger *l, ledger_fn fn, void *ctx, struct ledger_skips *skips)
{
	struct dirent *de;
	int fd, count = 0;
	DIR *dir;

	fd = openat(l->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(dir))) {
		struct ledger_entry e;
		int r;

		if (de->d_name[0] == '.') {
			/* A temporary file an agent killed mid-write left. */
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(l->dirfd, de->d_name, 0);
			continue;
		}
		r = read_record(l, de->d_name, &e);
		if (r == -EINVAL) {
			unlinkat(l->dirfd, de->d_name, 0);
			if (skips)
				skips->removed++;
			continue;
		}
		if (r < 0) {
			/* Out of fds or memory now: the record is kept for the next look. */
			if (skips)
				skips->unread++;
			continue;
		}
		fn(ctx, &e);
		count++;
	}
	closedir(dir);
	return count;
}

const char *ledger__path(const struct ledger *l)
{
	return l->path;
}

void ledger__free(struct ledger *l)
{
	if (!l)
		return;
	if (l->dirfd >= 0)
		close(l->dirfd);
	free(l->path);
	free(l);
}
