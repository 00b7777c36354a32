// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * What one container-names lookup costs the loop (container_names_lookup(): the opens,
 * the bounded read, the parse), over a host root made in /tmp from the fixtures: a
 * containerd bundle as the fixture is and padded to a typical 16 KiB, docker's
 * config.v2.json, and podman's containers.json listing 1, 100 and 1000 containers; and
 * the cache's memory per container and per tracked process. Usage: names_bench FIXTURES
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container_names.h"

#define ID "4f1c2b7a9e0d3c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b"
#define ROUNDS 2000

static char root[] = "/tmp/inspectd-names-bench-XXXXXX";

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = malloc(1 << 20);

	if (!f || !buf) {
		perror(path);
		exit(1);
	}
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void put(const char *rel, const char *data, size_t len)
{
	char path[4096], *p;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	f = fopen(path, "we");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void measure(int fd, const char *what, enum container_runtime runtime, const char *id, size_t bytes)
{
	static double t[ROUNDS];
	struct container_info c = { .runtime = runtime };
	struct container_names n;
	int r = 0;

	snprintf(c.id, sizeof(c.id), "%s", id);
	for (int i = 0; i < ROUNDS; i++) {
		double start = now_us();

		r |= container_names_lookup(fd, &c, &n, NULL, 0);
		t[i] = now_us() - start;
	}
	qsort(t, ROUNDS, sizeof(t[0]), cmp);
	printf("  %-44s %8zu B  median %7.1f us  p99 %7.1f us  max %7.1f us%s\n", what, bytes, t[ROUNDS / 2],
	       t[ROUNDS * 99 / 100], t[ROUNDS - 1], r ? "  (lookup failed)" : "");
}

int main(int argc, char **argv)
{
	char path[4096], *cfg, *padded, *docker, *list, id[65];
	size_t len, dlen, plen;
	int fd;

	if (argc != 2 || !mkdtemp(root)) {
		fprintf(stderr, "usage: names_bench FIXTURES\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/names/containerd-config.json", argv[1]);
	cfg = slurp(path, &len);
	put("run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID "/config.json", cfg, len);
	/* A typical pod's spec: more env, mounts and seccomp; here env vars up to 16 KiB. */
	padded = malloc(32768);
	plen = (size_t)snprintf(padded, 32768, "%.*s", (int)(strstr(cfg, "\"cwd\"") - cfg), cfg);
	{
		char *env = strstr(padded, "\"env\": [") + 8;
		char rest[32768];

		snprintf(rest, sizeof(rest), "%s", env);
		*env = '\0';
		plen = strlen(padded);
		while (plen < 14000)
			plen += (size_t)snprintf(padded + plen, 32768 - plen, "\"SERVICE_%zu_PORT=tcp://10.96.%zu.1:8080\", ",
						 plen, plen % 255);
		plen += (size_t)snprintf(padded + plen, 32768 - plen, "%s%s", rest, strstr(cfg, "\"cwd\""));
	}
	put("run/containerd/io.containerd.runtime.v2.task/k8s.io/" "1111111111111111111111111111111111111111111111111111111111111111" "/config.json", padded, plen);
	snprintf(path, sizeof(path), "%s/names/docker-config.v2.json", argv[1]);
	docker = slurp(path, &dlen);
	put("var/lib/docker/containers/" ID "/config.v2.json", docker, dlen);

	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	printf("container names lookup, %d rounds each (page cache warm):\n", ROUNDS);
	measure(fd, "containerd config.json (fixture)", CONTAINER_RUNTIME_CONTAINERD, ID, len);
	measure(fd, "containerd config.json (padded)", CONTAINER_RUNTIME_CONTAINERD,
		"1111111111111111111111111111111111111111111111111111111111111111", plen);
	measure(fd, "docker config.v2.json", CONTAINER_RUNTIME_DOCKER, ID, dlen);
	measure(fd, "containerd, no bundle (3 namespaces tried)", CONTAINER_RUNTIME_CONTAINERD,
		"2222222222222222222222222222222222222222222222222222222222222222", 0);
	for (int count = 1; count <= 1000; count *= 10) {
		size_t cap = (size_t)count * 600 + 64, n = 1;
		char what[64];

		if (count == 10)
			count = 100;
		cap = (size_t)count * 600 + 64;
		list = malloc(cap);
		list[0] = '[';
		for (int i = 0; i < count; i++) {
			snprintf(id, sizeof(id), "%064x", i + 1);
			n += (size_t)snprintf(list + n, cap - n,
				"%s{\"id\":\"%s\",\"names\":[\"web-%d\"],\"image\":\"a1b2\",\"layer\":\"c3d4\","
				"\"metadata\":\"{\\\"image-name\\\":\\\"localhost/node-app:latest\\\",\\\"image-id\\\":\\\"a1b2\\\","
				"\\\"name\\\":\\\"web-%d\\\",\\\"created-at\\\":1764496900,\\\"mountlabel\\\":\\\"\\\"}\","
				"\"created\":\"2026-11-30T10:01:40.000000000Z\",\"flags\":{\"MountLabel\":\"\",\"ProcessLabel\":\"\"}}",
				i ? "," : "", id, i, i);
		}
		n += (size_t)snprintf(list + n, cap - n, "]");
		put("var/lib/containers/storage/overlay-containers/containers.json", list, n);
		snprintf(what, sizeof(what), "podman containers.json, %d containers", count);
		measure(fd, what, CONTAINER_RUNTIME_PODMAN, id, n);
		free(list);
	}
	printf("memory: %zu B per container cached (its names and id), %zu B more per tracked process\n",
	       sizeof(struct container_names) + CONTAINER_ID_MAX + 1 + 16,
	       sizeof(struct container_names) + CONTAINER_ID_MAX + 1);
	close(fd);
	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	return system(path) == 0 ? 0 : 1;
}
