// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target over every parser that reads what a target or a container
 * controls: the inspector's HTTP and WebSocket answers, /proc text a process shapes
 * (its cmdline, its comm inside /proc/PID/stat, its sockets), cgroup paths a container
 * names, netlink replies, and the agent's own ledger. The first byte picks the parser;
 * the rest is its input. Run by `make fuzz` (clang, ASan and UBSan).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cdp.h"
#include "cgroup.h"
#include "container.h"
#include "ledger.h"
#include "procfs.h"
#include "sockdiag.h"

/* A NUL-terminated copy in a buffer of exactly that size, so that ASan sees any overread. */
static char *cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static void fuzz_cdp(const uint8_t *data, size_t size)
{
	struct cdp_message msg;
	char out[64];

	if (cdp_message_parse((const char *)data, size, &msg) == 0)
		cdp_message_done(&msg);
	cdp_parse_version((const char *)data, size, out, sizeof(out));
	cdp_parse_target_list((const char *)data, size, out, sizeof(out));
}

static void fuzz_proc(const uint8_t *data, size_t size)
{
	struct procfs_listener l[PROCFS_MAX_LISTENERS];
	char *s = cstr(data, size), *argv[64];
	uint64_t v;
	uint16_t port;
	int argc;

	procfs_parse_stat_starttime(s, &v);
	procfs_parse_status_mask(s, "SigCgt", &v);
	procfs_parse_net_tcp(s, 2, l, PROCFS_MAX_LISTENERS);
	procfs_parse_net_tcp(s, 10, l, PROCFS_MAX_LISTENERS);
	procfs_parse_socket_link(s, &v);
	free(s);

	/* A cmdline is NUL-separated and need not end in one. */
	s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	argc = procfs_split_cmdline(s, size, argv, 64);
	if (argc > 0)
		procfs_cmdline_inspect_port(argv, argc, &port);
	free(s);
}

static void fuzz_cgroup(const uint8_t *data, size_t size)
{
	char *s = cstr(data, size), v1[4096], v2[4096];
	struct container_info c;

	container_from_cgroup(s, &c);
	cgroup_path_is_valid(s);
	if (cgroup_parse_proc(s, v1, sizeof(v1), v2, sizeof(v2)) == 0)
		container_from_paths(v1, v2, &c);
	free(s);
}

static void fuzz_netlink(const uint8_t *data, size_t size)
{
	static const uint64_t inodes[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct procfs_listener l[4];
	/* Aligned as a receive buffer is (malloc's), and exactly as long as the input. */
	void *buf = malloc(size ? size : 1);
	size_t n = 0;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	sockdiag_parse(buf, size, 0, 0, inodes, 10, l, 4, &n);
	if (n > 4)
		abort();
	free(buf);
}

static void fuzz_ledger(const uint8_t *data, size_t size)
{
	char *s = cstr(data, size), back[128];
	struct ledger_entry e;

	/* What parses must format back to the same text. */
	if (ledger_parse(s, &e) == 0 && (ledger_format(&e, back, sizeof(back)) < 0 || strcmp(back, s) != 0))
		abort();
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		fuzz_cdp(data + 1, size - 1);
		break;
	case 1:
		fuzz_proc(data + 1, size - 1);
		break;
	case 2:
		fuzz_cgroup(data + 1, size - 1);
		break;
	case 3:
		fuzz_netlink(data + 1, size - 1);
		break;
	default:
		fuzz_ledger(data + 1, size - 1);
		break;
	}
	return 0;
}
