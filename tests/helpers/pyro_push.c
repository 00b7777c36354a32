// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * One commit of an output folder pushed by the Pyroscope exporter, as the outbox's
 * thread would push it: the folder's BASE.* files (BASE.meta.json last), meta.json parsed,
 * the commit time its mtime. Prints what wants() and deliver() said.
 *
 *   pyro_push [-a APP] [-u USER -p PASSWORD_FILE] [-t TOKEN_FILE] [-T TENANT] [-H HOSTNAME]
 *             [-n TIMES] [-s SECONDS] URL DIR BASE
 *
 * -s: set the stop flag after SECONDS (deliver() should then end with -ECANCELED).
 * -n: deliver TIMES times, the second and later each after a line read from stdin (a
 * test changes the token file in between).
 *
 * Exit status: 0 delivered, 1 not delivered, 2 usage or setup.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "delivery.h"
#include "pyroscope.h"

static atomic_bool stop;

static void on_alarm(int sig)
{
	atomic_store(&stop, true);
}

static char *read_all(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	char *buf;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > (1 << 24))
		return NULL;
	buf = calloc(1, (size_t)st.st_size + 1);
	if (buf && read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	return buf;
}

int main(int argc, char **argv)
{
	struct pyroscope_config cfg = { 0 };
	struct delivery_file files[DELIVERY_FILES_MAX];
	char names[DELIVERY_FILES_MAX][256], meta_name[256], host[256] = "", err[1024] = "";
	const char *hostname = NULL, *base, *dir;
	struct delivery d = { 0 };
	size_t n = 0, blen;
	struct dirent *e;
	struct stat st;
	void *state;
	char *text;
	DIR *dp;
	int opt, r = -EINVAL, times = 1;

	while ((opt = getopt(argc, argv, "a:u:p:t:T:H:n:s:")) != -1) {
		switch (opt) {
		case 'a': cfg.app = optarg; break;
		case 'u': cfg.basic_user = optarg; break;
		case 'p': cfg.basic_password_file = optarg; break;
		case 't': cfg.token_file = optarg; break;
		case 'T': cfg.tenant = optarg; break;
		case 'H': hostname = optarg; break;
		case 'n': times = atoi(optarg); break;
		case 's': signal(SIGALRM, on_alarm); alarm((unsigned)atoi(optarg)); break;
		default: goto usage;
		}
	}
	if (argc - optind != 3)
		goto usage;
	cfg.url = argv[optind];
	dir = argv[optind + 1];
	base = argv[optind + 2];
	blen = strlen(base);
	if (!hostname) {
		gethostname(host, sizeof(host) - 1);
		hostname = host;
	}

	d.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d.dirfd < 0 || !(dp = fdopendir(dup(d.dirfd)))) {
		perror(dir);
		return 2;
	}
	snprintf(meta_name, sizeof(meta_name), "%s.meta.json", base);
	while ((e = readdir(dp)) && n < DELIVERY_FILES_MAX - 1) {
		if (strncmp(e->d_name, base, blen) != 0 || e->d_name[blen] != '.' || strcmp(e->d_name, meta_name) == 0 ||
		    fstatat(d.dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		snprintf(names[n], sizeof(names[n]), "%s", e->d_name);
		files[n] = (struct delivery_file){ .name = names[n], .ext = names[n] + blen + 1,
						   .size = (uint64_t)st.st_size };
		n++;
	}
	closedir(dp);
	if (fstatat(d.dirfd, meta_name, &st, 0) < 0 || !(text = read_all(d.dirfd, meta_name))) {
		perror(meta_name);
		return 2;
	}
	snprintf(names[n], sizeof(names[n]), "%s", meta_name);
	files[n] = (struct delivery_file){ .name = names[n], .ext = names[n] + blen + 1, .size = (uint64_t)st.st_size };
	n++;
	d.meta = cJSON_Parse(text);
	free(text);
	if (!d.meta) {
		fprintf(stderr, "%s: not JSON\n", meta_name);
		return 2;
	}
	d.base = base;
	d.kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(d.meta, "profile"), "type"));
	d.files = files;
	d.n_files = n;
	d.hostname = hostname;
	d.committed_at = st.st_mtim.tv_sec;
	d.stop = &stop;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 2;
	r = pyroscope_exporter__new(&cfg, &state);
	if (r < 0) {
		fprintf(stderr, "pyroscope_exporter__new: %s\n", strerror(-r));
		return 2;
	}
	for (size_t i = 0; i < n; i++)
		printf("file %s ext=%s size=%llu\n", files[i].name, files[i].ext, (unsigned long long)files[i].size);
	printf("wants %s\n", pyroscope_exporter_ops.wants(&d) ? "yes" : "no");
	for (int i = 0; i < times; i++) {
		char line[64];

		if (i && !fgets(line, sizeof(line), stdin))
			break;
		err[0] = '\0';
		r = pyroscope_exporter_ops.deliver(state, &d, err, sizeof(err));
		printf("deliver %d (%s)%s%s\n", r, r ? strerror(-r) : "delivered", err[0] ? " err=" : "", err);
		fflush(stdout);
	}
	pyroscope_exporter_ops.free(state);
	cJSON_Delete((cJSON *)d.meta);
	close(d.dirfd);
	curl_global_cleanup();
	return r == 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: pyro_push [-a APP] [-u USER -p PASSWORD_FILE] [-t TOKEN_FILE] [-T TENANT] "
			"[-H HOSTNAME] [-n TIMES] [-s SECONDS] URL DIR BASE\n");
	return 2;
}
