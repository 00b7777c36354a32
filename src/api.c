// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The agent's HTTP API, served by the same lws event loop: a Unix socket
 * (mode 0600 in a 0700 folder: root on the host only), and optionally TCP
 * with a bearer token. One callback, one switch; per-connection state in the
 * lws user area, the api in each vhost's protocol storage. Responses are built
 * whole, then written in chunks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "api_json.h"
#include "api_token.h"
#include "dispatcher.h"
#include "exports.h"
#include "log.h"
#include "procfs.h"

#define API_CHUNK       (16 * 1024)

struct api {
	struct lws_context *ctx;
	struct dispatcher *dispatcher;
	const struct settings *settings;
	const struct spool *spool;      /* borrowed: its counters */
	struct exports *exports;        /* borrowed: every exporter's state */
	const struct syscall_filter *filter;    /* borrowed: its refusals; NULL: none */
	struct lws_vhost *unix_vhost, *tcp_vhost;
	int listen_fd;
	unsigned responding;            /* responses begun and not yet written whole */
	struct api_token token;
	char socket_path[108];
};

struct api_conn {
	enum api_method method;
	char path[128];
	char *body;
	size_t body_len;
	bool body_too_large;
	char *out;              /* response body */
	size_t out_len, out_sent;
	bool close_after;       /* a body we did not read may follow: do not parse it as a request */
	bool answered;          /* the response is on its way: later body callbacks are ignored */
	bool responding;        /* counted in the api's responding until written whole or closed */
};

/*
 * The api serving vh's protocol named name, kept in lws's per-vhost protocol storage (freed
 * with the vhost) for its callbacks to find; api NULL clears it. 0, -ENOENT when vh has no
 * such protocol, or -ENOMEM.
 */
static int vhost_set_api(struct lws_vhost *vh, const char *name, struct api *api)
{
	const struct lws_protocols *prot = vh ? lws_vhost_name_to_protocol(vh, name) : NULL;
	struct api **slot = prot ? lws_protocol_vh_priv_get(vh, prot) : NULL;

	if (!slot && api)
		slot = prot ? lws_protocol_vh_priv_zalloc(vh, prot, sizeof(*slot)) : NULL;
	if (!slot)
		return !api ? 0 : prot ? -ENOMEM : -ENOENT;
	*slot = api;
	return 0;
}

/* The api serving wsi's vhost and protocol (api__new()), or NULL once it is freed. */
static struct api *api_of(struct lws *wsi)
{
	struct api **slot = lws_protocol_vh_priv_get(lws_get_vhost(wsi), lws_get_protocol(wsi));

	return slot ? *slot : NULL;
}

static void conn_reset(struct lws *wsi, struct api_conn *c)
{
	struct api *api = c->responding ? api_of(wsi) : NULL;

	if (api && api->responding)
		api->responding--;
	free(c->body);
	free(c->out);
	memset(c, 0, sizeof(*c));
}

/* Headers now; the body from the WRITEABLE callback. */
static int respond(struct lws *wsi, struct api_conn *c, unsigned status, const char *ctype, char *body)
{
	unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;

	free(c->out);
	c->out = body ? body : strdup("");
	if (!c->out)
		return -1;
	c->out_len = strlen(c->out);
	c->out_sent = 0;
	c->answered = true;
	if (lws_add_http_common_headers(wsi, status, ctype, (lws_filepos_t)c->out_len, &p, end))
		return -1;
	if (c->close_after &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5, &p, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	/* The headers are out: the agent does not end before the body follows them. */
	if (!c->responding) {
		struct api *api = api_of(wsi);

		if (api) {
			api->responding++;
			c->responding = true;
		}
	}
	lws_callback_on_writable(wsi);
	return 0;
}

static int respond_json(struct lws *wsi, struct api_conn *c, unsigned status, cJSON *json)
{
	char *text = json ? cJSON_PrintUnformatted(json) : NULL;

	cJSON_Delete(json);
	if (!text)
		return respond(wsi, c, 500, "application/json", api_error_json("out of memory"));
	return respond(wsi, c, status, "application/json", text);
}

static int respond_error(struct lws *wsi, struct api_conn *c, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int respond_error(struct lws *wsi, struct api_conn *c, unsigned status, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return respond(wsi, c, status, "application/json", api_error_json(msg));
}

static void add_process(void *ctx, const struct process_view *p, const struct job_view *job)
{
	cJSON *list = ctx;
	cJSON *o = api_process_json(p, job), *argv;
	char buf[4096];
	ssize_t n;

	if (!o)
		return;
	/* The command line as of now, read on request (bounded): nothing kept per process. */
	argv = cJSON_AddArrayToObject(o, "cmdline");
	n = procfs_read(p->pid, "cmdline", buf, sizeof(buf));
	for (ssize_t i = 0; argv && n > 0 && i < n; i += (ssize_t)strlen(buf + i) + 1)
		cJSON_AddItemToArray(argv, cJSON_CreateString(buf + i));
	if (!cJSON_AddItemToArray(list, o))
		cJSON_Delete(o);
}

static int serve_processes(struct api *api, struct lws *wsi, struct api_conn *c)
{
	cJSON *root = cJSON_CreateObject(), *list;

	if (!root || !(list = cJSON_AddArrayToObject(root, "processes"))) {
		cJSON_Delete(root);
		return respond_error(wsi, c, 500, "out of memory");
	}
	dispatcher__foreach_process(api->dispatcher, add_process, list);
	return respond_json(wsi, c, 200, root);
}

static void add_job(void *ctx, const struct job_view *j)
{
	cJSON *list = ctx, *o = api_job_json(j);

	if (o && !cJSON_AddItemToArray(list, o))
		cJSON_Delete(o);
}

/*
 * The job as it is now, with a "warning" when one is given; when there is none, 404 naming
 * it as the client did (name), or 500.
 */
static int respond_job(struct api *api, struct lws *wsi, struct api_conn *c, unsigned status, unsigned id,
		       const char *name, const char *warning)
{
	struct job_view v;
	cJSON *o;

	if (dispatcher__job(api->dispatcher, id, &v) < 0)
		return name ? respond_error(wsi, c, 404, "no capture %s", name)
			    : respond_error(wsi, c, 500, "capture %u is gone", id);
	o = api_job_json(&v);
	if (o && warning && !cJSON_AddStringToObject(o, "warning", warning)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return respond_json(wsi, c, status, o);
}

static int serve_captures(struct api *api, struct lws *wsi, struct api_conn *c)
{
	cJSON *root = cJSON_CreateObject(), *list;

	if (!root || !(list = cJSON_AddArrayToObject(root, "captures"))) {
		cJSON_Delete(root);
		return respond_error(wsi, c, 500, "out of memory");
	}
	dispatcher__foreach_job(api->dispatcher, add_job, list);
	return respond_json(wsi, c, 200, root);
}

/* 409: which capture holds pid, as the client can look it up. */
static int respond_busy(struct api *api, struct lws *wsi, struct api_conn *c, int pid, unsigned id)
{
	struct job_view v;
	char name[32];

	if (dispatcher__job(api->dispatcher, id, &v) < 0)
		return respond_error(wsi, c, 409, "pid %d is already being captured", pid);
	api_job_id(id, name, sizeof(name));
	return respond_error(wsi, c, 409, "pid %d is already being captured: a %s capture, %s, is %s", pid,
			     profile_kind_name(v.kind), name, v.state == JOB_QUEUED ? "queued" : "in progress");
}

static int serve_create(struct api *api, struct lws *wsi, struct api_conn *c)
{
	struct api_capture_request req;
	struct capture_trigger t = { .source = TRIGGER_SOURCE_API };
	struct capture_request rq = { 0 };
	struct timespec now;
	unsigned id = 0;
	char err[256];
	int r;

	if (c->body_too_large)
		return respond_error(wsi, c, 413, "request body larger than %d bytes", API_BODY_MAX);
	if (api_parse_capture_request(c->body, c->body_len, &req, err, sizeof(err)) < 0)
		return respond_error(wsi, c, 400, "%s", err);
	clock_gettime(CLOCK_MONOTONIC, &now);
	t.ktime_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	rq.kind = req.kind;
	/* Its seconds, else --capture-seconds; a heap snapshot has none (the parser saw to it). */
	if (!profile_kind_instantaneous(req.kind))
		rq.duration_usec = req.seconds ? req.seconds * 1000000 : api->settings->capture_usec;
	memcpy(rq.categories, req.categories, sizeof(rq.categories));
	r = dispatcher__submit(api->dispatcher, req.pid, &rq, &t, &id);
	switch (r) {
	case 0:
		log_info("pid %d: %s capture requested through the API", req.pid, profile_kind_name(req.kind));
		/* 202: the job, and what its kind costs the target if costly. */
		return respond_job(api, wsi, c, 202, id, NULL, profile_kind_cost(req.kind));
	case -ESRCH:
		return respond_error(wsi, c, 404, "pid %d is not a tracked node process", req.pid);
	case -EPERM: {
		enum select_verdict v;
		const char *rule = NULL;

		dispatcher__verdict(api->dispatcher, req.pid, &v, &rule);
		log_info("pid %d: excluded by --exclude '%s': API capture refused", req.pid, rule ?: "?");
		return respond_error(wsi, c, 403, "pid %d is excluded by --exclude '%s'", req.pid, rule ?: "?");
	}
	case -EBUSY:
		return respond_busy(api, wsi, c, req.pid, id);
	case -EDQUOT:
		return respond_error(wsi, c, 429, "pid %d: its container had %u captures within the hour "
				     "(--max-captures-per-container-per-hour)", req.pid,
				     api->settings->max_per_container_hour);
	case -ESHUTDOWN:
		return respond_error(wsi, c, 503, "the agent is shutting down");
	case -EINVAL:
		/* Not expected: the parser checks what the dispatcher does. */
		return respond_error(wsi, c, 400, "a %s capture cannot be asked for so", profile_kind_name(req.kind));
	default:
		return respond_error(wsi, c, 500, "%s", strerror(-r));
	}
}

/* The exporters' rows, for /v1/exporters and /metrics. */
static const struct api_exports_view *exports_view(struct api *api, struct api_exports_view *v,
						   struct outbox_status *rows, size_t max)
{
	size_t first_remote, n = exports__status(api->exports, rows, max, &first_remote);

	*v = (struct api_exports_view){ .rows = rows, .n = n, .first_remote = first_remote,
					.now = (int64_t)time(NULL),
					.spool_bytes = api->spool ? spool__used(api->spool) : 0 };
	return v;
}

static int serve(struct api *api, struct lws *wsi, struct api_conn *c)
{
	enum api_route route;
	unsigned id = 0;
	int r;

	route = api_route(c->method, c->path, &id);
	switch (route) {
	case API_PROCESSES:
		return serve_processes(api, wsi, c);
	case API_CAPTURES_LIST:
		return serve_captures(api, wsi, c);
	case API_CAPTURES_CREATE:
		return serve_create(api, wsi, c);
	case API_CAPTURE_GET:
	case API_CAPTURE_DELETE:
		/* -ENOENT: answered 404 below. */
		r = route == API_CAPTURE_DELETE ? dispatcher__stop_job(api->dispatcher, id) : 0;
		if (r == -EALREADY)
			return respond_error(wsi, c, 409, "capture %s is already over",
					     c->path + strlen("/v1/captures/"));
		return respond_job(api, wsi, c, route == API_CAPTURE_DELETE ? 202 : 200, id,
				   c->path + strlen("/v1/captures/"), NULL);
	case API_METRICS: {
		struct outbox_status rows[EXPORTS_ROWS_MAX];
		struct api_exports_view v;
		const struct spool_derive_count *derived = NULL;
		size_t n_derived = api->spool ? spool__derive_counts(api->spool, &derived) : 0;
		char *text = api_metrics_text(dispatcher__metrics(api->dispatcher),
					      dispatcher__tracked(api->dispatcher),
					      dispatcher__running(api->dispatcher),
					      dispatcher__queued(api->dispatcher),
					      api->spool ? spool__removed(api->spool) : 0, derived, n_derived,
					      exports_view(api, &v, rows, EXPORTS_ROWS_MAX),
					      api->filter && syscall_filter__counting(api->filter)
					      ? (long long)syscall_filter__refused_total(api->filter) : -1);

		if (!text)
			return respond_error(wsi, c, 500, "out of memory");
		return respond(wsi, c, 200, "text/plain; version=0.0.4", text);
	}
	case API_EXPORTERS: {
		struct api_exports_view v;
		struct outbox_status rows[EXPORTS_ROWS_MAX];
		cJSON *arr;
		char *text;

		exports_view(api, &v, rows, EXPORTS_ROWS_MAX);
		arr = api_exporters_json(&v);
		{
			cJSON *answer = arr ? cJSON_CreateObject() : NULL;

			if (answer && !cJSON_AddItemToObject(answer, "exporters", arr)) {
				cJSON_Delete(answer);
				answer = NULL;
			}
			if (!answer)
				cJSON_Delete(arr);
			text = answer ? cJSON_PrintUnformatted(answer) : NULL;
			cJSON_Delete(answer);
		}
		if (!text)
			return respond_error(wsi, c, 500, "out of memory");
		return respond(wsi, c, 200, "application/json", text);
	}
	case API_HEALTHZ:
		return respond(wsi, c, 200, "application/json", strdup("{\"status\":\"ok\"}"));
	case API_METHOD_NOT_ALLOWED:
		return respond_error(wsi, c, 405, "method not allowed on %s", c->path);
	default:
		return respond_error(wsi, c, 404, "no such endpoint");
	}
}

static bool authorized(struct api *api, struct lws *wsi)
{
	char auth[API_TOKEN_MAX + 16];
	int len;

	if (lws_get_vhost(wsi) != api->tcp_vhost)
		return true;    /* the Unix socket: its mode is the check */
	len = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
	if (len <= 7 || strncmp(auth, "Bearer ", 7) != 0)
		return false;
	return api_token_equal(&api->token, auth + 7, (size_t)len - 7);
}

static int callback_api(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct api_conn *c = user;
	struct api *api;
	char clen[32];
	char *uri;
	int ulen, m;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		api = api_of(wsi);
		if (!api)
			return -1;      /* the agent is going: its api is freed */
		conn_reset(wsi, c);
		m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
		c->method = m == LWSHUMETH_GET ? API_GET : m == LWSHUMETH_POST ? API_POST
			  : m == LWSHUMETH_DELETE ? API_DELETE : API_OTHER;
		snprintf(c->path, sizeof(c->path), "%s", (const char *)in);
		/* Answered here, a request that has a body leaves it unread: close after answering. */
		c->close_after = c->method != API_GET;
		if (!authorized(api, wsi))
			return respond_error(wsi, c, 401, "a valid bearer token is required") ? -1 : 0;
		if (c->method == API_POST) {
			/* Refuse an announced oversized body before reading it. */
			if (lws_hdr_copy(wsi, clen, sizeof(clen), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
				return respond_error(wsi, c, 411, "a Content-Length is required") ? -1 : 0;
			if (strtoull(clen, NULL, 10) > API_BODY_MAX)
				return respond_error(wsi, c, 413, "request body larger than %d bytes",
						     API_BODY_MAX) ? -1 : 0;
			/* The body follows, then LWS_CALLBACK_HTTP_BODY_COMPLETION (also for none). */
			c->close_after = false;
			return 0;
		}
		return serve(api, wsi, c) ? -1 : 0;

	case LWS_CALLBACK_HTTP_BODY:
		if (c->answered)
			return 0;
		if (c->body_too_large || c->body_len + len > API_BODY_MAX) {
			c->body_too_large = true;
			return 0;
		}
		{
			char *p = realloc(c->body, c->body_len + len + 1);

			if (!p)
				return -1;
			c->body = p;
			if (len)        /* lws may hand an empty body as NULL */
				memcpy(c->body + c->body_len, in, len);
			c->body_len += len;
			c->body[c->body_len] = '\0';
		}
		return 0;

	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (c->answered)
			return 0;
		api = api_of(wsi);
		if (!api)
			return -1;      /* the agent is going: its api is freed */
		c->close_after = c->body_too_large;
		return serve(api, wsi, c) ? -1 : 0;

	case LWS_CALLBACK_HTTP_WRITEABLE: {
		size_t n;
		unsigned char *buf;
		int flags;

		if (!c->out)
			return 0;
		n = c->out_len - c->out_sent;
		if (n > API_CHUNK)
			n = API_CHUNK;
		buf = malloc(LWS_PRE + n + 1);
		if (!buf)
			return -1;
		memcpy(buf + LWS_PRE, c->out + c->out_sent, n);
		flags = c->out_sent + n == c->out_len ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP;
		if (lws_write(wsi, buf + LWS_PRE, n, flags) != (int)n) {
			free(buf);
			return -1;
		}
		free(buf);
		c->out_sent += n;
		if (c->out_sent < c->out_len) {
			lws_callback_on_writable(wsi);
			return 0;
		}
		if (c->close_after) {
			conn_reset(wsi, c);
			return -1;
		}
		conn_reset(wsi, c);
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}

	case LWS_CALLBACK_CLOSED_HTTP:
		conn_reset(wsi, c);
		return 0;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* The Unix socket is ours (lws 4.1 treats a vhost's socket path as an interface name): accept
 * here, and hand each connection to lws as an HTTP server connection. */
static int callback_listener(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	lws_sock_file_fd_type u;
	struct api *api;
	int fd;

	if (reason != LWS_CALLBACK_RAW_RX_FILE || !(api = api_of(wsi)))
		return 0;
	while ((fd = accept4(api->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		u.sockfd = fd;
		if (!lws_adopt_descriptor_vhost(api->unix_vhost, LWS_ADOPT_HTTP | LWS_ADOPT_SOCKET, u,
						"inspectd-api", NULL))
			log_warn("API: cannot adopt a connection, ignoring");      /* lws closed it */
	}
	return 0;
}

const struct lws_protocols api_protocol = {
	.name = "inspectd-api", .callback = callback_api, .per_session_data_size = sizeof(struct api_conn),
};
const struct lws_protocols api_listen_protocol = {
	.name = "inspectd-api-listen", .callback = callback_listener,
};

static const struct lws_protocols api_tcp_protocols[] = {
	{ .name = "inspectd-api", .callback = callback_api, .per_session_data_size = sizeof(struct api_conn) },
	{ 0 },
};

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	old = umask(0177);      /* the socket is born 0600 */
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 64) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* A live agent answers on the socket: refuse to steal it. A stale one is removed. */
static int prepare_socket_path(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[108], *slash;
	struct stat st;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
	}
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	return unlink(path) < 0 ? -errno : 0;
}

struct api *api__new(struct lws_context *ctx, struct lws_vhost *vh, struct dispatcher *d, const struct settings *st,
		     const struct spool *spool, struct exports *exports)
{
	struct lws_context_creation_info info = { 0 };
	struct api *api;
	int r;

	api = calloc(1, sizeof(*api));
	if (!api)
		return NULL;
	api->ctx = ctx;
	api->listen_fd = -1;
	api->dispatcher = d;
	api->settings = st;
	api->spool = spool;
	api->exports = exports;
	snprintf(api->socket_path, sizeof(api->socket_path), "%s", st->api_socket);

	r = prepare_socket_path(st->api_socket);
	if (r < 0) {
		log_error("API socket %s: %s", st->api_socket,
			  r == -EADDRINUSE ? "another program is listening there" : strerror(-r));
		goto fail;
	}
	/* lws serves an adopted HTTP connection on the first vhost, whatever its Host
	 * header: the agent's one vhost, whose first protocol is the API's. */
	api->unix_vhost = vh;
	/* The connections' callbacks and the listener's find the api through their vhost. */
	r = vhost_set_api(vh, api_protocol.name, api);
	if (r == 0)
		r = vhost_set_api(vh, api_listen_protocol.name, api);
	if (r < 0) {
		log_error("cannot set up the API on the agent's vhost: %s", strerror(-r));
		goto fail;
	}
	api->listen_fd = listen_unix(st->api_socket);
	if (api->listen_fd < 0) {
		log_error("cannot listen on %s: %s", st->api_socket, strerror(-api->listen_fd));
		goto fail;
	}
	{
		lws_sock_file_fd_type u = { .filefd = api->listen_fd };

		if (!lws_adopt_descriptor_vhost(api->unix_vhost, LWS_ADOPT_RAW_FILE_DESC, u, "inspectd-api-listen",
						NULL)) {
			log_error("cannot add the API socket to the event loop");
			goto fail;
		}
	}

	if (st->api_listen) {
		char addr[64], *colon;
		unsigned long port;
		const char *why;

		r = api_token_load(st->api_token_file, &api->token, &why);
		if (r < 0) {
			log_error("API token file %s: %s; refusing to start (a regular file owned by root, "
				  "mode 0600, of 16 to 255 visible ASCII characters)", st->api_token_file,
				  why ? why : strerror(-r));
			goto fail;
		}
		snprintf(addr, sizeof(addr), "%s", st->api_listen);
		colon = strrchr(addr, ':');
		port = strtoul(colon + 1, NULL, 10);
		*colon = '\0';
		if (port == 0 || port > 65535) {
			log_error("invalid --api-listen %s", st->api_listen);
			goto fail;
		}
		memset(&info, 0, sizeof(info));
		info.iface = addr[0] ? addr : NULL;
		info.port = (int)port;
		info.protocols = api_tcp_protocols;
		info.vhost_name = "api-tcp";
		api->tcp_vhost = lws_create_vhost(ctx, &info);
		if (!api->tcp_vhost) {
			log_error("cannot listen on %s", st->api_listen);
			goto fail;
		}
		r = vhost_set_api(api->tcp_vhost, api_tcp_protocols[0].name, api);
		if (r < 0) {
			log_error("cannot set up the API on %s: %s", st->api_listen, strerror(-r));
			goto fail;
		}
	}
	log_info("API listening on %s%s%s", st->api_socket, st->api_listen ? " and " : "",
		 st->api_listen ? st->api_listen : "");
	return api;
fail:
	api__free(api);
	return NULL;
}

bool api__responding(const struct api *api)
{
	return api && api->responding;
}

void api__set_syscall_filter(struct api *api, const struct syscall_filter *f)
{
	api->filter = f;
}

void api__free(struct api *api)
{
	if (!api)
		return;
	/* The vhosts, and the adopted listening fd, go with the context. */
	if (api->listen_fd >= 0)
		unlink(api->socket_path);
	/* What the context's destruction calls back finds no api. */
	vhost_set_api(api->unix_vhost, api_protocol.name, NULL);
	vhost_set_api(api->unix_vhost, api_listen_protocol.name, NULL);
	vhost_set_api(api->tcp_vhost, api_tcp_protocols[0].name, NULL);
	explicit_bzero(&api->token, sizeof(api->token));
	free(api);
}
