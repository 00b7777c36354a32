/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * File-system helpers over plain syscalls, for folders that hold the agent's own files
 * (the output folder, the ledger): files created only under fresh, unpredictable names
 * (O_EXCL|O_NOFOLLOW|O_NONBLOCK, then fstat()-checked), so that nothing planted in the
 * folder (a symlink, a FIFO, a hard link to another file) is followed, opened or
 * written through; and renames that say whether they may replace.
 *
 * Pure: no state, no logging, no threads. Every function may block on the disk; those
 * that sync (durable, fs_fsync_dir_at) belong off the event loop.
 */
#ifndef INSPECTD_FSUTIL_H
#define INSPECTD_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Random letters in a temporary name, and how many names are tried before giving up. */
#define FS_TEMP_RANDOM   12
#define FS_TEMP_ATTEMPTS 8
/* A buffer that fits any temporary name of a prefix of up to NAME_MAX - FS_TEMP_EXTRA bytes. */
#define FS_TEMP_EXTRA    (1 + 1 + FS_TEMP_RANDOM + 4)    /* "." prefix "." random ".tmp" */
#define FS_NAME_SIZE     256                             /* NAME_MAX + 1 */

/*
 * Create a new, empty regular file ".PREFIX.RANDOM.tmp" (RANDOM: FS_TEMP_RANDOM letters
 * and digits from getrandom()) in the folder dirfd, mode 0600, opened
 * O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC and checked with fstat() (a
 * regular file with one link). A name that exists is never opened: another is tried,
 * FS_TEMP_ATTEMPTS times. name_out (size bytes) receives the name, *ret_fd the open fd,
 * which the caller owns (and the file: unlink it or rename it).
 * Returns 0; -EINVAL: prefix empty, with a '/', or too long for a name; -ENOBUFS: name_out
 * too small; -EEXIST: every name tried was taken; -errno from openat() or fstat().
 */
int fs_create_temp_at(int dirfd, const char *prefix, char *name_out, size_t size, int *ret_fd);

/* Whether name is one fs_create_temp_at(prefix) makes: ".PREFIX." RANDOM ".tmp". */
bool fs_is_temp_name(const char *name, const char *prefix);

/*
 * Write dir/name whole and atomically: len bytes of data into a temporary made by
 * fs_create_temp_at(dirfd, name), synced when durable, then renamed over name (a plain
 * rename: whatever was at name, a file, a symlink or a FIFO, is replaced, never followed
 * or opened). A reader sees the old contents or the new, never a mix; on failure the
 * temporary is removed and name is as it was.
 * Returns 0; -EINVAL: name empty, with a '/', starting with '.' or longer than
 * NAME_MAX - FS_TEMP_EXTRA (its temporary's name would not fit); -errno from
 * fs_create_temp_at(), write(), fsync(), close() or renameat() (-ENOSPC, -EDQUOT, -EIO...).
 */
int fs_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, bool durable);

/*
 * Write all len bytes at the file offset of fd, retrying short writes and EINTR.
 * Returns 0 or -errno from write() (-ENOSPC, -EFBIG, -EIO...; -EAGAIN for a non-blocking
 * pipe or socket that is full). Some bytes may have been written when it fails.
 */
int fs_write_all(int fd, const void *data, size_t len);

/*
 * renameat2(RENAME_NOREPLACE): move old to new, within or across folders of one file
 * system, only if nothing is at new (a dangling symlink counts). On a file system
 * without RENAME_NOREPLACE (EINVAL), link then unlink, which never replaces either.
 * Returns 0; -EEXIST: something is at new; -errno from renameat2(), linkat() or unlinkat().
 */
int fs_rename_noreplace_at(int olddirfd, const char *oldname, int newdirfd, const char *newname);

/* fsync() the folder dirfd, so that the names made or removed in it last. 0 or -errno. */
int fs_fsync_dir_at(int dirfd);

/*
 * Whether the folder dirfd is private to this process's effective user: a directory
 * owned by geteuid() and writable by neither group nor others, so that nobody else can
 * create, rename or remove names in it.
 * Returns 0; -EPERM: another owner, or writable by group or others; -ENOTDIR: not a
 * folder; -errno from fstat().
 */
int fs_check_private_dir(int dirfd);

/*
 * mkdir -p: create path's missing parents with mode parents and path itself with mode
 * mode (both less the umask). Whatever already exists at a name is left as it is (an
 * existing file is not an error here: opening path as a folder tells).
 * Returns 0; -EINVAL: path empty; -ENOMEM; -errno from mkdir() (-EACCES, -ENOTDIR...).
 */
int fs_mkdir_parents(const char *path, mode_t parents, mode_t mode);

/*
 * The whole of name in dfd into buf (NUL-terminated), if it is a regular file of fewer
 * than size bytes: opened O_NOFOLLOW|O_NONBLOCK, so that neither a symlink nor a FIFO
 * planted in a directory a tenant writes (a delegated cgroup) is followed or waited on.
 * Its length; -EFBIG when it does not fit, -EINVAL when it is not a regular file (or size
 * is 0), -errno.
 */
ssize_t fs_read_small_at(int dfd, const char *name, char *buf, size_t size);

#endif
