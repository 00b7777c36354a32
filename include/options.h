/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Pure parsers for command-line values. Return 0 or -EINVAL/-ERANGE. */
#ifndef INSPECTD_OPTIONS_H
#define INSPECTD_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

/* "WINCH", "SIGWINCH", "sigwinch", "28", "SIG28"; "RTMIN+3" too. */
int options_parse_signal(const char *s, int *ret);
/* "SIGWINCH", or "SIG36" for a signal without a name, written into buf. */
const char *options_signal_name(int sig, char *buf, size_t len);
/* An exit status as wait() has it, in words: "exit 1", "killed by SIGKILL", "killed by
 * SIGSEGV, core dumped"; "status unknown" for a negative one. Written into buf. */
const char *options_exit_status(int status, char *buf, size_t len);
/* True for signals whose default action neither kills nor stops a process. */
bool options_signal_default_ignored(int sig);
/* Decimal integer within [min, max], nothing trailing. */
int options_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
/* "512", "64K", "1.5G", "300MiB": bytes, binary multiples. */
int options_parse_size(const char *s, uint64_t *ret);
/* "30", "30s", "10m", "1h", "250ms": microseconds; a bare number is seconds. */
int options_parse_duration(const char *s, uint64_t *ret_usec);
/* "16", "2.5": a plain decimal within [min, max] (digits and a dot: no sign, no exponent). */
int options_parse_decimal(const char *s, double min, double max, double *ret);
/* "90", "90%", "12.5": a percentage in (0, max]. */
int options_parse_percent(const char *s, double max, double *ret);
/* "300M" or "300M/10m": a size, and a window (0 when none given). */
int options_parse_growth(const char *s, uint64_t *size, uint64_t *window_usec);
/* One of a NULL-terminated list of words, exactly: its index in *ret. */
int options_parse_choice(const char *s, const char *const *choices, int *ret);
/* Executable basename for --match: 1..15 characters, no '/'. */
int options_check_match_name(const char *s);

#endif
