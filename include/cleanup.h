/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Closing what the ledger says may be open: at start-up, before anything is served,
 * inspectors a previous agent opened and could not close (it was killed); later, every
 * few seconds, inspectors that opened after their capture had ended (SIGUSR1 answered
 * late: node opens it only when its main thread runs). A record whose process is gone,
 * or whose pid now names another process, is dropped.
 */
#ifndef INSPECTD_CLEANUP_H
#define INSPECTD_CLEANUP_H

#include <stdbool.h>
#include "capture.h"

struct cleanup;

/* pids whose records a running capture owns: left alone. NULL: none. */
typedef bool (*cleanup_skip_fn)(void *ctx, pid_t pid);

/* Starts a closer per live record; NULL when there is nothing to do (or no ledger). */
struct cleanup *cleanup__start(const struct capture_env *env, bool at_start, cleanup_skip_fn skip,
			       void *ctx);
bool cleanup__done(const struct cleanup *cu);
/* Whether a closer of this run works on pid. */
bool cleanup__has(const struct cleanup *cu, pid_t pid);
void cleanup__free(struct cleanup *cu);

#endif
