// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "inspectd.skel.h"
#include "log.h"
#include "procfs.h"
#include "tracker.h"

_Static_assert(sizeof(struct inspectd_event) == 80, "event layout shared with BPF");
_Static_assert(sizeof(struct inspectd_tracked) == 32, "map value layout shared with BPF");
_Static_assert(sizeof(struct inspectd_task_sample) == 16, "iterator record shared with BPF");

struct tracker {
	struct inspectd_bpf *skel;
	struct ring_buffer *rb;
	tracker_event_fn fn;
	void *ctx;
	char match[INSPECTD_MAX_MATCH][INSPECTD_COMM_LEN];
	int nmatch;
	uint64_t ram_bytes;             /* no RSS is larger: anything above is a torn read */
	uint64_t track_failures;        /* the kernel side's count, as last reported */
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char line[512];
	size_t n;

	if (level == LIBBPF_DEBUG && log_get_level() < LOG_LEVEL_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, args);
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	log_emit(level == LIBBPF_WARN ? LOG_LEVEL_WARN : LOG_LEVEL_DEBUG, "libbpf: %s", line);
	return 0;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct tracker *t = ctx;

	if (size < sizeof(struct inspectd_event))
		return 0;
	t->fn(t->ctx, data);
	return 0;
}

struct tracker *tracker__new(const struct tracker_config *cfg, tracker_event_fn fn, void *ctx)
{
	struct tracker *t;
	int err;

	if (cfg->nmatch < 1 || cfg->nmatch > INSPECTD_MAX_MATCH)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->fn = fn;
	t->ctx = ctx;
	libbpf_set_print(libbpf_print);

	/* open */
	t->skel = inspectd_bpf__open();
	if (!t->skel) {
		log_error("failed to open BPF object: %m");
		goto fail;
	}

	/* configure */
	for (int i = 0; i < cfg->nmatch; i++) {
		snprintf(t->match[i], INSPECTD_COMM_LEN, "%s", cfg->match[i]);
		memcpy((char *)t->skel->rodata->match_names[i], t->match[i], INSPECTD_COMM_LEN);
	}
	t->nmatch = cfg->nmatch;
	t->ram_bytes = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	t->skel->rodata->match_count = (__u32)cfg->nmatch;
	t->skel->rodata->trigger_sigmask = cfg->trigger_sigmask;
	t->skel->rodata->agent_tgid = (__u32)getpid();
	t->skel->rodata->page_size = (__u64)sysconf(_SC_PAGESIZE);

	/* load */
	err = inspectd_bpf__load(t->skel);
	if (err) {
		log_error("failed to load BPF programs: %s", strerror(-err));
		goto fail;
	}

	/* attach: everything but rss_stat, which tracker__watch_rss() attaches on demand */
	bpf_program__set_autoattach(t->skel->progs.handle_rss_stat, false);
	err = inspectd_bpf__attach(t->skel);
	if (err) {
		log_error("failed to attach BPF programs: %s", strerror(-err));
		goto fail;
	}

	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), handle_event, t, NULL);
	if (!t->rb) {
		log_error("failed to create ring buffer: %m");
		goto fail;
	}
	return t;
fail:
	tracker__free(t);
	return NULL;
}

int tracker__fd(const struct tracker *t)
{
	return ring_buffer__epoll_fd(t->rb);
}

int tracker__consume(struct tracker *t)
{
	return ring_buffer__consume(t->rb);
}

static bool basename_matches(const struct tracker *t, const char *path)
{
	const char *base = strrchr(path, '/');
	char name[INSPECTD_COMM_LEN];

	base = base ? base + 1 : path;
	/* Compared as the kernel side does: at most 15 characters. */
	strncpy(name, base, sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	for (int i = 0; i < t->nmatch; i++)
		if (strcmp(name, t->match[i]) == 0)
			return true;
	return false;
}

int tracker__scan_proc(struct tracker *t)
{
	int fd = bpf_map__fd(t->skel->maps.tracked);
	struct dirent *de;
	int found = 0;
	DIR *dir;

	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		struct inspectd_tracked value = { 0 };
		struct inspectd_event e = { .type = INSPECTD_EVENT_EXEC };
		char exe[4096], *deleted;
		struct timespec now;
		__u32 pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (__u32)strtoul(de->d_name, NULL, 10);
		if (pid == (__u32)getpid() || procfs_read_exe((pid_t)pid, exe, sizeof(exe)) < 0)
			continue;       /* kernel thread, gone, or not ours to read */
		deleted = strstr(exe, " (deleted)");
		if (deleted && deleted[10] == '\0')
			*deleted = '\0';        /* node was upgraded under a running process */
		if (!basename_matches(t, exe))
			continue;
		/* Its RSS as of now, once: later the kernel side keeps it on every change. */
		{
			char statm[128];
			unsigned long long size_pages, resident;

			if (procfs_read((pid_t)pid, "statm", statm, sizeof(statm)) > 0 &&
			    sscanf(statm, "%llu %llu", &size_pages, &resident) == 2)
				value.rss_bytes = resident * (uint64_t)sysconf(_SC_PAGESIZE);
		}
		/* BPF_NOEXIST: an exec seen by the kernel side meanwhile wins. */
		if (bpf_map_update_elem(fd, &pid, &value, BPF_NOEXIST) < 0 && errno != EEXIST)
			continue;
		__atomic_add_fetch(&t->skel->bss->marks_gen, 1, __ATOMIC_SEQ_CST);
		clock_gettime(CLOCK_MONOTONIC, &now);
		e.pid = pid;
		e.ktime_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
		procfs_read_comm((pid_t)pid, e.comm, sizeof(e.comm));
		t->fn(t->ctx, &e);
		found++;
	}
	closedir(dir);
	return found;
}

int tracker__set_rss_marks(struct tracker *t, uint32_t pid, uint64_t high, uint64_t low)
{
	int fd = bpf_map__fd(t->skel->maps.tracked);
	struct inspectd_tracked v;

	/* Read-modify-write: the kernel side may store rss_bytes meanwhile; the next fault fixes it. */
	if (bpf_map_lookup_elem(fd, &pid, &v) < 0)
		return -errno;
	v.rss_high = high;
	v.rss_low = low;
	if (bpf_map_update_elem(fd, &pid, &v, BPF_EXIST) < 0)
		return -errno;
	/* Every CPU's rss_stat fast path must see the new marks. */
	__atomic_add_fetch(&t->skel->bss->marks_gen, 1, __ATOMIC_SEQ_CST);
	return 0;
}

int tracker__watch_rss(struct tracker *t, bool on)
{
	struct bpf_link *link = t->skel->links.handle_rss_stat;

	if (on == (link != NULL))
		return 0;
	if (!on) {
		bpf_link__destroy(link);
		t->skel->links.handle_rss_stat = NULL;
		return 0;
	}
	/* A CPU's cache may hold marks from the last time it was attached. */
	__atomic_add_fetch(&t->skel->bss->marks_gen, 1, __ATOMIC_SEQ_CST);
	link = bpf_program__attach(t->skel->progs.handle_rss_stat);
	if (!link)
		return -errno;
	t->skel->links.handle_rss_stat = link;
	return 0;
}

bool tracker__rss_watched(const struct tracker *t)
{
	return t->skel->links.handle_rss_stat != NULL;
}

int tracker__rss(struct tracker *t, uint32_t pid, uint64_t *rss)
{
	struct inspectd_tracked v;

	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.tracked), &pid, &v) < 0)
		return -errno;
	if (t->ram_bytes && v.rss_bytes > t->ram_bytes)
		return -ERANGE;
	*rss = v.rss_bytes;
	return 0;
}

uint64_t tracker__new_track_failures(struct tracker *t)
{
	uint64_t now = __atomic_load_n(&t->skel->bss->track_failures, __ATOMIC_RELAXED);
	uint64_t fresh = now - t->track_failures;

	t->track_failures = now;
	return fresh;
}

int tracker__read_cpu(struct tracker *t, tracker_cpu_fn fn, void *ctx)
{
	struct inspectd_task_sample buf[256];
	int fd, n = 0;
	ssize_t r;

	fd = bpf_iter_create(bpf_link__fd(t->skel->links.dump_task_cpu));
	if (fd < 0)
		return -errno;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		for (size_t i = 0; i < (size_t)r / sizeof(buf[0]); i++)
			fn(ctx, buf[i].tgid, buf[i].runtime_ns);
		n += (int)((size_t)r / sizeof(buf[0]));
	}
	if (r < 0)
		n = -errno;
	close(fd);
	return n;
}

void tracker__free(struct tracker *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	inspectd_bpf__destroy(t->skel);
	free(t);
}
