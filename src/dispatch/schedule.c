// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include "schedule.h"

static uint64_t jitter_of(const struct schedule_config *c, double jitter01)
{
	if (!(jitter01 >= 0 && jitter01 < 1))
		jitter01 = 0;
	return (uint64_t)((double)(c->every_usec / 10) * jitter01);
}

void schedule_place(const struct schedule_config *c, struct schedule_state *s, uint64_t key, uint64_t now,
		    double jitter01)
{
	if (!c->every_usec)
		return;
	s->base_usec = now + key % c->every_usec;
	s->due_usec = s->base_usec + jitter_of(c, jitter01);
	s->round = 0;
	s->every_usec = c->every_usec;
}

bool schedule_placed(const struct schedule_config *c, const struct schedule_state *s)
{
	return s->due_usec && s->every_usec == c->every_usec;
}

void schedule_advance(const struct schedule_config *c, struct schedule_state *s, uint64_t now, double jitter01)
{
	if (!c->every_usec)
		return;
	s->base_usec += c->every_usec;
	if (s->base_usec <= now)        /* rounds missed: skipped, not made up */
		s->base_usec += ((now - s->base_usec) / c->every_usec + 1) * c->every_usec;
	s->due_usec = s->base_usec + jitter_of(c, jitter01);
	s->round++;
}

int schedule_kind(const struct schedule_config *c, unsigned n)
{
	unsigned count = 0, pick;

	for (unsigned k = 0; k < 32; k++)
		count += (c->kinds >> k) & 1;
	if (!count)
		return -1;
	pick = n % count;
	for (int k = 0; k < 32; k++) {
		if (!((c->kinds >> k) & 1))
			continue;
		if (pick-- == 0)
			return k;
	}
	return -1;
}

int schedule_next(const struct schedule_config *c, const struct schedule_state *s, uint64_t now,
		  uint64_t wall_now, uint64_t *ret_wall, int *ret_kind)
{
	int kind;

	if (!c->every_usec || !s->due_usec || (kind = schedule_kind(c, s->round)) < 0)
		return -ENOENT;
	*ret_wall = wall_now + (s->due_usec > now ? s->due_usec - now : 0);
	*ret_kind = kind;
	return 0;
}

uint64_t schedule_key(uint64_t pid, uint64_t seed)
{
	uint64_t z = seed ^ (pid * 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
