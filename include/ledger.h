/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Inspectors this agent opened and has not closed yet, one file per target in
 * STATE_DIR/opened/. A capture records its target just before it sends SIGUSR1, adds
 * the port once the inspector listens, and forgets it once the inspector is closed
 * (or the target is gone). An agent killed in between leaves the record behind, and
 * the next agent closes that inspector before it serves anything (src/cleanup.c).
 *
 * The directory is root's (0700): records are trusted no more than that, parsed strictly,
 * and a record only ever leads to closing an inspector of the very process it names
 * (same pid and start time).
 */
#ifndef INSPECTD_LEDGER_H
#define INSPECTD_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct ledger_entry {
	pid_t pid;
	uint64_t start_time;    /* /proc/PID/stat field 22: the pid's identity across restarts */
	uint16_t port;          /* 0: SIGUSR1 sent, the port not found yet */
	uint64_t inode;         /* the listening socket's inode, when port is known */
	time_t written;         /* read back: the file's mtime (not in its text) */
};

/* The file's contents, one line. Returns its length or -ENOBUFS. */
int ledger_format(const struct ledger_entry *e, char *buf, size_t size);
/* Exactly what ledger_format() writes, or -EINVAL. */
int ledger_parse(const char *buf, struct ledger_entry *e);

struct ledger;

/*
 * Creates DIR and DIR/opened (0700) as needed. 0 and *ret; -EPERM: DIR/opened is not the
 * agent's alone (another owner, or writable by group or others: records could be planted);
 * -ENOMEM; -errno from mkdir() or open().
 */
int ledger__open(const char *state_dir, struct ledger **ret);
/* Written whole (a temporary file renamed over the old one). 0 or -errno. */
int ledger__record(struct ledger *l, const struct ledger_entry *e);
/* 0, or -errno (-ENOENT: there was none). */
int ledger__forget(struct ledger *l, pid_t pid);
/* pid's record: 0, -ENOENT (none), -EINVAL (malformed), -errno. */
int ledger__get(struct ledger *l, pid_t pid, struct ledger_entry *e);
/* What ledger__each() passed over: the caller says so, once. */
struct ledger_skips {
	unsigned removed;       /* not a record of ours (malformed): removed */
	unsigned unread;        /* could not be read now (out of fds, say): kept for the next look */
};

/* fn once per well-formed record; malformed ones are removed. Count or -errno; skips may be NULL. */
typedef void (*ledger_fn)(void *ctx, const struct ledger_entry *e);
int ledger__each(struct ledger *l, ledger_fn fn, void *ctx, struct ledger_skips *skips);
const char *ledger__path(const struct ledger *l);
void ledger__free(struct ledger *l);

#endif
