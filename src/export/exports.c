// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws_creds.h"
#include "exports.h"
#include "log.h"
#include "pyroscope.h"
#include "s3.h"

extern char **environ;

struct exports {
	const struct settings *st;
	struct spool *spool;
	struct outbox *outbox;          /* NULL: no remote exporter */
	uint64_t committed;             /* commits landed since start: the file exporter's "delivered" */
};

/* ---- the remote exporters, a table ---- */

static bool s3_enabled(const struct settings *st)
{
	return st->s3_bucket != NULL;
}

static int s3_open(const struct settings *st, void **state, char *why, size_t size)
{
	const char *region = st->s3_region ?: getenv("AWS_REGION") ?: getenv("AWS_DEFAULT_REGION");
	struct s3_config cfg = {
		.bucket = st->s3_bucket, .region = region, .endpoint = st->s3_endpoint, .path_style = st->s3_path_style,
		.prefix = st->s3_prefix, .part_size = st->s3_part_size,
	};
	struct aws_creds *creds;
	int r;

	if (!region || !region[0]) {
		snprintf(why, size, "--s3-bucket needs a region: --s3-region, or AWS_REGION in the environment");
		return -EINVAL;
	}
	r = aws_creds__new((const char *const *)environ, &creds);
	if (r < 0) {
		snprintf(why, size, "cannot set up the AWS credential chain: %s", strerror(-r));
		return r;
	}
	r = s3_exporter__new(&cfg, creds, state);       /* creds consumed */
	if (r < 0)
		snprintf(why, size, "invalid S3 settings (bucket '%s', region '%s', endpoint '%s'): %s", st->s3_bucket,
			 region, st->s3_endpoint ?: "AWS", strerror(-r));
	return r;
}

static bool pyroscope_enabled(const struct settings *st)
{
	return st->pyroscope_url != NULL;
}

static int pyroscope_open(const struct settings *st, void **state, char *why, size_t size)
{
	struct pyroscope_config cfg = {
		.url = st->pyroscope_url, .app = st->pyroscope_app, .basic_user = st->pyroscope_user,
		.basic_password_file = st->pyroscope_password_file, .token_file = st->pyroscope_token_file,
		.tenant = st->pyroscope_tenant,
	};
	int r = pyroscope_exporter__new(&cfg, state);

	if (r < 0)
		snprintf(why, size, "invalid Pyroscope settings (--pyroscope-url '%s'%s%s): %s", st->pyroscope_url,
			 st->pyroscope_token_file ? ", --pyroscope-token-file " : "",
			 st->pyroscope_token_file ?: "", strerror(-r));
	return r;
}

static const struct remote_entry {
	const struct remote_exporter_ops *ops;
	bool (*enabled)(const struct settings *st);
	int (*open)(const struct settings *st, void **state, char *why, size_t size);
} remotes[] = {
	{ &s3_exporter_ops, s3_enabled, s3_open },
	{ &pyroscope_exporter_ops, pyroscope_enabled, pyroscope_open },
};

/* ---- what happened, one line each ---- */

static void noted(void *ctx, const struct outbox_event *ev)
{
	struct exports *ex = ctx;

	switch (ev->kind) {
	case OUTBOX_DELIVERED:
		if (ev->attempts > 1)
			log_info("%s: delivered %s after %u attempts", ev->exporter, ev->base, ev->attempts);
		else
			log_info("%s: delivered %s", ev->exporter, ev->base);
		break;
	case OUTBOX_RETRY:
		/* The first failure of a commit says so; its retries are debug. */
		log_emit(ev->attempts == 1 ? LOG_LEVEL_WARN : LOG_LEVEL_DEBUG,
			 "%s: %s not delivered (attempt %u): %s; trying again in %.1f s", ev->exporter, ev->base,
			 ev->attempts, ev->error[0] ? ev->error : strerror(-ev->result), (double)ev->delay_ms / 1000);
		break;
	case OUTBOX_GAVE_UP:
		log_error("%s: %s given up after %u attempts (--export-retry-max): %s; it stays in the output folder",
			  ev->exporter, ev->base, ev->attempts, ev->error[0] ? ev->error : "no attempt succeeded");
		break;
	case OUTBOX_UNREADABLE:
		log_warn("%s: %s is not a commit the agent can read (%s): left alone, ignoring", ev->exporter, ev->base,
			 strerror(-ev->result));
		break;
	case OUTBOX_REMOVED:
		spool__uncount(ex->spool, ev->bytes);
		log_info("%s: delivered everywhere, removed from the output folder (%llu bytes; --keep-local keeps them)",
			 ev->base, (unsigned long long)ev->bytes);
		break;
	default:
		break;
	}
}

static void committed(void *ctx, const char *base, int64_t at)
{
	struct exports *ex = ctx;

	ex->committed++;
	outbox__committed(ex->outbox, base, at);
}

static void removed(void *ctx, const char *base, int rank, unsigned long n)
{
	struct exports *ex = ctx;
	unsigned long long quota = (unsigned long long)ex->st->output_quota_bytes;

	outbox__forget(ex->outbox, base);       /* its markers go with it */
	if (!base) {
		log_warn("removed %lu more commits from the output folder to stay under --spool-max-bytes %llu",
			 n, quota);
	} else if (rank == 0 && ex->outbox) {
		log_info("removed %s (delivered) from the output folder to stay under --spool-max-bytes %llu",
			 base, quota);
	} else if (ex->outbox) {
		log_warn("removed %s from the output folder before it was delivered, to stay under "
			 "--spool-max-bytes %llu", base, quota);
	} else {
		log_info("removed %s, the oldest profile, from the output folder to stay under --spool-max-bytes %llu",
			 base, quota);
	}
}

static int rank(void *arg, const char *base)
{
	struct exports *ex = arg;

	/* On the spool's thread; ex->outbox is set before the first commit and not after. */
	return outbox__rank(ex->outbox, base);
}

/* ---- the agent's side ---- */

int exports__new(const struct settings *st, const char *hostname, struct spool *spool, struct exports **ret,
		 char *why, size_t size)
{
	struct outbox_config cfg = {
		.dir = spool__dir(spool), .hostname = hostname, .keep_local = st->keep_local,
		.retry_initial_ms = st->export_retry_initial_usec / 1000, .retry_max_ms = st->export_retry_max_usec / 1000,
		.noted = noted,
	};
	struct exports *ex = calloc(1, sizeof(*ex));
	int r = 0;

	if (!ex) {
		snprintf(why, size, "out of memory");
		return -ENOMEM;
	}
	ex->st = st;
	ex->spool = spool;
	cfg.ctx = ex;
	for (size_t i = 0; i < sizeof(remotes) / sizeof(remotes[0]); i++) {
		void *state = NULL;

		if (!remotes[i].enabled(st))
			continue;
		r = remotes[i].open(st, &state, why, size);
		if (r < 0)
			break;
		cfg.remotes[cfg.n_remotes++] = (struct outbox_remote){ .ops = remotes[i].ops, .state = state };
	}
	if (r < 0) {
		for (size_t i = 0; i < cfg.n_remotes; i++)
			cfg.remotes[i].ops->free(cfg.remotes[i].state);
		free(ex);
		return r;
	}
	if (cfg.n_remotes) {
		r = outbox__new(&cfg, &ex->outbox);     /* the states consumed */
		if (r < 0) {
			snprintf(why, size, "cannot start the remote exporters on %s/%s: %s", spool__dir(spool),
				 OUTBOX_DIR, r == -EPERM ? "it is not root's alone" : strerror(-r));
			free(ex);
			return r;
		}
		spool__set_rank(spool, rank, ex);
	}
	spool__observe(spool, &(struct spool_observer){ .committed = committed, .removed = removed, .ctx = ex });
	*ret = ex;
	return 0;
}

int exports__fd(const struct exports *ex)
{
	return ex && ex->outbox ? outbox__fd(ex->outbox) : -1;
}

void exports__dispatch(struct exports *ex)
{
	if (ex && ex->outbox)
		outbox__dispatch(ex->outbox);
}

size_t exports__status(struct exports *ex, struct outbox_status *out, size_t max, size_t *first_remote)
{
	const struct spool_derive_count *derived = NULL;
	size_t n = 0, nd;

	*first_remote = 0;
	if (!ex || max == 0)
		return 0;
	out[n++] = (struct outbox_status){ .name = "file", .delivered = ex->committed };
	nd = spool__derive_counts(ex->spool, &derived);
	for (size_t i = 0; i < nd && n < max; i++)
		out[n++] = (struct outbox_status){ .name = derived[i].name, .delivered = derived[i].written,
						   .failed = derived[i].failed };
	*first_remote = n;
	if (ex->outbox && n < max)
		n += outbox__status(ex->outbox, out + n, max - n);
	return n;
}

void exports__free(struct exports *ex)
{
	if (!ex)
		return;
	/* After spool__free(): its thread may ask rank() until then. */
	outbox__free(ex->outbox);
	free(ex);
}
