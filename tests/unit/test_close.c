// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Closing an inspector this agent opened (src/capture/close.c), its collaborators
 * wrapped (-Wl,--wrap=...): the session (inspector_session__*: the test plays the
 * inspector through the ops the closer hands it), the namespace's listeners
 * (locate_listener_open), the target's liveness (pidfd_send_signal through syscall())
 * and the lws timers (fake_sul.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <libwebsockets.h>
#include <cjson/cJSON.h>

#include "fake_sul.h"
#include "capture.h"
#include "inspector_close.h"
#include "log.h"

#define PID             4242
#define PIDFD           99
#define PORT            9229
#define INODE           4711
#define ATTACH_USEC     (5 * LWS_US_PER_SEC)
#define CLOSE_USEC      (5 * LWS_US_PER_SEC)        /* close.c's CLOSE_TIMEOUT_USEC */
#define VERIFY_USEC     (2 * LWS_US_PER_SEC)        /* close.c's VERIFY_TIMEOUT_USEC */

static char ctx_mem, session_mem;
#define CTX     ((struct lws_context *)&ctx_mem)
#define SESSION ((struct inspector_session *)&session_mem)

static const struct settings st = { .attach_timeout_usec = ATTACH_USEC };
static const struct capture_env env = { .ctx = CTX, .settings = &st };
static const struct locate_target target = { .pid = PID, .pidfd = PIDFD, .start_time = 1 };
static const struct inspector_claim claim = {
	.port = PORT, .inode = INODE, .opened_by_us = true, .recorded = true,
	.endpoint = { .family = AF_INET, .addr = { 127, 0, 0, 1 }, .port = PORT },
};

/* ---- the session ---- */

static struct {
	int news, frees, owners;
	bool new_fails;
	bool live, open;
	const char *version;
	const struct inspector_session_ops *ops;
	void *owner;
	char sent[4][48];
	int tags[4];
	char expression[64];
	int nsent, send_error;
} ss;

struct inspector_session *__wrap_inspector_session__new(struct lws_context *ctx, pid_t pid, int pidfd,
							const struct inspector_endpoint *ep,
							const struct inspector_session_ops *ops, void *owner);
int __wrap_inspector_session__send(struct inspector_session *s, int tag, const char *method, cJSON *params);
bool __wrap_inspector_session__is_open(const struct inspector_session *s);
const char *__wrap_inspector_session__node_version(const struct inspector_session *s);
void __wrap_inspector_session__set_owner(struct inspector_session *s, const struct inspector_session_ops *ops,
					 void *owner);
void __wrap_inspector_session__free(struct inspector_session *s);
int __wrap_locate_listener_open(int pidfd, uint64_t inode);
long __wrap_syscall(long number, ...);

struct inspector_session *__wrap_inspector_session__new(struct lws_context *ctx, pid_t pid, int pidfd,
							const struct inspector_endpoint *ep,
							const struct inspector_session_ops *ops, void *owner)
{
	uint16_t port = ep->port;

	assert_int_equal(pidfd, PIDFD);         /* the namespace is entered through it */
	assert_ptr_equal(ctx, CTX);
	assert_int_equal(pid, PID);
	assert_int_equal(port, PORT);
	assert_false(ss.live);
	ss.news++;
	if (ss.new_fails)
		return NULL;
	ss.live = true;
	ss.open = false;
	ss.version = NULL;
	ss.ops = ops;
	ss.owner = owner;
	return SESSION;
}

int __wrap_inspector_session__send(struct inspector_session *s, int tag, const char *method, cJSON *params)
{
	const cJSON *e = cJSON_GetObjectItem(params, "expression");

	assert_ptr_equal(s, SESSION);
	assert_true(ss.live && ss.open);
	snprintf(ss.expression, sizeof(ss.expression), "%s", cJSON_IsString(e) ? e->valuestring : "");
	cJSON_Delete(params);
	if (ss.send_error)
		return ss.send_error;
	snprintf(ss.sent[ss.nsent], sizeof(ss.sent[0]), "%s", method);
	ss.tags[ss.nsent++] = tag;
	return 0;
}

bool __wrap_inspector_session__is_open(const struct inspector_session *s)
{
	assert_true(ss.live);
	return ss.open;
}

const char *__wrap_inspector_session__node_version(const struct inspector_session *s)
{
	assert_true(ss.live);
	return ss.version;
}

void __wrap_inspector_session__set_owner(struct inspector_session *s, const struct inspector_session_ops *ops,
					 void *owner)
{
	assert_true(ss.live);
	ss.owners++;
	ss.ops = ops;
	ss.owner = owner;
}

void __wrap_inspector_session__free(struct inspector_session *s)
{
	if (!s)
		return;
	assert_ptr_equal(s, SESSION);
	assert_true(ss.live);
	ss.live = false;
	ss.frees++;
}

/* ---- the namespace and the target ---- */

static int listener_open_polls;         /* answers 1 this many times, then final_open */
static int final_open, listener_checks;
static bool alive;

int __wrap_locate_listener_open(int pidfd, uint64_t inode)
{
	assert_int_equal(pidfd, PIDFD);
	assert_int_equal(inode, INODE);
	listener_checks++;
	if (listener_open_polls > 0) {
		listener_open_polls--;
		return 1;
	}
	return final_open;
}

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
	assert_int_equal(sig, 0);               /* only ever asked whether it lives */
	if (alive)
		return 0;
	errno = ESRCH;
	return -1;
}

/* ---- the owner ---- */

static struct inspector_close *ic;
static int dones;
static bool closed;

static void on_done(void *owner, bool c)
{
	assert_ptr_equal(owner, &dones);
	dones++;
	closed = c;
}

static int setup(void **state)
{
	sul_reset();
	memset(&ss, 0, sizeof(ss));
	listener_open_polls = 0;
	final_open = 0;
	listener_checks = 0;
	alive = true;
	ic = NULL;
	dones = 0;
	closed = false;
	return 0;
}

static int teardown(void **state)
{
	inspector_close__free(ic);
	ic = NULL;
	assert_false(ss.live);
	assert_int_equal(sul_pending(), 0);
	return 0;
}

/* A session to the inspector, open (as a capture hands it over) or half-way. */
static struct inspector_session *session(bool open)
{
	ss.news = 0;
	ss.live = true;
	ss.open = open;
	ss.version = "v20.20.2";
	return SESSION;
}

static void start(struct inspector_session *s, unsigned flags)
{
	assert_int_equal(inspector_close__start(&env, &target, &claim, s, flags, ", as asked", on_done, &dones, &ic), 0);
	assert_non_null(ic);
	assert_int_equal(dones, 0);             /* never from inside __start() */
}

static void expect_debug_end_sent(void)
{
	assert_int_equal(ss.nsent, 1);
	assert_string_equal(ss.sent[0], "Runtime.evaluate");
	assert_string_equal(ss.expression, "process._debugEnd()");
}

/* The inspector answers process._debugEnd() and drops the WebSocket, as node does. */
static void inspector_drops(void)
{
	struct cdp_reader_header h = { .has_id = true, .id = 1, .has_result = true };

	ss.ops->response(ss.owner, ss.tags[0], &h);
	assert_int_equal(dones, 0);
	ss.ops->closed(ss.owner, "inspector closed the WebSocket");
	assert_false(ss.live);                  /* freed by the closer */
}

/* Over within a few ticks (a poll or two of the listeners), reported once. */
static void expect_done(bool c)
{
	sul_advance(10 * LWS_US_PER_MS);
	assert_int_equal(dones, 1);
	assert_int_equal(closed, c);
	sul_advance(10 * LWS_US_PER_SEC);
	assert_int_equal(dones, 1);
}

/* ---- handed an open session ---- */

static void test_handed_open_session(void **state)
{
	struct cdp_reader_watch w = { 0 };
	size_t budget = 0;

	start(session(true), 0);
	/* The session's callbacks are the closer's now, and nothing new is connected. */
	assert_int_equal(ss.owners, 1);
	assert_ptr_equal(ss.owner, ic);
	assert_int_equal(ss.news, 0);
	assert_string_equal(inspector_close__node_version(ic), "v20.20.2");
	expect_debug_end_sent();
	/* Whatever the inspector sends now is small. */
	ss.ops->message_begin(ss.owner, &w, &budget);
	assert_true(budget > 0 && budget <= 2u * 1024 * 1024);
	assert_null(w.sink);

	/* The listener lingers for two polls, then is gone. */
	listener_open_polls = 2;
	inspector_drops();
	sul_advance(20 * LWS_US_PER_MS);
	assert_int_equal(listener_checks, 3);
	expect_done(true);
}

static void test_still_open_at_deadline(void **state)
{
	start(session(true), 0);
	listener_open_polls = 1000000;
	inspector_drops();
	sul_advance(VERIFY_USEC - LWS_US_PER_MS);
	assert_int_equal(dones, 0);
	sul_advance(10 * LWS_US_PER_MS);
	assert_int_equal(dones, 1);
	assert_false(closed);
}

static void test_listener_check_fails(void **state)
{
	start(session(true), 0);
	final_open = -EPERM;
	inspector_drops();
	sul_advance(10 * LWS_US_PER_MS);
	assert_int_equal(dones, 1);
	assert_false(closed);                   /* not known to be closed */
}

static void test_debug_end_refused(void **state)
{
	struct cdp_reader_header h = { .has_id = true, .id = 1, .has_error = true };

	start(session(true), 0);
	snprintf(h.error, sizeof(h.error), "ReferenceError: process is not defined");
	ss.ops->response(ss.owner, ss.tags[0], &h);
	assert_false(ss.live);
	expect_done(false);
	assert_int_equal(listener_checks, 0);
}

static void test_no_close_after_debug_end(void **state)
{
	start(session(true), 0);
	sul_advance(CLOSE_USEC - 1);
	assert_int_equal(dones, 0);
	sul_advance(1);
	assert_false(ss.live);
	expect_done(false);
}

static void test_send_fails(void **state)
{
	ss.send_error = -ENOSPC;
	start(session(true), 0);
	assert_false(ss.live);
	expect_done(false);
}

/* ---- connecting anew ---- */

static void test_reconnects_when_handed_half_a_session(void **state)
{
	start(session(false), 0);
	/* The half-made session is dropped; a new one, just to close. */
	assert_int_equal(ss.frees, 1);
	assert_int_equal(ss.news, 1);
	assert_true(ss.live);
	assert_ptr_equal(ss.owner, ic);
	assert_int_equal(ss.nsent, 0);
	ss.open = true;
	ss.version = "v20.20.2";
	ss.ops->ready(ss.owner);
	expect_debug_end_sent();
	inspector_drops();
	expect_done(true);
}

static void test_reconnects_without_a_session(void **state)
{
	start(NULL, 0);
	assert_int_equal(ss.news, 1);
	ss.open = true;
	ss.version = "v18.0.0";
	ss.ops->ready(ss.owner);
	assert_string_equal(inspector_close__node_version(ic), "v18.0.0");
	expect_debug_end_sent();
	inspector_drops();
	expect_done(true);
}

static void test_reconnect_times_out(void **state)
{
	start(NULL, 0);
	sul_advance(ATTACH_USEC - 1);
	assert_int_equal(dones, 0);
	sul_advance(1);
	assert_false(ss.live);
	expect_done(false);
}

static void test_reconnect_fails(void **state)
{
	start(NULL, 0);
	ss.ops->closed(ss.owner, "connection to 127.0.0.1:9229 failed: Connection refused");
	assert_false(ss.live);
	expect_done(false);
	assert_int_equal(listener_checks, 0);
}

static void test_reconnect_cannot_start(void **state)
{
	ss.new_fails = true;
	start(NULL, 0);
	expect_done(false);
}

static void test_target_dead(void **state)
{
	alive = false;
	start(session(false), 0);
	assert_int_equal(ss.news, 0);           /* not connected to again */
	expect_done(false);
}

static void test_no_reconnect(void **state)
{
	/* The port never answered as node's: a stranger's, not to talk to again. */
	start(session(false), INSPECTOR_CLOSE_NO_RECONNECT);
	assert_int_equal(ss.news, 0);
	assert_int_equal(ss.frees, 1);
	expect_done(true);
	assert_int_equal(listener_checks, 0);
}

static void test_no_reconnect_but_open(void **state)
{
	/* An open session is used whatever the flags say. */
	start(session(true), INSPECTOR_CLOSE_NO_RECONNECT);
	expect_debug_end_sent();
	inspector_drops();
	expect_done(true);
}

static void test_guessed_port_not_node(void **state)
{
	/* The record had no port; the one picked does not answer as node's inspector. */
	start(NULL, INSPECTOR_CLOSE_GUESSED_PORT);
	ss.ops->closed(ss.owner, "the port does not answer as a node inspector (/json/version)");
	expect_done(true);
	assert_int_equal(listener_checks, 0);
}

static void test_guessed_port_node(void **state)
{
	start(NULL, INSPECTOR_CLOSE_GUESSED_PORT);
	ss.open = true;
	ss.version = "v20.20.2";
	ss.ops->ready(ss.owner);
	expect_debug_end_sent();
	listener_open_polls = 1;
	inspector_drops();
	sul_advance(20 * LWS_US_PER_MS);
	expect_done(true);
	assert_int_equal(listener_checks, 2);
}

static void test_not_node_port_not_guessed(void **state)
{
	start(NULL, 0);
	ss.ops->closed(ss.owner, "the port does not answer as a node inspector (/json/version)");
	expect_done(false);
}

/* ---- freed by its owner ---- */

static void test_free_before_report(void **state)
{
	start(session(false), INSPECTOR_CLOSE_NO_RECONNECT);
	inspector_close__free(ic);
	ic = NULL;
	assert_int_equal(sul_pending(), 0);
	sul_advance(LWS_US_PER_SEC);
	assert_int_equal(dones, 0);
}

static void test_free_while_closing(void **state)
{
	start(session(true), 0);
	inspector_close__free(ic);
	ic = NULL;
	assert_false(ss.live);
	assert_int_equal(sul_pending(), 0);
	inspector_close__free(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_handed_open_session),
		T(test_still_open_at_deadline),
		T(test_listener_check_fails),
		T(test_debug_end_refused),
		T(test_no_close_after_debug_end),
		T(test_send_fails),
		T(test_reconnects_when_handed_half_a_session),
		T(test_reconnects_without_a_session),
		T(test_reconnect_times_out),
		T(test_reconnect_fails),
		T(test_reconnect_cannot_start),
		T(test_target_dead),
		T(test_no_reconnect),
		T(test_no_reconnect_but_open),
		T(test_guessed_port_not_node),
		T(test_guessed_port_node),
		T(test_not_node_port_not_guessed),
		T(test_free_before_report),
		T(test_free_while_closing),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
