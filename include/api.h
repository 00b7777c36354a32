/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The agent's HTTP API on its own lws vhosts: a Unix socket, optionally TCP with a token. */
#ifndef INSPECTD_API_H
#define INSPECTD_API_H

#include <libwebsockets.h>
#include "dispatcher.h"
#include "settings.h"
#include "exports.h"
#include "spool.h"
#include "syscall_filter.h"

struct api;

/* The protocols the agent's vhost must carry, the API's first. */
extern const struct lws_protocols api_protocol, api_listen_protocol;

/* Serve on vh (a vhost without a listening socket of its own). spool: read for /metrics;
 * exports: every exporter's state, for /v1/exporters and /metrics (both borrowed; may be NULL). */
struct api *api__new(struct lws_context *ctx, struct lws_vhost *vh, struct dispatcher *d, const struct settings *st,
		     const struct spool *spool, struct exports *exports);
/* The system call filter's refusals, counted in /metrics from now on (borrowed; NULL: none). */
void api__set_syscall_filter(struct api *api, const struct syscall_filter *f);
/* Whether a response has begun (its headers sent) and its body is not yet written whole:
 * the agent, exiting, waits for it (within its grace) rather than cut it short. */
bool api__responding(const struct api *api);
void api__free(struct api *api);

#endif
