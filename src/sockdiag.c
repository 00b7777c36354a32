// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "log.h"
#include "netns.h"
#include "sockdiag.h"

#define RECV_BUF        (32 * 1024)
#define DUMP_BUDGET_USEC 250000         /* a dump takes microseconds; a flood must not hold the loop */
#define DUMP_MAX_BUFFERS 4096

static void fill_listener(const struct inet_diag_msg *m, struct procfs_listener *l)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
	const uint8_t *a = (const uint8_t *)m->id.idiag_src;
	static const uint8_t zero[16];

	memset(l, 0, sizeof(*l));
	l->inode = m->idiag_inode;
	l->port = ntohs(m->id.idiag_sport);
	l->family = m->idiag_family;
	memcpy(l->addr, a, m->idiag_family == AF_INET ? 4 : 16);
	if (m->idiag_family == AF_INET) {
		l->any = !memcmp(a, zero, 4);
		l->loopback = a[0] == 127;
	} else {
		l->any = !memcmp(a, zero, 16);
		l->loopback = !memcmp(a, v6_loopback, 16) || (!memcmp(a, v4_mapped, 12) && a[12] == 127);
	}
}

/* An error number as the kernel sends it, or -EPROTO for anything no kernel sends. */
static int kernel_error(int e)
{
	return e < 0 && e >= -4095 ? e : -EPROTO;
}

int sockdiag_parse(const void *buf, size_t len, uint32_t seq, uint32_t portid, struct procfs_listener *out,
		   size_t max, size_t *n)
{
	const struct nlmsghdr *h = buf;
	size_t left = len;

	if (len > INT32_MAX)
		return -EINVAL;
	for (; NLMSG_OK(h, (int)left); h = NLMSG_NEXT(h, left)) {
		const struct inet_diag_msg *m;
		struct procfs_listener l;

		/* Not an answer to this request (an earlier one's, or sent by someone else). */
		if (h->nlmsg_seq != seq || h->nlmsg_pid != portid)
			continue;
		if (h->nlmsg_type == NLMSG_DONE) {
			/* A dump the kernel could not finish says so here. */
			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) && *(const int *)NLMSG_DATA(h) != 0)
				return kernel_error(*(const int *)NLMSG_DATA(h));
			return 1;
		}
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EINVAL;
			return kernel_error(e->error);
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
			return -EINVAL;
		m = NLMSG_DATA(h);
		if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
			return -EINVAL;
		if (m->idiag_state != TCP_LISTEN)
			continue;
		/* As an inspector could listen: on loopback or any address. Every one is
		 * counted: a list cut short would lie. */
		fill_listener(m, &l);
		if (!l.loopback && !l.any)
			continue;
		if (*n >= max)
			return -E2BIG;
		out[(*n)++] = l;
	}
	/* A buffer ends on a message boundary; anything else is not a kernel's reply. */
	return left == 0 ? 0 : -EINVAL;
}

static uint64_t monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int dump_family(int fd, int family, unsigned seq, struct procfs_listener *out, size_t max, size_t *n)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = seq,
		},
		.r = {
			.sdiag_family = (uint8_t)family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_states = 1u << TCP_LISTEN,
		},
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK }, self;
	socklen_t self_len = sizeof(self);
	uint64_t deadline = monotonic_usec() + DUMP_BUDGET_USEC;
	unsigned buffers = 0;
	char *buf;
	int r = 0;

	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	/* Bound at the send: replies are addressed to this port id. */
	if (getsockname(fd, (struct sockaddr *)&self, &self_len) < 0)
		return -errno;
	buf = malloc(RECV_BUF);
	if (!buf)
		return -ENOMEM;
	while (r == 0) {
		struct sockaddr_nl from;
		socklen_t from_len = sizeof(from);
		ssize_t got;

		/* Someone in the target's namespace with CAP_NET_ADMIN there may write to this
		 * socket: keep reading only for a bounded while. */
		if (++buffers > DUMP_MAX_BUFFERS || monotonic_usec() > deadline) {
			r = -ETIMEDOUT;
			break;
		}
		got = recvfrom(fd, buf, RECV_BUF, 0, (struct sockaddr *)&from, &from_len);
		if (got < 0) {
			r = -errno;
			break;
		}
		if (got == 0) {
			r = -EPROTO;
			break;
		}
		if (from_len < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue;       /* not from the kernel */
		r = sockdiag_parse(buf, (size_t)got, seq, self.nl_pid, out, max, n);
	}
	free(buf);
	return r < 0 ? r : 0;
}

/* The dump itself, from inside the namespace of pidfd's process. */
static int dump_netns(int pidfd, struct procfs_listener *out, size_t max)
{
	struct timeval tv = { .tv_usec = DUMP_BUDGET_USEC };
	size_t n = 0;
	int fd, saved, r;

	/* The netlink socket answers for the namespace it was made in. */
	r = netns_enter_pidfd(pidfd, &saved);
	if (r < 0)
		return r;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	r = fd < 0 ? -errno : 0;
	if (netns_leave(saved) < 0) {
		/* Still in the target's namespace: no fallback may run here, the caller decides. */
		if (fd >= 0)
			close(fd);
		return -ENOTRECOVERABLE;
	}
	if (fd < 0)
		return r;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	r = dump_family(fd, AF_INET, 1, out, max, &n);
	if (r == 0) {
		r = dump_family(fd, AF_INET6, 2, out, max, &n);
		/* A kernel without IPv6 has no IPv6 listeners to find. */
		if (r == -ENOENT || r == -EAFNOSUPPORT) {
			log_debug("no IPv6 sock_diag, IPv4 listeners only");
			r = 0;
		}
	}
	close(fd);
	return r < 0 ? r : (int)n;
}

int sockdiag_netns_listeners(int pidfd, struct procfs_listener *out, size_t max)
{
	int r = dump_netns(pidfd, out, max);

	/* No sock_diag or inet_diag, a dump cut short or flooded, a reply not understood, a
	 * namespace not entered: the slow way. Not for an answer (too many listeners), nor
	 * with the thread still in the target's namespace, nor out of memory. */
	if (r < 0 && r != -E2BIG && r != -ENOTRECOVERABLE && r != -ENOMEM) {
		log_debug("sock_diag: %s; reading /proc/PID/net/tcp{,6}", strerror(-r));
		r = procfs_netns_listeners(pidfd, out, max);
	}
	return r;
}
