/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * One process's RSS over its last minutes, one point per second, as data (pure: times are
 * the caller's, whole seconds of one monotonic clock; no logging). What an OOM-kill record
 * shows of the growth before the kill.
 *
 * Compact: a slot per second of the window, each RSS in KiB as a uint32_t (up to 4 TiB),
 * with the second of the newest slot as the base: 4 bytes a point, 2 400 bytes for 600
 * seconds, allocated whole by rss_timeline__new() (the caller allocates lazily). A second
 * without a point (a late tick) is a gap, skipped when read; a second given twice keeps
 * the last value; a clock that goes back is ignored.
 */
#ifndef INSPECTD_RSS_TIMELINE_H
#define INSPECTD_RSS_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#define RSS_TIMELINE_SECONDS    600     /* the window an OOM-kill record shows */

struct rss_timeline;

/* seconds: the window, 1 to 86400. 0 and *ret; -EINVAL; -ENOMEM. */
int rss_timeline__new(unsigned seconds, struct rss_timeline **ret);
/* Takes NULL. */
void rss_timeline__free(struct rss_timeline *t);
/* The RSS at second sec (bytes, kept in KiB rounded down, at most 4 TiB - 2 KiB). */
void rss_timeline__push(struct rss_timeline *t, uint64_t sec, uint64_t rss_bytes);
/* Points held (gaps not counted). */
size_t rss_timeline__count(const struct rss_timeline *t);
/* Every point within the window ending at now_sec (now_sec - seconds < sec <= now_sec),
 * oldest first: fn(ctx, sec, bytes). */
void rss_timeline__foreach(const struct rss_timeline *t, uint64_t now_sec,
			   void (*fn)(void *ctx, uint64_t sec, uint64_t bytes), void *ctx);
/*
 * Those points as JSON, "[[unix_ms,bytes],...]": unix_ms = sec * 1000 + offset_ms (the
 * caller's clock's offset to the Unix epoch, in ms). 0 and *ret (malloc()ed, the caller
 * frees it); -ENOMEM.
 */
int rss_timeline_format_json(const struct rss_timeline *t, uint64_t now_sec, int64_t offset_ms, char **ret);

#endif
