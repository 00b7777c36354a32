// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#define _GNU_SOURCE             /* explicit_bzero() */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "curl_lib.h"
#include "http.h"
#include "pyroscope.h"

#define PPROF_EXT "pb.gz"
#define SPY_NAME "inspectd"

/* ---- pure parts ---- */

size_t pyroscope_app_sanitize(const char *s, char *buf, size_t size)
{
	size_t n = 0, max = size ? size - 1 : 0;

	if (max > PYROSCOPE_APP_MAX)
		max = PYROSCOPE_APP_MAX;
	for (; s && s[n] && n < max; n++) {
		char c = s[n];
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
			    c == '_' || c == '-';

		buf[n] = keep ? c : '_';
	}
	if (size)
		buf[n] = '\0';
	return n;
}

size_t pyroscope_label_sanitize(const char *s, char *buf, size_t size)
{
	size_t n = 0, max = size ? size - 1 : 0;

	if (max > PYROSCOPE_LABEL_MAX)
		max = PYROSCOPE_LABEL_MAX;
	for (; s && s[n] && n < max; n++) {
		unsigned char c = (unsigned char)s[n];
		bool keep = c > ' ' && c < 0x7f && !strchr("{}=,\"", c);

		buf[n] = keep ? (char)c : '_';
	}
	if (size)
		buf[n] = '\0';
	return n;
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && strcmp(s + n - t, tail) == 0;
}

/* node's options whose value may come as the next argument. */
static bool takes_value(const char *opt)
{
	static const char *const with_value[] = {
		"-r", "--require", "--import", "--loader", "--experimental-loader", "--env-file",
		"--env-file-if-exists", "--inspect-port", "--debug-port", "--title", "-C", "--conditions",
		"--input-type", "--openssl-config", "--icu-data-dir", "--redirect-warnings", "--diagnostic-dir",
		"--report-dir", "--report-directory", "--report-filename", "--cpu-prof-dir", "--heap-prof-dir",
		"--experimental-policy", "--watch-path", "--disable-warning", "--dns-result-order",
		"--unhandled-rejections", "--stack-trace-limit", "--max-old-space-size", "--max-semi-space-size",
	};

	for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++) {
		if (strcmp(opt, with_value[i]) == 0)
			return true;
	}
	return false;
}

/* The script of a node command line: NULL when there is none that ends in .js. */
static const char *script_of(const cJSON *argv)
{
	static const char *const exts[] = { ".js", ".mjs", ".cjs" };
	int n = cJSON_GetArraySize(argv);

	for (int i = 1; i < n; i++) {
		const cJSON *a = cJSON_GetArrayItem(argv, i);
		const char *s = cJSON_IsString(a) ? a->valuestring : NULL;

		if (!s)
			return NULL;
		if (strcmp(s, "--") == 0) {
			a = cJSON_GetArrayItem(argv, i + 1);
			s = cJSON_IsString(a) ? a->valuestring : NULL;
		} else if (s[0] == '-' && s[1]) {
			/* -e, -p: no script; -pe, --eval=...: the same */
			if (strcmp(s, "-e") == 0 || strcmp(s, "-p") == 0 || strncmp(s, "--eval", 6) == 0 ||
			    strncmp(s, "--print", 7) == 0 || strcmp(s, "-pe") == 0 || strcmp(s, "-ep") == 0)
				return NULL;
			if (takes_value(s))
				i++;
			continue;
		}
		for (size_t k = 0; s && k < sizeof(exts) / sizeof(exts[0]); k++) {
			if (ends_with(s, exts[k]))
				return s;
		}
		return NULL;
	}
	return NULL;
}

void pyroscope_app_default(const struct cJSON *meta, char *buf, size_t size)
{
	const char *container = str_at(meta, "container", "name");
	const char *script = container ? NULL : script_of(cJSON_GetObjectItemCaseSensitive(meta, "cmdline"));
	char name[PYROSCOPE_APP_MAX + 1];
	size_t n = 0;

	if (container) {
		n = pyroscope_app_sanitize(container, buf, size);
	} else if (script) {
		const char *slash = strrchr(script, '/'), *dot;

		script = slash ? slash + 1 : script;
		dot = strrchr(script, '.');     /* there is one: it ends in .js */
		n = (size_t)(dot - script);
		if (n > PYROSCOPE_APP_MAX)
			n = PYROSCOPE_APP_MAX;
		memcpy(name, script, n);
		name[n] = '\0';
		n = pyroscope_app_sanitize(name, buf, size);
	}
	if (n == 0)
		snprintf(buf, size, "node");
}

static bool digits(const char *s, size_t n, int *ret)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int pyroscope_parse_time(const char *s, int64_t *ret_sec, long *ret_nsec)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, mlen;
	long nsec = 0;
	size_t i = 19, nd;

	/* "YYYY-MM-DDTHH:MM:SS" */
	if (!s || strnlen(s, 20) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
	    !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
		return -EINVAL;
	if (s[i] == '.') {
		for (nd = 0, i++; s[i] >= '0' && s[i] <= '9'; i++, nd++) {
			if (nd >= 9)
				return -EINVAL;
			nsec = nsec * 10 + (s[i] - '0');
		}
		if (nd == 0)
			return -EINVAL;
		for (; nd < 9; nd++)
			nsec *= 10;
	}
	if (s[i] != 'Z' || s[i + 1] != '\0')
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
		return -EINVAL;
	mlen = mdays[mo - 1] + (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	if (d < 1 || d > mlen)
		return -EINVAL;
	*ret_sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	*ret_nsec = nsec;
	return 0;
}

/* The name parameter's longest text: the app, and each label "k=v," of at most
 * 16 + PYROSCOPE_LABEL_MAX bytes. */
#define NAME_TEXT_MAX (PYROSCOPE_APP_MAX + 2 + 5 * (16 + PYROSCOPE_LABEL_MAX + 1) + 1)

int pyroscope_ingest_url(const char *base, const struct pyroscope_push *p, char *buf, size_t size)
{
	const struct {
		const char *key;
		const char *value;
	} labels[] = {
		{ "hostname", p->hostname },
		{ "namespace", p->namespace },
		{ "pod", p->pod },
		{ "container", p->container },
	};
	char name[NAME_TEXT_MAX], value[PYROSCOPE_LABEL_MAX + 1];
	size_t n, blen, o;
	bool any = false;
	int w;

	if (!base || !p->app)
		return -EINVAL;
	n = pyroscope_app_sanitize(p->app, name, PYROSCOPE_APP_MAX + 1);
	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		if (!labels[i].value || !labels[i].value[0])
			continue;
		pyroscope_label_sanitize(labels[i].value, value, sizeof(value));
		n += (size_t)snprintf(name + n, sizeof(name) - n, "%c%s=%s", any ? ',' : '{', labels[i].key, value);
		any = true;
	}
	if (p->pid > 0) {
		n += (size_t)snprintf(name + n, sizeof(name) - n, "%cpid=%" PRId64, any ? ',' : '{', p->pid);
		any = true;
	}
	if (any)
		name[n++] = '}';
	name[n] = '\0';

	blen = strlen(base);
	if (blen && base[blen - 1] == '/')
		blen--;
	w = snprintf(buf, size, "%.*s/ingest?name=", (int)blen, base);
	if (w < 0 || (size_t)w >= size)
		return -ENAMETOOLONG;
	o = (size_t)w;
	w = http_uri_encode(name, n, false, buf + o, size - o);
	if (w < 0)
		return -ENAMETOOLONG;
	o += (size_t)w;
	w = snprintf(buf + o, size - o, "&from=%" PRId64 "&until=%" PRId64 "&spyName=" SPY_NAME, p->from, p->until);
	if (w < 0 || (size_t)w >= size - o)
		return -ENAMETOOLONG;
	o += (size_t)w;
	if (p->sample_rate) {
		w = snprintf(buf + o, size - o, "&sampleRate=%" PRIu32, p->sample_rate);
		if (w < 0 || (size_t)w >= size - o)
			return -ENAMETOOLONG;
		o += (size_t)w;
	}
	return (int)o;
}

/* ---- the exporter ---- */

/* The profiles Pyroscope reads, by the commit's kind. */
enum pyroscope_kind {
	PYROSCOPE_HEAP,
	PYROSCOPE_CPU,
	_PYROSCOPE_KIND_MAX,
};

static const char *const pyroscope_kind_names[_PYROSCOPE_KIND_MAX] = {
	[PYROSCOPE_HEAP] = "heap-profile",
	[PYROSCOPE_CPU] = "cpu-profile",
};

static int pyroscope_kind_of(const char *kind)
{
	for (int k = 0; kind && k < _PYROSCOPE_KIND_MAX; k++) {
		if (strcmp(kind, pyroscope_kind_names[k]) == 0)
			return k;
	}
	return -EOPNOTSUPP;
}

static const struct delivery_file *pprof_of(const struct delivery *d)
{
	for (size_t i = 0; i < d->n_files; i++) {
		if (d->files[i].ext && strcmp(d->files[i].ext, PPROF_EXT) == 0 && d->files[i].name)
			return &d->files[i];
	}
	return NULL;
}

static bool pyro_wants(const struct delivery *d)
{
	return pyroscope_kind_of(d->kind) >= 0 && pprof_of(d);
}

/* A secret read from a file: the bytes, and what the file was when they were read. */
struct secret {
	char *path;
	char *value;            /* NUL-terminated, trimmed; wiped when freed */
	struct stat st;
};

struct pyro {
	CURL *h;
	struct http_body *body;
	struct curl_slist *headers;     /* "Expect:", X-Scope-OrgID: no secret */
	char url[PYROSCOPE_BASE_URL_MAX + 1];
	char app[PYROSCOPE_APP_MAX + 1];        /* "": per commit */
	char *basic_user;
	struct secret password;
	struct secret token;
};

static void secret_wipe(struct secret *s)
{
	if (s->value) {
		explicit_bzero(s->value, strlen(s->value));
		free(s->value);
		s->value = NULL;
	}
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* (Re)read s->path: 0, or -errno (-EINVAL: empty, too large, a control character inside);
 * s->value is kept as it was on failure. */
static int secret_read(struct secret *s)
{
	char *buf = NULL;
	size_t n = 0, start = 0;
	struct stat st;
	int fd, r;

	/* O_NONBLOCK: a FIFO put there does not hang the thread (it is then refused) */
	fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	r = -EINVAL;
	if (!S_ISREG(st.st_mode) || st.st_size > PYROSCOPE_SECRET_MAX)
		goto out;
	r = -ENOMEM;
	if (!(buf = malloc(PYROSCOPE_SECRET_MAX + 2)))
		goto out;
	for (;;) {
		ssize_t got = read(fd, buf + n, PYROSCOPE_SECRET_MAX + 1 - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > PYROSCOPE_SECRET_MAX) {
			r = -EINVAL;
			goto out;
		}
	}
	while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t' || buf[n - 1] == '\r' || buf[n - 1] == '\n'))
		n--;
	while (start < n && (buf[start] == ' ' || buf[start] == '\t' || buf[start] == '\r' || buf[start] == '\n'))
		start++;
	r = -EINVAL;
	if (start == n)
		goto out;
	for (size_t i = start; i < n; i++) {
		if ((unsigned char)buf[i] < ' ' || buf[i] == 0x7f)
			goto out;
	}
	memmove(buf, buf + start, n - start);
	explicit_bzero(buf + (n - start), PYROSCOPE_SECRET_MAX + 2 - (n - start));
	buf[n - start] = '\0';
	secret_wipe(s);
	s->value = buf;
	s->st = st;
	buf = NULL;
	r = 0;
out:
	if (buf) {
		explicit_bzero(buf, PYROSCOPE_SECRET_MAX + 2);
		free(buf);
	}
	close(fd);
	return r;
}

static void pyro_free(void *state)
{
	struct pyro *s = state;

	if (!s)
		return;
	if (s->h)
		libcurl.easy_cleanup(s->h);
	if (s->headers)
		libcurl.slist_free_all(s->headers);
	free(s->body);
	free(s->basic_user);
	secret_wipe(&s->password);
	secret_wipe(&s->token);
	free(s->password.path);
	free(s->token.path);
	free(s);
}

/* http(s)://host[:port][/path], no credentials, query or fragment; trailing '/' dropped. */
static int url_check(const char *url, char *buf, size_t size)
{
	size_t n = url ? strlen(url) : 0, skip;
	const char *host, *slash;

	if (!url || n > PYROSCOPE_BASE_URL_MAX || n >= size)
		return -EINVAL;
	if (strncasecmp(url, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		skip = 8;
	else
		return -EINVAL;
	host = url + skip;
	slash = strchr(host, '/');
	if (!host[0] || host[0] == '/' || memchr(host, '@', slash ? (size_t)(slash - host) : strlen(host)))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c <= ' ' || c >= 0x7f || c == '?' || c == '#')
			return -EINVAL;
	}
	while (n > skip && url[n - 1] == '/')
		n--;
	memcpy(buf, url, n);
	buf[n] = '\0';
	return 0;
}

/* What dskit's tenant.ValidTenantID() takes. */
static bool tenant_ok(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > PYROSCOPE_TENANT_MAX || strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("!-_.*'()", c)))
			return false;
	}
	return true;
}

int pyroscope_exporter__new(const struct pyroscope_config *cfg, void **ret_state)
{
	struct pyro *s = calloc(1, sizeof(*s));
	char tenant[sizeof("X-Scope-OrgID: ") + PYROSCOPE_TENANT_MAX];
	struct curl_slist *l;
	int r = -ENOMEM;

	if (!s)
		return -ENOMEM;
	r = curl_lib_load();
	if (r < 0)
		goto fail;
	r = -ENOMEM;
	if (!(s->body = malloc(sizeof(*s->body))) || !(s->h = libcurl.easy_init()))
		goto fail;
	r = -EINVAL;
	if (url_check(cfg->url, s->url, sizeof(s->url)) < 0)
		goto fail;
	if (cfg->app && pyroscope_app_sanitize(cfg->app, s->app, sizeof(s->app)) == 0)
		goto fail;
	if (!cfg->basic_user != !cfg->basic_password_file || (cfg->basic_user && cfg->token_file))
		goto fail;
	if (cfg->basic_user) {
		if (!cfg->basic_user[0] || strchr(cfg->basic_user, ':'))
			goto fail;
		for (const char *c = cfg->basic_user; *c; c++) {
			if ((unsigned char)*c < ' ' || *c == 0x7f)
				goto fail;
		}
		r = -ENOMEM;
		if (!(s->basic_user = strdup(cfg->basic_user)) || !(s->password.path = strdup(cfg->basic_password_file)))
			goto fail;
		r = secret_read(&s->password);
		if (r < 0)
			goto fail_config;
	}
	if (cfg->token_file) {
		r = -ENOMEM;
		if (!(s->token.path = strdup(cfg->token_file)))
			goto fail;
		r = secret_read(&s->token);
		if (r < 0)
			goto fail_config;
	}
	r = -EINVAL;
	if (cfg->tenant && !tenant_ok(cfg->tenant))
		goto fail;
	r = -ENOMEM;
	/* An empty Expect: no wait for a "100 Continue" a proxy may never send. */
	if (!(l = libcurl.slist_append(NULL, "Expect:")))
		goto fail;
	s->headers = l;
	if (cfg->tenant) {
		snprintf(tenant, sizeof(tenant), "X-Scope-OrgID: %s", cfg->tenant);
		if (!(l = libcurl.slist_append(s->headers, tenant)))
			goto fail;
		s->headers = l;
	}
	*ret_state = s;
	return 0;
fail_config:
	r = r == -ENOMEM ? r : -EINVAL;
fail:
	pyro_free(s);
	return r;
}

/* The pprof, streamed from its file. */
static size_t file_read(char *buf, size_t size, size_t nitems, void *arg)
{
	int fd = *(int *)arg;
	ssize_t n;

	do
		n = read(fd, buf, size * nitems);
	while (n < 0 && errno == EINTR);
	return n < 0 ? CURL_READFUNC_ABORT : (size_t)n;
}

static int file_seek(void *arg, curl_off_t offset, int origin)
{
	return lseek(*(int *)arg, (off_t)offset, origin) < 0 ? CURL_SEEKFUNC_FAIL : CURL_SEEKFUNC_OK;
}

/* The first 200 printable characters of an answer, each run of anything else one space. */
static void excerpt(const char *body, size_t len, char *out, size_t size)
{
	size_t o = 0, kept = 0;

	for (size_t i = 0; i < len && kept < 200 && o + 1 < size; i++) {
		unsigned char c = (unsigned char)body[i];

		if (c > ' ' && c < 0x7f) {
			out[o++] = (char)c;
			kept++;
		} else if (o && out[o - 1] != ' ') {
			out[o++] = ' ';
		}
	}
	while (o && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

static int64_t number_at(const cJSON *o, const char *a, const char *b, int64_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble <= (double)max ? (int64_t)v->valuedouble : 0;
}

/* from, until and the labels of one commit, from its meta.json. */
static void push_of(const struct delivery *d, int kind, struct pyroscope_push *p)
{
	const cJSON *profile = cJSON_GetObjectItemCaseSensitive(d->meta, "profile");
	int64_t from, until;
	long from_ns, until_ns;
	int64_t us;

	p->hostname = d->hostname;
	p->namespace = str_at(d->meta, "kubernetes", "namespace");
	p->pod = str_at(d->meta, "kubernetes", "pod");
	p->container = str_at(d->meta, "container", "name");
	p->pid = number_at(d->meta, "pid", NULL, INT32_MAX);
	if (pyroscope_parse_time(str_at(profile, "started_at", NULL), &from, &from_ns) == 0 &&
	    pyroscope_parse_time(str_at(profile, "ended_at", NULL), &until, &until_ns) == 0 && from <= until) {
		p->from = from;
		p->until = until + (until_ns > 0);
	} else {
		p->from = p->until = d->committed_at;
	}
	/* CPU: the sampling rate in Hz, rounded up (the pprof's period says it exactly). */
	us = kind == PYROSCOPE_CPU ? number_at(profile, "sampling", "sampling_interval_us", 1000000000) : 0;
	p->sample_rate = us ? (uint32_t)((1000000 + us - 1) / us) : 0;
}

/* The bearer token again when its file changed; 0 or -errno. */
static int token_refresh(struct pyro *s)
{
	struct stat st;

	if (!s->token.path)
		return 0;
	if (stat(s->token.path, &st) < 0)
		return -errno;
	return same_file(&st, &s->token.st) ? 0 : secret_read(&s->token);
}

static int pyro_deliver(void *state, const struct delivery *d, char *err, size_t errsize)
{
	struct pyro *s = state;
	const struct delivery_file *f = pprof_of(d);
	int kind = pyroscope_kind_of(d->kind), fd = -1, r;
	char app[PYROSCOPE_APP_MAX + 1], why[CURL_ERROR_SIZE + 64], body[256];
	struct pyroscope_push p = { .app = app };
	curl_mimepart *part;
	curl_mime *mime = NULL;
	char *url = NULL;
	struct stat st;
	CURLcode rc;
	long status;

	if (s->app[0])
		snprintf(app, sizeof(app), "%s", s->app);
	else
		pyroscope_app_default(d->meta, app, sizeof(app));
	if (kind < 0 || !f) {
		snprintf(err, errsize, "POST %s/ingest app=%s: %s: not a profile with a pprof", s->url, app, d->base);
		return -EINVAL;
	}
	push_of(d, kind, &p);
	snprintf(why, sizeof(why), "%s", strerror(ENOMEM));
	r = -ENOMEM;
	if (!(url = malloc(PYROSCOPE_URL_MAX)))
		goto fail_why;
	r = pyroscope_ingest_url(s->url, &p, url, PYROSCOPE_URL_MAX);
	if (r < 0) {
		snprintf(why, sizeof(why), "the ingest URL: %s", strerror(-r));
		goto fail_why;
	}
	r = token_refresh(s);
	if (r < 0) {
		/* the path is configuration, not a secret */
		snprintf(why, sizeof(why), "token file %s: %s", s->token.path, strerror(-r));
		goto fail_why;
	}
	/* O_NONBLOCK: a FIFO in the folder does not hang the thread (it is then refused) */
	fd = openat(d->dirfd, f->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(why, sizeof(why), "%s: %s", f->name, strerror(errno));
		goto fail_why;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		snprintf(why, sizeof(why), "%s: not a regular file", f->name);
		goto fail_why;
	}

	r = http_prepare(s->h, url, NULL, s->body, d->stop);
	if (r < 0) {
		snprintf(why, sizeof(why), "libcurl refused the URL");
		goto fail_why;
	}
	snprintf(why, sizeof(why), "%s", strerror(ENOMEM));
	r = -ENOMEM;
	if (!(mime = libcurl.mime_init(s->h)) || !(part = libcurl.mime_addpart(mime)))
		goto fail_why;
	rc = libcurl.mime_name(part, "profile");
	rc = rc ? rc : libcurl.mime_filename(part, "profile");
	rc = rc ? rc : libcurl.mime_type(part, "application/octet-stream");
	rc = rc ? rc : libcurl.mime_data_cb(part, (curl_off_t)st.st_size, file_read, file_seek, NULL, &fd);
	rc = rc ? rc : libcurl.easy_setopt(s->h, CURLOPT_MIMEPOST, mime);
	rc = rc ? rc : libcurl.easy_setopt(s->h, CURLOPT_HTTPHEADER, s->headers);
	if (rc == CURLE_OK && s->basic_user) {
		rc = libcurl.easy_setopt(s->h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		rc = rc ? rc : libcurl.easy_setopt(s->h, CURLOPT_USERNAME, s->basic_user);
		rc = rc ? rc : libcurl.easy_setopt(s->h, CURLOPT_PASSWORD, s->password.value);
	} else if (rc == CURLE_OK && s->token.value) {
		/* "Authorization: Bearer <token>", sent with the first request */
		rc = libcurl.easy_setopt(s->h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		rc = rc ? rc : libcurl.easy_setopt(s->h, CURLOPT_XOAUTH2_BEARER, s->token.value);
	}
	if (rc != CURLE_OK) {
		r = rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
		snprintf(why, sizeof(why), "libcurl: %s", libcurl.easy_strerror(rc));
		goto fail_why;
	}

	rc = libcurl.easy_perform(s->h);
	r = http_result(s->h, rc, s->body, &status, why, sizeof(why));
	if (r < 0)
		goto fail_why;
	if (status >= 200 && status < 300) {
		r = 0;
		goto out;
	}
	r = status == 401 || status == 403 ? -EACCES : status == 429 || status >= 500 ? -EAGAIN : -EPROTO;
	excerpt(s->body->data, s->body->len, body, sizeof(body));
	snprintf(err, errsize, "POST %s/ingest app=%s: HTTP %ld%s%s", s->url, app, status, body[0] ? ": " : "", body);
	goto out;

fail_why:
	snprintf(err, errsize, "POST %s/ingest app=%s: %s", s->url, app, why);
out:
	/* nothing of this commit's stays on the handle: no dangling mime, file or secret */
	libcurl.easy_reset(s->h);
	libcurl.mime_free(mime);
	if (fd >= 0)
		close(fd);
	free(url);
	return r;
}

const struct remote_exporter_ops pyroscope_exporter_ops = {
	.name = "pyroscope",
	.wants = pyro_wants,
	.deliver = pyro_deliver,
	.free = pyro_free,
};
