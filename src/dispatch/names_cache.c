// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "container_names.h"
#include "names_cache.h"

#define NAMES_BUCKETS   256

struct names_entry {
	struct names_entry *next;
	char id[CONTAINER_ID_MAX + 1];
	unsigned refs;
	struct container_names names;
};

struct names_cache {
	int rootfd;
	names_looked_up_fn looked_up;
	void *ctx;
	struct names_entry *buckets[NAMES_BUCKETS];
	unsigned count;
	unsigned long lookups;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* FNV-1a of the id. */
static struct names_entry **slot_of(const struct names_cache *nc, const char *id)
{
	uint32_t h = 2166136261u;
	struct names_entry **e;

	for (const char *p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	e = (struct names_entry **)&nc->buckets[h % NAMES_BUCKETS];
	while (*e && strcmp((*e)->id, id) != 0)
		e = &(*e)->next;
	return e;
}

struct names_cache *names_cache__new(int rootfd, names_looked_up_fn looked_up, void *ctx)
{
	struct names_cache *nc = calloc(1, sizeof(*nc));

	if (!nc)
		return NULL;
	nc->rootfd = rootfd;
	nc->looked_up = looked_up;
	nc->ctx = ctx;
	return nc;
}

void names_cache__free(struct names_cache *nc)
{
	if (!nc)
		return;
	for (unsigned b = 0; b < NAMES_BUCKETS; b++)
		while (nc->buckets[b]) {
			struct names_entry *e = nc->buckets[b];

			nc->buckets[b] = e->next;
			free(e);
		}
	if (nc->rootfd >= 0)
		close(nc->rootfd);
	free(nc);
}

int names_cache__acquire(struct names_cache *nc, const struct container_info *c, struct container_names *ret)
{
	struct names_entry **slot, *e;
	char file[NAMES_FILE_MAX];
	uint64_t start;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!c->id[0])
		return -EINVAL;
	slot = slot_of(nc, c->id);
	e = *slot;
	if (e) {
		e->refs++;
		*ret = e->names;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	memcpy(e->id, c->id, sizeof(e->id));
	e->refs = 1;
	if (nc->rootfd >= 0) {
		start = now_usec();
		r = container_names_lookup(nc->rootfd, c, &e->names, file, sizeof(file));
		nc->lookups++;
		if (nc->looked_up)
			nc->looked_up(nc->ctx, c, r, file, now_usec() - start);
	}
	*slot = e;
	nc->count++;
	*ret = e->names;
	return 0;
}

void names_cache__retain(struct names_cache *nc, const char *id)
{
	struct names_entry *e = *slot_of(nc, id);

	if (e)
		e->refs++;
}

int names_cache__names(const struct names_cache *nc, const char *id, struct container_names *ret)
{
	const struct names_entry *e = *slot_of(nc, id);

	if (!e) {
		memset(ret, 0, sizeof(*ret));
		return -ENOENT;
	}
	*ret = e->names;
	return 0;
}

void names_cache__release(struct names_cache *nc, const char *id)
{
	struct names_entry **slot = slot_of(nc, id), *e = *slot;

	if (!e || --e->refs)
		return;
	*slot = e->next;
	free(e);
	nc->count--;
}

unsigned names_cache__count(const struct names_cache *nc)
{
	return nc->count;
}

unsigned long names_cache__lookups(const struct names_cache *nc)
{
	return nc->lookups;
}
