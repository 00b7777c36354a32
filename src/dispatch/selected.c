// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "selected.h"

#define ARGV_MAX 256    /* of the kept command line (PROCESS_CMDLINE_MAX bytes at most) */

enum select_verdict process_verdict(const struct selection *sel, const struct process *p, const char **rule)
{
	const struct container_info *c = process__container(p);
	const char *argv[ARGV_MAX], *cmdline;
	char path[64], exe[PATH_MAX] = "";
	struct select_subject subj = { 0 };
	enum select_verdict v;
	struct stat st;
	size_t len = 0, argc = 0;
	ssize_t n;

	if (rule)
		*rule = NULL;
	if (!sel || (!selection__count(sel, true) && !selection__count(sel, false)))
		return SELECT_SELECTED;
	if (c) {
		subj.namespace = c->names.kube_namespace;
		subj.pod = c->names.kube_pod;
		subj.container = c->names.name[0] ? c->names.name : c->id;
		subj.image = c->names.image;
	}
	subj.comm = process__comm(p);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)process__pid(p));
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		subj.exe = exe;
	}
	snprintf(path, sizeof(path), "/proc/%d", (int)process__pid(p));
	if (stat(path, &st) == 0) {
		subj.has_uid = true;
		subj.uid = (uint32_t)st.st_uid;
	}
	/* NUL-separated, as read from /proc/PID/cmdline at discovery. */
	cmdline = process__cmdline(p, &len);
	for (size_t i = 0; cmdline && i < len && argc < ARGV_MAX; argc++) {
		argv[argc] = cmdline + i;
		i += strnlen(cmdline + i, len - i) + 1;
	}
	subj.argv = argc ? argv : NULL;
	subj.argc = argc;
	v = selection_judge(sel, &subj);
	if (rule)
		*rule = selection_why(sel, &subj, v);
	return v;
}
