// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cdp.h"
#include "inspector_close.h"
#include "log.h"
#include "profile.h"

#define CLOSE_TIMEOUT_USEC      (5 * LWS_US_PER_SEC)
#define VERIFY_TIMEOUT_USEC     (2 * LWS_US_PER_SEC)
#define VERIFY_POLL_USEC        (5 * LWS_US_PER_MS)

enum { TAG_DEBUG_END = 1 };

enum close_state {
	CLOSE_CONNECTING,       /* a session just to close */
	CLOSE_CLOSING,          /* process._debugEnd() sent */
	CLOSE_VERIFYING,        /* waiting for the listening socket to be gone */
	CLOSE_DONE,
};

struct inspector_close {
	const struct capture_env *env;
	struct locate_target t;
	struct inspector_claim claim;
	unsigned flags;
	const char *why;
	inspector_close_done_fn done;
	void *owner;
	enum close_state state;
	struct inspector_session *session;
	bool reconnected;
	bool debug_end_sent;
	bool closed;
	char node_version[CDP_VERSION_MAX];
	lws_sorted_usec_list_t timer;
	lws_sorted_usec_list_t report;
	lws_usec_t deadline;
};

static const struct inspector_session_ops session_ops;
static void close_ask(struct inspector_close *ic);

static void arm(struct inspector_close *ic, sul_cb_t cb, lws_usec_t us)
{
	lws_sul_schedule(ic->env->ctx, 0, &ic->timer, cb, us);
}

static void report_cb(lws_sorted_usec_list_t *sul)
{
	struct inspector_close *ic = lws_container_of(sul, struct inspector_close, report);

	ic->done(ic->owner, ic->closed);
}

static void finish(struct inspector_close *ic, bool closed)
{
	if (ic->state == CLOSE_DONE)
		return;
	ic->state = CLOSE_DONE;
	ic->closed = closed;
	lws_sul_schedule(ic->env->ctx, 0, &ic->timer, NULL, LWS_SET_TIMER_USEC_CANCEL);
	inspector_session__free(ic->session);
	ic->session = NULL;
	lws_sul_schedule(ic->env->ctx, 0, &ic->report, report_cb, 1);
}

static bool target_alive(const struct inspector_close *ic)
{
	return syscall(SYS_pidfd_send_signal, ic->t.pidfd, 0, NULL, 0) == 0;
}

static void verify_closed(lws_sorted_usec_list_t *sul)
{
	struct inspector_close *ic = lws_container_of(sul, struct inspector_close, timer);
	int open = locate_listener_open(ic->t.pidfd, ic->claim.inode);

	if (open == 0) {
		log_info("pid %d: inspector closed%s", (int)ic->t.pid, ic->why);
		finish(ic, true);
		return;
	}
	if (open < 0) {
		log_warn("pid %d: cannot tell whether the inspector on port %u closed: %s", (int)ic->t.pid,
			 ic->claim.port, strerror(-open));
		finish(ic, false);
		return;
	}
	if (lws_now_usecs() > ic->deadline) {
		log_error("pid %d: inspector port %u still open%s", (int)ic->t.pid, ic->claim.port,
			  ic->debug_end_sent ? " after process._debugEnd()" : "");
		finish(ic, false);
		return;
	}
	arm(ic, verify_closed, VERIFY_POLL_USEC);
}

static void timeout(lws_sorted_usec_list_t *sul)
{
	struct inspector_close *ic = lws_container_of(sul, struct inspector_close, timer);

	/* _debugEnd() normally drops the WebSocket at once. */
	if (ic->debug_end_sent)
		log_error("pid %d: inspector did not close after process._debugEnd()", (int)ic->t.pid);
	else
		log_error("pid %d: no answer from the inspector: it may stay open on port %u", (int)ic->t.pid,
			  ic->claim.port);
	finish(ic, false);
}

static void session_ready(void *owner)
{
	struct inspector_close *ic = owner;
	const char *v = inspector_session__node_version(ic->session);

	snprintf(ic->node_version, sizeof(ic->node_version), "%s", v ? v : "");
	close_ask(ic);
}

static void session_message_begin(void *owner, struct cdp_reader_watch *w, size_t *budget)
{
	*budget = PROFILE_BUDGET_SMALL;
}

static void session_response(void *owner, int tag, const struct cdp_reader_header *h)
{
	struct inspector_close *ic = owner;

	if (tag == TAG_DEBUG_END && h->has_error) {
		log_error("pid %d: the inspector refused process._debugEnd(): %s", (int)ic->t.pid, h->error);
		finish(ic, false);
	}
}

static void session_event(void *owner, const struct cdp_reader_header *h)
{
}

static void session_closed(void *owner, const char *reason)
{
	struct inspector_close *ic = owner;

	inspector_session__free(ic->session);
	ic->session = NULL;
	if ((ic->flags & INSPECTOR_CLOSE_GUESSED_PORT) && !ic->node_version[0]) {
		/* The record had no port and the one picked is not node's inspector. */
		log_info("pid %d: port %u is not an inspector: nothing of ours to close", (int)ic->t.pid,
			 ic->claim.port);
		finish(ic, true);
		return;
	}
	if (ic->state == CLOSE_CONNECTING) {
		log_error("pid %d: cannot reach the inspector to close it: %s", (int)ic->t.pid, reason);
		finish(ic, false);
		return;
	}
	/* _debugEnd() drops the connection: expected. */
	ic->state = CLOSE_VERIFYING;
	ic->deadline = lws_now_usecs() + VERIFY_TIMEOUT_USEC;
	arm(ic, verify_closed, VERIFY_POLL_USEC);
}

static const struct inspector_session_ops session_ops = {
	.ready = session_ready,
	.message_begin = session_message_begin,
	.response = session_response,
	.event = session_event,
	.closed = session_closed,
};

/* The session is open: ask node to close its inspector. */
static void close_ask(struct inspector_close *ic)
{
	cJSON *params = cJSON_CreateObject();
	int r;

	if (params)
		cJSON_AddStringToObject(params, "expression", "process._debugEnd()");
	r = inspector_session__send(ic->session, TAG_DEBUG_END, "Runtime.evaluate", params);
	if (r < 0) {
		log_error("pid %d: cannot ask the inspector to close: %s", (int)ic->t.pid, strerror(-r));
		finish(ic, false);
		return;
	}
	ic->state = CLOSE_CLOSING;
	ic->debug_end_sent = true;
	arm(ic, timeout, CLOSE_TIMEOUT_USEC);
}

static void close_begin(struct inspector_close *ic)
{
	if (ic->session && inspector_session__is_open(ic->session)) {
		close_ask(ic);
		return;
	}
	/* Half-way through connecting, or broken: start over, just to close. Once, and only
	 * if the port ever answered as node's inspector: a stranger's port is not ours to
	 * talk to again. */
	inspector_session__free(ic->session);
	ic->session = NULL;
	if (ic->flags & INSPECTOR_CLOSE_NO_RECONNECT) {
		log_warn("pid %d: port %u never answered as a node inspector: not closing it", (int)ic->t.pid,
			 ic->claim.port);
		finish(ic, true);       /* no inspector of ours to close there */
		return;
	}
	if (!target_alive(ic)) {
		log_error("pid %d: cannot reach the inspector to close it", (int)ic->t.pid);
		finish(ic, false);
		return;
	}
	ic->state = CLOSE_CONNECTING;
	ic->session = inspector_session__new(ic->env->ctx, ic->t.pid, ic->t.pidfd, &ic->claim.endpoint, &session_ops, ic);
	if (!ic->session) {
		log_error("pid %d: cannot reconnect to close the inspector on port %u", (int)ic->t.pid, ic->claim.port);
		finish(ic, false);
		return;
	}
	arm(ic, timeout, (lws_usec_t)ic->env->settings->attach_timeout_usec);
}

int inspector_close__start(const struct capture_env *env, const struct locate_target *t,
			   const struct inspector_claim *claim, struct inspector_session *session, unsigned flags,
			   const char *why, inspector_close_done_fn done, void *owner, struct inspector_close **ret)
{
	struct inspector_close *ic = calloc(1, sizeof(*ic));

	if (!ic) {
		inspector_session__free(session);
		return -ENOMEM;
	}
	ic->env = env;
	ic->t = *t;
	ic->claim = *claim;
	ic->flags = flags;
	ic->why = why ? why : "";
	ic->done = done;
	ic->owner = owner;
	ic->session = session;
	if (session) {
		const char *v = inspector_session__node_version(session);

		snprintf(ic->node_version, sizeof(ic->node_version), "%s", v ? v : "");
		inspector_session__set_owner(session, &session_ops, ic);
	}
	close_begin(ic);
	*ret = ic;
	return 0;
}

const char *inspector_close__node_version(const struct inspector_close *ic)
{
	return ic->node_version;
}

void inspector_close__free(struct inspector_close *ic)
{
	if (!ic)
		return;
	lws_sul_schedule(ic->env->ctx, 0, &ic->timer, NULL, LWS_SET_TIMER_USEC_CANCEL);
	lws_sul_schedule(ic->env->ctx, 0, &ic->report, NULL, LWS_SET_TIMER_USEC_CANCEL);
	inspector_session__free(ic->session);
	free(ic);
}
