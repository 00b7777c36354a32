// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "inspectd.skel.h"
#include "log.h"
#include "procfs.h"
#include "tracker.h"

_Static_assert(sizeof(struct inspectd_event) == 80, "event layout shared with BPF");
_Static_assert(sizeof(struct inspectd_tracked) == 40, "map value layout shared with BPF");
_Static_assert(sizeof(struct inspectd_task_sample) == 16, "iterator record shared with BPF");
_Static_assert(sizeof(struct inspectd_sig_handler) == 16, "SIGUSR1 iterator record shared with BPF");

struct tracker {
	struct inspectd_bpf *skel;
	struct ring_buffer *rb;
	tracker_event_fn fn;
	void *ctx;
	char match[INSPECTD_MAX_MATCH][INSPECTD_COMM_LEN];
	int nmatch;
	uint64_t ram_bytes;             /* no RSS is larger: anything above is a torn read */
	uint64_t track_failures;        /* the kernel side's count, as last reported */
	/* tracker__reconcile(): pids in one table only at the last call (sorted), and the
	 * lifecycle drops it had seen. */
	uint32_t *only_in_map, *only_in_caller;
	size_t n_only_in_map, n_only_in_caller;
	uint64_t lifecycle_drops_seen;
	bool oom_events;                /* mark_victim attached (else OOM kills show at EXIT only) */
};

#define SIGNAL_INTERVAL_MS      500
#define SIGNAL_BURST            4

static const char *const stream_names[INSPECTD_STREAM_COUNT] = {
	[INSPECTD_STREAM_LIFECYCLE] = "lifecycle",
	[INSPECTD_STREAM_SIGNAL] = "signal",
	[INSPECTD_STREAM_RSS] = "rss",
	[INSPECTD_STREAM_OOM] = "oom",
};

const char *tracker_stream_name(enum inspectd_stream s)
{
	return (unsigned)s < INSPECTD_STREAM_COUNT ? stream_names[s] : NULL;
}

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

/*
 * Whether this kernel's oom/mark_victim passes the victim's task_struct (since 6.6; 6.1's
 * passes its pid only, which the program cannot load against): its BTF typedef
 * btf_trace_mark_victim points to a prototype (void *, struct task_struct *, uid_t).
 */
static bool mark_victim_has_task(void)
{
	const struct btf_type *t;
	const struct btf_param *params;
	struct btf *btf = btf__load_vmlinux_btf();
	bool ok = false;
	__s32 id;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "btf_trace_mark_victim", BTF_KIND_TYPEDEF);
	t = id > 0 ? btf__type_by_id(btf, btf__resolve_type(btf, (__u32)id)) : NULL;
	if (t && btf_is_ptr(t))
		t = btf__type_by_id(btf, t->type);
	if (t && btf_is_func_proto(t) && btf_vlen(t) >= 2) {
		params = btf_params(t);
		t = btf__type_by_id(btf, params[1].type);
		if (t && btf_is_ptr(t)) {
			t = btf__type_by_id(btf, t->type);
			ok = t && btf_is_struct(t) && strcmp(btf__name_by_offset(btf, t->name_off), "task_struct") == 0;
		}
	}
	btf__free(btf);
	return ok;
}

int tracker_kernel_btf(void)
{
	return access(TRACKER_KERNEL_BTF, R_OK) < 0 ? -errno : 0;
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
	t->skel->rodata->tick_ns = 1000000000ull / (__u64)sysconf(_SC_CLK_TCK);
	t->skel->rodata->sig_interval_ns =
		(__u64)(cfg->signal_interval_ms ? cfg->signal_interval_ms : SIGNAL_INTERVAL_MS) * 1000000ull;
	t->skel->rodata->sig_burst = cfg->signal_burst ? cfg->signal_burst : SIGNAL_BURST;

	/* Without it, an OOM kill is still known from its EXIT (INSPECTD_EXIT_OOM_VICTIM). */
	t->oom_events = mark_victim_has_task();
	if (!t->oom_events) {
		log_warn("this kernel's oom/mark_victim tracepoint does not pass the victim's task: "
			 "OOM kills are recorded at their exit only");
		bpf_program__set_autoload(t->skel->progs.handle_oom_victim, false);
	}

	/* load */
	err = inspectd_bpf__load(t->skel);
	if (err) {
		log_error("failed to load BPF programs: %s", strerror(-err));
		goto fail;
	}
	/* The kernel's BTF (several MB) was read and freed twice, by mark_victim_has_task() and
	 * the load: the second time into the heap (glibc's mmap threshold had risen to its
	 * size), which would keep it, 10 MiB of RSS for the agent's life. */
	malloc_trim(0);

	/* attach: everything but rss_stat, which tracker__watch_rss() attaches on demand */
	bpf_program__set_autoattach(t->skel->progs.handle_rss_stat, false);
	/* and the SIGUSR1 iterator, attached for one process at a time */
	bpf_program__set_autoattach(t->skel->progs.dump_sigusr1_handler, false);
	err = inspectd_bpf__attach(t->skel);
	if (err) {
		log_error("failed to attach BPF programs: %s", strerror(-err));
		goto fail;
	}

	/*
	 * One epoll fd for every ring: the loop adopts one descriptor. ring_buffer__consume()
	 * reads them in the order added, OOM kills first: a victim's OOM_KILL is submitted
	 * before its EXIT, so a batch holding both hands OOM_KILL over while the process is
	 * still in the caller's table. (An OOM_KILL submitted just after its ring was read,
	 * with the EXIT on the events ring by the time that is read, comes one batch late:
	 * the EXIT's INSPECTD_EXIT_OOM_VICTIM covers that, and a lost OOM_KILL.)
	 */
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.oom_events), handle_event, t, NULL);
	if (!t->rb) {
		log_error("failed to create ring buffer: %m");
		goto fail;
	}
	err = ring_buffer__add(t->rb, bpf_map__fd(t->skel->maps.events), handle_event, t);
	if (err) {
		log_error("failed to add the events ring buffer: %s", strerror(-err));
		goto fail;
	}
	err = ring_buffer__add(t->rb, bpf_map__fd(t->skel->maps.signal_events), handle_event, t);
	if (err) {
		log_error("failed to add the signal ring buffer: %s", strerror(-err));
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

/* The exe of pid with " (deleted)" taken off (node was upgraded under a running process). */
static int read_exe(uint32_t pid, char *exe, size_t size)
{
	char *deleted;
	int r = procfs_read_exe((pid_t)pid, exe, size);

	if (r < 0)
		return r;
	deleted = strstr(exe, " (deleted)");
	if (deleted && deleted[10] == '\0')
		*deleted = '\0';
	return 0;
}

/* Whether pid is still the process started at start_ticks, running a matching program. */
static bool still_matching(const struct tracker *t, uint32_t pid, uint64_t start_ticks)
{
	char exe[4096];
	uint64_t start;

	return procfs_read_starttime((pid_t)pid, &start) == 0 && start == start_ticks &&
	       read_exe(pid, exe, sizeof(exe)) == 0 && basename_matches(t, exe);
}

static void deliver(struct tracker *t, uint32_t type, uint32_t pid)
{
	struct inspectd_event e = { .type = type, .pid = pid, .result = -1 };   /* an EXIT's status unknown */
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	e.ktime_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	if (type == INSPECTD_EVENT_EXEC)
		procfs_read_comm((pid_t)pid, e.comm, sizeof(e.comm));
	t->fn(t->ctx, &e);
}

/* Insert pid (started at start_ticks) into the map unless there: 0, -EEXIST or -errno. */
static int track_from_userspace(struct tracker *t, uint32_t pid, uint64_t start_ticks)
{
	struct inspectd_tracked value = { .start_ticks = start_ticks };
	char statm[128];
	unsigned long long size_pages, resident;

	/* Its RSS as of now, once: later the kernel side keeps it on every change. */
	if (procfs_read((pid_t)pid, "statm", statm, sizeof(statm)) > 0 &&
	    sscanf(statm, "%llu %llu", &size_pages, &resident) == 2)
		value.rss_bytes = resident * (uint64_t)sysconf(_SC_PAGESIZE);
	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.tracked), &pid, &value, BPF_NOEXIST) < 0)
		return -errno;
	__atomic_add_fetch(&t->skel->bss->marks_gen, 1, __ATOMIC_SEQ_CST);
	return 0;
}

/* Matching processes in /proc into the map, each reported as EXEC; with fresh_only, only
 * those the map did not hold. Returns count or -errno. */
static int scan_proc(struct tracker *t, bool fresh_only)
{
	struct dirent *de;
	int found = 0;
	DIR *dir;

	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		char exe[4096];
		uint64_t start;
		__u32 pid;
		int r;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (__u32)strtoul(de->d_name, NULL, 10);
		if (pid == (__u32)getpid() || read_exe(pid, exe, sizeof(exe)) < 0)
			continue;       /* kernel thread, gone, or not ours to read */
		if (!basename_matches(t, exe) || procfs_read_starttime((pid_t)pid, &start) < 0)
			continue;
		/* BPF_NOEXIST: an exec seen by the kernel side meanwhile wins. */
		r = track_from_userspace(t, pid, start);
		if (r < 0 && (r != -EEXIST || fresh_only))
			continue;
		deliver(t, INSPECTD_EVENT_EXEC, pid);
		found++;
	}
	closedir(dir);
	return found;
}

int tracker__scan_proc(struct tracker *t)
{
	return scan_proc(t, false);
}

void tracker__drops(const struct tracker *t, struct tracker_drops *ret)
{
	for (int s = 0; s < INSPECTD_STREAM_COUNT; s++)
		ret->lost[s] = __atomic_load_n(&t->skel->bss->drops[s], __ATOMIC_RELAXED);
	ret->signals_limited = __atomic_load_n(&t->skel->bss->signals_limited, __ATOMIC_RELAXED);
	ret->track_failures = __atomic_load_n(&t->skel->bss->track_failures, __ATOMIC_RELAXED);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool among(const uint32_t *sorted, size_t n, uint32_t pid)
{
	return n && bsearch(&pid, sorted, n, sizeof(*sorted), cmp_u32);
}

/* Delete pid's entry if it is still the one started at start_ticks. */
static void untrack_stale(struct tracker *t, uint32_t pid, uint64_t start_ticks)
{
	int fd = bpf_map__fd(t->skel->maps.tracked);
	struct inspectd_tracked v;

	/* An exec of a new process under this pid since the walk has its own start. */
	if (bpf_map_lookup_elem(fd, &pid, &v) == 0 && v.start_ticks == start_ticks &&
	    bpf_map_delete_elem(fd, &pid) == 0)
		__atomic_add_fetch(&t->skel->bss->marks_gen, 1, __ATOMIC_SEQ_CST);
}

struct map_entry {
	uint32_t pid;
	uint64_t start_ticks;
};

/* Every entry of the tracked map, as it is now: count or -ENOMEM; *ret for the caller to free. */
static int map_entries(struct tracker *t, struct map_entry **ret)
{
	int fd = bpf_map__fd(t->skel->maps.tracked);
	struct map_entry *all = NULL;
	size_t n = 0, size = 0;
	uint32_t key, next;
	void *prev = NULL;

	*ret = NULL;
	while (n < INSPECTD_MAX_TRACKED && bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct inspectd_tracked v;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v) < 0)
			continue;       /* deleted meanwhile */
		if (n == size) {
			size_t bigger = size ? size * 2 : 64;
			struct map_entry *p = realloc(all, bigger * sizeof(*all));

			if (!p) {
				free(all);
				return -ENOMEM;
			}
			all = p;
			size = bigger;
		}
		all[n].pid = key;
		all[n].start_ticks = v.start_ticks;
		n++;
	}
	*ret = all;
	return (int)n;
}

static int cmp_entry(const void *a, const void *b)
{
	return cmp_u32(&((const struct map_entry *)a)->pid, &((const struct map_entry *)b)->pid);
}

int tracker__reconcile(struct tracker *t, const uint32_t *pids, size_t n)
{
	uint32_t *caller = NULL, *only_map = NULL, *only_caller = NULL;
	size_t n_only_map = 0, n_only_caller = 0;
	uint64_t lost = __atomic_load_n(&t->skel->bss->drops[INSPECTD_STREAM_LIFECYCLE], __ATOMIC_RELAXED);
	bool check_all = lost != t->lifecycle_drops_seen;
	struct map_entry *map = NULL;
	int n_map, delivered = 0;

	n_map = map_entries(t, &map);
	if (n_map < 0)
		return n_map;
	caller = malloc((n ? n : 1) * sizeof(*caller));
	only_map = malloc((n_map ? (size_t)n_map : 1) * sizeof(*only_map));
	only_caller = malloc((n ? n : 1) * sizeof(*only_caller));
	if (!caller || !only_map || !only_caller) {
		delivered = -ENOMEM;
		goto out;
	}
	if (n)
		memcpy(caller, pids, n * sizeof(*caller));
	qsort(caller, n, sizeof(*caller), cmp_u32);
	if (n_map)
		qsort(map, (size_t)n_map, sizeof(*map), cmp_entry);

	/* The map's side. */
	for (int i = 0; i < n_map; i++) {
		uint32_t pid = map[i].pid;
		bool known = among(caller, n, pid);

		if (known && !check_all)
			continue;
		if (!still_matching(t, pid, map[i].start_ticks)) {
			/* A lost EXIT, or an exec away from node that could not be reported. */
			untrack_stale(t, pid, map[i].start_ticks);
			if (known) {
				deliver(t, INSPECTD_EVENT_EXIT, pid);
				delivered++;
			}
			continue;
		}
		if (known)
			continue;
		/* Running, tracked here, unknown to the caller: seen so twice, it is not an
		 * event in flight. */
		if (among(t->only_in_map, t->n_only_in_map, pid)) {
			deliver(t, INSPECTD_EVENT_EXEC, pid);
			delivered++;
		} else {
			only_map[n_only_map++] = pid;
		}
	}

	/* The caller's side. */
	for (size_t i = 0; i < n; i++) {
		struct map_entry key = { .pid = caller[i] };
		uint64_t start;

		if ((i && caller[i] == caller[i - 1]) ||
		    (n_map && bsearch(&key, map, (size_t)n_map, sizeof(*map), cmp_entry)))
			continue;
		if (!among(t->only_in_caller, t->n_only_in_caller, caller[i])) {
			only_caller[n_only_caller++] = caller[i];
			continue;
		}
		/* Still a matching process: track it again; else it is gone for the caller too. */
		if (procfs_read_starttime((pid_t)caller[i], &start) == 0 && still_matching(t, caller[i], start) &&
		    track_from_userspace(t, caller[i], start) == 0)
			continue;
		deliver(t, INSPECTD_EVENT_EXIT, caller[i]);
		delivered++;
	}

	/* Lost EXECs and FORKs left no trace in either table: look in /proc. */
	if (check_all) {
		int found = scan_proc(t, true);

		if (found > 0)
			delivered += found;
	}
	t->lifecycle_drops_seen = lost;

	/* Both in pid order, as they were walked. */
	free(t->only_in_map);
	free(t->only_in_caller);
	t->only_in_map = only_map;
	t->n_only_in_map = n_only_map;
	t->only_in_caller = only_caller;
	t->n_only_in_caller = n_only_caller;
	only_map = only_caller = NULL;
out:
	free(map);
	free(caller);
	free(only_map);
	free(only_caller);
	return delivered;
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

bool tracker__oom_events(const struct tracker *t)
{
	return t->oom_events;
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

/* Slices of the tracked map a batch reads at once: a bucket of a hash map must fit in one. */
#define RSS_BATCH 256

int tracker__read_rss(struct tracker *t, tracker_rss_fn fn, void *ctx)
{
	DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int fd = bpf_map__fd(t->skel->maps.tracked), n = 0, r;
	struct inspectd_tracked values[RSS_BATCH];
	uint32_t keys[RSS_BATCH], token = 0;
	bool first = true, last = false;

	while (!last) {
		__u32 count = RSS_BATCH;

		r = bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, values, &count, &opts);
		if (r < 0 && r != -ENOENT)
			return r;
		last = r == -ENOENT;    /* the map's end, with this slice's entries */
		first = false;
		for (__u32 i = 0; i < count; i++)
			if (!t->ram_bytes || values[i].rss_bytes <= t->ram_bytes)
				fn(ctx, keys[i], values[i].rss_bytes);
		n += (int)count;
	}
	return n;
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

int tracker__sigusr1_handler(struct tracker *t, int pidfd, uint32_t pid, uint64_t *handler)
{
	DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info linfo = { 0 };
	struct inspectd_sig_handler h;
	struct bpf_link *link;
	ssize_t r;
	int fd, err = 0;

	/* The iterator walks that one process's threads only (kernel 6.1+). */
	linfo.task.pid_fd = (__u32)pidfd;
	opts.link_info = &linfo;
	opts.link_info_len = sizeof(linfo);
	link = bpf_program__attach_iter(t->skel->progs.dump_sigusr1_handler, &opts);
	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	r = read(fd, &h, sizeof(h));
	if (r < 0)
		err = -errno;
	else if (r != (ssize_t)sizeof(h) || h.tgid != pid)
		err = -ESRCH;           /* no leader: the process is gone, or another one */
	else
		*handler = h.handler;
	close(fd);
out:
	bpf_link__destroy(link);
	return err;
}

void tracker__free(struct tracker *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	inspectd_bpf__destroy(t->skel);
	free(t->only_in_map);
	free(t->only_in_caller);
	free(t);
}
