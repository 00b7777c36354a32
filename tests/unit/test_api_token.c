// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The API token: what a token file may hold, which files are trusted, and the
 * comparison (right answers for every length and content; no early exit).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "api_token.h"

#define GOOD "a-long-enough-secret-token"

static int parse(const char *s, size_t len, struct api_token *t)
{
	const char *why = "untouched";
	int r = api_token_parse(s, len, t, &why);

	/* A reason with every refusal, none with success. */
	if (r == 0)
		assert_null(why);
	else
		assert_non_null(why);
	return r;
}

static void test_parse_good(void **state)
{
	struct api_token t;
	char max[API_TOKEN_MAX + 1];

	assert_int_equal(parse(GOOD, strlen(GOOD), &t), 0);
	assert_int_equal(t.len, strlen(GOOD));
	assert_memory_equal(t.value, GOOD, strlen(GOOD));
	/* Zero beyond the token: the comparison reads the whole buffer. */
	for (size_t i = t.len; i < API_TOKEN_MAX; i++)
		assert_int_equal(t.value[i], 0);
	/* One trailing newline is the file's, not the token's. */
	assert_int_equal(parse(GOOD "\n", strlen(GOOD) + 1, &t), 0);
	assert_int_equal(t.len, strlen(GOOD));
	/* 16 and 255 bytes, with and without a newline. */
	assert_int_equal(parse("0123456789abcdef", 16, &t), 0);
	assert_int_equal(parse("0123456789abcdef\n", 17, &t), 0);
	assert_int_equal(t.len, 16);
	memset(max, 'x', sizeof(max));
	assert_int_equal(parse(max, API_TOKEN_MAX - 1, &t), 0);
	assert_int_equal(t.len, API_TOKEN_MAX - 1);
	max[API_TOKEN_MAX - 1] = '\n';
	assert_int_equal(parse(max, API_TOKEN_MAX, &t), 0);
	assert_int_equal(t.len, API_TOKEN_MAX - 1);
	/* Every visible ASCII character. */
	{
		static const char visible[] = "!\"#$%&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~";

		assert_int_equal(parse(visible, sizeof(visible) - 1, &t), 0);
	}
}

static void test_parse_bad(void **state)
{
	static const struct {
		const char *s;
		size_t len;
	} bad[] = {
		{ "", 0 },
		{ "\n", 1 },
		{ "short", 5 },
		{ "0123456789abcde", 15 },
		{ "0123456789abcde\n", 16 },
		/* A NUL used to end the token early: "a-long-enough-s" would have been it. */
		{ "0123456789abcdef\0secret-part", 28 },
		{ "\0" "0123456789abcdef", 17 },
		{ "0123456789abcdef\0", 17 },
		{ "0123456789abcdef\0\n", 18 },
		/* Spaces and control characters inside or around. */
		{ "0123456789 abcdef", 17 },
		{ " 0123456789abcdef", 17 },
		{ "0123456789abcdef ", 17 },
		{ "0123456789abcdef\t", 17 },
		{ "0123456789\tabcdef", 17 },
		{ "0123456789abcdef\r\n", 18 },
		{ "0123456789abcdef\n\n", 18 },
		{ "01234567\n89abcdef", 17 },
		{ "0123456789abcdef\x7f", 17 },
		{ "0123456789abcdef\x1b[0m", 20 },
		{ "0123456789abcdef\xc3\xa9", 18 },
		{ "0123456789abcdef\xff", 17 },
	};
	struct api_token t;
	char big[API_TOKEN_MAX + 2];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i].s, bad[i].len, &t);

		if (r != -EINVAL)
			fail_msg("token %zu (%zu bytes) = %d, want -EINVAL", i, bad[i].len, r);
	}
	/* 256 bytes, with or without a newline. */
	memset(big, 'x', sizeof(big));
	assert_int_equal(parse(big, API_TOKEN_MAX, &t), -EINVAL);
	big[API_TOKEN_MAX] = '\n';
	assert_int_equal(parse(big, API_TOKEN_MAX + 1, &t), -EINVAL);
}

static void test_check_stat(void **state)
{
	struct stat st = { .st_mode = S_IFREG | 0600, .st_uid = 0 };
	const char *why;

	assert_int_equal(api_token_check_stat(&st, &why), 0);
	assert_null(why);
	st.st_mode = S_IFREG | 0400;
	assert_int_equal(api_token_check_stat(&st, &why), 0);
	for (mode_t bit = 1; bit <= 040; bit <<= 1) {
		st.st_mode = S_IFREG | 0600 | bit;
		assert_int_equal(api_token_check_stat(&st, &why), -EPERM);
		assert_non_null(why);
	}
	st.st_mode = S_IFREG | 0644;
	assert_int_equal(api_token_check_stat(&st, &why), -EPERM);
	st.st_mode = S_IFREG | 0600;
	st.st_uid = 1000;
	assert_int_equal(api_token_check_stat(&st, &why), -EPERM);
	st.st_uid = 0;
	st.st_mode = S_IFIFO | 0600;
	assert_int_equal(api_token_check_stat(&st, &why), -EPERM);
	st.st_mode = S_IFDIR | 0700;
	assert_int_equal(api_token_check_stat(&st, &why), -EPERM);
	st.st_mode = S_IFCHR | 0600;
	assert_int_equal(api_token_check_stat(&st, &why), -EPERM);
}

static const char *write_token(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
	static char path[4096];
	FILE *f;

	fixture_path(path, sizeof(path), dir, name);
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void test_load(void **state)
{
	const char *dir = *state, *why, *path;
	char big[API_TOKEN_MAX + 8], fifo[4096];
	struct api_token t;

	path = write_token(dir, "good", GOOD "\n", strlen(GOOD) + 1, 0600);
	assert_int_equal(api_token_load(path, &t, &why), 0);
	assert_true(api_token_equal(&t, GOOD, strlen(GOOD)));

	path = write_token(dir, "nul", "0123456789abcdef\0rest\n", 22, 0600);
	assert_int_equal(api_token_load(path, &t, &why), -EINVAL);
	assert_non_null(strstr(why, "NUL"));

	path = write_token(dir, "open", GOOD, strlen(GOOD), 0644);
	if (geteuid() == 0) {
		assert_int_equal(api_token_load(path, &t, &why), -EPERM);
		assert_non_null(why);
	}
	path = write_token(dir, "group", GOOD, strlen(GOOD), 0640);
	if (geteuid() == 0)
		assert_int_equal(api_token_load(path, &t, &why), -EPERM);
	else
		print_message("  not root: files are not root's, skipping the owner checks\n");

	memset(big, 'x', sizeof(big));
	path = write_token(dir, "big", big, sizeof(big), 0600);
	if (geteuid() == 0)
		assert_int_equal(api_token_load(path, &t, &why), -EINVAL);

	fixture_path(fifo, sizeof(fifo), dir, "fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* Refused, and at once: no writer ever comes. */
	assert_int_equal(api_token_load(fifo, &t, &why), -EPERM);

	fixture_path(fifo, sizeof(fifo), dir, "missing");
	assert_int_equal(api_token_load(fifo, &t, &why), -ENOENT);
	assert_null(why);
}

static void test_equal(void **state)
{
	struct api_token t;
	char given[API_TOKEN_MAX + 8];
	const char *why;

	assert_int_equal(api_token_parse(GOOD, strlen(GOOD), &t, &why), 0);
	assert_true(api_token_equal(&t, GOOD, strlen(GOOD)));
	/* Every prefix and every extension is wrong. */
	for (size_t n = 0; n < strlen(GOOD); n++)
		assert_false(api_token_equal(&t, GOOD, n));
	memcpy(given, GOOD, strlen(GOOD));
	for (size_t extra = 1; extra < 8; extra++) {
		memset(given + strlen(GOOD), 'x', extra);
		assert_false(api_token_equal(&t, given, strlen(GOOD) + extra));
		/* NULs after it would match the zero padding: the length says no. */
		memset(given + strlen(GOOD), '\0', extra);
		assert_false(api_token_equal(&t, given, strlen(GOOD) + extra));
	}
	/* Each byte, each bit. */
	for (size_t i = 0; i < strlen(GOOD); i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(given, GOOD, strlen(GOOD));
			given[i] ^= (char)(1 << bit);
			assert_false(api_token_equal(&t, given, strlen(GOOD)));
		}
	}
	/* Longer than any token. */
	memset(given, 'x', sizeof(given));
	assert_false(api_token_equal(&t, given, sizeof(given)));
	assert_int_equal(api_token_parse(given, API_TOKEN_MAX - 1, &t, &why), 0);
	assert_true(api_token_equal(&t, given, API_TOKEN_MAX - 1));
	assert_false(api_token_equal(&t, given, API_TOKEN_MAX));
	assert_false(api_token_equal(&t, given, API_TOKEN_MAX - 2));
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * No early exit: a guess wrong in its first byte takes as long as one wrong in its last,
 * and a short guess as long as a long one. Loose bounds (a shared CI machine is noisy):
 * an early exit at the first differing byte would be ~100x faster.
 */
static void test_equal_no_early_exit(void **state)
{
	enum { ROUNDS = 200000 };
	struct api_token t;
	char first[API_TOKEN_MAX], last[API_TOKEN_MAX];
	const char *why;
	double a, b, c;
	volatile bool sink = false;

	memset(first, 'k', sizeof(first));
	assert_int_equal(api_token_parse(first, API_TOKEN_MAX - 1, &t, &why), 0);
	memcpy(last, first, sizeof(last));
	first[0] = 'x';
	last[API_TOKEN_MAX - 2] = 'x';
	for (int warm = 0; warm < 2; warm++) {
		a = seconds();
		for (int i = 0; i < ROUNDS; i++)
			sink = sink ^ api_token_equal(&t, first, API_TOKEN_MAX - 1);
		a = seconds() - a;
		b = seconds();
		for (int i = 0; i < ROUNDS; i++)
			sink = sink ^ api_token_equal(&t, last, API_TOKEN_MAX - 1);
		b = seconds() - b;
		c = seconds();
		for (int i = 0; i < ROUNDS; i++)
			sink = sink ^ api_token_equal(&t, "x", 1);
		c = seconds() - c;
	}
	print_message("  first byte wrong %.1f ns, last byte wrong %.1f ns, 1-byte guess %.1f ns\n",
		      a / ROUNDS * 1e9, b / ROUNDS * 1e9, c / ROUNDS * 1e9);
	assert_true(a > b / 4 && b > a / 4);
	/* The short guess copies fewer bytes in: it may be faster, but not by an early exit's margin. */
	assert_true(c > b / 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_check_stat),
		cmocka_unit_test_setup_teardown(test_load, fixture_tmpdir_setup, fixture_tmpdir_teardown),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_equal_no_early_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
