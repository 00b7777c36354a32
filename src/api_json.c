// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_json.h"
#include "meta.h"
#include "select.h"
#include "settings.h"

enum api_route api_route(enum api_method method, const char *path, unsigned *id)
{
	static const char prefix[] = "/v1/captures/";

	if (strcmp(path, "/v1/processes") == 0)
		return method == API_GET ? API_PROCESSES : API_METHOD_NOT_ALLOWED;
	if (strcmp(path, "/v1/captures") == 0) {
		if (method == API_GET)
			return API_CAPTURES_LIST;
		return method == API_POST ? API_CAPTURES_CREATE : API_METHOD_NOT_ALLOWED;
	}
	if (strncmp(path, prefix, sizeof(prefix) - 1) == 0) {
		if (api_parse_job_id(path + sizeof(prefix) - 1, id) < 0)
			return API_NOT_FOUND;
		if (method == API_GET)
			return API_CAPTURE_GET;
		return method == API_DELETE ? API_CAPTURE_DELETE : API_METHOD_NOT_ALLOWED;
	}
	if (strcmp(path, "/metrics") == 0)
		return method == API_GET ? API_METRICS : API_METHOD_NOT_ALLOWED;
	if (strcmp(path, "/v1/exporters") == 0)
		return method == API_GET ? API_EXPORTERS : API_METHOD_NOT_ALLOWED;
	if (strcmp(path, "/healthz") == 0)
		return method == API_GET ? API_HEALTHZ : API_METHOD_NOT_ALLOWED;
	return API_NOT_FOUND;
}

void api_job_id(unsigned id, char *buf, size_t size)
{
	snprintf(buf, size, "c-%06u", id);
}

int api_parse_job_id(const char *s, unsigned *id)
{
	unsigned long v;
	char *end;

	if (strncmp(s, "c-", 2) != 0 || !isdigit((unsigned char)s[2]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s + 2, &end, 10);
	if (errno || *end || v == 0 || v > 0xffffffffUL)
		return -EINVAL;
	*id = (unsigned)v;
	return 0;
}

int api_parse_capture_request(const char *body, size_t len, struct api_capture_request *req, char *err,
			      size_t err_size)
{
	cJSON *root = NULL;
	const cJSON *item;
	const char *end = NULL;
	bool have_pid = false;
	char names[128], why[128];
	int r = -EINVAL;

	memset(req, 0, sizeof(*req));
	req->kind = PROFILE_HEAP;
	if (len == 0) {
		snprintf(err, err_size, "a JSON body is required: {\"pid\":N,\"kind\":KIND,\"seconds\":N}, and "
			 "\"categories\":\"a,b\" for a trace");
		return -EINVAL;
	}
	/* cJSON turns \u0000 into a NUL that would end a key or value early: refuse it. */
	if (memmem(body, len, "\\u0000", 6)) {
		snprintf(err, err_size, "\\u0000 is not allowed in the body");
		return -EINVAL;
	}
	root = cJSON_ParseWithLengthOpts(body, len, &end, false);
	if (!cJSON_IsObject(root)) {
		snprintf(err, err_size, "the body is not a JSON object");
		goto out;
	}
	/* One object and nothing after it but white space. */
	for (; end && end < body + len; end++) {
		if (!isspace((unsigned char)*end)) {
			snprintf(err, err_size, "trailing data after the JSON object");
			goto out;
		}
	}
	cJSON_ArrayForEach(item, root) {
		const char *key = item->string ? item->string : "";

		if (strcmp(key, "pid") == 0) {
			if (!cJSON_IsNumber(item) || item->valuedouble < 1 || item->valuedouble > 4194304 ||
			    item->valuedouble != (double)item->valueint) {
				snprintf(err, err_size, "\"pid\" must be a positive integer");
				goto out;
			}
			req->pid = item->valueint;
			have_pid = true;
		} else if (strcmp(key, "kind") == 0) {
			if (!cJSON_IsString(item) || profile_kind_from_name(item->valuestring, &req->kind) < 0) {
				snprintf(err, err_size, "\"kind\" must be %s", profile_kind_list(names, sizeof(names), "\""));
				goto out;
			}
		} else if (strcmp(key, "seconds") == 0) {
			if (!cJSON_IsNumber(item) || item->valuedouble < 1 || item->valuedouble > 86400 ||
			    item->valuedouble != (double)item->valueint) {
				snprintf(err, err_size, "\"seconds\" must be an integer from 1 to 86400");
				goto out;
			}
			req->seconds = (uint64_t)item->valueint;
		} else if (strcmp(key, "categories") == 0) {
			if (!cJSON_IsString(item)) {
				snprintf(err, err_size, "\"categories\" must be a string such as \"node,v8\"");
				goto out;
			}
			if (settings_check_categories(item->valuestring, why, sizeof(why)) < 0) {
				snprintf(err, err_size, "\"categories\": %s", why);
				goto out;
			}
			snprintf(req->categories, sizeof(req->categories), "%s", item->valuestring);
		} else {
			/* A typo must not silently become a default. */
			snprintf(err, err_size, "unknown field \"%.64s\"", key);
			goto out;
		}
	}
	if (!have_pid) {
		snprintf(err, err_size, "\"pid\" is required");
		goto out;
	}
	/* Known only now: the last "kind" wins, wherever it is. */
	if (req->seconds && profile_kind_instantaneous(req->kind)) {
		snprintf(err, err_size, "\"seconds\" with kind \"%s\": a heap snapshot has no duration",
			 profile_kind_name(req->kind));
		goto out;
	}
	if (req->categories[0] && req->kind != PROFILE_TRACE) {
		snprintf(err, err_size, "\"categories\" with kind \"%s\": only a trace has categories",
			 profile_kind_name(req->kind));
		goto out;
	}
	r = 0;
out:
	cJSON_Delete(root);
	return r;
}

static cJSON *add_time(cJSON *obj, const char *name, struct timespec ts)
{
	char buf[64];

	if (!ts.tv_sec || meta_format_rfc3339(ts, buf, sizeof(buf)) < 0)
		return cJSON_AddNullToObject(obj, name);
	return cJSON_AddStringToObject(obj, name, buf);
}

/* The state a client sees: an active job's is its capture's. */
static const char *job_state_text(const struct job_view *j)
{
	switch (j->state) {
	case JOB_QUEUED:
		return "queued";
	case JOB_ACTIVE:
		return j->capture_state ? j->capture_state : "starting";
	case JOB_DONE:
		return "done";
	default:
		return "failed";
	}
}

cJSON *api_job_json(const struct job_view *j)
{
	cJSON *o = cJSON_CreateObject(), *t, *files;
	const char *path;
	char id[32];
	bool ok;

	if (!o)
		return NULL;
	api_job_id(j->id, id, sizeof(id));
	ok = cJSON_AddStringToObject(o, "id", id) && cJSON_AddNumberToObject(o, "pid", j->pid) &&
	     cJSON_AddStringToObject(o, "kind", profile_kind_name(j->kind)) &&
	     cJSON_AddStringToObject(o, "state", job_state_text(j)) &&
	     (t = cJSON_AddObjectToObject(o, "trigger")) &&
	     cJSON_AddStringToObject(t, "kind", trigger_source_name(j->trigger.source)) &&
	     (j->duration_usec ? cJSON_AddNumberToObject(o, "seconds", (double)(j->duration_usec / 1000000))
			       : cJSON_AddNullToObject(o, "seconds")) &&
	     (j->requested_usec ? cJSON_AddNumberToObject(o, "requested_duration_ms", j->requested_usec / 1e3)
				: cJSON_AddNullToObject(o, "requested_duration_ms")) &&
	     (j->queued_reason[0] ? cJSON_AddStringToObject(o, "queued_reason", j->queued_reason)
				  : cJSON_AddNullToObject(o, "queued_reason")) &&
	     (files = cJSON_AddArrayToObject(o, "files")) &&
	     (j->error[0] ? cJSON_AddStringToObject(o, "error", j->error) : cJSON_AddNullToObject(o, "error")) &&
	     add_time(o, "created_at", j->created_at) &&
	     add_time(o, "started_at", j->started_at) && add_time(o, "ended_at", j->ended_at);
	if (!ok)
		goto fail;
	/* What a trace records; no other kind has categories. */
	if (j->kind == PROFILE_TRACE && !cJSON_AddStringToObject(o, "categories", j->categories))
		goto fail;
	if (j->trigger.has_threshold) {
		ok = cJSON_AddNumberToObject(t, "threshold", j->trigger.threshold) &&
		     cJSON_AddNumberToObject(t, "observed", j->trigger.observed) &&
		     cJSON_AddStringToObject(t, "unit", j->trigger.unit ? j->trigger.unit : "") &&
		     cJSON_AddStringToObject(t, "detected_by", j->trigger.detected_by ? j->trigger.detected_by : "");
		if (!ok)
			goto fail;
	}
	for (unsigned i = 0; i < JOB_FILES_MAX; i++) {
		path = j->files[i];
		if (path[0] && !cJSON_AddItemToArray(files, cJSON_CreateString(path)))
			goto fail;
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

cJSON *api_process_json(const struct process_view *p, const struct job_view *job)
{
	cJSON *o = cJSON_CreateObject(), *armed, *cap, *next;
	char id[32];
	bool ok;

	if (!o)
		return NULL;
	ok = cJSON_AddNumberToObject(o, "pid", p->pid) && cJSON_AddStringToObject(o, "comm", p->comm) &&
	     cJSON_AddNumberToObject(o, "rss_bytes", (double)p->rss) &&
	     (p->cpu_percent >= 0 ? cJSON_AddNumberToObject(o, "cpu_percent", p->cpu_percent)
				  : cJSON_AddNullToObject(o, "cpu_percent")) &&
	     (p->memory_limit ? cJSON_AddNumberToObject(o, "memory_limit_bytes", (double)p->memory_limit)
			      : cJSON_AddNullToObject(o, "memory_limit_bytes")) &&
	     cJSON_AddStringToObject(o, "cgroup", p->cgroup) &&
	     container_add_identity_json(o, &p->container) &&
	     cJSON_AddStringToObject(o, "selection", select_verdict_name((enum select_verdict)p->selection)) &&
	     (p->section[0] ? cJSON_AddStringToObject(o, "section", p->section) : cJSON_AddNullToObject(o, "section")) &&
	     (armed = cJSON_AddArrayToObject(o, "armed"));
	if (!ok)
		goto fail;
	for (int k = 0; k < _TRIGGER_MAX; k++)
		if ((p->armed & TRIGGER_MASK(k)) &&
		    !cJSON_AddItemToArray(armed, cJSON_CreateString(trigger_kind_name(k))))
			goto fail;
	/* The schedule's next round of it (--every): null when none will come. */
	if (!p->next_capture_at.tv_sec || p->next_capture_kind < 0) {
		if (!cJSON_AddNullToObject(o, "next_capture"))
			goto fail;
	} else if (!(next = cJSON_AddObjectToObject(o, "next_capture")) || !add_time(next, "at", p->next_capture_at) ||
		   !cJSON_AddStringToObject(next, "kind", profile_kind_name((enum profile_kind)p->next_capture_kind))) {
		goto fail;
	}
	if (!job) {
		if (!cJSON_AddNullToObject(o, "capture"))
			goto fail;
		return o;
	}
	api_job_id(job->id, id, sizeof(id));
	ok = (cap = cJSON_AddObjectToObject(o, "capture")) && cJSON_AddStringToObject(cap, "id", id) &&
	     cJSON_AddStringToObject(cap, "kind", profile_kind_name(job->kind)) &&
	     cJSON_AddStringToObject(cap, "state", job_state_text(job));
	if (!ok)
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

char *api_error_json(const char *message)
{
	cJSON *o = cJSON_CreateObject();
	char *s = NULL;

	if (o && cJSON_AddStringToObject(o, "error", message))
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* A family's HELP and TYPE lines: its samples follow. */
static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one sample. */
static void scalar(FILE *f, const char *name, const char *type, const char *help, unsigned long value)
{
	family(f, name, type, help);
	fprintf(f, "%s %lu\n", name, value);
}

cJSON *api_exporters_json(const struct api_exports_view *v)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; arr && i < v->n; i++) {
		const struct outbox_status *r = &v->rows[i];
		cJSON *o = cJSON_CreateObject();
		bool remote = i >= v->first_remote;
		bool ok = o && cJSON_AddItemToArray(arr, o) && cJSON_AddStringToObject(o, "name", r->name) &&
			  cJSON_AddBoolToObject(o, "remote", remote) &&
			  cJSON_AddNumberToObject(o, "pending", (double)r->pending) &&
			  cJSON_AddNumberToObject(o, "delivered", (double)r->delivered) &&
			  cJSON_AddNumberToObject(o, "failed", (double)r->failed);

		if (ok && remote)
			ok = cJSON_AddNumberToObject(o, "attempts_failed", (double)r->attempts_failed) &&
			     (r->oldest_pending_at
				      ? cJSON_AddNumberToObject(o, "oldest_pending_age_s",
								(double)(v->now > r->oldest_pending_at
										 ? v->now - r->oldest_pending_at : 0))
				      : cJSON_AddNullToObject(o, "oldest_pending_age_s")) &&
			     cJSON_AddNumberToObject(o, "consecutive_failures", r->consecutive_failures) &&
			     cJSON_AddNumberToObject(o, "retry_in_ms", (double)r->retry_in_ms) &&
			     (r->last_error[0] ? cJSON_AddStringToObject(o, "last_error", r->last_error)
					       : cJSON_AddNullToObject(o, "last_error"));
		if (!ok) {
			/* o is in arr, or was never made: arr alone to free. */
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}

char *api_metrics_text(const struct dispatcher_metrics *m, unsigned tracked, unsigned running, unsigned queued,
		       unsigned long output_removed, const struct spool_derive_count *derived, size_t n_derived,
		       const struct api_exports_view *exports, long long syscalls_refused)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	scalar(f, "inspectd_tracked_processes", "gauge", "Node processes the agent tracks.", tracked);
	scalar(f, "inspectd_captures_running", "gauge", "Captures in progress.", running);
	scalar(f, "inspectd_captures_queued", "gauge", "Captures waiting for their turn.", queued);
	family(f, "inspectd_captures_total", "counter",
	       "Finished captures by trigger, kind and outcome.");
	for (int k = 0; k < _PROFILE_KIND_MAX; k++)
		for (int t = 0; t < _TRIGGER_SOURCE_MAX; t++)
			for (int o = 0; trigger_source_profiles(t) && o < 2; o++)
				fprintf(f, "inspectd_captures_total{trigger=\"%s\",kind=\"%s\",outcome=\"%s\"} %lu\n",
					trigger_source_name(t), profile_kind_name(k), o ? "failed" : "exported",
					m->captures[k][t][o]);
	family(f, "inspectd_triggers_skipped_total", "counter",
	       "Threshold crossings and scheduled rounds not captured (cooldown, caps, busy).");
	for (int t = 0; t < _TRIGGER_SOURCE_MAX; t++) {
		if (trigger_source_automatic(t))
			fprintf(f, "inspectd_triggers_skipped_total{trigger=\"%s\"} %lu\n", trigger_source_name(t),
				m->skipped[t]);
	}
	family(f, "inspectd_captures_refused_total", "counter",
	       "Capture requests refused: the container's hourly cap, --exclude, or (thresholds) not --select-ed.");
	for (int t = 0; t < _TRIGGER_SOURCE_MAX; t++) {
		if (!trigger_source_profiles(t))
			continue;
		fprintf(f, "inspectd_captures_refused_total{trigger=\"%s\",reason=\"container-hourly-cap\"} %lu\n",
			trigger_source_name(t), m->refused[t]);
		fprintf(f, "inspectd_captures_refused_total{trigger=\"%s\",reason=\"excluded\"} %lu\n",
			trigger_source_name(t), m->excluded[t]);
		if (trigger_source_automatic(t))
			fprintf(f, "inspectd_captures_refused_total{trigger=\"%s\",reason=\"not-selected\"} %lu\n",
				trigger_source_name(t), m->not_selected[t]);
	}
	family(f, "inspectd_captures_expired_total", "counter",
	       "Queued captures that waited past --queue-timeout.");
	for (int t = 0; t < _TRIGGER_SOURCE_MAX; t++)
		if (trigger_source_profiles(t))
			fprintf(f, "inspectd_captures_expired_total{trigger=\"%s\"} %lu\n", trigger_source_name(t),
				m->expired[t]);
	scalar(f, "inspectd_rss_stat_attached", "gauge",
	       "Whether the rss_stat program sees every page fault now.",
	       m->rss_watch ? 1 : 0);
	scalar(f, "inspectd_rss_stat_attaches_total", "counter",
	       "Times rss_stat was attached (a process came near a mark).",
	       m->rss_watch_attaches);
	scalar(f, "inspectd_export_failures_total", "counter",
	       "Profiles that could not be written.",
	       m->export_failures);
	scalar(f, "inspectd_output_removed_total", "counter",
	       "Old profiles (each with its meta.json) removed to fit --spool-max-bytes.",
	       output_removed);
	if (syscalls_refused >= 0)
		scalar(f, "inspectd_syscalls_refused_total", "counter",
		       "System calls the agent's seccomp filter refused with EPERM (README \"Hardening\").",
		       (unsigned long)syscalls_refused);
	/* Once an exporter made one (a family has samples). */
	if (n_derived)
		family(f, "inspectd_exports_total", "counter",
		       "Files an exporter made from profiles (pprof), written or not (the profile is kept).");
	for (size_t i = 0; i < n_derived; i++) {
		fprintf(f, "inspectd_exports_total{exporter=\"%s\",outcome=\"written\"} %lu\n", derived[i].name,
			derived[i].written);
		fprintf(f, "inspectd_exports_total{exporter=\"%s\",outcome=\"failed\"} %lu\n", derived[i].name,
			derived[i].failed);
	}
	if (exports) {
		const struct outbox_status *r = exports->rows;
		size_t first = exports->first_remote, n = exports->n;

		scalar(f, "inspectd_spool_bytes", "gauge", "Bytes the output folder holds, as --spool-max-bytes counts them.",
		       exports->spool_bytes);
		if (first < n) {
			family(f, "inspectd_deliveries_total", "counter",
			       "Commits (a profile with its files and meta.json, or a record) a remote exporter delivered, "
			       "or gave up after --export-retry-max.");
			for (size_t i = first; i < n; i++) {
				fprintf(f, "inspectd_deliveries_total{exporter=\"%s\",outcome=\"delivered\"} %llu\n",
					r[i].name, (unsigned long long)r[i].delivered);
				fprintf(f, "inspectd_deliveries_total{exporter=\"%s\",outcome=\"given_up\"} %llu\n",
					r[i].name, (unsigned long long)r[i].failed);
			}
			family(f, "inspectd_delivery_attempts_failed_total", "counter",
			       "Deliveries that failed and will be tried again.");
			for (size_t i = first; i < n; i++)
				fprintf(f, "inspectd_delivery_attempts_failed_total{exporter=\"%s\"} %llu\n", r[i].name,
					(unsigned long long)r[i].attempts_failed);
			family(f, "inspectd_deliveries_pending", "gauge", "Commits a remote exporter has still to deliver.");
			for (size_t i = first; i < n; i++)
				fprintf(f, "inspectd_deliveries_pending{exporter=\"%s\"} %llu\n", r[i].name,
					(unsigned long long)r[i].pending);
			family(f, "inspectd_delivery_oldest_pending_seconds", "gauge",
			       "Age of the oldest commit a remote exporter has still to deliver (0: none).");
			for (size_t i = first; i < n; i++)
				fprintf(f, "inspectd_delivery_oldest_pending_seconds{exporter=\"%s\"} %lld\n", r[i].name,
					(long long)(r[i].oldest_pending_at && exports->now > r[i].oldest_pending_at
							    ? exports->now - r[i].oldest_pending_at : 0));
		}
	}
	family(f, "inspectd_events_lost_total", "counter",
	       "Kernel events with no room in their ring buffer, per stream.");
	for (int i = 0; i < METRICS_STREAMS; i++)
		fprintf(f, "inspectd_events_lost_total{stream=\"%s\"} %lu\n", metrics_stream_names[i],
			m->events_lost[i]);
	scalar(f, "inspectd_signals_rate_limited_total", "counter",
	       "Trigger signals over their target's rate, dropped in the kernel.",
	       m->signals_limited);
	family(f, "inspectd_sigusr1_refused_total", "counter",
	       "Captures that did not send SIGUSR1: its handler was not node's inspector, by whose it was.");
	for (int h = SIGUSR1_HANDLER_APPLICATION; h < _SIGUSR1_HANDLER_MAX; h++)
		fprintf(f, "inspectd_sigusr1_refused_total{handler=\"%s\"} %lu\n", sigusr1_handler_name(h),
			m->sigusr1_refused[h]);
	scalar(f, "inspectd_track_failures_total", "counter",
	       "Node processes the kernel side had no room to track.",
	       m->track_failures);
	scalar(f, "inspectd_events_reconciled_total", "counter",
	       "Lost exec and exit events found again by comparing tables.",
	       m->reconciled);
	scalar(f, "inspectd_exits_found_total", "counter",
	       "Tracked processes found gone by their pidfd (their exit event lost).",
	       m->exits_found);
	scalar(f, "inspectd_oom_kills_total", "counter",
	       "Tracked processes the kernel's OOM killer killed.",
	       m->oom_kills);
	family(f, "inspectd_oom_records_total", "counter",
	       "OOM-kill records (oom-kill-*.json): written, limited (over the hourly caps), failed.");
	fprintf(f, "inspectd_oom_records_total{outcome=\"written\"} %lu\n", m->oom_records);
	fprintf(f, "inspectd_oom_records_total{outcome=\"limited\"} %lu\n", m->oom_records_limited);
	fprintf(f, "inspectd_oom_records_total{outcome=\"failed\"} %lu\n", m->oom_record_failures);
	family(f, "inspectd_trigger_to_start_seconds", "histogram",
	       "From the trigger's event to the profiler running.");
	for (int b = 0; b < DISPATCHER_LATENCY_BUCKETS; b++)
		fprintf(f, "inspectd_trigger_to_start_seconds_bucket{le=\"%g\"} %lu\n", dispatcher_latency_le[b],
			m->latency_buckets[b]);
	fprintf(f, "inspectd_trigger_to_start_seconds_bucket{le=\"+Inf\"} %lu\n", m->latency_count);
	fprintf(f, "inspectd_trigger_to_start_seconds_sum %.6f\n", m->latency_sum);
	fprintf(f, "inspectd_trigger_to_start_seconds_count %lu\n", m->latency_count);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
