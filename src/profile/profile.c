// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
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

static const struct profile_ops kinds[_PROFILE_KIND_MAX] = {
	[PROFILE_HEAP] = {
		.type = "heap-profile",
		.extension = "heapprofile",
		.interval_name = "sampling_interval_bytes",
		.interval = heap_interval,
		.start = heap_start,
		.stop = heap_stop,
		.result_key = "profile",
		.budget = {
			[PROFILE_PHASE_STARTING] = PROFILE_BUDGET_SMALL,
			[PROFILE_PHASE_RUNNING] = PROFILE_BUDGET_SMALL,
			[PROFILE_PHASE_STOPPING] = PROFILE_BUDGET_RESULT,
		},
	},
	[PROFILE_CPU] = {
		.type = "cpu-profile",
		.extension = "cpuprofile",
		.interval_name = "sampling_interval_us",
		.interval = cpu_interval,
		.start = cpu_start,
		.stop = cpu_stop,
		.result_key = "profile",
		.budget = {
			[PROFILE_PHASE_STARTING] = PROFILE_BUDGET_SMALL,
			[PROFILE_PHASE_RUNNING] = PROFILE_BUDGET_SMALL,
			[PROFILE_PHASE_STOPPING] = PROFILE_BUDGET_RESULT,
		},
	},
};

const struct profile_ops *profile_ops(enum profile_kind kind)
{
	if (kind < 0 || kind >= _PROFILE_KIND_MAX)
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
