/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Deciding how to reach a target's inspector, from what /proc shows of it. Pure. */
#ifndef INSPECTD_INSPECTOR_H
#define INSPECTD_INSPECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include "procfs.h"

#define INSPECTOR_DEFAULT_PORT 9229

/* Index of an inspector already listening (on the command line's port, else 9229), or -1. */
int inspector_pick_open(const struct procfs_listener *l, int n, uint16_t cmdline_port);
/* Index in after[] of a listener absent from before[] (loopback first), or -1. */
int inspector_pick_new(const struct procfs_listener *before, int nb,
		       const struct procfs_listener *after, int na);
/* Whether a SigCgt mask says SIGUSR1 has a handler: only then may it be sent. */
bool inspector_catches_sigusr1(uint64_t sigcgt);

#endif
