/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The agent's API as data: routes, request bodies, the JSON of processes and
 * captures, and the Prometheus text of /metrics. Pure: no sockets.
 * Request bodies come from whoever can reach the socket: checked strictly.
 */
#ifndef INSPECTD_API_JSON_H
#define INSPECTD_API_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "jobs.h"
#include "metrics.h"
#include "processes.h"
#include "outbox.h"
#include "spool.h"

#define API_BODY_MAX (64 * 1024)

enum api_route {
	API_NOT_FOUND,
	API_METHOD_NOT_ALLOWED,
	API_PROCESSES,          /* GET /v1/processes */
	API_CAPTURES_LIST,      /* GET /v1/captures */
	API_CAPTURES_CREATE,    /* POST /v1/captures */
	API_CAPTURE_GET,        /* GET /v1/captures/ID */
	API_CAPTURE_DELETE,     /* DELETE /v1/captures/ID */
	API_METRICS,            /* GET /metrics */
	API_HEALTHZ,            /* GET /healthz */
	API_EXPORTERS,          /* GET /v1/exporters */
};

enum api_method { API_GET, API_POST, API_DELETE, API_OTHER };

/* Route a request; *id receives the capture id for /v1/captures/ID. */
enum api_route api_route(enum api_method method, const char *path, unsigned *id);

struct api_capture_request {
	int pid;
	enum profile_kind kind;
	uint64_t seconds;                               /* 0: not given */
	char categories[CAPTURE_CATEGORIES_MAX];        /* a trace's; "": not given (--trace-categories) */
};

/* {"pid":N,"kind":KIND,"seconds":N,"categories":"a,b"}: kind a profile kind's name (heap when
 * not given); seconds not with an instantaneous kind (a heap snapshot); categories with
 * kind "trace" only, as settings_check_categories() wants them. 0, or -EINVAL with a message
 * for the client. */
int api_parse_capture_request(const char *body, size_t len, struct api_capture_request *req, char *err,
			      size_t err_size);

/* "c-000042" <-> 42 */
void api_job_id(unsigned id, char *buf, size_t size);
int api_parse_job_id(const char *s, unsigned *id);

cJSON *api_job_json(const struct job_view *j);
/* job: the process's queued or active job; NULL when none. */
cJSON *api_process_json(const struct process_view *p, const struct job_view *job);
/* {"error":"..."} as text. */
char *api_error_json(const char *message);

/* What the exporters report (exports__status()): the rows whose name is in remote
 * (the remote exporters') get their delivery metrics. */
struct api_exports_view {
	const struct outbox_status *rows;
	size_t n;
	size_t first_remote;            /* rows from this index on are remote exporters */
	uint64_t spool_bytes;           /* spool__used() */
	int64_t now;                    /* unix s, for the oldest pending's age */
};

/* [{"name":..., "pending":..., ...}] for /v1/exporters. */
cJSON *api_exporters_json(const struct api_exports_view *v);

/* Prometheus text exposition format 0.0.4; output_removed: spool__removed(); derived,
 * n_derived: spool__derive_counts() (files exporters made from profiles, as pprof);
 * exports: may be NULL; syscalls_refused: syscall_filter__refused_total(), or -1 when no
 * filter counts (then no such family). Caller frees. */
char *api_metrics_text(const struct dispatcher_metrics *m, unsigned tracked, unsigned running, unsigned queued,
		       unsigned long output_removed, const struct spool_derive_count *derived, size_t n_derived,
		       const struct api_exports_view *exports, long long syscalls_refused);

#endif
