/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The configuration file's sections (issue 12): `[select RULE]` and the `name = value`
 * lines after it, up to the next section, set what the agent decides for each process
 * (the SETTING_PROCESS keys of settings.h: the threshold triggers, what a threshold
 * captures and for how long, the schedule) for the processes RULE matches. RULE is a
 * --select rule (select.h), checked as one.
 *
 * A section's settings are the agent's (the defaults, the file's lines before its first
 * section, the command line) with the section's keys applied over them, and checked as
 * the agent's are (settings_check(): --every longer than --capture-seconds). A process gets
 * the settings of the FIRST section whose rule matches it, in the file's order; a process
 * no section matches gets the agent's. A section does not select: --select and --exclude
 * still decide which processes the agent captures on its own.
 *
 * Rules and values are borrowed: they outlive the sections (the configuration pool's
 * do, config.h). Pure but for regcomp(3) and malloc(3); no logging.
 */
#ifndef INSPECTD_SECTIONS_H
#define INSPECTD_SECTIONS_H

#include <stddef.h>

#include "select.h"
#include "settings.h"

#define SECTIONS_MAX    64
/* A section's keys, each once (a key set again replaces its value): more than there are
 * SETTING_PROCESS keys. */
#define SECTION_KEYS_MAX 16
/* sections__match()'s answer when no section's rule matches. */
#define SECTION_NONE    (-1)

struct sections;

/* None yet, in *ret: 0, -ENOMEM. */
int sections__new(struct sections **ret);
/* Takes NULL. */
void sections__free(struct sections *s);

/*
 * A new section, `[select rule]`, whose header is on line of its file: the keys set from
 * now on are its. 0; -EINVAL: the rule is refused (why: selection__add()'s words, naming
 * the rule); -E2BIG: SECTIONS_MAX sections already; -ENOMEM.
 */
int sections__add(struct sections *s, const char *rule, unsigned line, char *why, size_t size);
/*
 * `key = value` in the last section added (value: NULL for a flag). 0; -EINVAL: the key is
 * the whole agent's (SETTING_AGENT), or its setter refuses the value (why: one line, the
 * setter's words); -ENOENT: no section yet; -E2BIG: SECTION_KEYS_MAX keys already.
 */
int sections__set(struct sections *s, const struct setting_def *def, const char *value, char *why, size_t size);
/*
 * Every section's settings from st (the agent's, complete): st with the section's keys over
 * it, then settings_check(). 0, or -EINVAL with why "NAME:LINE: [select RULE]: problem"
 * (name: the file's, as the messages say it). Again when st changes.
 */
int sections__resolve(struct sections *s, const struct settings *st, const char *name, char *why, size_t size);

/* How many; 0 for NULL. */
unsigned sections__count(const struct sections *s);
/* Section i's rule, as written after "select"; the line of its header. */
const char *sections__rule(const struct sections *s, unsigned i);
unsigned sections__line(const struct sections *s, unsigned i);
/* Section i's keys as written, "rss-threshold = 100M, every = 5m", in the settings' order
 * (settings_defs()), or "no settings of its own": for a log line. Cut to size. */
void sections__describe(const struct sections *s, unsigned i, char *buf, size_t size);
/*
 * The first section whose rule matches subj, or SECTION_NONE (none does; s NULL). A
 * regexec(3) that fails counts as no match (select.h): the agent's settings apply.
 */
int sections__match(const struct sections *s, const struct select_subject *subj);
/* Section i's settings, as sections__resolve() made them; st for SECTION_NONE. */
const struct settings *sections__settings(const struct sections *s, int i, const struct settings *st);

#endif
