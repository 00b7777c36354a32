/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The agent's settings: defaults, then one setter per key (the command line's long
 * option names), checked across keys at the end. String values are borrowed, never
 * freed while the agent runs: a capture copies the struct and keeps the settings it
 * started with.
 */
#ifndef INSPECTD_SETTINGS_H
#define INSPECTD_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "inspectd.h"
#include "select.h"
#include "trigger.h"

struct settings {
	int heap_signal;                        /* toggles heap sampling */
	int cpu_signal;                         /* toggles CPU profiling */
	int snapshot_signal;                    /* takes a heap snapshot; 0: none (the default) */
	int timeline_signal;                    /* toggles an allocation timeline; 0: none */
	int trace_signal;                       /* toggles trace events; 0: none */
	uint64_t heap_sampling_interval;        /* bytes */
	uint64_t cpu_sampling_interval;         /* microseconds */
	uint64_t max_duration_usec;             /* a capture nobody stopped */
	uint64_t max_signal_duration_usec;      /* ... that a signal started (the smaller of the two) */
	uint64_t attach_timeout_usec;           /* SIGUSR1 -> inspector listening */
	uint64_t command_timeout_usec;          /* one CDP round trip */
	const char *output_dir;
	const char *exporter;                   /* an exporter's name (exporter.h): "file", or "pprof" */
	uint64_t max_profile_bytes;             /* one profile, as the target sends it */
	uint64_t max_snapshot_bytes;            /* one snapshot, timeline or trace file */
	bool compress;                          /* snapshots, timelines, traces written .gz */
	const char *trace_categories;           /* "cat,cat": a trace's when none were asked for */
	double snapshot_headroom;               /* the snapshot's peak, as a multiple of the used JS heap (headroom.h) */
	uint64_t snapshot_stall_usec;           /* a snapshot with nothing sent this long is abandoned */
	uint64_t output_quota_bytes;            /* the output folder (--spool-max-bytes); 0: no quota */
	const char *state_dir;                  /* DIR/opened: inspectors being opened (ledger.h) */
	const char *host_root;                  /* the host's "/": the runtimes' state files below it */

	/* Threshold triggers and what they start. */
	struct trigger_config triggers;
	int threshold_action;                   /* enum profile_kind */
	uint64_t capture_usec;                  /* --capture-seconds */
	bool capture_given;                     /* ... set: a scheduled round's length too */
	unsigned max_captures_per_hour;         /* threshold captures, whole host */
	unsigned max_concurrent;                /* captures at once; the rest wait */
	unsigned max_per_container;             /* captures at once of one container (processes_tenant_key()) */
	unsigned max_per_container_hour;        /* captures of one container per hour, any trigger */
	uint64_t queue_timeout_usec;            /* a queued capture waits this long at most */
	bool rss_watch_always;                  /* rss_stat on every fault, not only near a mark */

	/* Remote exporters (outbox.h): where the spool's commits go besides the folder. */
	bool keep_local;                        /* delivered commits stay in the folder */
	uint64_t export_retry_max_usec;         /* a commit not delivered this long after it landed is given up */
	uint64_t export_retry_initial_usec;     /* the first wait after a failure; doubles up to 10 min */
	const char *s3_bucket, *s3_region, *s3_endpoint, *s3_prefix;
	bool s3_path_style;
	uint64_t s3_part_size;                  /* larger files go up in parts of this size */
	const char *pyroscope_url, *pyroscope_app, *pyroscope_user, *pyroscope_password_file;
	const char *pyroscope_token_file, *pyroscope_tenant;

	/* Scheduled captures (schedule.h): 0 no schedule; kinds a mask of 1u << enum profile_kind. */
	uint64_t every_usec;
	uint32_t schedule_kinds;

	/* Which processes the agent looks at (select.h): rules as given, checked. */
	const char *select_rules[SELECT_RULES_MAX];
	unsigned n_select;
	const char *exclude_rules[SELECT_RULES_MAX];
	unsigned n_exclude;

	/* The agent's API. */
	const char *api_socket;
	const char *api_listen;                 /* ADDR:PORT, or NULL */
	const char *api_token_file;

	const char *match[INSPECTD_MAX_MATCH];
	int nmatch;
	int log_level;                          /* enum log_level */

	/* Hardening once started (README "Hardening"), each with a switch for debugging. */
	bool keep_capabilities;                 /* drop no capability (privileges.h) */
	bool no_syscall_filter;                 /* install no seccomp filter (syscall_filter.h) */
};

/* Whom a setting is for. */
enum setting_scope {
	SETTING_AGENT,          /* the whole agent */
	/* Each process, as the dispatcher applies it (a threshold trigger, what a threshold
	 * captures and for how long, the schedule): a configuration file's section may set it
	 * for the processes it selects (sections.h). */
	SETTING_PROCESS,
};

struct setting_def {
	const char *key;                        /* "max-duration", as --max-duration */
	/* Parse value into st: 0, or -EINVAL with why (one line). */
	int (*set)(struct settings *st, const char *value, char *why, size_t size);
	bool flag;                              /* takes no value: set() gets NULL */
	enum setting_scope scope;
};

/*
 * The trigger signals: each a setting naming the signal that starts a kind of capture (and,
 * for a kind that runs until stopped, stops it). 0: no signal. A kind with a signal of its
 * own is a new row in settings.c.
 */
struct signal_setting {
	const char *key;                        /* "heap-signal", as the long option */
	size_t offset;                          /* of its int in struct settings */
	int kind;                               /* enum profile_kind: what it captures */
};

const struct signal_setting *settings_signals(size_t *n);
/* Setting s's signal in st; 0 when it has none. */
int settings_signal(const struct settings *st, const struct signal_setting *s);
/* The kind a signal starts in st: 0 and *ret (an enum profile_kind), or -ENOENT when no setting
 * names sig (settings_check() saw that none names it twice). */
int settings_signal_kind(const struct settings *st, int sig, int *ret);
/* A scheduled round's length without --capture-seconds: 10 s of every interval, a sixth of the
 * --every 1m the README recommends; measured in README *Scheduled captures*. */
#define SETTINGS_ROUND_USEC_DEFAULT (10ull * 1000000)
/* How long a scheduled round runs: --capture-seconds when given, else SETTINGS_ROUND_USEC_DEFAULT. */
uint64_t settings_round_usec(const struct settings *st);
/* Bit N set for each signal N a setting names: the kernel side's filter (tracker.h). */
uint64_t settings_trigger_sigmask(const struct settings *st);

/* --trace-categories and an API request's "categories": "cat,cat,...", each 1 to
 * SETTINGS_CATEGORY_MAX of [A-Za-z0-9._-], at most SETTINGS_CATEGORIES_COUNT_MAX of them, the
 * whole shorter than CAPTURE_CATEGORIES_MAX (capture.h). 0, or -EINVAL and why (one line,
 * without the value: the caller names it as its user wrote it). */
#define SETTINGS_CATEGORY_MAX           64
#define SETTINGS_CATEGORIES_COUNT_MAX   32
int settings_check_categories(const char *v, char *why, size_t size);

/* The table of keys, for a front end (getopt, a configuration file). */
const struct setting_def *settings_defs(size_t *n);
void settings_defaults(struct settings *st);
/* 0; -ENOENT: no such key; -EINVAL: a bad value. why says which, in one line. */
int settings_set(struct settings *st, const char *key, const char *value, char *why, size_t size);
/* What holds across keys: 0, or -EINVAL and why. */
int settings_check(const struct settings *st, char *why, size_t size);

#endif
