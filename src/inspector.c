// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include "inspector.h"

bool inspector_catches_sigusr1(uint64_t sigcgt)
{
	return sigcgt & (1ull << (SIGUSR1 - 1));
}

void inspector_endpoint_of(const struct procfs_listener *l, struct inspector_endpoint *ret)
{
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(ret, 0, sizeof(*ret));
	ret->port = l->port;
	if (l->family == AF_INET6 && !memcmp(l->addr, v4_mapped, 12)) {
		ret->family = AF_INET;
		memcpy(ret->addr, l->addr + 12, 4);
	} else {
		ret->family = l->family == AF_INET6 ? AF_INET6 : AF_INET;
		memcpy(ret->addr, l->addr, ret->family == AF_INET ? 4 : 16);
	}
	if (l->any) {
		memset(ret->addr, 0, sizeof(ret->addr));
		if (ret->family == AF_INET) {
			ret->addr[0] = 127;
			ret->addr[3] = 1;
		} else {
			ret->addr[15] = 1;
		}
	}
}

int inspector_endpoint_address(const struct inspector_endpoint *e, char *buf, size_t size)
{
	return inet_ntop(e->family, e->addr, buf, (socklen_t)size) ? 0 : -ENOBUFS;
}
