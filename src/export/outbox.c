// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE             /* pthread_setname_np() */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "fsutil.h"
#include "meta.h"
#include "outbox.h"
#include "spool.h"

#define META_EXT        "meta.json"
#define RECORD_EXT      "json"
#define DELIVERED_EXT   "delivered"
#define FAILED_EXT      "failed"
#define UNWANTED_EXT    "unwanted"
#define META_MAX        (1024 * 1024)   /* a meta.json or record the agent wrote is far smaller */
#define BACKOFF_MAX_MS  (10 * 60 * 1000)
#define EVENTS_MAX      256

static const char *const event_names[_OUTBOX_EVENT_MAX] = {
	[OUTBOX_DELIVERED] = "delivered",
	[OUTBOX_RETRY] = "retry",
	[OUTBOX_GAVE_UP] = "gave-up",
	[OUTBOX_UNREADABLE] = "unreadable",
	[OUTBOX_REMOVED] = "removed",
};

const char *outbox_event_name(enum outbox_event_kind k)
{
	return (unsigned)k < _OUTBOX_EVENT_MAX ? event_names[k] : NULL;
}

uint64_t outbox_backoff_ms(unsigned n, uint64_t initial_ms, uint64_t max_ms, double jitter01)
{
	uint64_t d = initial_ms;

	for (unsigned i = 1; i < n && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	if (jitter01 < 0 || jitter01 >= 1)
		jitter01 = 0;
	return d / 2 + (uint64_t)((double)(d - d / 2) * jitter01);
}

/* A commit pending for one exporter. */
struct item {
	char base[FS_NAME_SIZE];
	int64_t committed_at;
	unsigned attempts;
	bool delivered;                 /* the server has it; only its marker is still to write */
};

struct event {
	enum outbox_event_kind kind;
	size_t exporter;
	char base[FS_NAME_SIZE];
	unsigned attempts;
	int result;
	char error[OUTBOX_ERROR_SIZE];
	uint64_t bytes, delay_ms;
};

struct exporter {
	struct outbox *ob;
	size_t index;
	const struct remote_exporter_ops *ops;
	void *state;
	int statefd;                    /* .outbox/NAME */
	pthread_t thread;
	bool have_thread;
	pthread_cond_t wake;

	/* Under ob->lock. */
	struct item *items;             /* pending, a ring in the order they are tried */
	size_t head, n, cap;
	uint64_t delivered, failed, attempts_failed;
	unsigned consecutive_failures;
	uint64_t resume_at_ms;          /* CLOCK_MONOTONIC: no attempt before */
	char last_error[OUTBOX_ERROR_SIZE];
};

struct outbox {
	int dirfd;                      /* the output folder */
	int boxfd;                      /* its .outbox */
	int efd;
	char *hostname;
	uint64_t retry_initial_ms, retry_max_ms;
	bool keep_local;
	void (*noted)(void *ctx, const struct outbox_event *ev);
	void *ctx;

	atomic_bool stop;
	pthread_mutex_t lock;
	bool have_lock;
	struct exporter ex[OUTBOX_EXPORTERS_MAX];
	size_t n_ex;

	/* Under lock: events for the loop, a ring. */
	struct event *events;
	size_t ev_head, n_events;
	unsigned long events_lost;
	uint64_t lost_removed_bytes;    /* of REMOVED events lost, for the spool to uncount still */
	bool sweep;                     /* markers of commits retention removed: look for them */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t wall_s(void)
{
	return (int64_t)time(NULL);
}

static double jitter(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)now_ms() * 2654435761u;
	return (double)r / 4294967296.0;
}

/* ---- the queue of one exporter (under ob->lock) ---- */

static struct item *item_at(struct exporter *e, size_t i)
{
	return &e->items[(e->head + i) % e->cap];
}

static bool queue_has(struct exporter *e, const char *base)
{
	for (size_t i = 0; i < e->n; i++)
		if (strcmp(item_at(e, i)->base, base) == 0)
			return true;
	return false;
}

/* A new commit beyond OUTBOX_PENDING_MAX waits for the next start; one tried again
 * (again) always has its place back. */
static int queue_push(struct exporter *e, const struct item *it, bool again)
{
	if (!again && e->n >= OUTBOX_PENDING_MAX)
		return -ENOBUFS;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16;
		struct item *items;

		items = malloc(cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		for (size_t i = 0; i < e->n; i++)
			items[i] = *item_at(e, i);
		free(e->items);
		e->items = items;
		e->head = 0;
		e->cap = cap;
	}
	*item_at(e, e->n++) = *it;
	return 0;
}

static void queue_pop(struct exporter *e, struct item *it)
{
	*it = *item_at(e, 0);
	e->head = (e->head + 1) % e->cap;
	e->n--;
}

/* Under ob->lock. */
static void post(struct outbox *ob, const struct event *ev)
{
	uint64_t one = 1;

	if (ob->n_events == EVENTS_MAX) {
		/* The loop is behind: the line is lost, not what the spool must uncount. */
		ob->events_lost++;
		if (ev->kind == OUTBOX_REMOVED)
			ob->lost_removed_bytes += ev->bytes;
		return;
	}
	ob->events[(ob->ev_head + ob->n_events++) % EVENTS_MAX] = *ev;
	if (write(ob->efd, &one, sizeof(one)) < 0) {
		/* The counter is far from overflowing: nothing to do. */
	}
}

/* ---- the state on disk ---- */

static bool marker_exists(int statefd, const char *base, const char *ext)
{
	char name[FS_NAME_SIZE];
	struct stat st;

	if (snprintf(name, sizeof(name), "%s.%s", base, ext) >= (int)sizeof(name))
		return false;
	return fstatat(statefd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static int marker_write(int statefd, const char *base, const char *ext, const char *why)
{
	char name[FS_NAME_SIZE], text[OUTBOX_ERROR_SIZE + 64];
	int n, r;

	if (snprintf(name, sizeof(name), "%s.%s", base, ext) >= (int)sizeof(name))
		return -ENAMETOOLONG;
	n = snprintf(text, sizeof(text), "%lld %s\n", (long long)wall_s(), why);
	if (n < 0 || n >= (int)sizeof(text))
		n = (int)sizeof(text) - 1;
	r = fs_write_atomic_at(statefd, name, text, (size_t)n, true);
	/* The rename too must survive a power cut: else the commit is sent again. */
	return r < 0 ? r : fs_fsync_dir_at(statefd);
}

static void markers_remove(struct outbox *ob, const char *base)
{
	static const char *const exts[] = { DELIVERED_EXT, FAILED_EXT, UNWANTED_EXT };
	char name[FS_NAME_SIZE];

	for (size_t i = 0; i < ob->n_ex; i++) {
		for (size_t k = 0; k < sizeof(exts) / sizeof(exts[0]); k++) {
			if (snprintf(name, sizeof(name), "%s.%s", base, exts[k]) < (int)sizeof(name))
				unlinkat(ob->ex[i].statefd, name, 0);
		}
	}
}

/* Whether name is BASE.meta.json or a record BASE.json, BASE ours; base (FS_NAME_SIZE) gets it. */
static bool commit_name(int dirfd, const char *name, char *base, bool *record)
{
	size_t len = strlen(name), blen;
	char meta[FS_NAME_SIZE];
	struct stat st;

	if (len > strlen(META_EXT) + 1 && strcmp(name + len - strlen(META_EXT), META_EXT) == 0 &&
	    name[len - strlen(META_EXT) - 1] == '.') {
		blen = len - strlen(META_EXT) - 1;
		*record = false;
	} else if (len > strlen(RECORD_EXT) + 1 && strcmp(name + len - strlen(RECORD_EXT), RECORD_EXT) == 0 &&
		   name[len - strlen(RECORD_EXT) - 1] == '.') {
		blen = len - strlen(RECORD_EXT) - 1;
		*record = true;
	} else {
		return false;
	}
	if (blen == 0 || blen >= FS_NAME_SIZE)
		return false;
	memcpy(base, name, blen);
	base[blen] = '\0';
	if (strchr(base, '.') || !meta_is_file_base(base))
		return false;
	/* A record is BASE.json with no BASE.meta.json beside it. */
	if (*record && snprintf(meta, sizeof(meta), "%s.%s", base, META_EXT) < (int)sizeof(meta) &&
	    fstatat(dirfd, meta, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return false;
	return true;
}

/* Open the commit's meta.json (or record) read-only, a regular file. */
static int open_meta(int dirfd, const char *base, bool *record, struct stat *st)
{
	char name[FS_NAME_SIZE];
	int fd;

	for (int k = 0; k < 2; k++) {
		snprintf(name, sizeof(name), "%s.%s", base, k == 0 ? META_EXT : RECORD_EXT);
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
			close(fd);
			return -EINVAL;
		}
		*record = k == 1;
		return fd;
	}
	return -ENOENT;
}

static int scan_exporter(struct outbox *ob, struct exporter *e, DIR *dir)
{
	struct dirent *de;
	int r = 0;

	rewinddir(dir);
	for (;;) {
		char base[FS_NAME_SIZE];
		struct stat st;
		bool record;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			r = -errno;
			break;
		}
		if (de->d_name[0] == '.' || !commit_name(ob->dirfd, de->d_name, base, &record))
			continue;
		if (fstatat(ob->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (marker_exists(e->statefd, base, DELIVERED_EXT) || marker_exists(e->statefd, base, FAILED_EXT) ||
		    marker_exists(e->statefd, base, UNWANTED_EXT))
			continue;
		struct item it = { .committed_at = st.st_mtim.tv_sec };

		snprintf(it.base, sizeof(it.base), "%s", base);
		r = queue_push(e, &it, false);
		if (r == -ENOBUFS) {
			r = 0;
			break;
		}
		if (r < 0)
			break;
	}
	return r;
}

static int by_committed(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->committed_at != y->committed_at)
		return x->committed_at < y->committed_at ? -1 : 1;
	return strcmp(x->base, y->base);
}

/* Markers whose commit is gone: removed. */
static void sweep_markers(struct outbox *ob, struct exporter *e)
{
	struct dirent *de;
	DIR *dir;
	int fd = openat(e->statefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || !(dir = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(dir))) {
		char base[FS_NAME_SIZE];
		const char *dot = strrchr(de->d_name, '.');
		struct stat st;
		bool record;
		int mfd;

		if (de->d_name[0] == '.' || !dot ||
		    (strcmp(dot + 1, DELIVERED_EXT) != 0 && strcmp(dot + 1, FAILED_EXT) != 0 &&
		     strcmp(dot + 1, UNWANTED_EXT) != 0) ||
		    (size_t)(dot - de->d_name) >= sizeof(base))
			continue;
		memcpy(base, de->d_name, (size_t)(dot - de->d_name));
		base[dot - de->d_name] = '\0';
		mfd = open_meta(ob->dirfd, base, &record, &st);
		if (mfd >= 0)
			close(mfd);
		else if (mfd == -ENOENT)
			unlinkat(e->statefd, de->d_name, 0);
	}
	closedir(dir);
}

/* ---- one delivery ---- */

struct loaded {
	struct delivery d;
	struct delivery_file files[DELIVERY_FILES_MAX];
	char names[DELIVERY_FILES_MAX][FS_NAME_SIZE];
	cJSON *meta;
	uint64_t bytes;                 /* of every file */
};

static int add_file(struct loaded *l, int dirfd, const char *base, const char *name)
{
	size_t blen = strlen(base), i = l->d.n_files;
	struct stat st;

	if (i == DELIVERY_FILES_MAX || strncmp(name, base, blen) != 0 || name[blen] != '.' || !name[blen + 1] ||
	    strchr(name, '/') || strlen(name) >= FS_NAME_SIZE)
		return -EBADMSG;
	for (size_t k = 0; k < i; k++)
		if (strcmp(l->names[k], name) == 0)
			return 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	snprintf(l->names[i], FS_NAME_SIZE, "%s", name);
	l->files[i] = (struct delivery_file){ .name = l->names[i], .ext = l->names[i] + blen + 1,
					      .size = (uint64_t)st.st_size };
	l->bytes += (uint64_t)st.st_size;
	l->d.n_files++;
	return 0;
}

/*
 * Read the commit base: its meta.json (or record), parsed, and the files it names.
 * -ENOENT: gone (removed meanwhile); -EBADMSG: not a commit the agent could have
 * written; -errno from reading.
 */
static int load(struct outbox *ob, const char *base, struct loaded *l)
{
	const cJSON *profile, *files, *kind;
	char meta_name[FS_NAME_SIZE];
	struct stat st;
	bool record;
	char *text;
	ssize_t n;
	int fd, r;

	memset(l, 0, sizeof(*l));
	fd = open_meta(ob->dirfd, base, &record, &st);
	if (fd < 0)
		return fd;
	if (st.st_size <= 0 || st.st_size > META_MAX) {
		close(fd);
		return -EBADMSG;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	n = pread(fd, text, (size_t)st.st_size, 0);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r == 0 && n != st.st_size)
		r = -EBADMSG;
	if (r < 0) {
		free(text);
		return r;
	}
	text[n] = '\0';
	l->meta = cJSON_ParseWithLength(text, (size_t)n);
	free(text);
	if (!cJSON_IsObject(l->meta))
		return -EBADMSG;
	l->d = (struct delivery){ .dirfd = ob->dirfd, .files = l->files, .meta = l->meta, .hostname = ob->hostname,
				  .committed_at = st.st_mtim.tv_sec, .stop = &ob->stop };
	snprintf(meta_name, sizeof(meta_name), "%s.%s", base, record ? RECORD_EXT : META_EXT);
	if (record) {
		kind = cJSON_GetObjectItemCaseSensitive(l->meta, "event");
	} else {
		profile = cJSON_GetObjectItemCaseSensitive(l->meta, "profile");
		kind = cJSON_GetObjectItemCaseSensitive(profile, "type");
		files = cJSON_GetObjectItemCaseSensitive(profile, "files");
		if (!files) {
			/* Before profile.files: profile.file alone. */
			const cJSON *file = cJSON_GetObjectItemCaseSensitive(profile, "file");

			if (cJSON_IsString(file) && (r = add_file(l, ob->dirfd, base, file->valuestring)) < 0)
				return r == -ENOENT ? -EBADMSG : r;
		} else if (!cJSON_IsArray(files)) {
			return -EBADMSG;
		}
		for (const cJSON *f = files ? files->child : NULL; f; f = f->next) {
			if (!cJSON_IsString(f))
				return -EBADMSG;
			r = add_file(l, ob->dirfd, base, f->valuestring);
			if (r < 0)
				return r == -ENOENT ? -EBADMSG : r;
		}
	}
	if (!cJSON_IsString(kind) || !kind->valuestring[0] || strlen(kind->valuestring) > 64 ||
	    strspn(kind->valuestring, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(kind->valuestring))
		return -EBADMSG;
	l->d.kind = kind->valuestring;
	r = add_file(l, ob->dirfd, base, meta_name);      /* meta.json (or the record) last */
	if (r < 0)
		return r;
	l->d.base = base;
	return 0;
}

static void loaded_free(struct loaded *l)
{
	cJSON_Delete(l->meta);
	l->meta = NULL;
}

/* Whether the commit is elsewhere now: wanted by one exporter at least, and delivered by
 * every one that wants it. (Given up is not delivered: the folder has the only copy.) */
static bool delivered_everywhere(struct outbox *ob, const struct loaded *l)
{
	bool wanted = false;

	for (size_t i = 0; i < ob->n_ex; i++) {
		struct exporter *e = &ob->ex[i];

		if (e->ops->wants && !e->ops->wants(&l->d))
			continue;
		wanted = true;
		if (!marker_exists(e->statefd, l->d.base, DELIVERED_EXT))
			return false;
	}
	return wanted;
}

/* Without keep_local: the commit's files, meta.json last, then its markers. Not under
 * ob->lock (it syncs the folder). Two exporters finishing the same commit at once may both
 * get here: each counts only the files its own unlink removed. */
static uint64_t remove_commit(struct outbox *ob, const struct loaded *l)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < l->d.n_files; i++) {
		if (unlinkat(ob->dirfd, l->files[i].name, 0) == 0)
			bytes += l->files[i].size;
	}
	fs_fsync_dir_at(ob->dirfd);
	markers_remove(ob, l->d.base);
	return bytes;
}

/* Whether the commit base is still in the folder (its meta.json or record). */
static bool still_there(struct outbox *ob, const char *base)
{
	struct stat st;
	bool record;
	int fd = open_meta(ob->dirfd, base, &record, &st);

	if (fd >= 0)
		close(fd);
	return fd != -ENOENT;
}

/* Under ob->lock: a failed attempt. The commit goes to the back of the queue and the
 * exporter waits. */
static void attempt_failed(struct exporter *e, struct item *it, struct event *ev, int r, const char *err)
{
	struct outbox *ob = e->ob;

	it->attempts++;
	e->attempts_failed++;
	e->consecutive_failures++;
	ev->delay_ms = outbox_backoff_ms(e->consecutive_failures, ob->retry_initial_ms, BACKOFF_MAX_MS, jitter());
	e->resume_at_ms = now_ms() + ev->delay_ms;
	snprintf(e->last_error, sizeof(e->last_error), "%s", err && err[0] ? err : strerror(-r));
	ev->kind = OUTBOX_RETRY;
	ev->result = r;
	snprintf(ev->error, sizeof(ev->error), "%s", e->last_error);
	post(ob, ev);
	queue_push(e, it, true);        /* its slot back: never past its place */
}

static void exporter_attempt(struct exporter *e, struct item *it)
{
	struct outbox *ob = e->ob;
	struct event ev = { .exporter = e->index, .attempts = it->attempts + 1 };
	char err[OUTBOX_ERROR_SIZE] = "";
	bool wants, remove = false, gone = false;
	struct loaded l;
	int r;

	snprintf(ev.base, sizeof(ev.base), "%s", it->base);
	r = load(ob, it->base, &l);
	if (r == -ENOENT) {
		loaded_free(&l);
		return;         /* removed meanwhile (retention, an operator): nothing to deliver */
	}
	if (r == -EBADMSG) {
		loaded_free(&l);
		ev.kind = OUTBOX_UNREADABLE;
		ev.result = r;
		pthread_mutex_lock(&ob->lock);
		post(ob, &ev);
		pthread_mutex_unlock(&ob->lock);
		return;         /* left alone, until the next start reads it again */
	}
	if (r < 0) {
		/* No memory, no fd, an I/O error: later. */
		snprintf(err, sizeof(err), "reading %s: %s", it->base, strerror(-r));
		pthread_mutex_lock(&ob->lock);
		attempt_failed(e, it, &ev, r, err);
		pthread_mutex_unlock(&ob->lock);
		loaded_free(&l);
		return;
	}
	wants = !e->ops->wants || e->ops->wants(&l.d);
	if (!wants) {
		/* Not for this exporter (Pyroscope and a heap snapshot): no failure, no retry, and
		 * marked, so that no start reads it again for it. Should the marker not be written,
		 * the next start only asks again. */
		marker_write(e->statefd, it->base, UNWANTED_EXT, "not for this exporter");
		loaded_free(&l);
		return;
	}
	if (!it->delivered && it->committed_at + (int64_t)(ob->retry_max_ms / 1000) < wall_s()) {
		r = marker_write(e->statefd, it->base, FAILED_EXT, "given up");
		ev.kind = OUTBOX_GAVE_UP;
		ev.result = -ETIMEDOUT;
		pthread_mutex_lock(&ob->lock);
		snprintf(ev.error, sizeof(ev.error), "%s", e->last_error);
		e->failed++;
		post(ob, &ev);
		pthread_mutex_unlock(&ob->lock);
		loaded_free(&l);
		return;
	}
	if (!it->delivered) {
		r = e->ops->deliver(e->state, &l.d, err, sizeof(err));
		if (r == 0)
			it->delivered = true;
		else if (r != -ECANCELED)
			gone = !still_there(ob, it->base);      /* removed while it went up */
	}
	if (it->delivered) {
		/* Sent: from now on only the marker is tried again, never the upload. */
		r = marker_write(e->statefd, it->base, DELIVERED_EXT, "delivered");
		if (r < 0)
			snprintf(err, sizeof(err), "delivered, but cannot record it in %s/%s: %s", OUTBOX_DIR,
				 e->ops->name, strerror(-r));
	}
	if (r == 0 && !ob->keep_local)
		remove = delivered_everywhere(ob, &l);
	pthread_mutex_lock(&ob->lock);
	if (r == -ECANCELED && atomic_load(&ob->stop)) {
		/* Shutting down: it stays pending on disk. */
	} else if (gone) {
		/* Gone from the folder: nothing to deliver, no reason to wait. */
	} else if (r < 0) {
		attempt_failed(e, it, &ev, r, err);
	} else {
		e->delivered++;
		e->consecutive_failures = 0;
		e->resume_at_ms = 0;
		e->last_error[0] = '\0';
		ev.kind = OUTBOX_DELIVERED;
		post(ob, &ev);
	}
	pthread_mutex_unlock(&ob->lock);
	if (remove) {
		struct event rm = { .kind = OUTBOX_REMOVED, .exporter = e->index, .attempts = it->attempts + 1 };

		snprintf(rm.base, sizeof(rm.base), "%s", it->base);
		rm.bytes = remove_commit(ob, &l);
		pthread_mutex_lock(&ob->lock);
		post(ob, &rm);
		pthread_mutex_unlock(&ob->lock);
	}
	loaded_free(&l);
}

static void *exporter_thread(void *arg)
{
	struct exporter *e = arg;
	struct outbox *ob = e->ob;
	char name[16];

	snprintf(name, sizeof(name), "inspectd-%.6s", e->ops->name);
	pthread_setname_np(pthread_self(), name);
	pthread_mutex_lock(&ob->lock);
	while (!atomic_load(&ob->stop)) {
		uint64_t now = now_ms();
		struct item it;

		if (ob->sweep && e->index == 0) {
			ob->sweep = false;
			pthread_mutex_unlock(&ob->lock);
			for (size_t i = 0; i < ob->n_ex; i++)
				sweep_markers(ob, &ob->ex[i]);
			pthread_mutex_lock(&ob->lock);
			continue;
		}

		if (e->n == 0 || e->resume_at_ms > now) {
			struct timespec ts;

			if (e->n == 0) {
				pthread_cond_wait(&e->wake, &ob->lock);
				continue;
			}
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += (time_t)((e->resume_at_ms - now) / 1000);
			ts.tv_nsec += (long)((e->resume_at_ms - now) % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&e->wake, &ob->lock, &ts);
			continue;
		}
		queue_pop(e, &it);
		pthread_mutex_unlock(&ob->lock);
		exporter_attempt(e, &it);
		pthread_mutex_lock(&ob->lock);
	}
	pthread_mutex_unlock(&ob->lock);
	return NULL;
}

/* ---- the loop's ---- */

static bool plain_word(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n < 16 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789") == n;
}

/* .outbox/NAME, made root's alone if missing; refused if it is anyone else's. */
static int open_state_dir(int parentfd, const char *name, int *ret)
{
	int fd;

	if (mkdirat(parentfd, name, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fs_check_private_dir(fd) < 0) {
		close(fd);
		return -EPERM;
	}
	*ret = fd;
	return 0;
}

int outbox__new(const struct outbox_config *cfg, struct outbox **ret)
{
	struct outbox *ob;
	DIR *dir = NULL;
	int r, fd;

	if (!cfg->n_remotes || cfg->n_remotes > OUTBOX_EXPORTERS_MAX) {
		r = -EINVAL;
		goto fail_states;
	}
	for (size_t i = 0; i < cfg->n_remotes; i++) {
		if (!cfg->remotes[i].ops || !plain_word(cfg->remotes[i].ops->name) || !cfg->remotes[i].ops->deliver) {
			r = -EINVAL;
			goto fail_states;
		}
	}
	ob = calloc(1, sizeof(*ob));
	if (!ob) {
		r = -ENOMEM;
		goto fail_states;
	}
	ob->dirfd = ob->boxfd = ob->efd = -1;
	ob->retry_initial_ms = cfg->retry_initial_ms ? cfg->retry_initial_ms : 5000;
	ob->retry_max_ms = cfg->retry_max_ms ? cfg->retry_max_ms : 24ull * 3600 * 1000;
	ob->keep_local = cfg->keep_local;
	ob->noted = cfg->noted;
	ob->ctx = cfg->ctx;
	atomic_init(&ob->stop, false);
	for (size_t i = 0; i < cfg->n_remotes; i++) {
		ob->ex[i] = (struct exporter){ .ob = ob, .index = i, .ops = cfg->remotes[i].ops,
					       .state = cfg->remotes[i].state, .statefd = -1 };
		pthread_condattr_t attr;

		/* Its timed waits are on CLOCK_MONOTONIC, as resume_at_ms is. */
		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		pthread_cond_init(&ob->ex[i].wake, &attr);
		pthread_condattr_destroy(&attr);
	}
	ob->n_ex = cfg->n_remotes;
	pthread_mutex_init(&ob->lock, NULL);
	ob->have_lock = true;
	ob->hostname = strdup(cfg->hostname ? cfg->hostname : "");
	ob->events = calloc(EVENTS_MAX, sizeof(*ob->events));
	if (!ob->hostname || !ob->events) {
		r = -ENOMEM;
		goto fail;
	}
	ob->dirfd = open(cfg->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ob->dirfd < 0) {
		r = -errno;
		goto fail;
	}
	r = open_state_dir(ob->dirfd, OUTBOX_DIR, &ob->boxfd);
	if (r < 0)
		goto fail;
	ob->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ob->efd < 0) {
		r = -errno;
		goto fail;
	}
	fd = openat(ob->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(dir = fdopendir(fd))) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	for (size_t i = 0; i < ob->n_ex; i++) {
		struct exporter *e = &ob->ex[i];

		r = open_state_dir(ob->boxfd, e->ops->name, &e->statefd);
		if (r < 0)
			goto fail;
		sweep_markers(ob, e);
		r = scan_exporter(ob, e, dir);
		if (r < 0)
			goto fail;
		if (e->n > 1)
			qsort(e->items, e->n, sizeof(*e->items), by_committed);
	}
	closedir(dir);
	dir = NULL;
	for (size_t i = 0; i < ob->n_ex; i++) {
		r = -pthread_create(&ob->ex[i].thread, NULL, exporter_thread, &ob->ex[i]);
		if (r < 0)
			goto fail;
		ob->ex[i].have_thread = true;
	}
	*ret = ob;
	return 0;
fail:
	if (dir)
		closedir(dir);
	outbox__free(ob);
	return r;
fail_states:
	for (size_t i = 0; i < cfg->n_remotes && i < OUTBOX_EXPORTERS_MAX; i++)
		if (cfg->remotes[i].ops && cfg->remotes[i].ops->free)
			cfg->remotes[i].ops->free(cfg->remotes[i].state);
	return r;
}

void outbox__committed(struct outbox *ob, const char *base, int64_t committed_at)
{
	struct item it = { .committed_at = committed_at };

	if (!ob || strlen(base) >= sizeof(it.base))
		return;
	snprintf(it.base, sizeof(it.base), "%s", base);
	pthread_mutex_lock(&ob->lock);
	for (size_t i = 0; i < ob->n_ex; i++) {
		struct exporter *e = &ob->ex[i];

		if (!queue_has(e, base) && queue_push(e, &it, false) == 0)
			pthread_cond_signal(&e->wake);
	}
	pthread_mutex_unlock(&ob->lock);
}

void outbox__forget(struct outbox *ob, const char *base)
{
	if (!ob)
		return;
	if (!base) {
		/* Too many to name: each exporter's thread looks for markers of gone commits. */
		pthread_mutex_lock(&ob->lock);
		ob->sweep = true;
		for (size_t i = 0; i < ob->n_ex; i++)
			pthread_cond_signal(&ob->ex[i].wake);
		pthread_mutex_unlock(&ob->lock);
		return;
	}
	/* The markers only: a queued item finds its commit gone and is dropped. */
	markers_remove(ob, base);
}

int outbox__fd(const struct outbox *ob)
{
	return ob->efd;
}

void outbox__dispatch(struct outbox *ob)
{
	uint64_t v;

	if (read(ob->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing new */
	}
	for (;;) {
		struct event ev;
		struct outbox_event out;

		pthread_mutex_lock(&ob->lock);
		if (!ob->n_events && ob->lost_removed_bytes) {
			/* What lost events removed, as one: the spool's count must follow. */
			ev = (struct event){ .kind = OUTBOX_REMOVED, .bytes = ob->lost_removed_bytes };
			snprintf(ev.base, sizeof(ev.base), "(%lu commits whose lines were lost)", ob->events_lost);
			ob->lost_removed_bytes = 0;
			pthread_mutex_unlock(&ob->lock);
			out = (struct outbox_event){ .kind = ev.kind, .exporter = ob->ex[0].ops->name, .base = ev.base,
						     .error = "", .bytes = ev.bytes };
			if (ob->noted)
				ob->noted(ob->ctx, &out);
			continue;
		}
		if (!ob->n_events) {
			pthread_mutex_unlock(&ob->lock);
			break;
		}
		ev = ob->events[ob->ev_head];
		ob->ev_head = (ob->ev_head + 1) % EVENTS_MAX;
		ob->n_events--;
		pthread_mutex_unlock(&ob->lock);
		out = (struct outbox_event){ .kind = ev.kind, .exporter = ob->ex[ev.exporter].ops->name, .base = ev.base,
					     .attempts = ev.attempts, .result = ev.result, .error = ev.error,
					     .bytes = ev.bytes, .delay_ms = ev.delay_ms };
		if (ob->noted)
			ob->noted(ob->ctx, &out);
	}
}

int outbox__rank(struct outbox *ob, const char *base)
{
	struct loaded l;
	int r;

	if (!ob)
		return 0;
	r = load(ob, base, &l);
	if (r < 0) {
		loaded_free(&l);
		/* Gone, or nothing an exporter could read: nothing to lose. Anything else (no
		 * memory, no fd) says nothing: kept with the undelivered. */
		return r == -ENOENT || r == -EBADMSG ? 0 : 1;
	}
	r = delivered_everywhere(ob, &l) ? 0 : 1;
	loaded_free(&l);
	return r;
}

size_t outbox__status(struct outbox *ob, struct outbox_status *out, size_t max)
{
	uint64_t now = now_ms();
	size_t n = 0;

	if (!ob)
		return 0;
	pthread_mutex_lock(&ob->lock);
	for (size_t i = 0; i < ob->n_ex && n < max; i++, n++) {
		struct exporter *e = &ob->ex[i];
		int64_t oldest = 0;

		for (size_t k = 0; k < e->n; k++) {
			int64_t at = item_at(e, k)->committed_at;

			if (!oldest || at < oldest)
				oldest = at;
		}
		out[n] = (struct outbox_status){ .name = e->ops->name, .pending = e->n, .delivered = e->delivered,
						 .failed = e->failed, .attempts_failed = e->attempts_failed,
						 .oldest_pending_at = oldest,
						 .retry_in_ms = e->resume_at_ms > now ? e->resume_at_ms - now : 0,
						 .consecutive_failures = e->consecutive_failures };
		snprintf(out[n].last_error, sizeof(out[n].last_error), "%s", e->last_error);
	}
	pthread_mutex_unlock(&ob->lock);
	return n;
}

void outbox__free(struct outbox *ob)
{
	if (!ob)
		return;
	atomic_store(&ob->stop, true);
	if (ob->have_lock) {
		pthread_mutex_lock(&ob->lock);
		for (size_t i = 0; i < ob->n_ex; i++)
			pthread_cond_broadcast(&ob->ex[i].wake);
		pthread_mutex_unlock(&ob->lock);
	}
	for (size_t i = 0; i < ob->n_ex; i++) {
		struct exporter *e = &ob->ex[i];

		if (e->have_thread)
			pthread_join(e->thread, NULL);
		if (e->ops->free)
			e->ops->free(e->state);
		if (e->statefd >= 0)
			close(e->statefd);
		free(e->items);
		pthread_cond_destroy(&e->wake);
	}
	if (ob->have_lock)
		pthread_mutex_destroy(&ob->lock);
	if (ob->efd >= 0)
		close(ob->efd);
	if (ob->boxfd >= 0)
		close(ob->boxfd);
	if (ob->dirfd >= 0)
		close(ob->dirfd);
	free(ob->events);
	free(ob->hostname);
	free(ob);
}
