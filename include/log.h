/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#ifndef INSPECTD_LOG_H
#define INSPECTD_LOG_H

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
int log_level_from_string(const char *s, enum log_level *ret);
/* A line is cut at this many bytes of message (escapes excepted), and says so. */
#define LOG_LINE_MAX 4096

void log_emit(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_emit(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_emit(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_emit(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_emit(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
