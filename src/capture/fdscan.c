// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdscan.h"
#include "procfs.h"

struct fdscan {
	DIR *dir;
	uint64_t inodes[FDSCAN_INODES_MAX];
	bool held[FDSCAN_INODES_MAX];
	size_t n, found;
	uint64_t read;
	bool over;
};

int fdscan__new(pid_t pid, const uint64_t *inodes, size_t n, struct fdscan **ret)
{
	struct fdscan *s;
	char path[64];
	int r;

	if (n == 0 || n > FDSCAN_INODES_MAX)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	s->dir = opendir(path);
	if (!s->dir) {
		r = -errno;
		free(s);
		return r;
	}
	memcpy(s->inodes, inodes, n * sizeof(*inodes));
	s->n = n;
	*ret = s;
	return 0;
}

int fdscan__step(struct fdscan *s, unsigned max)
{
	for (unsigned i = 0; i < max && !s->over; i++) {
		struct dirent *de;
		char link[64];
		uint64_t inode;
		ssize_t len;

		errno = 0;
		de = readdir(s->dir);
		if (!de) {
			if (errno)
				return -errno;
			s->over = true;
			break;
		}
		if (de->d_name[0] == '.')
			continue;
		s->read++;
		len = readlinkat(dirfd(s->dir), de->d_name, link, sizeof(link) - 1);
		if (len < 0)
			continue;       /* closed meanwhile */
		link[len] = '\0';
		if (procfs_parse_socket_link(link, &inode) < 0)
			continue;
		for (size_t k = 0; k < s->n; k++) {
			if (s->inodes[k] == inode && !s->held[k]) {
				s->held[k] = true;
				s->over = ++s->found == s->n;
			}
		}
	}
	return s->over ? 1 : 0;
}

bool fdscan__holds(const struct fdscan *s, uint64_t inode)
{
	for (size_t k = 0; k < s->n; k++)
		if (s->inodes[k] == inode)
			return s->held[k];
	return false;
}

uint64_t fdscan__read(const struct fdscan *s)
{
	return s->read;
}

void fdscan__free(struct fdscan *s)
{
	if (!s)
		return;
	closedir(s->dir);
	free(s);
}
