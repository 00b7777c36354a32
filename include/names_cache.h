/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Container names by container id, looked up once (container_names_lookup()) and kept while
 * a tracked process holds the container: each acquire is a reference, dropped by a release;
 * the last release frees the entry. A lookup that found nothing is kept as such (no names),
 * until then too. No logging: every lookup is reported to the owner's callback, which says
 * what it found or why not.
 */
#ifndef INSPECTD_NAMES_CACHE_H
#define INSPECTD_NAMES_CACHE_H

#include <stdint.h>

#include "container.h"

struct names_cache;

/* A lookup just made: result 0 or its -errno (container_names_lookup()), the last file tried. */
typedef void (*names_looked_up_fn)(void *ctx, const struct container_info *c, int result, const char *file,
				   uint64_t usec);

/* rootfd: the host root, now the cache's (closed by names_cache__free()); -1: no lookups,
 * every container without names. NULL only when out of memory. */
struct names_cache *names_cache__new(int rootfd, names_looked_up_fn looked_up, void *ctx);
void names_cache__free(struct names_cache *nc);

/*
 * A reference to c's entry (looked up now if there is none): 0 and *ret, its names (all ""
 * when none were found). -EINVAL: c has no id; -ENOMEM (no reference taken, *ret all "").
 */
int names_cache__acquire(struct names_cache *nc, const struct container_info *c, struct container_names *ret);
/* One more reference to id's entry, which a reference is held to already (a fork's). */
void names_cache__retain(struct names_cache *nc, const char *id);
/* The names of id's entry, which a reference is held to: 0 and *ret; -ENOENT (*ret all ""). */
int names_cache__names(const struct names_cache *nc, const char *id, struct container_names *ret);
/* Drop a reference to id's entry; the last one frees it. */
void names_cache__release(struct names_cache *nc, const char *id);
/* Entries held now; lookups made since the start. */
unsigned names_cache__count(const struct names_cache *nc);
unsigned long names_cache__lookups(const struct names_cache *nc);

#endif
