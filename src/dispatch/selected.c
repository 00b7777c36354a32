// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "selected.h"

#define ARGV_MAX 256    /* of the kept command line (PROCESS_CMDLINE_MAX bytes at most) */

/* A process as a rule sees it, and what its strings are kept in. */
struct subject {
	struct select_subject s;
	const char *argv[ARGV_MAX];
	char exe[PATH_MAX];
};

static void subject_of(const struct process *p, struct subject *b)
{
	const struct container_info *c = process__container(p);
	const char *cmdline;
	char path[64];
	struct stat st;
	size_t len = 0, argc = 0;
	ssize_t n;

	b->s = (struct select_subject){ 0 };
	if (c) {
		b->s.namespace = c->names.kube_namespace;
		b->s.pod = c->names.kube_pod;
		b->s.container = c->names.name[0] ? c->names.name : c->id;
		b->s.image = c->names.image;
	}
	b->s.comm = process__comm(p);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)process__pid(p));
	n = readlink(path, b->exe, sizeof(b->exe) - 1);
	if (n > 0) {
		b->exe[n] = '\0';
		b->s.exe = b->exe;
	}
	snprintf(path, sizeof(path), "/proc/%d", (int)process__pid(p));
	if (stat(path, &st) == 0) {
		b->s.has_uid = true;
		b->s.uid = (uint32_t)st.st_uid;
	}
	/* NUL-separated, as read from /proc/PID/cmdline at discovery. */
	cmdline = process__cmdline(p, &len);
	for (size_t i = 0; cmdline && i < len && argc < ARGV_MAX; argc++) {
		b->argv[argc] = cmdline + i;
		i += strnlen(cmdline + i, len - i) + 1;
	}
	b->s.argv = argc ? b->argv : NULL;
	b->s.argc = argc;
}

enum select_verdict process_verdict(const struct selection *sel, const struct process *p, const char **rule)
{
	struct subject b;
	enum select_verdict v;

	if (rule)
		*rule = NULL;
	if (!sel || (!selection__count(sel, true) && !selection__count(sel, false)))
		return SELECT_SELECTED;
	subject_of(p, &b);
	v = selection_judge(sel, &b.s);
	if (rule)
		*rule = selection_why(sel, &b.s, v);
	return v;
}

void process_note(struct selection *sel, const struct process *p)
{
	struct subject b;

	if (!sel || (!selection__count(sel, true) && !selection__count(sel, false)))
		return;
	subject_of(p, &b);
	selection_note(sel, &b.s);
}

const struct settings *process_settings(const struct sections *secs, const struct settings *st, struct process *p)
{
	const struct settings *own;
	int i = process__section(p);
	struct subject b;

	if (i != PROCESS_SECTION_UNJUDGED)
		return sections__settings(secs, i, st);
	i = SECTION_NONE;
	if (sections__count(secs)) {
		subject_of(p, &b);
		i = sections__match(secs, &b.s);
	}
	process__set_section(p, i);
	own = sections__settings(secs, i, st);
	trigger_state_configure(process__triggers(p), &own->triggers);
	return own;
}
