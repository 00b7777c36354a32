// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * CDP as data: request ids, commands, and the inspector's HTTP answers (its
 * WebSocket messages: test_cdp_reader.c). json-version.json and json-list.json
 * are the bodies of /json/version and /json/list of a node v20 opened with SIGUSR1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cdp.h"
#include "fixture.h"

/* ---- request ids ---- */

static void test_requests_add_take(void **state)
{
	struct cdp_requests r = { 0 };
	int a, b, c, tag = -1;

	a = cdp_requests__add(&r, 100);
	b = cdp_requests__add(&r, 200);
	c = cdp_requests__add(&r, 300);
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(c, 3);
	assert_int_equal(cdp_requests__pending(&r), 3);

	/* Out of order, each tag comes back with its own id. */
	assert_int_equal(cdp_requests__take(&r, b, &tag), 0);
	assert_int_equal(tag, 200);
	assert_int_equal(cdp_requests__take(&r, c, &tag), 0);
	assert_int_equal(tag, 300);
	assert_int_equal(cdp_requests__pending(&r), 1);

	/* Taken once only. */
	tag = -1;
	assert_int_equal(cdp_requests__take(&r, b, &tag), -ENOENT);
	assert_int_equal(tag, -1);
	assert_int_equal(cdp_requests__take(&r, a, &tag), 0);
	assert_int_equal(tag, 100);
	assert_int_equal(cdp_requests__take(&r, a, &tag), -ENOENT);
	assert_int_equal(cdp_requests__pending(&r), 0);

	/* Ids are not reused after a take. */
	assert_int_equal(cdp_requests__add(&r, 400), 4);
}

static void test_requests_unknown(void **state)
{
	struct cdp_requests r = { 0 };
	int tag = -1;

	assert_int_equal(cdp_requests__take(&r, 1, &tag), -ENOENT);
	assert_int_equal(cdp_requests__add(&r, 5), 1);
	assert_int_equal(cdp_requests__take(&r, 2, &tag), -ENOENT);
	assert_int_equal(cdp_requests__take(&r, 99, &tag), -ENOENT);
	/* Free slots hold id 0: an id of 0 or below never matches one. */
	assert_int_equal(cdp_requests__take(&r, 0, &tag), -ENOENT);
	assert_int_equal(cdp_requests__take(&r, -1, &tag), -ENOENT);
	assert_int_equal(cdp_requests__take(&r, -2147483647 - 1, &tag), -ENOENT);
	assert_int_equal(tag, -1);
	assert_int_equal(cdp_requests__pending(&r), 1);
}

static void test_requests_full(void **state)
{
	struct cdp_requests r = { 0 };
	int ids[CDP_MAX_PENDING], tag;

	for (int i = 0; i < CDP_MAX_PENDING; i++) {
		ids[i] = cdp_requests__add(&r, 1000 + i);
		assert_true(ids[i] > 0);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(ids[i], ids[j]);
	}
	assert_int_equal(cdp_requests__pending(&r), CDP_MAX_PENDING);
	assert_int_equal(cdp_requests__add(&r, 9999), -ENOSPC);
	assert_int_equal(cdp_requests__add(&r, 9999), -ENOSPC);
	assert_int_equal(cdp_requests__pending(&r), CDP_MAX_PENDING);

	/* One answer frees one slot. */
	assert_int_equal(cdp_requests__take(&r, ids[7], &tag), 0);
	assert_int_equal(tag, 1007);
	assert_int_equal(cdp_requests__add(&r, 2000), CDP_MAX_PENDING + 1);
	assert_int_equal(cdp_requests__add(&r, 2001), -ENOSPC);

	for (int i = 0; i < CDP_MAX_PENDING; i++) {
		if (i == 7)
			continue;
		assert_int_equal(cdp_requests__take(&r, ids[i], &tag), 0);
		assert_int_equal(tag, 1000 + i);
	}
	assert_int_equal(cdp_requests__take(&r, CDP_MAX_PENDING + 1, &tag), 0);
	assert_int_equal(tag, 2000);
	assert_int_equal(cdp_requests__pending(&r), 0);
}

static void test_requests_wrap(void **state)
{
	struct cdp_requests r = { 0 };
	int tag;

	/* Ids stay within 1..INT_MAX-1 and are never 0 or negative. */
	r.next_id = 0x7ffffffe;
	assert_int_equal(cdp_requests__add(&r, 1), 0x7ffffffe);
	assert_int_equal(cdp_requests__add(&r, 2), 1);
	assert_int_equal(cdp_requests__add(&r, 3), 2);
	assert_int_equal(cdp_requests__take(&r, 0x7ffffffe, &tag), 0);
	assert_int_equal(tag, 1);

	memset(&r, 0, sizeof(r));
	r.next_id = -5;
	assert_int_equal(cdp_requests__add(&r, 1), 1);

	memset(&r, 0, sizeof(r));
	for (int i = 0; i < 1000; i++) {
		int id = cdp_requests__add(&r, i);

		assert_true(id > 0);
		assert_int_equal(cdp_requests__take(&r, id, &tag), 0);
		assert_int_equal(tag, i);
	}
}

/* ---- commands ---- */

static void test_command_new(void **state)
{
	cJSON *params = cJSON_CreateObject();
	const cJSON *v;
	cJSON *back;
	char *s;

	assert_non_null(cJSON_AddNumberToObject(params, "samplingInterval", 32768));
	s = cdp_command_new(3, "HeapProfiler.startSampling", params);
	assert_non_null(s);
	assert_string_equal(s, "{\"id\":3,\"method\":\"HeapProfiler.startSampling\",\"params\":{\"samplingInterval\":32768}}");

	back = cJSON_Parse(s);
	assert_non_null(back);
	v = cJSON_GetObjectItemCaseSensitive(back, "id");
	assert_true(cJSON_IsNumber(v));
	assert_int_equal(v->valueint, 3);
	v = cJSON_GetObjectItemCaseSensitive(back, "method");
	assert_true(cJSON_IsString(v));
	assert_string_equal(v->valuestring, "HeapProfiler.startSampling");
	v = cJSON_GetObjectItemCaseSensitive(back, "params");
	assert_true(cJSON_IsObject(v));
	v = cJSON_GetObjectItemCaseSensitive(v, "samplingInterval");
	assert_true(cJSON_IsNumber(v));
	assert_int_equal(v->valueint, 32768);
	cJSON_Delete(back);
	cJSON_free(s);
}

static void test_command_new_no_params(void **state)
{
	char *s = cdp_command_new(2147483646, "Profiler.enable", NULL);

	assert_non_null(s);
	assert_string_equal(s, "{\"id\":2147483646,\"method\":\"Profiler.enable\"}");
	cJSON_free(s);
}

static void test_command_new_roundtrip(void **state)
{
	const char *method = "Runtime.evaluate\"\n\\";
	cJSON *params = cJSON_CreateObject();
	cJSON *back;
	char *s;

	assert_non_null(cJSON_AddStringToObject(params, "expression", "1+\"2\""));
	s = cdp_command_new(7, method, params);
	assert_non_null(s);
	/* Escaped: one line of JSON. */
	assert_null(strchr(s, '\n'));

	back = cJSON_Parse(s);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(back, "method")->valuestring, method);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(back, "params"),
							     "expression")->valuestring, "1+\"2\"");
	cJSON_Delete(back);
	cJSON_free(s);
}

static void test_command_new_null_method(void **state)
{
	/* params is consumed even on failure (run under ASan/valgrind to see a leak). */
	cJSON *params = cJSON_CreateObject();

	assert_null(cdp_command_new(1, NULL, params));
}

/* ---- /json/version ---- */

static int version(const char *s, char *out, size_t size)
{
	return cdp_parse_version(s, strlen(s), out, size);
}

static void test_version_fixture(void **state)
{
	size_t len;
	char *body = fixture_read("json-version.json", &len);
	char v[CDP_VERSION_MAX];

	assert_int_equal(cdp_parse_version(body, len, v, sizeof(v)), 0);
	assert_string_equal(v, "v20.20.2");
	free(body);
}

static void test_version(void **state)
{
	char v[CDP_VERSION_MAX];

	assert_int_equal(version("{\"Browser\":\"node.js/v20.20.2\"}", v, sizeof(v)), 0);
	assert_string_equal(v, "v20.20.2");
	assert_int_equal(version("{\"Browser\":\"node.js/v22.0.0-nightly20240101+abc\",\"Protocol-Version\":\"1.1\"}", v, sizeof(v)), 0);
	assert_string_equal(v, "v22.0.0-nightly20240101+abc");
	/* Exactly as long as the buffer allows: size - 1 characters. */
	assert_int_equal(version("{\"Browser\":\"node.js/v123456789012345678901234567890\"}", v, sizeof(v)), 0);
	assert_int_equal(strlen(v), CDP_VERSION_MAX - 1);
	assert_string_equal(v, "v123456789012345678901234567890");
	/* A small buffer. */
	assert_int_equal(version("{\"Browser\":\"node.js/v20.20.2\"}", v, 9), 0);
	assert_string_equal(v, "v20.20.2");
	assert_int_equal(version("{\"Browser\":\"node.js/v20.20.2\"}", v, 8), -EPROTO);
}

static void test_version_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"node.js/v20.20.2",
		"{\"Browser\":\"Chrome/1\"}",
		"{\"Browser\":\"Chrome/120.0.6099.109\",\"Protocol-Version\":\"1.3\"}",
		"{\"Browser\":\"Node.js/v20.20.2\"}",
		"{\"Browser\":\"node.js\"}",
		"{\"Browser\":\"node.js/\"}",
		"{\"browser\":\"node.js/v20.20.2\"}",
		"{\"Browser\":42}",
		"{\"Browser\":null}",
		"{\"Browser\":[\"node.js/v20.20.2\"]}",
		"[{\"Browser\":\"node.js/v20.20.2\"}]",
		"{}",
		/* weird characters */
		"{\"Browser\":\"node.js/v20.20.2 \"}",
		"{\"Browser\":\"node.js/v20.20.2\\n\"}",
		"{\"Browser\":\"node.js/../../etc\"}",
		"{\"Browser\":\"node.js/v20/x\"}",
		"{\"Browser\":\"node.js/v20;rm\"}",
		"{\"Browser\":\"node.js/v20\\\"\"}",
		"{\"Browser\":\"node.js/v20%00\"}",
		"{\"Browser\":\"node.js/v20\\u00e9\"}",
		"{\"Browser\":\"node.js/v20\\u001b[31m\"}",
		/* overlong: 32 characters for a 32-byte buffer */
		"{\"Browser\":\"node.js/v1234567890123456789012345678901\"}",
		"{\"Browser\":\"node.js/v1234567890123456789012345678901234567890123456789012345678901234567890\"}",
	};
	char v[CDP_VERSION_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = version(bad[i], v, sizeof(v));

		if (r != -EPROTO)
			fail_msg("cdp_parse_version(%s) = %d, want -EPROTO", bad[i], r);
	}
	assert_int_equal(cdp_parse_version("{\"Browser\":\"node.js/v20.20.2\"}", 0, v, sizeof(v)), -EPROTO);
}

/* ---- /json/list ---- */

static int target(const char *s, char *out, size_t size)
{
	return cdp_parse_target_list(s, strlen(s), out, size);
}

static void test_target_list_fixture(void **state)
{
	size_t len;
	char *body = fixture_read("json-list.json", &len);
	char path[CDP_WS_PATH_MAX], want[CDP_WS_PATH_MAX];
	cJSON *list = cJSON_Parse(body);
	const cJSON *id;

	/* The path is "/" and the target's id, as node prints it. */
	assert_true(cJSON_IsArray(list));
	id = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 0), "id");
	assert_true(cJSON_IsString(id));
	snprintf(want, sizeof(want), "/%s", id->valuestring);
	cJSON_Delete(list);

	assert_int_equal(cdp_parse_target_list(body, len, path, sizeof(path)), 0);
	assert_string_equal(path, want);
	assert_string_equal(path, "/9fc77bba-00e9-4c82-abbb-eb56eb46bfb5");
	free(body);
}

static void test_target_list(void **state)
{
	char path[CDP_WS_PATH_MAX];

	assert_int_equal(target("[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229/abc-DEF-123\"}]", path, sizeof(path)), 0);
	assert_string_equal(path, "/abc-DEF-123");
	/* The host part is not ours to trust or use. */
	assert_int_equal(target("[{\"webSocketDebuggerUrl\":\"ws://evil.example:1/x\"}]", path, sizeof(path)), 0);
	assert_string_equal(path, "/x");
	assert_int_equal(target("[{\"webSocketDebuggerUrl\":\"ws:///x\"}]", path, sizeof(path)), 0);
	assert_string_equal(path, "/x");
	/* The first usable target. */
	assert_int_equal(target("[{\"id\":\"a\"},"
				"{\"webSocketDebuggerUrl\":\"ws://h/../etc\"},"
				"{\"webSocketDebuggerUrl\":\"ws://h/second\"},"
				"{\"webSocketDebuggerUrl\":\"ws://h/third\"}]", path, sizeof(path)), 0);
	assert_string_equal(path, "/second");
	/* Bounded: "/" plus size - 2 characters. */
	assert_int_equal(target("[{\"webSocketDebuggerUrl\":\"ws://h/abcdefgh\"}]", path, 10), 0);
	assert_string_equal(path, "/abcdefgh");
}

static void test_target_list_hostile(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229/abc\"}",       /* not an array */
		"\"ws://127.0.0.1:9229/abc\"",
		"[]",
		"[[]]",
		"[\"ws://127.0.0.1:9229/abc\"]",
		"[{\"id\":\"abc\"}]",                                         /* missing field */
		"[{\"webSocketDebuggerUrl\":null}]",
		"[{\"webSocketDebuggerUrl\":42}]",
		"[{\"webSocketDebuggerUrl\":\"\"}]",
		"[{\"websocketdebuggerurl\":\"ws://127.0.0.1:9229/abc\"}]",
		/* paths */
		"[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229/\"}]",           /* empty */
		"[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229\"}]",            /* none */
		"[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229/../../etc/passwd\"}]",
		"[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229/..\"}]",
		"[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229/abc/def\"}]",
		"[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229//abc\"}]",
		"[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229/abc def\"}]",
		"[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229/ abc\"}]",
		"[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229/abc\\r\\nHost: evil\"}]",
		"[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229/%2e%2e\"}]",
		"[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229/abc?x=1\"}]",
		"[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229/abc#x\"}]",
		"[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229/abc\\u00e9\"}]",
		"[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229/abc_def\"}]",
		"[{\"webSocketDebuggerUrl\":\"ws://127.0.0.1:9229/abc.def\"}]",
		/* other schemes */
		"[{\"webSocketDebuggerUrl\":\"wss://127.0.0.1:9229/abc\"}]",
		"[{\"webSocketDebuggerUrl\":\"http://127.0.0.1:9229/abc\"}]",
		"[{\"webSocketDebuggerUrl\":\"WS://127.0.0.1:9229/abc\"}]",
		"[{\"webSocketDebuggerUrl\":\"wsx://abc\"}]",
		"[{\"webSocketDebuggerUrl\":\"ws:/x/abc\"}]",
		"[{\"webSocketDebuggerUrl\":\"/abc\"}]",
		/* too long for the buffer: 79 characters after the slash */
		"[{\"webSocketDebuggerUrl\":\"ws://h/0123456789012345678901234567890123456789012345678901234567890123456789012345678\"}]",
	};
	char path[CDP_WS_PATH_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;

		memset(path, 'Z', sizeof(path));
		r = target(bad[i], path, sizeof(path));
		if (r != -EPROTO)
			fail_msg("cdp_parse_target_list(%s) = %d, want -EPROTO", bad[i], r);
		/* Nothing half-written. */
		assert_int_equal(path[0], 'Z');
	}
}

static void test_target_list_bounds(void **state)
{
	const char *longest =
		"[{\"webSocketDebuggerUrl\":\"ws://h/012345678901234567890123456789012345678901234567890123456789012345678901234567\"}]";
	char path[CDP_WS_PATH_MAX];

	/* 78 characters after the slash: "/" + 78 + NUL fills 80 bytes. */
	assert_int_equal(target(longest, path, sizeof(path)), 0);
	assert_int_equal(strlen(path), CDP_WS_PATH_MAX - 1);
	assert_int_equal(target(longest, path, sizeof(path) - 1), -EPROTO);
	/* No room for anything. */
	assert_int_equal(target("[{\"webSocketDebuggerUrl\":\"ws://h/a\"}]", path, 2), -EPROTO);
	assert_int_equal(target("[{\"webSocketDebuggerUrl\":\"ws://h/a\"}]", path, 1), -EPROTO);
	assert_int_equal(target("[{\"webSocketDebuggerUrl\":\"ws://h/a\"}]", path, 0), -EPROTO);
	assert_int_equal(target("[{\"webSocketDebuggerUrl\":\"ws://h/a\"}]", path, 3), 0);
	assert_string_equal(path, "/a");
}

/* A hostile inspector's deeply nested answer: cJSON's nesting limit (1000) keeps it from
 * exhausting the stack. */
static void test_http_deep_nesting(void **state)
{
	size_t depth = 100000, n = 0;
	char *s = malloc(2 * depth + 64), v[CDP_VERSION_MAX], path[CDP_WS_PATH_MAX];

	assert_non_null(s);
	n += (size_t)sprintf(s, "{\"Browser\":");
	for (size_t i = 0; i < depth; i++)
		s[n++] = '[';
	for (size_t i = 0; i < depth; i++)
		s[n++] = ']';
	s[n++] = '}';
	assert_int_equal(cdp_parse_version(s, n, v, sizeof(v)), -EPROTO);
	/* The list: an array of arrays. */
	assert_int_equal(cdp_parse_target_list(s + strlen("{\"Browser\":"), 2 * depth, path, sizeof(path)), -EPROTO);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_add_take),
		cmocka_unit_test(test_requests_unknown),
		cmocka_unit_test(test_requests_full),
		cmocka_unit_test(test_requests_wrap),
		cmocka_unit_test(test_command_new),
		cmocka_unit_test(test_command_new_no_params),
		cmocka_unit_test(test_command_new_roundtrip),
		cmocka_unit_test(test_command_new_null_method),
		cmocka_unit_test(test_version_fixture),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_version_invalid),
		cmocka_unit_test(test_target_list_fixture),
		cmocka_unit_test(test_target_list),
		cmocka_unit_test(test_target_list_hostile),
		cmocka_unit_test(test_target_list_bounds),
		cmocka_unit_test(test_http_deep_nesting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
