/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The API's bearer token: read from a file that only root can read, validated at
 * start, and compared in time that depends on neither its content nor its length.
 * Pure but for api_token_load(), which reads the file.
 */
#ifndef INSPECTD_API_TOKEN_H
#define INSPECTD_API_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define API_TOKEN_MAX   256     /* the longest token is API_TOKEN_MAX - 1 bytes */
#define API_TOKEN_MIN   16

struct api_token {
	unsigned char value[API_TOKEN_MAX];     /* zero beyond len */
	size_t len;
};

/*
 * The token in a file's contents (len bytes, not NUL-terminated): visible ASCII only (no
 * NUL, control character or space), API_TOKEN_MIN to API_TOKEN_MAX - 1 bytes, and
 * optionally one trailing newline. 0 and *ret, or -EINVAL with *why saying what is wrong.
 */
int api_token_parse(const char *buf, size_t len, struct api_token *ret, const char **why);
/* Whether the file a token is read from is safe: 0, or -EPERM with *why (not a regular
 * file, not owned by root, or any permission for group or others). */
int api_token_check_stat(const struct stat *st, const char **why);
/*
 * Open, check and parse the token file at path (symlinks followed; the checks are on the
 * file itself): 0 and *ret, -EPERM or -EINVAL with *why, or -errno of open()/read()
 * (*why then NULL). A file of API_TOKEN_MAX + 1 bytes or more is -EINVAL, as too long.
 */
int api_token_load(const char *path, struct api_token *ret, const char **why);
/*
 * Whether given (given_len bytes, as the client sent them) is the token. Its time depends
 * only on API_TOKEN_MAX: every byte of the token's buffer is compared, and the lengths'
 * difference is folded into the result.
 */
bool api_token_equal(const struct api_token *token, const char *given, size_t given_len);

#endif
