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
#include "cleanup.h"
#include "dispatcher.h"
#include "spool.h"
#include "inspector_session.h"
#include "ledger.h"
#include "log.h"
#include "options.h"
#include "profile.h"
#include "settings.h"
#include "tracker.h"

#define INSPECTD_VERSION "0.1.0"
#define EXIT_USAGE 2
#define SHUTDOWN_GRACE_USEC (15 * LWS_US_PER_SEC)

static struct settings env = {
	.heap_signal = SIGWINCH,
	.cpu_signal = SIGURG,
	.heap_sampling_interval = 131072,
	.cpu_sampling_interval = 10000,
	.max_duration_usec = 600ull * 1000000,
	.attach_timeout_usec = 3ull * 1000000,
	.command_timeout_usec = 10ull * 1000000,
	.output_dir = "/var/lib/inspectd",
	.max_profile_bytes = 512ull << 20,
	.triggers = {
		.cpu_window_usec = 15ull * 1000000,
		.cooldown_usec = 600ull * 1000000,
	},
	.threshold_action = PROFILE_HEAP,
	.capture_usec = 30ull * 1000000,
	.max_captures_per_hour = 6,
	.max_concurrent = 4,
	.api_socket = "/run/inspectd/api.sock",
	.state_dir = "/run/inspectd",
	.match = { "node", "nodejs" },
	.nmatch = 2,
};

static const char usage[] =
"Usage: inspectd [OPTION]...\n"
"Profile any node process on this host, without changing it: a signal sent to\n"
"the process starts a heap or CPU profile, the same signal again stops it and\n"
"writes the profile to the output folder. Runs as root; needs BPF and BTF.\n"
"\n"
"Options:\n"
"  --heap-signal SIG             toggles heap sampling (default WINCH)\n"
"  --cpu-signal SIG              toggles CPU profiling (default URG)\n"
"                                SIG: a name with or without SIG, or a number\n"
"  --heap-sampling-interval BYTES\n"
"                                average bytes between heap samples (default 131072)\n"
"  --cpu-sampling-interval USEC  microseconds between CPU samples (default 10000;\n"
"                                1000 sees finer, at about 15% of a busy service)\n"
"  --max-duration SECONDS        stop and export a capture nobody stopped (default 600)\n"
"  --attach-timeout MS           wait for the inspector to open (default 3000)\n"
"  --output-dir DIR              where profiles go (default /var/lib/inspectd)\n"
"  --max-profile-size SIZE       the largest profile a target may send (default 512M)\n"
"  --output-quota SIZE           bytes the output folder may hold; further profiles\n"
"                                fail (default: no quota)\n"
"  --state-dir DIR               the record of inspectors being opened, so that a\n"
"                                restarted agent closes what a killed one left open\n"
"                                (default /run/inspectd)\n"
"  --match NAME                  also track executables named NAME (repeatable;\n"
"                                node and nodejs are always tracked)\n"
"\n"
"Threshold triggers (judged in the kernel on rss_stat; CPU once a second):\n"
"  --rss-threshold SIZE          capture a process whose RSS reaches SIZE (512M, 1.5G)\n"
"  --rss-growth SIZE[/WINDOW]    ... whose RSS grew by SIZE since first seen or last\n"
"                                captured, or within WINDOW (300M/10m)\n"
"  --limit-percent N             ... whose RSS reaches N%% of its cgroup's memory limit\n"
"  --cpu-threshold PERCENT       ... whose CPU use over --cpu-window reaches PERCENT\n"
"                                of one core\n"
"  --cpu-window DURATION         the CPU window (default 15s)\n"
"  --threshold-action heap|cpu   what a threshold captures (default heap)\n"
"  --capture-seconds N           how long a threshold capture runs (default 30)\n"
"  --cooldown DURATION           a process is not captured again by a threshold\n"
"                                sooner than this (default 10m)\n"
"  --max-captures-per-hour N     threshold captures on the whole host (default 6)\n"
"  --max-concurrent N            captures at once; the rest wait in order (default 4)\n"
"  --rss-watch near|always       judge RSS on every page fault only while a process\n"
"                                is near a mark, else once a second (default near);\n"
"                                always: on every fault, at a cost to every process\n"
"\n"
"The agent's API (HTTP, JSON):\n"
"  --api-socket PATH             Unix socket, mode 0600 (default /run/inspectd/api.sock)\n"
"  --api-listen ADDR:PORT        also listen on TCP; requires --api-token-file\n"
"  --api-token-file FILE         bearer token TCP clients must send\n"
"  --log-level LEVEL             error, warn, info (default) or debug\n"
"  --version                     print the version and exit\n"
"  --help                        print this help and exit\n"
"\n"
"Outputs, in the output folder (0700, files 0600):\n"
"  heap-profile-<pid>-<UTC time>.heapprofile   load in Chrome DevTools or speedscope\n"
"  cpu-profile-<pid>-<UTC time>.cpuprofile\n"
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
"  inspectd --cpu-threshold 90 --cpu-window 15s --threshold-action cpu\n"
"  inspectctl capture 4242 --kind heap --seconds 30\n";

static struct dispatcher *dispatcher;
static struct tracker *tracker;
static volatile sig_atomic_t exiting;
static lws_usec_t shutdown_deadline;

enum {
	OPT_HEAP_SIGNAL = 256,
	OPT_CPU_SIGNAL,
	OPT_HEAP_INTERVAL,
	OPT_CPU_INTERVAL,
	OPT_MAX_DURATION,
	OPT_ATTACH_TIMEOUT,
	OPT_MAX_PROFILE_SIZE,
	OPT_OUTPUT_QUOTA,
	OPT_OUTPUT_DIR,
	OPT_MATCH,
	OPT_LOG_LEVEL,
	OPT_RSS_THRESHOLD,
	OPT_RSS_GROWTH,
	OPT_LIMIT_PERCENT,
	OPT_CPU_THRESHOLD,
	OPT_CPU_WINDOW,
	OPT_THRESHOLD_ACTION,
	OPT_CAPTURE_SECONDS,
	OPT_COOLDOWN,
	OPT_MAX_PER_HOUR,
	OPT_MAX_CONCURRENT,
	OPT_RSS_WATCH,
	OPT_API_SOCKET,
	OPT_API_LISTEN,
	OPT_API_TOKEN_FILE,
	OPT_STATE_DIR,
	OPT_VERSION,
	OPT_HELP,
};

static const struct option long_options[] = {
	{ "heap-signal", required_argument, NULL, OPT_HEAP_SIGNAL },
	{ "cpu-signal", required_argument, NULL, OPT_CPU_SIGNAL },
	{ "heap-sampling-interval", required_argument, NULL, OPT_HEAP_INTERVAL },
	{ "cpu-sampling-interval", required_argument, NULL, OPT_CPU_INTERVAL },
	{ "max-duration", required_argument, NULL, OPT_MAX_DURATION },
	{ "attach-timeout", required_argument, NULL, OPT_ATTACH_TIMEOUT },
	{ "max-profile-size", required_argument, NULL, OPT_MAX_PROFILE_SIZE },
	{ "output-quota", required_argument, NULL, OPT_OUTPUT_QUOTA },
	{ "output-dir", required_argument, NULL, OPT_OUTPUT_DIR },
	{ "match", required_argument, NULL, OPT_MATCH },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "rss-threshold", required_argument, NULL, OPT_RSS_THRESHOLD },
	{ "rss-growth", required_argument, NULL, OPT_RSS_GROWTH },
	{ "limit-percent", required_argument, NULL, OPT_LIMIT_PERCENT },
	{ "cpu-threshold", required_argument, NULL, OPT_CPU_THRESHOLD },
	{ "cpu-window", required_argument, NULL, OPT_CPU_WINDOW },
	{ "threshold-action", required_argument, NULL, OPT_THRESHOLD_ACTION },
	{ "capture-seconds", required_argument, NULL, OPT_CAPTURE_SECONDS },
	{ "cooldown", required_argument, NULL, OPT_COOLDOWN },
	{ "max-captures-per-hour", required_argument, NULL, OPT_MAX_PER_HOUR },
	{ "max-concurrent", required_argument, NULL, OPT_MAX_CONCURRENT },
	{ "rss-watch", required_argument, NULL, OPT_RSS_WATCH },
	{ "api-socket", required_argument, NULL, OPT_API_SOCKET },
	{ "api-listen", required_argument, NULL, OPT_API_LISTEN },
	{ "api-token-file", required_argument, NULL, OPT_API_TOKEN_FILE },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 },
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

static int parse_trigger_signal(const char *arg)
{
	int sig;

	if (options_parse_signal(arg, &sig) < 0)
		usage_error("invalid signal '%s'", arg);
	if (sig == SIGKILL || sig == SIGSTOP || sig == SIGUSR1)
		usage_error("signal '%s' cannot be a trigger (KILL, STOP and USR1 are reserved)", arg);
	return sig;
}

static void parse_args(int argc, char **argv)
{
	uint64_t v;
	int opt, choice;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", long_options, NULL)) != -1) {
		switch (opt) {
		case OPT_HEAP_SIGNAL:
			env.heap_signal = parse_trigger_signal(optarg);
			break;
		case OPT_CPU_SIGNAL:
			env.cpu_signal = parse_trigger_signal(optarg);
			break;
		case OPT_HEAP_INTERVAL:
			if (options_parse_u64(optarg, 1024, 1ull << 30, &v) < 0)
				usage_error("invalid --heap-sampling-interval '%s' (1024 to 1073741824 bytes)", optarg);
			env.heap_sampling_interval = v;
			break;
		case OPT_CPU_INTERVAL:
			if (options_parse_u64(optarg, 50, 1000000, &v) < 0)
				usage_error("invalid --cpu-sampling-interval '%s' (50 to 1000000 us)", optarg);
			env.cpu_sampling_interval = v;
			break;
		case OPT_MAX_DURATION:
			if (options_parse_u64(optarg, 1, 86400, &v) < 0)
				usage_error("invalid --max-duration '%s' (1 to 86400 seconds)", optarg);
			env.max_duration_usec = v * 1000000;
			break;
		case OPT_ATTACH_TIMEOUT:
			if (options_parse_u64(optarg, 10, 60000, &v) < 0)
				usage_error("invalid --attach-timeout '%s' (10 to 60000 ms)", optarg);
			env.attach_timeout_usec = v * 1000;
			break;
		case OPT_OUTPUT_DIR:
			if (optarg[0] != '/')
				usage_error("--output-dir '%s' must be an absolute path", optarg);
			env.output_dir = optarg;
			break;
		case OPT_MATCH:
			if (options_check_match_name(optarg) < 0)
				usage_error("invalid --match '%s' (an executable's basename, 1 to 15 characters)",
					    optarg);
			if (env.nmatch >= INSPECTD_MAX_MATCH)
				usage_error("too many --match names (at most %d)", INSPECTD_MAX_MATCH - 2);
			env.match[env.nmatch++] = optarg;
			break;
		case OPT_LOG_LEVEL: {
			enum log_level level;

			if (log_level_from_string(optarg, &level) < 0)
				usage_error("invalid --log-level '%s' (error, warn, info or debug)", optarg);
			log_set_level(level);
			break;
		}
		case OPT_RSS_THRESHOLD:
			if (options_parse_size(optarg, &env.triggers.rss_threshold) < 0)
				usage_error("invalid --rss-threshold '%s' (a size such as 512M or 1.5G)", optarg);
			break;
		case OPT_RSS_GROWTH:
			if (options_parse_growth(optarg, &env.triggers.rss_growth, &env.triggers.growth_window_usec) < 0)
				usage_error("invalid --rss-growth '%s' (SIZE or SIZE/WINDOW, such as 300M/10m)", optarg);
			break;
		case OPT_LIMIT_PERCENT: {
			double pct;

			if (options_parse_percent(optarg, 100, &pct) < 0 || pct != (unsigned)pct)
				usage_error("invalid --limit-percent '%s' (a whole percentage, 1 to 100)", optarg);
			env.triggers.limit_percent = (unsigned)pct;
			break;
		}
		case OPT_CPU_THRESHOLD:
			if (options_parse_percent(optarg, 100.0 * 1024, &env.triggers.cpu_threshold) < 0)
				usage_error("invalid --cpu-threshold '%s' (percent of one core, such as 90)", optarg);
			break;
		case OPT_CPU_WINDOW:
			if (options_parse_duration(optarg, &v) < 0 || v < 2000000 || v > 3600ull * 1000000)
				usage_error("invalid --cpu-window '%s' (2s to 1h)", optarg);
			env.triggers.cpu_window_usec = v;
			break;
		case OPT_RSS_WATCH:
			if (options_parse_choice(optarg, (const char *const[]){ "near", "always", NULL }, &choice) < 0)
				usage_error("invalid --rss-watch '%s' (near or always)", optarg);
			env.rss_watch_always = choice == 1;
			break;
		case OPT_THRESHOLD_ACTION:
			if (options_parse_choice(optarg, (const char *const[]){ "heap", "cpu", NULL }, &choice) < 0)
				usage_error("invalid --threshold-action '%s' (heap or cpu)", optarg);
			env.threshold_action = choice == 0 ? PROFILE_HEAP : PROFILE_CPU;
			break;
		case OPT_CAPTURE_SECONDS:
			if (options_parse_u64(optarg, 1, 86400, &v) < 0)
				usage_error("invalid --capture-seconds '%s' (1 to 86400)", optarg);
			env.capture_usec = v * 1000000;
			break;
		case OPT_COOLDOWN:
			if (options_parse_duration(optarg, &v) < 0 || v > 7 * 86400ull * 1000000)
				usage_error("invalid --cooldown '%s' (a duration such as 10m, at most 7d)", optarg);
			env.triggers.cooldown_usec = v;
			break;
		case OPT_MAX_PER_HOUR:
			if (options_parse_u64(optarg, 1, RATE_LIMIT_MAX, &v) < 0)
				usage_error("invalid --max-captures-per-hour '%s' (1 to %d)", optarg, RATE_LIMIT_MAX);
			env.max_captures_per_hour = (unsigned)v;
			break;
		case OPT_MAX_CONCURRENT:
			if (options_parse_u64(optarg, 1, 64, &v) < 0)
				usage_error("invalid --max-concurrent '%s' (1 to 64)", optarg);
			env.max_concurrent = (unsigned)v;
			break;
		case OPT_API_SOCKET:
			if (optarg[0] != '/' || strlen(optarg) >= 100)
				usage_error("--api-socket '%s' must be an absolute path under 100 characters", optarg);
			env.api_socket = optarg;
			break;
		case OPT_API_LISTEN:
			if (!strchr(optarg, ':'))
				usage_error("invalid --api-listen '%s' (ADDR:PORT)", optarg);
			env.api_listen = optarg;
			break;
		case OPT_API_TOKEN_FILE:
			env.api_token_file = optarg;
			break;
		case OPT_MAX_PROFILE_SIZE:
			if (options_parse_size(optarg, &v) < 0 || v < 4096 || v > (4ull << 30))
				usage_error("invalid --max-profile-size '%s' (4K to 4G)", optarg);
			env.max_profile_bytes = v;
			break;
		case OPT_OUTPUT_QUOTA:
			if (options_parse_size(optarg, &v) < 0 || v < (1ull << 20))
				usage_error("invalid --output-quota '%s' (1M or more)", optarg);
			env.output_quota_bytes = v;
			break;
		case OPT_STATE_DIR:
			if (optarg[0] != '/')
				usage_error("--state-dir '%s' must be an absolute path", optarg);
			env.state_dir = optarg;
			break;
		case OPT_VERSION:
			printf("inspectd %s\n", INSPECTD_VERSION);
			exit(0);
		case OPT_HELP:
			fputs(usage, stdout);
			exit(0);
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (env.heap_signal == env.cpu_signal)
		usage_error("--heap-signal and --cpu-signal must differ");
	if (env.api_listen && !env.api_token_file)
		usage_error("--api-listen needs --api-token-file");
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
	int r = tracker__consume(tracker);

	if (r < 0)
		log_warn("reading the ring buffer: %s, ignoring", strerror(-r));
}

static void signalfd_readable(struct fd_handler *h)
{
	struct signalfd_siginfo si;

	while (read(h->fd, &si, sizeof(si)) == sizeof(si)) {
		if (exiting) {
			log_warn("second signal: exiting now, captures in progress are abandoned");
			exiting = 2;
			return;
		}
		log_info("signal %d received: stopping captures in progress and exiting", si.ssi_signo);
		exiting = 1;
		shutdown_deadline = lws_now_usecs() + SHUTDOWN_GRACE_USEC;
		dispatcher__shutdown(dispatcher);
	}
}

static void spool_readable(struct fd_handler *h)
{
	spool__dispatch(h->ctx);
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

/* One vhost for everything; HTTP requests go to its first protocol, the API. Set in main(). */
static struct lws_protocols protocols[5];

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

static void raise_fd_limit(void)
{
	struct rlimit rl;

	/* One pidfd per tracked process. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info = { 0 };
	struct tracker_config tc = { 0 };
	struct capture_env cenv = { 0 };
	struct fd_handler rb_handler = { .readable = ring_buffer_readable };
	struct fd_handler sig_handler = { .readable = signalfd_readable };
	struct fd_handler spool_handler = { .readable = spool_readable };
	struct lws_context *ctx = NULL;
	struct api *api = NULL;
	struct cleanup *cleanup;
	struct lws_vhost *vh;
	sigset_t mask;
	int err = 1, n, lock;

	parse_args(argc, argv);
	lock = take_host_lock();
	if (lock < 0)
		return 1;
	if (!options_signal_default_ignored(env.heap_signal) || !options_signal_default_ignored(env.cpu_signal))
		log_warn("a trigger signal whose default action terminates will kill processes that do not "
			 "catch it: the agent does not send it, but whoever triggers does");

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sig_handler.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_handler.fd < 0) {
		log_error("signalfd: %m");
		return 1;
	}
	raise_fd_limit();

	cenv.settings = &env;
	{
		struct spool_limits lim = { .file_max = env.max_profile_bytes, .quota = env.output_quota_bytes };
		int r = spool__open(env.output_dir, &lim, &cenv.spool);

		if (r == -EPERM) {
			log_error("output folder %s is not root's alone (owned by another user, or writable by "
				  "group or others): refused, a tenant could plant files there", env.output_dir);
			goto out;
		}
		if (r < 0) {
			log_error("cannot open the output folder %s: %s", env.output_dir, strerror(-r));
			goto out;
		}
	}
	if (gethostname(cenv.hostname, sizeof(cenv.hostname) - 1) < 0)
		snprintf(cenv.hostname, sizeof(cenv.hostname), "unknown");

	lws_set_log_level(getenv("INSPECTD_LWS_DEBUG") ? LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO | LLL_DEBUG
			  : log_get_level() >= LOG_LEVEL_DEBUG ? LLL_ERR | LLL_WARN : LLL_ERR, lws_log);
	info.port = CONTEXT_PORT_NO_LISTEN;
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
	vh = lws_create_vhost(ctx, &info);      /* inspector clients and adopted fds */

	/* Before anything is served: close what an agent killed mid-capture left open. */
	cenv.ledger = ledger__open(env.state_dir);
	if (!cenv.ledger) {
		/* Without it, an agent killed mid-capture would leave inspectors open. */
		log_error("cannot create %s/opened, where inspectors being opened are recorded: %m",
			  env.state_dir);
		goto out;
	}
	cleanup = vh ? cleanup__start(&cenv, true, NULL, NULL) : NULL;
	while (cleanup && !cleanup__done(cleanup))
		if (lws_service(ctx, 0) < 0)
			break;
	cleanup__free(cleanup);

	dispatcher = dispatcher__new(&cenv);
	if (!dispatcher)
		goto out;

	tc.match = env.match;
	tc.nmatch = env.nmatch;
	tc.trigger_sigmask = (1ull << env.heap_signal) | (1ull << env.cpu_signal);
	tracker = tracker__new(&tc, dispatcher__handle_event, dispatcher);
	if (!tracker)
		goto out;
	dispatcher__set_tracker(dispatcher, tracker);

	rb_handler.fd = tracker__fd(tracker);
	spool_handler.fd = spool__fd(cenv.spool);
	spool_handler.ctx = cenv.spool;
	if (!vh || adopt_fd(vh, &rb_handler) < 0 || adopt_fd(vh, &sig_handler) < 0 ||
	    adopt_fd(vh, &spool_handler) < 0) {
		log_error("cannot add the ring buffer, signals and the spool to the event loop");
		goto out;
	}
	api = api__new(ctx, vh, dispatcher, &env);
	if (!api)
		goto out;
	n = tracker__scan_proc(tracker);
	{
		char heap[32], cpu[32];

		log_info("inspectd %s ready: %d node processes running, heap signal %s, cpu signal %s, output %s",
			 INSPECTD_VERSION, n < 0 ? 0 : n,
			 options_signal_name(env.heap_signal, heap, sizeof(heap)),
			 options_signal_name(env.cpu_signal, cpu, sizeof(cpu)), env.output_dir);
	}

	while (exiting < 2) {
		if (exiting && (dispatcher__idle(dispatcher) || lws_now_usecs() > shutdown_deadline))
			break;
		if (lws_service(ctx, 0) < 0)
			break;
	}
	if (!dispatcher__idle(dispatcher))
		log_warn("exiting with captures still in progress");
	err = 0;
out:
	api__free(api);
	dispatcher__free(dispatcher);
	tracker__free(tracker);
	if (ctx)
		lws_context_destroy(ctx);
	spool__free(cenv.spool);        /* waits for the commits in flight */
	ledger__free(cenv.ledger);
	close(sig_handler.fd);
	close(lock);
	return err;
}
