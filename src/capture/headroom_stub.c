// PLACEHOLDER until the headroom branch lands
#include <errno.h>
#include <stdio.h>
#include "headroom.h"
int headroom_read(const struct cgroup_roots *roots, pid_t pid, struct headroom *h) { h->rss = 1; return 0; }
void headroom_judge(const struct headroom *h, double factor, struct headroom_verdict *v) { v->allowed = true; snprintf(v->reason, sizeof(v->reason), "unchecked"); }
