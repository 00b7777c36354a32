// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Container names from the runtimes' state files: each parser over fixtures shaped as
 * containerd, CRI-O, docker (plain and dockershim) and podman's storage write them
 * (tests/fixtures/names/), hostile and malformed ones; the bounded, confined read
 * (oversized files, symlinks in and out of the host root, FIFOs); and the lookup over a
 * per-test host root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container_names.h"
#include "fixture.h"

#define ID  "4f1c2b7a9e0d3c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b"
#define SB  "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect_names(const struct container_names *n, const char *name, const char *image, const char *pod,
			 const char *ns, const char *container, const char *sandbox)
{
	assert_string_equal(n->name, name);
	assert_string_equal(n->image, image);
	assert_string_equal(n->kube_pod, pod);
	assert_string_equal(n->kube_namespace, ns);
	assert_string_equal(n->kube_container, container);
	assert_string_equal(n->kube_sandbox_id, sandbox);
}

static void test_containerd(void **state)
{
	struct container_names n;
	size_t len;
	char *buf = fixture_read("names/containerd-config.json", &len);

	memset(&n, 0x55, sizeof(n));
	assert_int_equal(names_parse_containerd(buf, len, &n), 0);
	expect_names(&n, "app", "docker.io/library/node:20-alpine", "web-7d9f8c6b5-x2x9q", "shop", "app", SB);
	/* The same file read as CRI-O's names nothing: other keys. */
	assert_int_equal(names_parse_crio(buf, len, &n), 0);
	expect_names(&n, "", "", "", "", "", "");
	free(buf);
}

static void test_crio(void **state)
{
	struct container_names n;
	size_t len;
	char *buf = fixture_read("names/crio-config.json", &len);

	assert_int_equal(names_parse_crio(buf, len, &n), 0);
	expect_names(&n, "worker", "quay.io/acme/worker:v2.3.1", "queue-0", "batch", "worker", SB);
	free(buf);
}

static void test_docker(void **state)
{
	struct container_names n;
	size_t len;
	char *buf = fixture_read("names/docker-config.v2.json", &len);

	assert_int_equal(names_parse_docker(buf, len, &n), 0);
	expect_names(&n, "shop-api-1", "registry.example.com:5000/team/api:1.4.2", "", "", "", "");
	free(buf);

	/* dockershim: the Kubernetes names from the labels, the image an id. */
	buf = fixture_read("names/docker-dockershim-config.v2.json", &len);
	assert_int_equal(names_parse_docker(buf, len, &n), 0);
	expect_names(&n, "k8s_app_web-7d9f8c6b5-x2x9q_shop_5a8f2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b_0",
		     "sha256:0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d", "web-7d9f8c6b5-x2x9q",
		     "shop", "app", SB);
	free(buf);
}

static void test_storage(void **state)
{
	struct container_names n;
	size_t len;
	char *buf = fixture_read("names/storage-containers.json", &len);

	/* podman: names and the metadata's image-name. */
	assert_int_equal(names_parse_storage(buf, len, ID, &n), 0);
	expect_names(&n, "web", "localhost/node-app:latest", "", "", "", "");
	assert_int_equal(names_parse_storage(buf, len, ID2, &n), 0);
	expect_names(&n, "db", "docker.io/library/postgres:16", "", "", "", "");
	/* CRI-O's entry: its pod and container from the metadata. */
	assert_int_equal(names_parse_storage(buf, len, SB, &n), 0);
	expect_names(&n, "k8s_worker_queue-0_batch_5a8f2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b_1",
		     "quay.io/acme/worker:v2.3.1", "queue-0", "", "worker", SB);
	memset(&n, 0x55, sizeof(n));
	assert_int_equal(names_parse_storage(buf, len, "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
					     &n), -ENOENT);
	expect_names(&n, "", "", "", "", "", "");
	free(buf);
}

/* What a container may write: each field kept only when it is what it may be. */
static void test_hostile_values(void **state)
{
	struct container_names n;
	size_t len;
	char *buf = fixture_read("names/containerd-hostile-config.json", &len);
	char name[400], doc[1024];

	assert_int_equal(names_parse_containerd(buf, len, &n), 0);
	expect_names(&n, "", "", "", "", "", "");
	free(buf);

	/* Too long by one: a pod name of 254, a namespace of 64; at the bound: kept. */
	memset(name, 'a', sizeof(name));
	snprintf(doc, sizeof(doc),
		 "{\"annotations\":{\"io.kubernetes.cri.sandbox-name\":\"%.254s\","
		 "\"io.kubernetes.cri.sandbox-namespace\":\"%.64s\",\"io.kubernetes.cri.container-name\":\"%.63s\"}}",
		 name, name, name);
	assert_int_equal(names_parse_containerd(doc, strlen(doc), &n), 0);
	assert_string_equal(n.kube_pod, "");
	assert_string_equal(n.kube_namespace, "");
	assert_int_equal(strlen(n.kube_container), 63);
	snprintf(doc, sizeof(doc), "{\"annotations\":{\"io.kubernetes.cri.sandbox-name\":\"%.253s\"}}", name);
	assert_int_equal(names_parse_containerd(doc, strlen(doc), &n), 0);
	assert_int_equal(strlen(n.kube_pod), 253);

	/* Names that start or end wrong, a path for an image, a NUL inside. */
	snprintf(doc, sizeof(doc), "%s",
		 "{\"Name\":\"/-x\",\"Config\":{\"Image\":\"/etc/passwd\",\"Labels\":{\"io.kubernetes.pod.name\":\"web-\","
		 "\"io.kubernetes.pod.namespace\":\"ab.c\",\"io.kubernetes.container.name\":\"-app\"}}}");
	assert_int_equal(names_parse_docker(doc, strlen(doc), &n), 0);
	expect_names(&n, "", "", "", "", "", "");
	/* A \u0000 would end cJSON's string early ("a" of "a\u0000b"): the file is refused. */
	snprintf(doc, sizeof(doc), "%s", "{\"Name\":\"/web\",\"Config\":{\"Labels\":{\"io.kubernetes.pod.namespace\":\"a\\u0000b\"}}}");
	assert_int_equal(names_parse_docker(doc, strlen(doc), &n), -EINVAL);
	expect_names(&n, "", "", "", "", "", "");
	/* Labels that are not an object, a Name that is not a string. */
	snprintf(doc, sizeof(doc), "%s", "{\"Name\":7,\"Config\":{\"Image\":\"node:20\",\"Labels\":[\"a\"]}}");
	assert_int_equal(names_parse_docker(doc, strlen(doc), &n), 0);
	expect_names(&n, "", "node:20", "", "", "", "");
	/* metadata that is not a string, or not JSON. */
	snprintf(doc, sizeof(doc), "[{\"id\":\"%s\",\"names\":[\"web\"],\"metadata\":{\"image-name\":\"x\"}},"
		 "{\"id\":\"%s\",\"names\":[],\"metadata\":\"{\\\"name\\\":\"}]", ID, ID2);
	assert_int_equal(names_parse_storage(doc, strlen(doc), ID, &n), 0);
	expect_names(&n, "web", "", "", "", "", "");
	assert_int_equal(names_parse_storage(doc, strlen(doc), ID2, &n), 0);
	expect_names(&n, "", "", "", "", "", "");
}

static void test_malformed(void **state)
{
	struct container_names n;
	size_t len;
	char *buf = fixture_read("names/containerd-truncated-config.json", &len);

	memset(&n, 0x55, sizeof(n));
	assert_int_equal(names_parse_containerd(buf, len, &n), -EINVAL);
	expect_names(&n, "", "", "", "", "", "");
	free(buf);
	assert_int_equal(names_parse_containerd("[]", 2, &n), -EINVAL);
	assert_int_equal(names_parse_crio("", 0, &n), -EINVAL);
	assert_int_equal(names_parse_docker("null", 4, &n), -EINVAL);
	assert_int_equal(names_parse_storage("{}", 2, ID, &n), -EINVAL);
	/* Only len bytes are read: what follows is not part of the document. */
	assert_int_equal(names_parse_containerd("{}garbage", 2, &n), 0);
	assert_int_equal(names_parse_containerd("{}garbage", 9, &n), -EINVAL);
	/* No annotations at all: no names, not an error. */
	assert_int_equal(names_parse_containerd("{\"ociVersion\":\"1.1.0\"}", 22, &n), 0);
	expect_names(&n, "", "", "", "", "", "");
}

/* ---- files under a host root ---- */

static void mkdirs(const char *root, const char *rel)
{
	char path[4096], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static void put(const char *root, const char *rel, const char *fixture)
{
	char path[4096];
	size_t len;
	char *buf = fixture_read(fixture, &len);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(buf);
}

static int open_root(const char *root)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void test_read_file(void **state)
{
	const char *root = *state;
	char path[4096], outside[4096], *buf = NULL;
	size_t len = 0;
	int fd = open_root(root), out;

	mkdirs(root, "etc");
	put(root, "etc/ok.json", "names/crio-config.json");
	assert_int_equal(names_read_file(fd, "etc/ok.json", NAMES_CONFIG_MAX, &buf, &len), 0);
	assert_int_equal(len, strlen(buf));
	assert_non_null(strstr(buf, "queue-0"));
	free(buf);

	/* At the bound: read; one byte over: -EFBIG, before anything is parsed. */
	fixture_path(path, sizeof(path), root, "etc/big.json");
	out = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(out >= 0);
	assert_int_equal(ftruncate(out, 100), 0);
	close(out);
	assert_int_equal(names_read_file(fd, "etc/big.json", 100, &buf, &len), 0);
	assert_int_equal(len, 100);
	free(buf);
	assert_int_equal(names_read_file(fd, "etc/big.json", 99, &buf, &len), -EFBIG);

	/* The file itself a symlink: refused, even to a file inside. */
	fixture_path(path, sizeof(path), root, "etc/link.json");
	assert_int_equal(symlink("ok.json", path), 0);
	assert_int_equal(names_read_file(fd, "etc/link.json", NAMES_CONFIG_MAX, &buf, &len), -ELOOP);

	/* A folder that is a symlink out of the root, absolute or by "..": resolved inside it. */
	snprintf(outside, sizeof(outside), "%s-outside", root);
	assert_true(mkdir(outside, 0700) == 0 || errno == EEXIST);
	fixture_path(path, sizeof(path), outside, "ok.json");
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(out >= 0 && write(out, "{}", 2) == 2);
	close(out);
	fixture_path(path, sizeof(path), root, "abs");
	assert_int_equal(symlink(outside, path), 0);
	assert_int_equal(names_read_file(fd, "abs/ok.json", NAMES_CONFIG_MAX, &buf, &len), -ENOENT);
	fixture_path(path, sizeof(path), root, "rel");
	{
		char target[4200];

		snprintf(target, sizeof(target), "../../../../../../..%s-outside", root);
		assert_int_equal(symlink(target, path), 0);
	}
	assert_int_equal(names_read_file(fd, "rel/ok.json", NAMES_CONFIG_MAX, &buf, &len), -ENOENT);
	assert_int_equal(names_read_file(fd, "../../../../../../../etc/passwd", NAMES_CONFIG_MAX, &buf, &len),
			 -ENOENT);
	/* ... and a symlink to a folder inside the root is followed there (/var/lib/docker -> /data). */
	mkdirs(root, "data");
	put(root, "data/x.json", "names/crio-config.json");
	fixture_path(path, sizeof(path), root, "var");
	assert_int_equal(symlink("/data", path), 0);
	assert_int_equal(names_read_file(fd, "var/x.json", NAMES_CONFIG_MAX, &buf, &len), 0);
	free(buf);

	/* A FIFO (never opened for long: O_NONBLOCK) and a folder are not regular files. */
	fixture_path(path, sizeof(path), root, "etc/fifo.json");
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(names_read_file(fd, "etc/fifo.json", NAMES_CONFIG_MAX, &buf, &len), -EINVAL);
	assert_int_equal(names_read_file(fd, "etc", NAMES_CONFIG_MAX, &buf, &len), -EINVAL);
	assert_int_equal(names_read_file(fd, "etc/none.json", NAMES_CONFIG_MAX, &buf, &len), -ENOENT);
	/*
	 * A magic link of /proc on the way: never followed (-ELOOP of RESOLVE_NO_MAGICLINKS;
	 * without it, the jump out of the root would be -EXDEV). With /proc/self as the root,
	 * fd/N is a magic link to the fixture's root, which holds etc/ok.json.
	 */
	{
		int proc = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		char via[64];

		assert_true(proc >= 0);
		snprintf(via, sizeof(via), "fd/%d/etc/ok.json", fd);
		assert_int_equal(names_read_file(proc, via, NAMES_CONFIG_MAX, &buf, &len), -ELOOP);
		close(proc);
	}

	close(fd);
	assert_int_equal(fixture_remove_at(AT_FDCWD, outside), 0);
}

static void lookup(int fd, enum container_runtime runtime, const char *id, int want, struct container_names *n,
		   char *file)
{
	struct container_info c = { .runtime = runtime };

	snprintf(c.id, sizeof(c.id), "%s", id);
	memset(n, 0x55, sizeof(*n));
	assert_int_equal(container_names_lookup(fd, &c, n, file, NAMES_FILE_MAX), want);
}

static void test_lookup(void **state)
{
	const char *root = *state;
	struct container_names n;
	char file[NAMES_FILE_MAX];
	int fd = open_root(root);

	/* Nothing there: no names, the last file tried said. */
	lookup(fd, CONTAINER_RUNTIME_CONTAINERD, ID, -ENOENT, &n, file);
	expect_names(&n, "", "", "", "", "", "");
	assert_string_equal(file, "run/containerd/io.containerd.runtime.v2.task/default/" ID "/config.json");

	/* containerd: k8s.io, then moby, then default. */
	mkdirs(root, "run/containerd/io.containerd.runtime.v2.task/moby/" ID);
	put(root, "run/containerd/io.containerd.runtime.v2.task/moby/" ID "/config.json", "names/containerd-config.json");
	lookup(fd, CONTAINER_RUNTIME_CONTAINERD, ID, 0, &n, file);
	expect_names(&n, "app", "docker.io/library/node:20-alpine", "web-7d9f8c6b5-x2x9q", "shop", "app", SB);
	assert_string_equal(file, "run/containerd/io.containerd.runtime.v2.task/moby/" ID "/config.json");
	mkdirs(root, "run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID);
	put(root, "run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID "/config.json",
	    "names/containerd-truncated-config.json");
	lookup(fd, CONTAINER_RUNTIME_CONTAINERD, ID, -EINVAL, &n, file);
	expect_names(&n, "", "", "", "", "", "");
	assert_string_equal(file, "run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID "/config.json");

	/* The runtime unknown (kubelet's cgroupfs driver): containerd, CRI-O, docker in turn. */
	mkdirs(root, "var/lib/docker/containers/" ID2);
	put(root, "var/lib/docker/containers/" ID2 "/config.v2.json", "names/docker-dockershim-config.v2.json");
	lookup(fd, CONTAINER_RUNTIME_UNKNOWN, ID2, 0, &n, file);
	assert_string_equal(n.kube_pod, "web-7d9f8c6b5-x2x9q");
	lookup(fd, CONTAINER_RUNTIME_DOCKER, ID2, 0, &n, file);
	assert_string_equal(n.kube_container, "app");
	lookup(fd, CONTAINER_RUNTIME_CRIO, ID2, -ENOENT, &n, file);

	/* CRI-O: its config.json; podman: the storage's list. */
	mkdirs(root, "run/containers/storage/overlay-containers/" SB "/userdata");
	put(root, "run/containers/storage/overlay-containers/" SB "/userdata/config.json", "names/crio-config.json");
	lookup(fd, CONTAINER_RUNTIME_CRIO, SB, 0, &n, file);
	expect_names(&n, "worker", "quay.io/acme/worker:v2.3.1", "queue-0", "batch", "worker", SB);
	mkdirs(root, "var/lib/containers/storage/overlay-containers");
	put(root, "var/lib/containers/storage/overlay-containers/containers.json", "names/storage-containers.json");
	lookup(fd, CONTAINER_RUNTIME_PODMAN, ID, 0, &n, file);
	expect_names(&n, "web", "localhost/node-app:latest", "", "", "", "");
	assert_string_equal(file, "var/lib/containers/storage/overlay-containers/containers.json");
	lookup(fd, CONTAINER_RUNTIME_PODMAN, "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210", -ENOENT,
	       &n, file);

	/* An LXC name, an id that is not one: no file is ever named after them. */
	lookup(fd, CONTAINER_RUNTIME_LXC, "web-1", -ENOENT, &n, file);
	assert_string_equal(file, "");
	lookup(fd, CONTAINER_RUNTIME_LXC, ID, -ENOENT, &n, file);
	assert_string_equal(file, "");
	lookup(fd, _CONTAINER_RUNTIME_MAX, ID, -EINVAL, &n, file);
	assert_string_equal(file, "");
	lookup(fd, CONTAINER_RUNTIME_DOCKER, "../../etc", -EINVAL, &n, file);
	assert_string_equal(file, "");
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_containerd),
		cmocka_unit_test(test_crio),
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_storage),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test_setup_teardown(test_read_file, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_lookup, fixture_tmpdir_setup, fixture_tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
