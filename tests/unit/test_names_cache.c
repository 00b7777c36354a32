// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Container names cached per container id: one lookup per container while any process
 * holds it, dropped with the last reference; and the process table holding those
 * references (a fork's, a move to another container, an exit).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container_names.h"
#include "fixture.h"
#include "names_cache.h"
#include "processes.h"

#define ID  "4f1c2b7a9e0d3c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define TASKS "run/containerd/io.containerd.runtime.v2.task/k8s.io/"

struct reports {
	unsigned n;
	int last;
	char file[NAMES_FILE_MAX];
};

static void looked_up(void *ctx, const struct container_info *c, int result, const char *file, uint64_t usec)
{
	struct reports *r = ctx;

	r->n++;
	r->last = result;
	snprintf(r->file, sizeof(r->file), "%s", file);
}

/* A host root holding containerd's bundle of ID. */
static int make_root(const char *root)
{
	char path[4096], *buf;
	size_t len;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/" TASKS ID, root);
	for (char *p = path + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
			*p = '/';
		}
	assert_int_equal(mkdir(path, 0755), 0);
	strcat(path, "/config.json");
	buf = fixture_read("names/containerd-config.json", &len);
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
	free(buf);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static struct container_info container(const char *id)
{
	struct container_info c = { .runtime = CONTAINER_RUNTIME_CONTAINERD };

	snprintf(c.id, sizeof(c.id), "%s", id);
	return c;
}

static void test_refcount(void **state)
{
	struct reports rep = { 0 };
	struct names_cache *nc = names_cache__new(make_root(*state), looked_up, &rep);
	struct container_info a = container(ID), b = container(ID2), none = { 0 };
	struct container_names n;

	assert_non_null(nc);
	assert_int_equal(names_cache__acquire(nc, &a, &n), 0);
	assert_string_equal(n.kube_pod, "web-7d9f8c6b5-x2x9q");
	assert_int_equal(rep.n, 1);
	assert_int_equal(rep.last, 0);
	assert_string_equal(rep.file, TASKS ID "/config.json");
	/* A second process of the container: no second lookup. */
	memset(&n, 0, sizeof(n));
	assert_int_equal(names_cache__acquire(nc, &a, &n), 0);
	assert_string_equal(n.kube_container, "app");
	names_cache__retain(nc, ID);
	assert_int_equal(rep.n, 1);
	assert_int_equal(names_cache__lookups(nc), 1);
	assert_int_equal(names_cache__count(nc), 1);

	/* A container without files: no names, said once, kept as such. */
	assert_int_equal(names_cache__acquire(nc, &b, &n), 0);
	assert_string_equal(n.name, "");
	assert_int_equal(rep.n, 2);
	assert_int_equal(rep.last, -ENOENT);
	assert_int_equal(names_cache__acquire(nc, &b, &n), 0);
	assert_int_equal(rep.n, 2);
	assert_int_equal(names_cache__count(nc), 2);
	assert_int_equal(names_cache__acquire(nc, &none, &n), -EINVAL);

	/* The last reference drops the entry; the next process looks it up again. */
	names_cache__release(nc, ID);
	names_cache__release(nc, ID);
	assert_int_equal(names_cache__names(nc, ID, &n), 0);
	assert_string_equal(n.kube_namespace, "shop");
	names_cache__release(nc, ID);
	assert_int_equal(names_cache__names(nc, ID, &n), -ENOENT);
	assert_int_equal(names_cache__count(nc), 1);
	names_cache__release(nc, ID);   /* none held: nothing happens */
	assert_int_equal(names_cache__acquire(nc, &a, &n), 0);
	assert_int_equal(rep.n, 3);
	assert_string_equal(n.kube_pod, "web-7d9f8c6b5-x2x9q");
	names_cache__free(nc);
	names_cache__free(NULL);
}

static void test_no_root(void **state)
{
	struct reports rep = { 0 };
	struct names_cache *nc = names_cache__new(-1, looked_up, &rep);
	struct container_info a = container(ID);
	struct container_names n;

	assert_int_equal(names_cache__acquire(nc, &a, &n), 0);
	assert_string_equal(n.name, "");
	assert_int_equal(rep.n, 0);
	assert_int_equal(names_cache__count(nc), 1);
	names_cache__free(nc);
}

/* ---- the process table's references ---- */

static const char *fake_v1;

/* The cgroup read, mocked: the path fake_v1 names. */
int __wrap_cgroup_memory_limit_of(const struct cgroup_roots *r, pid_t pid, uint64_t *limit, char *v1_path,
				  size_t v1_size, char *v2_path, size_t v2_size)
{
	*limit = 0;
	snprintf(v1_path, v1_size, "%s", fake_v1);
	snprintf(v2_path, v2_size, "%s", "");
	return -ENOENT;
}

static pid_t child(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_processes(void **state)
{
	struct trigger_config cfg = { 0 };
	struct reports rep = { 0 };
	struct names_cache *nc = names_cache__new(make_root(*state), looked_up, &rep);
	struct processes *ps = processes__new(&cfg);
	struct process *p1, *p2, *p3;
	struct cgroup_roots roots = { 0 };
	pid_t a = child(), b = child(), c = child();
	unsigned job;
	int pidfd;

	processes__set_names(ps, nc);
	fake_v1 = "/kubepods/burstable/pod5a8f2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b/" ID;
	assert_int_equal(processes__add(ps, a, "node", NULL, 0, &p1), 0);
	process__read_cgroup(p1, &roots);
	processes__refresh_names(ps, p1);
	assert_string_equal(process__container(p1)->names.kube_pod, "web-7d9f8c6b5-x2x9q");
	assert_int_equal(rep.n, 1);
	/* A fork shares its parent's: a reference, no lookup. */
	assert_int_equal(processes__add(ps, b, "node", p1, 0, &p2), 0);
	assert_string_equal(process__container(p2)->names.kube_container, "app");
	/* Read again in the same container: kept, not looked up again. */
	process__read_cgroup(p1, &roots);
	processes__refresh_names(ps, p1);
	assert_string_equal(process__container(p1)->names.kube_container, "app");
	assert_int_equal(rep.n, 1);
	assert_int_equal(names_cache__count(nc), 1);

	/* A process of ID holds its names; another in a cgroup named ID inside a container
	 * does not get them from the cache either. */
	fake_v1 = "/docker/" ID2 "/docker/" ID;
	assert_int_equal(processes__add(ps, c, "node", NULL, 0, &p3), 0);
	process__read_cgroup(p3, &roots);
	processes__refresh_names(ps, p3);
	assert_string_equal(process__container(p3)->id, ID);
	assert_string_equal(process__container(p3)->names.kube_pod, "");
	assert_int_equal(rep.n, 1);
	assert_int_equal(names_cache__count(nc), 1);
	assert_int_equal(processes__remove(ps, c, &job, &pidfd), 0);
	close(pidfd);
	assert_int_equal(names_cache__count(nc), 1);

	/* Moved to another container: looked up there; the first still held by the fork. */
	fake_v1 = "/docker/" ID2;
	process__read_cgroup(p1, &roots);
	processes__refresh_names(ps, p1);
	assert_string_equal(process__container(p1)->names.kube_pod, "");
	assert_int_equal(rep.n, 2);
	assert_int_equal(names_cache__count(nc), 2);
	/* The fork exits: the first container's entry goes. */
	assert_int_equal(processes__remove(ps, b, &job, &pidfd), 0);
	close(pidfd);
	assert_int_equal(names_cache__count(nc), 1);
	/*
	 * Into a cgroup a container made beneath itself, named after another container (ID,
	 * whose files are under the root): no names, no lookup, and the entry it held dropped.
	 */
	fake_v1 = "/kubepods/burstable/pod5a8f2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b/" ID2 "/x/" ID;
	process__read_cgroup(p1, &roots);
	assert_string_equal(process__container(p1)->id, ID);
	processes__refresh_names(ps, p1);
	assert_string_equal(process__container(p1)->names.kube_pod, "");
	assert_int_equal(rep.n, 2);
	assert_int_equal(names_cache__count(nc), 0);
	/* Out of any container: nothing held. */
	fake_v1 = "/system.slice/app.service";
	process__read_cgroup(p1, &roots);
	processes__refresh_names(ps, p1);
	assert_int_equal(names_cache__count(nc), 0);
	assert_int_equal(processes__remove(ps, a, &job, &pidfd), 0);
	close(pidfd);
	processes__free(ps);
	names_cache__free(nc);
	reap(a);
	reap(b);
	reap(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refcount, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test(test_no_root),
		cmocka_unit_test_setup_teardown(test_processes, fixture_tmpdir_setup, fixture_tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
