/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Fixture files for the unit tests: text captured from a real node process
 * (see tests/fixtures/README). Include after <cmocka.h>.
 */
#ifndef INSPECTD_TEST_FIXTURE_H
#define INSPECTD_TEST_FIXTURE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FIXTURES
#error "FIXTURES must name the fixture folder: -DFIXTURES=\"/abs/path/tests/fixtures\""
#endif

#define FIXTURE_MAX_SIZE (1 << 20)

/* The whole file, NUL-terminated; fails the running test when it cannot be read. */
static inline char *fixture_read(const char *name, size_t *ret_len)
{
	char path[4096];
	size_t len = 0;
	char *buf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	f = fopen(path, "re");
	if (!f)
		fail_msg("fixture %s: %s", path, strerror(errno));
	buf = malloc(FIXTURE_MAX_SIZE + 1);
	assert_non_null(buf);
	len = fread(buf, 1, FIXTURE_MAX_SIZE, f);
	if (ferror(f) || !feof(f))
		fail_msg("fixture %s: read error or larger than %d bytes", path, FIXTURE_MAX_SIZE);
	fclose(f);
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return buf;
}

/* Line n (0 = first) of text, without its newline, copied into buf. */
static inline const char *fixture_line(const char *text, int n, char *buf, size_t size)
{
	const char *p = text, *nl;
	size_t len;

	for (int i = 0; i < n; i++) {
		p = strchr(p, '\n');
		if (!p)
			fail_msg("fixture has no line %d", n);
		p++;
	}
	nl = strchr(p, '\n');
	len = nl ? (size_t)(nl - p) : strlen(p);
	assert_true(len < size);
	memcpy(buf, p, len);
	buf[len] = '\0';
	return buf;
}

#endif
