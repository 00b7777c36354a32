// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The AWS credential chain: see include/aws_creds.h. */
#define _GNU_SOURCE             /* explicit_bzero(), timegm() */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aws_creds.h"
#include "curl_lib.h"
#include "http.h"

#define SHARED_FILE_MAX  (64 * 1024)
#define TOKEN_FILE_MAX   (16 * 1024)    /* an EKS Pod Identity token is a JWT of ~1 KiB */
#define PROFILE_MAX      128
#define URI_MAX          2048
#define IMDS_TOKEN_MAX   1024           /* IMDS gives ~56 bytes of base64 */
#define ROLE_MAX         128

#define KEY_ID_MIN       3      /* AWS's are 16 to 128 [A-Z0-9]; S3-compatible servers' (MinIO's minioadmin, s3rver's S3RVER) shorter */
#define KEY_ID_MAX       (sizeof(((struct aws_credentials *)0)->access_key_id) - 1)
#define SECRET_MAX       (sizeof(((struct aws_credentials *)0)->secret_access_key) - 1)
#define SESSION_MAX      (sizeof(((struct aws_credentials *)0)->session_token) - 1)

#define CONTAINER_CONNECT_MS 2000
#define CONTAINER_TOTAL_MS   5000
#define IMDS_CONNECT_MS      1000
#define IMDS_TOTAL_MS        3000       /* the whole walk: token, role, credentials */

#define ECS_URI          "http://169.254.170.2"
#define IMDS_URI         "http://169.254.169.254"
#define IMDS_URI_IPV6    "http://[fd00:ec2::254]"
#define IMDS_ROLES_PATH  "/latest/meta-data/iam/security-credentials/"

static const char *const source_names[_AWS_CREDS_SOURCE_MAX] = {
	[AWS_CREDS_ENVIRONMENT] = "environment",
	[AWS_CREDS_SHARED_FILE] = "shared-file",
	[AWS_CREDS_CONTAINER] = "container",
	[AWS_CREDS_IMDS] = "imds",
};

const char *aws_creds_source_name(enum aws_creds_source s)
{
	return (unsigned)s < _AWS_CREDS_SOURCE_MAX ? source_names[s] : NULL;
}

/* ---- what a key, a secret, a session token may hold ---- */

enum field {
	F_KEY_ID,
	F_SECRET,
	F_TOKEN,
};

/* NULL when s (len bytes) may be that field; else what is wrong with it, in words. */
static const char *field_fault(enum field f, const char *s, size_t len)
{
	size_t max = f == F_KEY_ID ? KEY_ID_MAX : f == F_SECRET ? SECRET_MAX : SESSION_MAX;

	if (len > max)
		return f == F_TOKEN ? "is longer than 4096 bytes" : "is longer than 128 bytes";
	if (f == F_KEY_ID && len < KEY_ID_MIN)
		return "is shorter than 3 characters";
	if (f == F_SECRET && len == 0)
		return "is empty";
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		/* Never a '/', ',' or '=' of the Authorization header's Credential=ID/scope. */
		if (f == F_KEY_ID && !((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
				       ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == '@'))
			return "has a character other than A-Z, a-z, 0-9 and -_.~@";
		if (f != F_KEY_ID && (ch <= ' ' || ch >= 0x7f))
			return "has a control character, a space or a byte outside ASCII";
	}
	return NULL;
}

static void creds_fill(struct aws_credentials *out, const char *id, size_t id_len, const char *secret,
		       size_t secret_len, const char *token, size_t token_len)
{
	memcpy(out->access_key_id, id, id_len);
	out->access_key_id[id_len] = '\0';
	memcpy(out->secret_access_key, secret, secret_len);
	out->secret_access_key[secret_len] = '\0';
	if (token_len)
		memcpy(out->session_token, token, token_len);
	out->session_token[token_len] = '\0';
}

static void seterr(char *err, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!size)
		return;
	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
}

/* ---- ISO 8601 ---- */

static bool digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

static int month_days(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

int aws_creds_parse_time(const char *s, int64_t *ret)
{
	int y, mo, d, h, mi, sec, oh, om;
	int64_t off = 0;
	struct tm tm;
	const char *p;
	time_t t;

	if (!s || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
	    s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return -EINVAL;
	p = s + 19;
	if (*p == '.') {
		size_t n = strspn(++p, "0123456789");

		if (n < 1 || n > 9)
			return -EINVAL;
		p += n;
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
		off = (*p == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 ||
	    sec > 60)
		return -EINVAL;
	tm = (struct tm){ .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec };
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret = (int64_t)t - off;
	return 0;
}

/* ---- the shared credentials file ---- */

static void trim(const char **a, const char **b)
{
	while (*a < *b && (**a == ' ' || **a == '\t'))
		(*a)++;
	while (*b > *a && ((*b)[-1] == ' ' || (*b)[-1] == '\t'))
		(*b)--;
}

static const char *const shared_keys[] = { "aws_access_key_id", "aws_secret_access_key", "aws_session_token" };

int aws_creds_parse_shared_file(const char *text, size_t len, const char *profile, struct aws_credentials *out,
				char *err, size_t errsize)
{
	struct {
		const char *v;
		size_t len;
		int line;
	} val[3] = { { 0 } };
	const char *p = text, *end = text + len;
	size_t plen = strlen(profile);
	int line = 0, seen = 0;
	bool section = false, in = false;
	const char *fault = NULL;

	memset(out, 0, sizeof(*out));
	if (memchr(text, '\0', len)) {
		seterr(err, errsize, "shared-file: a NUL byte in the file");
		return -EBADMSG;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *a = p, *b = nl ? nl : end, *eq;
		size_t k;

		p = nl ? nl + 1 : end;
		line++;
		if (b > a && b[-1] == '\r')
			b--;
		trim(&a, &b);
		if (a == b || *a == '#' || *a == ';')
			continue;
		if (*a == '[') {
			const char *close = memchr(a, ']', (size_t)(b - a)), *na = a + 1, *nb = close, *ra, *rb;

			if (!close) {
				seterr(err, errsize, "shared-file: line %d: a section without ']'", line);
				return -EBADMSG;
			}
			ra = close + 1;
			rb = b;
			trim(&ra, &rb);
			if (ra != rb && *ra != '#' && *ra != ';') {
				seterr(err, errsize, "shared-file: line %d: text after the section's ']'", line);
				return -EBADMSG;
			}
			trim(&na, &nb);
			if (na == nb) {
				seterr(err, errsize, "shared-file: line %d: a section without a name", line);
				return -EBADMSG;
			}
			section = true;
			in = (size_t)(nb - na) == plen && memcmp(na, profile, plen) == 0;
			if (in && seen) {
				seterr(err, errsize, "shared-file: line %d: profile [%s] again (first at line %d)", line,
				       profile, seen);
				return -EBADMSG;
			}
			if (in)
				seen = line;
			continue;
		}
		eq = memchr(a, '=', (size_t)(b - a));
		if (!eq) {
			seterr(err, errsize, "shared-file: line %d: neither [section], key = value nor a comment", line);
			return -EBADMSG;
		}
		if (!section) {
			seterr(err, errsize, "shared-file: line %d: a key before any [section]", line);
			return -EBADMSG;
		}
		if (eq == a) {
			seterr(err, errsize, "shared-file: line %d: no key before '='", line);
			return -EBADMSG;
		}
		if (!in)
			continue;
		{
			const char *ka = a, *kb = eq, *va = eq + 1, *vb = b;

			trim(&ka, &kb);
			trim(&va, &vb);
			for (k = 0; k < 3; k++) {
				if (strlen(shared_keys[k]) == (size_t)(kb - ka) &&
				    strncasecmp(ka, shared_keys[k], (size_t)(kb - ka)) == 0)
					break;
			}
			if (k == 3)
				continue;
			if (val[k].line) {
				seterr(err, errsize, "shared-file: line %d: %s again in [%s] (first at line %d)", line,
				       shared_keys[k], profile, val[k].line);
				return -EBADMSG;
			}
			val[k].v = va;
			val[k].len = (size_t)(vb - va);
			val[k].line = line;
		}
	}
	if (!seen) {
		seterr(err, errsize, "shared-file: no profile [%s]", profile);
		return -ENOKEY;
	}
	if (!val[0].len && !val[1].len) {
		seterr(err, errsize, "shared-file: profile [%s] has no aws_access_key_id nor aws_secret_access_key",
		       profile);
		return -ENOKEY;
	}
	if (!val[0].len || !val[1].len) {
		seterr(err, errsize, "shared-file: profile [%s] has %s but no %s", profile,
		       shared_keys[val[0].len ? 0 : 1], shared_keys[val[0].len ? 1 : 0]);
		return -EBADMSG;
	}
	for (int i = 0; i < 3; i++) {
		if (val[i].len && (fault = field_fault((enum field)i, val[i].v, val[i].len))) {
			seterr(err, errsize, "shared-file: line %d: %s %s", val[i].line, shared_keys[i], fault);
			return -EBADMSG;
		}
	}
	creds_fill(out, val[0].v, val[0].len, val[1].v, val[1].len, val[2].v, val[2].len);
	out->source = source_names[AWS_CREDS_SHARED_FILE];
	return 0;
}

/* ---- the endpoints' JSON ---- */

/* The string member name of o, exactly once, or *ret NULL when absent; a fault in words. */
static const char *json_string(const cJSON *o, const char *name, const char **ret)
{
	const cJSON *it, *found = NULL;

	*ret = NULL;
	cJSON_ArrayForEach(it, o) {
		if (it->string && strcmp(it->string, name) == 0) {
			if (found)
				return "is given twice";
			found = it;
		}
	}
	if (!found)
		return NULL;
	if (!cJSON_IsString(found) || !found->valuestring)
		return "is not a string";
	*ret = found->valuestring;
	return NULL;
}

int aws_creds_parse_json(const char *body, size_t len, enum aws_creds_source source, int64_t now,
			 struct aws_credentials *out, char *err, size_t errsize)
{
	static const char *const names[] = { "AccessKeyId", "SecretAccessKey", "Token", "Expiration", "Code" };
	const char *name = aws_creds_source_name(source), *v[5], *fault = NULL;
	bool imds = source == AWS_CREDS_IMDS;
	int64_t expires = 0;
	cJSON *root;
	int r = -EBADMSG, i;

	memset(out, 0, sizeof(*out));
	if (!name || (source != AWS_CREDS_CONTAINER && source != AWS_CREDS_IMDS)) {
		seterr(err, errsize, "aws_creds_parse_json: not an endpoint's source");
		return -EINVAL;
	}
	if (len > HTTP_BODY_MAX) {
		seterr(err, errsize, "%s: the answer is longer than %d bytes", name, HTTP_BODY_MAX);
		return -EBADMSG;
	}
	/* No control character anywhere, raw or as \u0000 (which would cut a string short). */
	for (size_t j = 0; j < len; j++) {
		unsigned char ch = (unsigned char)body[j];

		if ((ch < ' ' && ch != '\t' && ch != '\n' && ch != '\r') || ch == 0x7f) {
			seterr(err, errsize, "%s: a control character in the answer", name);
			return -EBADMSG;
		}
		if (ch == '\\' && j + 5 < len && body[j + 1] == 'u' && body[j + 2] == '0' && body[j + 3] == '0' &&
		    body[j + 4] == '0' && body[j + 5] == '0') {
			seterr(err, errsize, "%s: a \\u0000 in the answer", name);
			return -EBADMSG;
		}
	}
	root = cJSON_ParseWithLength(body, len);
	if (!root) {
		seterr(err, errsize, "%s: the answer is not JSON", name);
		return -EBADMSG;
	}
	if (!cJSON_IsObject(root)) {
		seterr(err, errsize, "%s: the answer is not a JSON object", name);
		goto out;
	}
	/* IMDS's Code first: an answer of failure has no keys. */
	for (i = 4; i >= 0; i--) {
		if ((fault = json_string(root, names[i], &v[i])))
			break;
		if (!v[i] && (i == 0 || i == 1 || i == 3 || (imds && (i == 2 || i == 4)))) {
			fault = "is missing";
			break;
		}
		if (i == 4 && imds && strcmp(v[4], "Success") != 0) {
			fault = "is not \"Success\"";
			break;
		}
	}
	if (fault) {
		seterr(err, errsize, "%s: %s %s", name, names[i], fault);
		goto out;
	}
	for (i = 0; i < 3; i++) {
		if (v[i] && (fault = field_fault((enum field)i, v[i], strlen(v[i])))) {
			seterr(err, errsize, "%s: %s %s", name, names[i], fault);
			goto out;
		}
	}
	if (aws_creds_parse_time(v[3], &expires) < 0) {
		seterr(err, errsize, "%s: Expiration is not an ISO 8601 time", name);
		goto out;
	}
	if (expires <= now) {
		seterr(err, errsize, "%s: Expiration is already past", name);
		goto out;
	}
	creds_fill(out, v[0], strlen(v[0]), v[1], strlen(v[1]), v[2] ? v[2] : "", v[2] ? strlen(v[2]) : 0);
	out->expires_at = expires;
	out->source = name;
	r = 0;
out:
	cJSON_Delete(root);
	return r;
}

/* ---- AWS_CONTAINER_CREDENTIALS_FULL_URI's hosts ---- */

static bool host_allowed(const char *host)
{
	static const unsigned char eks6[16] = { 0xfd, 0x00, 0x0e, 0xc2, [15] = 0x23 };
	struct in6_addr a6;
	struct in_addr a4;
	char buf[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);
	uint32_t v4;

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (n > 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return false;
		if (IN6_IS_ADDR_LOOPBACK(&a6) || memcmp(&a6, eks6, 16) == 0)
			return true;
		if (!IN6_IS_ADDR_V4MAPPED(&a6))
			return false;
		memcpy(&a4, &a6.s6_addr[12], 4);
	} else if (inet_pton(AF_INET, host, &a4) != 1) {
		return false;
	}
	v4 = ntohl(a4.s_addr);
	return (v4 >> 24) == 127 || v4 == 0xa9feaa02 /* 169.254.170.2 */ || v4 == 0xa9feaa17 /* 169.254.170.23 */;
}

/* The scheme ("http", "https") and host of url by libcurl's parser: 0, -EINVAL, -ENOMEM. */
static int url_scheme_host(const char *url, bool *https, bool *allowed)
{
	char *scheme = NULL, *host = NULL;
	CURLU *u;
	int r = curl_lib_load();

	if (r < 0)
		return r;
	if (!(u = libcurl.url()))
		return -ENOMEM;
	if (strlen(url) > URI_MAX || libcurl.url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    libcurl.url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    libcurl.url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		r = -EINVAL;
	else if (strcasecmp(scheme, "https") == 0)
		*https = true;
	else if (strcasecmp(scheme, "http") == 0)
		*https = false;
	else
		r = -EINVAL;
	if (r == 0)
		*allowed = host_allowed(host);
	libcurl.free(scheme);
	libcurl.free(host);
	libcurl.url_cleanup(u);
	return r;
}

int aws_creds_container_uri_allowed(const char *uri)
{
	bool https = false, allowed = false;
	int r = url_scheme_host(uri, &https, &allowed);

	if (r < 0)
		return r;
	return https || allowed ? 0 : -EPERM;
}

/* ---- the chain ---- */

struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct aws_creds {
	/* copied from envp; NULL when unset or empty */
	char *env_key_id, *env_secret, *env_session;
	char *shared_file, *home, *profile;
	char *relative_uri, *full_uri, *token_file, *token;
	char *imds_endpoint, *imds_mode, *imds_disabled;

	CURL *curl;
	struct http_body *body;

	struct aws_credentials cached;
	bool have_cached;
	struct file_id file_seen;       /* the shared file the cached set was read from */
	int64_t retry_after;            /* monotonic seconds: no refresh before, while cached is valid */
};

static const char *env_find(const char *const *envp, const char *key)
{
	size_t n = strlen(key);

	for (; envp && *envp; envp++) {
		if (strncmp(*envp, key, n) == 0 && (*envp)[n] == '=')
			return (*envp)[n + 1] ? *envp + n + 1 : NULL;
	}
	return NULL;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void aws_creds__free(struct aws_creds *c)
{
	if (!c)
		return;
	free_secret(c->env_key_id);
	free_secret(c->env_secret);
	free_secret(c->env_session);
	free(c->shared_file);
	free(c->home);
	free(c->profile);
	free(c->relative_uri);
	free(c->full_uri);
	free(c->token_file);
	free_secret(c->token);
	free(c->imds_endpoint);
	free(c->imds_mode);
	free(c->imds_disabled);
	if (c->curl)
		libcurl.easy_cleanup(c->curl);
	if (c->body) {
		explicit_bzero(c->body, sizeof(*c->body));
		free(c->body);
	}
	explicit_bzero(&c->cached, sizeof(c->cached));
	free(c);
}

int aws_creds__new(const char *const *envp, struct aws_creds **ret)
{
	static const struct {
		const char *key;
		size_t offset;
	} vars[] = {
#define V(k, f) { k, offsetof(struct aws_creds, f) }
		V("AWS_ACCESS_KEY_ID", env_key_id),
		V("AWS_SECRET_ACCESS_KEY", env_secret),
		V("AWS_SESSION_TOKEN", env_session),
		V("AWS_SHARED_CREDENTIALS_FILE", shared_file),
		V("HOME", home),
		V("AWS_PROFILE", profile),
		V("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", relative_uri),
		V("AWS_CONTAINER_CREDENTIALS_FULL_URI", full_uri),
		V("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file),
		V("AWS_CONTAINER_AUTHORIZATION_TOKEN", token),
		V("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds_endpoint),
		V("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", imds_mode),
		V("AWS_EC2_METADATA_DISABLED", imds_disabled),
#undef V
	};
	struct aws_creds *c = calloc(1, sizeof(*c));
	int r = -ENOMEM;

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = env_find(envp, vars[i].key);
		char **slot = (char **)((char *)c + vars[i].offset);

		if (v && !(*slot = strdup(v)))
			goto fail;
	}
	if ((r = curl_lib_load()) < 0)
		goto fail;
	r = -ENOMEM;
	c->body = malloc(sizeof(*c->body));
	c->curl = libcurl.easy_init();
	if (!c->body || !c->curl)
		goto fail;
	*ret = c;
	return 0;
fail:
	aws_creds__free(c);
	return r;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A regular file, whole, at most max bytes, into a new buffer (NUL-terminated, the
 * caller wipes and frees it). 0; -EINVAL not a regular file; -EFBIG larger than max;
 * -ENOMEM; -errno from open(), fstat() or read().
 */
static int read_bounded(const char *path, size_t max, char **ret, size_t *ret_len, struct file_id *id)
{
	size_t len = 0;
	struct stat st;
	char *buf;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	buf = malloc(max + 2);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len <= max) {
		ssize_t n = read(fd, buf + len, max + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!r && len > max)
		r = -EFBIG;
	if (r) {
		explicit_bzero(buf, len);
		free(buf);
		return r;
	}
	buf[len] = '\0';
	if (id)
		*id = (struct file_id){ st.st_dev, st.st_ino, st.st_size, st.st_mtim };
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int from_env(struct aws_creds *c, struct aws_credentials *out, char *err, size_t errsize)
{
	const char *fault = NULL;

	if (!c->env_key_id && !c->env_secret) {
		seterr(err, errsize, "environment: not set");
		return -ENOKEY;
	}
	if (!c->env_key_id || !c->env_secret) {
		seterr(err, errsize, "environment: %s is set but %s is not",
		       c->env_key_id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		       c->env_key_id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		return -EINVAL;
	}
	if ((fault = field_fault(F_KEY_ID, c->env_key_id, strlen(c->env_key_id)))) {
		seterr(err, errsize, "environment: AWS_ACCESS_KEY_ID %s", fault);
		return -EINVAL;
	}
	if ((fault = field_fault(F_SECRET, c->env_secret, strlen(c->env_secret)))) {
		seterr(err, errsize, "environment: AWS_SECRET_ACCESS_KEY %s", fault);
		return -EINVAL;
	}
	if (c->env_session && (fault = field_fault(F_TOKEN, c->env_session, strlen(c->env_session)))) {
		seterr(err, errsize, "environment: AWS_SESSION_TOKEN %s", fault);
		return -EINVAL;
	}
	creds_fill(out, c->env_key_id, strlen(c->env_key_id), c->env_secret, strlen(c->env_secret),
		   c->env_session ? c->env_session : "", c->env_session ? strlen(c->env_session) : 0);
	out->expires_at = 0;
	out->source = source_names[AWS_CREDS_ENVIRONMENT];
	return 0;
}

/* The shared file's path into buf: 0, or -ENAMETOOLONG. */
static int shared_file_path(const struct aws_creds *c, char *buf, size_t size)
{
	const char *home = c->home;
	char pwbuf[1024];
	struct passwd pw, *pwp = NULL;
	int n;

	if (!home) {
		if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof(pwbuf), &pwp) == 0 && pwp && pwp->pw_dir && *pwp->pw_dir)
			home = pwp->pw_dir;
		else
			home = "/root";
	}
	if (c->shared_file && strncmp(c->shared_file, "~/", 2) == 0)
		n = snprintf(buf, size, "%s/%s", home, c->shared_file + 2);
	else if (c->shared_file)
		n = snprintf(buf, size, "%s", c->shared_file);
	else
		n = snprintf(buf, size, "%s/.aws/credentials", home);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int from_file(struct aws_creds *c, struct aws_credentials *out, struct file_id *id, char *err,
		     size_t errsize)
{
	const char *profile = c->profile ? c->profile : "default";
	char path[4096], why[320], *text = NULL;
	size_t len = 0, plen = strlen(profile);
	int r;

	if (plen > PROFILE_MAX || profile[0] == ' ' || profile[plen - 1] == ' ') {
		seterr(err, errsize, "shared-file: AWS_PROFILE is not a profile's name");
		return -EINVAL;
	}
	for (size_t i = 0; i < plen; i++) {
		unsigned char ch = (unsigned char)profile[i];

		if (ch < ' ' || ch == 0x7f || ch == ']') {
			seterr(err, errsize, "shared-file: AWS_PROFILE is not a profile's name");
			return -EINVAL;
		}
	}
	if (shared_file_path(c, path, sizeof(path)) < 0) {
		seterr(err, errsize, "shared-file: the file's path is too long");
		return -EINVAL;
	}
	r = read_bounded(path, SHARED_FILE_MAX, &text, &len, id);
	if (r == -ENOENT || r == -ENOTDIR) {
		if (c->profile) {
			seterr(err, errsize, "shared-file: AWS_PROFILE=%s but no %s", profile, path);
			return -EINVAL;
		}
		seterr(err, errsize, "shared-file: no %s", path);
		return -ENOKEY;
	}
	if (r == -EFBIG) {
		seterr(err, errsize, "shared-file: %s is larger than %d bytes", path, SHARED_FILE_MAX);
		return -EBADMSG;
	}
	if (r == -ENOMEM)
		return r;
	if (r == -EINVAL) {
		seterr(err, errsize, "shared-file: %s is not a regular file", path);
		return -EIO;
	}
	if (r < 0) {
		seterr(err, errsize, "shared-file: %s: %s", path, strerror(-r));
		return -EIO;
	}
	r = aws_creds_parse_shared_file(text, len, profile, out, why, sizeof(why));
	explicit_bzero(text, len);
	free(text);
	if (r == -ENOKEY && c->profile) {
		seterr(err, errsize, "shared-file: AWS_PROFILE=%s gives no keys in %s", profile, path);
		return -EINVAL;
	}
	if (r < 0)
		seterr(err, errsize, "%s (%s)", why, path);
	return r;
}

/* An http_result() error as the contract's: what could not be reached is -EIO. */
static int transfer_errno(int r)
{
	return r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ECONNRESET ? -EIO : r;
}

/*
 * One request on c->curl: GET, or PUT with an empty body. The answer in c->body, the
 * status in *status, whether a connection was made in *connected. 0 or http_result()'s
 * -errno, why says it.
 */
static int fetch(struct aws_creds *c, const char *url, bool put, struct curl_slist *headers, long connect_ms,
		 long total_ms, const atomic_bool *stop, long *status, bool *connected, char *why, size_t size)
{
	struct http_limits lim = { .connect_timeout_ms = connect_ms, .total_timeout_ms = total_ms };
	curl_off_t connect_us = 0;
	CURLcode rc = CURLE_OK;
	int r;

	*status = 0;
	*connected = false;
	if (http_prepare(c->curl, url, &lim, c->body, stop) < 0) {
		snprintf(why, size, "libcurl refused the URL");
		return -EINVAL;
	}
#define SET(opt, val) (rc = rc ? rc : libcurl.easy_setopt(c->curl, opt, val))
	SET(CURLOPT_NOPROXY, "*");      /* credentials never go through a proxy */
	if (put) {
		SET(CURLOPT_CUSTOMREQUEST, "PUT");
		SET(CURLOPT_POSTFIELDS, "");
		SET(CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (headers)
		SET(CURLOPT_HTTPHEADER, headers);
#undef SET
	if (rc != CURLE_OK) {
		snprintf(why, size, "libcurl: %s", libcurl.easy_strerror(rc));
		return -EINVAL;
	}
	rc = libcurl.easy_perform(c->curl);
	if (libcurl.easy_getinfo(c->curl, CURLINFO_CONNECT_TIME_T, &connect_us) == CURLE_OK && connect_us > 0)
		*connected = true;
	r = http_result(c->curl, rc, c->body, status, why, size);
	libcurl.easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	return r;
}

/* A token (len bytes, its trailing newlines dropped) for a header: 0 or a fault. */
static const char *header_value_fault(const char *s, size_t *len, size_t max)
{
	while (*len && (s[*len - 1] == '\n' || s[*len - 1] == '\r'))
		(*len)--;
	if (!*len)
		return "is empty";
	if (*len > max)
		return "is too long";
	for (size_t i = 0; i < *len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < ' ' || ch == 0x7f)
			return "has a control character";
	}
	return NULL;
}

/* The header "name: value" (value len bytes) appended to *list: 0 or -ENOMEM. */
static int header_add(struct curl_slist **list, const char *name, const char *value, size_t len)
{
	size_t n = strlen(name) + 2 + len + 1;
	struct curl_slist *l;
	char *h = malloc(n);

	if (!h)
		return -ENOMEM;
	snprintf(h, n, "%s: %.*s", name, (int)len, value);
	l = libcurl.slist_append(*list, h);
	explicit_bzero(h, n);
	free(h);
	if (!l)
		return -ENOMEM;
	*list = l;
	return 0;
}

static void headers_free(struct curl_slist *list)
{
	for (struct curl_slist *l = list; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	libcurl.slist_free_all(list);
}

static int from_container(struct aws_creds *c, const atomic_bool *stop, struct aws_credentials *out, char *err,
			  size_t errsize)
{
	struct curl_slist *headers = NULL;
	char url[URI_MAX + sizeof(ECS_URI)], why[CURL_ERROR_SIZE + 64], *text = NULL;
	const char *fault = NULL;
	bool connected;
	long status;
	size_t len;
	int r;

	if (c->relative_uri) {
		/* As the SDKs: the relative URI wins over the full one. */
		len = strlen(c->relative_uri);
		if (c->relative_uri[0] != '/' || len > URI_MAX || header_value_fault(c->relative_uri, &len, URI_MAX) ||
		    strchr(c->relative_uri, ' ') || len != strlen(c->relative_uri)) {
			seterr(err, errsize, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not a path");
			return -EINVAL;
		}
		snprintf(url, sizeof(url), "%s%s", ECS_URI, c->relative_uri);
		if (aws_creds_container_uri_allowed(url) < 0) {
			seterr(err, errsize, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not a path");
			return -EINVAL;
		}
	} else if (c->full_uri) {
		r = aws_creds_container_uri_allowed(c->full_uri);
		if (r == -ENOMEM)
			return r;
		if (r == -EPERM) {
			seterr(err, errsize, "container: AWS_CONTAINER_CREDENTIALS_FULL_URI: http only to a loopback "
			       "address, 169.254.170.2, 169.254.170.23 or fd00:ec2::23");
			return -EINVAL;
		}
		if (r < 0) {
			seterr(err, errsize, "container: AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL");
			return -EINVAL;
		}
		snprintf(url, sizeof(url), "%s", c->full_uri);
	} else {
		seterr(err, errsize, "container: not set");
		return -ENOKEY;
	}

	/* The token file afresh on every fetch: EKS Pod Identity rotates it. */
	if (c->token_file) {
		r = read_bounded(c->token_file, TOKEN_FILE_MAX, &text, &len, NULL);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			seterr(err, errsize, "container: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s", c->token_file,
			       r == -EINVAL ? "not a regular file" : r == -EFBIG ? "larger than 16 KiB" : strerror(-r));
			return -EIO;
		}
		if ((fault = header_value_fault(text, &len, TOKEN_FILE_MAX)) || memchr(text, '\0', len)) {
			seterr(err, errsize, "container: the token in %s %s", c->token_file,
			       fault ? fault : "has a NUL byte");
			r = -EINVAL;
		} else {
			r = header_add(&headers, "Authorization", text, len);
		}
		explicit_bzero(text, len);
		free(text);
		if (r < 0)
			return r;
	} else if (c->token) {
		len = strlen(c->token);
		if ((fault = header_value_fault(c->token, &len, TOKEN_FILE_MAX))) {
			seterr(err, errsize, "container: AWS_CONTAINER_AUTHORIZATION_TOKEN %s", fault);
			return -EINVAL;
		}
		if ((r = header_add(&headers, "Authorization", c->token, len)) < 0)
			return r;
	}

	r = fetch(c, url, false, headers, CONTAINER_CONNECT_MS, CONTAINER_TOTAL_MS, stop, &status, &connected, why,
		  sizeof(why));
	headers_free(headers);
	if (r < 0) {
		seterr(err, errsize, "container: %s", why);
		return transfer_errno(r);
	}
	if (status != 200) {
		seterr(err, errsize, "container: HTTP %ld", status);
		return -EIO;
	}
	if (c->body->dropped) {
		seterr(err, errsize, "container: the answer is longer than %d bytes", HTTP_BODY_MAX);
		return -EBADMSG;
	}
	return aws_creds_parse_json(c->body->data, c->body->len, AWS_CREDS_CONTAINER, time(NULL), out, err, errsize);
}

static const char *role_fault(const char *s, size_t len)
{
	if (!len)
		return "is empty";
	if (len > ROLE_MAX)
		return "is longer than 128 bytes";
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      strchr("+=,.@_-", ch)))
			return "has a character other than A-Z a-z 0-9 + = , . @ _ -";
	}
	return NULL;
}

static int from_imds(struct aws_creds *c, const atomic_bool *stop, struct aws_credentials *out, char *err,
		     size_t errsize)
{
	char base[URI_MAX + 1], url[URI_MAX + 256], why[CURL_ERROR_SIZE + 64], token[IMDS_TOKEN_MAX + 1],
		role[ROLE_MAX + 1];
	int64_t deadline = mono_ms() + IMDS_TOTAL_MS, left;
	struct curl_slist *headers = NULL, *l;
	bool connected, https, allowed;
	const char *fault = NULL;
	size_t len;
	long status;
	int r;

	if (c->imds_disabled && strcasecmp(c->imds_disabled, "true") == 0) {
		seterr(err, errsize, "imds: disabled (AWS_EC2_METADATA_DISABLED)");
		return -ENOKEY;
	}
	if (c->imds_endpoint) {
		r = url_scheme_host(c->imds_endpoint, &https, &allowed);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			seterr(err, errsize, "imds: AWS_EC2_METADATA_SERVICE_ENDPOINT is not an http(s) URL");
			return -EINVAL;
		}
		snprintf(base, sizeof(base), "%s", c->imds_endpoint);
	} else {
		snprintf(base, sizeof(base), "%s",
			 c->imds_mode && strcasecmp(c->imds_mode, "IPv6") == 0 ? IMDS_URI_IPV6 : IMDS_URI);
	}
	len = strlen(base);
	while (len && base[len - 1] == '/')
		base[--len] = '\0';

	/* 1. The session token. */
	snprintf(url, sizeof(url), "%s/latest/api/token", base);
	if ((r = header_add(&headers, "X-aws-ec2-metadata-token-ttl-seconds", "21600", 5)) < 0)
		return r;
	/* No Content-Type for the empty PUT (libcurl would say form data). */
	if (!(l = libcurl.slist_append(headers, "Content-Type:"))) {
		headers_free(headers);
		return -ENOMEM;
	}
	headers = l;
	r = fetch(c, url, true, headers, IMDS_CONNECT_MS, IMDS_TOTAL_MS, stop, &status, &connected, why, sizeof(why));
	headers_free(headers);
	headers = NULL;
	if (r < 0 && !connected && (r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ETIMEDOUT)) {
		/* Nothing there: not on EC2 (or no route to it). */
		seterr(err, errsize, "imds: not reachable (%s)", why);
		return -ENOKEY;
	}
	if (r < 0) {
		seterr(err, errsize, "imds: token: %s", why);
		return transfer_errno(r);
	}
	if (status != 200) {
		seterr(err, errsize, "imds: token: HTTP %ld", status);
		return -EIO;
	}
	len = c->body->len;
	if (c->body->dropped || (fault = header_value_fault(c->body->data, &len, IMDS_TOKEN_MAX)) ||
	    memchr(c->body->data, '\0', len)) {
		seterr(err, errsize, "imds: token: the answer %s", c->body->dropped ? "is too long" :
		       fault ? fault : "has a NUL byte");
		return -EBADMSG;
	}
	memcpy(token, c->body->data, len);
	token[len] = '\0';
	r = header_add(&headers, "X-aws-ec2-metadata-token", token, len);
	explicit_bzero(token, sizeof(token));
	if (r < 0)
		return r;

	/* 2. The role: the first line of the list. */
	left = deadline - mono_ms();
	if (left <= 0) {
		r = -ETIMEDOUT;
		seterr(err, errsize, "imds: no answer within %d ms", IMDS_TOTAL_MS);
		goto out;
	}
	snprintf(url, sizeof(url), "%s%s", base, IMDS_ROLES_PATH);
	r = fetch(c, url, false, headers, left < IMDS_CONNECT_MS ? left : IMDS_CONNECT_MS, left, stop, &status,
		  &connected, why, sizeof(why));
	if (r < 0) {
		seterr(err, errsize, "imds: role: %s", why);
		r = transfer_errno(r);
		goto out;
	}
	if (status == 404) {
		seterr(err, errsize, "imds: no IAM role attached to this instance");
		r = -ENOKEY;
		goto out;
	}
	if (status != 200) {
		seterr(err, errsize, "imds: role: HTTP %ld", status);
		r = -EIO;
		goto out;
	}
	len = strcspn(c->body->data, "\n");
	if (len && c->body->data[len - 1] == '\r')
		len--;
	if (c->body->dropped || (fault = role_fault(c->body->data, len))) {
		seterr(err, errsize, "imds: the role's name %s", c->body->dropped ? "is too long" : fault);
		r = -EBADMSG;
		goto out;
	}
	memcpy(role, c->body->data, len);
	role[len] = '\0';

	/* 3. Its credentials. */
	left = deadline - mono_ms();
	if (left <= 0) {
		r = -ETIMEDOUT;
		seterr(err, errsize, "imds: no answer within %d ms", IMDS_TOTAL_MS);
		goto out;
	}
	snprintf(url, sizeof(url), "%s%s%s", base, IMDS_ROLES_PATH, role);
	r = fetch(c, url, false, headers, left < IMDS_CONNECT_MS ? left : IMDS_CONNECT_MS, left, stop, &status,
		  &connected, why, sizeof(why));
	if (r < 0) {
		seterr(err, errsize, "imds: credentials: %s", why);
		r = transfer_errno(r);
		goto out;
	}
	if (status != 200) {
		seterr(err, errsize, "imds: credentials: HTTP %ld", status);
		r = -EIO;
		goto out;
	}
	if (c->body->dropped) {
		seterr(err, errsize, "imds: the answer is longer than %d bytes", HTTP_BODY_MAX);
		r = -EBADMSG;
		goto out;
	}
	r = aws_creds_parse_json(c->body->data, c->body->len, AWS_CREDS_IMDS, time(NULL), out, err, errsize);
out:
	headers_free(headers);
	return r;
}

static bool stopped(const atomic_bool *stop)
{
	return stop && atomic_load(stop);
}

/* The chain, once: the first source configured answers. *id: the shared file's, when it did. */
static int walk(struct aws_creds *c, const atomic_bool *stop, struct aws_credentials *out, struct file_id *id,
		char *err, size_t errsize)
{
	char notes[4][320];
	int r;

	memset(notes, 0, sizeof(notes));
	r = from_env(c, out, notes[0], sizeof(notes[0]));
	if (r == -ENOKEY) {
		if (stopped(stop))
			goto stop;
		r = from_file(c, out, id, notes[1], sizeof(notes[1]));
	}
	if (r == -ENOKEY) {
		if (stopped(stop))
			goto stop;
		r = from_container(c, stop, out, notes[2], sizeof(notes[2]));
	}
	if (r == -ENOKEY) {
		if (stopped(stop))
			goto stop;
		r = from_imds(c, stop, out, notes[3], sizeof(notes[3]));
	}
	if (r == -ENOKEY) {
		seterr(err, errsize, "no AWS credentials (%s; %s; %s; %s)", notes[0], notes[1], notes[2], notes[3]);
		return r;
	}
	if (r == -ECANCELED)
		goto stop;
	if (r < 0) {
		for (int i = 0; i < 4; i++) {
			if (notes[i][0])
				seterr(err, errsize, "%s", notes[i]);
		}
		if (r == -ENOMEM)
			seterr(err, errsize, "out of memory");
	}
	return r;
stop:
	seterr(err, errsize, "stopped");
	return -ECANCELED;
}

/* Whether the cached set may be returned without walking the chain. */
static bool cached_fresh(const struct aws_creds *c, int64_t now)
{
	struct stat st;
	char path[4096];

	if (!c->have_cached)
		return false;
	if (c->cached.expires_at)
		return c->cached.expires_at - now > AWS_CREDS_REFRESH_MARGIN;
	if (c->cached.source != source_names[AWS_CREDS_SHARED_FILE])
		return true;
	/* The file's, read again when it changed. */
	if (shared_file_path(c, path, sizeof(path)) < 0 || stat(path, &st) < 0)
		return false;
	return st.st_dev == c->file_seen.dev && st.st_ino == c->file_seen.ino && st.st_size == c->file_seen.size &&
	       st.st_mtim.tv_sec == c->file_seen.mtime.tv_sec && st.st_mtim.tv_nsec == c->file_seen.mtime.tv_nsec;
}

static bool cached_valid(const struct aws_creds *c, int64_t now)
{
	return c->have_cached && (c->cached.expires_at == 0 || c->cached.expires_at > now);
}

int aws_creds__get(struct aws_creds *c, const atomic_bool *stop, struct aws_credentials *out, char *err,
		   size_t errsize)
{
	struct aws_credentials fresh;
	struct file_id id = { 0 };
	int64_t now = time(NULL);
	int r;

	seterr(err, errsize, "%s", "");
	if (stopped(stop)) {
		memset(out, 0, sizeof(*out));
		seterr(err, errsize, "stopped");
		return -ECANCELED;
	}
	if (cached_fresh(c, now) || (cached_valid(c, now) && mono_ms() / 1000 < c->retry_after)) {
		*out = c->cached;
		return 0;
	}
	r = walk(c, stop, &fresh, &id, err, errsize);
	if (r == 0) {
		c->cached = fresh;
		c->have_cached = true;
		c->file_seen = id;
		c->retry_after = 0;
		*out = fresh;
		explicit_bzero(&fresh, sizeof(fresh));
		seterr(err, errsize, "%s", "");
		return 0;
	}
	explicit_bzero(&fresh, sizeof(fresh));
	if (r != -ECANCELED && cached_valid(c, now)) {
		/* The old set still works: keep it, try again later. */
		c->retry_after = mono_ms() / 1000 + AWS_CREDS_RETRY_SECONDS;
		*out = c->cached;
		seterr(err, errsize, "%s", "");
		return 0;
	}
	if (c->have_cached && !cached_valid(c, now)) {
		explicit_bzero(&c->cached, sizeof(c->cached));
		c->have_cached = false;
	}
	memset(out, 0, sizeof(*out));
	return r;
}
