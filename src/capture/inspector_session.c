// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A DevTools session as a chain of lws client connections:
 *
 *   GET /json/version -> GET /json/list -> WebSocket (CDP) -> closed
 *
 * Each connection's wsi carries the session as opaque user data; a session
 * freed while a wsi still lives is detached from it first, and the wsi's next
 * callback closes it.
 */
#include <errno.h>
#include <arpa/inet.h>
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

#include "cdp.h"
#include "inspector_session.h"
#include "log.h"
#include "netns.h"

enum session_phase {
	PHASE_VERSION,
	PHASE_LIST,
	PHASE_WEBSOCKET,
	PHASE_OPEN,
	PHASE_CLOSED,
};

struct outgoing {
	struct outgoing *next;
	size_t len;
	unsigned char buf[];    /* LWS_PRE bytes, then the message */
};

struct inspector_session {
	struct lws_context *ctx;
	struct lws *wsi;
	pid_t pid;
	int pidfd;              /* borrowed: the namespace is entered through it */
	struct inspector_endpoint ep;   /* the inspector's address and port */
	uint16_t port;
	uint64_t netns;         /* the target's network namespace: every peer must be in it */
	enum session_phase phase;
	const struct inspector_session_ops *ops;
	void *owner;

	struct cdp_requests requests;
	struct outgoing *out_head, **out_tail;

	char *rx;               /* an HTTP body being reassembled (small) */
	size_t rx_len, rx_cap;
	bool rx_overflow;
	struct cdp_reader *reader;      /* the CDP message being read */
	bool in_message;
	bool peer_checked;      /* this connection's peer is the chosen inspector */
	bool in_new;            /* inside inspector_session__new(): no callbacks */

	char node_version[CDP_VERSION_MAX];
	char ws_path[CDP_WS_PATH_MAX];
	char address[INET6_ADDRSTRLEN];
	char host[INET6_ADDRSTRLEN + 8];

	lws_sorted_usec_list_t next_sul;        /* starts the next connection off-callback */
};

static int session_connect(struct inspector_session *s)
{
	struct lws_client_connect_info info = { 0 };
	int saved, r;

	snprintf(s->host, sizeof(s->host), s->ep.family == AF_INET6 ? "[%s]:%u" : "%s:%u", s->address, s->port);
	info.context = s->ctx;
	info.address = s->address;
	info.port = s->port;
	info.host = s->host;
	info.local_protocol_name = inspector_session_protocol.name;
	info.opaque_user_data = s;
	info.pwsi = &s->wsi;
	/* A redirect would be followed from the agent's own namespace, to anywhere. */
	info.ssl_connection = LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
	switch (s->phase) {
	case PHASE_VERSION:
		info.method = "GET";
		info.path = "/json/version";
		break;
	case PHASE_LIST:
		info.method = "GET";
		info.path = "/json/list";
		break;
	default:
		info.path = s->ws_path;
		break;
	}
	s->rx_len = 0;
	s->rx_overflow = false;
	s->peer_checked = false;

	/* The socket is made inside the target's namespace: its 127.0.0.1 is not ours. */
	r = netns_enter_pidfd(s->pidfd, &saved);
	if (r < 0)
		return r;
	s->wsi = NULL;
	lws_client_connect_via_info(&info);
	if (netns_leave(saved) < 0)
		netns_stranded();
	return s->wsi ? 0 : -ECONNREFUSED;
}

/* The wsi is going away on its own: forget each other. */
static void detach(struct inspector_session *s, struct lws *wsi)
{
	lws_set_opaque_user_data(wsi, NULL);
	if (s->wsi == wsi)
		s->wsi = NULL;
}

static void session_fail(struct inspector_session *s, const char *reason)
{
	if (s->phase == PHASE_CLOSED)
		return;
	s->phase = PHASE_CLOSED;
	if (s->wsi) {
		lws_set_opaque_user_data(s->wsi, NULL);
		lws_set_timeout(s->wsi, 1, LWS_TO_KILL_ASYNC);
		s->wsi = NULL;
	}
	/* Failed inside inspector_session__new(): its NULL tells the owner, once. */
	if (s->in_new)
		return;
	s->ops->closed(s->owner, reason);
}

static void next_connection(lws_sorted_usec_list_t *sul)
{
	struct inspector_session *s = lws_container_of(sul, struct inspector_session, next_sul);
	int r = session_connect(s);

	if (r < 0) {
		char reason[160];

		snprintf(reason, sizeof(reason), "cannot connect to %s: %s", s->host, strerror(-r));
		session_fail(s, reason);
	}
}

/* The namespace every peer must be in: the pidfd's, or by path on kernels before 6.11. */
static int target_netns(const struct inspector_session *s, uint64_t *ret)
{
	int r = netns_pidfd_inode(s->pidfd, ret);

	return r == -EOPNOTSUPP ? netns_inode(s->pid, ret) : r;
}

struct inspector_session *inspector_session__new(struct lws_context *ctx, pid_t pid, int pidfd,
						 const struct inspector_endpoint *ep,
						 const struct inspector_session_ops *ops, void *owner)
{
	struct inspector_session *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ctx = ctx;
	s->pid = pid;
	s->pidfd = pidfd;
	s->ep = *ep;
	s->port = ep->port;
	if (inspector_endpoint_address(ep, s->address, sizeof(s->address)) < 0) {
		free(s);
		return NULL;
	}
	s->ops = ops;
	s->owner = owner;
	s->phase = PHASE_VERSION;
	s->out_tail = &s->out_head;
	s->reader = cdp_reader__new();
	s->in_new = true;
	if (!s->reader || target_netns(s, &s->netns) < 0 || session_connect(s) < 0 || s->phase == PHASE_CLOSED) {
		inspector_session__free(s);
		return NULL;
	}
	s->in_new = false;
	return s;
}

void inspector_session__set_owner(struct inspector_session *s, const struct inspector_session_ops *ops, void *owner)
{
	s->ops = ops;
	s->owner = owner;
}

bool inspector_session__is_open(const struct inspector_session *s)
{
	return s->phase == PHASE_OPEN;
}

const char *inspector_session__node_version(const struct inspector_session *s)
{
	return s->node_version[0] ? s->node_version : NULL;
}

int inspector_session__send(struct inspector_session *s, int tag, const char *method, cJSON *params)
{
	struct outgoing *o;
	char *text;
	size_t len;
	int id;

	if (s->phase != PHASE_OPEN) {
		cJSON_Delete(params);
		return -ENOTCONN;
	}
	id = cdp_requests__add(&s->requests, tag);
	if (id < 0) {
		cJSON_Delete(params);
		return id;
	}
	text = cdp_command_new(id, method, params);
	if (!text)
		goto nomem;
	len = strlen(text);
	o = malloc(sizeof(*o) + LWS_PRE + len);
	if (!o) {
		free(text);
		goto nomem;
	}
	o->next = NULL;
	o->len = len;
	memcpy(o->buf + LWS_PRE, text, len);
	free(text);
	*s->out_tail = o;
	s->out_tail = &o->next;
	lws_callback_on_writable(s->wsi);
	log_debug("pid %d: -> %s (id %d)", (int)s->pid, method, id);
	return 0;
nomem:
	cdp_requests__take(&s->requests, id, &tag);
	return -ENOMEM;
}

static void free_outgoing(struct inspector_session *s)
{
	while (s->out_head) {
		struct outgoing *o = s->out_head;

		s->out_head = o->next;
		free(o);
	}
	s->out_tail = &s->out_head;
}

void inspector_session__free(struct inspector_session *s)
{
	if (!s)
		return;
	lws_sul_schedule(s->ctx, 0, &s->next_sul, NULL, LWS_SET_TIMER_USEC_CANCEL);
	if (s->wsi) {
		lws_set_opaque_user_data(s->wsi, NULL);
		lws_set_timeout(s->wsi, 1, LWS_TO_KILL_ASYNC);
	}
	free_outgoing(s);
	free(s->rx);
	cdp_reader__free(s->reader);
	free(s);
}

/* Append to the receive buffer, growing it up to limit. */
static int rx_append(struct inspector_session *s, const void *in, size_t len, size_t limit)
{
	if (s->rx_overflow)
		return -EMSGSIZE;
	if (len > limit - s->rx_len) {
		s->rx_overflow = true;
		return -EMSGSIZE;
	}
	if (s->rx_len + len + 1 > s->rx_cap) {
		size_t cap = s->rx_cap ? s->rx_cap : 4096;
		char *p;

		while (cap < s->rx_len + len + 1)
			cap *= 2;
		if (cap > limit + 1)
			cap = limit + 1;
		p = realloc(s->rx, cap);
		if (!p)
			return -ENOMEM;
		s->rx = p;
		s->rx_cap = cap;
	}
	memcpy(s->rx + s->rx_len, in, len);
	s->rx_len += len;
	s->rx[s->rx_len] = '\0';
	return 0;
}

static void http_completed(struct inspector_session *s)
{
	int r;

	if (s->rx_overflow) {
		session_fail(s, "inspector HTTP answer too large");
		return;
	}
	if (s->phase == PHASE_VERSION) {
		r = cdp_parse_version(s->rx, s->rx_len, s->node_version, sizeof(s->node_version));
		if (r < 0) {
			session_fail(s, "the port does not answer as a node inspector (/json/version)");
			return;
		}
		s->phase = PHASE_LIST;
	} else {
		r = cdp_parse_target_list(s->rx, s->rx_len, s->ws_path, sizeof(s->ws_path));
		if (r < 0) {
			session_fail(s, "no usable webSocketDebuggerUrl in /json/list");
			return;
		}
		s->phase = PHASE_WEBSOCKET;
	}
	/* Not from inside this connection's callback. */
	lws_sul_schedule(s->ctx, 0, &s->next_sul, next_connection, 1);
}

/* A WebSocket fragment of the CDP message under way; the message ends with the last. */
static int ws_receive(struct inspector_session *s, const char *in, size_t len, bool last)
{
	struct cdp_reader_header h;
	int r, tag;

	if (!s->in_message) {
		struct cdp_reader_watch w = { 0 };
		size_t budget = 0;

		s->ops->message_begin(s->owner, &w, &budget);
		r = cdp_reader__begin(s->reader, &w, budget);
		if (r < 0)
			return r;
		s->in_message = true;
	}
	r = cdp_reader__feed(s->reader, in, len);
	if (r < 0)
		return r;
	if (!last)
		return 0;
	s->in_message = false;
	r = cdp_reader__end(s->reader, &h);
	if (r < 0)
		return r;
	if (h.has_method && !h.has_id) {
		s->ops->event(s->owner, &h);
	} else if (h.has_id && cdp_requests__take(&s->requests, h.id, &tag) == 0) {
		s->ops->response(s->owner, tag, &h);
	} else {
		log_debug("pid %d: a CDP message that answers nothing we sent, ignoring", (int)s->pid);
	}
	return 0;
}

static const char *receive_error(int r)
{
	switch (r) {
	case -EMSGSIZE:
		return "CDP message larger than its budget";
	case -EPROTO:
		return "malformed CDP message";
	default:
		return "CDP message could not be kept";
	}
}

/*
 * The connection lws made is to the chosen endpoint in the target's own network namespace,
 * and nowhere else: whatever the target answered, nothing led the agent elsewhere.
 */
static int check_peer(const struct inspector_session *s, struct lws *wsi)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int fd = lws_get_socket_fd(wsi), nsfd;
	struct stat st;

	if (fd < 0 || getpeername(fd, (struct sockaddr *)&peer, &len) < 0)
		return -ENOTCONN;
	if (s->ep.family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&peer;

		if (len != sizeof(*in) || in->sin_family != AF_INET || in->sin_port != htons(s->port) ||
		    memcmp(&in->sin_addr, s->ep.addr, 4))
			return -EPERM;
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&peer;

		if (len != sizeof(*in6) || in6->sin6_family != AF_INET6 || in6->sin6_port != htons(s->port) ||
		    memcmp(&in6->sin6_addr, s->ep.addr, 16))
			return -EPERM;
	}
	nsfd = ioctl(fd, SIOCGSKNS);
	if (nsfd < 0)
		return -errno;
	if (fstat(nsfd, &st) < 0 || (uint64_t)st.st_ino != s->netns) {
		close(nsfd);
		return -EPERM;
	}
	close(nsfd);
	return 0;
}

/* Whether check_peer() passed on wsi before its use; if not, the session fails. */
static bool checked_before_use(struct inspector_session *s, struct lws *wsi)
{
	if (s->peer_checked)
		return true;
	detach(s, wsi);
	session_fail(s, "connection not checked before use");
	return false;
}

static int callback_inspector(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			      void *in, size_t len)
{
	struct inspector_session *s = wsi ? lws_get_opaque_user_data(wsi) : NULL;
	char buf[LWS_PRE + 4096];
	char *px;
	int lenx, r;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (s) {
			char why[160];

			detach(s, wsi);
			snprintf(why, sizeof(why), "connection to %s failed: %s", s->host,
				 in ? (const char *)in : "unknown error");
			session_fail(s, why);
		}
		return 0;

	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		/* Connected, nothing sent yet: is this the peer we chose? */
		if (!s)
			return -1;
		if (check_peer(s, wsi) < 0) {
			detach(s, wsi);
			session_fail(s, "connected to another peer than the inspector chosen");
			return -1;
		}
		s->peer_checked = true;
		return 0;

	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		if (!s || !checked_before_use(s, wsi))
			return -1;
		/* lws reports the WebSocket upgrade (101) here too. */
		if (s->phase < PHASE_WEBSOCKET && lws_http_client_http_response(wsi) != 200) {
			char why[64];

			snprintf(why, sizeof(why), "inspector HTTP status %u",
				 lws_http_client_http_response(wsi));
			session_fail(s, why);
			return -1;
		}
		return 0;

	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
		if (!s)
			return -1;
		px = buf + LWS_PRE;
		lenx = (int)sizeof(buf) - LWS_PRE;
		return lws_http_client_read(wsi, &px, &lenx) < 0 ? -1 : 0;

	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		if (!s)
			return -1;
		if (rx_append(s, in, len, INSPECTOR_HTTP_MAX) < 0) {
			detach(s, wsi);
			session_fail(s, "inspector HTTP answer too large");
			return -1;
		}
		return 0;

	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		if (!s)
			return -1;
		detach(s, wsi);
		http_completed(s);
		return -1;      /* this connection is done either way */

	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		if (s) {
			detach(s, wsi);
			session_fail(s, "inspector closed the HTTP connection early");
		}
		return 0;

	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (!s || !checked_before_use(s, wsi))
			return -1;
		s->phase = PHASE_OPEN;
		s->rx_len = 0;
		log_debug("pid %d: DevTools session open on %s%s", (int)s->pid, s->host, s->ws_path);
		s->ops->ready(s->owner);
		return 0;

	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (!s)
			return -1;
		r = ws_receive(s, in, len, lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0);
		if (r < 0) {
			detach(s, wsi);
			session_fail(s, receive_error(r));
			return -1;
		}
		return 0;

	case LWS_CALLBACK_CLIENT_WRITEABLE: {
		struct outgoing *o;

		if (!s)
			return -1;
		o = s->out_head;
		if (!o)
			return 0;
		if (lws_write(wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT) < (int)o->len) {
			session_fail(s, "WebSocket write failed");
			return -1;
		}
		s->out_head = o->next;
		if (!s->out_head)
			s->out_tail = &s->out_head;
		free(o);
		if (s->out_head)
			lws_callback_on_writable(wsi);
		return 0;
	}

	case LWS_CALLBACK_CLIENT_CLOSED:
		if (s) {
			detach(s, wsi);
			session_fail(s, "inspector closed the WebSocket");
		}
		return 0;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols inspector_session_protocol = {
	.name = "inspectd-cdp",
	.callback = callback_inspector,
	.rx_buffer_size = 65536,
};
