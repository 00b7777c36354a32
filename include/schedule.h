/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Scheduled captures (--every, --schedule-kinds): each selected process is captured once
 * an interval, for --capture-seconds, the kinds taking turns round after round (cpu,
 * heap, cpu...), instead of a profiler or an inspector kept open. Pure: a function of
 * the times and a key, so that the spreading is tested as arithmetic.
 *
 * Spreading: a process's rounds fall at a phase of the interval taken from its key (a
 * hash of its pid and a random seed of this agent's: a host's processes
 * do not all start at :00, and a fleet's hosts do not either), plus a jitter of up to a
 * tenth of the interval drawn anew each round. A round whose time has passed (the agent
 * was busy, the process was captured meanwhile) is skipped, never made up: the next is
 * the first one still ahead.
 */
#ifndef INSPECTD_SCHEDULE_H
#define INSPECTD_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

struct schedule_config {
	uint64_t every_usec;            /* 0: no schedule */
	uint32_t kinds;                 /* 1u << enum profile_kind, for each kind in turn */
};

/* A process's place in the schedule (in its process table entry). */
struct schedule_state {
	uint64_t base_usec;             /* its next round's time without jitter (the caller's monotonic clock) */
	uint64_t due_usec;              /* ... with it: when the round starts; 0: not placed yet */
	unsigned round;                 /* rounds taken or skipped */
	uint64_t every_usec;            /* the interval it was placed in */
};

/* Place a process first seen at now: its first round at now + (key's phase within the
 * interval), plus jitter01 x a tenth of the interval. */
void schedule_place(const struct schedule_config *c, struct schedule_state *s, uint64_t key, uint64_t now,
		    double jitter01);
/* Whether s was placed in c's interval: not when it never was, nor when the interval that
 * applies to it changed since (a reload, another section of the configuration file): it is
 * then placed anew. */
bool schedule_placed(const struct schedule_config *c, const struct schedule_state *s);
/* After the round due (taken or skipped): the next one, the first of base + whole
 * intervals (the same phase) that is after now, plus a jitter drawn anew; round + 1. */
void schedule_advance(const struct schedule_config *c, struct schedule_state *s, uint64_t now, double jitter01);
/* The kind of round n: the kinds of c->kinds in the order of enum profile_kind, in
 * turn. -1 when c->kinds is empty. */
int schedule_kind(const struct schedule_config *c, unsigned n);
/* The next round of a process, as a client sees it: 0, its start on the wall clock
 * (*ret_wall: wall_now plus the time left until s->due_usec, none when it is due already;
 * now and wall_now read together) and its kind (*ret_kind, enum profile_kind); -ENOENT
 * when there is none: no schedule, not placed yet (its first tick places it), no kinds. */
int schedule_next(const struct schedule_config *c, const struct schedule_state *s, uint64_t now,
		  uint64_t wall_now, uint64_t *ret_wall, int *ret_kind);
/* A key from a process's pid and this agent's seed (splitmix64). */
uint64_t schedule_key(uint64_t pid, uint64_t seed);

#endif
