// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The Pyroscope exporter's pure parts: the ingest URL (labels in the name, hostile values
 * that cannot break out of it, percent-encoding, the bound), the app name (sanitized; its
 * default from meta.json's container or script), the ISO 8601 times of meta.json, wants(),
 * and the config checks of pyroscope_exporter__new() (token files, URLs, tenants).
 * deliver() runs against a fake server through tests/helpers/pyro_push.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "pyroscope.h"

/* The query's name parameter decoded back, as the server's URL parser would. */
static void name_of(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "?name="), *end;
	size_t o = 0;

	assert_non_null(p);
	p += 6;
	end = strchr(p, '&');
	assert_non_null(end);
	for (; p < end && o + 1 < size; p++) {
		if (*p == '%') {
			unsigned v;

			assert_int_equal(sscanf(p + 1, "%2x", &v), 1);
			out[o++] = (char)v;
			p += 2;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

static void test_url(void **unused)
{
	struct pyroscope_push p = {
		.app = "api", .hostname = "node-1", .namespace = "shop", .pod = "api-7d9f", .container = "api",
		.pid = 4242, .from = 1796145984, .until = 1796145987, .sample_rate = 100,
	};
	char url[PYROSCOPE_URL_MAX], name[2048];
	int n;

	n = pyroscope_ingest_url("http://pyro:4040", &p, url, sizeof(url));
	assert_int_equal(n, (int)strlen(url));
	assert_string_equal(url, "http://pyro:4040/ingest?name=api%7Bhostname%3Dnode-1%2Cnamespace%3Dshop%2Cpod%3Dapi-7d9f"
				 "%2Ccontainer%3Dapi%2Cpid%3D4242%7D&from=1796145984&until=1796145987&spyName=inspectd"
				 "&sampleRate=100");

	/* a trailing '/' of the base dropped; labels absent omitted; no sample rate for heap */
	p = (struct pyroscope_push){ .app = "api", .hostname = "vm", .from = 5, .until = 5 };
	assert_true(pyroscope_ingest_url("https://h/pyroscope/", &p, url, sizeof(url)) > 0);
	assert_string_equal(url, "https://h/pyroscope/ingest?name=api%7Bhostname%3Dvm%7D&from=5&until=5&spyName=inspectd");
	p.hostname = "";
	assert_true(pyroscope_ingest_url("https://h", &p, url, sizeof(url)) > 0);
	assert_string_equal(url, "https://h/ingest?name=api&from=5&until=5&spyName=inspectd");

	/* the app sanitized in the URL; nothing of it: refused */
	p.app = "my app/{x}";
	assert_true(pyroscope_ingest_url("https://h", &p, url, sizeof(url)) > 0);
	name_of(url, name, sizeof(name));
	assert_string_equal(name, "my_app__x_");
	p.app = "";
	assert_int_equal(pyroscope_ingest_url("https://h", &p, url, sizeof(url)), -EINVAL);
	p.app = NULL;
	assert_int_equal(pyroscope_ingest_url("https://h", &p, url, sizeof(url)), -EINVAL);
}

static void test_hostile_labels(void **unused)
{
	struct pyroscope_push p = {
		.app = "api",
		.hostname = "h,evil=1",
		.namespace = "ns}{__name__=x",
		.pod = "a\"b c\td\r\ne=f",
		.container = "caf\xc3\xa9\x7f\x01&x=%41#",
		.pid = 7,
	};
	char url[PYROSCOPE_URL_MAX], name[4096], big[1000];
	int n;

	assert_true(pyroscope_ingest_url("http://p", &p, url, sizeof(url)) > 0);
	/* only unreserved characters and %XX in the whole query: no '&', '#', '{' let through */
	for (const char *c = strchr(url, '?') + 1; *c; c++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%&=", *c));
	name_of(url, name, sizeof(name));
	assert_string_equal(name, "api{hostname=h_evil_1,namespace=ns____name___x,pod=a_b_c_d__e_f,"
				  "container=caf____&x_%41#,pid=7}");
	/* exactly one '{', one '}', and as many '=' as labels: Pyroscope parses 5 labels */
	assert_int_equal(strchr(name, '{') - name, 3);
	assert_ptr_equal(strchr(name, '}'), name + strlen(name) - 1);
	n = 0;
	for (const char *c = name; *c; c++)
		n += *c == '=';
	assert_int_equal(n, 5);

	/* a value is cut to PYROSCOPE_LABEL_MAX bytes */
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	p = (struct pyroscope_push){ .app = "api", .pod = big };
	assert_true(pyroscope_ingest_url("http://p", &p, url, sizeof(url)) > 0);
	name_of(url, name, sizeof(name));
	assert_int_equal(strlen(name), strlen("api{pod=}") + PYROSCOPE_LABEL_MAX);

	/* the sanitizers alone */
	assert_int_equal(pyroscope_label_sanitize("a b", name, sizeof(name)), 3);
	assert_string_equal(name, "a_b");
	assert_int_equal(pyroscope_label_sanitize("abcdef", name, 4), 3);
	assert_string_equal(name, "abc");
	assert_int_equal(pyroscope_app_sanitize("svc.v1_x-y", name, sizeof(name)), 10);
	assert_string_equal(name, "svc.v1_x-y");
	assert_int_equal(pyroscope_app_sanitize("\xc3\xa9t\xc3\xa9", name, sizeof(name)), 5);
	assert_string_equal(name, "__t__");
	assert_int_equal(pyroscope_app_sanitize(big, name, sizeof(name)), PYROSCOPE_APP_MAX);
	assert_int_equal(pyroscope_app_sanitize(NULL, name, sizeof(name)), 0);
	assert_string_equal(name, "");
}

static void test_url_bound(void **unused)
{
	struct pyroscope_push p = {
		.app = "api", .hostname = "node-1", .namespace = "shop", .pod = "api-7d9f", .container = "api",
		.pid = 4242, .from = 1, .until = 2, .sample_rate = 100,
	};
	char url[PYROSCOPE_URL_MAX], small[PYROSCOPE_URL_MAX];
	char big[PYROSCOPE_LABEL_MAX * 2];
	int n;

	n = pyroscope_ingest_url("http://pyro:4040", &p, url, sizeof(url));
	assert_true(n > 0);
	/* every size short of the whole: -ENAMETOOLONG, never a cut URL */
	for (size_t size = 0; size <= (size_t)n; size++)
		assert_int_equal(pyroscope_ingest_url("http://pyro:4040", &p, small, size), -ENAMETOOLONG);
	assert_int_equal(pyroscope_ingest_url("http://pyro:4040", &p, small, (size_t)n + 1), n);
	assert_string_equal(small, url);

	/* the worst labels (every byte encoded, every value at its cut) fit PYROSCOPE_URL_MAX
	 * with the longest base */
	memset(big, '{', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	p = (struct pyroscope_push){ .app = big, .hostname = big, .namespace = big, .pod = big, .container = big,
				     .pid = INT32_MAX, .from = INT64_MAX, .until = INT64_MAX, .sample_rate = UINT32_MAX };
	{
		char base[PYROSCOPE_BASE_URL_MAX + 1];

		memset(base, 'h', sizeof(base) - 1);
		memcpy(base, "http://", 7);
		base[sizeof(base) - 1] = '\0';
		n = pyroscope_ingest_url(base, &p, url, sizeof(url));
		assert_true(n > 0 && n < PYROSCOPE_URL_MAX);
	}
}

static cJSON *meta_of(const char *json)
{
	cJSON *m = cJSON_Parse(json);

	assert_non_null(m);
	return m;
}

static void expect_app(const char *json, const char *app)
{
	cJSON *m = meta_of(json);
	char buf[PYROSCOPE_APP_MAX + 1];

	pyroscope_app_default(m, buf, sizeof(buf));
	assert_string_equal(buf, app);
	cJSON_Delete(m);
}

static void test_app_default(void **unused)
{
	/* container.name first */
	expect_app("{\"container\":{\"name\":\"shop/api\",\"id\":\"abc\"},\"cmdline\":[\"node\",\"srv.js\"]}", "shop_api");
	expect_app("{\"container\":{\"name\":\"\"},\"cmdline\":[\"node\",\"srv.js\"]}", "srv");
	expect_app("{\"container\":null,\"cmdline\":[\"/usr/bin/node\",\"/srv/app/server.js\"]}", "server");
	expect_app("{\"cmdline\":[\"node\",\"--max-old-space-size=4096\",\"--inspect\",\"dist/main.mjs\",\"x.js\"]}",
		   "main");
	expect_app("{\"cmdline\":[\"node\",\"-r\",\"./tracing.js\",\"--require\",\"dotenv/config\",\"app.cjs\"]}", "app");
	expect_app("{\"cmdline\":[\"node\",\"--import\",\"./otel.mjs\",\"--\",\"w.worker.js\"]}", "w.worker");
	expect_app("{\"cmdline\":[\"node\",\"--max-old-space-size\",\"4096\",\"index.js\"]}", "index");
	expect_app("{\"cmdline\":[\"node\",\"my app (v2).js\"]}", "my_app__v2_");
	/* no script that ends in .js: "node" */
	expect_app("{\"cmdline\":[\"node\",\"-e\",\"require('./x.js')\"]}", "node");
	expect_app("{\"cmdline\":[\"node\",\"--eval=1\",\"x.js\"]}", "node");
	expect_app("{\"cmdline\":[\"/usr/bin/node\",\"/usr/bin/npm\",\"start\",\"x.js\"]}", "node");
	expect_app("{\"cmdline\":[\"node\",\"src/app.ts\"]}", "node");
	expect_app("{\"cmdline\":[\"node\",\"/srv/.js\"]}", "node");
	expect_app("{\"cmdline\":[\"node\"]}", "node");
	expect_app("{\"cmdline\":[\"node\",7,\"x.js\"]}", "node");
	expect_app("{\"cmdline\":\"node x.js\"}", "node");
	expect_app("{}", "node");
	expect_app("[]", "node");
}

static void expect_time(const char *s, int64_t sec, long nsec)
{
	int64_t got = -1;
	long ns = -1;

	assert_int_equal(pyroscope_parse_time(s, &got, &ns), 0);
	assert_int_equal(got, sec);
	assert_int_equal(ns, nsec);
}

static void test_time(void **unused)
{
	static const char *const bad[] = {
		"", "2026-12-01", "2026-12-01T17:26:24", "2026-12-01T17:26:24z", "2026-12-01T17:26:24+00:00",
		"2026-12-01 17:26:24Z", "2026-12-01T17:26:24.Z", "2026-12-01T17:26:24.1234567890Z",
		"2026-12-01T17:26:24.283Zx", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-12-00T00:00:00Z", "2026-12-01T24:00:00Z", "2026-12-01T23:60:00Z",
		"2026-12-01T23:59:60Z", "1969-12-31T23:59:59Z", "+026-12-01T17:26:24Z", "2026-1a-01T17:26:24Z",
		"2026-12-01T17:26:-4Z", " 2026-12-01T17:26:24Z",
	};
	int64_t sec;
	long ns;

	expect_time("1970-01-01T00:00:00Z", 0, 0);
	expect_time("2026-12-01T17:26:24.283Z", 1796145984, 283000000);
	expect_time("2026-12-01T17:26:24Z", 1796145984, 0);
	expect_time("2024-02-29T12:00:00.000000001Z", 1709208000, 1);
	expect_time("2000-02-29T00:00:00.5Z", 951782400, 500000000);
	expect_time("2038-01-19T03:14:08Z", 2147483648, 0);
	expect_time("9999-12-31T23:59:59.999999999Z", 253402300799, 999999999);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pyroscope_parse_time(bad[i], &sec, &ns) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(pyroscope_parse_time(NULL, &sec, &ns), -EINVAL);
}

static void test_wants(void **unused)
{
	const struct delivery_file with[] = {
		{ .name = "b.heapprofile", .ext = "heapprofile" },
		{ .name = "b.pb.gz", .ext = "pb.gz" },
		{ .name = "b.meta.json", .ext = "meta.json" },
	};
	const struct delivery_file without[] = {
		{ .name = "b.heapprofile", .ext = "heapprofile" },
		{ .name = "b.meta.json", .ext = "meta.json" },
	};
	struct delivery d = { .base = "b", .files = with, .n_files = 3 };

	d.kind = "heap-profile";
	assert_true(pyroscope_exporter_ops.wants(&d));
	d.kind = "cpu-profile";
	assert_true(pyroscope_exporter_ops.wants(&d));
	d.kind = "oom-kill";
	assert_false(pyroscope_exporter_ops.wants(&d));
	/* The kinds it cannot read, even with a .pb.gz beside them. */
	d.kind = "heap-snapshot";
	assert_false(pyroscope_exporter_ops.wants(&d));
	d.kind = "allocation-timeline";
	assert_false(pyroscope_exporter_ops.wants(&d));
	d.kind = "trace";
	assert_false(pyroscope_exporter_ops.wants(&d));
	d.kind = NULL;
	assert_false(pyroscope_exporter_ops.wants(&d));
	d.kind = "cpu-profile";
	d.files = without;
	d.n_files = 2;
	assert_false(pyroscope_exporter_ops.wants(&d));
	d.files = with;
	d.n_files = 0;
	assert_false(pyroscope_exporter_ops.wants(&d));
	assert_string_equal(pyroscope_exporter_ops.name, "pyroscope");
}

static char *write_tmp(char *path, const char *text)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void expect_new(const struct pyroscope_config *cfg, int r)
{
	void *state = NULL;

	assert_int_equal(pyroscope_exporter__new(cfg, &state), r);
	if (r == 0)
		assert_non_null(state);
	pyroscope_exporter_ops.free(state);
}

static void test_config(void **unused)
{
	char good[] = "/tmp/pyro-tokXXXXXX", crlf[] = "/tmp/pyro-tokXXXXXX", empty[] = "/tmp/pyro-tokXXXXXX";
	char tenant[PYROSCOPE_TENANT_MAX + 2];

	write_tmp(good, "  s3cr3t-token\n");
	write_tmp(crlf, "abc\r\nX-Injected: 1\n");
	write_tmp(empty, " \n");

	expect_new(&(struct pyroscope_config){ .url = "http://127.0.0.1:4040" }, 0);
	expect_new(&(struct pyroscope_config){ .url = "https://pyro.example/base/", .app = "svc" }, 0);
	expect_new(&(struct pyroscope_config){ .url = "http://p", .token_file = good, .tenant = "team-a" }, 0);
	expect_new(&(struct pyroscope_config){ .url = "http://p", .basic_user = "u", .basic_password_file = good }, 0);

	expect_new(&(struct pyroscope_config){ .url = NULL }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "ftp://p" }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://" }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http:///x" }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://user:pw@p" }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://p/?x=1" }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://p/#x" }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://p/a b" }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://p", .app = "" }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://p", .token_file = "/nonexistent/token" }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://p", .token_file = crlf }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://p", .token_file = empty }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://p", .token_file = "/tmp" }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://p", .basic_user = "u" }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://p", .basic_password_file = good }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://p", .basic_user = "u:v", .basic_password_file = good },
		   -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://p", .basic_user = "u", .basic_password_file = good,
					       .token_file = good }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://p", .tenant = "a\r\nb" }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://p", .tenant = "a|b" }, -EINVAL);
	expect_new(&(struct pyroscope_config){ .url = "http://p", .tenant = ".." }, -EINVAL);
	memset(tenant, 'a', sizeof(tenant) - 1);
	tenant[sizeof(tenant) - 1] = '\0';
	expect_new(&(struct pyroscope_config){ .url = "http://p", .tenant = tenant }, -EINVAL);
	tenant[PYROSCOPE_TENANT_MAX] = '\0';
	expect_new(&(struct pyroscope_config){ .url = "http://p", .tenant = tenant }, 0);

	unlink(good);
	unlink(crlf);
	unlink(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_hostile_labels),
		cmocka_unit_test(test_url_bound),
		cmocka_unit_test(test_app_default),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_wants),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
