// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "exporter.h"
#include "log.h"
#include "pprof.h"

/* The file exporter: the spool's commit, files and meta.json under their final names. */
static int file_submit(struct spool *spool, struct export_request *req, export_done_fn done, void *ctx)
{
	return spool__commit(spool, req->base, req->files, req->exts, req->n, req->meta_json, done, ctx);
}

static void file_cancel(struct spool *spool, void *ctx)
{
	spool__cancel(spool, ctx);
}

/* ---- pprof: the file exporter's commit, with BASE.pb.gz made from the profile ---- */

#define PPROF_EXT "pb.gz"

/* Which profiles convert, by meta.json's profile.type, and where their interval is. */
static const struct {
	const char *type;
	const char *interval_key;
	enum pprof_kind kind;
} pprof_kinds[] = {
	{ "heap-profile", "sampling_interval_bytes", PPROF_HEAP },
	{ "cpu-profile", "sampling_interval_us", PPROF_CPU },
};

/* The converter's arguments, owned by the commit (freed by pprof_arg_free()). */
struct pprof_arg {
	struct pprof_config cfg;
	struct pprof_label labels[4];
	char *strs[4];
};

static void pprof_arg_free(void *p)
{
	struct pprof_arg *a = p;

	if (!a)
		return;
	for (size_t i = 0; i < 4; i++)
		free(a->strs[i]);
	free(a);
}

static int pprof_make(int in_fd, int out_fd, void *arg)
{
	return pprof_convert(in_fd, out_fd, &((struct pprof_arg *)arg)->cfg);
}

static void pprof_noted(void *ctx, int result, const char *from, const char *path)
{
	if (result < 0)
		log_warn("%s: no pprof written (%s): %s, ignoring", from, path, strerror(-result));
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static int add_label(struct pprof_arg *a, const char *key, const char *str)
{
	size_t i = a->cfg.n_labels;

	if (!str)
		return 0;
	if (!(a->strs[i] = strdup(str)))
		return -ENOMEM;
	a->labels[i] = (struct pprof_label){ .key = key, .str = a->strs[i] };
	a->cfg.n_labels++;
	return 0;
}

/* From the capture's meta.json: the converter's arguments, and meta.json listing name. */
static int pprof_prepare(const char *meta_json, const char *name, struct pprof_arg **ret_arg, char **ret_meta)
{
	cJSON *meta = cJSON_Parse(meta_json), *profile, *files, *pid, *interval;
	struct pprof_arg *a = NULL;
	const char *type, *first;
	size_t k;
	int r = -ENOMEM;

	profile = cJSON_GetObjectItemCaseSensitive(meta, "profile");
	type = str_at(meta, "profile", "type");
	for (k = 0; type && k < sizeof(pprof_kinds) / sizeof(pprof_kinds[0]); k++) {
		if (strcmp(type, pprof_kinds[k].type) == 0)
			break;
	}
	if (!meta || !type || k == sizeof(pprof_kinds) / sizeof(pprof_kinds[0])) {
		r = meta ? -EOPNOTSUPP : -EINVAL;
		goto out;
	}
	if (!(a = calloc(1, sizeof(*a))))
		goto out;
	a->cfg.kind = pprof_kinds[k].kind;
	interval = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(profile, "sampling"),
						    pprof_kinds[k].interval_key);
	/* The agent's own meta.json; still, no cast of what does not fit an int64_t. */
	if (cJSON_IsNumber(interval) && interval->valuedouble >= 0 && interval->valuedouble < 9e18)
		a->cfg.interval = (int64_t)interval->valuedouble;
	a->cfg.labels = a->labels;
	pid = cJSON_GetObjectItemCaseSensitive(meta, "pid");
	if (cJSON_IsNumber(pid))
		a->labels[a->cfg.n_labels++] = (struct pprof_label){ .key = "pid", .num = (int64_t)pid->valuedouble };
	if (add_label(a, "container", str_at(meta, "container", "name") ?: str_at(meta, "container", "id")) < 0 ||
	    add_label(a, "pod", str_at(meta, "kubernetes", "pod")) < 0 ||
	    add_label(a, "namespace", str_at(meta, "kubernetes", "namespace")) < 0)
		goto out;

	/* profile.files: the profile's, then BASE.pb.gz; profile.pprof: its name. */
	files = cJSON_GetObjectItemCaseSensitive(profile, "files");
	first = str_at(meta, "profile", "file");
	if (!files) {
		files = cJSON_AddArrayToObject(profile, "files");
		if (!files || (first && !cJSON_AddItemToArray(files, cJSON_CreateString(first))))
			goto out;
	}
	if (!cJSON_AddItemToArray(files, cJSON_CreateString(name)) || !cJSON_AddStringToObject(profile, "pprof", name) ||
	    !(*ret_meta = cJSON_Print(meta)))
		goto out;
	*ret_arg = a;
	a = NULL;
	r = 0;
out:
	pprof_arg_free(a);
	cJSON_Delete(meta);
	return r;
}

/* Whether ext names a file the spool gzipped ("heapsnapshot.gz"). */
static bool compressed(const char *ext)
{
	size_t n = strlen(ext), k = strlen(SPOOL_GZ_SUFFIX);

	return n > k && strcmp(ext + n - k, SPOOL_GZ_SUFFIX) == 0;
}

/*
 * What converts (pprof_kinds[]: the sampling profiles, as V8's JSON) gets its pprof; any
 * other commit (a heap snapshot, an allocation timeline, a trace; a compressed file) is
 * the file exporter's commit alone: nothing tried, nothing counted as failed.
 */
static int pprof_submit(struct spool *spool, struct export_request *req, export_done_fn done, void *ctx)
{
	char name[SPOOL_BASE_SIZE + SPOOL_EXT_SIZE];
	struct pprof_arg *arg = NULL;
	char *meta_with = NULL;
	struct spool_derive d;
	int r;

	snprintf(name, sizeof(name), "%s.%s", req->base, PPROF_EXT);
	r = req->n && !compressed(req->exts[0]) ? pprof_prepare(req->meta_json, name, &arg, &meta_with) : -EOPNOTSUPP;
	if (r < 0) {
		if (r != -EOPNOTSUPP)
			log_warn("%s: no pprof: %s, ignoring", req->base, strerror(-r));
		return file_submit(spool, req, done, ctx);
	}
	d = (struct spool_derive){
		.name = "pprof", .from = 0, .ext = PPROF_EXT, .make = pprof_make, .arg = arg,
		.free_arg = pprof_arg_free, .meta_without = req->meta_json, .noted = pprof_noted,
	};
	req->meta_json = NULL;
	return spool__commit_derived(spool, req->base, req->files, req->exts, req->n, meta_with, &d, done, ctx);
}

static const struct exporter_ops exporters[] = {
	{ .name = "file", .submit = file_submit, .cancel = file_cancel },
	/* The file exporter's commit, with the profile converted to pprof beside it. */
	{ .name = "pprof", .submit = pprof_submit, .cancel = file_cancel },
};

const struct exporter_ops *exporter_first(void)
{
	return &exporters[0];
}

const struct exporter_ops *exporter_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(exporters) / sizeof(exporters[0]); i++) {
		if (name && strcmp(exporters[i].name, name) == 0)
			return &exporters[i];
	}
	return NULL;
}
