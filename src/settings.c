// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The agent's settings by key: one table, one setter per key, used by the command
 * line now and by a configuration file later. Pure: no logging, no exit().
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "capture.h"
#include "log.h"
#include "options.h"
#include "profile.h"
#include "headroom.h"
#include "settings.h"

static int invalid(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int invalid(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define SETTER(name) static int set_##name(struct settings *st, const char *v, char *why, size_t size)

/* A setting that is there or not: it takes no value. */
static int flag(const char *key, const char *v, bool *ret, char *why, size_t size)
{
	if (v)
		return invalid(why, size, "--%s takes no value", key);
	*ret = true;
	return 0;
}

/* A whole number from lo to hi, in unit (" ms", or "" for a count), times scale into *ret. */
static int number(const char *key, const char *v, uint64_t lo, uint64_t hi, const char *unit, uint64_t scale,
		  uint64_t *ret, char *why, size_t size)
{
	uint64_t n;

	if (options_parse_u64(v, lo, hi, &n) < 0)
		return invalid(why, size, "invalid --%s '%s' (%" PRIu64 " to %" PRIu64 "%s)", key, v, lo, hi, unit);
	*ret = n * scale;
	return 0;
}

/* A count from 1 to hi. */
static int count(const char *key, const char *v, uint64_t hi, unsigned *ret, char *why, size_t size)
{
	uint64_t n = 0;         /* set when r is 0; the compiler cannot see invalid()'s < 0 */
	int r;

	r = number(key, v, 1, hi, "", 1, &n, why, size);
	if (r < 0)
		return r;
	*ret = (unsigned)n;
	return 0;
}

/* A value parse() reads (a size, a duration) from lo to hi; hint says which in the message. */
static int ranged(int (*parse)(const char *, uint64_t *), const char *key, const char *v, uint64_t lo, uint64_t hi,
		  const char *hint, uint64_t *ret, char *why, size_t size)
{
	uint64_t n;

	if (parse(v, &n) < 0 || n < lo || n > hi)
		return invalid(why, size, "invalid --%s '%s' (%s)", key, v, hint);
	*ret = n;
	return 0;
}

/* Bytes, as options_parse_size() reads them. */
static int size_value(const char *key, const char *v, uint64_t lo, uint64_t hi, const char *hint, uint64_t *ret,
		      char *why, size_t size)
{
	return ranged(options_parse_size, key, v, lo, hi, hint, ret, why, size);
}

/* Microseconds, as options_parse_duration() reads them. */
static int duration(const char *key, const char *v, uint64_t lo, uint64_t hi, const char *hint, uint64_t *ret,
		    char *why, size_t size)
{
	return ranged(options_parse_duration, key, v, lo, hi, hint, ret, why, size);
}

static int trigger_signal(const char *v, int *ret, char *why, size_t size)
{
	int sig;

	if (options_parse_signal(v, &sig) < 0)
		return invalid(why, size, "invalid signal '%s'", v);
	if (sig == SIGKILL || sig == SIGSTOP || sig == SIGUSR1)
		return invalid(why, size, "signal '%s' cannot be a trigger (KILL, STOP and USR1 are reserved)", v);
	/* The kernel side's filter is a 64-bit mask of signals 1 to 63 (tracker.h). */
	if (sig >= 64)
		return invalid(why, size, "signal '%s' cannot be a trigger (signals 1 to 63 only)", v);
	*ret = sig;
	return 0;
}

/* The kinds that have no signal unless one is given: "none" or "off" turns one off again. */
static int optional_signal(const char *v, int *ret, char *why, size_t size)
{
	if (strcasecmp(v, "none") == 0 || strcasecmp(v, "off") == 0) {
		*ret = 0;
		return 0;
	}
	return trigger_signal(v, ret, why, size);
}

SETTER(heap_signal) { return trigger_signal(v, &st->heap_signal, why, size); }
SETTER(cpu_signal) { return trigger_signal(v, &st->cpu_signal, why, size); }
SETTER(snapshot_signal) { return optional_signal(v, &st->snapshot_signal, why, size); }
SETTER(timeline_signal) { return optional_signal(v, &st->timeline_signal, why, size); }
SETTER(trace_signal) { return optional_signal(v, &st->trace_signal, why, size); }

/* What each signal setting captures; a kind with a signal of its own is a new row. */
static const struct signal_setting signals[] = {
	{ "heap-signal", offsetof(struct settings, heap_signal), PROFILE_HEAP },
	{ "cpu-signal", offsetof(struct settings, cpu_signal), PROFILE_CPU },
	{ "snapshot-signal", offsetof(struct settings, snapshot_signal), PROFILE_HEAP_SNAPSHOT },
	{ "allocation-timeline-signal", offsetof(struct settings, timeline_signal), PROFILE_ALLOCATION_TIMELINE },
	{ "trace-signal", offsetof(struct settings, trace_signal), PROFILE_TRACE },
};

#define N_SIGNALS (sizeof(signals) / sizeof(signals[0]))

const struct signal_setting *settings_signals(size_t *n)
{
	*n = N_SIGNALS;
	return signals;
}

int settings_signal(const struct settings *st, const struct signal_setting *s)
{
	int sig;

	memcpy(&sig, (const char *)st + s->offset, sizeof(sig));
	return sig;
}

int settings_signal_kind(const struct settings *st, int sig, int *ret)
{
	if (sig <= 0)
		return -ENOENT;
	for (size_t i = 0; i < N_SIGNALS; i++) {
		if (settings_signal(st, &signals[i]) == sig) {
			*ret = signals[i].kind;
			return 0;
		}
	}
	return -ENOENT;
}

uint64_t settings_trigger_sigmask(const struct settings *st)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < N_SIGNALS; i++) {
		int sig = settings_signal(st, &signals[i]);

		if (sig > 0 && sig < 64)
			mask |= 1ull << sig;
	}
	return mask;
}

static bool category_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

int settings_check_categories(const char *v, char *why, size_t size)
{
	unsigned n = 0;

	if (strlen(v) >= CAPTURE_CATEGORIES_MAX)
		return invalid(why, size, "longer than %d characters", CAPTURE_CATEGORIES_MAX - 1);
	for (const char *p = v;; p++) {
		size_t len = strcspn(p, ",");

		if (!len)
			return invalid(why, size, "an empty category");
		if (len > SETTINGS_CATEGORY_MAX)
			return invalid(why, size, "a category longer than %d characters", SETTINGS_CATEGORY_MAX);
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)p[i];

			if (category_char((char)c))
				continue;
			if (c >= ' ' && c < 0x7f)
				return invalid(why, size, "'%c' in a category (letters, digits, '.', '_' and '-' only)", c);
			return invalid(why, size, "byte 0x%02x in a category (letters, digits, '.', '_' and '-' only)", c);
		}
		if (++n > SETTINGS_CATEGORIES_COUNT_MAX)
			return invalid(why, size, "more than %d categories", SETTINGS_CATEGORIES_COUNT_MAX);
		p += len;
		if (!*p)
			return 0;
	}
}

SETTER(trace_categories)
{
	char sub[128];

	if (settings_check_categories(v, sub, sizeof(sub)) < 0)
		return invalid(why, size, "invalid --trace-categories '%s': %s (a list such as node,node.perf,v8)", v,
			       sub);
	st->trace_categories = v;
	return 0;
}

SETTER(heap_interval)
{
	return number("heap-sampling-interval", v, 1024, 1ull << 30, " bytes", 1, &st->heap_sampling_interval, why,
		      size);
}

SETTER(cpu_interval)
{
	return number("cpu-sampling-interval", v, 50, 1000000, " us", 1, &st->cpu_sampling_interval, why, size);
}

SETTER(max_duration)
{
	return number("max-duration", v, 1, 86400, " seconds", 1000000, &st->max_duration_usec, why, size);
}

SETTER(max_signal_duration)
{
	return number("max-signal-duration", v, 1, 86400, " seconds", 1000000, &st->max_signal_duration_usec, why,
		      size);
}

SETTER(attach_timeout)
{
	return number("attach-timeout", v, 10, 60000, " ms", 1000, &st->attach_timeout_usec, why, size);
}

static int absolute_path(const char *key, const char *v, const char **ret, char *why, size_t size)
{
	if (v[0] != '/')
		return invalid(why, size, "--%s '%s' must be an absolute path", key, v);
	*ret = v;
	return 0;
}

SETTER(output_dir) { return absolute_path("output-dir", v, &st->output_dir, why, size); }
SETTER(state_dir) { return absolute_path("state-dir", v, &st->state_dir, why, size); }
SETTER(host_root) { return absolute_path("host-root", v, &st->host_root, why, size); }

SETTER(max_profile_size)
{
	return size_value("max-profile-size", v, 4096, 4ull << 30, "4K to 4G", &st->max_profile_bytes, why, size);
}

SETTER(max_snapshot_size)
{
	return size_value("max-snapshot-size", v, 1ull << 20, 64ull << 30, "1M to 64G", &st->max_snapshot_bytes, why,
			  size);
}

SETTER(compress) { return flag("compress", v, &st->compress, why, size); }

/* A factor of the used JS heap: a decimal, 0 for no check at all. */
SETTER(snapshot_headroom)
{
	if (options_parse_decimal(v, 0, 1000, &st->snapshot_headroom) < 0)
		return invalid(why, size, "invalid --snapshot-headroom '%s' (a factor from 0 to 1000, such as 64; "
			       "0: no check)", v);
	return 0;
}

SETTER(snapshot_stall_timeout)
{
	return duration("snapshot-stall-timeout", v, 1000000, 3600ull * 1000000, "a duration such as 60s, 1s to 1h",
			&st->snapshot_stall_usec, why, size);
}

SETTER(output_quota)
{
	return size_value("spool-max-bytes", v, 1ull << 20, UINT64_MAX, "1M or more", &st->output_quota_bytes, why,
			  size);
}

SETTER(keep_local) { return flag("keep-local", v, &st->keep_local, why, size); }

#define RETRY_HINT "a duration such as 30s, 10m, 24h"

SETTER(export_retry_max)
{
	return duration("export-retry-max", v, 1000000, 30ull * 86400 * 1000000, RETRY_HINT,
			&st->export_retry_max_usec, why, size);
}

SETTER(export_retry_initial)
{
	return duration("export-retry-initial", v, 100000, 600ull * 1000000, RETRY_HINT,
			&st->export_retry_initial_usec, why, size);
}

/* Values the exporters check themselves (names, URLs): here, not empty and one line. */
static int text_value(const char *key, const char *v, const char **ret, char *why, size_t size)
{
	if (!v[0] || strlen(v) > 1024 || strpbrk(v, "\r\n"))
		return invalid(why, size, "invalid --%s '%s'", key, v);
	*ret = v;
	return 0;
}

SETTER(s3_bucket) { return text_value("s3-bucket", v, &st->s3_bucket, why, size); }
SETTER(s3_region) { return text_value("s3-region", v, &st->s3_region, why, size); }
SETTER(s3_endpoint) { return text_value("s3-endpoint", v, &st->s3_endpoint, why, size); }
SETTER(s3_prefix) { return text_value("s3-prefix", v, &st->s3_prefix, why, size); }
SETTER(pyroscope_url) { return text_value("pyroscope-url", v, &st->pyroscope_url, why, size); }
SETTER(pyroscope_app) { return text_value("pyroscope-app", v, &st->pyroscope_app, why, size); }
SETTER(pyroscope_user) { return text_value("pyroscope-user", v, &st->pyroscope_user, why, size); }
SETTER(pyroscope_tenant) { return text_value("pyroscope-tenant", v, &st->pyroscope_tenant, why, size); }
SETTER(pyroscope_password_file)
{
	return absolute_path("pyroscope-password-file", v, &st->pyroscope_password_file, why, size);
}
SETTER(pyroscope_token_file) { return absolute_path("pyroscope-token-file", v, &st->pyroscope_token_file, why, size); }

/* --select / --exclude: parsed here to refuse a bad rule at once; kept as text. */
static int add_rule(struct settings *st, bool exclude, const char *v, char *why, size_t size)
{
	const char **rules = exclude ? st->exclude_rules : st->select_rules;
	unsigned *n = exclude ? &st->n_exclude : &st->n_select;
	struct selection *check;
	int r;

	r = selection__new(&check);
	if (r < 0)
		return invalid(why, size, "out of memory");
	r = selection__add(check, exclude, v, why, size);
	selection__free(check);
	if (r < 0)
		return -EINVAL;
	if (*n >= SELECT_RULES_MAX)
		return invalid(why, size, "more than %d --%s rules", SELECT_RULES_MAX, exclude ? "exclude" : "select");
	rules[(*n)++] = v;
	return 0;
}

SETTER(select) { return add_rule(st, false, v, why, size); }
SETTER(exclude) { return add_rule(st, true, v, why, size); }

/*
 * "off" (or "none"): a threshold trigger or the schedule not set, as when the key is
 * absent; what the command line or a configuration file's section turns off again.
 */
static bool off(const char *v)
{
	return strcasecmp(v, "off") == 0 || strcasecmp(v, "none") == 0;
}

SETTER(every)
{
	if (off(v)) {
		st->every_usec = 0;
		return 0;
	}
	return duration("every", v, 2000000, 24ull * 3600 * 1000000, "a duration from 2s to 24h, such as 1m; off",
			&st->every_usec, why, size);
}

/*
 * "cpu,heap": profile kinds by name, each once. A round comes whatever the service is doing:
 * never one that pauses it (a heap snapshot) or slows it for the whole capture (an
 * allocation timeline); those are asked for by a person, or a threshold that says why.
 */
SETTER(schedule_kinds)
{
	char copy[64], *save = NULL;
	uint32_t mask = 0;

	if (strlen(v) >= sizeof(copy))
		return invalid(why, size, "invalid --schedule-kinds '%s' (a list such as cpu,heap)", v);
	snprintf(copy, sizeof(copy), "%s", v);
	for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		enum profile_kind kind;

		if (profile_kind_from_name(k, &kind) < 0 || (mask & (1u << kind)))
			return invalid(why, size, "invalid --schedule-kinds '%s' (heap, cpu and trace, each once)", v);
		if (kind == PROFILE_HEAP_SNAPSHOT)
			return invalid(why, size, "invalid --schedule-kinds '%s': a heap snapshot pauses its target, "
				       "and a schedule never pauses a service", v);
		if (kind == PROFILE_ALLOCATION_TIMELINE)
			return invalid(why, size, "invalid --schedule-kinds '%s': an allocation timeline slows its "
				       "target for the whole capture, and a schedule never burdens a service so", v);
		mask |= 1u << kind;
	}
	if (!mask)
		return invalid(why, size, "invalid --schedule-kinds '%s' (a list such as cpu,heap)", v);
	st->schedule_kinds = mask;
	return 0;
}

SETTER(s3_path_style) { return flag("s3-path-style", v, &st->s3_path_style, why, size); }

SETTER(s3_part_size)
{
	/* S3's bounds: every part but the last 5 MiB to 5 GiB. */
	return size_value("s3-part-size", v, 5ull << 20, 5ull << 30, "5M to 5G", &st->s3_part_size, why, size);
}

SETTER(match)
{
	if (options_check_match_name(v) < 0)
		return invalid(why, size, "invalid --match '%s' (an executable's basename, 1 to 15 characters)", v);
	if (st->nmatch >= INSPECTD_MAX_MATCH)
		return invalid(why, size, "too many --match names (at most %d)", INSPECTD_MAX_MATCH - 2);
	st->match[st->nmatch++] = v;
	return 0;
}

SETTER(log_level)
{
	enum log_level level;

	if (log_level_from_string(v, &level) < 0)
		return invalid(why, size, "invalid --log-level '%s' (error, warn, info or debug)", v);
	st->log_level = (int)level;
	return 0;
}

SETTER(rss_threshold)
{
	if (off(v)) {
		st->triggers.rss_threshold = 0;
		return 0;
	}
	if (options_parse_size(v, &st->triggers.rss_threshold) < 0)
		return invalid(why, size, "invalid --rss-threshold '%s' (a size such as 512M or 1.5G; off)", v);
	return 0;
}

SETTER(rss_growth)
{
	uint64_t bytes, window_usec;

	if (off(v)) {
		st->triggers.rss_growth = 0;
		st->triggers.growth_window_usec = 0;
		return 0;
	}
	if (options_parse_growth(v, &bytes, &window_usec) < 0)
		return invalid(why, size, "invalid --rss-growth '%s' (SIZE or SIZE/WINDOW, such as 300M/10m; off)", v);
	st->triggers.rss_growth = bytes;
	st->triggers.growth_window_usec = window_usec;
	return 0;
}

SETTER(limit_percent)
{
	double pct;

	if (off(v)) {
		st->triggers.limit_percent = 0;
		return 0;
	}
	if (options_parse_percent(v, 100, &pct) < 0 || pct != (unsigned)pct)
		return invalid(why, size, "invalid --limit-percent '%s' (a whole percentage, 1 to 100; off)", v);
	st->triggers.limit_percent = (unsigned)pct;
	return 0;
}

SETTER(cpu_threshold)
{
	if (off(v)) {
		st->triggers.cpu_threshold = 0;
		return 0;
	}
	if (options_parse_percent(v, 100.0 * 1024, &st->triggers.cpu_threshold) < 0)
		return invalid(why, size, "invalid --cpu-threshold '%s' (percent of one core, such as 90; off)", v);
	return 0;
}

SETTER(cpu_window)
{
	return duration("cpu-window", v, 2000000, 3600ull * 1000000, "2s to 1h", &st->triggers.cpu_window_usec, why,
			size);
}

/* --pprof: also write BASE.pb.gz beside each profile (the pprof exporter). */
SETTER(pprof)
{
	if (v)
		return invalid(why, size, "--pprof takes no value");
	st->exporter = "pprof";
	return 0;
}

SETTER(rss_watch)
{
	int choice;

	if (options_parse_choice(v, (const char *const[]){ "near", "always", NULL }, &choice) < 0)
		return invalid(why, size, "invalid --rss-watch '%s' (near or always)", v);
	st->rss_watch_always = choice == 1;
	return 0;
}

SETTER(threshold_action)
{
	enum profile_kind kind;

	char names[128];

	if (profile_kind_from_name(v, &kind) < 0)
		return invalid(why, size, "invalid --threshold-action '%s' (%s)", v,
			       profile_kind_list(names, sizeof(names), ""));
	st->threshold_action = (int)kind;
	return 0;
}

SETTER(capture_seconds)
{
	int r = number("capture-seconds", v, 1, 86400, "", 1000000, &st->capture_usec, why, size);

	if (r < 0)
		return r;
	st->capture_given = true;
	return 0;
}

SETTER(cooldown)
{
	return duration("cooldown", v, 0, 7 * 86400ull * 1000000, "a duration such as 10m, at most 7d",
			&st->triggers.cooldown_usec, why, size);
}

SETTER(max_per_hour)
{
	return count("max-captures-per-hour", v, RATE_LIMIT_MAX, &st->max_captures_per_hour, why, size);
}

SETTER(max_concurrent) { return count("max-concurrent", v, 64, &st->max_concurrent, why, size); }

SETTER(max_per_container)
{
	return count("max-concurrent-per-container", v, 64, &st->max_per_container, why, size);
}

SETTER(max_per_container_hour)
{
	return count("max-captures-per-container-per-hour", v, RATE_LIMIT_MAX, &st->max_per_container_hour, why,
		     size);
}

SETTER(queue_timeout)
{
	return duration("queue-timeout", v, 1000000, 86400ull * 1000000, "a duration such as 60s, 1s to 1d",
			&st->queue_timeout_usec, why, size);
}

SETTER(api_socket)
{
	if (v[0] != '/' || strlen(v) >= 100)
		return invalid(why, size, "--api-socket '%s' must be an absolute path under 100 characters", v);
	st->api_socket = v;
	return 0;
}

SETTER(api_listen)
{
	if (!strchr(v, ':'))
		return invalid(why, size, "invalid --api-listen '%s' (ADDR:PORT)", v);
	st->api_listen = v;
	return 0;
}

SETTER(api_token_file)
{
	st->api_token_file = v;
	return 0;
}

SETTER(keep_capabilities) { return flag("keep-capabilities", v, &st->keep_capabilities, why, size); }
SETTER(no_syscall_filter) { return flag("no-syscall-filter", v, &st->no_syscall_filter, why, size); }

static const struct setting_def defs[] = {
	{ "heap-signal", set_heap_signal, false, SETTING_AGENT },
	{ "cpu-signal", set_cpu_signal, false, SETTING_AGENT },
	{ "snapshot-signal", set_snapshot_signal, false, SETTING_AGENT },
	{ "allocation-timeline-signal", set_timeline_signal, false, SETTING_AGENT },
	{ "trace-signal", set_trace_signal, false, SETTING_AGENT },
	{ "trace-categories", set_trace_categories, false, SETTING_AGENT },
	{ "snapshot-headroom", set_snapshot_headroom, false, SETTING_AGENT },
	{ "snapshot-stall-timeout", set_snapshot_stall_timeout, false, SETTING_AGENT },
	{ "max-snapshot-size", set_max_snapshot_size, false, SETTING_AGENT },
	{ "compress", set_compress, true, SETTING_AGENT },
	{ "heap-sampling-interval", set_heap_interval, false, SETTING_AGENT },
	{ "cpu-sampling-interval", set_cpu_interval, false, SETTING_AGENT },
	{ "max-duration", set_max_duration, false, SETTING_AGENT },
	{ "max-signal-duration", set_max_signal_duration, false, SETTING_AGENT },
	{ "attach-timeout", set_attach_timeout, false, SETTING_AGENT },
	{ "output-dir", set_output_dir, false, SETTING_AGENT },
	{ "max-profile-size", set_max_profile_size, false, SETTING_AGENT },
	{ "spool-max-bytes", set_output_quota, false, SETTING_AGENT },
	{ "output-quota", set_output_quota, false, SETTING_AGENT },        /* its name before the remote exporters */
	{ "keep-local", set_keep_local, true, SETTING_AGENT },
	{ "export-retry-max", set_export_retry_max, false, SETTING_AGENT },
	{ "export-retry-initial", set_export_retry_initial, false, SETTING_AGENT },
	{ "s3-bucket", set_s3_bucket, false, SETTING_AGENT },
	{ "s3-region", set_s3_region, false, SETTING_AGENT },
	{ "s3-endpoint", set_s3_endpoint, false, SETTING_AGENT },
	{ "s3-path-style", set_s3_path_style, true, SETTING_AGENT },
	{ "s3-prefix", set_s3_prefix, false, SETTING_AGENT },
	{ "s3-part-size", set_s3_part_size, false, SETTING_AGENT },
	{ "pyroscope-url", set_pyroscope_url, false, SETTING_AGENT },
	{ "pyroscope-app", set_pyroscope_app, false, SETTING_AGENT },
	{ "pyroscope-user", set_pyroscope_user, false, SETTING_AGENT },
	{ "pyroscope-password-file", set_pyroscope_password_file, false, SETTING_AGENT },
	{ "pyroscope-token-file", set_pyroscope_token_file, false, SETTING_AGENT },
	{ "pyroscope-tenant", set_pyroscope_tenant, false, SETTING_AGENT },
	{ "state-dir", set_state_dir, false, SETTING_AGENT },
	{ "host-root", set_host_root, false, SETTING_AGENT },
	{ "match", set_match, false, SETTING_AGENT },
	{ "log-level", set_log_level, false, SETTING_AGENT },
	{ "rss-threshold", set_rss_threshold, false, SETTING_PROCESS },
	{ "rss-growth", set_rss_growth, false, SETTING_PROCESS },
	{ "limit-percent", set_limit_percent, false, SETTING_PROCESS },
	{ "cpu-threshold", set_cpu_threshold, false, SETTING_PROCESS },
	{ "cpu-window", set_cpu_window, false, SETTING_PROCESS },
	{ "threshold-action", set_threshold_action, false, SETTING_PROCESS },
	{ "capture-seconds", set_capture_seconds, false, SETTING_PROCESS },
	{ "cooldown", set_cooldown, false, SETTING_PROCESS },
	{ "max-captures-per-hour", set_max_per_hour, false, SETTING_AGENT },
	{ "max-concurrent", set_max_concurrent, false, SETTING_AGENT },
	{ "max-concurrent-per-container", set_max_per_container, false, SETTING_AGENT },
	{ "max-captures-per-container-per-hour", set_max_per_container_hour, false, SETTING_AGENT },
	{ "queue-timeout", set_queue_timeout, false, SETTING_AGENT },
	{ "rss-watch", set_rss_watch, false, SETTING_AGENT },
	{ "pprof", set_pprof, true, SETTING_AGENT },
	{ "every", set_every, false, SETTING_PROCESS },
	{ "schedule-kinds", set_schedule_kinds, false, SETTING_PROCESS },
	{ "select", set_select, false, SETTING_AGENT },
	{ "exclude", set_exclude, false, SETTING_AGENT },
	{ "api-socket", set_api_socket, false, SETTING_AGENT },
	{ "api-listen", set_api_listen, false, SETTING_AGENT },
	{ "api-token-file", set_api_token_file, false, SETTING_AGENT },
	{ "keep-capabilities", set_keep_capabilities, true, SETTING_AGENT },
	{ "no-syscall-filter", set_no_syscall_filter, true, SETTING_AGENT },
};

const struct setting_def *settings_defs(size_t *n)
{
	*n = sizeof(defs) / sizeof(defs[0]);
	return defs;
}

uint64_t settings_round_usec(const struct settings *st)
{
	return st->capture_given ? st->capture_usec : SETTINGS_ROUND_USEC_DEFAULT;
}

void settings_defaults(struct settings *st)
{
	*st = (struct settings){
		.heap_signal = SIGWINCH,
		.cpu_signal = SIGURG,
		.heap_sampling_interval = 131072,
		.cpu_sampling_interval = 10000,
		.max_duration_usec = 600ull * 1000000,
		.max_signal_duration_usec = 120ull * 1000000,
		.attach_timeout_usec = 3ull * 1000000,
		.command_timeout_usec = 10ull * 1000000,
		.output_dir = "/var/lib/inspectd",
		.exporter = "file",
		.max_profile_bytes = 512ull << 20,
		.max_snapshot_bytes = 4ull << 30,
		.trace_categories = "node,node.perf,v8",
		.snapshot_headroom = HEADROOM_DEFAULT_FACTOR,
		.snapshot_stall_usec = 60ull * 1000000,
		.output_quota_bytes = 1ull << 30,
		.export_retry_max_usec = 24ull * 3600 * 1000000,
		.export_retry_initial_usec = 5ull * 1000000,
		.s3_part_size = 64ull << 20,
		.schedule_kinds = 1u << PROFILE_CPU | 1u << PROFILE_HEAP,
		.triggers = {
			.cpu_window_usec = 15ull * 1000000,
			.cooldown_usec = 600ull * 1000000,
		},
		.threshold_action = PROFILE_HEAP,
		.capture_usec = 30ull * 1000000,
		.max_captures_per_hour = 6,
		.max_concurrent = 4,
		.max_per_container = 2,
		.max_per_container_hour = 12,
		.queue_timeout_usec = 60ull * 1000000,
		.api_socket = "/run/inspectd/api.sock",
		.state_dir = "/run/inspectd",
		.host_root = "/",
		.match = { "node", "nodejs" },
		.nmatch = 2,
		.log_level = LOG_LEVEL_INFO,
	};
}

int settings_set(struct settings *st, const char *key, const char *value, char *why, size_t size)
{
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		if (strcmp(key, defs[i].key) == 0)
			return defs[i].set(st, value, why, size);
	snprintf(why, size, "unknown setting '%s'", key);
	return -ENOENT;
}

int settings_check(const struct settings *st, char *why, size_t size)
{
	/* One signal, one kind: the dispatcher would only ever see the first. */
	for (size_t i = 0; i < N_SIGNALS; i++) {
		int sig = settings_signal(st, &signals[i]);

		for (size_t j = i + 1; sig && j < N_SIGNALS; j++)
			if (settings_signal(st, &signals[j]) == sig)
				return invalid(why, size, "--%s and --%s must differ", signals[i].key, signals[j].key);
	}
	if (st->api_listen && !st->api_token_file)
		return invalid(why, size, "--api-listen needs --api-token-file");
	if (st->every_usec && st->every_usec <= settings_round_usec(st))
		return invalid(why, size, "--every must be longer than %s: a capture a round, with time between them",
			       st->capture_given ? "--capture-seconds" : "a round (10 s without --capture-seconds)");
	if (!st->s3_bucket && (st->s3_region || st->s3_endpoint || st->s3_prefix || st->s3_path_style))
		return invalid(why, size, "--s3-region, --s3-endpoint, --s3-prefix and --s3-path-style need --s3-bucket");
	if (!st->pyroscope_url && (st->pyroscope_app || st->pyroscope_user || st->pyroscope_password_file ||
				   st->pyroscope_token_file || st->pyroscope_tenant))
		return invalid(why, size, "the --pyroscope-* settings need --pyroscope-url");
	if (!!st->pyroscope_user != !!st->pyroscope_password_file)
		return invalid(why, size, "--pyroscope-user and --pyroscope-password-file go together");
	if (st->pyroscope_user && st->pyroscope_token_file)
		return invalid(why, size, "--pyroscope-user and --pyroscope-token-file exclude each other");
	return 0;
}
