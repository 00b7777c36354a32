/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A V8 profile (.cpuprofile or .heapprofile, as CDP gives them) converted to gzipped
 * pprof (profile.proto), streaming: the input is read in 64 KiB pieces and parsed as
 * it comes (strict JSON, a parser of our own over the profile's shape); only what pprof
 * needs is kept: one record per node (its parent, its function's name, URL and line,
 * its counts), the strings interned once. Samples and timeDeltas are aggregated per node
 * as they are read, never kept as arrays. Output is written as it is made (zlib, gzip
 * framing). Pure: no logging, no threads; run it off the loop.
 *
 * CPU: sample types samples/count and cpu/nanoseconds; a node's count is the number of
 * its ids in "samples" (its hitCount when the profile has no samples), its time
 * count x the sampling interval (the period): pairing each sample with its timeDelta
 * would mean keeping the samples array. "(idle)" nodes are dropped, "(root)" is not a
 * frame. Heap: inuse_objects/count and inuse_space/bytes, period space/bytes = the
 * sampling interval; per node from "samples" (count, sum of size) when present, else
 * its selfSize (one object). Lines are 1-based (CDP's are 0-based); a location per
 * call frame (node), a function per distinct (name, URL, line).
 */
#ifndef INSPECTD_PPROF_H
#define INSPECTD_PPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pprof_kind {
	PPROF_CPU,
	PPROF_HEAP,
};

struct pprof_label {
	const char *key;
	const char *str;        /* NULL: num is the value */
	int64_t num;
};

struct pprof_config {
	enum pprof_kind kind;
	int64_t interval;                       /* CPU: microseconds; heap: bytes */
	const struct pprof_label *labels;       /* on every sample */
	size_t n_labels;
};

/*
 * Limits on what a profile may hold (peer input), so that a conversion stays within the
 * agent's memory and the output within a bound of its own whatever the target sends:
 * about 120 bytes a node (its record, its id's slot, its edge) at most 512 Ki nodes; the
 * names and URLs 32 MiB in all; the samples' stacks 16 Mi frames in all (a chain of
 * nodes, each with a sample, would otherwise write its length squared).
 */
#define PPROF_NODES_MAX         (512u << 10)
#define PPROF_DEPTH_MAX         65536
#define PPROF_STRING_MAX        4096            /* longer names and URLs are cut */
#define PPROF_STRINGS_BYTES_MAX (32u << 20)
#define PPROF_FRAMES_MAX        (16u << 20)

/*
 * Read the profile from in_fd (from offset 0, by pread), write gzipped pprof to out_fd
 * (at its offset). Returns 0; -EPROTO: not JSON or not a profile's shape; -E2BIG: over
 * one of the limits above (nodes or edges, depth, strings' bytes, stack frames); -ENOMEM; -EIO: zlib;
 * -errno from pread() or write().
 */
int pprof_convert(int in_fd, int out_fd, const struct pprof_config *cfg);

#endif
