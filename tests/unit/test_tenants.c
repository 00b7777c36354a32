// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Captures per tenant per hour: a sliding hour, each tenant apart, tenants forgotten. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>

#include "tenants.h"

#define S(n)    ((uint64_t)(n) * 1000000)
#define HOUR    S(3600)

static void test_sliding_hour(void **state)
{
	struct tenants *ts = tenants__new(3);

	assert_non_null(ts);
	assert_true(tenants__fits(ts, "/docker/a", S(1)));
	assert_int_equal(tenants__take(ts, "/docker/a", S(1)), 0);
	assert_int_equal(tenants__take(ts, "/docker/a", S(2)), 0);
	assert_int_equal(tenants__take(ts, "/docker/a", S(3)), 0);
	assert_false(tenants__fits(ts, "/docker/a", S(4)));
	assert_int_equal(tenants__take(ts, "/docker/a", S(4)), -EDQUOT);
	/* Another tenant is not held back. */
	assert_int_equal(tenants__take(ts, "/docker/b", S(4)), 0);
	/* An hour after the first, one fits again; a refusal was never counted. */
	assert_false(tenants__fits(ts, "/docker/a", S(1) + HOUR - 1));
	assert_true(tenants__fits(ts, "/docker/a", S(1) + HOUR));
	assert_int_equal(tenants__take(ts, "/docker/a", S(1) + HOUR), 0);
	assert_int_equal(tenants__take(ts, "/docker/a", S(1) + HOUR + 1), -EDQUOT);
	assert_int_equal(tenants__take(ts, "/docker/a", S(2) + HOUR), 0);
	tenants__free(ts);
}

static void test_forgotten_after_an_hour(void **state)
{
	struct tenants *ts = tenants__new(12);
	char key[32];

	assert_non_null(ts);
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "/docker/%d", i);
		assert_int_equal(tenants__take(ts, key, S(i)), 0);
	}
	assert_int_equal(tenants__count(ts), 1000);
	assert_int_equal(tenants__expire(ts, S(999)), 0);
	/* Those whose last capture is an hour old go; the rest stay. */
	assert_int_equal(tenants__expire(ts, S(500) + HOUR), 501);
	assert_int_equal(tenants__count(ts), 499);
	assert_int_equal(tenants__expire(ts, S(999) + HOUR), 499);
	assert_int_equal(tenants__count(ts), 0);
	assert_true(tenants__fits(ts, "/docker/7", S(999) + HOUR));
	tenants__free(ts);
}

static void test_bounds(void **state)
{
	struct tenants *ts = tenants__new(0);   /* taken as 1 */

	assert_non_null(ts);
	assert_int_equal(tenants__take(ts, "/", S(1)), 0);
	assert_int_equal(tenants__take(ts, "/", S(2)), -EDQUOT);
	tenants__free(ts);
	tenants__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sliding_hour),
		cmocka_unit_test(test_forgotten_after_an_hour),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
