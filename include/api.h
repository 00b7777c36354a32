/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The agent's HTTP API on its own lws vhosts: a Unix socket, optionally TCP with a token. */
#ifndef INSPECTD_API_H
#define INSPECTD_API_H

#include <libwebsockets.h>
#include "dispatcher.h"
#include "settings.h"

struct api;

struct api *api__new(struct lws_context *ctx, struct dispatcher *d, const struct settings *st);
void api__free(struct api *api);

#endif
