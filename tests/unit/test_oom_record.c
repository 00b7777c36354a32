// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The OOM-kill record's document: every field, nulls where a fact is not known. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "oom_record.h"

static void test_full(void **state)
{
	char *argv[] = { "node", "server.js", "--port=80" };
	const char *files[] = { "/out/heap-profile-42-20261201T101010Z.heapprofile",
				"/out/heap-profile-42-20261201T101010Z.meta.json" };
	struct oom_record_capture cap = { .job = 7, .kind = "heap", .ended_at = { 1764583810, 500000000 },
					  .files = files, .n_files = 2 };
	struct container_info c = { .runtime = CONTAINER_RUNTIME_CONTAINERD };
	struct oom_record r = {
		.pid = 42, .comm = "node", .argv = argv, .argc = 3, .hostname = "h1", .container = &c,
		.cgroup = "/docker/abc", .memory_limit = 64 << 20, .killed_at = { 1764583900, 0 },
		.ktime_ns = 123456789012345678ULL, .detected_by = OOM_BY_MARK_VICTIM, .has_victim = true,
		.rss_at_kill = 70 << 20, .oom_score_adj = 500, .invoked_by_pid = 43, .invoked_by_comm = "node",
		.rss_timeline_json = "[[1764583898000,1048576],[1764583899000,2097152]]",
		.captures = &cap, .n_captures = 1,
	};
	cJSON *doc, *v, *t;
	char *text;

	strcpy(c.id, "abc");
	strcpy(c.pod_uid, "0f1e2d3c-0000-4000-8000-000000000001");
	strcpy(c.names.kube_pod, "api-7d9f");
	strcpy(c.names.kube_namespace, "shop");
	doc = oom_record_build(&r);
	assert_non_null(doc);
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	/* What a reader gets: parsed back. */
	doc = cJSON_Parse(text);
	assert_non_null(doc);
	assert_string_equal(cJSON_GetObjectItem(doc, "event")->valuestring, "oom-kill");
	assert_int_equal(cJSON_GetObjectItem(doc, "pid")->valueint, 42);
	assert_string_equal(cJSON_GetObjectItem(doc, "comm")->valuestring, "node");
	v = cJSON_GetObjectItem(doc, "cmdline");
	assert_int_equal(cJSON_GetArraySize(v), 3);
	assert_string_equal(cJSON_GetArrayItem(v, 2)->valuestring, "--port=80");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "container"), "id")->valuestring, "abc");
	v = cJSON_GetObjectItem(doc, "kubernetes");
	assert_string_equal(cJSON_GetObjectItem(v, "pod")->valuestring, "api-7d9f");
	assert_string_equal(cJSON_GetObjectItem(v, "namespace")->valuestring, "shop");
	assert_string_equal(cJSON_GetObjectItem(doc, "cgroup")->valuestring, "/docker/abc");
	assert_int_equal(cJSON_GetObjectItem(doc, "memory_limit_bytes")->valuedouble, 64 << 20);
	assert_string_equal(cJSON_GetObjectItem(doc, "killed_at")->valuestring, "2025-12-01T10:11:40.000Z");
	assert_non_null(strstr(text, "\"ktime_ns\":123456789012345678,"));
	assert_string_equal(cJSON_GetObjectItem(doc, "detected_by")->valuestring, "mark_victim");
	v = cJSON_GetObjectItem(doc, "victim");
	assert_int_equal(cJSON_GetObjectItem(v, "rss_bytes")->valuedouble, 70 << 20);
	assert_int_equal(cJSON_GetObjectItem(v, "oom_score_adj")->valueint, 500);
	assert_int_equal(cJSON_GetObjectItem(v, "invoked_by_pid")->valueint, 43);
	v = cJSON_GetObjectItem(doc, "rss_timeline");
	assert_int_equal(cJSON_GetArraySize(v), 2);
	t = cJSON_GetArrayItem(v, 1);
	assert_true(cJSON_GetArrayItem(t, 0)->valuedouble == 1764583899000.0);
	assert_int_equal(cJSON_GetArrayItem(t, 1)->valuedouble, 2097152);
	v = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "captures"), 0);
	assert_non_null(v);
	assert_string_equal(cJSON_GetObjectItem(v, "id")->valuestring, "c-000007");
	assert_string_equal(cJSON_GetObjectItem(v, "kind")->valuestring, "heap");
	assert_string_equal(cJSON_GetObjectItem(v, "ended_at")->valuestring, "2025-12-01T10:10:10.500Z");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(v, "files"), 1)->valuestring, files[1]);
	cJSON_Delete(doc);
	free(text);
}

static void test_unknowns(void **state)
{
	struct oom_record r = { .pid = 9, .detected_by = OOM_BY_EXIT };
	cJSON *doc = oom_record_build(&r);

	assert_non_null(doc);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(doc, "container")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(doc, "kubernetes")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(doc, "memory_limit_bytes")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(doc, "victim")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(doc, "killed_at")));
	assert_string_equal(cJSON_GetObjectItem(doc, "detected_by")->valuestring, "exit");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "cmdline")), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "captures")), 0);
	assert_string_equal(cJSON_GetObjectItem(doc, "comm")->valuestring, "");
	cJSON_Delete(doc);
	assert_string_equal(oom_detected_by_name(OOM_BY_EXIT), "exit");
	assert_null(oom_detected_by_name(_OOM_BY_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_unknowns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
