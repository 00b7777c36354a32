// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The exporters' table, on a real spool in a fresh folder per test: the file exporter
 * commits as given; the pprof exporter adds BASE.pb.gz beside a heap or CPU profile,
 * and takes any other commit (a heap snapshot, an allocation timeline, a trace, a
 * compressed file) as the file exporter does: its meta.json as given, nothing converted,
 * nothing counted as failed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "exporter.h"
#include "fixture.h"
#include "spool.h"
#include "spool_outcome.h"

#define HEAP_PROFILE \
	"{\"head\":{\"callFrame\":{\"functionName\":\"(root)\",\"url\":\"\",\"lineNumber\":-1},\"selfSize\":0," \
	"\"id\":1,\"children\":[{\"callFrame\":{\"functionName\":\"leak\",\"url\":\"x.js\",\"lineNumber\":4}," \
	"\"selfSize\":64,\"id\":2,\"children\":[]}]},\"samples\":[{\"size\":64,\"nodeId\":2,\"ordinal\":1}]}"

static bool exists(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	return lstat(fixture_path(path, sizeof(path), dir, name), &st) == 0;
}

/* The whole file, NUL-terminated (small files only). */
static char *slurp(const char *dir, const char *name)
{
	char path[512], *buf = malloc(65536);
	size_t n;
	FILE *f;

	assert_non_null(buf);
	f = fopen(fixture_path(path, sizeof(path), dir, name), "re");
	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/*
 * Through the exporter: one file of text, committed as base.ext with a meta.json of
 * profile.type type; waits for the commit and returns how many paths it landed.
 */
static size_t export_one(struct spool *s, const struct exporter_ops *ex, const char *base, const char *ext,
			 const char *type, const char *text, struct outcome *o)
{
	struct spool_file *f = NULL;
	const char *const exts[] = { ext };
	char meta[512];
	struct export_request req;
	int calls = o->calls;

	assert_int_equal(spool__begin(s, &f), 0);
	assert_int_equal(spool_file__write(f, text, strlen(text)), 0);
	snprintf(meta, sizeof(meta),
		 "{\"pid\":42,\"profile\":{\"type\":\"%s\",\"file\":\"%s.%s\","
		 "\"sampling\":{\"sampling_interval_bytes\":32768}}}", type, base, ext);
	req = (struct export_request){ .base = base, .files = &f, .exts = exts, .n = 1, .meta_json = strdup(meta) };
	assert_int_equal(ex->submit(s, &req, record, o), 0);
	assert_null(f);
	wait_calls(s, &o->calls, calls + 1);
	assert_int_equal(o->result, 0);
	return o->n_paths;
}

static void test_table(void **state)
{
	(void)state;
	assert_string_equal(exporter_first()->name, "file");
	assert_ptr_equal(exporter_by_name("file"), exporter_first());
	assert_string_equal(exporter_by_name("pprof")->name, "pprof");
	assert_null(exporter_by_name("s3"));            /* a remote one: the outbox's */
	assert_null(exporter_by_name(NULL));
}

static void test_pprof_only_what_converts(void **state)
{
	const struct exporter_ops *pprof = exporter_by_name("pprof");
	const struct spool_derive_count *counts;
	struct spool_limits lim = { 0 };
	struct outcome o = { 0 };
	char dir[512], expect[600], *meta;
	struct spool *s;

	fixture_path(dir, sizeof(dir), *state, "out");
	assert_int_equal(spool__open(dir, &lim, &s), 0);

	/* A heap profile: its pprof beside it, listed in its meta.json. */
	assert_int_equal(export_one(s, pprof, "p1", "heapprofile", "heap-profile", HEAP_PROFILE, &o), 3);
	snprintf(expect, sizeof(expect), "%s/p1.pb.gz", dir);
	assert_string_equal(o.paths[1], expect);
	meta = slurp(dir, "p1.meta.json");
	assert_non_null(strstr(meta, "\"pprof\":\t\"p1.pb.gz\""));
	free(meta);
	assert_int_equal(spool__derive_counts(s, &counts), 1);
	assert_int_equal(counts[0].written, 1);

	/* The new kinds: committed as the file exporter commits them, meta.json untouched. */
	assert_int_equal(export_one(s, pprof, "s1", "heapsnapshot.gz", "heap-snapshot", "snapshot", &o), 2);
	assert_int_equal(export_one(s, pprof, "t1", "heaptimeline", "allocation-timeline", "timeline", &o), 2);
	assert_int_equal(export_one(s, pprof, "r1", "json", "trace", "{\"traceEvents\":[]}", &o), 2);
	/* A heap profile the spool gzipped: the converter reads JSON, not gzip. */
	assert_int_equal(export_one(s, pprof, "g1", "heapprofile.gz", "heap-profile", "gzip", &o), 2);
	assert_false(exists(dir, "s1.pb.gz") || exists(dir, "t1.pb.gz") || exists(dir, "r1.pb.gz") ||
		     exists(dir, "g1.pb.gz"));
	meta = slurp(dir, "s1.meta.json");
	assert_string_equal(meta, "{\"pid\":42,\"profile\":{\"type\":\"heap-snapshot\","
				  "\"file\":\"s1.heapsnapshot.gz\",\"sampling\":{\"sampling_interval_bytes\":32768}}}");
	free(meta);
	meta = slurp(dir, "r1.json");
	assert_string_equal(meta, "{\"traceEvents\":[]}");
	free(meta);
	/* Nothing tried: no failure counted. */
	assert_int_equal(spool__derive_counts(s, &counts), 1);
	assert_int_equal(counts[0].written, 1);
	assert_int_equal(counts[0].failed, 0);
	spool__free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test_setup_teardown(test_pprof_only_what_converts, fixture_tmpdir_setup,
						fixture_tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
