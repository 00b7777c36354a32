// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* inspectctl's pure parts: sizes, cells, tables, and the agent's JSON as rows and lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspectctl_format.h"

/* ---- helpers ---- */

/* The wall clock ps counts NEXT from: 2026-01-01T00:00:00Z. */
#define NOW_MS 1767225600000LL

static cJSON *parse(const char *text)
{
	cJSON *json = cJSON_Parse(text);

	if (!json)
		fail_msg("test JSON does not parse: %s", text);
	return json;
}

/* What a printing function wrote, NUL-terminated; the caller frees it. */
struct capture_output {
	FILE *f;
	char *text;
	size_t len;
};

static void output_open(struct capture_output *o)
{
	o->text = NULL;
	o->len = 0;
	o->f = open_memstream(&o->text, &o->len);
	assert_non_null(o->f);
}

static char *output_close(struct capture_output *o)
{
	assert_int_equal(fclose(o->f), 0);
	return o->text;
}

/* ---- arguments ---- */

static void test_parse_u64(void **state)
{
	uint64_t v = 7;

	assert_int_equal(format_parse_u64("4242", 1, 4194304, &v), 0);
	assert_int_equal(v, 4242);
	assert_int_equal(format_parse_u64("1", 1, 1, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(format_parse_u64("007", 1, 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(format_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);

	v = 99;
	assert_int_equal(format_parse_u64("0", 1, 10, &v), -ERANGE);
	assert_int_equal(format_parse_u64("11", 1, 10, &v), -ERANGE);
	assert_int_equal(format_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(format_parse_u64("", 0, 10, &v), -EINVAL);
	assert_int_equal(format_parse_u64(NULL, 0, 10, &v), -EINVAL);
	assert_int_equal(format_parse_u64("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(format_parse_u64("+1", 0, 10, &v), -EINVAL);
	assert_int_equal(format_parse_u64(" 1", 0, 10, &v), -EINVAL);
	assert_int_equal(format_parse_u64("1 ", 0, 10, &v), -EINVAL);
	assert_int_equal(format_parse_u64("1.5", 0, 10, &v), -EINVAL);
	assert_int_equal(format_parse_u64("0x10", 0, 100, &v), -EINVAL);
	assert_int_equal(format_parse_u64("30s", 0, 100, &v), -EINVAL);
	assert_int_equal(v, 99);
}

static void test_capture_id_valid(void **state)
{
	char longest[FORMAT_CAPTURE_ID_MAX + 2];

	assert_true(format_capture_id_valid("c-000001"));
	assert_true(format_capture_id_valid("C_1.2-x"));
	assert_true(format_capture_id_valid("a"));
	assert_true(format_capture_id_valid(".hidden"));

	assert_false(format_capture_id_valid(NULL));
	assert_false(format_capture_id_valid(""));
	assert_false(format_capture_id_valid("."));
	assert_false(format_capture_id_valid(".."));
	assert_false(format_capture_id_valid("..."));
	assert_false(format_capture_id_valid("../v1/processes"));
	assert_false(format_capture_id_valid("c-1/x"));
	assert_false(format_capture_id_valid("c-1?x=1"));
	assert_false(format_capture_id_valid("c-1#x"));
	assert_false(format_capture_id_valid("c 1"));
	assert_false(format_capture_id_valid("c-%2e%2e"));
	assert_false(format_capture_id_valid("c-\n1"));
	assert_false(format_capture_id_valid("c-\xc3\xa9"));

	memset(longest, 'a', sizeof(longest));
	longest[FORMAT_CAPTURE_ID_MAX] = '\0';
	assert_true(format_capture_id_valid(longest));
	longest[FORMAT_CAPTURE_ID_MAX] = 'a';
	longest[FORMAT_CAPTURE_ID_MAX + 1] = '\0';
	assert_false(format_capture_id_valid(longest));
}

/* ---- sizes ---- */

static void assert_size(uint64_t bytes, const char *want)
{
	char buf[16];

	assert_int_equal(format_size(bytes, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void test_size(void **state)
{
	assert_size(0, "0B");
	assert_size(1, "1B");
	assert_size(1023, "1023B");
	assert_size(1024, "1.0K");
	assert_size(1536, "1.5K");
	/* 1127 is 1.1006K; 1075 is 1.0498K, 1076 is 1.0508K. */
	assert_size(1127, "1.1K");
	assert_size(1075, "1.0K");
	assert_size(1076, "1.1K");
	/* Exactly half a tenth rounds up: 1.05K, 1.25M. */
	assert_size(1075 + 1, "1.1K");
	assert_size(1310720, "1.3M");
	assert_size(1048524, "1023.9K");
	/* 1023.96K rounds to 1024.0K: shown as 1.0M instead. */
	assert_size(1048535, "1.0M");
	assert_size(1048575, "1.0M");
	assert_size(1048576, "1.0M");
	assert_size(536870912, "512.0M");
	assert_size(1073741824, "1.0G");
	assert_size(1610612736, "1.5G");
	assert_size(1099511627776ull, "1.0T");
	assert_size(1125899906842624ull, "1.0P");
	assert_size(1152921504606846976ull, "1.0E");
	assert_size(UINT64_MAX, "16.0E");
}

static void test_size_buffer(void **state)
{
	char buf[8];

	/* 8 bytes are enough for the longest, "1023.9K" and "16.0E". */
	assert_int_equal(format_size(1048524, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1023.9K");
	assert_int_equal(format_size(UINT64_MAX, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "16.0E");
	assert_int_equal(format_size(1048524, buf, 7), -ENOBUFS);
	assert_int_equal(format_size(1023, buf, 6), 0);
	assert_string_equal(buf, "1023B");
	assert_int_equal(format_size(1023, buf, 5), -ENOBUFS);
	assert_int_equal(format_size(0, buf, 0), -ENOBUFS);
}

/* ---- cells ---- */

static void assert_cell(const char *s, size_t max_chars, const char *want, int want_width)
{
	char buf[FORMAT_CELL_SIZE];

	assert_int_equal(format_cell(s, max_chars, buf, sizeof(buf)), want_width);
	assert_string_equal(buf, want);
	assert_int_equal(format_width(buf), want_width);
}

static void test_cell_plain(void **state)
{
	assert_cell("node", 60, "node", 4);
	assert_cell(NULL, 60, "-", 1);
	assert_cell("", 60, "-", 1);
	assert_cell(" ", 60, " ", 1);
	/* UTF-8 is kept, and counted in characters. */
	assert_cell("\xc3\xbc" "n" "\xc3\xaf" "c" "\xc3\xb6" "d" "\xc3\xa9", 60, "\xc3\xbc" "n" "\xc3\xaf" "c" "\xc3\xb6" "d" "\xc3\xa9", 7);
	assert_cell("\xe2\x82\xac \xf0\x9f\x94\xa5", 60, "\xe2\x82\xac \xf0\x9f\x94\xa5", 3);
}

static void test_cell_sanitized(void **state)
{
	/* C0 controls, DEL: one '?' each. */
	assert_cell("evil\x1b[31mred\x07", 60, "evil?[31mred?", 13);
	assert_cell("a\nb\tc\rd\x7f", 60, "a?b?c?d?", 8);
	/* C1 CSI, U+009B, would start an escape sequence on some terminals. */
	assert_cell("a\xc2\x9b" "2Jb", 60, "a?2Jb", 5);
	/* Bidi override U+202E, isolate U+2066, line separator U+2028: one '?' per character. */
	assert_cell("abc\xe2\x80\xae" "def", 60, "abc?def", 7);
	assert_cell("x\xe2\x81\xa6y\xe2\x80\xa8z", 60, "x?y?z", 5);
	/* Bytes that are not UTF-8: one '?' per byte. */
	assert_cell("a\xff" "b", 60, "a?b", 3);
	assert_cell("a\xc3", 60, "a?", 2);
	assert_cell("a\xe2\x82", 60, "a??", 3);
	assert_cell("\x80\x80", 60, "??", 2);
	/* Overlong '/', an encoded surrogate, beyond U+10FFFF. */
	assert_cell("\xc0\xaf", 60, "??", 2);
	assert_cell("\xe0\x80\xaf", 60, "???", 3);
	assert_cell("\xed\xa0\x80", 60, "???", 3);
	assert_cell("\xf4\x90\x80\x80", 60, "????", 4);
}

static void test_cell_truncated(void **state)
{
	char sixty[61], sixty_one[62], want[61];
	char wide[64 * 2 + 1];

	memset(sixty, 'a', 60);
	sixty[60] = '\0';
	assert_cell(sixty, 60, sixty, 60);

	memset(sixty_one, 'b', 61);
	sixty_one[61] = '\0';
	memset(want, 'b', 57);
	memcpy(want + 57, "...", 4);
	assert_cell(sixty_one, 60, want, 60);

	assert_cell("node app.js", 5, "no...", 5);
	assert_cell("node", 4, "node", 4);
	assert_cell("nodes", 4, "n...", 4);
	assert_cell("nodes", 3, "...", 3);
	assert_cell("nodes", 2, "no", 2);
	assert_cell("nodes", 0, "", 0);

	/* Two-byte characters are never cut in two. */
	for (size_t i = 0; i < 64; i++)
		memcpy(wide + 2 * i, "\xc3\xa9", 2);
	wide[sizeof(wide) - 1] = '\0';
	{
		char expect[57 * 2 + 4];

		for (size_t i = 0; i < 57; i++)
			memcpy(expect + 2 * i, "\xc3\xa9", 2);
		memcpy(expect + 57 * 2, "...", 4);
		assert_cell(wide, 60, expect, 60);
	}
	/* Control characters count as the one '?' they become. */
	assert_cell("\x1b\x1b\x1b\x1b\x1b\x1b", 5, "??...", 5);
}

static void test_cell_buffer(void **state)
{
	char buf[8];

	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(format_cell("1234567", 60, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "1234567");
	assert_int_equal(format_cell("12345678", 60, buf, sizeof(buf)), -ENOBUFS);
	assert_string_equal(buf, "");
	/* Room for "1234" and "..." but not the NUL. */
	assert_int_equal(format_cell("123456789", 7, buf, 7), -ENOBUFS);
	assert_int_equal(format_cell("123456789", 7, buf, 8), 7);
	assert_string_equal(buf, "1234...");
	assert_int_equal(format_cell("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 60, buf, sizeof(buf)), -ENOBUFS);
	assert_int_equal(format_cell("x", 60, buf, 0), -ENOBUFS);
	assert_int_equal(format_cell("x", 60, NULL, 0), -ENOBUFS);
	assert_int_equal(format_cell("-", 60, buf, 1), -ENOBUFS);
}

/* ---- tables ---- */

static const struct table_column two_columns[] = {
	{ "NAME", TABLE_LEFT },
	{ "SIZE", TABLE_RIGHT },
};

static const struct table_column three_columns[] = {
	{ "PID", TABLE_RIGHT },
	{ "COMM", TABLE_LEFT },
	{ "CMDLINE", TABLE_LEFT },
};

static char *print_table(const struct table *t)
{
	struct capture_output o;

	output_open(&o);
	assert_int_equal(table__print(t, o.f), 0);
	return output_close(&o);
}

static void test_table(void **state)
{
	struct table *t = table__new(three_columns, 3);
	const char *row1[] = { "4242", "node", "node app.js" };
	const char *row2[] = { "7", "n\xc3\xbc", "x" };
	const char *row3[] = { "1234567", "nodejs-worker", NULL };
	char *text;

	assert_non_null(t);
	assert_int_equal(table__rows(t), 0);
	text = print_table(t);
	assert_string_equal(text, "PID  COMM  CMDLINE\n");
	free(text);

	assert_int_equal(table__add_row(t, row1), 0);
	assert_int_equal(table__add_row(t, row2), 0);
	assert_int_equal(table__rows(t), 2);
	text = print_table(t);
	/* "nü" is two characters wide, not three bytes; the last column is not padded. */
	assert_string_equal(text,
			    " PID  COMM  CMDLINE\n"
			    "4242  node  node app.js\n"
			    "   7  n\xc3\xbc    x\n");
	free(text);

	assert_int_equal(table__add_row(t, row3), 0);
	text = print_table(t);
	assert_string_equal(text,
			    "    PID  COMM           CMDLINE\n"
			    "   4242  node           node app.js\n"
			    "      7  n\xc3\xbc             x\n"
			    "1234567  nodejs-worker  -\n");
	free(text);
	table__free(t);
}

static void test_table_last_column_right(void **state)
{
	struct table *t = table__new(two_columns, 2);
	const char *row1[] = { "a", "512.0M" };
	const char *row2[] = { "bbbbbb", "1B" };
	char *text;

	assert_non_null(t);
	assert_int_equal(table__add_row(t, row1), 0);
	assert_int_equal(table__add_row(t, row2), 0);
	text = print_table(t);
	assert_string_equal(text,
			    "NAME      SIZE\n"
			    "a       512.0M\n"
			    "bbbbbb      1B\n");
	free(text);
	table__free(t);
}

static void test_table_many_rows(void **state)
{
	struct table *t = table__new(two_columns, 2);
	const char *row[] = { "x", "1" };
	char *text;

	assert_non_null(t);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(table__add_row(t, row), 0);
	assert_int_equal(table__rows(t), 1000);
	text = print_table(t);
	assert_int_equal(strlen(text), strlen("NAME  SIZE\n") + 1000 * strlen("x        1\n"));
	assert_memory_equal(text, "NAME  SIZE\nx        1\n", strlen("NAME  SIZE\nx        1\n"));
	free(text);
	table__free(t);
	table__free(NULL);
	assert_null(table__new(two_columns, 0));
	assert_null(table__new(NULL, 2));
}

/* ---- processes ---- */

static struct table *process_table(const char *json_text)
{
	struct table *t = table__new(process_row_columns, PROCESS_ROW_COLUMNS);
	const char *cells[PROCESS_ROW_COLUMNS];
	cJSON *json = parse(json_text), *proc;
	struct process_row row;

	assert_non_null(t);
	cJSON_ArrayForEach(proc, cJSON_GetObjectItem(json, "processes")) {
		if (process_row__from_json(&row, proc, NOW_MS) < 0)
			continue;
		process_row__cells(&row, cells);
		assert_int_equal(table__add_row(t, cells), 0);
	}
	cJSON_Delete(json);
	return t;
}

static void test_process_row(void **state)
{
	cJSON *json = parse("{\"pid\":4242,\"comm\":\"node\",\"cmdline\":[\"node\",\"app.js\"],"
			    "\"rss_bytes\":536870912,\"cpu_percent\":12.5,\"memory_limit_bytes\":1073741824,"
			    "\"armed\":[\"rss-threshold\",\"cpu-threshold\"],"
			    "\"capture\":{\"id\":\"c-000001\",\"kind\":\"heap\",\"state\":\"running\"}}");
	struct process_row row;

	assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
	assert_string_equal(row.pid, "4242");
	assert_string_equal(row.container, "-");
	assert_string_equal(row.comm, "node");
	assert_string_equal(row.rss, "512.0M");
	assert_string_equal(row.cpu, "12.5");
	assert_string_equal(row.limit, "1.0G");
	assert_string_equal(row.state, "running");
	assert_string_equal(row.armed, "rss-threshold,cpu-threshold");
	assert_string_equal(row.cmdline, "node app.js");
	cJSON_Delete(json);
}

static void test_process_row_container(void **state)
{
	cJSON *json = parse("{\"pid\":9,\"container\":{\"runtime\":\"docker\",\"id\":"
			    "\"4f1c2b7a9e0d3c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b\",\"pod_uid\":null}}");
	struct process_row row;

	/* Twelve characters, as docker ps shows ids. */
	assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
	assert_string_equal(row.container, "4f1c2b7a9e0d");
	cJSON_Delete(json);

	/* A short LXC name stays whole; an id that is not a string, or hostile text, does not pass. */
	json = parse("{\"pid\":9,\"container\":{\"runtime\":\"lxc\",\"id\":\"web-1\",\"pod_uid\":null}}");
	assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
	assert_string_equal(row.container, "web-1");
	cJSON_Delete(json);
	json = parse("{\"pid\":9,\"container\":{\"id\":7}}");
	assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
	assert_string_equal(row.container, "-");
	cJSON_Delete(json);
	json = parse("{\"pid\":9,\"container\":{\"id\":\"\\u001b[2Jab\"}}");
	assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
	assert_null(strchr(row.container, '\x1b'));
	cJSON_Delete(json);
}

static void test_process_row_nulls(void **state)
{
	cJSON *json = parse("{\"pid\":1,\"comm\":\"nodejs\",\"cmdline\":[],\"rss_bytes\":0,"
			    "\"cpu_percent\":null,\"memory_limit_bytes\":null,\"armed\":[],\"capture\":null}");
	struct process_row row;

	assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
	assert_string_equal(row.pid, "1");
	assert_string_equal(row.rss, "0B");
	assert_string_equal(row.cpu, "-");
	assert_string_equal(row.limit, "-");
	assert_string_equal(row.state, "idle");
	assert_string_equal(row.armed, "-");
	assert_string_equal(row.cmdline, "-");
	cJSON_Delete(json);
}

static void test_process_row_cpu(void **state)
{
	static const struct {
		const char *json;
		const char *want;
	} cases[] = {
		{ "{\"cpu_percent\":0}", "0.0" },
		{ "{\"cpu_percent\":0.04}", "0.0" },
		{ "{\"cpu_percent\":99.96}", "100.0" },
		{ "{\"cpu_percent\":812.3}", "812.3" },
		{ "{\"cpu_percent\":1000000}", "1000000.0" },
		{ "{\"cpu_percent\":1000001}", "-" },
		{ "{\"cpu_percent\":1e308}", "-" },
		{ "{\"cpu_percent\":-1}", "-" },
		{ "{\"cpu_percent\":\"12.5\"}", "-" },
		{ "{\"cpu_percent\":true}", "-" },
		{ "{}", "-" },
	};
	struct process_row row;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *json = parse(cases[i].json);

		assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
		assert_string_equal(row.cpu, cases[i].want);
		cJSON_Delete(json);
	}
}

static void test_process_row_hostile(void **state)
{
	/* Every field missing or of the wrong type. */
	cJSON *json = parse("{\"pid\":\"4242\",\"comm\":42,\"cmdline\":\"node app.js\",\"rss_bytes\":-1,"
			    "\"cpu_percent\":\"hot\",\"memory_limit_bytes\":1e30,\"armed\":\"rss\","
			    "\"capture\":\"yes\"}");
	struct process_row row;

	assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
	assert_string_equal(row.pid, "-");
	assert_string_equal(row.comm, "-");
	assert_string_equal(row.rss, "-");
	assert_string_equal(row.cpu, "-");
	assert_string_equal(row.limit, "-");
	assert_string_equal(row.state, "-");
	assert_string_equal(row.armed, "-");
	assert_string_equal(row.cmdline, "-");
	cJSON_Delete(json);

	json = parse("{}");
	assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
	assert_string_equal(row.pid, "-");
	/* A capture that is missing is unknown, not idle. */
	assert_string_equal(row.state, "-");
	cJSON_Delete(json);

	json = parse("{\"pid\":1.5,\"capture\":{\"state\":7},\"armed\":[1,\"a\",null,\"b\"],"
		     "\"cmdline\":[\"node\",{},\"-e\",\"x\\u001b[2Jy\\n\"]}");
	assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
	assert_string_equal(row.pid, "-");
	assert_string_equal(row.state, "-");
	assert_string_equal(row.armed, "a,b");
	assert_string_equal(row.cmdline, "node -e x?[2Jy?");
	cJSON_Delete(json);

	json = parse("{\"pid\":0}");
	assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
	assert_string_equal(row.pid, "-");
	cJSON_Delete(json);
	json = parse("{\"pid\":2147483648}");
	assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
	assert_string_equal(row.pid, "-");
	cJSON_Delete(json);
	json = parse("{\"pid\":2147483647}");
	assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
	assert_string_equal(row.pid, "2147483647");
	cJSON_Delete(json);

	json = parse("[1]");
	assert_int_equal(process_row__from_json(&row, json, NOW_MS), -EINVAL);
	cJSON_Delete(json);
	assert_int_equal(process_row__from_json(&row, NULL, NOW_MS), -EINVAL);
}

static void test_process_row_cmdline_truncated(void **state)
{
	cJSON *json = parse("{\"cmdline\":[\"node\",\"--max-old-space-size=4096\",\"/srv/app/server.js\","
			    "\"--port\",\"8080\",\"--workers\",\"16\"]}");
	struct process_row row;
	char *long_cmdline;
	cJSON *args;

	assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
	/* "node --max-old-space-size=4096 /srv/app/server.js --port 8080 --workers 16" is 74. */
	assert_string_equal(row.cmdline, "node --max-old-space-size=4096 /srv/app/server.js --port ...");
	assert_int_equal(strlen(row.cmdline), 60);
	cJSON_Delete(json);

	/* A cmdline far longer than anything shown: gathered up to a bound, then cut. */
	long_cmdline = malloc(100001);
	assert_non_null(long_cmdline);
	memset(long_cmdline, 'x', 100000);
	long_cmdline[100000] = '\0';
	json = cJSON_CreateObject();
	args = cJSON_AddArrayToObject(json, "cmdline");
	cJSON_AddItemToArray(args, cJSON_CreateString("node"));
	cJSON_AddItemToArray(args, cJSON_CreateString(long_cmdline));
	assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
	assert_int_equal(strlen(row.cmdline), 60);
	assert_memory_equal(row.cmdline, "node xxxx", 9);
	assert_string_equal(row.cmdline + 57, "...");
	cJSON_Delete(json);
	free(long_cmdline);
}

/* The agent's times: UTC, to the millisecond or finer; nothing else. */
static void test_parse_rfc3339(void **state)
{
	static const char *const bad[] = {
		NULL, "", "2026-01-01T00:00:42", "2026-01-01T00:00:42.Z", "2026-01-01T00:00:42.123+01:00",
		"2026-01-01 00:00:42Z", "2026-13-01T00:00:42Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
		"2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z", "1969-12-31T23:59:59Z", "2026-01-01T00:00:42.1234567890Z",
		"2026-01-01T00:00:42.123Zjunk", "+026-01-01T00:00:42Z", "2026-1-01T00:00:42Z",
	};
	int64_t ms;

	assert_int_equal(format_parse_rfc3339("2026-01-01T00:00:42.123Z", &ms), 0);
	assert_true(ms == NOW_MS + 42123);
	assert_int_equal(format_parse_rfc3339("2026-01-01T00:00:42Z", &ms), 0);
	assert_true(ms == NOW_MS + 42000);
	assert_int_equal(format_parse_rfc3339("2026-01-01T00:00:42.5Z", &ms), 0);
	assert_true(ms == NOW_MS + 42500);
	assert_int_equal(format_parse_rfc3339("2026-01-01T00:00:42.123456789Z", &ms), 0);
	assert_true(ms == NOW_MS + 42123);
	assert_int_equal(format_parse_rfc3339("2028-02-29T00:00:00Z", &ms), 0);
	assert_int_equal(format_parse_rfc3339("1970-01-01T00:00:00.000Z", &ms), 0);
	assert_true(ms == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (format_parse_rfc3339(bad[i], &ms) != -EINVAL)
			fail_msg("accepted %s", bad[i] ? bad[i] : "NULL");
}

/* NEXT: the schedule's next round counted from now, its kind; "-" without one. */
static void test_process_row_next(void **state)
{
	static const struct {
		const char *json;
		const char *want;
	} cases[] = {
		{ "{\"next_capture\":{\"at\":\"2026-01-01T00:00:42.000Z\",\"kind\":\"cpu\"}}", "in 42s cpu" },
		/* Seconds left rounded up: a round 0.3 s away is not "now" yet. */
		{ "{\"next_capture\":{\"at\":\"2026-01-01T00:00:00.300Z\",\"kind\":\"heap\"}}", "in 1s heap" },
		{ "{\"next_capture\":{\"at\":\"2026-01-01T01:00:00.000Z\",\"kind\":\"heap\"}}", "in 1h00m heap" },
		{ "{\"next_capture\":{\"at\":\"2026-01-01T00:00:00.000Z\",\"kind\":\"cpu\"}}", "now cpu" },
		{ "{\"next_capture\":{\"at\":\"2025-12-31T23:59:59.000Z\",\"kind\":\"trace\"}}", "now trace" },
		{ "{\"next_capture\":null}", "-" },
		{ "{}", "-" },
		{ "{\"next_capture\":{\"at\":\"2026-01-01T00:00:42.000Z\"}}", "-" },
		{ "{\"next_capture\":{\"at\":\"2026-01-01T00:00:42.000Z\",\"kind\":\"\"}}", "-" },
		{ "{\"next_capture\":{\"at\":\"soon\",\"kind\":\"cpu\"}}", "-" },
		{ "{\"next_capture\":{\"at\":42,\"kind\":\"cpu\"}}", "-" },
		{ "{\"next_capture\":\"in 42s\"}", "-" },
		{ "{\"next_capture\":{\"at\":\"2026-01-01T00:00:42Z\",\"kind\":\"\\u001b[2Jx\"}}", "in 42s ?[2Jx" },
		{ "{\"next_capture\":{\"at\":\"9999-12-31T23:59:59Z\",\"kind\":\"cpu\"}}", "in 2912442d23h cpu" },
	};
	struct process_row row;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *json = parse(cases[i].json);

		assert_int_equal(process_row__from_json(&row, json, NOW_MS), 0);
		if (strcmp(row.next, cases[i].want) != 0)
			fail_msg("%s: \"%s\", not \"%s\"", cases[i].json, row.next, cases[i].want);
		cJSON_Delete(json);
	}
}

static void test_process_table(void **state)
{
	struct table *t = process_table(
		"{\"processes\":["
		"{\"pid\":4242,\"comm\":\"node\",\"cmdline\":[\"node\",\"app.js\"],\"rss_bytes\":536870912,"
		"\"container\":{\"runtime\":\"docker\",\"id\":\"4f1c2b7a9e0d3c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b\"},"
		"\"cpu_percent\":12.5,\"memory_limit_bytes\":1073741824,\"armed\":[\"rss-threshold\"],\"selection\":\"selected\","
		"\"next_capture\":{\"at\":\"2026-01-01T00:04:10.000Z\",\"kind\":\"cpu\"},"
		"\"capture\":{\"id\":\"c-000001\",\"kind\":\"heap\",\"state\":\"running\"}},"
		"{\"pid\":77,\"comm\":\"nodejs\",\"cmdline\":[\"nodejs\",\"w.js\"],\"rss_bytes\":1048575,"
		"\"cpu_percent\":null,\"memory_limit_bytes\":null,\"armed\":[],\"capture\":null,\"selection\":\"excluded\"},"
		"{\"pid\":9,\"comm\":\"node\",\"cmdline\":[\"node\"],\"rss_bytes\":1024,"
		"\"container\":{\"runtime\":\"containerd\",\"id\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\","
		"\"name\":\"app\",\"image\":\"node:20\"},"
		"\"kubernetes\":{\"pod\":\"web-7d9f8c6b5-x2x9q\",\"namespace\":\"shop\",\"container\":\"app\"},"
		"\"cpu_percent\":0,\"memory_limit_bytes\":null,\"armed\":[],\"capture\":null,\"selection\":\"not-selected\"},"
		"{\"pid\":10,\"comm\":\"node\",\"cmdline\":[\"node\"],\"rss_bytes\":1024,"
		"\"container\":{\"id\":\"x\",\"name\":\"a\\u001b[2Jb\"},\"kubernetes\":{\"pod\":\"p\",\"namespace\":null},"
		"\"cpu_percent\":0,\"memory_limit_bytes\":null,\"armed\":[],\"capture\":null},"
		"\"not a process\", 5, null]}");
	char *text = print_table(t);

	assert_string_equal(text,
			    " PID  CONTAINER     POD                       COMM       RSS  CPU%  LIMIT  STATE    ARMED          SELECTED  NEXT          CMDLINE\n"
			    "4242  4f1c2b7a9e0d  -                         node    512.0M  12.5   1.0G  running  rss-threshold  yes       in 4m10s cpu  node app.js\n"
			    "  77  -             -                         nodejs    1.0M     -      -  idle     -              excluded  -             nodejs w.js\n"
			    "   9  app           shop/web-7d9f8c6b5-x2x9q  node      1.0K   0.0      -  idle     -              no        -             node\n"
			    "  10  a?[2Jb        p                         node      1.0K   0.0      -  idle     -              -         -             node\n");
	free(text);
	table__free(t);
}

/* ---- captures ---- */

#define CAPTURE_DONE                                                                                   \
	"{\"id\":\"c-000001\",\"pid\":4242,\"kind\":\"heap\",\"state\":\"done\","                     \
	"\"trigger\":{\"kind\":\"rss-threshold\",\"threshold_bytes\":536870912,\"rss_bytes\":612368384}," \
	"\"seconds\":30,\"queued_reason\":null,"                                                       \
	"\"files\":[\"/var/lib/inspectd/heap-profile-4242-20261123T085501Z.meta.json\","               \
	"\"/var/lib/inspectd/heap-profile-4242-20261123T085501Z.heapprofile\"],"                       \
	"\"error\":null,\"created_at\":\"2026-11-23T08:55:00Z\",\"started_at\":\"2026-11-23T08:55:01Z\"," \
	"\"ended_at\":\"2026-11-23T08:55:31Z\"}"

#define CAPTURE_FAILED                                                                                 \
	"{\"id\":\"c-000002\",\"pid\":77,\"kind\":\"cpu\",\"state\":\"failed\",\"trigger\":{\"kind\":\"api\"}," \
	"\"seconds\":null,\"queued_reason\":null,\"files\":[],"                                        \
	"\"error\":\"inspector did not answer within 3000 ms\",\"created_at\":\"2026-11-23T09:00:00Z\","  \
	"\"started_at\":null,\"ended_at\":\"2026-11-23T09:00:03Z\"}"

#define CAPTURE_QUEUED                                                                                 \
	"{\"id\":\"c-000003\",\"pid\":5555,\"kind\":\"heap\",\"state\":\"queued\",\"trigger\":{\"kind\":\"signal\"}," \
	"\"seconds\":null,\"queued_reason\":\"waiting for the inspector port\",\"files\":[],"          \
	"\"error\":null,\"created_at\":\"2026-11-23T09:00:00Z\",\"started_at\":null,\"ended_at\":null}"

static void test_capture_row(void **state)
{
	cJSON *json = parse(CAPTURE_DONE);
	struct capture_row row;

	assert_int_equal(capture_row__from_json(&row, json), 0);
	assert_string_equal(row.id, "c-000001");
	assert_string_equal(row.pid, "4242");
	assert_string_equal(row.kind, "heap");
	assert_string_equal(row.state, "done");
	assert_string_equal(row.trigger, "rss-threshold");
	assert_string_equal(row.started, "2026-11-23T08:55:01Z");
	/* The profile, not the .meta.json listed before it, and never cut short. */
	assert_string_equal(row.file_or_error, "/var/lib/inspectd/heap-profile-4242-20261123T085501Z.heapprofile");
	cJSON_Delete(json);

	json = parse(CAPTURE_FAILED);
	assert_int_equal(capture_row__from_json(&row, json), 0);
	assert_string_equal(row.state, "failed");
	assert_string_equal(row.trigger, "api");
	assert_string_equal(row.started, "-");
	assert_string_equal(row.file_or_error, "inspector did not answer within 3000 ms");
	cJSON_Delete(json);

	/* Only a .meta.json: better than nothing. */
	json = parse("{\"files\":[\"\",7,\"/x/a.meta.json\"]}");
	assert_int_equal(capture_row__from_json(&row, json), 0);
	assert_string_equal(row.file_or_error, "/x/a.meta.json");
	cJSON_Delete(json);

	/* A failed capture's error wins over a file it left. */
	json = parse("{\"state\":\"failed\",\"error\":\"disk full\",\"files\":[\"/x/a.heapprofile\"]}");
	assert_int_equal(capture_row__from_json(&row, json), 0);
	assert_string_equal(row.file_or_error, "disk full");
	cJSON_Delete(json);
}

static void test_capture_row_hostile(void **state)
{
	cJSON *json = parse("{\"id\":\"c-\\u001b[2J1\",\"pid\":-4,\"kind\":7,\"state\":[\"x\"],\"trigger\":\"api\","
			    "\"started_at\":5,\"files\":\"/x\",\"error\":{}}");
	struct capture_row row;

	assert_int_equal(capture_row__from_json(&row, json), 0);
	assert_string_equal(row.id, "c-?[2J1");
	assert_string_equal(row.pid, "-");
	assert_string_equal(row.kind, "-");
	assert_string_equal(row.state, "-");
	assert_string_equal(row.trigger, "-");
	assert_string_equal(row.started, "-");
	assert_string_equal(row.file_or_error, "-");
	cJSON_Delete(json);

	json = parse("{}");
	assert_int_equal(capture_row__from_json(&row, json), 0);
	assert_string_equal(row.id, "-");
	assert_string_equal(row.file_or_error, "-");
	cJSON_Delete(json);

	json = parse("\"c-000001\"");
	assert_int_equal(capture_row__from_json(&row, json), -EINVAL);
	cJSON_Delete(json);
}

static void test_capture_table(void **state)
{
	struct table *t = table__new(capture_row_columns, CAPTURE_ROW_COLUMNS);
	const char *cells[CAPTURE_ROW_COLUMNS];
	const char *texts[] = { CAPTURE_DONE, CAPTURE_FAILED, CAPTURE_QUEUED };
	struct capture_row row;
	char *text;

	assert_non_null(t);
	for (size_t i = 0; i < 3; i++) {
		cJSON *json = parse(texts[i]);

		assert_int_equal(capture_row__from_json(&row, json), 0);
		capture_row__cells(&row, cells);
		assert_int_equal(table__add_row(t, cells), 0);
		cJSON_Delete(json);
	}
	text = print_table(t);
	assert_string_equal(text,
		"ID         PID  KIND  STATE   TRIGGER        STARTED               FILE/ERROR\n"
		"c-000001  4242  heap  done    rss-threshold  2026-11-23T08:55:01Z  "
		"/var/lib/inspectd/heap-profile-4242-20261123T085501Z.heapprofile\n"
		"c-000002    77  cpu   failed  api            -                     "
		"inspector did not answer within 3000 ms\n"
		"c-000003  5555  heap  queued  signal         -                     -\n");
	free(text);
	table__free(t);
}

static void assert_summary(const char *json_text, const char *want)
{
	cJSON *json = parse(json_text);
	char buf[512];

	assert_int_equal(capture__format_summary(json, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	cJSON_Delete(json);
}

static void test_capture_summary(void **state)
{
	char buf[16];
	cJSON *json;

	assert_summary("{\"id\":\"c-000001\",\"pid\":4242,\"kind\":\"heap\",\"state\":\"queued\",\"seconds\":30}",
		       "capture c-000001 of pid 4242 (heap, 30 s): queued");
	assert_summary("{\"id\":\"c-000002\",\"pid\":4242,\"kind\":\"cpu\",\"state\":\"starting\",\"seconds\":null}",
		       "capture c-000002 of pid 4242 (cpu): starting");
	assert_summary(CAPTURE_QUEUED,
		       "capture c-000003 of pid 5555 (heap): queued (waiting for the inspector port)");
	/* A reason is only shown while queued. */
	assert_summary("{\"id\":\"c-4\",\"pid\":1,\"kind\":\"heap\",\"state\":\"running\",\"queued_reason\":\"x\"}",
		       "capture c-4 of pid 1 (heap): running");
	assert_summary("{\"id\":\"c-5\",\"pid\":1,\"kind\":\"heap\",\"state\":\"queued\",\"queued_reason\":\"\"}",
		       "capture c-5 of pid 1 (heap): queued");
	/* Seconds out of range or not whole are left out. */
	assert_summary("{\"id\":\"c-6\",\"pid\":1,\"kind\":\"heap\",\"state\":\"queued\",\"seconds\":2.5}",
		       "capture c-6 of pid 1 (heap): queued");
	assert_summary("{\"id\":\"c-7\",\"pid\":1,\"kind\":\"heap\",\"state\":\"queued\",\"seconds\":0}",
		       "capture c-7 of pid 1 (heap): queued");
	assert_summary("{}", "capture - of pid - (-): -");
	assert_summary("{\"id\":\"c\\n1\",\"kind\":\"h\\u0007\",\"state\":\"\\u009b\"}",
		       "capture c?1 of pid - (h?): ?");

	json = parse("{\"id\":\"c-000001\",\"pid\":4242,\"kind\":\"heap\",\"state\":\"queued\"}");
	assert_int_equal(capture__format_summary(json, buf, sizeof(buf)), -ENOBUFS);
	cJSON_Delete(json);
}

static void test_capture_details(void **state)
{
	struct capture_output o;
	cJSON *json = parse(CAPTURE_DONE);
	char *text;

	output_open(&o);
	assert_int_equal(capture__print_details(json, o.f), 0);
	text = output_close(&o);
	assert_string_equal(text,
			    "id:            c-000001\n"
			    "pid:           4242\n"
			    "kind:          heap\n"
			    "state:         done\n"
			    "trigger:       rss-threshold (threshold_bytes=536870912 rss_bytes=612368384)\n"
			    "seconds:       30\n"
			    "queued_reason: -\n"
			    "created_at:    2026-11-23T08:55:00Z\n"
			    "started_at:    2026-11-23T08:55:01Z\n"
			    "ended_at:      2026-11-23T08:55:31Z\n"
			    "error:         -\n"
			    "file:          /var/lib/inspectd/heap-profile-4242-20261123T085501Z.meta.json\n"
			    "file:          /var/lib/inspectd/heap-profile-4242-20261123T085501Z.heapprofile\n");
	free(text);
	cJSON_Delete(json);

	json = parse("{\"id\":\"c-9\",\"trigger\":{\"kind\":\"signal\",\"signal\":\"SIGWINCH\",\"sender_pid\":12,"
		     "\"nested\":{\"a\":1},\"list\":[1],\"ratio\":0.5,\"none\":null,\"ok\":false},"
		     "\"files\":[7],\"error\":\"a\\nb\",\"queued_reason\":\"busy\"}");
	output_open(&o);
	assert_int_equal(capture__print_details(json, o.f), 0);
	text = output_close(&o);
	assert_string_equal(text,
			    "id:            c-9\n"
			    "pid:           -\n"
			    "kind:          -\n"
			    "state:         -\n"
			    "trigger:       signal (signal=SIGWINCH sender_pid=12 ratio=0.5 ok=false)\n"
			    "seconds:       -\n"
			    "queued_reason: busy\n"
			    "created_at:    -\n"
			    "started_at:    -\n"
			    "ended_at:      -\n"
			    "error:         a?b\n"
			    "file:          -\n");
	free(text);
	cJSON_Delete(json);

	/* A trace's categories, shown only when the capture has them. */
	json = parse("{\"id\":\"c-000002\",\"pid\":7,\"kind\":\"trace\",\"state\":\"running\",\"seconds\":10,"
		     "\"categories\":\"node.perf,v8\"}");
	output_open(&o);
	assert_int_equal(capture__print_details(json, o.f), 0);
	text = output_close(&o);
	assert_non_null(strstr(text, "\nseconds:       10\ncategories:    node.perf,v8\nqueued_reason: -\n"));
	free(text);
	cJSON_Delete(json);

	json = parse("{\"trigger\":{}}");
	output_open(&o);
	assert_int_equal(capture__print_details(json, o.f), 0);
	text = output_close(&o);
	assert_non_null(strstr(text, "\ntrigger:       -\n"));
	free(text);
	cJSON_Delete(json);

	json = parse("[]");
	output_open(&o);
	assert_int_equal(capture__print_details(json, o.f), -EINVAL);
	free(output_close(&o));
	cJSON_Delete(json);
}

static void test_capture_files(void **state)
{
	struct capture_output o;
	cJSON *json = parse(CAPTURE_DONE);
	char *text;

	output_open(&o);
	assert_int_equal(capture__print_files(json, o.f), 0);
	text = output_close(&o);
	assert_string_equal(text,
			    "/var/lib/inspectd/heap-profile-4242-20261123T085501Z.meta.json\n"
			    "/var/lib/inspectd/heap-profile-4242-20261123T085501Z.heapprofile\n");
	free(text);
	cJSON_Delete(json);

	json = parse("{\"files\":[\"/tmp/a\\nb\",1,\"\",null,\"/tmp/c\"]}");
	output_open(&o);
	assert_int_equal(capture__print_files(json, o.f), 0);
	text = output_close(&o);
	assert_string_equal(text, "/tmp/a?b\n/tmp/c\n");
	free(text);
	cJSON_Delete(json);

	json = parse("{\"files\":\"/tmp/a\"}");
	output_open(&o);
	assert_int_equal(capture__print_files(json, o.f), 0);
	text = output_close(&o);
	assert_string_equal(text, "");
	free(text);
	cJSON_Delete(json);
}

static void test_capture_fields(void **state)
{
	cJSON *json = parse(CAPTURE_DONE);
	uint64_t seconds = 0;

	assert_string_equal(capture__state(json), "done");
	assert_string_equal(capture__id(json), "c-000001");
	assert_true(capture__seconds(json, &seconds));
	assert_int_equal(seconds, 30);
	cJSON_Delete(json);

	json = parse("{\"id\":\"../etc\",\"state\":5,\"seconds\":86401}");
	assert_null(capture__id(json));
	assert_null(capture__state(json));
	assert_false(capture__seconds(json, &seconds));
	cJSON_Delete(json);

	json = parse("{\"seconds\":86400}");
	assert_true(capture__seconds(json, &seconds));
	assert_int_equal(seconds, 86400);
	cJSON_Delete(json);

	assert_null(capture__id(NULL));
	assert_null(capture__state(NULL));
	assert_false(capture__seconds(NULL, &seconds));
}

static void test_api_error(void **state)
{
	char buf[FORMAT_CELL_SIZE * 4];
	cJSON *json = parse("{\"error\":\"pid 4242 is already being profiled\"}");

	format_api_error(json, 409, buf, sizeof(buf));
	assert_string_equal(buf, "pid 4242 is already being profiled");
	cJSON_Delete(json);

	json = parse("{\"error\":\"bad\\u001b]0;pwned\\u0007 request\\n\"}");
	format_api_error(json, 400, buf, sizeof(buf));
	assert_string_equal(buf, "bad?]0;pwned? request?");
	cJSON_Delete(json);

	json = parse("{\"error\":\"\"}");
	format_api_error(json, 500, buf, sizeof(buf));
	assert_string_equal(buf, "HTTP 500 from inspectd");
	cJSON_Delete(json);

	json = parse("{\"error\":{\"text\":\"x\"}}");
	format_api_error(json, 404, buf, sizeof(buf));
	assert_string_equal(buf, "HTTP 404 from inspectd");
	cJSON_Delete(json);

	format_api_error(NULL, 502, buf, sizeof(buf));
	assert_string_equal(buf, "HTTP 502 from inspectd");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_capture_id_valid),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_size_buffer),
		cmocka_unit_test(test_cell_plain),
		cmocka_unit_test(test_cell_sanitized),
		cmocka_unit_test(test_cell_truncated),
		cmocka_unit_test(test_cell_buffer),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_last_column_right),
		cmocka_unit_test(test_table_many_rows),
		cmocka_unit_test(test_process_row),
		cmocka_unit_test(test_process_row_container),
		cmocka_unit_test(test_process_row_nulls),
		cmocka_unit_test(test_process_row_cpu),
		cmocka_unit_test(test_process_row_hostile),
		cmocka_unit_test(test_process_row_cmdline_truncated),
		cmocka_unit_test(test_parse_rfc3339),
		cmocka_unit_test(test_process_row_next),
		cmocka_unit_test(test_process_table),
		cmocka_unit_test(test_capture_row),
		cmocka_unit_test(test_capture_row_hostile),
		cmocka_unit_test(test_capture_table),
		cmocka_unit_test(test_capture_summary),
		cmocka_unit_test(test_capture_details),
		cmocka_unit_test(test_capture_files),
		cmocka_unit_test(test_capture_fields),
		cmocka_unit_test(test_api_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
