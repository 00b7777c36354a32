// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* inspectctl's pure parts: the agent's JSON -> table rows and lines. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inspectctl_format.h"

#define CAPTURE_SECONDS_MAX 86400
#define ERROR_MAX_CHARS 200
#define CATEGORIES_MAX_CHARS 512
#define TRIGGER_MAX_CHARS 200
/* Raw text gathered before sanitizing: enough for any cell shown cut short. */
#define JOIN_SIZE 1024
/* Columns are fixed by the caller; the bound keeps the widths on the stack. */
#define TABLE_MAX_COLUMNS 16

/* ---- arguments ---- */

int format_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

bool format_capture_id_valid(const char *id)
{
	size_t n;

	if (!id)
		return false;
	n = strlen(id);
	if (n == 0 || n > FORMAT_CAPTURE_ID_MAX)
		return false;
	/* Not dots only, as "." and ".." are: the id is a path segment. */
	if (strspn(id, ".") == n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* ---- cells ---- */

int format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	unsigned unit = 0;
	uint64_t div = 1024, q, r, tenths;
	int n;

	if (bytes < 1024) {
		n = snprintf(buf, len, "%" PRIu64 "B", bytes);
		return n < 0 || (size_t)n >= len ? -ENOBUFS : 0;
	}
	while (unit < sizeof(units) - 2 && bytes / div >= 1024) {
		div *= 1024;
		unit++;
	}
	for (;;) {
		/* Integer arithmetic: r * 10 cannot overflow, r < div <= 2^60. */
		q = bytes / div;
		r = bytes % div;
		tenths = q * 10 + (r * 10 + div / 2) / div;
		/* 1048575 bytes is 1024.0K once rounded: show 1.0M. */
		if (tenths < 10240 || unit == sizeof(units) - 2)
			break;
		div *= 1024;
		unit++;
	}
	n = snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%c", tenths / 10, tenths % 10, units[unit]);
	return n < 0 || (size_t)n >= len ? -ENOBUFS : 0;
}

/*
 * The length of the character at p (at least 1, never past the NUL) and
 * whether it may reach a terminal as it is.
 */
static size_t char_at(const unsigned char *p, bool *printable)
{
	uint32_t cp;
	size_t n;

	*printable = false;
	if (p[0] < 0x80) {
		*printable = p[0] >= 0x20 && p[0] != 0x7f;
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		/* A NUL is not a continuation byte: this never reads past it. */
		if ((p[i] & 0xc0) != 0x80)
			return 1;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 1;
	/* C1 controls, line and paragraph separators, bidi overrides and isolates. */
	*printable = !(cp <= 0x9f || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
		       (cp >= 0x2066 && cp <= 0x2069));
	return n;
}

int format_cell(const char *s, size_t max_chars, char *buf, size_t len)
{
	const unsigned char *p;
	size_t total = 0, keep, out = 0, chars = 0, n;
	bool printable;

	if (!buf || len == 0)
		return -ENOBUFS;
	if (!s || !*s)
		s = "-";
	for (p = (const unsigned char *)s; *p; p += n, total++)
		n = char_at(p, &printable);
	keep = total;
	if (total > max_chars)
		keep = max_chars >= 3 ? max_chars - 3 : max_chars;
	for (p = (const unsigned char *)s; chars < keep; p += n, chars++) {
		n = char_at(p, &printable);
		if (!printable) {
			if (out + 1 >= len)
				goto nobufs;
			buf[out++] = '?';
			continue;
		}
		if (out + n >= len)
			goto nobufs;
		memcpy(buf + out, p, n);
		out += n;
	}
	if (total > max_chars && max_chars >= 3) {
		if (out + 3 >= len)
			goto nobufs;
		memcpy(buf + out, "...", 3);
		out += 3;
		chars += 3;
	}
	buf[out] = '\0';
	return chars > INT_MAX ? INT_MAX : (int)chars;
nobufs:
	buf[0] = '\0';
	return -ENOBUFS;
}

size_t format_width(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* ---- tables ---- */

struct table {
	const struct table_column *columns;
	size_t ncolumns;
	char **cells; /* nrows * ncolumns, row after row */
	size_t nrows;
	size_t capacity; /* rows */
};

struct table *table__new(const struct table_column *columns, size_t ncolumns)
{
	struct table *t;

	if (!columns || ncolumns == 0 || ncolumns > TABLE_MAX_COLUMNS)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->columns = columns;
	t->ncolumns = ncolumns;
	return t;
}

int table__add_row(struct table *t, const char *const *cells)
{
	char **row;

	if (t->nrows == t->capacity) {
		size_t capacity = t->capacity ? t->capacity * 2 : 16;
		char **grown;

		if (capacity > SIZE_MAX / t->ncolumns / sizeof(char *))
			return -ENOMEM;
		grown = realloc(t->cells, capacity * t->ncolumns * sizeof(char *));
		if (!grown)
			return -ENOMEM;
		t->cells = grown;
		t->capacity = capacity;
	}
	row = t->cells + t->nrows * t->ncolumns;
	for (size_t i = 0; i < t->ncolumns; i++) {
		row[i] = strdup(cells[i] ? cells[i] : "-");
		if (!row[i]) {
			while (i-- > 0)
				free(row[i]);
			return -ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

size_t table__rows(const struct table *t)
{
	return t ? t->nrows : 0;
}

static void table__print_row(const struct table *t, const size_t *widths, const char *const *cells, FILE *f)
{
	for (size_t i = 0; i < t->ncolumns; i++) {
		size_t width = format_width(cells[i]);
		size_t pad = widths[i] > width ? widths[i] - width : 0;
		bool last = i + 1 == t->ncolumns;

		if (i > 0)
			fputs("  ", f);
		if (t->columns[i].align == TABLE_RIGHT)
			fprintf(f, "%*s", (int)pad, "");
		fputs(cells[i], f);
		if (t->columns[i].align == TABLE_LEFT && !last)
			fprintf(f, "%*s", (int)pad, "");
	}
	fputc('\n', f);
}

int table__print(const struct table *t, FILE *f)
{
	const char *header[TABLE_MAX_COLUMNS];
	size_t widths[TABLE_MAX_COLUMNS];

	for (size_t i = 0; i < t->ncolumns; i++) {
		header[i] = t->columns[i].header;
		widths[i] = format_width(header[i]);
	}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncolumns; i++) {
			size_t width = format_width(t->cells[r * t->ncolumns + i]);

			if (width > widths[i])
				widths[i] = width;
		}
	}
	/* A cell is at most FORMAT_PATH_MAX_CHARS wide: the widths fit an int. */
	table__print_row(t, widths, header, f);
	for (size_t r = 0; r < t->nrows; r++)
		table__print_row(t, widths, (const char *const *)t->cells + r * t->ncolumns, f);
	return ferror(f) ? -EIO : 0;
}

void table__free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncolumns; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* ---- JSON fields ---- */

static const cJSON *json_member(const cJSON *object, const char *key)
{
	if (!cJSON_IsObject(object))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(object, key);
}

static const char *json_string(const cJSON *object, const char *key)
{
	const cJSON *item = json_member(object, key);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* A non-negative number, fractions cut off. */
static bool json_u64(const cJSON *object, const char *key, uint64_t *ret)
{
	const cJSON *item = json_member(object, key);
	double v;

	if (!cJSON_IsNumber(item))
		return false;
	v = item->valuedouble;
	if (!isfinite(v) || v < 0 || v >= 18446744073709551616.0)
		return false;
	*ret = (uint64_t)v;
	return true;
}

/* A whole number within [min, max]. */
static bool json_whole(const cJSON *object, const char *key, int64_t min, int64_t max, int64_t *ret)
{
	const cJSON *item = json_member(object, key);
	double v;

	if (!cJSON_IsNumber(item))
		return false;
	v = item->valuedouble;
	if (!isfinite(v) || v < (double)min || v > (double)max || (double)(int64_t)v != v)
		return false;
	*ret = (int64_t)v;
	return true;
}

static void cell_pid(const cJSON *object, char *buf, size_t len)
{
	int64_t pid;

	if (json_whole(object, "pid", 1, INT32_MAX, &pid))
		snprintf(buf, len, "%" PRId64, pid);
	else
		snprintf(buf, len, "-");
}

static void cell_size(const cJSON *object, const char *key, char *buf, size_t len)
{
	uint64_t bytes;

	if (!json_u64(object, key, &bytes) || format_size(bytes, buf, len) < 0)
		snprintf(buf, len, "-");
}

static void cell_string(const char *s, size_t max_chars, char *buf, size_t len)
{
	if (format_cell(s, max_chars, buf, len) < 0)
		snprintf(buf, len, "-");
}

/*
 * The array's strings joined by sep into buf, cut short when they do not fit
 * (format_cell() then cuts further and shows "..."). Returns how many strings.
 */
static size_t join_strings(const cJSON *array, const char *sep, char *buf, size_t len)
{
	size_t out = 0, count = 0;
	const cJSON *item;

	buf[0] = '\0';
	if (!cJSON_IsArray(array))
		return 0;
	cJSON_ArrayForEach(item, array) {
		const char *parts[2] = { count ? sep : "", item->valuestring };

		if (!cJSON_IsString(item))
			continue;
		for (size_t i = 0; i < 2; i++) {
			size_t n = strlen(parts[i]);

			if (out + n >= len)
				n = len - 1 - out;
			memcpy(buf + out, parts[i], n);
			out += n;
		}
		buf[out] = '\0';
		count++;
		if (out == len - 1)
			break;
	}
	return count;
}

/* ---- processes ---- */

const struct table_column process_row_columns[PROCESS_ROW_COLUMNS] = {
	{ "PID", TABLE_RIGHT },	  { "CONTAINER", TABLE_LEFT }, { "POD", TABLE_LEFT },	 { "COMM", TABLE_LEFT },
	{ "RSS", TABLE_RIGHT },	  { "CPU%", TABLE_RIGHT },     { "LIMIT", TABLE_RIGHT }, { "STATE", TABLE_LEFT },
	{ "ARMED", TABLE_LEFT },  { "SELECTED", TABLE_LEFT }, { "NEXT", TABLE_LEFT },	 { "CMDLINE", TABLE_LEFT },
};

/* Digits only, n of them, as a number within [min, max]. */
static bool digits(const char *s, size_t n, int min, int max, int *ret)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return v >= min && v <= max;
}

int format_parse_rfc3339(const char *s, int64_t *ret_ms)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct tm tm = { 0 };
	int year, mon, day, hour, min, sec, ms = 0, scale = 100;
	const char *p;
	time_t t;

	if (!s || strnlen(s, 20) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || !digits(s, 4, 1970, 9999, &year) || !digits(s + 5, 2, 1, 12, &mon) ||
	    !digits(s + 8, 2, 1, 31, &day) || !digits(s + 11, 2, 0, 23, &hour) || !digits(s + 14, 2, 0, 59, &min) ||
	    !digits(s + 17, 2, 0, 60, &sec) || day > mdays[mon - 1])
		return -EINVAL;
	p = s + 19;
	if (*p == '.') {
		if (!(p[1] >= '0' && p[1] <= '9'))
			return -EINVAL;
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (p - (s + 20) >= 9)
				return -EINVAL;
			ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (strcmp(p, "Z") != 0)
		return -EINVAL;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* 29 February of a year that has none comes back as 1 March. */
	if (t == (time_t)-1 || tm.tm_mday != day)
		return -EINVAL;
	*ret_ms = (int64_t)t * 1000 + ms;
	return 0;
}

/* The schedule's next round (--every): "in 42s cpu"; "now cpu" once due (the agent starts
 * it within a second); "-" when none comes, or what the agent sent is not a round. */
static void cell_next(const cJSON *next, int64_t now_ms, char *buf, size_t len)
{
	const char *kind = json_string(next, "kind");
	char when[32], text[JOIN_SIZE];
	int64_t at;

	if (!kind || !*kind || format_parse_rfc3339(json_string(next, "at"), &at) < 0) {
		snprintf(buf, len, "-");
		return;
	}
	if (at <= now_ms)
		snprintf(when, sizeof(when), "now");
	else if (format_age((uint64_t)(at - now_ms + 999) / 1000, when + 3, sizeof(when) - 3) == 0)
		memcpy(when, "in ", 3);
	else
		snprintf(when, sizeof(when), "-");
	snprintf(text, sizeof(text), "%s %.64s", when, kind);
	cell_string(text, FORMAT_CELL_MAX_CHARS, buf, len);
}


int process_row__from_json(struct process_row *row, const cJSON *proc, int64_t now_ms)
{
	const cJSON *item;
	char joined[JOIN_SIZE];

	if (!cJSON_IsObject(proc))
		return -EINVAL;

	cell_pid(proc, row->pid, sizeof(row->pid));
	item = json_member(proc, "container");
	if (cJSON_IsObject(item) && json_string(item, "name") && *json_string(item, "name")) {
		cell_string(json_string(item, "name"), FORMAT_CELL_MAX_CHARS, row->container, sizeof(row->container));
	} else if (cJSON_IsObject(item) && json_string(item, "id")) {
		char id[13];

		snprintf(id, sizeof(id), "%s", json_string(item, "id"));
		cell_string(id, sizeof(id) - 1, row->container, sizeof(row->container));
	} else {
		snprintf(row->container, sizeof(row->container), "-");
	}
	/* "namespace/pod", as kubectl names a pod. */
	item = json_member(proc, "kubernetes");
	if (cJSON_IsObject(item) && json_string(item, "pod") && *json_string(item, "pod")) {
		const char *ns = json_string(item, "namespace");

		snprintf(joined, sizeof(joined), "%s%s%s", ns && *ns ? ns : "", ns && *ns ? "/" : "",
			 json_string(item, "pod"));
		cell_string(joined, FORMAT_CELL_MAX_CHARS, row->pod, sizeof(row->pod));
	} else {
		snprintf(row->pod, sizeof(row->pod), "-");
	}
	cell_string(json_string(proc, "comm"), FORMAT_CELL_MAX_CHARS, row->comm, sizeof(row->comm));
	cell_size(proc, "rss_bytes", row->rss, sizeof(row->rss));
	cell_size(proc, "memory_limit_bytes", row->limit, sizeof(row->limit));

	item = json_member(proc, "cpu_percent");
	/* More than 100% on several CPUs; a million is already nonsense. */
	if (cJSON_IsNumber(item) && isfinite(item->valuedouble) && item->valuedouble >= 0 &&
	    item->valuedouble <= 1e6)
		snprintf(row->cpu, sizeof(row->cpu), "%.1f", item->valuedouble);
	else
		snprintf(row->cpu, sizeof(row->cpu), "-");

	item = json_member(proc, "capture");
	if (cJSON_IsNull(item))
		snprintf(row->state, sizeof(row->state), "idle");
	else
		cell_string(json_string(item, "state"), FORMAT_CELL_MAX_CHARS, row->state, sizeof(row->state));

	join_strings(json_member(proc, "armed"), ",", joined, sizeof(joined));
	cell_string(joined, FORMAT_CELL_MAX_CHARS, row->armed, sizeof(row->armed));
	/* --select and --exclude: "yes", "no" (thresholds leave it alone), "excluded". */
	{
		const char *sel = json_string(proc, "selection");

		cell_string(!sel ? NULL : strcmp(sel, "selected") == 0 ? "yes" : strcmp(sel, "not-selected") == 0 ? "no"
			    : sel, FORMAT_CELL_MAX_CHARS, row->selected, sizeof(row->selected));
	}
	cell_next(json_member(proc, "next_capture"), now_ms, row->next, sizeof(row->next));
	join_strings(json_member(proc, "cmdline"), " ", joined, sizeof(joined));
	cell_string(joined, FORMAT_CELL_MAX_CHARS, row->cmdline, sizeof(row->cmdline));
	return 0;
}

void process_row__cells(const struct process_row *row, const char *cells[PROCESS_ROW_COLUMNS])
{
	cells[0] = row->pid;
	cells[1] = row->container;
	cells[2] = row->pod;
	cells[3] = row->comm;
	cells[4] = row->rss;
	cells[5] = row->cpu;
	cells[6] = row->limit;
	cells[7] = row->state;
	cells[8] = row->armed;
	cells[9] = row->selected;
	cells[10] = row->next;
	cells[11] = row->cmdline;
}

/* ---- captures ---- */

const struct table_column capture_row_columns[CAPTURE_ROW_COLUMNS] = {
	{ "ID", TABLE_LEFT },	   { "PID", TABLE_RIGHT },    { "KIND", TABLE_LEFT },	  { "STATE", TABLE_LEFT },
	{ "TRIGGER", TABLE_LEFT }, { "STARTED", TABLE_LEFT }, { "FILE/ERROR", TABLE_LEFT },
};

const struct table_column exporter_row_columns[EXPORTER_ROW_COLUMNS] = {
	{ "EXPORTER", TABLE_LEFT }, { "PENDING", TABLE_RIGHT }, { "DELIVERED", TABLE_RIGHT },
	{ "FAILED", TABLE_RIGHT },  { "OLDEST", TABLE_RIGHT },  { "LAST ERROR", TABLE_LEFT },
};

int format_age(uint64_t seconds, char *buf, size_t len)
{
	int n;

	if (seconds >= 86400)
		n = snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", seconds / 86400, seconds % 86400 / 3600);
	else if (seconds >= 3600)
		n = snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", seconds / 3600, seconds % 3600 / 60);
	else if (seconds >= 60)
		n = snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", seconds / 60, seconds % 60);
	else
		n = snprintf(buf, len, "%" PRIu64 "s", seconds);
	return n < 0 || (size_t)n >= len ? -ENOBUFS : 0;
}

static void cell_u64(const cJSON *object, const char *key, char *buf, size_t len)
{
	uint64_t v;

	if (json_u64(object, key, &v))
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "-");
}

int exporter_row__from_json(struct exporter_row *row, const cJSON *exporter)
{
	const char *error;
	uint64_t age, retry;
	char text[FORMAT_PATH_SIZE];

	if (!cJSON_IsObject(exporter))
		return -EINVAL;
	cell_string(json_string(exporter, "name"), FORMAT_CELL_MAX_CHARS, row->name, sizeof(row->name));
	cell_u64(exporter, "pending", row->pending, sizeof(row->pending));
	cell_u64(exporter, "delivered", row->delivered, sizeof(row->delivered));
	cell_u64(exporter, "failed", row->failed, sizeof(row->failed));
	if (!json_u64(exporter, "oldest_pending_age_s", &age) || format_age(age, row->oldest, sizeof(row->oldest)) < 0)
		snprintf(row->oldest, sizeof(row->oldest), "-");
	error = json_string(exporter, "last_error");
	if (error && *error && json_u64(exporter, "retry_in_ms", &retry) && retry > 0) {
		char in[32];

		format_age((retry + 999) / 1000, in, sizeof(in));
		snprintf(text, sizeof(text), "%.*s (again in %s)", (int)(sizeof(text) - 48), error, in);
		error = text;
	}
	cell_string(error, ERROR_MAX_CHARS, row->error, sizeof(row->error));
	return 0;
}

void exporter_row__cells(const struct exporter_row *row, const char *cells[EXPORTER_ROW_COLUMNS])
{
	cells[0] = row->name;
	cells[1] = row->pending;
	cells[2] = row->delivered;
	cells[3] = row->failed;
	cells[4] = row->oldest;
	cells[5] = row->error;
}

const char *capture__state(const cJSON *capture)
{
	return json_string(capture, "state");
}

const char *capture__id(const cJSON *capture)
{
	const char *id = json_string(capture, "id");

	return format_capture_id_valid(id) ? id : NULL;
}

bool capture__seconds(const cJSON *capture, uint64_t *ret)
{
	int64_t v;

	if (!json_whole(capture, "seconds", 1, CAPTURE_SECONDS_MAX, &v))
		return false;
	*ret = (uint64_t)v;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The profile among the files: the first that is not the .meta.json beside it. */
static const char *capture__profile_file(const cJSON *capture)
{
	const cJSON *files = json_member(capture, "files"), *item;
	const char *first = NULL;

	if (!cJSON_IsArray(files))
		return NULL;
	cJSON_ArrayForEach(item, files) {
		if (!cJSON_IsString(item) || !*item->valuestring)
			continue;
		if (!ends_with(item->valuestring, ".meta.json"))
			return item->valuestring;
		if (!first)
			first = item->valuestring;
	}
	return first;
}

int capture_row__from_json(struct capture_row *row, const cJSON *capture)
{
	const char *state, *error, *file;

	if (!cJSON_IsObject(capture))
		return -EINVAL;

	state = capture__state(capture);
	cell_string(json_string(capture, "id"), FORMAT_CELL_MAX_CHARS, row->id, sizeof(row->id));
	cell_pid(capture, row->pid, sizeof(row->pid));
	cell_string(json_string(capture, "kind"), FORMAT_CELL_MAX_CHARS, row->kind, sizeof(row->kind));
	cell_string(state, FORMAT_CELL_MAX_CHARS, row->state, sizeof(row->state));
	cell_string(json_string(json_member(capture, "trigger"), "kind"), FORMAT_CELL_MAX_CHARS, row->trigger,
		    sizeof(row->trigger));
	cell_string(json_string(capture, "started_at"), FORMAT_CELL_MAX_CHARS, row->started,
		    sizeof(row->started));

	error = json_string(capture, "error");
	file = capture__profile_file(capture);
	if (error && *error && (!file || (state && strcmp(state, "failed") == 0)))
		cell_string(error, ERROR_MAX_CHARS, row->file_or_error, sizeof(row->file_or_error));
	else
		cell_string(file, FORMAT_PATH_MAX_CHARS, row->file_or_error, sizeof(row->file_or_error));
	return 0;
}

void capture_row__cells(const struct capture_row *row, const char *cells[CAPTURE_ROW_COLUMNS])
{
	cells[0] = row->id;
	cells[1] = row->pid;
	cells[2] = row->kind;
	cells[3] = row->state;
	cells[4] = row->trigger;
	cells[5] = row->started;
	cells[6] = row->file_or_error;
}

int capture__format_summary(const cJSON *capture, char *buf, size_t len)
{
	char id[FORMAT_CELL_SIZE], pid[FORMAT_CELL_SIZE], kind[FORMAT_CELL_SIZE], state[FORMAT_CELL_SIZE];
	char seconds[32] = "", reason[FORMAT_CELL_SIZE + 3] = "";
	const char *queued_reason = json_string(capture, "queued_reason");
	uint64_t v;
	int n;

	cell_string(json_string(capture, "id"), FORMAT_CELL_MAX_CHARS, id, sizeof(id));
	cell_pid(capture, pid, sizeof(pid));
	cell_string(json_string(capture, "kind"), FORMAT_CELL_MAX_CHARS, kind, sizeof(kind));
	cell_string(capture__state(capture), FORMAT_CELL_MAX_CHARS, state, sizeof(state));
	if (capture__seconds(capture, &v))
		snprintf(seconds, sizeof(seconds), ", %" PRIu64 " s", v);
	if (strcmp(state, "queued") == 0 && queued_reason && *queued_reason) {
		char cell[FORMAT_CELL_SIZE];

		cell_string(queued_reason, FORMAT_CELL_MAX_CHARS, cell, sizeof(cell));
		snprintf(reason, sizeof(reason), " (%s)", cell);
	}
	n = snprintf(buf, len, "capture %s of pid %s (%s%s): %s%s", id, pid, kind, seconds, state, reason);
	return n < 0 || (size_t)n >= len ? -ENOBUFS : 0;
}

/* A number, string or boolean as text; false for the rest. */
static bool format_scalar(const cJSON *item, char *buf, size_t len)
{
	double v = item->valuedouble;

	if (cJSON_IsString(item))
		snprintf(buf, len, "%s", item->valuestring);
	else if (cJSON_IsBool(item))
		snprintf(buf, len, "%s", cJSON_IsTrue(item) ? "true" : "false");
	else if (cJSON_IsNumber(item) && isfinite(v) && v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v)
		snprintf(buf, len, "%" PRId64, (int64_t)v);
	else if (cJSON_IsNumber(item))
		snprintf(buf, len, "%g", v);
	else
		return false;
	return true;
}

/* "rss-threshold (threshold_bytes=536870912 rss_bytes=612368384)": the kind, then its details. */
static void format_trigger(const cJSON *trigger, char *buf, size_t len)
{
	char raw[JOIN_SIZE], value[JOIN_SIZE];
	const char *kind = json_string(trigger, "kind");
	size_t out;
	int details = 0;
	const cJSON *item;

	if (!cJSON_IsObject(trigger)) {
		snprintf(buf, len, "-");
		return;
	}
	snprintf(raw, sizeof(raw), "%s", kind ? kind : "-");
	out = strlen(raw);
	cJSON_ArrayForEach(item, trigger) {
		int n;

		if (!item->string || strcmp(item->string, "kind") == 0 || !format_scalar(item, value, sizeof(value)))
			continue;
		n = snprintf(raw + out, sizeof(raw) - out, "%s%s=%s", details ? " " : " (", item->string, value);
		details++;
		if (n < 0 || (size_t)n >= sizeof(raw) - out) {
			out = sizeof(raw) - 1;
			break;
		}
		out += n;
	}
	/* Cut short, raw is already far longer than the cell: no ")" needed. */
	if (details && out + 1 < sizeof(raw))
		snprintf(raw + out, sizeof(raw) - out, ")");
	cell_string(raw, TRIGGER_MAX_CHARS, buf, len);
}

static void print_detail(FILE *f, const char *key, const char *value)
{
	char label[32];

	snprintf(label, sizeof(label), "%s:", key);
	fprintf(f, "%-15s%s\n", label, value);
}

int capture__print_details(const cJSON *capture, FILE *f)
{
	static const char *const strings[] = { "kind", "state" };
	static const char *const times[] = { "created_at", "started_at", "ended_at" };
	char cell[FORMAT_PATH_SIZE];
	const cJSON *files, *item;
	bool any_file = false;
	uint64_t seconds;

	if (!cJSON_IsObject(capture))
		return -EINVAL;

	cell_string(json_string(capture, "id"), FORMAT_CELL_MAX_CHARS, cell, sizeof(cell));
	print_detail(f, "id", cell);
	cell_pid(capture, cell, sizeof(cell));
	print_detail(f, "pid", cell);
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		cell_string(json_string(capture, strings[i]), FORMAT_CELL_MAX_CHARS, cell, sizeof(cell));
		print_detail(f, strings[i], cell);
	}
	format_trigger(json_member(capture, "trigger"), cell, sizeof(cell));
	print_detail(f, "trigger", cell);
	if (capture__seconds(capture, &seconds))
		snprintf(cell, sizeof(cell), "%" PRIu64, seconds);
	else
		snprintf(cell, sizeof(cell), "-");
	print_detail(f, "seconds", cell);
	/* A trace's, whole (the agent takes at most 511 characters); no other kind has them. */
	if (json_string(capture, "categories")) {
		cell_string(json_string(capture, "categories"), CATEGORIES_MAX_CHARS, cell, sizeof(cell));
		print_detail(f, "categories", cell);
	}
	cell_string(json_string(capture, "queued_reason"), ERROR_MAX_CHARS, cell, sizeof(cell));
	print_detail(f, "queued_reason", cell);
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		cell_string(json_string(capture, times[i]), FORMAT_CELL_MAX_CHARS, cell, sizeof(cell));
		print_detail(f, times[i], cell);
	}
	cell_string(json_string(capture, "error"), ERROR_MAX_CHARS, cell, sizeof(cell));
	print_detail(f, "error", cell);

	files = json_member(capture, "files");
	if (cJSON_IsArray(files)) {
		cJSON_ArrayForEach(item, files) {
			if (!cJSON_IsString(item))
				continue;
			cell_string(item->valuestring, FORMAT_PATH_MAX_CHARS, cell, sizeof(cell));
			print_detail(f, "file", cell);
			any_file = true;
		}
	}
	if (!any_file)
		print_detail(f, "file", "-");
	return ferror(f) ? -EIO : 0;
}

int capture__print_files(const cJSON *capture, FILE *f)
{
	char cell[FORMAT_PATH_SIZE];
	const cJSON *files = json_member(capture, "files"), *item;

	if (cJSON_IsArray(files)) {
		cJSON_ArrayForEach(item, files) {
			if (!cJSON_IsString(item) || !*item->valuestring)
				continue;
			cell_string(item->valuestring, FORMAT_PATH_MAX_CHARS, cell, sizeof(cell));
			fprintf(f, "%s\n", cell);
		}
	}
	return ferror(f) ? -EIO : 0;
}

void format_api_error(const cJSON *body, long status, char *buf, size_t len)
{
	const char *error = json_string(body, "error");

	if (error && *error && format_cell(error, ERROR_MAX_CHARS, buf, len) >= 0)
		return;
	snprintf(buf, len, "HTTP %ld from inspectd", status);
}
