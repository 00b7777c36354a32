/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A commit's outcome as the spool reports it, for tests on a real spool with its real
 * writer thread: record() as the done callback (ctx: a struct outcome), and
 * wait_calls() to poll the spool's fd and dispatch until the callbacks have come.
 * Include after <cmocka.h>.
 */
#ifndef INSPECTD_TEST_SPOOL_OUTCOME_H
#define INSPECTD_TEST_SPOOL_OUTCOME_H

#include <poll.h>
#include <stdio.h>
#include <time.h>

#include "spool.h"

struct outcome {
	int calls;
	int result;
	size_t n_paths;
	char paths[SPOOL_COMMIT_FILES_MAX + 1][512];
};

static inline void record(void *ctx, int result, const char *const *paths, size_t n_paths)
{
	struct outcome *o = ctx;

	o->calls++;
	o->result = result;
	o->n_paths = n_paths;
	for (size_t i = 0; i < n_paths && i <= SPOOL_COMMIT_FILES_MAX; i++)
		snprintf(o->paths[i], sizeof(o->paths[i]), "%s", paths[i]);
}

/* Poll the spool's fd and dispatch until *calls reaches want (5 s at most). */
static inline void wait_calls(struct spool *s, const int *calls, int want)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (*calls < want) {
		struct pollfd p = { .fd = spool__fd(s), .events = POLLIN };

		assert_true(poll(&p, 1, 100) >= 0);
		spool__dispatch(s);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 5)
			fail_msg("waited 5 s for %d callbacks, got %d", want, *calls);
	}
}

#endif
