// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * sock_diag: the reply parser on buffers built here (what the kernel sends, and
 * what it never should), then the namespace listing against this test's own sockets,
 * checked against /proc/self/net/tcp{,6}, and against a child's in a namespace of its
 * own (root only); and its fallback to /proc where sock_diag fails.
 */
#define _GNU_SOURCE             /* unshare */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "fixture.h"
#include "netns.h"
#include "sockdiag.h"

/*
 * Wrapped (-Wl,--wrap=...): socket(), to fail the netlink socket as a kernel without
 * sock_diag does; netns_leave(), to fail the way back; procfs_netns_listeners(), the
 * fallback, counted. Each calls the real one unless told.
 */
int __real_socket(int domain, int type, int protocol);
int __wrap_socket(int domain, int type, int protocol);
int __real_netns_leave(int saved);
int __wrap_netns_leave(int saved);
int __real_procfs_netns_listeners(int pidfd, struct procfs_listener *out, size_t max);
int __wrap_procfs_netns_listeners(int pidfd, struct procfs_listener *out, size_t max);

static int netlink_errno;               /* socket(AF_NETLINK) fails so */
static int leave_error;                 /* netns_leave() returns it, once back */
static int fallbacks;

int __wrap_socket(int domain, int type, int protocol)
{
	if (domain == AF_NETLINK && netlink_errno) {
		errno = netlink_errno;
		return -1;
	}
	return __real_socket(domain, type, protocol);
}

int __wrap_netns_leave(int saved)
{
	int r = __real_netns_leave(saved);

	return r < 0 ? r : leave_error;
}

int __wrap_procfs_netns_listeners(int pidfd, struct procfs_listener *out, size_t max)
{
	fallbacks++;
	return __real_procfs_netns_listeners(pidfd, out, max);
}

static int reset_wraps(void **state)
{
	netlink_errno = 0;
	leave_error = 0;
	fallbacks = 0;
	return 0;
}

/* ---- building replies ---- */

/* The request's sequence number and the port id the kernel addresses its replies to. */
#define SEQ     7u
#define PORTID  4242u

struct reply {
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	size_t len;
};

static void add_socket(struct reply *r, int family, int state, const void *addr, uint16_t port, uint32_t inode)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(r->buf + r->len);
	struct inet_diag_msg *m = NLMSG_DATA(h);

	memset(h, 0, NLMSG_SPACE(sizeof(*m)));
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*m));
	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	h->nlmsg_seq = SEQ;
	h->nlmsg_pid = PORTID;
	m->idiag_family = (uint8_t)family;
	m->idiag_state = (uint8_t)state;
	m->id.idiag_sport = htons(port);
	memcpy(m->id.idiag_src, addr, family == AF_INET ? 4 : 16);
	m->idiag_inode = inode;
	r->len += NLMSG_SPACE(sizeof(*m));
}

static void add_control(struct reply *r, int type, int error)
{
	struct nlmsghdr *h = (struct nlmsghdr *)(r->buf + r->len);
	size_t payload = type == NLMSG_ERROR ? sizeof(struct nlmsgerr) : sizeof(int);

	memset(h, 0, NLMSG_SPACE(payload));
	h->nlmsg_len = NLMSG_LENGTH(payload);
	h->nlmsg_type = (uint16_t)type;
	h->nlmsg_seq = SEQ;
	h->nlmsg_pid = PORTID;
	if (type == NLMSG_ERROR)
		((struct nlmsgerr *)NLMSG_DATA(h))->error = error;
	r->len += NLMSG_SPACE(payload);
}

static const uint8_t v4_loop[4] = { 127, 0, 0, 1 }, v4_loop2[4] = { 127, 0, 0, 2 }, v4_any[4];
static const uint8_t v4_lan[4] = { 10, 1, 2, 3 };
static const uint8_t v6_loop[16] = { [15] = 1 }, v6_any[16];
static const uint8_t v6_mapped_loop[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };
static const uint8_t v6_mapped_lan[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 };

/* ---- the parser ---- */

static void test_parse_listeners(void **state)
{
	struct procfs_listener out[8];
	struct reply r = { 0 };
	size_t n = 0;

	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9229, 101);
	add_socket(&r, AF_INET, TCP_ESTABLISHED, v4_loop, 9229, 102);  /* not a listener */
	add_socket(&r, AF_INET, TCP_LISTEN, v4_any, 8080, 103);
	add_socket(&r, AF_INET, TCP_LISTEN, v4_lan, 22, 104);         /* no inspector's address */
	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop2, 9230, 105);
	add_control(&r, NLMSG_DONE, 0);
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, out, 8, &n), 1);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].inode, 101);
	assert_int_equal(out[0].port, 9229);
	assert_int_equal(out[0].family, AF_INET);
	assert_true(out[0].loopback);
	assert_false(out[0].any);
	assert_memory_equal(out[0].addr, v4_loop, 4);
	assert_int_equal(out[1].inode, 103);
	assert_int_equal(out[1].port, 8080);
	assert_true(out[1].any);
	assert_false(out[1].loopback);
	/* Its own address, to be reached there. */
	assert_int_equal(out[2].inode, 105);
	assert_true(out[2].loopback);
	assert_memory_equal(out[2].addr, v4_loop2, 4);
}

static void test_parse_ipv6(void **state)
{
	struct procfs_listener out[8];
	struct reply r = { 0 };
	size_t n = 0;

	add_socket(&r, AF_INET6, TCP_LISTEN, v6_loop, 9331, 1);
	add_socket(&r, AF_INET6, TCP_LISTEN, v6_mapped_loop, 9332, 2);
	add_socket(&r, AF_INET6, TCP_LISTEN, v6_any, 9333, 3);
	add_socket(&r, AF_INET6, TCP_LISTEN, v6_mapped_lan, 9334, 4);
	/* No NLMSG_DONE in this buffer: more follows. */
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, out, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_true(out[0].loopback && !out[0].any && out[0].family == AF_INET6);
	assert_memory_equal(out[0].addr, v6_loop, 16);
	assert_true(out[1].loopback && !out[1].any);
	assert_memory_equal(out[1].addr, v6_mapped_loop, 16);
	assert_true(out[2].any && !out[2].loopback);
	assert_int_equal(out[2].port, 9333);
}

static void test_parse_bounded(void **state)
{
	struct procfs_listener out[3];
	struct reply r = { 0 };
	size_t n = 0;

	for (uint32_t i = 0; i < 5; i++)
		add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, (uint16_t)(9000 + i), i);
	add_control(&r, NLMSG_DONE, 0);
	/* Room for two of five: refused, never a list cut short; nothing past max written. */
	out[2].port = 4242;
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, out, 2, &n), -E2BIG);
	assert_int_equal(n, 2);
	assert_int_equal(out[1].port, 9001);
	assert_int_equal(out[2].port, 4242);
	/* Exactly max fits. */
	n = 0;
	r.len = 0;
	for (uint32_t i = 0; i < 3; i++)
		add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, (uint16_t)(9000 + i), i);
	add_control(&r, NLMSG_DONE, 0);
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, out, 3, &n), 1);
	assert_int_equal(n, 3);
	/* The count goes on across buffers: one more in the next is one too many. */
	r.len = 0;
	add_socket(&r, AF_INET6, TCP_LISTEN, v6_loop, 9100, 7);
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, out, 3, &n), -E2BIG);
	assert_int_equal(n, 3);
}

static void test_parse_namespace(void **state)
{
	struct procfs_listener out[2];
	struct reply r = { 0 };
	size_t n = 0;

	/* A busy namespace: 60 listeners on other addresses (not counted), then two. */
	for (uint32_t i = 0; i < 60; i++)
		add_socket(&r, AF_INET, TCP_LISTEN, v4_lan, (uint16_t)(8000 + i), 200 + i);
	add_socket(&r, AF_INET, TCP_LISTEN, v4_any, 3000, 4999);
	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9229, 5000);
	add_control(&r, NLMSG_DONE, 0);
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, out, 2, &n), 1);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].inode, 4999);
	assert_int_equal(out[1].inode, 5000);
	assert_int_equal(out[1].port, 9229);
}

static void test_parse_errors(void **state)
{
	struct procfs_listener out[4];
	struct reply r = { 0 };
	size_t n = 0;

	/* The kernel's error for a family it has no handler for. */
	add_control(&r, NLMSG_ERROR, -ENOENT);
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, out, 4, &n), -ENOENT);
	/* An error message saying 0 is still not a reply. */
	r.len = 0;
	add_control(&r, NLMSG_ERROR, 0);
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, out, 4, &n), -EPROTO);

	/* A dump the kernel cut short says so in NLMSG_DONE. */
	r.len = 0;
	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9229, 1);
	add_control(&r, NLMSG_DONE, 0);
	*(int *)NLMSG_DATA((struct nlmsghdr *)(r.buf + NLMSG_SPACE(sizeof(struct inet_diag_msg)))) = -EINTR;
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, out, 4, &n), -EINTR);
	n = 0;

	/* Cut in the middle of a message. */
	r.len = 0;
	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9229, 1);
	assert_int_equal(sockdiag_parse(r.buf, r.len - 8, SEQ, PORTID, out, 4, &n), -EINVAL);
	/* A message too short for inet_diag_msg. */
	((struct nlmsghdr *)r.buf)->nlmsg_len = NLMSG_LENGTH(8);
	assert_int_equal(sockdiag_parse(r.buf, NLMSG_SPACE(8), SEQ, PORTID, out, 4, &n), -EINVAL);
	/* Another message type, another family. */
	r.len = 0;
	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9229, 1);
	((struct nlmsghdr *)r.buf)->nlmsg_type = 77;
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, out, 4, &n), -EINVAL);
	r.len = 0;
	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9229, 1);
	((struct inet_diag_msg *)NLMSG_DATA((struct nlmsghdr *)r.buf))->idiag_family = AF_UNIX;
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, out, 4, &n), -EINVAL);
	assert_int_equal(n, 0);
	/* Empty: nothing yet. */
	assert_int_equal(sockdiag_parse(r.buf, 0, SEQ, PORTID, out, 4, &n), 0);
	/* Error numbers no kernel sends (negating INT_MIN would overflow). */
	r.len = 0;
	add_control(&r, NLMSG_ERROR, INT32_MIN);
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, out, 4, &n), -EPROTO);
	r.len = 0;
	add_control(&r, NLMSG_DONE, 0);
	*(int *)NLMSG_DATA((struct nlmsghdr *)r.buf) = 5;
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, out, 4, &n), -EPROTO);
}

/* Messages for another request, or to another port: skipped, a fake DONE included. */
static void test_parse_not_ours(void **state)
{
	struct procfs_listener out[4];
	struct reply r = { 0 };
	size_t n = 0;

	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9229, 1);
	((struct nlmsghdr *)r.buf)->nlmsg_seq = SEQ + 1;
	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9230, 2);
	((struct nlmsghdr *)(r.buf + NLMSG_SPACE(sizeof(struct inet_diag_msg))))->nlmsg_pid = PORTID + 1;
	add_control(&r, NLMSG_DONE, 0);
	((struct nlmsghdr *)(r.buf + 2 * NLMSG_SPACE(sizeof(struct inet_diag_msg))))->nlmsg_seq = 0;
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, out, 4, &n), 0);
	assert_int_equal(n, 0);
	/* Then the real reply. */
	r.len = 0;
	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9231, 3);
	add_control(&r, NLMSG_DONE, 0);
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, out, 4, &n), 1);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].port, 9231);
}

/* ---- the namespace listing, on this test's own sockets ---- */

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* A listener bound to addr (NULL: any address) of family, on a port the kernel picks. */
static int listen_on(int family, const char *addr, uint16_t *port, uint64_t *inode)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	struct stat st;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	ss.ss_family = (sa_family_t)family;
	if (addr && inet_pton(family, addr, family == AF_INET ? (void *)&((struct sockaddr_in *)&ss)->sin_addr
							      : (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr) != 1)
		abort();
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0 || fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					: ((struct sockaddr_in6 *)&ss)->sin6_port);
	*inode = (uint64_t)st.st_ino;
	return fd;
}

static const struct procfs_listener *find(const struct procfs_listener *l, int n, uint64_t inode)
{
	for (int i = 0; i < n; i++)
		if (l[i].inode == inode)
			return &l[i];
	return NULL;
}

/* What /proc/PID/net/tcp{,6} lists on a loopback or any address, line by line: count. */
static int proc_listeners(pid_t pid, struct procfs_listener *out, int max)
{
	static const char *const table[] = { "tcp", "tcp6" };
	int n = 0;

	for (int t = 0; t < 2; t++) {
		char path[64], line[512];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pid, table[t]);
		f = fopen(path, "re");
		if (!f && t == 1 && errno == ENOENT)
			break;          /* no IPv6 */
		assert_non_null(f);
		while (fgets(line, sizeof(line), f)) {
			struct procfs_listener l;

			assert_non_null(strchr(line, '\n'));
			if (procfs_parse_net_tcp_line(line, t ? AF_INET6 : AF_INET, &l) != 1 || (!l.loopback && !l.any))
				continue;
			assert_true(n < max);
			out[n++] = l;
		}
		fclose(f);
	}
	return n;
}

/* The same listeners, whatever their order: every field sock_diag fills, as /proc has it. */
static bool same_listeners(const struct procfs_listener *a, int na, const struct procfs_listener *b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++) {
		const struct procfs_listener *o = find(b, nb, a[i].inode);

		if (!o || o->port != a[i].port || o->family != a[i].family || o->loopback != a[i].loopback ||
		    o->any != a[i].any || memcmp(o->addr, a[i].addr, a[i].family == AF_INET ? 4 : 16) != 0)
			return false;
	}
	return true;
}

#define MANY 8192

static void test_netns_own_sockets(void **state)
{
	struct procfs_listener *diag = calloc(MANY, sizeof(*diag)), *before = calloc(MANY, sizeof(*before));
	struct procfs_listener *after = calloc(MANY, sizeof(*after));
	static const uint8_t loop2[4] = { 127, 0, 0, 2 };
	const struct procfs_listener *l;
	uint16_t p4, p6, p2, pi;
	uint64_t i4, i6, i2, ii;
	int fd4, fd6, fd2, idle, pidfd, n, nb, na, tries;

	assert_true(diag && before && after);
	fd4 = listen_on(AF_INET, "127.0.0.1", &p4, &i4);
	fd2 = listen_on(AF_INET, "127.0.0.2", &p2, &i2);
	fd6 = listen_on(AF_INET6, "::1", &p6, &i6);
	assert_true(fd4 >= 0 && fd2 >= 0);
	idle = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  /* a socket, not a listener */
	assert_true(idle >= 0);
	pidfd = pidfd_open(getpid());
	assert_true(pidfd >= 0);

	n = sockdiag_netns_listeners(pidfd, diag, MANY);
	assert_true(n >= 2);
	l = find(diag, n, i4);
	assert_non_null(l);
	assert_true(l->port == p4 && l->family == AF_INET && l->loopback && !l->any);
	l = find(diag, n, i2);
	assert_non_null(l);
	assert_true(l->port == p2 && l->loopback);
	assert_memory_equal(l->addr, loop2, 4);
	if (fd6 >= 0) {
		l = find(diag, n, i6);
		assert_non_null(l);
		assert_true(l->port == p6 && l->family == AF_INET6 && l->loopback);
	} else {
		print_message("  no IPv6 loopback: the IPv6 listener is not checked\n");
	}

	/* The same answer as the tables in /proc, which walk every socket bucket. Other
	 * processes share this namespace: compare when /proc says the same before and after. */
	for (tries = 0; tries < 50; tries++) {
		nb = proc_listeners(getpid(), before, MANY);
		n = sockdiag_netns_listeners(pidfd, diag, MANY);
		na = proc_listeners(getpid(), after, MANY);
		if (same_listeners(before, nb, after, na))
			break;
	}
	assert_true(tries < 50);
	assert_true(same_listeners(diag, n, before, nb));

	/* Not room for them all: refused, not cut, and not read again from /proc. */
	assert_int_equal(sockdiag_netns_listeners(pidfd, diag, 1), -E2BIG);
	assert_int_equal(sockdiag_netns_listeners(pidfd, diag, 0), -E2BIG);
	assert_int_equal(fallbacks, 0);

	/* Closed: gone. A listener on any address counts too. */
	close(fd4);
	n = sockdiag_netns_listeners(pidfd, diag, MANY);
	assert_true(n >= 1);
	assert_null(find(diag, n, i4));
	assert_non_null(find(diag, n, i2));
	fd4 = listen_on(AF_INET, NULL, &pi, &ii);
	assert_true(fd4 >= 0);
	n = sockdiag_netns_listeners(pidfd, diag, MANY);
	l = find(diag, n, ii);
	assert_non_null(l);
	assert_true(l->any && !l->loopback && l->port == pi);

	close(fd4);
	close(fd2);
	if (fd6 >= 0)
		close(fd6);
	close(idle);
	close(pidfd);
	free(diag);
	free(before);
	free(after);
}

struct listening {
	uint16_t port;
	uint64_t inode;
};

static bool unshare_and_listen(void *msg)
{
	struct listening *l = msg;

	return unshare(CLONE_NEWNET) == 0 && listen_on(AF_INET, NULL, &l->port, &l->inode) >= 0;
}

/* A child in a network namespace of its own, listening on any address there (its
 * loopback is down); its pid, or 0 when this process may not make one. */
static pid_t child_listening_in_own_netns(int *release, uint16_t *port, uint64_t *inode)
{
	struct listening l = { 0 };
	pid_t pid = fixture_child_held(unshare_and_listen, &l, sizeof(l), release);

	if (!pid)
		return 0;
	*port = l.port;
	*inode = l.inode;
	return pid;
}

static void test_netns_other_namespace(void **state)
{
	struct procfs_listener diag[4], proc[4];
	int release, pidfd, n, m;
	uint16_t port = 0;
	uint64_t inode = 0;
	pid_t pid = child_listening_in_own_netns(&release, &port, &inode);

	if (!pid) {
		print_message("  cannot unshare a network namespace (not root?): skipping\n");
		skip();
	}
	pidfd = pidfd_open(pid);
	assert_true(pidfd >= 0);
	/* Its namespace's one listener, none of ours. */
	n = sockdiag_netns_listeners(pidfd, diag, 4);
	assert_int_equal(n, 1);
	assert_true(diag[0].inode == inode && diag[0].port == port && diag[0].any && diag[0].family == AF_INET);
	m = proc_listeners(pid, proc, 4);
	assert_true(same_listeners(diag, n, proc, m));
	assert_int_equal(fallbacks, 0);
	/* Without sock_diag: the same, from its /proc/PID/net/tcp{,6}. */
	netlink_errno = EPROTONOSUPPORT;
	memset(diag, 0, sizeof(diag));
	n = sockdiag_netns_listeners(pidfd, diag, 4);
	assert_int_equal(fallbacks, 1);
	assert_int_equal(n, 1);
	assert_true(same_listeners(diag, n, proc, m));
	assert_int_equal(sockdiag_netns_listeners(pidfd, diag, 0), -E2BIG);
	netlink_errno = 0;

	/* Once the process is gone, its pidfd lists nothing. */
	close(release);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(sockdiag_netns_listeners(pidfd, diag, 4), -ESRCH);
	close(pidfd);
}

/* Without sock_diag, this process's own listener from /proc/self/net/tcp. */
static void test_netns_fallback(void **state)
{
	struct procfs_listener *diag = calloc(MANY, sizeof(*diag));
	int fd, pidfd = pidfd_open(getpid()), n;
	const struct procfs_listener *l;
	uint64_t inode;
	uint16_t port;

	assert_non_null(diag);
	assert_true(pidfd >= 0);
	fd = listen_on(AF_INET, "127.0.0.2", &port, &inode);
	assert_true(fd >= 0);
	netlink_errno = EPROTONOSUPPORT;
	n = sockdiag_netns_listeners(pidfd, diag, MANY);
	assert_int_equal(fallbacks, 1);
	assert_true(n >= 1);
	l = find(diag, n, inode);
	assert_non_null(l);
	assert_true(l->port == port && l->family == AF_INET && l->loopback && !l->any);
	assert_int_equal(l->addr[0], 127);
	assert_int_equal(l->addr[3], 2);
	/* Its -E2BIG as sock_diag's. */
	assert_int_equal(sockdiag_netns_listeners(pidfd, diag, 0), -E2BIG);
	close(fd);
	close(pidfd);
	free(diag);
}

/* A thread still in the target's namespace makes no other socket and reads nothing. */
static void test_netns_stranded(void **state)
{
	struct procfs_listener diag[4];
	int pidfd = pidfd_open(getpid());

	assert_true(pidfd >= 0);
	leave_error = -EPERM;
	assert_int_equal(sockdiag_netns_listeners(pidfd, diag, 4), -ENOTRECOVERABLE);
	assert_int_equal(fallbacks, 0);
	close(pidfd);
}

static void test_netns_not_a_pidfd(void **state)
{
	struct procfs_listener diag[4];
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(sockdiag_netns_listeners(fd, diag, 4), -EINVAL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_listeners),
		cmocka_unit_test(test_parse_ipv6),
		cmocka_unit_test(test_parse_bounded),
		cmocka_unit_test(test_parse_namespace),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_not_ours),
		cmocka_unit_test_setup(test_netns_own_sockets, reset_wraps),
		cmocka_unit_test_setup(test_netns_other_namespace, reset_wraps),
		cmocka_unit_test_setup(test_netns_fallback, reset_wraps),
		cmocka_unit_test_setup(test_netns_stranded, reset_wraps),
		cmocka_unit_test_setup(test_netns_not_a_pidfd, reset_wraps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
