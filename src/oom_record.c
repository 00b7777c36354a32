// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <inttypes.h>
#include <stdio.h>

#include "meta.h"
#include "oom_record.h"

static const char *const detected_by_names[_OOM_BY_MAX] = {
	[OOM_BY_MARK_VICTIM] = "mark_victim",
	[OOM_BY_EXIT] = "exit",
};

const char *oom_detected_by_name(enum oom_detected_by by)
{
	return (unsigned)by < _OOM_BY_MAX ? detected_by_names[by] : NULL;
}

static bool add_time(cJSON *obj, const char *name, struct timespec ts)
{
	char buf[64];

	if (!ts.tv_sec || meta_format_rfc3339(ts, buf, sizeof(buf)) < 0)
		return cJSON_AddNullToObject(obj, name) != NULL;
	return cJSON_AddStringToObject(obj, name, buf) != NULL;
}

static bool add_strings(cJSON *obj, const char *name, const char *const *s, size_t n)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, name);

	if (!arr)
		return false;
	for (size_t i = 0; i < n; i++) {
		cJSON *item = cJSON_CreateString(s[i]);

		if (!item || !cJSON_AddItemToArray(arr, item)) {
			cJSON_Delete(item);
			return false;
		}
	}
	return true;
}

static bool add_captures(cJSON *root, const struct oom_record *r)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "captures");

	if (!arr)
		return false;
	for (size_t i = 0; i < r->n_captures; i++) {
		const struct oom_record_capture *c = &r->captures[i];
		cJSON *obj = cJSON_CreateObject();
		char id[24];

		if (!obj || !cJSON_AddItemToArray(arr, obj)) {
			cJSON_Delete(obj);
			return false;
		}
		snprintf(id, sizeof(id), "c-%06u", c->job);
		if (!cJSON_AddStringToObject(obj, "id", id) || !cJSON_AddStringToObject(obj, "kind", c->kind ? c->kind : "") ||
		    !add_time(obj, "ended_at", c->ended_at) || !add_strings(obj, "files", c->files, c->n_files))
			return false;
	}
	return true;
}

cJSON *oom_record_build(const struct oom_record *r)
{
	cJSON *root = cJSON_CreateObject(), *victim;
	char ktime[24];
	bool ok;

	if (!root)
		return NULL;
	snprintf(ktime, sizeof(ktime), "%" PRIu64, r->ktime_ns);
	ok = cJSON_AddStringToObject(root, "event", "oom-kill") &&
	     cJSON_AddNumberToObject(root, "pid", r->pid) &&
	     cJSON_AddStringToObject(root, "comm", r->comm ? r->comm : "") &&
	     add_strings(root, "cmdline", (const char *const *)r->argv, (size_t)(r->argc > 0 ? r->argc : 0)) &&
	     cJSON_AddStringToObject(root, "hostname", r->hostname ? r->hostname : "") &&
	     container_add_identity_json(root, r->container) &&
	     cJSON_AddStringToObject(root, "cgroup", r->cgroup ? r->cgroup : "") &&
	     (r->memory_limit ? cJSON_AddNumberToObject(root, "memory_limit_bytes", (double)r->memory_limit)
			      : cJSON_AddNullToObject(root, "memory_limit_bytes")) &&
	     add_time(root, "killed_at", r->killed_at) &&
	     cJSON_AddRawToObject(root, "ktime_ns", ktime) &&
	     cJSON_AddStringToObject(root, "detected_by", oom_detected_by_name(r->detected_by) ?: "");
	if (!ok)
		goto fail;
	if (r->has_victim) {
		ok = (victim = cJSON_AddObjectToObject(root, "victim")) &&
		     cJSON_AddNumberToObject(victim, "rss_bytes", (double)r->rss_at_kill) &&
		     cJSON_AddNumberToObject(victim, "oom_score_adj", r->oom_score_adj) &&
		     cJSON_AddNumberToObject(victim, "invoked_by_pid", r->invoked_by_pid) &&
		     cJSON_AddStringToObject(victim, "invoked_by_comm", r->invoked_by_comm ? r->invoked_by_comm : "");
	} else {
		ok = cJSON_AddNullToObject(root, "victim") != NULL;
	}
	if (!ok)
		goto fail;
	/* Raw: 600 points are 1 200 numbers, printed once by their owner rather than as nodes. */
	if (!cJSON_AddRawToObject(root, "rss_timeline", r->rss_timeline_json ? r->rss_timeline_json : "[]") ||
	    !add_captures(root, r))
		goto fail;
	return root;
fail:
	cJSON_Delete(root);
	return NULL;
}
