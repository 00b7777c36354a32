// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * sock_diag: the reply parser on buffers built here (what the kernel sends, and
 * what it never should), then the reader against this test's own sockets, checked
 * against /proc/self/net/tcp{,6}.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "sockdiag.h"

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

static const uint8_t v4_loop[4] = { 127, 0, 0, 1 }, v4_any[4], v4_lan[4] = { 10, 1, 2, 3 };
static const uint8_t v6_loop[16] = { [15] = 1 }, v6_any[16];
static const uint8_t v6_mapped_loop[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };
static const uint8_t v6_mapped_lan[16] = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 };

/* ---- the parser ---- */

/* The target's socket inodes, sorted, as procfs_socket_inodes() gives them. */
static const uint64_t ALL[] = { 0, 1, 2, 3, 4, 101, 102, 103, 104 };
#define NALL (sizeof(ALL) / sizeof(ALL[0]))

static void test_parse_listeners(void **state)
{
	struct procfs_listener out[8];
	struct reply r = { 0 };
	size_t n = 0;

	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9229, 101);
	add_socket(&r, AF_INET, TCP_ESTABLISHED, v4_loop, 9229, 102);  /* not a listener */
	add_socket(&r, AF_INET, TCP_LISTEN, v4_any, 8080, 103);
	add_socket(&r, AF_INET, TCP_LISTEN, v4_lan, 22, 104);
	add_control(&r, NLMSG_DONE, 0);
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, ALL, NALL, out, 8, &n), 1);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].inode, 101);
	assert_int_equal(out[0].port, 9229);
	assert_int_equal(out[0].family, AF_INET);
	assert_true(out[0].loopback);
	assert_false(out[0].any);
	assert_int_equal(out[1].port, 8080);
	assert_true(out[1].any);
	assert_false(out[1].loopback);
	assert_int_equal(out[2].port, 22);
	assert_false(out[2].any || out[2].loopback);
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
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, ALL, NALL, out, 8, &n), 0);
	assert_int_equal(n, 4);
	assert_true(out[0].loopback && !out[0].any && out[0].family == AF_INET6);
	assert_true(out[1].loopback && !out[1].any);
	assert_true(out[2].any && !out[2].loopback);
	assert_false(out[3].any || out[3].loopback);
	assert_int_equal(out[3].port, 9334);
}

static void test_parse_bounded(void **state)
{
	struct procfs_listener out[2];
	struct reply r = { 0 };
	size_t n = 0;

	for (uint32_t i = 0; i < 5; i++)
		add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, (uint16_t)(9000 + i), i);
	add_control(&r, NLMSG_DONE, 0);
	/* Room for two: the rest are read past, not written. */
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, ALL, NALL, out, 2, &n), 1);
	assert_int_equal(n, 2);
	assert_int_equal(out[1].port, 9001);
}

static void test_parse_only_the_targets(void **state)
{
	static const uint64_t target[] = { 104, 5000 };
	struct procfs_listener out[2];
	struct reply r = { 0 };
	size_t n = 0;

	/* A busy namespace: 60 listeners of other processes first, the target's last. */
	for (uint32_t i = 0; i < 60; i++)
		add_socket(&r, AF_INET, TCP_LISTEN, v4_any, (uint16_t)(8000 + i), 200 + i);
	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9229, 5000);
	add_control(&r, NLMSG_DONE, 0);
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, target, 2, out, 2, &n), 1);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].inode, 5000);
	assert_int_equal(out[0].port, 9229);
}

static void test_parse_errors(void **state)
{
	struct procfs_listener out[4];
	struct reply r = { 0 };
	size_t n = 0;

	/* The kernel's error for a family it has no handler for. */
	add_control(&r, NLMSG_ERROR, -ENOENT);
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, ALL, NALL, out, 4, &n), -ENOENT);
	/* An error message saying 0 is still not a reply. */
	r.len = 0;
	add_control(&r, NLMSG_ERROR, 0);
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, ALL, NALL, out, 4, &n), -EPROTO);

	/* A dump the kernel cut short says so in NLMSG_DONE. */
	r.len = 0;
	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9229, 1);
	add_control(&r, NLMSG_DONE, 0);
	*(int *)NLMSG_DATA((struct nlmsghdr *)(r.buf + NLMSG_SPACE(sizeof(struct inet_diag_msg)))) = -EINTR;
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, ALL, NALL, out, 4, &n), -EINTR);
	n = 0;

	/* Cut in the middle of a message. */
	r.len = 0;
	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9229, 1);
	assert_int_equal(sockdiag_parse(r.buf, r.len - 8, SEQ, PORTID, ALL, NALL, out, 4, &n), -EINVAL);
	/* A message too short for inet_diag_msg. */
	((struct nlmsghdr *)r.buf)->nlmsg_len = NLMSG_LENGTH(8);
	assert_int_equal(sockdiag_parse(r.buf, NLMSG_SPACE(8), SEQ, PORTID, ALL, NALL, out, 4, &n), -EINVAL);
	/* Another message type, another family. */
	r.len = 0;
	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9229, 1);
	((struct nlmsghdr *)r.buf)->nlmsg_type = 77;
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, ALL, NALL, out, 4, &n), -EINVAL);
	r.len = 0;
	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9229, 1);
	((struct inet_diag_msg *)NLMSG_DATA((struct nlmsghdr *)r.buf))->idiag_family = AF_UNIX;
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, ALL, NALL, out, 4, &n), -EINVAL);
	assert_int_equal(n, 0);
	/* Empty: nothing yet. */
	assert_int_equal(sockdiag_parse(r.buf, 0, SEQ, PORTID, ALL, NALL, out, 4, &n), 0);
	/* Error numbers no kernel sends (negating INT_MIN would overflow). */
	r.len = 0;
	add_control(&r, NLMSG_ERROR, INT32_MIN);
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, ALL, NALL, out, 4, &n), -EPROTO);
	r.len = 0;
	add_control(&r, NLMSG_DONE, 0);
	*(int *)NLMSG_DATA((struct nlmsghdr *)r.buf) = 5;
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, ALL, NALL, out, 4, &n), -EPROTO);
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
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, ALL, NALL, out, 4, &n), 0);
	assert_int_equal(n, 0);
	/* Then the real reply. */
	r.len = 0;
	add_socket(&r, AF_INET, TCP_LISTEN, v4_loop, 9231, 3);
	add_control(&r, NLMSG_DONE, 0);
	assert_int_equal(sockdiag_parse(r.buf, r.len, SEQ, PORTID, ALL, NALL, out, 4, &n), 1);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].port, 9231);
}

/* ---- the reader, on this process's own sockets ---- */

static int listen_on(int family, uint16_t *port, uint64_t *inode)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	struct stat st;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					: ((struct sockaddr_in6 *)&ss)->sin6_port);
	assert_int_equal(fstat(fd, &st), 0);
	*inode = (uint64_t)st.st_ino;
	return fd;
}

static bool has(const struct procfs_listener *l, int n, uint16_t port, uint64_t inode, int family)
{
	for (int i = 0; i < n; i++)
		if (l[i].port == port && l[i].inode == inode && l[i].family == family && l[i].loopback)
			return true;
	return false;
}

static void test_reader_own_sockets(void **state)
{
	struct procfs_listener diag[PROCFS_MAX_LISTENERS], proc[PROCFS_MAX_LISTENERS];
	static uint64_t inodes[PROCFS_MAX_SOCKETS];
	uint16_t p4, p6;
	uint64_t i4, i6;
	int fd4, fd6, idle, n, m, k;

	fd4 = listen_on(AF_INET, &p4, &i4);
	fd6 = listen_on(AF_INET6, &p6, &i6);
	idle = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);  /* a socket, not a listener */
	assert_true(idle >= 0);

	/* Through sock_diag itself, not its fallback to /proc. */
	k = procfs_socket_inodes(getpid(), inodes, PROCFS_MAX_SOCKETS);
	assert_true(k >= 3);
	n = sockdiag_dump_listeners(getpid(), inodes, (size_t)k, diag, PROCFS_MAX_LISTENERS);
	assert_int_equal(n, 2);
	assert_true(has(diag, n, p4, i4, AF_INET));
	assert_true(has(diag, n, p6, i6, AF_INET6));
	n = sockdiag_target_listeners(getpid(), diag, PROCFS_MAX_LISTENERS);
	assert_int_equal(n, 2);
	/* The same answer as the tables in /proc, which walk every socket bucket. */
	m = procfs_target_listeners(getpid(), proc, PROCFS_MAX_LISTENERS);
	assert_int_equal(m, n);
	assert_true(has(proc, m, p4, i4, AF_INET) && has(proc, m, p6, i6, AF_INET6));

	/* Closed: gone. */
	close(fd4);
	close(fd6);
	n = sockdiag_target_listeners(getpid(), diag, PROCFS_MAX_LISTENERS);
	assert_int_equal(n, 0);
	close(idle);
	/* No socket at all, and no such process. */
	assert_int_equal(sockdiag_target_listeners(getpid(), diag, PROCFS_MAX_LISTENERS), 0);
	assert_true(sockdiag_target_listeners(0x3fffffff, diag, PROCFS_MAX_LISTENERS) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_listeners),
		cmocka_unit_test(test_parse_ipv6),
		cmocka_unit_test(test_parse_bounded),
		cmocka_unit_test(test_parse_only_the_targets),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_not_ours),
		cmocka_unit_test(test_reader_own_sockets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
