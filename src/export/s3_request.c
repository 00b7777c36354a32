// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The S3 exporter's keys, URLs, metadata and XML: see include/s3_request.h. Pure. */
#define _GNU_SOURCE             /* memmem() */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "s3_request.h"
#include "utf8.h"

#define MIB (1ull << 20)

/* The length of the well-formed UTF-8 character at p (left bytes), 0 when there is none
 * there; C1 controls (U+0080-U+009F) count as none. */
static size_t utf8_char(const unsigned char *p, size_t left)
{
	unsigned c = p[0];
	uint32_t cp;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

int s3_key_component(const char *s, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t len = strlen((const char *)p), cap = size - 1, o = 0;

	if (size < 2)
		return -ENOBUFS;
	if (cap > S3_KEY_PART_MAX)
		cap = S3_KEY_PART_MAX;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_char(p + i, len - i);
		bool bad = n == 0 || (n == 1 && (p[i] < 0x20 || p[i] == 0x7f || p[i] == '/'));

		if (o + (bad ? 1 : n) > cap)
			break;
		if (bad) {
			out[o++] = '_';
			i++;
		} else {
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
	if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0) {
		out[0] = '_';
		out[1] = '\0';
		o = 1;
	}
	return (int)o;
}

/* s (len bytes) at out + *o, NUL-terminated: 0, -ENOBUFS. */
static int append(char *out, size_t size, size_t *o, const char *s, size_t len)
{
	if (*o + len >= size)
		return -ENOBUFS;
	memcpy(out + *o, s, len);
	*o += len;
	out[*o] = '\0';
	return 0;
}

int s3_object_key(const struct s3_key_parts *p, char *out, size_t size)
{
	const char *parts[] = {
		p->hostname,
		p->namespace && p->namespace[0] ? p->namespace : "host",
		p->workload && p->workload[0] ? p->workload : "host",
		p->kind,
		p->name,
	};
	const char *pre = p->prefix ? p->prefix : "";
	size_t pre_len, o = 0;
	char part[S3_KEY_PART_MAX + 1];

	if (size == 0)
		return -ENOBUFS;
	out[0] = '\0';
	while (*pre == '/')
		pre++;
	pre_len = strlen(pre);
	while (pre_len && pre[pre_len - 1] == '/')
		pre_len--;
	for (size_t i = 0; i < pre_len; i++) {
		if ((unsigned char)pre[i] < 0x20 || pre[i] == 0x7f)
			return -EINVAL;
	}
	if (pre_len > S3_KEY_MAX)
		return -ENAMETOOLONG;
	if (pre_len && (append(out, size, &o, pre, pre_len) < 0 || append(out, size, &o, "/", 1) < 0))
		return -ENOBUFS;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		int n = s3_key_component(parts[i], part, sizeof(part));

		if (n < 0)
			return n;
		if (o + (i ? 1 : 0) + (size_t)n > S3_KEY_MAX)
			return -ENAMETOOLONG;
		if ((i && append(out, size, &o, "/", 1) < 0) || append(out, size, &o, part, (size_t)n) < 0)
			return -ENOBUFS;
	}
	return (int)o;
}

/* Whether s is made of [a-z0-9], the bytes of set and, when upper, [A-Z] only. */
static bool all_of(const char *s, const char *set, bool upper)
{
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr(set, *s) ||
		      (upper && *s >= 'A' && *s <= 'Z')))
			return false;
	}
	return true;
}

int s3_endpoint_parse(const char *endpoint, const char *region, const char *bucket, bool path_style,
		      struct s3_endpoint *ret)
{
	size_t blen = bucket ? strlen(bucket) : 0, rlen = region ? strlen(region) : 0, hlen;
	const char *host;

	memset(ret, 0, sizeof(*ret));
	if (blen < 3 || blen > 63 || !all_of(bucket, path_style ? ".-_" : ".-", path_style))
		return -EINVAL;
	if (rlen < 1 || rlen > 63 || !all_of(region, "-", false))
		return -EINVAL;
	memcpy(ret->bucket, bucket, blen + 1);
	ret->path_style = path_style;
	if (!endpoint) {
		strcpy(ret->scheme, "https");
		snprintf(ret->host, sizeof(ret->host), "s3.%s.amazonaws.com", region);
		return 0;
	}
	if (strncmp(endpoint, "https://", 8) == 0) {
		strcpy(ret->scheme, "https");
		host = endpoint + 8;
	} else if (strncmp(endpoint, "http://", 7) == 0) {
		strcpy(ret->scheme, "http");
		host = endpoint + 7;
	} else {
		return -EINVAL;
	}
	hlen = strlen(host);
	if (hlen && host[hlen - 1] == '/')
		hlen--;
	if (hlen == 0 || hlen >= sizeof(ret->host))
		return -EINVAL;
	for (size_t i = 0; i < hlen; i++) {
		char c = host[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == ':' || c == '[' || c == ']'))
			return -EINVAL;
	}
	memcpy(ret->host, host, hlen);
	ret->host[hlen] = '\0';
	return 0;
}

int s3_object_url(const struct s3_endpoint *e, const char *key, const char *query, char *out, size_t size)
{
	int n = e->path_style ? snprintf(out, size, "%s://%s/%s/", e->scheme, e->host, e->bucket)
			      : snprintf(out, size, "%s://%s.%s/", e->scheme, e->bucket, e->host);
	size_t o;
	int r;

	if (n < 0 || (size_t)n >= size)
		return -ENOBUFS;
	o = (size_t)n;
	r = http_uri_encode(key, strlen(key), true, out + o, size - o);
	if (r < 0)
		return r;
	o += (size_t)r;
	if (query && query[0] && (append(out, size, &o, "?", 1) < 0 || append(out, size, &o, query, strlen(query)) < 0))
		return -ENOBUFS;
	return (int)o;
}

/* Printable ASCII but '%', and a space between two other characters (SigV4 trims a
 * header's ends and folds runs of spaces: those are encoded). */
static bool meta_keep(const char *s, size_t len, size_t i, void *arg)
{
	unsigned char c = (unsigned char)s[i];
	bool loose_space = c == ' ' && (i == 0 || i + 1 == len || s[i - 1] == ' ');

	return c >= 0x20 && c <= 0x7e && c != '%' && !loose_space;
}

int s3_meta_value_encode(const char *s, char *out, size_t size)
{
	return http_percent_encode(s, strlen(s), meta_keep, NULL, out, size);
}

int s3_meta_headers(const struct s3_meta_field *f, size_t n, char *buf, size_t size)
{
	size_t total = 0, o = 0;
	char value[S3_META_MAX + 1];
	int kept = 0;

	for (size_t i = 0; i < n; i++) {
		int len;

		if (!f[i].value || !f[i].value[0])
			continue;
		len = s3_meta_value_encode(f[i].value, value, sizeof(value));
		if (len < 0 || total + strlen(f[i].name) + (size_t)len > S3_META_MAX)
			break;
		total += strlen(f[i].name) + (size_t)len;
		len = snprintf(buf + o, size - o, "x-amz-meta-%s: %s", f[i].name, value);
		if (len < 0 || o + (size_t)len + 1 > size)
			return -ENOBUFS;
		o += (size_t)len + 1;
		kept++;
	}
	return kept;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

const char *s3_content_type(const char *name)
{
	static const char *const json[] = { ".json", ".heapprofile", ".cpuprofile", ".heapsnapshot", ".heaptimeline" };

	for (size_t i = 0; i < sizeof(json) / sizeof(json[0]); i++) {
		if (ends_with(name, json[i]))
			return "application/json";
	}
	if (ends_with(name, ".gz"))
		return "application/gzip";
	return "application/octet-stream";
}

/* The entity at p (up to end), ";" included: its character into c (4 bytes), the
 * entity's length returned; 0 when it is not one. */
static size_t entity(const char *p, const char *end, char *c, size_t *clen)
{
	static const struct { const char *name; char c; } named[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
	};
	const char *semi = memchr(p, ';', (size_t)(end - p) < 12 ? (size_t)(end - p) : 12);
	uint32_t cp = 0;
	const char *q;

	if (!semi)
		return 0;
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		size_t n = strlen(named[i].name);

		if ((size_t)(semi + 1 - p) == n && memcmp(p, named[i].name, n) == 0) {
			c[0] = named[i].c;
			*clen = 1;
			return n;
		}
	}
	if (semi - p < 3 || p[1] != '#')
		return 0;
	if (p[2] == 'x' || p[2] == 'X') {
		if (semi - p < 4)
			return 0;
		for (q = p + 3; q < semi; q++) {
			int d = *q >= '0' && *q <= '9' ? *q - '0' : *q >= 'a' && *q <= 'f' ? *q - 'a' + 10
							: *q >= 'A' && *q <= 'F' ? *q - 'A' + 10 : -1;

			if (d < 0 || cp > 0x10ffff)
				return 0;
			cp = cp * 16 + (uint32_t)d;
		}
	} else {
		for (q = p + 2; q < semi; q++) {
			if (*q < '0' || *q > '9' || cp > 0x10ffff)
				return 0;
			cp = cp * 10 + (uint32_t)(*q - '0');
		}
	}
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*clen = utf8_encode(cp, c);
	return (size_t)(semi + 1 - p);
}

int s3_xml_text(const char *xml, size_t len, const char *tag, char *out, size_t size)
{
	char open[40], close[41];
	const char *p, *end = xml + len, *lt;
	size_t tl = strlen(tag), o = 0;

	if (size == 0 || tl == 0 || tl > 32)
		return -EINVAL;
	out[0] = '\0';
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if (!(p = memmem(xml, len, open, tl + 2)))
		return -ENOENT;
	p += tl + 2;
	/* the text to the next markup (or to the end of a truncated answer), decoded, then
	 * its closing tag: a text cut short is left in out, still */
	if (!(lt = memchr(p, '<', (size_t)(end - p))))
		lt = end;
	while (p < lt) {
		char c[4] = { *p };
		size_t clen = 1, used = 1;

		if (*p == '&' && !(used = entity(p, lt, c, &clen)))
			return -EBADMSG;
		if (o + clen >= size)
			return -ENOBUFS;        /* out holds what fit */
		memcpy(out + o, c, clen);
		o += clen;
		out[o] = '\0';
		p += used;
	}
	if ((size_t)(end - lt) < tl + 3 || memcmp(lt, close, tl + 3) != 0)
		return -EBADMSG;
	return 0;
}

bool s3_xml_is_error(const char *xml, size_t len)
{
	const char *p = xml, *end = xml + len;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (end - p >= 2 && (memcmp(p, "<?", 2) == 0 || memcmp(p, "<!", 2) == 0)) {
			const char *gt = memchr(p, '>', (size_t)(end - p));

			if (!gt)
				return false;
			p = gt + 1;
			continue;
		}
		break;
	}
	return end - p >= 7 && memcmp(p, "<Error", 6) == 0 &&
	       (p[6] == '>' || p[6] == ' ' || p[6] == '\t' || p[6] == '\r' || p[6] == '\n');
}

/* Append s to out as printable ASCII, '?' for any other byte, to at most max characters. */
static void put_printable(char *out, size_t max, size_t *o, const char *s)
{
	for (; *s && *o < max; s++)
		out[(*o)++] = *s >= 0x20 && *s <= 0x7e ? *s : '?';
	out[*o] = '\0';
}

void s3_error_describe(const char *xml, size_t len, char *out, size_t size)
{
	char code[256], msg[1024];
	size_t o = 0, max = size ? size - 1 : 0;

	if (size == 0)
		return;
	if (max > S3_DESCRIBE_MAX)
		max = S3_DESCRIBE_MAX;
	out[0] = '\0';
	/* a failure leaves what was decoded before it (a long or cut message): printed all the same */
	s3_xml_text(xml, len, "Code", code, sizeof(code));
	s3_xml_text(xml, len, "Message", msg, sizeof(msg));
	put_printable(out, max, &o, code);
	if (code[0] && msg[0])
		put_printable(out, max, &o, ": ");
	put_printable(out, max, &o, msg);
}

int s3_upload_id_parse(const char *xml, size_t len, char *out, size_t size)
{
	int r;

	if (s3_xml_is_error(xml, len))
		return -EBADMSG;
	r = s3_xml_text(xml, len, "UploadId", out, size);
	if (r == -ENOBUFS)
		return r;
	if (r < 0 || !out[0])
		return -EBADMSG;
	for (const char *p = out; *p; p++) {
		if (*p <= 0x20 || *p > 0x7e)
			return -EBADMSG;
	}
	return 0;
}

int s3_etag_parse(const char *line, size_t len, char *out, size_t size)
{
	size_t a = 5, b = len;

	if (len < 5 || strncasecmp(line, "etag:", 5) != 0)
		return -ENOENT;
	while (a < b && (line[a] == ' ' || line[a] == '\t'))
		a++;
	while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t' || line[b - 1] == '\r' || line[b - 1] == '\n'))
		b--;
	if (a == b || b - a > S3_ETAG_MAX || b - a >= size)
		return -EBADMSG;
	for (size_t i = a; i < b; i++) {
		if (line[i] < 0x20 || line[i] > 0x7e || line[i] == '<' || line[i] == '>' || line[i] == '&')
			return -EBADMSG;
	}
	memcpy(out, line + a, b - a);
	out[b - a] = '\0';
	return 0;
}

uint64_t s3_part_count(uint64_t size, uint64_t part)
{
	return size ? (size - 1) / part + 1 : 1;
}

uint64_t s3_part_size(uint64_t size, uint64_t part)
{
	uint64_t need;

	if (!part)
		part = S3_PART_DEFAULT;
	if (s3_part_count(size, part) <= S3_PARTS_MAX)
		return part;
	need = (size - 1) / S3_PARTS_MAX + 1;
	return (need + MIB - 1) / MIB * MIB;
}

#define COMPLETE_HEAD "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
#define COMPLETE_PART "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>"
#define COMPLETE_TAIL "</CompleteMultipartUpload>"

size_t s3_complete_xml_size(uint32_t n)
{
	return sizeof(COMPLETE_HEAD) + (size_t)n * (sizeof(COMPLETE_PART) + 10 + S3_ETAG_MAX) + sizeof(COMPLETE_TAIL);
}

int s3_complete_xml(const char (*etags)[S3_ETAG_MAX + 1], uint32_t n, char *out, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return -ENOBUFS;
	out[0] = '\0';
	if (append(out, size, &o, COMPLETE_HEAD, strlen(COMPLETE_HEAD)) < 0)
		return -ENOBUFS;
	for (uint32_t i = 0; i < n; i++) {
		int len = snprintf(out + o, size - o, COMPLETE_PART, i + 1, etags[i]);

		if (len < 0 || o + (size_t)len >= size)
			return -ENOBUFS;
		o += (size_t)len;
	}
	if (append(out, size, &o, COMPLETE_TAIL, strlen(COMPLETE_TAIL)) < 0)
		return -ENOBUFS;
	return (int)o;
}
