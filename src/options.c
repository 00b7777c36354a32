// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "options.h"

static const struct {
	const char *name;
	int sig;
} signal_table[] = {
	{ "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
	{ "TRAP", SIGTRAP },   { "ABRT", SIGABRT },     { "BUS", SIGBUS },     { "FPE", SIGFPE },
	{ "KILL", SIGKILL },   { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },   { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE },   { "ALRM", SIGALRM },     { "TERM", SIGTERM },   { "STKFLT", SIGSTKFLT },
	{ "CHLD", SIGCHLD },   { "CONT", SIGCONT },     { "STOP", SIGSTOP },   { "TSTP", SIGTSTP },
	{ "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },     { "URG", SIGURG },     { "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },   { "WINCH", SIGWINCH },
	{ "IO", SIGIO },       { "PWR", SIGPWR },       { "SYS", SIGSYS },
};

#define N_SIGNALS (sizeof(signal_table) / sizeof(signal_table[0]))

int options_parse_signal(const char *s, int *ret)
{
	uint64_t n;

	if (!s || !*s)
		return -EINVAL;
	if (isdigit((unsigned char)s[0])) {
		if (options_parse_u64(s, 1, 64, &n) < 0)
			return -EINVAL;
		*ret = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0) {
		s += 3;
		/* "SIG36", as options_signal_name() prints a signal without a name. */
		if (isdigit((unsigned char)s[0]))
			return options_parse_signal(s, ret);
	}
	for (size_t i = 0; i < N_SIGNALS; i++) {
		if (strcasecmp(s, signal_table[i].name) == 0) {
			*ret = signal_table[i].sig;
			return 0;
		}
	}
	if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
		bool min = strncasecmp(s, "RTMIN", 5) == 0;
		int base = min ? SIGRTMIN : SIGRTMAX;

		if (s[5] == '\0') {
			*ret = base;
			return 0;
		}
		if ((min && s[5] != '+') || (!min && s[5] != '-'))
			return -EINVAL;
		if (options_parse_u64(s + 6, 0, (uint64_t)(SIGRTMAX - SIGRTMIN), &n) < 0)
			return -EINVAL;
		*ret = min ? base + (int)n : base - (int)n;
		return 0;
	}
	return -EINVAL;
}

const char *options_signal_name(int sig, char *buf, size_t len)
{
	for (size_t i = 0; i < N_SIGNALS; i++) {
		if (signal_table[i].sig == sig) {
			snprintf(buf, len, "SIG%s", signal_table[i].name);
			return buf;
		}
	}
	snprintf(buf, len, "SIG%d", sig);
	return buf;
}

const char *options_exit_status(int status, char *buf, size_t len)
{
	char name[16];

	if (status < 0)
		snprintf(buf, len, "status unknown");
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by %s%s", options_signal_name(WTERMSIG(status), name, sizeof(name)),
			 WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
	return buf;
}

bool options_signal_default_ignored(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGWINCH;
}

int options_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end != '\0')
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* A non-negative decimal with an optional fraction; *end points after it. s may be NULL. */
static int parse_decimal(const char *s, double *ret, const char **end)
{
	char *e;
	double v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &e);
	if (errno == ERANGE || !isfinite(v) || v < 0)
		return -ERANGE;
	/* strtod also takes hex, "inf", exponents: accept digits and one dot only. */
	for (const char *p = s; p < e; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -EINVAL;
	*ret = v;
	*end = e;
	return 0;
}

/* A decimal and a unit: the suffix after it (any case, or exactly), the two multiplied. */
struct unit {
	const char *suffix;
	double factor;
};

static int parse_with_unit(const char *s, const struct unit *units, size_t n, bool any_case, double *ret)
{
	const char *end;
	double v;
	int r;

	r = parse_decimal(s, &v, &end);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if ((any_case ? strcasecmp(end, units[i].suffix) : strcmp(end, units[i].suffix)) == 0) {
			*ret = v * units[i].factor;
			return 0;
		}
	}
	return -EINVAL;
}

int options_parse_size(const char *s, uint64_t *ret)
{
	static const struct unit suffixes[] = {
		{ "", 1 },           { "B", 1 },
		{ "K", 1024.0 },     { "KB", 1024.0 },     { "KiB", 1024.0 },
		{ "M", 1048576.0 },  { "MB", 1048576.0 },  { "MiB", 1048576.0 },
		{ "G", 1073741824.0 }, { "GB", 1073741824.0 }, { "GiB", 1073741824.0 },
		{ "T", 1099511627776.0 }, { "TB", 1099511627776.0 }, { "TiB", 1099511627776.0 },
	};
	double v;
	int r;

	r = parse_with_unit(s, suffixes, sizeof(suffixes) / sizeof(suffixes[0]), true, &v);
	if (r < 0)
		return r;
	if (v >= 18446744073709551615.0)
		return -ERANGE;
	if (v < 1)
		return -ERANGE;
	*ret = (uint64_t)v;
	return 0;
}

int options_parse_duration(const char *s, uint64_t *ret_usec)
{
	static const struct unit units[] = {
		{ "", 1e6 }, { "s", 1e6 }, { "ms", 1e3 }, { "us", 1 },
		{ "m", 60e6 }, { "min", 60e6 }, { "h", 3600e6 }, { "d", 86400e6 },
	};
	double v;
	int r;

	r = parse_with_unit(s, units, sizeof(units) / sizeof(units[0]), false, &v);
	if (r < 0)
		return r;
	v = round(v);
	if (v >= 9.2e18)
		return -ERANGE;
	*ret_usec = (uint64_t)v;
	return 0;
}

int options_check_match_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 15 || strchr(s, '/'))
		return -EINVAL;
	return 0;
}

int options_parse_decimal(const char *s, double min, double max, double *ret)
{
	static const struct unit none[] = { { "", 1 } };
	double v;
	int r;

	r = parse_with_unit(s, none, 1, false, &v);
	if (r < 0)
		return r;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int options_parse_percent(const char *s, double max, double *ret)
{
	static const struct unit percent[] = { { "", 1 }, { "%", 1 } };
	double v;
	int r;

	r = parse_with_unit(s, percent, 2, false, &v);
	if (r < 0)
		return r;
	if (v <= 0 || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int options_parse_growth(const char *s, uint64_t *size, uint64_t *window_usec)
{
	const char *slash;
	char buf[64];
	int r;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	*window_usec = 0;
	if (!slash)
		return options_parse_size(s, size);
	if ((size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	r = options_parse_size(buf, size);
	if (r < 0)
		return r;
	r = options_parse_duration(slash + 1, window_usec);
	if (r < 0)
		return r;
	return *window_usec ? 0 : -ERANGE;
}

int options_parse_choice(const char *s, const char *const *choices, int *ret)
{
	for (int i = 0; choices[i]; i++) {
		if (strcmp(s, choices[i]) == 0) {
			*ret = i;
			return 0;
		}
	}
	return -EINVAL;
}
