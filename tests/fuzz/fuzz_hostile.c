// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target over every parser that reads what a target, a container or an API
 * client controls: the inspector's HTTP answers (/json/version, /json/list) and its
 * WebSocket messages as they arrive in fragments (the streaming CDP reader), /proc text a
 * process shapes (its cmdline, its comm inside /proc/PID/stat, its status, its statm, its
 * sockets, its namespace's socket tables read line by line), cgroup paths a container names
 * and its cgroup's memory files (limits, memory.stat),
 * netlink replies, the agent's own ledger, the body of POST /v1/captures, the API
 * token file, the container runtimes' state files (container_names.h), and the files a
 * target maps (ELF symbol tables) with its /proc/PID/maps, the V8 profiles --pprof
 * converts (pprof.h), and what a storage server or a credentials endpoint answers (S3's
 * XML and ETag headers, the credentials' JSON and shared file). The first byte picks the parser; the rest
 * is its input. Run by `make fuzz` (clang, ASan and UBSan).
 *
 * src/api_json.c is linked for api_parse_capture_request() alone: the build drops its
 * unused functions (--gc-sections, and -z start-stop-gc so that the coverage tables do
 * not keep them), and with them their references to the dispatcher. It checks a trace's
 * categories with src/settings.c's settings_check_categories(), whose table of setters is
 * kept (the sanitizers register it): src/options.c and src/select.c answer for those.
 */
#define _GNU_SOURCE             /* memmem */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api_json.h"
#include "api_token.h"
#include "aws_creds.h"
#include "s3_request.h"
#include "cdp.h"
#include "pprof.h"
#include "cdp_reader.h"
#include "profile.h"
#include "cgroup.h"
#include "container.h"
#include "container_names.h"
#include "headroom.h"
#include "ledger.h"
#include "procfs.h"
#include "settings.h"
#include "sighandler.h"
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

/* The inspector's HTTP answers: /json/version and /json/list. */
static void fuzz_cdp(const uint8_t *data, size_t size)
{
	char out[64];

	cdp_parse_version((const char *)data, size, out, sizeof(out));
	cdp_parse_target_list((const char *)data, size, out, sizeof(out));
}

/* What a sink got, in a buffer as long as the message: decoded or raw, never more. */
struct sunk {
	char *buf;
	size_t len, cap;
	unsigned calls, fail_at;        /* fail_at: the call that returns -EIO; 0: none */
};

static int sunk_add(void *ctx, const char *buf, size_t len)
{
	struct sunk *s = ctx;

	if (len == 0 || len > s->cap - s->len)
		abort();
	if (++s->calls == s->fail_at)
		return -EIO;
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	return 0;
}

/* Fragments of the sizes the input names, each in a buffer of exactly its size. */
static int read_fragments(struct cdp_reader *r, const uint8_t *msg, size_t len,
			  const uint8_t *sizes, size_t n_sizes, struct cdp_reader_header *h)
{
	size_t off = 0;
	int rc = 0;

	for (size_t i = 0; off < len && rc == 0; i++) {
		size_t n = (size_t)sizes[i % n_sizes] + 1;
		char *frag;

		if (n == 256)
			n = len - off;  /* the rest at once */
		if (n > len - off)
			n = len - off;
		frag = malloc(n);
		if (!frag)
			abort();
		memcpy(frag, msg + off, n);
		rc = cdp_reader__feed(r, frag, n);
		free(frag);
		off += n;
	}
	if (rc < 0 && cdp_reader__feed(r, "{", 1) != rc)
		abort();        /* failed stays failed */
	return cdp_reader__end(r, h) == 0 && rc == 0 ? 0 : -1;
}

static const cJSON *member(const cJSON *o, const char *k0, const char *k1)
{
	o = cJSON_GetObjectItemCaseSensitive(o, k0);
	if (!k1)
		return o;
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k1) : NULL;
}

/* More than cJSON's nesting limit could hold: it refuses what the reader accepts. */
static bool too_deep_for_cjson(const uint8_t *data, size_t size)
{
	size_t opens = 0;

	for (size_t i = 0; i < size; i++)
		opens += data[i] == '[' || data[i] == '{';
	return opens >= CJSON_NESTING_LIMIT;
}

/*
 * The streaming reader, with cJSON as the oracle: what it accepts cJSON parses, to
 * the same members; what it streamed raw is JSON and the same value; what it
 * decoded is the string cJSON decodes. Input: a count byte, that many fragment
 * sizes (255: the rest), a byte of options, then the message.
 */
static void fuzz_cdp_reader(const uint8_t *data, size_t size)
{
	struct cdp_reader_watch raw = { { "result", "profile" }, CDP_READER_RAW, sunk_add, NULL };
	struct cdp_reader_watch str = { { "params", "chunk" }, CDP_READER_STRING, sunk_add, NULL };
	const uint8_t *sizes, *msg;
	struct cdp_reader_header h;
	size_t n_sizes, len;
	struct cdp_reader *r;
	struct sunk s = { 0 };
	uint8_t opt;
	cJSON *root = NULL;
	bool cjson_ok, accepted;

	if (size < 3)
		return;
	n_sizes = data[0] % 8 + 1;
	if (size < 2 + n_sizes)
		return;
	sizes = data + 1;
	opt = data[1 + n_sizes];
	msg = data + 2 + n_sizes;
	len = size - 2 - n_sizes;

	r = cdp_reader__new();
	s.buf = malloc(len + 1);
	if (!r || !s.buf)
		abort();
	s.cap = len;
	raw.ctx = str.ctx = &s;
	root = cJSON_ParseWithLength((const char *)msg, len);
	cjson_ok = cJSON_IsObject(root);

	/* result.profile, raw, within the whole message's budget. */
	if (cdp_reader__begin(r, &raw, len) < 0)
		abort();
	accepted = read_fragments(r, msg, len, sizes, n_sizes, &h) == 0;
	if (accepted && !cjson_ok && !too_deep_for_cjson(msg, len))
		abort();
	if (accepted && h.watched_seen) {
		/* The raw bytes are JSON. */
		cJSON *v;

		s.buf[s.len] = '\0';
		v = cJSON_ParseWithOpts(s.buf, NULL, true);
		if (!v && !too_deep_for_cjson(msg, len))
			abort();
		cJSON_Delete(v);
	}
	/* cJSON's keys end at a \u0000 ("error\u0000" is its "error"): compare names without. */
	if (accepted && cjson_ok && !memmem(msg, len, "\\u0000", 6)) {
		const cJSON *id = member(root, "id", NULL), *method = member(root, "method", NULL);
		const cJSON *error = member(root, "error", NULL), *message = member(root, "error", "message");

		if (h.message_bytes != len || h.watched_bytes != s.len)
			abort();
		if (h.has_id && (!cJSON_IsNumber(id) || id->valuedouble != h.id))
			abort();
		if (!h.has_id && !h.id_invalid && id)
			abort();
		if (h.has_method != cJSON_IsString(method) ||
		    (h.has_method && strcmp(h.method, method->valuestring) != 0))
			abort();
		if (h.has_error != !!error || h.has_result != !!member(root, "result", NULL) ||
		    h.has_params != !!member(root, "params", NULL))
			abort();
		if (cJSON_IsString(message) && cJSON_IsObject(error) &&
		    (h.error_truncated ? strncmp(h.error, message->valuestring, strlen(h.error)) != 0 :
					 strcmp(h.error, message->valuestring) != 0))
			abort();
		if (h.watched_seen != !!member(root, "result", "profile") || (!h.watched_seen && s.len))
			abort();
		if (h.watched_seen) {
			/* The same value as cJSON's. */
			cJSON *v = cJSON_ParseWithOpts(s.buf, NULL, true);
			char *a, *b;

			if (!v)
				abort();
			a = cJSON_PrintUnformatted(v);
			b = cJSON_PrintUnformatted(member(root, "result", "profile"));
			if (!a || !b || strcmp(a, b) != 0)
				abort();
			free(a);
			free(b);
			cJSON_Delete(v);
		}
	}

	/* params.chunk, decoded, in a budget the options may cut short, to a sink that may fail. */
	s.len = 0;
	s.calls = 0;
	s.fail_at = opt >> 4;
	if (cdp_reader__begin(r, &str, len - (opt & 3) * (len > 3)) < 0)
		abort();
	accepted = read_fragments(r, msg, len, sizes, n_sizes, &h) == 0;
	if (accepted && cjson_ok && (opt & 3) == 0 && s.fail_at == 0 && !memmem(msg, len, "\\u0000", 6)) {
		const cJSON *chunk = member(root, "params", "chunk");

		if (h.watched_seen != !!chunk || h.watched_bytes != s.len)
			abort();
		/* cJSON's string ends at a decoded NUL; the reader's does not. */
		if (chunk && (!cJSON_IsString(chunk) || strlen(chunk->valuestring) > s.len ||
			      memcmp(chunk->valuestring, s.buf, strlen(chunk->valuestring)) != 0 ||
			      (strlen(chunk->valuestring) < s.len && !memchr(s.buf, '\0', s.len))))
			abort();
	}
	cJSON_Delete(root);
	cdp_reader__free(r);
	free(s.buf);
}

static void fuzz_proc(const uint8_t *data, size_t size)
{
	struct procfs_listener l[PROCFS_MAX_LISTENERS];
	char *s = cstr(data, size), *argv[64];
	uint64_t v;
	uint16_t port;
	pid_t pid;
	int argc, fd;

	procfs_parse_stat_starttime(s, &v);
	procfs_parse_status_mask(s, "SigCgt", &v);
	/* statm and meminfo: what parses is whole lines. */
	if (headroom_parse_statm(s, 4096, &v) == 0 && s[strlen(s) - 1] != '\n')
		abort();
	headroom_parse_meminfo(s, &v);
	/* Whole text: a mask is 16 hex digits whatever surrounds it. */
	if (procfs_status_signal_caught(s, size, &v) == 0 && !memchr(data, '\n', size))
		abort();
	procfs_parse_net_tcp(s, 2, l, PROCFS_MAX_LISTENERS);
	procfs_parse_net_tcp(s, 10, l, PROCFS_MAX_LISTENERS);
	procfs_parse_socket_link(s, &v);
	procfs_parse_fdinfo_pid(s, &pid);
	if (procfs_status_ns_pid(s, size, &pid) == 0 && pid <= 0)
		abort();
	free(s);

	/* net/tcp{,6} as the fallback reads it, line by line from an fd: only loopback or any
	 * addresses, never past max. */
	fd = memfd_create("net-tcp", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	for (int family = AF_INET; family <= AF_INET6; family += AF_INET6 - AF_INET) {
		size_t n = 0;

		if (lseek(fd, 0, SEEK_SET) != 0)
			abort();
		procfs_read_net_tcp(fd, family, 1024, UINT64_MAX, l, 4, &n);
		if (n > 4)
			abort();
		for (size_t i = 0; i < n; i++)
			if (!l[i].loopback && !l[i].any)
				abort();
	}
	close(fd);

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

	uint64_t v;

	container_from_cgroup(s, &c);
	cgroup_path_is_valid(s);
	/* A cgroup's memory files (headroom.h): limits, memory.stat (whole lines only). */
	cgroup_parse_limit(s, true, &v);
	cgroup_parse_limit(s, false, &v);
	if (headroom_parse_memory_stat(s, "inactive_file", &v) == 0 && s[strlen(s) - 1] != '\n')
		abort();
	if (cgroup_parse_proc(s, v1, sizeof(v1), v2, sizeof(v2)) == 0)
		container_from_paths(v1, v2, &c);
	free(s);
}

static void fuzz_netlink(const uint8_t *data, size_t size)
{
	struct procfs_listener l[4];
	/* Aligned as a receive buffer is (malloc's), and exactly as long as the input. */
	void *buf = malloc(size ? size : 1);
	size_t n = 0;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	/* Only loopback or any addresses, and never past max. */
	sockdiag_parse(buf, size, 0, 0, l, 4, &n);
	if (n > 4)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!l[i].loopback && !l[i].any)
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
		char why[128];

		if (req.pid < 1 || req.pid > 4194304 || req.seconds > 86400 || (unsigned)req.kind >= _PROFILE_KIND_MAX)
			abort();
		/* What the dispatcher refuses (dispatcher__submit()'s -EINVAL) never gets through. */
		if (req.seconds && profile_kind_instantaneous(req.kind))
			abort();
		if (!memchr(req.categories, '\0', sizeof(req.categories)))
			abort();
		if (req.categories[0] && (req.kind != PROFILE_TRACE ||
					  settings_check_categories(req.categories, why, sizeof(why)) < 0))
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


/* Every member a string of its field's characters, within its size. */
static void check_names(const struct container_names *n)
{
	const struct {
		const char *s;
		size_t size;
		const char *chars;
	} f[] = {
		{ n->name, sizeof(n->name), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-" },
		{ n->image, sizeof(n->image), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@+" },
		{ n->kube_pod, sizeof(n->kube_pod), "abcdefghijklmnopqrstuvwxyz0123456789-." },
		{ n->kube_namespace, sizeof(n->kube_namespace), "abcdefghijklmnopqrstuvwxyz0123456789-" },
		{ n->kube_container, sizeof(n->kube_container), "abcdefghijklmnopqrstuvwxyz0123456789-" },
		{ n->kube_sandbox_id, sizeof(n->kube_sandbox_id), "0123456789abcdef" },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		size_t len = strnlen(f[i].s, f[i].size);

		if (len == f[i].size || strspn(f[i].s, f[i].chars) != len || (len && f[i].s[0] == '-'))
			abort();
	}
}

/* A runtime's state file (a container writes what is in it): each parser, given a length. */
static void fuzz_names(const uint8_t *data, size_t size)
{
	static const char id[] = "4f1c2b7a9e0d3c5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b";
	char *buf = malloc(size ? size : 1);
	struct container_names n;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	if (names_parse_containerd(buf, size, &n) == 0)
		check_names(&n);
	if (names_parse_crio(buf, size, &n) == 0)
		check_names(&n);
	if (names_parse_docker(buf, size, &n) == 0)
		check_names(&n);
	if (names_parse_storage(buf, size, id, &n) == 0)
		check_names(&n);
	free(buf);
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

/*
 * A file a target maps (its ELF headers and symbol tables) and its /proc/PID/maps: the
 * first 8 bytes are the handler's address, the rest the file, read both ways.
 */
static void fuzz_sighandler(const uint8_t *data, size_t size)
{
	struct sighandler_mapping m = { 0 };
	struct sighandler_elf e;
	uint64_t addr = 0;
	int fd;

	if (size >= 8) {
		memcpy(&addr, data, 8);
		data += 8;
		size -= 8;
	}
	fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	if (sighandler_elf_read(fd, &e) == 0) {
		if (e.nloads > SIGHANDLER_LOADS_MAX || e.nranges[0] > SIGHANDLER_RANGES_MAX ||
		    e.nranges[1] > SIGHANDLER_RANGES_MAX)
			abort();
		m.start = addr & ~0xfffull;
		m.end = m.start + 0x100000;
		sighandler_classify(&e, &m, addr);
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		abort();
	if (sighandler_find_mapping(fd, addr, &m) == 0 && (addr < m.start || addr >= m.end))
		abort();
	close(fd);
}

/* A profile to pprof: the first byte's low bit picks CPU or heap, the rest the profile. */
static void fuzz_pprof(const uint8_t *data, size_t size)
{
	struct pprof_label l = { .key = "pid", .num = 1 };
	struct pprof_config cfg = { .kind = PPROF_CPU, .interval = 1000, .labels = &l, .n_labels = 1 };
	int in, out, r;

	if (size < 1)
		return;
	cfg.kind = data[0] & 1 ? PPROF_HEAP : PPROF_CPU;
	in = memfd_create("fuzz-in", MFD_CLOEXEC);
	out = memfd_create("fuzz-out", MFD_CLOEXEC);
	if (in < 0 || out < 0 || (size > 1 && write(in, data + 1, size - 1) != (ssize_t)(size - 1)))
		abort();
	r = pprof_convert(in, out, &cfg);
	if (r != 0 && r != -EPROTO && r != -E2BIG && r != -ENOMEM)
		abort();
	close(in);
	close(out);
}

/*
 * What the exporters read from the network and the operator's files: the next byte picks
 * S3's answers (an error document, CreateMultipartUpload's, an ETag header line), an AWS
 * credentials JSON answer (container, IMDS), or a shared credentials file.
 */
static void fuzz_exporters(const uint8_t *data, size_t size)
{
	struct aws_credentials creds;
	char out[2048], err[512];
	const char *text;
	int r;

	if (size < 1)
		return;
	text = (const char *)data + 1;
	size--;
	switch (data[0] % 4) {
	case 0:
		s3_error_describe(text, size, out, sizeof(out));
		if (strlen(out) >= sizeof(out))
			abort();
		for (const char *p = out; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				abort();
		(void)s3_xml_is_error(text, size);
		r = s3_xml_text(text, size, "Key", out, sizeof(out));
		if (r != 0 && r != -ENOENT && r != -EBADMSG && r != -ENOBUFS)
			abort();
		break;
	case 1:
		if (s3_upload_id_parse(text, size, out, sizeof(out)) == 0 && (!out[0] || strpbrk(out, " \r\n")))
			abort();
		if (s3_etag_parse(text, size, out, sizeof(out)) == 0 && strpbrk(out, "<>&\r\n"))
			abort();
		break;
	case 2:
		r = aws_creds_parse_json(text, size, data[0] & 4 ? AWS_CREDS_IMDS : AWS_CREDS_CONTAINER, 1796000000,
					 &creds, err, sizeof(err));
		if (r == 0 && (!creds.access_key_id[0] || !creds.secret_access_key[0]))
			abort();
		break;
	default:
		r = aws_creds_parse_shared_file(text, size, "default", &creds, err, sizeof(err));
		if (r == 0 && (!creds.access_key_id[0] || !creds.secret_access_key[0]))
			abort();
		break;
	}
}

/* A snapshot's object count, scanned in pieces cut anywhere: the same as scanned whole, and there. */
static void fuzz_node_count(const uint8_t *data, size_t size)
{
	struct profile_count_scan whole = { 0 }, pieces = { 0 };
	size_t step, off = 0;
	char text[64];

	if (size < 1)
		return;
	step = data[0] % 16 + 1;
	profile_count_scan(&whole, (const char *)data + 1, size - 1);
	while (off < size - 1) {
		size_t n = size - 1 - off < step ? size - 1 - off : step;

		profile_count_scan(&pieces, (const char *)data + 1 + off, n);
		off += n;
	}
	if (whole.found != pieces.found || (whole.found && whole.value != pieces.value))
		abort();
	if (whole.found) {
		snprintf(text, sizeof(text), "\"node_count\":%llu", (unsigned long long)whole.value);
		if (!memmem(data + 1, size - 1, text, strlen(text)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 13) {
	case 12:
		fuzz_node_count(data + 1, size - 1);
		break;
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
		fuzz_cdp_reader(data + 1, size - 1);
		break;
	case 6:
		fuzz_api_request(data + 1, size - 1);
		break;
	case 11:
		fuzz_exporters(data + 1, size - 1);
		break;
	case 8:
		fuzz_names(data + 1, size - 1);
		break;
	case 9:
		fuzz_sighandler(data + 1, size - 1);
		break;
	case 10:
		fuzz_pprof(data + 1, size - 1);
		break;
	default:
		fuzz_token(data + 1, size - 1);
		break;
	}
	return 0;
}
