// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target over every parser that reads what a target, a container or an API
 * client controls: the inspector's HTTP answers (/json/version, /json/list) and its
 * WebSocket messages as they arrive in fragments (the streaming CDP reader), /proc text a
 * process shapes (its cmdline, its comm inside /proc/PID/stat, its status, its sockets),
 * cgroup paths a container names, netlink replies, the agent's own ledger, the body of
 * POST /v1/captures, and the API token file. The first byte picks the parser; the rest
 * is its input. Run by `make fuzz` (clang, ASan and UBSan).
 *
 * src/api_json.c is linked for api_parse_capture_request() alone: the build drops its
 * unused functions (--gc-sections, and -z start-stop-gc so that the coverage tables do
 * not keep them), and with them their references to the dispatcher.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api_json.h"
#include "api_token.h"
#include "cdp.h"
#include "cdp_reader.h"
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
	/* Whole text: a mask is 16 hex digits whatever surrounds it. */
	if (procfs_status_signal_caught(s, size, &v) == 0 && !memchr(data, '\n', size))
		abort();
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

/* POST /v1/captures bodies, as any client of the API socket may send them. */
static void fuzz_api_request(const uint8_t *data, size_t size)
{
	/* Exactly as long as the body: the parser is given a length, not a string. */
	char *body = malloc(size ? size : 1), err[128];
	struct api_capture_request req;

	if (!body)
		abort();
	memcpy(body, data, size);
	memset(err, 'x', sizeof(err));
	if (api_parse_capture_request(body, size, &req, err, sizeof(err)) == 0) {
		if (req.pid < 1 || req.pid > 4194304 || req.seconds > 86400 ||
		    (req.kind != PROFILE_HEAP && req.kind != PROFILE_CPU))
			abort();
	} else if (!memchr(err, '\0', sizeof(err))) {
		abort();        /* the message for the client is a string */
	}
	free(body);
}

struct sink {
	uint64_t bytes;
	unsigned sum;
};

static int sink(void *ctx, const char *buf, size_t len)
{
	struct sink *k = ctx;

	if (len == 0)
		abort();
	/* Touch every byte: ASan checks the reader handed out only what it holds. */
	for (size_t i = 0; i < len; i++)
		k->sum += (unsigned char)buf[i];
	k->bytes += len;
	return 0;
}

/*
 * A WebSocket message as the agent receives it: in fragments. The second byte picks the
 * watch and the fragment size; the rest is the message.
 */
static void fuzz_cdp_reader(const uint8_t *data, size_t size)
{
	static const char *const paths[][2] = {
		{ "result", "profile" }, { "params", "chunk" }, { "result", NULL }, { NULL, NULL },
	};
	static struct cdp_reader *r;
	struct cdp_reader_header h;
	struct sink k = { 0 };
	struct cdp_reader_watch w = { .sink = sink, .ctx = &k };
	size_t frag, off = 0;
	uint8_t sel;
	int rc = 0;

	if (size < 1)
		return;
	if (!r && !(r = cdp_reader__new()))
		abort();
	sel = data[0];
	w.path[0] = paths[sel & 3][0];
	w.path[1] = paths[sel & 3][1];
	w.mode = sel & 4 ? CDP_READER_STRING : CDP_READER_RAW;
	frag = 1 + ((sel >> 3) & 15);
	data++;
	size--;
	/* Now and then a budget the message goes over. */
	if (cdp_reader__begin(r, &w, sel & 0x80 ? size / 2 + 1 : size) != 0)
		abort();
	while (off < size && rc == 0) {
		size_t n = size - off < frag ? size - off : frag;
		/* Each fragment in a buffer of its own size: a read past it is caught. */
		char *piece = malloc(n);

		if (!piece)
			abort();
		memcpy(piece, data + off, n);
		rc = cdp_reader__feed(r, piece, n);
		free(piece);
		off += n;
	}
	if (rc == 0 && cdp_reader__end(r, &h) == 0) {
		if (h.watched_bytes != k.bytes || h.message_bytes != size ||
		    !memchr(h.method, '\0', sizeof(h.method)) || !memchr(h.error, '\0', sizeof(h.error)))
			abort();
	}
}

/* The API token file's contents. */
static void fuzz_token(const uint8_t *data, size_t size)
{
	struct api_token t;
	const char *why;

	if (api_token_parse((const char *)data, size, &t, &why) == 0) {
		if (t.len < API_TOKEN_MIN || t.len > API_TOKEN_MAX - 1 || memchr(t.value, '\0', t.len) ||
		    !api_token_equal(&t, (const char *)data, t.len) ||
		    api_token_equal(&t, (const char *)data, t.len - 1))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 8) {
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
	case 4:
		fuzz_ledger(data + 1, size - 1);
		break;
	case 5:
		fuzz_api_request(data + 1, size - 1);
		break;
	case 6:
		fuzz_cdp_reader(data + 1, size - 1);
		break;
	default:
		fuzz_token(data + 1, size - 1);
		break;
	}
	return 0;
}
