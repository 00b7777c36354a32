/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The agent's configuration, filled from the command line once at start. */
#ifndef INSPECTD_SETTINGS_H
#define INSPECTD_SETTINGS_H

#include <stdint.h>
#include "inspectd.h"

struct settings {
	int heap_signal;                        /* toggles heap sampling */
	int cpu_signal;                         /* toggles CPU profiling */
	uint64_t heap_sampling_interval;        /* bytes */
	uint64_t cpu_sampling_interval;         /* microseconds */
	uint64_t max_duration_usec;             /* a capture nobody stopped */
	uint64_t attach_timeout_usec;           /* SIGUSR1 -> inspector listening */
	uint64_t command_timeout_usec;          /* one CDP round trip */
	const char *output_dir;
	const char *match[INSPECTD_MAX_MATCH];
	int nmatch;
};

#endif
