/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Captures per tenant per hour (--max-captures-per-container-per-hour), as data. Pure:
 * no clock (times are the caller's, microseconds on one monotonic clock), no logging.
 *
 * A tenant is a key (processes_tenant_key(): a container's cgroup, or a service's). One
 * is kept while a capture of its counts within the last hour: the table never holds
 * more tenants than captures were counted within the hour, and tenants__expire() drops
 * the others.
 */
#ifndef INSPECTD_TENANTS_H
#define INSPECTD_TENANTS_H

#include <stdbool.h>
#include <stdint.h>

struct tenants;

/* per_hour: captures of one tenant within any hour, 1 to RATE_LIMIT_MAX (trigger.h; more
 * is taken as that). NULL only when out of memory. */
struct tenants *tenants__new(unsigned per_hour);
/* Takes NULL. */
void tenants__free(struct tenants *ts);
/* Whether one more capture of tenant fits its last hour now (nothing counted). */
bool tenants__fits(const struct tenants *ts, const char *tenant, uint64_t now_usec);
/* Count one capture of tenant now: 0; -EDQUOT: its last hour is full (not counted); -ENOMEM. */
int tenants__take(struct tenants *ts, const char *tenant, uint64_t now_usec);
/* Forget tenants without a capture within the hour before now: how many. */
unsigned tenants__expire(struct tenants *ts, uint64_t now_usec);
/* Tenants kept. */
unsigned tenants__count(const struct tenants *ts);

#endif
