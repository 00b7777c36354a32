// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The streaming CDP reader: messages shaped like node's answers to
 * Profiler.stop and HeapProfiler.stopSampling, heap snapshot chunk events,
 * error answers; fragments cut everywhere; budgets, depth, hostile JSON; cJSON
 * as the oracle of what is JSON where it is strict enough to be one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cdp_reader.h"

/* ---- helpers ---- */

/* What the sink got, concatenated. fail_at: the call (1 = first) that returns -EIO; 0: none. */
struct collect {
	char *data;
	size_t len, cap;
	int calls;
	int fail_at;
};

static int collect_sink(void *ctx, const char *buf, size_t len)
{
	struct collect *c = ctx;

	assert_true(len > 0);
	if (++c->calls == c->fail_at)
		return -EIO;
	if (c->len + len + 1 > c->cap) {
		c->cap = (c->len + len + 1) * 2;
		c->data = realloc(c->data, c->cap);
		assert_non_null(c->data);
	}
	memcpy(c->data + c->len, buf, len);
	c->len += len;
	c->data[c->len] = '\0';
	return 0;
}

static void collect_reset(struct collect *c)
{
	free(c->data);
	memset(c, 0, sizeof(*c));
}

static struct cdp_reader_watch watch_of(const char *k0, const char *k1, enum cdp_reader_mode mode, struct collect *c)
{
	struct cdp_reader_watch w = { { k0, k1 }, mode, collect_sink, c };

	return w;
}

/* One message in fragments of chunk bytes (the last shorter): the first error, or end's answer. */
static int read_chunked(struct cdp_reader *r, const char *msg, size_t len, size_t chunk,
			const struct cdp_reader_watch *w, size_t budget, struct cdp_reader_header *h)
{
	int rc = cdp_reader__begin(r, w, budget);

	assert_int_equal(rc, 0);
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		rc = cdp_reader__feed(r, msg + off, n);
		if (rc < 0) {
			/* Failed stays failed. */
			assert_int_equal(cdp_reader__feed(r, "{", 1), rc);
			assert_int_equal(cdp_reader__end(r, h), rc);
			return rc;
		}
	}
	return cdp_reader__end(r, h);
}

static int read_whole(struct cdp_reader *r, const char *msg, const struct cdp_reader_watch *w,
		      struct cdp_reader_header *h)
{
	size_t len = strlen(msg);

	return read_chunked(r, msg, len, len ? len : 1, w, SIZE_MAX, h);
}

/* Grows a string with printf; aborts the test when out of memory. */
struct text {
	char *s;
	size_t len, cap;
};

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if (t->s && t->len + (size_t)n < t->cap)
			break;
		t->cap = (t->cap + (size_t)n + 1) * 2;
		t->s = realloc(t->s, t->cap);
		assert_non_null(t->s);
	}
	t->len += (size_t)n;
}

/* A CPU profile as Profiler.stop answers it, with a few thousand samples. */
static char *cpu_profile_message(int id, bool id_last, size_t *profile_off, size_t *profile_len)
{
	struct text t = { 0 };
	size_t start;

	text_add(&t, "{");
	if (!id_last)
		text_add(&t, "\"id\":%d,", id);
	text_add(&t, "\"result\":{\"profile\":");
	start = t.len;
	text_add(&t, "{\"nodes\":[");
	for (int i = 1; i <= 50; i++)
		text_add(&t, "%s{\"id\":%d,\"callFrame\":{\"functionName\":\"%s\",\"scriptId\":\"%d\","
			 "\"url\":\"file:///app/\\u00e9t\\u00e9/server.js\",\"lineNumber\":%d,\"columnNumber\":-1},"
			 "\"hitCount\":%d,\"children\":[%d],\"positionTicks\":[{\"line\":3,\"ticks\":1}]}",
			 i > 1 ? "," : "", i, i == 1 ? "(root)" : "handle\\\"Request\\\"", i, i - 1, i * 3, i + 1);
	text_add(&t, "],\"startTime\":1731000000000,\"endTime\":1731000001000.5,\"samples\":[");
	for (int i = 0; i < 3000; i++)
		text_add(&t, "%s%d", i ? "," : "", 1 + i % 50);
	text_add(&t, "],\"timeDeltas\":[");
	for (int i = 0; i < 3000; i++)
		text_add(&t, "%s%d", i ? "," : "", i % 7 == 0 ? -3 : 125 + i % 11);
	text_add(&t, "]}");
	*profile_off = start;
	*profile_len = t.len - start;
	text_add(&t, "}");
	if (id_last)
		text_add(&t, " ,\n\"id\" : %d", id);
	text_add(&t, "}");
	return t.s;
}

/* A sampling heap profile: head.children nested levels deep. */
static char *heap_profile_message(int levels, size_t *profile_off, size_t *profile_len)
{
	struct text t = { 0 };
	size_t start;

	text_add(&t, "{\"id\":9,\"result\":{\"profile\":");
	start = t.len;
	text_add(&t, "{\"head\":");
	for (int i = 0; i < levels; i++)
		text_add(&t, "{\"callFrame\":{\"functionName\":\"f%d\",\"scriptId\":\"7\",\"url\":\"\","
			 "\"lineNumber\":%d,\"columnNumber\":2},\"selfSize\":%d,\"id\":%d,\"children\":[",
			 i, i, i * 64, i + 1);
	for (int i = 0; i < levels; i++)
		text_add(&t, "]}");
	text_add(&t, ",\"samples\":[{\"size\":64,\"nodeId\":3,\"ordinal\":1.0e0}]}");
	*profile_off = start;
	*profile_len = t.len - start;
	text_add(&t, "}}");
	return t.s;
}

/* The same JSON value, by cJSON. */
static void assert_same_json(const char *a, size_t alen, const char *b, size_t blen)
{
	cJSON *ja = cJSON_ParseWithLength(a, alen), *jb = cJSON_ParseWithLength(b, blen);

	assert_non_null(ja);
	assert_non_null(jb);
	assert_true(cJSON_Compare(ja, jb, true));
	cJSON_Delete(ja);
	cJSON_Delete(jb);
}

/* ---- answers ---- */

static void test_cpu_profile(void **state)
{
	struct cdp_reader *r = cdp_reader__new();
	struct collect c = { 0 };
	struct cdp_reader_watch w = watch_of("result", "profile", CDP_READER_RAW, &c);
	struct cdp_reader_header h;
	size_t off, plen, len;
	char *msg;

	assert_non_null(r);
	for (int id_last = 0; id_last <= 1; id_last++) {
		msg = cpu_profile_message(42, id_last, &off, &plen);
		len = strlen(msg);
		for (size_t chunk = 1; chunk <= 65536; chunk *= 8) {
			collect_reset(&c);
			assert_int_equal(read_chunked(r, msg, len, chunk, &w, SIZE_MAX, &h), 0);
			assert_true(h.has_id);
			assert_false(h.id_invalid);
			assert_int_equal(h.id, 42);
			assert_true(h.has_result);
			assert_false(h.has_method);
			assert_false(h.has_error);
			assert_false(h.has_params);
			assert_true(h.watched_seen);
			assert_int_equal(h.watched_bytes, plen);
			assert_int_equal(h.message_bytes, len);
			/* The exact bytes, first to last, and themselves JSON. */
			assert_int_equal(c.len, plen);
			assert_memory_equal(c.data, msg + off, plen);
			assert_same_json(c.data, c.len, msg + off, plen);
		}
		free(msg);
	}
	collect_reset(&c);
	cdp_reader__free(r);
}

static void test_heap_profile_deep(void **state)
{
	struct cdp_reader *r = cdp_reader__new();
	struct collect c = { 0 };
	struct cdp_reader_watch w = watch_of("result", "profile", CDP_READER_RAW, &c);
	struct cdp_reader_header h;
	size_t off, plen, len;
	/* 2 levels of JSON per node: 450 nodes are 900 deep, within cJSON's 1000 to compare. */
	char *msg = heap_profile_message(450, &off, &plen);
	cJSON *root;

	assert_non_null(r);
	len = strlen(msg);
	root = cJSON_ParseWithLength(msg, len);
	assert_non_null(root);
	cJSON_Delete(root);
	for (size_t chunk = 1; chunk < 2000; chunk = chunk * 3 + 1) {
		collect_reset(&c);
		assert_int_equal(read_chunked(r, msg, len, chunk, &w, SIZE_MAX, &h), 0);
		assert_true(h.has_id);
		assert_int_equal(h.id, 9);
		assert_true(h.watched_seen);
		assert_int_equal(c.len, plen);
		assert_memory_equal(c.data, msg + off, plen);
	}
	/* Itself JSON (cJSON_Compare is exponential in depth: the bytes were compared above). */
	root = cJSON_ParseWithLength(c.data, c.len);
	assert_true(cJSON_IsObject(root));
	cJSON_Delete(root);
	free(msg);
	collect_reset(&c);
	cdp_reader__free(r);
}

static void test_id_and_members(void **state)
{
	static const struct {
		const char *msg;
		bool has_id, id_invalid;
		int id;
	} cases[] = {
		{ "{\"id\":0,\"result\":{}}", true, false, 0 },
		{ "{\"id\":1,\"result\":{}}", true, false, 1 },
		{ "{\"result\":{},\"id\":2147483647}", true, false, INT_MAX },
		{ "{\"id\":2147483648,\"result\":{}}", false, true, 0 },
		{ "{\"id\":99999999999999999999999999,\"result\":{}}", false, true, 0 },
		{ "{\"id\":-1,\"result\":{}}", false, true, 0 },
		{ "{\"id\":-0,\"result\":{}}", false, true, 0 },
		{ "{\"id\":1.0,\"result\":{}}", false, true, 0 },
		{ "{\"id\":1e2,\"result\":{}}", false, true, 0 },
		{ "{\"id\":\"1\",\"result\":{}}", false, true, 0 },
		{ "{\"id\":null,\"result\":{}}", false, true, 0 },
		{ "{\"id\":[1],\"result\":{}}", false, true, 0 },
		{ "{\"id\":{\"id\":1},\"result\":{}}", false, true, 0 },
		{ "{\"result\":{\"id\":5}}", false, false, 0 },
		{ "{\"i\\u0064\":17}", true, false, 17 },
	};
	struct cdp_reader *r = cdp_reader__new();
	struct cdp_reader_header h;

	assert_non_null(r);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (read_whole(r, cases[i].msg, NULL, &h) != 0)
			fail_msg("%s: refused", cases[i].msg);
		if (h.has_id != cases[i].has_id || h.id_invalid != cases[i].id_invalid ||
		    (h.has_id && h.id != cases[i].id))
			fail_msg("%s: has_id %d id_invalid %d id %d", cases[i].msg, h.has_id, h.id_invalid, h.id);
	}

	/* Members of any type count as there; nested ones do not. */
	assert_int_equal(read_whole(r, "{\"result\":null,\"params\":7,\"error\":\"x\"}", NULL, &h), 0);
	assert_true(h.has_result);
	assert_true(h.has_params);
	assert_true(h.has_error);
	assert_string_equal(h.error, "");
	assert_false(h.has_method);
	assert_int_equal(read_whole(r, "{\"x\":{\"result\":1,\"params\":2,\"error\":{\"message\":\"m\"},\"method\":\"M\"}}",
				    NULL, &h), 0);
	assert_false(h.has_result);
	assert_false(h.has_params);
	assert_false(h.has_error);
	assert_false(h.has_method);
	assert_false(h.has_id);
	/* A method that is not a string is no method. */
	assert_int_equal(read_whole(r, "{\"method\":5}", NULL, &h), 0);
	assert_false(h.has_method);
	cdp_reader__free(r);
}

static void test_method(void **state)
{
	struct cdp_reader *r = cdp_reader__new();
	struct cdp_reader_header h;
	char msg[512], name[200];

	assert_non_null(r);
	assert_int_equal(read_whole(r, "{\"method\":\"Profiler.consoleProfile\\u0046inished\",\"params\":{}}", NULL, &h), 0);
	assert_true(h.has_method);
	assert_string_equal(h.method, "Profiler.consoleProfileFinished");
	assert_true(h.has_params);
	assert_false(h.has_id);

	/* 127 bytes fit; 128 do not. */
	memset(name, 'm', sizeof(name));
	name[127] = '\0';
	snprintf(msg, sizeof(msg), "{\"method\":\"%s\"}", name);
	assert_int_equal(read_whole(r, msg, NULL, &h), 0);
	assert_int_equal(strlen(h.method), 127);
	name[127] = 'm';
	name[128] = '\0';
	snprintf(msg, sizeof(msg), "{\"method\":\"%s\"}", name);
	assert_int_equal(read_whole(r, msg, NULL, &h), -EPROTO);
	/* Nor when escapes make it long. */
	snprintf(msg, sizeof(msg), "{\"method\":\"%.*s\\u00e9\"}", 126, name);
	assert_int_equal(read_whole(r, msg, NULL, &h), -EPROTO);
	/* A NUL would cut it short for whoever compares it. */
	assert_int_equal(read_whole(r, "{\"method\":\"Debugger.paused\\u0000x\"}", NULL, &h), -EPROTO);
	cdp_reader__free(r);
}

static void test_error_answer(void **state)
{
	struct cdp_reader *r = cdp_reader__new();
	struct cdp_reader_header h;

	assert_non_null(r);
	assert_int_equal(read_whole(r, "{\"id\":4,\"error\":{\"code\":-32000,\"data\":{\"message\":\"no\"},"
				    "\"message\":\"Profiler is not \\\"started\\\"\\n\\t\\/\\\\ \\u00e9\\ud83d\\ude00 \xe2\x82\xac\"}}",
				    NULL, &h), 0);
	assert_true(h.has_id);
	assert_int_equal(h.id, 4);
	assert_true(h.has_error);
	assert_false(h.error_truncated);
	assert_false(h.has_result);
	assert_string_equal(h.error, "Profiler is not \"started\"\n\t/\\ \xc3\xa9\xf0\x9f\x98\x80 \xe2\x82\xac");

	/* An error without a message, or with another type of one. */
	assert_int_equal(read_whole(r, "{\"id\":4,\"error\":{\"code\":-32601}}", NULL, &h), 0);
	assert_true(h.has_error);
	assert_string_equal(h.error, "");
	assert_int_equal(read_whole(r, "{\"id\":4,\"error\":{\"message\":[\"x\"]}}", NULL, &h), 0);
	assert_true(h.has_error);
	assert_string_equal(h.error, "");
	/* Two messages are one too many. */
	assert_int_equal(read_whole(r, "{\"id\":4,\"error\":{\"message\":\"a\",\"message\":\"b\"}}", NULL, &h), -EPROTO);
	cdp_reader__free(r);
}

static void test_error_truncated(void **state)
{
	struct cdp_reader *r = cdp_reader__new();
	struct cdp_reader_header h;
	struct text t = { 0 };

	assert_non_null(r);
	/* 5000 escaped bytes: the first 1023 decoded ones are kept. */
	text_add(&t, "{\"error\":{\"message\":\"");
	for (int i = 0; i < 1000; i++)
		text_add(&t, "ab\\ncd");
	text_add(&t, "\"},\"id\":3}");
	for (size_t chunk = 1; chunk <= t.len; chunk *= 5) {
		assert_int_equal(read_chunked(r, t.s, t.len, chunk, NULL, SIZE_MAX, &h), 0);
		assert_true(h.has_error);
		assert_true(h.error_truncated);
		assert_int_equal(h.id, 3);
		assert_int_equal(strlen(h.error), CDP_READER_ERROR_MAX - 1);
		for (size_t i = 0; i < CDP_READER_ERROR_MAX - 1; i++)
			assert_int_equal(h.error[i], "ab\ncd"[i % 5]);
	}
	free(t.s);

	/* A character the bound cuts is left out whole, whether it came raw or escaped. */
	for (int escaped = 0; escaped <= 1; escaped++) {
		for (int before = CDP_READER_ERROR_MAX - 5; before < CDP_READER_ERROR_MAX; before++) {
			size_t want;

			memset(&t, 0, sizeof(t));
			text_add(&t, "{\"error\":{\"message\":\"");
			for (int i = 0; i < before; i++)
				text_add(&t, "x");
			text_add(&t, escaped ? "\\ud83d\\ude00\\u00e9" : "\xf0\x9f\x98\x80\xc3\xa9");
			text_add(&t, "\"}}");
			assert_int_equal(read_whole(r, t.s, NULL, &h), 0);
			want = (size_t)before + 4 + 2 <= CDP_READER_ERROR_MAX - 1 ? (size_t)before + 6 :
			       (size_t)before + 4 <= CDP_READER_ERROR_MAX - 1 ? (size_t)before + 4 : (size_t)before;
			assert_int_equal(strlen(h.error), want);
			assert_int_equal(h.error_truncated, want < (size_t)before + 6);
			free(t.s);
		}
	}
	cdp_reader__free(r);
}

/* ---- events and the watched value ---- */

static void test_heap_snapshot_chunk(void **state)
{
	const char *msg = "{\"method\":\"HeapProfiler.addHeapSnapshotChunk\",\"params\":{\"chunk\":"
			  "\"{\\\"snapshot\\\":{\\\"meta\\\":{\\\"node_fields\\\":[\\\"type\\\",\\\"name\\\"]},"
			  "\\\"node_count\\\":3},\\n\\\"strings\\\":[\\\"\\u00e9\\ud83d\\ude00\xe2\x82\xac\\\"]}\"}}";
	const char *want = "{\"snapshot\":{\"meta\":{\"node_fields\":[\"type\",\"name\"]},\"node_count\":3},\n"
			   "\"strings\":[\"\xc3\xa9\xf0\x9f\x98\x80\xe2\x82\xac\"]}";
	struct cdp_reader *r = cdp_reader__new();
	struct collect c = { 0 };
	struct cdp_reader_watch w = watch_of("params", "chunk", CDP_READER_STRING, &c);
	struct cdp_reader_header h;
	cJSON *root;

	assert_non_null(r);
	assert_int_equal(read_whole(r, msg, &w, &h), 0);
	assert_true(h.has_method);
	assert_string_equal(h.method, "HeapProfiler.addHeapSnapshotChunk");
	assert_true(h.has_params);
	assert_false(h.has_id);
	assert_false(h.id_invalid);
	assert_true(h.watched_seen);
	assert_string_equal(c.data, want);
	assert_int_equal(h.watched_bytes, strlen(want));
	/* As cJSON decodes it. */
	root = cJSON_Parse(msg);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "params"), "chunk")->valuestring, c.data);
	cJSON_Delete(root);

	/* A whole event's params, raw. */
	collect_reset(&c);
	w = watch_of("params", NULL, CDP_READER_RAW, &c);
	assert_int_equal(read_whole(r, "{\"method\":\"Runtime.consoleAPICalled\",\"params\": {\"type\":\"log\",\"args\":[]} }",
				    &w, &h), 0);
	assert_string_equal(c.data, "{\"type\":\"log\",\"args\":[]}");
	assert_true(h.has_params);
	collect_reset(&c);
	cdp_reader__free(r);
}

/* Every cut of a message in two, every way of watching it: the same output. */
static void test_every_split(void **state)
{
	static const char msg[] =
		"{\"method\":\"HeapProfiler.addHeapSnapshotChunk\",\"params\":{\"chunk\":"
		"\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\te\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\uD83D\\uDE00"
		"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\x7f z\",\"n\":-1.5E+3},\"id\":77}";
	static const char decoded[] =
		"a\"b\\c/d\b\f\n\r\teA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
		"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\x7f z";
	const char *chunk_raw = strstr(msg, "\"a\\\""), *params_raw = strstr(msg, "{\"chunk\"");
	size_t chunk_len = (size_t)(strstr(msg, " z\"") + 3 - chunk_raw);
	size_t params_len = (size_t)(strstr(msg, "+3}") + 3 - params_raw);
	const struct {
		const char *k0, *k1;
		enum cdp_reader_mode mode;
		const char *want;
		size_t want_len;
	} watches[] = {
		{ "params", "chunk", CDP_READER_STRING, decoded, sizeof(decoded) - 1 },
		{ "params", "chunk", CDP_READER_RAW, chunk_raw, chunk_len },
		{ "params", NULL, CDP_READER_RAW, params_raw, params_len },
		{ "params", "n", CDP_READER_RAW, "-1.5E+3", 7 },
		{ "id", NULL, CDP_READER_RAW, "77", 2 },
		{ "method", NULL, CDP_READER_STRING, "HeapProfiler.addHeapSnapshotChunk", 33 },
	};
	size_t len = sizeof(msg) - 1;
	struct cdp_reader *r = cdp_reader__new();
	struct cdp_reader_header h;
	struct collect c = { 0 };

	assert_non_null(r);
	for (size_t k = 0; k < sizeof(watches) / sizeof(watches[0]); k++) {
		struct cdp_reader_watch w = watch_of(watches[k].k0, watches[k].k1, watches[k].mode, &c);

		for (size_t cut = 0; cut <= len; cut++) {
			collect_reset(&c);
			assert_int_equal(cdp_reader__begin(r, &w, len), 0);
			assert_int_equal(cdp_reader__feed(r, msg, cut), 0);
			assert_int_equal(cdp_reader__feed(r, msg + cut, len - cut), 0);
			assert_int_equal(cdp_reader__end(r, &h), 0);
			if (c.len != watches[k].want_len || memcmp(c.data, watches[k].want, c.len) != 0)
				fail_msg("watch %zu, cut at %zu: got %zu bytes, want %zu", k, cut, c.len, watches[k].want_len);
			assert_true(h.watched_seen);
			assert_int_equal(h.watched_bytes, watches[k].want_len);
			assert_string_equal(h.method, "HeapProfiler.addHeapSnapshotChunk");
			assert_int_equal(h.id, 77);
		}
		/* And a byte at a time. */
		collect_reset(&c);
		assert_int_equal(read_chunked(r, msg, len, 1, &w, len, &h), 0);
		assert_int_equal(c.len, watches[k].want_len);
		assert_memory_equal(c.data, watches[k].want, c.len);
	}
	collect_reset(&c);
	cdp_reader__free(r);
}

static void test_string_long(void **state)
{
	struct cdp_reader *r = cdp_reader__new();
	struct collect c = { 0 };
	struct cdp_reader_watch w = watch_of("params", "chunk", CDP_READER_STRING, &c);
	struct cdp_reader_header h;
	struct text t = { 0 }, want = { 0 };

	assert_non_null(r);
	/* Escapes that fill the bounce buffer many times, and plain runs longer than it. */
	text_add(&t, "{\"params\":{\"chunk\":\"");
	for (int i = 0; i < 3000; i++) {
		text_add(&t, "\\\"%d\\\":\\u00e9,", i);
		text_add(&want, "\"%d\":\xc3\xa9,", i);
	}
	for (int i = 0; i < 9000; i++) {
		text_add(&t, "%c", 'a' + i % 26);
		text_add(&want, "%c", 'a' + i % 26);
	}
	text_add(&t, "\"}}");
	for (size_t chunk = 7; chunk < 100000; chunk *= 7) {
		collect_reset(&c);
		assert_int_equal(read_chunked(r, t.s, t.len, chunk, &w, SIZE_MAX, &h), 0);
		assert_int_equal(c.len, want.len);
		assert_memory_equal(c.data, want.s, want.len);
		assert_int_equal(h.watched_bytes, want.len);
	}
	/* What a fragment held reaches the sink before feed returns, before the string ends. */
	collect_reset(&c);
	assert_int_equal(cdp_reader__begin(r, &w, SIZE_MAX), 0);
	assert_int_equal(cdp_reader__feed(r, t.s, 23), 0);     /* {"params":{"chunk":"\"0 */
	assert_int_equal(c.len, 2);
	assert_int_equal(cdp_reader__feed(r, t.s + 23, t.len - 23 - 3), 0);
	assert_int_equal(c.len, want.len);
	assert_memory_equal(c.data, want.s, want.len);
	assert_int_equal(cdp_reader__feed(r, t.s + t.len - 3, 3), 0);
	assert_int_equal(cdp_reader__end(r, &h), 0);
	assert_int_equal(c.len, want.len);
	free(t.s);
	free(want.s);
	collect_reset(&c);
	cdp_reader__free(r);
}

static void test_watch_where(void **state)
{
	static const struct {
		const char *msg, *k0, *k1;
		const char *want;       /* NULL: not seen */
	} cases[] = {
		{ "{\"result\":{\"x\":{\"profile\":1},\"profile\":2}}", "result", "profile", "2" },
		{ "{\"profile\":1,\"result\":{}}", "result", "profile", NULL },
		{ "{\"result\":[{\"profile\":1}]}", "result", "profile", NULL },
		{ "{\"result\":\"profile\"}", "result", "profile", NULL },
		{ "{\"params\":{\"profile\":3}}", "result", "profile", NULL },
		{ "{\"result\":{\"pro\\u0066ile\":[1, 2]}}", "result", "profile", "[1, 2]" },
		{ "{\"result\":{\"profil\":1,\"profiles\":2,\"profile\":true}}", "result", "profile", "true" },
		{ "{\"result\":{\"profile\":null},\"id\":1}", "result", "profile", "null" },
		{ "{\"result\":{\"profile\":false}}", "result", "profile", "false" },
		{ "{\"result\":{\"profile\":\"\"}}", "result", "profile", "\"\"" },
		{ "{\"result\":{\"profile\":0}}", "result", "profile", "0" },
		{ "{\"result\":{\"profile\":{}}}", "result", "profile", "{}" },
		{ "{\"error\":{\"message\":\"m\\u00e9\"}}", "error", "message", "\"m\\u00e9\"" },
		{ "{\"\":{\"\":[[]]}}", "", "", "[[]]" },
		{ "{\"result\":{}}", NULL, NULL, NULL },
	};
	struct cdp_reader *r = cdp_reader__new();
	struct cdp_reader_header h;
	struct collect c = { 0 };

	assert_non_null(r);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cdp_reader_watch w = watch_of(cases[i].k0, cases[i].k1, CDP_READER_RAW, &c);

		collect_reset(&c);
		assert_int_equal(read_whole(r, cases[i].msg, &w, &h), 0);
		if (h.watched_seen != !!cases[i].want)
			fail_msg("%s: watched_seen %d", cases[i].msg, h.watched_seen);
		if (cases[i].want)
			assert_string_equal(c.data, cases[i].want);
		else
			assert_int_equal(c.calls, 0);
	}
	/* Errors are read while watched. */
	{
		struct cdp_reader_watch w = watch_of("error", "message", CDP_READER_STRING, &c);

		collect_reset(&c);
		assert_int_equal(read_whole(r, "{\"error\":{\"message\":\"m\\u00e9\"}}", &w, &h), 0);
		assert_string_equal(c.data, "m\xc3\xa9");
		assert_string_equal(h.error, "m\xc3\xa9");
	}
	collect_reset(&c);
	cdp_reader__free(r);
}

static void test_watch_errors(void **state)
{
	struct cdp_reader *r = cdp_reader__new();
	struct cdp_reader_header h;
	struct collect c = { 0 };
	struct cdp_reader_watch w = watch_of("params", "chunk", CDP_READER_STRING, &c);
	const char *not_strings[] = {
		"{\"params\":{\"chunk\":5}}",
		"{\"params\":{\"chunk\":{\"a\":\"b\"}}}",
		"{\"params\":{\"chunk\":[\"b\"]}}",
		"{\"params\":{\"chunk\":null}}",
	};
	const char *twice[] = {
		"{\"params\":{\"chunk\":\"a\",\"chunk\":\"b\"}}",
		"{\"params\":{\"chunk\":\"a\",\"ch\\u0075nk\":\"b\"}}",
		"{\"params\":{\"chunk\":\"a\"},\"params\":{}}",
		"{\"params\":{},\"params\":{\"chunk\":\"a\"}}",
		"{\"id\":1,\"id\":1}",
		"{\"method\":\"a\",\"method\":\"b\"}",
		"{\"result\":{},\"result\":{}}",
		"{\"error\":{},\"error\":{}}",
	};

	assert_non_null(r);
	for (size_t i = 0; i < sizeof(not_strings) / sizeof(not_strings[0]); i++)
		assert_int_equal(read_whole(r, not_strings[i], &w, &h), -EPROTO);
	for (size_t i = 0; i < sizeof(twice) / sizeof(twice[0]); i++) {
		collect_reset(&c);
		if (read_whole(r, twice[i], &w, &h) != -EPROTO)
			fail_msg("%s: accepted", twice[i]);
	}
	/* Members nobody looks at may repeat. */
	assert_int_equal(read_whole(r, "{\"params\":{\"a\":1,\"a\":2,\"b\":{\"chunk\":1,\"chunk\":2}},\"x\":1,\"x\":2}", &w, &h), 0);

	/* A watch needs its sink and a known mode. */
	w.sink = NULL;
	assert_int_equal(cdp_reader__begin(r, &w, 100), -EINVAL);
	assert_int_equal(cdp_reader__feed(r, "{}", 2), -EINVAL);
	assert_int_equal(cdp_reader__end(r, &h), -EINVAL);
	w = watch_of("params", NULL, (enum cdp_reader_mode)7, &c);
	assert_int_equal(cdp_reader__begin(r, &w, 100), -EINVAL);
	/* No path: no watch, and no sink needed. */
	w.path[0] = NULL;
	w.sink = NULL;
	assert_int_equal(read_whole(r, "{\"params\":{}}", &w, &h), 0);
	assert_false(h.watched_seen);
	collect_reset(&c);
	cdp_reader__free(r);
}

static void test_sink_error(void **state)
{
	struct cdp_reader *r = cdp_reader__new();
	struct cdp_reader_header h;
	struct collect c = { 0 };
	struct cdp_reader_watch w = watch_of("result", "profile", CDP_READER_RAW, &c);
	size_t off, plen, len;
	char *msg = cpu_profile_message(1, false, &off, &plen);

	assert_non_null(r);
	len = strlen(msg);
	for (int at = 1; at <= 3; at++) {
		collect_reset(&c);
		c.fail_at = at;
		assert_int_equal(read_chunked(r, msg, len, 1000, &w, SIZE_MAX, &h), -EIO);
		assert_int_equal(c.calls, at);
	}
	/* STRING mode too, with the bounce buffer. */
	w = watch_of("error", "message", CDP_READER_STRING, &c);
	collect_reset(&c);
	c.fail_at = 1;
	assert_int_equal(read_whole(r, "{\"error\":{\"message\":\"a\\nb\"}}", &w, &h), -EIO);
	/* The reader is good for the next message. */
	collect_reset(&c);
	assert_int_equal(read_whole(r, "{\"error\":{\"message\":\"a\\nb\"}}", &w, &h), 0);
	assert_string_equal(c.data, "a\nb");
	free(msg);
	collect_reset(&c);
	cdp_reader__free(r);
}

/* ---- bounds ---- */

static void test_budget(void **state)
{
	struct cdp_reader *r = cdp_reader__new();
	struct cdp_reader_header h;
	struct collect c = { 0 };
	struct cdp_reader_watch w = watch_of("result", "profile", CDP_READER_RAW, &c);
	size_t off, plen, len;
	char *msg = cpu_profile_message(1, false, &off, &plen);

	assert_non_null(r);
	len = strlen(msg);
	assert_true(len % 4096 > 2);            /* the last fragment holds the end of the profile */
	assert_int_equal(read_chunked(r, msg, len, 4096, &w, len, &h), 0);
	collect_reset(&c);
	assert_int_equal(read_chunked(r, msg, len, 4096, &w, len - 1, &h), -EMSGSIZE);
	/* What came before the budget ran out was read, not more. */
	assert_int_equal(h.message_bytes, len / 4096 * 4096);
	assert_int_equal(c.len, len / 4096 * 4096 - off);
	assert_int_equal(h.id, 1);

	/* Whitespace counts; a fresh reader has no budget until begin. */
	cdp_reader__free(r);
	r = cdp_reader__new();
	assert_non_null(r);
	assert_int_equal(cdp_reader__feed(r, "{}", 2), -EMSGSIZE);
	assert_int_equal(cdp_reader__begin(r, NULL, 4), 0);
	assert_int_equal(cdp_reader__feed(r, "{} ", 3), 0);
	assert_int_equal(cdp_reader__feed(r, "\n", 1), 0);
	assert_int_equal(cdp_reader__feed(r, "", 0), 0);
	assert_int_equal(cdp_reader__feed(r, "\n", 1), -EMSGSIZE);
	assert_int_equal(cdp_reader__end(r, &h), -EMSGSIZE);
	free(msg);
	collect_reset(&c);
	cdp_reader__free(r);
}

static char *nested(size_t arrays)
{
	char *s = malloc(2 * arrays + 16);
	size_t n = 0;

	assert_non_null(s);
	n += (size_t)sprintf(s, "{\"a\":");
	memset(s + n, '[', arrays);
	n += arrays;
	memset(s + n, ']', arrays);
	n += arrays;
	strcpy(s + n, "}");
	return s;
}

static void test_depth(void **state)
{
	struct cdp_reader *r = cdp_reader__new();
	struct cdp_reader_header h;
	struct collect c = { 0 };
	struct cdp_reader_watch w = watch_of("a", NULL, CDP_READER_RAW, &c);
	char *s;

	assert_non_null(r);
	/* The top-level object and 4095 arrays. */
	s = nested(CDP_READER_DEPTH_MAX - 1);
	assert_int_equal(read_whole(r, s, &w, &h), 0);
	assert_int_equal(c.len, 2 * (CDP_READER_DEPTH_MAX - 1));
	free(s);
	s = nested(CDP_READER_DEPTH_MAX);
	assert_int_equal(read_whole(r, s, &w, &h), -EPROTO);
	free(s);
	s = nested(1000000);
	assert_int_equal(read_whole(r, s, NULL, &h), -EPROTO);
	free(s);

	/* Objects and arrays mixed at every level: each close must match its open. */
	{
		struct text t = { 0 };
		char *q;

		text_add(&t, "{\"a\":");
		for (int i = 0; i < 2000; i++)
			text_add(&t, i % 3 ? "[" : "{\"k\":");
		for (int i = 1999; i >= 0; i--)
			text_add(&t, i % 3 ? "]" : "}");
		text_add(&t, "}");
		assert_int_equal(read_chunked(r, t.s, t.len, 3, NULL, SIZE_MAX, &h), 0);
		/* The innermost close swapped. */
		q = strpbrk(t.s + 5, "]}");
		*q = *q == ']' ? '}' : ']';
		assert_int_equal(read_chunked(r, t.s, t.len, 3, NULL, SIZE_MAX, &h), -EPROTO);
		free(t.s);
	}
	collect_reset(&c);
	cdp_reader__free(r);
}

/* ---- what is JSON ---- */

static const char *const invalid[] = {
	/* not an object, or not only one */
	"", " ", "[]", "[{}]", "1", "\"x\"", "null", "{}{}", "{} x", "{}]", "{}}", "{},",
	"{", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,", "{\"a\":[1", "{\"a\":{}",
	/* structure */
	"{\"a\" 1}", "{\"a\"::1}", "{\"a\":1,}", "{\"a\":[1,]}", "{,}", "{\"a\":[,1]}", "{\"a\":1 \"b\":2}",
	"{\"a\":[1 2]}", "{1:2}", "{'a':1}", "{a:1}", "{\"a\":1]", "{\"a\":[1}}", "{\"a\":}",
	"{\"a\":[}", "{\"a\":{]}", "\xef\xbb\xbf{}", "{\"a\":1}\x0c", "{\"a\":1}\x00",
	/* strings */
	"{\"a\":\"x}", "{\"a\":\"x\\\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\U0041\"}", "{\"a\":\"\\u00g0\"}",
	"{\"a\":\"\\u00\"}", "{\"a\":\"\\u\"}", "{\"a\":\"\\'\"}", "{\"a\":\"\\0\"}",
	"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\\ud800\\ud800\"}",
	"{\"a\":\"\\ude00\\ud83d\"}", "{\"a\":\"\\ud83dx\"}", "{\"a\":\"\\ud83d\\n\"}",
	"{\"a\":\"\x01\"}", "{\"a\":\"\t\"}", "{\"a\":\"\n\"}", "{\"a\":\"\x1f\"}",
	"{\"a\":\"\xff\"}", "{\"a\":\"\x80\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xc1\xbf\"}", "{\"a\":\"\xe0\x9f\xbf\"}",
	"{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf0\x8f\xbf\xbf\"}", "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xf5\x80\x80\x80\"}",
	"{\"a\":\"\xc3\"}", "{\"a\":\"\xe2\x82\"}", "{\"a\":\"\xc3\xc3\xa9\"}", "{\"\xc3\":1}",
	/* numbers */
	"{\"a\":01}", "{\"a\":00}", "{\"a\":-01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":.5}", "{\"a\":+1}",
	"{\"a\":1e}", "{\"a\":1e+}", "{\"a\":1.5e}", "{\"a\":1.e5}", "{\"a\":0x10}", "{\"a\":1e5.5}",
	"{\"a\":1.2.3}", "{\"a\":--1}", "{\"a\":-a}", "{\"a\":Infinity}", "{\"a\":NaN}", "{\"a\":-Infinity}",
	"{\"a\":[1,01]}", "{\"a\":[1,-]}",
	/* literals */
	"{\"a\":tru}", "{\"a\":True}", "{\"a\":nul}", "{\"a\":falsey}", "{\"a\":nulll}", "{\"a\":undefined}",
};

static void test_invalid(void **state)
{
	struct cdp_reader *r = cdp_reader__new();
	struct cdp_reader_header h;
	struct collect c = { 0 };
	struct cdp_reader_watch w = watch_of("a", NULL, CDP_READER_RAW, &c);

	assert_non_null(r);
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		/* "{\"a\":1}\x00": the NUL is part of the message. */
		size_t len = strlen(invalid[i]) + (strcmp(invalid[i], "{\"a\":1}") == 0);

		for (size_t chunk = 1; chunk <= len + 1; chunk++) {
			int rc = read_chunked(r, invalid[i], len, chunk, chunk % 2 ? &w : NULL, SIZE_MAX, &h);

			collect_reset(&c);
			if (rc != -EPROTO)
				fail_msg("invalid[%zu] \"%s\" in pieces of %zu: %d, want -EPROTO", i, invalid[i], chunk, rc);
		}
	}
	collect_reset(&c);
	cdp_reader__free(r);
}

/* Valid JSON objects, and JSON that is not an object: cJSON must agree with the reader. */
static const char *const oracle[] = {
	"{}", " \t\r\n{ \t\r\n} \t\r\n", "{\"a\":1}", "{\"a\":-0}", "{\"a\":0}", "{\"a\":-0.0e-0}", "{\"a\":1E+2}",
	"{\"a\":1e-2}", "{\"a\":123.456e789}", "{\"a\":-9007199254740993}", "{\"a\":[]}", "{\"a\":[[],{},\"\",0]}",
	"{\"a\":{\"b\":{\"c\":[true,false,null]}}}", "{\"\":\"\"}", "{\"a\":\"\\u0000\"}",
	"{\"a\":\"\\ud83d\\ude00\"}", "{\"a\":\"\\uD83D\\uDE00\"}", "{\"a\":\"\\uffff\\u0080\\u07ff\\u0800\"}",
	"{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", "{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
	"{\"a\":\"\x7f\"}", "{\"a\" : [ 1 , 2 ] , \"b\" : { } }", "{\"a\":1,\"b\":2,\"c\":3}",
	"{\"id\":1,\"result\":{\"profile\":{\"nodes\":[]}}}",
	/* and what both refuse */
	"", "[]", "1", "\"x\"", "null", "{} x", "{\"a\" 1}", "{\"a\":1,}", "{\"a\":[1,]}", "{'a':1}",
	"{\"a\":-}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":1e}", "{\"a\":0x10}", "{\"a\":NaN}",
	"{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}",
	"{\"a\":tru}", "{\"a\":1 2}", "{\"a\":1e5.5}", "{\"a\":1.5e}", "{\"a\":\"x}", "{", "{\"a\":[}",
};

static void test_oracle(void **state)
{
	struct cdp_reader *r = cdp_reader__new();
	struct cdp_reader_header h;

	assert_non_null(r);
	for (size_t i = 0; i < sizeof(oracle) / sizeof(oracle[0]); i++) {
		cJSON *j = cJSON_ParseWithOpts(oracle[i], NULL, true);
		bool want = cJSON_IsObject(j);
		bool got = read_whole(r, oracle[i], NULL, &h) == 0;

		cJSON_Delete(j);
		if (got != want)
			fail_msg("\"%s\": reader %s, cJSON %s", oracle[i], got ? "accepts" : "refuses",
				 want ? "accepts" : "refuses");
		if (strlen(oracle[i]) > 0) {
			/* The same a byte at a time. */
			assert_int_equal(read_chunked(r, oracle[i], strlen(oracle[i]), 1, NULL, SIZE_MAX, &h) == 0, got);
		}
	}
	cdp_reader__free(r);
}

/* Where cJSON is lax and the reader is not: kept here so that a change in either shows. */
static void test_stricter_than_cjson(void **state)
{
	static const char *const lax[] = {
		"{\"a\":01}", "{\"a\":-01}", "{\"a\":00}", "{\"a\":1.}", "{\"a\":\"\x01\"}", "{\"a\":\"\t\"}",
		"{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\\u00g0\"}", "{\"a\":1}\x0c",
	};
	struct cdp_reader *r = cdp_reader__new();
	struct cdp_reader_header h;

	assert_non_null(r);
	for (size_t i = 0; i < sizeof(lax) / sizeof(lax[0]); i++) {
		cJSON *j = cJSON_ParseWithOpts(lax[i], NULL, true);

		assert_true(cJSON_IsObject(j));
		cJSON_Delete(j);
		assert_int_equal(read_whole(r, lax[i], NULL, &h), -EPROTO);
	}
	cdp_reader__free(r);
}

static void test_reuse(void **state)
{
	struct cdp_reader *r = cdp_reader__new();
	struct cdp_reader_header h;
	struct collect c = { 0 };
	struct cdp_reader_watch w = watch_of("result", "profile", CDP_READER_RAW, &c);

	assert_non_null(r);
	/* A message cut short, then a good one: nothing carries over. */
	const char *cut = "{\"method\":\"A.b\",\"error\":{\"message\":\"x\"},\"result\":{\"profile\":[1,";

	assert_int_equal(cdp_reader__begin(r, &w, 1000), 0);
	assert_int_equal(cdp_reader__feed(r, cut, strlen(cut)), 0);
	assert_int_equal(cdp_reader__end(r, &h), -EPROTO);
	assert_true(h.has_method);
	assert_true(h.watched_seen);
	collect_reset(&c);
	assert_int_equal(read_whole(r, "{\"id\":5,\"result\":{\"profile\":[2]}}", &w, &h), 0);
	assert_false(h.has_method);
	assert_false(h.has_error);
	assert_string_equal(h.error, "");
	assert_int_equal(h.id, 5);
	assert_string_equal(c.data, "[2]");
	assert_int_equal(h.message_bytes, strlen("{\"id\":5,\"result\":{\"profile\":[2]}}"));
	/* Empty input is no message. */
	assert_int_equal(cdp_reader__begin(r, NULL, 10), 0);
	assert_int_equal(cdp_reader__end(r, &h), -EPROTO);
	collect_reset(&c);
	cdp_reader__free(r);
	cdp_reader__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_profile),
		cmocka_unit_test(test_heap_profile_deep),
		cmocka_unit_test(test_id_and_members),
		cmocka_unit_test(test_method),
		cmocka_unit_test(test_error_answer),
		cmocka_unit_test(test_error_truncated),
		cmocka_unit_test(test_heap_snapshot_chunk),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_string_long),
		cmocka_unit_test(test_watch_where),
		cmocka_unit_test(test_watch_errors),
		cmocka_unit_test(test_sink_error),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_oracle),
		cmocka_unit_test(test_stricter_than_cjson),
		cmocka_unit_test(test_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
