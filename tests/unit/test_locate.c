// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Finding or opening a target's inspector (src/capture/locate.c), everything under it
 * wrapped (-Wl,--wrap=...): the namespace's listeners (sockdiag_netns_listeners: a
 * list the test edits between ticks), the fd scan (fdscan__*: the inodes the target
 * holds, and how many steps the scan takes), SigCgt (procfs_read_signal_caught), whose
 * handler catches SIGUSR1 (sighandlers__check: sighandler.h, tested on its own), the
 * ledger (ledger__get/record/forget), pidfd_send_signal (the syscall() wrapper: every
 * signal recorded, SIGUSR1 above all) and the lws timers (fake_sul.h).
 *
 * What matters most: SIGUSR1 only to a process that catches it, only once the ledger
 * holds a record, and an inspector claimed as ours only when the target holds it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <libwebsockets.h>

#include "fake_sul.h"
#include "capture.h"
#include "fdscan.h"
#include "ledger.h"
#include "locate.h"
#include "procfs.h"

#define PID             4242
#define PIDFD           99
#define START_TIME      777777
#define ATTACH_USEC     (5 * LWS_US_PER_SEC)
#define SIGUSR1_BIT     (1ull << (SIGUSR1 - 1))

static char ctx_mem, ledger_mem, scan_mem;
#define SCAN    ((struct fdscan *)&scan_mem)

static const struct settings st = { .attach_timeout_usec = ATTACH_USEC };
static struct capture_env env;

/* ---- the target's namespace and fds ---- */

static struct procfs_listener ns[16];   /* listeners in the namespace now */
static int nns;
static int list_error, list_calls;

static uint64_t held[16];               /* sockets the target holds */
static int nheld;

static struct {
	int news, frees, steps;
	bool live;
	int steps_left;                 /* steps answering "more to read" before the end */
	int steps_each;                 /* steps_left of each new scan */
	int new_error;
	uint64_t asked[4][FDSCAN_INODES_MAX];   /* inodes asked by each scan */
	size_t nasked[4];
} scan;

static void listen_on(uint64_t inode, uint16_t port, bool loopback, bool held_by_target)
{
	ns[nns++] = (struct procfs_listener){ .inode = inode, .port = port, .family = 2, .loopback = loopback,
					      .any = !loopback };
	if (held_by_target)
		held[nheld++] = inode;
}

int __wrap_sockdiag_netns_listeners(int pidfd, struct procfs_listener *out, size_t max);
int __wrap_fdscan__new(pid_t pid, const uint64_t *inodes, size_t n, struct fdscan **ret);
int __wrap_fdscan__step(struct fdscan *s, unsigned max);
bool __wrap_fdscan__holds(const struct fdscan *s, uint64_t inode);
void __wrap_fdscan__free(struct fdscan *s);
int __wrap_procfs_read_signal_caught(pid_t pid, uint64_t *caught);
int __wrap_ledger__get(struct ledger *l, pid_t pid, struct ledger_entry *e);
int __wrap_ledger__record(struct ledger *l, const struct ledger_entry *e);
int __wrap_ledger__forget(struct ledger *l, pid_t pid);
long __wrap_syscall(long number, ...);
void __wrap_netns_stranded(void);

/* The loop thread could not leave a namespace: the agent would end. Never here. */
void __wrap_netns_stranded(void)
{
	fail_msg("netns_stranded() called");
}

int __wrap_sockdiag_netns_listeners(int pidfd, struct procfs_listener *out, size_t max)
{
	assert_int_equal(pidfd, PIDFD);         /* the namespace, through the pidfd */
	list_calls++;
	if (list_error)
		return list_error;
	assert_true((size_t)nns <= max);
	memcpy(out, ns, (size_t)nns * sizeof(*out));
	return nns;
}

int __wrap_fdscan__new(pid_t pid, const uint64_t *inodes, size_t n, struct fdscan **ret)
{
	assert_int_equal(pid, PID);
	assert_false(scan.live);
	assert_true(n > 0 && n <= FDSCAN_INODES_MAX);
	if (scan.new_error)
		return scan.new_error;
	if (scan.news < 4) {
		memcpy(scan.asked[scan.news], inodes, n * sizeof(*inodes));
		scan.nasked[scan.news] = n;
	}
	scan.news++;
	scan.live = true;
	scan.steps_left = scan.steps_each;
	*ret = SCAN;
	return 0;
}

int __wrap_fdscan__step(struct fdscan *s, unsigned max)
{
	assert_ptr_equal(s, SCAN);
	assert_true(scan.live);
	assert_int_equal(max, FDSCAN_STEP);
	scan.steps++;
	if (scan.steps_left > 0) {
		scan.steps_left--;
		return 0;
	}
	return 1;
}

bool __wrap_fdscan__holds(const struct fdscan *s, uint64_t inode)
{
	assert_true(scan.live);
	for (int i = 0; i < nheld; i++)
		if (held[i] == inode)
			return true;
	return false;
}

void __wrap_fdscan__free(struct fdscan *s)
{
	if (!s)
		return;
	assert_ptr_equal(s, SCAN);
	assert_true(scan.live);
	scan.live = false;
	scan.frees++;
}

/* ---- the target's signals ---- */

static uint64_t sigcgt;
static int sigcgt_reads, sigcgt_set_after = -1, sigcgt_error;
static bool alive;
static int sigusr1_sent, probes, records_at_sigusr1 = -1;

int __wrap_procfs_read_signal_caught(pid_t pid, uint64_t *caught)
{
	assert_int_equal(pid, PID);
	sigcgt_reads++;
	if (sigcgt_error)
		return sigcgt_error;
	if (sigcgt_set_after >= 0 && sigcgt_reads > sigcgt_set_after)
		sigcgt |= SIGUSR1_BIT;
	*caught = sigcgt;
	return 0;
}

static int nrecords;

/* Whose handler SIGUSR1 runs: node's unless a test says otherwise. */
static enum sigusr1_handler handler_kind;
static int handler_error, handler_checks, handler_busy;     /* busy: checks answering -EINPROGRESS */
static int handler_change_at;                   /* from that check on (1-based), handler_changed */
static enum sigusr1_handler handler_changed;
static char sighandlers_mem;

int __wrap_sighandlers__check(struct sighandlers *s, pid_t pid, int pidfd, enum sigusr1_handler *ret,
			      uint64_t *handler);
int __wrap_sighandlers__check(struct sighandlers *s, pid_t pid, int pidfd, enum sigusr1_handler *ret,
			      uint64_t *handler)
{
	assert_ptr_equal(s, (struct sighandlers *)&sighandlers_mem);
	assert_int_equal(pid, PID);
	assert_int_equal(pidfd, PIDFD);
	handler_checks++;
	if (handler_busy > 0 || handler_busy < 0) {
		if (handler_busy > 0)
			handler_busy--;
		*ret = SIGUSR1_HANDLER_UNKNOWN;
		return -EINPROGRESS;
	}
	*ret = handler_change_at && handler_checks >= handler_change_at ? handler_changed : handler_kind;
	if (handler)
		*handler = 0x1234;
	return handler_error;
}

/* pidfd_send_signal(pidfd, sig, info, flags) only. */
long __wrap_syscall(long number, ...)
{
	va_list ap;
	int pidfd, sig;

	va_start(ap, number);
	pidfd = va_arg(ap, int);
	sig = va_arg(ap, int);
	va_end(ap);
	if (number != SYS_pidfd_send_signal)
		fail_msg("unexpected syscall %ld", number);
	assert_int_equal(pidfd, PIDFD);
	if (sig == 0) {
		probes++;
		if (alive)
			return 0;
		errno = ESRCH;
		return -1;
	}
	assert_int_equal(sig, SIGUSR1);
	/* Only to a process that catches it, and only once the ledger says so. */
	assert_true(sigcgt & SIGUSR1_BIT);
	sigusr1_sent++;
	records_at_sigusr1 = nrecords;
	if (!alive) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

/* ---- the ledger ---- */

static struct ledger_entry kept, recorded;
static bool has_kept;
static int record_error, forgets;

int __wrap_ledger__get(struct ledger *l, pid_t pid, struct ledger_entry *e)
{
	assert_int_equal(pid, PID);
	if (!has_kept)
		return -ENOENT;
	*e = kept;
	return 0;
}

int __wrap_ledger__record(struct ledger *l, const struct ledger_entry *e)
{
	assert_non_null(l);
	if (record_error)
		return record_error;
	nrecords++;
	recorded = *e;
	return 0;
}

int __wrap_ledger__forget(struct ledger *l, pid_t pid)
{
	assert_int_equal(pid, PID);
	forgets++;
	return 0;
}

/* ---- the owner ---- */

static struct locate *loc;
static struct inspector_claim claim;
static struct locate_target target;
static int dones, result;
static char reason[256];

static bool free_in_done;               /* as the capture does: the locate freed first */

static void on_done(void *owner, int r, const char *why)
{
	assert_ptr_equal(owner, &claim);
	dones++;
	result = r;
	if (free_in_done) {
		locate__free(loc);
		loc = NULL;
	}
	/* Read after the free: ASan says if the reason was the locate's. */
	snprintf(reason, sizeof(reason), "%s", why ? why : "");
	if (r == 0)
		assert_null(why);
}

static int setup(void **state)
{
	sul_reset();
	free_in_done = false;
	env = (struct capture_env){ .ctx = (struct lws_context *)&ctx_mem, .settings = &st,
				    .ledger = (struct ledger *)&ledger_mem,
				    .sighandlers = (struct sighandlers *)&sighandlers_mem };
	handler_kind = SIGUSR1_HANDLER_NODE;
	handler_error = handler_checks = handler_busy = handler_change_at = 0;
	nns = nheld = 0;
	list_error = list_calls = 0;
	memset(&scan, 0, sizeof(scan));
	sigcgt = SIGUSR1_BIT | (1ull << (SIGINT - 1));
	sigcgt_reads = sigcgt_error = 0;
	sigcgt_set_after = -1;
	alive = true;
	sigusr1_sent = probes = 0;
	records_at_sigusr1 = -1;
	memset(&kept, 0, sizeof(kept));
	memset(&recorded, 0, sizeof(recorded));
	has_kept = false;
	record_error = forgets = nrecords = 0;
	loc = NULL;
	memset(&claim, 0, sizeof(claim));
	target = (struct locate_target){ .pid = PID, .pidfd = PIDFD, .start_time = START_TIME };
	dones = result = 0;
	reason[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	locate__free(loc);
	loc = NULL;
	assert_int_equal(sul_pending(), 0);
	assert_false(scan.live);
	return 0;
}

static void start(void)
{
	assert_int_equal(locate__start(&env, &target, &claim, on_done, &claim, &loc), 0);
	assert_non_null(loc);
	/* Never from inside locate__start(). */
	assert_int_equal(dones, 0);
}

/* Let the loop run for within, then the report (on its own timer, the next tick) comes. */
static void until_done(lws_usec_t within)
{
	sul_advance(within);
	sul_advance(1);
	assert_int_equal(dones, 1);
	assert_false(scan.live);
}

/* ---- an inspector open already ---- */

static void test_open_inspector_is_the_targets(void **state)
{
	listen_on(50, 8080, false, true);               /* the service's own port */
	listen_on(100, 9229, true, true);
	start();
	assert_int_equal(scan.nasked[0], 1);            /* only the inspector's port is looked for */
	assert_int_equal(scan.asked[0][0], 100);
	until_done(1);
	assert_int_equal(result, 0);
	assert_int_equal(claim.port, 9229);
	assert_int_equal(claim.inode, 100);
	assert_false(claim.opened_by_us);               /* left open afterwards */
	assert_false(claim.sigusr1_sent);
	assert_false(claim.recorded);
	assert_int_equal(sigusr1_sent, 0);
	assert_int_equal(sigcgt_reads, 0);
	assert_int_equal(handler_checks, 0);            /* nothing sent, nothing to check */
	assert_int_equal(nrecords, 0);
}

static void test_open_inspector_port_on_command_line(void **state)
{
	target.cmdline_port = 9333;
	listen_on(100, 9229, true, true);               /* not the port it was told to use */
	listen_on(101, 9333, true, true);
	start();
	assert_int_equal(scan.asked[0][0], 101);
	until_done(1);
	assert_int_equal(claim.port, 9333);
	assert_false(claim.opened_by_us);
}

/* 9229 is open in the namespace, but another process holds it: ours is opened beside it. */
static void test_open_inspector_someone_elses(void **state)
{
	listen_on(100, 9229, true, false);
	start();
	/* SigCgt checked, the ledger noted, then SIGUSR1 through the pidfd. */
	assert_int_equal(sigusr1_sent, 1);
	assert_int_equal(records_at_sigusr1, 1);
	assert_int_equal(recorded.pid, PID);
	assert_int_equal(recorded.start_time, START_TIME);
	assert_int_equal(recorded.port, 0);
	assert_true(claim.sigusr1_sent);
	assert_true(claim.recorded);

	/* node binds the next port, 9230. */
	listen_on(200, 9230, true, true);
	until_done(LWS_US_PER_MS);
	assert_int_equal(result, 0);
	assert_int_equal(claim.port, 9230);
	assert_int_equal(claim.inode, 200);
	assert_true(claim.opened_by_us);
	/* The other process's listener was not looked for again. */
	assert_int_equal(scan.news, 2);
	assert_int_equal(scan.nasked[1], 1);
	assert_int_equal(scan.asked[1][0], 200);
	assert_int_equal(sigusr1_sent, 1);
}

static void test_scan_in_steps(void **state)
{
	scan.steps_each = 5;
	listen_on(100, 9229, true, true);
	start();
	assert_int_equal(scan.steps, 1);                /* one bounded step per tick */
	sul_advance(4 * LWS_US_PER_MS);
	assert_int_equal(scan.steps, 5);
	assert_int_equal(dones, 0);
	until_done(LWS_US_PER_MS + 1);
	assert_int_equal(scan.steps, 6);
	assert_int_equal(claim.port, 9229);
}

/* ---- a record an earlier capture kept ---- */

static void test_kept_record_socket(void **state)
{
	has_kept = true;
	kept = (struct ledger_entry){ .pid = PID, .start_time = START_TIME, .port = 9229, .inode = 100 };
	listen_on(100, 9229, true, true);
	start();
	until_done(1);
	assert_int_equal(result, 0);
	assert_int_equal(claim.inode, 100);
	assert_true(claim.opened_by_us);                /* ours to close, as the record says */
	assert_true(claim.recorded);
	assert_false(claim.sigusr1_sent);
	assert_int_equal(sigusr1_sent, 0);
}

static void test_kept_record_without_port(void **state)
{
	/* SIGUSR1 was sent, the port never found: the inspector on 9229 is what it opened. */
	has_kept = true;
	kept = (struct ledger_entry){ .pid = PID, .start_time = START_TIME };
	listen_on(100, 9229, true, true);
	start();
	until_done(1);
	assert_true(claim.opened_by_us);
	assert_true(claim.recorded);
	assert_int_equal(sigusr1_sent, 0);
}

static void test_kept_record_of_another_process(void **state)
{
	/* Same pid, another start time: a record of a process long gone, not this one. */
	has_kept = true;
	kept = (struct ledger_entry){ .pid = PID, .start_time = START_TIME - 1, .port = 9229, .inode = 100 };
	listen_on(100, 9229, true, true);
	start();
	until_done(1);
	assert_false(claim.opened_by_us);
	assert_false(claim.recorded);
}

static void test_recorded_nothing_open(void **state)
{
	struct ledger_entry e = { .pid = PID, .start_time = START_TIME, .port = 9229, .inode = 100 };

	/* Only the record's own socket counts; its port is somebody else's now. */
	listen_on(300, 9229, true, true);
	assert_int_equal(locate__recorded(&env, &target, &e, &claim, on_done, &claim, &loc), 0);
	until_done(1);
	assert_int_equal(result, -ENOENT);
	assert_string_equal(reason, "nothing of the record's is open");
	assert_int_equal(sigusr1_sent, 0);              /* cleanup never opens anything */
	assert_int_equal(sigcgt_reads, 0);
	assert_true(claim.recorded);
	assert_false(claim.sigusr1_sent);
}

static void test_recorded_socket_open(void **state)
{
	struct ledger_entry e = { .pid = PID, .start_time = START_TIME, .port = 9229, .inode = 100 };

	listen_on(100, 9229, true, true);
	assert_int_equal(locate__recorded(&env, &target, &e, &claim, on_done, &claim, &loc), 0);
	until_done(1);
	assert_int_equal(result, 0);
	assert_int_equal(claim.inode, 100);
	assert_true(claim.opened_by_us);
}

/* ---- SIGUSR1 ---- */

/* The owner frees the locate from inside done, then reads the reason (a use-after-free once). */
static void test_freed_in_done(void **state)
{
	free_in_done = true;
	sigcgt = 0;
	start();
	until_done(2 * LWS_US_PER_SEC);
	assert_null(loc);
	assert_non_null(strstr(reason, "does not catch SIGUSR1"));
	free_in_done = false;
}

static void test_sigcgt_never_set(void **state)
{
	sigcgt = 0;
	start();
	assert_int_equal(sigusr1_sent, 0);
	sul_advance(400 * LWS_US_PER_MS);
	assert_int_equal(dones, 0);                     /* a process just after exec: waited for */
	until_done(LWS_US_PER_SEC);
	assert_int_equal(result, -EPERM);
	assert_non_null(strstr(reason, "does not catch SIGUSR1"));
	assert_true(sigcgt_reads > 2);
	assert_int_equal(sigusr1_sent, 0);
	assert_int_equal(nrecords, 0);
	assert_false(claim.sigusr1_sent);
	assert_int_equal(claim.port, 0);
}

static void test_sigcgt_set_late(void **state)
{
	sigcgt = 0;
	sigcgt_set_after = 3;
	start();
	assert_int_equal(sigusr1_sent, 0);
	sul_advance(30 * LWS_US_PER_MS);
	assert_int_equal(sigusr1_sent, 1);
	assert_int_equal(handler_checks, 2);            /* once it is caught, and just before sending */
	assert_int_equal(records_at_sigusr1, 1);
	listen_on(100, 9229, true, true);
	until_done(LWS_US_PER_MS);
	assert_true(claim.opened_by_us);
}

/* SIGUSR1 only when node's inspector catches it: never the application's own handler. */
static void test_handler_not_nodes(void **state)
{
	static const struct {
		enum sigusr1_handler kind;
		int error;
		const char *says;
	} cases[] = {
		{ SIGUSR1_HANDLER_APPLICATION, 0, "application's own handler" },
		{ SIGUSR1_HANDLER_OTHER, 0, "not node's inspector" },
		{ SIGUSR1_HANDLER_UNKNOWN, 0, "cannot tell" },
		{ SIGUSR1_HANDLER_UNKNOWN, -EFBIG, "File too large" },
		{ SIGUSR1_HANDLER_NONE, 0, "stopped catching" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setup(state);
		handler_kind = cases[i].kind;
		handler_error = cases[i].error;
		start();
		until_done(1);
		assert_int_equal(result, -EPERM);
		assert_non_null(strstr(reason, cases[i].says));
		/* what the operator can do, but for a handler that went away */
		if (cases[i].kind != SIGUSR1_HANDLER_NONE)
			assert_non_null(strstr(reason, "--inspect=127.0.0.1:PORT"));
		assert_int_equal(handler_checks, 1);
		assert_int_equal(claim.sigusr1_handler, cases[i].kind);
		assert_int_equal(sigusr1_sent, 0);
		assert_int_equal(nrecords, 0);
		assert_false(claim.sigusr1_sent);
		teardown(state);
	}
}

/* process.on('SIGUSR1') between the first reading and the send (while the ledger is written):
 * read again at the last moment, not sent, the record settled. */
static void test_handler_changes_before_send(void **state)
{
	handler_change_at = 2;
	handler_changed = SIGUSR1_HANDLER_APPLICATION;
	start();
	until_done(1);
	assert_int_equal(result, -EPERM);
	assert_non_null(strstr(reason, "changed just before"));
	assert_int_equal(handler_checks, 2);
	assert_int_equal(sigusr1_sent, 0);
	assert_false(claim.sigusr1_sent);
	assert_int_equal(claim.sigusr1_handler, SIGUSR1_HANDLER_APPLICATION);
	assert_int_equal(nrecords, 1);                  /* noted before the second reading */
}

/* Its executable's symbols still being read: asked again, SIGUSR1 only once known. */
static void test_handler_being_read(void **state)
{
	handler_busy = 3;
	start();
	assert_int_equal(sigusr1_sent, 0);
	sul_advance(2 * LWS_US_PER_MS);
	assert_int_equal(sigusr1_sent, 0);
	sul_advance(5 * LWS_US_PER_MS);
	assert_int_equal(handler_checks, 5);            /* 3 busy, node's, and again before sending */
	assert_int_equal(sigusr1_sent, 1);
	assert_true(sigcgt_reads >= 4);                 /* SigCgt read anew each time */
	listen_on(100, 9229, true, true);
	until_done(LWS_US_PER_MS);
	assert_int_equal(result, 0);
	assert_true(claim.opened_by_us);
}

/* ... and never known: refused after a bound, not waited for forever. */
static void test_handler_never_read(void **state)
{
	handler_busy = -1;
	start();
	sul_advance(1900 * LWS_US_PER_MS);
	assert_int_equal(dones, 0);
	until_done(200 * LWS_US_PER_MS);
	assert_int_equal(result, -EPERM);
	assert_non_null(strstr(reason, "not read in time"));
	assert_int_equal(claim.sigusr1_handler, SIGUSR1_HANDLER_UNKNOWN);
	assert_int_equal(sigusr1_sent, 0);
}

/* Without the kernel's reading (no tracker): never sent. */
static void test_handler_unreadable(void **state)
{
	env.sighandlers = NULL;
	start();
	until_done(1);
	assert_int_equal(result, -EPERM);
	assert_int_equal(claim.sigusr1_handler, SIGUSR1_HANDLER_UNKNOWN);
	assert_int_equal(sigusr1_sent, 0);
}

static void test_sigcgt_unreadable(void **state)
{
	sigcgt_error = -ENOENT;
	start();
	until_done(1);
	assert_int_equal(result, -ENOENT);
	assert_int_equal(sigusr1_sent, 0);
}

static void test_target_gone_before_sigusr1(void **state)
{
	alive = false;
	start();
	until_done(1);
	assert_int_equal(result, -ESRCH);
	assert_int_equal(sigusr1_sent, 0);
	assert_int_equal(nrecords, 0);
}

static void test_ledger_note_fails(void **state)
{
	record_error = -EROFS;
	start();
	until_done(1);
	assert_int_equal(result, -EROFS);
	assert_non_null(strstr(reason, "not sending SIGUSR1"));
	assert_int_equal(sigusr1_sent, 0);
	assert_false(claim.sigusr1_sent);
	assert_false(claim.recorded);
}

static void test_start_time_unknown(void **state)
{
	/* Without a start time no record can name the process: no SIGUSR1. */
	target.start_time = 0;
	start();
	until_done(1);
	assert_int_equal(result, -ESRCH);
	assert_int_equal(sigusr1_sent, 0);
}

static void test_no_ledger(void **state)
{
	env.ledger = NULL;
	start();
	assert_int_equal(sigusr1_sent, 1);
	assert_false(claim.recorded);
	listen_on(100, 9229, true, true);
	until_done(LWS_US_PER_MS);
	assert_true(claim.opened_by_us);
}

static void test_new_listener_someone_elses_then_ours(void **state)
{
	start();
	assert_int_equal(sigusr1_sent, 1);
	sul_advance(3 * LWS_US_PER_MS);
	assert_int_equal(scan.news, 0);

	/* Another process of the namespace starts listening: looked at, not taken. */
	listen_on(300, 9229, true, false);
	sul_advance(LWS_US_PER_MS);
	assert_int_equal(scan.news, 1);
	assert_int_equal(scan.asked[0][0], 300);
	assert_int_equal(dones, 0);
	sul_advance(5 * LWS_US_PER_MS);
	assert_int_equal(scan.news, 1);                 /* and not looked at again */

	/* Then node's, on the next port. */
	listen_on(400, 9230, true, true);
	until_done(LWS_US_PER_MS);
	assert_int_equal(scan.news, 2);
	assert_int_equal(scan.nasked[1], 1);
	assert_int_equal(scan.asked[1][0], 400);
	assert_int_equal(result, 0);
	assert_int_equal(claim.port, 9230);
	assert_int_equal(claim.inode, 400);
	assert_true(claim.opened_by_us);
}

static void test_new_listeners_loopback_first(void **state)
{
	start();
	/* Both appear at once and both are the target's: the loopback one is the inspector. */
	listen_on(500, 9229, false, true);
	listen_on(501, 9229, true, true);
	until_done(LWS_US_PER_MS);
	assert_int_equal(claim.inode, 501);
}

static void test_deadline(void **state)
{
	start();
	assert_int_equal(sigusr1_sent, 1);
	sul_advance(ATTACH_USEC - LWS_US_PER_MS);
	assert_int_equal(dones, 0);
	until_done(2 * LWS_US_PER_MS);
	assert_int_equal(result, -ETIMEDOUT);
	assert_non_null(strstr(reason, "did not open within 5000 ms after SIGUSR1"));
	/* SIGUSR1 went: an inspector may open late, and the caller knows. */
	assert_true(claim.sigusr1_sent);
	assert_true(claim.recorded);
	assert_int_equal(claim.port, 0);
	assert_int_equal(sigusr1_sent, 1);
}

static void test_list_fails(void **state)
{
	list_error = -EPERM;
	start();
	until_done(1);
	assert_int_equal(result, -EPERM);
	assert_int_equal(sigusr1_sent, 0);
}

static void test_scan_cannot_start(void **state)
{
	scan.new_error = -ENOENT;
	listen_on(100, 9229, true, true);
	start();
	until_done(1);
	assert_int_equal(result, -ENOENT);
	assert_int_equal(sigusr1_sent, 0);
}

static void test_free_before_report(void **state)
{
	listen_on(100, 9229, true, true);
	start();
	locate__free(loc);
	loc = NULL;
	assert_int_equal(sul_pending(), 0);
	sul_advance(LWS_US_PER_SEC);
	assert_int_equal(dones, 0);
}

static void test_free_while_polling(void **state)
{
	start();
	sul_advance(10 * LWS_US_PER_MS);
	locate__free(loc);
	loc = NULL;
	assert_int_equal(sul_pending(), 0);
	assert_int_equal(dones, 0);
}

/* ---- the ledger at the end ---- */

static void test_claim_settle(void **state)
{
	struct inspector_claim c = { 0 };

	/* Nothing recorded: nothing to do. */
	assert_int_equal(claim_settle(&env, &target, &c, false, false), 0);
	assert_int_equal(forgets, 0);

	/* Ours, maybe still open in a live target: kept for the next agent. */
	c = (struct inspector_claim){ .port = 9229, .opened_by_us = true, .recorded = true };
	assert_int_equal(claim_settle(&env, &target, &c, false, false), 1);
	assert_int_equal(forgets, 0);
	assert_true(c.recorded);
	/* SIGUSR1 sent and nothing found: kept too, it may open late. */
	c = (struct inspector_claim){ .sigusr1_sent = true, .recorded = true };
	assert_int_equal(claim_settle(&env, &target, &c, false, false), 1);

	/* Closed, or the target gone: forgotten. */
	c = (struct inspector_claim){ .port = 9229, .opened_by_us = true, .recorded = true };
	assert_int_equal(claim_settle(&env, &target, &c, true, false), 0);
	assert_int_equal(forgets, 1);
	assert_false(c.recorded);
	c = (struct inspector_claim){ .port = 9229, .opened_by_us = true, .recorded = true };
	assert_int_equal(claim_settle(&env, &target, &c, false, true), 0);
	assert_int_equal(forgets, 2);
	alive = false;
	c = (struct inspector_claim){ .port = 9229, .opened_by_us = true, .recorded = true };
	assert_int_equal(claim_settle(&env, &target, &c, false, false), 0);
	assert_int_equal(forgets, 3);
}

static void test_claim_note(void **state)
{
	struct inspector_claim c = { .port = 9230, .inode = 200 };

	assert_int_equal(claim_note(&env, &target, &c), 0);
	assert_true(c.recorded);
	assert_int_equal(recorded.port, 9230);
	assert_int_equal(recorded.inode, 200);
	target.start_time = 0;
	c.recorded = false;
	assert_int_equal(claim_note(&env, &target, &c), -ESRCH);
	assert_false(c.recorded);
	env.ledger = NULL;
	assert_int_equal(claim_note(&env, &target, &c), 0);
	assert_false(c.recorded);
}

static void test_listener_open(void **state)
{
	listen_on(100, 9229, true, true);
	assert_int_equal(locate_listener_open(PIDFD, 100), 1);
	assert_int_equal(locate_listener_open(PIDFD, 101), 0);
	list_error = -EPERM;
	assert_int_equal(locate_listener_open(PIDFD, 100), -EPERM);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_inspector_is_the_targets),
		T(test_open_inspector_port_on_command_line),
		T(test_open_inspector_someone_elses),
		T(test_scan_in_steps),
		T(test_kept_record_socket),
		T(test_kept_record_without_port),
		T(test_kept_record_of_another_process),
		T(test_recorded_nothing_open),
		T(test_recorded_socket_open),
		T(test_sigcgt_never_set),
		T(test_sigcgt_set_late),
		T(test_sigcgt_unreadable),
		T(test_handler_not_nodes),
		T(test_handler_unreadable),
		T(test_handler_changes_before_send),
		T(test_handler_being_read),
		T(test_handler_never_read),
		T(test_target_gone_before_sigusr1),
		T(test_ledger_note_fails),
		T(test_start_time_unknown),
		T(test_no_ledger),
		T(test_new_listener_someone_elses_then_ours),
		T(test_new_listeners_loopback_first),
		T(test_deadline),
		T(test_list_fails),
		T(test_scan_cannot_start),
		T(test_free_before_report),
		T(test_freed_in_done),
		T(test_free_while_polling),
		T(test_claim_settle),
		T(test_claim_note),
		T(test_listener_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
