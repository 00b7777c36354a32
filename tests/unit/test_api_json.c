// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The API as data: routes and capture ids, the POST /v1/captures body checked
 * strictly, the JSON of jobs and processes (every key and its type, as the
 * text a client receives), error bodies, and the Prometheus text of /metrics
 * checked by a strict validator of the exposition format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_json.h"

/* ---- helpers ---- */

/* Never NULL: the compiler sees that (cmocka's asserts do not return a promise of it). */
static void *xmalloc(size_t size)
{
	void *p = malloc(size);

	if (!p)
		abort();
	return p;
}

/* The JSON as a client sees it: printed, then parsed back. Frees obj. */
static cJSON *as_client(cJSON *obj, char **ret_text)
{
	char *text;
	cJSON *back;

	assert_non_null(obj);
	text = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	assert_non_null(text);
	back = cJSON_Parse(text);
	if (!back)
		fail_msg("not JSON: %s", text);
	if (ret_text)
		*ret_text = text;
	else
		free(text);
	return back;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!v)
		fail_msg("no \"%s\"", key);
	return v;
}

/* The object has exactly these keys, each once (in any order). */
static void assert_keys(const cJSON *obj, const char *const *keys, size_t n)
{
	const cJSON *item;
	size_t count = 0;

	assert_true(cJSON_IsObject(obj));
	cJSON_ArrayForEach(item, obj) {
		size_t i;

		for (i = 0; i < n; i++)
			if (item->string && strcmp(item->string, keys[i]) == 0)
				break;
		if (i == n)
			fail_msg("unexpected key \"%s\"", item->string ? item->string : "(null)");
		count++;
	}
	for (size_t i = 0; i < n; i++)
		member(obj, keys[i]);
	assert_int_equal(count, n);
}

#define ASSERT_KEYS(obj, ...)                                                                   \
	do {                                                                                    \
		static const char *const keys_[] = { __VA_ARGS__ };                             \
		assert_keys(obj, keys_, sizeof(keys_) / sizeof(keys_[0]));                      \
	} while (0)

static void assert_string_member(const cJSON *obj, const char *key, const char *want)
{
	const cJSON *v = member(obj, key);

	if (!cJSON_IsString(v))
		fail_msg("\"%s\" is not a string", key);
	assert_string_equal(v->valuestring, want);
}

static void assert_number_member(const cJSON *obj, const char *key, double want)
{
	const cJSON *v = member(obj, key);

	if (!cJSON_IsNumber(v))
		fail_msg("\"%s\" is not a number", key);
	if (v->valuedouble != want)
		fail_msg("\"%s\" is %.17g, want %.17g", key, v->valuedouble, want);
}

static void assert_null_member(const cJSON *obj, const char *key)
{
	if (!cJSON_IsNull(member(obj, key)))
		fail_msg("\"%s\" is not null", key);
}

/* 2023-11-14T22:13:20.123Z: RFC 3339, UTC, milliseconds. */
static void assert_rfc3339(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	if (strlen(s) != sizeof(shape) - 1)
		fail_msg("\"%s\" is not RFC 3339 with milliseconds", s);
	for (size_t i = 0; shape[i]; i++) {
		bool ok = shape[i] == 'd' ? s[i] >= '0' && s[i] <= '9' : s[i] == shape[i];

		if (!ok)
			fail_msg("\"%s\" is not RFC 3339 with milliseconds", s);
	}
}

static void assert_time_member(const cJSON *obj, const char *key, const char *want)
{
	assert_string_member(obj, key, want);
	assert_rfc3339(want);
}

/* The text contains this whole line. */
static void assert_has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("no line \"%s\" in:\n%s", line, text);
}

static size_t count_prefix_lines(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, prefix, len) == 0)
			n++;
	return n;
}

/* ---- routes ---- */

static const enum api_method all_methods[] = { API_GET, API_POST, API_DELETE, API_OTHER };

static enum api_route route(enum api_method m, const char *path)
{
	unsigned id = 777;

	return api_route(m, path, &id);
}

static void test_route_fixed_paths(void **state)
{
	static const struct {
		const char *path;
		enum api_route want[4];         /* GET, POST, DELETE, other */
	} cases[] = {
		{ "/v1/processes", { API_PROCESSES, API_METHOD_NOT_ALLOWED, API_METHOD_NOT_ALLOWED,
				     API_METHOD_NOT_ALLOWED } },
		{ "/v1/captures", { API_CAPTURES_LIST, API_CAPTURES_CREATE, API_METHOD_NOT_ALLOWED,
				    API_METHOD_NOT_ALLOWED } },
		{ "/metrics", { API_METRICS, API_METHOD_NOT_ALLOWED, API_METHOD_NOT_ALLOWED,
				API_METHOD_NOT_ALLOWED } },
		{ "/healthz", { API_HEALTHZ, API_METHOD_NOT_ALLOWED, API_METHOD_NOT_ALLOWED,
				API_METHOD_NOT_ALLOWED } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t m = 0; m < 4; m++) {
			enum api_route r = route(all_methods[m], cases[i].path);

			if (r != cases[i].want[m])
				fail_msg("method %zu %s: route %d, want %d", m, cases[i].path, r, cases[i].want[m]);
		}
}

static void test_route_capture_id(void **state)
{
	unsigned id;

	id = 0;
	assert_int_equal(api_route(API_GET, "/v1/captures/c-000042", &id), API_CAPTURE_GET);
	assert_int_equal(id, 42);
	id = 0;
	assert_int_equal(api_route(API_DELETE, "/v1/captures/c-000042", &id), API_CAPTURE_DELETE);
	assert_int_equal(id, 42);
	/* A known capture path with another method: 405, not 404. */
	assert_int_equal(api_route(API_POST, "/v1/captures/c-000042", &id), API_METHOD_NOT_ALLOWED);
	assert_int_equal(api_route(API_OTHER, "/v1/captures/c-000042", &id), API_METHOD_NOT_ALLOWED);

	id = 0;
	assert_int_equal(api_route(API_GET, "/v1/captures/c-000001", &id), API_CAPTURE_GET);
	assert_int_equal(id, 1);
	id = 0;
	assert_int_equal(api_route(API_GET, "/v1/captures/c-1234567", &id), API_CAPTURE_GET);
	assert_int_equal(id, 1234567);
	id = 0;
	assert_int_equal(api_route(API_GET, "/v1/captures/c-4294967295", &id), API_CAPTURE_GET);
	assert_int_equal(id, 4294967295u);
	/* Without the padding: the same capture (ids are parsed as numbers). */
	id = 0;
	assert_int_equal(api_route(API_GET, "/v1/captures/c-42", &id), API_CAPTURE_GET);
	assert_int_equal(id, 42);
}

static void test_route_bad_capture_ids(void **state)
{
	static const char *const bad[] = {
		"/v1/captures/c-0",
		"/v1/captures/c-000000",
		"/v1/captures/c-abc",
		"/v1/captures/c-",
		"/v1/captures/42",
		"/v1/captures/000042",
		"/v1/captures/c-99999999999",
		"/v1/captures/c-4294967296",
		"/v1/captures/c-1x",
		"/v1/captures/c-000042/",
		"/v1/captures/c-000042/files",
		"/v1/captures/c-000042?x=1",
		"/v1/captures/c-000042 ",
		"/v1/captures/ c-000042",
		"/v1/captures/c--1",
		"/v1/captures/c-+1",
		"/v1/captures/c-0x2a",
		"/v1/captures/C-000042",
		"/v1/captures/c000042",
		"/v1/captures/",
		"/v1/captures//c-000042",
		"/v1/captures/c-1.0",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (size_t m = 0; m < 4; m++) {
			unsigned id = 777;
			enum api_route r = api_route(all_methods[m], bad[i], &id);

			/* Not a capture: 404 whatever the method, and the id untouched. */
			if (r != API_NOT_FOUND)
				fail_msg("method %zu \"%s\": route %d, want API_NOT_FOUND", m, bad[i], r);
			assert_int_equal(id, 777);
		}
}

static void test_route_unknown_paths(void **state)
{
	/* lws hands the path without its query string: one that still has it is not ours. */
	static const char *const unknown[] = {
		"", "/", "/v1", "/v1/", "/v2/processes", "/V1/processes", "/v1/processes/", "/v1/processes?x=1",
		"/v1/processesx", "//v1/processes", "v1/processes", "/v1/captures/../processes", "/v1/captures?x=1",
		"/v1/captures/", "/v1/capturesx", "/v1/capture", "/metrics/", "/metrics?x=1", "/Metrics",
		"/healthz/", "/healthz?probe=1", "/health", "/v1/healthz", "/v1/metrics",
	};

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		for (size_t m = 0; m < 4; m++) {
			enum api_route r = route(all_methods[m], unknown[i]);

			if (r != API_NOT_FOUND)
				fail_msg("method %zu \"%s\": route %d, want API_NOT_FOUND", m, unknown[i], r);
		}
}

/* ---- capture ids ---- */

static void test_job_id_format(void **state)
{
	char buf[32];

	api_job_id(42, buf, sizeof(buf));
	assert_string_equal(buf, "c-000042");
	api_job_id(1, buf, sizeof(buf));
	assert_string_equal(buf, "c-000001");
	api_job_id(999999, buf, sizeof(buf));
	assert_string_equal(buf, "c-999999");
	api_job_id(1000000, buf, sizeof(buf));
	assert_string_equal(buf, "c-1000000");
	api_job_id(UINT_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "c-4294967295");
	/* Bounded by size. */
	memset(buf, 'x', sizeof(buf));
	api_job_id(42, buf, 5);
	assert_string_equal(buf, "c-00");
	assert_int_equal(buf[5], 'x');
}

static void test_job_id_roundtrip(void **state)
{
	static const unsigned ids[] = { 1, 2, 9, 10, 42, 99999, 100000, 999999, 1000000, 123456789, 4294967294u,
					4294967295u };
	char buf[32];

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		unsigned id = 0;

		api_job_id(ids[i], buf, sizeof(buf));
		assert_int_equal(api_parse_job_id(buf, &id), 0);
		assert_int_equal(id, ids[i]);
	}
}

static void test_parse_job_id(void **state)
{
	static const char *const bad[] = {
		"", "c", "c-", "c-0", "c-000000", "c-abc", "42", "000042", "c-99999999999", "c-4294967296",
		"c-18446744073709551616", "c-1x", "c-000042/", "c-1 ", " c-1", "c- 1", "c--1", "c-+1", "C-1", "c_1",
		"c-0x10", "c-1.0", "c-1e3", "-c-1", "cc-1", "c-\n1",
	};
	unsigned id;

	id = 0;
	assert_int_equal(api_parse_job_id("c-000042", &id), 0);
	assert_int_equal(id, 42);
	id = 0;
	assert_int_equal(api_parse_job_id("c-42", &id), 0);
	assert_int_equal(id, 42);
	id = 0;
	assert_int_equal(api_parse_job_id("c-0000000000000000000042", &id), 0);
	assert_int_equal(id, 42);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;

		id = 777;
		r = api_parse_job_id(bad[i], &id);
		if (r != -EINVAL)
			fail_msg("api_parse_job_id(\"%s\") = %d, want -EINVAL", bad[i], r);
		assert_int_equal(id, 777);
	}
}

/* ---- POST /v1/captures bodies ---- */

struct parsed {
	int r;
	struct api_capture_request req;
	char err[256];
};

/* The body in a buffer of exactly len bytes (no terminating NUL: the parser must not need one). */
static struct parsed parse_len(const char *body, size_t len)
{
	struct parsed p;
	char *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, body, len);
	memset(&p, 0x5a, sizeof(p));
	p.err[0] = '\0';
	p.r = api_parse_capture_request(copy, len, &p.req, p.err, sizeof(p.err));
	free(copy);
	return p;
}

static struct parsed parse(const char *body)
{
	return parse_len(body, strlen(body));
}

static void assert_request(const char *body, int pid, enum profile_kind kind, uint64_t seconds)
{
	struct parsed p = parse(body);

	if (p.r != 0)
		fail_msg("%s: %d (%s), want 0", body, p.r, p.err);
	assert_int_equal(p.req.pid, pid);
	assert_int_equal(p.req.kind, kind);
	assert_int_equal(p.req.seconds, seconds);
}

static void assert_rejected_len(const char *body, size_t len, const char *want_err)
{
	struct parsed p = parse_len(body, len);

	if (p.r != -EINVAL)
		fail_msg("%.*s: %d, want -EINVAL", (int)(len > 200 ? 200 : len), body, p.r);
	assert_string_equal(p.err, want_err);
}

static void assert_rejected(const char *body, const char *want_err)
{
	assert_rejected_len(body, strlen(body), want_err);
}

#define ERR_REQUIRED    "a JSON body is required: {\"pid\":N,\"kind\":KIND,\"seconds\":N}, and " \
			"\"categories\":\"a,b\" for a trace"
#define ERR_NOT_OBJECT  "the body is not a JSON object"
#define ERR_NO_PID      "\"pid\" is required"
#define ERR_PID         "\"pid\" must be a positive integer"
#define ERR_KIND        "\"kind\" must be \"heap\", \"cpu\", \"heap-snapshot\", \"allocation-timeline\" or " \
			"\"trace\""
#define ERR_SNAPSHOT_SECONDS "\"seconds\" with kind \"heap-snapshot\": a heap snapshot has no duration"
#define ERR_SECONDS     "\"seconds\" must be an integer from 1 to 86400"

static void test_request_valid(void **state)
{
	/* pid alone: a heap capture of the default length. */
	assert_request("{\"pid\":1234}", 1234, PROFILE_HEAP, 0);
	assert_request("{\"pid\":1234,\"kind\":\"heap\"}", 1234, PROFILE_HEAP, 0);
	assert_request("{\"pid\":1234,\"kind\":\"cpu\"}", 1234, PROFILE_CPU, 0);
	assert_request("{\"kind\":\"cpu\",\"pid\":7}", 7, PROFILE_CPU, 0);
	assert_request("{\"pid\":1234,\"kind\":\"cpu\",\"seconds\":30}", 1234, PROFILE_CPU, 30);
	assert_request("{\"pid\":1,\"seconds\":1}", 1, PROFILE_HEAP, 1);
	assert_request("{\"pid\":1,\"seconds\":86400}", 1, PROFILE_HEAP, 86400);
	/* PID_MAX_LIMIT is the largest pid there is. */
	assert_request("{\"pid\":4194304}", 4194304, PROFILE_HEAP, 0);
	/* Whole numbers however written. */
	assert_request("{\"pid\":12.0,\"seconds\":1e1}", 12, PROFILE_HEAP, 10);
	assert_request("{\"pid\":1E2,\"seconds\":86400.0}", 100, PROFILE_HEAP, 86400);
	/* Not JSON, but cJSON takes leading zeros: decimal, never octal. */
	assert_request("{\"pid\":042,\"seconds\":010}", 42, PROFILE_HEAP, 10);
	/* A UTF-8 byte order mark is skipped (RFC 8259 lets a parser ignore it). */
	assert_request("\xef\xbb\xbf{\"pid\":42}", 42, PROFILE_HEAP, 0);
	/* Whitespace around and inside, as curl -d @file sends it. */
	assert_request("  {\n\t\"pid\" : 42 ,\r\n \"kind\" : \"cpu\" }\n", 42, PROFILE_CPU, 0);
}

/* Issue 11's kinds by name; a trace's categories; what a heap snapshot cannot have. */
static void test_request_new_kinds(void **state)
{
	struct parsed p;

	assert_request("{\"pid\":42,\"kind\":\"heap-snapshot\"}", 42, PROFILE_HEAP_SNAPSHOT, 0);
	assert_request("{\"pid\":42,\"kind\":\"allocation-timeline\",\"seconds\":20}", 42,
		       PROFILE_ALLOCATION_TIMELINE, 20);
	assert_request("{\"pid\":42,\"kind\":\"trace\"}", 42, PROFILE_TRACE, 0);
	p = parse("{\"pid\":42,\"kind\":\"trace\"}");
	assert_string_equal(p.req.categories, "");
	p = parse("{\"pid\":42,\"kind\":\"trace\",\"categories\":\"node.perf,v8\",\"seconds\":5}");
	assert_int_equal(p.r, 0);
	assert_int_equal(p.req.kind, PROFILE_TRACE);
	assert_int_equal(p.req.seconds, 5);
	assert_string_equal(p.req.categories, "node.perf,v8");
	/* Checked once the kind is known, wherever it comes. */
	p = parse("{\"categories\":\"v8\",\"pid\":42,\"kind\":\"trace\"}");
	assert_int_equal(p.r, 0);
	assert_string_equal(p.req.categories, "v8");

	/* A heap snapshot has no duration, whatever order the body gives. */
	assert_rejected("{\"pid\":42,\"kind\":\"heap-snapshot\",\"seconds\":30}", ERR_SNAPSHOT_SECONDS);
	assert_rejected("{\"seconds\":1,\"pid\":42,\"kind\":\"heap-snapshot\"}", ERR_SNAPSHOT_SECONDS);
	assert_rejected("{\"pid\":42,\"kind\":\"heap\",\"seconds\":1,\"kind\":\"heap-snapshot\"}",
			ERR_SNAPSHOT_SECONDS);

	/* Categories: a trace's only (the default kind is heap), and as --trace-categories takes them. */
	assert_rejected("{\"pid\":42,\"categories\":\"v8\"}",
			"\"categories\" with kind \"heap\": only a trace has categories");
	assert_rejected("{\"pid\":42,\"kind\":\"heap-snapshot\",\"categories\":\"v8\"}",
			"\"categories\" with kind \"heap-snapshot\": only a trace has categories");
	assert_rejected("{\"pid\":42,\"kind\":\"trace\",\"categories\":\"\"}", "\"categories\": an empty category");
	assert_rejected("{\"pid\":42,\"kind\":\"trace\",\"categories\":\"v8,,node\"}",
			"\"categories\": an empty category");
	assert_rejected("{\"pid\":42,\"kind\":\"trace\",\"categories\":\"v8 node\"}",
			"\"categories\": ' ' in a category (letters, digits, '.', '_' and '-' only)");
	assert_rejected("{\"pid\":42,\"kind\":\"trace\",\"categories\":\"v8\\nnode\"}",
			"\"categories\": byte 0x0a in a category (letters, digits, '.', '_' and '-' only)");
	assert_rejected("{\"pid\":42,\"kind\":\"trace\",\"categories\":\"n\\u00e9\"}",
			"\"categories\": byte 0xc3 in a category (letters, digits, '.', '_' and '-' only)");
	assert_rejected("{\"pid\":42,\"kind\":\"trace\",\"categories\":[\"v8\"]}",
			"\"categories\" must be a string such as \"node,v8\"");
	assert_rejected("{\"pid\":42,\"kind\":\"trace\",\"categories\":null}",
			"\"categories\" must be a string such as \"node,v8\"");
}

/* Categories longer than a capture_request holds are refused, never cut short. */
static void test_request_long_categories(void **state)
{
	char body[4096];
	size_t n;

	n = (size_t)snprintf(body, sizeof(body), "{\"pid\":42,\"kind\":\"trace\",\"categories\":\"");
	for (int i = 0; i < 8; i++) {
		if (i)
			body[n++] = ',';
		memset(body + n, 'a' + i, 63);
		n += 63;
	}
	snprintf(body + n, sizeof(body) - n, "\"}");
	/* 511 characters: the most there is room for. */
	{
		struct parsed p = parse(body);

		assert_int_equal(p.r, 0);
		assert_int_equal(strlen(p.req.categories), CAPTURE_CATEGORIES_MAX - 1);
	}
	snprintf(body + n, sizeof(body) - n, "z\"}");
	assert_rejected(body, "\"categories\": longer than 511 characters");
	/* 33 of them. */
	n = (size_t)snprintf(body, sizeof(body), "{\"pid\":42,\"kind\":\"trace\",\"categories\":\"");
	for (int i = 0; i < 33; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%sc%d", i ? "," : "", i);
	snprintf(body + n, sizeof(body) - n, "\"}");
	assert_rejected(body, "\"categories\": more than 32 categories");
}

static void test_request_empty(void **state)
{
	struct parsed p;

	assert_rejected("", ERR_REQUIRED);
	/* No body at all. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(api_parse_capture_request(NULL, 0, &p.req, p.err, sizeof(p.err)), -EINVAL);
	assert_string_equal(p.err, ERR_REQUIRED);
	/* Whitespace is a body, but not JSON. */
	assert_rejected(" ", ERR_NOT_OBJECT);
	assert_rejected("\n", ERR_NOT_OBJECT);
}

static void test_request_not_an_object(void **state)
{
	static const char *const bad[] = {
		"pid=42", "{", "}", "{pid:42}", "{'pid':42}", "{\"pid\":42", "{\"pid\":42,}", "{\"pid\" 42}",
		"[]", "[{\"pid\":42}]", "42", "\"pid\"", "null", "true", "false",
		"{\"pid\":0x2a}", "{\"pid\":+42}", "{\"pid\":.5}", "{\"pid\":NaN}", "{\"pid\":Infinity}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_rejected(bad[i], ERR_NOT_OBJECT);
	/* Cut short anywhere: never an object. */
	{
		static const char full[] = "{\"pid\":42,\"kind\":\"cpu\",\"seconds\":30}";

		for (size_t len = 1; len < sizeof(full) - 1; len++)
			assert_rejected_len(full, len, ERR_NOT_OBJECT);
	}
}

static void test_request_pid(void **state)
{
	static const char *const bad[] = {
		"{\"pid\":0}", "{\"pid\":-1}", "{\"pid\":-0}", "{\"pid\":1.5}", "{\"pid\":0.999}",
		"{\"pid\":1.0000001}", "{\"pid\":\"12\"}", "{\"pid\":\"\"}", "{\"pid\":null}", "{\"pid\":true}",
		"{\"pid\":false}", "{\"pid\":[12]}", "{\"pid\":{\"n\":12}}", "{\"pid\":4194305}",
		"{\"pid\":2147483647}", "{\"pid\":2147483648}", "{\"pid\":4294967297}", "{\"pid\":99999999999}",
		"{\"pid\":1e300}", "{\"pid\":1e400}", "{\"pid\":-1e400}", "{\"pid\":-2147483648}",
		"{\"pid\":1234,\"kind\":\"cpu\",\"seconds\":30,\"pid\":0}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_rejected(bad[i], ERR_PID);
	assert_rejected("{}", ERR_NO_PID);
	assert_rejected("{\"kind\":\"cpu\"}", ERR_NO_PID);
	assert_rejected("{\"kind\":\"cpu\",\"seconds\":30}", ERR_NO_PID);
	/* Keys are case-sensitive. */
	assert_rejected("{\"PID\":42}", "unknown field \"PID\"");
}

static void test_request_kind(void **state)
{
	static const char *const bad[] = {
		"{\"pid\":42,\"kind\":\"memory\"}", "{\"pid\":42,\"kind\":5}", "{\"pid\":42,\"kind\":\"HEAP\"}",
		"{\"pid\":42,\"kind\":\"Cpu\"}", "{\"pid\":42,\"kind\":\"\"}", "{\"pid\":42,\"kind\":null}",
		"{\"pid\":42,\"kind\":true}", "{\"pid\":42,\"kind\":[\"cpu\"]}", "{\"pid\":42,\"kind\":\"cpu \"}",
		"{\"pid\":42,\"kind\":\"heapx\"}", "{\"pid\":42,\"kind\":\"hea\"}", "{\"pid\":42,\"kind\":0}",
		"{\"pid\":42,\"kind\":{}}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_rejected(bad[i], ERR_KIND);
	/* Checked in the order given: a bad kind before a missing pid. */
	assert_rejected("{\"kind\":\"memory\"}", ERR_KIND);
}

static void test_request_seconds(void **state)
{
	static const char *const bad[] = {
		"{\"pid\":42,\"seconds\":0}", "{\"pid\":42,\"seconds\":86401}", "{\"pid\":42,\"seconds\":1.5}",
		"{\"pid\":42,\"seconds\":\"30\"}", "{\"pid\":42,\"seconds\":-1}", "{\"pid\":42,\"seconds\":0.5}",
		"{\"pid\":42,\"seconds\":null}", "{\"pid\":42,\"seconds\":true}", "{\"pid\":42,\"seconds\":[30]}",
		"{\"pid\":42,\"seconds\":1e9}", "{\"pid\":42,\"seconds\":1e400}", "{\"pid\":42,\"seconds\":86400.5}",
		"{\"pid\":42,\"seconds\":4294967326}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_rejected(bad[i], ERR_SECONDS);
}

static void test_request_unknown_field(void **state)
{
	char body[256], want[128];

	/* A typo must not become a default: "kidn" would otherwise be a heap capture. */
	assert_rejected("{\"pid\":42,\"kidn\":\"cpu\"}", "unknown field \"kidn\"");
	assert_rejected("{\"pid\":42,\"duration\":30}", "unknown field \"duration\"");
	assert_rejected("{\"pid\":42,\"\":1}", "unknown field \"\"");
	assert_rejected("{\"pid\":42,\"Kind\":\"cpu\"}", "unknown field \"Kind\"");
	assert_rejected("{\"pid\":42,\"x\":null}", "unknown field \"x\"");
	/* Checked in the order given: before a missing pid is noticed. */
	assert_rejected("{\"kidn\":\"cpu\"}", "unknown field \"kidn\"");
	/* The name as decoded, at most 64 bytes of it. */
	assert_rejected("{\"pid\":42,\"a\\\"b\":1}", "unknown field \"a\"b\"");
	snprintf(body, sizeof(body), "{\"pid\":42,\"%s%s\":1}",
		 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "TAIL");
	snprintf(want, sizeof(want), "unknown field \"%s\"",
		 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_rejected(body, want);
}

static void test_request_duplicate_keys(void **state)
{
	/* Valid JSON (RFC 8259 only says names SHOULD be unique): each occurrence is
	 * checked, and the last one wins. */
	assert_request("{\"pid\":1,\"pid\":2}", 2, PROFILE_HEAP, 0);
	assert_request("{\"pid\":42,\"kind\":\"cpu\",\"kind\":\"heap\"}", 42, PROFILE_HEAP, 0);
	assert_request("{\"pid\":42,\"seconds\":5,\"seconds\":6}", 42, PROFILE_HEAP, 6);
	/* An invalid occurrence fails the body even when a valid one follows. */
	assert_rejected("{\"pid\":0,\"pid\":2}", ERR_PID);
	assert_rejected("{\"pid\":2,\"kind\":\"memory\",\"kind\":\"cpu\"}", ERR_KIND);
}

static void test_request_nested_junk(void **state)
{
	size_t depth = 500, n = 0;
	char *body = xmalloc(6 * depth + 64);

	assert_non_null(body);
	/* Deep but within the parser's nesting limit: the field is still unknown. */
	n += (size_t)sprintf(body + n, "{\"pid\":42,\"x\":");
	for (size_t i = 0; i < depth; i++)
		body[n++] = '[';
	for (size_t i = 0; i < depth; i++)
		body[n++] = ']';
	body[n++] = '}';
	body[n] = '\0';
	assert_rejected(body, "unknown field \"x\"");
	/* Nested objects where a number belongs. */
	n = (size_t)sprintf(body, "{\"pid\":");
	for (size_t i = 0; i < depth; i++)
		n += (size_t)sprintf(body + n, "{\"a\":");
	body[n++] = '1';
	for (size_t i = 0; i < depth; i++)
		body[n++] = '}';
	body[n++] = '}';
	body[n] = '\0';
	assert_rejected(body, ERR_PID);
	free(body);

	/* Past any sane nesting: refused as a whole, without blowing the stack. */
	depth = API_BODY_MAX - 16;
	body = xmalloc(depth + 16);
	assert_non_null(body);
	n = (size_t)sprintf(body, "{\"pid\":");
	memset(body + n, '[', depth);
	n += depth;
	body[n] = '\0';
	assert_rejected(body, ERR_NOT_OBJECT);
	n = (size_t)sprintf(body, "{\"pid\":42,\"x\":");
	for (size_t i = 0; n + 8 < depth; i++)
		n += (size_t)sprintf(body + n, "{\"a\":");
	body[n] = '\0';
	assert_rejected(body, ERR_NOT_OBJECT);
	free(body);
}

static void test_request_large_bodies(void **state)
{
	char *body = xmalloc(API_BODY_MAX + 1);
	size_t n;

	assert_non_null(body);
	/* 64 KiB of spaces. */
	memset(body, ' ', API_BODY_MAX);
	body[API_BODY_MAX] = '\0';
	assert_rejected_len(body, API_BODY_MAX, ERR_NOT_OBJECT);
	/* 64 KiB of NULs. */
	memset(body, '\0', API_BODY_MAX);
	assert_rejected_len(body, API_BODY_MAX, ERR_NOT_OBJECT);
	/* A valid object padded with whitespace to 64 KiB. */
	memset(body, ' ', API_BODY_MAX);
	memcpy(body, "{\"pid\":42,", 10);
	memcpy(body + API_BODY_MAX - 15, "\"kind\":\"cpu\"}", 13);
	{
		struct parsed p = parse_len(body, API_BODY_MAX);

		assert_int_equal(p.r, 0);
		assert_int_equal(p.req.pid, 42);
		assert_int_equal(p.req.kind, PROFILE_CPU);
	}
	/* A 64 KiB string value under an unknown key. */
	n = (size_t)sprintf(body, "{\"pid\":42,\"comment\":\"");
	memset(body + n, 'a', API_BODY_MAX - n - 2);
	memcpy(body + API_BODY_MAX - 2, "\"}", 2);
	assert_rejected_len(body, API_BODY_MAX, "unknown field \"comment\"");
	free(body);
}

/* Bug: cJSON_ParseWithLength() stops after the first value and ignores the rest,
 * so a body that is not one JSON object is accepted for what it starts with. */
static void test_request_trailing_data(void **state)
{
	static const char *const bad[] = {
		"{\"pid\":42}x",
		"{\"pid\":42}}",
		"{\"pid\":42} {\"pid\":43}",
		"{\"pid\":42}{\"pid\":43,\"kind\":\"cpu\"}",
		"{\"pid\":42},",
		"{\"pid\":42}\n[]",
	};
	static const char embedded_nul[] = "{\"pid\":42}\0{\"pid\":43}";

	/* Whitespace after the object is fine. */
	assert_request("{\"pid\":42}\n", 42, PROFILE_HEAP, 0);
	assert_request("{\"pid\":42} \r\n\t ", 42, PROFILE_HEAP, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct parsed p = parse(bad[i]);

		if (p.r != -EINVAL)
			fail_msg("%s: %d (pid %d), want -EINVAL: data after the object", bad[i], p.r, p.req.pid);
		assert_true(p.err[0] != '\0');
	}
	{
		struct parsed p = parse_len(embedded_nul, sizeof(embedded_nul) - 1);

		if (p.r != -EINVAL)
			fail_msg("NUL then data: %d (pid %d), want -EINVAL", p.r, p.req.pid);
		assert_true(p.err[0] != '\0');
	}
}

/* Bug: cJSON decodes \u0000 into a NUL that ends the C string, so a key or value
 * that is not "pid" or "cpu" compares equal to it. */
static void test_request_embedded_nul(void **state)
{
	static const char *const bad[] = {
		"{\"pid\\u0000junk\":5}",
		"{\"pid\":5,\"kind\":\"cpu\\u0000x\"}",
		"{\"pid\":5,\"kind\":\"heap\\u0000\"}",
		"{\"pid\":5,\"seconds\\u0000\":30}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct parsed p = parse(bad[i]);

		if (p.r != -EINVAL)
			fail_msg("%s: %d (pid %d kind %d seconds %lu), want -EINVAL", bad[i], p.r, p.req.pid,
				 p.req.kind, (unsigned long)p.req.seconds);
		assert_true(p.err[0] != '\0');
	}
}

static void test_request_error_buffer(void **state)
{
	struct api_capture_request req;
	char err[8];

	memset(err, 'x', sizeof(err));
	assert_int_equal(api_parse_capture_request("", 0, &req, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "a JSON ");
	memset(err, 'x', sizeof(err));
	assert_int_equal(api_parse_capture_request("{\"pid\":0}", 9, &req, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "\"pid\" m");
	memset(err, 'x', sizeof(err));
	assert_int_equal(api_parse_capture_request("[]", 2, &req, err, 1), -EINVAL);
	assert_string_equal(err, "");
	assert_int_equal(err[1], 'x');
}

/* ---- job JSON ---- */

#define T_CREATED       ((struct timespec){ 1700000000, 123456789 })    /* 2023-11-14T22:13:20.123Z */
#define T_STARTED       ((struct timespec){ 1700000001, 5000000 })      /* 2023-11-14T22:13:21.005Z */
#define T_ENDED         ((struct timespec){ 1700000031, 999999999 })    /* 2023-11-14T22:13:51.999Z */

#define JOB_KEYS "id", "pid", "kind", "state", "trigger", "seconds", "requested_duration_ms", "queued_reason", \
		 "files", "error", \
		 "created_at", "started_at", "ended_at"

static struct job_view *new_job(unsigned id, pid_t pid, enum profile_kind kind, enum job_state st,
			   enum trigger_source trigger)
{
	struct job_view *j = calloc(1, sizeof(*j));

	assert_non_null(j);
	j->id = id;
	j->pid = pid;
	j->kind = kind;
	j->state = st;
	j->trigger.source = trigger;
	return j;
}

static void assert_files(const cJSON *o, const char *f0, const char *f1)
{
	const cJSON *files = member(o, "files");
	int n = (f0 != NULL) + (f1 != NULL);

	assert_true(cJSON_IsArray(files));
	assert_int_equal(cJSON_GetArraySize(files), n);
	if (f0) {
		assert_true(cJSON_IsString(cJSON_GetArrayItem(files, 0)));
		assert_string_equal(cJSON_GetArrayItem(files, 0)->valuestring, f0);
	}
	if (f1) {
		assert_true(cJSON_IsString(cJSON_GetArrayItem(files, 1)));
		assert_string_equal(cJSON_GetArrayItem(files, 1)->valuestring, f1);
	}
}

static void test_job_queued(void **state)
{
	struct job_view *j = new_job(7, 4321, PROFILE_HEAP, JOB_QUEUED, TRIGGER_SOURCE_API);
	const cJSON *t;
	cJSON *o;

	snprintf(j->queued_reason, sizeof(j->queued_reason), "waiting for pid 99 (same network namespace)");
	j->created_at = T_CREATED;
	o = as_client(api_job_json(j), NULL);
	ASSERT_KEYS(o, JOB_KEYS);
	assert_string_member(o, "id", "c-000007");
	assert_number_member(o, "pid", 4321);
	assert_string_member(o, "kind", "heap");
	assert_string_member(o, "state", "queued");
	t = member(o, "trigger");
	ASSERT_KEYS(t, "kind");
	assert_string_member(t, "kind", "api");
	/* duration 0: until stopped. */
	assert_null_member(o, "seconds");
	assert_null_member(o, "requested_duration_ms");
	assert_string_member(o, "queued_reason", "waiting for pid 99 (same network namespace)");
	assert_files(o, NULL, NULL);
	assert_null_member(o, "error");
	assert_time_member(o, "created_at", "2023-11-14T22:13:20.123Z");
	assert_null_member(o, "started_at");
	assert_null_member(o, "ended_at");
	cJSON_Delete(o);

	/* A duration in whole seconds; no reason given. */
	j->duration_usec = 30 * UINT64_C(1000000);
	j->requested_usec = j->duration_usec;
	j->queued_reason[0] = '\0';
	j->kind = PROFILE_CPU;
	o = as_client(api_job_json(j), NULL);
	ASSERT_KEYS(o, JOB_KEYS);
	assert_number_member(o, "seconds", 30);
	assert_number_member(o, "requested_duration_ms", 30000);
	assert_null_member(o, "queued_reason");
	assert_string_member(o, "kind", "cpu");
	cJSON_Delete(o);

	/* A signal's job a stop reached while it waited: how long it will run, to the microsecond;
	 * "seconds" stays what was asked for (nothing). */
	j->duration_usec = 0;
	j->requested_usec = 1234567;
	j->stopped_queued = true;
	j->trigger.source = TRIGGER_SOURCE_SIGNAL;
	snprintf(j->queued_reason, sizeof(j->queued_reason), "pid 99 is being captured in the same network namespace");
	o = as_client(api_job_json(j), NULL);
	ASSERT_KEYS(o, JOB_KEYS);
	assert_string_member(o, "state", "queued");
	assert_null_member(o, "seconds");
	assert_number_member(o, "requested_duration_ms", 1234.567);
	assert_string_member(o, "queued_reason", "pid 99 is being captured in the same network namespace");
	cJSON_Delete(o);
	free(j);
}

/* A trace's job shows what it records; no other kind has the member. */
static void test_job_trace(void **state)
{
	struct job_view *j = new_job(9, 4321, PROFILE_TRACE, JOB_QUEUED, TRIGGER_SOURCE_API);
	cJSON *o;

	snprintf(j->categories, sizeof(j->categories), "node,node.perf,v8");
	j->duration_usec = 10 * UINT64_C(1000000);
	j->requested_usec = j->duration_usec;
	o = as_client(api_job_json(j), NULL);
	ASSERT_KEYS(o, JOB_KEYS, "categories");
	assert_string_member(o, "kind", "trace");
	assert_string_member(o, "categories", "node,node.perf,v8");
	assert_number_member(o, "seconds", 10);
	cJSON_Delete(o);

	/* A heap snapshot: no duration, no categories. */
	j->kind = PROFILE_HEAP_SNAPSHOT;
	j->duration_usec = j->requested_usec = 0;
	o = as_client(api_job_json(j), NULL);
	ASSERT_KEYS(o, JOB_KEYS);
	assert_string_member(o, "kind", "heap-snapshot");
	assert_null_member(o, "seconds");
	cJSON_Delete(o);
	free(j);
}

/* Which kinds have no duration: what the API, the dispatcher and inspectctl refuse a duration of. */
static void test_kinds_instantaneous(void **state)
{
	assert_true(profile_kind_instantaneous(PROFILE_HEAP_SNAPSHOT));
	assert_false(profile_kind_instantaneous(PROFILE_HEAP));
	assert_false(profile_kind_instantaneous(PROFILE_CPU));
	assert_false(profile_kind_instantaneous(PROFILE_ALLOCATION_TIMELINE));
	assert_false(profile_kind_instantaneous(PROFILE_TRACE));
	assert_false(profile_kind_instantaneous(_PROFILE_KIND_MAX));
	assert_false(profile_kind_instantaneous((enum profile_kind)-1));
}

/* Every kind's name, for the messages that say what a kind may be. */
static void test_kind_list(void **state)
{
	char buf[128], small[8] = "xxxxxxx";

	assert_string_equal(profile_kind_list(buf, sizeof(buf), ""),
			    "heap, cpu, heap-snapshot, allocation-timeline or trace");
	assert_string_equal(profile_kind_list(buf, sizeof(buf), "'"),
			    "'heap', 'cpu', 'heap-snapshot', 'allocation-timeline' or 'trace'");
	/* Cut short, never past its buffer; nothing written into none. */
	assert_string_equal(profile_kind_list(small, sizeof(small), ""), "heap, c");
	small[0] = 'x';
	profile_kind_list(small, 0, "");
	assert_int_equal(small[0], 'x');
}

static void test_job_starting(void **state)
{
	struct job_view *j = new_job(8, 4321, PROFILE_CPU, JOB_ACTIVE, TRIGGER_SOURCE_SIGNAL);
	cJSON *o;

	j->created_at = T_CREATED;
	j->duration_usec = 86400 * UINT64_C(1000000);
	o = as_client(api_job_json(j), NULL);
	ASSERT_KEYS(o, JOB_KEYS);
	/* Active without its capture's state yet. */
	assert_string_member(o, "state", "starting");
	ASSERT_KEYS(member(o, "trigger"), "kind");
	assert_string_member(member(o, "trigger"), "kind", "signal");
	assert_string_member(o, "kind", "cpu");
	assert_number_member(o, "seconds", 86400);
	assert_files(o, NULL, NULL);
	assert_null_member(o, "started_at");
	assert_null_member(o, "ended_at");
	cJSON_Delete(o);

	/* Running: the capture's state, files and start as the dispatcher filled them in. */
	j->capture_state = "running";
	j->started_at = T_STARTED;
	o = as_client(api_job_json(j), NULL);
	assert_string_member(o, "state", "running");
	assert_time_member(o, "started_at", "2023-11-14T22:13:21.005Z");
	assert_null_member(o, "ended_at");
	cJSON_Delete(o);
	j->capture_state = "stopping";
	snprintf(j->files[0], sizeof(j->files[0]), "/out/cpu.cpuprofile");
	o = as_client(api_job_json(j), NULL);
	assert_string_member(o, "state", "stopping");
	assert_files(o, "/out/cpu.cpuprofile", NULL);
	cJSON_Delete(o);
	/* Once done, its own state wins over a stale capture state. */
	j->state = JOB_DONE;
	o = as_client(api_job_json(j), NULL);
	assert_string_member(o, "state", "done");
	cJSON_Delete(o);
	free(j);
}

static void test_job_done(void **state)
{
	struct job_view *j = new_job(123456, 99, PROFILE_CPU, JOB_DONE, TRIGGER_SOURCE_SIGNAL);
	char *text;
	cJSON *o;

	j->duration_usec = 10 * UINT64_C(1000000);
	snprintf(j->files[0], sizeof(j->files[0]), "/var/lib/inspectd/cpu-profile-99-20231114T221321Z.cpuprofile");
	snprintf(j->files[1], sizeof(j->files[1]), "/var/lib/inspectd/cpu-profile-99-20231114T221321Z.meta.json");
	j->created_at = T_CREATED;
	j->started_at = T_STARTED;
	j->ended_at = T_ENDED;
	o = as_client(api_job_json(j), &text);
	ASSERT_KEYS(o, JOB_KEYS);
	assert_string_member(o, "id", "c-123456");
	assert_number_member(o, "pid", 99);
	assert_string_member(o, "kind", "cpu");
	assert_string_member(o, "state", "done");
	ASSERT_KEYS(member(o, "trigger"), "kind");
	assert_string_member(member(o, "trigger"), "kind", "signal");
	assert_number_member(o, "seconds", 10);
	assert_null_member(o, "queued_reason");
	assert_files(o, "/var/lib/inspectd/cpu-profile-99-20231114T221321Z.cpuprofile",
		     "/var/lib/inspectd/cpu-profile-99-20231114T221321Z.meta.json");
	assert_null_member(o, "error");
	assert_time_member(o, "created_at", "2023-11-14T22:13:20.123Z");
	assert_time_member(o, "started_at", "2023-11-14T22:13:21.005Z");
	assert_time_member(o, "ended_at", "2023-11-14T22:13:51.999Z");
	/* Paths as they are: '/' is not escaped. */
	assert_non_null(strstr(text, "\"/var/lib/inspectd/cpu-profile-99-20231114T221321Z.cpuprofile\""));
	free(text);
	cJSON_Delete(o);

	/* The profile only (no meta.json written). */
	j->files[1][0] = '\0';
	o = as_client(api_job_json(j), NULL);
	assert_files(o, "/var/lib/inspectd/cpu-profile-99-20231114T221321Z.cpuprofile", NULL);
	cJSON_Delete(o);
	free(j);
}

static void test_job_failed(void **state)
{
	struct job_view *j = new_job(3, 555, PROFILE_HEAP, JOB_FAILED, TRIGGER_SOURCE_API);
	cJSON *o;

	snprintf(j->error, sizeof(j->error), "the inspector did not answer \"Runtime.enable\"\nin 5 s");
	j->created_at = T_CREATED;
	j->ended_at = T_ENDED;
	o = as_client(api_job_json(j), NULL);
	ASSERT_KEYS(o, JOB_KEYS);
	assert_string_member(o, "id", "c-000003");
	assert_string_member(o, "state", "failed");
	assert_string_member(o, "error", "the inspector did not answer \"Runtime.enable\"\nin 5 s");
	assert_files(o, NULL, NULL);
	assert_null_member(o, "seconds");
	assert_null_member(o, "queued_reason");
	assert_time_member(o, "created_at", "2023-11-14T22:13:20.123Z");
	/* Never started. */
	assert_null_member(o, "started_at");
	assert_time_member(o, "ended_at", "2023-11-14T22:13:51.999Z");
	cJSON_Delete(o);
	free(j);
}

static void test_job_threshold_trigger(void **state)
{
	struct job_view *j = new_job(11, 2024, PROFILE_HEAP, JOB_DONE, TRIGGER_SOURCE_RSS_THRESHOLD);
	const cJSON *t;
	char *text;
	cJSON *o;

	j->trigger.has_threshold = true;
	j->trigger.unit = "bytes";
	j->trigger.threshold = 536870912;
	j->trigger.observed = 8589934592.0;
	j->trigger.detected_by = "rss_stat";
	j->created_at = T_CREATED;
	o = as_client(api_job_json(j), &text);
	ASSERT_KEYS(o, JOB_KEYS);
	t = member(o, "trigger");
	ASSERT_KEYS(t, "kind", "threshold", "observed", "unit", "detected_by");
	assert_string_member(t, "detected_by", "rss_stat");
	assert_string_member(t, "kind", "rss-threshold");
	assert_number_member(t, "threshold", 536870912);
	assert_number_member(t, "observed", 8589934592.0);
	assert_string_member(t, "unit", "bytes");
	/* Byte counts print as integers, not in exponent form. */
	assert_non_null(strstr(text, "\"threshold\":536870912"));
	assert_non_null(strstr(text, "\"observed\":8589934592"));
	free(text);
	cJSON_Delete(o);

	j->trigger.source = TRIGGER_SOURCE_LIMIT_PERCENT;
	j->trigger.unit = "percent";
	j->trigger.threshold = 80;
	j->trigger.observed = 85.5;
	j->trigger.detected_by = "tick";
	o = as_client(api_job_json(j), NULL);
	t = member(o, "trigger");
	ASSERT_KEYS(t, "kind", "threshold", "observed", "unit", "detected_by");
	assert_string_member(t, "detected_by", "tick");
	assert_string_member(t, "kind", "limit-percent");
	assert_number_member(t, "threshold", 80);
	assert_number_member(t, "observed", 85.5);
	assert_string_member(t, "unit", "percent");
	cJSON_Delete(o);

	/* No unit: an empty one rather than no key. */
	j->trigger.unit = NULL;
	j->trigger.detected_by = NULL;
	o = as_client(api_job_json(j), NULL);
	assert_string_member(member(o, "trigger"), "unit", "");
	assert_string_member(member(o, "trigger"), "detected_by", "");
	cJSON_Delete(o);

	/* has_threshold unset: nothing but the kind, whatever the other fields hold. */
	j->trigger.has_threshold = false;
	j->trigger.unit = "bytes";
	o = as_client(api_job_json(j), NULL);
	ASSERT_KEYS(member(o, "trigger"), "kind");
	cJSON_Delete(o);
	free(j);
}

static void test_job_times(void **state)
{
	struct job_view *j = new_job(1, 1, PROFILE_HEAP, JOB_DONE, TRIGGER_SOURCE_API);
	cJSON *o;

	/* tv_sec 0 is "not set", whatever the nanoseconds. */
	j->created_at = (struct timespec){ 0, 500000000 };
	j->started_at = (struct timespec){ 1, 0 };
	j->ended_at = (struct timespec){ 4102444800, 999000000 };
	o = as_client(api_job_json(j), NULL);
	assert_null_member(o, "created_at");
	assert_time_member(o, "started_at", "1970-01-01T00:00:01.000Z");
	assert_time_member(o, "ended_at", "2100-01-01T00:00:00.999Z");
	cJSON_Delete(o);
	free(j);
}

/* ---- process JSON ---- */

#define PROCESS_KEYS "pid", "comm", "rss_bytes", "cpu_percent", "memory_limit_bytes", "cgroup", "container", \
		     "kubernetes", "selection", "section", "armed", "next_capture", "capture"

static struct process_view *new_process(pid_t pid, const char *comm, uint64_t rss)
{
	struct process_view *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	p->rss = rss;
	p->cpu_percent = -1;
	p->selection = SELECT_SELECTED;
	p->next_capture_kind = -1;
	snprintf(p->cgroup, sizeof(p->cgroup), "/system.slice/app.service");
	return p;
}

/* The "armed" array, joined with ','. */
static void assert_armed(const cJSON *o, const char *want)
{
	const cJSON *armed = member(o, "armed"), *item;
	char joined[256] = "";

	assert_true(cJSON_IsArray(armed));
	cJSON_ArrayForEach(item, armed) {
		assert_true(cJSON_IsString(item));
		if (joined[0])
			strcat(joined, ",");
		strcat(joined, item->valuestring);
	}
	assert_string_equal(joined, want);
}

static cJSON *process_json(const struct process_view *p, const struct job_view *job)
{
	return as_client(api_process_json(p, job), NULL);
}

static void test_process_plain(void **state)
{
	struct process_view *p = new_process(4321, "node", 123456789);
	char *text;
	cJSON *o;

	o = as_client(api_process_json(p, NULL), &text);
	ASSERT_KEYS(o, PROCESS_KEYS);
	assert_number_member(o, "pid", 4321);
	assert_string_member(o, "comm", "node");
	assert_number_member(o, "rss_bytes", 123456789);
	/* The CPU window is not covered yet. */
	assert_null_member(o, "cpu_percent");
	/* No cgroup limit. */
	assert_null_member(o, "memory_limit_bytes");
	assert_string_member(o, "cgroup", "/system.slice/app.service");
	assert_null_member(o, "container");
	assert_string_member(o, "selection", "selected");
	/* No section of the configuration file's: the agent's settings. */
	assert_null_member(o, "section");
	assert_armed(o, "");
	assert_null_member(o, "next_capture");
	assert_null_member(o, "capture");
	assert_non_null(strstr(text, "\"rss_bytes\":123456789"));
	free(text);
	cJSON_Delete(o);
	/* --exclude, --select as the dispatcher judged them. */
	p->selection = SELECT_EXCLUDED;
	o = as_client(api_process_json(p, NULL), &text);
	assert_string_member(o, "selection", "excluded");
	free(text);
	cJSON_Delete(o);
	p->selection = SELECT_NOT_SELECTED;
	o = as_client(api_process_json(p, NULL), &text);
	assert_string_member(o, "selection", "not-selected");
	free(text);
	cJSON_Delete(o);
	/* The section whose settings it has: its rule, as written. */
	snprintf(p->section, sizeof(p->section), "cmdline~server\\.js --port=\"80\"");
	o = as_client(api_process_json(p, NULL), &text);
	assert_string_member(o, "section", "cmdline~server\\.js --port=\"80\"");
	free(text);
	cJSON_Delete(o);
	free(p);
}

static void test_process_container(void **state)
{
	struct process_view *p = new_process(55, "node", 1);
	const cJSON *c;
	cJSON *o;

	snprintf(p->cgroup, sizeof(p->cgroup), "/kubepods.slice/kubepods-pod%s.slice/cri-containerd-%s.scope",
		 "5a8f2c1e_3b4d_4e6f_8a9b_0c1d2e3f4a5b",
		 "4f1c2b7a9e0d3c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b");
	assert_int_equal(container_from_paths("", p->cgroup, &p->container), 0);
	o = as_client(api_process_json(p, NULL), NULL);
	ASSERT_KEYS(o, PROCESS_KEYS);
	c = member(o, "container");
	ASSERT_KEYS(c, "runtime", "id", "pod_uid", "name", "image");
	assert_string_member(c, "runtime", "containerd");
	assert_string_member(c, "id", "4f1c2b7a9e0d3c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b");
	assert_string_member(c, "pod_uid", "5a8f2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b");
	assert_null_member(c, "name");
	assert_null_member(c, "image");
	/* A pod known by its cgroup: its names null until the runtime's files say them. */
	c = member(o, "kubernetes");
	ASSERT_KEYS(c, "pod", "namespace", "container", "pod_uid", "sandbox_id");
	assert_null_member(c, "pod");
	assert_string_member(c, "pod_uid", "5a8f2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b");
	cJSON_Delete(o);

	/* With the names from the runtime's files. */
	snprintf(p->container.names.name, sizeof(p->container.names.name), "app");
	snprintf(p->container.names.image, sizeof(p->container.names.image), "docker.io/library/node:20");
	snprintf(p->container.names.kube_pod, sizeof(p->container.names.kube_pod), "web-7d9f8c6b5-x2x9q");
	snprintf(p->container.names.kube_namespace, sizeof(p->container.names.kube_namespace), "shop");
	snprintf(p->container.names.kube_container, sizeof(p->container.names.kube_container), "app");
	o = as_client(api_process_json(p, NULL), NULL);
	c = member(o, "container");
	assert_string_member(c, "name", "app");
	assert_string_member(c, "image", "docker.io/library/node:20");
	c = member(o, "kubernetes");
	assert_string_member(c, "pod", "web-7d9f8c6b5-x2x9q");
	assert_string_member(c, "namespace", "shop");
	assert_string_member(c, "container", "app");
	assert_null_member(c, "sandbox_id");
	cJSON_Delete(o);

	/* cgroupfs driver: no runtime in the path, no pod. */
	snprintf(p->cgroup, sizeof(p->cgroup), "/kubepods/besteffort/%s",
		 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_int_equal(container_from_paths("", p->cgroup, &p->container), 0);
	o = as_client(api_process_json(p, NULL), NULL);
	c = member(o, "container");
	assert_null_member(c, "runtime");
	assert_null_member(c, "pod_uid");
	assert_null_member(o, "kubernetes");
	cJSON_Delete(o);
	free(p);
}

static void test_process_limit_and_cpu(void **state)
{
	struct process_view *p = new_process(77, "MainThread", 8589934592ULL);
	char *text;
	cJSON *o;

	p->memory_limit = 17179869184ULL;
	p->cpu_percent = 37.5;
	snprintf(p->cgroup, sizeof(p->cgroup), "/docker/abc123");
	o = as_client(api_process_json(p, NULL), &text);
	ASSERT_KEYS(o, PROCESS_KEYS);
	assert_string_member(o, "comm", "MainThread");
	assert_number_member(o, "rss_bytes", 8589934592.0);
	assert_number_member(o, "memory_limit_bytes", 17179869184.0);
	assert_number_member(o, "cpu_percent", 37.5);
	assert_string_member(o, "cgroup", "/docker/abc123");
	assert_non_null(strstr(text, "\"rss_bytes\":8589934592"));
	assert_non_null(strstr(text, "\"memory_limit_bytes\":17179869184"));
	free(text);
	cJSON_Delete(o);

	/* 0% is a value, not "unknown". */
	p->cpu_percent = 0;
	o = process_json(p, NULL);
	assert_number_member(o, "cpu_percent", 0);
	cJSON_Delete(o);
	p->cpu_percent = 250;
	o = process_json(p, NULL);
	assert_number_member(o, "cpu_percent", 250);
	cJSON_Delete(o);
	p->cpu_percent = -0.5;
	o = process_json(p, NULL);
	assert_null_member(o, "cpu_percent");
	cJSON_Delete(o);
	free(p);
}

static void test_process_armed(void **state)
{
	struct process_view *p = new_process(10, "node", 100 << 20);
	cJSON *o;

	p->armed = TRIGGER_MASK(TRIGGER_RSS_THRESHOLD);
	o = process_json(p, NULL);
	assert_armed(o, "rss-threshold");
	cJSON_Delete(o);
	p->armed |= TRIGGER_MASK(TRIGGER_LIMIT_PERCENT);
	o = process_json(p, NULL);
	assert_armed(o, "rss-threshold,limit-percent");
	cJSON_Delete(o);
	/* In trigger order, whatever the mask's. */
	p->armed = TRIGGER_MASK(TRIGGER_CPU_THRESHOLD) | TRIGGER_MASK(TRIGGER_LIMIT_PERCENT) |
		   TRIGGER_MASK(TRIGGER_RSS_GROWTH) | TRIGGER_MASK(TRIGGER_RSS_THRESHOLD);
	o = process_json(p, NULL);
	assert_armed(o, "rss-threshold,rss-growth,limit-percent,cpu-threshold");
	cJSON_Delete(o);
	p->armed = TRIGGER_MASK(TRIGGER_RSS_GROWTH) | TRIGGER_MASK(TRIGGER_LIMIT_PERCENT);
	o = process_json(p, NULL);
	assert_armed(o, "rss-growth,limit-percent");
	cJSON_Delete(o);
	/* Bits past the last trigger name nothing. */
	p->armed = ~0u << _TRIGGER_MAX;
	o = process_json(p, NULL);
	assert_armed(o, "");
	cJSON_Delete(o);
	free(p);
}

/* --every: the next round's time (UTC, to the millisecond) and kind; null when none comes. */
static void test_process_next_capture(void **state)
{
	struct process_view *p = new_process(10, "node", 1 << 20);
	const cJSON *n;
	cJSON *o;

	p->next_capture_at = (struct timespec){ .tv_sec = 1767225642, .tv_nsec = 123456789 };
	p->next_capture_kind = PROFILE_CPU;
	o = process_json(p, NULL);
	ASSERT_KEYS(o, PROCESS_KEYS);
	n = member(o, "next_capture");
	ASSERT_KEYS(n, "at", "kind");
	assert_time_member(n, "at", "2026-01-01T00:00:42.123Z");
	assert_string_member(n, "kind", "cpu");
	cJSON_Delete(o);
	p->next_capture_kind = PROFILE_HEAP;
	o = process_json(p, NULL);
	assert_string_member(member(o, "next_capture"), "kind", "heap");
	cJSON_Delete(o);
	/* A time without a kind, or a kind without a time, is none. */
	p->next_capture_kind = -1;
	o = process_json(p, NULL);
	assert_null_member(o, "next_capture");
	cJSON_Delete(o);
	p->next_capture_kind = PROFILE_CPU;
	p->next_capture_at.tv_sec = 0;
	o = process_json(p, NULL);
	assert_null_member(o, "next_capture");
	cJSON_Delete(o);
	free(p);
}

static void test_process_capture(void **state)
{
	struct process_view *p = new_process(10, "node", 1 << 20);
	struct job_view *j = new_job(42, 10, PROFILE_CPU, JOB_QUEUED, TRIGGER_SOURCE_API);
	const cJSON *c;
	cJSON *o;

	p->job = j->id;
	o = process_json(p, j);
	ASSERT_KEYS(o, PROCESS_KEYS);
	c = member(o, "capture");
	ASSERT_KEYS(c, "id", "kind", "state");
	assert_string_member(c, "id", "c-000042");
	assert_string_member(c, "kind", "cpu");
	assert_string_member(c, "state", "queued");
	cJSON_Delete(o);

	j->state = JOB_ACTIVE;
	j->kind = PROFILE_HEAP;
	o = process_json(p, j);
	c = member(o, "capture");
	assert_string_member(c, "kind", "heap");
	assert_string_member(c, "state", "starting");
	cJSON_Delete(o);
	j->capture_state = "running";
	o = process_json(p, j);
	assert_string_member(member(o, "capture"), "state", "running");
	cJSON_Delete(o);
	free(j);
	free(p);
}

static void test_process_comm_escaped(void **state)
{
	struct process_view *p = new_process(10, "a\"b\\c\nd", 0);
	cJSON *o;

	/* comm is whatever the process set with prctl(PR_SET_NAME). */
	o = process_json(p, NULL);
	assert_string_member(o, "comm", "a\"b\\c\nd");
	assert_number_member(o, "rss_bytes", 0);
	cJSON_Delete(o);
	free(p);
}

/* ---- error bodies ---- */

static void assert_error_json(const char *message, const char *want_text)
{
	char *text = api_error_json(message);
	cJSON *o;

	assert_non_null(text);
	assert_string_equal(text, want_text);
	o = cJSON_Parse(text);
	assert_non_null(o);
	ASSERT_KEYS(o, "error");
	assert_string_member(o, "error", message);
	cJSON_Delete(o);
	free(text);
}

static void test_error_json(void **state)
{
	struct parsed p;

	assert_error_json("no such endpoint", "{\"error\":\"no such endpoint\"}");
	assert_error_json("", "{\"error\":\"\"}");
	assert_error_json("say \"hi\"\nbye", "{\"error\":\"say \\\"hi\\\"\\nbye\"}");
	assert_error_json("back\\slash\ttab\r", "{\"error\":\"back\\\\slash\\ttab\\r\"}");
	assert_error_json("ctl \x01\x1f", "{\"error\":\"ctl \\u0001\\u001f\"}");
	assert_error_json("caf\xc3\xa9", "{\"error\":\"caf\xc3\xa9\"}");
	/* A client's key, through the parser's message, to the error body. */
	p = parse("{\"pid\":1,\"\\\"}\\n{\\\"x\":1}");
	assert_int_equal(p.r, -EINVAL);
	assert_string_equal(p.err, "unknown field \"\"}\n{\"x\"");
	assert_error_json(p.err, "{\"error\":\"unknown field \\\"\\\"}\\n{\\\"x\\\"\"}");
}

/* ---- /metrics ---- */

#define VALIDATOR_FAMILIES 32
#define VALIDATOR_SERIES 512

struct family {
	char name[128];
	char type[16];
	bool help, typed, started;
	unsigned samples;
	/* histograms */
	unsigned buckets;
	double last_le;
	double last_bucket;
	bool have_inf, have_sum, have_count;
	double inf_value, count_value;
};

struct validator {
	struct family fam[VALIDATOR_FAMILIES];
	unsigned nfam;
	int current;
	char *series[VALIDATOR_SERIES];
	unsigned nseries;
	char why[512];
};

static bool name_start(char c, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

static bool name_char(char c, bool colon)
{
	return name_start(c, colon) || (c >= '0' && c <= '9');
}

/* A metric (colon) or label name at s: its length, 0 when none. */
static size_t scan_name(const char *s, bool colon)
{
	size_t n = 0;

	if (!name_start(s[0], colon))
		return 0;
	while (name_char(s[n], colon))
		n++;
	return n;
}

static int vfail(struct validator *v, unsigned lineno, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int vfail(struct validator *v, unsigned lineno, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(v->why, sizeof(v->why), "line %u: ", lineno);

	va_start(ap, fmt);
	vsnprintf(v->why + n, sizeof(v->why) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static struct family *family_get(struct validator *v, const char *name, size_t len, bool create)
{
	for (unsigned i = 0; i < v->nfam; i++)
		if (strlen(v->fam[i].name) == len && strncmp(v->fam[i].name, name, len) == 0)
			return &v->fam[i];
	if (!create || v->nfam == VALIDATOR_FAMILIES || len >= sizeof(v->fam[0].name))
		return NULL;
	memcpy(v->fam[v->nfam].name, name, len);
	v->fam[v->nfam].name[len] = '\0';
	v->fam[v->nfam].last_le = -INFINITY;
	return &v->fam[v->nfam++];
}

/* All lines of one family together: HELP, TYPE, then its samples. */
static int family_enter(struct validator *v, struct family *f, unsigned lineno)
{
	int idx = (int)(f - v->fam);

	if (v->current == idx)
		return 0;
	if (f->started)
		return vfail(v, lineno, "lines of %s are not together", f->name);
	f->started = true;
	v->current = idx;
	return 0;
}

/* "+Inf", "-Inf", "NaN", or a float ([-]?[0-9.eE+-]+ that strtod takes whole). */
static bool parse_value(const char *s, double *ret)
{
	char *end;

	if (strcmp(s, "+Inf") == 0) {
		*ret = INFINITY;
		return true;
	}
	if (strcmp(s, "-Inf") == 0) {
		*ret = -INFINITY;
		return true;
	}
	if (strcmp(s, "NaN") == 0) {
		*ret = NAN;
		return true;
	}
	if (!*s)
		return false;
	for (const char *p = s + (*s == '-'); *p; p++)
		if (!strchr("0123456789.eE+-", *p))
			return false;
	if (!((s[0] >= '0' && s[0] <= '9') || (s[0] == '-' && s[1] >= '0' && s[1] <= '9') || s[0] == '.'))
		return false;
	*ret = strtod(s, &end);
	return *end == '\0';
}

static int validate_comment(struct validator *v, char *line, unsigned lineno)
{
	bool help = strncmp(line, "# HELP ", 7) == 0, type = strncmp(line, "# TYPE ", 7) == 0;
	char *name = line + 7;
	size_t n;
	struct family *f;

	if (!help && !type)
		return vfail(v, lineno, "a comment that is neither HELP nor TYPE");
	n = scan_name(name, true);
	if (!n || name[n] != ' ' || !name[n + 1])
		return vfail(v, lineno, "malformed %s", help ? "HELP" : "TYPE");
	f = family_get(v, name, n, true);
	if (!f)
		return vfail(v, lineno, "too many families");
	if (family_enter(v, f, lineno) < 0)
		return -1;
	if (f->samples)
		return vfail(v, lineno, "%s of %s after its samples", help ? "HELP" : "TYPE", f->name);
	if (help) {
		if (f->help)
			return vfail(v, lineno, "second HELP for %s", f->name);
		f->help = true;
		/* Only \\ and \n escapes. */
		for (const char *p = name + n + 1; *p; p++)
			if (*p == '\\' && p[1] != '\\' && p[1] != 'n')
				return vfail(v, lineno, "bad escape in HELP");
			else if (*p == '\\')
				p++;
		return 0;
	}
	if (f->typed)
		return vfail(v, lineno, "second TYPE for %s", f->name);
	if (strcmp(name + n + 1, "counter") && strcmp(name + n + 1, "gauge") && strcmp(name + n + 1, "histogram") &&
	    strcmp(name + n + 1, "summary") && strcmp(name + n + 1, "untyped"))
		return vfail(v, lineno, "unknown type \"%s\"", name + n + 1);
	f->typed = true;
	snprintf(f->type, sizeof(f->type), "%s", name + n + 1);
	return 0;
}

static int validate_sample(struct validator *v, char *line, unsigned lineno)
{
	char labels[16][64], le[64] = "";
	unsigned nlabels = 0;
	size_t n = scan_name(line, true), series_len;
	const char *suffix = NULL;
	struct family *f;
	char *p = line + n;
	double value;

	if (!n)
		return vfail(v, lineno, "no metric name");
	if (*p == '{') {
		p++;
		for (;;) {
			size_t ln = scan_name(p, false);
			char *val;

			if (!ln || p[ln] != '=' || p[ln + 1] != '"')
				return vfail(v, lineno, "malformed label");
			if (nlabels == 16 || ln >= sizeof(labels[0]))
				return vfail(v, lineno, "too many or too long labels");
			memcpy(labels[nlabels], p, ln);
			labels[nlabels][ln] = '\0';
			for (unsigned i = 0; i < nlabels; i++)
				if (strcmp(labels[i], labels[nlabels]) == 0)
					return vfail(v, lineno, "label %s twice", labels[i]);
			val = p + ln + 2;
			p = val;
			while (*p && *p != '"' && *p != '\\')
				p++;
			if (*p != '"')
				return vfail(v, lineno, "unterminated or escaped label value");
			if (strcmp(labels[nlabels], "le") == 0)
				snprintf(le, sizeof(le), "%.*s", (int)(p - val), val);
			nlabels++;
			p++;
			if (*p == '}')
				break;
			if (*p != ',')
				return vfail(v, lineno, "expected , or } after a label");
			p++;
		}
		p++;
	}
	if (*p != ' ')
		return vfail(v, lineno, "expected one space before the value");
	series_len = (size_t)(p - line);
	p++;
	if (!parse_value(p, &value))
		return vfail(v, lineno, "bad value \"%s\"", p);

	/* Its family: the name itself, or a histogram's _bucket, _sum, _count. */
	f = family_get(v, line, n, false);
	if (f && !strcmp(f->type, "histogram"))
		return vfail(v, lineno, "histogram %s sampled without a suffix", f->name);
	if (!f) {
		static const char *const suffixes[] = { "_bucket", "_sum", "_count" };

		for (size_t i = 0; i < 3 && !f; i++) {
			size_t sl = strlen(suffixes[i]);

			if (n > sl && strncmp(line + n - sl, suffixes[i], sl) == 0) {
				f = family_get(v, line, n - sl, false);
				suffix = suffixes[i];
			}
		}
		if (f && strcmp(f->type, "histogram") != 0)
			f = NULL;
	}
	if (!f)
		return vfail(v, lineno, "sample of an undeclared family: %.*s", (int)n, line);
	if (family_enter(v, f, lineno) < 0)
		return -1;
	if (!f->help || !f->typed)
		return vfail(v, lineno, "%s sampled before its HELP and TYPE", f->name);
	f->samples++;

	/* Each series once. */
	for (unsigned i = 0; i < v->nseries; i++)
		if (strlen(v->series[i]) == series_len && strncmp(v->series[i], line, series_len) == 0)
			return vfail(v, lineno, "series %.*s twice", (int)series_len, line);
	if (v->nseries == VALIDATOR_SERIES)
		return vfail(v, lineno, "too many series");
	v->series[v->nseries] = strndup(line, series_len);
	assert_non_null(v->series[v->nseries]);
	v->nseries++;

	if (!strcmp(f->type, "counter") && !(value >= 0))
		return vfail(v, lineno, "counter %s is %g", f->name, value);
	if (!suffix)
		return 0;
	if (!strcmp(suffix, "_bucket")) {
		double bound;

		if (!le[0] || !parse_value(le, &bound) || isnan(bound))
			return vfail(v, lineno, "bucket without a valid le");
		if (f->have_inf)
			return vfail(v, lineno, "bucket after +Inf");
		if (!(bound > f->last_le))
			return vfail(v, lineno, "le %s not above the previous bucket's", le);
		if (!(value >= 0) || value < f->last_bucket)
			return vfail(v, lineno, "bucket le=%s is %g, below the previous %g: not cumulative", le, value,
				     f->last_bucket);
		f->last_le = bound;
		f->last_bucket = value;
		f->buckets++;
		if (isinf(bound)) {
			f->have_inf = true;
			f->inf_value = value;
		}
	} else if (!strcmp(suffix, "_sum")) {
		if (f->have_sum)
			return vfail(v, lineno, "second _sum");
		if (le[0])
			return vfail(v, lineno, "le on _sum");
		f->have_sum = true;
	} else {
		if (f->have_count)
			return vfail(v, lineno, "second _count");
		if (le[0])
			return vfail(v, lineno, "le on _count");
		if (!(value >= 0))
			return vfail(v, lineno, "_count is %g", value);
		f->have_count = true;
		f->count_value = value;
	}
	return 0;
}

/* 0, or -1 with v->why. */
static int validate_metrics_text(const char *text, struct validator *v)
{
	char *copy = strdup(text), *line, *next;
	unsigned lineno = 0;
	int r = 0;

	assert_non_null(copy);
	memset(v, 0, sizeof(*v));
	v->current = -1;
	if (!*text || text[strlen(text) - 1] != '\n') {
		r = vfail(v, 0, "the text does not end with a newline");
		goto out;
	}
	for (line = copy; *line; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		lineno++;
		if (!*line) {
			r = vfail(v, lineno, "empty line");
			goto out;
		}
		r = line[0] == '#' ? validate_comment(v, line, lineno) : validate_sample(v, line, lineno);
		if (r < 0)
			goto out;
	}
	for (unsigned i = 0; i < v->nfam; i++) {
		struct family *f = &v->fam[i];

		if (!f->help || !f->typed || !f->samples) {
			r = vfail(v, lineno, "%s lacks its HELP, TYPE or samples", f->name);
			goto out;
		}
		if (!strcmp(f->type, "histogram") &&
		    (!f->have_inf || !f->have_sum || !f->have_count || f->inf_value != f->count_value)) {
			r = vfail(v, lineno, "histogram %s: +Inf bucket %g, _count %g, _sum %s", f->name, f->inf_value,
				  f->count_value, f->have_sum ? "present" : "missing");
			goto out;
		}
	}
out:
	for (unsigned i = 0; i < v->nseries; i++)
		free(v->series[i]);
	v->nseries = 0;
	free(copy);
	return r;
}

static void assert_valid_metrics(const char *text)
{
	struct validator *v = malloc(sizeof(*v));

	assert_non_null(v);
	if (validate_metrics_text(text, v) < 0)
		fail_msg("invalid exposition: %s\n%s", v->why, text);
	free(v);
}

static void test_metrics_validator(void **state)
{
	/* The validator itself: it must refuse what Prometheus would. */
	static const char good[] = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\",y=\"\"} 3\n"
				   "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
				   "h_sum 0.7\nh_count 2\n";
	static const char *const bad[] = {
		"",
		"# HELP a A.\n# TYPE a gauge\na 1",                             /* no final newline */
		"# HELP a A.\n# TYPE a gauge\n\na 1\n",                         /* empty line */
		"# TYPE a gauge\na 1\n",                                        /* no HELP */
		"# HELP a A.\na 1\n",                                           /* no TYPE */
		"a 1\n",                                                        /* undeclared */
		"# HELP a A.\n# HELP a A.\n# TYPE a gauge\na 1\n",              /* HELP twice */
		"# HELP a A.\n# TYPE a gauge\n# TYPE a gauge\na 1\n",           /* TYPE twice */
		"# HELP a A.\n# TYPE a gauge\na 1\n# TYPE a gauge\n",           /* TYPE after samples */
		"# HELP a A.\n# TYPE a gauge\n",                                /* no samples */
		"# HELP a A.\n# TYPE a gauges\na 1\n",                          /* unknown type */
		"# HELP a A.\n# TYPE a gauge\na  1\n",                          /* two spaces */
		"# HELP a A.\n# TYPE a gauge\na 1 \n",                          /* trailing space */
		"# HELP a A.\n# TYPE a gauge\na one\n",                         /* not a number */
		"# HELP a A.\n# TYPE a gauge\na 1,5\n",                         /* not a number */
		"# HELP a A.\n# TYPE a gauge\na inf\n",                         /* spelt +Inf */
		"# HELP a A.\n# TYPE a gauge\na{} 1\n",                         /* empty label set */
		"# HELP a A.\n# TYPE a gauge\na{x=\"1\",} 1\n",                 /* trailing comma */
		"# HELP a A.\n# TYPE a gauge\na{x=1} 1\n",                      /* unquoted */
		"# HELP a A.\n# TYPE a gauge\na{x=\"1\"y=\"2\"} 1\n",           /* no comma */
		"# HELP a A.\n# TYPE a gauge\na{1x=\"1\"} 1\n",                 /* bad label name */
		"# HELP a A.\n# TYPE a gauge\na{x:y=\"1\"} 1\n",                /* colon in a label name */
		"# HELP a A.\n# TYPE a gauge\na{x=\"a\\\"b\"} 1\n",             /* escapes in values */
		"# HELP a A.\n# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",          /* label twice */
		"# HELP a A.\n# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n",    /* series twice */
		"# HELP 1a A.\n# TYPE 1a gauge\n1a 1\n",                        /* bad metric name */
		"# HELP a-b A.\n# TYPE a-b gauge\na-b 1\n",                     /* bad metric name */
		"# HELP a_total A.\n# TYPE a_total counter\na_total -1\n",      /* negative counter */
		"# HELP a A.\n# TYPE a gauge\n# HELP b B.\n# TYPE b gauge\nb 1\na 1\n", /* not together */
		"# HELP a A.\n# TYPE a gauge\na 1\n# random comment\n",         /* stray comment */
		"# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\n"
		"h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n",                /* not cumulative */
		"# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
		"h_sum 1\nh_count 3\n",                                         /* +Inf != _count */
		"# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
		"h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",                /* le out of order */
		"# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", /* no +Inf */
		"# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", /* no _sum */
		"# HELP h H.\n# TYPE h histogram\nh_bucket 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"# HELP h H.\n# TYPE h histogram\nh 1\n",                       /* no suffix */
		"# HELP g G.\n# TYPE g gauge\ng_bucket{le=\"1\"} 1\n",          /* suffix on a gauge */
	};
	struct validator *v = malloc(sizeof(*v));

	assert_non_null(v);
	if (validate_metrics_text(good, v) < 0)
		fail_msg("good text refused: %s", v->why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (validate_metrics_text(bad[i], v) == 0)
			fail_msg("bad text %zu accepted:\n%s", i, bad[i]);
	free(v);
}

/* The sources /metrics counts captures of: every one but the closer's, which is last. */
#define PROFILED_SOURCES 7
_Static_assert(PROFILED_SOURCES + 1 == _TRIGGER_SOURCE_MAX && TRIGGER_SOURCE_CLEANUP == PROFILED_SOURCES,
	       "a new trigger source: add it to the expected metrics");

static void fill_metrics(struct dispatcher_metrics *m)
{
	static const unsigned long buckets[DISPATCHER_LATENCY_BUCKETS] = { 1, 3, 6, 6, 11, 17, 24, 32, 32, 42 };

	memset(m, 0, sizeof(*m));
	for (int k = 0; k < _PROFILE_KIND_MAX; k++)
		for (int t = 0; t < _TRIGGER_SOURCE_MAX; t++)
			for (int o = 0; o < 2; o++)
				m->captures[k][t][o] = (unsigned long)(1000 * k + 100 * t + 10 * o + 7);
	m->captures[PROFILE_HEAP][0][0] = 3;
	for (int t = 0; t < _TRIGGER_SOURCE_MAX; t++)
		m->skipped[t] = (unsigned long)(50 + t);
	m->refused[TRIGGER_SOURCE_SIGNAL] = 6;
	m->refused[TRIGGER_SOURCE_API] = 8;
	m->refused[TRIGGER_SOURCE_CLEANUP] = 99;
	m->expired[TRIGGER_SOURCE_SIGNAL] = 2;
	m->export_failures = 4;
	/* Cumulative, as the dispatcher counts them; 5 took longer than the last bound. */
	memcpy(m->latency_buckets, buckets, sizeof(buckets));
	m->latency_count = 47;
	m->latency_sum = 123.456789;
	m->rss_watch = true;
	m->rss_watch_attaches = 9;
	m->events_lost[0] = 5;
	m->events_lost[1] = 6;
	m->signals_limited = 996;
	m->sigusr1_refused[SIGUSR1_HANDLER_APPLICATION] = 3;
	m->sigusr1_refused[SIGUSR1_HANDLER_UNKNOWN] = 1;
	m->track_failures = 2;
	m->reconciled = 4;
	m->exits_found = 1;
	m->events_lost[3] = 7;
	m->oom_kills = 12;
	m->oom_records = 10;
	m->oom_records_limited = 1;
	m->oom_record_failures = 1;
}

static void test_metrics_text(void **state)
{
	static const char *const kinds[] = { "heap", "cpu", "heap-snapshot", "allocation-timeline", "trace" };
	static const char *const triggers[] = { "signal", "api", "rss-threshold", "rss-growth", "limit-percent",
						"cpu-threshold", "schedule" };
	static const struct spool_derive_count derived[] = { { .name = "pprof", .written = 7, .failed = 2 } };
	struct dispatcher_metrics m;
	char line[256];
	char *text;

	fill_metrics(&m);
	text = api_metrics_text(&m, 12, 2, 5, 3, derived, 1, NULL, 7);
	assert_non_null(text);
	assert_valid_metrics(text);

	assert_has_line(text, "# TYPE inspectd_tracked_processes gauge");
	assert_has_line(text, "inspectd_tracked_processes 12");
	assert_has_line(text, "# TYPE inspectd_syscalls_refused_total counter");
	assert_has_line(text, "inspectd_syscalls_refused_total 7");
	assert_has_line(text, "# TYPE inspectd_captures_running gauge");
	assert_has_line(text, "inspectd_captures_running 2");
	assert_has_line(text, "# TYPE inspectd_captures_queued gauge");
	assert_has_line(text, "inspectd_captures_queued 5");
	assert_has_line(text, "# TYPE inspectd_captures_total counter");
	assert_has_line(text, "inspectd_captures_total{trigger=\"signal\",kind=\"heap\",outcome=\"exported\"} 3");
	assert_has_line(text, "inspectd_captures_total{trigger=\"signal\",kind=\"heap\",outcome=\"failed\"} 17");
	assert_has_line(text, "inspectd_captures_total{trigger=\"api\",kind=\"cpu\",outcome=\"exported\"} 1107");
	assert_has_line(text,
			"inspectd_captures_total{trigger=\"cpu-threshold\",kind=\"cpu\",outcome=\"failed\"} 1517");
	/* Every kind, trigger and outcome, each with its own count. */
	assert_int_equal(count_prefix_lines(text, "inspectd_captures_total{"), _PROFILE_KIND_MAX * PROFILED_SOURCES * 2);
	/* The closer takes no profile: counted nowhere, whatever its slot holds. */
	assert_null(strstr(text, "cleanup"));
	for (int k = 0; k < _PROFILE_KIND_MAX; k++)
		for (int t = 0; t < PROFILED_SOURCES; t++)
			for (int o = 0; o < 2; o++) {
				snprintf(line, sizeof(line),
					 "inspectd_captures_total{trigger=\"%s\",kind=\"%s\",outcome=\"%s\"} %lu",
					 triggers[t], kinds[k], o ? "failed" : "exported", m.captures[k][t][o]);
				assert_has_line(text, line);
			}
	/* Skips are for threshold triggers only. */
	assert_has_line(text, "# TYPE inspectd_triggers_skipped_total counter");
	assert_int_equal(count_prefix_lines(text, "inspectd_triggers_skipped_total{"), 5);
	assert_has_line(text, "inspectd_triggers_skipped_total{trigger=\"schedule\"} 56");
	assert_has_line(text, "inspectd_triggers_skipped_total{trigger=\"rss-threshold\"} 52");
	assert_has_line(text, "inspectd_triggers_skipped_total{trigger=\"rss-growth\"} 53");
	assert_has_line(text, "inspectd_triggers_skipped_total{trigger=\"limit-percent\"} 54");
	assert_has_line(text, "inspectd_triggers_skipped_total{trigger=\"cpu-threshold\"} 55");
	assert_null(strstr(text, "inspectd_triggers_skipped_total{trigger=\"signal\"}"));
	assert_null(strstr(text, "inspectd_triggers_skipped_total{trigger=\"api\"}"));
	/* Refusals (a container's hourly cap) and expiries, for every source that profiles. */
	assert_has_line(text, "# TYPE inspectd_captures_refused_total counter");
	/* Three reasons for the four thresholds and the schedule, two for a signal and the API. */
	assert_int_equal(count_prefix_lines(text, "inspectd_captures_refused_total{"), PROFILED_SOURCES * 2 + 5);
	assert_has_line(text, "inspectd_captures_refused_total{trigger=\"api\",reason=\"excluded\"} 0");
	assert_has_line(text, "inspectd_captures_refused_total{trigger=\"rss-threshold\",reason=\"not-selected\"} 0");
	assert_null(strstr(text, "inspectd_captures_refused_total{trigger=\"signal\",reason=\"not-selected\"}"));
	assert_has_line(text,
			"inspectd_captures_refused_total{trigger=\"signal\",reason=\"container-hourly-cap\"} 6");
	assert_has_line(text, "inspectd_captures_refused_total{trigger=\"api\",reason=\"container-hourly-cap\"} 8");
	assert_has_line(text,
			"inspectd_captures_refused_total{trigger=\"rss-growth\",reason=\"container-hourly-cap\"} 0");
	assert_has_line(text, "# TYPE inspectd_captures_expired_total counter");
	assert_int_equal(count_prefix_lines(text, "inspectd_captures_expired_total{"), PROFILED_SOURCES);
	assert_has_line(text, "inspectd_captures_expired_total{trigger=\"signal\"} 2");
	assert_has_line(text, "inspectd_captures_expired_total{trigger=\"api\"} 0");
	assert_has_line(text, "# TYPE inspectd_export_failures_total counter");
	assert_has_line(text, "inspectd_export_failures_total 4");
	/* The histogram, bucket by bucket. */
	assert_has_line(text, "# TYPE inspectd_trigger_to_start_seconds histogram");
	assert_int_equal(count_prefix_lines(text, "inspectd_trigger_to_start_seconds_bucket{"),
			 DISPATCHER_LATENCY_BUCKETS + 1);
	assert_has_line(text, "inspectd_trigger_to_start_seconds_bucket{le=\"0.005\"} 1");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_bucket{le=\"0.01\"} 3");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_bucket{le=\"0.02\"} 6");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_bucket{le=\"0.05\"} 6");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_bucket{le=\"0.1\"} 11");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_bucket{le=\"0.25\"} 17");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_bucket{le=\"0.5\"} 24");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_bucket{le=\"1\"} 32");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_bucket{le=\"2.5\"} 32");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_bucket{le=\"10\"} 42");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_bucket{le=\"+Inf\"} 47");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_sum 123.456789");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_count 47");
	for (int b = 0; b < DISPATCHER_LATENCY_BUCKETS; b++) {
		snprintf(line, sizeof(line), "inspectd_trigger_to_start_seconds_bucket{le=\"%g\"} %lu",
			 dispatcher_latency_le[b], m.latency_buckets[b]);
		assert_has_line(text, line);
	}
	assert_has_line(text, "# TYPE inspectd_rss_stat_attached gauge");
	assert_has_line(text, "inspectd_rss_stat_attached 1");
	assert_has_line(text, "# TYPE inspectd_rss_stat_attaches_total counter");
	assert_has_line(text, "inspectd_rss_stat_attaches_total 9");
	assert_has_line(text, "# TYPE inspectd_output_removed_total counter");
	assert_has_line(text, "inspectd_output_removed_total 3");
	assert_has_line(text, "# TYPE inspectd_exports_total counter");
	assert_has_line(text, "inspectd_exports_total{exporter=\"pprof\",outcome=\"written\"} 7");
	assert_has_line(text, "inspectd_exports_total{exporter=\"pprof\",outcome=\"failed\"} 2");
	/* What the kernel side could not report, and what was found again. */
	assert_has_line(text, "# TYPE inspectd_events_lost_total counter");
	assert_has_line(text, "inspectd_events_lost_total{stream=\"lifecycle\"} 5");
	assert_has_line(text, "inspectd_events_lost_total{stream=\"signal\"} 6");
	assert_has_line(text, "inspectd_events_lost_total{stream=\"rss\"} 0");
	assert_has_line(text, "inspectd_signals_rate_limited_total 996");
	assert_has_line(text, "inspectd_track_failures_total 2");
	assert_has_line(text, "inspectd_events_reconciled_total 4");
	assert_has_line(text, "inspectd_exits_found_total 1");
	/* OOM kills, and their records. */
	assert_has_line(text, "inspectd_events_lost_total{stream=\"oom\"} 7");
	assert_has_line(text, "# TYPE inspectd_oom_kills_total counter");
	assert_has_line(text, "inspectd_oom_kills_total 12");
	assert_has_line(text, "# TYPE inspectd_oom_records_total counter");
	assert_has_line(text, "inspectd_oom_records_total{outcome=\"written\"} 10");
	assert_has_line(text, "inspectd_oom_records_total{outcome=\"limited\"} 1");
	assert_has_line(text, "inspectd_oom_records_total{outcome=\"failed\"} 1");
	/* SIGUSR1 not sent, by whose handler it was: every verdict but node's (and unchecked). */
	assert_has_line(text, "# TYPE inspectd_sigusr1_refused_total counter");
	assert_int_equal(count_prefix_lines(text, "inspectd_sigusr1_refused_total{"), 4);
	assert_has_line(text, "inspectd_sigusr1_refused_total{handler=\"application\"} 3");
	assert_has_line(text, "inspectd_sigusr1_refused_total{handler=\"unknown\"} 1");
	assert_has_line(text, "inspectd_sigusr1_refused_total{handler=\"other\"} 0");
	assert_has_line(text, "inspectd_sigusr1_refused_total{handler=\"none\"} 0");
	assert_null(strstr(text, "handler=\"node\""));
	/* Twenty-two families, each with one HELP and one TYPE (the validator checked which). */
	assert_int_equal(count_prefix_lines(text, "# HELP "), 22);
	assert_int_equal(count_prefix_lines(text, "# TYPE "), 22);
	free(text);
}

static void test_metrics_zero_and_max(void **state)
{
	struct dispatcher_metrics m;
	char *text;

	/* A fresh agent. */
	memset(&m, 0, sizeof(m));
	text = api_metrics_text(&m, 0, 0, 0, 0, NULL, 0, NULL, -1);
	assert_non_null(text);
	assert_valid_metrics(text);
	assert_has_line(text, "inspectd_tracked_processes 0");
	assert_has_line(text, "inspectd_rss_stat_attached 0");
	assert_has_line(text, "inspectd_captures_total{trigger=\"signal\",kind=\"heap\",outcome=\"exported\"} 0");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_bucket{le=\"+Inf\"} 0");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_sum 0.000000");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_count 0");
	/* No filter counting: no family, rather than a 0 that would read as none refused. */
	assert_null(strstr(text, "inspectd_syscalls_refused_total"));
	free(text);

	/* Counters at their limit print whole. */
	for (int k = 0; k < _PROFILE_KIND_MAX; k++)
		for (int t = 0; t < _TRIGGER_SOURCE_MAX; t++)
			m.captures[k][t][0] = m.captures[k][t][1] = ULONG_MAX;
	m.export_failures = ULONG_MAX;
	for (int b = 0; b < DISPATCHER_LATENCY_BUCKETS; b++)
		m.latency_buckets[b] = ULONG_MAX;
	m.latency_count = ULONG_MAX;
	m.latency_sum = 1e12;
	text = api_metrics_text(&m, UINT_MAX, UINT_MAX, UINT_MAX, ULONG_MAX, NULL, 0, NULL, 0);
	assert_non_null(text);
	assert_valid_metrics(text);
	assert_has_line(text, "inspectd_tracked_processes 4294967295");
	assert_has_line(text, "inspectd_export_failures_total 18446744073709551615");
	assert_has_line(text, "inspectd_captures_total{trigger=\"api\",kind=\"cpu\",outcome=\"failed\"} "
			      "18446744073709551615");
	assert_has_line(text, "inspectd_trigger_to_start_seconds_bucket{le=\"+Inf\"} 18446744073709551615");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_fixed_paths),
		cmocka_unit_test(test_route_capture_id),
		cmocka_unit_test(test_route_bad_capture_ids),
		cmocka_unit_test(test_route_unknown_paths),
		cmocka_unit_test(test_job_id_format),
		cmocka_unit_test(test_job_id_roundtrip),
		cmocka_unit_test(test_parse_job_id),
		cmocka_unit_test(test_request_valid),
		cmocka_unit_test(test_request_new_kinds),
		cmocka_unit_test(test_request_long_categories),
		cmocka_unit_test(test_request_empty),
		cmocka_unit_test(test_request_not_an_object),
		cmocka_unit_test(test_request_pid),
		cmocka_unit_test(test_request_kind),
		cmocka_unit_test(test_request_seconds),
		cmocka_unit_test(test_request_unknown_field),
		cmocka_unit_test(test_request_duplicate_keys),
		cmocka_unit_test(test_request_nested_junk),
		cmocka_unit_test(test_request_large_bodies),
		cmocka_unit_test(test_request_trailing_data),
		cmocka_unit_test(test_request_embedded_nul),
		cmocka_unit_test(test_request_error_buffer),
		cmocka_unit_test(test_job_queued),
		cmocka_unit_test(test_job_trace),
		cmocka_unit_test(test_kinds_instantaneous),
		cmocka_unit_test(test_kind_list),
		cmocka_unit_test(test_job_starting),
		cmocka_unit_test(test_job_done),
		cmocka_unit_test(test_job_failed),
		cmocka_unit_test(test_job_threshold_trigger),
		cmocka_unit_test(test_job_times),
		cmocka_unit_test(test_process_plain),
		cmocka_unit_test(test_process_container),
		cmocka_unit_test(test_process_limit_and_cpu),
		cmocka_unit_test(test_process_armed),
		cmocka_unit_test(test_process_next_capture),
		cmocka_unit_test(test_process_capture),
		cmocka_unit_test(test_process_comm_escaped),
		cmocka_unit_test(test_error_json),
		cmocka_unit_test(test_metrics_validator),
		cmocka_unit_test(test_metrics_text),
		cmocka_unit_test(test_metrics_zero_and_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
