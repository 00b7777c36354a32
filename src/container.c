// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "container.h"

#define SEGMENT_MAX     256

static const char *const runtime_names[_CONTAINER_RUNTIME_MAX] = {
	[CONTAINER_RUNTIME_UNKNOWN] = NULL,
	[CONTAINER_RUNTIME_DOCKER] = "docker",
	[CONTAINER_RUNTIME_CONTAINERD] = "containerd",
	[CONTAINER_RUNTIME_CRIO] = "cri-o",
	[CONTAINER_RUNTIME_PODMAN] = "podman",
	[CONTAINER_RUNTIME_LXC] = "lxc",
};

const char *container_runtime_name(enum container_runtime r)
{
	return (unsigned)r < _CONTAINER_RUNTIME_MAX ? runtime_names[r] : NULL;
}

static bool is_hex64(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool has_prefix(const char *s, size_t n, const char *prefix, size_t *skip)
{
	size_t p = strlen(prefix);

	if (n < p || memcmp(s, prefix, p) != 0)
		return false;
	*skip = p;
	return true;
}

/* "pod<uid>", "kubepods-pod<uid>.slice", "kubepods-burstable-pod<uid>.slice" (systemd writes '-' as '_'). */
static bool pod_segment(const char *s, size_t n, char uid[37])
{
	const char *p = NULL;
	char tmp[37];
	size_t len;

	if (n > 6 && memcmp(s + n - 6, ".slice", 6) == 0) {
		n -= 6;
		for (size_t i = 0; i + 3 < n; i++)
			if ((i == 0 || s[i - 1] == '-') && memcmp(s + i, "pod", 3) == 0)
				p = s + i + 3;
	} else if (n > 3 && memcmp(s, "pod", 3) == 0) {
		p = s + 3;
	}
	if (!p)
		return false;
	len = n - (size_t)(p - s);
	if (len != 36)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = p[i] == '_' ? '-' : p[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		tmp[i] = c;
	}
	tmp[36] = '\0';
	memcpy(uid, tmp, sizeof(tmp));  /* only a whole, valid UID replaces the one kept */
	return true;
}

/* A printable LXC name: letters, digits, '-', '_', '.', at most CONTAINER_ID_MAX. */
static bool lxc_name(const char *s, size_t n)
{
	if (n == 0 || n > CONTAINER_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

/* The container of this segment, in the pod whose cgroup came above it (if any). */
static bool set_id(struct container_info *out, enum container_runtime runtime, const char *id, size_t n, char pod[37])
{
	out->runtime = runtime;
	memcpy(out->id, id, n);
	out->id[n] = '\0';
	memcpy(out->pod_uid, pod, 37);
	pod[0] = '\0';
	return true;
}

/*
 * Whether the segment seg (n bytes, under the segment prev of prev_len bytes) names a
 * container: true and out's runtime and id (the pod above it, from pod, moved in).
 */
static bool container_segment(const char *seg, size_t n, const char *prev, size_t prev_len,
			      struct container_info *out, char pod[37])
{
	static const struct {
		const char *prefix;
		enum container_runtime runtime;
	} scopes[] = {
		{ "docker-", CONTAINER_RUNTIME_DOCKER },
		{ "cri-containerd-", CONTAINER_RUNTIME_CONTAINERD },
		{ "crio-", CONTAINER_RUNTIME_CRIO },
		{ "libpod-", CONTAINER_RUNTIME_PODMAN },
	};
	bool found = false;
	size_t skip, m;

	m = n;
	if (m > 6 && memcmp(seg + m - 6, ".scope", 6) == 0)
		m -= 6;
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++)
		if (has_prefix(seg, m, scopes[i].prefix, &skip) && is_hex64(seg + skip, m - skip))
			found = set_id(out, scopes[i].runtime, seg + skip, 64, pod);
	if (is_hex64(seg, n)) { /* cgroupfs driver: the runtime is the parent's name, when it says */
		bool docker = prev_len == 6 && !memcmp(prev, "docker", 6);

		found = set_id(out, docker ? CONTAINER_RUNTIME_DOCKER : CONTAINER_RUNTIME_UNKNOWN, seg, 64, pod);
	}
	if (has_prefix(seg, n, "lxc.payload.", &skip) && lxc_name(seg + skip, n - skip))
		found = set_id(out, CONTAINER_RUNTIME_LXC, seg + skip, n - skip, pod);
	else if (prev_len == 3 && !memcmp(prev, "lxc", 3) && lxc_name(seg, n))
		found = set_id(out, CONTAINER_RUNTIME_LXC, seg, n, pod);
	return found;
}

/*
 * Walk path's segments: the innermost container (outermost: stop at the first). 0 and
 * *out, with *ret_end (may be NULL) where that container's segment ends in path; -ENOENT.
 */
static int walk(const char *path, bool outermost, struct container_info *out, size_t *ret_end)
{
	const char *seg = path, *prev = NULL;
	size_t prev_len = 0, end_at = 0;
	bool found = false;
	char pod[37] = "";     /* a pod cgroup seen above the next container's */

	memset(out, 0, sizeof(*out));
	while (*seg) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);

		if (n == 0 || n > SEGMENT_MAX)
			goto next;
		pod_segment(seg, n, pod);      /* a pod below the last container belongs to none */
		if (container_segment(seg, n, prev, prev_len, out, pod)) {
			found = true;
			end_at = (size_t)(seg - path) + n;
			if (outermost)
				break;
		}
next:
		prev = seg;
		prev_len = n;
		if (!end)
			break;
		seg = end + 1;
	}
	if (!found) {
		memset(out, 0, sizeof(*out));
		return -ENOENT;
	}
	if (ret_end)
		*ret_end = end_at;
	return 0;
}

int container_from_cgroup(const char *path, struct container_info *out)
{
	return walk(path, false, out, NULL);
}

int container_outer_cgroup(const char *path, size_t *ret_len)
{
	struct container_info c;

	return walk(path, true, &c, ret_len);
}

int container_from_paths(const char *v1_path, const char *v2_path, struct container_info *out)
{
	if (v2_path && container_from_cgroup(v2_path, out) == 0)
		return 0;
	if (v1_path && container_from_cgroup(v1_path, out) == 0)
		return 0;
	return -ENOENT;
}

int container_outer_from_paths(const char *v1_path, const char *v2_path, struct container_info *out)
{
	if (v2_path && walk(v2_path, true, out, NULL) == 0)
		return 0;
	if (v1_path && walk(v1_path, true, out, NULL) == 0)
		return 0;
	return -ENOENT;
}

/* key: the string, or null when it is "". */
static bool add_known(cJSON *o, const char *key, const char *s)
{
	return (s && s[0] ? cJSON_AddStringToObject(o, key, s) : cJSON_AddNullToObject(o, key)) != NULL;
}

bool container_add_json(cJSON *parent, const char *key, const struct container_info *c)
{
	cJSON *o;

	if (!c || !c->id[0])
		return cJSON_AddNullToObject(parent, key) != NULL;
	o = cJSON_AddObjectToObject(parent, key);
	return o && add_known(o, "runtime", container_runtime_name(c->runtime)) && cJSON_AddStringToObject(o, "id", c->id) &&
	       add_known(o, "pod_uid", c->pod_uid) && add_known(o, "name", c->names.name) &&
	       add_known(o, "image", c->names.image);
}

bool container_add_identity_json(cJSON *parent, const struct container_info *c)
{
	const struct container_names *n = c ? &c->names : NULL;
	cJSON *o;

	if (!container_add_json(parent, "container", c))
		return false;
	if (!c || !c->id[0] || (!c->pod_uid[0] && !n->kube_pod[0]))
		return cJSON_AddNullToObject(parent, "kubernetes") != NULL;
	o = cJSON_AddObjectToObject(parent, "kubernetes");
	return o && add_known(o, "pod", n->kube_pod) && add_known(o, "namespace", n->kube_namespace) &&
	       add_known(o, "container", n->kube_container) && add_known(o, "pod_uid", c->pod_uid) &&
	       add_known(o, "sandbox_id", n->kube_sandbox_id);
}

const char *container_display_name(const struct container_info *c)
{
	if (!c || !c->id[0])
		return NULL;
	if (c->names.kube_container[0])
		return c->names.kube_container;
	return c->names.name[0] ? c->names.name : NULL;
}
