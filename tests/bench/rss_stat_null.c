// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Attaches rss_stat_null.bpf.o until SIGINT or SIGTERM: make bench's measure of
 * what the kernel charges every page fault for dispatching to a BPF program.
 * Usage: rss_stat_null OBJECT
 */
#include <signal.h>
#include <stdio.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	struct bpf_link *link;
	sigset_t set;
	int sig;

	if (argc != 2) {
		fprintf(stderr, "usage: rss_stat_null OBJECT\n");
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "rss_stat_null: cannot load %s\n", argv[1]);
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "rss_stat_null");
	link = prog ? bpf_program__attach(prog) : NULL;
	if (!link) {
		fprintf(stderr, "rss_stat_null: cannot attach\n");
		bpf_object__close(obj);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return 0;
}
