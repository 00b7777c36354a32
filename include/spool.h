/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The output folder as a durable spool. A capture streams a profile's bytes, chunk by
 * chunk as they arrive, into a temporary file in the folder (a spool_file: a page-cache
 * write on the loop, never a sync). When the capture ends, its files and its meta.json
 * text are handed to the spool's writer thread ("inspectd-spool") as one commit: each
 * file synced and renamed to BASE.EXT without replacing anything, then BASE.meta.json
 * written the same way, then the folder synced. A commit is all or nothing: on any
 * failure (a full disk included) every temporary and every final name of that commit is
 * removed. The loop learns that commits finished by polling spool__fd(), and calls
 * spool__dispatch(), which calls each finished commit's done callback.
 *
 * Names: temporaries are ".inspectd-spool.RANDOM.tmp" (fs_create_temp_at()); those a
 * killed agent left are removed by spool__open(). Final names are BASE.EXT and
 * BASE.meta.json, BASE from spool__reserve_base().
 *
 * Compression: a file may be gzipped as it is written (spool_file__compress()), for what
 * is large and compresses well (a heap snapshot); its stream ends when it is committed.
 *
 * Limits (struct spool_limits), both on bytes on disk (a compressed file's, not what was
 * given to it): a cap per file (spool_file__set_max() sets another for one file), and a
 * quota on the bytes of the folder: its files (any regular file but our temporaries,
 * counted at open and counted again by the thread after each commit, so that files
 * removed by an operator are seen), plus our temporaries being written, plus the commits
 * in flight. Without retention, writes past the quota are refused. With it
 * (spool_limits.retain), a write is refused only if it could not fit even with every one
 * of the caller's committed files gone; the thread, before it renames a commit into
 * place, removes the oldest committed commits (each whole: BASE.EXT and BASE.EXT.gz files
 * and BASE.meta.json, for a BASE retain() accepts; never a temporary, a file of another
 * name, or anything but a regular file) until the folder, with every temporary in it and
 * this commit's meta.json, fits the quota; a commit that cannot fit even then fails with
 * -EDQUOT and nothing is removed.
 * While profiles stream in, the folder may hold their temporaries beside the old
 * files that their commits will remove: up to the quota again, at most.
 *
 * Threads: every function here is called on the event loop's thread; only
 * spool__free() waits for the writer thread. The thread owns the commits handed to it
 * until it has finished them; it touches nothing else of the loop's.
 *
 * Ownership: the caller owns the spool and each spool_file from spool__begin() until it
 * hands it to spool__commit() (which consumes it) or to spool_file__abort(). Every
 * spool_file is committed or aborted before spool__free().
 */
#ifndef INSPECTD_SPOOL_H
#define INSPECTD_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The prefix of the spool's temporaries, for fs_create_temp_at() and fs_is_temp_name(). */
#define SPOOL_TEMP_PREFIX      "inspectd-spool"
/* Files in one commit, besides its meta.json. */
#define SPOOL_COMMIT_FILES_MAX 8
/* Commits handed to the thread and not yet dispatched. */
#define SPOOL_COMMITS_MAX      64
/* Bytes in an extension (with its NUL), and in a base (with its NUL). */
#define SPOOL_EXT_SIZE         32
#define SPOOL_BASE_SIZE        200
/* What follows the extension of a compressed file ("heapsnapshot.gz"), for the caller's
 * names: retention counts BASE.EXT.gz a member of BASE's commit, as BASE.EXT. */
#define SPOOL_GZ_SUFFIX        ".gz"

struct spool_limits {
	uint64_t file_max;      /* bytes in one spool_file (on disk); 0: no cap */
	uint64_t quota;         /* bytes in the folder, as above; 0: no quota */
	/* With a quota: whether base names commits of the caller's, which retention may remove
	 * to make room (oldest first, by their meta.json's mtime). NULL: nothing is removed.
	 * Called on the writer thread: pure. */
	bool (*retain)(const char *base);
	/* With retain: the order of removal, lowest rank first, oldest first within a rank
	 * (the outbox: 0 delivered elsewhere, 1 not yet). NULL: all alike. Called on the
	 * writer thread. */
	int (*rank)(void *arg, const char *base);
	void *rank_arg;
};

/* Told on the loop, from spool__dispatch(), what landed and what retention removed. */
struct spool_observer {
	/* A commit (BASE.meta.json) or a record (BASE.json) landed, at committed_at (unix s). */
	void (*committed)(void *ctx, const char *base, int64_t committed_at);
	/* Retention removed the commit base (its rank as rank() said); beyond
	 * SPOOL_REMOVED_NAMES in one commit, base is NULL, rank -1 (not kept) and n counts
	 * the others. */
	void (*removed)(void *ctx, const char *base, int rank, unsigned long n);
	void *ctx;
};
#define SPOOL_REMOVED_NAMES 16

struct spool;
struct spool_file;

/*
 * The outcome of a commit, on the loop, from spool__dispatch(): result is 0 or -errno
 * (as for the syscall that failed: -ENOSPC, -EDQUOT, -EIO, -EEXIST when something took
 * a final name meanwhile...). paths holds n_paths full paths, "DIR/BASE.EXT" for each
 * file in the order given, then "DIR/BASE.meta.json"; on failure they name what would
 * have been written (nothing is left under them). paths is valid during the call only.
 * The callback may call anything here but spool__free().
 */
typedef void (*spool_done_fn)(void *ctx, int result, const char *const *paths, size_t n_paths);

/*
 * Open the folder dir as a spool: create it if needed (parents 0755, dir 0700, less the
 * umask), check it is private (fs_check_private_dir()), remove the temporaries a killed
 * agent left there, count the bytes of its files, and start the writer thread. lim may
 * be NULL (no limits); it is copied.
 * Returns 0 and *ret; -EINVAL: dir empty; -EPERM: the folder is another user's, or
 * writable by group or others (it is not changed: the caller refuses it or fixes it);
 * -ENOTDIR; -ENOMEM; -errno from mkdir(), open(), reading the folder, eventfd() or
 * pthread_create() (-EAGAIN).
 */
int spool__open(const char *dir, const struct spool_limits *lim, struct spool **ret);
/* The folder, as given to spool__open(), for messages. */
const char *spool__dir(const struct spool *s);
/* Readable (POLLIN) when commits have finished: poll it on the loop, then call spool__dispatch(). */
int spool__fd(const struct spool *s);
/*
 * On the loop: clear spool__fd() and call the done callback of each commit finished
 * since the last call, in the order they finished; a commit whose callback was
 * cancelled is only forgotten. Never blocks.
 */
void spool__dispatch(struct spool *s);
/* Bytes counted against the quota now (the folder's files, temporaries, commits in flight). */
uint64_t spool__used(const struct spool *s);
/* Old commits retention removed to make room, as of the last spool__dispatch(). */
unsigned long spool__removed(const struct spool *s);
/* Set spool_limits.rank after the open (before the first commit: the writer thread reads it). */
void spool__set_rank(struct spool *s, int (*rank)(void *arg, const char *base), void *arg);
/* Observe the spool (obs copied; NULL: no one). */
void spool__observe(struct spool *s, const struct spool_observer *obs);
/* Bytes someone else removed from the folder (the outbox, of what it delivered): no
 * longer counted, until the writer thread counts the folder again. */
void spool__uncount(struct spool *s, uint64_t bytes);

/*
 * A new, empty temporary file in the folder, for the caller to write, then commit or
 * abort; capped at spool_limits.file_max, written as given. Returns 0 and *ret; -ENOMEM;
 * -errno from fs_create_temp_at() (-ENOSPC, -EMFILE, -EEXIST...).
 */
int spool__begin(struct spool *s, struct spool_file **ret);
/*
 * The cap of f alone, in bytes on disk, instead of spool_limits.file_max (a heap snapshot's
 * --max-snapshot-size beside the profiles' --max-profile-size); 0: no cap. The quota
 * still applies. Any time; it holds for the writes after it (and, compressed, for the
 * end of the stream at the commit).
 * Returns 0; -EFBIG: f holds more than max already (the cap is left as it was).
 */
int spool_file__set_max(struct spool_file *f, uint64_t max);
/*
 * From now on, gzip what is written to f (deflate at Z_BEST_SPEED, a gzip header and
 * trailer: `gunzip` and `zcat` read the file; name it BASE.EXT.gz, SPOOL_GZ_SUFFIX). Call
 * it on a fresh file, before its first write. Holds one z_stream and a 64 KiB output
 * block (about 330 KiB in all) until the commit or the abort frees them; the file gets
 * the compressed bytes a 64 KiB block at a time as they are made, so up to that much of
 * what was written may be in memory, not on disk, until the commit ends the stream.
 * For a compressed file:
 * - spool_file__size() counts bytes written (before compression: what the caller marks
 *   and compares), spool_file__disk_size() bytes in the file; the cap and the quota
 *   count the latter;
 * - a write is no longer all or nothing: one that fails (-EFBIG, -EDQUOT, -errno from
 *   write()) returns why, and leaves the file answering -EIO to writes, truncates and
 *   commits until spool_file__reset() (the stream lacks what zlib took);
 * - spool_file__truncate() cannot drop bytes: only to the current size (nothing to drop);
 * - spool_file__reset() empties the file and starts a new stream (compressed still);
 * - spool__commit() ends the stream (its last block and trailer written, on the loop,
 *   under the cap and the quota) before the thread syncs and renames the file; should
 *   that fail, so does the commit.
 * Returns 0 (also when f is compressed already); -EBUSY: f was written to; -ENOMEM;
 * -EINVAL: zlib refused its parameters; f's error (-EIO) after a failed write.
 */
int spool_file__compress(struct spool_file *f);
/*
 * Append len bytes (a page-cache write, on the loop; no sync). All or nothing (but for a
 * compressed file: see spool_file__compress()): on failure the file is as it was before
 * the call (should that undoing itself fail, the file answers -EIO to writes and commits
 * until spool_file__reset()).
 * Returns 0; -EFBIG: the file would pass its cap; -EDQUOT: the folder would pass the
 * quota; -errno from write() (-ENOSPC, -EIO...); -EIO: a write failed before.
 */
int spool_file__write(struct spool_file *f, const void *buf, size_t len);
/*
 * Drop what was written after its first size bytes (a message that turned out not to be
 * the one awaited); the file is usable again. 0; -EINVAL: size beyond what was written;
 * -EOPNOTSUPP: f is compressed and size is less than what was written (a compressed
 * file can be cut back to its own size only, which does nothing); -EIO: f is compressed
 * and a write failed; -errno from ftruncate() or lseek().
 */
int spool_file__truncate(struct spool_file *f, uint64_t size);
/* Drop what was written (the file is empty and usable again; compressed, a new stream).
 * 0; -errno from ftruncate() or lseek(); -EIO: zlib could not start a new stream. */
int spool_file__reset(struct spool_file *f);
/* Bytes written so far (for a compressed file, before compression): the mark for
 * spool_file__truncate(). */
uint64_t spool_file__size(const struct spool_file *f);
/* Bytes in the file so far: spool_file__size() for a file written as given; compressed,
 * what zlib gave out (without the block in memory, nor the stream's end until the commit). */
uint64_t spool_file__disk_size(const struct spool_file *f);
/* Remove the temporary and free f (and its z_stream). Takes NULL. */
void spool_file__abort(struct spool_file *f);

/*
 * A base for the names of one commit: stamp, or stamp-1, stamp-2... (up to stamp-999),
 * the first such that neither a file in the folder nor a commit in flight has any of
 * the names BASE.EXT (for each of the n extensions) or BASE.meta.json. out (size bytes)
 * receives it. Not held: call spool__commit() with it before returning to the loop.
 * Returns 0; -EINVAL: stamp or an extension empty, with a '/' or starting with '.', or
 * the names too long; -ENOBUFS: out too small; -EEXIST: all 1000 are taken; -errno from
 * fstatat().
 */
int spool__reserve_base(struct spool *s, const char *stamp, const char *const *exts, size_t n, char *out,
			size_t size);

/*
 * Hand n files (files[i] to become BASE.exts[i]) and the text meta_json (to become
 * BASE.meta.json) to the writer thread. files and meta_json are consumed (each files[i]
 * is set to NULL; meta_json is a malloc()ed string), whatever the result: on an error
 * returned here the temporaries are removed and done is never called. On 0,
 * done(ctx, ...) is called later from spool__dispatch(), never from inside
 * spool__commit(); done may be NULL. The names stay taken (spool__reserve_base() skips
 * them) until then.
 * Returns 0; -EINVAL: n above SPOOL_COMMIT_FILES_MAX, a NULL file or meta_json, a file
 * of another spool or given twice, base or an extension not a plain name (or an
 * extension "meta.json", or given twice); -EEXIST: a commit in flight has one of these
 * names; -EBUSY: SPOOL_COMMITS_MAX commits in flight; -EDQUOT: meta_json, or the end of a
 * compressed file's stream, would pass the quota; -EFBIG: the end of a compressed file's
 * stream would pass its cap; -EIO: a file's failed write could not be undone (or, for a
 * compressed file, a write failed); -errno from write() ending a compressed file's
 * stream; -ENOMEM.
 */
int spool__commit(struct spool *s, const char *base, struct spool_file **files, const char *const *exts, size_t n,
		  char *meta_json, spool_done_fn done, void *ctx);
/*
 * A record: the text alone, to become BASE.ext (ext a plain extension without a dot, not
 * "meta.json"; "json"), written as a commit's meta.json is (a temporary, synced, renamed
 * without replacing anything, the folder synced), on the writer thread, under the same
 * quota. Retention counts a BASE.ext alone (no BASE.meta.json beside it) whose BASE retain()
 * accepts as a commit of its own, oldest first with the others. Reserve base with
 * spool__reserve_base(s, stamp, &ext, 1, ...). text is consumed (a malloc()ed string);
 * ext must outlive the commit (a literal). done as for spool__commit(); paths holds
 * "DIR/BASE.ext" alone.
 * Returns 0; -EINVAL: a NULL text, ext not as above, base not a plain name; -EEXIST: a
 * commit in flight has the name; -EBUSY: SPOOL_COMMITS_MAX in flight; -EDQUOT: the text
 * would pass the quota; -ENOMEM.
 */
int spool__commit_record(struct spool *s, const char *base, const char *ext, char *text, spool_done_fn done,
			 void *ctx);
/*
 * A file derived from one of a commit's files, made on the writer thread (after that
 * file is synced, before anything is renamed) and committed with it: a converter that
 * reads the file and writes another (pprof beside a V8 profile). Its failure never fails
 * the commit: the commit lands without it, with meta_without as its meta.json.
 */
struct spool_derive {
	const char *name;               /* for counts: "pprof" (a literal) */
	size_t from;                    /* the index of the file it reads */
	const char *ext;                /* it becomes BASE.ext */
	/* On the writer thread: read in_fd (by pread, from 0), write out_fd. 0 or -errno. */
	int (*make)(int in_fd, int out_fd, void *arg);
	void *arg;                      /* make's; freed by free_arg() on the loop, afterwards */
	void (*free_arg)(void *arg);
	char *meta_without;             /* malloc()ed: meta.json if the derived file is not written */
	/* On the loop, before done, unless cancelled: what became of it (0 or -errno) and
	 * the full path of the file it was made from and its own. May be NULL. */
	void (*noted)(void *ctx, int result, const char *from_path, const char *path);
};

/* Derived files written and not written, per name (names beyond 4 are not counted). */
#define SPOOL_DERIVE_NAMES_MAX 4
struct spool_derive_count {
	const char *name;
	unsigned long written, failed;
};
/* The counts so far: *ret holds n entries (valid until the next spool__dispatch()). */
size_t spool__derive_counts(const struct spool *s, const struct spool_derive_count **ret);

/*
 * spool__commit() with a derived file (derive may be NULL: spool__commit() itself).
 * The n files and the derived one count as n + 1 against SPOOL_COMMIT_FILES_MAX; derive's
 * meta_without and arg are consumed as meta_json is. done's paths: the files', the
 * derived file's when it was written, then meta.json's. Errors as spool__commit()'s;
 * -EINVAL too for a derive without make or ext, or from not below n.
 */
int spool__commit_derived(struct spool *s, const char *base, struct spool_file **files, const char *const *exts,
			  size_t n, char *meta_json, struct spool_derive *derive, spool_done_fn done, void *ctx);

/* Forget the done callback of every commit in flight whose ctx is ctx (its owner goes
 * away); the commits still complete. */
void spool__cancel(struct spool *s, void *ctx);

/*
 * Wait for the commits in flight to complete on disk, stop the thread, free s. Callbacks
 * not yet dispatched are not called. Takes NULL. Blocks: call it at shutdown only.
 */
void spool__free(struct spool *s);

#endif
