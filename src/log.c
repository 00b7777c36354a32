// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* One line per event on stderr: "LEVEL message". journald adds the time. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <time.h>

#include "log.h"

static enum log_level current_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

int log_level_from_string(const char *s, enum log_level *ret)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*ret = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Names and messages a container controls (comm, cmdline, an inspector's error text)
 * reach this line: control characters are escaped, so that one event is one line and
 * no terminal escape reaches whoever reads the log, and the line is bounded.
 * out holds 4 bytes per byte of s, and a NUL.
 */
static void escape(const char *s, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x20 && *p != 0x7f && *p != '\\') {
			*out++ = (char)*p;
			continue;
		}
		*out++ = '\\';
		switch (*p) {
		case '\\': *out++ = '\\'; break;
		case '\n': *out++ = 'n'; break;
		case '\r': *out++ = 'r'; break;
		case '\t': *out++ = 't'; break;
		default:
			*out++ = 'x';
			*out++ = hex[*p >> 4];
			*out++ = hex[*p & 15];
			break;
		}
	}
	*out = '\0';
}

void log_emit(enum log_level level, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32], line[LOG_LINE_MAX], out[4 * LOG_LINE_MAX + 64];
	va_list ap;
	int n;

	if (level > current_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(line, sizeof(line), "(unprintable log message)");
	escape(line, out);
	/* One write: a line is never interleaved with another process's. */
	if (n >= (int)sizeof(line))
		fprintf(stderr, "%s.%03ldZ %-5s %s... (%d bytes cut)\n", stamp, ts.tv_nsec / 1000000, level_names[level],
			out, n - (int)sizeof(line) + 1);
	else
		fprintf(stderr, "%s.%03ldZ %-5s %s\n", stamp, ts.tv_nsec / 1000000, level_names[level], out);
}
