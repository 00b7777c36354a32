// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api_token.h"

int api_token_parse(const char *buf, size_t len, struct api_token *ret, const char **why)
{
	size_t n = len;

	*why = NULL;
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\0') {
			*why = "contains a NUL byte";
			return -EINVAL;
		}
		if (c <= ' ' || c >= 0x7f) {
			*why = "contains a space, a control character or a byte that is not ASCII";
			return -EINVAL;
		}
	}
	if (n < API_TOKEN_MIN) {
		*why = "shorter than 16 bytes";
		return -EINVAL;
	}
	if (n > API_TOKEN_MAX - 1) {
		*why = "longer than 255 bytes";
		return -EINVAL;
	}
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->value, buf, n);
	ret->len = n;
	return 0;
}

int api_token_check_stat(const struct stat *st, const char **why)
{
	*why = NULL;
	if (!S_ISREG(st->st_mode))
		*why = "not a regular file";
	else if (st->st_uid != 0)
		*why = "not owned by root";
	else if (st->st_mode & (S_IRWXG | S_IRWXO))
		*why = "group or others have access to it (chmod 0600)";
	return *why ? -EPERM : 0;
}

int api_token_load(const char *path, struct api_token *ret, const char **why)
{
	char buf[API_TOKEN_MAX + 1];
	size_t got = 0;
	struct stat st;
	int fd, r;

	*why = NULL;
	/* O_NONBLOCK: a FIFO planted there must not hang the start. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	r = api_token_check_stat(&st, why);
	if (r < 0)
		goto out;
	while (got < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	/* Longer than the longest token and its newline. */
	if (got == sizeof(buf)) {
		*why = "longer than 255 bytes";
		r = -EINVAL;
		goto out;
	}
	r = api_token_parse(buf, got, ret, why);
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return r;
}

bool api_token_equal(const struct api_token *token, const char *given, size_t given_len)
{
	unsigned char padded[API_TOKEN_MAX] = { 0 };
	unsigned diff = 0;

	/* The client's length is the client's to know: branching on it leaks nothing. */
	if (given_len > API_TOKEN_MAX - 1)
		return false;
	memcpy(padded, given, given_len);
	for (size_t i = 0; i < API_TOKEN_MAX; i++)
		diff |= (unsigned)(padded[i] ^ token->value[i]);
	/* Both lengths are below 256: their difference fits the accumulator. */
	diff |= (unsigned)(given_len ^ token->len);
	__asm__ volatile("" : "+r"(diff));
	explicit_bzero(padded, sizeof(padded));
	return diff == 0;
}
