// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The schedule as arithmetic: a process's phase from its key, the jitter within a tenth
 * of the interval, rounds that keep their phase, missed rounds skipped not made up, the
 * kinds in turn, keys that spread a host's processes over the interval, and the next round
 * as the API shows it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "schedule.h"

#define S 1000000ull

static void test_place_and_advance(void **state)
{
	struct schedule_config c = { .every_usec = 60 * S, .kinds = 1u << 0 | 1u << 1 };
	struct schedule_state s = { 0 };

	schedule_place(&c, &s, 125 * S + 7, 1000 * S, 0);
	assert_int_equal(s.base_usec, 1000 * S + 5 * S + 7);    /* 125 s + 7 us mod 60 s */
	assert_int_equal(s.due_usec, s.base_usec);
	schedule_place(&c, &s, 125 * S + 7, 1000 * S, 0.5);
	assert_int_equal(s.due_usec, s.base_usec + 3 * S);      /* half of a tenth of 60 s */
	assert_int_equal(s.round, 0);
	/* The next round keeps the phase, whatever the last jitter was. */
	schedule_advance(&c, &s, s.due_usec, 0.25);
	assert_int_equal(s.base_usec, 1065 * S + 7);
	assert_int_equal(s.due_usec, 1065 * S + 7 + 1500000);
	assert_int_equal(s.round, 1);
	/* The agent was away for three rounds: the next is the first one ahead, not four at once. */
	schedule_advance(&c, &s, 1300 * S, 0);
	assert_int_equal(s.base_usec, 1305 * S + 7);
	assert_true(s.base_usec > 1300 * S && s.base_usec - 1300 * S <= c.every_usec);
	assert_int_equal(s.round, 2);
	/* A jitter out of range is none. */
	schedule_advance(&c, &s, 0, 7.0);
	assert_int_equal(s.due_usec, s.base_usec);
	/* No schedule: nothing placed. */
	c.every_usec = 0;
	s = (struct schedule_state){ 0 };
	schedule_place(&c, &s, 1, 5, 0.5);
	assert_int_equal(s.due_usec, 0);
}

/* Placed in an interval, and placed anew when the one that applies to it changes. */
static void test_placed(void **state)
{
	struct schedule_config c = { .every_usec = 60 * S, .kinds = 1u << 0 };
	struct schedule_state s = { 0 };

	assert_false(schedule_placed(&c, &s));
	schedule_place(&c, &s, 7, 1000 * S, 0);
	assert_true(schedule_placed(&c, &s));
	schedule_advance(&c, &s, s.due_usec, 0);
	assert_true(schedule_placed(&c, &s));
	c.every_usec = 300 * S;         /* a reload, or another section */
	assert_false(schedule_placed(&c, &s));
	schedule_place(&c, &s, 7, 2000 * S, 0);
	assert_true(schedule_placed(&c, &s));
	assert_int_equal(s.base_usec, 2000 * S + 7);
	assert_int_equal(s.round, 0);
}

static void test_kinds_in_turn(void **state)
{
	struct schedule_config c = { .every_usec = S, .kinds = 1u << 0 | 1u << 1 };

	assert_int_equal(schedule_kind(&c, 0), 0);
	assert_int_equal(schedule_kind(&c, 1), 1);
	assert_int_equal(schedule_kind(&c, 2), 0);
	c.kinds = 1u << 1;
	assert_int_equal(schedule_kind(&c, 0), 1);
	assert_int_equal(schedule_kind(&c, 7), 1);
	c.kinds = 0;
	assert_int_equal(schedule_kind(&c, 0), -1);
}

/* 1000 processes of consecutive pids started together spread over the interval: every
 * tenth of it gets between 5% and 15% of them. */
static void test_keys_spread(void **state)
{
	struct schedule_config c = { .every_usec = 60 * S, .kinds = 1 };
	unsigned buckets[10] = { 0 };

	for (uint64_t pid = 4000; pid < 5000; pid++) {
		struct schedule_state s = { 0 };

		schedule_place(&c, &s, schedule_key(pid, 0xfeedface), 0, 0);
		buckets[s.base_usec / (6 * S)]++;
	}
	for (int i = 0; i < 10; i++)
		assert_true(buckets[i] >= 50 && buckets[i] <= 150);
	/* Another agent's seed places the same process elsewhere. */
	assert_true(schedule_key(4242, 1) % (60 * S) != schedule_key(4242, 2) % (60 * S));
}

/* The next round on the wall clock, with its kind: what ps shows. */
static void test_next(void **state)
{
	struct schedule_config c = { .every_usec = 60 * S, .kinds = 1u << 0 | 1u << 1 };
	struct schedule_state s = { 0 };
	uint64_t wall = 0;
	int kind = -1;

	/* Not placed yet: none, until its first tick. */
	assert_int_equal(schedule_next(&c, &s, 1000 * S, 1700000000 * S, &wall, &kind), -ENOENT);
	schedule_place(&c, &s, 125 * S, 1000 * S, 0);          /* due at 1005 s */
	assert_int_equal(schedule_next(&c, &s, 1000 * S, 1700000000 * S, &wall, &kind), 0);
	assert_int_equal(wall, 1700000005 * S);
	assert_int_equal(kind, 0);
	/* Due already (its tick has not come): now, not a time past. */
	assert_int_equal(schedule_next(&c, &s, 1007 * S, 1700000007 * S, &wall, &kind), 0);
	assert_int_equal(wall, 1700000007 * S);
	/* The round after takes the next kind, the one after that the first again. */
	schedule_advance(&c, &s, 1005 * S, 0);
	assert_int_equal(schedule_next(&c, &s, 1005 * S, 1700000005 * S, &wall, &kind), 0);
	assert_int_equal(wall, 1700000065 * S);
	assert_int_equal(kind, 1);
	schedule_advance(&c, &s, 1065 * S, 0);
	assert_int_equal(schedule_next(&c, &s, 1065 * S, 1700000065 * S, &wall, &kind), 0);
	assert_int_equal(kind, 0);
	/* No kinds, or no schedule: none. */
	c.kinds = 0;
	assert_int_equal(schedule_next(&c, &s, 1065 * S, 1700000065 * S, &wall, &kind), -ENOENT);
	c.kinds = 1;
	c.every_usec = 0;
	assert_int_equal(schedule_next(&c, &s, 1065 * S, 1700000065 * S, &wall, &kind), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_place_and_advance),
		cmocka_unit_test(test_placed),
		cmocka_unit_test(test_kinds_in_turn),
		cmocka_unit_test(test_keys_spread),
		cmocka_unit_test(test_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
