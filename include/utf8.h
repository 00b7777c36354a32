/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A code point as UTF-8, for the decoders of JSON and XML escapes (the CDP reader, the
 * pprof converter, S3's XML). Pure, header only.
 */
#ifndef INSPECTD_UTF8_H
#define INSPECTD_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_MAX 4

/* cp (at most 0x10ffff, the caller's check) into out: its length, 1 to UTF8_MAX. */
static inline size_t utf8_encode(uint32_t cp, char out[UTF8_MAX])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

#endif
