// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The RSS timeline ring: one point a second, gaps, the window, its JSON, its size. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rss_timeline.h"

#define KiB     1024ULL
#define MiB     (1024 * KiB)

struct points {
	uint64_t sec[1024], bytes[1024];
	size_t n;
};

static void collect(void *ctx, uint64_t sec, uint64_t bytes)
{
	struct points *p = ctx;

	p->sec[p->n] = sec;
	p->bytes[p->n] = bytes;
	p->n++;
}

static void test_bounds(void **state)
{
	struct rss_timeline *t = NULL;

	assert_int_equal(rss_timeline__new(0, &t), -EINVAL);
	assert_int_equal(rss_timeline__new(86401, &t), -EINVAL);
	assert_int_equal(rss_timeline__new(600, &t), 0);
	/* 4 bytes a point: 600 seconds in one allocation of about 2.4 KB. */
	assert_true(malloc_usable_size(t) >= 600 * 4);
	assert_true(malloc_usable_size(t) < 600 * 4 + 64);
	assert_int_equal(rss_timeline__count(t), 0);
	rss_timeline__free(t);
	rss_timeline__free(NULL);
}

static void test_points_in_order(void **state)
{
	struct rss_timeline *t;
	struct points p = { .n = 0 };

	assert_int_equal(rss_timeline__new(10, &t), 0);
	for (uint64_t s = 100; s < 105; s++)
		rss_timeline__push(t, s, (s - 99) * MiB);
	assert_int_equal(rss_timeline__count(t), 5);
	rss_timeline__foreach(t, 104, collect, &p);
	assert_int_equal(p.n, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(p.sec[i], 100 + i);
		assert_int_equal(p.bytes[i], (i + 1) * MiB);
	}
	rss_timeline__free(t);
}

static void test_ring_keeps_the_last_window(void **state)
{
	struct rss_timeline *t;
	struct points p = { .n = 0 };

	assert_int_equal(rss_timeline__new(600, &t), 0);
	for (uint64_t s = 1; s <= 1000; s++)
		rss_timeline__push(t, s, s * 4 * KiB);
	assert_int_equal(rss_timeline__count(t), 600);
	rss_timeline__foreach(t, 1000, collect, &p);
	assert_int_equal(p.n, 600);
	assert_int_equal(p.sec[0], 401);
	assert_int_equal(p.bytes[0], 401 * 4 * KiB);
	assert_int_equal(p.sec[599], 1000);
	/* Read later, only what is still within 600 s of then. */
	p.n = 0;
	rss_timeline__foreach(t, 1100, collect, &p);
	assert_int_equal(p.n, 500);
	assert_int_equal(p.sec[0], 501);
	rss_timeline__free(t);
}

static void test_gaps_repeats_and_clock(void **state)
{
	struct rss_timeline *t;
	struct points p = { .n = 0 };

	assert_int_equal(rss_timeline__new(10, &t), 0);
	rss_timeline__push(t, 50, 1 * MiB);
	rss_timeline__push(t, 50, 2 * MiB);      /* the same second: the last value */
	rss_timeline__push(t, 53, 3 * MiB);      /* 51, 52: gaps */
	rss_timeline__push(t, 52, 9 * MiB);      /* back in time: ignored */
	assert_int_equal(rss_timeline__count(t), 2);
	rss_timeline__foreach(t, 53, collect, &p);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.sec[0], 50);
	assert_int_equal(p.bytes[0], 2 * MiB);
	assert_int_equal(p.sec[1], 53);
	assert_int_equal(p.bytes[1], 3 * MiB);
	/* A jump past the window: nothing old is kept. */
	rss_timeline__push(t, 500, 4 * MiB);
	p.n = 0;
	rss_timeline__foreach(t, 500, collect, &p);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.sec[0], 500);
	/* A jump within the window: the gaps take the oldest slots. */
	rss_timeline__push(t, 509, 5 * MiB);
	assert_int_equal(rss_timeline__count(t), 2);
	rss_timeline__push(t, 510, 6 * MiB);     /* 500 falls out */
	assert_int_equal(rss_timeline__count(t), 2);
	rss_timeline__free(t);
}

static void test_values_saturate(void **state)
{
	struct rss_timeline *t;
	struct points p = { .n = 0 };

	assert_int_equal(rss_timeline__new(4, &t), 0);
	rss_timeline__push(t, 1, 1023);                          /* under a KiB: 0 */
	rss_timeline__push(t, 2, 5ULL << 40);                    /* 5 TiB: the most a point holds */
	rss_timeline__foreach(t, 2, collect, &p);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.bytes[0], 0);
	assert_int_equal(p.bytes[1], (uint64_t)(UINT32_MAX - 1) * KiB);
	rss_timeline__free(t);
}

static void test_json(void **state)
{
	struct rss_timeline *t;
	char *json;

	assert_int_equal(rss_timeline__new(600, &t), 0);
	assert_int_equal(rss_timeline_format_json(t, 10, 0, &json), 0);
	assert_string_equal(json, "[]");
	free(json);
	rss_timeline__push(t, 10, 4096);
	rss_timeline__push(t, 12, 8192);
	/* Monotonic seconds to Unix milliseconds by the caller's offset. */
	assert_int_equal(rss_timeline_format_json(t, 12, 1764590000000LL, &json), 0);
	assert_string_equal(json, "[[1764590010000,4096],[1764590012000,8192]]");
	free(json);
	/* A full ring of the largest values fits the buffer it sized. */
	for (uint64_t s = 13; s < 13 + 600; s++)
		rss_timeline__push(t, s, 5ULL << 40);
	assert_int_equal(rss_timeline_format_json(t, 612, INT64_MAX / 2, &json), 0);
	assert_true(strlen(json) > 600 * 20);
	free(json);
	rss_timeline__free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_points_in_order),
		cmocka_unit_test(test_ring_keeps_the_last_window),
		cmocka_unit_test(test_gaps_repeats_and_clock),
		cmocka_unit_test(test_values_saturate),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
