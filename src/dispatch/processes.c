// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "names_cache.h"
#include "processes.h"
#include "select.h"
#include "rss_timeline.h"

#define PROCESS_BUCKETS 1024
#define SAMPLE_USEC     1000000         /* the tick's period: the growth baseline waits one */

struct process {
	struct process *next;
	pid_t pid;
	int pidfd;                      /* pins the process: a recycled pid is never signalled */
	char comm[INSPECTD_COMM_LEN];
	bool announced;
	uint64_t seen_usec;
	unsigned job;
	struct trigger_state triggers;
	struct schedule_state schedule;         /* --every: its next round */
	int section;                    /* process__section() */
	bool baseline_set;
	uint64_t rss;                   /* bytes, from the kernel side */
	uint64_t cpu_ns, cpu_accum;     /* cumulative CPU time, from the task iterator */
	uint64_t mark_high, mark_low;   /* as last set in the kernel */
	char cgroup_v1[PROCESS_CGROUP_MAX], cgroup_v2[PROCESS_CGROUP_MAX];
	struct container_info container;        /* from those paths; id "" when none */
	char names_id[CONTAINER_ID_MAX + 1];    /* the names_cache entry it holds a reference to; "": none */
	char tenant[PROCESS_TENANT_MAX];        /* from those paths: processes_tenant_key() */
	/* For an OOM-kill record. */
	char *cmdline;                  /* NUL-separated, cmdline_len bytes */
	size_t cmdline_len;
	struct rss_timeline *timeline;
	struct process_capture *captures;       /* PROCESS_CAPTURES_MAX, a ring; NULL until one */
	unsigned n_captures, next_capture;
	bool oom_recorded;
};

struct processes {
	const struct trigger_config *cfg;
	struct process *buckets[PROCESS_BUCKETS];
	unsigned count;
	struct names_cache *names;      /* borrowed; NULL: no names */
};

static void copy_cut(char *buf, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

void processes_tenant_key(const char *v1_path, const char *v2_path, char *buf, size_t size)
{
	const char *path, *cut;
	size_t n;

	if (v2_path[0] && container_outer_cgroup(v2_path, &n) == 0) {
		copy_cut(buf, size, v2_path, n);
		return;
	}
	if (v1_path[0] && container_outer_cgroup(v1_path, &n) == 0) {
		copy_cut(buf, size, v1_path, n);
		return;
	}
	path = v1_path[0] ? v1_path : v2_path;
	if (path[0] != '/') {
		copy_cut(buf, size, "/", 1);
		return;
	}
	/* "/a/b/c" -> "/a/b"; "/a" and "/" as they are. */
	cut = strchr(path + 1, '/');
	if (cut)
		cut = strchr(cut + 1, '/');
	n = cut ? (size_t)(cut - path) : strlen(path);
	copy_cut(buf, size, path, n);
}

static struct process **slot_of(const struct processes *ps, pid_t pid)
{
	struct process **p = (struct process **)&ps->buckets[(unsigned)pid % PROCESS_BUCKETS];

	while (*p && (*p)->pid != pid)
		p = &(*p)->next;
	return p;
}

/* comm: up to INSPECTD_COMM_LEN bytes, NUL-terminated or not (an event's). */
static void set_comm(struct process *p, const char *comm)
{
	size_t n = strnlen(comm, sizeof(p->comm) - 1);

	memcpy(p->comm, comm, n);
	p->comm[n] = '\0';
	p->section = PROCESS_SECTION_UNJUDGED;          /* comm= rules */
}

static void capture_clear(struct process_capture *c)
{
	for (unsigned f = 0; f < PROCESS_CAPTURE_FILES; f++) {
		free(c->files[f]);
		c->files[f] = NULL;
	}
}

/* What the OOM-kill record would say of the program: gone with it. */
static void forget_history(struct process *p)
{
	free(p->cmdline);
	p->cmdline = NULL;
	p->cmdline_len = 0;
	rss_timeline__free(p->timeline);
	p->timeline = NULL;
	for (unsigned i = 0; p->captures && i < PROCESS_CAPTURES_MAX; i++)
		capture_clear(&p->captures[i]);
	free(p->captures);
	p->captures = NULL;
	p->n_captures = p->next_capture = 0;
	p->oom_recorded = false;
}

static void process_free(struct process *p)
{
	forget_history(p);
	free(p);
}

/* Everything a new program starts with; pid, pidfd and cgroup facts are not touched. */
static void start_program(const struct processes *ps, struct process *p, const char *comm, uint64_t now)
{
	uint64_t limit = p->triggers.limit;

	forget_history(p);

	set_comm(p, comm);              /* and its section judged again */
	p->announced = false;
	p->seen_usec = now;
	p->job = 0;
	trigger_state_init(&p->triggers, ps->cfg, now, 0);
	p->triggers.limit = limit;
	p->baseline_set = false;
	p->rss = 0;
	p->cpu_ns = p->cpu_accum = 0;
	p->mark_high = p->mark_low = 0;
}

struct processes *processes__new(const struct trigger_config *cfg)
{
	struct processes *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return NULL;
	ps->cfg = cfg;
	return ps;
}

void processes__free(struct processes *ps)
{
	if (!ps)
		return;
	for (unsigned b = 0; b < PROCESS_BUCKETS; b++) {
		while (ps->buckets[b]) {
			struct process *p = ps->buckets[b];

			ps->buckets[b] = p->next;
			close(p->pidfd);
			process_free(p);
		}
	}
	free(ps);
}

int processes__add(struct processes *ps, pid_t pid, const char *comm, const struct process *cgroup_of,
		   uint64_t now_usec, struct process **ret)
{
	struct process **slot = slot_of(ps, pid), *p = *slot;

	if (p) {
		set_comm(p, comm);
		*ret = p;
		return 0;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pid = pid;
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p->pidfd < 0) {
		int r = -errno;

		free(p);
		return r == -EINVAL ? -ESRCH : r;
	}
	start_program(ps, p, comm, now_usec);
	if (cgroup_of) {
		p->triggers.limit = cgroup_of->triggers.limit;
		memcpy(p->cgroup_v1, cgroup_of->cgroup_v1, sizeof(p->cgroup_v1));
		memcpy(p->cgroup_v2, cgroup_of->cgroup_v2, sizeof(p->cgroup_v2));
		p->container = cgroup_of->container;
		memcpy(p->tenant, cgroup_of->tenant, sizeof(p->tenant));
		if (ps->names && cgroup_of->names_id[0]) {
			names_cache__retain(ps->names, cgroup_of->names_id);
			memcpy(p->names_id, cgroup_of->names_id, sizeof(p->names_id));
		}
	} else {
		processes_tenant_key("", "", p->tenant, sizeof(p->tenant));
	}
	*slot = p;
	ps->count++;
	*ret = p;
	return 0;
}

int processes__exec(struct processes *ps, pid_t pid, const char *comm, uint64_t now_usec, struct process **ret,
		    unsigned *ret_job)
{
	struct process *p = *slot_of(ps, pid);

	if (!p)
		return -ENOENT;
	*ret_job = p->job;
	start_program(ps, p, comm, now_usec);
	*ret = p;
	return 0;
}

int processes__remove(struct processes *ps, pid_t pid, unsigned *ret_job, int *ret_pidfd)
{
	struct process **slot = slot_of(ps, pid), *p = *slot;

	if (!p)
		return -ENOENT;
	*slot = p->next;
	*ret_job = p->job;
	*ret_pidfd = p->pidfd;
	if (ps->names && p->names_id[0])
		names_cache__release(ps->names, p->names_id);
	process_free(p);
	ps->count--;
	return 0;
}

void processes__set_names(struct processes *ps, struct names_cache *nc)
{
	ps->names = nc;
}

/*
 * Whether p's container is inside another: its id is then a cgroup's name chosen by
 * whoever runs the outer one, perhaps another container's, whose names it must not get.
 * (The runtime of a container in a container keeps its state inside the outer one, not
 * under the host root: nothing is lost.)
 */
static bool nested(const struct process *p)
{
	struct container_info outer;

	return container_outer_from_paths(p->cgroup_v1, p->cgroup_v2, &outer) < 0 ||
	       strcmp(outer.id, p->container.id) != 0;
}

void processes__refresh_names(struct processes *ps, struct process *p)
{
	const char *id = p->container.id;
	bool inner;

	if (!ps->names)
		return;
	p->section = PROCESS_SECTION_UNJUDGED;          /* namespace=, pod=, container=, image= rules */
	inner = id[0] && nested(p);
	/* The entry of the container it was in, if it is in another now (or none). */
	if (p->names_id[0] && (strcmp(p->names_id, id) != 0 || inner)) {
		names_cache__release(ps->names, p->names_id);
		p->names_id[0] = '\0';
	}
	if (!id[0])
		return;
	if (inner) {
		memset(&p->container.names, 0, sizeof(p->container.names));
		return;
	}
	if (p->names_id[0]) {
		/* The same container: its names from the entry held, not looked up again. */
		names_cache__names(ps->names, id, &p->container.names);
		return;
	}
	if (names_cache__acquire(ps->names, &p->container, &p->container.names) == 0)
		memcpy(p->names_id, id, sizeof(p->names_id));
}

struct process *processes__find(const struct processes *ps, pid_t pid)
{
	return *slot_of(ps, pid);
}

unsigned processes__count(const struct processes *ps)
{
	return ps->count;
}

void processes__foreach(const struct processes *ps, void (*fn)(void *ctx, struct process *p), void *ctx)
{
	for (unsigned b = 0; b < PROCESS_BUCKETS; b++)
		for (struct process *p = ps->buckets[b], *next; p; p = next) {
			next = p->next;
			fn(ctx, p);
		}
}

void processes__add_cpu(struct processes *ps, pid_t pid, uint64_t runtime_ns)
{
	struct process *p = *slot_of(ps, pid);

	if (p)
		p->cpu_accum += runtime_ns;
}

void processes__view(const struct processes *ps, const struct process *p, struct process_view *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->selection = SELECT_SELECTED;       /* until the dispatcher judges it */
	ret->pid = p->pid;
	memcpy(ret->comm, p->comm, sizeof(ret->comm));
	ret->rss = p->rss;
	ret->cpu_percent = p->triggers.cpu_percent;
	ret->memory_limit = p->triggers.limit;
	memcpy(ret->cgroup, p->cgroup_v1[0] ? p->cgroup_v1 : p->cgroup_v2, sizeof(ret->cgroup));
	ret->container = p->container;
	ret->armed = trigger_armed(ps->cfg, &p->triggers);
	ret->job = p->job;
	ret->next_capture_kind = -1;            /* until the dispatcher judges it */
}

int process__read_cgroup(struct process *p, const struct cgroup_roots *roots)
{
	uint64_t limit = 0;
	int r;

	/* Not known unless read now: a failed read must not leave the old cgroup's paths. */
	p->cgroup_v1[0] = p->cgroup_v2[0] = '\0';
	r = cgroup_memory_limit_of(roots, p->pid, &limit, p->cgroup_v1, sizeof(p->cgroup_v1), p->cgroup_v2,
				   sizeof(p->cgroup_v2));
	/* A limit of 0 bytes (memory.max = 0) cannot be a percentage trigger either. */
	p->triggers.limit = r < 0 ? 0 : limit;
	container_from_paths(p->cgroup_v1, p->cgroup_v2, &p->container);
	p->section = PROCESS_SECTION_UNJUDGED;
	processes_tenant_key(p->cgroup_v1, p->cgroup_v2, p->tenant, sizeof(p->tenant));
	return r < 0 ? r : 0;
}

void process__sample(struct process *p, uint64_t rss, bool cpu_read, uint64_t now_usec)
{
	if (cpu_read && p->cpu_accum)
		p->cpu_ns = p->cpu_accum;
	p->cpu_accum = 0;
	p->rss = rss;
	if (!p->baseline_set && p->rss && now_usec >= p->seen_usec + SAMPLE_USEC) {
		p->triggers.baseline = p->rss;
		p->baseline_set = true;
	}
}

void process__set_rss(struct process *p, uint64_t rss)
{
	p->rss = rss;
}

pid_t process__pid(const struct process *p)
{
	return p->pid;
}

int process__pidfd(const struct process *p)
{
	return p->pidfd;
}

const char *process__comm(const struct process *p)
{
	return p->comm;
}

const char *process__tenant(const struct process *p)
{
	return p->tenant;
}

const struct container_info *process__container(const struct process *p)
{
	return &p->container;
}

uint64_t process__rss(const struct process *p)
{
	return p->rss;
}

uint64_t process__cpu_ns(const struct process *p)
{
	return p->cpu_ns;
}

uint64_t process__memory_limit(const struct process *p)
{
	return p->triggers.limit;
}

struct trigger_state *process__triggers(struct process *p)
{
	return &p->triggers;
}

struct schedule_state *process__schedule(struct process *p)
{
	return &p->schedule;
}

int process__section(const struct process *p)
{
	return p->section;
}

void process__set_section(struct process *p, int section)
{
	p->section = section;
}

static void forget_section(void *ctx, struct process *p)
{
	p->section = PROCESS_SECTION_UNJUDGED;
}

void processes__forget_sections(struct processes *ps)
{
	processes__foreach(ps, forget_section, NULL);
}

unsigned process__job(const struct process *p)
{
	return p->job;
}

void process__set_job(struct process *p, unsigned id)
{
	p->job = id;
}

bool process__announced(const struct process *p)
{
	return p->announced;
}

void process__set_announced(struct process *p)
{
	p->announced = true;
}

void process__marks(const struct process *p, uint64_t *high, uint64_t *low)
{
	*high = p->mark_high;
	*low = p->mark_low;
}

void process__set_marks(struct process *p, uint64_t high, uint64_t low)
{
	p->mark_high = high;
	p->mark_low = low;
}

int process__set_cmdline(struct process *p, const char *cmdline, size_t len)
{
	char *copy;

	if (len > PROCESS_CMDLINE_MAX)
		len = PROCESS_CMDLINE_MAX;
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, cmdline, len);
	copy[len] = '\0';      /* a last argument cut short is a string too */
	free(p->cmdline);
	p->cmdline = copy;
	p->cmdline_len = len;
	p->section = PROCESS_SECTION_UNJUDGED;
	return 0;
}

const char *process__cmdline(const struct process *p, size_t *len)
{
	*len = p->cmdline_len;
	return p->cmdline;
}

int process__push_rss(struct process *p, uint64_t sec, uint64_t rss)
{
	if (!p->timeline && rss_timeline__new(RSS_TIMELINE_SECONDS, &p->timeline) < 0)
		return -ENOMEM;
	rss_timeline__push(p->timeline, sec, rss);
	return 0;
}

const struct rss_timeline *process__timeline(const struct process *p)
{
	return p->timeline;
}

int process__note_capture(struct process *p, unsigned job, int kind, struct timespec ended_at,
			  const char *const *files, unsigned n_files)
{
	struct process_capture c = { .job = job, .kind = kind, .ended_at = ended_at };

	/* An earlier program's job (an exec cleared p->job), or none of p's. */
	if (!job || job != p->job)
		return -ESTALE;
	if (!p->captures) {
		p->captures = calloc(PROCESS_CAPTURES_MAX, sizeof(*p->captures));
		if (!p->captures)
			return -ENOMEM;
	}
	for (unsigned f = 0; f < n_files && f < PROCESS_CAPTURE_FILES; f++) {
		c.files[f] = strdup(files[f]);
		if (!c.files[f]) {
			capture_clear(&c);
			return -ENOMEM;
		}
	}
	capture_clear(&p->captures[p->next_capture]);
	p->captures[p->next_capture] = c;
	p->next_capture = (p->next_capture + 1) % PROCESS_CAPTURES_MAX;
	if (p->n_captures < PROCESS_CAPTURES_MAX)
		p->n_captures++;
	return 0;
}

void process__foreach_capture(const struct process *p, void (*fn)(void *ctx, const struct process_capture *c),
			      void *ctx)
{
	for (unsigned i = 0; i < p->n_captures; i++)
		fn(ctx, &p->captures[(p->next_capture + PROCESS_CAPTURES_MAX - p->n_captures + i) %
				     PROCESS_CAPTURES_MAX]);
}

void process__cgroup_paths(const struct process *p, const char **v1, const char **v2)
{
	*v1 = p->cgroup_v1;
	*v2 = p->cgroup_v2;
}

bool process__oom_recorded(const struct process *p)
{
	return p->oom_recorded;
}

void process__set_oom_recorded(struct process *p)
{
	p->oom_recorded = true;
}
