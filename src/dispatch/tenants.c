// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A hash table of tenants, each with a ring of its capture times within the hour: at
 * most per_hour of them, so a full ring's oldest entry says when the next one fits.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tenants.h"
#include "trigger.h"

#define TENANT_BUCKETS  256
#define HOUR_USEC       (3600ull * 1000000)

struct tenant {
	struct tenant *next;
	char *key;
	unsigned head, count;           /* at[head] is the next written; count <= per_hour */
	uint64_t at[];                  /* per_hour capture times */
};

struct tenants {
	unsigned per_hour;
	unsigned count;
	struct tenant *buckets[TENANT_BUCKETS];
};

/* FNV-1a: the keys are cgroup paths the host names, not ones a tenant picks. */
static unsigned bucket_of(const char *key)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % TENANT_BUCKETS;
}

static struct tenant *find(const struct tenants *ts, const char *key)
{
	for (struct tenant *t = ts->buckets[bucket_of(key)]; t; t = t->next)
		if (strcmp(t->key, key) == 0)
			return t;
	return NULL;
}

/* Drop t's captures older than the hour before now. */
static void forget_old(const struct tenants *ts, struct tenant *t, uint64_t now)
{
	while (t->count) {
		unsigned oldest = (t->head + ts->per_hour - t->count) % ts->per_hour;

		if (t->at[oldest] + HOUR_USEC > now)
			break;
		t->count--;
	}
}

static unsigned in_hour(const struct tenants *ts, const struct tenant *t, uint64_t now)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->count; i++) {
		unsigned k = (t->head + ts->per_hour - 1 - i) % ts->per_hour;

		if (t->at[k] + HOUR_USEC > now)
			n++;
	}
	return n;
}

struct tenants *tenants__new(unsigned per_hour)
{
	struct tenants *ts = calloc(1, sizeof(*ts));

	if (!ts)
		return NULL;
	if (per_hour < 1)
		per_hour = 1;
	if (per_hour > RATE_LIMIT_MAX)
		per_hour = RATE_LIMIT_MAX;
	ts->per_hour = per_hour;
	return ts;
}

static void tenant_free(struct tenant *t)
{
	free(t->key);
	free(t);
}

void tenants__free(struct tenants *ts)
{
	if (!ts)
		return;
	for (unsigned b = 0; b < TENANT_BUCKETS; b++) {
		while (ts->buckets[b]) {
			struct tenant *t = ts->buckets[b];

			ts->buckets[b] = t->next;
			tenant_free(t);
		}
	}
	free(ts);
}

bool tenants__fits(const struct tenants *ts, const char *tenant, uint64_t now_usec)
{
	const struct tenant *t = find(ts, tenant);

	return !t || in_hour(ts, t, now_usec) < ts->per_hour;
}

int tenants__take(struct tenants *ts, const char *tenant, uint64_t now_usec)
{
	struct tenant *t = find(ts, tenant);

	if (!t) {
		unsigned b = bucket_of(tenant);

		t = calloc(1, sizeof(*t) + ts->per_hour * sizeof(t->at[0]));
		if (!t)
			return -ENOMEM;
		t->key = strdup(tenant);
		if (!t->key) {
			free(t);
			return -ENOMEM;
		}
		t->next = ts->buckets[b];
		ts->buckets[b] = t;
		ts->count++;
	}
	forget_old(ts, t, now_usec);
	if (t->count >= ts->per_hour)
		return -EDQUOT;
	t->at[t->head] = now_usec;
	t->head = (t->head + 1) % ts->per_hour;
	t->count++;
	return 0;
}

unsigned tenants__expire(struct tenants *ts, uint64_t now_usec)
{
	unsigned n = 0;

	for (unsigned b = 0; b < TENANT_BUCKETS; b++) {
		for (struct tenant **pp = &ts->buckets[b]; *pp;) {
			struct tenant *t = *pp;

			forget_old(ts, t, now_usec);
			if (t->count) {
				pp = &t->next;
				continue;
			}
			*pp = t->next;
			tenant_free(t);
			ts->count--;
			n++;
		}
	}
	return n;
}

unsigned tenants__count(const struct tenants *ts)
{
	return ts->count;
}
