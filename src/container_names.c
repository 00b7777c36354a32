// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE             /* memmem */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <cjson/cJSON.h>

#include "container_names.h"

static bool alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alnum(char c)
{
	return alnum_lower(c) || (c >= 'A' && c <= 'Z');
}

/* 1 to max of [a-z0-9] and the characters of also, alphanumeric at both ends. */
static bool dns_name(const char *s, size_t max, const char *also)
{
	size_t n = strnlen(s, max + 1);

	if (n == 0 || n > max || !alnum_lower(s[0]) || !alnum_lower(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!alnum_lower(s[i]) && !strchr(also, s[i]))
			return false;
	return true;
}

bool names_valid_label(const char *s)
{
	return dns_name(s, CONTAINER_LABEL_MAX, "-");
}

/* A pod's name: a DNS subdomain. */
static bool valid_subdomain(const char *s)
{
	return dns_name(s, CONTAINER_NAME_MAX, "-.");
}

/* 1 to max characters, an alphanumeric first, then alphanumerics and those of extra. */
static bool alnum_then(const char *s, size_t max, const char *extra)
{
	size_t n = strnlen(s, max + 1);

	if (n == 0 || n > max || !alnum(s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!alnum(s[i]) && !strchr(extra, s[i]))
			return false;
	return true;
}

/* docker's and podman's: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most CONTAINER_NAME_MAX. */
static bool valid_runtime_name(const char *s)
{
	return alnum_then(s, CONTAINER_NAME_MAX, "_.-");
}

/* An image reference: registry/path:tag@algorithm:digest, in its grammar's characters. */
static bool valid_image(const char *s)
{
	return alnum_then(s, CONTAINER_IMAGE_MAX, "._-/:@+");
}

static bool valid_hex64(const char *s)
{
	if (strnlen(s, 65) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* dst (size bytes) = the string item when valid; else dst as it was. */
static void take(char *dst, size_t size, const cJSON *item, bool (*valid)(const char *))
{
	if (!cJSON_IsString(item) || !valid(item->valuestring) || strlen(item->valuestring) >= size)
		return;
	memcpy(dst, item->valuestring, strlen(item->valuestring) + 1);
}

#define TAKE(field, item, valid) take((field), sizeof(field), (item), (valid))

static const cJSON *member(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/*
 * One JSON value of len bytes and nothing after it but white space; NULL when it is not.
 * A \u0000 is refused: cJSON would end the string there, and keep what comes before.
 */
static cJSON *parse_json(const char *buf, size_t len)
{
	const char *end = NULL;
	cJSON *root;

	if (memmem(buf, len, "\\u0000", 6))
		return NULL;
	root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
	for (; root && end && end < buf + len; end++)
		if (!strchr(" \t\r\n", *end) || !*end) {
			cJSON_Delete(root);
			return NULL;
		}
	return root;
}

/* The object a file holds, or NULL (-EINVAL: not a JSON object). */
static cJSON *parse_object(const char *buf, size_t len, int *r)
{
	cJSON *root = parse_json(buf, len);

	*r = 0;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		*r = -EINVAL;
		return NULL;
	}
	return root;
}

/* Keys of Kubernetes' names, as one runtime spells them. */
struct kube_keys {
	const char *pod, *namespace, *container, *image, *sandbox_id;
};

static void take_kube(const cJSON *map, const struct kube_keys *k, struct container_names *out)
{
	TAKE(out->kube_pod, member(map, k->pod), valid_subdomain);
	TAKE(out->kube_namespace, member(map, k->namespace), names_valid_label);
	TAKE(out->kube_container, member(map, k->container), names_valid_label);
	TAKE(out->kube_sandbox_id, member(map, k->sandbox_id), valid_hex64);
	if (k->image)
		TAKE(out->image, member(map, k->image), valid_image);
	/* A CRI container has no name of its own but its Kubernetes one. */
	if (out->kube_container[0] && !out->name[0])
		memcpy(out->name, out->kube_container, sizeof(out->kube_container));
}

static int parse_annotations(const char *buf, size_t len, const struct kube_keys *k, struct container_names *out)
{
	cJSON *root;
	int r;

	memset(out, 0, sizeof(*out));
	root = parse_object(buf, len, &r);
	if (!root)
		return r;
	take_kube(member(root, "annotations"), k, out);
	cJSON_Delete(root);
	return 0;
}

int names_parse_containerd(const char *buf, size_t len, struct container_names *out)
{
	static const struct kube_keys k = {
		"io.kubernetes.cri.sandbox-name", "io.kubernetes.cri.sandbox-namespace",
		"io.kubernetes.cri.container-name", "io.kubernetes.cri.image-name", "io.kubernetes.cri.sandbox-id",
	};

	return parse_annotations(buf, len, &k, out);
}

int names_parse_crio(const char *buf, size_t len, struct container_names *out)
{
	static const struct kube_keys k = {
		"io.kubernetes.pod.name", "io.kubernetes.pod.namespace", "io.kubernetes.container.name",
		"io.kubernetes.cri-o.ImageName", "io.kubernetes.cri-o.SandboxID",
	};

	return parse_annotations(buf, len, &k, out);
}

static bool valid_docker_name(const char *s)
{
	return valid_runtime_name(s[0] == '/' ? s + 1 : s);
}

int names_parse_docker(const char *buf, size_t len, struct container_names *out)
{
	/* dockershim's labels (kubelet before 1.24). */
	static const struct kube_keys k = {
		"io.kubernetes.pod.name", "io.kubernetes.pod.namespace", "io.kubernetes.container.name",
		NULL, "io.kubernetes.sandbox.id",
	};
	const cJSON *name, *config;
	cJSON *root;
	int r;

	memset(out, 0, sizeof(*out));
	root = parse_object(buf, len, &r);
	if (!root)
		return r;
	name = member(root, "Name");
	if (cJSON_IsString(name) && valid_docker_name(name->valuestring) &&
	    strlen(name->valuestring) <= CONTAINER_NAME_MAX + 1)
		snprintf(out->name, sizeof(out->name), "%s",
			 name->valuestring + (name->valuestring[0] == '/'));
	config = member(root, "Config");
	TAKE(out->image, member(config, "Image"), valid_image);
	take_kube(member(config, "Labels"), &k, out);
	cJSON_Delete(root);
	return 0;
}

int names_parse_storage(const char *buf, size_t len, const char *id, struct container_names *out)
{
	static const struct kube_keys k = { "pod-name", "pod-namespace", "metadata-name", "image-name", "pod-id" };
	const cJSON *item, *entry = NULL;
	cJSON *root, *meta = NULL;

	memset(out, 0, sizeof(*out));
	root = parse_json(buf, len);
	if (!cJSON_IsArray(root)) {
		cJSON_Delete(root);
		return -EINVAL;
	}
	cJSON_ArrayForEach(item, root) {
		const cJSON *cid = member(item, "id");

		if (cJSON_IsString(cid) && strcmp(cid->valuestring, id) == 0) {
			entry = item;
			break;
		}
	}
	if (!entry) {
		cJSON_Delete(root);
		return -ENOENT;
	}
	TAKE(out->name, cJSON_GetArrayItem(member(entry, "names"), 0), valid_runtime_name);
	/* metadata: a JSON document in a string, no longer than the file that holds it. */
	item = member(entry, "metadata");
	if (cJSON_IsString(item))
		meta = parse_json(item->valuestring, strlen(item->valuestring));
	if (cJSON_IsObject(meta)) {
		if (!out->name[0])
			TAKE(out->name, member(meta, "name"), valid_runtime_name);
		take_kube(meta, &k, out);
	}
	cJSON_Delete(meta);
	cJSON_Delete(root);
	return 0;
}

int names_read_file(int rootfd, const char *path, size_t max, char **ret, size_t *ret_len)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	size_t got = 0;
	struct stat st;
	char *buf = NULL;
	int fd, r;

	fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = -EFBIG;
		goto out;
	}
	/* Sized by what fstat() said, one byte more to see a file that grew past max since. */
	buf = malloc((size_t)st.st_size + 2);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		size_t room = (size_t)st.st_size + 1 - got;
		ssize_t n;

		if (room == 0) {
			r = -EFBIG;     /* grew meanwhile: read it next time, whole */
			goto out;
		}
		n = read(fd, buf + got, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*ret = buf;
	*ret_len = got;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

/* A kind of state file a runtime keeps: where, how big at most, and how to read it. */
struct names_source {
	/* Path of the attempt'th file for id: 0, or -ENOENT past the last. */
	int (*path)(const char *id, unsigned attempt, char *buf, size_t size);
	size_t max;
	int (*parse)(const char *buf, size_t len, const char *id, struct container_names *out);
};

static int put_path(char *buf, size_t size, int n)
{
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The containerd namespace is not in the cgroup path: kubelet's, docker's, then the default. */
static int containerd_path(const char *id, unsigned attempt, char *buf, size_t size)
{
	static const char *const namespaces[] = { "k8s.io", "moby", "default" };

	if (attempt >= sizeof(namespaces) / sizeof(namespaces[0]))
		return -ENOENT;
	return put_path(buf, size, snprintf(buf, size, "run/containerd/io.containerd.runtime.v2.task/%s/%s/config.json",
					    namespaces[attempt], id));
}

static int crio_path(const char *id, unsigned attempt, char *buf, size_t size)
{
	if (attempt)
		return -ENOENT;
	return put_path(buf, size, snprintf(buf, size, "run/containers/storage/overlay-containers/%s/userdata/config.json", id));
}

static int docker_path(const char *id, unsigned attempt, char *buf, size_t size)
{
	if (attempt)
		return -ENOENT;
	return put_path(buf, size, snprintf(buf, size, "var/lib/docker/containers/%s/config.v2.json", id));
}

static int storage_path(const char *id, unsigned attempt, char *buf, size_t size)
{
	if (attempt)
		return -ENOENT;
	return put_path(buf, size, snprintf(buf, size, "var/lib/containers/storage/overlay-containers/containers.json"));
}

static int parse_containerd(const char *buf, size_t len, const char *id, struct container_names *out)
{
	return names_parse_containerd(buf, len, out);
}

static int parse_crio(const char *buf, size_t len, const char *id, struct container_names *out)
{
	return names_parse_crio(buf, len, out);
}

static int parse_docker(const char *buf, size_t len, const char *id, struct container_names *out)
{
	return names_parse_docker(buf, len, out);
}

enum names_source_kind {
	SOURCE_NONE,            /* ends a runtime's list */
	SOURCE_CONTAINERD,
	SOURCE_CRIO,
	SOURCE_DOCKER,
	SOURCE_STORAGE,
	_SOURCE_MAX,
};

static const struct names_source sources[_SOURCE_MAX] = {
	[SOURCE_CONTAINERD] = { containerd_path, NAMES_CONFIG_MAX, parse_containerd },
	[SOURCE_CRIO] = { crio_path, NAMES_CONFIG_MAX, parse_crio },
	[SOURCE_DOCKER] = { docker_path, NAMES_CONFIG_MAX, parse_docker },
	[SOURCE_STORAGE] = { storage_path, NAMES_STORAGE_MAX, names_parse_storage },
};

/*
 * The sources of each runtime, tried in this order up to the first SOURCE_NONE (each at
 * most once, so a row of _SOURCE_MAX always ends in one). None: the runtime keeps no
 * state we read (LXC). Unknown: kubelet's cgroupfs driver, each CRI runtime in turn.
 */
static const enum names_source_kind runtime_sources[_CONTAINER_RUNTIME_MAX][_SOURCE_MAX] = {
	[CONTAINER_RUNTIME_UNKNOWN] = { SOURCE_CONTAINERD, SOURCE_CRIO, SOURCE_DOCKER },
	[CONTAINER_RUNTIME_DOCKER] = { SOURCE_DOCKER },
	[CONTAINER_RUNTIME_CONTAINERD] = { SOURCE_CONTAINERD },
	[CONTAINER_RUNTIME_CRIO] = { SOURCE_CRIO, SOURCE_STORAGE },
	[CONTAINER_RUNTIME_PODMAN] = { SOURCE_STORAGE },
	[CONTAINER_RUNTIME_LXC] = { SOURCE_NONE },
};

int container_names_lookup(int rootfd, const struct container_info *c, struct container_names *out, char *file,
			   size_t file_size)
{
	const enum names_source_kind *kinds;
	char path[NAMES_FILE_MAX];
	int r = -ENOENT;

	memset(out, 0, sizeof(*out));
	if (file && file_size)
		file[0] = '\0';
	if ((unsigned)c->runtime >= _CONTAINER_RUNTIME_MAX)
		return -EINVAL;
	kinds = runtime_sources[c->runtime];
	if (kinds[0] == SOURCE_NONE)
		return -ENOENT;
	if (!valid_hex64(c->id))
		return -EINVAL;
	for (size_t k = 0; k < _SOURCE_MAX && kinds[k] != SOURCE_NONE; k++) {
		const struct names_source *src = &sources[kinds[k]];

		for (unsigned attempt = 0; src->path(c->id, attempt, path, sizeof(path)) == 0; attempt++) {
			char *buf = NULL;
			size_t len = 0;

			if (file && file_size)
				snprintf(file, file_size, "%s", path);
			r = names_read_file(rootfd, path, src->max, &buf, &len);
			if (r == -ENOENT || r == -ENOTDIR)
				continue;
			if (r == 0) {
				r = src->parse(buf, len, c->id, out);
				free(buf);
			}
			/* Not listed in a storage's containers.json: perhaps in the next source. */
			if (r == -ENOENT)
				continue;
			if (r < 0)
				memset(out, 0, sizeof(*out));
			return r;
		}
	}
	return -ENOENT;
}
