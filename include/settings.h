/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The agent's configuration, filled from the command line once at start. */
#ifndef INSPECTD_SETTINGS_H
#define INSPECTD_SETTINGS_H

#include <stdint.h>
#include "inspectd.h"
#include "trigger.h"

struct settings {
	int heap_signal;                        /* toggles heap sampling */
	int cpu_signal;                         /* toggles CPU profiling */
	uint64_t heap_sampling_interval;        /* bytes */
	uint64_t cpu_sampling_interval;         /* microseconds */
	uint64_t max_duration_usec;             /* a capture nobody stopped */
	uint64_t attach_timeout_usec;           /* SIGUSR1 -> inspector listening */
	uint64_t command_timeout_usec;          /* one CDP round trip */
	const char *output_dir;
	uint64_t max_profile_bytes;             /* one profile, as the target sends it */
	uint64_t output_quota_bytes;            /* the output folder; 0: no quota */
	const char *state_dir;                  /* DIR/opened: inspectors being opened (ledger.h) */

	/* Threshold triggers and what they start. */
	struct trigger_config triggers;
	int threshold_action;                   /* enum profile_kind */
	uint64_t capture_usec;                  /* --capture-seconds */
	unsigned max_captures_per_hour;         /* threshold captures, whole host */
	unsigned max_concurrent;                /* captures at once; the rest wait */
	bool rss_watch_always;                  /* rss_stat on every fault, not only near a mark */

	/* The agent's API. */
	const char *api_socket;
	const char *api_listen;                 /* ADDR:PORT, or NULL */
	const char *api_token_file;

	const char *match[INSPECTD_MAX_MATCH];
	int nmatch;
};

#endif
