// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * V8 profiles to pprof: each output gunzipped and decoded back by a small decoder of
 * profile.proto written here (varints, length-delimited fields, packed and unpacked
 * repeated numbers), then checked: sample types and period, totals preserved, (idle)
 * dropped, (program) and (garbage collector) kept, (root) never a frame, 1-based lines,
 * one function per (name, URL, line), stacks leaf first, labels; heap from samples and
 * from selfSize; hostile input refused (bad JSON, a node without id, an id twice, a cycle,
 * a child never defined) and long names cut; a large input in small reads.
 */
#define _GNU_SOURCE             /* memfd_create() */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "pprof.h"

/* ---- a tiny profile.proto decoder ---- */

#define MAXN 4096

struct vt { int64_t type, unit; };
struct label { int64_t key, str, num; };
struct sample {
	uint64_t loc[64];
	size_t n_loc;
	int64_t val[4];
	size_t n_val;
	struct label lab[8];
	size_t n_lab;
};
struct loc { uint64_t id, fn; int64_t line; };
struct fn { uint64_t id; int64_t name, sys, file, start; };
struct prof {
	struct vt st[4];
	size_t n_st;
	struct vt period_type;
	int64_t period, duration;
	struct sample *s;
	size_t n_s;
	struct loc l[MAXN];
	size_t n_l;
	struct fn f[MAXN];
	size_t n_f;
	char *str[MAXN];
	size_t n_str;
};

struct buf { const unsigned char *p; size_t n, i; };

static uint64_t get_varint(struct buf *b)
{
	uint64_t v = 0;
	int shift = 0;

	for (;;) {
		assert_true(b->i < b->n);
		assert_true(shift < 64);
		unsigned char x = b->p[b->i++];

		v |= (uint64_t)(x & 0x7f) << shift;
		shift += 7;
		if (x < 0x80)
			return v;
	}
}

/* The next field of b: its number, and a sub-buffer (wire 2) or a value (wire 0). */
static uint32_t get_field(struct buf *b, struct buf *sub, uint64_t *v)
{
	uint64_t key = get_varint(b);

	if ((key & 7) == 0) {
		*v = get_varint(b);
	} else {
		assert_int_equal(key & 7, 2);
		uint64_t len = get_varint(b);

		assert_true(len <= b->n - b->i);
		*sub = (struct buf){ b->p + b->i, len, 0 };
		b->i += len;
	}
	return (uint32_t)(key >> 3);
}

/* A repeated number field: packed (wire 2) or one value. */
static void get_nums(uint64_t key_wire_is_len, struct buf *sub, uint64_t v, uint64_t *out, size_t *n, size_t max)
{
	if (key_wire_is_len) {
		while (sub->i < sub->n) {
			assert_true(*n < max);
			out[(*n)++] = get_varint(sub);
		}
	} else {
		assert_true(*n < max);
		out[(*n)++] = v;
	}
}

static void decode_vt(struct buf *b, struct vt *vt)
{
	struct buf sub;
	uint64_t v;

	*vt = (struct vt){ 0 };
	while (b->i < b->n) {
		uint32_t f = get_field(b, &sub, &v);

		if (f == 1)
			vt->type = (int64_t)v;
		else if (f == 2)
			vt->unit = (int64_t)v;
	}
}

static void decode(const unsigned char *p, size_t n, struct prof *pr)
{
	struct buf b = { p, n, 0 }, sub, sub2;
	uint64_t v, v2;

	memset(pr, 0, sizeof(*pr));
	pr->s = calloc(MAXN, sizeof(*pr->s));
	assert_non_null(pr->s);
	while (b.i < b.n) {
		size_t at = b.i;
		uint64_t key = get_varint(&b);
		bool len_wire = (key & 7) == 2;

		b.i = at;
		uint32_t f = get_field(&b, &sub, &v);

		switch (f) {
		case 1:
			assert_true(pr->n_st < 4);
			decode_vt(&sub, &pr->st[pr->n_st++]);
			break;
		case 2: {
			struct sample *s = &pr->s[pr->n_s++];

			assert_true(pr->n_s <= MAXN);
			while (sub.i < sub.n) {
				size_t at2 = sub.i;
				bool lw = (get_varint(&sub) & 7) == 2;

				sub.i = at2;
				uint32_t g = get_field(&sub, &sub2, &v2);
				uint64_t vals[4];
				size_t nv = 0;

				if (g == 1) {
					get_nums(lw, &sub2, v2, s->loc, &s->n_loc, 64);
				} else if (g == 2) {
					get_nums(lw, &sub2, v2, vals, &nv, 4);
					for (size_t k = 0; k < nv; k++)
						s->val[s->n_val++] = (int64_t)vals[k];
				} else if (g == 3) {
					struct label *l = &s->lab[s->n_lab++];
					struct buf s3;
					uint64_t v3;

					while (sub2.i < sub2.n) {
						uint32_t h = get_field(&sub2, &s3, &v3);

						if (h == 1)
							l->key = (int64_t)v3;
						else if (h == 2)
							l->str = (int64_t)v3;
						else if (h == 3)
							l->num = (int64_t)v3;
					}
				}
			}
			break;
		}
		case 4: {
			struct loc *l = &pr->l[pr->n_l++];

			assert_true(pr->n_l <= MAXN);
			while (sub.i < sub.n) {
				uint32_t g = get_field(&sub, &sub2, &v2);

				if (g == 1) {
					l->id = v2;
				} else if (g == 4) {
					struct buf s3;
					uint64_t v3;

					while (sub2.i < sub2.n) {
						uint32_t h = get_field(&sub2, &s3, &v3);

						if (h == 1)
							l->fn = v3;
						else if (h == 2)
							l->line = (int64_t)v3;
					}
				}
			}
			break;
		}
		case 5: {
			struct fn *fn = &pr->f[pr->n_f++];

			assert_true(pr->n_f <= MAXN);
			while (sub.i < sub.n) {
				uint32_t g = get_field(&sub, &sub2, &v2);

				if (g == 1)
					fn->id = v2;
				else if (g == 2)
					fn->name = (int64_t)v2;
				else if (g == 3)
					fn->sys = (int64_t)v2;
				else if (g == 4)
					fn->file = (int64_t)v2;
				else if (g == 5)
					fn->start = (int64_t)v2;
			}
			break;
		}
		case 6:
			assert_true(len_wire);
			assert_true(pr->n_str < MAXN);
			pr->str[pr->n_str++] = strndup((const char *)sub.p, sub.n);
			break;
		case 10:
			pr->duration = (int64_t)v;
			break;
		case 11:
			decode_vt(&sub, &pr->period_type);
			break;
		case 12:
			pr->period = (int64_t)v;
			break;
		default:
			fail_msg("unexpected field %u", f);
		}
	}
	assert_true(pr->n_str > 0);
	assert_string_equal(pr->str[0], "");
}

static void prof_free(struct prof *pr)
{
	for (size_t i = 0; i < pr->n_str; i++)
		free(pr->str[i]);
	free(pr->s);
}

static const char *S(const struct prof *pr, int64_t i)
{
	assert_true(i >= 0 && (size_t)i < pr->n_str);
	return pr->str[i];
}

static const struct loc *loc_by_id(const struct prof *pr, uint64_t id)
{
	for (size_t i = 0; i < pr->n_l; i++)
		if (pr->l[i].id == id)
			return &pr->l[i];
	fail_msg("no location %llu", (unsigned long long)id);
	return NULL;
}

static const struct fn *fn_by_id(const struct prof *pr, uint64_t id)
{
	for (size_t i = 0; i < pr->n_f; i++)
		if (pr->f[i].id == id)
			return &pr->f[i];
	fail_msg("no function %llu", (unsigned long long)id);
	return NULL;
}

/* A sample's frame k (0: the leaf): its function's name. */
static const char *frame_name(const struct prof *pr, const struct sample *s, size_t k)
{
	assert_true(k < s->n_loc);
	return S(pr, fn_by_id(pr, loc_by_id(pr, s->loc[k])->fn)->name);
}

/* ---- running the converter on text ---- */

static int convert_text(const char *text, size_t len, const struct pprof_config *cfg, struct prof *pr)
{
	int in = memfd_create("in", 0), out = memfd_create("out", 0);
	int r;

	assert_true(in >= 0 && out >= 0);
	assert_int_equal(write(in, text, len), (ssize_t)len);
	r = pprof_convert(in, out, cfg);
	if (r == 0) {
		off_t size = lseek(out, 0, SEEK_END);
		unsigned char *gz = malloc((size_t)size + 1), *raw;
		size_t cap = 1 << 20;
		z_stream z = { 0 };

		assert_non_null(gz);
		assert_int_equal(pread(out, gz, (size_t)size, 0), size);
		/* gzip framing: the magic bytes */
		assert_int_equal(gz[0], 0x1f);
		assert_int_equal(gz[1], 0x8b);
		raw = malloc(cap);
		assert_non_null(raw);
		assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
		z.next_in = gz;
		z.avail_in = (uInt)size;
		for (;;) {
			z.next_out = raw + z.total_out;
			z.avail_out = (uInt)(cap - z.total_out);
			int zr = inflate(&z, Z_FINISH);

			if (zr == Z_STREAM_END)
				break;
			assert_true(zr == Z_BUF_ERROR || zr == Z_OK);
			cap *= 2;
			raw = realloc(raw, cap);
			assert_non_null(raw);
		}
		decode(raw, z.total_out, pr);
		inflateEnd(&z);
		free(raw);
		free(gz);
	}
	close(in);
	close(out);
	return r;
}

static int convert_str(const char *text, const struct pprof_config *cfg, struct prof *pr)
{
	return convert_text(text, strlen(text), cfg, pr);
}

static const struct pprof_label labels[] = {
	{ .key = "pid", .num = 4242 },
	{ .key = "container", .str = "api" },
	{ .key = "pod", .str = "api-7d9" },
	{ .key = "namespace", .str = "prod" },
};

/* (root) > (program), (idle), (garbage collector), main > hot; main's children after its id. */
static const char cpu_fixture[] =
	"{\"nodes\":["
	"{\"id\":1,\"callFrame\":{\"functionName\":\"(root)\",\"scriptId\":\"0\",\"url\":\"\",\"lineNumber\":-1,\"columnNumber\":-1},\"hitCount\":0,\"children\":[2,3,4,5]},"
	"{\"id\":2,\"callFrame\":{\"functionName\":\"(program)\",\"scriptId\":\"0\",\"url\":\"\",\"lineNumber\":-1,\"columnNumber\":-1},\"hitCount\":2},"
	"{\"id\":3,\"callFrame\":{\"functionName\":\"(idle)\",\"scriptId\":\"0\",\"url\":\"\",\"lineNumber\":-1,\"columnNumber\":-1},\"hitCount\":5},"
	"{\"id\":4,\"callFrame\":{\"functionName\":\"(garbage collector)\",\"scriptId\":\"0\",\"url\":\"\",\"lineNumber\":-1,\"columnNumber\":-1},\"hitCount\":1},"
	"{\"id\":5,\"callFrame\":{\"functionName\":\"main\",\"scriptId\":\"7\",\"url\":\"file:///app/server.js\",\"lineNumber\":0,\"columnNumber\":0},\"hitCount\":1,\"children\":[6,7]},"
	"{\"callFrame\":{\"functionName\":\"hot\",\"scriptId\":\"7\",\"url\":\"file:///app/server.js\",\"lineNumber\":9,\"columnNumber\":2},\"hitCount\":6,\"id\":6},"
	"{\"id\":7,\"callFrame\":{\"functionName\":\"hot\",\"scriptId\":\"7\",\"url\":\"file:///app/server.js\",\"lineNumber\":9,\"columnNumber\":2},\"hitCount\":0,\"children\":[8]},"
	"{\"id\":8,\"callFrame\":{\"functionName\":\"\",\"scriptId\":\"7\",\"url\":\"file:///app/server.js\",\"lineNumber\":20,\"columnNumber\":2},\"hitCount\":1}"
	"],\"startTime\":1000000,\"endTime\":1017000,"
	/* 2 program, 5 idle, 1 gc, 1 main, 6 hot, 1 anonymous: 16 in all, 11 not idle */
	"\"samples\":[2,3,3,6,6,5,4,6,6,3,3,3,6,6,2,8],"
	"\"timeDeltas\":[0,1000,1000,1000,1000,1000,1000,1000,1000,1000,1000,1000,1000,1000,1000,1000]}";

static int64_t value_of(const struct prof *pr, const char *leaf, size_t v)
{
	int64_t sum = 0;

	for (size_t i = 0; i < pr->n_s; i++)
		if (strcmp(frame_name(pr, &pr->s[i], 0), leaf) == 0)
			sum += pr->s[i].val[v];
	return sum;
}

static void test_cpu(void **state)
{
	struct pprof_config cfg = { .kind = PPROF_CPU, .interval = 1000, .labels = labels, .n_labels = 4 };
	struct prof pr;
	int64_t total = 0, total_ns = 0;

	assert_int_equal(convert_str(cpu_fixture, &cfg, &pr), 0);
	assert_int_equal(pr.n_st, 2);
	assert_string_equal(S(&pr, pr.st[0].type), "samples");
	assert_string_equal(S(&pr, pr.st[0].unit), "count");
	assert_string_equal(S(&pr, pr.st[1].type), "cpu");
	assert_string_equal(S(&pr, pr.st[1].unit), "nanoseconds");
	assert_string_equal(S(&pr, pr.period_type.type), "cpu");
	assert_string_equal(S(&pr, pr.period_type.unit), "nanoseconds");
	assert_int_equal(pr.period, 1000000);
	assert_int_equal(pr.duration, 17000000);

	for (size_t i = 0; i < pr.n_s; i++) {
		const struct sample *s = &pr.s[i];

		assert_int_equal(s->n_val, 2);
		assert_int_equal(s->val[1], s->val[0] * 1000000);
		total += s->val[0];
		total_ns += s->val[1];
		for (size_t k = 0; k < s->n_loc; k++) {
			assert_string_not_equal(frame_name(&pr, s, k), "(idle)");
			assert_string_not_equal(frame_name(&pr, s, k), "(root)");
		}
		/* labels: pid as a number, the others as strings */
		assert_int_equal(s->n_lab, 4);
		assert_string_equal(S(&pr, s->lab[0].key), "pid");
		assert_int_equal(s->lab[0].num, 4242);
		assert_int_equal(s->lab[0].str, 0);
		assert_string_equal(S(&pr, s->lab[1].key), "container");
		assert_string_equal(S(&pr, s->lab[1].str), "api");
		assert_string_equal(S(&pr, s->lab[2].key), "pod");
		assert_string_equal(S(&pr, s->lab[2].str), "api-7d9");
		assert_string_equal(S(&pr, s->lab[3].key), "namespace");
		assert_string_equal(S(&pr, s->lab[3].str), "prod");
	}
	/* every sample but the idle ones, from "samples" (not hitCount) */
	assert_int_equal(total, 11);
	assert_int_equal(total_ns, 11 * 1000000);
	assert_int_equal(value_of(&pr, "hot", 0), 6);
	assert_int_equal(value_of(&pr, "(program)", 0), 2);
	assert_int_equal(value_of(&pr, "(garbage collector)", 0), 1);
	assert_int_equal(value_of(&pr, "main", 0), 1);
	assert_int_equal(value_of(&pr, "(anonymous)", 0), 1);

	/* stacks leaf first; lines 1-based; hot's two nodes one function */
	for (size_t i = 0; i < pr.n_s; i++) {
		const struct sample *s = &pr.s[i];

		if (strcmp(frame_name(&pr, s, 0), "(anonymous)") == 0) {
			const struct loc *l0 = loc_by_id(&pr, s->loc[0]);
			const struct fn *f0 = fn_by_id(&pr, l0->fn);

			assert_int_equal(s->n_loc, 3);
			assert_string_equal(frame_name(&pr, s, 1), "hot");
			assert_string_equal(frame_name(&pr, s, 2), "main");
			assert_int_equal(l0->line, 21);
			assert_int_equal(f0->start, 21);
			assert_string_equal(S(&pr, f0->file), "file:///app/server.js");
			assert_int_equal(loc_by_id(&pr, s->loc[1])->line, 10);
			assert_int_equal(loc_by_id(&pr, s->loc[2])->line, 1);
		}
		if (strcmp(frame_name(&pr, s, 0), "(program)") == 0)
			assert_int_equal(s->n_loc, 1);
	}
	{
		size_t hot = 0;

		for (size_t i = 0; i < pr.n_f; i++)
			hot += strcmp(S(&pr, pr.f[i].name), "hot") == 0;
		assert_int_equal(hot, 1);
	}
	prof_free(&pr);
}

/* Without samples: hitCount x interval. */
static void test_cpu_hitcount(void **state)
{
	static const char text[] =
		"{\"nodes\":[{\"id\":1,\"callFrame\":{\"functionName\":\"(root)\",\"url\":\"\",\"lineNumber\":-1},\"hitCount\":0,\"children\":[2,3]},"
		"{\"id\":2,\"callFrame\":{\"functionName\":\"a\",\"url\":\"x.js\",\"lineNumber\":3},\"hitCount\":4},"
		"{\"id\":3,\"callFrame\":{\"functionName\":\"(idle)\",\"url\":\"\",\"lineNumber\":-1},\"hitCount\":9}],"
		"\"startTime\":0,\"endTime\":5}";
	struct pprof_config cfg = { .kind = PPROF_CPU, .interval = 250 };
	struct prof pr;

	assert_int_equal(convert_str(text, &cfg, &pr), 0);
	assert_int_equal(pr.n_s, 1);
	assert_int_equal(pr.s[0].val[0], 4);
	assert_int_equal(pr.s[0].val[1], 4 * 250000);
	assert_int_equal(pr.s[0].n_lab, 0);
	assert_int_equal(pr.period, 250000);
	prof_free(&pr);
}

static const char heap_fixture[] =
	"{\"head\":{\"callFrame\":{\"functionName\":\"(root)\",\"scriptId\":\"0\",\"url\":\"\",\"lineNumber\":-1,\"columnNumber\":-1},"
	"\"selfSize\":0,\"id\":1,\"children\":["
	"{\"callFrame\":{\"functionName\":\"leak\",\"scriptId\":\"9\",\"url\":\"file:///app/leak.js\",\"lineNumber\":4,\"columnNumber\":1},"
	"\"selfSize\":1572864,\"id\":2,\"children\":["
	"{\"callFrame\":{\"functionName\":\"inner\",\"scriptId\":\"9\",\"url\":\"file:///app/leak.js\",\"lineNumber\":11,\"columnNumber\":1},"
	"\"selfSize\":524288,\"id\":3,\"children\":[]}]},"
	"{\"callFrame\":{\"functionName\":\"other\",\"scriptId\":\"9\",\"url\":\"file:///app/o.js\",\"lineNumber\":0,\"columnNumber\":1},"
	"\"selfSize\":0,\"id\":4,\"children\":[]}]},"
	"\"samples\":[{\"size\":1000,\"nodeId\":2,\"ordinal\":1},{\"size\":24,\"nodeId\":2,\"ordinal\":2},"
	"{\"size\":500,\"nodeId\":3,\"ordinal\":3},{\"ordinal\":4,\"nodeId\":2,\"size\":76}]}";

static void test_heap_samples(void **state)
{
	struct pprof_config cfg = { .kind = PPROF_HEAP, .interval = 524288, .labels = labels, .n_labels = 1 };
	struct prof pr;

	assert_int_equal(convert_str(heap_fixture, &cfg, &pr), 0);
	assert_int_equal(pr.n_st, 2);
	assert_string_equal(S(&pr, pr.st[0].type), "inuse_objects");
	assert_string_equal(S(&pr, pr.st[0].unit), "count");
	assert_string_equal(S(&pr, pr.st[1].type), "inuse_space");
	assert_string_equal(S(&pr, pr.st[1].unit), "bytes");
	assert_string_equal(S(&pr, pr.period_type.type), "space");
	assert_string_equal(S(&pr, pr.period_type.unit), "bytes");
	assert_int_equal(pr.period, 524288);
	assert_int_equal(pr.n_s, 2);
	assert_int_equal(value_of(&pr, "leak", 0), 3);
	assert_int_equal(value_of(&pr, "leak", 1), 1100);
	assert_int_equal(value_of(&pr, "inner", 0), 1);
	assert_int_equal(value_of(&pr, "inner", 1), 500);
	for (size_t i = 0; i < pr.n_s; i++) {
		if (strcmp(frame_name(&pr, &pr.s[i], 0), "inner") == 0) {
			assert_int_equal(pr.s[i].n_loc, 2);
			assert_string_equal(frame_name(&pr, &pr.s[i], 1), "leak");
			assert_int_equal(loc_by_id(&pr, pr.s[i].loc[0])->line, 12);
			assert_int_equal(loc_by_id(&pr, pr.s[i].loc[1])->line, 5);
		}
		assert_int_equal(pr.s[i].n_lab, 1);
		assert_int_equal(pr.s[i].lab[0].num, 4242);
	}
	prof_free(&pr);
}

/* No samples array: selfSize, one object per node that has any. */
static void test_heap_selfsize(void **state)
{
	char *text = strdup(heap_fixture);
	struct pprof_config cfg = { .kind = PPROF_HEAP, .interval = 32768 };
	struct prof pr;

	strcpy(strstr(text, ",\"samples\""), "}");
	assert_int_equal(convert_str(text, &cfg, &pr), 0);
	assert_int_equal(pr.n_s, 2);
	assert_int_equal(value_of(&pr, "leak", 1), 1572864);
	assert_int_equal(value_of(&pr, "inner", 1), 524288);
	assert_int_equal(value_of(&pr, "leak", 0), 1);
	assert_int_equal(pr.period, 32768);
	prof_free(&pr);
	free(text);
}

static void test_hostile(void **state)
{
	struct pprof_config cpu = { .kind = PPROF_CPU, .interval = 1000 };
	struct pprof_config heap = { .kind = PPROF_HEAP, .interval = 1000 };
	struct prof pr;
	static const char *const cpu_bad[] = {
		"", "[]", "{", "{\"nodes\":[}", "{\"nodes\":[1,]}", "{} {}", "{\"a\":01}", "{\"a\":1.}",
		"{\"a\":\"\\x\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\x01\"}", "{\"a\":tru}", "{\"a\" 1}", "{,}",
		/* a node without an id; an id twice; a child never defined; a cycle; a node its own child */
		"{\"nodes\":[{\"callFrame\":{}}]}",
		"{\"nodes\":[{\"id\":1},{\"id\":1}]}",
		"{\"nodes\":[{\"id\":1,\"children\":[2]}]}",
		"{\"nodes\":[{\"id\":1,\"children\":[2]},{\"id\":2,\"children\":[1]}]}",
		"{\"nodes\":[{\"id\":1,\"children\":[1]}]}",
		"{\"nodes\":[{\"id\":\"1\"}]}",
		"{\"nodes\":[{\"id\":1e300}]}",     /* no cast of what does not fit (make fuzz found it) */
		"{\"nodes\":[{\"id\":77777777777777777777777}]}",
		"{\"nodes\":[{\"id\":1,\"callFrame\":{\"functionName\":7}}]}",
	};

	for (size_t i = 0; i < sizeof(cpu_bad) / sizeof(cpu_bad[0]); i++) {
		int r = convert_str(cpu_bad[i], &cpu, &pr);

		if (r != -EPROTO)
			fail_msg("%s: %d", cpu_bad[i], r);
	}
	assert_int_equal(convert_str("{\"head\":{\"children\":[]}}", &heap, &pr), -EPROTO);
	/* Sizes past int64 when summed: saturated, not wrapped. */
	assert_int_equal(convert_str("{\"head\":{\"id\":1,\"callFrame\":{\"functionName\":\"f\"}},\"samples\":["
				     "{\"size\":8000000000000000000,\"nodeId\":1},{\"size\":8000000000000000000,\"nodeId\":1}]}",
				     &heap, &pr), 0);
	assert_int_equal(pr.n_s, 1);
	assert_int_equal(pr.s[0].val[0], 2);
	assert_int_equal(pr.s[0].val[1], INT64_MAX);
	prof_free(&pr);
	/* Unknown members and sample ids are ignored. */
	assert_int_equal(convert_str("{\"nodes\":[{\"id\":1,\"x\":[{\"y\":null}],\"callFrame\":{\"functionName\":\"f\"}}],"
				     "\"samples\":[1,99],\"z\":true}", &cpu, &pr), 0);
	assert_int_equal(pr.n_s, 1);
	assert_int_equal(pr.s[0].val[0], 1);
	prof_free(&pr);
}

/* A name longer than PPROF_STRING_MAX is cut, on a character boundary. */
static void test_long_name(void **state)
{
	size_t n = PPROF_STRING_MAX * 3;
	char *text = malloc(n + 256), *p = text;
	struct pprof_config cpu = { .kind = PPROF_CPU, .interval = 1000 };
	struct prof pr;

	p += sprintf(p, "{\"nodes\":[{\"id\":1,\"hitCount\":1,\"callFrame\":{\"functionName\":\"");
	for (size_t i = 0; i < n / 2; i++)
		p += sprintf(p, "\xc3\xa9");    /* é, 2 bytes */
	p += sprintf(p, "\"}}]}");
	assert_int_equal(convert_str(text, &cpu, &pr), 0);
	{
		const char *name = frame_name(&pr, &pr.s[0], 0);
		size_t len = strlen(name);

		assert_true(len < PPROF_STRING_MAX);
		assert_true(len > PPROF_STRING_MAX - 8);
		assert_int_equal(len % 2, 0);
	}
	prof_free(&pr);
	/* 4-byte characters, each offset of the cut: whole characters only. */
	for (size_t shift = 0; shift < 4; shift++) {
		p = text;
		p += sprintf(p, "{\"nodes\":[{\"id\":1,\"hitCount\":1,\"callFrame\":{\"functionName\":\"");
		for (size_t i = 0; i < shift; i++)
			*p++ = 'a';
		for (size_t i = 0; i < n / 4; i++)
			p += sprintf(p, "\xf0\x9f\x98\x80");        /* U+1F600, 4 bytes */
		p += sprintf(p, "\"}}]}");
		assert_int_equal(convert_str(text, &cpu, &pr), 0);
		{
			const char *name = frame_name(&pr, &pr.s[0], 0);
			size_t len = strlen(name);

			assert_true(len < PPROF_STRING_MAX);
			assert_true(len > PPROF_STRING_MAX - 8);
			assert_int_equal((len - shift) % 4, 0);
		}
		prof_free(&pr);
	}
	free(text);
}

/* Many nodes and samples, read in many 64 KiB pieces: every sample counted. */
static void test_large(void **state)
{
	size_t nodes = 3000, samples = 200000, cap = 64 << 20, len = 0;
	char *text = malloc(cap);
	struct pprof_config cpu = { .kind = PPROF_CPU, .interval = 100 };
	struct prof pr;
	int64_t total = 0;

	assert_non_null(text);
	len += (size_t)sprintf(text + len, "{\"nodes\":[{\"id\":1,\"callFrame\":{\"functionName\":\"(root)\",\"url\":\"\",\"lineNumber\":-1},\"children\":[");
	for (size_t i = 2; i <= nodes; i++)
		len += (size_t)sprintf(text + len, "%s%zu", i > 2 ? "," : "", i);
	len += (size_t)sprintf(text + len, "]}");
	for (size_t i = 2; i <= nodes; i++)
		len += (size_t)sprintf(text + len, ",{\"id\":%zu,\"callFrame\":{\"functionName\":\"f%zu\",\"url\":\"file:///a.js\",\"lineNumber\":%zu}}", i, i % 1000, i);
	len += (size_t)sprintf(text + len, "],\"samples\":[");
	for (size_t i = 0; i < samples; i++)
		len += (size_t)sprintf(text + len, "%s%zu", i ? "," : "", 2 + i % (nodes - 1));
	len += (size_t)sprintf(text + len, "]}");
	assert_int_equal(convert_text(text, len, &cpu, &pr), 0);
	assert_int_equal(pr.n_s, nodes - 1);
	for (size_t i = 0; i < pr.n_s; i++)
		total += pr.s[i].val[0];
	assert_int_equal(total, (int64_t)samples);
	prof_free(&pr);
	free(text);
}

/* What a target can make the conversion hold or write is bounded: -E2BIG, not gigabytes. */
static void test_bounds(void **state)
{
	struct pprof_config cpu = { .kind = PPROF_CPU, .interval = 1000 };
	size_t cap = 48 << 20, len = 0, chain = 20000;
	char *text = malloc(cap);
	struct prof pr;

	(void)state;
	assert_non_null(text);
	/* More children than a profile may have nodes: refused as they come. */
	len = (size_t)sprintf(text, "{\"nodes\":[{\"id\":1,\"children\":[");
	for (size_t i = 0; i <= PPROF_NODES_MAX; i++)
		len += (size_t)sprintf(text + len, "%s2", i ? "," : "");
	len += (size_t)sprintf(text + len, "]}]}");
	assert_int_equal(convert_text(text, len, &cpu, &pr), -E2BIG);

	/* A chain of 20 000 nodes, each sampled: 200 M frames to write, over PPROF_FRAMES_MAX. */
	len = (size_t)sprintf(text, "{\"nodes\":[");
	for (size_t i = 1; i <= chain; i++) {
		len += (size_t)sprintf(text + len, "%s{\"id\":%zu,\"hitCount\":1,\"callFrame\":{\"functionName\":\"f\"}",
				       i > 1 ? "," : "", i);
		if (i < chain)
			len += (size_t)sprintf(text + len, ",\"children\":[%zu]", i + 1);
		len += (size_t)sprintf(text + len, "}");
	}
	len += (size_t)sprintf(text + len, "]}");
	assert_int_equal(convert_text(text, len, &cpu, &pr), -E2BIG);

	/* Names and URLs past PPROF_STRINGS_BYTES_MAX in all (a key repeated in one callFrame). */
	len = (size_t)sprintf(text, "{\"nodes\":[{\"id\":1,\"callFrame\":{");
	for (size_t i = 0; len < cap - 64 && i < (PPROF_STRINGS_BYTES_MAX / 4000) + 16; i++)
		len += (size_t)sprintf(text + len, "%s\"url\":\"%04zu%03996d\"", i ? "," : "", i, 0);
	len += (size_t)sprintf(text + len, "}}]}");
	assert_int_equal(convert_text(text, len, &cpu, &pr), -E2BIG);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu),
		cmocka_unit_test(test_cpu_hitcount),
		cmocka_unit_test(test_heap_samples),
		cmocka_unit_test(test_heap_selfsize),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_long_name),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
