/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A container's names (its own, its image's, its pod's) from the container runtimes' state
 * files on the host, without any API server:
 *
 *   containerd   run/containerd/io.containerd.runtime.v2.task/<namespace>/<id>/config.json
 *                (the OCI bundle; namespaces k8s.io, moby, default tried in that order):
 *                annotations io.kubernetes.cri.{sandbox-name,sandbox-namespace,
 *                container-name,image-name,sandbox-id}
 *   CRI-O        run/containers/storage/overlay-containers/<id>/userdata/config.json:
 *                annotations io.kubernetes.{pod.name,pod.namespace,container.name},
 *                io.kubernetes.cri-o.{ImageName,SandboxID}
 *   docker       var/lib/docker/containers/<id>/config.v2.json: Name, Config.Image,
 *                Config.Labels (io.kubernetes.* on dockershim-era nodes)
 *   podman       var/lib/containers/storage/overlay-containers/containers.json (the
 *                container storage's list, CRI-O's too): names, metadata's name and image-name
 *
 * Everything in those files is written by whoever controls the container: each is opened
 * beneath the host root's dirfd with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) (a
 * symlink, absolute or not, resolves inside the host root, never out of it), O_NOFOLLOW
 * (the file itself is no symlink) and O_NONBLOCK (a FIFO does not hang us), must be a
 * regular file, and is read whole only up to a bound; each value is kept only if it has
 * what its field may contain. Pure but for those reads; no logging.
 */
#ifndef INSPECTD_CONTAINER_NAMES_H
#define INSPECTD_CONTAINER_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "container.h"

#define NAMES_CONFIG_MAX        (1 << 20)       /* an OCI config.json, docker's config.v2.json */
#define NAMES_STORAGE_MAX       (4 << 20)       /* containers.json: every container of the storage */
#define NAMES_FILE_MAX          160             /* the longest path tried, and its NUL */

/*
 * Each parser takes a file's bytes (len of them, no NUL needed) and fills *out with what
 * it holds: 0 (members it lacks, or that are invalid, stay ""); -EINVAL: not a JSON object
 * of the expected shape; -ENOMEM. names_parse_storage(): -ENOENT when id is not listed.
 */
int names_parse_containerd(const char *buf, size_t len, struct container_names *out);
int names_parse_crio(const char *buf, size_t len, struct container_names *out);
int names_parse_docker(const char *buf, size_t len, struct container_names *out);
int names_parse_storage(const char *buf, size_t len, const char *id, struct container_names *out);

/*
 * The regular file path (relative to rootfd, which stands for "/": see above) whole, at
 * most max bytes: 0, *ret (malloc'd, NUL-terminated, the caller's) and *ret_len.
 * -ENOENT; -ELOOP: path is a symlink, or a magic link is on the way; -EINVAL: not a regular file;
 * -EFBIG: over max; -ENOSYS: no openat2() (Linux before 5.6); -ENOMEM; -errno.
 */
int names_read_file(int rootfd, const char *path, size_t max, char **ret, size_t *ret_len);

/*
 * c's names from its runtime's files under rootfd (an O_PATH or O_DIRECTORY fd of
 * --host-root): the runtime's own files when c->runtime names one, else (the cgroupfs
 * driver's Kubernetes paths) containerd's, CRI-O's and docker's in turn. 0 and *out (all
 * "" that was not found); -ENOENT: no file found, or the runtime keeps none we read (an
 * LXC container); -EINVAL: c's id is not 64 hex digits, c's runtime is out of range, or
 * the file is malformed; the errors of names_read_file(). file (file_size bytes, may be NULL) gets the last path tried.
 */
int container_names_lookup(int rootfd, const struct container_info *c, struct container_names *out, char *file,
			   size_t file_size);

/* A Kubernetes name: a DNS label (1-63 of [a-z0-9-], alphanumeric at both ends). */
bool names_valid_label(const char *s);

#endif
