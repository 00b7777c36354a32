/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Which container a process runs in, read from its cgroup path alone (pure):
 *
 *   /system.slice/docker-<id>.scope                          docker (systemd driver)
 *   /docker/<id>                                             docker (cgroupfs driver)
 *   /kubepods.slice/kubepods-burstable.slice/
 *     kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope   containerd, pod <uid>
 *   /kubepods/besteffort/pod<uid>/<id>                       Kubernetes, cgroupfs driver
 *   .../crio-<id>.scope, .../libpod-<id>.scope               CRI-O, podman
 *   /lxc.payload.<name>, /lxc/<name>                         LXC
 *
 * The innermost container segment wins (a container in a container is the inner
 * one). A container can name its own sub-cgroups: what this returns is a label to
 * read, never something to act on.
 */
#ifndef INSPECTD_CONTAINER_H
#define INSPECTD_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#define CONTAINER_ID_MAX        64
#define CONTAINER_NAME_MAX      253     /* a runtime's container name, a pod's (DNS subdomain) */
#define CONTAINER_LABEL_MAX     63      /* a Kubernetes namespace or container name (DNS label) */
#define CONTAINER_IMAGE_MAX     511     /* an image reference, tag and digest included */

/*
 * What the runtimes' own state files on the host say of a container (container_names.h
 * reads them): each member checked for what it may contain, "" when unknown or invalid.
 */
struct container_names {
	char name[CONTAINER_NAME_MAX + 1];              /* docker's, podman's; a CRI container's Kubernetes name */
	char image[CONTAINER_IMAGE_MAX + 1];
	char kube_pod[CONTAINER_NAME_MAX + 1];
	char kube_namespace[CONTAINER_LABEL_MAX + 1];
	char kube_container[CONTAINER_LABEL_MAX + 1];
	char kube_sandbox_id[CONTAINER_ID_MAX + 1];     /* the pod sandbox's container id, 64 hex digits */
};

/* Which runtime made a container; unknown (0) when its cgroup path does not say. */
enum container_runtime {
	CONTAINER_RUNTIME_UNKNOWN,
	CONTAINER_RUNTIME_DOCKER,
	CONTAINER_RUNTIME_CONTAINERD,
	CONTAINER_RUNTIME_CRIO,
	CONTAINER_RUNTIME_PODMAN,
	CONTAINER_RUNTIME_LXC,
	_CONTAINER_RUNTIME_MAX,
};

struct container_info {
	enum container_runtime runtime;
	char id[CONTAINER_ID_MAX + 1];  /* 64 hex digits, or an LXC name */
	char pod_uid[37];               /* Kubernetes pod UID; "" when none */
	struct container_names names;   /* all "" from the cgroup path alone; filled from the runtime's files */
};

/*
 * "docker", "containerd", "cri-o", "podman", "lxc": what the JSON calls r; NULL for
 * CONTAINER_RUNTIME_UNKNOWN (JSON null) and for any value out of range.
 */
const char *container_runtime_name(enum container_runtime r);

/* 0 and *out when path names a container, -ENOENT when it does not. */
int container_from_cgroup(const char *path, struct container_info *out);
/*
 * The outermost container of path, as the host sees it: 0 and *ret_len, the length of
 * path up to the end of that container's segment; -ENOENT when path names none. A
 * container can name cgroups beneath its own, never above: this prefix is one it
 * cannot choose, the key to count its captures by (the innermost is not).
 */
int container_outer_cgroup(const char *path, size_t *ret_len);
/* The same from a process's cgroup v2 path, else its v1 memory path (either may be ""). */
int container_from_paths(const char *v1_path, const char *v2_path, struct container_info *out);
/*
 * The same, but the outermost container: the one the host's runtime made, whose id no one
 * inside a container chose (a container may name its sub-cgroups after any other container).
 */
int container_outer_from_paths(const char *v1_path, const char *v2_path, struct container_info *out);
/*
 * key: {"runtime", "id", "pod_uid", "name", "image"} (null members when unknown), or
 * key: null without a container.
 */
bool container_add_json(cJSON *parent, const char *key, const struct container_info *c);
/*
 * "container" as container_add_json(), and "kubernetes": {"pod", "namespace", "container",
 * "pod_uid", "sandbox_id"} (null members when unknown), or null for a process in no pod
 * (neither a pod UID nor a pod name known). What meta.json, /v1/processes and any other
 * record of a process (an OOM kill) say of its container: false when out of memory.
 */
bool container_add_identity_json(cJSON *parent, const struct container_info *c);
/* The name a person knows the container by: its Kubernetes container name, else the
 * runtime's; NULL when neither is known. */
const char *container_display_name(const struct container_info *c);

#endif
