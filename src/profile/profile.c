// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>

#include "profile.h"

static cJSON *params_number(const char *name, double value)
{
	cJSON *p = cJSON_CreateObject();

	if (p && !cJSON_AddNumberToObject(p, name, value)) {
		cJSON_Delete(p);
		return NULL;
	}
	return p;
}

/* HeapProfiler sampling: allocations live at stop, sampled every N bytes on average. */
static uint64_t heap_interval(const struct settings *st)
{
	return st->heap_sampling_interval;
}

static int heap_start(struct inspector_session *s, const struct settings *st)
{
	return inspector_session__send(s, PROFILE_TAG_STARTED, "HeapProfiler.startSampling",
				       params_number("samplingInterval", (double)st->heap_sampling_interval));
}

static int heap_stop(struct inspector_session *s)
{
	return inspector_session__send(s, PROFILE_TAG_STOPPED, "HeapProfiler.stopSampling", NULL);
}

/* Profiler: V8's sampling CPU profiler. The interval must be set before start. */
static uint64_t cpu_interval(const struct settings *st)
{
	return st->cpu_sampling_interval;
}

static int cpu_start(struct inspector_session *s, const struct settings *st)
{
	int r;

	r = inspector_session__send(s, PROFILE_TAG_STEP, "Profiler.enable", NULL);
	if (r < 0)
		return r;
	r = inspector_session__send(s, PROFILE_TAG_STEP, "Profiler.setSamplingInterval",
				    params_number("interval", (double)st->cpu_sampling_interval));
	if (r < 0)
		return r;
	return inspector_session__send(s, PROFILE_TAG_STARTED, "Profiler.start", NULL);
}

static int cpu_stop(struct inspector_session *s)
{
	int r = inspector_session__send(s, PROFILE_TAG_STOPPED, "Profiler.stop", NULL);

	if (r < 0)
		return r;
	return inspector_session__send(s, PROFILE_TAG_STEP, "Profiler.disable", NULL);
}

/* Both sampling profilers answer their stop command with result.profile, whole. */
static int profile_watch(enum profile_phase phase, struct cdp_reader_watch *w)
{
	if (phase != PROFILE_PHASE_STOPPING)
		return -1;
	w->path[0] = "result";
	w->path[1] = "profile";
	w->mode = CDP_READER_RAW;
	return 0;
}

/* No event of theirs is asked for: whatever comes is read, and nothing of it kept. */
static int profile_event(enum profile_phase phase, const struct cdp_reader_header *h)
{
	return 0;
}

static int profile_result(const struct cdp_reader_header *h)
{
	return h->watched_seen && h->watched_bytes ? 0 : -ENODATA;
}

/* What the two sampling profilers share: small messages until their one large answer. */
#define SAMPLING_PROFILER \
	.watch = profile_watch, \
	.event = profile_event, \
	.result = profile_result, \
	.budget = { \
		[PROFILE_PHASE_STARTING] = PROFILE_BUDGET_SMALL, \
		[PROFILE_PHASE_RUNNING] = PROFILE_BUDGET_SMALL, \
		[PROFILE_PHASE_STOPPING] = PROFILE_BUDGET_RESULT, \
	}

static const char *const heap_outputs[] = { "heapprofile", NULL };
static const char *const cpu_outputs[] = { "cpuprofile", NULL };

static const struct profile_ops kinds[_PROFILE_KIND_MAX] = {
	[PROFILE_HEAP] = {
		.type = "heap-profile",
		.interval_name = "sampling_interval_bytes",
		.interval = heap_interval,
		.outputs = heap_outputs,
		.start = heap_start,
		.stop = heap_stop,
		SAMPLING_PROFILER,
	},
	[PROFILE_CPU] = {
		.type = "cpu-profile",
		.interval_name = "sampling_interval_us",
		.interval = cpu_interval,
		.outputs = cpu_outputs,
		.start = cpu_start,
		.stop = cpu_stop,
		SAMPLING_PROFILER,
	},
};

const struct profile_ops *profile_ops(enum profile_kind kind)
{
	if (kind < 0 || kind >= _PROFILE_KIND_MAX || !kinds[kind].type)
		return NULL;
	return &kinds[kind];
}

size_t profile_budget(const struct profile_ops *ops, enum profile_phase phase, const struct settings *st)
{
	size_t b = phase < _PROFILE_PHASE_MAX ? ops->budget[phase] : 0;

	if (b == PROFILE_BUDGET_RESULT)
		return st->max_profile_bytes > SIZE_MAX ? SIZE_MAX : (size_t)st->max_profile_bytes;
	return b ? b : PROFILE_BUDGET_SMALL;
}
