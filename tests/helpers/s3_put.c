// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * s3_put DIR BASE FILE... : one delivery of the S3 exporter, as the outbox would make it,
 * for tests against a real server. The files are DIR's; the last is the commit's
 * meta.json (or a record), parsed for the key and the metadata; the kind is its
 * profile.type, else its event. Settings from the environment: S3_BUCKET, S3_REGION
 * (us-east-1), S3_ENDPOINT, S3_PATH_STYLE (1), S3_PREFIX, S3_PART_SIZE (bytes),
 * S3_HOSTNAME (gethostname()); credentials through aws_creds (AWS_ACCESS_KEY_ID ...).
 * Prints "ok" or "error <errno name> (<-errno>): <err>"; exits 0 or 1. SIGINT sets stop.
 */
#define _GNU_SOURCE             /* strerrorname_np() */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "aws_creds.h"
#include "delivery.h"
#include "s3.h"

extern char **environ;
static atomic_bool stop;

static void on_int(int sig)
{
	atomic_store(&stop, true);
}

static char *slurp(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > (16 << 20) || !(buf = calloc(1, (size_t)st.st_size + 1)))
		return NULL;
	if (read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	return buf;
}

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && v[0] ? v : dflt;
}

int main(int argc, char **argv)
{
	struct delivery_file files[DELIVERY_FILES_MAX];
	struct s3_config cfg = {
		.bucket = getenv("S3_BUCKET"),
		.region = env_or("S3_REGION", "us-east-1"),
		.endpoint = getenv("S3_ENDPOINT"),
		.path_style = strcmp(env_or("S3_PATH_STYLE", "1"), "1") == 0,
		.prefix = getenv("S3_PREFIX"),
		.part_size = strtoull(env_or("S3_PART_SIZE", "0"), NULL, 10),
	};
	char host[256], err[1024] = "", *text;
	struct aws_creds *creds;
	struct delivery d;
	const char *kind;
	cJSON *meta;
	void *state;
	int dirfd, r;

	if (argc < 4 || argc - 3 > DELIVERY_FILES_MAX) {
		fprintf(stderr, "usage: %s DIR BASE FILE... (meta.json last, at most %d)\n", argv[0], DELIVERY_FILES_MAX);
		return 2;
	}
	signal(SIGINT, on_int);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 2;
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || !(text = slurp(dirfd, argv[argc - 1])) || !(meta = cJSON_Parse(text))) {
		fprintf(stderr, "%s: cannot read %s as JSON\n", argv[1], argv[argc - 1]);
		return 2;
	}
	for (int i = 3; i < argc; i++) {
		const char *dot = strncmp(argv[i], argv[2], strlen(argv[2])) == 0 ? argv[i] + strlen(argv[2]) : NULL;

		files[i - 3] = (struct delivery_file){ .name = argv[i], .ext = dot && *dot == '.' ? dot + 1 : "" };
	}
	kind = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(meta, "profile"), "type"));
	if (!kind)
		kind = cJSON_GetStringValue(cJSON_GetObjectItem(meta, "event"));
	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "localhost");
	d = (struct delivery){
		.dirfd = dirfd, .base = argv[2], .kind = kind ? kind : "unknown", .files = files,
		.n_files = (size_t)argc - 3, .meta = meta, .hostname = env_or("S3_HOSTNAME", host), .stop = &stop,
	};
	if ((r = aws_creds__new((const char *const *)environ, &creds)) < 0 ||
	    (r = s3_exporter__new(&cfg, creds, &state)) < 0) {
		fprintf(stderr, "s3_exporter__new: %s\n", strerror(-r));
		return 2;
	}
	r = s3_exporter_ops.deliver(state, &d, err, sizeof(err));
	if (r == 0)
		printf("ok\n");
	else
		printf("error %s (%d): %s\n", strerrorname_np(-r) ?: "?", r, err);
	s3_exporter_ops.free(state);
	cJSON_Delete(meta);
	free(text);
	close(dirfd);
	curl_global_cleanup();
	return r == 0 ? 0 : 1;
}
