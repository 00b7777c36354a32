/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The Grafana Pyroscope exporter: a heap or CPU profile's gzipped pprof (BASE.pb.gz),
 * pushed to Pyroscope's HTTP ingest API as @pyroscope/nodejs pushes its own:
 *
 *   POST <url>/ingest?name=<app>{hostname=…,namespace=…,pod=…,container=…,pid=…}
 *        &from=<unix s>&until=<unix s>&spyName=inspectd[&sampleRate=<Hz>]
 *   Content-Type: multipart/form-data, the pprof in the part "profile" (streamed from the
 *   file, never read whole)
 *
 * No "format" parameter: with it ("pprof") the server wants the bare pprof as the body;
 * without it, a multipart body is read as pprof (pkg/ingester/pyroscope/ingest_handler.go).
 * spyName "inspectd", as the export issue names it: the server keeps it as the series'
 * label pyroscope_spy, so an operator tells the agent's pushes from an SDK's. The price:
 * the server takes a profile's language from it too (pkg/distributor/model/push.go
 * knows "nodespy", @pyroscope/nodejs's, as nodejs), and "inspectd" has none. sampleRate: the
 * server reads the pprof's own period and ignores it for pprof; sent for CPU profiles
 * anyway (1e6 / sampling_interval_us, rounded up), as @pyroscope/nodejs does. No units:
 * the pprof's sample types name them (samples/count, cpu/nanoseconds; inuse_objects/count,
 * inuse_space/bytes), and the server names the series from them (process_cpu, memory).
 *
 * The labels in the name are parsed by Pyroscope without any quoting or escaping
 * (api/model/labelset: a value runs to the next ',' or '}', spaces trimmed; a quote is
 * kept as a character) and a value must be UTF-8: there is no way to quote, so each byte
 * of a value that is not printable ASCII, or is one of { } = , " or a space, becomes '_'.
 * The app name keeps [A-Za-z0-9._-], every other byte '_'. The whole query is
 * percent-encoded.
 */
#ifndef INSPECTD_PYROSCOPE_H
#define INSPECTD_PYROSCOPE_H

#include <stddef.h>
#include <stdint.h>

#include "delivery.h"

struct cJSON;

struct pyroscope_config {
	const char *url;            /* "http(s)://host[:port][/path]", required; /ingest is appended */
	const char *app;            /* NULL: per commit, the container name (meta container.name), else the script
				     * name (the first cmdline argument after node's own options that ends in
				     * .js/.mjs/.cjs, its basename without extension), else "node" */
	const char *basic_user;     /* NULL or basic auth user; password from basic_password_file */
	const char *basic_password_file;
	const char *token_file;     /* NULL or a bearer token file, read when the exporter starts and again when its
				     * mtime changes */
	const char *tenant;         /* NULL or X-Scope-OrgID */
};

extern const struct remote_exporter_ops pyroscope_exporter_ops;

/*
 * The exporter's state (one libcurl easy handle, reused; the secrets read), for
 * pyroscope_exporter_ops. cfg is copied. Files are read here as root: a token or password
 * file may be a symbolic link (a Kubernetes secret's is). Returns 0, -ENOMEM, or -EINVAL
 * with a config error: no url, an url that is not http(s)://, or has credentials, a query
 * or a fragment in it, or is longer than PYROSCOPE_BASE_URL_MAX; basic_user without
 * basic_password_file or both basic and token; a password or token file unreadable,
 * empty, larger than PYROSCOPE_SECRET_MAX or with a control character (CR, LF...) inside
 * what is left after trimming; a tenant that Pyroscope would refuse (dskit's rule: only
 * A-Z a-z 0-9 and !-_.*'(), at most PYROSCOPE_TENANT_MAX bytes, not "." or "..").
 */
int pyroscope_exporter__new(const struct pyroscope_config *cfg, void **ret_state);

/* ---- pure parts, tested alone ---- */

#define PYROSCOPE_BASE_URL_MAX   2048
#define PYROSCOPE_URL_MAX        8192   /* the whole ingest URL, NUL included */
#define PYROSCOPE_APP_MAX        128    /* bytes of an app name, longer ones are cut */
#define PYROSCOPE_LABEL_MAX      256    /* bytes of a label value, longer ones are cut */
#define PYROSCOPE_SECRET_MAX     16384  /* a token or password file */
#define PYROSCOPE_TENANT_MAX     150    /* Pyroscope's own limit on a tenant id */

/* What one push says about its profile. */
struct pyroscope_push {
	const char *app;            /* sanitized by pyroscope_ingest_url() */
	const char *hostname;       /* the labels, NULL or "": omitted */
	const char *namespace;
	const char *pod;
	const char *container;
	int64_t pid;                /* <= 0: omitted */
	int64_t from, until;        /* unix seconds */
	uint32_t sample_rate;       /* Hz; 0: omitted */
};

/*
 * "<base>/ingest?name=…&from=…&until=…&spyName=inspectd[&sampleRate=…]" into buf (size
 * bytes); base without a trailing '/' (one is dropped); p not NULL. Returns the length,
 * -EINVAL (no app, or nothing of it left), -ENAMETOOLONG (does not fit size).
 */
int pyroscope_ingest_url(const char *base, const struct pyroscope_push *p, char *buf, size_t size);

/* s as an app name: [A-Za-z0-9._-] kept, any other byte '_', cut to PYROSCOPE_APP_MAX
 * and size - 1. Returns the length; 0 (buf "") for NULL or "". */
size_t pyroscope_app_sanitize(const char *s, char *buf, size_t size);

/* s as a label value: printable ASCII kept but for { } = , " and space; any other byte
 * '_'; cut to PYROSCOPE_LABEL_MAX and size - 1. Returns the length. */
size_t pyroscope_label_sanitize(const char *s, char *buf, size_t size);

/*
 * The app name when none is configured, from meta.json: container.name, else the script
 * of cmdline (skipping node's options and the values of those that take one: -r x,
 * --require x, --import x, --loader x...; none after -e, -p or their long forms) when it
 * ends in .js, .mjs or .cjs: its basename without that; else "node". Sanitized as
 * pyroscope_app_sanitize(); "node" when nothing is left. size >= 5.
 */
void pyroscope_app_default(const struct cJSON *meta, char *buf, size_t size);

/*
 * "YYYY-MM-DDTHH:MM:SS[.f…]Z" (UTC, as meta_format_rfc3339() writes it; 1 to 9 digits of
 * fraction) to unix seconds (the fraction dropped: floor) and nanoseconds. Years 1970 to
 * 9999, days checked against their month. 0, or -EINVAL for anything else.
 */
int pyroscope_parse_time(const char *s, int64_t *ret_sec, long *ret_nsec);

#endif
