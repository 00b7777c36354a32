// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exporter_file.h"
#include "fsutil.h"

struct exporter_file {
	char *dir;
	int dirfd;
};

struct exporter_file *exporter_file__new(const char *dir)
{
	struct exporter_file *ex;
	struct stat st;
	int r;

	r = fs_mkdir_parents(dir, 0755, 0700);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	ex = calloc(1, sizeof(*ex));
	if (!ex)
		return NULL;
	ex->dirfd = -1;
	ex->dir = strdup(dir);
	if (ex->dir)
		ex->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!ex->dir || ex->dirfd < 0 || fstat(ex->dirfd, &st) < 0) {
		r = errno;
		exporter_file__free(ex);
		errno = r;
		return NULL;
	}
	return ex;
}

const char *exporter_file__dir(const struct exporter_file *ex)
{
	return ex->dir;
}

int exporter_file__unique_base(struct exporter_file *ex, const char *base, const char *const *exts,
			       char *out, size_t size)
{
	for (int n = 0; n < 1000; n++) {
		bool taken = false;
		int len;

		len = n ? snprintf(out, size, "%s-%d", base, n) : snprintf(out, size, "%s", base);
		if (len < 0 || (size_t)len >= size)
			return -ENOBUFS;
		for (const char *const *e = exts; *e && !taken; e++) {
			char name[512];
			struct stat st;

			if ((size_t)snprintf(name, sizeof(name), "%s.%s", out, *e) >= sizeof(name))
				return -ENOBUFS;
			taken = fstatat(ex->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
		}
		if (!taken)
			return 0;
	}
	return -EEXIST;
}

int exporter_file__write(struct exporter_file *ex, const char *name, const char *data, size_t len,
			 char *path, size_t path_size)
{
	int r = fs_write_atomic_at(ex->dirfd, name, data, len, true);

	if (r < 0)
		return r;
	if (path)
		snprintf(path, path_size, "%s/%s", ex->dir, name);
	return 0;
}

void exporter_file__free(struct exporter_file *ex)
{
	if (!ex)
		return;
	if (ex->dirfd >= 0)
		close(ex->dirfd);
	free(ex->dir);
	free(ex);
}
