/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What every HTTP transfer of the remote exporters (S3, Pyroscope, the credential
 * endpoints) sets on its libcurl easy handle, in one place: http and https only, never
 * a redirect followed, a connect timeout, a low-speed limit (a server that stalls is a
 * server that failed), no signals, a bounded answer body kept in memory, and a stop flag
 * that aborts the transfer at shutdown. Called on an exporter's own thread, never on the
 * loop. Does not log.
 */
#ifndef INSPECTD_HTTP_H
#define INSPECTD_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <curl/curl.h>

/* The answer's body: the first HTTP_BODY_MAX bytes are kept, the rest counted and dropped. */
#define HTTP_BODY_MAX (64 * 1024)

struct http_body {
	char data[HTTP_BODY_MAX + 1];   /* NUL-terminated */
	size_t len;                     /* kept */
	size_t dropped;                 /* beyond HTTP_BODY_MAX */
	char error[CURL_ERROR_SIZE];    /* libcurl's words for a failed transfer */
};

struct http_limits {
	long connect_timeout_ms;        /* 0: 5000 */
	long total_timeout_ms;          /* 0: none (a 1 GiB upload takes what it takes) */
	long low_speed_bytes;           /* below this many bytes/s ... (0: 1024) */
	long low_speed_seconds;         /* ... for this long, the transfer fails (0: 30) */
};

/*
 * Reset h and set the common options on it: url, the limits (NULL: the defaults), the
 * answer into body (reset), the stop flag (may be NULL). The caller adds its method,
 * headers, upload and credentials, then calls curl_easy_perform().
 * Returns 0, or -EINVAL when libcurl refuses an option (an url it cannot parse).
 */
int http_prepare(CURL *h, const char *url, const struct http_limits *lim, struct http_body *body,
		 const atomic_bool *stop);

/*
 * After curl_easy_perform(): 0 and *status (the HTTP status) when an answer came; else
 * -ECANCELED (stopped), -ETIMEDOUT (connect or low-speed timeout), -ECONNREFUSED,
 * -EHOSTUNREACH (cannot resolve or reach), -ECONNRESET (the connection broke mid-way),
 * -EIO (anything else). why (size bytes) says it in words, from libcurl's error buffer
 * (body->error) when there is one: never a header or a secret.
 */
int http_result(CURL *h, CURLcode rc, const struct http_body *body, long *status, char *why, size_t size);

/* Percent-encode s (len bytes) into out (size bytes, NUL included): s[i] as it is when
 * keep(s, len, i, arg) says so, else %XX (upper case). Returns the length written, or
 * -ENOBUFS. */
int http_percent_encode(const char *s, size_t len, bool (*keep)(const char *s, size_t len, size_t i, void *arg),
			void *arg, char *out, size_t size);

/* Percent-encode s (len bytes) into out: unreserved characters (A-Z a-z 0-9 - . _ ~) as
 * they are, keep_slash: '/' too, everything else %XX (upper case). Returns the length
 * written, or -ENOBUFS when out (size bytes, NUL included) is too small. */
int http_uri_encode(const char *s, size_t len, bool keep_slash, char *out, size_t size);

#endif
