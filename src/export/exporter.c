// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include "exporter.h"

/* The file exporter: the spool's commit, files and meta.json under their final names. */
static int file_submit(struct spool *spool, struct export_request *req, export_done_fn done, void *ctx)
{
	return spool__commit(spool, req->base, req->files, req->exts, req->n, req->meta_json, done, ctx);
}

static void file_cancel(struct spool *spool, void *ctx)
{
	spool__cancel(spool, ctx);
}

static const struct exporter_ops exporters[] = {
	{ .name = "file", .submit = file_submit, .cancel = file_cancel },
};

const struct exporter_ops *exporter_first(void)
{
	return &exporters[0];
}
