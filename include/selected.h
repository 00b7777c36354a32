/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A tracked process as the --select and --exclude rules (select.h) see it: its
 * container's name, image, pod and namespace (names_cache.h), its comm, its executable
 * (/proc/PID/exe, read now), its uid (the owner of /proc/PID: the effective uid) and its
 * command line as kept at discovery (processes.h). On the loop: a readlink and a stat.
 */
#ifndef INSPECTD_SELECTED_H
#define INSPECTD_SELECTED_H

#include "processes.h"
#include "select.h"

/* The verdict of sel (NULL: selected) on p; *rule (may be NULL) the rule that decided,
 * as selection_why() says, for a log line. */
enum select_verdict process_verdict(const struct selection *sel, const struct process *p, const char **rule);

#endif
