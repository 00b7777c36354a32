// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * make bench's control: a program on tp_btf/rss_stat that does nothing, so the
 * kernel's own cost of calling any BPF program once per page fault is measured
 * apart from what inspectd's program adds to it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/rss_stat")
int rss_stat_null(void *ctx)
{
	return 0;
}
