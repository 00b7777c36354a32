// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Container identity from cgroup paths, as runtimes and kubelet's two drivers name them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "container.h"

#define ID  "4f1c2b7a9e0d3c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "5a8f2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b"
#define UID_ "5a8f2c1e_3b4d_4e6f_8a9b_0c1d2e3f4a5b"

static void expect(const char *path, enum container_runtime runtime, const char *id, const char *pod_uid)
{
	struct container_info c;

	assert_int_equal(container_from_cgroup(path, &c), 0);
	assert_int_equal(c.runtime, runtime);
	assert_string_equal(c.id, id);
	assert_string_equal(c.pod_uid, pod_uid);
}

static void expect_none(const char *path)
{
	struct container_info c;

	memset(&c, 0x55, sizeof(c));
	assert_int_equal(container_from_cgroup(path, &c), -ENOENT);
	assert_int_equal(c.runtime, CONTAINER_RUNTIME_UNKNOWN);
	assert_string_equal(c.id, "");
	assert_string_equal(c.pod_uid, "");
}

static void test_docker(void **state)
{
	expect("/system.slice/docker-" ID ".scope", CONTAINER_RUNTIME_DOCKER, ID, "");
	expect("/docker/" ID, CONTAINER_RUNTIME_DOCKER, ID, "");
	expect("/docker/" ID "/", CONTAINER_RUNTIME_DOCKER, ID, "");
}

static void test_kubernetes_systemd(void **state)
{
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice/cri-containerd-" ID ".scope",
	       CONTAINER_RUNTIME_CONTAINERD, ID, UID);
	expect("/kubepods.slice/kubepods-pod" UID_ ".slice/crio-" ID ".scope", CONTAINER_RUNTIME_CRIO, ID, UID);
	expect("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/docker-" ID ".scope",
	       CONTAINER_RUNTIME_DOCKER, ID, UID);
}

static void test_kubernetes_cgroupfs(void **state)
{
	/* The runtime is not in the path: unknown rather than guessed. */
	expect("/kubepods/besteffort/pod" UID "/" ID, CONTAINER_RUNTIME_UNKNOWN, ID, UID);
	expect("/kubepods/pod" UID "/" ID, CONTAINER_RUNTIME_UNKNOWN, ID, UID);
}

static void test_podman_lxc(void **state)
{
	expect("/machine.slice/libpod-" ID ".scope", CONTAINER_RUNTIME_PODMAN, ID, "");
	expect("/machine.slice/libpod-" ID ".scope/container", CONTAINER_RUNTIME_PODMAN, ID, "");
	expect("/lxc.payload.web-1", CONTAINER_RUNTIME_LXC, "web-1", "");
	expect("/lxc/db.prod", CONTAINER_RUNTIME_LXC, "db.prod", "");
}

static void test_innermost_wins(void **state)
{
	/* kind: a node container (docker) running kubelet's containers (containerd). */
	expect("/system.slice/docker-" ID2 ".scope/kubelet.slice/kubelet-kubepods.slice/kubepods-pod" UID_
	       ".slice/cri-containerd-" ID ".scope", CONTAINER_RUNTIME_CONTAINERD, ID, UID);
	expect("/docker/" ID2 "/docker/" ID, CONTAINER_RUNTIME_DOCKER, ID, "");
	/* A pod is the one above the container, not one a container made beneath itself. */
	expect("/system.slice/docker-" ID ".scope/pod" UID, CONTAINER_RUNTIME_DOCKER, ID, "");
	expect("/system.slice/docker-" ID ".scope/kubepods-pod" UID_ ".slice", CONTAINER_RUNTIME_DOCKER, ID, "");
	/* A malformed pod segment does not spoil the pod above it. */
	expect("/kubepods/pod" UID "/pod1234-zz/" ID, CONTAINER_RUNTIME_UNKNOWN, ID, UID);
}

/* The prefix a tenant's captures are counted by: its outermost container's cgroup. */
static void expect_outer(const char *path, const char *prefix)
{
	size_t len = 0;

	if (!prefix) {
		assert_int_equal(container_outer_cgroup(path, &len), -ENOENT);
		return;
	}
	assert_int_equal(container_outer_cgroup(path, &len), 0);
	assert_int_equal(len, strlen(prefix));
	assert_memory_equal(path, prefix, len);
}

/* The outermost container of a process's paths, v2 first as container_from_paths(). */
static void expect_outer_id(const char *v1, const char *v2, const char *id)
{
	struct container_info c;

	if (!id) {
		assert_int_equal(container_outer_from_paths(v1, v2, &c), -ENOENT);
		assert_string_equal(c.id, "");
		return;
	}
	assert_int_equal(container_outer_from_paths(v1, v2, &c), 0);
	assert_string_equal(c.id, id);
}

static void test_outermost(void **state)
{
	expect_outer("/system.slice/docker-" ID ".scope", "/system.slice/docker-" ID ".scope");
	/* Cgroups a container makes beneath itself, named as containers, do not change it. */
	expect_outer("/system.slice/docker-" ID2 ".scope/docker-" ID ".scope/x", "/system.slice/docker-" ID2 ".scope");
	expect_outer("/docker/" ID2 "/docker/" ID, "/docker/" ID2);
	expect_outer("/kubepods/besteffort/pod" UID "/" ID, "/kubepods/besteffort/pod" UID "/" ID);
	expect_outer("/lxc.payload.web-1/lxc.payload.inner", "/lxc.payload.web-1");
	expect_outer("/user.slice/user-1000.slice/session-3.scope", NULL);
	expect_outer_id("", "/system.slice/docker-" ID2 ".scope/docker-" ID ".scope", ID2);
	expect_outer_id("/docker/" ID, "/system.slice/docker-" ID2 ".scope", ID2);
	expect_outer_id("/docker/" ID2 "/docker/" ID, "", ID2);
	expect_outer_id("/user.slice", "/system.slice", NULL);
	expect_outer("/", NULL);
	expect_outer("", NULL);
}

static void test_not_containers(void **state)
{
	expect_none("/");
	expect_none("");
	expect_none("/user.slice/user-1000.slice/session-3.scope");
	expect_none("/system.slice/ssh.service");
	expect_none("/process_api/e00b2cea502558ac118f56cc5ce67222");  /* 32 hex digits */
	/* Close, but not an id: uppercase, short, long, non-hex, conmon scopes. */
	expect_none("/docker/4F1C2B7A9E0D3C5B6A7F8E9D0C1B2A3F4E5D6C7B8A9F0E1D2C3B4A5F6E7D8C9B");
	expect_none("/system.slice/docker-" "4f1c2b7a9e0d3c5b" ".scope");
	expect_none("/system.slice/docker-" ID "0.scope");
	expect_none("/system.slice/docker-" "4f1c2b7a9e0d3c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9g" ".scope");
	expect_none("/machine.slice/libpod-conmon-" ID ".scope");
	expect_none("/kubepods.slice/kubepods-pod" UID_ ".slice");   /* a pod, no container */
	/* LXC names are checked characters. */
	expect_none("/lxc.payload.");
	expect_none("/lxc/we ird");
	expect_none("/lxc/\x1b[31mred");
}

static void test_bad_pod_uids(void **state)
{
	/* The container is found; a malformed pod UID is left out. */
	expect("/kubepods/pod1234/" ID, CONTAINER_RUNTIME_UNKNOWN, ID, "");
	expect("/kubepods/pod" "5a8f2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5" "/" ID, CONTAINER_RUNTIME_UNKNOWN, ID, "");
	expect("/kubepods/pod" "5a8f2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5bb" "/" ID, CONTAINER_RUNTIME_UNKNOWN, ID, "");
	expect("/kubepods/pod" "5a8f2c1e3b4d-4e6f-8a9b-0c1d2e3f4a5b-" "/" ID, CONTAINER_RUNTIME_UNKNOWN, ID, "");
	expect("/kubepods.slice/notpod" UID_ ".slice/cri-containerd-" ID ".scope", CONTAINER_RUNTIME_CONTAINERD, ID, "");
}

static void test_long_segments(void **state)
{
	char path[2048];

	/* A segment longer than any name a runtime writes is skipped, not read. */
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	expect_none(path);
	snprintf(path, sizeof(path), "/%0300d/docker/%s", 0, ID);
	expect(path, CONTAINER_RUNTIME_DOCKER, ID, "");
}

/* The names the JSON gives runtimes: unknown is null, as is a value out of range. */
static void test_runtime_names(void **state)
{
	static const char *const want[_CONTAINER_RUNTIME_MAX] = {
		[CONTAINER_RUNTIME_DOCKER] = "docker",
		[CONTAINER_RUNTIME_CONTAINERD] = "containerd",
		[CONTAINER_RUNTIME_CRIO] = "cri-o",
		[CONTAINER_RUNTIME_PODMAN] = "podman",
		[CONTAINER_RUNTIME_LXC] = "lxc",
	};

	assert_null(container_runtime_name(CONTAINER_RUNTIME_UNKNOWN));
	for (int r = CONTAINER_RUNTIME_UNKNOWN + 1; r < _CONTAINER_RUNTIME_MAX; r++) {
		assert_non_null(want[r]);
		assert_string_equal(container_runtime_name(r), want[r]);
	}
	assert_null(container_runtime_name(_CONTAINER_RUNTIME_MAX));
	assert_null(container_runtime_name((enum container_runtime)-1));
}

/* "container" and "kubernetes" as meta.json, /v1/processes and an OOM-kill record show them. */
static void test_identity_json(void **state)
{
	struct container_info c;
	cJSON *o = cJSON_CreateObject();
	const cJSON *k;

	/* No container: both null. */
	assert_true(container_add_identity_json(o, NULL));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "container")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "kubernetes")));
	assert_null(container_display_name(NULL));
	cJSON_Delete(o);

	/* docker, no pod: kubernetes null; the runtime's name shown. */
	assert_int_equal(container_from_cgroup("/system.slice/docker-" ID ".scope", &c), 0);
	assert_null(container_display_name(&c));
	snprintf(c.names.name, sizeof(c.names.name), "shop-api-1");
	assert_string_equal(container_display_name(&c), "shop-api-1");
	o = cJSON_CreateObject();
	assert_true(container_add_identity_json(o, &c));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "container"), "runtime")->valuestring, "docker");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "container"), "name")->valuestring, "shop-api-1");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "container"), "image")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "kubernetes")));
	cJSON_Delete(o);

	/* dockershim: the Kubernetes container's name before the runtime's "k8s_..." one. */
	snprintf(c.names.kube_pod, sizeof(c.names.kube_pod), "web-1");
	snprintf(c.names.kube_container, sizeof(c.names.kube_container), "app");
	assert_string_equal(container_display_name(&c), "app");
	o = cJSON_CreateObject();
	assert_true(container_add_identity_json(o, &c));
	k = cJSON_GetObjectItem(o, "kubernetes");
	assert_string_equal(cJSON_GetObjectItem(k, "pod")->valuestring, "web-1");
	assert_string_equal(cJSON_GetObjectItem(k, "container")->valuestring, "app");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(k, "namespace")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(k, "pod_uid")));
	cJSON_Delete(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_kubernetes_systemd),
		cmocka_unit_test(test_kubernetes_cgroupfs),
		cmocka_unit_test(test_podman_lxc),
		cmocka_unit_test(test_innermost_wins),
		cmocka_unit_test(test_outermost),
		cmocka_unit_test(test_not_containers),
		cmocka_unit_test(test_bad_pod_uids),
		cmocka_unit_test(test_long_segments),
		cmocka_unit_test(test_runtime_names),
		cmocka_unit_test(test_identity_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
