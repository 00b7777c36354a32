// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "meta.h"

int meta_format_rfc3339(struct timespec ts, char *buf, size_t size)
{
	struct tm tm;
	char sec[32];
	int n;

	if (!gmtime_r(&ts.tv_sec, &tm) || strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return -EINVAL;
	n = snprintf(buf, size, "%s.%03ldZ", sec, ts.tv_nsec / 1000000);
	return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}

static bool part_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

int meta_file_part(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	if (!s || size < 2)
		return -EINVAL;
	for (; *s && n < META_FILE_PART_MAX && n < size - 1; s++) {
		if (part_char(*s))
			buf[n++] = *s;
		else if (n == 0 || buf[n - 1] != '_')
			buf[n++] = '_';         /* a run of anything else: one '_' */
	}
	buf[n] = '\0';
	if (n == 0 || strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0 || strcmp(buf, "_") == 0) {
		buf[0] = '\0';
		return -EINVAL;
	}
	return 0;
}

int meta_file_base(const char *prefix, const char *container, int pid, time_t when, char *buf, size_t size)
{
	char stamp[32], part[META_FILE_PART_MAX + 2] = "";
	struct tm tm;
	int n;

	if (!gmtime_r(&when, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return -EINVAL;
	if (container && meta_file_part(container, part + 1, sizeof(part) - 1) == 0)
		part[0] = '-';
	n = snprintf(buf, size, "%s%s-%d-%s", prefix, part, pid, stamp);
	return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/* "<prefix>": a kind's type, lowercase letters and dashes. */
static bool is_prefix(const char *p, size_t n)
{
	if (n == 0 || p[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || p[i] == '-'))
			return false;
	return true;
}

/* What meta_file_part() makes. */
static bool is_part(const char *p, size_t n)
{
	if (n == 0 || n > META_FILE_PART_MAX || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!part_char(p[i]))
			return false;
	return true;
}

bool meta_is_file_base(const char *base)
{
	const char *p, *dash = strrchr(base, '-');
	size_t n = strlen(base), k;

	/* spool__reserve_base()'s "-1" to "-999", when the stamp itself was taken. */
	if (dash && dash[1] != '0' && strlen(dash + 1) <= 3 && digits(dash + 1, strlen(dash + 1)))
		n = (size_t)(dash - base);
	/* "-yyyymmddTHHMMSSZ" */
	if (n < 17 || base[n - 17] != '-' || !digits(base + n - 16, 8) || base[n - 8] != 'T' ||
	    !digits(base + n - 7, 6) || base[n - 1] != 'Z')
		return false;
	n -= 17;
	/* "-<pid>" */
	for (k = 0; k < n && base[n - 1 - k] >= '0' && base[n - 1 - k] <= '9'; k++)
		;
	if (k == 0 || k > 10 || k == n || base[n - 1 - k] != '-')
		return false;
	n -= k + 1;
	/* "<prefix>" or "<prefix>-<container>" */
	if (is_prefix(base, n))
		return true;
	for (p = base; p < base + n; p++)
		if (*p == '-' && is_prefix(base, (size_t)(p - base)) && is_part(p + 1, (size_t)(base + n - p - 1)))
			return true;
	return false;
}

static cJSON *add_time(cJSON *obj, const char *name, struct timespec ts)
{
	char buf[64];

	if (meta_format_rfc3339(ts, buf, sizeof(buf)) < 0)
		return cJSON_AddNullToObject(obj, name);
	return cJSON_AddStringToObject(obj, name, buf);
}

cJSON *meta_build(const struct meta_process *p, const struct meta_trigger *t, const struct meta_profile *prof)
{
	cJSON *root = cJSON_CreateObject(), *argv, *trigger, *profile, *sampling;
	char ktime[24];
	bool ok;

	if (!root)
		return NULL;
	ok = cJSON_AddNumberToObject(root, "pid", p->pid) &&
	     cJSON_AddStringToObject(root, "comm", p->comm ? p->comm : "") &&
	     (argv = cJSON_AddArrayToObject(root, "cmdline")) &&
	     cJSON_AddStringToObject(root, "exe", p->exe ? p->exe : "") &&
	     (p->node_version ? cJSON_AddStringToObject(root, "node_version", p->node_version)
			      : cJSON_AddNullToObject(root, "node_version")) &&
	     cJSON_AddStringToObject(root, "hostname", p->hostname ? p->hostname : "") &&
	     (p->ns_pid > 0 ? cJSON_AddNumberToObject(root, "ns_pid", p->ns_pid) : cJSON_AddNullToObject(root, "ns_pid")) &&
	     (p->boot_id && p->boot_id[0] ? cJSON_AddStringToObject(root, "boot_id", p->boot_id)
					  : cJSON_AddNullToObject(root, "boot_id")) &&
	     container_add_identity_json(root, p->container);
	if (!ok)
		goto fail;
	for (int i = 0; i < p->argc; i++) {
		cJSON *arg = cJSON_CreateString(p->argv[i]);

		if (!arg || !cJSON_AddItemToArray(argv, arg)) {
			cJSON_Delete(arg);
			goto fail;
		}
	}

	ok = (trigger = cJSON_AddObjectToObject(root, "trigger")) &&
	     cJSON_AddStringToObject(trigger, "kind", t->kind);
	if (!ok)
		goto fail;
	if (t->signal) {
		ok = cJSON_AddStringToObject(trigger, "signal", t->signal) &&
		     cJSON_AddNumberToObject(trigger, "sender_pid", t->sender_pid) &&
		     cJSON_AddNumberToObject(trigger, "sender_ns_pid", t->sender_ns_pid) &&
		     cJSON_AddStringToObject(trigger, "sender_comm", t->sender_comm ? t->sender_comm : "");
		if (!ok)
			goto fail;
	}
	/* A double would lose nanoseconds after 104 days of uptime: print the integer. */
	snprintf(ktime, sizeof(ktime), "%" PRIu64, t->ktime_ns);
	ok = cJSON_AddRawToObject(trigger, "ktime_ns", ktime) &&
	     cJSON_AddNumberToObject(trigger, "latency_ms", t->latency_ms) &&
	     cJSON_AddNumberToObject(trigger, "queued_ms", t->queued_ms);
	if (!ok)
		goto fail;

	if (t->has_threshold) {
		ok = cJSON_AddNumberToObject(trigger, "threshold", t->threshold) &&
		     cJSON_AddNumberToObject(trigger, "observed", t->observed) &&
		     cJSON_AddStringToObject(trigger, "unit", t->unit ? t->unit : "") &&
		     cJSON_AddStringToObject(trigger, "detected_by", t->detected_by ? t->detected_by : "");
		if (!ok)
			goto fail;
	}

	ok = (profile = cJSON_AddObjectToObject(root, "profile")) &&
	     cJSON_AddStringToObject(profile, "type", prof->type) &&
	     add_time(profile, "started_at", prof->started_at) &&
	     add_time(profile, "ended_at", prof->ended_at) &&
	     cJSON_AddStringToObject(profile, "stop_reason", prof->stop_reason ? prof->stop_reason : "") &&
	     (prof->requested_duration_usec
		      ? cJSON_AddNumberToObject(profile, "requested_duration_ms", prof->requested_duration_usec / 1e3)
		      : cJSON_AddNullToObject(profile, "requested_duration_ms")) &&
	     (!prof->interval_name ||
	      ((sampling = cJSON_AddObjectToObject(profile, "sampling")) &&
	       cJSON_AddNumberToObject(sampling, prof->interval_name, (double)prof->interval)));
	if (!ok)
		goto fail;
	return root;
fail:
	cJSON_Delete(root);
	return NULL;
}
