// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The capabilities the running agent keeps, and dropping the rest: capget(), capset() and
 * prctl() directly (libcap is not a dependency). See privileges.h.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privileges.h"

/* Debian 12's headers stop at CAP_CHECKPOINT_RESTORE (40). */
static const char *const cap_names[] = {
	[CAP_CHOWN] = "CAP_CHOWN",
	[CAP_DAC_OVERRIDE] = "CAP_DAC_OVERRIDE",
	[CAP_DAC_READ_SEARCH] = "CAP_DAC_READ_SEARCH",
	[CAP_FOWNER] = "CAP_FOWNER",
	[CAP_FSETID] = "CAP_FSETID",
	[CAP_KILL] = "CAP_KILL",
	[CAP_SETGID] = "CAP_SETGID",
	[CAP_SETUID] = "CAP_SETUID",
	[CAP_SETPCAP] = "CAP_SETPCAP",
	[CAP_LINUX_IMMUTABLE] = "CAP_LINUX_IMMUTABLE",
	[CAP_NET_BIND_SERVICE] = "CAP_NET_BIND_SERVICE",
	[CAP_NET_BROADCAST] = "CAP_NET_BROADCAST",
	[CAP_NET_ADMIN] = "CAP_NET_ADMIN",
	[CAP_NET_RAW] = "CAP_NET_RAW",
	[CAP_IPC_LOCK] = "CAP_IPC_LOCK",
	[CAP_IPC_OWNER] = "CAP_IPC_OWNER",
	[CAP_SYS_MODULE] = "CAP_SYS_MODULE",
	[CAP_SYS_RAWIO] = "CAP_SYS_RAWIO",
	[CAP_SYS_CHROOT] = "CAP_SYS_CHROOT",
	[CAP_SYS_PTRACE] = "CAP_SYS_PTRACE",
	[CAP_SYS_PACCT] = "CAP_SYS_PACCT",
	[CAP_SYS_ADMIN] = "CAP_SYS_ADMIN",
	[CAP_SYS_BOOT] = "CAP_SYS_BOOT",
	[CAP_SYS_NICE] = "CAP_SYS_NICE",
	[CAP_SYS_RESOURCE] = "CAP_SYS_RESOURCE",
	[CAP_SYS_TIME] = "CAP_SYS_TIME",
	[CAP_SYS_TTY_CONFIG] = "CAP_SYS_TTY_CONFIG",
	[CAP_MKNOD] = "CAP_MKNOD",
	[CAP_LEASE] = "CAP_LEASE",
	[CAP_AUDIT_WRITE] = "CAP_AUDIT_WRITE",
	[CAP_AUDIT_CONTROL] = "CAP_AUDIT_CONTROL",
	[CAP_SETFCAP] = "CAP_SETFCAP",
	[CAP_MAC_OVERRIDE] = "CAP_MAC_OVERRIDE",
	[CAP_MAC_ADMIN] = "CAP_MAC_ADMIN",
	[CAP_SYSLOG] = "CAP_SYSLOG",
	[CAP_WAKE_ALARM] = "CAP_WAKE_ALARM",
	[CAP_BLOCK_SUSPEND] = "CAP_BLOCK_SUSPEND",
	[CAP_AUDIT_READ] = "CAP_AUDIT_READ",
	[CAP_PERFMON] = "CAP_PERFMON",
	[CAP_BPF] = "CAP_BPF",
	[CAP_CHECKPOINT_RESTORE] = "CAP_CHECKPOINT_RESTORE",
};

#define N_NAMES (sizeof(cap_names) / sizeof(cap_names[0]))
#define CAP_BITS 64

/* The port of "ADDR:PORT" (the last ':', as [::1]:80 has several), or -1. */
static long listen_port(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	char *end;
	long port;

	if (!colon || !colon[1])
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return errno || *end || port < 0 || port > 65535 ? -1 : port;
}

uint64_t privileges_needed(const char *api_listen)
{
	uint64_t keep = PRIVILEGES_MASK(CAP_SYS_ADMIN) | PRIVILEGES_MASK(CAP_SYS_PTRACE) |
			PRIVILEGES_MASK(CAP_DAC_READ_SEARCH) | PRIVILEGES_MASK(CAP_KILL) |
			PRIVILEGES_MASK(CAP_NET_ADMIN);
	long port;

	/* 0 picks a free port; below 1024 (ip_unprivileged_port_start's default) needs it. */
	if (api_listen && (port = listen_port(api_listen)) > 0 && port < 1024)
		keep |= PRIVILEGES_MASK(CAP_NET_BIND_SERVICE);
	return keep;
}

const char *privileges_name(unsigned cap)
{
	return cap < N_NAMES ? cap_names[cap] : NULL;
}

const char *privileges_names(uint64_t mask, char *buf, size_t size)
{
	size_t n = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	if (!mask) {
		snprintf(buf, size, "none");
		return buf;
	}
	for (unsigned cap = 0; cap < CAP_BITS && n < size; cap++) {
		const char *name = privileges_name(cap);
		int w;

		if (!(mask & PRIVILEGES_MASK(cap)))
			continue;
		w = name ? snprintf(buf + n, size - n, "%s%s", n ? "," : "", name)
			 : snprintf(buf + n, size - n, "%scap_%u", n ? "," : "", cap);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	return buf;
}

static int caps_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };

	return syscall(SYS_capget, &h, data) < 0 ? -errno : 0;
}

static uint64_t join(uint32_t lo, uint32_t hi)
{
	return (uint64_t)hi << 32 | lo;
}

int privileges_read(struct privileges_state *ret)
{
	struct __user_cap_data_struct data[2] = { 0 };
	int r;

	r = caps_get(data);
	if (r < 0)
		return r;
	ret->effective = join(data[0].effective, data[1].effective);
	ret->permitted = join(data[0].permitted, data[1].permitted);
	ret->inheritable = join(data[0].inheritable, data[1].inheritable);
	ret->bounding = 0;
	/* PR_CAPBSET_READ: 1 or 0; -1 (EINVAL) past the kernel's last capability. */
	for (unsigned cap = 0; cap < CAP_BITS; cap++) {
		r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0)
			break;
		if (r)
			ret->bounding |= PRIVILEGES_MASK(cap);
	}
	r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	if (r < 0)
		return -errno;
	ret->no_new_privs = r;
	return 0;
}

/* Whether this process has threads besides the caller: 0 no, 1 yes, or -errno. */
static int other_threads(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 1;
}

int privileges_drop(uint64_t keep, struct privileges_state *ret)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = { 0 };
	struct privileges_state now;
	int r;

	r = other_threads();
	if (r)
		return r < 0 ? r : -EBUSY;
	r = privileges_read(&now);
	if (r < 0)
		return r;
	keep &= now.permitted;

	/* The bounding set first, while CAP_SETPCAP is still effective; CAP_SETPCAP itself last. */
	for (unsigned cap = 0; cap < CAP_BITS; cap++) {
		if (cap == CAP_SETPCAP || (keep & PRIVILEGES_MASK(cap)) || !(now.bounding & PRIVILEGES_MASK(cap)))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EPERM)
			return -errno;  /* EPERM: no CAP_SETPCAP; ret->bounding tells */
	}
	if (!(keep & PRIVILEGES_MASK(CAP_SETPCAP)) && (now.bounding & PRIVILEGES_MASK(CAP_SETPCAP)) &&
	    prctl(PR_CAPBSET_DROP, CAP_SETPCAP, 0, 0, 0) < 0 && errno != EPERM)
		return -errno;
	/* EINVAL: a kernel before 4.3, without ambient capabilities. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;

	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &h, data) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return privileges_read(ret);
}
