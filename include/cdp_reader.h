/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * One CDP message read as its fragments arrive, never held whole. The reader
 * checks that the message is strict JSON (RFC 8259) with an object at the top,
 * keeps the few top-level members a session dispatches on (id, method,
 * error.message, whether result and params exist), and streams one watched
 * value, such as result.profile or params.chunk, to a sink as its bytes come in.
 *
 * Memory is fixed: the reader does not allocate after cdp_reader__new(), holds
 * one bit per open object or array and bounded copies of method and
 * error.message. Everything read comes from a process we do not trust.
 *
 *   cdp_reader__begin(r, &watch, budget);
 *   for each fragment: cdp_reader__feed(r, buf, len);   stop at the first error
 *   cdp_reader__end(r, &header);
 *
 * Strictness, beyond the JSON grammar: the text is UTF-8 (no overlong forms,
 * no encoded surrogates); a \uXXXX surrogate comes in a high-low pair; a member
 * the reader keeps or watches (id, method, error, result, params, error.message,
 * the watched path) appearing twice in its object is -EPROTO, since two readers
 * of the same text could disagree on which one counts.
 */
#ifndef INSPECTD_CDP_READER_H
#define INSPECTD_CDP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CDP_READER_DEPTH_MAX    4096    /* objects and arrays open at once, the top-level one included */
#define CDP_READER_METHOD_MAX   128     /* method: up to 127 bytes and a NUL */
#define CDP_READER_ERROR_MAX    1024    /* error.message: its first 1023 bytes and a NUL */

enum cdp_reader_mode {
	CDP_READER_RAW,         /* the value's bytes as sent, first to last: itself a JSON text */
	CDP_READER_STRING,      /* the value must be a string: its decoded contents, UTF-8 */
};

/*
 * Gets the watched value in order, in pieces of any size; never with len 0.
 * buf is valid during the call only. A negative errno stops the message:
 * cdp_reader__feed() returns it. Other values mean go on.
 * The bytes come before the message is known to be whole and valid, and before
 * the members after the value (an id after result) are read: what the sink
 * made of them is to be kept only when cdp_reader__end() returns 0.
 */
typedef int (*cdp_reader_sink_fn)(void *ctx, const char *buf, size_t len);

struct cdp_reader_watch {
	const char *path[2];            /* {"result", "profile"}; path[1] NULL: one key; path[0] NULL: nothing */
	enum cdp_reader_mode mode;
	cdp_reader_sink_fn sink;
	void *ctx;                      /* the sink's */
};

/* What a message held; valid when cdp_reader__end() returned 0. */
struct cdp_reader_header {
	bool has_id;                    /* id is a non-negative integer that fits in int: digits only */
	bool id_invalid;                /* id is there but anything else (-1, 1.0, 1e3, 2147483648, "1") */
	int id;
	bool has_method;                /* method is a string (without NUL) */
	char method[CDP_READER_METHOD_MAX];
	bool has_error;                 /* an error member, of any type */
	bool error_truncated;           /* error.message was longer than error holds */
	char error[CDP_READER_ERROR_MAX]; /* error.message decoded, cut on a character boundary;
					   * "" when absent or not a string; a \u0000 ends it early */
	bool has_result;                /* a result member, of any type */
	bool has_params;                /* a params member, of any type */
	bool watched_seen;              /* the watched path was there */
	uint64_t watched_bytes;         /* given to the sink */
	uint64_t message_bytes;         /* fed */
};

struct cdp_reader;

/* A reader for one message after another; NULL when out of memory. Call begin before feeding. */
struct cdp_reader *cdp_reader__new(void);
/* Takes NULL. */
void cdp_reader__free(struct cdp_reader *r);

/*
 * Start a message, forgetting the last one. watch may be NULL (watch nothing);
 * it is copied, its path strings and ctx are borrowed until the next begin.
 * budget: bytes this message may have, whitespace included.
 * 0, or -EINVAL for a watch with a path but no sink or an unknown mode: then
 * every feed and end of this message return -EINVAL.
 */
int cdp_reader__begin(struct cdp_reader *r, const struct cdp_reader_watch *watch, size_t budget);

/*
 * The next len bytes of the message; the watched value's bytes among them reach
 * the sink before it returns.
 *   0          go on
 *   -EMSGSIZE  the message goes over its budget (nothing of this fragment is read)
 *   -EPROTO    not valid JSON, not an object at the top, deeper than
 *              CDP_READER_DEPTH_MAX, method longer than 127 bytes or with a NUL,
 *              a kept or watched member twice, a STRING watch on something
 *              else than a string
 *   -errno     what the sink returned
 * After an error the reader stays failed: every feed returns that error again.
 */
int cdp_reader__feed(struct cdp_reader *r, const char *buf, size_t len);

/*
 * The message is over: fill *header with what it held.
 *   0          a whole valid message
 *   -EPROTO    it stopped before the top-level object closed
 *   otherwise  the error a feed returned (or -EINVAL from begin)
 * *header is filled in every case; on an error it holds what was read before it.
 */
int cdp_reader__end(struct cdp_reader *r, struct cdp_reader_header *header);

#endif
