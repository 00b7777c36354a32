/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The S3 exporter's pure part: object keys, URLs, user metadata headers, the XML S3
 * answers with (an UploadId, an error's Code and Message), the multipart arithmetic.
 * No I/O, no logging, no allocation. Everything taken from meta.json is peer-influenced
 * text (a pod's or a container's name, an image): bounded and made safe here.
 *
 * libcurl 7.88's CURLOPT_AWS_SIGV4 signs the URL's path and query exactly as they are
 * written (no re-encoding, no sorting, no "=" added): so every URL made here is already
 * canonical as S3 computes it: the key percent-encoded once (RFC 3986 unreserved
 * characters and '/' kept, '+' and ' ' as %2B and %20), query parameters sorted, each
 * with its '=' ("uploads=").
 */
#ifndef INSPECTD_S3_REQUEST_H
#define INSPECTD_S3_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define S3_KEY_MAX              1024            /* S3's limit on a key, in bytes */
#define S3_KEY_PART_MAX         255             /* one component of ours, in bytes */
#define S3_META_MAX             2048            /* S3's limit on user metadata: names + values */
#define S3_PARTS_MAX            10000u
#define S3_PART_MIN             (5ull << 20)    /* every part but the last */
#define S3_PART_MAX             (5ull << 30)
#define S3_PART_DEFAULT         (64ull << 20)
#define S3_OBJECT_MAX           (5ull << 40)
#define S3_URL_MAX              8192
#define S3_ETAG_MAX             128
#define S3_UPLOAD_ID_MAX        1024
#define S3_DESCRIBE_MAX         200             /* an error's Code and Message, printed */

/*
 * One component of a key from text a peer influences: '/', control characters (C0, DEL,
 * C1) and bytes that are not well-formed UTF-8 become '_'; "", "." and ".." become "_";
 * cut at S3_KEY_PART_MAX bytes (and size - 1) without cutting a character. Unicode,
 * spaces and '+' are kept. s NULL: "_". Returns the length written (>= 1), or -ENOBUFS
 * when size < 2.
 */
int s3_key_component(const char *s, char *out, size_t size);

struct s3_key_parts {
	const char *prefix;     /* NULL or "": none; else as configured (may hold '/'), its own
				 * leading and trailing '/' stripped here */
	const char *hostname;
	const char *namespace;  /* NULL or "": "host" */
	const char *workload;   /* the pod, else the container's name, else its id; NULL or "": "host" */
	const char *kind;       /* "heap-profile", "oom-kill" */
	const char *name;       /* the file's name */
};

/*
 * "<prefix>/<hostname>/<namespace>/<workload>/<kind>/<name>", each component but the
 * prefix through s3_key_component(). Returns its length, -ENAMETOOLONG when over
 * S3_KEY_MAX, -ENOBUFS when out (size bytes) is too small.
 */
int s3_object_key(const struct s3_key_parts *p, char *out, size_t size);

struct s3_endpoint {
	char scheme[6];         /* "http", "https" */
	char host[256];         /* "host[:port]", "[::1]:4569" */
	char bucket[64];
	bool path_style;
};

/*
 * endpoint NULL: https://s3.<region>.amazonaws.com; else "http(s)://host[:port]" (one
 * trailing '/' allowed, nothing else after the host). The bucket is S3's: 3 to 63 of
 * [a-z0-9.-], or also [A-Z_] for path-style (legacy buckets); the region [a-z0-9-].
 * 0, -EINVAL.
 */
int s3_endpoint_parse(const char *endpoint, const char *region, const char *bucket, bool path_style,
		      struct s3_endpoint *ret);

/*
 * The object's URL: path-style <scheme>://<host>/<bucket>/<key>, else
 * <scheme>://<bucket>.<host>/<key>; the key through http_uri_encode() ('/' kept); query
 * (NULL or "": none) appended after '?' as given, which must be canonical already (see
 * above). Returns the length, -ENOBUFS.
 */
int s3_object_url(const struct s3_endpoint *e, const char *key, const char *query, char *out, size_t size);

/*
 * A metadata value made safe for any header: printable ASCII (0x20-0x7e) kept but '%',
 * each other byte %XX (upper case); a space that is first, last or after another space
 * %20 too (SigV4 trims and folds spaces in the headers it signs, which would break the
 * signature). Readers decode %XX. Returns the length, -ENOBUFS.
 */
int s3_meta_value_encode(const char *s, char *out, size_t size);

struct s3_meta_field {
	const char *name;       /* lower-case [a-z0-9-], ours: "host", "captured-at" */
	const char *value;      /* NULL or "": the field is left out */
};

/*
 * "x-amz-meta-<name>: <encoded value>" for each field, in order, each line NUL-terminated,
 * one after the other in buf. S3 counts user metadata as the bytes of the names (without
 * "x-amz-meta-") and values: when the next field would take it over S3_META_MAX, that
 * field and every one after it are dropped. Returns the number of lines written, or
 * -ENOBUFS when buf (size bytes) cannot hold them.
 */
int s3_meta_headers(const struct s3_meta_field *f, size_t n, char *buf, size_t size);

/* "application/json" for .json (meta.json, a trace) and V8's JSON documents
 * (.heapprofile, .cpuprofile, .heapsnapshot, .heaptimeline); "application/gzip" for .gz
 * (pprof's .pb.gz, a compressed "heapsnapshot.gz": the object is the gzip file, stored
 * and served as is, not a Content-Encoding a client would undo); else
 * "application/octet-stream". */
const char *s3_content_type(const char *name);

/*
 * The text of the first <tag>...</tag> in xml (len bytes, NUL not needed), entities
 * decoded (&amp; &lt; &gt; &quot; &apos; &#N; &#xN;). 0; -ENOENT: no such element;
 * -EBADMSG: not closed right after its text (markup inside, truncated) or a bad entity;
 * -ENOBUFS: the text does not fit out (size bytes). On -EBADMSG and -ENOBUFS, out holds
 * what was decoded before (a message cut short is still worth printing).
 */
int s3_xml_text(const char *xml, size_t len, const char *tag, char *out, size_t size);

/* Whether xml's root element is <Error> (S3 may answer 200 with one). */
bool s3_xml_is_error(const char *xml, size_t len);

/*
 * "<Code>: <Message>" of an S3 error document, or what there is of it; "" when neither:
 * printable ASCII only (any other byte '?'), at most S3_DESCRIBE_MAX characters.
 */
void s3_error_describe(const char *xml, size_t len, char *out, size_t size);

/* An UploadId from CreateMultipartUpload's answer: non-empty printable ASCII without
 * spaces. 0, -EBADMSG (also when the root is <Error>), -ENOBUFS. */
int s3_upload_id_parse(const char *xml, size_t len, char *out, size_t size);

/*
 * From one response header line (CURLOPT_HEADERFUNCTION's, CRLF and all): when it is
 * ETag, its value, trimmed, quotes kept. 0; -ENOENT: another header; -EBADMSG: empty, too
 * long (S3_ETAG_MAX) or a byte that is not printable ASCII or is one of <>&.
 */
int s3_etag_parse(const char *line, size_t len, char *out, size_t size);

/*
 * The part size for an object of size bytes: part (0: S3_PART_DEFAULT) or, when that
 * makes more than S3_PARTS_MAX parts, the smallest multiple of 1 MiB that does not.
 */
uint64_t s3_part_size(uint64_t size, uint64_t part);
/* How many parts of part bytes size bytes make (at least 1). */
uint64_t s3_part_count(uint64_t size, uint64_t part);

/*
 * CompleteMultipartUpload's body for parts 1..n of these ETags (each S3_ETAG_MAX + 1
 * bytes, as s3_etag_parse() left them). Returns the length, -ENOBUFS. s3_complete_xml_size()
 * is what it needs for n parts, NUL included.
 */
int s3_complete_xml(const char (*etags)[S3_ETAG_MAX + 1], uint32_t n, char *out, size_t size);
size_t s3_complete_xml_size(uint32_t n);

#endif
