// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE             /* renameat2() and RENAME_NOREPLACE */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* n random letters and digits, unbiased; never blocks (GRND_INSECURE, else GRND_NONBLOCK). */
static int random_letters(char *out, size_t n)
{
	unsigned char buf[64];
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(buf, sizeof(buf), GRND_INSECURE);

		if (r < 0 && errno == EINVAL)     /* before Linux 5.6 */
			r = getrandom(buf, sizeof(buf), GRND_NONBLOCK);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (ssize_t i = 0; i < r && got < n; i++) {
			if (buf[i] < 248)   /* 4 * 62: keep the letters equally likely */
				out[got++] = letters[buf[i] % 62];
		}
	}
	return 0;
}

int fs_create_temp_at(int dirfd, const char *prefix, char *name_out, size_t size, int *ret_fd)
{
	size_t plen = strlen(prefix);

	if (plen == 0 || strchr(prefix, '/') || plen + FS_TEMP_EXTRA > FS_NAME_SIZE - 1)
		return -EINVAL;
	if (size < plen + FS_TEMP_EXTRA + 1)
		return -ENOBUFS;
	for (int attempt = 0; attempt < FS_TEMP_ATTEMPTS; attempt++) {
		char *p = name_out;
		struct stat st;
		int fd, r;

		*p++ = '.';
		memcpy(p, prefix, plen);
		p += plen;
		*p++ = '.';
		r = random_letters(p, FS_TEMP_RANDOM);
		if (r < 0)
			return r;
		memcpy(p + FS_TEMP_RANDOM, ".tmp", sizeof(".tmp"));

		fd = openat(dirfd, name_out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return -errno;
		}
		if (fstat(fd, &st) < 0) {
			r = -errno;
			close(fd);
			unlinkat(dirfd, name_out, 0);
			return r;
		}
		if (S_ISREG(st.st_mode) && st.st_nlink == 1) {
			*ret_fd = fd;
			return 0;
		}
		/* Ours (O_EXCL made it) but linked elsewhere since: not a private file, drop it. */
		close(fd);
		unlinkat(dirfd, name_out, 0);
	}
	name_out[0] = '\0';
	return -EEXIST;
}

bool fs_is_temp_name(const char *name, const char *prefix)
{
	size_t plen = strlen(prefix);
	const char *r;

	if (name[0] != '.' || strncmp(name + 1, prefix, plen) != 0 || name[1 + plen] != '.')
		return false;
	r = name + 2 + plen;
	for (int i = 0; i < FS_TEMP_RANDOM; i++) {
		if (!r[i] || !strchr(letters, r[i]))
			return false;
	}
	return strcmp(r + FS_TEMP_RANDOM, ".tmp") == 0;
}

int fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, bool durable)
{
	char tmp[FS_NAME_SIZE];
	int fd, r;

	if (!name[0] || strchr(name, '/') || name[0] == '.')
		return -EINVAL;
	r = fs_create_temp_at(dirfd, name, tmp, sizeof(tmp), &fd);
	if (r < 0)
		return r;
	r = fs_write_all(fd, data, len);
	if (r == 0 && durable && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dirfd, tmp, 0);
	return r;
}

int fs_rename_noreplace_at(int olddirfd, const char *oldname, int newdirfd, const char *newname)
{
	if (renameat2(olddirfd, oldname, newdirfd, newname, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	/* No RENAME_NOREPLACE here (EINVAL also means renaming a folder into itself: link tells). */
	if (linkat(olddirfd, oldname, newdirfd, newname, 0) < 0)
		return -errno;
	if (unlinkat(olddirfd, oldname, 0) < 0) {
		int r = -errno;

		unlinkat(newdirfd, newname, 0);
		return r;
	}
	return 0;
}

int fs_fsync_dir_at(int dirfd)
{
	return fsync(dirfd) < 0 ? -errno : 0;
}

int fs_check_private_dir(int dirfd)
{
	struct stat st;

	if (fstat(dirfd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return -EPERM;
	return 0;
}

int fs_mkdir_parents(const char *path, mode_t parents, mode_t mode)
{
	char *copy;
	int r = 0;

	if (!path[0])
		return -EINVAL;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, parents) < 0 && errno != EEXIST) {
			r = -errno;
			break;
		}
		*p = '/';
	}
	free(copy);
	if (r == 0 && mkdir(path, mode) < 0 && errno != EEXIST)
		r = -errno;
	return r;
}

/*
 * The whole of name in dfd into buf (NUL-terminated), if it is a regular file: opened
 * O_NOFOLLOW|O_NONBLOCK, so that neither a symlink nor a FIFO planted in a delegated
 * cgroup is followed or waited on. Its length, -EFBIG when it does not fit, -EINVAL when
 * it is not a regular file, or -errno.
 */
ssize_t fs_read_small_at(int dfd, const char *name, char *buf, size_t size)
{
	struct stat st;
	size_t got = 0;
	ssize_t ret;
	int fd;

	if (size == 0)
		return -EINVAL;
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto out;
	}
	for (;;) {
		char extra;
		ssize_t n;

		if (got < size - 1)
			n = read(fd, buf + got, size - 1 - got);
		else
			n = read(fd, &extra, 1);    /* full: is there more? */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (got == size - 1) {
			ret = -EFBIG;
			goto out;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	ret = (ssize_t)got;
out:
	close(fd);
	return ret;
}
