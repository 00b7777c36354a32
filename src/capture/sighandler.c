// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Whose handler catches SIGUSR1 (sighandler.h). The ELF file is read with pread() and
 * <elf.h>'s structs rather than libelf: libelf's elf_begin() sizes its tables from the
 * header's counts and elf_getdata() reads a whole section into memory (node's .strtab is
 * 7.5 MB), where this reads 64 KiB at a time and keeps a few addresses.
 */
#define _GNU_SOURCE             /* memmem */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sighandler.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ELF reader reads little-endian files in host order"
#endif

#define CHUNK                   (64 * 1024)
#define MAPS_PREFIX_MAX         256     /* what is kept of a maps line: its numbers come first */
#define EXECUTABLES_MAX         32      /* executables (and libraries) whose symbols are cached */
#define PROCESSES_MAX           65536   /* INSPECTD_MAX_TRACKED */
#define PROCESS_BUCKETS         1024
#define PENDING_MAX             8       /* files waiting for the reader thread */
#define SYMTAB_JOIN_SEC         2       /* how long stopping waits for a read to end */

/* node::inspector::(anonymous namespace)::StartIoThreadWakeup(int, siginfo_t*, void*), as
 * mangled by node 18-26 (with or without L for internal linkage, any parameters). */
static const char node_prefix[] = "_ZN4node9inspector";
static const char node_name[] = "19StartIoThreadWakeupE";
static const char uv_name[] = "uv__signal_handler";

static const char *const handler_names[_SIGUSR1_HANDLER_MAX] = {
	[SIGUSR1_HANDLER_UNCHECKED] = "unchecked",
	[SIGUSR1_HANDLER_NODE] = "node",
	[SIGUSR1_HANDLER_APPLICATION] = "application",
	[SIGUSR1_HANDLER_OTHER] = "other",
	[SIGUSR1_HANDLER_UNKNOWN] = "unknown",
	[SIGUSR1_HANDLER_NONE] = "none",
};

const char *sigusr1_handler_name(enum sigusr1_handler h)
{
	return (unsigned)h < _SIGUSR1_HANDLER_MAX ? handler_names[h] : NULL;
}

/* ---- /proc/PID/maps ---- */

static int parse_hex(const char **p, char end, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	int n = 0;

	for (; *s && *s != end; s++, n++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else
			return -EINVAL;
		if (n >= 16)
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	if (!n || *s != end)
		return -EINVAL;
	*p = s + 1;
	*ret = v;
	return 0;
}

int sighandler_parse_maps_line(const char *line, struct sighandler_mapping *ret)
{
	struct sighandler_mapping m = { 0 };
	const char *p = line;
	uint64_t major, minor;

	if (parse_hex(&p, '-', &m.start) < 0 || parse_hex(&p, ' ', &m.end) < 0 || m.end <= m.start)
		return -EINVAL;
	/* perms: rwxp or rwxs */
	if (!p[0] || !p[1] || !p[2] || !p[3] || p[4] != ' ' || !strchr("r-", p[0]) || !strchr("w-", p[1]) ||
	    !strchr("x-", p[2]) || !strchr("ps", p[3]))
		return -EINVAL;
	m.exec = p[2] == 'x';
	p += 5;
	if (parse_hex(&p, ' ', &m.offset) < 0 || parse_hex(&p, ':', &major) < 0 || parse_hex(&p, ' ', &minor) < 0 ||
	    major > 0xfff || minor > 0xfffff)
		return -EINVAL;
	m.dev_major = (unsigned)major;
	m.dev_minor = (unsigned)minor;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (m.inode > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		m.inode = m.inode * 10 + (uint64_t)(*p - '0');
	}
	if (*p != ' ' && *p != '\0')
		return -EINVAL;
	*ret = m;
	return 0;
}

int sighandler_find_mapping(int fd, uint64_t addr, struct sighandler_mapping *ret)
{
	char buf[8192], line[MAPS_PREFIX_MAX];
	size_t len = 0, lines = 0;
	bool open_line = false;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (ssize_t i = 0; i < n; i++) {
			struct sighandler_mapping m;

			if (buf[i] != '\n') {
				if (buf[i] == '\0')
					return -EINVAL;
				if (len < sizeof(line) - 1)
					line[len++] = buf[i];   /* the path's rest is not needed */
				open_line = true;
				continue;
			}
			line[len] = '\0';
			len = 0;
			open_line = false;
			if (++lines > SIGHANDLER_MAPS_LINES_MAX)
				return -EFBIG;
			if (sighandler_parse_maps_line(line, &m) < 0)
				return -EINVAL;
			if (addr >= m.start && addr < m.end) {
				*ret = m;
				return 0;
			}
			if (m.start > addr)
				return -ENOENT;         /* the kernel lists mappings in address order */
		}
	}
	return open_line ? -EINVAL : -ENOENT;
}

/* ---- the ELF file ---- */

/* Exactly size bytes at off: 0, -EINVAL (the file ends first), -errno. */
static int pread_exact(int fd, void *buf, size_t size, uint64_t off)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = pread(fd, (char *)buf + done, size - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EINVAL;
		done += (size_t)n;
	}
	return 0;
}

/* [off, off + count * size) lies within a file of file_size bytes. */
static bool within(uint64_t off, uint64_t count, uint64_t size, uint64_t file_size)
{
	return count <= UINT64_MAX / (size ? size : 1) && off <= file_size && count * size <= file_size - off;
}

struct candidates {
	unsigned n[2];
	uint32_t name[2][SIGHANDLER_CANDIDATES_MAX];    /* .strtab offsets of matching names */
};

static void add_candidate(struct candidates *c, int kind, uint64_t off)
{
	if (c->n[kind] < SIGHANDLER_CANDIDATES_MAX && off <= UINT32_MAX)
		c->name[kind][c->n[kind]++] = (uint32_t)off;
}

/* One string of .strtab (its last SIGHANDLER_NAME_MAX bytes at most), starting at off. A
 * symbol's name may be any suffix of a string (the linker shares tails). */
static void match_string(struct candidates *c, const char *s, size_t len, uint64_t off)
{
	const char *p;

	if (len >= sizeof(uv_name) - 1 && !memcmp(s + len - (sizeof(uv_name) - 1), uv_name, sizeof(uv_name) - 1))
		add_candidate(c, 1, off + len - (sizeof(uv_name) - 1));
	p = memmem(s, len, node_prefix, sizeof(node_prefix) - 1);
	if (p && memmem(p, len - (size_t)(p - s), node_name, sizeof(node_name) - 1))
		add_candidate(c, 0, off + (uint64_t)(p - s));
}

/* Pass 1: the offsets of names that are node's or libuv's handler, streaming .strtab. */
static int scan_strtab(int fd, const Elf64_Shdr *sh, char *buf, struct candidates *c)
{
	char cur[SIGHANDLER_NAME_MAX];  /* the tail of a string that spans chunks */
	uint64_t cur_off = 0;           /* .strtab offset of cur[0] */
	size_t cur_len = 0;

	for (uint64_t done = 0; done < sh->sh_size;) {
		size_t n = sh->sh_size - done < CHUNK ? (size_t)(sh->sh_size - done) : CHUNK, pos = 0;
		int r = pread_exact(fd, buf, n, sh->sh_offset + done);

		if (r < 0)
			return r;
		for (bool skimmed = false; pos < n;) {
			const char *nul;

			/* Once the string carried over is done: when no whole string of the rest
			 * of the chunk can match, only its last, open one is read. */
			if (!cur_len && !skimmed) {
				skimmed = true;
				if (!memmem(buf + pos, n - pos, uv_name, sizeof(uv_name) - 1) &&
				    !memmem(buf + pos, n - pos, node_name + 2, sizeof(node_name) - 4)) {
					const char *last = memrchr(buf + pos, '\0', n - pos);

					if (last)
						pos = (size_t)(last - buf) + 1;
					continue;
				}
			}
			nul = memchr(buf + pos, '\0', n - pos);
			size_t piece = nul ? (size_t)(nul - (buf + pos)) : n - pos;
			uint64_t piece_off = done + pos;

			if (cur_len || !nul) {
				/* Carried over a chunk's end: keep the tail. */
				if (piece >= sizeof(cur)) {
					memcpy(cur, buf + pos + piece - sizeof(cur), sizeof(cur));
					cur_off = piece_off + piece - sizeof(cur);
					cur_len = sizeof(cur);
				} else {
					if (cur_len + piece > sizeof(cur)) {
						size_t drop = cur_len + piece - sizeof(cur);

						memmove(cur, cur + drop, cur_len - drop);
						cur_off += drop;
						cur_len -= drop;
					}
					if (!cur_len)
						cur_off = piece_off;
					memcpy(cur + cur_len, buf + pos, piece);
					cur_len += piece;
				}
				if (nul) {
					match_string(c, cur, cur_len, cur_off);
					cur_len = 0;
				}
			} else if (piece > SIGHANDLER_NAME_MAX) {
				match_string(c, buf + pos + piece - SIGHANDLER_NAME_MAX, SIGHANDLER_NAME_MAX,
					     piece_off + piece - SIGHANDLER_NAME_MAX);
			} else {
				match_string(c, buf + pos, piece, piece_off);
			}
			pos += piece + (nul ? 1 : 0);
		}
		done += n;
	}
	return 0;
}

static void add_range(struct sighandler_elf *e, int kind, uint64_t start, uint64_t size)
{
	unsigned i = e->nranges[kind];

	if (i >= SIGHANDLER_RANGES_MAX)
		return;
	e->ranges[kind][i].start = start;
	e->ranges[kind][i].end = start + (size && size <= UINT64_MAX - start ? size : 1);
	e->nranges[kind]++;
}

/* Pass 2: the functions with those names, streaming .symtab. */
static int scan_symtab(int fd, const Elf64_Shdr *sh, char *buf, const struct candidates *c,
		       struct sighandler_elf *e)
{
	const size_t per_chunk = CHUNK / sizeof(Elf64_Sym);

	if (!c->n[0] && !c->n[1])
		return 0;
	for (uint64_t done = 0; done < sh->sh_size;) {
		uint64_t left = (sh->sh_size - done) / sizeof(Elf64_Sym);
		size_t count = left < per_chunk ? (size_t)left : per_chunk;
		int r = pread_exact(fd, buf, count * sizeof(Elf64_Sym), sh->sh_offset + done);

		if (r < 0)
			return r;
		for (size_t i = 0; i < count; i++) {
			Elf64_Sym sym;

			memcpy(&sym, buf + i * sizeof(sym), sizeof(sym));
			if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF)
				continue;
			for (int k = 0; k < 2; k++)
				for (unsigned j = 0; j < c->n[k]; j++)
					if (sym.st_name == c->name[k][j])
						add_range(e, k, sym.st_value, sym.st_size);
		}
		done += count * sizeof(Elf64_Sym);
	}
	return 0;
}

static int read_shdr(int fd, const Elf64_Ehdr *eh, unsigned i, Elf64_Shdr *ret)
{
	return pread_exact(fd, ret, sizeof(*ret), eh->e_shoff + (uint64_t)i * sizeof(*ret));
}

static int check_table(const Elf64_Shdr *sh, uint64_t file_size)
{
	if (sh->sh_size > SIGHANDLER_SYMTAB_MAX)
		return -EFBIG;
	return within(sh->sh_offset, 1, sh->sh_size, file_size) ? 0 : -EINVAL;
}

int sighandler_elf_read(int fd, struct sighandler_elf *ret)
{
	struct sighandler_elf e = { 0 };
	Elf64_Shdr symtab = { 0 }, strtab;
	struct candidates c = { 0 };
	Elf64_Ehdr eh;
	struct stat st;
	uint64_t size;
	char *buf;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC;
	size = (uint64_t)st.st_size;
	if (size < sizeof(eh))
		return -ENOEXEC;
	r = pread_exact(fd, &eh, sizeof(eh), 0);
	if (r < 0)
		return r;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return -ENOEXEC;

	/* The loaded segments: from a mapping's file offset to the symbols' addresses. */
	if (eh.e_phnum > SIGHANDLER_SEGMENTS_MAX)
		return -EFBIG;
	if (eh.e_phnum && (eh.e_phentsize != sizeof(Elf64_Phdr) ||
			   !within(eh.e_phoff, eh.e_phnum, sizeof(Elf64_Phdr), size)))
		return -EINVAL;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		r = pread_exact(fd, &ph, sizeof(ph), eh.e_phoff + (uint64_t)i * sizeof(ph));
		if (r < 0)
			return r;
		if (ph.p_type != PT_LOAD)
			continue;
		if (e.nloads >= SIGHANDLER_LOADS_MAX)
			return -EFBIG;
		e.loads[e.nloads].offset = ph.p_offset;
		e.loads[e.nloads].vaddr = ph.p_vaddr;
		e.loads[e.nloads].filesz = ph.p_filesz;
		e.nloads++;
	}

	/* The first .symtab, and the string table it names. e_shnum 0 with sections is the
	 * extended numbering of more than 65 279 sections: over the bound. */
	if (!eh.e_shnum) {
		*ret = e;
		return eh.e_shoff ? -EFBIG : 0;
	}
	if (eh.e_shnum > SIGHANDLER_SECTIONS_MAX)
		return -EFBIG;
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || !within(eh.e_shoff, eh.e_shnum, sizeof(Elf64_Shdr), size))
		return -EINVAL;
	for (unsigned i = 0; i < eh.e_shnum && symtab.sh_type != SHT_SYMTAB; i++) {
		r = read_shdr(fd, &eh, i, &symtab);
		if (r < 0)
			return r;
	}
	if (symtab.sh_type != SHT_SYMTAB) {
		*ret = e;               /* stripped */
		return 0;
	}
	if (symtab.sh_link >= eh.e_shnum || symtab.sh_entsize != sizeof(Elf64_Sym) ||
	    symtab.sh_size % sizeof(Elf64_Sym))
		return -EINVAL;
	r = read_shdr(fd, &eh, symtab.sh_link, &strtab);
	if (r < 0)
		return r;
	if (strtab.sh_type != SHT_STRTAB)
		return -EINVAL;
	r = check_table(&symtab, size);
	if (r == 0)
		r = check_table(&strtab, size);
	if (r < 0)
		return r;

	buf = malloc(CHUNK);
	if (!buf)
		return -ENOMEM;
	r = scan_strtab(fd, &strtab, buf, &c);
	if (r == 0)
		r = scan_symtab(fd, &symtab, buf, &c, &e);
	free(buf);
	if (r < 0)
		return r;
	e.symtab = true;
	*ret = e;
	return 0;
}

enum sigusr1_handler sighandler_classify(const struct sighandler_elf *elf, const struct sighandler_mapping *m,
					 uint64_t addr)
{
	uint64_t off, vaddr = 0;
	bool loaded = false;

	if (!elf->symtab || addr < m->start || addr >= m->end || addr - m->start > UINT64_MAX - m->offset)
		return SIGUSR1_HANDLER_UNKNOWN;
	off = addr - m->start + m->offset;
	for (unsigned i = 0; i < elf->nloads && i < SIGHANDLER_LOADS_MAX; i++) {
		if (off >= elf->loads[i].offset && off - elf->loads[i].offset < elf->loads[i].filesz) {
			vaddr = elf->loads[i].vaddr + (off - elf->loads[i].offset);
			loaded = true;
			break;
		}
	}
	if (!loaded)
		return SIGUSR1_HANDLER_UNKNOWN;
	for (int k = 0; k < 2; k++)
		for (unsigned i = 0; i < elf->nranges[k] && i < SIGHANDLER_RANGES_MAX; i++)
			if (vaddr >= elf->ranges[k][i].start && vaddr < elf->ranges[k][i].end)
				return k == 0 ? SIGUSR1_HANDLER_NODE : SIGUSR1_HANDLER_APPLICATION;
	return SIGUSR1_HANDLER_OTHER;
}

/* ---- the caches ---- */

/*
 * An executable's symbols are read on the thread inspectd-symtab (node's 10 MB of .symtab
 * and .strtab take about 7 ms with the page cache warm, more from disk): the loop only
 * looks its entry up. Entries are found by the file's identity; one being read answers
 * -EINPROGRESS until the thread is done with it.
 */
enum exe_state {
	EXE_FREE,
	EXE_READING,                    /* queued for, or being read by, the thread */
	EXE_READY,
};

struct exe_key {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct executable {
	enum exe_state state;
	struct exe_key key;
	uint64_t last_use;
	int error;                      /* of sighandler_elf_read(): the answer is "unknown" */
	struct sighandler_elf elf;
};

struct verdict {
	struct verdict *next;
	pid_t pid;
	uint64_t handler;
	enum sigusr1_handler kind;
};

struct pending {
	int fd;                         /* owned: an O_PATH fd, opened for reading and closed by the thread */
	struct exe_key key;
};

struct sighandlers {
	sighandlers_read_fn read;
	void *ctx;
	uint64_t uses;
	struct verdict *buckets[PROCESS_BUCKETS];
	unsigned nverdicts;

	/* Shared with the thread, under lock: the executables and the queue. */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool thread_started, stopping;
	struct executable exes[EXECUTABLES_MAX];
	struct pending queue[PENDING_MAX];
	unsigned nqueue;
};

static bool key_equal(const struct exe_key *a, const struct exe_key *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static struct executable *exe_find(struct sighandlers *s, const struct exe_key *k)
{
	for (int i = 0; i < EXECUTABLES_MAX; i++)
		if (s->exes[i].state != EXE_FREE && key_equal(&s->exes[i].key, k))
			return &s->exes[i];
	return NULL;
}

static int reopen(int path_fd);

static void *reader_main(void *arg)
{
	struct sighandlers *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct sighandler_elf elf = { 0 };
		struct executable *e;
		struct pending p;
		int r;

		while (!s->nqueue && !s->stopping)
			pthread_cond_wait(&s->wake, &s->lock);
		if (s->stopping)
			break;
		p = s->queue[0];
		memmove(s->queue, s->queue + 1, --s->nqueue * sizeof(s->queue[0]));
		pthread_mutex_unlock(&s->lock);

		/* Opened here, not on the loop: opening a file of a target's FUSE mount waits on
		 * whatever serves it. */
		r = reopen(p.fd);
		close(p.fd);
		if (r >= 0) {
			int fd = r;

			r = sighandler_elf_read(fd, &elf);
			close(fd);
		}

		pthread_mutex_lock(&s->lock);
		e = exe_find(s, &p.key);
		if (e && e->state == EXE_READING) {
			e->elf = elf;
			e->error = r;
			e->state = r == -ENOMEM ? EXE_FREE : EXE_READY;     /* not an answer about the file */
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int sighandlers__new(sighandlers_read_fn read, void *ctx, struct sighandlers **ret)
{
	struct sighandlers *s = calloc(1, sizeof(*s));
	sigset_t all, old;
	int r;

	if (!s)
		return -ENOMEM;
	s->read = read;
	s->ctx = ctx;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	/* The thread takes no signal of the agent's (signalfd). */
	sigfillset(&all);
	/* But SIGSYS: the system call filter's refusals come as it (syscall_filter.h). */
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&s->thread, NULL, reader_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		sighandlers__free(s);
		return -r;
	}
	pthread_setname_np(s->thread, "inspectd-symtab");
	s->thread_started = true;
	*ret = s;
	return 0;
}

static struct verdict **verdict_slot(struct sighandlers *s, pid_t pid)
{
	struct verdict **v = &s->buckets[(unsigned)pid % PROCESS_BUCKETS];

	while (*v && (*v)->pid != pid)
		v = &(*v)->next;
	return v;
}

static void remember(struct sighandlers *s, pid_t pid, uint64_t handler, enum sigusr1_handler kind)
{
	struct verdict **slot = verdict_slot(s, pid), *v = *slot;

	if (!v) {
		if (s->nverdicts >= PROCESSES_MAX)
			return;
		v = calloc(1, sizeof(*v));
		if (!v)
			return;
		v->pid = pid;
		*slot = v;
		s->nverdicts++;
	}
	v->handler = handler;
	v->kind = kind;
}

void sighandlers__forget(struct sighandlers *s, pid_t pid)
{
	struct verdict **slot, *v;

	if (!s)
		return;
	slot = verdict_slot(s, pid);
	v = *slot;
	if (!v)
		return;
	*slot = v->next;
	free(v);
	s->nverdicts--;
}

/*
 * The reading of the file fd (O_PATH, known by k) is open on, into *ret: 0 (ret->error says
 * whether it could be read), -EINPROGRESS (queued for the thread now, or earlier: ask again),
 * -EBUSY (the thread's queue is full), -errno of fcntl().
 */
static int executable_of(struct sighandlers *s, int fd, const struct exe_key *key, struct executable *ret)
{
	struct executable *e, *oldest = NULL;
	const struct exe_key k = *key;
	int r = 0, copy;

	pthread_mutex_lock(&s->lock);
	e = exe_find(s, &k);
	if (e && e->state == EXE_READY) {
		e->last_use = ++s->uses;
		*ret = *e;
		goto out;
	}
	r = -EINPROGRESS;
	if (e)
		goto out;
	/* A new file: an entry that is free, else the least used of those read. */
	for (int i = 0; i < EXECUTABLES_MAX; i++) {
		struct executable *x = &s->exes[i];

		if (x->state == EXE_FREE) {
			oldest = x;
			break;
		}
		if (x->state == EXE_READY && (!oldest || x->last_use < oldest->last_use))
			oldest = x;
	}
	if (!oldest || s->nqueue >= PENDING_MAX) {
		r = -EBUSY;
		goto out;
	}
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (copy < 0) {
		r = -errno;
		goto out;
	}
	memset(oldest, 0, sizeof(*oldest));
	oldest->state = EXE_READING;
	oldest->key = k;
	oldest->last_use = ++s->uses;
	s->queue[s->nqueue].fd = copy;
	s->queue[s->nqueue].key = k;
	s->nqueue++;
	pthread_cond_signal(&s->wake);
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

/*
 * A regular file a magic link of /proc names (map_files, exe), on the loop: opened as
 * O_PATH, which opens nothing (a device a target mapped is never opened, whatever opening
 * it would do), and known by what the kernel has cached of it (AT_STATX_DONT_SYNC: a file
 * of a target's FUSE mount is not asked, so no answer it withholds holds up the loop). The
 * O_PATH fd and *key, or -ENOEXEC (not a regular file), -errno. The thread opens it for
 * reading (reopen()).
 */
static int open_regular(const char *path, struct exe_key *key)
{
	struct statx stx;
	int fd, r;

	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE | STATX_INO | STATX_SIZE | STATX_MTIME,
		  &stx) < 0 ? -errno : S_ISREG(stx.stx_mode) ? 0 : -ENOEXEC;
	if (r < 0) {
		close(fd);
		return r;
	}
	memset(key, 0, sizeof(*key));
	key->dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	key->ino = (ino_t)stx.stx_ino;
	key->size = (off_t)stx.stx_size;
	key->mtime.tv_sec = stx.stx_mtime.tv_sec;
	key->mtime.tv_nsec = stx.stx_mtime.tv_nsec;
	return fd;
}

/* The file the O_PATH fd path_fd is (a regular file: open_regular()), opened for reading
 * (on the thread: it may wait on a FUSE server): the fd, or -errno. */
static int reopen(int path_fd)
{
	char again[64];
	int fd;

	snprintf(again, sizeof(again), "/proc/self/fd/%d", path_fd);
	fd = open(again, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

static bool alive(int pidfd)
{
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
}

/* Whose handler is at handler in pid: 0 and *ret, or -errno (*ret unknown). */
static int resolve(struct sighandlers *s, pid_t pid, int pidfd, uint64_t handler, enum sigusr1_handler *ret)
{
	struct sighandler_mapping m;
	struct executable e;
	struct exe_key key;
	char path[64];
	int fd, r;

	*ret = SIGUSR1_HANDLER_UNKNOWN;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = sighandler_find_mapping(fd, handler, &m);
	close(fd);
	/* What /proc/PID showed was the pinned process's only if it still runs now. */
	if (!alive(pidfd))
		return -ESRCH;
	if (r < 0)
		return r;
	if (!m.inode) {
		*ret = SIGUSR1_HANDLER_OTHER;   /* code in anonymous memory: not node's */
		return 0;
	}
	/* The mapped file itself, whatever its name in the target's mount namespace says. */
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid, (unsigned long long)m.start,
		 (unsigned long long)m.end);
	fd = open_regular(path, &key);
	if (fd < 0)
		return fd;
	if (!alive(pidfd)) {
		close(fd);
		return -ESRCH;
	}
	r = executable_of(s, fd, &key, &e);
	close(fd);
	if (r < 0)
		return r;
	if (e.error < 0)
		return e.error;
	*ret = sighandler_classify(&e.elf, &m, handler);
	return 0;
}

int sighandlers__check(struct sighandlers *s, pid_t pid, int pidfd, enum sigusr1_handler *ret, uint64_t *handler)
{
	struct verdict *v;
	uint64_t addr = 0;
	int r;

	*ret = SIGUSR1_HANDLER_UNKNOWN;
	if (handler)
		*handler = 0;
	r = s->read(s->ctx, pidfd, pid, &addr);
	if (r < 0)
		return r;
	if (handler)
		*handler = addr;
	if (addr == (uint64_t)(uintptr_t)SIG_DFL || addr == (uint64_t)(uintptr_t)SIG_IGN) {
		*ret = SIGUSR1_HANDLER_NONE;
		return 0;
	}
	v = *verdict_slot(s, pid);
	if (v && v->handler == addr) {
		*ret = v->kind;
		return 0;
	}
	r = resolve(s, pid, pidfd, addr, ret);
	/* A file that could not be read keeps its error in the executables' cache instead. */
	if (r == 0)
		remember(s, pid, addr, *ret);
	return r;
}

int sighandlers__prepare(struct sighandlers *s, pid_t pid)
{
	struct executable e;
	struct exe_key key;
	char path[64];
	int fd, r;

	if (!s)
		return 0;
	/* The file itself, as the kernel runs it: not a name in the target's mount namespace. */
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	fd = open_regular(path, &key);
	if (fd < 0)
		return fd;
	r = executable_of(s, fd, &key, &e);
	close(fd);
	return r == -EINPROGRESS ? 0 : r;
}

void sighandlers__counts(struct sighandlers *s, unsigned *executables, unsigned *processes)
{
	unsigned n = 0;

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < EXECUTABLES_MAX; i++)
		n += s->exes[i].state == EXE_READY;
	pthread_mutex_unlock(&s->lock);
	*executables = n;
	*processes = s->nverdicts;
}

/* pthread_join(), for at most SYMTAB_JOIN_SEC: 0, or -ETIMEDOUT. */
static int join_bounded(pthread_t thread)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += SYMTAB_JOIN_SEC;
	return -pthread_timedjoin_np(thread, NULL, &deadline);
}

void sighandlers__free(struct sighandlers *s)
{
	if (!s)
		return;
	if (s->thread_started) {
		pthread_mutex_lock(&s->lock);
		s->stopping = true;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->lock);
		if (join_bounded(s->thread) < 0) {
			/* Stuck in a read a target serves (a FUSE file): the thread still uses s, so
			 * s is left to it, and to the process's end. */
			pthread_detach(s->thread);
			return;
		}
	}
	for (unsigned i = 0; i < s->nqueue; i++)
		close(s->queue[i].fd);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	for (int i = 0; i < PROCESS_BUCKETS; i++) {
		while (s->buckets[i]) {
			struct verdict *v = s->buckets[i];

			s->buckets[i] = v->next;
			free(v);
		}
	}
	free(s);
}
