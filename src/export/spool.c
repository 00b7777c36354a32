// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE             /* pthread_setname_np() */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "fsutil.h"
#include "spool.h"

#define META_EXT "meta.json"
#define RECORD_EXT "json"       /* a record: BASE.json alone (spool__commit_record()) */

/*
 * A compressed file's gzip stream (spool_file__compress()): one z_stream and its output
 * block, written to the file whenever it is full (and at the finish), so that the file
 * gets large writes and the memory stays this struct and zlib's state, whatever the size.
 */
#define GZ_OUT_SIZE (64 * 1024)
struct gz {
	z_stream zs;
	unsigned char out[GZ_OUT_SIZE];
};

struct spool_file {
	struct spool *spool;    /* borrowed */
	int fd;
	uint64_t size;          /* bytes accepted by writes (compressed: before compression) */
	uint64_t disk;          /* bytes in the file: what the cap and the quota count */
	uint64_t max;           /* the cap on disk; 0: none */
	struct gz *gz;          /* NULL: written as given */
	int error;              /* a failed write could not be undone: the file is unusable */
	char name[FS_NAME_SIZE];        /* the temporary */
};

/*
 * One commit. Filled on the loop, then the thread's from spool__commit() until it is on
 * the finished list; then the loop's again. Apart from that hand-off (under the mutex):
 * the loop alone touches done, ctx and pending_next; the thread alone writes result,
 * used and used_ok; the rest is not written after it is queued.
 */
struct commit {
	size_t n;                               /* files */
	int fds[SPOOL_COMMIT_FILES_MAX];        /* the thread closes them */
	char temps[SPOOL_COMMIT_FILES_MAX][FS_NAME_SIZE];
	char *paths[SPOOL_COMMIT_FILES_MAX + 1];        /* "DIR/BASE.EXT", then "DIR/BASE.meta.json" */
	size_t name_at;                         /* where the final name starts in each path */
	char *meta;
	const char *meta_ext;                   /* META_EXT, or a record's extension */
	uint64_t bytes;                         /* counted in spool->pending: the files and meta */

	/* A derived file: files[derived] (derived < n when there is one), made from
	 * files[derive.from] on the thread; derive.meta_without replaces meta if it is not
	 * written, derive_result says why. */
	size_t derived;
	struct spool_derive derive;
	int derive_result;
	bool derive_written;

	spool_done_fn done;
	void *ctx;
	struct commit *pending_next;            /* the loop's list of commits not yet dispatched */

	int result;
	bool used_ok;                           /* the folder counted after this commit */
	uint64_t used;
	uint64_t ours;                          /* ... the bytes of it retention may remove */
	unsigned long removed;                  /* commits of old removed to make room for this one */
	char removed_names[SPOOL_REMOVED_NAMES][FS_NAME_SIZE];       /* ... the first of them */
	int removed_ranks[SPOOL_REMOVED_NAMES];
	int64_t committed_at;                   /* its meta.json's mtime, when it landed */

	struct commit *queue_next;              /* under the mutex: queued, or finished */
};

struct spool {
	char *dir;
	int dirfd;
	int efd;                        /* eventfd: the thread's answers */
	struct spool_limits lim;

	/* The loop's. */
	uint64_t committed;             /* bytes of the folder's files */
	uint64_t ours;                  /* ... of which retention may remove (0 without it) */
	unsigned long removed;          /* old commits removed to make room */
	struct spool_observer obs;
	uint64_t pending;               /* bytes of our temporaries and of the commits in flight */
	struct spool_derive_count derive_counts[SPOOL_DERIVE_NAMES_MAX];
	size_t n_derive_counts;
	struct commit *pending_head;    /* every commit not yet dispatched, newest first */
	size_t n_pending;

	/* Shared, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct commit *queue_head, *queue_tail;         /* for the thread */
	struct commit *done_head, *done_tail;           /* for spool__dispatch() */
	bool stopping;

	pthread_t thread;
	bool have_lock, have_thread;
};

/* ---- names ---- */

/* A name of ours: not empty, no '/', not hidden (the folder's dot names are temporaries). */
static bool plain_name(const char *s, size_t size)
{
	size_t len = strnlen(s, size);

	return len > 0 && len < size && !strchr(s, '/') && s[0] != '.';
}

static bool ext_ok(const char *ext)
{
	return plain_name(ext, SPOOL_EXT_SIZE) && strcmp(ext, META_EXT) != 0;
}

static const char *final_name(const struct commit *c, size_t i)
{
	return c->paths[i] + c->name_at;
}

/* Whether a commit not yet dispatched will have made, or has made, the name. */
static bool pending_has(const struct spool *s, const char *name)
{
	for (const struct commit *c = s->pending_head; c; c = c->pending_next) {
		for (size_t i = 0; i <= c->n; i++) {
			if (strcmp(final_name(c, i), name) == 0)
				return true;
		}
	}
	return false;
}

/* ---- the folder ---- */

/* A stream over the folder dirfd names (a fd of its own: dirfd stays open). 0 or -errno. */
static int opendir_at(int dirfd, DIR **ret)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	*ret = fdopendir(fd);
	if (!*ret) {
		r = -errno;
		close(fd);
		return r;
	}
	return 0;
}

/* The folder's next entry: 1 and *ret, 0 at its end, or -errno. */
static int next_entry(DIR *dir, struct dirent **ret)
{
	errno = 0;
	*ret = readdir(dir);
	if (*ret)
		return 1;
	return -errno;
}

/* An entry's stat, a link not followed: 1, 0 when it is gone (removed meanwhile), or -errno. */
static int stat_entry(int dirfd, const char *name, struct stat *st)
{
	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

/*
 * Bytes of the folder's regular files but our temporaries, and of those (temps may be
 * NULL); with remove_temps, our temporaries are removed (those a killed agent left: call
 * it before any is made).
 */
static int scan_folder(int dirfd, bool remove_temps, uint64_t *ret, uint64_t *temps)
{
	struct dirent *de;
	uint64_t total = 0, temp_total = 0;
	DIR *dir;
	int r = 0;

	r = opendir_at(dirfd, &dir);
	if (r < 0)
		return r;
	for (;;) {
		struct stat st;

		r = next_entry(dir, &de);
		if (r <= 0)
			break;
		if (fs_is_temp_name(de->d_name, SPOOL_TEMP_PREFIX)) {
			if (remove_temps)
				unlinkat(dirfd, de->d_name, 0);
			else if (temps && fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
				temp_total += (uint64_t)st.st_size;
			continue;
		}
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		r = stat_entry(dirfd, de->d_name, &st);
		if (r < 0)
			break;
		if (r > 0 && S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	closedir(dir);
	if (r == 0) {
		*ret = total;
		if (temps)
			*temps = temp_total;
	}
	return r;
}

/* ---- retention: the caller's old commits, oldest first ---- */

struct entry {
	char *name;
	uint64_t size;
	struct timespec mtime;
};

/* A commit in the folder: entries [first, first + n) of the listing, sorted by name. */
struct unit {
	size_t first, n, meta;
	size_t base_len;
	uint64_t bytes;
	struct timespec mtime;          /* its meta.json's: written last */
	int rank;                       /* spool_limits.rank()'s: lowest removed first */
};

struct survey {
	struct entry *entries;
	size_t n_entries;
	struct unit *units;
	size_t n_units;
	uint64_t bytes;                 /* of the units */
};

static void survey_free(struct survey *sv)
{
	for (size_t i = 0; i < sv->n_entries; i++)
		free(sv->entries[i].name);
	free(sv->entries);
	free(sv->units);
	memset(sv, 0, sizeof(*sv));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static int by_age(const void *a, const void *b)
{
	const struct unit *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

/*
 * name is BASE.EXT, EXT a plain extension without a dot ("heapprofile"), or one with ".gz"
 * after it (a compressed file, "heapsnapshot.gz"; pprof's "pb.gz"), or BASE.meta.json.
 * Nothing else with a dot: BASE.x.y may be another base's file.
 */
static bool member_of(const char *name, const char *base, size_t base_len)
{
	const char *ext = name + base_len + 1, *dot;

	if (strncmp(name, base, base_len) != 0 || name[base_len] != '.')
		return false;
	if (strcmp(ext, META_EXT) == 0)
		return true;
	dot = strchr(ext, '.');
	if (!dot)
		return ext[0] != '\0';
	return dot > ext && strcmp(dot, SPOOL_GZ_SUFFIX) == 0;
}

static int add_entry(struct survey *sv, size_t *cap, const char *name, const struct stat *st)
{
	if (sv->n_entries == *cap) {
		size_t n = *cap ? *cap * 2 : 64;
		struct entry *e = realloc(sv->entries, n * sizeof(*e));

		if (!e)
			return -ENOMEM;
		sv->entries = e;
		*cap = n;
	}
	sv->entries[sv->n_entries] = (struct entry){ .name = strdup(name), .size = (uint64_t)st->st_size,
						     .mtime = st->st_mtim };
	if (!sv->entries[sv->n_entries].name)
		return -ENOMEM;
	sv->n_entries++;
	return 0;
}

/* Whether the sorted listing has name. */
static bool listed(const struct survey *sv, const char *name)
{
	struct entry key = { .name = (char *)name };

	return sv->n_entries && bsearch(&key, sv->entries, sv->n_entries, sizeof(key), by_name);
}

/*
 * The commits in the folder that retain() says are the caller's, oldest first: for each
 * regular BASE.meta.json whose BASE retain() accepts, it and every regular BASE.EXT (EXT
 * without a dot); and each record, a regular BASE.json alone whose BASE retain() accepts
 * (no BASE.meta.json beside it). Temporaries, other names and anything but regular files
 * are never in one.
 */
static int survey_folder(int dirfd, const struct spool_limits *lim, struct survey *sv)
{
	size_t cap = 0;
	struct dirent *de;
	DIR *dir;
	int r = 0;

	memset(sv, 0, sizeof(*sv));
	r = opendir_at(dirfd, &dir);
	if (r < 0)
		return r;
	for (;;) {
		struct stat st;

		r = next_entry(dir, &de);
		if (r <= 0)
			break;
		if (de->d_name[0] == '.' || (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
			continue;       /* temporaries are dot names; so are . and .. */
		r = stat_entry(dirfd, de->d_name, &st);
		if (r < 0)
			break;
		if (r > 0 && S_ISREG(st.st_mode)) {
			r = add_entry(sv, &cap, de->d_name, &st);
			if (r < 0)
				break;
		}
	}
	closedir(dir);
	if (r < 0)
		goto fail;
	if (sv->n_entries > 1)
		qsort(sv->entries, sv->n_entries, sizeof(sv->entries[0]), by_name);
	for (size_t i = 0; i < sv->n_entries; i++) {
		const char *name = sv->entries[i].name;
		size_t len = strlen(name), base_len, first = i, last = i;
		char base[FS_NAME_SIZE];
		struct unit *u;

		bool record = false;

		if (len <= sizeof(META_EXT) || strcmp(name + len - strlen(META_EXT), META_EXT) != 0 ||
		    name[len - sizeof(META_EXT)] != '.') {
			/* A record? BASE.json, BASE without a dot. */
			if (len <= sizeof(RECORD_EXT) || strcmp(name + len - strlen(RECORD_EXT), RECORD_EXT) != 0 ||
			    name[len - sizeof(RECORD_EXT)] != '.')
				continue;
			record = true;
		}
		base_len = len - (record ? sizeof(RECORD_EXT) : sizeof(META_EXT));
		if (base_len >= sizeof(base))
			continue;
		memcpy(base, name, base_len);
		base[base_len] = '\0';
		if (record) {
			char meta[FS_NAME_SIZE];

			if (strchr(base, '.') ||
			    snprintf(meta, sizeof(meta), "%s.%s", base, META_EXT) >= (int)sizeof(meta) || listed(sv, meta))
				continue;       /* a commit's member, not a record */
		}
		if (!lim->retain(base))
			continue;
		/* Sorted by name: BASE.* are next to one another, around BASE.meta.json. A record is
		 * its one file. */
		while (!record && first > 0 && strncmp(sv->entries[first - 1].name, name, base_len + 1) == 0)
			first--;
		while (!record && last + 1 < sv->n_entries &&
		       strncmp(sv->entries[last + 1].name, name, base_len + 1) == 0)
			last++;
		u = realloc(sv->units, (sv->n_units + 1) * sizeof(*u));
		if (!u) {
			r = -ENOMEM;
			goto fail;
		}
		sv->units = u;
		u = &sv->units[sv->n_units++];
		*u = (struct unit){ .first = first, .n = last - first + 1, .meta = i, .base_len = base_len,
				    .mtime = sv->entries[i].mtime, .rank = lim->rank ? lim->rank(lim->rank_arg, base) : 0 };
		for (size_t k = first; k <= last; k++)
			if (member_of(sv->entries[k].name, base, base_len))
				u->bytes += sv->entries[k].size;
		sv->bytes += u->bytes;
	}
	if (sv->n_units > 1)
		qsort(sv->units, sv->n_units, sizeof(sv->units[0]), by_age);
	return 0;
fail:
	survey_free(sv);
	return r;
}

/* ---- the thread ---- */

/*
 * Room for c under the quota, on the thread: what the folder holds now (its files and
 * every temporary, c's own included) plus c's meta.json. Past the quota, the caller's
 * oldest commits go, a whole commit at a time (its files, then its meta.json), until it
 * fits. -EDQUOT, nothing removed, when it cannot fit even with all of them gone.
 */
static int make_room(int dirfd, const struct spool_limits *lim, struct commit *c)
{
	uint64_t files, temps, used, need = strlen(c->meta);
	struct survey sv;
	int r;

	r = scan_folder(dirfd, false, &files, &temps);
	if (r < 0)
		return r;
	used = files + temps;
	if (used + need <= lim->quota)
		return 0;
	r = survey_folder(dirfd, lim, &sv);
	if (r < 0)
		return r;
	if (used - (sv.bytes < used ? sv.bytes : used) + need > lim->quota) {
		survey_free(&sv);
		return -EDQUOT;
	}
	for (size_t u = 0; u < sv.n_units && used + need > lim->quota; u++) {
		const struct unit *un = &sv.units[u];
		const char *meta = sv.entries[un->meta].name;
		size_t base_len = un->base_len;
		char base[FS_NAME_SIZE];

		memcpy(base, meta, base_len);
		base[base_len] = '\0';
		for (size_t k = un->first; k < un->first + un->n; k++) {
			if (k == un->meta || !member_of(sv.entries[k].name, base, base_len))
				continue;
			unlinkat(dirfd, sv.entries[k].name, 0);
		}
		unlinkat(dirfd, meta, 0);
		used -= un->bytes < used ? un->bytes : used;
		if (c->removed < SPOOL_REMOVED_NAMES) {
			snprintf(c->removed_names[c->removed], FS_NAME_SIZE, "%s", base);
			c->removed_ranks[c->removed] = un->rank;
		}
		c->removed++;
	}
	survey_free(&sv);
	if (c->removed)
		fs_fsync_dir_at(dirfd);
	return used + need <= lim->quota ? 0 : -EDQUOT;
}

/*
 * Make the derived file from the file written through wfd (write-only) into a temporary
 * of its own; on failure derive_result says why. The input is opened again for reading
 * by its temporary name, and must be the same file as wfd's.
 */
static void run_derive(int dirfd, struct commit *c, int wfd)
{
	char *temp = c->temps[c->derived];
	struct stat a, b;
	int r, fd, in_fd;

	in_fd = openat(dirfd, c->temps[c->derive.from], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in_fd < 0) {
		temp[0] = '\0';
		c->derive_result = -errno;
		return;
	}
	if (fstat(in_fd, &a) < 0 || fstat(wfd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		close(in_fd);
		temp[0] = '\0';
		c->derive_result = -ESTALE;
		return;
	}
	r = fs_create_temp_at(dirfd, SPOOL_TEMP_PREFIX, temp, FS_NAME_SIZE, &fd);
	if (r < 0) {
		close(in_fd);
		temp[0] = '\0';
		c->derive_result = r;
		return;
	}
	r = c->derive.make(in_fd, fd, c->derive.arg);
	close(in_fd);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, temp, 0);
		temp[0] = '\0';
		c->derive_result = r;
	}
}

static int run_commit(int dirfd, const struct spool_limits *lim, struct commit *c)
{
	char meta_temp[FS_NAME_SIZE] = "";
	size_t renamed = 0;
	bool meta_renamed = false;
	bool derive = c->derived < c->n;
	int r = 0, fd;

	for (size_t i = 0; i < c->n; i++) {
		if (derive && i == c->derived)
			continue;
		if (r == 0 && fsync(c->fds[i]) < 0)
			r = -errno;
		if (r == 0 && derive && i == c->derive.from)
			run_derive(dirfd, c, c->fds[i]);
		if (close(c->fds[i]) < 0 && r == 0)
			r = -errno;
		c->fds[i] = -1;
	}
	if (r == 0 && lim->quota && lim->retain)
		r = make_room(dirfd, lim, c);
	/* The derived file first: should its name be taken, the commit goes on without it. */
	if (r == 0 && derive && c->temps[c->derived][0]) {
		int e = fs_rename_noreplace_at(dirfd, c->temps[c->derived], dirfd, final_name(c, c->derived));

		if (e < 0) {
			unlinkat(dirfd, c->temps[c->derived], 0);
			c->derive_result = e;
		} else {
			c->derive_written = true;
		}
		c->temps[c->derived][0] = '\0';
	}
	if (derive && !c->derive_written && c->derive_result == 0)
		c->derive_result = r < 0 ? r : -EIO;
	if (derive && !c->derive_written && c->derive.meta_without) {
		free(c->meta);
		c->meta = c->derive.meta_without;
		c->derive.meta_without = NULL;
	}
	if (r == 0) {
		r = fs_create_temp_at(dirfd, SPOOL_TEMP_PREFIX, meta_temp, sizeof(meta_temp), &fd);
		if (r < 0) {
			meta_temp[0] = '\0';
		} else {
			r = fs_write_all(fd, c->meta, strlen(c->meta));
			if (r == 0 && fsync(fd) < 0)
				r = -errno;
			if (close(fd) < 0 && r == 0)
				r = -errno;
		}
	}
	for (; r == 0 && renamed < c->n; renamed++) {
		if (derive && renamed == c->derived)
			continue;
		r = fs_rename_noreplace_at(dirfd, c->temps[renamed], dirfd, final_name(c, renamed));
		if (r < 0)
			break;
	}
	if (r == 0) {
		r = fs_rename_noreplace_at(dirfd, meta_temp, dirfd, final_name(c, c->n));
		meta_renamed = r == 0;
	}
	if (r == 0)
		r = fs_fsync_dir_at(dirfd);
	if (r == 0)
		return 0;

	/* All or nothing: what this commit made goes, whatever step failed. */
	for (size_t i = 0; i < c->n; i++) {
		if (derive && i == c->derived) {
			if (c->derive_written)
				unlinkat(dirfd, final_name(c, i), 0);
			else if (c->temps[i][0])
				unlinkat(dirfd, c->temps[i], 0);
			c->derive_written = false;
			if (c->derive_result == 0)
				c->derive_result = r;
			continue;
		}
		unlinkat(dirfd, i < renamed ? final_name(c, i) : c->temps[i], 0);
	}
	if (meta_renamed)
		unlinkat(dirfd, final_name(c, c->n), 0);
	else if (meta_temp[0])
		unlinkat(dirfd, meta_temp, 0);
	fs_fsync_dir_at(dirfd);
	return r;
}

/* Bytes of the folder's commits retention may remove. */
static int retained_bytes(const struct spool *s, uint64_t *ret)
{
	struct survey sv;
	struct spool_limits lim = s->lim;
	int r;

	lim.rank = NULL;        /* only the bytes count here */
	r = survey_folder(s->dirfd, &lim, &sv);

	if (r < 0)
		return r;
	*ret = sv.bytes;
	survey_free(&sv);
	return 0;
}

static void *spool_thread(void *arg)
{
	struct spool *s = arg;
	const uint64_t one = 1;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct commit *c;

		while (!s->queue_head && !s->stopping)
			pthread_cond_wait(&s->wake, &s->lock);
		c = s->queue_head;
		if (!c)
			break;          /* stopping, and nothing left */
		s->queue_head = c->queue_next;
		if (!s->queue_head)
			s->queue_tail = NULL;
		pthread_mutex_unlock(&s->lock);

		c->result = run_commit(s->dirfd, &s->lim, c);
		if (c->result == 0) {
			struct stat st;

			c->committed_at = fstatat(s->dirfd, final_name(c, c->n), &st, AT_SYMLINK_NOFOLLOW) == 0
						  ? st.st_mtim.tv_sec : (int64_t)time(NULL);
		}
		c->used_ok = scan_folder(s->dirfd, false, &c->used, NULL) == 0;
		if (c->used_ok && s->lim.quota && s->lim.retain)
			c->used_ok = retained_bytes(s, &c->ours) == 0;

		pthread_mutex_lock(&s->lock);
		c->queue_next = NULL;
		if (s->done_tail)
			s->done_tail->queue_next = c;
		else
			s->done_head = c;
		s->done_tail = c;
		/* Cannot fail short of 2^64 - 1 unread answers. */
		if (write(s->efd, &one, sizeof(one)) < 0) {
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---- the loop's side ---- */

static void commit_free(struct commit *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		if (c->fds[i] >= 0)
			close(c->fds[i]);
	}
	for (size_t i = 0; i <= SPOOL_COMMIT_FILES_MAX; i++)
		free(c->paths[i]);
	free(c->meta);
	free(c->derive.meta_without);
	if (c->derive.free_arg)
		c->derive.free_arg(c->derive.arg);
	free(c);
}

int spool__open(const char *dir, const struct spool_limits *lim, struct spool **ret)
{
	struct spool *s;
	sigset_t all, old;
	int r;

	if (!dir[0])
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->dirfd = -1;
	s->efd = -1;
	if (lim)
		s->lim = *lim;
	s->dir = strdup(dir);
	if (!s->dir) {
		r = -ENOMEM;
		goto fail;
	}
	r = fs_mkdir_parents(dir, 0755, 0700);
	if (r < 0)
		goto fail;
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		r = -errno;
		goto fail;
	}
	r = fs_check_private_dir(s->dirfd);
	if (r < 0)
		goto fail;
	r = scan_folder(s->dirfd, true, &s->committed, NULL);
	if (r < 0)
		goto fail;
	if (s->lim.quota && s->lim.retain) {
		r = retained_bytes(s, &s->ours);
		if (r < 0)
			goto fail;
	}
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0) {
		r = -errno;
		goto fail;
	}
	r = -pthread_mutex_init(&s->lock, NULL);
	if (r < 0)
		goto fail;
	r = -pthread_cond_init(&s->wake, NULL);
	if (r < 0) {
		pthread_mutex_destroy(&s->lock);
		goto fail;
	}
	s->have_lock = true;
	/* Signals are the loop's: the thread starts with all of them blocked. */
	sigfillset(&all);
	/* But SIGSYS: the system call filter's refusals come as it (syscall_filter.h). */
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&s->thread, NULL, spool_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto fail;
	s->have_thread = true;
	pthread_setname_np(s->thread, "inspectd-spool");
	*ret = s;
	return 0;
fail:
	spool__free(s);
	return r;
}

const char *spool__dir(const struct spool *s)
{
	return s->dir;
}

int spool__fd(const struct spool *s)
{
	return s->efd;
}

uint64_t spool__used(const struct spool *s)
{
	return s->committed + s->pending;
}

unsigned long spool__removed(const struct spool *s)
{
	return s->removed;
}

/* Whether len more bytes fit the quota, once retention removed what it may (at the commit). */
static bool quota_fits(const struct spool *s, uint64_t len)
{
	uint64_t used = spool__used(s);

	used -= s->ours < used ? s->ours : used;
	return !s->lim.quota || (used <= s->lim.quota && len <= s->lim.quota - used);
}

static void count_derive(struct spool *s, const char *name, bool written)
{
	size_t i;

	for (i = 0; i < s->n_derive_counts; i++) {
		if (strcmp(s->derive_counts[i].name, name) == 0)
			break;
	}
	if (i == s->n_derive_counts) {
		if (i == SPOOL_DERIVE_NAMES_MAX)
			return;
		s->derive_counts[s->n_derive_counts++] = (struct spool_derive_count){ .name = name };
	}
	if (written)
		s->derive_counts[i].written++;
	else
		s->derive_counts[i].failed++;
}

size_t spool__derive_counts(const struct spool *s, const struct spool_derive_count **ret)
{
	*ret = s->derive_counts;
	return s->n_derive_counts;
}

void spool__dispatch(struct spool *s)
{
	struct commit *list;
	uint64_t count;

	if (read(s->efd, &count, sizeof(count)) < 0) {
		/* EAGAIN: woken for answers an earlier call took already. */
	}
	pthread_mutex_lock(&s->lock);
	list = s->done_head;
	s->done_head = s->done_tail = NULL;
	pthread_mutex_unlock(&s->lock);

	while (list) {
		struct commit *c = list, **pp;

		list = c->queue_next;
		for (pp = &s->pending_head; *pp; pp = &(*pp)->pending_next) {
			if (*pp == c) {
				*pp = c->pending_next;
				s->n_pending--;
				break;
			}
		}
		s->pending -= c->bytes;
		s->removed += c->removed;
		if (s->obs.removed) {
			for (unsigned long k = 0; k < c->removed && k < SPOOL_REMOVED_NAMES; k++)
				s->obs.removed(s->obs.ctx, c->removed_names[k], c->removed_ranks[k], 1);
			if (c->removed > SPOOL_REMOVED_NAMES)
				s->obs.removed(s->obs.ctx, NULL, -1, c->removed - SPOOL_REMOVED_NAMES);
		}
		if (c->used_ok) {
			s->committed = c->used;
			s->ours = c->ours;
		} else if (c->result == 0) {
			s->committed += c->bytes;
		}
		if (c->derived < c->n) {
			const char *paths[SPOOL_COMMIT_FILES_MAX + 1];
			size_t np = 0;

			count_derive(s, c->derive.name, c->derive_written);
			if (c->derive.noted && c->done)
				c->derive.noted(c->ctx, c->derive_written ? 0 : c->derive_result,
						c->paths[c->derive.from], c->paths[c->derived]);
			for (size_t i = 0; i <= c->n; i++) {
				if (i != c->derived || c->derive_written)
					paths[np++] = c->paths[i];
			}
			if (c->done)
				c->done(c->ctx, c->result, paths, np);
		} else if (c->done) {
			c->done(c->ctx, c->result, (const char *const *)c->paths, c->n + 1);
		}
		if (c->result == 0 && s->obs.committed) {
			char base[SPOOL_BASE_SIZE];
			const char *name = final_name(c, c->n);
			size_t blen = strlen(name) - strlen(c->meta_ext) - 1;

			if (blen < sizeof(base)) {
				memcpy(base, name, blen);
				base[blen] = '\0';
				s->obs.committed(s->obs.ctx, base, c->committed_at);
			}
		}
		commit_free(c);
	}
}

void spool__set_rank(struct spool *s, int (*rank)(void *arg, const char *base), void *arg)
{
	/* Before the first commit: handing it to the thread (under the mutex) publishes these. */
	s->lim.rank = rank;
	s->lim.rank_arg = arg;
}

void spool__observe(struct spool *s, const struct spool_observer *obs)
{
	s->obs = obs ? *obs : (struct spool_observer){ 0 };
}

void spool__uncount(struct spool *s, uint64_t bytes)
{
	s->committed -= bytes < s->committed ? bytes : s->committed;
	s->ours -= bytes < s->ours ? bytes : s->ours;
}

int spool__begin(struct spool *s, struct spool_file **ret)
{
	struct spool_file *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	r = fs_create_temp_at(s->dirfd, SPOOL_TEMP_PREFIX, f->name, sizeof(f->name), &f->fd);
	if (r < 0) {
		free(f);
		return r;
	}
	f->spool = s;
	f->max = s->lim.file_max;
	*ret = f;
	return 0;
}

int spool_file__set_max(struct spool_file *f, uint64_t max)
{
	if (max && f->disk > max)
		return -EFBIG;
	f->max = max;
	return 0;
}

/* Whether len more bytes on disk pass the file's cap. */
static bool past_max(const struct spool_file *f, uint64_t len)
{
	return f->max && (f->disk > f->max || len > f->max - f->disk);
}

static void gz_free(struct spool_file *f)
{
	if (!f->gz)
		return;
	deflateEnd(&f->gz->zs);
	free(f->gz);
	f->gz = NULL;
}

int spool_file__compress(struct spool_file *f)
{
	struct gz *gz;
	int zr;

	if (f->gz)
		return 0;
	if (f->error)
		return f->error;
	if (f->size || f->disk)
		return -EBUSY;
	gz = calloc(1, sizeof(*gz));
	if (!gz)
		return -ENOMEM;
	/* 15 + 16: a gzip wrapper (header, CRC-32 and length), which gunzip and zcat read.
	 * Z_BEST_SPEED: it runs on the loop, as fast as a snapshot arrives. */
	zr = deflateInit2(&gz->zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	if (zr != Z_OK) {
		free(gz);
		return zr == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
	}
	gz->zs.next_out = gz->out;
	gz->zs.avail_out = sizeof(gz->out);
	f->gz = gz;
	return 0;
}

/* The output block to the file, under the cap and the quota, and empty again. */
static int gz_drain(struct spool_file *f)
{
	struct spool *s = f->spool;
	z_stream *zs = &f->gz->zs;
	size_t n = sizeof(f->gz->out) - zs->avail_out;
	int r;

	if (n == 0)
		return 0;
	if (past_max(f, n))
		return -EFBIG;
	if (!quota_fits(s, n))
		return -EDQUOT;
	r = fs_write_all(f->fd, f->gz->out, n);
	if (r < 0)
		return r;
	f->disk += n;
	s->pending += n;
	zs->next_out = f->gz->out;
	zs->avail_out = sizeof(f->gz->out);
	return 0;
}

/*
 * Through deflate(): len bytes of buf (flush Z_NO_FLUSH: all of it taken into zlib's
 * window, what it has compressed so far written out a full block at a time), or the end
 * of the stream (Z_FINISH, no input: everything, the trailer included, in the block or
 * the file). 0 or -errno; on failure what deflate() took may not be in the file.
 */
static int gz_deflate(struct spool_file *f, const unsigned char *buf, size_t len, int flush)
{
	z_stream *zs = &f->gz->zs;
	int r = 0, zr;

	for (;;) {
		if (zs->avail_in == 0 && len) {
			/* avail_in is an unsigned int: a chunk over 4 GiB goes in parts. */
			zs->next_in = (Bytef *)buf;
			zs->avail_in = len > UINT_MAX ? UINT_MAX : (uInt)len;
			buf += zs->avail_in;
			len -= zs->avail_in;
		}
		zr = deflate(zs, flush);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			r = -EIO;
			break;
		}
		if (zs->avail_out == 0) {
			r = gz_drain(f);
			if (r < 0)
				break;
			continue;
		}
		/* Room left in the block: deflate() stopped for want of input, or it is done. */
		if (flush == Z_FINISH ? zr == Z_STREAM_END : zs->avail_in == 0 && len == 0)
			break;
		if (zr == Z_BUF_ERROR) {
			r = -EIO;       /* no progress possible: never, short of a bug */
			break;
		}
	}
	/* The caller's buffer is not kept, even when a failure left some of it untaken (a
	 * reset does not forget it). */
	zs->next_in = NULL;
	zs->avail_in = 0;
	return r;
}

/* The gzip stream ended in the file (its last block and trailer written; the commit's
 * thread syncs it), and zlib's memory freed. */
static int gz_finish(struct spool_file *f)
{
	int r = gz_deflate(f, NULL, 0, Z_FINISH);

	if (r == 0)
		r = gz_drain(f);
	if (r < 0)
		return r;
	gz_free(f);
	return 0;
}

int spool_file__write(struct spool_file *f, const void *buf, size_t len)
{
	struct spool *s = f->spool;
	int r;

	if (f->error)
		return f->error;
	if (len == 0)
		return 0;
	if (f->gz) {
		r = gz_deflate(f, buf, len, Z_NO_FLUSH);
		if (r < 0) {
			/* zlib took bytes that are not in the file, nor can be taken back. */
			f->error = -EIO;
			return r;
		}
		f->size += len;
		return 0;
	}
	if (past_max(f, len))
		return -EFBIG;
	if (!quota_fits(s, len))
		return -EDQUOT;
	r = fs_write_all(f->fd, buf, len);
	if (r < 0) {
		/* Part of it may be in: back to where it was. */
		if (ftruncate(f->fd, (off_t)f->size) < 0 || lseek(f->fd, (off_t)f->size, SEEK_SET) < 0)
			f->error = -EIO;
		return r;
	}
	f->size += len;
	f->disk += len;
	s->pending += len;
	return 0;
}

int spool_file__truncate(struct spool_file *f, uint64_t size)
{
	if (size > f->size)
		return -EINVAL;
	if (f->gz) {
		/* A deflate stream cannot be cut back: only "nothing to drop" is done. */
		if (f->error)
			return f->error;
		return size == f->size ? 0 : -EOPNOTSUPP;
	}
	if (ftruncate(f->fd, (off_t)size) < 0 || lseek(f->fd, (off_t)size, SEEK_SET) < 0)
		return -errno;
	f->spool->pending -= f->disk - size;
	f->size = f->disk = size;
	f->error = 0;
	return 0;
}

int spool_file__reset(struct spool_file *f)
{
	if (!f->gz)
		return spool_file__truncate(f, 0);
	if (ftruncate(f->fd, 0) < 0 || lseek(f->fd, 0, SEEK_SET) < 0)
		return -errno;
	f->spool->pending -= f->disk;
	f->size = f->disk = 0;
	/* A new stream, its header first; deflateReset() fails only on a corrupt state. */
	f->error = deflateReset(&f->gz->zs) == Z_OK ? 0 : -EIO;
	f->gz->zs.next_out = f->gz->out;
	f->gz->zs.avail_out = sizeof(f->gz->out);
	return f->error;
}

uint64_t spool_file__size(const struct spool_file *f)
{
	return f->size;
}

uint64_t spool_file__disk_size(const struct spool_file *f)
{
	return f->disk;
}

void spool_file__abort(struct spool_file *f)
{
	if (!f)
		return;
	gz_free(f);
	close(f->fd);
	unlinkat(f->spool->dirfd, f->name, 0);
	f->spool->pending -= f->disk;
	free(f);
}

/* BASE.EXT in buf; -EINVAL when it is too long for a name, or -ENOBUFS for buf. */
static int make_name(char *buf, size_t size, const char *base, const char *ext)
{
	int n = snprintf(buf, size, "%s.%s", base, ext);

	if (n < 0 || (size_t)n >= size)
		return size >= FS_NAME_SIZE ? -EINVAL : -ENOBUFS;
	return 0;
}

int spool__reserve_base(struct spool *s, const char *stamp, const char *const *exts, size_t n, char *out,
			size_t size)
{
	if (!plain_name(stamp, SPOOL_BASE_SIZE) || n > SPOOL_COMMIT_FILES_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!ext_ok(exts[i]))
			return -EINVAL;
	}
	for (int k = 0; k < 1000; k++) {
		char base[SPOOL_BASE_SIZE];
		bool taken = false;
		int len;

		len = k ? snprintf(base, sizeof(base), "%s-%d", stamp, k) : snprintf(base, sizeof(base), "%s", stamp);
		if (len < 0 || (size_t)len >= sizeof(base))
			return -EINVAL;
		for (size_t i = 0; i <= n && !taken; i++) {
			char name[FS_NAME_SIZE];
			struct stat st;
			int r;

			r = make_name(name, sizeof(name), base, i < n ? exts[i] : META_EXT);
			if (r < 0)
				return r;
			if (pending_has(s, name) || fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
				taken = true;
			else if (errno != ENOENT)
				return -errno;
		}
		if (!taken) {
			if ((size_t)len >= size)
				return -ENOBUFS;
			memcpy(out, base, (size_t)len + 1);
			return 0;
		}
	}
	return -EEXIST;
}

/* Validate and fill c's names; 0, -EINVAL, -EEXIST or -ENOMEM. */
static int commit_names(struct spool *s, struct commit *c, const char *base, const char *const *exts)
{
	size_t dirlen = strlen(s->dir);

	if (!plain_name(base, SPOOL_BASE_SIZE))
		return -EINVAL;
	c->name_at = dirlen + 1;
	for (size_t i = 0; i <= c->n; i++) {
		const char *ext = i < c->n ? exts[i] : c->meta_ext;
		char name[FS_NAME_SIZE];

		if (i < c->n && !ext_ok(ext))
			return -EINVAL;
		for (size_t j = 0; j < i && i < c->n; j++) {
			if (strcmp(exts[j], ext) == 0)
				return -EINVAL;
		}
		if (make_name(name, sizeof(name), base, ext) < 0)
			return -EINVAL;
		if (pending_has(s, name))
			return -EEXIST;
		c->paths[i] = malloc(dirlen + 1 + strlen(name) + 1);
		if (!c->paths[i])
			return -ENOMEM;
		sprintf(c->paths[i], "%s/%s", s->dir, name);
	}
	return 0;
}

/* A new commit of bytes more: 0 and *ret; -EBUSY (SPOOL_COMMITS_MAX pending), -EDQUOT, -ENOMEM. */
static int commit_new(struct spool *s, uint64_t bytes, struct commit **ret)
{
	if (s->n_pending >= SPOOL_COMMITS_MAX)
		return -EBUSY;
	if (!quota_fits(s, bytes))
		return -EDQUOT;
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

/* c, counted as pending, to the spool's thread, which answers done(ctx) through the eventfd. */
static void enqueue(struct spool *s, struct commit *c, spool_done_fn done, void *ctx)
{
	c->done = done;
	c->ctx = ctx;
	c->pending_next = s->pending_head;
	s->pending_head = c;
	s->n_pending++;

	pthread_mutex_lock(&s->lock);
	if (s->queue_tail)
		s->queue_tail->queue_next = c;
	else
		s->queue_head = c;
	s->queue_tail = c;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

int spool__commit(struct spool *s, const char *base, struct spool_file **files, const char *const *exts, size_t n,
		  char *meta_json, spool_done_fn done, void *ctx)
{
	return spool__commit_derived(s, base, files, exts, n, meta_json, NULL, done, ctx);
}

int spool__commit_derived(struct spool *s, const char *base, struct spool_file **files, const char *const *exts,
			  size_t n, char *meta_json, struct spool_derive *derive, spool_done_fn done, void *ctx)
{
	const char *all_exts[SPOOL_COMMIT_FILES_MAX];
	struct commit *c = NULL;
	uint64_t meta_len;
	int r;

	if (n + (derive ? 1 : 0) > SPOOL_COMMIT_FILES_MAX || !meta_json ||
	    (derive && (!derive->make || !derive->ext || !derive->name || derive->from >= n))) {
		r = -EINVAL;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if (!files[i] || files[i]->spool != s) {
			r = -EINVAL;
			goto fail;
		}
		for (size_t j = 0; j < i; j++) {
			if (files[j] == files[i]) {
				r = -EINVAL;
				goto fail;
			}
		}
		if (files[i]->error) {
			r = files[i]->error;
			goto fail;
		}
	}
	/*
	 * Compressed files end their streams here, on the loop: what zlib holds is at most its
	 * last block (tens of KiB at Z_BEST_SPEED), cheap to compress and write; and the cap
	 * and the quota are the loop's to count. The thread then syncs and renames the files
	 * as any other.
	 */
	for (size_t i = 0; i < n; i++) {
		if (files[i]->gz) {
			r = gz_finish(files[i]);
			if (r < 0)
				goto fail;
		}
	}
	meta_len = strlen(meta_json);
	r = commit_new(s, meta_len, &c);
	if (r < 0)
		goto fail;
	c->n = n;
	c->derived = SIZE_MAX;
	c->meta_ext = META_EXT;
	for (size_t i = 0; i < n; i++)
		all_exts[i] = exts[i];
	if (derive) {
		all_exts[n] = derive->ext;
		c->n = n + 1;
		c->derived = n;
		c->fds[n] = -1;
	}
	r = commit_names(s, c, base, all_exts);
	if (r < 0) {
		c->n = n;       /* fds not yet the commit's */
		goto fail;
	}

	/* From here on nothing fails: the files become the commit's, and derive's parts. */
	if (derive) {
		c->derive = *derive;
		derive->meta_without = NULL;
		derive->arg = NULL;
		derive->free_arg = NULL;
	}
	for (size_t i = 0; i < n; i++) {
		c->fds[i] = files[i]->fd;
		memcpy(c->temps[i], files[i]->name, sizeof(c->temps[i]));
		c->bytes += files[i]->disk;
		free(files[i]);
		files[i] = NULL;
	}
	c->meta = meta_json;
	c->bytes += meta_len;
	s->pending += meta_len;
	enqueue(s, c, done, ctx);
	return 0;

fail:
	/* Consumed all the same. */
	for (size_t i = 0; i < n; i++) {
		bool again = false;

		for (size_t j = 0; j < i; j++)
			again |= files[j] == files[i];
		if (!again)
			spool_file__abort(files[i]);
	}
	for (size_t i = 0; i < n; i++)
		files[i] = NULL;
	free(meta_json);
	if (derive) {
		free(derive->meta_without);
		derive->meta_without = NULL;
		if (derive->free_arg)
			derive->free_arg(derive->arg);
		derive->arg = NULL;
		derive->free_arg = NULL;
	}
	if (c)
		c->n = 0;       /* its fds were never set */
	commit_free(c);
	return r;
}

int spool__commit_record(struct spool *s, const char *base, const char *ext, char *text, spool_done_fn done,
			 void *ctx)
{
	struct commit *c = NULL;
	uint64_t len;
	int r;

	if (!text || !ext || !ext_ok(ext) || strchr(ext, '.')) {
		r = -EINVAL;
		goto fail;
	}
	len = strlen(text);
	r = commit_new(s, len, &c);
	if (r < 0)
		goto fail;
	c->meta_ext = ext;      /* a literal of the caller's, or of the tests' */
	r = commit_names(s, c, base, NULL);
	if (r < 0)
		goto fail;
	c->meta = text;
	c->bytes = len;
	s->pending += len;
	enqueue(s, c, done, ctx);
	return 0;
fail:
	free(text);
	commit_free(c);
	return r;
}

void spool__cancel(struct spool *s, void *ctx)
{
	for (struct commit *c = s->pending_head; c; c = c->pending_next) {
		if (c->ctx == ctx)
			c->done = NULL;
	}
}

void spool__free(struct spool *s)
{
	if (!s)
		return;
	if (s->have_thread) {
		pthread_mutex_lock(&s->lock);
		s->stopping = true;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
	}
	/* Every commit is finished now, and on the pending list: forgotten, callbacks uncalled. */
	while (s->pending_head) {
		struct commit *c = s->pending_head;

		s->pending_head = c->pending_next;
		commit_free(c);
	}
	if (s->have_lock) {
		pthread_cond_destroy(&s->wake);
		pthread_mutex_destroy(&s->lock);
	}
	if (s->efd >= 0)
		close(s->efd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->dir);
	free(s);
}
