// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* File names and the .meta.json document written beside every profile. */
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

#include "meta.h"

/* spool.h's SPOOL_BASE_SIZE, which every base must fit. */
#define SPOOL_NAME_TEST_SIZE 200

/* `date -u -d @1795424101 +%Y%m%dT%H%M%SZ` -> 20261123T085501Z */
#define WHEN 1795424101

/* ---- file names ---- */

static void test_file_base(void **state)
{
	char buf[64];

	assert_int_equal(meta_file_base("heap", NULL, 1234, WHEN, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "heap-1234-20261123T085501Z");
	assert_int_equal(meta_file_base("inspectd", NULL, 1, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "inspectd-1-19700101T000000Z");
	assert_int_equal(meta_file_base("cpu", NULL, 4194304, 951782400, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "cpu-4194304-20000229T000000Z");
	assert_int_equal(meta_file_base("x", NULL, 2147483647, 4102444799, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "x-2147483647-20991231T235959Z");
	assert_int_equal(meta_file_base("", NULL, 7, WHEN, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "-7-20261123T085501Z");
}

static void test_file_base_truncation(void **state)
{
	const char *want = "heap-1234-20261123T085501Z";
	size_t n = strlen(want);
	char buf[64];

	/* Exactly enough room. */
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(meta_file_base("heap", NULL, 1234, WHEN, buf, n + 1), 0);
	assert_string_equal(buf, want);
	assert_int_equal(buf[n + 1], 'Z');

	/* One byte short: an error, and never a name cut short used silently. */
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(meta_file_base("heap", NULL, 1234, WHEN, buf, n), -ENOBUFS);
	assert_int_equal(buf[n], 'Z');
	assert_int_equal(meta_file_base("heap", NULL, 1234, WHEN, buf, 1), -ENOBUFS);
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(meta_file_base("heap", NULL, 1234, WHEN, buf, 0), -ENOBUFS);
	assert_int_equal(buf[0], 'Z');
	assert_int_equal(meta_file_base("heap", NULL, 1234, WHEN, NULL, 0), -ENOBUFS);
}

/* A container's name in a file name: sanitized, bounded, never empty, "." or "..". */
static void test_file_part(void **state)
{
	char buf[128], long_name[200];

	assert_int_equal(meta_file_part("app", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "app");
	assert_int_equal(meta_file_part("Web_1.prod-a", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "Web_1.prod-a");
	assert_int_equal(meta_file_part("../../etc/passwd", buf, sizeof(buf)), 0);
	assert_string_equal(buf, ".._.._etc_passwd");
	assert_int_equal(meta_file_part("a \x1b[2J\nb/c", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a_2J_b_c");
	assert_int_equal(meta_file_part("caf\xc3\xa9", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "caf_");
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(meta_file_part(long_name, buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), META_FILE_PART_MAX);
	assert_int_equal(meta_file_part(long_name, buf, 8), 0);
	assert_string_equal(buf, "xxxxxxx");
	assert_int_equal(meta_file_part("", buf, sizeof(buf)), -EINVAL);
	assert_string_equal(buf, "");
	assert_int_equal(meta_file_part(".", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(meta_file_part("..", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(meta_file_part("/", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(meta_file_part("\n\t ", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(meta_file_part(NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(meta_file_part("app", buf, 1), -EINVAL);
}

static void test_file_base_container(void **state)
{
	char buf[SPOOL_NAME_TEST_SIZE], long_name[300];

	assert_int_equal(meta_file_base("heap-profile", "app", 1234, WHEN, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "heap-profile-app-1234-20261123T085501Z");
	assert_true(meta_is_file_base(buf));
	assert_int_equal(meta_file_base("cpu-profile", "../x y", 7, WHEN, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "cpu-profile-.._x_y-7-20261123T085501Z");
	assert_true(meta_is_file_base(buf));
	/* Nothing left of the name: no part at all. */
	assert_int_equal(meta_file_base("heap-profile", "..", 7, WHEN, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "heap-profile-7-20261123T085501Z");
	assert_int_equal(meta_file_base("heap-profile", "", 7, WHEN, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "heap-profile-7-20261123T085501Z");
	/* The longest name: cut to its bound, and the whole still a base of ours. */
	memset(long_name, 'A', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(meta_file_base("heap-profile", long_name, 2147483647, WHEN, buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), strlen("heap-profile--2147483647-20261123T085501Z") + META_FILE_PART_MAX);
	assert_true(meta_is_file_base(buf));
}

/* ---- RFC 3339 ---- */

/* The bases retention may remove: the agent's own, and nothing else. */
static void test_is_file_base(void **state)
{
	char buf[128];

	assert_int_equal(meta_file_base("heap-profile", NULL, 1234, WHEN, buf, sizeof(buf)), 0);
	assert_true(meta_is_file_base(buf));
	assert_int_equal(meta_file_base("cpu-profile", NULL, 2147483647, 0, buf, sizeof(buf)), 0);
	assert_true(meta_is_file_base(buf));
	assert_true(meta_is_file_base("heap-profile-7-20261201T134707Z-1"));
	assert_true(meta_is_file_base("heap-profile-7-20261201T134707Z-999"));
	assert_false(meta_is_file_base("heap-profile-7-20261201T134707Z-1000"));
	assert_false(meta_is_file_base("heap-profile-7-20261201T134707Z-01"));
	assert_false(meta_is_file_base("heap-profile-7-20261201T134707Z-"));
	assert_false(meta_is_file_base("heap-profile--20261201T134707Z"));
	assert_false(meta_is_file_base("heap-profile-x7-20261201T134707Z"));
	assert_false(meta_is_file_base("-7-20261201T134707Z"));
	assert_false(meta_is_file_base("7-20261201T134707Z"));
	assert_false(meta_is_file_base("Heap-7-20261201T134707Z"));
	assert_false(meta_is_file_base("heap-7-20261201T134707"));
	assert_false(meta_is_file_base("heap-7-20261201X134707Z"));
	assert_false(meta_is_file_base("heap-7-2026120T134707Z"));
	assert_false(meta_is_file_base("notes"));
	assert_false(meta_is_file_base(""));
	assert_false(meta_is_file_base("a/b-7-20261201T134707Z"));
	/* With a container's part. */
	assert_true(meta_is_file_base("heap-profile-Web_1.x-7-20261201T134707Z"));
	assert_true(meta_is_file_base("heap-profile-web-7-20261201T134707Z-2"));
	assert_false(meta_is_file_base("heap-..-7-20261201T134707Z"));
	assert_false(meta_is_file_base("heap-.-7-20261201T134707Z"));
	assert_false(meta_is_file_base("heap-profile-a b-7-20261201T134707Z"));
	assert_false(meta_is_file_base("heap-profile-a/b-7-20261201T134707Z"));
	assert_false(meta_is_file_base("Web-7-20261201T134707Z"));
	assert_false(meta_is_file_base("heap-profile-"
				       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-7-20261201T134707Z"));
}

static void test_rfc3339(void **state)
{
	char buf[64];

	assert_int_equal(meta_format_rfc3339((struct timespec){ WHEN, 123456789 }, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-11-23T08:55:01.123Z");
	/* Milliseconds are truncated, not rounded: never a time in the next second. */
	assert_int_equal(meta_format_rfc3339((struct timespec){ WHEN, 999999999 }, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-11-23T08:55:01.999Z");
	assert_int_equal(meta_format_rfc3339((struct timespec){ WHEN, 0 }, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-11-23T08:55:01.000Z");
	assert_int_equal(meta_format_rfc3339((struct timespec){ WHEN, 1000000 }, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-11-23T08:55:01.001Z");
	assert_int_equal(meta_format_rfc3339((struct timespec){ WHEN, 999999 }, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-11-23T08:55:01.000Z");
	assert_int_equal(meta_format_rfc3339((struct timespec){ WHEN, 50000000 }, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-11-23T08:55:01.050Z");
	assert_int_equal(meta_format_rfc3339((struct timespec){ 0, 0 }, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	assert_int_equal(meta_format_rfc3339((struct timespec){ 951782400, 500000000 }, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2000-02-29T00:00:00.500Z");
}

static void test_rfc3339_truncation(void **state)
{
	const char *want = "2026-11-23T08:55:01.123Z";
	size_t n = strlen(want);
	char buf[64];

	assert_int_equal(n, 24);
	assert_int_equal(meta_format_rfc3339((struct timespec){ WHEN, 123456789 }, buf, n + 1), 0);
	assert_string_equal(buf, want);
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(meta_format_rfc3339((struct timespec){ WHEN, 123456789 }, buf, n), -ENOBUFS);
	assert_int_equal(buf[n], 'Z');
	assert_int_equal(meta_format_rfc3339((struct timespec){ WHEN, 123456789 }, buf, 0), -ENOBUFS);
}

/* ---- .meta.json ---- */

static const cJSON *field(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!v)
		fail_msg("no \"%s\" in the document", name);
	return v;
}

static void assert_string_field(const cJSON *obj, const char *name, const char *want)
{
	const cJSON *v = field(obj, name);

	if (!cJSON_IsString(v))
		fail_msg("\"%s\" is not a string", name);
	assert_string_equal(v->valuestring, want);
}

static void assert_number_field(const cJSON *obj, const char *name, double want)
{
	const cJSON *v = field(obj, name);

	if (!cJSON_IsNumber(v))
		fail_msg("\"%s\" is not a number", name);
	if (v->valuedouble != want)
		fail_msg("\"%s\" is %.17g, want %.17g", name, v->valuedouble, want);
}

/* What a reader of the file sees: the document printed and parsed back. */
static cJSON *build_parsed(const struct meta_process *p, const struct meta_trigger *t,
			   const struct meta_profile *prof)
{
	cJSON *root = meta_build(p, t, prof), *back;
	char *text;

	if (!root)
		return NULL;
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text)
		return NULL;
	back = cJSON_Parse(text);
	free(text);
	return back;
}

static char *argv_node[] = { "node", "--max-old-space-size=4096", "server.js", "--port", "8080" };

static const struct meta_process process = {
	.pid = 4242,
	.comm = "node",
	.argv = argv_node,
	.argc = 5,
	.exe = "/usr/bin/node",
	.node_version = "v20.20.2",
	.hostname = "web-1",
};

static const struct meta_trigger trigger = {
	.kind = "signal",
	.signal = "SIGWINCH",
	.sender_pid = 31337,
	.sender_ns_pid = 12,
	.sender_comm = "kill",
	.ktime_ns = 123456789012345ULL,
	.latency_ms = 12.5,
	.queued_ms = 3004.25,
};

static const struct meta_profile profile = {
	.type = "heap-profile",
	.started_at = { WHEN, 123456789 },
	.ended_at = { WHEN + 30, 987000000 },
	.interval_name = "sampling_interval_bytes",
	.interval = 32768,
	.stop_reason = "max-duration",
	.requested_duration_usec = 1500250,
};

static void test_build(void **state)
{
	cJSON *root = build_parsed(&process, &trigger, &profile);
	const cJSON *cmdline, *t, *p, *sampling;

	assert_non_null(root);
	assert_true(cJSON_IsObject(root));

	assert_number_field(root, "pid", 4242);
	assert_string_field(root, "comm", "node");
	assert_string_field(root, "exe", "/usr/bin/node");
	assert_string_field(root, "node_version", "v20.20.2");
	assert_string_field(root, "hostname", "web-1");
	assert_true(cJSON_IsNull(field(root, "container")));

	cmdline = field(root, "cmdline");
	assert_true(cJSON_IsArray(cmdline));
	assert_int_equal(cJSON_GetArraySize(cmdline), 5);
	for (int i = 0; i < 5; i++) {
		const cJSON *arg = cJSON_GetArrayItem(cmdline, i);

		assert_true(cJSON_IsString(arg));
		assert_string_equal(arg->valuestring, argv_node[i]);
	}

	t = field(root, "trigger");
	assert_true(cJSON_IsObject(t));
	assert_string_field(t, "kind", "signal");
	assert_string_field(t, "signal", "SIGWINCH");
	assert_number_field(t, "sender_pid", 31337);
	assert_number_field(t, "sender_ns_pid", 12);
	assert_string_field(t, "sender_comm", "kill");
	assert_number_field(t, "ktime_ns", 123456789012345.0);
	assert_number_field(t, "latency_ms", 12.5);
	/* Its wait for its turn, within latency_ms. */
	assert_number_field(t, "queued_ms", 3004.25);

	p = field(root, "profile");
	assert_true(cJSON_IsObject(p));
	assert_string_field(p, "type", "heap-profile");
	assert_string_field(p, "started_at", "2026-11-23T08:55:01.123Z");
	assert_string_field(p, "ended_at", "2026-11-23T08:55:31.987Z");
	assert_string_field(p, "stop_reason", "max-duration");
	assert_number_field(p, "requested_duration_ms", 1500.25);
	sampling = field(p, "sampling");
	assert_true(cJSON_IsObject(sampling));
	assert_int_equal(cJSON_GetArraySize(sampling), 1);
	assert_number_field(sampling, "sampling_interval_bytes", 32768);

	cJSON_Delete(root);
}

static void test_build_cpu_profile(void **state)
{
	struct meta_profile prof = profile;
	cJSON *root;
	const cJSON *sampling;

	prof.type = "cpu-profile";
	prof.interval_name = "sampling_interval_us";
	prof.interval = 1000;
	prof.stop_reason = "signal";
	root = build_parsed(&process, &trigger, &prof);
	assert_non_null(root);
	assert_string_field(field(root, "profile"), "type", "cpu-profile");
	assert_string_field(field(root, "profile"), "stop_reason", "signal");
	sampling = field(field(root, "profile"), "sampling");
	assert_number_field(sampling, "sampling_interval_us", 1000);
	assert_null(cJSON_GetObjectItemCaseSensitive(sampling, "sampling_interval_bytes"));
	cJSON_Delete(root);
}

static void test_build_nulls(void **state)
{
	struct meta_process proc = {
		.pid = 1,
		.argv = NULL,
		.argc = 0,
	};
	struct meta_trigger trig = {
		.kind = "signal",
		.signal = "SIGURG",
		.sender_pid = 2,
	};
	struct meta_profile prof = profile;
	const cJSON *v;
	cJSON *root;

	prof.stop_reason = NULL;
	prof.requested_duration_usec = 0;
	root = build_parsed(&proc, &trig, &prof);
	assert_non_null(root);
	/* Unknown node version: null, not "" or a missing key. */
	v = field(root, "node_version");
	assert_true(cJSON_IsNull(v));
	/* Unknown strings are empty. */
	assert_string_field(root, "comm", "");
	assert_string_field(root, "exe", "");
	assert_string_field(root, "hostname", "");
	assert_string_field(field(root, "trigger"), "sender_comm", "");
	assert_string_field(field(root, "profile"), "stop_reason", "");
	/* Until stopped: no duration asked for. */
	assert_true(cJSON_IsNull(field(field(root, "profile"), "requested_duration_ms")));
	v = field(root, "cmdline");
	assert_true(cJSON_IsArray(v));
	assert_int_equal(cJSON_GetArraySize(v), 0);
	assert_number_field(field(root, "trigger"), "ktime_ns", 0);
	assert_number_field(field(root, "trigger"), "latency_ms", 0);
	assert_number_field(field(root, "trigger"), "queued_ms", 0);
	cJSON_Delete(root);
}

static void test_build_ktime_exact(void **state)
{
	/* Past 2^53 ns (104 days of uptime) a double loses nanoseconds; the text must not. */
	struct meta_trigger trig = { .kind = "signal", .ktime_ns = 9007199254740993ULL };
	cJSON *root = meta_build(&process, &trig, &profile);
	char *text;

	assert_non_null(root);
	text = cJSON_PrintUnformatted(root);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"ktime_ns\":9007199254740993,"));
	free(text);
	cJSON_Delete(root);
}

static void test_build_trigger_without_signal(void **state)
{
	struct meta_trigger trig = {
		.kind = "manual",
		.ktime_ns = 5,
		.latency_ms = 0.25,
		.sender_pid = 99,
	};
	const cJSON *t;
	cJSON *root = build_parsed(&process, &trig, &profile);

	assert_non_null(root);
	t = field(root, "trigger");
	assert_string_field(t, "kind", "manual");
	assert_null(cJSON_GetObjectItemCaseSensitive(t, "signal"));
	assert_null(cJSON_GetObjectItemCaseSensitive(t, "sender_pid"));
	assert_null(cJSON_GetObjectItemCaseSensitive(t, "sender_ns_pid"));
	assert_null(cJSON_GetObjectItemCaseSensitive(t, "sender_comm"));
	assert_number_field(t, "ktime_ns", 5);
	assert_number_field(t, "latency_ms", 0.25);
	cJSON_Delete(root);
}

static void test_build_threshold(void **state)
{
	struct meta_trigger trig = {
		.kind = "rss-threshold",
		.ktime_ns = 7,
		.has_threshold = true,
		.unit = "bytes",
		.threshold = 209715200,
		.observed = 210763776,
		.detected_by = "tick",
	};
	const cJSON *t;
	cJSON *root = build_parsed(&process, &trig, &profile);

	assert_non_null(root);
	t = field(root, "trigger");
	assert_string_field(t, "kind", "rss-threshold");
	assert_number_field(t, "threshold", 209715200);
	assert_number_field(t, "observed", 210763776);
	assert_string_field(t, "unit", "bytes");
	assert_string_field(t, "detected_by", "tick");
	cJSON_Delete(root);

	/* Without threshold fields, none of them appears. */
	trig.has_threshold = false;
	root = build_parsed(&process, &trig, &profile);
	assert_non_null(root);
	t = field(root, "trigger");
	assert_null(cJSON_GetObjectItemCaseSensitive(t, "threshold"));
	assert_null(cJSON_GetObjectItemCaseSensitive(t, "detected_by"));
	cJSON_Delete(root);
}

static void test_build_container(void **state)
{
	struct container_info c = { .runtime = CONTAINER_RUNTIME_DOCKER, .id = "4f1c2b7a9e0d3c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b" };
	struct meta_process proc = process;
	const cJSON *o;
	cJSON *root;

	proc.container = &c;
	root = build_parsed(&proc, &trigger, &profile);
	assert_non_null(root);
	o = field(root, "container");
	assert_string_field(o, "runtime", "docker");
	assert_string_field(o, "id", c.id);
	assert_true(cJSON_IsNull(field(o, "pod_uid")));
	assert_true(cJSON_IsNull(field(o, "name")));
	assert_true(cJSON_IsNull(field(o, "image")));
	assert_true(cJSON_IsNull(field(root, "kubernetes")));
	assert_true(cJSON_IsNull(field(root, "ns_pid")));
	assert_true(cJSON_IsNull(field(root, "boot_id")));
	cJSON_Delete(root);
}

/* Names from the runtime, the pod's, the pid namespace's and the boot's. */
static void test_build_names(void **state)
{
	struct container_info c = {
		.runtime = CONTAINER_RUNTIME_CONTAINERD, .id = "4f1c2b7a9e0d3c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b",
		.pod_uid = "5a8f2c1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b",
		.names = { .name = "app", .image = "docker.io/library/node:20", .kube_pod = "web-7d9f8c6b5-x2x9q",
			   .kube_namespace = "shop", .kube_container = "app" },
	};
	struct meta_process proc = process;
	const cJSON *o, *k;
	cJSON *root;

	proc.container = &c;
	proc.ns_pid = 1;
	proc.boot_id = "0e2b7d3c-6f1a-4b8e-9c2d-5a4f3e2d1c0b";
	root = build_parsed(&proc, &trigger, &profile);
	assert_non_null(root);
	o = field(root, "container");
	assert_string_field(o, "name", "app");
	assert_string_field(o, "image", "docker.io/library/node:20");
	assert_string_field(o, "pod_uid", c.pod_uid);
	k = field(root, "kubernetes");
	assert_string_field(k, "pod", "web-7d9f8c6b5-x2x9q");
	assert_string_field(k, "namespace", "shop");
	assert_string_field(k, "container", "app");
	assert_string_field(k, "pod_uid", c.pod_uid);
	assert_true(cJSON_IsNull(field(k, "sandbox_id")));
	assert_number_field(root, "ns_pid", 1);
	assert_string_field(root, "boot_id", "0e2b7d3c-6f1a-4b8e-9c2d-5a4f3e2d1c0b");
	cJSON_Delete(root);

	/* A pod known by its cgroup alone: the object, its names null. */
	memset(&c.names, 0, sizeof(c.names));
	root = build_parsed(&proc, &trigger, &profile);
	k = field(root, "kubernetes");
	assert_true(cJSON_IsNull(field(k, "pod")));
	assert_string_field(k, "pod_uid", c.pod_uid);
	cJSON_Delete(root);
}

static void test_build_roundtrip(void **state)
{
	/* What a target controls (argv, comm) is escaped, and the document reads back the same. */
	char *argv_odd[] = { "node", "-e", "console.log(\"hi\")\n\t\\", "\x1b[31mred", "caf\xc3\xa9", "" };
	struct meta_process proc = process;
	cJSON *root, *back;
	const cJSON *cmdline;
	char *text;

	proc.argv = argv_odd;
	proc.argc = 6;
	proc.comm = "we\"ird\n";
	root = meta_build(&proc, &trigger, &profile);
	assert_non_null(root);
	text = cJSON_PrintUnformatted(root);
	assert_non_null(text);
	assert_null(strchr(text, '\n'));
	assert_null(strchr(text, '\x1b'));

	back = cJSON_Parse(text);
	assert_non_null(back);
	{
		/* Printing the parsed document again gives the same text. */
		char *again = cJSON_PrintUnformatted(back);

		assert_non_null(again);
		assert_string_equal(again, text);
		free(again);
	}
	cmdline = field(back, "cmdline");
	assert_int_equal(cJSON_GetArraySize(cmdline), 6);
	for (int i = 0; i < 6; i++)
		assert_string_equal(cJSON_GetArrayItem(cmdline, i)->valuestring, argv_odd[i]);
	assert_string_field(back, "comm", "we\"ird\n");

	cJSON_Delete(back);
	cJSON_free(text);
	cJSON_Delete(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_base),
		cmocka_unit_test(test_file_base_truncation),
		cmocka_unit_test(test_is_file_base),
		cmocka_unit_test(test_file_part),
		cmocka_unit_test(test_file_base_container),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_rfc3339_truncation),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_cpu_profile),
		cmocka_unit_test(test_build_nulls),
		cmocka_unit_test(test_build_trigger_without_signal),
		cmocka_unit_test(test_build_ktime_exact),
		cmocka_unit_test(test_build_threshold),
		cmocka_unit_test(test_build_container),
		cmocka_unit_test(test_build_names),
		cmocka_unit_test(test_build_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
