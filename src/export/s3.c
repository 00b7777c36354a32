// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The S3 remote exporter: see include/s3.h; keys, URLs and XML in s3_request.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "aws_creds.h"
#include "curl_lib.h"
#include "http.h"
#include "s3.h"
#include "s3_request.h"

#define READ_SIZE       (1u << 20)      /* one pread of the payload's hash */
#define PREFIX_MAX      512
#define META_LINES_MAX  4096            /* S3_META_MAX and 14 bytes a line around it */
#define ABORT_TIMEOUT_MS 10000          /* an AbortMultipartUpload, even at shutdown */

/* SHA-256 of no bytes: the hash of a POST without a body. */
static const char empty_sha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct s3 {
	struct s3_endpoint ep;
	char prefix[PREFIX_MAX + 1];
	char sigv4[96];                         /* "aws:amz:<region>:s3" */
	uint64_t part_size;
	struct aws_creds *creds;
	struct aws_credentials cred;            /* the last aws_creds__get()'s */
	CURL *h;
	unsigned char *buf;                     /* READ_SIZE */
	struct http_body body;                  /* the last answer's */
	char url[S3_URL_MAX];
	char key[S3_KEY_MAX + 1];               /* the object of the file being delivered */
	char meta[META_LINES_MAX];              /* this delivery's x-amz-meta-* lines, NUL after each */
	int n_meta;
	char etag[S3_ETAG_MAX + 1];             /* the last answer's ETag, "" none */
	bool etag_bad;
};

/* A range of a file, sent as a request's body. */
struct upload {
	int fd;
	uint64_t start, len, done;
	int err;                                /* errno of a failed pread; EIO: the file shrank */
};

struct request {
	const char *op;                         /* for err: "PUT", "UploadPart 3/40" */
	const char *method;                     /* "PUT", "POST", "DELETE" */
	const char *query;                      /* canonical already: "uploads=", NULL */
	const char *sha256;                     /* the payload's, hex */
	const char *content_type;               /* NULL: none */
	bool with_meta;                         /* the x-amz-meta-* lines */
	struct upload *up;                      /* PUT: the body; NULL: data below */
	const char *data;                       /* POST: the body (len bytes) */
	size_t len;
	const atomic_bool *stop;
	long total_timeout_ms;                  /* 0: none */
};

static size_t upload_read(char *buf, size_t size, size_t nmemb, void *userdata)
{
	struct upload *u = userdata;
	size_t want = size * nmemb;
	uint64_t left = u->len - u->done;
	ssize_t r;

	if (left == 0)
		return 0;
	if (want > left)
		want = (size_t)left;
	do
		r = pread(u->fd, buf, want, (off_t)(u->start + u->done));
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		u->err = r < 0 ? errno : EIO;
		return CURL_READFUNC_ABORT;
	}
	u->done += (uint64_t)r;
	return (size_t)r;
}

/* libcurl rewinds the body to send it again (after an auth round or a 417). */
static int upload_seek(void *userdata, curl_off_t offset, int origin)
{
	struct upload *u = userdata;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > u->len)
		return CURL_SEEKFUNC_FAIL;
	u->done = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

static size_t header_line(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct s3 *s = userdata;
	size_t n = size * nitems;

	if (s3_etag_parse(buf, n, s->etag, sizeof(s->etag)) == -EBADMSG)
		s->etag_bad = true;
	return n;
}

static void to_hex(const unsigned char *md, unsigned len, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned i = 0; i < len; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * len] = '\0';
}

/* The hex SHA-256 of len bytes of fd from off, read by READ_SIZE. 0; -ECANCELED; -EIO
 * (the file shrank, or libcrypto failed); -ENOMEM; pread()'s -errno. */
static int sha256_file(struct s3 *s, int fd, uint64_t off, uint64_t len, const atomic_bool *stop, char hex[65])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int r = 0;

	if (!ctx)
		return -ENOMEM;
	if (!EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		r = -EIO;
		goto out;
	}
	while (len) {
		ssize_t n = pread(fd, s->buf, len < READ_SIZE ? (size_t)len : READ_SIZE, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto out;
		}
		if (!EVP_DigestUpdate(ctx, s->buf, (size_t)n)) {
			r = -EIO;
			goto out;
		}
		off += (uint64_t)n;
		len -= (uint64_t)n;
		if (stop && atomic_load(stop)) {
			r = -ECANCELED;
			goto out;
		}
	}
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen))
		r = -EIO;
	else
		to_hex(md, mdlen, hex);
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

static int sha256_mem(const char *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
		return -EIO;
	to_hex(md, mdlen, hex);
	return 0;
}

static int status_errno(long status, const char *code)
{
	if (status == 401 || status == 403)
		return -EACCES;
	if (status == 500 || status == 503 || strcmp(code, "SlowDown") == 0 || strcmp(code, "InternalError") == 0)
		return -EAGAIN;
	return -EPROTO;
}

static int header_add(struct curl_slist **list, const char *line)
{
	struct curl_slist *l = libcurl.slist_append(*list, line);

	if (!l)
		return -ENOMEM;
	*list = l;
	return 0;
}

/* One signed request about s->key; its answer in s->body (and s->etag). 0 on a 2xx
 * without an <Error>; else -errno and err. */
static int perform(struct s3 *s, const struct request *q, char *err, size_t errsize)
{
	struct http_limits lim = { .connect_timeout_ms = 5000, .total_timeout_ms = q->total_timeout_ms,
				   .low_speed_bytes = 1024, .low_speed_seconds = 30 };
	struct curl_slist *headers = NULL;
	char line[160], why[CURL_ERROR_SIZE + 64], code[128], what[S3_DESCRIBE_MAX + 1];
	long status = 0;
	CURLcode rc = CURLE_OK;
	int r;

	if (q->stop && atomic_load(q->stop))
		return -ECANCELED;
	r = aws_creds__get(s->creds, q->stop, &s->cred, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errsize, "%s s3://%s/%s: credentials: %s", q->op, s->ep.bucket, s->key, why);
		return r;
	}
	r = s3_object_url(&s->ep, s->key, q->query, s->url, sizeof(s->url));
	if (r < 0) {
		snprintf(err, errsize, "%s s3://%s/%s: the URL is too long", q->op, s->ep.bucket, s->key);
		return -ENAMETOOLONG;
	}
	if (http_prepare(s->h, s->url, &lim, &s->body, q->stop) < 0) {
		snprintf(err, errsize, "%s s3://%s/%s: libcurl refused the URL", q->op, s->ep.bucket, s->key);
		return -EINVAL;
	}
	s->etag[0] = '\0';
	s->etag_bad = false;

	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", q->sha256);
	r = header_add(&headers, line);
	if (!r && s->cred.session_token[0]) {
		/* 4 KiB: built apart rather than in line */
		char *tok = NULL;

		r = asprintf(&tok, "x-amz-security-token: %s", s->cred.session_token) < 0 ? -ENOMEM
											  : header_add(&headers, tok);
		free(tok);
	}
	if (!r && q->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", q->content_type);
		r = header_add(&headers, line);
	}
	for (int i = 0, o = 0; !r && q->with_meta && i < s->n_meta; i++) {
		r = header_add(&headers, s->meta + o);
		o += (int)strlen(s->meta + o) + 1;
	}
	if (r < 0) {
		libcurl.slist_free_all(headers);
		snprintf(err, errsize, "%s s3://%s/%s: out of memory", q->op, s->ep.bucket, s->key);
		return r;
	}

#define SET(opt, val) (rc = rc ? rc : libcurl.easy_setopt(s->h, opt, val))
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_AWS_SIGV4, s->sigv4);
	SET(CURLOPT_USERNAME, s->cred.access_key_id);
	SET(CURLOPT_PASSWORD, s->cred.secret_access_key);
	SET(CURLOPT_HEADERFUNCTION, header_line);
	SET(CURLOPT_HEADERDATA, s);
	if (q->up) {
		SET(CURLOPT_UPLOAD, 1L);
		SET(CURLOPT_READFUNCTION, upload_read);
		SET(CURLOPT_READDATA, q->up);
		SET(CURLOPT_SEEKFUNCTION, upload_seek);
		SET(CURLOPT_SEEKDATA, q->up);
		SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->up->len);
	} else if (strcmp(q->method, "POST") == 0) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDS, q->data ? q->data : "");
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->len);
	} else {
		SET(CURLOPT_CUSTOMREQUEST, q->method);
	}
#undef SET
	if (rc == CURLE_OK)
		rc = libcurl.easy_perform(s->h);
	else
		snprintf(s->body.error, sizeof(s->body.error), "libcurl refused an option: %s", libcurl.easy_strerror(rc));
	/* the handle keeps pointers to the list and to the credentials' copies until reset */
	libcurl.easy_setopt(s->h, CURLOPT_HTTPHEADER, NULL);
	libcurl.slist_free_all(headers);

	r = http_result(s->h, rc, &s->body, &status, why, sizeof(why));
	if (q->up && q->up->err) {
		snprintf(err, errsize, "%s s3://%s/%s: reading the file: %s", q->op, s->ep.bucket, s->key,
			 q->up->err == EIO ? "it shrank" : strerror(q->up->err));
		return -q->up->err;
	}
	if (r < 0) {
		snprintf(err, errsize, "%s s3://%s/%s: %s", q->op, s->ep.bucket, s->key, why);
		return r;
	}
	s3_error_describe(s->body.data, s->body.len, what, sizeof(what));
	if (status >= 200 && status < 300 && !s3_xml_is_error(s->body.data, s->body.len))
		return 0;
	if (s3_xml_text(s->body.data, s->body.len, "Code", code, sizeof(code)) < 0)
		code[0] = '\0';
	snprintf(err, errsize, "%s s3://%s/%s: HTTP %ld%s%s", q->op, s->ep.bucket, s->key, status, what[0] ? " " : "",
		 what);
	if (status >= 200 && status < 300)     /* an <Error> in a 200 */
		return strcmp(code, "SlowDown") == 0 || strcmp(code, "InternalError") == 0 ? -EAGAIN : -EPROTO;
	return status_errno(status, code);
}

static int put_single(struct s3 *s, const struct delivery *d, const char *name, int fd, uint64_t size, char *err,
		      size_t errsize)
{
	struct upload up = { .fd = fd, .len = size };
	char sha[65];
	struct request q = { .op = "PUT", .method = "PUT", .sha256 = sha, .content_type = s3_content_type(name),
			     .with_meta = true, .up = &up, .stop = d->stop };
	int r = sha256_file(s, fd, 0, size, d->stop, sha);

	if (r < 0) {
		snprintf(err, errsize, "PUT s3://%s/%s: reading %s: %s", s->ep.bucket, s->key, name,
			 r == -ECANCELED ? "stopped" : strerror(-r));
		return r;
	}
	return perform(s, &q, err, errsize);
}

static void abort_upload(struct s3 *s, const char *query)
{
	struct request q = { .op = "AbortMultipartUpload", .method = "DELETE", .query = query,
			     .sha256 = empty_sha256, .total_timeout_ms = ABORT_TIMEOUT_MS };
	char ignored[256];

	perform(s, &q, ignored, sizeof(ignored));       /* what failed first is the news */
}

static int put_multipart(struct s3 *s, const struct delivery *d, const char *name, int fd, uint64_t size,
			 char *err, size_t errsize)
{
	uint64_t part = s3_part_size(size, s->part_size), n = s3_part_count(size, part);
	char id[S3_UPLOAD_ID_MAX + 1], id_enc[3 * S3_UPLOAD_ID_MAX + 1], query[3 * S3_UPLOAD_ID_MAX + 64];
	char (*etags)[S3_ETAG_MAX + 1] = NULL, op[64], sha[65], *xml = NULL;
	struct request create = { .op = "CreateMultipartUpload", .method = "POST", .query = "uploads=",
				  .sha256 = empty_sha256, .content_type = s3_content_type(name), .with_meta = true,
				  .stop = d->stop };
	struct request complete = { .op = "CompleteMultipartUpload", .method = "POST", .sha256 = sha,
				    .content_type = "application/xml", .stop = d->stop };
	int r, len;

	if (n > S3_PARTS_MAX || part > S3_PART_MAX) {
		snprintf(err, errsize, "PUT s3://%s/%s: %" PRIu64 " bytes is more than S3 takes", s->ep.bucket, s->key,
			 size);
		return -EFBIG;
	}
	if (!(etags = calloc(n, sizeof(*etags)))) {
		snprintf(err, errsize, "PUT s3://%s/%s: out of memory", s->ep.bucket, s->key);
		return -ENOMEM;
	}
	r = perform(s, &create, err, errsize);
	if (r < 0)
		goto out;
	r = s3_upload_id_parse(s->body.data, s->body.len, id, sizeof(id));
	if (r < 0 || http_uri_encode(id, strlen(id), false, id_enc, sizeof(id_enc)) < 0) {
		snprintf(err, errsize, "CreateMultipartUpload s3://%s/%s: no UploadId in the answer", s->ep.bucket,
			 s->key);
		r = -EPROTO;
		goto out;
	}

	for (uint64_t i = 0; i < n; i++) {
		struct upload up = { .fd = fd, .start = i * part, .len = i + 1 < n ? part : size - i * part };
		struct request put = { .op = op, .method = "PUT", .query = query, .sha256 = sha, .up = &up,
				       .stop = d->stop };

		snprintf(op, sizeof(op), "UploadPart %" PRIu64 "/%" PRIu64, i + 1, n);
		r = sha256_file(s, fd, up.start, up.len, d->stop, sha);
		if (r < 0) {
			snprintf(err, errsize, "%s s3://%s/%s: reading %s: %s", op, s->ep.bucket, s->key, name,
				 r == -ECANCELED ? "stopped" : strerror(-r));
			goto abort;
		}
		/* sorted, as SigV4 wants them and libcurl 7.88 does not do */
		snprintf(query, sizeof(query), "partNumber=%" PRIu64 "&uploadId=%s", i + 1, id_enc);
		r = perform(s, &put, err, errsize);
		if (r < 0)
			goto abort;
		if (!s->etag[0] || s->etag_bad) {
			snprintf(err, errsize, "%s s3://%s/%s: no usable ETag in the answer", op, s->ep.bucket, s->key);
			r = -EPROTO;
			goto abort;
		}
		memcpy(etags[i], s->etag, sizeof(s->etag));
	}

	r = -ENOMEM;
	if (!(xml = malloc(s3_complete_xml_size((uint32_t)n))) ||
	    (len = s3_complete_xml((const char (*)[S3_ETAG_MAX + 1])etags, (uint32_t)n, xml,
				   s3_complete_xml_size((uint32_t)n))) < 0 ||
	    sha256_mem(xml, (size_t)len, sha) < 0) {
		snprintf(err, errsize, "CompleteMultipartUpload s3://%s/%s: out of memory", s->ep.bucket, s->key);
		goto abort;
	}
	snprintf(query, sizeof(query), "uploadId=%s", id_enc);
	complete.query = query;
	complete.data = xml;
	complete.len = (size_t)len;
	r = perform(s, &complete, err, errsize);
	if (r == 0)
		goto out;
abort:
	snprintf(query, sizeof(query), "uploadId=%s", id_enc);
	abort_upload(s, query);
out:
	free(xml);
	free(etags);
	return r;
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static int put_file(struct s3 *s, const struct delivery *d, const struct delivery_file *f, char *err, size_t errsize)
{
	const char *container = str_at(d->meta, "container", "name") ?: str_at(d->meta, "container", "id");
	struct s3_key_parts parts = {
		.prefix = s->prefix,
		.hostname = d->hostname,
		.namespace = str_at(d->meta, "kubernetes", "namespace"),
		.workload = str_at(d->meta, "kubernetes", "pod") ?: container,
		.kind = d->kind,
		.name = f->name,
	};
	struct stat st;
	int fd, r;

	r = s3_object_key(&parts, s->key, sizeof(s->key));
	if (r < 0) {
		s->key[0] = '\0';
		snprintf(err, errsize, "PUT s3://%s: %s: %s", s->ep.bucket, f->name,
			 r == -ENAMETOOLONG ? "its key is over 1024 bytes" : "no key");
		return r;
	}
	fd = openat(d->dirfd, f->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errsize, "PUT s3://%s/%s: open %s: %s", s->ep.bucket, s->key, f->name, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errsize, "PUT s3://%s/%s: fstat %s: %s", s->ep.bucket, s->key, f->name, strerror(-r));
	} else if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		snprintf(err, errsize, "PUT s3://%s/%s: %s: not a regular file", s->ep.bucket, s->key, f->name);
	} else if ((uint64_t)st.st_size > S3_OBJECT_MAX) {
		r = -EFBIG;
		snprintf(err, errsize, "PUT s3://%s/%s: %s: over 5 TiB", s->ep.bucket, s->key, f->name);
	} else if ((uint64_t)st.st_size <= s->part_size) {
		r = put_single(s, d, f->name, fd, (uint64_t)st.st_size, err, errsize);
	} else {
		r = put_multipart(s, d, f->name, fd, (uint64_t)st.st_size, err, errsize);
	}
	close(fd);
	return r;
}

/* This delivery's x-amz-meta-* lines into s->meta. */
static int meta_prepare(struct s3 *s, const struct delivery *d)
{
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(d->meta, "pid");
	char pid_s[24] = "";
	struct s3_meta_field f[] = {
		{ "host", d->hostname },
		{ "pid", pid_s },
		{ "kind", d->kind },
		{ "container", str_at(d->meta, "container", "name") ?: str_at(d->meta, "container", "id") },
		{ "pod", str_at(d->meta, "kubernetes", "pod") },
		{ "namespace", str_at(d->meta, "kubernetes", "namespace") },
		{ "image", str_at(d->meta, "container", "image") },
		{ "trigger", str_at(d->meta, "trigger", "kind") },
		{ "captured-at", str_at(d->meta, "profile", "ended_at") ?: str_at(d->meta, "killed_at", NULL) },
		{ "base", d->base },
	};

	if (cJSON_IsNumber(pid) && pid->valuedouble >= 0 && pid->valuedouble < 1e15)
		snprintf(pid_s, sizeof(pid_s), "%" PRId64, (int64_t)pid->valuedouble);
	s->n_meta = s3_meta_headers(f, sizeof(f) / sizeof(f[0]), s->meta, sizeof(s->meta));
	return s->n_meta < 0 ? s->n_meta : 0;
}

static bool s3_wants(const struct delivery *d)
{
	return true;
}

static int s3_deliver(void *state, const struct delivery *d, char *err, size_t errsize)
{
	struct s3 *s = state;
	int r;

	if (errsize)
		err[0] = '\0';
	r = meta_prepare(s, d);
	if (r < 0) {
		snprintf(err, errsize, "s3://%s: %s: its metadata does not fit", s->ep.bucket, d->base);
		return r;
	}
	for (size_t i = 0; i < d->n_files; i++) {
		if (d->stop && atomic_load(d->stop))
			return -ECANCELED;
		r = put_file(s, d, &d->files[i], err, errsize);
		if (r < 0)
			return r;
	}
	return 0;
}

static void s3_free(void *state)
{
	struct s3 *s = state;

	if (!s)
		return;
	if (s->h)
		libcurl.easy_cleanup(s->h);
	aws_creds__free(s->creds);
	free(s->buf);
	explicit_bzero(&s->cred, sizeof(s->cred));
	free(s);
}

int s3_exporter__new(const struct s3_config *cfg, struct aws_creds *creds, void **ret_state)
{
	const char *pre = cfg->prefix ? cfg->prefix : "";
	struct s3 *s = calloc(1, sizeof(*s));
	int r = -ENOMEM;

	if (!s) {
		aws_creds__free(creds);
		return -ENOMEM;
	}
	s->creds = creds;
	s->part_size = cfg->part_size ? cfg->part_size : S3_PART_DEFAULT;
	r = s3_endpoint_parse(cfg->endpoint, cfg->region, cfg->bucket, cfg->path_style, &s->ep);
	if (r < 0 || s->part_size < S3_PART_MIN || s->part_size > S3_PART_MAX || strlen(pre) > PREFIX_MAX) {
		r = -EINVAL;
		goto fail;
	}
	for (const char *p = pre; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			r = -EINVAL;
			goto fail;
		}
	}
	strcpy(s->prefix, pre);
	snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", cfg->region);
	r = curl_lib_load();
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	if (!(s->buf = malloc(READ_SIZE)) || !(s->h = libcurl.easy_init()))
		goto fail;
	*ret_state = s;
	return 0;
fail:
	s3_free(s);
	return r;
}

const struct remote_exporter_ops s3_exporter_ops = {
	.name = "s3",
	.wants = s3_wants,
	.deliver = s3_deliver,
	.free = s3_free,
};
