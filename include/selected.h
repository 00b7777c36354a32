/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A tracked process as the --select and --exclude rules (select.h) see it: its
 * container's name, image, pod and namespace (names_cache.h), its comm, its executable
 * (/proc/PID/exe, read now), its uid (the owner of /proc/PID: the effective uid) and its
 * command line as kept at discovery (processes.h). On the loop: a readlink and a stat.
 * And which of the configuration file's sections (sections.h) applies to it, judged the same
 * way and kept in it.
 */
#ifndef INSPECTD_SELECTED_H
#define INSPECTD_SELECTED_H

#include "processes.h"
#include "sections.h"
#include "select.h"

/* The verdict of sel (NULL: selected) on p; *rule (may be NULL) the rule that decided,
 * as selection_why() says, for a log line. */
enum select_verdict process_verdict(const struct selection *sel, const struct process *p, const char **rule);
/* selection_note() of p. */
void process_note(struct selection *sel, const struct process *p);

/*
 * The settings that apply to p: those of the first section of secs (may be NULL: none) whose
 * rule matches it, or st when none does. Judged when p's section is unjudged
 * (process__section(): a readlink and a stat, then each section's rule) and kept in p; its
 * trigger state then follows the settings judged (trigger_state_configure()). Borrowed: valid
 * while secs and st are.
 */
const struct settings *process_settings(const struct sections *secs, const struct settings *st, struct process *p);

#endif
