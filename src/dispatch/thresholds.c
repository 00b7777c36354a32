// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <stdio.h>
#include <stdlib.h>

#include "thresholds.h"

struct thresholds {
	const struct settings *st;
	struct rate_limit hourly;
	uint64_t rss_watch_until;       /* the last near RSS counts until then (--rss-watch near) */
	bool shutting_down;
};

static const char *const skip_names[_THRESHOLD_SKIP_MAX] = {
	[THRESHOLD_CAPTURE] = "capture", [THRESHOLD_SKIP_SHUTDOWN] = "shutdown",
	[THRESHOLD_SKIP_QUEUED] = "queued", [THRESHOLD_SKIP_RUNNING] = "running",
	[THRESHOLD_SKIP_COOLDOWN] = "cooldown", [THRESHOLD_SKIP_CONTAINER_CAP] = "container-hourly-cap",
	[THRESHOLD_SKIP_HOURLY_CAP] = "hourly-cap",
};

static const char *const detector_names[_THRESHOLD_DETECTOR_MAX] = {
	[THRESHOLD_BY_RSS_STAT] = "rss_stat", [THRESHOLD_BY_TICK] = "tick",
};

const char *threshold_skip_name(enum threshold_skip s)
{
	return (unsigned)s < _THRESHOLD_SKIP_MAX ? skip_names[s] : "unknown";
}

const char *threshold_detector_name(enum threshold_detector d)
{
	return (unsigned)d < _THRESHOLD_DETECTOR_MAX ? detector_names[d] : "unknown";
}

struct thresholds *thresholds__new(const struct settings *st)
{
	struct thresholds *th = calloc(1, sizeof(*th));

	if (!th)
		return NULL;
	th->st = st;
	return th;
}

void thresholds__free(struct thresholds *th)
{
	free(th);
}

void thresholds__shutdown(struct thresholds *th)
{
	th->shutting_down = true;
}

/* crossed: the triggers that crossed now; the first in trigger_kind's order is told. */
static int judge(struct thresholds *th, const struct threshold_subject *s, unsigned crossed,
		 enum threshold_detector by, uint64_t now, struct threshold_decision *ret)
{
	const struct trigger_config *cfg = s->cfg;
	enum trigger_kind k;

	for (k = 0; k < _TRIGGER_MAX; k++)
		if (crossed & TRIGGER_MASK(k))
			break;
	if (k == _TRIGGER_MAX)
		return 0;
	*ret = (struct threshold_decision){
		.source = trigger_source_of_kind(k),
		.kind = k,
		.detected_by = threshold_detector_name(by),
	};
	if (k == TRIGGER_CPU_THRESHOLD) {
		ret->unit = "percent";
		ret->threshold = cfg->cpu_threshold;
		ret->observed = s->triggers->cpu_percent;
	} else {
		ret->unit = "bytes";
		ret->threshold = (double)trigger_threshold(cfg, s->triggers, k);
		ret->observed = (double)s->rss;
	}

	if (th->shutting_down) {
		ret->skip = THRESHOLD_SKIP_SHUTDOWN;
	} else if (s->busy != THRESHOLD_IDLE) {
		ret->skip = s->busy == THRESHOLD_BUSY_QUEUED ? THRESHOLD_SKIP_QUEUED : THRESHOLD_SKIP_RUNNING;
	} else if (trigger_in_cooldown(cfg, s->triggers, now)) {
		ret->skip = THRESHOLD_SKIP_COOLDOWN;
		ret->cooldown_left_usec = s->triggers->last_capture_usec + cfg->cooldown_usec - now;
	} else if (s->container_full) {
		/* Before the host's cap: a slot of it is not spent on a capture that cannot be. */
		ret->skip = THRESHOLD_SKIP_CONTAINER_CAP;
	} else if (!rate_limit_take(&th->hourly, th->st->max_captures_per_hour, now)) {
		ret->skip = THRESHOLD_SKIP_HOURLY_CAP;
	}
	return 1;
}

int thresholds__rss(struct thresholds *th, const struct threshold_subject *s, enum threshold_detector by,
		    uint64_t now_usec, struct threshold_decision *ret)
{
	unsigned crossed = trigger_eval_rss(s->cfg, s->triggers, s->rss, now_usec);

	return judge(th, s, crossed, by, now_usec, ret);
}

int thresholds__tick(struct thresholds *th, const struct threshold_subject *s, uint64_t now_usec,
		     struct threshold_decision *ret)
{
	const struct trigger_config *cfg = s->cfg;
	unsigned crossed;

	crossed = trigger_eval_rss(cfg, s->triggers, s->rss, now_usec);
	if (s->cpu_fresh)
		crossed |= trigger_eval_cpu(cfg, s->triggers, s->cpu_ns, now_usec);
	return judge(th, s, crossed, THRESHOLD_BY_TICK, now_usec, ret);
}

void thresholds_captured(const struct threshold_subject *s, uint64_t now_usec)
{
	trigger_captured(s->triggers, now_usec, s->rss);
}

void threshold_skip_describe(const struct threshold_decision *d, const struct settings *st, char *buf,
			     size_t size)
{
	switch (d->skip) {
	case THRESHOLD_SKIP_SHUTDOWN:
		snprintf(buf, size, "the agent is shutting down");
		break;
	case THRESHOLD_SKIP_QUEUED:
	case THRESHOLD_SKIP_RUNNING:
		snprintf(buf, size, "a capture of it is already %s",
			 d->skip == THRESHOLD_SKIP_QUEUED ? "queued" : "running");
		break;
	case THRESHOLD_SKIP_COOLDOWN:
		snprintf(buf, size, "cooldown, %llu s left", (unsigned long long)(d->cooldown_left_usec / 1000000));
		break;
	case THRESHOLD_SKIP_CONTAINER_CAP:
		snprintf(buf, size, "its container's cap of %u captures per hour reached", st->max_per_container_hour);
		break;
	case THRESHOLD_SKIP_HOURLY_CAP:
		snprintf(buf, size, "host cap of %u threshold captures per hour reached", st->max_captures_per_hour);
		break;
	default:
		snprintf(buf, size, "%s", threshold_skip_name(d->skip));
		break;
	}
}

bool thresholds_marks(const struct trigger_config *cfg, const struct trigger_state *ts, uint64_t rss,
		      uint64_t *high, uint64_t *low)
{
	trigger_rss_marks(cfg, ts, high, low);
	return trigger_rss_near(rss, *high);
}

bool thresholds_rss_configured(const struct trigger_config *cfg)
{
	return trigger_configured(cfg, TRIGGER_RSS_THRESHOLD) || trigger_configured(cfg, TRIGGER_RSS_GROWTH) ||
	       trigger_configured(cfg, TRIGGER_LIMIT_PERCENT);
}

/*
 * rss_stat runs on every page fault of every process on the host, and the kernel's
 * dispatch to it costs more than the program: attached only while some tracked
 * process is near one of its marks (and a while after), or always with --rss-watch
 * always. Otherwise the tick's task iterator keeps RSS.
 */
bool thresholds__rss_watch(struct thresholds *th, bool rss_triggers, bool near, uint64_t now_usec)
{
	return trigger_rss_watch(rss_triggers, th->st->rss_watch_always, near, now_usec, &th->rss_watch_until);
}
