/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The file exporter: profiles and their .meta.json in one folder, each file
 * written under a temporary name, synced, then renamed: a reader never sees
 * half a file under a final name.
 */
#ifndef INSPECTD_EXPORTER_FILE_H
#define INSPECTD_EXPORTER_FILE_H

#include <stddef.h>

struct exporter_file;

/* Creates dir (0700, parents 0755) if needed. NULL with errno set. */
struct exporter_file *exporter_file__new(const char *dir);
const char *exporter_file__dir(const struct exporter_file *ex);
/* base, or base-N, such that no file of that base exists yet. */
int exporter_file__unique_base(struct exporter_file *ex, const char *base, const char *const *exts,
			       char *out, size_t size);
/* Write dir/name atomically and durably (fs_write_atomic_at()). path receives the final path. 0 or -errno. */
int exporter_file__write(struct exporter_file *ex, const char *name, const char *data, size_t len,
			 char *path, size_t path_size);
void exporter_file__free(struct exporter_file *ex);

#endif
