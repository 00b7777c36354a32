// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The AWS credential chain: its pure parsers directly (the shared file, the endpoints'
 * JSON, ISO 8601, FULL_URI's hosts), then the real aws_creds__get() against HTTP servers
 * started here on 127.0.0.1 (a thread each, canned answers per method and path, every
 * request counted and its head kept), with files in a fresh folder: the order of the
 * chain, IMDSv2's three requests, the cache and the refresh rule, an endpoint that hangs
 * (the timeouts), one that answers garbage, the stop flag, the token file read afresh.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aws_creds.h"
#include "http.h"
#include "fixture.h"

#define KEY_A   "AKIAAAAAAAAAAAAAAAAA"
#define KEY_B   "AKIABBBBBBBBBBBBBBBB"
#define KEY_C   "ASIACCCCCCCCCCCCCCCC"
#define KEY_D   "ASIADDDDDDDDDDDDDDDD"
#define SECRET  "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define SESSION "IQoJb3JpZ2luX2VjEIj//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+token=="

/* ---- a tiny HTTP server: canned answers by method and path ---- */

#define ROUTES_MAX 8
#define HEADS_MAX  16

struct route {
	char method[8];
	char path[256];
	int status;             /* 0: never answers (holds the connection until the client goes) */
	char *body;
};

struct server {
	int lfd, port, wake[2];
	pthread_t thread;
	pthread_mutex_t lock;
	struct route routes[ROUTES_MAX];
	size_t n_routes;
	int requests;
	char heads[HEADS_MAX][2048];    /* the last requests' heads, in a ring */
};

static bool wait_readable(struct server *s, int fd, int timeout_ms)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = s->wake[0], .events = POLLIN } };

	return poll(p, 2, timeout_ms) > 0 && !p[1].revents && p[0].revents;
}

static void serve_one(struct server *s, int cfd)
{
	char head[2048] = "", method[8] = "", path[256] = "", out[512];
	struct route r = { .status = 404 };
	size_t len = 0;
	char *body = NULL;

	while (len < sizeof(head) - 1 && !strstr(head, "\r\n\r\n")) {
		ssize_t n;

		if (!wait_readable(s, cfd, 5000))
			return;
		n = read(cfd, head + len, sizeof(head) - 1 - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		head[len] = '\0';
	}
	sscanf(head, "%7s %255s", method, path);
	pthread_mutex_lock(&s->lock);
	snprintf(s->heads[s->requests % HEADS_MAX], sizeof(s->heads[0]), "%s", head);
	s->requests++;
	for (size_t i = 0; i < s->n_routes; i++) {
		if (!strcmp(s->routes[i].method, method) && !strcmp(s->routes[i].path, path)) {
			r = s->routes[i];
			body = r.body ? strdup(r.body) : NULL;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (r.status == 0) {
		char sink[256];

		/* Hang: read and drop until the client gives up or the test ends. */
		while (wait_readable(s, cfd, -1) && read(cfd, sink, sizeof(sink)) > 0)
			;
		free(body);
		return;
	}
	snprintf(out, sizeof(out), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", r.status,
		 body ? strlen(body) : 0);
	if (write(cfd, out, strlen(out)) > 0 && body) {
		size_t off = 0, n = strlen(body);

		while (off < n) {
			ssize_t w = write(cfd, body + off, n - off);

			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
	free(body);
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	for (;;) {
		int cfd;

		if (!wait_readable(s, s->lfd, -1))
			return NULL;
		cfd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		serve_one(s, cfd);
		close(cfd);
	}
}

static struct server *server_start(void)
{
	struct server *s = calloc(1, sizeof(*s));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	assert_non_null(s);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 16), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pipe2(s->wake, O_CLOEXEC), 0);
	pthread_mutex_init(&s->lock, NULL);
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
	return s;
}

static void server_stop(struct server *s)
{
	if (!s)
		return;
	assert_int_equal(write(s->wake[1], "x", 1), 1);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	close(s->wake[0]);
	close(s->wake[1]);
	for (size_t i = 0; i < s->n_routes; i++)
		free(s->routes[i].body);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Answer method path with status and body (NULL: empty); status 0: hang. */
static void server_route(struct server *s, const char *method, const char *path, int status, const char *body)
{
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->n_routes; i++) {
		if (!strcmp(s->routes[i].method, method) && !strcmp(s->routes[i].path, path))
			break;
	}
	assert_true(i < ROUTES_MAX);
	if (i == s->n_routes)
		s->n_routes++;
	free(s->routes[i].body);
	snprintf(s->routes[i].method, sizeof(s->routes[i].method), "%s", method);
	snprintf(s->routes[i].path, sizeof(s->routes[i].path), "%s", path);
	s->routes[i].status = status;
	s->routes[i].body = body ? strdup(body) : NULL;
	pthread_mutex_unlock(&s->lock);
}

static int server_requests(struct server *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->requests;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* The head of the n-th request (0 = first) the server got. */
static void server_head(struct server *s, int n, char *buf, size_t size)
{
	pthread_mutex_lock(&s->lock);
	assert_true(n < s->requests && s->requests - n <= HEADS_MAX);
	snprintf(buf, size, "%s", s->heads[n % HEADS_MAX]);
	pthread_mutex_unlock(&s->lock);
}

/* A loopback port nothing listens on (bound, then closed). */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* ---- helpers ---- */

struct env {
	char *v[32];
	size_t n;
};

static void env_add(struct env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void env_add(struct env *e, const char *fmt, ...)
{
	va_list ap;

	assert_true(e->n < 31);
	va_start(ap, fmt);
	assert_true(vasprintf(&e->v[e->n++], fmt, ap) > 0);
	va_end(ap);
	e->v[e->n] = NULL;
}

static void env_free(struct env *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	e->n = 0;
}

/* The endpoints' JSON for key, expiring at exp (unix seconds). */
static const char *creds_json(char *buf, size_t size, const char *key, int64_t exp)
{
	char when[32];
	time_t t = (time_t)exp;
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	snprintf(buf, size,
		 "{\"Code\":\"Success\",\"LastUpdated\":\"2026-12-01T09:00:00Z\",\"Type\":\"AWS-HMAC\","
		 "\"AccessKeyId\":\"%s\",\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" SESSION "\","
		 "\"Expiration\":\"%s\"}", key, when);
	return buf;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int get(struct aws_creds *c, struct aws_credentials *out, char *err, size_t size)
{
	static atomic_bool no_stop;
	int r = aws_creds__get(c, &no_stop, out, err, size);

	if (getenv("TEST_VERBOSE"))
		print_message("aws_creds__get: %d \"%s\"\n", r, err);
	return r;
}

/* ---- ISO 8601 ---- */

static void test_time(void **state)
{
	int64_t t = -1;

	assert_int_equal(aws_creds_parse_time("2026-12-01T10:15:00Z", &t), 0);
	assert_int_equal(t, 1796120100);
	assert_int_equal(aws_creds_parse_time("2026-12-01T10:15:00+00:00", &t), 0);
	assert_int_equal(t, 1796120100);
	assert_int_equal(aws_creds_parse_time("2026-12-01T10:15:00.123Z", &t), 0);
	assert_int_equal(t, 1796120100);
	assert_int_equal(aws_creds_parse_time("2026-12-01T10:15:00.123456789+00:00", &t), 0);
	assert_int_equal(t, 1796120100);
	assert_int_equal(aws_creds_parse_time("2026-12-01T11:15:00+01:00", &t), 0);
	assert_int_equal(t, 1796120100);
	assert_int_equal(aws_creds_parse_time("2026-12-01T05:45:00-04:30", &t), 0);
	assert_int_equal(t, 1796120100);
	assert_int_equal(aws_creds_parse_time("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(aws_creds_parse_time("2024-02-29T00:00:00Z", &t), 0);
	assert_int_equal(aws_creds_parse_time("2016-12-31T23:59:60Z", &t), 0);   /* a leap second */
	assert_int_equal(t, 1483228800);

	static const char *const bad[] = {
		"", "garbage", "2026-12-01", "2026-12-01T10:15:00", "2026-12-01 10:15:00Z", "2026-12-01t10:15:00z",
		"2026-12-01T10:15Z", "2026-12-01T10:15:00.Z", "2026-12-01T10:15:00.1234567890Z",
		"2026-12-01T10:15:00ZZ", "2026-12-01T10:15:00Z ", " 2026-12-01T10:15:00Z", "2026-12-01T10:15:00+0000",
		"2026-12-01T10:15:00+00", "2026-12-01T10:15:00+24:00", "2026-13-01T10:15:00Z", "2026-00-01T10:15:00Z",
		"2026-02-29T10:15:00Z", "2026-04-31T10:15:00Z", "2026-12-00T10:15:00Z", "2026-12-01T24:00:00Z",
		"2026-12-01T10:60:00Z", "2026-12-01T10:15:61Z", "1969-12-31T23:59:59Z", "+2026-12-01T10:15:00Z",
		"2026-1-01T10:15:00Z", "２026-12-01T10:15:00Z", "2026-12-01T10:15:00\nZ", "1796120100",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (aws_creds_parse_time(bad[i], &t) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(aws_creds_parse_time(NULL, &t), -EINVAL);
}

/* ---- the shared file ---- */

static int parse_shared(const char *text, const char *profile, struct aws_credentials *out, char *err, size_t size)
{
	return aws_creds_parse_shared_file(text, strlen(text), profile, out, err, size);
}

static void test_shared_file(void **state)
{
	struct aws_credentials out;
	char err[256], *big;
	const char *text = "# the operator's file\n"
			   "; another comment\n"
			   "\n"
			   "[default]\n"
			   "aws_access_key_id=" KEY_A "\n"
			   "aws_secret_access_key=" SECRET "\n"
			   "region = eu-west-1\n"
			   "  [ prod ]   # production\n"
			   "   AWS_ACCESS_KEY_ID   =   " KEY_B "   \n"
			   "\taws_secret_access_key\t=\t" SECRET "\n"
			   "aws_session_token = " SESSION "\n"
			   "[empty]\n"
			   "region = us-east-1\n";

	assert_int_equal(parse_shared(text, "default", &out, err, sizeof(err)), 0);
	assert_string_equal(out.access_key_id, KEY_A);
	assert_string_equal(out.secret_access_key, SECRET);
	assert_string_equal(out.session_token, "");
	assert_int_equal(out.expires_at, 0);
	assert_string_equal(out.source, "shared-file");

	assert_int_equal(parse_shared(text, "prod", &out, err, sizeof(err)), 0);
	assert_string_equal(out.access_key_id, KEY_B);
	assert_string_equal(out.secret_access_key, SECRET);
	assert_string_equal(out.session_token, SESSION);

	/* Missing: the profile, or both keys (falls through); one key alone (an error). */
	assert_int_equal(parse_shared(text, "staging", &out, err, sizeof(err)), -ENOKEY);
	assert_non_null(strstr(err, "no profile [staging]"));
	assert_int_equal(parse_shared(text, "empty", &out, err, sizeof(err)), -ENOKEY);
	assert_int_equal(parse_shared("", "default", &out, err, sizeof(err)), -ENOKEY);
	assert_int_equal(parse_shared("[default]\naws_access_key_id = " KEY_A "\n", "default", &out, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "has aws_access_key_id but no aws_secret_access_key"));
	assert_int_equal(parse_shared("[default]\naws_access_key_id =\naws_secret_access_key = " SECRET "\n", "default",
				      &out, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "has aws_secret_access_key but no aws_access_key_id"));
	assert_null(strstr(err, SECRET));

	/* CRLF, no newline at the end. */
	assert_int_equal(parse_shared("[default]\r\naws_access_key_id = " KEY_A "\r\naws_secret_access_key = " SECRET
				      "\r\naws_session_token=" SESSION, "default", &out, err, sizeof(err)), 0);
	assert_string_equal(out.access_key_id, KEY_A);
	assert_string_equal(out.secret_access_key, SECRET);
	assert_string_equal(out.session_token, SESSION);

	/* Duplicates: the profile twice, a key twice in it; elsewhere they do not matter. */
	assert_int_equal(parse_shared("[default]\naws_access_key_id = " KEY_A "\n[other]\n[default]\n"
				      "aws_secret_access_key = " SECRET "\n", "default", &out, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "line 4: profile [default] again (first at line 1)"));
	assert_int_equal(parse_shared("[default]\naws_access_key_id = " KEY_A "\naws_access_key_id = " KEY_B "\n",
				      "default", &out, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "line 3: aws_access_key_id again"));
	assert_null(strstr(err, KEY_B));
	assert_int_equal(parse_shared("[x]\na=1\n[x]\na=2\n[default]\naws_access_key_id = " KEY_A
				      "\naws_secret_access_key = " SECRET "\n", "default", &out, err, sizeof(err)), 0);

	/* Malformed anywhere. */
	assert_int_equal(parse_shared("aws_access_key_id = " KEY_A "\n[default]\n", "default", &out, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "line 1: a key before any [section]"));
	assert_int_equal(parse_shared("[default\n", "default", &out, err, sizeof(err)), -EBADMSG);
	assert_int_equal(parse_shared("[]\n", "default", &out, err, sizeof(err)), -EBADMSG);
	assert_int_equal(parse_shared("[default] x\n", "default", &out, err, sizeof(err)), -EBADMSG);
	assert_int_equal(parse_shared("[default]\njust words\n", "default", &out, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "line 2: neither"));
	assert_int_equal(parse_shared("[default]\n = x\n", "default", &out, err, sizeof(err)), -EBADMSG);
	assert_int_equal(aws_creds_parse_shared_file("[default]\0\n", 11, "default", &out, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "NUL"));

	/* Values that cannot be keys. */
	assert_int_equal(parse_shared("[default]\naws_access_key_id = akia,aaaaaaaaaaaaaaa\naws_secret_access_key = "
				      SECRET "\n", "default", &out, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "line 2: aws_access_key_id has a character other than A-Z, a-z, 0-9 and -_.~@"));
	/* S3-compatible servers' keys: MinIO's default, s3rver's. */
	assert_int_equal(parse_shared("[default]\naws_access_key_id = minioadmin\naws_secret_access_key = "
				      SECRET "\n", "default", &out, err, sizeof(err)), 0);
	assert_string_equal(out.access_key_id, "minioadmin");
	assert_int_equal(parse_shared("[default]\naws_access_key_id = " KEY_A "\naws_secret_access_key = "
				      "wJalr XUtn # a comment?\n", "default", &out, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "line 3: aws_secret_access_key has a control character"));
	assert_int_equal(parse_shared("[default]\naws_access_key_id = " KEY_A "\naws_secret_access_key = a\x01z\n",
				      "default", &out, err, sizeof(err)), -EBADMSG);

	/* Huge lines: a token too long for the struct; a long comment elsewhere is fine. */
	big = malloc(60000);
	assert_non_null(big);
	snprintf(big, 60000, "[default]\naws_access_key_id = " KEY_A "\naws_secret_access_key = " SECRET
		 "\naws_session_token = %04097d", 0);
	assert_int_equal(parse_shared(big, "default", &out, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "line 4: aws_session_token is longer than 4096 bytes"));
	/* 4096 bytes fit exactly. */
	big[strlen(big) - 1] = '\0';
	assert_int_equal(parse_shared(big, "default", &out, err, sizeof(err)), 0);
	assert_int_equal(strlen(out.session_token), 4096);
	snprintf(big, 60000, "# %0*d\n[default]\naws_access_key_id = " KEY_A "\naws_secret_access_key = " SECRET "\n",
		 50000, 0);
	assert_int_equal(parse_shared(big, "default", &out, err, sizeof(err)), 0);
	snprintf(big, 60000, "[default]\naws_access_key_id = " KEY_A "%0*d\naws_secret_access_key = " SECRET "\n",
		 200, 0);
	assert_int_equal(parse_shared(big, "default", &out, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "longer than 128"));
	free(big);
}

/* ---- the endpoints' JSON ---- */

static int parse_json(const char *body, enum aws_creds_source src, struct aws_credentials *out, char *err,
		      size_t size)
{
	return aws_creds_parse_json(body, strlen(body), src, 1700000000, out, err, size);
}

static void test_json(void **state)
{
	struct aws_credentials out;
	char err[256], body[8192], *big;
	int64_t exp = 1796120100;

	creds_json(body, sizeof(body), KEY_C, exp);
	assert_int_equal(parse_json(body, AWS_CREDS_IMDS, &out, err, sizeof(err)), 0);
	assert_string_equal(out.access_key_id, KEY_C);
	assert_string_equal(out.secret_access_key, SECRET);
	assert_string_equal(out.session_token, SESSION);
	assert_int_equal(out.expires_at, exp);
	assert_string_equal(out.source, "imds");
	assert_int_equal(parse_json(body, AWS_CREDS_CONTAINER, &out, err, sizeof(err)), 0);
	assert_string_equal(out.source, "container");

	/* Expiration's forms. */
	static const char *const forms[] = { "2026-12-01T10:15:00Z", "2026-12-01T10:15:00+00:00",
					     "2026-12-01T10:15:00.000Z", "2026-12-01T11:15:00.5+01:00" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(body, sizeof(body), "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET "\","
			 "\"Token\":\"" SESSION "\",\"Expiration\":\"%s\"}", forms[i]);
		assert_int_equal(parse_json(body, AWS_CREDS_CONTAINER, &out, err, sizeof(err)), 0);
		assert_int_equal(out.expires_at, exp);
	}

	/* Container: Token may be absent. IMDS: Token and "Code":"Success" are required. */
	const char *no_token = "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET "\","
			       "\"Expiration\":\"2026-12-01T10:15:00Z\"}";
	assert_int_equal(parse_json(no_token, AWS_CREDS_CONTAINER, &out, err, sizeof(err)), 0);
	assert_string_equal(out.session_token, "");
	assert_int_equal(parse_json(no_token, AWS_CREDS_IMDS, &out, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "imds: Code is missing");
	assert_int_equal(parse_json("{\"Code\":\"Success\",\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET
				    "\",\"Expiration\":\"2026-12-01T10:15:00Z\"}", AWS_CREDS_IMDS, &out, err, sizeof(err)),
			 -EBADMSG);
	assert_string_equal(err, "imds: Token is missing");

	static const struct {
		const char *body;
		const char *err;
	} bad[] = {
		{ "", "container: the answer is not JSON" },
		{ "{garbage", "container: the answer is not JSON" },
		{ "[1,2]", "container: the answer is not a JSON object" },
		{ "\"" SECRET "\"", "container: the answer is not a JSON object" },
		{ "{\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"x\",\"Expiration\":\"2026-12-01T10:15:00Z\"}",
		  "container: AccessKeyId is missing" },
		{ "{\"AccessKeyId\":\"" KEY_C "\",\"Token\":\"x\",\"Expiration\":\"2026-12-01T10:15:00Z\"}",
		  "container: SecretAccessKey is missing" },
		{ "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET "\"}", "container: Expiration is missing" },
		{ "{\"AccessKeyId\":42,\"SecretAccessKey\":\"" SECRET "\",\"Expiration\":\"2026-12-01T10:15:00Z\"}",
		  "container: AccessKeyId is not a string" },
		{ "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":null,\"Expiration\":\"2026-12-01T10:15:00Z\"}",
		  "container: SecretAccessKey is not a string" },
		{ "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET "\",\"Token\":[\"" SESSION "\"],"
		  "\"Expiration\":\"2026-12-01T10:15:00Z\"}", "container: Token is not a string" },
		{ "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET "\",\"Expiration\":1796120100}",
		  "container: Expiration is not a string" },
		{ "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET "\",\"Expiration\":\"tomorrow\"}",
		  "container: Expiration is not an ISO 8601 time" },
		{ "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET "\",\"Expiration\":\"2026-12-01T10:15:00\"}",
		  "container: Expiration is not an ISO 8601 time" },
		{ "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET "\",\"Expiration\":\"2020-01-01T00:00:00Z\"}",
		  "container: Expiration is already past" },
		{ "{\"AccessKeyId\":\"ASIA/cccccccccccccc\",\"SecretAccessKey\":\"" SECRET "\","
		  "\"Expiration\":\"2026-12-01T10:15:00Z\"}",
		  "container: AccessKeyId has a character other than A-Z, a-z, 0-9 and -_.~@" },
		{ "{\"AccessKeyId\":\"AS\",\"SecretAccessKey\":\"" SECRET "\",\"Expiration\":\"2026-12-01T10:15:00Z\"}",
		  "container: AccessKeyId is shorter than 3 characters" },
		{ "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"\",\"Expiration\":\"2026-12-01T10:15:00Z\"}",
		  "container: SecretAccessKey is empty" },
		{ "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET "\\n\",\"Expiration\":\"2026-12-01T10:15:00Z\"}",
		  "container: SecretAccessKey has a control character, a space or a byte outside ASCII" },
		{ "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" SESSION "\\u0007\","
		  "\"Expiration\":\"2026-12-01T10:15:00Z\"}",
		  "container: Token has a control character, a space or a byte outside ASCII" },
		{ "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" SESSION "\\u0000tail\","
		  "\"Expiration\":\"2026-12-01T10:15:00Z\"}", "container: a \\u0000 in the answer" },
		{ "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET "\x01\",\"Expiration\":\"2026-12-01T10:15:00Z\"}",
		  "container: a control character in the answer" },
		{ "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET "\",\"SecretAccessKey\":\"other\","
		  "\"Expiration\":\"2026-12-01T10:15:00Z\"}", "container: SecretAccessKey is given twice" },
		{ "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"s\u00e9cret\",\"Expiration\":\"2026-12-01T10:15:00Z\"}",
		  "container: SecretAccessKey has a control character, a space or a byte outside ASCII" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse_json(bad[i].body, AWS_CREDS_CONTAINER, &out, err, sizeof(err));

		if (r != -EBADMSG || strcmp(err, bad[i].err))
			fail_msg("case %zu: %d \"%s\", wanted \"%s\"", i, r, err, bad[i].err);
		assert_null(strstr(err, SECRET));
		assert_null(strstr(err, SESSION));
		assert_string_equal(out.access_key_id, "");
	}

	/* IMDS: Code. */
	snprintf(body, sizeof(body), "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"AccessKeyId\":\"" KEY_C "\","
		 "\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" SESSION "\",\"Expiration\":\"2026-12-01T10:15:00Z\"}");
	assert_int_equal(parse_json(body, AWS_CREDS_IMDS, &out, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "imds: Code is not \"Success\"");
	assert_int_equal(parse_json(no_token, AWS_CREDS_IMDS, &out, err, sizeof(err)), -EBADMSG);

	/* Too long for the struct: a key of 129, a token of 4097 (4096 fits). */
	big = malloc(HTTP_BODY_MAX + 2);
	assert_non_null(big);
	snprintf(big, HTTP_BODY_MAX, "{\"AccessKeyId\":\"%0129d\",\"SecretAccessKey\":\"" SECRET "\","
		 "\"Expiration\":\"2026-12-01T10:15:00Z\"}", 0);
	assert_int_equal(parse_json(big, AWS_CREDS_CONTAINER, &out, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "container: AccessKeyId is longer than 128 bytes");
	snprintf(big, HTTP_BODY_MAX, "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET "\","
		 "\"Token\":\"%04097d\",\"Expiration\":\"2026-12-01T10:15:00Z\"}", 0);
	assert_int_equal(parse_json(big, AWS_CREDS_CONTAINER, &out, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "container: Token is longer than 4096 bytes");
	snprintf(big, HTTP_BODY_MAX, "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\"" SECRET "\","
		 "\"Token\":\"%04096d\",\"Expiration\":\"2026-12-01T10:15:00Z\"}", 0);
	assert_int_equal(parse_json(big, AWS_CREDS_CONTAINER, &out, err, sizeof(err)), 0);
	assert_int_equal(strlen(out.session_token), 4096);
	/* Oversized: more than an answer may hold. */
	memset(big, ' ', HTTP_BODY_MAX + 1);
	big[0] = '{';
	big[HTTP_BODY_MAX] = '}';
	assert_int_equal(aws_creds_parse_json(big, HTTP_BODY_MAX + 1, AWS_CREDS_IMDS, 0, &out, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "longer than"));
	free(big);

	/* Only the endpoints' sources. */
	assert_int_equal(parse_json(body, AWS_CREDS_ENVIRONMENT, &out, err, sizeof(err)), -EINVAL);
}

/* ---- FULL_URI's hosts ---- */

static void test_uri_allowed(void **state)
{
	static const char *const ok[] = {
		"https://example.com/creds", "https://10.0.0.1:8443/x", "http://127.0.0.1/creds",
		"http://127.0.0.1:51679/creds", "http://127.1.2.3/", "http://[::1]:8080/creds", "http://localhost/creds",
		"http://LOCALHOST:80/", "http://169.254.170.2/v2/credentials/abc", "http://169.254.170.23/v1/credentials",
		"http://[fd00:ec2::23]/v1/credentials", "http://[fd00:0ec2:0::0023]/", "http://[::ffff:127.0.0.1]/",
		"HTTP://127.0.0.1/", "http://user@169.254.170.2/",
	};
	static const char *const refused[] = {
		"http://169.254.170.3/", "http://169.254.169.254/latest/meta-data/", "http://example.com/creds",
		"http://127.0.0.1.nip.io/", "http://localhost.example.com/", "http://10.0.0.1/",
		"http://[fd00:ec2::24]/", "http://[::2]/", "http://169.254.170.2@evil.example/",
		"http://[::ffff:10.0.0.1]/", "http://0.0.0.0/",
	};
	static const char *const invalid[] = {
		"", "ftp://127.0.0.1/", "file:///etc/passwd", "127.0.0.1/creds", "gopher://127.0.0.1/",
		"http://", "not a url",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (aws_creds_container_uri_allowed(ok[i]) != 0)
			fail_msg("refused %s", ok[i]);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (aws_creds_container_uri_allowed(refused[i]) != -EPERM)
			fail_msg("did not refuse %s", refused[i]);
	}
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		if (aws_creds_container_uri_allowed(invalid[i]) != -EINVAL)
			fail_msg("took %s for an http(s) URL", invalid[i]);
	}
}

/* ---- the chain, for real ---- */

struct world {
	char *dir;
	char file[4096], token_file[4096];
	struct server *container, *imds;
	struct env env;
};

static int world_setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	void *dir;

	if (!w || fixture_tmpdir_setup(&dir) < 0)
		return -1;
	w->dir = dir;
	fixture_path(w->file, sizeof(w->file), w->dir, "credentials");
	fixture_path(w->token_file, sizeof(w->token_file), w->dir, "token");
	w->container = server_start();
	w->imds = server_start();
	*state = w;
	return 0;
}

static int world_teardown(void **state)
{
	struct world *w = *state;
	void *dir = w->dir;

	server_stop(w->container);
	server_stop(w->imds);
	env_free(&w->env);
	free(w);
	return fixture_tmpdir_teardown(&dir);
}

/* IMDS answering role "inspectd-role" with creds. */
static void imds_routes(struct server *s, const char *creds)
{
	server_route(s, "PUT", "/latest/api/token", 200, "IMDSTOKEN-AQAEAFakeToken==\n");
	server_route(s, "GET", "/latest/meta-data/iam/security-credentials/", 200, "inspectd-role\nsecond-role\n");
	server_route(s, "GET", "/latest/meta-data/iam/security-credentials/inspectd-role", 200, creds);
}

/* HOME at the folder, the endpoints at the servers. */
static void world_env(struct world *w)
{
	env_add(&w->env, "HOME=%s", w->dir);
	env_add(&w->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:%d/creds", w->container->port);
	env_add(&w->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:%d/", w->imds->port);
}

static struct aws_creds *creds_new(struct world *w)
{
	struct aws_creds *c = NULL;

	assert_int_equal(aws_creds__new((const char *const *)w->env.v, &c), 0);
	return c;
}

static void test_order(void **state)
{
	struct world *w = *state;
	struct aws_credentials out;
	struct aws_creds *c;
	char err[512], body[8192], dotaws[4096];
	int64_t exp = time(NULL) + 3600;

	imds_routes(w->imds, creds_json(body, sizeof(body), KEY_D, exp));
	server_route(w->container, "GET", "/creds", 200, creds_json(body, sizeof(body), KEY_C, exp));
	fixture_path(dotaws, sizeof(dotaws), w->dir, ".aws");
	assert_int_equal(mkdir(dotaws, 0700), 0);
	fixture_path(dotaws, sizeof(dotaws), w->dir, ".aws/credentials");
	write_file(dotaws, "[default]\naws_access_key_id = " KEY_B "\naws_secret_access_key = " SECRET "\n");
	world_env(w);

	/* Everything set: the environment wins, nothing asked. */
	env_add(&w->env, "AWS_ACCESS_KEY_ID=" KEY_A);
	env_add(&w->env, "AWS_SECRET_ACCESS_KEY=" SECRET);
	env_add(&w->env, "AWS_SESSION_TOKEN=" SESSION);
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(out.source, "environment");
	assert_string_equal(out.access_key_id, KEY_A);
	assert_string_equal(out.session_token, SESSION);
	assert_int_equal(out.expires_at, 0);
	aws_creds__free(c);

	/* Without it: $HOME/.aws/credentials. */
	env_free(&w->env);
	world_env(w);
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_string_equal(out.source, "shared-file");
	assert_string_equal(out.access_key_id, KEY_B);
	aws_creds__free(c);

	/* AWS_SHARED_CREDENTIALS_FILE and AWS_PROFILE. */
	write_file(w->file, "[default]\n[ci]\naws_access_key_id = " KEY_A "\naws_secret_access_key = " SECRET "\n");
	env_add(&w->env, "AWS_SHARED_CREDENTIALS_FILE=%s", w->file);
	env_add(&w->env, "AWS_PROFILE=ci");
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_string_equal(out.source, "shared-file");
	assert_string_equal(out.access_key_id, KEY_A);
	aws_creds__free(c);
	assert_int_equal(server_requests(w->container), 0);
	assert_int_equal(server_requests(w->imds), 0);

	/* A profile without keys: the container endpoint. */
	env_free(&w->env);
	world_env(w);
	env_add(&w->env, "AWS_SHARED_CREDENTIALS_FILE=%s", w->file);
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_string_equal(out.source, "container");
	assert_string_equal(out.access_key_id, KEY_C);
	assert_string_equal(out.session_token, SESSION);
	assert_int_equal(out.expires_at, exp);
	aws_creds__free(c);
	assert_int_equal(server_requests(w->container), 1);
	assert_int_equal(server_requests(w->imds), 0);

	/* No file, no container endpoint: IMDS, its three requests. */
	assert_int_equal(unlink(dotaws), 0);
	env_free(&w->env);
	env_add(&w->env, "HOME=%s", w->dir);
	env_add(&w->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:%d/", w->imds->port);
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_string_equal(out.source, "imds");
	assert_string_equal(out.access_key_id, KEY_D);
	assert_int_equal(out.expires_at, exp);
	assert_int_equal(server_requests(w->imds), 3);
	server_head(w->imds, 0, body, sizeof(body));
	assert_true(strncmp(body, "PUT /latest/api/token HTTP/1.1\r\n", 32) == 0);
	assert_non_null(strcasestr(body, "\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\n"));
	assert_null(strcasestr(body, "\r\nContent-Type:"));
	server_head(w->imds, 1, body, sizeof(body));
	assert_true(strncmp(body, "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\n", 58) == 0);
	assert_non_null(strcasestr(body, "\r\nX-aws-ec2-metadata-token: IMDSTOKEN-AQAEAFakeToken==\r\n"));
	server_head(w->imds, 2, body, sizeof(body));
	assert_true(strncmp(body, "GET /latest/meta-data/iam/security-credentials/inspectd-role HTTP/1.1\r\n", 70) == 0);
	assert_non_null(strcasestr(body, "\r\nX-aws-ec2-metadata-token: IMDSTOKEN-AQAEAFakeToken==\r\n"));
	/* Cached: valid for an hour. */
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_int_equal(server_requests(w->imds), 3);
	aws_creds__free(c);

	/* IMDS disabled: none found, nothing asked. */
	env_add(&w->env, "AWS_EC2_METADATA_DISABLED=true");
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), -ENOKEY);
	assert_non_null(strstr(err, "no AWS credentials"));
	assert_non_null(strstr(err, "imds: disabled"));
	assert_string_equal(out.access_key_id, "");
	aws_creds__free(c);
	assert_int_equal(server_requests(w->imds), 3);

	/* Not on EC2 (nothing listens): none found, at once. */
	env_free(&w->env);
	env_add(&w->env, "HOME=%s", w->dir);
	env_add(&w->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:%d", closed_port());
	c = creds_new(w);
	double t0 = now_s();
	assert_int_equal(get(c, &out, err, sizeof(err)), -ENOKEY);
	assert_true(now_s() - t0 < 1.0);
	assert_non_null(strstr(err, "imds: not reachable"));
	aws_creds__free(c);
}

static void test_config_errors(void **state)
{
	struct world *w = *state;
	struct aws_credentials out;
	struct aws_creds *c;
	char err[512];

	/* One of the pair: said, not a fall through. */
	world_env(w);
	env_add(&w->env, "AWS_ACCESS_KEY_ID=" KEY_A);
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
	aws_creds__free(c);
	env_free(&w->env);
	world_env(w);
	env_add(&w->env, "AWS_SECRET_ACCESS_KEY=" SECRET);
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "environment: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
	aws_creds__free(c);

	/* A malformed file: an error, not a fall through; its path and line said. */
	env_free(&w->env);
	world_env(w);
	env_add(&w->env, "AWS_SHARED_CREDENTIALS_FILE=%s", w->file);
	write_file(w->file, "[default]\naws_access_key_id " KEY_A "\n");
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "shared-file: line 2: neither"));
	assert_non_null(strstr(err, w->file));
	aws_creds__free(c);
	/* Not a regular file. */
	env_free(&w->env);
	world_env(w);
	env_add(&w->env, "AWS_SHARED_CREDENTIALS_FILE=%s", w->dir);
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "not a regular file"));
	aws_creds__free(c);
	/* Larger than 64 KiB. */
	{
		char *big = malloc(70000);

		assert_non_null(big);
		memset(big, '#', 69999);
		big[69999] = '\0';
		write_file(w->file, big);
		free(big);
	}
	env_free(&w->env);
	world_env(w);
	env_add(&w->env, "AWS_SHARED_CREDENTIALS_FILE=%s", w->file);
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "larger than 65536"));
	aws_creds__free(c);
	/* AWS_PROFILE names a profile that is not there. */
	write_file(w->file, "[default]\naws_access_key_id = " KEY_A "\naws_secret_access_key = " SECRET "\n");
	env_add(&w->env, "AWS_PROFILE=prod");
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "AWS_PROFILE=prod gives no keys"));
	aws_creds__free(c);

	/* FULL_URI to a host not allowed: refused, never asked. */
	env_free(&w->env);
	env_add(&w->env, "HOME=%s", w->dir);
	env_add(&w->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.1:%d/creds", w->container->port);
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "container: AWS_CONTAINER_CREDENTIALS_FULL_URI: http only to"));
	aws_creds__free(c);
	assert_int_equal(server_requests(w->container), 0);
	assert_int_equal(server_requests(w->imds), 0);
}

static void test_container_token(void **state)
{
	struct world *w = *state;
	struct aws_credentials out;
	struct aws_creds *c;
	char err[512], body[8192];

	/* Expiring within 5 minutes: every get fetches again, and reads the token file again. */
	server_route(w->container, "GET", "/creds", 200, creds_json(body, sizeof(body), KEY_C, time(NULL) + 240));
	world_env(w);
	env_add(&w->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=%s", w->token_file);
	env_add(&w->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN=from-the-environment");
	write_file(w->token_file, "eks-pod-identity-token-1\n");
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_string_equal(out.source, "container");
	server_head(w->container, 0, body, sizeof(body));
	assert_non_null(strstr(body, "\r\nAuthorization: eks-pod-identity-token-1\r\n"));
	write_file(w->token_file, "eks-pod-identity-token-2\r\n");
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_int_equal(server_requests(w->container), 2);
	server_head(w->container, 1, body, sizeof(body));
	assert_non_null(strstr(body, "\r\nAuthorization: eks-pod-identity-token-2\r\n"));

	/* A token with a line break inside: refused, never sent. */
	write_file(w->token_file, "eks-token\r\nX-Injected: 1\n");
	aws_creds__free(c);
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "has a control character"));
	assert_null(strstr(err, "eks-token"));
	assert_int_equal(server_requests(w->container), 2);
	aws_creds__free(c);

	/* Without the file: the environment's token. */
	env_free(&w->env);
	world_env(w);
	env_add(&w->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN=from-the-environment");
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	server_head(w->container, 2, body, sizeof(body));
	assert_non_null(strstr(body, "\r\nAuthorization: from-the-environment\r\n"));
	aws_creds__free(c);
}

static void test_refresh(void **state)
{
	struct world *w = *state;
	struct aws_credentials out;
	struct aws_creds *c;
	char err[512], body[8192];

	world_env(w);
	c = creds_new(w);

	/* Valid for an hour: cached. */
	server_route(w->container, "GET", "/creds", 200, creds_json(body, sizeof(body), KEY_A, time(NULL) + 3600));
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_string_equal(out.access_key_id, KEY_A);
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_int_equal(server_requests(w->container), 1);
	aws_creds__free(c);

	/* Expiring within 5 minutes: fetched again, the new set returned. */
	c = creds_new(w);
	server_route(w->container, "GET", "/creds", 200, creds_json(body, sizeof(body), KEY_A, time(NULL) + 240));
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_string_equal(out.access_key_id, KEY_A);
	server_route(w->container, "GET", "/creds", 200, creds_json(body, sizeof(body), KEY_B, time(NULL) + 3600));
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_string_equal(out.access_key_id, KEY_B);
	assert_int_equal(server_requests(w->container), 3);
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_int_equal(server_requests(w->container), 3);
	aws_creds__free(c);

	/* A failed refresh while the old set is valid: the old set, no error; not asked again
	 * before AWS_CREDS_RETRY_SECONDS. */
	c = creds_new(w);
	server_route(w->container, "GET", "/creds", 200, creds_json(body, sizeof(body), KEY_A, time(NULL) + 240));
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	server_route(w->container, "GET", "/creds", 500, "{\"code\":\"InternalError\"}");
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(out.access_key_id, KEY_A);
	assert_int_equal(server_requests(w->container), 5);
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_string_equal(out.access_key_id, KEY_A);
	assert_int_equal(server_requests(w->container), 5);
	aws_creds__free(c);

	/* Garbage once the old set has expired: the error, said. */
	c = creds_new(w);
	server_route(w->container, "GET", "/creds", 200, creds_json(body, sizeof(body), KEY_A, time(NULL) + 2));
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	server_route(w->container, "GET", "/creds", 200, "{\"AccessKeyId\":\"" KEY_B "\",\"SecretAccessKey\":\""
		     SECRET "\",\"Expiration\":\"soon\"}");
	sleep(3);
	assert_int_equal(get(c, &out, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "container: Expiration is not an ISO 8601 time");
	assert_string_equal(out.access_key_id, "");
	assert_int_equal(server_requests(w->container), 7);
	/* Not JSON at all. */
	server_route(w->container, "GET", "/creds", 200, "<html><body>captive portal</body></html>");
	assert_int_equal(get(c, &out, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "container: the answer is not JSON");
	/* HTTP errors and oversized answers. */
	server_route(w->container, "GET", "/creds", 403, "{\"code\":\"AccessDenied\"}");
	assert_int_equal(get(c, &out, err, sizeof(err)), -EIO);
	assert_string_equal(err, "container: HTTP 403");
	{
		char *big = malloc(HTTP_BODY_MAX + 100);

		assert_non_null(big);
		memset(big, ' ', HTTP_BODY_MAX + 99);
		big[HTTP_BODY_MAX + 99] = '\0';
		big[0] = '{';
		server_route(w->container, "GET", "/creds", 200, big);
		free(big);
	}
	assert_int_equal(get(c, &out, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "container: the answer is longer than 65536 bytes");
	aws_creds__free(c);
}

static void test_file_changes(void **state)
{
	struct world *w = *state;
	const char *a = "[default]\naws_access_key_id = " KEY_A "\naws_secret_access_key = " SECRET "\n";
	const char *b = "[default]\naws_access_key_id = " KEY_B "\naws_secret_access_key = " SECRET "\n";
	struct timespec times[2] = { { .tv_sec = 1700000000 }, { .tv_sec = 1700000000 } };
	struct aws_credentials out;
	struct aws_creds *c;
	char err[512];

	write_file(w->file, a);
	assert_int_equal(utimensat(AT_FDCWD, w->file, times, 0), 0);
	world_env(w);
	env_add(&w->env, "AWS_SHARED_CREDENTIALS_FILE=%s", w->file);
	c = creds_new(w);
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_string_equal(out.access_key_id, KEY_A);

	/* Rewritten in place, same size, its mtime put back: not read again (a stat only). */
	write_file(w->file, b);
	assert_int_equal(utimensat(AT_FDCWD, w->file, times, 0), 0);
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_string_equal(out.access_key_id, KEY_A);

	/* Its mtime changes: read again. */
	times[1].tv_sec++;
	assert_int_equal(utimensat(AT_FDCWD, w->file, times, 0), 0);
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_string_equal(out.access_key_id, KEY_B);

	/* Removed: the chain walks on, to the container endpoint. */
	server_route(w->container, "GET", "/creds", 200, "{\"AccessKeyId\":\"" KEY_C "\",\"SecretAccessKey\":\""
		     SECRET "\",\"Expiration\":\"9999-12-31T23:59:59Z\"}");
	assert_int_equal(unlink(w->file), 0);
	assert_int_equal(get(c, &out, err, sizeof(err)), 0);
	assert_string_equal(out.source, "container");
	assert_string_equal(out.access_key_id, KEY_C);
	aws_creds__free(c);
}

static void test_imds_hostile(void **state)
{
	struct world *w = *state;
	struct aws_credentials out;
	struct aws_creds *c;
	char err[512], body[8192];
	double t0;

	env_add(&w->env, "HOME=%s", w->dir);
	env_add(&w->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:%d", w->imds->port);
	c = creds_new(w);

	/* No role attached. */
	imds_routes(w->imds, creds_json(body, sizeof(body), KEY_D, time(NULL) + 3600));
	server_route(w->imds, "GET", "/latest/meta-data/iam/security-credentials/", 404, "");
	assert_int_equal(get(c, &out, err, sizeof(err)), -ENOKEY);
	assert_non_null(strstr(err, "imds: no IAM role attached"));
	/* A role name that is not one. */
	server_route(w->imds, "GET", "/latest/meta-data/iam/security-credentials/", 200, "../../user-data\n");
	assert_int_equal(get(c, &out, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "imds: the role's name has a character other than"));
	server_route(w->imds, "GET", "/latest/meta-data/iam/security-credentials/", 200, "");
	assert_int_equal(get(c, &out, err, sizeof(err)), -EBADMSG);
	/* "Code" other than Success. */
	imds_routes(w->imds, "{\"Code\":\"Failure\",\"Message\":\"no\"}");
	assert_int_equal(get(c, &out, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "imds: Code is not \"Success\"");
	/* IMDSv1 only (the token PUT refused). */
	server_route(w->imds, "PUT", "/latest/api/token", 403, "");
	assert_int_equal(get(c, &out, err, sizeof(err)), -EIO);
	assert_string_equal(err, "imds: token: HTTP 403");
	/* A token with a control character. */
	server_route(w->imds, "PUT", "/latest/api/token", 200, "IMDSTOKEN\x01" "en");
	assert_int_equal(get(c, &out, err, sizeof(err)), -EBADMSG);
	assert_null(strstr(err, "IMDSTOKEN"));

	/* The token request hangs: -ETIMEDOUT within the 3 s of the walk. */
	server_route(w->imds, "PUT", "/latest/api/token", 0, NULL);
	t0 = now_s();
	assert_int_equal(get(c, &out, err, sizeof(err)), -ETIMEDOUT);
	assert_true(now_s() - t0 > 2.5 && now_s() - t0 < 4.0);
	assert_non_null(strstr(err, "imds: token:"));
	/* The role request hangs: the same 3 s in all, not 3 s more. */
	imds_routes(w->imds, creds_json(body, sizeof(body), KEY_D, time(NULL) + 3600));
	server_route(w->imds, "GET", "/latest/meta-data/iam/security-credentials/", 0, NULL);
	t0 = now_s();
	assert_int_equal(get(c, &out, err, sizeof(err)), -ETIMEDOUT);
	assert_true(now_s() - t0 > 2.5 && now_s() - t0 < 4.0);
	assert_non_null(strstr(err, "imds: role:"));
	aws_creds__free(c);
}

struct stopper {
	atomic_bool *stop;
	int after_ms;
};

static void *stop_later(void *arg)
{
	struct stopper *s = arg;

	usleep((useconds_t)s->after_ms * 1000);
	atomic_store(s->stop, true);
	return NULL;
}

static void test_hang_and_stop(void **state)
{
	struct world *w = *state;
	struct aws_credentials out;
	struct aws_creds *c;
	atomic_bool stop = false;
	struct stopper st = { &stop, 300 };
	pthread_t t;
	char err[512];
	double t0;

	/* The container endpoint hangs: -ETIMEDOUT after its 5 s. */
	server_route(w->container, "GET", "/creds", 0, NULL);
	world_env(w);
	c = creds_new(w);
	t0 = now_s();
	assert_int_equal(aws_creds__get(c, &stop, &out, err, sizeof(err)), -ETIMEDOUT);
	assert_true(now_s() - t0 > 4.5 && now_s() - t0 < 6.5);
	assert_non_null(strstr(err, "container: "));

	/* ... and the stop flag ends the wait: -ECANCELED, soon. */
	assert_int_equal(pthread_create(&t, NULL, stop_later, &st), 0);
	t0 = now_s();
	assert_int_equal(aws_creds__get(c, &stop, &out, err, sizeof(err)), -ECANCELED);
	assert_true(now_s() - t0 < 2.5);
	pthread_join(t, NULL);
	/* Set already: nothing asked. */
	assert_int_equal(aws_creds__get(c, &stop, &out, err, sizeof(err)), -ECANCELED);
	assert_int_equal(server_requests(w->container), 2);
	aws_creds__free(c);
}

static void test_free_null(void **state)
{
	aws_creds__free(NULL);
	assert_string_equal(aws_creds_source_name(AWS_CREDS_IMDS), "imds");
	assert_null(aws_creds_source_name(_AWS_CREDS_SOURCE_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_shared_file),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_uri_allowed),
		cmocka_unit_test_setup_teardown(test_order, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_config_errors, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_container_token, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_refresh, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_file_changes, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_imds_hostile, world_setup, world_teardown),
		cmocka_unit_test_setup_teardown(test_hang_and_stop, world_setup, world_teardown),
		cmocka_unit_test(test_free_null),
	};
	int r;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
