// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The DevTools session's state machine, driven through its lws protocol callback with
 * the reasons lws would deliver, without a network or a node process: GET /json/version,
 * GET /json/list, then the WebSocket; the peer check before anything is sent; messages
 * in fragments, each read against the budget its owner gives; commands written in order;
 * and a session freed while a wsi still lives.
 *
 * Linked with src/capture/inspector_session.c and the pure modules under it (cdp.c,
 * cdp_reader.c, log.c); everything below them is wrapped (-Wl,--wrap=...): the lws
 * functions it calls (a fake wsi per connection), lws_sul_schedule (fake_sul.h),
 * netns_inode/enter/leave, and getpeername/ioctl(SIOCGSKNS)/fstat/close for the fds
 * of fake connections only (others pass through).
 *
 * The owner frees the session from inside its closed callback, as the capture and the
 * closer do: any use of the session after it reported its end is a use after free under
 * make SANITIZE=1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <libwebsockets.h>
#include <cjson/cJSON.h>

#include "fixture.h"
#include "fake_sul.h"
#include "inspector_session.h"
#include "log.h"

#define PID             4242
#define PIDFD           77
#define PORT            9229
#define TARGET_NS       4026532001ull
#define OTHER_NS        4026531992ull
#define SAVED_NS_FD     77
#define WSI_MAX         16
#define FD_BASE         500             /* fake connections' fds: FD_BASE + index */
#define NSFD_BASE       600             /* their SIOCGSKNS fds: NSFD_BASE + index */

static char ctx_mem;
#define CTX ((struct lws_context *)&ctx_mem)

/* ---- fake connections ---- */

struct fake_wsi {
	void *opaque;
	int fd;
	unsigned status;                /* lws_http_client_http_response() */
	bool killed;                    /* lws_set_timeout(..., LWS_TO_KILL_ASYNC) */
	int writable;                   /* lws_callback_on_writable() calls */
	bool final;                     /* lws_is_final_fragment() */
	size_t remaining;               /* lws_remaining_packet_payload() */
	char path[128];
	char method[8];
	char host[64];
	const char *address;
	int port;
	int ssl_connection;
	const char *protocol;
	bool in_netns;                  /* connected from inside the target's namespace */
	const char *body;               /* served by lws_http_client_read() */
	size_t body_len, body_off, body_chunk;
};

static struct fake_wsi wsis[WSI_MAX];
static int nwsi;
static bool connect_fails;

#define W(w) ((struct lws *)(w))
#define F(wsi) ((struct fake_wsi *)(wsi))

/* The peer getpeername() and SIOCGSKNS report for fake connections. */
static struct {
	int family;
	in_addr_t addr;                 /* host order */
	int port;
	uint64_t ns;
	int getpeername_errno;
	int ioctl_errno;
} peer;
static int nsfds_open;

/* netns */
static bool in_netns;
static int netns_inode_error, netns_enter_error;
/* Where the sessions connect: the listener's own address (127.0.0.1 unless a test says). */
static struct inspector_endpoint ep;
static bool netns_pidfd_unsupported;         /* a kernel before 6.11 */
static int netns_entered;

/* Frames written: copies of the text. */
static char *written[32];
static int nwritten;
static bool write_short;

struct lws *__wrap_lws_client_connect_via_info(const struct lws_client_connect_info *i);
int __wrap_lws_http_client_read(struct lws *wsi, char **buf, int *len);
unsigned int __wrap_lws_http_client_http_response(struct lws *wsi);
void *__wrap_lws_get_opaque_user_data(const struct lws *wsi);
void __wrap_lws_set_opaque_user_data(struct lws *wsi, void *data);
size_t __wrap_lws_remaining_packet_payload(struct lws *wsi);
void __wrap_lws_set_timeout(struct lws *wsi, enum pending_timeout reason, int secs);
int __wrap_lws_write(struct lws *wsi, unsigned char *buf, size_t len, enum lws_write_protocol protocol);
int __wrap_lws_callback_on_writable(struct lws *wsi);
int __wrap_lws_callback_http_dummy(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
				   size_t len);
lws_sockfd_type __wrap_lws_get_socket_fd(struct lws *wsi);
int __wrap_lws_is_final_fragment(struct lws *wsi);
int __wrap_netns_inode(pid_t pid, uint64_t *ret);
int __wrap_netns_pidfd_inode(int pidfd, uint64_t *ret);
int __wrap_netns_enter_pidfd(int pidfd, int *saved);
int __wrap_netns_leave(int saved);
void __wrap_netns_stranded(void);
int __wrap_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int __real_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int __wrap_ioctl(int fd, unsigned long req, ...);
int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_fstat(int fd, struct stat *st);
int __real_fstat(int fd, struct stat *st);
int __wrap_close(int fd);
int __real_close(int fd);

static int callback(struct lws *wsi, enum lws_callback_reasons reason, const void *in, size_t len)
{
	return inspector_session_protocol.callback(wsi, reason, NULL, (void *)in, len);
}

struct lws *__wrap_lws_client_connect_via_info(const struct lws_client_connect_info *i)
{
	struct fake_wsi *w;

	assert_non_null(i->pwsi);
	if (connect_fails) {
		*i->pwsi = NULL;
		return NULL;
	}
	assert_true(nwsi < WSI_MAX);
	w = &wsis[nwsi];
	memset(w, 0, sizeof(*w));
	w->opaque = i->opaque_user_data;
	w->fd = FD_BASE + nwsi;
	w->status = 200;
	w->final = true;
	w->in_netns = in_netns;
	w->address = i->address;
	w->port = i->port;
	w->ssl_connection = i->ssl_connection;
	w->protocol = i->local_protocol_name;
	snprintf(w->path, sizeof(w->path), "%s", i->path ? i->path : "");
	snprintf(w->method, sizeof(w->method), "%s", i->method ? i->method : "");
	snprintf(w->host, sizeof(w->host), "%s", i->host ? i->host : "");
	nwsi++;
	*i->pwsi = W(w);
	return W(w);
}

/* As lws: the body so far, through LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ, in pieces. */
int __wrap_lws_http_client_read(struct lws *wsi, char **buf, int *len)
{
	struct fake_wsi *w = F(wsi);

	assert_true(*len > 0);
	while (w->body_off < w->body_len) {
		size_t n = w->body_len - w->body_off;

		if (n > (size_t)*len)
			n = (size_t)*len;
		if (w->body_chunk && n > w->body_chunk)
			n = w->body_chunk;
		memcpy(*buf, w->body + w->body_off, n);
		w->body_off += n;
		if (callback(wsi, LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ, *buf, n))
			return -1;
	}
	return 0;
}

unsigned int __wrap_lws_http_client_http_response(struct lws *wsi)
{
	return F(wsi)->status;
}

void *__wrap_lws_get_opaque_user_data(const struct lws *wsi)
{
	return F(wsi)->opaque;
}

void __wrap_lws_set_opaque_user_data(struct lws *wsi, void *data)
{
	F(wsi)->opaque = data;
}

size_t __wrap_lws_remaining_packet_payload(struct lws *wsi)
{
	return F(wsi)->remaining;
}

int __wrap_lws_is_final_fragment(struct lws *wsi)
{
	return F(wsi)->final;
}

void __wrap_lws_set_timeout(struct lws *wsi, enum pending_timeout reason, int secs)
{
	assert_int_equal(secs, LWS_TO_KILL_ASYNC);
	F(wsi)->killed = true;
}

int __wrap_lws_write(struct lws *wsi, unsigned char *buf, size_t len, enum lws_write_protocol protocol)
{
	char *copy;

	assert_int_equal(protocol, LWS_WRITE_TEXT);
	assert_false(F(wsi)->killed);
	assert_true(nwritten < 32);
	copy = malloc(len + 1);
	assert_non_null(copy);
	memcpy(copy, buf, len);
	copy[len] = '\0';
	written[nwritten++] = copy;
	return write_short ? (int)len - 1 : (int)len;
}

int __wrap_lws_callback_on_writable(struct lws *wsi)
{
	assert_non_null(wsi);
	F(wsi)->writable++;
	return 1;
}

int __wrap_lws_callback_http_dummy(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
				   size_t len)
{
	return 0;
}

lws_sockfd_type __wrap_lws_get_socket_fd(struct lws *wsi)
{
	return F(wsi)->fd;
}

/* Kernels before 6.11: the namespace by path. */
int __wrap_netns_inode(pid_t pid, uint64_t *ret)
{
	assert_int_equal(pid, PID);
	if (netns_inode_error)
		return netns_inode_error;
	*ret = TARGET_NS;
	return 0;
}

int __wrap_netns_pidfd_inode(int pidfd, uint64_t *ret)
{
	assert_int_equal(pidfd, PIDFD);
	if (netns_pidfd_unsupported)
		return -EOPNOTSUPP;
	if (netns_inode_error)
		return netns_inode_error;
	*ret = TARGET_NS;
	return 0;
}

int __wrap_netns_enter_pidfd(int pidfd, int *saved)
{
	assert_int_equal(pidfd, PIDFD);
	assert_false(in_netns);
	*saved = -1;
	if (netns_enter_error)
		return netns_enter_error;
	in_netns = true;
	netns_entered++;
	*saved = SAVED_NS_FD;
	return 0;
}

/* The loop thread could not leave the namespace: the agent would end. Never here. */
void __wrap_netns_stranded(void)
{
	fail_msg("netns_stranded() called");
}

int __wrap_netns_leave(int saved)
{
	assert_true(in_netns);
	assert_int_equal(saved, SAVED_NS_FD);
	in_netns = false;
	return 0;
}

static bool fake_fd(int fd)
{
	return fd >= FD_BASE && fd < FD_BASE + WSI_MAX;
}

static bool fake_nsfd(int fd)
{
	return fd >= NSFD_BASE && fd < NSFD_BASE + WSI_MAX;
}

int __wrap_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct sockaddr_in sin = { 0 };

	if (!fake_fd(fd))
		return __real_getpeername(fd, addr, len);
	if (peer.getpeername_errno) {
		errno = peer.getpeername_errno;
		return -1;
	}
	sin.sin_family = (sa_family_t)peer.family;
	sin.sin_port = htons((uint16_t)peer.port);
	sin.sin_addr.s_addr = htonl(peer.addr);
	assert_true(*len >= sizeof(sin));
	memcpy(addr, &sin, sizeof(sin));
	*len = sizeof(sin);
	return 0;
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!fake_fd(fd))
		return __real_ioctl(fd, req, arg);
	assert_int_equal(req, SIOCGSKNS);
	if (peer.ioctl_errno) {
		errno = peer.ioctl_errno;
		return -1;
	}
	nsfds_open++;
	return NSFD_BASE + (fd - FD_BASE);
}

int __wrap_fstat(int fd, struct stat *st)
{
	if (!fake_nsfd(fd))
		return __real_fstat(fd, st);
	memset(st, 0, sizeof(*st));
	st->st_ino = (ino_t)peer.ns;
	return 0;
}

int __wrap_close(int fd)
{
	if (!fake_nsfd(fd))
		return __real_close(fd);
	nsfds_open--;
	return 0;
}

/* ---- the owner ---- */

struct owner {
	int ready, begins, responses, events, closed;
	int tag;
	struct cdp_reader_header h;     /* of the last response or event */
	char reason[256];
	size_t budget;                  /* given to each message */
	bool watch;                     /* stream result.profile */
	char streamed[4096];
	size_t nstreamed;
	bool free_in_response;          /* as a capture done with a session it does not close */
};

static struct owner own, other;
static struct inspector_session *sess;

static void owner_ready(void *o)
{
	((struct owner *)o)->ready++;
}

static int owner_sink(void *ctx, const char *buf, size_t len)
{
	struct owner *o = ctx;

	assert_true(len > 0);
	assert_true(o->nstreamed + len < sizeof(o->streamed));
	memcpy(o->streamed + o->nstreamed, buf, len);
	o->nstreamed += len;
	return 0;
}

static void owner_message_begin(void *ctx, struct cdp_reader_watch *w, size_t *budget)
{
	struct owner *o = ctx;

	assert_null(w->path[0]);
	assert_int_equal(*budget, 0);
	o->begins++;
	*budget = o->budget;
	if (o->watch) {
		w->path[0] = "result";
		w->path[1] = "profile";
		w->mode = CDP_READER_RAW;
		w->sink = owner_sink;
		w->ctx = o;
	}
}

static void owner_response(void *ctx, int tag, const struct cdp_reader_header *h)
{
	struct owner *o = ctx;

	o->responses++;
	o->tag = tag;
	o->h = *h;
	if (o->free_in_response) {
		inspector_session__free(sess);
		sess = NULL;
	}
}

static void owner_event(void *ctx, const struct cdp_reader_header *h)
{
	struct owner *o = ctx;

	o->events++;
	o->h = *h;
}

/* As every owner does: the session is freed once it said it ended. */
static void owner_closed(void *ctx, const char *reason)
{
	struct owner *o = ctx;

	o->closed++;
	snprintf(o->reason, sizeof(o->reason), "%s", reason);
	inspector_session__free(sess);
	sess = NULL;
}

static const struct inspector_session_ops ops = {
	.ready = owner_ready,
	.message_begin = owner_message_begin,
	.response = owner_response,
	.event = owner_event,
	.closed = owner_closed,
};

/* ---- fixtures and helpers ---- */

static char *version_body, *list_body;

static int setup(void **state)
{
	sul_reset();
	memset(wsis, 0, sizeof(wsis));
	nwsi = 0;
	connect_fails = false;
	peer.family = AF_INET;
	peer.addr = INADDR_LOOPBACK;
	peer.port = PORT;
	peer.ns = TARGET_NS;
	peer.getpeername_errno = 0;
	peer.ioctl_errno = 0;
	nsfds_open = 0;
	in_netns = false;
	netns_inode_error = netns_enter_error = 0;
	ep = (struct inspector_endpoint){ .family = AF_INET, .addr = { 127, 0, 0, 1 }, .port = PORT };
	netns_pidfd_unsupported = false;
	netns_entered = 0;
	nwritten = 0;
	write_short = false;
	memset(&own, 0, sizeof(own));
	memset(&other, 0, sizeof(other));
	own.budget = other.budget = 1 << 20;
	sess = NULL;
	version_body = fixture_read("json-version.json", NULL);
	list_body = fixture_read("json-list.json", NULL);
	return 0;
}

static int teardown(void **state)
{
	inspector_session__free(sess);
	sess = NULL;
	for (int i = 0; i < nwritten; i++)
		free(written[i]);
	free(version_body);
	free(list_body);
	assert_int_equal(nsfds_open, 0);        /* every SIOCGSKNS fd closed */
	assert_false(in_netns);
	return 0;
}

/*
 * One HTTP exchange on w as lws reports it: connected (the peer check), the status,
 * the body, completed. Returns the reason whose callback returned non-zero (lws then
 * closes the connection); COMPLETED_CLIENT_HTTP on the normal path, which ends it too.
 */
static enum lws_callback_reasons http_exchange(struct fake_wsi *w, unsigned status, const char *body)
{
	static const enum lws_callback_reasons steps[] = {
		LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER, LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP,
		LWS_CALLBACK_RECEIVE_CLIENT_HTTP, LWS_CALLBACK_COMPLETED_CLIENT_HTTP,
	};

	w->status = status;
	w->body = body;
	w->body_len = strlen(body);
	w->body_off = 0;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (callback(W(w), steps[i], NULL, 0))
			return steps[i];
	return 0;
}

/* A new session, its first connection made. */
static void session_new(void)
{
	sess = inspector_session__new(CTX, PID, PIDFD, &ep, &ops, &own);
	assert_non_null(sess);
	assert_int_equal(nwsi, 1);
}

/* Through /json/version and /json/list: the WebSocket's connection made, not yet checked. */
static struct fake_wsi *session_to_websocket(void)
{
	session_new();
	assert_int_equal(http_exchange(&wsis[0], 200, version_body), LWS_CALLBACK_COMPLETED_CLIENT_HTTP);
	assert_int_equal(sul_advance(1), 1);
	assert_int_equal(nwsi, 2);
	assert_int_equal(http_exchange(&wsis[1], 200, list_body), LWS_CALLBACK_COMPLETED_CLIENT_HTTP);
	assert_int_equal(sul_advance(1), 1);
	assert_int_equal(nwsi, 3);
	return &wsis[2];
}

/* Up to the WebSocket open: returns its connection. */
static struct fake_wsi *session_open(void)
{
	struct fake_wsi *ws = session_to_websocket();

	ws->status = 101;
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER, NULL, 0), 0);
	assert_int_equal(callback(W(ws), LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP, NULL, 0), 0);
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_ESTABLISHED, NULL, 0), 0);
	assert_int_equal(own.ready, 1);
	assert_true(inspector_session__is_open(sess));
	return ws;
}

/* One WebSocket message in n fragments, the last final: the first non-zero return, else 0. */
static int ws_message(struct fake_wsi *w, const char *const *frags, int n)
{
	for (int i = 0; i < n; i++) {
		int r;

		w->final = i == n - 1;
		w->remaining = 0;
		r = callback(W(w), LWS_CALLBACK_CLIENT_RECEIVE, frags[i], strlen(frags[i]));
		if (r)
			return r;
	}
	return 0;
}

static int ws_text(struct fake_wsi *w, const char *text)
{
	return ws_message(w, &text, 1);
}

/* ---- the HTTP phases ---- */

static void test_connects_through_http_to_websocket(void **state)
{
	struct fake_wsi *ws;

	session_new();
	/* The first connection: /json/version, made inside the target's namespace, to the
	 * chosen port of its 127.0.0.1, carrying the session, redirects not followed. */
	assert_true(wsis[0].in_netns);
	assert_false(in_netns);
	assert_string_equal(wsis[0].method, "GET");
	assert_string_equal(wsis[0].path, "/json/version");
	assert_string_equal(wsis[0].address, "127.0.0.1");
	assert_int_equal(wsis[0].port, PORT);
	assert_string_equal(wsis[0].host, "127.0.0.1:9229");
	assert_string_equal(wsis[0].protocol, inspector_session_protocol.name);
	assert_true(wsis[0].ssl_connection & LCCSCF_HTTP_NO_FOLLOW_REDIRECT);
	assert_ptr_equal(wsis[0].opaque, sess);
	assert_false(inspector_session__is_open(sess));
	assert_null(inspector_session__node_version(sess));

	/* Its answer in small pieces; the next connection is not made from inside the callback. */
	wsis[0].body_chunk = 7;
	assert_int_equal(http_exchange(&wsis[0], 200, version_body), LWS_CALLBACK_COMPLETED_CLIENT_HTTP);
	assert_null(wsis[0].opaque);            /* that wsi is done with the session */
	assert_int_equal(nwsi, 1);
	assert_string_equal(inspector_session__node_version(sess), "v20.20.2");
	assert_int_equal(sul_advance(1), 1);
	assert_int_equal(nwsi, 2);
	assert_true(wsis[1].in_netns);
	assert_string_equal(wsis[1].method, "GET");
	assert_string_equal(wsis[1].path, "/json/list");
	assert_true(wsis[1].ssl_connection & LCCSCF_HTTP_NO_FOLLOW_REDIRECT);

	assert_int_equal(http_exchange(&wsis[1], 200, list_body), LWS_CALLBACK_COMPLETED_CLIENT_HTTP);
	assert_null(wsis[1].opaque);
	assert_int_equal(sul_advance(1), 1);
	assert_int_equal(nwsi, 3);
	ws = &wsis[2];
	assert_true(ws->in_netns);
	assert_string_equal(ws->path, "/9fc77bba-00e9-4c82-abbb-eb56eb46bfb5");
	assert_int_equal(ws->port, PORT);
	assert_ptr_equal(ws->opaque, sess);

	/* The upgrade: lws reports 101 through ESTABLISHED_CLIENT_HTTP, which is no failure. */
	ws->status = 101;
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER, NULL, 0), 0);
	assert_int_equal(callback(W(ws), LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP, NULL, 0), 0);
	assert_int_equal(own.ready, 0);
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_ESTABLISHED, NULL, 0), 0);
	assert_int_equal(own.ready, 1);
	assert_true(inspector_session__is_open(sess));
	assert_int_equal(own.closed, 0);
	assert_int_equal(netns_entered, 3);
	assert_int_equal(sul_pending(), 0);
	/* Reasons the session does not handle go to lws's default. */
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_RECEIVE_PONG, NULL, 0), 0);
}

static void test_redirect_refused(void **state)
{
	session_new();
	assert_int_equal(http_exchange(&wsis[0], 302, "{}"), LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "inspector HTTP status 302");
	assert_null(sess);
	assert_null(wsis[0].opaque);
	/* Nothing follows: no Location is ever connected to. */
	sul_advance(LWS_US_PER_SEC);
	assert_int_equal(nwsi, 1);
	assert_int_equal(own.ready, 0);
}

static void test_http_status_on_list(void **state)
{
	session_new();
	assert_int_equal(http_exchange(&wsis[0], 200, version_body), LWS_CALLBACK_COMPLETED_CLIENT_HTTP);
	sul_advance(1);
	assert_int_equal(http_exchange(&wsis[1], 404, list_body), LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "inspector HTTP status 404");
	sul_advance(LWS_US_PER_SEC);
	assert_int_equal(nwsi, 2);
}

static void test_http_body_limit(void **state)
{
	char *big = malloc(INSPECTOR_HTTP_MAX + 2);
	const char *v = "{\"Browser\":\"node.js/v20.20.2\"}";

	assert_non_null(big);
	/* Exactly INSPECTOR_HTTP_MAX bytes, whitespace after a valid answer: accepted. */
	memset(big, ' ', INSPECTOR_HTTP_MAX);
	memcpy(big, v, strlen(v));
	big[INSPECTOR_HTTP_MAX] = '\0';
	session_new();
	wsis[0].body_chunk = 1000;
	assert_int_equal(http_exchange(&wsis[0], 200, big), LWS_CALLBACK_COMPLETED_CLIENT_HTTP);
	assert_int_equal(own.closed, 0);
	assert_string_equal(inspector_session__node_version(sess), "v20.20.2");
	assert_int_equal(sul_advance(1), 1);
	assert_int_equal(nwsi, 2);

	/* One byte more, on /json/list: refused as it arrives, the session over. */
	big[INSPECTOR_HTTP_MAX] = ' ';
	big[INSPECTOR_HTTP_MAX + 1] = '\0';
	wsis[1].body_chunk = 1000;
	assert_int_equal(http_exchange(&wsis[1], 200, big), LWS_CALLBACK_RECEIVE_CLIENT_HTTP);
	assert_true(wsis[1].body_off <= INSPECTOR_HTTP_MAX + 1);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "inspector HTTP answer too large");
	assert_null(wsis[1].opaque);
	sul_advance(LWS_US_PER_SEC);
	assert_int_equal(nwsi, 2);
	free(big);
}

static void test_not_node(void **state)
{
	session_new();
	assert_int_equal(http_exchange(&wsis[0], 200, "{\"Browser\":\"Chrome/120.0\",\"Protocol-Version\":\"1.3\"}"),
			 LWS_CALLBACK_COMPLETED_CLIENT_HTTP);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "the port does not answer as a node inspector (/json/version)");
	sul_advance(LWS_US_PER_SEC);
	assert_int_equal(nwsi, 1);
}

static void test_list_without_websocket(void **state)
{
	session_new();
	assert_int_equal(http_exchange(&wsis[0], 200, version_body), LWS_CALLBACK_COMPLETED_CLIENT_HTTP);
	sul_advance(1);
	/* A URL elsewhere than a plain path on ws:// is not followed either. */
	assert_int_equal(http_exchange(&wsis[1], 200, "[{\"webSocketDebuggerUrl\":\"wss://evil.example/x\"}]"),
			 LWS_CALLBACK_COMPLETED_CLIENT_HTTP);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "no usable webSocketDebuggerUrl in /json/list");
	sul_advance(LWS_US_PER_SEC);
	assert_int_equal(nwsi, 2);
}

static void test_http_closed_early(void **state)
{
	session_new();
	assert_int_equal(callback(W(&wsis[0]), LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER, NULL, 0), 0);
	assert_int_equal(callback(W(&wsis[0]), LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP, NULL, 0), 0);
	assert_int_equal(callback(W(&wsis[0]), LWS_CALLBACK_CLOSED_CLIENT_HTTP, NULL, 0), 0);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "inspector closed the HTTP connection early");
	assert_null(wsis[0].opaque);
}

static void test_connection_error(void **state)
{
	session_new();
	assert_int_equal(callback(W(&wsis[0]), LWS_CALLBACK_CLIENT_CONNECTION_ERROR, "Connection refused", 18), 0);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "connection to 127.0.0.1:9229 failed: Connection refused");
	assert_null(wsis[0].opaque);
	/* lws may report more about that wsi: nothing reaches the owner again. */
	assert_int_equal(callback(W(&wsis[0]), LWS_CALLBACK_CLIENT_CONNECTION_ERROR, NULL, 0), 0);
	assert_int_equal(own.closed, 1);
}

/* Before Linux 6.11 the pidfd does not name its namespace: the path does, for the check. */
static void test_namespace_by_path_before_6_11(void **state)
{
	struct inspector_session *s;

	netns_pidfd_unsupported = true;
	s = inspector_session__new(CTX, PID, PIDFD, &ep, &ops, &own);
	assert_non_null(s);
	assert_int_equal(netns_entered, 1);
	assert_false(in_netns);
	inspector_session__free(s);
}

static void test_cannot_start(void **state)
{
	/* No namespace inode, no namespace, no connection: NULL, and the owner never called. */
	netns_inode_error = -ENOENT;
	assert_null(inspector_session__new(CTX, PID, PIDFD, &ep, &ops, &own));
	assert_int_equal(nwsi, 0);
	netns_inode_error = 0;
	netns_enter_error = -EPERM;
	assert_null(inspector_session__new(CTX, PID, PIDFD, &ep, &ops, &own));
	assert_int_equal(nwsi, 0);
	netns_enter_error = 0;
	connect_fails = true;
	assert_null(inspector_session__new(CTX, PID, PIDFD, &ep, &ops, &own));
	assert_false(in_netns);                 /* left the namespace all the same */
	assert_int_equal(own.closed, 0);
	assert_int_equal(sul_pending(), 0);
}

static void test_next_connection_fails(void **state)
{
	session_new();
	assert_int_equal(http_exchange(&wsis[0], 200, version_body), LWS_CALLBACK_COMPLETED_CLIENT_HTTP);
	connect_fails = true;
	sul_advance(1);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "cannot connect to 127.0.0.1:9229: Connection refused");
	assert_false(in_netns);
}

/* ---- the peer check ---- */

/* The first connection's peer check fails: nothing sent, the session over. */
static void expect_peer_refused(void)
{
	session_new();
	assert_int_equal(http_exchange(&wsis[0], 200, version_body), LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "connected to another peer than the inspector chosen");
	assert_null(wsis[0].opaque);
	assert_int_equal(wsis[0].body_off, 0);
	sul_advance(LWS_US_PER_SEC);
	assert_int_equal(nwsi, 1);
}

static void test_peer_other_port(void **state)
{
	peer.port = PORT + 1;
	expect_peer_refused();
}

static void test_peer_other_address(void **state)
{
	peer.addr = 0x0a000001;         /* 10.0.0.1 */
	expect_peer_refused();
}

/* A listener bound to 127.0.0.2 is reached there, never at 127.0.0.1, where another
 * process of the namespace may have its inspector. */
static void test_listener_own_address(void **state)
{
	ep.addr[3] = 2;
	peer.addr = 0x7f000002;
	session_new();
	assert_string_equal(wsis[0].address, "127.0.0.2");
	assert_string_equal(wsis[0].host, "127.0.0.2:9229");
	assert_int_equal(http_exchange(&wsis[0], 200, version_body), LWS_CALLBACK_COMPLETED_CLIENT_HTTP);
	assert_int_equal(own.closed, 0);
}

static void test_listener_own_address_other_peer(void **state)
{
	ep.addr[3] = 2;                 /* peer.addr stays 127.0.0.1: somebody else's */
	expect_peer_refused();
}

static void test_listener_ipv6(void **state)
{
	ep = (struct inspector_endpoint){ .family = AF_INET6, .addr = { [15] = 1 }, .port = PORT };
	session_new();
	assert_string_equal(wsis[0].address, "::1");
	assert_string_equal(wsis[0].host, "[::1]:9229");
	inspector_session__free(sess);
	sess = NULL;
}

static void test_peer_not_inet(void **state)
{
	peer.family = AF_INET6;
	expect_peer_refused();
}

static void test_peer_other_namespace(void **state)
{
	peer.ns = OTHER_NS;
	expect_peer_refused();
}

static void test_peer_unknown(void **state)
{
	peer.getpeername_errno = ENOTCONN;
	expect_peer_refused();
}

static void test_peer_namespace_unknown(void **state)
{
	peer.ioctl_errno = ENOTTY;
	expect_peer_refused();
}

static void test_websocket_peer_other_namespace(void **state)
{
	struct fake_wsi *ws = session_to_websocket();

	/* The WebSocket's own connection is checked too, before the upgrade is sent. */
	peer.ns = OTHER_NS;
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER, NULL, 0), -1);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "connected to another peer than the inspector chosen");
	assert_int_equal(own.ready, 0);
	assert_int_equal(nwritten, 0);
	assert_null(ws->opaque);
	/* What lws does next with that wsi reaches nobody. */
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_ESTABLISHED, NULL, 0), -1);
	assert_int_equal(own.ready, 0);
}

static void test_unchecked_connection_refused(void **state)
{
	struct fake_wsi *ws;

	/* An HTTP answer on a connection whose peer was never checked. */
	session_new();
	assert_int_equal(callback(W(&wsis[0]), LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP, NULL, 0), -1);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "connection not checked before use");

	/* A WebSocket established without a check. */
	memset(&own, 0, sizeof(own));
	own.budget = 1 << 20;
	nwsi = 0;
	ws = session_to_websocket();
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_ESTABLISHED, NULL, 0), -1);
	assert_int_equal(own.ready, 0);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "connection not checked before use");
}

/* ---- the WebSocket ---- */

static void test_message_in_fragments(void **state)
{
	struct fake_wsi *ws = session_open();
	const char *frags[] = { "{\"id\":1,\"res", "ult\":{\"profile\":{\"nodes\":[1,", "2]},\"x\":3}}" };

	own.watch = true;
	assert_int_equal(inspector_session__send(sess, 7, "HeapProfiler.stopSampling", NULL), 0);
	/* A first WebSocket fragment, then the final one handed over by lws in two pieces:
	 * the message ends with the last byte of the final fragment. */
	ws->final = false;
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_RECEIVE, frags[0], strlen(frags[0])), 0);
	ws->final = true;
	ws->remaining = strlen(frags[2]);
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_RECEIVE, frags[1], strlen(frags[1])), 0);
	assert_int_equal(own.responses, 0);
	ws->remaining = 0;
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_RECEIVE, frags[2], strlen(frags[2])), 0);
	assert_int_equal(own.begins, 1);        /* once per message, not per fragment */
	assert_int_equal(own.responses, 1);
	assert_int_equal(own.tag, 7);
	assert_true(own.h.has_id);
	assert_int_equal(own.h.id, 1);
	assert_true(own.h.has_result);
	assert_true(own.h.watched_seen);
	assert_int_equal(own.nstreamed, strlen("{\"nodes\":[1,2]}"));
	assert_memory_equal(own.streamed, "{\"nodes\":[1,2]}", own.nstreamed);
	assert_int_equal(own.closed, 0);

	/* The next message begins anew: asked again for its watch and budget. */
	own.watch = false;
	own.nstreamed = 0;
	assert_int_equal(ws_text(ws, "{\"method\":\"Debugger.paused\",\"params\":{}}"), 0);
	assert_int_equal(own.begins, 2);
	assert_int_equal(own.nstreamed, 0);
}

static void test_message_over_budget(void **state)
{
	struct fake_wsi *ws = session_open();
	const char *frags[] = { "{\"id\":1,\"result\":{\"a\":\"0123456789", "0123456789\"}}" };

	assert_int_equal(inspector_session__send(sess, 7, "Profiler.stop", NULL), 0);
	/* The budget is the owner's, message by message: 40 bytes, the message 46. */
	own.budget = 40;
	assert_int_equal(ws_message(ws, frags, 2), -1);
	assert_int_equal(own.responses, 0);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "CDP message larger than its budget");
	assert_null(ws->opaque);
	/* The rest of it reaches nobody. */
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_RECEIVE, "x", 1), -1);
	assert_int_equal(own.begins, 1);
}

static void test_message_within_budget(void **state)
{
	struct fake_wsi *ws = session_open();
	const char *text = "{\"id\":1,\"result\":{\"a\":\"01234567890123456789\"}}";

	assert_int_equal(inspector_session__send(sess, 7, "Profiler.stop", NULL), 0);
	own.budget = strlen(text);
	assert_int_equal(ws_text(ws, text), 0);
	assert_int_equal(own.responses, 1);
	assert_int_equal(own.closed, 0);
}

static void test_malformed_message(void **state)
{
	struct fake_wsi *ws = session_open();

	assert_int_equal(ws_text(ws, "{\"id\":1,"), -1);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "malformed CDP message");
}

static void test_event_and_response(void **state)
{
	struct fake_wsi *ws = session_open();

	assert_int_equal(inspector_session__send(sess, 11, "Profiler.enable", NULL), 0);
	assert_int_equal(inspector_session__send(sess, 12, "Profiler.start", NULL), 0);

	assert_int_equal(ws_text(ws, "{\"method\":\"Profiler.consoleProfileStarted\",\"params\":{\"id\":\"1\"}}"), 0);
	assert_int_equal(own.events, 1);
	assert_int_equal(own.responses, 0);
	assert_string_equal(own.h.method, "Profiler.consoleProfileStarted");
	assert_true(own.h.has_params);

	/* Answers in any order, each with the tag its command was sent with. */
	assert_int_equal(ws_text(ws, "{\"id\":2,\"result\":{}}"), 0);
	assert_int_equal(own.responses, 1);
	assert_int_equal(own.tag, 12);
	assert_false(own.h.has_error);
	assert_int_equal(ws_text(ws, "{\"id\":1,\"error\":{\"code\":-32000,\"message\":\"Not allowed\"}}"), 0);
	assert_int_equal(own.responses, 2);
	assert_int_equal(own.tag, 11);
	assert_true(own.h.has_error);
	assert_string_equal(own.h.error, "Not allowed");
	assert_int_equal(own.events, 1);
	assert_int_equal(own.closed, 0);
}

static void test_unknown_id_ignored(void **state)
{
	struct fake_wsi *ws = session_open();

	assert_int_equal(inspector_session__send(sess, 11, "Profiler.enable", NULL), 0);
	/* An id never sent, a method with an id, an invalid id: neither response nor event. */
	assert_int_equal(ws_text(ws, "{\"id\":999,\"result\":{}}"), 0);
	assert_int_equal(ws_text(ws, "{\"id\":5,\"method\":\"Runtime.evaluate\"}"), 0);
	assert_int_equal(ws_text(ws, "{\"id\":-1,\"result\":{}}"), 0);
	assert_int_equal(own.responses, 0);
	assert_int_equal(own.events, 0);
	/* The one sent is answered once; an answer again is somebody else's. */
	assert_int_equal(ws_text(ws, "{\"id\":1,\"result\":{}}"), 0);
	assert_int_equal(ws_text(ws, "{\"id\":1,\"result\":{}}"), 0);
	assert_int_equal(own.responses, 1);
	assert_int_equal(own.closed, 0);
	assert_true(inspector_session__is_open(sess));
}

static void test_owner_frees_in_response(void **state)
{
	struct fake_wsi *ws = session_open();

	assert_int_equal(inspector_session__send(sess, 7, "HeapProfiler.stopSampling", NULL), 0);
	assert_int_equal(inspector_session__send(sess, 8, "Profiler.disable", NULL), 0);
	own.free_in_response = true;
	assert_int_equal(ws_text(ws, "{\"id\":1,\"result\":{\"profile\":{}}}"), 0);
	assert_null(sess);
	assert_null(ws->opaque);
	assert_true(ws->killed);
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_WRITEABLE, NULL, 0), -1);
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_CLOSED, NULL, 0), 0);
	assert_int_equal(own.closed, 0);
}

static void test_closed_by_peer(void **state)
{
	struct fake_wsi *ws = session_open();

	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_CLOSED, NULL, 0), 0);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "inspector closed the WebSocket");
	assert_null(ws->opaque);
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_CLOSED, NULL, 0), 0);
	assert_int_equal(own.closed, 1);
}

/* ---- sending ---- */

static void expect_written(int i, int id, const char *method, const char *params_key)
{
	cJSON *msg = cJSON_Parse(written[i]);

	assert_non_null(msg);
	assert_int_equal(cJSON_GetObjectItem(msg, "id")->valueint, id);
	assert_string_equal(cJSON_GetObjectItem(msg, "method")->valuestring, method);
	if (params_key)
		assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "params"), params_key));
	else
		assert_null(cJSON_GetObjectItem(msg, "params"));
	cJSON_Delete(msg);
}

static void test_send_in_order(void **state)
{
	struct fake_wsi *ws;
	cJSON *p;

	/* Before the WebSocket is open: refused, params consumed all the same. */
	session_new();
	p = cJSON_CreateObject();
	cJSON_AddNumberToObject(p, "interval", 50);
	assert_int_equal(inspector_session__send(sess, 1, "Profiler.enable", p), -ENOTCONN);
	inspector_session__free(sess);
	sess = NULL;
	nwsi = 0;

	ws = session_open();
	assert_int_equal(inspector_session__send(sess, 1, "Profiler.enable", NULL), 0);
	p = cJSON_CreateObject();
	cJSON_AddNumberToObject(p, "interval", 50);
	assert_int_equal(inspector_session__send(sess, 1, "Profiler.setSamplingInterval", p), 0);
	assert_int_equal(inspector_session__send(sess, 2, "Profiler.start", NULL), 0);
	/* Queued, nothing written outside WRITEABLE. */
	assert_int_equal(nwritten, 0);
	assert_true(ws->writable >= 1);

	ws->writable = 0;
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_WRITEABLE, NULL, 0), 0);
	assert_int_equal(nwritten, 1);
	assert_int_equal(ws->writable, 1);      /* more to write: asks again */
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_WRITEABLE, NULL, 0), 0);
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_WRITEABLE, NULL, 0), 0);
	assert_int_equal(nwritten, 3);
	assert_int_equal(ws->writable, 2);      /* not after the last */
	expect_written(0, 1, "Profiler.enable", NULL);
	expect_written(1, 2, "Profiler.setSamplingInterval", "interval");
	expect_written(2, 3, "Profiler.start", NULL);
	/* Nothing queued: a spurious WRITEABLE writes nothing. */
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_WRITEABLE, NULL, 0), 0);
	assert_int_equal(nwritten, 3);

	/* Sent later, after the queue ran dry: written on the next WRITEABLE. */
	assert_int_equal(inspector_session__send(sess, 3, "Profiler.stop", NULL), 0);
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_WRITEABLE, NULL, 0), 0);
	expect_written(3, 4, "Profiler.stop", NULL);
}

static void test_send_pending_bounded(void **state)
{
	session_open();
	for (int i = 0; i < 16; i++)
		assert_int_equal(inspector_session__send(sess, 1, "Runtime.evaluate", NULL), 0);
	/* Commands awaiting answers are bounded: the next is refused, its params freed. */
	assert_int_equal(inspector_session__send(sess, 1, "Runtime.evaluate", cJSON_CreateObject()), -ENOSPC);
}

static void test_write_fails(void **state)
{
	struct fake_wsi *ws = session_open();

	assert_int_equal(inspector_session__send(sess, 1, "Profiler.enable", NULL), 0);
	assert_int_equal(inspector_session__send(sess, 1, "Profiler.start", NULL), 0);
	write_short = true;
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_WRITEABLE, NULL, 0), -1);
	assert_int_equal(own.closed, 1);
	assert_string_equal(own.reason, "WebSocket write failed");
	assert_null(ws->opaque);
	assert_true(ws->killed);
}

/* ---- freeing a session while a wsi lives ---- */

static void test_free_during_http(void **state)
{
	session_new();
	assert_int_equal(callback(W(&wsis[0]), LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER, NULL, 0), 0);
	inspector_session__free(sess);
	sess = NULL;
	/* The wsi forgets the session and is closed by lws. */
	assert_null(wsis[0].opaque);
	assert_true(wsis[0].killed);
	assert_int_equal(sul_pending(), 0);
	/* Its later callbacks find nothing, and end it. */
	wsis[0].body = version_body;
	wsis[0].body_len = strlen(version_body);
	assert_int_equal(callback(W(&wsis[0]), LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP, NULL, 0), -1);
	assert_int_equal(callback(W(&wsis[0]), LWS_CALLBACK_RECEIVE_CLIENT_HTTP, NULL, 0), -1);
	assert_int_equal(callback(W(&wsis[0]), LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ, "{}", 2), -1);
	assert_int_equal(callback(W(&wsis[0]), LWS_CALLBACK_COMPLETED_CLIENT_HTTP, NULL, 0), -1);
	assert_int_equal(callback(W(&wsis[0]), LWS_CALLBACK_CLOSED_CLIENT_HTTP, NULL, 0), 0);
	assert_int_equal(own.closed, 0);
}

static void test_free_between_connections(void **state)
{
	session_new();
	assert_int_equal(http_exchange(&wsis[0], 200, version_body), LWS_CALLBACK_COMPLETED_CLIENT_HTTP);
	assert_int_equal(sul_pending(), 1);
	inspector_session__free(sess);
	sess = NULL;
	/* The next connection is never made. */
	assert_int_equal(sul_pending(), 0);
	sul_advance(LWS_US_PER_SEC);
	assert_int_equal(nwsi, 1);
	assert_int_equal(own.closed, 0);
}

static void test_free_while_open(void **state)
{
	struct fake_wsi *ws = session_open();

	own.watch = true;
	assert_int_equal(inspector_session__send(sess, 1, "Profiler.stop", NULL), 0);
	assert_int_equal(inspector_session__send(sess, 1, "Profiler.disable", cJSON_CreateObject()), 0);
	/* Half a message read, two commands queued. */
	ws->final = false;
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_RECEIVE, "{\"id\":1,\"result\":{\"profile\":[1", 30), 0);
	inspector_session__free(sess);
	sess = NULL;
	assert_null(ws->opaque);
	assert_true(ws->killed);
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_RECEIVE, "]}}", 3), -1);
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_WRITEABLE, NULL, 0), -1);
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_CLOSED, NULL, 0), 0);
	assert_int_equal(nwritten, 0);
	assert_int_equal(own.responses, 0);
	assert_int_equal(own.closed, 0);
	inspector_session__free(NULL);
}

static void test_set_owner(void **state)
{
	struct fake_wsi *ws = session_open();

	assert_int_equal(inspector_session__send(sess, 5, "Runtime.evaluate", NULL), 0);
	inspector_session__set_owner(sess, &ops, &other);
	assert_int_equal(ws_text(ws, "{\"id\":1,\"result\":{}}"), 0);
	assert_int_equal(own.responses, 0);
	assert_int_equal(other.begins, 1);
	assert_int_equal(other.responses, 1);
	assert_int_equal(other.tag, 5);
	assert_int_equal(callback(W(ws), LWS_CALLBACK_CLIENT_CLOSED, NULL, 0), 0);
	assert_int_equal(other.closed, 1);
	assert_int_equal(own.closed, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_connects_through_http_to_websocket),
		T(test_redirect_refused),
		T(test_http_status_on_list),
		T(test_http_body_limit),
		T(test_not_node),
		T(test_list_without_websocket),
		T(test_http_closed_early),
		T(test_connection_error),
		T(test_namespace_by_path_before_6_11),
		T(test_cannot_start),
		T(test_next_connection_fails),
		T(test_peer_other_port),
		T(test_peer_other_address),
		T(test_listener_own_address),
		T(test_listener_own_address_other_peer),
		T(test_listener_ipv6),
		T(test_peer_not_inet),
		T(test_peer_other_namespace),
		T(test_peer_unknown),
		T(test_peer_namespace_unknown),
		T(test_websocket_peer_other_namespace),
		T(test_unchecked_connection_refused),
		T(test_message_in_fragments),
		T(test_message_over_budget),
		T(test_message_within_budget),
		T(test_malformed_message),
		T(test_event_and_response),
		T(test_unknown_id_ignored),
		T(test_owner_frees_in_response),
		T(test_closed_by_peer),
		T(test_send_in_order),
		T(test_send_pending_bounded),
		T(test_write_fails),
		T(test_free_during_http),
		T(test_free_between_connections),
		T(test_free_while_open),
		T(test_set_owner),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
