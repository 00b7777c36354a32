/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Deciding how to reach a target's inspector, from what /proc shows of it. Pure. */
#ifndef INSPECTD_INSPECTOR_H
#define INSPECTD_INSPECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "procfs.h"

#define INSPECTOR_DEFAULT_PORT 9229

/* Where to reach an inspector: an address of its namespace, and its port. */
struct inspector_endpoint {
	int family;             /* AF_INET or AF_INET6 */
	uint8_t addr[16];       /* network order (IPv4: the first 4 bytes) */
	uint16_t port;
};

/*
 * The listener's own address (a socket bound to 127.0.0.2 is reached there, never at
 * 127.0.0.1, where another process's inspector may listen); for one bound to any address,
 * the loopback of its family; a v4-mapped address as IPv4.
 */
void inspector_endpoint_of(const struct procfs_listener *l, struct inspector_endpoint *ret);
/* "127.0.0.2" or "::1" into buf: 0, or -ENOBUFS. */
int inspector_endpoint_address(const struct inspector_endpoint *e, char *buf, size_t size);

/* Whether a SigCgt mask says SIGUSR1 has a handler: only then may it be sent. */
bool inspector_catches_sigusr1(uint64_t sigcgt);

#endif
