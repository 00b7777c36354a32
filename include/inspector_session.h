/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * One DevTools session with one node process's inspector, over libwebsockets:
 * GET /json/version (is it node?), GET /json/list (which WebSocket?), then the
 * WebSocket carrying CDP. Every byte of it comes from the target: bounded.
 */
#ifndef INSPECTOR_SESSION_H
#define INSPECTOR_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <libwebsockets.h>
#include <cjson/cJSON.h>
#include "cdp_reader.h"
#include "inspector.h"

#define INSPECTOR_HTTP_MAX      (64 * 1024)

struct inspector_session;

/*
 * Every WebSocket message is read as it arrives by a cdp_reader (cdp_reader.h), never
 * held whole: the owner says, as each message begins, what one value of it to stream
 * where, and how many bytes the message may have. A message over its budget, or not
 * valid JSON, ends the session.
 */
struct inspector_session_ops {
	/* The WebSocket is open: commands can be sent. */
	void (*ready)(void *owner);
	/* A message begins: fill *watch (zeroed: nothing streamed) and *budget (bytes). */
	void (*message_begin)(void *owner, struct cdp_reader_watch *watch, size_t *budget);
	/* A response to the request sent with this tag: h->has_error and h->error say if it failed. */
	void (*response)(void *owner, int tag, const struct cdp_reader_header *h);
	/* An event: h->method names it. */
	void (*event)(void *owner, const struct cdp_reader_header *h);
	/* The session ended; reason is a short text. No callback follows. */
	void (*closed)(void *owner, const char *reason);
};

/* The protocol entry the lws context must carry. */
extern const struct lws_protocols inspector_session_protocol;

/*
 * Connect to ep (copied) inside the network namespace of the process pidfd pins
 * (borrowed; pid names it in logs). Every connection's peer must be ep, in that
 * namespace. Progress and failure come through ops; NULL only when nothing was started.
 */
struct inspector_session *inspector_session__new(struct lws_context *ctx, pid_t pid, int pidfd,
						 const struct inspector_endpoint *ep,
						 const struct inspector_session_ops *ops, void *owner);
/* Queue a command. params is consumed. 0 or -errno. */
int inspector_session__send(struct inspector_session *s, int tag, const char *method, cJSON *params);
/* The WebSocket is up: commands can be sent. */
bool inspector_session__is_open(const struct inspector_session *s);
const char *inspector_session__node_version(const struct inspector_session *s);
/* Hand the session to another owner: callbacks go to ops and owner from now on. */
void inspector_session__set_owner(struct inspector_session *s, const struct inspector_session_ops *ops, void *owner);
/* Close without further callbacks. Accepts NULL. */
void inspector_session__free(struct inspector_session *s);

#endif
