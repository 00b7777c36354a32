/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * At start-up, before anything is served: inspectors a previous agent opened and could
 * not close (it was killed mid-capture), as its ledger recorded them, are closed. A
 * record whose process is gone, or whose pid now names another process, is dropped.
 */
#ifndef INSPECTD_CLEANUP_H
#define INSPECTD_CLEANUP_H

#include <stdbool.h>
#include "capture.h"

struct cleanup;

/* Starts a closer per live record; NULL when there is nothing to do (or no ledger). */
struct cleanup *cleanup__start(const struct capture_env *env);
bool cleanup__done(const struct cleanup *cu);
void cleanup__free(struct cleanup *cu);

#endif
