// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Two tables of tenants (tenants.h) are the caps, a third the tenants told they are over
 * one this hour; the record is gathered from the process table and built by oom_record.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "meta.h"
#include "oom_kills.h"
#include "procfs.h"
#include "processes.h"
#include "profile.h"
#include "rss_timeline.h"
#include "tenants.h"

#define OOM_ARGS_MAX    256
#define HOST_KEY        "host"

struct oom_kills {
	struct spool *spool;            /* borrowed */
	const char *hostname;           /* borrowed */
	const struct cgroup_roots *roots;       /* borrowed */
	spool_done_fn done;
	void *ctx;
	struct tenants *per_tenant;     /* records per tenant per hour */
	struct tenants *host;           /* ... and of the host, as one tenant */
	struct tenants *told;           /* tenants over a cap, once an hour */
};

static const char *const outcome_names[_OOM_KILL_OUTCOME_MAX] = {
	[OOM_KILL_WRITTEN] = "written",
	[OOM_KILL_LIMITED] = "limited",
	[OOM_KILL_FAILED] = "failed",
};

const char *oom_kill_outcome_name(enum oom_kill_outcome o)
{
	return (unsigned)o < _OOM_KILL_OUTCOME_MAX ? outcome_names[o] : NULL;
}

struct oom_kills *oom_kills__new(struct spool *spool, const char *hostname, const struct cgroup_roots *roots,
				 spool_done_fn done, void *ctx)
{
	struct oom_kills *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	*k = (struct oom_kills){ .spool = spool, .hostname = hostname, .roots = roots, .done = done, .ctx = ctx };
	k->per_tenant = tenants__new(OOM_KILLS_PER_CONTAINER_HOUR);
	k->host = tenants__new(OOM_KILLS_PER_HOUR);
	k->told = tenants__new(1);
	if (!k->per_tenant || !k->host || !k->told) {
		oom_kills__free(k);
		return NULL;
	}
	return k;
}

void oom_kills__free(struct oom_kills *k)
{
	if (!k)
		return;
	if (k->spool)
		spool__cancel(k->spool, k);     /* records in flight */
	tenants__free(k->per_tenant);
	tenants__free(k->host);
	tenants__free(k->told);
	free(k);
}

int oom_kills__take(struct oom_kills *k, const char *tenant, uint64_t now_usec, bool *ret_first)
{
	int r;

	*ret_first = false;
	if (!tenants__fits(k->host, HOST_KEY, now_usec)) {
		r = -EDQUOT;
	} else {
		r = tenants__take(k->per_tenant, tenant, now_usec);
		if (r == 0)
			r = tenants__take(k->host, HOST_KEY, now_usec);     /* fits: checked */
	}
	if (r == -EDQUOT)
		*ret_first = tenants__take(k->told, tenant, now_usec) == 0;
	return r;
}

void oom_kills__expire(struct oom_kills *k, uint64_t now_usec)
{
	tenants__expire(k->per_tenant, now_usec);
	tenants__expire(k->host, now_usec);
	tenants__expire(k->told, now_usec);
}

static void written(void *ctx, int result, const char *const *paths, size_t n_paths)
{
	struct oom_kills *k = ctx;

	if (k->done)
		k->done(k->ctx, result, paths, n_paths);
}

struct oom_captures {
	struct oom_record_capture list[PROCESS_CAPTURES_MAX];
	size_t n;
	time_t since;                   /* CLOCK_REALTIME seconds: the timeline's window */
};

static void add_capture(void *ctx, const struct process_capture *c)
{
	struct oom_captures *oc = ctx;
	struct oom_record_capture *rc;

	if (oc->n == PROCESS_CAPTURES_MAX || c->ended_at.tv_sec < oc->since)
		return;
	rc = &oc->list[oc->n++];
	*rc = (struct oom_record_capture){
		.job = c->job, .kind = profile_kind_name((enum profile_kind)c->kind), .ended_at = c->ended_at,
		.files = (const char *const *)c->files,
	};
	while (rc->n_files < PROCESS_CAPTURE_FILES && c->files[rc->n_files])
		rc->n_files++;
}

/* The limit in force now, read again from p's cgroup (it may have changed since); else as last read. */
static uint64_t limit_now(const struct oom_kills *k, const struct process *p)
{
	const char *v1, *v2;
	uint64_t limit = 0;

	process__cgroup_paths(p, &v1, &v2);
	if ((v1[0] || v2[0]) && cgroup_memory_limit(k->roots, v1, v2, &limit, NULL, 0) == 0)
		return limit;
	return process__memory_limit(p);
}

/* Build the record of p's OOM kill and hand it to the spool's thread: 0 or -errno. */
static int write_record(struct oom_kills *k, const struct processes *ps, struct process *p,
			const struct inspectd_event *e, enum oom_detected_by by, char *name, size_t name_size)
{
	struct oom_record rec = {
		.pid = (int)process__pid(p), .comm = process__comm(p), .hostname = k->hostname,
		.container = process__container(p), .ktime_ns = e->ktime_ns, .detected_by = by,
	};
	struct process_view view;
	struct oom_captures oc = { .n = 0 };
	struct timespec mono;
	char *argv[OOM_ARGS_MAX], *cmdline = NULL, *timeline = NULL, *text = NULL;
	char comm[INSPECTD_COMM_LEN], base[SPOOL_BASE_SIZE], stamp[SPOOL_BASE_SIZE];
	const char *ext = OOM_RECORD_EXT, *args;
	int64_t offset_ms;
	size_t len;
	cJSON *doc = NULL;
	int r = -ENOMEM;

	if (!k->spool)
		return -EINVAL;
	clock_gettime(CLOCK_REALTIME, &rec.killed_at);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	offset_ms = ((int64_t)rec.killed_at.tv_sec - (int64_t)mono.tv_sec) * 1000 +
		    ((int64_t)rec.killed_at.tv_nsec - (int64_t)mono.tv_nsec) / 1000000;
	if (by == OOM_BY_MARK_VICTIM) {
		rec.has_victim = true;
		rec.rss_at_kill = e->value;
		rec.oom_score_adj = e->result;
		rec.invoked_by_pid = e->sender_pid;
		memcpy(comm, e->sender_comm, sizeof(comm));
		comm[sizeof(comm) - 1] = '\0';
		rec.invoked_by_comm = comm;
		/* The kernel's figure at the kill is the timeline's last point. */
		if (e->value)
			process__push_rss(p, e->ktime_ns / 1000000000, e->value);
	}
	processes__view(ps, p, &view);
	rec.cgroup = view.cgroup;
	rec.memory_limit = limit_now(k, p);

	args = process__cmdline(p, &len);
	if (len) {
		cmdline = malloc(len + 1);
		if (!cmdline)
			goto out;
		memcpy(cmdline, args, len);
		cmdline[len] = '\0';
		rec.argc = procfs_split_cmdline(cmdline, len, argv, OOM_ARGS_MAX);
		rec.argv = argv;
	}
	if (process__timeline(p)) {
		r = rss_timeline_format_json(process__timeline(p), (uint64_t)mono.tv_sec, offset_ms, &timeline);
		if (r < 0)
			goto out;
		rec.rss_timeline_json = timeline;
	}
	oc.since = rec.killed_at.tv_sec - RSS_TIMELINE_SECONDS;
	process__foreach_capture(p, add_capture, &oc);
	rec.captures = oc.list;
	rec.n_captures = oc.n;

	r = -ENOMEM;
	doc = oom_record_build(&rec);
	if (!doc || !(text = cJSON_PrintUnformatted(doc)))
		goto out;
	r = meta_file_base(OOM_RECORD_PREFIX, container_display_name(rec.container), rec.pid, rec.killed_at.tv_sec, stamp,
			   sizeof(stamp));
	if (r == 0)
		r = spool__reserve_base(k->spool, stamp, &ext, 1, base, sizeof(base));
	if (r == 0) {
		r = spool__commit_record(k->spool, base, OOM_RECORD_EXT, text, written, k);
		text = NULL;    /* consumed */
	}
	if (r == 0)
		snprintf(name, name_size, "%s.%s", base, OOM_RECORD_EXT);
out:
	cJSON_Delete(doc);
	free(text);
	free(timeline);
	free(cmdline);
	return r;
}

int oom_kills__record(struct oom_kills *k, const struct processes *ps, struct process *p,
		      const struct inspectd_event *e, enum oom_detected_by by, uint64_t now_usec,
		      struct oom_kill_result *ret)
{
	int r;

	*ret = (struct oom_kill_result){ .outcome = OOM_KILL_FAILED };
	r = oom_kills__take(k, process__tenant(p), now_usec, &ret->first_limited);
	if (r == -EDQUOT) {
		ret->outcome = OOM_KILL_LIMITED;
		return 0;
	}
	if (r == 0)
		r = write_record(k, ps, p, e, by, ret->name, sizeof(ret->name));
	if (r < 0)
		return r;
	ret->outcome = OOM_KILL_WRITTEN;
	return 0;
}
