// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * inspectd: profiles node processes on this host when asked by a signal.
 *
 *   kernel event -> ring buffer -> dispatcher -> inspector session -> profile -> exporter
 *
 * One lws event loop carries everything: the BPF ring buffer and a signalfd
 * are adopted into it as raw file descriptors, inspector connections are lws
 * clients, waits are lws_sul timers.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <libwebsockets.h>

#include "api.h"
#include "capture.h"
#include "cgroup.h"
#include "config.h"
#include "curl_lib.h"
#include "cleanup.h"
#include "dispatcher.h"
#include "meta.h"
#include "exports.h"
#include "spool.h"
#include "inspector_session.h"
#include "ledger.h"
#include "log.h"
#include "options.h"
#include "privileges.h"
#include "procfs.h"
#include "profile.h"
#include "settings.h"
#include "syscall_filter.h"
#include "tracker.h"

#include "version.h"
#define EXIT_USAGE 2
/* A kernel without BTF: nothing the agent could do there (a DaemonSet pod on such a node
 * says so once per restart, backed off by its kubelet). */
#define EXIT_NO_BTF 3
#define SHUTDOWN_GRACE_USEC (15 * LWS_US_PER_SEC)

static const char usage[] =
"Usage: inspectd [OPTION]...\n"
"Profile any node process on this host, without changing it: a signal sent to\n"
"the process starts a heap or CPU profile, the same signal again stops it and\n"
"writes the profile to the output folder; signals of your choice also take heap\n"
"snapshots, allocation timelines and traces. Runs as root; needs BPF and BTF.\n"
"\n"
"Options:\n"
"  --heap-signal SIG             toggles heap sampling (default WINCH)\n"
"  --cpu-signal SIG              toggles CPU profiling (default URG)\n"
"  --snapshot-signal SIG         takes a heap snapshot (default none). Costly:\n"
"                                the target pauses for seconds per 100 MB of\n"
"                                small objects, and its RSS can grow to many\n"
"                                times its used heap; refused, and a heap\n"
"                                sampling profile taken instead, when\n"
"                                --snapshot-headroom is short\n"
"  --allocation-timeline-signal SIG\n"
"                                toggles an allocation timeline (default none):\n"
"                                every allocation with its stack, costly in the\n"
"                                target while it runs\n"
"  --trace-signal SIG            toggles trace events of --trace-categories\n"
"                                (default none)\n"
"                                SIG: a name with or without SIG, or a number;\n"
"                                none or off: no signal (the last three only).\n"
"                                Any but WINCH, URG, CONT or CHLD ends or stops a\n"
"                                process that does not catch it\n"
"  --heap-sampling-interval BYTES\n"
"                                average bytes between heap samples (default 131072)\n"
"  --cpu-sampling-interval USEC  microseconds between CPU samples (default 10000;\n"
"                                1000 sees finer, at up to 15-18% of a busy service)\n"
"  --max-duration SECONDS        stop and export a capture nobody stopped (default 600)\n"
"  --max-signal-duration SECONDS ... one a signal started (default 120)\n"
"  --attach-timeout MS           wait for the inspector to open (default 3000)\n"
"  --output-dir DIR              where profiles go (default /var/lib/inspectd)\n"
"  --max-profile-size SIZE       the largest profile a target may send (default 512M)\n"
"  --max-snapshot-size SIZE      the largest heap snapshot, allocation timeline\n"
"                                or trace file a capture may write (default 4G)\n"
"  --compress                    write heap snapshots, allocation timelines and\n"
"                                traces gzip-compressed as they stream in (.gz)\n"
"  --trace-categories LIST       what a trace records when its request names\n"
"                                nothing else (default node,node.perf,v8)\n"
"  --snapshot-headroom FACTOR    the memory a heap snapshot may take, as a\n"
"                                multiple of the target's used JS heap, at least\n"
"                                64 MiB (default 64, measured: 20-51x): without\n"
"                                that much room below its limit the snapshot is\n"
"                                refused; 0: no check, and the snapshot may then\n"
"                                get the target OOM-killed\n"
"  --snapshot-stall-timeout DURATION\n"
"                                a heap snapshot the target sends nothing of for\n"
"                                this long is abandoned (default 60s; 1s to 1h)\n"
"  --spool-max-bytes SIZE        bytes the output folder may hold (default 1G): the\n"
"                                oldest delivered profiles (with their meta.json) are\n"
"                                removed to make room, then the oldest undelivered;\n"
"                                one that cannot fit even so fails (--output-quota)\n"
"  --pprof                       also write BASE.pb.gz (gzipped pprof) beside each profile\n"
"  --state-dir DIR               the record of inspectors being opened, so that a\n"
"                                restarted agent closes what a killed one left open\n"
"                                (default /run/inspectd)\n"
"  --host-root DIR               where the host's / is (an agent in a container with\n"
"                                the host at /host): the container runtimes' state\n"
"                                files, for container and pod names, are read below\n"
"                                it; /proc and /sys/fs/cgroup must be the host's\n"
"                                (default /)\n"
"  --every DURATION              also capture each selected process once every\n"
"                                DURATION, spread over the interval with jitter\n"
"                                (continuous profiling; off). A round lasts 10 s,\n"
"                                or --capture-seconds when given: --every 1m costs a\n"
"                                service well under 1% (README, Scheduled captures)\n"
"  --schedule-kinds LIST         what the rounds capture, in turn (default\n"
"                                cpu,heap): heap, cpu, trace; never heap-snapshot\n"
"                                nor allocation-timeline, a schedule never pauses\n"
"                                or slows a service\n"
"  --select RULE                 automatic captures (thresholds, the schedule) only\n"
"                                of processes a rule selects (repeatable: any); a\n"
"                                signal or the API is served for any not excluded\n"
"  --exclude RULE                never touch a process a rule matches (repeatable):\n"
"                                its signals are only logged, the API answers 403\n"
"                                RULE: namespace=, pod=, container=, image=, comm=,\n"
"                                exe=, uid= with a glob, or cmdline~REGEX (extended)\n"
"  --match NAME                  also track executables named NAME (repeatable;\n"
"                                node and nodejs are always tracked)\n"
"\n"
"Threshold triggers (judged in the kernel on rss_stat; CPU once a second; off turns\n"
"one off, as it does --every):\n"
"  --rss-threshold SIZE          capture a process whose RSS reaches SIZE (512M, 1.5G)\n"
"  --rss-growth SIZE[/WINDOW]    ... whose RSS grew by SIZE since first seen or last\n"
"                                captured, or within WINDOW (300M/10m)\n"
"  --limit-percent N             ... whose RSS reaches N% of its cgroup's memory limit\n"
"  --cpu-threshold PERCENT       ... whose CPU use over --cpu-window reaches PERCENT\n"
"                                of one core\n"
"  --cpu-window DURATION         the CPU window (default 15s)\n"
"  --threshold-action KIND       what a threshold captures (default heap): heap,\n"
"                                cpu or trace; heap-snapshot (refused when\n"
"                                --snapshot-headroom is short);\n"
"                                allocation-timeline (costly in the target for\n"
"                                all of --capture-seconds)\n"
"  --capture-seconds N           how long a threshold or API capture runs (default\n"
"                                30); given, a scheduled round's length too\n"
"  --cooldown DURATION           a process is not captured again by a threshold\n"
"                                sooner than this (default 10m)\n"
"  --max-captures-per-hour N     threshold captures on the whole host (default 6)\n"
"  --max-concurrent N            captures at once; the rest wait in order (default 4)\n"
"  --max-concurrent-per-container N\n"
"                                captures at once of one container, any trigger;\n"
"                                the rest wait in order (default 2)\n"
"  --max-captures-per-container-per-hour N\n"
"                                captures one container may ask for within an hour,\n"
"                                any trigger; more are refused (default 12)\n"
"  --queue-timeout DURATION      a capture that waited this long for its turn ends\n"
"                                unrun (default 60s)\n"
"  --rss-watch near|always       judge RSS on every page fault only while a process\n"
"                                is near a mark, else once a second (default near);\n"
"                                always: on every fault, at a cost to every process\n"
"\n"
"Exporters: every profile, its pprof and meta.json (and OOM-kill records) also go to\n"
"  --s3-bucket NAME              S3 or S3-compatible storage, under the key\n"
"                                [PREFIX/]HOST/NAMESPACE/POD/KIND/FILE; credentials\n"
"                                from the environment, the shared credentials file,\n"
"                                the container endpoint or the instance metadata\n"
"  --s3-region REGION            (default $AWS_REGION)\n"
"  --s3-endpoint URL             another S3-compatible server (http://minio:9000)\n"
"  --s3-path-style               URL/BUCKET/KEY rather than BUCKET.HOST/KEY\n"
"  --s3-prefix PREFIX            keys begin with PREFIX/\n"
"  --s3-part-size SIZE           larger files go up in parts of SIZE (default 64M)\n"
"  --pyroscope-url URL           Grafana Pyroscope: heap and CPU profiles as pprof\n"
"  --pyroscope-app NAME          the application name (default: the container's,\n"
"                                else the script's)\n"
"  --pyroscope-user USER         basic auth, with the password in\n"
"  --pyroscope-password-file FILE\n"
"  --pyroscope-token-file FILE   a bearer token\n"
"  --pyroscope-tenant ID         X-Scope-OrgID, for a multi-tenant Grafana\n"
"  --export-retry-max DURATION   a profile not delivered this long after it was\n"
"                                written is given up and kept (default 24h)\n"
"  --export-retry-initial DURATION\n"
"                                the first wait after a failed delivery; it doubles\n"
"                                up to 10m, with jitter (default 5s)\n"
"  --keep-local                  delivered profiles stay in the output folder (until\n"
"                                --spool-max-bytes needs the room); without it they\n"
"                                are removed once every exporter has them\n"
"\n"
"The agent's API (HTTP, JSON):\n"
"  --api-socket PATH             Unix socket, mode 0600 (default /run/inspectd/api.sock)\n"
"  --api-listen ADDR:PORT        also listen on TCP; requires --api-token-file\n"
"  --api-token-file FILE         bearer token TCP clients must send\n"
"  --log-level LEVEL             error, warn, info (default) or debug\n"
"  --keep-capabilities           keep every capability the agent started with\n"
"                                (debugging): else, once its BPF programs are\n"
"                                loaded, it keeps only those it needs running\n"
"                                and sets no_new_privs\n"
"  --no-syscall-filter           install no seccomp filter (debugging): else, once\n"
"                                started, a system call outside the agent's\n"
"                                allow-list fails with EPERM, counted and logged\n"
"  --config FILE                 settings from FILE (name = value, one a line, the\n"
"                                long options without their dashes), then the command\n"
"                                line's; a section [select RULE] sets the thresholds,\n"
"                                threshold-action, capture-seconds and the schedule\n"
"                                of the processes RULE matches (the first section\n"
"                                that matches a process wins); SIGHUP reads it again\n"
"  --check-config                with --config: check the file and exit (0, or 2)\n"
"  --version                     print the version and exit\n"
"  --help                        print this help and exit\n"
"\n"
"Outputs, in the output folder (0700, files 0600):\n"
"  heap-profile-[<container>-]<pid>-<UTC time>.heapprofile\n"
"                                              load in Chrome DevTools or speedscope\n"
"  cpu-profile-[<container>-]<pid>-<UTC time>.cpuprofile\n"
"  heap-snapshot-...heapsnapshot[.gz]          load in Chrome DevTools, Memory tab\n"
"  allocation-timeline-...heaptimeline[.gz]    load in Chrome DevTools, Memory tab\n"
"  trace-...json[.gz]                          load in Perfetto or chrome://tracing\n"
"  <same name>.meta.json                       process, trigger and profile details\n"
"\n"
"Examples:\n"
"  inspectd                                    # run with the defaults\n"
"  kill -s WINCH 4242; sleep 30; kill -s WINCH 4242   # 30 s heap profile of pid 4242\n"
"  kill -s URG 4242; sleep 10; kill -s URG 4242       # 10 s CPU profile\n"
"  kubectl exec POD -- kill -s WINCH 1         # from inside a container\n"
"  inspectd --heap-signal SIGRTMIN+1 --output-dir /srv/profiles --match node20\n"
"  inspectd --rss-threshold 1.5G --capture-seconds 60\n"
"  inspectd --limit-percent 80                 # before the OOM killer comes\n"
"  inspectd --rss-growth 300M/10m\n"
"  inspectd --rss-threshold 1G --select 'namespace=checkout' --exclude 'container=batch-*'\n"
"  inspectd --every 1m --capture-seconds 10 --select 'namespace=checkout'\n"
"  inspectd --cpu-threshold 90 --cpu-window 15s --threshold-action cpu\n"
"  inspectctl capture 4242 --kind heap --seconds 30\n"
"  inspectctl capture 4242 --kind heap-snapshot  # pauses 4242 while it is taken\n";

enum {
	OPT_VERSION = 1,
	OPT_HELP,
	OPT_CONFIG,
	OPT_CHECK_CONFIG,
	OPT_SETTING = 256,      /* + the setting's index in settings_defs() */
};

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "inspectd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see --help)\n");
	exit(EXIT_USAGE);
}

/* The command line's settings, in order, kept for reloads: applied after the file's. */
struct arg_setting {
	const struct setting_def *def;
	const char *value;              /* argv's */
};

/*
 * The running agent, main()'s: its callbacks reach it through their contexts (an adopted fd's
 * handler, the tracker's callback, the reload's sul).
 */
struct agent {
	struct settings settings;       /* the running configuration: a reload replaces it */
	struct arg_setting *arg_settings;
	size_t n_arg_settings;
	const char *config_path;        /* --config FILE, or NULL */
	struct config_pool *config_pool; /* the file's values, for the agent's life */
	struct dispatcher *dispatcher;
	struct tracker *tracker;
	struct lws_context *loop_ctx;   /* for the reload's timer */
	int exiting;                    /* 1: a signal came, captures are stopping; 2: another, exit now */
	lws_usec_t shutdown_deadline;
	lws_sorted_usec_list_t reload_sul;
	bool reload_pending;
};

/* Defaults, then the file, then the command line; checked. 0 or -errno with why. */
static int build_globals(const struct agent *agent, struct settings *st, struct sections *secs, char *why,
			 size_t size)
{
	const char *config_path = agent->config_path;
	char sub[512];
	int r;

	settings_defaults(st);
	if (config_path) {
		r = config_load(config_path, agent->config_pool, st, secs, why, size);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < agent->n_arg_settings; i++) {
		if (agent->arg_settings[i].def->set(st, agent->arg_settings[i].value, sub, sizeof(sub)) < 0) {
			snprintf(why, size, "%s", sub);
			return -EINVAL;
		}
	}
	if (settings_check(st, sub, sizeof(sub)) < 0) {
		snprintf(why, size, "%s%s%s", config_path ? config_path : "", config_path ? ": " : "", sub);
		return -EINVAL;
	}
	/* Pyroscope reads pprof: the conversion is on when it is. */
	if (st->pyroscope_url)
		st->exporter = "pprof";
	return 0;
}

/*
 * The settings (build_globals()) and the file's sections, each the settings with its own
 * keys over them (sections.h): 0 and *ret (the caller's), or -errno with why.
 */
static int build_settings(const struct agent *agent, struct settings *st, struct sections **ret, char *why,
			  size_t size)
{
	struct sections *secs;
	int r;

	r = sections__new(&secs);
	if (r < 0) {
		snprintf(why, size, "out of memory");
		return r;
	}
	r = build_globals(agent, st, secs, why, size);
	if (r == 0)
		r = sections__resolve(secs, st, agent->config_path, why, size);
	if (r < 0) {
		sections__free(secs);
		return r;
	}
	*ret = secs;
	return 0;
}

#define SECTIONS_FIRST_MATCH "the first whose rule matches a process gives it its settings"

/* Section i of config_path's in one line: "FILE:LINE: [select RULE] KEY = VALUE, ...". */
static const char *describe_section(const char *config_path, const struct sections *secs, unsigned i, char *buf,
				    size_t size)
{
	char keys[512];

	sections__describe(secs, i, keys, sizeof(keys));
	snprintf(buf, size, "%s:%u: [select %s] %s", config_path, sections__line(secs, i), sections__rule(secs, i),
		 keys);
	return buf;
}

/* config_path's sections in the log, one line each (none: no line). */
static void log_sections(const char *config_path, const struct sections *secs)
{
	unsigned n = sections__count(secs);
	char line[1024];

	if (n)
		log_info("%u section%s in %s, %s:", n, n == 1 ? "" : "s", config_path, SECTIONS_FIRST_MATCH);
	for (unsigned i = 0; i < n; i++)
		log_info("  %s", describe_section(config_path, secs, i, line, sizeof(line)));
}

/* The command line: each setting's key is its long option. Sets the agent's settings and what a
 * reload reads again; returns the file's sections. */
static struct sections *parse_args(struct agent *agent, int argc, char **argv)
{
	struct sections *secs = NULL;
	struct option opts[96 + 5];
	const struct setting_def *defs;
	bool check_only = false;
	size_t ndefs, n = 0;
	char why[1024];
	int opt;

	defs = settings_defs(&ndefs);
	for (size_t i = 0; i < ndefs && n < 96; i++)
		opts[n++] = (struct option){ defs[i].key, defs[i].flag ? no_argument : required_argument, NULL,
					     OPT_SETTING + (int)i };
	opts[n++] = (struct option){ "version", no_argument, NULL, OPT_VERSION };
	opts[n++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	opts[n++] = (struct option){ "config", required_argument, NULL, OPT_CONFIG };
	opts[n++] = (struct option){ "check-config", no_argument, NULL, OPT_CHECK_CONFIG };
	opts[n] = (struct option){ 0 };
	agent->arg_settings = calloc((size_t)argc + 1, sizeof(*agent->arg_settings));
	if (!agent->arg_settings || config_pool__new(&agent->config_pool) < 0) {
		fprintf(stderr, "inspectd: out of memory\n");
		exit(1);
	}

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_VERSION:
			printf("inspectd %s\n", INSPECTD_VERSION);
			exit(0);
		case OPT_HELP:
			fputs(usage, stdout);
			exit(0);
		case OPT_CONFIG:
			agent->config_path = optarg;
			break;
		case OPT_CHECK_CONFIG:
			check_only = true;
			break;
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			if (opt < OPT_SETTING || (size_t)(opt - OPT_SETTING) >= ndefs)
				usage_error("unknown option '%s'", argv[optind - 1]);
			agent->arg_settings[agent->n_arg_settings++] =
				(struct arg_setting){ &defs[opt - OPT_SETTING], optarg };
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (check_only && !agent->config_path)
		usage_error("--check-config needs --config FILE");
	if (build_settings(agent, &agent->settings, &secs, why, sizeof(why)) < 0)
		usage_error("%s", why);
	if (check_only) {
		unsigned n_secs = sections__count(secs);

		if (!n_secs)
			printf("%s: ok\n", agent->config_path);
		else
			printf("%s: ok, %u section%s, %s:\n", agent->config_path, n_secs, n_secs == 1 ? "" : "s",
			       SECTIONS_FIRST_MATCH);
		for (unsigned i = 0; i < n_secs; i++)
			printf("  %s\n", describe_section(agent->config_path, secs, i, why, sizeof(why)));
		sections__free(secs);
		exit(0);
	}
	log_set_level((enum log_level)agent->settings.log_level);
	return secs;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/*
 * What a reload cannot change: what the agent set up at start (its folders, sockets, the
 * kernel's signal mask, the exporters, the queue's limits). NULL when next changes none of
 * them, else the first one's name.
 */
static const char *restart_needed(const struct settings *cur, const struct settings *next)
{
	const struct signal_setting *sigs;
	size_t nsigs;

	/* The kernel's filter is set at load (settings_trigger_sigmask()). */
	sigs = settings_signals(&nsigs);
	for (size_t i = 0; i < nsigs; i++)
		if (settings_signal(cur, &sigs[i]) != settings_signal(next, &sigs[i]))
			return sigs[i].key;
	if (!same_str(cur->output_dir, next->output_dir))
		return "output-dir";
	if (!same_str(cur->state_dir, next->state_dir))
		return "state-dir";
	if (!same_str(cur->host_root, next->host_root))
		return "host-root";
	if (!same_str(cur->exporter, next->exporter))
		return "pprof";
	if (cur->max_profile_bytes != next->max_profile_bytes)
		return "max-profile-size";
	if (cur->output_quota_bytes != next->output_quota_bytes)
		return "spool-max-bytes";
	if (cur->rss_watch_always != next->rss_watch_always)
		return "rss-watch";
	if (!same_str(cur->api_socket, next->api_socket) || !same_str(cur->api_listen, next->api_listen) ||
	    !same_str(cur->api_token_file, next->api_token_file))
		return "api-socket, api-listen or api-token-file";
	if (cur->nmatch != next->nmatch)
		return "match";
	for (int i = 0; i < cur->nmatch; i++)
		if (!same_str(cur->match[i], next->match[i]))
			return "match";
	if (cur->max_concurrent != next->max_concurrent || cur->max_per_container != next->max_per_container ||
	    cur->max_per_container_hour != next->max_per_container_hour)
		return "max-concurrent, max-concurrent-per-container or max-captures-per-container-per-hour";
	if (cur->keep_local != next->keep_local || cur->export_retry_max_usec != next->export_retry_max_usec ||
	    cur->export_retry_initial_usec != next->export_retry_initial_usec ||
	    !same_str(cur->s3_bucket, next->s3_bucket) || !same_str(cur->s3_region, next->s3_region) ||
	    !same_str(cur->s3_endpoint, next->s3_endpoint) || !same_str(cur->s3_prefix, next->s3_prefix) ||
	    cur->s3_path_style != next->s3_path_style || cur->s3_part_size != next->s3_part_size ||
	    !same_str(cur->pyroscope_url, next->pyroscope_url) || !same_str(cur->pyroscope_app, next->pyroscope_app) ||
	    !same_str(cur->pyroscope_user, next->pyroscope_user) ||
	    !same_str(cur->pyroscope_password_file, next->pyroscope_password_file) ||
	    !same_str(cur->pyroscope_token_file, next->pyroscope_token_file) ||
	    !same_str(cur->pyroscope_tenant, next->pyroscope_tenant))
		return "an exporter's settings (s3-*, pyroscope-*, keep-local, export-retry-*)";
	if (cur->keep_capabilities != next->keep_capabilities)
		return "keep-capabilities";
	if (cur->no_syscall_filter != next->no_syscall_filter)
		return "no-syscall-filter";
	return NULL;
}

/* SIGHUP, coalesced: the file read again, applied if it parses and changes nothing a
 * restart must; else one line, and the running configuration stays. */
static void reload(lws_sorted_usec_list_t *sul)
{
	struct agent *agent = lws_container_of(sul, struct agent, reload_sul);
	struct sections *secs;
	struct settings next;
	const char *key;
	char why[1024];

	agent->reload_pending = false;
	if (build_settings(agent, &next, &secs, why, sizeof(why)) < 0) {
		log_error("reload refused: %s; the running configuration stays", why);
		return;
	}
	key = restart_needed(&agent->settings, &next);
	if (key) {
		sections__free(secs);
		log_error("reload refused: %s: %s cannot change without a restart; the running configuration stays",
			  agent->config_path, key);
		return;
	}
	/* Captures running keep the settings they started with (a copy); what follows reads these. */
	agent->settings = next;
	log_set_level((enum log_level)agent->settings.log_level);
	log_info("configuration reloaded from %s", agent->config_path);
	log_sections(agent->config_path, secs);
	dispatcher__reload(agent->dispatcher, secs);
}

/* ---- file descriptors adopted into the lws loop ---- */

struct fd_handler {
	int fd;
	void (*readable)(struct fd_handler *h);
	void *ctx;
};

static int callback_fd(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct fd_handler *h = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		if (h)
			h->readable(h);
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		return 0;
	default:
		return 0;
	}
}

static void ring_buffer_readable(struct fd_handler *h)
{
	int r = tracker__consume(h->ctx);

	if (r < 0)
		log_warn("reading the ring buffer: %s, ignoring", strerror(-r));
}

static void signalfd_readable(struct fd_handler *h)
{
	struct agent *agent = h->ctx;
	struct signalfd_siginfo si;

	while (read(h->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (!agent->config_path) {
				log_info("SIGHUP received: no --config file, nothing to reload, ignoring");
				continue;
			}
			/* A storm of them is one reload, a quarter of a second after the first. */
			if (!agent->reload_pending && agent->dispatcher) {
				agent->reload_pending = true;
				lws_sul_schedule(agent->loop_ctx, 0, &agent->reload_sul, reload, 250 * LWS_US_PER_MS);
			}
			continue;
		}
		if (agent->exiting) {
			log_warn("second signal: exiting now, captures in progress are abandoned");
			agent->exiting = 2;
			return;
		}
		log_info("signal %d received: stopping captures in progress and exiting", si.ssi_signo);
		agent->exiting = 1;
		agent->shutdown_deadline = lws_now_usecs() + SHUTDOWN_GRACE_USEC;
		dispatcher__shutdown(agent->dispatcher);
	}
}

static void spool_readable(struct fd_handler *h)
{
	spool__dispatch(h->ctx);
}

static void exports_readable(struct fd_handler *h)
{
	exports__dispatch(h->ctx);
}

static int adopt_fd(struct lws_vhost *vh, struct fd_handler *h)
{
	lws_sock_file_fd_type u = { .filefd = h->fd };
	struct lws *wsi = lws_adopt_descriptor_vhost(vh, LWS_ADOPT_RAW_FILE_DESC, u, "inspectd-fd", NULL);

	if (!wsi)
		return -EINVAL;
	lws_set_opaque_user_data(wsi, h);
	return 0;
}

static void lws_log(int level, const char *line)
{
	size_t n = strlen(line);

	while (n && line[n - 1] == '\n')
		n--;
	log_emit(level == LLL_ERR ? LOG_LEVEL_WARN : LOG_LEVEL_DEBUG, "lws: %.*s", (int)n, line);
}

#define HOST_LOCK "/run/inspectd.lock"

/*
 * One agent per host: two would both send SIGUSR1 to the same processes and race for
 * their inspectors. The lock is held for the agent's life (the kernel drops it however
 * the agent ends); the file names the holder. Returns the fd, or -1 after saying why.
 */
static int take_host_lock(void)
{
	char holder[32] = "";
	ssize_t n;
	int fd;

	fd = open(HOST_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		log_error("cannot open %s: %m", HOST_LOCK);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			log_error("cannot lock %s: %m", HOST_LOCK);
		} else {
			n = pread(fd, holder, sizeof(holder) - 1, 0);
			holder[n > 0 ? n : 0] = '\0';
			holder[strcspn(holder, "\n")] = '\0';
			log_error("another inspectd (pid %s) is running on this host: exiting", holder[0] ? holder : "?");
		}
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) < 0 || dprintf(fd, "%d\n", (int)getpid()) < 0)
		log_warn("cannot write our pid to %s: %m", HOST_LOCK);
	return fd;
}

/* This boot's id (a UUID), which meta.json records: pids and times are this boot's. */
static void read_boot_id(char *buf, size_t size)
{
	char *text = NULL;
	ssize_t n = procfs_read_whole_path("/proc/sys/kernel/random/boot_id", 64, &text);

	buf[0] = '\0';
	if (n == 37 && text[36] == '\n' && strspn(text, "0123456789abcdef-") == 36 && size > 36) {
		memcpy(buf, text, 36);
		buf[36] = '\0';
	} else {
		log_warn("cannot read this boot's id from /proc/sys/kernel/random/boot_id, ignoring");
	}
	free(text);
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	/* One pidfd per tracked process. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* "heap signal SIGWINCH, cpu signal SIGURG[, KIND signal SIG]...": the signals configured. */
static const char *describe_signals(const struct settings *settings, char *buf, size_t size)
{
	const struct signal_setting *sigs;
	size_t nsigs, n = 0;

	buf[0] = '\0';
	sigs = settings_signals(&nsigs);
	for (size_t i = 0; i < nsigs && n < size; i++) {
		int sig = settings_signal(settings, &sigs[i]);
		char name[32];

		if (sig)
			n += (size_t)snprintf(buf + n, size - n, "%s%s signal %s", n ? ", " : "",
					      profile_kind_name((enum profile_kind)sigs[i].kind),
					      options_signal_name(sig, name, sizeof(name)));
	}
	return buf;
}

/* A trigger signal that terminates by default kills a process that does not catch it. */
static void warn_terminating_signals(const struct settings *settings)
{
	const struct signal_setting *sigs;
	size_t nsigs;

	sigs = settings_signals(&nsigs);
	for (size_t i = 0; i < nsigs; i++) {
		int sig = settings_signal(settings, &sigs[i]);
		char name[32];

		if (sig && !options_signal_default_ignored(sig))
			log_warn("--%s %s: a trigger signal whose default action terminates will kill processes "
				 "that do not catch it: the agent does not send it, but whoever triggers does",
				 sigs[i].key, options_signal_name(sig, name, sizeof(name)));
	}
}

static int read_sigusr1_handler(void *ctx, int pidfd, pid_t pid, uint64_t *handler)
{
	return tracker__sigusr1_handler(ctx, pidfd, (uint32_t)pid, handler);
}

/* The kernel's events go to the dispatcher, made after the BPF programs are loaded. */
static void tracker_event(void *ctx, const struct inspectd_event *e)
{
	struct agent *agent = ctx;

	if (agent->dispatcher)
		dispatcher__handle_event(agent->dispatcher, e);
}

/*
 * Every capability the running agent does not need, gone (privileges.h): on this thread,
 * before any other exists, so that every thread has only what it leaves. The start-up steps
 * after it (folders, closing inspectors a killed agent left open, the API socket) run with
 * the running set too. 0, or -1 after saying why.
 */
static int drop_capabilities(const struct settings *settings)
{
	struct privileges_state now;
	uint64_t keep = privileges_needed(settings->api_listen);
	char names[512], extra[512];
	int r;

	if (settings->keep_capabilities) {
		log_info("--keep-capabilities: every capability kept");
		return 0;
	}
	r = privileges_drop(keep, &now);
	if (r < 0) {
		log_error("cannot drop capabilities: %s", r == -EBUSY ? "a thread is already running" : strerror(-r));
		return -1;
	}
	log_info("capabilities kept: %s; no_new_privs set", privileges_names(now.effective, names, sizeof(names)));
	if (now.bounding & ~now.effective)
		log_info("the capability bounding set keeps %s: lowering it needs CAP_SETPCAP, which the agent was "
			 "started without (no_new_privs and the system call filter's refusal of execve() keep them "
			 "out of reach)", privileges_names(now.bounding & ~now.effective, extra, sizeof(extra)));
	if (keep & ~now.effective)
		log_warn("started without %s, which the agent uses: captures needing it will fail, ignoring",
			 privileges_names(keep & ~now.effective, extra, sizeof(extra)));
	return 0;
}

/* A refused system call, logged at its 1st, 2nd, 4th, 8th... refusal. */
static void log_refused(void *ctx, const char *name, int nr, uint64_t total)
{
	if ((total & (total - 1)) == 0)
		log_warn("the system call filter refused %s (%d) with EPERM, %llu time%s so far: please report it, "
			 "ignoring", name, nr, (unsigned long long)total, total == 1 ? "" : "s");
}

static void syscall_filter_readable(struct fd_handler *h)
{
	syscall_filter__each_refused(h->ctx, log_refused, NULL);
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info = { 0 };
	/* One vhost for everything; HTTP requests go to its first protocol, the API. */
	struct lws_protocols protocols[5] = { 0 };
	struct agent agent = { 0 };
	const struct settings *settings = &agent.settings;
	struct tracker_config tc = { 0 };
	struct capture_env cenv = { 0 };
	struct fd_handler rb_handler = { .readable = ring_buffer_readable };
	struct fd_handler sig_handler = { .fd = -1, .readable = signalfd_readable };
	struct fd_handler spool_handler = { .readable = spool_readable };
	struct fd_handler exports_handler = { .readable = exports_readable };
	struct fd_handler filter_handler = { .readable = syscall_filter_readable };
	struct syscall_filter *filter = NULL;
	struct exports *exports = NULL;
	char why[512];
	struct lws_context *ctx = NULL;
	struct api *api = NULL;
	struct cleanup *cleanup;
	struct lws_vhost *vh;
	sigset_t mask;
	struct sections *secs;
	int err = 1, n, lock, r;
	bool curl_used;

	secs = parse_args(&agent, argc, argv);
	r = tracker_kernel_btf();
	if (r < 0) {
		log_error("cannot read this kernel's BTF, %s: %s: inspectd's BPF programs need a kernel built "
			  "with CONFIG_DEBUG_INFO_BTF=y; exiting", TRACKER_KERNEL_BTF, strerror(-r));
		err = EXIT_NO_BTF;
		goto out_early;
	}
	/* Before any thread exists (setns() moves the calling thread only). */
	r = cgroup_join_namespace_of(1);
	if (r > 0)
		log_info("joined the cgroup namespace of pid 1: cgroups are named as the host names them");
	else if (r < 0)
		log_warn("cannot join the cgroup namespace of pid 1: %s: the cgroups (containers, memory limits) "
			 "of processes outside the agent's own are unknown, ignoring", strerror(-r));
	lock = take_host_lock();
	if (lock < 0)
		goto out_early;
	warn_terminating_signals(settings);

	signal(SIGPIPE, SIG_IGN);
	/* Before any thread: the exporters' transfers run on threads of their own. Only for a
	 * remote exporter (a reload cannot add one): libcurl is not even loaded otherwise, 4 MB
	 * of the agent's RSS (curl_lib.h). */
	curl_used = settings->s3_bucket || settings->pyroscope_url;
	if (curl_used && curl_lib_load() < 0) {
		log_error("cannot load libcurl for the remote exporters: %s", curl_lib_error());
		curl_used = false;      /* nothing of it to clean up */
		goto out;
	}
	if (curl_used && libcurl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("cannot initialise libcurl");
		curl_used = false;
		goto out;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sig_handler.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_handler.fd < 0) {
		log_error("signalfd: %m");
		goto out;
	}
	raise_fd_limit();

	/* BPF first: loading needs more than running does, and no thread may exist yet when
	 * the capabilities go. Events wait in the ring buffers until the loop reads them. */
	tc.match = settings->match;
	tc.nmatch = settings->nmatch;
	tc.trigger_sigmask = settings_trigger_sigmask(settings);
	agent.tracker = tracker__new(&tc, tracker_event, &agent);
	if (!agent.tracker)
		goto out;
	if (drop_capabilities(settings) < 0)
		goto out;

	cenv.settings = settings;
	if (cgroup_detect_roots(&cenv.cgroup_roots) < 0)
		log_warn("no cgroup hierarchy found: a snapshot's headroom is judged against the host's memory only");
	{
		/* With a quota, the agent's oldest profiles make room for new ones. */
		struct spool_limits lim = { .file_max = settings->max_profile_bytes,
					    .quota = settings->output_quota_bytes, .retain = meta_is_file_base };
		r = spool__open(settings->output_dir, &lim, &cenv.spool);

		if (r == -EPERM) {
			log_error("output folder %s is not root's alone (owned by another user, or writable by "
				  "group or others): refused, a tenant could plant files there", settings->output_dir);
			goto out;
		}
		if (r < 0) {
			log_error("cannot open the output folder %s: %s", settings->output_dir, strerror(-r));
			goto out;
		}
	}
	if (gethostname(cenv.hostname, sizeof(cenv.hostname) - 1) < 0)
		snprintf(cenv.hostname, sizeof(cenv.hostname), "unknown");
	/* Before any commit: what is still to deliver is read from the folder. */
	r = exports__new(settings, cenv.hostname, cenv.spool, &exports, why, sizeof(why));
	if (r < 0) {
		log_error("%s", why);
		goto out;
	}
	read_boot_id(cenv.boot_id, sizeof(cenv.boot_id));

	lws_set_log_level(getenv("INSPECTD_LWS_DEBUG") ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO | LLL_DEBUG
			  : log_get_level() >= LOG_LEVEL_DEBUG ? LLL_ERR | LLL_WARN : LLL_ERR, lws_log);
	info.port = CONTEXT_PORT_NO_LISTEN;
	/* lws reads a socket into this buffer: at its default (4096) a 450 MiB heap snapshot
	 * took 115 000 reads and a quarter of the agent's CPU in the kernel (tests/bench/snapshot.js). */
	info.pt_serv_buf_size = 65536;
	protocols[0] = api_protocol;
	protocols[1] = api_listen_protocol;
	protocols[2] = (struct lws_protocols){ .name = "inspectd-fd", .callback = callback_fd };
	protocols[3] = inspector_session_protocol;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	ctx = lws_create_context(&info);
	if (!ctx) {
		log_error("cannot create the event loop");
		goto out;
	}
	cenv.ctx = ctx;
	agent.loop_ctx = ctx;
	vh = lws_create_vhost(ctx, &info);      /* inspector clients and adopted fds */

	/* Before anything is served: close what an agent killed mid-capture left open. */
	r = ledger__open(settings->state_dir, &cenv.ledger);
	if (r == -EPERM) {
		log_error("%s/opened is not root's alone (owned by another user, or writable by group or "
			  "others): refused, records could be planted there", settings->state_dir);
		goto out;
	}
	if (r < 0) {
		/* Without it, an agent killed mid-capture would leave inspectors open. */
		log_error("cannot create %s/opened, where inspectors being opened are recorded: %s",
			  settings->state_dir, strerror(-r));
		goto out;
	}
	cleanup = vh ? cleanup__start(&cenv, true, NULL, NULL) : NULL;
	while (cleanup && !cleanup__done(cleanup))
		if (lws_service(ctx, 0) < 0)
			break;
	cleanup__free(cleanup);

	log_sections(agent.config_path, secs);
	agent.dispatcher = dispatcher__new(&cenv, secs);
	secs = NULL;            /* the dispatcher's */
	if (!agent.dispatcher)
		goto out;
	dispatcher__set_tracker(agent.dispatcher, agent.tracker);
	/* Before any capture copies the env: whose handler SIGUSR1 runs, from the kernel. */
	if (sighandlers__new(read_sigusr1_handler, agent.tracker, &cenv.sighandlers) < 0)
		goto out;

	rb_handler.fd = tracker__fd(agent.tracker);
	rb_handler.ctx = agent.tracker;
	sig_handler.ctx = &agent;
	spool_handler.fd = spool__fd(cenv.spool);
	spool_handler.ctx = cenv.spool;
	exports_handler.fd = exports__fd(exports);
	exports_handler.ctx = exports;
	if (!vh || adopt_fd(vh, &rb_handler) < 0 || adopt_fd(vh, &sig_handler) < 0 ||
	    adopt_fd(vh, &spool_handler) < 0 || (exports_handler.fd >= 0 && adopt_fd(vh, &exports_handler) < 0)) {
		log_error("cannot add the ring buffer, signals, the spool and the exporters to the event loop");
		goto out;
	}
	api = api__new(ctx, vh, agent.dispatcher, settings, cenv.spool, exports);
	if (!api)
		goto out;
	n = tracker__scan_proc(agent.tracker);
	/* Started: from here on, only the system calls the running agent makes, on every thread. */
	if (settings->no_syscall_filter) {
		log_info("--no-syscall-filter: no system call filter");
	} else {
		r = syscall_filter__install(&filter);
		if (r < 0) {
			log_error("cannot install the system call filter: %s", strerror(-r));
			goto out;
		}
		filter_handler.fd = syscall_filter__fd(filter);
		filter_handler.ctx = filter;
		if (filter_handler.fd >= 0 && adopt_fd(vh, &filter_handler) < 0) {
			log_error("cannot add the system call filter's counter to the event loop");
			goto out;
		}
		api__set_syscall_filter(api, filter);
		if (!syscall_filter__counting(filter))
			log_warn("a thread blocks SIGSYS: the system call filter refuses with EPERM uncounted, ignoring");
	}
	{
		char signals[256];

		log_info("inspectd %s ready: %d node processes running, %s, output %s", INSPECTD_VERSION,
			 n < 0 ? 0 : n, describe_signals(settings, signals, sizeof(signals)), settings->output_dir);
	}

	while (agent.exiting < 2) {
		/* Its captures over and no API answer half-sent (a client would read it cut short). */
		if (agent.exiting && ((dispatcher__idle(agent.dispatcher) && !api__responding(api)) ||
				      lws_now_usecs() > agent.shutdown_deadline))
			break;
		if (lws_service(ctx, 0) < 0)
			break;
	}
	if (!dispatcher__idle(agent.dispatcher))
		log_warn("exiting with captures still in progress");
	err = 0;
out:
	api__free(api);
	dispatcher__free(agent.dispatcher);
	tracker__free(agent.tracker);
	sighandlers__free(cenv.sighandlers);
	if (ctx) {
		lws_sul_cancel(&agent.reload_sul);
		lws_context_destroy(ctx);
	}
	spool__free(cenv.spool);        /* waits for the commits in flight */
	exports__free(exports);         /* stops the uploads under way: they stay pending */
	ledger__free(cenv.ledger);
	close(sig_handler.fd);
	close(lock);
	if (curl_used)
		libcurl.global_cleanup();
	syscall_filter__free(filter);
out_early:              /* before the host lock: nothing else made yet */
	sections__free(secs);   /* not handed to a dispatcher */
	config_pool__free(agent.config_pool);
	free(agent.arg_settings);
	return err;
}
