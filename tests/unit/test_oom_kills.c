// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* OOM-kill records' hourly caps: 6 per container, 60 for the host, a sliding hour; a
 * container over a cap is said to be once an hour. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "oom_kills.h"
#include "processes.h"

#define S(n)    ((uint64_t)(n) * 1000000)
#define HOUR    S(3600)

static const struct cgroup_roots roots;

static void test_per_container(void **state)
{
	struct oom_kills *k = oom_kills__new(NULL, "h", &roots, NULL, NULL);
	bool first;

	assert_non_null(k);
	for (unsigned i = 0; i < OOM_KILLS_PER_CONTAINER_HOUR; i++) {
		assert_int_equal(oom_kills__take(k, "/docker/a", S(1 + i), &first), 0);
		assert_false(first);
	}
	/* The 7th within the hour: limited, said the first time only. */
	assert_int_equal(oom_kills__take(k, "/docker/a", S(10), &first), -EDQUOT);
	assert_true(first);
	assert_int_equal(oom_kills__take(k, "/docker/a", S(11), &first), -EDQUOT);
	assert_false(first);
	/* Another container is not held back. */
	assert_int_equal(oom_kills__take(k, "/docker/b", S(12), &first), 0);
	/* An hour after the first, one fits again; the refusals were never counted. */
	assert_int_equal(oom_kills__take(k, "/docker/a", S(1) + HOUR - 1, &first), -EDQUOT);
	assert_false(first);
	oom_kills__expire(k, S(1) + HOUR);
	for (unsigned i = 0; i < OOM_KILLS_PER_CONTAINER_HOUR; i++)
		assert_int_equal(oom_kills__take(k, "/docker/a", S(1 + i) + HOUR, &first), 0);
	/* Full again an hour after it was said: said again, once. */
	assert_int_equal(oom_kills__take(k, "/docker/a", S(10) + HOUR, &first), -EDQUOT);
	assert_true(first);
	assert_int_equal(oom_kills__take(k, "/docker/a", S(11) + HOUR, &first), -EDQUOT);
	assert_false(first);
	oom_kills__free(k);
	oom_kills__free(NULL);
}

static void test_per_host(void **state)
{
	struct oom_kills *k = oom_kills__new(NULL, "h", &roots, NULL, NULL);
	char tenant[32];
	bool first;

	assert_non_null(k);
	/* 60 containers' first kills fill the host's hour. */
	for (unsigned i = 0; i < OOM_KILLS_PER_HOUR; i++) {
		snprintf(tenant, sizeof(tenant), "/docker/%u", i);
		assert_int_equal(oom_kills__take(k, tenant, S(1), &first), 0);
	}
	/* Any container now, one that had none too: limited, each said once. */
	assert_int_equal(oom_kills__take(k, "/docker/new", S(2), &first), -EDQUOT);
	assert_true(first);
	assert_int_equal(oom_kills__take(k, "/docker/new", S(3), &first), -EDQUOT);
	assert_false(first);
	assert_int_equal(oom_kills__take(k, "/docker/0", S(3), &first), -EDQUOT);
	assert_true(first);
	/* Not counted against its container: it fits as soon as the host's hour does. */
	assert_int_equal(oom_kills__take(k, "/docker/new", S(1) + HOUR, &first), 0);
	oom_kills__free(k);
}

/* oom_kills__record() over a cap writes nothing; without a spool it cannot write. */
static void test_record_outcomes(void **state)
{
	static const struct trigger_config cfg;
	struct oom_kills *k = oom_kills__new(NULL, "h", &roots, NULL, NULL);
	struct processes *ps = processes__new(&cfg);
	struct inspectd_event e = { .type = INSPECTD_EVENT_EXIT };
	struct oom_kill_result res;
	struct process *p;
	bool first;

	assert_non_null(k);
	assert_non_null(ps);
	assert_string_equal(oom_kill_outcome_name(OOM_KILL_WRITTEN), "written");
	assert_string_equal(oom_kill_outcome_name(OOM_KILL_LIMITED), "limited");
	assert_string_equal(oom_kill_outcome_name(OOM_KILL_FAILED), "failed");
	assert_null(oom_kill_outcome_name(_OOM_KILL_OUTCOME_MAX));

	assert_int_equal(processes__add(ps, getpid(), "node", NULL, S(1), &p), 0);
	e.pid = (uint32_t)getpid();
	assert_int_equal(oom_kills__record(k, ps, p, &e, OOM_BY_EXIT, S(1), &res), -EINVAL);
	assert_int_equal(res.outcome, OOM_KILL_FAILED);
	for (unsigned i = 1; i < OOM_KILLS_PER_CONTAINER_HOUR; i++)
		assert_int_equal(oom_kills__take(k, process__tenant(p), S(1), &first), 0);
	assert_int_equal(oom_kills__record(k, ps, p, &e, OOM_BY_EXIT, S(2), &res), 0);
	assert_int_equal(res.outcome, OOM_KILL_LIMITED);
	assert_true(res.first_limited);
	assert_int_equal(oom_kills__record(k, ps, p, &e, OOM_BY_EXIT, S(3), &res), 0);
	assert_int_equal(res.outcome, OOM_KILL_LIMITED);
	assert_false(res.first_limited);
	processes__free(ps);
	oom_kills__free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_container),
		cmocka_unit_test(test_per_host),
		cmocka_unit_test(test_record_outcomes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
