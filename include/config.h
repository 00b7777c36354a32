/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The configuration file (--config FILE): every long option as `name = value`, one a
 * line; a flag as `name` alone (or `name = true`; `false` leaves it off); a repeatable
 * option on as many lines; `#` starts a comment line; blank lines are ignored. Values are
 * taken as written after the `=` (spaces around it trimmed; no quoting: a rule such as
 * `select = cmdline~server\.js` needs none). The file decides what a root agent does, so it
 * must be a regular file, root's, writable by no one else, and so must every folder on
 * the way to it, its symlinks resolved (a Kubernetes ConfigMap's `..data` links are fine; a
 * link into /tmp is not). At most CONFIG_FILE_MAX bytes.
 *
 * Sections (sections.h): a line `[select RULE]` starts one, and the lines after it up to
 * the next are its own, for the processes RULE matches (the first section that matches a
 * process is its). Only the keys the dispatcher applies per process (SETTING_PROCESS) go
 * in a section; any other is refused with its line ("KEY applies to the whole agent, not to
 * a section"). The lines before the first section are the agent's.
 *
 * Values are interned in a pool that lives as long as the agent: the settings borrow
 * them, and a reload of the same text takes no more memory.
 */
#ifndef INSPECTD_CONFIG_H
#define INSPECTD_CONFIG_H

#include <stddef.h>

#include "sections.h"
#include "settings.h"

#define CONFIG_FILE_MAX   (256 * 1024)
#define CONFIG_LINE_MAX   4096

struct config_pool;

int config_pool__new(struct config_pool **ret);
void config_pool__free(struct config_pool *p);

/*
 * Read path and apply it to st (over what st holds), its sections added to sections (their
 * settings for sections__resolve() to make, once st is complete). 0; -EPERM: the file or a
 * folder on its way is not root's alone, or it is not a regular file; -EFBIG; -EINVAL: a
 * line does not parse or a value is refused (why: "FILE:LINE: problem"); -ENOMEM; -errno
 * from opening or reading. why (size bytes) says it in one line, naming the file. On an
 * error st and sections hold part of the file: the caller drops them.
 */
int config_load(const char *path, struct config_pool *pool, struct settings *st, struct sections *sections,
		char *why, size_t size);

/* The same over text (len bytes) already read; name is for messages. Pure but for the pool
 * and the sections' regcomp(3). */
int config_apply(const char *name, const char *text, size_t len, struct config_pool *pool, struct settings *st,
		 struct sections *sections, char *why, size_t size);

#endif
