// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"

#define TCP_LISTEN 0x0A
#define PROCFS_MASK_DIGITS 16
#define NET_TCP_LINE_MAX 512            /* a tcp6 line is 178 bytes wide, a tcp line 150 */
#define FDINFO_MAX 4096

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int procfs_parse_status_mask(const char *status, const char *field, uint64_t *ret)
{
	size_t flen = strlen(field);
	const char *p = status;

	while (p && *p) {
		if (strncmp(p, field, flen) == 0 && p[flen] == ':') {
			uint64_t v = 0;

			p += flen + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			/* The kernel prints a mask as exactly 16 hex digits and a newline: anything
			 * shorter is a cut read, whose prefix would name other signals. */
			for (int i = 0; i < PROCFS_MASK_DIGITS; i++) {
				int d = hexval(p[i]);

				if (d < 0)
					return -EINVAL;
				v = v << 4 | (uint64_t)d;
			}
			if (p[PROCFS_MASK_DIGITS] != '\n')
				return -EINVAL;
			*ret = v;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENOENT;
}

/* A decimal number at p that ends its field (a space, a newline or the end). */
static int parse_decimal_field(const char *p, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -EINVAL;
	*ret = v;
	return 0;
}

int procfs_parse_stat_starttime(const char *stat, uint64_t *ret)
{
	/* "pid (comm) state ppid ...": the comm is whatever the process named itself, so
	 * the fields start after the last ')'. Then state is field 3, starttime field 22. */
	const char *p = strrchr(stat, ')');

	if (!p || p[1] != ' ')
		return -EINVAL;
	p += 2;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	return parse_decimal_field(p, ret);
}

/* "0100007F:2412" (v4, 8 hex digits) or 32 hex digits (v6), kernel word order. */
static int parse_address(const char *s, int family, struct procfs_listener *l, const char **end)
{
	size_t ndigits = family == AF_INET ? 8 : 32;
	uint8_t bytes[16] = { 0 };
	unsigned port = 0;
	bool all_zero = true;

	for (size_t i = 0; i < ndigits; i += 2) {
		int hi = hexval(s[i]), lo = hi < 0 ? -1 : hexval(s[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		bytes[i / 2] = (uint8_t)(hi << 4 | lo);
		if (bytes[i / 2])
			all_zero = false;
	}
	s += ndigits;
	if (*s++ != ':')
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		int v = hexval(s[i]);

		if (v < 0)
			return -EINVAL;
		port = port << 4 | (unsigned)v;
	}
	s += 4;
	*end = s;

	/* Words are in host order (little-endian here): 127.0.0.1 is "0100007F". */
	for (size_t w = 0; w < ndigits / 8; w++)
		for (size_t b = 0; b < 4; b++)
			l->addr[w * 4 + b] = bytes[w * 4 + 3 - b];
	l->port = (uint16_t)port;
	l->any = all_zero;
	if (family == AF_INET) {
		l->loopback = bytes[3] == 127;
	} else {
		static const uint8_t v6_loopback[16] = { 0, 0, 0, 0, 0, 0, 0, 0,
							 0, 0, 0, 0, 1, 0, 0, 0 };
		/* ::ffff:127.x.x.x in kernel word order: 0000 0000 FFFF0000 xx..007F */
		bool mapped = !memcmp(bytes, "\0\0\0\0\0\0\0\0\0\0\0\0", 8) &&
			      bytes[8] == 0xFF && bytes[9] == 0xFF && bytes[10] == 0 && bytes[11] == 0;

		l->loopback = !memcmp(bytes, v6_loopback, 16) || (mapped && bytes[15] == 127);
	}
	l->family = family;
	return 0;
}

int procfs_parse_net_tcp_line(const char *line, int family, struct procfs_listener *out)
{
	struct procfs_listener l = { 0 };
	const char *p = line, *after;
	unsigned state;

	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	while (*p == ' ')
		p++;
	/* "sl:" */
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p++ != ':')
		return -EINVAL;
	while (*p == ' ')
		p++;
	if (parse_address(p, family, &l, &after) < 0)
		return -EINVAL;
	p = after;
	/* remote address: skip */
	while (*p == ' ')
		p++;
	while (*p && *p != ' ')
		p++;
	while (*p == ' ')
		p++;
	if (hexval(p[0]) < 0 || hexval(p[1]) < 0)
		return -EINVAL;
	state = (unsigned)(hexval(p[0]) << 4 | hexval(p[1]));
	if (state != TCP_LISTEN)
		return 0;
	/* tx:rx, tr:when, retrnsmt, uid, timeout, then the inode */
	for (int field = 0; field < 6; field++) {
		while (*p && *p != ' ' && *p != '\n')
			p++;
		while (*p == ' ')
			p++;
	}
	if (parse_decimal_field(p, &l.inode) < 0)
		return -EINVAL;
	*out = l;
	return 1;
}

int procfs_parse_net_tcp(const char *text, int family, struct procfs_listener *out, size_t max)
{
	const char *line = strchr(text, '\n');   /* the first line is the header */
	size_t n = 0;

	while (line && *++line && n < max) {
		if (procfs_parse_net_tcp_line(line, family, &out[n]) == 1)
			n++;
		line = strchr(line, '\n');
	}
	return (int)n;
}

int procfs_parse_socket_link(const char *link, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (strncmp(link, "socket:[", 8) != 0 || !isdigit((unsigned char)link[8]))
		return -EINVAL;
	errno = 0;
	v = strtoull(link + 8, &end, 10);
	if (errno || strcmp(end, "]") != 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

int procfs_split_cmdline(char *buf, size_t len, char **argv, size_t max)
{
	size_t argc = 0, i = 0;

	while (i < len && argc < max) {
		argv[argc++] = buf + i;
		while (i < len && buf[i])
			i++;
		i++;
	}
	return (int)argc;
}

static int parse_port(const char *s, uint16_t *ret)
{
	const char *colon = strrchr(s, ':');
	unsigned long v;
	char *end;

	if (colon)
		s = colon + 1;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (*end || v == 0 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

int procfs_cmdline_inspect_port(char *const *argv, int argc, uint16_t *ret)
{
	static const char *const inspect_flags[] = { "--inspect-port", "--debug-port",
						     "--inspect-brk", "--inspect-wait", "--inspect" };
	/* node options whose value is the next argument: not the script name. */
	static const char *const value_options[] = {
		"-r", "--require", "--import", "--loader", "--experimental-loader", "-e", "--eval",
		"-p", "--print", "--title", "-C", "--conditions", "--input-type", "--env-file",
		"--disable-warning", "--redirect-warnings", "--icu-data-dir", "--openssl-config",
	};
	uint16_t port = 0;

	/* Node's options end at "--" or at the script name; the last one given wins. */
	for (int i = 1; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0; i++) {
		bool matched = false;

		for (size_t f = 0; f < sizeof(inspect_flags) / sizeof(inspect_flags[0]); f++) {
			size_t n = strlen(inspect_flags[f]);

			if (strncmp(argv[i], inspect_flags[f], n) != 0)
				continue;
			if (argv[i][n] == '=') {
				parse_port(argv[i] + n + 1, &port);
				matched = true;
			} else if (argv[i][n] == '\0') {
				/* --inspect-port and --debug-port take their value separately too. */
				if (f < 2 && i + 1 < argc)
					parse_port(argv[++i], &port);
				matched = true;
			}
			if (matched)
				break;
		}
		if (matched)
			continue;
		for (size_t v = 0; v < sizeof(value_options) / sizeof(value_options[0]); v++) {
			if (strcmp(argv[i], value_options[v]) == 0) {
				i++;
				break;
			}
		}
	}
	*ret = port;
	return port ? 0 : -ENOENT;
}

ssize_t procfs_read(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	size_t got = 0;
	int fd;

	if (size == 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (got < size - 1) {
		ssize_t r = read(fd, buf + got, size - 1 - got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			close(fd);
			return r;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

int procfs_read_comm(pid_t pid, char *buf, size_t size)
{
	ssize_t n = procfs_read(pid, "comm", buf, size);

	if (n < 0)
		return (int)n;
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

int procfs_read_exe(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

ssize_t procfs_read_whole_path(const char *path, size_t max, char **ret)
{
	size_t size = max < 4096 ? max + 1 : 4096, got = 0;
	char *buf = NULL;
	ssize_t r;
	int fd;

	*ret = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (got == size) {
			/* Room for one byte more than max: a file that fills it is too long. */
			size_t bigger = size >= max / 2 ? max + 1 : size * 2;
			char *p;

			if (size == max + 1) {
				r = -EFBIG;
				goto fail;
			}
			p = realloc(buf, bigger);
			if (!p) {
				r = -ENOMEM;
				goto fail;
			}
			buf = p;
			size = bigger;
		} else if (!buf) {
			buf = malloc(size);
			if (!buf) {
				r = -ENOMEM;
				goto fail;
			}
		}
		r = read(fd, buf + got, size - got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got > max) {
		r = -EFBIG;
		goto fail;
	}
	if (got == size) {
		char *p = realloc(buf, got + 1);

		if (!p) {
			r = -ENOMEM;
			goto fail;
		}
		buf = p;
	}
	close(fd);
	buf[got] = '\0';
	*ret = buf;
	return (ssize_t)got;
fail:
	close(fd);
	free(buf);
	return r;
}

ssize_t procfs_read_whole(pid_t pid, const char *name, size_t max, char **ret)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	return procfs_read_whole_path(path, max, ret);
}

int procfs_status_signal_caught(const char *status, size_t len, uint64_t *caught)
{
	/* A NUL inside is not the kernel's text; the last line must be whole. */
	if (len == 0 || memchr(status, '\0', len) || status[len - 1] != '\n')
		return -EINVAL;
	return procfs_parse_status_mask(status, "SigCgt", caught);
}

int procfs_read_signal_caught(pid_t pid, uint64_t *caught)
{
	char *status;
	ssize_t n = procfs_read_whole(pid, "status", PROCFS_TEXT_MAX, &status);
	int r;

	if (n < 0)
		return (int)n;
	r = procfs_status_signal_caught(status, (size_t)n, caught);
	free(status);
	return r;
}

int procfs_read_starttime(pid_t pid, uint64_t *ret)
{
	char *stat;
	ssize_t n = procfs_read_whole(pid, "stat", PROCFS_STAT_MAX, &stat);
	int r = -EINVAL;

	if (n < 0)
		return (int)n;
	/* One line, whole. */
	if (n > 0 && !memchr(stat, '\0', (size_t)n) && stat[n - 1] == '\n')
		r = procfs_parse_stat_starttime(stat, ret);
	free(stat);
	return r;
}

int procfs_parse_fdinfo_pid(const char *fdinfo, pid_t *ret)
{
	const char *p = fdinfo;

	while (p && *p) {
		if (strncmp(p, "Pid:", 4) == 0) {
			long v;
			char *end;

			p += 4;
			while (*p == ' ' || *p == '\t')
				p++;
			if (strncmp(p, "-1\n", 3) == 0)
				return -ESRCH;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			errno = 0;
			v = strtol(p, &end, 10);
			if (errno || *end != '\n' || v > INT32_MAX)
				return -EINVAL;
			if (v == 0)
				return -ENXIO;
			*ret = (pid_t)v;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -EINVAL;
}

/* The pid, in the namespace of this /proc, of the process pidfd pins. */
static int pidfd_pid(int pidfd, pid_t *ret)
{
	char path[64], *text;
	ssize_t n;
	int r = -EINVAL;

	if (pidfd < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	n = procfs_read_whole_path(path, FDINFO_MAX, &text);
	if (n < 0)
		return (int)n;
	if (!memchr(text, '\0', (size_t)n))
		r = procfs_parse_fdinfo_pid(text, ret);
	free(text);
	return r;
}

static uint64_t monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* One line of a table, without its newline (line_no 1 is the header). */
static int net_tcp_line(const char *line, size_t line_no, int family, struct procfs_listener *out, size_t max,
			size_t *n)
{
	struct procfs_listener l;
	int r;

	if (line_no == 1)
		return 0;
	r = procfs_parse_net_tcp_line(line, family, &l);
	if (r < 0)
		return r;
	/* As an inspector could listen: on loopback or any address. Every one is counted. */
	if (r == 0 || (!l.loopback && !l.any))
		return 0;
	if (*n >= max)
		return -E2BIG;
	out[(*n)++] = l;
	return 0;
}

int procfs_read_net_tcp(int fd, int family, size_t max_lines, uint64_t deadline_usec, struct procfs_listener *out,
			size_t max, size_t *n)
{
	char buf[16 * 1024];
	size_t start = 0, end = 0, lines = 0;
	bool eof = false;

	for (;;) {
		char *nl = memchr(buf + start, '\n', end - start);
		ssize_t got;
		int r;

		if (nl) {
			size_t len = (size_t)(nl - (buf + start));

			/* Longer than the kernel writes them, or with a NUL inside. */
			if (len >= NET_TCP_LINE_MAX || memchr(buf + start, '\0', len))
				return -EINVAL;
			*nl = '\0';
			if (++lines > max_lines)
				return -EFBIG;
			r = net_tcp_line(buf + start, lines, family, out, max, n);
			if (r < 0)
				return r;
			start = (size_t)(nl + 1 - buf);
			continue;
		}
		/* No whole line left in the buffer. */
		if (end - start >= NET_TCP_LINE_MAX)
			return -EINVAL;         /* no line of the kernel's */
		if (eof)
			return end == start ? 0 : -EINVAL;      /* a last line cut short */
		if (monotonic_usec() >= deadline_usec)
			return -ETIMEDOUT;
		memmove(buf, buf + start, end - start);
		end -= start;
		start = 0;
		got = read(fd, buf + end, sizeof(buf) - end);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		eof = got == 0;
		end += (size_t)got;
	}
}

int procfs_netns_listeners(int pidfd, struct procfs_listener *out, size_t max)
{
	static const struct {
		const char *name;
		int family;
	} tables[] = { { "net/tcp", AF_INET }, { "net/tcp6", AF_INET6 } };
	uint64_t deadline = monotonic_usec() + PROCFS_NET_TCP_USEC;
	char path[64];
	size_t n = 0;
	pid_t pid, again;
	int dir, r;

	r = pidfd_pid(pidfd, &pid);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	/* Still pinned by the pidfd: this /proc/PID is its process's, not a recycled pid's. */
	r = pidfd_pid(pidfd, &again);
	if (r == 0 && again != pid)
		r = -ESRCH;
	/* The target's /proc shows the target's own network namespace. */
	for (size_t t = 0; r == 0 && t < 2; t++) {
		int fd = openat(dir, tables[t].name, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			/* No IPv6. */
			if (errno != ENOENT || t == 0)
				r = -errno;
			continue;
		}
		r = procfs_read_net_tcp(fd, tables[t].family, PROCFS_NET_TCP_LINES, deadline, out, max, &n);
		close(fd);
	}
	close(dir);
	return r < 0 ? r : (int)n;
}

int procfs_status_ns_pid(const char *status, size_t len, pid_t *ret)
{
	const char *line = status, *end = status + len;

	/* A NUL inside is not the kernel's text; the last line must be whole. */
	if (len == 0 || memchr(status, '\0', len) || status[len - 1] != '\n')
		return -EINVAL;
	for (; line < end; line = strchr(line, '\n') + 1) {
		const char *p = line + 6;
		unsigned long long v = 0;

		if (strncmp(line, "NSpid:", 6) != 0)
			continue;
		/* "NSpid:\t4242\t1\n": the host's pid first, the innermost namespace's last. */
		while (*p != '\n') {
			if (*p != '\t' && *p != ' ')
				return -EINVAL;
			while (*p == '\t' || *p == ' ')
				p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			for (v = 0; isdigit((unsigned char)*p); p++) {
				v = v * 10 + (unsigned)(*p - '0');
				if (v > 0x7fffffff)
					return -EINVAL;
			}
		}
		if (v == 0)
			return -EINVAL;
		*ret = (pid_t)v;
		return 0;
	}
	return -ENOENT;
}

int procfs_read_ns_pid(pid_t pid, pid_t *ret)
{
	char *status;
	ssize_t n = procfs_read_whole(pid, "status", PROCFS_TEXT_MAX, &status);
	int r;

	if (n < 0)
		return (int)n;
	r = procfs_status_ns_pid(status, (size_t)n, ret);
	free(status);
	return r;
}
