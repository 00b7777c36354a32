// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Whose handler catches SIGUSR1 (src/capture/sighandler.c): maps lines and a real node's
 * maps (fixture), ELF files built by make from tests/fixtures/elf/handlers.c (a PIE, a
 * non-PIE, a stripped PIE, a shared library) and malformed copies of them, and the whole
 * path on live fixture processes, the kernel's reading of the handler stood in for by a
 * function the test controls (tracker__sigusr1_handler() reads it for real; the
 * integration tests run that).
 *
 * What matters most: only an address inside node's own handler says "node"; a stripped,
 * malformed or oversized file says "unknown", never crashes and never says "node".
 */
#define _GNU_SOURCE             /* memfd_create, pipe2 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "sighandler.h"

#ifndef ELF_FIXTURES
#error "ELF_FIXTURES must name the folder make builds the ELF fixtures into"
#endif

/* ---- helpers ---- */

static int memfd_of(const void *data, size_t size)
{
	int fd = memfd_create("fixture", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, size), (ssize_t)size);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static char *file_bytes(const char *name, size_t *size)
{
	char path[4096];
	struct stat st;
	char *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ELF_FIXTURES, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("ELF fixture %s: %s", path, strerror(errno));
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*size = (size_t)st.st_size;
	return buf;
}

static int elf_of_bytes(const char *buf, size_t size, struct sighandler_elf *e)
{
	int fd = memfd_of(buf, size), r;

	r = sighandler_elf_read(fd, e);
	close(fd);
	return r;
}

static int elf_of(const char *name, struct sighandler_elf *e)
{
	size_t size;
	char *buf = file_bytes(name, &size);
	int r = elf_of_bytes(buf, size, e);

	free(buf);
	return r;
}

/* ---- maps ---- */

static void test_maps_line(void **state)
{
	struct sighandler_mapping m;

	assert_int_equal(sighandler_parse_maps_line("00b72000-025fe000 r-xp 00772000 fe:00 247823"
						    "                             /usr/bin/node", &m), 0);
	assert_true(m.start == 0xb72000 && m.end == 0x25fe000 && m.offset == 0x772000);
	assert_true(m.exec && m.inode == 247823 && m.dev_major == 0xfe && m.dev_minor == 0);
	/* anonymous, with no path at all */
	assert_int_equal(sighandler_parse_maps_line("7fff4cc51000-7fff4cc72000 rw-p 00000000 00:00 0", &m), 0);
	assert_true(!m.exec && m.inode == 0);
	assert_int_equal(sighandler_parse_maps_line("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0"
						    "                  [vsyscall]", &m), 0);
	assert_int_equal(sighandler_parse_maps_line("7f00-7f10 r-xs 00000000 08:01 12 /x (deleted)", &m), 0);

	/* not the kernel's */
	assert_int_equal(sighandler_parse_maps_line("", &m), -EINVAL);
	assert_int_equal(sighandler_parse_maps_line("7f10-7f00 r-xp 00000000 08:01 12", &m), -EINVAL);
	assert_int_equal(sighandler_parse_maps_line("7f00-7f10 r-xp 00000000 08:01", &m), -EINVAL);
	assert_int_equal(sighandler_parse_maps_line("7F00-7F10 r-xp 00000000 08:01 12", &m), -EINVAL);
	assert_int_equal(sighandler_parse_maps_line("7f00-7f10 rwxq 00000000 08:01 12", &m), -EINVAL);
	assert_int_equal(sighandler_parse_maps_line("7f00-7f10 r-xp 00000000 08:01 12x", &m), -EINVAL);
	assert_int_equal(sighandler_parse_maps_line("10000000000000000-20000000000000000 r-xp 0 08:01 1", &m),
			 -EINVAL);
	assert_int_equal(sighandler_parse_maps_line("7f00-7f10 r-xp 0 08:01 99999999999999999999999", &m),
			 -EINVAL);
}

static void test_maps_fixture(void **state)
{
	size_t len;
	char *text = fixture_read("node-maps.txt", &len);
	struct sighandler_mapping m;
	int fd = memfd_of(text, len);

	/* node's handler: the second r-xp mapping of /usr/bin/node */
	assert_int_equal(sighandler_find_mapping(fd, 0xdfa590, &m), 0);
	assert_true(m.start == 0xb72000 && m.end == 0x25fe000 && m.offset == 0x772000 && m.inode == 247823);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(sighandler_find_mapping(fd, 0x1efc8000, &m), 0);       /* [heap] */
	assert_true(m.inode == 0);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(sighandler_find_mapping(fd, 0x100, &m), -ENOENT);
	close(fd);

	/* the last line cut short: read to the end for an address past every mapping */
	fd = memfd_of(text, len - 1);
	assert_int_equal(sighandler_find_mapping(fd, 0xffffffffff601000ull, &m), -EINVAL);
	close(fd);
	/* in address order: the read stops at the first mapping past the address */
	{
		static const char ordered[] = "1000-2000 r-xp 0 08:01 7\n3000-4000 r-xp 0 08:01 7\nnot the kernel's\n";

		fd = memfd_of(ordered, sizeof(ordered) - 1);
	}
	assert_int_equal(sighandler_find_mapping(fd, 0x2800, &m), -ENOENT);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(sighandler_find_mapping(fd, 0x4800, &m), -EINVAL);
	close(fd);
	free(text);
}

static void test_maps_bounds(void **state)
{
	static const char line[] = "1000-2000 r--p 00000000 00:00 0\n";
	size_t n = SIGHANDLER_MAPS_LINES_MAX + 1, len = n * (sizeof(line) - 1);
	char *big = malloc(len + 8192);
	struct sighandler_mapping m;
	int fd;

	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		memcpy(big + i * (sizeof(line) - 1), line, sizeof(line) - 1);
	fd = memfd_of(big, len);
	assert_int_equal(sighandler_find_mapping(fd, 0x5000, &m), -EFBIG);
	close(fd);

	/* a path of 8 000 bytes: the line is still read, its numbers parsed */
	len = (size_t)snprintf(big, 64, "5000-6000 r-xp 00001000 08:01 77 /");
	memset(big + len, 'a', 8000);
	len += 8000;
	big[len++] = '\n';
	fd = memfd_of(big, len);
	assert_int_equal(sighandler_find_mapping(fd, 0x5800, &m), 0);
	assert_true(m.start == 0x5000 && m.inode == 77 && m.offset == 0x1000);
	close(fd);

	/* a NUL is not the kernel's text */
	fd = memfd_of("5000-6000 r-xp 0 08:01 77\0\n", 27);
	assert_int_equal(sighandler_find_mapping(fd, 0x5800, &m), -EINVAL);
	close(fd);
	free(big);
}

/* ---- ELF files ---- */

static void test_elf_fixtures(void **state)
{
	static const char *const names[] = { "pie", "nopie", "libhandlers.so" };
	struct sighandler_elf e;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(elf_of(names[i], &e), 0);
		assert_true(e.symtab);
		assert_true(e.nloads >= 2);
		assert_int_equal(e.nranges[0], 1);
		assert_int_equal(e.nranges[1], 1);
		assert_true(e.ranges[0][0].end > e.ranges[0][0].start);
	}
	/* stripped: read, but nothing to tell by */
	assert_int_equal(elf_of("stripped", &e), 0);
	assert_false(e.symtab);
	assert_int_equal(e.nranges[0] + e.nranges[1], 0);
}

static void test_classify(void **state)
{
	struct sighandler_elf e = {
		.symtab = true, .nloads = 2,
		.loads = { { 0, 0x400000, 0x1000 }, { 0x1000, 0x401000, 0x4000 } },
		.nranges = { 1, 1 },
		.ranges = { { { 0x401100, 0x401180 } }, { { 0x402000, 0x402040 } } },
	};
	/* a PIE-like mapping of the second segment at another address */
	struct sighandler_mapping m = { .start = 0x7f0000001000, .end = 0x7f0000005000, .offset = 0x1000, .inode = 1 };

	assert_int_equal(sighandler_classify(&e, &m, 0x7f0000001100), SIGUSR1_HANDLER_NODE);
	assert_int_equal(sighandler_classify(&e, &m, 0x7f000000117f), SIGUSR1_HANDLER_NODE);
	assert_int_equal(sighandler_classify(&e, &m, 0x7f0000001180), SIGUSR1_HANDLER_OTHER);
	assert_int_equal(sighandler_classify(&e, &m, 0x7f0000002010), SIGUSR1_HANDLER_APPLICATION);
	assert_int_equal(sighandler_classify(&e, &m, 0x7f0000003000), SIGUSR1_HANDLER_OTHER);
	/* outside the mapping, or in no loaded segment */
	assert_int_equal(sighandler_classify(&e, &m, 0x7f0000005000), SIGUSR1_HANDLER_UNKNOWN);
	m.offset = 0x10000;
	assert_int_equal(sighandler_classify(&e, &m, 0x7f0000001100), SIGUSR1_HANDLER_UNKNOWN);
	/* no symbol table */
	m.offset = 0x1000;
	e.symtab = false;
	assert_int_equal(sighandler_classify(&e, &m, 0x7f0000001100), SIGUSR1_HANDLER_UNKNOWN);
	/* an offset that would wrap */
	e.symtab = true;
	m.offset = UINT64_MAX - 4;
	assert_int_equal(sighandler_classify(&e, &m, 0x7f0000001100), SIGUSR1_HANDLER_UNKNOWN);
}

static Elf64_Ehdr *ehdr(char *buf)
{
	return (Elf64_Ehdr *)buf;
}

static Elf64_Shdr *symtab_shdr(char *buf)
{
	Elf64_Ehdr *eh = ehdr(buf);

	for (unsigned i = 0; i < eh->e_shnum; i++) {
		Elf64_Shdr *sh = (Elf64_Shdr *)(buf + eh->e_shoff + i * sizeof(Elf64_Shdr));

		if (sh->sh_type == SHT_SYMTAB)
			return sh;
	}
	fail_msg("no .symtab in the fixture");
	return NULL;
}

/* Malformed, oversized and foreign files: an error (the caller's "unknown"), never a crash. */
static void test_elf_hostile(void **state)
{
	struct sighandler_elf e;
	size_t size;
	char *orig = file_bytes("pie", &size), *buf = malloc(size);
	int fd;

	assert_non_null(buf);
#define FRESH() memcpy(buf, orig, size)
	FRESH();
	buf[1] = 'X';
	assert_int_equal(elf_of_bytes(buf, size, &e), -ENOEXEC);
	FRESH();
	buf[EI_CLASS] = ELFCLASS32;
	assert_int_equal(elf_of_bytes(buf, size, &e), -ENOEXEC);
	FRESH();
	buf[EI_DATA] = ELFDATA2MSB;
	assert_int_equal(elf_of_bytes(buf, size, &e), -ENOEXEC);
	assert_int_equal(elf_of_bytes(buf, 10, &e), -ENOEXEC);
	FRESH();
	ehdr(buf)->e_shnum = 60000;
	assert_int_equal(elf_of_bytes(buf, size, &e), -EFBIG);
	FRESH();
	ehdr(buf)->e_shnum = 0;         /* extended numbering */
	assert_int_equal(elf_of_bytes(buf, size, &e), -EFBIG);
	FRESH();
	ehdr(buf)->e_phnum = 1000;
	assert_int_equal(elf_of_bytes(buf, size, &e), -EFBIG);
	FRESH();
	ehdr(buf)->e_shoff = size - 10;
	assert_int_equal(elf_of_bytes(buf, size, &e), -EINVAL);
	FRESH();
	ehdr(buf)->e_shoff = UINT64_MAX - 100;
	assert_int_equal(elf_of_bytes(buf, size, &e), -EINVAL);
	FRESH();
	ehdr(buf)->e_shentsize = 32;
	assert_int_equal(elf_of_bytes(buf, size, &e), -EINVAL);
	FRESH();
	symtab_shdr(buf)->sh_size = ((uint64_t)SIGHANDLER_SYMTAB_MAX / sizeof(Elf64_Sym) + 1) * sizeof(Elf64_Sym);
	assert_int_equal(elf_of_bytes(buf, size, &e), -EFBIG);
	FRESH();
	symtab_shdr(buf)->sh_offset = size;
	assert_int_equal(elf_of_bytes(buf, size, &e), -EINVAL);
	FRESH();
	symtab_shdr(buf)->sh_link = 9999;
	assert_int_equal(elf_of_bytes(buf, size, &e), -EINVAL);
	FRESH();
	symtab_shdr(buf)->sh_size += 1;
	assert_int_equal(elf_of_bytes(buf, size, &e), -EINVAL);
	FRESH();
	symtab_shdr(buf)->sh_link = 0;  /* the null section is not a string table */
	assert_int_equal(elf_of_bytes(buf, size, &e), -EINVAL);
	/* cut short: the section headers are past the end */
	assert_int_equal(elf_of_bytes(orig, size / 2, &e), -EINVAL);
	/* not a regular file */
	{
		int p[2];

		assert_int_equal(pipe(p), 0);
		assert_int_equal(sighandler_elf_read(p[0], &e), -ENOEXEC);
		close(p[0]);
		close(p[1]);
	}
	/* A string table whose every byte is a name's start: bounded in what it keeps. */
	FRESH();
	{
		Elf64_Shdr *sym = symtab_shdr(buf);
		Elf64_Shdr *str = (Elf64_Shdr *)(buf + ehdr(buf)->e_shoff + sym->sh_link * sizeof(Elf64_Shdr));

		memset(buf + str->sh_offset, 'u', str->sh_size);      /* one string with no NUL */
		fd = memfd_of(buf, size);
		assert_int_equal(sighandler_elf_read(fd, &e), 0);
		assert_int_equal(e.nranges[0] + e.nranges[1], 0);
		close(fd);
	}
#undef FRESH
	free(buf);
	free(orig);
}

/* The node this machine runs, if it keeps .symtab: both handlers found, and how long. */
static void test_elf_real_node(void **state)
{
	struct sighandler_elf e;
	struct timespec a, b;
	int fd = open("/usr/bin/node", O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		print_message("skipped: no /usr/bin/node to read (%s)\n", strerror(errno));
		skip();
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(sighandler_elf_read(fd, &e), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	close(fd);
	if (!e.symtab) {
		print_message("skipped: /usr/bin/node is stripped\n");
		skip();
	}
	assert_int_equal(e.nranges[0], 1);
	assert_int_equal(e.nranges[1], 1);
	print_message("/usr/bin/node's .symtab read in %.1f ms\n",
		      (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
}

/* ---- live processes ---- */

static uint64_t fake_handler;
static int fake_error, fake_reads;

static int fake_read(void *ctx, int pidfd, pid_t pid, uint64_t *handler)
{
	fake_reads++;
	if (fake_error)
		return fake_error;
	*handler = fake_handler;
	return 0;
}

struct child {
	pid_t pid;
	int pidfd;
	int in;                         /* its stdin: closing it ends it */
	unsigned long addr[3];          /* node's, libuv's, its own handler */
};

static void child_start(const char *name, struct child *c)
{
	char path[4096], line[128];
	int in[2], out[2];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", ELF_FIXTURES, name);
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in = in[1];
	n = read(out[0], line, sizeof(line) - 1);
	close(out[0]);
	assert_true(n > 0);
	line[n] = '\0';
	assert_int_equal(sscanf(line, "%lx %lx %lx", &c->addr[0], &c->addr[1], &c->addr[2]), 3);
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	assert_true(c->pidfd >= 0);
}

static void child_stop(struct child *c)
{
	close(c->in);
	waitpid(c->pid, NULL, 0);
	close(c->pidfd);
}

/* An address in the child's anonymous memory: its stack. */
static uint64_t stack_of(pid_t pid)
{
	char path[64], line[512];
	unsigned long long start = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[stack]"))
			sscanf(line, "%llx-", &start);
	fclose(f);
	assert_true(start != 0);
	return start + 16;
}

static enum sigusr1_handler check(struct sighandlers *s, const struct child *c, uint64_t addr, int *r)
{
	enum sigusr1_handler h = _SIGUSR1_HANDLER_MAX;

	fake_handler = addr;
	/* A file new to the cache is read on the thread: asked again until it is. */
	for (int i = 0; i < 5000; i++) {
		*r = sighandlers__check(s, c->pid, c->pidfd, &h, NULL);
		if (*r != -EINPROGRESS)
			break;
		assert_int_equal(h, SIGUSR1_HANDLER_UNKNOWN);
		usleep(1000);
	}
	return h;
}

static void test_live(void **state)
{
	static const char *const names[] = { "pie", "nopie", "user" };
	struct sighandlers *s;
	unsigned exes, procs;
	int r;

	assert_int_equal(sighandlers__new(fake_read, NULL, &s), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct child c;

		child_start(names[i], &c);
		assert_int_equal(check(s, &c, c.addr[0], &r), SIGUSR1_HANDLER_NODE);
		assert_int_equal(r, 0);
		assert_int_equal(check(s, &c, c.addr[1], &r), SIGUSR1_HANDLER_APPLICATION);
		assert_int_equal(check(s, &c, c.addr[2], &r), SIGUSR1_HANDLER_OTHER);
		/* the same handler again: the process's verdict, the file not read again */
		assert_int_equal(check(s, &c, c.addr[2], &r), SIGUSR1_HANDLER_OTHER);
		assert_int_equal(check(s, &c, (uint64_t)(uintptr_t)SIG_DFL, &r), SIGUSR1_HANDLER_NONE);
		assert_int_equal(check(s, &c, (uint64_t)(uintptr_t)SIG_IGN, &r), SIGUSR1_HANDLER_NONE);
		/* in anonymous memory (its stack) */
		assert_int_equal(check(s, &c, stack_of(c.pid), &r), SIGUSR1_HANDLER_OTHER);
		assert_int_equal(r, 0);
		/* in no mapping */
		assert_int_equal(check(s, &c, 0x1000, &r), SIGUSR1_HANDLER_UNKNOWN);
		assert_int_equal(r, -ENOENT);
		/* the kernel could not say */
		fake_error = -ESRCH;
		assert_int_equal(check(s, &c, c.addr[0], &r), SIGUSR1_HANDLER_UNKNOWN);
		assert_int_equal(r, -ESRCH);
		fake_error = 0;
		/* exec: its verdicts go */
		sighandlers__counts(s, &exes, &procs);
		assert_int_equal(procs, 1);
		sighandlers__forget(s, c.pid);
		sighandlers__counts(s, &exes, &procs);
		assert_int_equal(procs, 0);
		/* gone: /proc says nothing the pidfd vouches for */
		child_stop(&c);
		assert_int_equal(check(s, &c, c.addr[0], &r), SIGUSR1_HANDLER_UNKNOWN);
		assert_true(r == -ESRCH || r == -ENOENT);
	}
	/* pie, nopie and libhandlers.so (user's handlers are the library's): each read once */
	sighandlers__counts(s, &exes, &procs);
	assert_int_equal(exes, 3);
	sighandlers__free(s);
}

/* A stripped executable: "unknown", which never gets SIGUSR1. */
static void test_live_stripped(void **state)
{
	struct sighandlers *s;
	struct child c;
	int r;

	assert_int_equal(sighandlers__new(fake_read, NULL, &s), 0);
	child_start("stripped", &c);
	assert_int_equal(check(s, &c, c.addr[0], &r), SIGUSR1_HANDLER_UNKNOWN);
	assert_int_equal(r, 0);
	assert_int_equal(check(s, &c, c.addr[1], &r), SIGUSR1_HANDLER_UNKNOWN);
	child_stop(&c);
	sighandlers__free(s);
}

/* Discovered: its executable read on the thread before any trigger. */
static void test_prepare(void **state)
{
	struct sighandlers *s;
	unsigned exes = 0, procs;
	struct child c;
	int r;

	assert_int_equal(sighandlers__new(fake_read, NULL, &s), 0);
	child_start("nopie", &c);
	assert_int_equal(sighandlers__prepare(s, c.pid), 0);
	for (int i = 0; i < 5000 && !exes; i++) {
		sighandlers__counts(s, &exes, &procs);
		usleep(1000);
	}
	assert_int_equal(exes, 1);
	/* the first check finds it read: no -EINPROGRESS */
	fake_handler = c.addr[0];
	assert_int_equal(sighandlers__check(s, c.pid, c.pidfd, &(enum sigusr1_handler){ 0 }, NULL), 0);
	fake_handler = c.addr[1];
	{
		enum sigusr1_handler h;

		r = sighandlers__check(s, c.pid, c.pidfd, &h, NULL);
		assert_int_equal(r, 0);
		assert_int_equal(h, SIGUSR1_HANDLER_APPLICATION);
	}
	assert_int_equal(sighandlers__prepare(s, 0x7ffffff0), -ENOENT);
	assert_int_equal(sighandlers__prepare(NULL, c.pid), 0);
	child_stop(&c);
	sighandlers__free(s);
}

/* Two processes of one executable: its file is read once. */
static void test_live_cache(void **state)
{
	struct sighandlers *s;
	struct child a, b;
	unsigned exes, procs;
	int r;

	assert_int_equal(sighandlers__new(fake_read, NULL, &s), 0);
	child_start("pie", &a);
	child_start("pie", &b);
	assert_int_equal(check(s, &a, a.addr[0], &r), SIGUSR1_HANDLER_NODE);
	assert_int_equal(check(s, &b, b.addr[1], &r), SIGUSR1_HANDLER_APPLICATION);
	sighandlers__counts(s, &exes, &procs);
	assert_int_equal(exes, 1);
	assert_int_equal(procs, 2);
	/* the application installs its own handler later: read fresh, judged again */
	assert_int_equal(check(s, &a, a.addr[1], &r), SIGUSR1_HANDLER_APPLICATION);
	child_stop(&a);
	child_stop(&b);
	sighandlers__free(s);
	sighandlers__free(NULL);
	assert_string_equal(sigusr1_handler_name(SIGUSR1_HANDLER_APPLICATION), "application");
	assert_null(sigusr1_handler_name(_SIGUSR1_HANDLER_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_line),
		cmocka_unit_test(test_maps_fixture),
		cmocka_unit_test(test_maps_bounds),
		cmocka_unit_test(test_elf_fixtures),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_elf_hostile),
		cmocka_unit_test(test_elf_real_node),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_live_stripped),
		cmocka_unit_test(test_live_cache),
		cmocka_unit_test(test_prepare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
