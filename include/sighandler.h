/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Whose handler catches a process's SIGUSR1: node's inspector, or the application's.
 *
 * SigCgt says only that SIGUSR1 is caught. A node service that called
 * process.on('SIGUSR1') has libuv's handler there instead of node's, and a SIGUSR1
 * would run the service's own code. So, before SIGUSR1 is sent:
 *
 *   the handler's address (the kernel's signal table, read at that moment)
 *   -> the mapping of /proc/PID/maps that holds it -> that mapped file, opened through
 *   /proc/PID/map_files (never by its name, which is the target's mount namespace's)
 *   -> its address in the file's own terms (the mapping's offset, the ELF's PT_LOAD
 *   segments) -> the .symtab functions node's and libuv's handlers are.
 *
 * Only node's own handler (node::inspector::(anonymous)::StartIoThreadWakeup) gets
 * SIGUSR1. Anything else, and anything that cannot be told (a stripped binary, an
 * anonymous mapping, a table too large or malformed), does not.
 *
 * The parsers (maps lines, the ELF) are pure and bounded: a target controls the files it
 * maps. A symbol table is streamed in chunks and only the handlers' addresses are kept;
 * an executable is read once (cached by device, inode, size and mtime), on the thread
 * inspectd-symtab, as soon as a process of it is discovered (sighandlers__prepare()); the
 * verdict is cached per process and handler address (dropped on exec and exit).
 */
#ifndef INSPECTD_SIGHANDLER_H
#define INSPECTD_SIGHANDLER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum sigusr1_handler {
	SIGUSR1_HANDLER_UNCHECKED = 0,  /* not looked at */
	SIGUSR1_HANDLER_NODE,           /* node's inspector: the one SIGUSR1 may be sent to */
	SIGUSR1_HANDLER_APPLICATION,    /* libuv's uv__signal_handler: process.on('SIGUSR1') */
	SIGUSR1_HANDLER_OTHER,          /* another function, or code in anonymous memory */
	SIGUSR1_HANDLER_UNKNOWN,        /* cannot be told: stripped, malformed, too large, unreadable */
	SIGUSR1_HANDLER_NONE,           /* SIG_DFL or SIG_IGN: nothing catches it */
	_SIGUSR1_HANDLER_MAX,
};

/* "unchecked", "node", "application", "other", "unknown", "none"; NULL out of range. */
const char *sigusr1_handler_name(enum sigusr1_handler h);

/* Bounds on what a target's files may make the agent read. */
#define SIGHANDLER_MAPS_LINES_MAX       (1u << 18)      /* vm.max_map_count is 65530 by default */
#define SIGHANDLER_SECTIONS_MAX         4096
#define SIGHANDLER_SEGMENTS_MAX         64              /* program headers */
#define SIGHANDLER_LOADS_MAX            16              /* PT_LOAD segments kept */
#define SIGHANDLER_SYMTAB_MAX           (256u << 20)    /* node's .symtab: 2.6 MB, .strtab: 7.5 MB */
#define SIGHANDLER_NAME_MAX             1024            /* a symbol name longer than this is not one of ours */
#define SIGHANDLER_CANDIDATES_MAX       16              /* names matched, per kind */
#define SIGHANDLER_RANGES_MAX           4               /* functions of that name kept, per kind */

/* One line of /proc/PID/maps. */
struct sighandler_mapping {
	uint64_t start, end;            /* [start, end) */
	uint64_t offset;                /* of the file, at start */
	uint64_t inode;                 /* 0: anonymous (or a pseudo-file) */
	unsigned dev_major, dev_minor;
	bool exec;
};

/*
 * One line of /proc/PID/maps, "start-end perms offset major:minor inode [path]" (the path
 * is not kept): 0, -EINVAL.
 */
int sighandler_parse_maps_line(const char *line, struct sighandler_mapping *ret);
/*
 * The mapping holding addr, from maps text read from fd line by line (lines of any
 * length, at most SIGHANDLER_MAPS_LINES_MAX of them; the kernel's are in address order,
 * so the read stops at the first mapping past addr): 0, -ENOENT (no mapping holds it),
 * -EFBIG (too many lines), -EINVAL (a line that is not the kernel's), -errno of read().
 */
int sighandler_find_mapping(int fd, uint64_t addr, struct sighandler_mapping *ret);

/* What is kept of one ELF file: its loaded segments and where the handlers are. */
struct sighandler_elf {
	bool symtab;                    /* it has a .symtab (false: stripped) */
	unsigned nloads;
	struct { uint64_t offset, vaddr, filesz; } loads[SIGHANDLER_LOADS_MAX];
	/* [kind][i]: functions named as node's (SIGUSR1_HANDLER_NODE) or libuv's
	 * (SIGUSR1_HANDLER_APPLICATION) handler, [start, end) in the file's vaddrs */
	unsigned nranges[2];
	struct { uint64_t start, end; } ranges[2][SIGHANDLER_RANGES_MAX];
};

/*
 * Read the ELF file fd (64-bit, little-endian) into *ret: its PT_LOAD segments, and from
 * .symtab the functions named as node's handler (_ZN4node9inspector…19StartIoThreadWakeupE…)
 * or libuv's (uv__signal_handler). Streams .strtab then .symtab through a buffer of
 * 64 KiB, nothing else held. 0 (ret->symtab false: none); -ENOEXEC (not such an ELF
 * file), -EFBIG (over a SIGHANDLER_* bound), -EINVAL (malformed), -errno of fstat/pread.
 */
int sighandler_elf_read(int fd, struct sighandler_elf *ret);
/*
 * Whose handler addr is, in a file mapping m of an ELF file read into elf:
 * SIGUSR1_HANDLER_NODE or _APPLICATION when it falls in one of those functions, _UNKNOWN
 * when the file has no .symtab or no segment holds it, else _OTHER.
 */
enum sigusr1_handler sighandler_classify(const struct sighandler_elf *elf, const struct sighandler_mapping *m,
					 uint64_t addr);

/* ---- the caches, and reading a live process ---- */

struct sighandlers;

/* The kernel's SIGUSR1 handler of pid (pinned by pidfd), now: 0 or -errno (tracker.h). */
typedef int (*sighandlers_read_fn)(void *ctx, int pidfd, pid_t pid, uint64_t *handler);

/*
 * 0 and *ret; -ENOMEM, -errno of pthread_create(). read is how the handler is read
 * (tracker__sigusr1_handler()). Starts the thread inspectd-symtab, which reads
 * executables' symbol tables (and nothing else: it owns the fds it is given).
 */
int sighandlers__new(sighandlers_read_fn read, void *ctx, struct sighandlers **ret);
/*
 * Whose handler catches pid's SIGUSR1 now (pidfd pins it): the handler is read fresh
 * each call, its verdict cached per process and address. *handler (may be NULL) gets its
 * address. 0 and *ret; else *ret SIGUSR1_HANDLER_UNKNOWN and: -EINPROGRESS (its file's
 * symbols are being read: ask again shortly), -EBUSY (too many files being read), -ESRCH
 * (gone), -ENOENT (no mapping holds it), -ENOEXEC, -EFBIG, -EINVAL (its file), -errno of
 * /proc.
 */
int sighandlers__check(struct sighandlers *s, pid_t pid, int pidfd, enum sigusr1_handler *ret, uint64_t *handler);
/*
 * pid was discovered: have its executable's symbols read now, off the trigger path (its
 * /proc/PID/exe; a handler in a shared library is read at the first trigger). 0, -EBUSY,
 * -errno of open(). Takes NULL.
 */
int sighandlers__prepare(struct sighandlers *s, pid_t pid);
/* pid exec'd or exited: its verdicts go. Takes NULL. */
void sighandlers__forget(struct sighandlers *s, pid_t pid);
/* How many executables (read) and processes are cached (the bench and tests read it). */
void sighandlers__counts(struct sighandlers *s, unsigned *executables, unsigned *processes);
/* Stops the thread: a file being read is read to its end first, for up to 2 s; a thread
 * still reading then (a file the target serves that never answers) keeps s, and is left
 * to the process's end. Takes NULL. */
void sighandlers__free(struct sighandlers *s);

#endif
