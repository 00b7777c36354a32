// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "curl_lib.h"
#include "http.h"
#include "version.h"

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_body *b = userdata;
	size_t n = size * nmemb, room = HTTP_BODY_MAX - b->len, keep = n < room ? n : room;

	memcpy(b->data + b->len, ptr, keep);
	b->len += keep;
	b->data[b->len] = '\0';
	b->dropped += n - keep;
	return n;
}

static int stop_check(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	const atomic_bool *stop = clientp;

	return stop && atomic_load(stop) ? 1 : 0;       /* non-zero: CURLE_ABORTED_BY_CALLBACK */
}

int http_prepare(CURL *h, const char *url, const struct http_limits *lim, struct http_body *body,
		 const atomic_bool *stop)
{
	struct http_limits l = lim ? *lim : (struct http_limits){ 0 };
	CURLcode rc = CURLE_OK;

	libcurl.easy_reset(h);
	body->len = 0;
	body->dropped = 0;
	body->data[0] = '\0';
	body->error[0] = '\0';
#define SET(opt, val) (rc = rc ? rc : libcurl.easy_setopt(h, opt, val))
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);        /* never followed: a redirect is an answer */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, l.connect_timeout_ms ? l.connect_timeout_ms : 5000L);
	SET(CURLOPT_TIMEOUT_MS, l.total_timeout_ms);
	SET(CURLOPT_LOW_SPEED_LIMIT, l.low_speed_bytes ? l.low_speed_bytes : 1024L);
	SET(CURLOPT_LOW_SPEED_TIME, l.low_speed_seconds ? l.low_speed_seconds : 30L);
	SET(CURLOPT_WRITEFUNCTION, body_write);
	SET(CURLOPT_WRITEDATA, body);
	SET(CURLOPT_ERRORBUFFER, body->error);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, stop_check);
	SET(CURLOPT_XFERINFODATA, (void *)stop);
	SET(CURLOPT_USERAGENT, "inspectd/" INSPECTD_VERSION);
	SET(CURLOPT_MAXREDIRS, 0L);
#undef SET
	return rc == CURLE_OK ? 0 : -EINVAL;
}

int http_result(CURL *h, CURLcode rc, const struct http_body *body, long *status, char *why, size_t size)
{
	const char *words = body->error[0] ? body->error : libcurl.easy_strerror(rc);
	int r;

	if (rc == CURLE_OK) {
		*status = 0;
		libcurl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
		snprintf(why, size, "HTTP %ld", *status);
		return 0;
	}
	switch (rc) {
	case CURLE_ABORTED_BY_CALLBACK:
		r = -ECANCELED;
		words = "stopped";
		break;
	case CURLE_OPERATION_TIMEDOUT:
		r = -ETIMEDOUT;
		break;
	case CURLE_COULDNT_CONNECT:
		r = -ECONNREFUSED;
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		r = -EHOSTUNREACH;
		break;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		r = -ECONNRESET;
		break;
	default:
		r = -EIO;
		break;
	}
	snprintf(why, size, "%s", words);
	return r;
}

int http_percent_encode(const char *s, size_t len, bool (*keep)(const char *s, size_t len, size_t i, void *arg),
			void *arg, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = keep(s, len, i, arg);

		if (o + (plain ? 1 : 3) >= size)
			return -ENOBUFS;
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o >= size)
		return -ENOBUFS;
	out[o] = '\0';
	return (int)o;
}

/* RFC 3986's unreserved characters, and '/' when arg says so. */
static bool unreserved(const char *s, size_t len, size_t i, void *arg)
{
	unsigned char c = (unsigned char)s[i];

	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       c == '_' || c == '~' || (arg && c == '/');
}

int http_uri_encode(const char *s, size_t len, bool keep_slash, char *out, size_t size)
{
	return http_percent_encode(s, len, unreserved, keep_slash ? (void *)1 : NULL, out, size);
}
