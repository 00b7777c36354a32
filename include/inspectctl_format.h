/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * inspectctl's pure parts: parsing its arguments and turning the agent's JSON
 * into table rows and lines. No sockets, no curl: unit-tested directly.
 *
 * Every string the API returns may come from a target process (comm, cmdline)
 * and every field may be missing or of the wrong type: rows show "-" for
 * those, and cells are sanitized (no control characters, valid UTF-8 only)
 * before they reach a terminal.
 */
#ifndef INSPECTD_INSPECTCTL_FORMAT_H
#define INSPECTD_INSPECTCTL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>

/* The longest cell a table shows, in characters, before "..." replaces the rest. */
#define FORMAT_CELL_MAX_CHARS 60
/* Room for one such cell: 4 bytes per character at most, "..." and the NUL. */
#define FORMAT_CELL_SIZE (FORMAT_CELL_MAX_CHARS * 4 + 4)
/* Files are never cut short below this, so that they can be copied. */
#define FORMAT_PATH_MAX_CHARS 4096
#define FORMAT_PATH_SIZE (FORMAT_PATH_MAX_CHARS * 4 + 4)
/* Capture ids go into URL paths: [A-Za-z0-9._-], 1 to this many characters. */
#define FORMAT_CAPTURE_ID_MAX 64

/* Decimal integer within [min, max], nothing else. 0, -EINVAL or -ERANGE. */
int format_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret);
/* True for an id that is safe to put into /v1/captures/ID: not dots only. */
bool format_capture_id_valid(const char *id);

/*
 * "512B", "1.5K", "512.0M", "16.0E": binary multiples, one decimal, rounded half
 * up. 0, or -ENOBUFS when buf is too small (8 bytes always suffice).
 */
int format_size(uint64_t bytes, char *buf, size_t len);

/*
 * s copied into buf for a terminal: control characters (C0, DEL, C1, bidi
 * overrides, line separators) and bytes that are not valid UTF-8 become '?';
 * more than max_chars characters become the first max_chars - 3 and "...".
 * NULL and "" become "-". Never cuts a character in two. Returns the number of
 * characters written (the display width), or -ENOBUFS when buf is too small
 * (FORMAT_CELL_SIZE always suffices for FORMAT_CELL_MAX_CHARS).
 */
int format_cell(const char *s, size_t max_chars, char *buf, size_t len);

/* Width of a string format_cell() wrote: its number of UTF-8 characters. */
size_t format_width(const char *s);

/*
 * A table with a header row, columns separated by two spaces, each as wide as
 * its widest cell; the last column is not padded. Cells are copied as given:
 * pass them through format_cell() first.
 */
enum table_align {
	TABLE_LEFT,
	TABLE_RIGHT,
};

struct table_column {
	const char *header;
	enum table_align align;
};

struct table;

struct table *table__new(const struct table_column *columns, size_t ncolumns);
/* cells: ncolumns strings. 0 or -ENOMEM. */
int table__add_row(struct table *t, const char *const *cells);
size_t table__rows(const struct table *t);
/* 0, or -EIO when f failed. */
int table__print(const struct table *t, FILE *f);
void table__free(struct table *t);

/* One process of GET /v1/processes, as the ps table shows it. */
struct process_row {
	char pid[FORMAT_CELL_SIZE];
	char container[FORMAT_CELL_SIZE];       /* its name, else the id's first 12 characters (docker ps) */
	char pod[FORMAT_CELL_SIZE];             /* "namespace/pod" */
	char comm[FORMAT_CELL_SIZE];
	char rss[FORMAT_CELL_SIZE];
	char cpu[FORMAT_CELL_SIZE];
	char limit[FORMAT_CELL_SIZE];
	char state[FORMAT_CELL_SIZE];
	char armed[FORMAT_CELL_SIZE];
	char selected[FORMAT_CELL_SIZE];        /* "yes", "no", "excluded" (--select, --exclude) */
	char next[FORMAT_CELL_SIZE];            /* the next scheduled capture: "in 42s cpu", "now heap" */
	char cmdline[FORMAT_CELL_SIZE];
};

#define PROCESS_ROW_COLUMNS 12
extern const struct table_column process_row_columns[PROCESS_ROW_COLUMNS];

/* Fills every field, with "-" for what is missing. now_ms: the wall clock (ms since the
 * epoch) that NEXT counts from. -EINVAL when proc is not an object. */
int process_row__from_json(struct process_row *row, const cJSON *proc, int64_t now_ms);
/* The row's cells in process_row_columns order, for table__add_row(). */
void process_row__cells(const struct process_row *row, const char *cells[PROCESS_ROW_COLUMNS]);

/* One capture of GET /v1/captures, as the status table shows it. */
struct capture_row {
	char id[FORMAT_CELL_SIZE];
	char pid[FORMAT_CELL_SIZE];
	char kind[FORMAT_CELL_SIZE];
	char state[FORMAT_CELL_SIZE];
	char trigger[FORMAT_CELL_SIZE];
	char started[FORMAT_CELL_SIZE];
	/* The profile file when there is one, else the error of a failed capture. */
	char file_or_error[FORMAT_PATH_SIZE];
};

#define CAPTURE_ROW_COLUMNS 7
extern const struct table_column capture_row_columns[CAPTURE_ROW_COLUMNS];

int capture_row__from_json(struct capture_row *row, const cJSON *capture);
void capture_row__cells(const struct capture_row *row, const char *cells[CAPTURE_ROW_COLUMNS]);

/* One exporter of GET /v1/exporters, as `inspectctl status` shows it after the captures. */
struct exporter_row {
	char name[FORMAT_CELL_SIZE];
	char pending[FORMAT_CELL_SIZE];
	char delivered[FORMAT_CELL_SIZE];
	char failed[FORMAT_CELL_SIZE];          /* given up (remote), not written (pprof) */
	char oldest[FORMAT_CELL_SIZE];          /* the oldest pending commit's age: "4m10s", "-" */
	char error[FORMAT_PATH_SIZE];           /* the last failure, with when it is tried again */
};

#define EXPORTER_ROW_COLUMNS 6
extern const struct table_column exporter_row_columns[EXPORTER_ROW_COLUMNS];

int exporter_row__from_json(struct exporter_row *row, const cJSON *exporter);
void exporter_row__cells(const struct exporter_row *row, const char *cells[EXPORTER_ROW_COLUMNS]);
/* "2026-01-01T00:00:42.123Z" (UTC, as the agent writes times; 1 to 9 digits of fraction, or
 * none) -> ms since the epoch. 0, or -EINVAL for anything else (another zone, a field out of
 * range, a day the month does not have). */
int format_parse_rfc3339(const char *s, int64_t *ret_ms);
/* "3h05m", "4m10s", "12s": an age in seconds as a person reads it. 0 or -ENOBUFS. */
int format_age(uint64_t seconds, char *buf, size_t len);

/*
 * "capture c-000001 of pid 4242 (heap, 30 s): queued", with " (reason)" after
 * a queued state that has a queued_reason. 0 or -ENOBUFS.
 */
int capture__format_summary(const cJSON *capture, char *buf, size_t len);
/* `inspectctl status ID`: one "key: value" line per field, one "file:" line per file. */
int capture__print_details(const cJSON *capture, FILE *f);
/* Its files, one per line, sanitized. */
int capture__print_files(const cJSON *capture, FILE *f);

/* The capture's "state", or NULL when it is missing or not a string. */
const char *capture__state(const cJSON *capture);
/* The capture's "id" when it is a valid id, else NULL. */
const char *capture__id(const cJSON *capture);
/* The capture's "seconds" when it is a whole number in [1, 86400]. */
bool capture__seconds(const cJSON *capture, uint64_t *ret);

/* The "error" text of an API error body, sanitized; "HTTP <status> from inspectd" without one. */
void format_api_error(const cJSON *body, long status, char *buf, size_t len);

#endif
