// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * make bench: the pprof conversion (pprof_convert(), as the spool's thread runs it for
 * --pprof) of generated V8 profiles of the real shape: .cpuprofile of about 5, 20 and
 * 50 MB (20 000 nodes in a tree, then samples and timeDeltas), and a .heapprofile of
 * about 50 MB (nested nodes, then samples). Each conversion runs in a child of its own:
 * its time (MB/s of input) and its peak RSS (ru_maxrss), beside an idle child's, show
 * that memory follows the nodes, not the input's size. Usage: pprof_bench [DIR]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pprof.h"

#define NODES 20000

static unsigned long long rnd = 88172645463325252ull;

static unsigned next_rand(void)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	return (unsigned)rnd;
}

static void cpu_profile(const char *path, size_t samples)
{
	FILE *f = fopen(path, "we");
	size_t *first_child = calloc(NODES + 1, sizeof(size_t)), *next = calloc(NODES + 1, sizeof(size_t));

	if (!f || !first_child || !next) {
		perror(path);
		exit(1);
	}
	/* node i's parent: an earlier node */
	for (size_t i = NODES; i >= 2; i--) {
		size_t p = 1 + next_rand() % (i - 1);

		next[i] = first_child[p];
		first_child[p] = i;
	}
	fputs("{\"nodes\":[", f);
	for (size_t i = 1; i <= NODES; i++) {
		fprintf(f, "%s{\"id\":%zu,\"callFrame\":{\"functionName\":\"%s%zu\",\"scriptId\":\"%zu\","
			   "\"url\":\"file:///srv/app/node_modules/pkg%zu/lib/index.js\",\"lineNumber\":%zu,"
			   "\"columnNumber\":%zu},\"hitCount\":0",
			i > 1 ? "," : "", i, i == 1 ? "(root)" : "fn", i == 1 ? 0 : i % 5000, i % 300, i % 300,
			i % 2000, i % 40);
		if (first_child[i]) {
			fputs(",\"children\":[", f);
			for (size_t c = first_child[i]; c; c = next[c])
				fprintf(f, "%zu%s", c, next[c] ? "," : "");
			fputc(']', f);
		}
		fputc('}', f);
	}
	fputs("],\"startTime\":1000,\"endTime\":999000000,\"samples\":[", f);
	for (size_t i = 0; i < samples; i++)
		fprintf(f, "%s%u", i ? "," : "", 2 + next_rand() % (NODES - 1));
	fputs("],\"timeDeltas\":[", f);
	for (size_t i = 0; i < samples; i++)
		fprintf(f, "%s%u", i ? "," : "", 900 + next_rand() % 300);
	fputs("]}", f);
	fclose(f);
	free(first_child);
	free(next);
}

static void heap_node(FILE *f, size_t *id, int depth)
{
	size_t me = ++*id;
	int kids = depth < 9 ? 3 : 0;

	fprintf(f, "{\"callFrame\":{\"functionName\":\"alloc%zu\",\"scriptId\":\"%zu\",\"url\":\"file:///srv/app/lib/m%zu.js\","
		   "\"lineNumber\":%zu,\"columnNumber\":4},\"selfSize\":%zu,\"id\":%zu,\"children\":[",
		me % 3000, me % 100, me % 100, me % 500, (me % 7) * 524288, me);
	for (int k = 0; k < kids; k++) {
		if (k)
			fputc(',', f);
		heap_node(f, id, depth + 1);
	}
	fputs("]}", f);
}

static void heap_profile(const char *path, size_t samples)
{
	FILE *f = fopen(path, "we");
	size_t id = 0;

	if (!f) {
		perror(path);
		exit(1);
	}
	fputs("{\"head\":", f);
	heap_node(f, &id, 0);
	fputs(",\"samples\":[", f);
	for (size_t i = 0; i < samples; i++)
		fprintf(f, "%s{\"size\":%u,\"nodeId\":%zu,\"ordinal\":%zu}", i ? "," : "", 16 + next_rand() % 4096,
			1 + next_rand() % id, i + 1);
	fputs("]}", f);
	fclose(f);
}

/* One conversion in a child: seconds, the child's peak RSS (KiB), the output's size. */
static int run(const char *in, enum pprof_kind kind, bool idle, double *secs, long *rss_kib, off_t *out_size)
{
	struct pprof_config cfg = { .kind = kind, .interval = kind == PPROF_CPU ? 1000 : 524288 };
	char out[512];
	struct timespec a, b;
	struct rusage ru;
	struct stat st;
	int status;
	pid_t pid;

	snprintf(out, sizeof(out), "%s.pb.gz", in);
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid == 0) {
		int i = open(in, O_RDONLY | O_CLOEXEC), o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (i < 0 || o < 0)
			_exit(2);
		_exit(idle ? 0 : pprof_convert(i, o, &cfg) == 0 ? 0 : 1);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	*secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	*rss_kib = ru.ru_maxrss;
	*out_size = stat(out, &st) == 0 ? st.st_size : 0;
	if (!idle)
		unlink(out);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	static const struct {
		const char *name;
		enum pprof_kind kind;
		size_t samples;
	} inputs[] = {
		{ "cpu-5mb.cpuprofile", PPROF_CPU, 350000 },
		{ "cpu-20mb.cpuprofile", PPROF_CPU, 1600000 },
		{ "cpu-50mb.cpuprofile", PPROF_CPU, 4100000 },
		{ "heap-50mb.heapprofile", PPROF_HEAP, 900000 },
	};
	double secs;
	long idle_kib;
	off_t size;
	char path[512];

	printf("pprof conversion (pprof_convert(), one child per input; peak RSS of the child; best of 3):\n");
	snprintf(path, sizeof(path), "%s/inspectd-pprof-bench-idle", dir);
	close(open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
	if (run(path, PPROF_CPU, true, &secs, &idle_kib, &size) < 0)
		return 1;
	unlink(path);
	printf("  %-24s %9s %9s %10s %12s %10s\n", "input", "MB", "seconds", "MB/s", "peak RSS MiB", "pb.gz KB");
	printf("  %-24s %9s %9s %10s %12.1f %10s\n", "(a child that converts nothing)", "", "", "",
	       (double)idle_kib / 1024, "");
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct stat st;
		double best = 1e9;
		long kib = 0;

		snprintf(path, sizeof(path), "%s/inspectd-pprof-bench-%s", dir, inputs[i].name);
		if (inputs[i].kind == PPROF_CPU)
			cpu_profile(path, inputs[i].samples);
		else
			heap_profile(path, inputs[i].samples);
		if (stat(path, &st) < 0)
			return 1;
		for (int round = 0; round < 3; round++) {
			long k;

			if (run(path, inputs[i].kind, false, &secs, &k, &size) < 0) {
				fprintf(stderr, "%s: the conversion failed\n", path);
				return 1;
			}
			if (secs < best)
				best = secs;
			if (k > kib)
				kib = k;
		}
		printf("  %-24s %9.1f %9.3f %10.1f %12.1f %10.1f\n", inputs[i].name, (double)st.st_size / 1e6, best,
		       (double)st.st_size / 1e6 / best, (double)kib / 1024, (double)size / 1e3);
		unlink(path);
	}
	return 0;
}
