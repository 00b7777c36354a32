// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The capabilities the running agent keeps (pure), their names, and the drop itself for real
 * in a child process (as root: as CI runs), which then cannot get them back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "privileges.h"

#define M(cap) PRIVILEGES_MASK(cap)
#define RUNNING (M(CAP_SYS_ADMIN) | M(CAP_SYS_PTRACE) | M(CAP_DAC_READ_SEARCH) | M(CAP_KILL) | M(CAP_NET_ADMIN))

static void test_needed(void **state)
{
	assert_int_equal(privileges_needed(NULL), RUNNING);
	/* No BPF capability: the programs are loaded before the drop. */
	assert_false(privileges_needed(NULL) & (M(CAP_BPF) | M(CAP_PERFMON) | M(CAP_SETPCAP) | M(CAP_DAC_OVERRIDE)));
	assert_int_equal(privileges_needed("127.0.0.1:9400"), RUNNING);
	assert_int_equal(privileges_needed("[::1]:8080"), RUNNING);
	assert_int_equal(privileges_needed("127.0.0.1:0"), RUNNING);        /* a free port: any */
	assert_int_equal(privileges_needed("127.0.0.1:80"), RUNNING | M(CAP_NET_BIND_SERVICE));
	assert_int_equal(privileges_needed("[::1]:1023"), RUNNING | M(CAP_NET_BIND_SERVICE));
	assert_int_equal(privileges_needed("[::1]:1024"), RUNNING);
	/* Not a port: nothing more (the API's own parser refuses it later). */
	assert_int_equal(privileges_needed("localhost:http"), RUNNING);
	assert_int_equal(privileges_needed("localhost:"), RUNNING);
	assert_int_equal(privileges_needed("localhost:-80"), RUNNING);
	assert_int_equal(privileges_needed("localhost:99999"), RUNNING);
}

static void test_names(void **state)
{
	char buf[256];

	assert_string_equal(privileges_names(0, buf, sizeof(buf)), "none");
	assert_string_equal(privileges_names(M(CAP_SYS_ADMIN) | M(CAP_KILL), buf, sizeof(buf)), "CAP_KILL,CAP_SYS_ADMIN");
	assert_string_equal(privileges_names(RUNNING, buf, sizeof(buf)),
			    "CAP_DAC_READ_SEARCH,CAP_KILL,CAP_NET_ADMIN,CAP_SYS_PTRACE,CAP_SYS_ADMIN");
	assert_string_equal(privileges_names(M(CAP_BPF) | M(63), buf, sizeof(buf)), "CAP_BPF,cap_63");
	assert_string_equal(privileges_name(CAP_CHOWN), "CAP_CHOWN");
	assert_string_equal(privileges_name(CAP_CHECKPOINT_RESTORE), "CAP_CHECKPOINT_RESTORE");
	assert_null(privileges_name(41));
	assert_null(privileges_name(1000));
	/* Too small a buffer: cut, still a string. */
	assert_string_equal(privileges_names(RUNNING, buf, 12), "CAP_DAC_REA");
	privileges_names(RUNNING, buf, 1);
	assert_string_equal(buf, "");
}

static bool same_state(const struct privileges_state *a, const struct privileges_state *b)
{
	return a->effective == b->effective && a->permitted == b->permitted && a->inheritable == b->inheritable &&
	       a->bounding == b->bounding && a->no_new_privs == b->no_new_privs;
}

static int drop_and_check(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = { 0 };
	uint64_t keep = M(CAP_KILL) | M(CAP_SYS_ADMIN) | M(CAP_SYS_PTRACE);
	struct privileges_state st, again;

	if (privileges_drop(keep, &st) < 0)
		return 1;
	if (st.effective != keep || st.permitted != keep || st.inheritable || st.bounding != keep || st.no_new_privs != 1)
		return 2;
	if (privileges_read(&again) < 0 || !same_state(&again, &st))
		return 3;
	/* Gone for good: CAP_CHOWN cannot come back, nor enter the bounding set. */
	data[0].effective = data[0].permitted = (uint32_t)(keep | M(CAP_CHOWN));
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &h, data) == 0 || errno != EPERM)
		return 4;
	if (prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0) != 0 || prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) != 0)
		return 5;
	/* A second drop, without CAP_SETPCAP now: the sets lower, the bounding set cannot. */
	if (privileges_drop(M(CAP_KILL), &st) < 0 || st.effective != M(CAP_KILL) || st.permitted != M(CAP_KILL) ||
	    st.bounding != keep)
		return 6;
	return 0;
}

static void test_drop(void **state)
{
	struct privileges_state st;

	assert_int_equal(privileges_read(&st), 0);
	if (!(st.effective & M(CAP_SETPCAP)) || !(st.permitted & M(CAP_SYS_ADMIN))) {
		printf("skipped: the drop needs root's capabilities (CapEff %016llx)\n", (unsigned long long)st.effective);
		skip();
	}
	assert_int_equal(fixture_in_child(drop_and_check), 0);
}

static void *idle(void *arg)
{
	pause();
	return NULL;
}

/* A thread that exists would keep everything: nothing is done. */
static int drop_with_a_thread(void)
{
	struct privileges_state before, after;
	pthread_t t;

	if (privileges_read(&before) < 0 || pthread_create(&t, NULL, idle, NULL) != 0)
		return 1;
	if (privileges_drop(M(CAP_KILL), &after) != -EBUSY)
		return 2;
	if (privileges_read(&after) < 0 || !same_state(&before, &after))
		return 3;
	return 0;
}

static void test_drop_refused_with_threads(void **state)
{
	assert_int_equal(fixture_in_child(drop_with_a_thread), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_needed),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_drop_refused_with_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
