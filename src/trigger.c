// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <math.h>
#include <string.h>

#include "trigger.h"

static const char *const kind_names[_TRIGGER_MAX] = {
	[TRIGGER_RSS_THRESHOLD] = "rss-threshold",
	[TRIGGER_RSS_GROWTH] = "rss-growth",
	[TRIGGER_LIMIT_PERCENT] = "limit-percent",
	[TRIGGER_CPU_THRESHOLD] = "cpu-threshold",
};

const char *trigger_kind_name(enum trigger_kind k)
{
	return k < _TRIGGER_MAX ? kind_names[k] : "unknown";
}

static const char *const source_names[_TRIGGER_SOURCE_MAX] = {
	[TRIGGER_SOURCE_SIGNAL] = "signal",
	[TRIGGER_SOURCE_API] = "api",
	[TRIGGER_SOURCE_RSS_THRESHOLD] = "rss-threshold",
	[TRIGGER_SOURCE_RSS_GROWTH] = "rss-growth",
	[TRIGGER_SOURCE_LIMIT_PERCENT] = "limit-percent",
	[TRIGGER_SOURCE_CPU_THRESHOLD] = "cpu-threshold",
	[TRIGGER_SOURCE_SCHEDULE] = "schedule",
	[TRIGGER_SOURCE_CLEANUP] = "cleanup",
};

_Static_assert(TRIGGER_SOURCE_CPU_THRESHOLD - TRIGGER_SOURCE_RSS_THRESHOLD ==
	       TRIGGER_CPU_THRESHOLD - TRIGGER_RSS_THRESHOLD, "threshold sources follow trigger_kind's order");

const char *trigger_source_name(enum trigger_source s)
{
	return (unsigned)s < _TRIGGER_SOURCE_MAX ? source_names[s] : "unknown";
}

int trigger_source_from_name(const char *name, enum trigger_source *ret)
{
	for (int s = 0; s < _TRIGGER_SOURCE_MAX; s++) {
		if (strcmp(name, source_names[s]) == 0) {
			*ret = (enum trigger_source)s;
			return 0;
		}
	}
	return -EINVAL;
}

enum trigger_source trigger_source_of_kind(enum trigger_kind k)
{
	return (enum trigger_source)(TRIGGER_SOURCE_RSS_THRESHOLD + k);
}

int trigger_source_kind(enum trigger_source s, enum trigger_kind *ret)
{
	if (s < TRIGGER_SOURCE_RSS_THRESHOLD || s > TRIGGER_SOURCE_CPU_THRESHOLD)
		return -EINVAL;
	*ret = (enum trigger_kind)(s - TRIGGER_SOURCE_RSS_THRESHOLD);
	return 0;
}

bool trigger_source_profiles(enum trigger_source s)
{
	return (unsigned)s < _TRIGGER_SOURCE_MAX && s != TRIGGER_SOURCE_CLEANUP;
}

bool trigger_source_automatic(enum trigger_source s)
{
	/* A person asked (a signal, the API): served unless excluded. The rest the agent
	 * decides by itself: only for the processes --select selects. */
	return trigger_source_profiles(s) && s != TRIGGER_SOURCE_SIGNAL && s != TRIGGER_SOURCE_API;
}

bool trigger_configured(const struct trigger_config *cfg, enum trigger_kind k)
{
	switch (k) {
	case TRIGGER_RSS_THRESHOLD:
		return cfg->rss_threshold > 0;
	case TRIGGER_RSS_GROWTH:
		return cfg->rss_growth > 0;
	case TRIGGER_LIMIT_PERCENT:
		return cfg->limit_percent > 0;
	case TRIGGER_CPU_THRESHOLD:
		return cfg->cpu_threshold > 0 && cfg->cpu_window_usec > 0;
	default:
		return false;
	}
}

static uint64_t window_slice(const struct trigger_config *cfg)
{
	uint64_t slice = cfg->growth_window_usec / TRIGGER_WINDOW_BUCKETS;

	return slice ? slice : 1;
}

static void window_reset(struct trigger_state *st)
{
	memset(st->window, 0, sizeof(st->window));
}

static void window_add(const struct trigger_config *cfg, struct trigger_state *st, uint64_t rss, uint64_t now)
{
	uint64_t slice = window_slice(cfg), start = now - now % slice;
	unsigned i = (unsigned)((now / slice) % TRIGGER_WINDOW_BUCKETS);

	if (st->window[i].start_usec != start || st->window[i].min == 0) {
		st->window[i].start_usec = start;
		st->window[i].min = rss;
	} else if (rss < st->window[i].min) {
		st->window[i].min = rss;
	}
}

/* The lowest RSS seen within the window, or the baseline before any was seen. */
static uint64_t growth_base(const struct trigger_config *cfg, const struct trigger_state *st)
{
	uint64_t base = 0, newest = 0;

	if (!cfg->growth_window_usec)
		return st->baseline;
	for (unsigned i = 0; i < TRIGGER_WINDOW_BUCKETS; i++)
		if (st->window[i].start_usec > newest)
			newest = st->window[i].start_usec;
	for (unsigned i = 0; i < TRIGGER_WINDOW_BUCKETS; i++) {
		if (!st->window[i].min || st->window[i].start_usec + cfg->growth_window_usec <= newest)
			continue;
		if (!base || st->window[i].min < base)
			base = st->window[i].min;
	}
	/* The RSS at the last capture counts as a sample while it is within the window. */
	if (st->last_capture_usec && st->last_capture_usec + cfg->growth_window_usec > newest &&
	    (!base || st->baseline < base))
		base = st->baseline;
	return base ? base : st->baseline;
}

void trigger_state_init(struct trigger_state *st, const struct trigger_config *cfg, uint64_t now, uint64_t rss)
{
	memset(st, 0, sizeof(*st));
	st->baseline = rss;
	st->cpu_percent = -1;
	trigger_state_configure(st, cfg);
	if (cfg->growth_window_usec && rss)
		window_add(cfg, st, rss, now);
}

void trigger_state_configure(struct trigger_state *st, const struct trigger_config *cfg)
{
	st->cpu_every_usec = cfg->cpu_window_usec / (TRIGGER_CPU_SAMPLES / 2);
}

uint64_t trigger_threshold(const struct trigger_config *cfg, const struct trigger_state *st, enum trigger_kind k)
{
	if (!trigger_configured(cfg, k))
		return 0;
	switch (k) {
	case TRIGGER_RSS_THRESHOLD:
		return cfg->rss_threshold;
	case TRIGGER_RSS_GROWTH: {
		/* No baseline yet (a process just found): nothing to grow from. */
		uint64_t base = growth_base(cfg, st);

		return base ? base + cfg->rss_growth : 0;
	}
	case TRIGGER_LIMIT_PERCENT:
		/* No limit, no trigger. */
		return st->limit ? (uint64_t)((double)st->limit * cfg->limit_percent / 100.0) : 0;
	default:
		return 0;
	}
}

unsigned trigger_armed(const struct trigger_config *cfg, const struct trigger_state *st)
{
	unsigned mask = 0;

	for (int k = 0; k < _TRIGGER_MAX; k++) {
		if (st->fired[k] || !trigger_configured(cfg, k))
			continue;
		if (k != TRIGGER_CPU_THRESHOLD && !trigger_threshold(cfg, st, k))
			continue;
		mask |= TRIGGER_MASK(k);
	}
	return mask;
}

/* Kind k's RSS mark now: 0 when k is not an RSS trigger or has no mark (trigger_threshold()). */
static uint64_t rss_mark(const struct trigger_config *cfg, const struct trigger_state *st, int k)
{
	if (!(TRIGGER_RSS_MASK & TRIGGER_MASK(k)))
		return 0;
	return trigger_threshold(cfg, st, k);
}

void trigger_rss_marks(const struct trigger_config *cfg, const struct trigger_state *st, uint64_t *high,
		       uint64_t *low)
{
	*high = 0;
	*low = 0;
	for (int k = 0; k < _TRIGGER_MAX; k++) {
		uint64_t thr = rss_mark(cfg, st, k);

		if (!thr)
			continue;
		if (!st->fired[k]) {
			if (!*high || thr < *high)
				*high = thr;
		} else {
			/* Rounded up: trigger_eval_rss() re-arms at rss < thr * 0.9 exactly. */
			uint64_t rearm = (uint64_t)ceil((double)thr * TRIGGER_HYSTERESIS);

			if (rearm > *low)
				*low = rearm;
		}
	}
}

bool trigger_rss_near(uint64_t rss, uint64_t high)
{
	uint64_t margin = high / 8 > TRIGGER_NEAR_BYTES ? high / 8 : TRIGGER_NEAR_BYTES;

	if (!high)
		return false;
	return rss >= high || high - rss <= margin;
}

bool trigger_rss_watch(bool rss_triggers, bool always, bool near, uint64_t now, uint64_t *until)
{
	if (!rss_triggers)
		return false;
	if (always)
		return true;
	if (near)
		*until = now + TRIGGER_WATCH_LINGER_USEC;
	return now < *until;
}

bool trigger_in_cooldown(const struct trigger_config *cfg, const struct trigger_state *st, uint64_t now)
{
	return st->last_capture_usec && now < st->last_capture_usec + cfg->cooldown_usec;
}

unsigned trigger_eval_rss(const struct trigger_config *cfg, struct trigger_state *st, uint64_t rss, uint64_t now)
{
	unsigned crossed = 0;

	if (cfg->growth_window_usec && rss)
		window_add(cfg, st, rss, now);
	for (int k = 0; k < _TRIGGER_MAX; k++) {
		uint64_t thr = rss_mark(cfg, st, k);

		if (!thr)
			continue;
		if (st->fired[k]) {
			if ((double)rss < (double)thr * TRIGGER_HYSTERESIS && !trigger_in_cooldown(cfg, st, now))
				st->fired[k] = false;
			continue;
		}
		if (rss >= thr) {
			st->fired[k] = true;
			crossed |= TRIGGER_MASK(k);
		}
	}
	return crossed;
}

unsigned trigger_eval_cpu(const struct trigger_config *cfg, struct trigger_state *st, uint64_t cpu_ns, uint64_t now)
{
	unsigned last = (st->cpu_head + TRIGGER_CPU_SAMPLES - 1) % TRIGGER_CPU_SAMPLES;
	bool found = false;
	uint64_t t0 = 0, c0 = 0;

	/* CPU use is tracked whether or not the trigger is armed: the API shows it. */
	if (!cfg->cpu_window_usec)
		return 0;

	/* The newest kept sample at least a window old. */
	for (unsigned n = 0; n < st->cpu_count; n++) {
		unsigned i = (st->cpu_head + TRIGGER_CPU_SAMPLES - 1 - n) % TRIGGER_CPU_SAMPLES;

		if (st->cpu[i].usec + cfg->cpu_window_usec <= now) {
			t0 = st->cpu[i].usec;
			c0 = st->cpu[i].cpu_ns;
			found = true;
			break;
		}
	}
	if (found && now > t0 && cpu_ns >= c0)
		st->cpu_percent = (double)(cpu_ns - c0) / 1000.0 / (double)(now - t0) * 100.0;
	else
		st->cpu_percent = -1;

	if (st->cpu_count == 0 || now >= st->cpu[last].usec + st->cpu_every_usec) {
		st->cpu[st->cpu_head].usec = now;
		st->cpu[st->cpu_head].cpu_ns = cpu_ns;
		st->cpu_head = (st->cpu_head + 1) % TRIGGER_CPU_SAMPLES;
		if (st->cpu_count < TRIGGER_CPU_SAMPLES)
			st->cpu_count++;
	}

	if (st->cpu_percent < 0 || !trigger_configured(cfg, TRIGGER_CPU_THRESHOLD))
		return 0;
	if (st->fired[TRIGGER_CPU_THRESHOLD]) {
		if (st->cpu_percent < cfg->cpu_threshold * TRIGGER_HYSTERESIS && !trigger_in_cooldown(cfg, st, now))
			st->fired[TRIGGER_CPU_THRESHOLD] = false;
		return 0;
	}
	if (st->cpu_percent >= cfg->cpu_threshold) {
		st->fired[TRIGGER_CPU_THRESHOLD] = true;
		return TRIGGER_MASK(TRIGGER_CPU_THRESHOLD);
	}
	return 0;
}

void trigger_captured(struct trigger_state *st, uint64_t now, uint64_t rss)
{
	st->last_capture_usec = now ? now : 1;
	st->baseline = rss;
	window_reset(st);
	/* Growth counts from here: that trigger is armed again at its new threshold. */
	st->fired[TRIGGER_RSS_GROWTH] = false;
}

bool rate_limit_take(struct rate_limit *rl, unsigned per_hour, uint64_t now)
{
	const uint64_t hour = 3600ull * 1000000;
	unsigned in_hour = 0;

	if (per_hour > RATE_LIMIT_MAX)
		per_hour = RATE_LIMIT_MAX;
	for (unsigned n = 0; n < rl->count; n++) {
		unsigned i = (rl->head + RATE_LIMIT_MAX - 1 - n) % RATE_LIMIT_MAX;

		if (rl->at[i] + hour > now)
			in_hour++;
	}
	if (in_hour >= per_hour)
		return false;
	rl->at[rl->head] = now;
	rl->head = (rl->head + 1) % RATE_LIMIT_MAX;
	if (rl->count < RATE_LIMIT_MAX)
		rl->count++;
	return true;
}
