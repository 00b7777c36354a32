// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The process table, with real child processes (a pidfd is opened for each)
 * and cgroup_memory_limit_of() --wrap'ped: add, find, remove handing back the
 * job, exec keeping the cgroup facts and the pidfd, the tick's samples, views.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "processes.h"
#include "rss_timeline.h"

#define CONTAINER_ID "4f1c2b7a9e0d3c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b"
#define OTHER_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DOCKER_CGROUP "/system.slice/docker-" CONTAINER_ID ".scope"

/* ---- cgroup_memory_limit_of(), as the test says ---- */

int __wrap_cgroup_memory_limit_of(const struct cgroup_roots *r, pid_t pid, uint64_t *limit, char *v1_path,
				  size_t v1_size, char *v2_path, size_t v2_size);

int __wrap_cgroup_memory_limit_of(const struct cgroup_roots *r, pid_t pid, uint64_t *limit, char *v1_path,
				  size_t v1_size, char *v2_path, size_t v2_size)
{
	check_expected(pid);
	snprintf(v1_path, v1_size, "%s", mock_ptr_type(const char *));
	snprintf(v2_path, v2_size, "%s", mock_ptr_type(const char *));
	*limit = mock_type(uint64_t);
	return mock_type(int);
}

static void will_read_cgroup(pid_t pid, const char *v1, const char *v2, uint64_t limit, int r)
{
	expect_value(__wrap_cgroup_memory_limit_of, pid, pid);
	will_return(__wrap_cgroup_memory_limit_of, v1);
	will_return(__wrap_cgroup_memory_limit_of, v2);
	will_return(__wrap_cgroup_memory_limit_of, limit);
	will_return(__wrap_cgroup_memory_limit_of, r);
}

/* ---- children ---- */

static pid_t spawn(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		/* Never outlives a test that died half-way. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
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

/* The pidfd names this very process: it can be signalled through it. */
static void assert_pidfd_live(const struct process *p)
{
	assert_true(process__pidfd(p) >= 0);
	assert_int_equal(syscall(SYS_pidfd_send_signal, process__pidfd(p), 0, NULL, 0), 0);
}

static const struct trigger_config cfg = {
	.rss_threshold = 100 << 20,
	.limit_percent = 80,
	.cooldown_usec = 60000000,
};

static void test_add_find_remove(void **state)
{
	struct processes *ps = processes__new(&cfg);
	pid_t a = spawn(), b = spawn();
	struct process *pa, *pb, *again;
	unsigned job = 99;
	int pidfd, fd;

	assert_non_null(ps);
	assert_int_equal(processes__add(ps, a, "node", NULL, 1000, &pa), 0);
	assert_int_equal(processes__add(ps, b, "MainThread12345678", NULL, 1000, &pb), 0);
	assert_int_equal(processes__count(ps), 2);
	assert_ptr_equal(processes__find(ps, a), pa);
	assert_ptr_equal(processes__find(ps, b), pb);
	assert_null(processes__find(ps, a + b));
	assert_int_equal(process__pid(pa), a);
	assert_string_equal(process__comm(pa), "node");
	/* An event's comm: 16 bytes, no NUL. */
	{
		char raw[INSPECTD_COMM_LEN];
		struct process *same;

		memset(raw, 'x', sizeof(raw));
		assert_int_equal(processes__add(ps, a, raw, NULL, 1000, &same), 0);
		assert_string_equal(process__comm(pa), "xxxxxxxxxxxxxxx");
		assert_int_equal(processes__add(ps, a, "node", NULL, 1000, &same), 0);
	}
	/* comm is bounded as the kernel's. */
	assert_int_equal(strlen(process__comm(pb)), INSPECTD_COMM_LEN - 1);
	assert_pidfd_live(pa);
	assert_pidfd_live(pb);
	assert_int_not_equal(process__pidfd(pa), process__pidfd(pb));
	assert_false(process__announced(pa));
	assert_int_equal(process__job(pa), 0);
	assert_string_equal(process__container(pa)->id, "");

	/* Added again: the same, renamed. */
	assert_int_equal(processes__add(ps, a, "node2", NULL, 2000, &again), 0);
	assert_ptr_equal(again, pa);
	assert_string_equal(process__comm(pa), "node2");
	assert_int_equal(processes__count(ps), 2);

	/* Removing hands back the job and the pidfd (a capture may still borrow it). */
	process__set_job(pa, 7);
	pidfd = process__pidfd(pa);
	assert_int_equal(processes__remove(ps, a, &job, &fd), 0);
	assert_int_equal(job, 7);
	assert_int_equal(fd, pidfd);
	assert_int_equal(syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0), 0);
	close(fd);
	assert_null(processes__find(ps, a));
	assert_int_equal(processes__count(ps), 1);
	job = 99;
	fd = -7;
	assert_int_equal(processes__remove(ps, a, &job, &fd), -ENOENT);
	assert_int_equal(job, 99);
	assert_int_equal(fd, -7);
	assert_int_equal(processes__remove(ps, b, &job, &fd), 0);
	assert_int_equal(job, 0);
	close(fd);
	assert_int_equal(processes__count(ps), 0);
	processes__free(ps);
	reap(a);
	reap(b);
}

static void test_gone_already(void **state)
{
	struct processes *ps = processes__new(&cfg);
	pid_t a = spawn();
	struct process *p = NULL;

	assert_non_null(ps);
	reap(a);
	/* Reaped: no pidfd, not tracked (a pid this fresh is not reused so soon). */
	assert_int_equal(processes__add(ps, a, "node", NULL, 1, &p), -ESRCH);
	assert_null(p);
	assert_int_equal(processes__count(ps), 0);
	assert_null(processes__find(ps, a));
	processes__free(ps);
}

static void test_cgroup_facts(void **state)
{
	struct processes *ps = processes__new(&cfg);
	struct cgroup_roots roots = { .v2 = "/sys/fs/cgroup" };
	pid_t parent = spawn(), child = spawn(), other = spawn();
	struct process *pp, *pc, *po;
	struct process_view v;

	assert_non_null(ps);
	assert_int_equal(processes__add(ps, parent, "node", NULL, 1, &pp), 0);
	will_read_cgroup(parent, "", DOCKER_CGROUP, 512 << 20, 0);
	assert_int_equal(process__read_cgroup(pp, &roots), 0);
	assert_int_equal(process__memory_limit(pp), 512 << 20);
	assert_string_equal(process__container(pp)->id, CONTAINER_ID);

	/* A child at fork shares its parent's cgroup: copied, not read (no read expected). */
	assert_int_equal(processes__add(ps, child, "node", pp, 1, &pc), 0);
	assert_int_equal(process__memory_limit(pc), 512 << 20);
	assert_string_equal(process__container(pc)->id, CONTAINER_ID);
	assert_string_equal(process__tenant(pc), DOCKER_CGROUP);
	processes__view(ps, pc, &v);
	assert_string_equal(v.cgroup, DOCKER_CGROUP);

	/* No limit: -ENOENT, paths kept. A failed read clears what an old cgroup said. */
	assert_int_equal(processes__add(ps, other, "node", NULL, 1, &po), 0);
	will_read_cgroup(other, "/docker/abc", "/x", 0, -ENOENT);
	assert_int_equal(process__read_cgroup(po, &roots), -ENOENT);
	assert_int_equal(process__memory_limit(po), 0);
	processes__view(ps, po, &v);
	assert_string_equal(v.cgroup, "/docker/abc");   /* v1 first */
	will_read_cgroup(parent, "", "", 0, -EACCES);
	assert_int_equal(process__read_cgroup(pp, &roots), -EACCES);
	assert_int_equal(process__memory_limit(pp), 0);
	assert_string_equal(process__container(pp)->id, "");
	assert_string_equal(process__tenant(pp), "/");
	processes__view(ps, pp, &v);
	assert_string_equal(v.cgroup, "");
	processes__free(ps);
	reap(parent);
	reap(child);
	reap(other);
}

/* The key per-container caps count by: one the process's container cannot choose. */
static void test_tenant_key(void **state)
{
	char key[PROCESS_TENANT_MAX], small[8];

	processes_tenant_key("", DOCKER_CGROUP "/docker-" OTHER_ID ".scope/x", key, sizeof(key));
	assert_string_equal(key, DOCKER_CGROUP);        /* the outermost, not the one it named */
	processes_tenant_key("/docker/" CONTAINER_ID, "/", key, sizeof(key));
	assert_string_equal(key, "/docker/" CONTAINER_ID);
	/* No container: the service, the user; v1 memory first, as the view's cgroup. */
	processes_tenant_key("", "/system.slice/app.service", key, sizeof(key));
	assert_string_equal(key, "/system.slice/app.service");
	processes_tenant_key("", "/user.slice/user-1000.slice/user@1000.service/app.slice/a.scope", key,
			     sizeof(key));
	assert_string_equal(key, "/user.slice/user-1000.slice");
	processes_tenant_key("/process_api/abc/sub", "/", key, sizeof(key));
	assert_string_equal(key, "/process_api/abc");
	processes_tenant_key("", "/init.scope", key, sizeof(key));
	assert_string_equal(key, "/init.scope");
	processes_tenant_key("", "/", key, sizeof(key));
	assert_string_equal(key, "/");
	processes_tenant_key("", "", key, sizeof(key));
	assert_string_equal(key, "/");
	/* Cut to fit: merged, never split. */
	processes_tenant_key("", "/system.slice/app.service", small, sizeof(small));
	assert_string_equal(small, "/system");
}

/* exec: a new program in the same process. The cgroup facts and the pidfd stay (a
 * cgroup move comes as its own event); the job of the old program comes back. */
static void test_exec(void **state)
{
	struct processes *ps = processes__new(&cfg);
	struct cgroup_roots roots = { .v2 = "/sys/fs/cgroup" };
	pid_t a = spawn();
	struct process *p, *after;
	uint64_t high, low;
	unsigned job = 0;
	int pidfd;

	assert_non_null(ps);
	assert_int_equal(processes__add(ps, a, "sh", NULL, 1000, &p), 0);
	will_read_cgroup(a, "", DOCKER_CGROUP, 1 << 30, 0);
	assert_int_equal(process__read_cgroup(p, &roots), 0);
	pidfd = process__pidfd(p);
	process__set_announced(p);
	process__set_job(p, 12);
	process__set_marks(p, 5, 4);
	process__set_rss(p, 700 << 20);
	process__triggers(p)->fired[TRIGGER_RSS_THRESHOLD] = true;
	process__triggers(p)->last_capture_usec = 500;

	assert_int_equal(processes__exec(ps, a, "node", 5000, &after, &job), 0);
	assert_ptr_equal(after, p);
	assert_int_equal(job, 12);
	assert_int_equal(process__job(p), 0);
	assert_string_equal(process__comm(p), "node");
	assert_int_equal(process__pidfd(p), pidfd);
	assert_pidfd_live(p);
	assert_int_equal(process__memory_limit(p), 1 << 30);
	assert_string_equal(process__container(p)->id, CONTAINER_ID);
	/* The rest is new. */
	assert_false(process__announced(p));
	assert_int_equal(process__rss(p), 0);
	process__marks(p, &high, &low);
	assert_int_equal(high, 0);
	assert_int_equal(low, 0);
	assert_false(process__triggers(p)->fired[TRIGGER_RSS_THRESHOLD]);
	assert_int_equal(process__triggers(p)->last_capture_usec, 0);
	assert_int_equal(processes__count(ps), 1);

	assert_int_equal(processes__exec(ps, a + 1000000, "node", 1, &after, &job), -ENOENT);
	processes__free(ps);
	reap(a);
}

struct noted {
	unsigned jobs[PROCESS_CAPTURES_MAX + 1];
	const char *first_file[PROCESS_CAPTURES_MAX + 1];
	unsigned n;
};

static void note(void *ctx, const struct process_capture *c)
{
	struct noted *n = ctx;

	n->jobs[n->n] = c->job;
	n->first_file[n->n++] = c->files[0];
}

/* What an OOM-kill record reads of a process: kept while it runs, gone at its exec. */
static void test_oom_history(void **state)
{
	struct processes *ps = processes__new(&cfg);
	char big[PROCESS_CMDLINE_MAX + 100], name[32];
	const char *files[2] = { name, "/out/x.meta.json" };
	struct noted n = { .n = 0 };
	struct process *p, *after;
	unsigned job = 0;
	pid_t a = spawn();
	size_t len;

	assert_non_null(ps);
	assert_int_equal(processes__add(ps, a, "node", NULL, 1000, &p), 0);
	/* Nothing until told. */
	assert_null(process__timeline(p));
	process__cmdline(p, &len);
	assert_int_equal(len, 0);
	assert_false(process__oom_recorded(p));
	process__foreach_capture(p, note, &n);
	assert_int_equal(n.n, 0);

	/* A command line is cut to PROCESS_CMDLINE_MAX. */
	assert_int_equal(process__set_cmdline(p, "node\0a.js\0", 10), 0);
	assert_memory_equal(process__cmdline(p, &len), "node\0a.js\0", 10);
	assert_int_equal(len, 10);
	memset(big, 'x', sizeof(big));
	assert_int_equal(process__set_cmdline(p, big, sizeof(big)), 0);
	process__cmdline(p, &len);
	assert_int_equal(len, PROCESS_CMDLINE_MAX);

	/* The last PROCESS_CAPTURES_MAX captures, oldest first, their files copied. */
	for (unsigned i = 1; i <= PROCESS_CAPTURES_MAX + 2; i++) {
		snprintf(name, sizeof(name), "/out/%u.heapprofile", i);
		process__set_job(p, i);
		assert_int_equal(process__note_capture(p, i, 0, (struct timespec){ i, 0 }, files, 2), 0);
	}
	process__foreach_capture(p, note, &n);
	assert_int_equal(n.n, PROCESS_CAPTURES_MAX);
	assert_int_equal(n.jobs[0], 3);
	assert_int_equal(n.jobs[PROCESS_CAPTURES_MAX - 1], PROCESS_CAPTURES_MAX + 2);
	assert_string_equal(n.first_file[0], "/out/3.heapprofile");

	assert_int_equal(process__push_rss(p, 10, 1 << 20), 0);
	assert_int_equal(process__push_rss(p, 11, 2 << 20), 0);
	assert_non_null(process__timeline(p));
	assert_int_equal(rss_timeline__count(process__timeline(p)), 2);
	process__set_oom_recorded(p);
	assert_true(process__oom_recorded(p));

	/* Only the capture of its current job: not another's, not none. */
	process__set_job(p, 40);
	assert_int_equal(process__note_capture(p, 41, 0, (struct timespec){ 40, 0 }, files, 2), -ESTALE);
	process__set_job(p, 0);
	assert_int_equal(process__note_capture(p, 0, 0, (struct timespec){ 40, 0 }, files, 2), -ESTALE);
	n.n = 0;
	process__foreach_capture(p, note, &n);
	assert_int_equal(n.n, PROCESS_CAPTURES_MAX);
	assert_int_equal(n.jobs[PROCESS_CAPTURES_MAX - 1], PROCESS_CAPTURES_MAX + 2);

	/* A new program: none of it is its, not even its job's capture ending after the exec. */
	process__set_job(p, 42);
	assert_int_equal(processes__exec(ps, a, "node", 5000, &after, &job), 0);
	assert_int_equal(job, 42);
	assert_int_equal(process__note_capture(p, 42, 0, (struct timespec){ 4900, 0 }, files, 2), -ESTALE);
	assert_null(process__timeline(p));
	process__cmdline(p, &len);
	assert_int_equal(len, 0);
	assert_false(process__oom_recorded(p));
	n.n = 0;
	process__foreach_capture(p, note, &n);
	assert_int_equal(n.n, 0);
	/* Freed with the table (the sanitizer build checks nothing leaks). */
	assert_int_equal(process__push_rss(p, 12, 3 << 20), 0);
	process__set_job(p, 99);
	assert_int_equal(process__note_capture(p, 99, 1, (struct timespec){ 1, 0 }, files, 2), 0);
	processes__free(ps);
	reap(a);
}

static void test_sample_and_cpu(void **state)
{
	struct processes *ps = processes__new(&cfg);
	pid_t a = spawn();
	struct process *p;

	assert_non_null(ps);
	assert_int_equal(processes__add(ps, a, "node", NULL, 1000000, &p), 0);
	/* Before a tick has passed since it was seen: no growth baseline yet. */
	process__sample(p, 100, true, 1500000);
	assert_int_equal(process__rss(p), 100);
	assert_int_equal(process__triggers(p)->baseline, 0);
	process__sample(p, 200, true, 2000000);
	assert_int_equal(process__triggers(p)->baseline, 200);
	process__sample(p, 300, true, 3000000);
	assert_int_equal(process__triggers(p)->baseline, 200);

	/* CPU: summed until the sample; an unread or empty round keeps the last. */
	processes__add_cpu(ps, a, 10);
	processes__add_cpu(ps, a, 5);
	processes__add_cpu(ps, a + 1000000, 99);
	process__sample(p, 300, true, 4000000);
	assert_int_equal(process__cpu_ns(p), 15);
	process__sample(p, 300, true, 5000000);
	assert_int_equal(process__cpu_ns(p), 15);
	processes__add_cpu(ps, a, 40);
	process__sample(p, 300, false, 6000000);
	assert_int_equal(process__cpu_ns(p), 15);
	processes__add_cpu(ps, a, 50);
	process__sample(p, 300, true, 7000000);
	assert_int_equal(process__cpu_ns(p), 50);
	processes__free(ps);
	reap(a);
}

struct counted {
	unsigned n;
	pid_t pids[4];
};

static void count(void *ctx, struct process *p)
{
	struct counted *c = ctx;

	c->pids[c->n++] = process__pid(p);
}

static void test_view_and_foreach(void **state)
{
	struct processes *ps = processes__new(&cfg);
	pid_t a = spawn(), b = spawn();
	struct counted c = { 0 };
	struct process_view v;
	struct process *p;

	assert_non_null(ps);
	assert_int_equal(processes__add(ps, a, "node", NULL, 1, &p), 0);
	assert_int_equal(processes__add(ps, b, "node", NULL, 1, &p), 0);
	processes__foreach(ps, count, &c);
	assert_int_equal(c.n, 2);
	assert_true((c.pids[0] == a && c.pids[1] == b) || (c.pids[0] == b && c.pids[1] == a));

	process__set_rss(p, 123456789);
	process__set_job(p, 3);
	processes__view(ps, p, &v);
	assert_int_equal(v.pid, b);
	assert_string_equal(v.comm, "node");
	assert_int_equal(v.rss, 123456789);
	assert_true(v.cpu_percent < 0);
	assert_int_equal(v.memory_limit, 0);
	assert_int_equal(v.job, 3);
	/* rss-threshold is armed; limit-percent needs a limit. */
	assert_int_equal(v.armed, TRIGGER_MASK(TRIGGER_RSS_THRESHOLD));
	process__triggers(p)->limit = 1 << 30;
	processes__view(ps, p, &v);
	assert_int_equal(v.armed, TRIGGER_MASK(TRIGGER_RSS_THRESHOLD) | TRIGGER_MASK(TRIGGER_LIMIT_PERCENT));
	assert_int_equal(v.memory_limit, 1 << 30);
	processes__free(ps);
	processes__free(NULL);
	reap(a);
	reap(b);
}

/*
 * Its section of the configuration file, as the dispatcher judged it: kept until what a rule
 * matches changes (comm, command line, program, cgroup), or every process's at a reload.
 */
static void test_section_judged(void **state)
{
	struct cgroup_roots roots = { .v2 = "/sys/fs/cgroup" };
	struct processes *ps = processes__new(&cfg);
	pid_t a = spawn(), b = spawn();
	struct process *p, *q, *same;
	unsigned job;

	assert_non_null(ps);
	assert_int_equal(processes__add(ps, a, "node", NULL, 1, &p), 0);
	assert_int_equal(processes__add(ps, b, "node", NULL, 1, &q), 0);
	assert_int_equal(process__section(p), PROCESS_SECTION_UNJUDGED);
	process__set_section(p, 3);
	process__set_section(q, -1);
	assert_int_equal(process__section(p), 3);
	assert_int_equal(process__section(q), -1);
	/* Its command line, read after discovery. */
	assert_int_equal(process__set_cmdline(p, "node\0server.js", 15), 0);
	assert_int_equal(process__section(p), PROCESS_SECTION_UNJUDGED);
	assert_int_equal(process__section(q), -1);
	/* Its comm, again. */
	process__set_section(p, 3);
	assert_int_equal(processes__add(ps, a, "node", NULL, 2, &same), 0);
	assert_int_equal(process__section(p), PROCESS_SECTION_UNJUDGED);
	/* A new program. */
	process__set_section(p, 3);
	assert_int_equal(processes__exec(ps, a, "node", 3, &same, &job), 0);
	assert_int_equal(process__section(p), PROCESS_SECTION_UNJUDGED);
	/* Another cgroup, another container. */
	process__set_section(p, 3);
	will_read_cgroup(a, "", DOCKER_CGROUP, 0, -ENOENT);
	assert_int_equal(process__read_cgroup(p, &roots), -ENOENT);
	assert_int_equal(process__section(p), PROCESS_SECTION_UNJUDGED);
	/* A reload: every one. */
	process__set_section(p, 0);
	processes__forget_sections(ps);
	assert_int_equal(process__section(p), PROCESS_SECTION_UNJUDGED);
	assert_int_equal(process__section(q), PROCESS_SECTION_UNJUDGED);
	processes__free(ps);
	reap(a);
	reap(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_find_remove),
		cmocka_unit_test(test_gone_already),
		cmocka_unit_test(test_cgroup_facts),
		cmocka_unit_test(test_tenant_key),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_oom_history),
		cmocka_unit_test(test_sample_and_cpu),
		cmocka_unit_test(test_view_and_foreach),
		cmocka_unit_test(test_section_judged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
