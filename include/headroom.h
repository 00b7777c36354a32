/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* PLACEHOLDER until the headroom branch lands: the interface only. */
#ifndef INSPECTD_HEADROOM_H
#define INSPECTD_HEADROOM_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "cgroup.h"
struct headroom {
	uint64_t heap_used;
	uint64_t heap_total;
	uint64_t rss;
	uint64_t limit;
	uint64_t usage;
	uint64_t host_available;
	char limit_source[256];
};
int headroom_read(const struct cgroup_roots *roots, pid_t pid, struct headroom *h);
struct headroom_verdict { bool allowed; uint64_t estimate; uint64_t room; char reason[256]; };
void headroom_judge(const struct headroom *h, double factor, struct headroom_verdict *v);
#endif
