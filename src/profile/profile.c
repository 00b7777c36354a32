// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <string.h>

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

static int heap_start(struct inspector_session *s, const struct settings *st, const char *categories)
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

static int cpu_start(struct inspector_session *s, const struct settings *st, const char *categories)
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

/* ---- heap snapshots: the whole heap, streamed as HeapProfiler.addHeapSnapshotChunk events ---- */

static cJSON *params_bool(const char *name, bool value)
{
	cJSON *p = cJSON_CreateObject();

	if (p && !cJSON_AddBoolToObject(p, name, value)) {
		cJSON_Delete(p);
		return NULL;
	}
	return p;
}

/* Nothing runs in the target yet: the snapshot is its stop command. */
static int snapshot_start(struct inspector_session *s, const struct settings *st, const char *categories)
{
	return inspector_session__send(s, PROFILE_TAG_STARTED, "HeapProfiler.enable", NULL);
}

/* The chunks come as events before the answer; progress events keep a long one alive. */
static int snapshot_stop(struct inspector_session *s)
{
	int r = inspector_session__send(s, PROFILE_TAG_STOPPED, "HeapProfiler.takeHeapSnapshot",
					params_bool("reportProgress", true));

	if (r < 0)
		return r;
	return inspector_session__send(s, PROFILE_TAG_STEP, "HeapProfiler.disable", NULL);
}

/* An allocation timeline: every allocation tracked with its stack, then a snapshot that
 * holds them (trace_function_infos, trace_tree) when tracking stops. */
static int timeline_start(struct inspector_session *s, const struct settings *st, const char *categories)
{
	int r = inspector_session__send(s, PROFILE_TAG_STEP, "HeapProfiler.enable", NULL);

	if (r < 0)
		return r;
	return inspector_session__send(s, PROFILE_TAG_STARTED, "HeapProfiler.startTrackingHeapObjects",
				       params_bool("trackAllocations", true));
}

static int timeline_stop(struct inspector_session *s)
{
	int r = inspector_session__send(s, PROFILE_TAG_STOPPED, "HeapProfiler.stopTrackingHeapObjects",
					params_bool("reportProgress", true));

	if (r < 0)
		return r;
	return inspector_session__send(s, PROFILE_TAG_STEP, "HeapProfiler.disable", NULL);
}

static int snapshot_watch(enum profile_phase phase, struct cdp_reader_watch *w)
{
	if (phase != PROFILE_PHASE_STOPPING)
		return -1;
	w->path[0] = "params";
	w->path[1] = "chunk";
	w->mode = CDP_READER_STRING;
	return 0;
}

/* Chunks are kept; progress, heapStatsUpdate and lastSeenObjectId (sent while tracking) are not. */
static int snapshot_event(enum profile_phase phase, const struct cdp_reader_header *h)
{
	if (phase == PROFILE_PHASE_STOPPING && strcmp(h->method, "HeapProfiler.addHeapSnapshotChunk") == 0)
		return h->watched_seen ? 1 : -EPROTO;
	return 0;
}

/* The answer says the snapshot is over; its chunks came before it. */
static int snapshot_result(const struct cdp_reader_header *h)
{
	return 0;
}

/* ---- trace events: NodeTracing, batches of events as NodeTracing.dataCollected ---- */

/* "a,b,c" as the array includedCategories; NULL when out of memory. */
static cJSON *trace_config(const char *categories)
{
	cJSON *p = cJSON_CreateObject(), *cfg, *cats;
	const char *c = categories;

	if (!p || !(cfg = cJSON_AddObjectToObject(p, "traceConfig")) ||
	    !cJSON_AddStringToObject(cfg, "recordMode", "recordContinuously") ||
	    !(cats = cJSON_AddArrayToObject(cfg, "includedCategories")))
		goto fail;
	while (*c) {
		size_t n = strcspn(c, ",");
		char name[128];
		cJSON *item;

		if (n && n < sizeof(name)) {
			memcpy(name, c, n);
			name[n] = '\0';
			if (!(item = cJSON_CreateString(name)) || !cJSON_AddItemToArray(cats, item))
				goto fail;
		}
		c += n + (c[n] == ',');
	}
	return p;
fail:
	cJSON_Delete(p);
	return NULL;
}

static int trace_start(struct inspector_session *s, const struct settings *st, const char *categories)
{
	return inspector_session__send(s, PROFILE_TAG_STARTED, "NodeTracing.start",
				       trace_config(categories[0] ? categories : st->trace_categories));
}

static int trace_stop(struct inspector_session *s)
{
	return inspector_session__send(s, PROFILE_TAG_STOPPED, "NodeTracing.stop", NULL);
}

/*
 * node answers NodeTracing.stop, then posts the last batches to its main thread's queue
 * (measured, node 18-24: dataCollected comes after the answer and after tracingComplete).
 * A command sent once the stop is answered queues behind them: its answer ends the trace.
 */
static int trace_flush(struct inspector_session *s)
{
	return inspector_session__send(s, PROFILE_TAG_FLUSHED, "NodeTracing.getCategories", NULL);
}

static int trace_watch(enum profile_phase phase, struct cdp_reader_watch *w)
{
	if (phase == PROFILE_PHASE_STARTING)
		return -1;
	w->path[0] = "params";
	w->path[1] = "value";
	w->mode = CDP_READER_RAW;
	return 0;
}

static int trace_event(enum profile_phase phase, const struct cdp_reader_header *h)
{
	if (phase != PROFILE_PHASE_STARTING && strcmp(h->method, "NodeTracing.dataCollected") == 0)
		return h->watched_seen ? 1 : -EPROTO;
	return 0;
}

static const char *const heap_outputs[] = { "heapprofile", NULL };
static const char *const cpu_outputs[] = { "cpuprofile", NULL };
static const char *const snapshot_outputs[] = { "heapsnapshot", NULL };
static const char *const timeline_outputs[] = { "heaptimeline", NULL };
static const char *const trace_outputs[] = { "json", NULL };

/* Chrome's trace format, as Perfetto and chrome://tracing load it. */
static const struct profile_framing trace_framing = {
	.head = "{\"traceEvents\":[",
	.tail = "]}\n",
	.items = true,
};

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
	[PROFILE_HEAP_SNAPSHOT] = {
		.type = "heap-snapshot",
		.flags = PROFILE_INSTANT | PROFILE_LARGE | PROFILE_SNAPSHOT | PROFILE_STREAMS,
		.outputs = snapshot_outputs,
		.start = snapshot_start,
		.stop = snapshot_stop,
		.watch = snapshot_watch,
		.event = snapshot_event,
		.result = snapshot_result,
		.budget = {
			[PROFILE_PHASE_STARTING] = PROFILE_BUDGET_SMALL,
			[PROFILE_PHASE_RUNNING] = PROFILE_BUDGET_SMALL,
			[PROFILE_PHASE_STOPPING] = PROFILE_BUDGET_CHUNK,
		},
	},
	[PROFILE_ALLOCATION_TIMELINE] = {
		.type = "allocation-timeline",
		.flags = PROFILE_LARGE | PROFILE_SNAPSHOT | PROFILE_STREAMS | PROFILE_COSTLY,
		.outputs = timeline_outputs,
		.start = timeline_start,
		.stop = timeline_stop,
		.watch = snapshot_watch,
		.event = snapshot_event,
		.result = snapshot_result,
		.budget = {
			[PROFILE_PHASE_STARTING] = PROFILE_BUDGET_SMALL,
			/* heapStatsUpdate: a triple of numbers per heap fragment that changed */
			[PROFILE_PHASE_RUNNING] = PROFILE_BUDGET_CHUNK,
			[PROFILE_PHASE_STOPPING] = PROFILE_BUDGET_CHUNK,
		},
	},
	[PROFILE_TRACE] = {
		.type = "trace",
		.flags = PROFILE_LARGE,
		.outputs = trace_outputs,
		.framing = &trace_framing,
		.start = trace_start,
		.stop = trace_stop,
		.flush = trace_flush,
		.watch = trace_watch,
		.event = trace_event,
		.result = snapshot_result,
		.budget = {
			[PROFILE_PHASE_STARTING] = PROFILE_BUDGET_SMALL,
			[PROFILE_PHASE_RUNNING] = PROFILE_BUDGET_BATCH,
			[PROFILE_PHASE_STOPPING] = PROFILE_BUDGET_BATCH,
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
