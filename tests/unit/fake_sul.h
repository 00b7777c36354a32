/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The lws timers, faked for tests linked with -Wl,--wrap=lws_sul_schedule (and
 * -Wl,--wrap=lws_now_usecs): a list of scheduled callbacks and a clock that only
 * moves when a test says so. sul_advance() runs what falls due, earliest first, each
 * at its own time, as the loop would; nothing runs from inside lws_sul_schedule().
 * Include after <cmocka.h> and <libwebsockets.h>, in one file per test binary.
 */
#ifndef INSPECTD_TEST_FAKE_SUL_H
#define INSPECTD_TEST_FAKE_SUL_H

#include <string.h>

#define FAKE_SUL_MAX    64
#define FAKE_SUL_RUNS   100000          /* a test whose timers never settle fails */

struct fake_sul {
	lws_sorted_usec_list_t *sul;
	sul_cb_t cb;
	lws_usec_t due;
};

static struct fake_sul fake_suls[FAKE_SUL_MAX];
static int fake_nsul;
static lws_usec_t fake_now;

void __wrap_lws_sul_schedule(struct lws_context *ctx, int tsi, lws_sorted_usec_list_t *sul, sul_cb_t cb,
			     lws_usec_t us);
lws_usec_t __wrap_lws_now_usecs(void);

static inline void fake_sul_remove(int i)
{
	memmove(&fake_suls[i], &fake_suls[i + 1], (size_t)(fake_nsul - i - 1) * sizeof(fake_suls[0]));
	fake_nsul--;
}

static inline int fake_sul_find(const lws_sorted_usec_list_t *sul)
{
	for (int i = 0; i < fake_nsul; i++)
		if (fake_suls[i].sul == sul)
			return i;
	return -1;
}

/* As lws: us from now; LWS_SET_TIMER_USEC_CANCEL removes; scheduling again replaces. */
void __wrap_lws_sul_schedule(struct lws_context *ctx, int tsi, lws_sorted_usec_list_t *sul, sul_cb_t cb,
			     lws_usec_t us)
{
	int i = fake_sul_find(sul);

	assert_non_null(sul);
	if (i >= 0)
		fake_sul_remove(i);
	if (us == LWS_SET_TIMER_USEC_CANCEL)
		return;
	assert_non_null(cb);
	assert_true(fake_nsul < FAKE_SUL_MAX);
	fake_suls[fake_nsul++] = (struct fake_sul){ .sul = sul, .cb = cb, .due = fake_now + us };
}

lws_usec_t __wrap_lws_now_usecs(void)
{
	return fake_now;
}

static inline void sul_reset(void)
{
	fake_nsul = 0;
	fake_now = 1000 * LWS_US_PER_SEC;
}

/* Timers scheduled and not run or cancelled. */
static inline int sul_pending(void)
{
	return fake_nsul;
}

/* Microseconds until sul runs, or -1 when it is not scheduled. */
static inline lws_usec_t sul_due_in(const lws_sorted_usec_list_t *sul)
{
	int i = fake_sul_find(sul);

	return i < 0 ? -1 : fake_suls[i].due - fake_now;
}

/* Whether a timer with this callback is scheduled. */
static inline bool sul_has_cb(sul_cb_t cb)
{
	for (int i = 0; i < fake_nsul; i++)
		if (fake_suls[i].cb == cb)
			return true;
	return false;
}

/* Let us pass: run every timer that falls due meanwhile, in order of time. How many ran. */
static inline int sul_advance(lws_usec_t us)
{
	lws_usec_t end = fake_now + us;
	int ran = 0;

	for (;;) {
		struct fake_sul f;
		int best = -1;

		for (int i = 0; i < fake_nsul; i++)
			if (fake_suls[i].due <= end && (best < 0 || fake_suls[i].due < fake_suls[best].due))
				best = i;
		if (best < 0)
			break;
		f = fake_suls[best];
		fake_sul_remove(best);
		if (f.due > fake_now)
			fake_now = f.due;
		f.cb(f.sul);
		if (++ran > FAKE_SUL_RUNS)
			fail_msg("timers still firing after %d runs", ran);
	}
	fake_now = end;
	return ran;
}

#endif
