// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rss_timeline.h"

#define GAP             UINT32_MAX      /* a second without a point */
#define KIB_MAX         (UINT32_MAX - 1)

struct rss_timeline {
	uint64_t newest_sec;            /* the second of kib[newest] */
	uint32_t seconds;               /* slots */
	uint32_t used;                  /* slots holding a point or a gap, up to seconds */
	uint32_t newest;                /* index of the newest slot */
	uint32_t kib[];
};

int rss_timeline__new(unsigned seconds, struct rss_timeline **ret)
{
	struct rss_timeline *t;

	if (seconds < 1 || seconds > 86400)
		return -EINVAL;
	t = calloc(1, sizeof(*t) + (size_t)seconds * sizeof(t->kib[0]));
	if (!t)
		return -ENOMEM;
	t->seconds = seconds;
	*ret = t;
	return 0;
}

void rss_timeline__free(struct rss_timeline *t)
{
	free(t);
}

/* One more slot after the newest, holding kib. */
static void append(struct rss_timeline *t, uint32_t kib)
{
	t->newest = (t->newest + 1) % t->seconds;
	t->kib[t->newest] = kib;
	if (t->used < t->seconds)
		t->used++;
}

void rss_timeline__push(struct rss_timeline *t, uint64_t sec, uint64_t rss_bytes)
{
	uint64_t kib = rss_bytes / 1024;
	uint32_t value = kib > KIB_MAX ? KIB_MAX : (uint32_t)kib;

	if (t->used && sec < t->newest_sec)
		return;
	if (t->used && sec == t->newest_sec) {
		t->kib[t->newest] = value;
		return;
	}
	if (!t->used || sec - t->newest_sec >= t->seconds) {
		/* Nothing held is within the window any more. */
		t->used = 0;
		t->newest = t->seconds - 1;
	} else {
		for (uint64_t s = t->newest_sec + 1; s < sec; s++)
			append(t, GAP);
	}
	append(t, value);
	t->newest_sec = sec;
}

size_t rss_timeline__count(const struct rss_timeline *t)
{
	size_t n = 0;

	for (uint32_t i = 0; i < t->used; i++)
		n += t->kib[(t->newest + t->seconds - i) % t->seconds] != GAP;
	return n;
}

void rss_timeline__foreach(const struct rss_timeline *t, uint64_t now_sec,
			   void (*fn)(void *ctx, uint64_t sec, uint64_t bytes), void *ctx)
{
	for (uint32_t back = t->used; back-- > 0;) {
		uint32_t kib = t->kib[(t->newest + t->seconds - back) % t->seconds];
		uint64_t sec = t->newest_sec - back;

		if (kib == GAP || sec > now_sec || now_sec - sec >= t->seconds)
			continue;
		fn(ctx, sec, (uint64_t)kib * 1024);
	}
}

struct json_out {
	char *buf;
	size_t len;
	int64_t offset_ms;
};

static void add_point(void *ctx, uint64_t sec, uint64_t bytes)
{
	struct json_out *o = ctx;
	int n = sprintf(o->buf + o->len, "%s[%" PRId64 ",%" PRIu64 "]", o->len > 1 ? "," : "",
			(int64_t)sec * 1000 + o->offset_ms, bytes);

	o->len += (size_t)n;
}

int rss_timeline_format_json(const struct rss_timeline *t, uint64_t now_sec, int64_t offset_ms, char **ret)
{
	/* "[" + per point ",[" 20 digits "," 20 digits "]" + "]" + NUL */
	struct json_out o = { .offset_ms = offset_ms };

	o.buf = malloc(3 + (size_t)t->used * 45);
	if (!o.buf)
		return -ENOMEM;
	o.buf[o.len++] = '[';
	rss_timeline__foreach(t, now_sec, add_point, &o);
	o.buf[o.len++] = ']';
	o.buf[o.len] = '\0';
	*ret = o.buf;
	return 0;
}
