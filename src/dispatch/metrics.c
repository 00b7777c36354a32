// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include "metrics.h"

const char *const metrics_stream_names[METRICS_STREAMS] = { "lifecycle", "signal", "rss", "oom" };

const double dispatcher_latency_le[DISPATCHER_LATENCY_BUCKETS] = {
	0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
};

void metrics_count_capture(struct dispatcher_metrics *m, enum profile_kind kind, enum trigger_source source,
			   enum capture_outcome outcome)
{
	if ((unsigned)kind >= _PROFILE_KIND_MAX || (unsigned)source >= _TRIGGER_SOURCE_MAX)
		return;
	m->captures[kind][source][outcome != CAPTURE_OK]++;
	if (outcome == CAPTURE_EXPORT_FAILED)
		m->export_failures++;
}

void metrics_observe_latency(struct dispatcher_metrics *m, double latency_ms)
{
	double s = latency_ms / 1000.0;

	if (latency_ms < 0)
		return;
	m->latency_count++;
	m->latency_sum += s;
	for (int b = 0; b < DISPATCHER_LATENCY_BUCKETS; b++)
		if (s <= dispatcher_latency_le[b])
			m->latency_buckets[b]++;
}
