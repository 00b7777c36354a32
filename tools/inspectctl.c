// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * inspectctl: the command-line client of inspectd's HTTP API, which the agent
 * serves on a Unix socket. One request at a time with libcurl, each bounded in
 * time (5 s) and in size (16 MiB); the JSON it gets back is turned into tables
 * by inspectctl_format.c, which treats every field as untrusted.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>

#include "inspectctl_format.h"
#include "profile.h"

#define INSPECTCTL_VERSION "0.1.0"
#define EXIT_USAGE 2
#define DEFAULT_SOCKET "/run/inspectd/api.sock"
#define REQUEST_TIMEOUT_MS 5000L
#define RESPONSE_MAX_BYTES (16u << 20)
#define PID_MAX 4194304 /* the kernel's PID_MAX_LIMIT */
#define SECONDS_MAX 86400 /* inspectd's --max-duration limit */
#define WAIT_POLL_MS 200
#define WAIT_GRACE_SECONDS 60
/* A capture without --seconds runs until inspectd's --max-duration, 600 s by default. */
#define WAIT_DEFAULT_SECONDS 600

static struct env {
	const char *socket;
	bool json;
	enum profile_kind kind;
	uint64_t seconds; /* 0: not given */
	const char *categories; /* a trace's; NULL: the agent's --trace-categories */
	bool wait;
	const char *capture_option; /* the first capture-only option given, to refuse it elsewhere */
} env = {
	.kind = PROFILE_HEAP,
};

static const char usage[] =
"Usage: inspectctl [OPTION]... COMMAND [ARG]...\n"
"Ask the inspectd agent on this host for the node processes it tracks, and start,\n"
"follow and stop their profiles, heap snapshots and traces.\n"
"\n"
"Commands:\n"
"  ps                            list tracked node processes: memory, CPU, armed\n"
"                                triggers, the capture in progress and the next\n"
"                                scheduled one (NEXT, with inspectd --every)\n"
"  capture PID [--kind KIND] [--seconds N] [--categories LIST] [--wait]\n"
"                                start a profile of PID; without --seconds it runs\n"
"                                until 'stop' or inspectd's --max-duration\n"
"  status [ID]                   list captures and each exporter's pending, delivered\n"
"                                and failed profiles, or show capture ID in full\n"
"  stop ID                       stop capture ID and write its profile\n"
"  health                        ask whether the agent answers (its /healthz): exit\n"
"                                0 if it does, 1 if not; for liveness probes\n"
"\n"
"Options:\n"
"  --socket PATH                 inspectd's API socket (default $INSPECTD_SOCKET,\n"
"                                else " DEFAULT_SOCKET ")\n"
"  --json                        print the API's JSON instead of tables\n"
"  --kind KIND                   capture: what to take (default heap): heap or\n"
"                                cpu, a sampling profile; heap-snapshot, the\n"
"                                whole heap at once, which pauses the target\n"
"                                while it is taken (seconds per 100 MB of small\n"
"                                objects) and can grow its RSS many times;\n"
"                                allocation-timeline, every allocation with its\n"
"                                stack, costly in the target while it runs;\n"
"                                trace, trace events\n"
"  --seconds N                   capture: stop after N seconds (1 to 86400); not\n"
"                                with heap-snapshot, which has no duration\n"
"  --categories LIST             capture: with --kind trace, the trace categories\n"
"                                to record, comma-separated (default: inspectd's\n"
"                                --trace-categories)\n"
"  --wait                        capture: wait until the profile is written, then\n"
"                                print its files, one per line; Ctrl-C stops the\n"
"                                waiting, not the capture\n"
"  --version                     print the version and exit\n"
"  -h, --help                    print this help and exit\n"
"\n"
"Every request times out after 5 s. Exit status: 0 done, 1 inspectd refused,\n"
"failed or could not be reached (its error is printed), 2 usage error.\n"
"\n"
"Examples:\n"
"  inspectctl ps\n"
"  inspectctl capture 4242 --seconds 30 --wait  # 30 s heap profile; prints its files\n"
"  inspectctl capture 4242 --kind cpu           # CPU profile until stopped\n"
"  inspectctl capture 4242 --kind heap-snapshot --wait  # pauses 4242 meanwhile\n"
"  inspectctl capture 4242 --kind trace --categories node.perf,v8 --seconds 10\n"
"  inspectctl status                            # every capture, newest state\n"
"  inspectctl status c-000001\n"
"  inspectctl stop c-000001\n"
"  inspectctl health                            # exit 0 while the agent answers\n"
"  inspectctl --json ps | jq '.processes[].pid'\n"
"  inspectctl --socket /tmp/inspectd.sock ps\n";

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "inspectctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see --help)\n");
	exit(EXIT_USAGE);
}

static void __attribute__((format(printf, 1, 2))) print_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "inspectctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- the API over the socket ---- */

struct api {
	CURL *curl;
	const char *socket;
	char error[512]; /* why the last api__call() failed */
};

struct response {
	char *body;
	size_t len;
	size_t capacity;
	bool too_large;
};

static size_t response__write(char *data, size_t size, size_t nmemb, void *user)
{
	struct response *r = user;
	size_t n = size * nmemb; /* curl passes size 1 */

	if (n > RESPONSE_MAX_BYTES - r->len) {
		r->too_large = true;
		return 0;
	}
	if (r->len + n + 1 > r->capacity) {
		size_t capacity = r->capacity ? r->capacity : 4096;
		char *grown;

		while (capacity < r->len + n + 1)
			capacity *= 2;
		if (capacity > RESPONSE_MAX_BYTES + 1)
			capacity = RESPONSE_MAX_BYTES + 1;
		grown = realloc(r->body, capacity);
		if (!grown)
			return 0;
		r->body = grown;
		r->capacity = capacity;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

static int api__init(struct api *api, const char *socket_path)
{
	memset(api, 0, sizeof(*api));
	api->socket = socket_path;
	api->curl = curl_easy_init();
	return api->curl ? 0 : -ENOMEM;
}

static void api__cleanup(struct api *api)
{
	if (api->curl)
		curl_easy_cleanup(api->curl);
	api->curl = NULL;
}

static void __attribute__((format(printf, 2, 3))) api__fail(struct api *api, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(api->error, sizeof(api->error), fmt, ap);
	va_end(ap);
}

/* The transfer failed before an HTTP status: say why, in the user's terms. */
static void api__fail_transfer(struct api *api, CURLcode rc, const struct response *r, const char *curl_error)
{
	long os_errno = 0;

	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(api->curl, CURLINFO_OS_ERRNO, &os_errno);
		api__fail(api, "cannot connect to inspectd at %s: %s (%s)", api->socket,
			  os_errno ? strerror((int)os_errno) : curl_error,
			  os_errno == EACCES || os_errno == EPERM ? "the socket is root's: try with sudo"
								 : "is inspectd running? see --socket");
		return;
	case CURLE_OPERATION_TIMEDOUT:
		api__fail(api, "inspectd at %s did not answer within %ld s", api->socket,
			  REQUEST_TIMEOUT_MS / 1000);
		return;
	case CURLE_FILESIZE_EXCEEDED:
		break;
	case CURLE_WRITE_ERROR:
		if (r->too_large)
			break;
		api__fail(api, "reading inspectd's answer: out of memory");
		return;
	default:
		api__fail(api, "talking to inspectd at %s: %s", api->socket, curl_error);
		return;
	}
	api__fail(api, "inspectd's answer is larger than %u MiB, refusing it", RESPONSE_MAX_BYTES >> 20);
}

/*
 * One request; body is JSON text or NULL. 0 with *ret the JSON object of a
 * 2xx answer (the caller frees it), or -1 with api->error saying why: the
 * API's own "error" text for a 4xx or 5xx answer.
 */
static int api__call(struct api *api, const char *method, const char *path, const char *body, cJSON **ret)
{
	char url[256], curl_error[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL, *more;
	struct response r = { 0 };
	cJSON *json = NULL;
	long status = 0;
	CURLcode rc;
	int err = -1;

	*ret = NULL;
	snprintf(url, sizeof(url), "http://localhost%s", path);
	headers = curl_slist_append(NULL, "Accept: application/json");
	if (headers && body) {
		more = curl_slist_append(headers, "Content-Type: application/json");
		headers = more ? curl_slist_append(more, "Expect:") : NULL;
	}
	if (!headers) {
		api__fail(api, "out of memory");
		goto out;
	}

	/* Reset, not a new handle: the connection to the socket is kept for --wait's polls. */
	curl_easy_reset(api->curl);
	curl_easy_setopt(api->curl, CURLOPT_UNIX_SOCKET_PATH, api->socket);
	curl_easy_setopt(api->curl, CURLOPT_URL, url);
	curl_easy_setopt(api->curl, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(api->curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(api->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(api->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(api->curl, CURLOPT_CONNECTTIMEOUT_MS, REQUEST_TIMEOUT_MS);
	curl_easy_setopt(api->curl, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
	curl_easy_setopt(api->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)RESPONSE_MAX_BYTES);
	curl_easy_setopt(api->curl, CURLOPT_WRITEFUNCTION, response__write);
	curl_easy_setopt(api->curl, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(api->curl, CURLOPT_ERRORBUFFER, curl_error);
	curl_easy_setopt(api->curl, CURLOPT_USERAGENT, "inspectctl/" INSPECTCTL_VERSION);
	curl_easy_setopt(api->curl, CURLOPT_HTTPHEADER, headers);
	if (body) {
		curl_easy_setopt(api->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(api->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (strcmp(method, "DELETE") == 0)
		curl_easy_setopt(api->curl, CURLOPT_CUSTOMREQUEST, "DELETE");

	rc = curl_easy_perform(api->curl);
	if (rc != CURLE_OK) {
		api__fail_transfer(api, rc, &r, curl_error[0] ? curl_error : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(api->curl, CURLINFO_RESPONSE_CODE, &status);
	if (r.len > 0)
		json = cJSON_ParseWithLength(r.body, r.len);

	if (status >= 400) {
		char text[FORMAT_CELL_SIZE * 4];

		format_api_error(json, status, text, sizeof(text));
		api__fail(api, "%s", text);
		goto out;
	}
	if (status < 200 || status > 299) {
		api__fail(api, "unexpected answer from inspectd: HTTP %ld", status);
		goto out;
	}
	if (!cJSON_IsObject(json)) {
		api__fail(api, "unexpected answer from inspectd (HTTP %ld): %s", status,
			  json ? "not a JSON object" : "not JSON");
		goto out;
	}
	*ret = json;
	json = NULL;
	err = 0;
out:
	/* The handle keeps pointers to these until the next reset: clear them first. */
	curl_easy_setopt(api->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(api->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(api->curl, CURLOPT_WRITEDATA, NULL);
	curl_slist_free_all(headers);
	cJSON_Delete(json);
	free(r.body);
	return err;
}

/* ---- output ---- */

static int print_json(const cJSON *json)
{
	char *text = cJSON_Print(json);

	if (!text) {
		print_error("printing JSON: out of memory");
		return 1;
	}
	puts(text);
	free(text);
	return 0;
}

/* The array at key of the API's answer, or NULL after saying it is missing. */
static const cJSON *answer_list(const cJSON *answer, const char *key)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(answer, key);

	if (!cJSON_IsArray(list)) {
		print_error("unexpected answer from inspectd: no \"%s\" list", key);
		return NULL;
	}
	return list;
}

/* ---- commands ---- */

/* One item of a list as a table row: false to leave the item out. */
typedef bool (*row_fn)(const cJSON *item, const char **cells);

static bool process_cells(const cJSON *item, const char **cells)
{
	static struct process_row row;  /* the cells point into it until the next row */
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (process_row__from_json(&row, item, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000) < 0)
		return false;
	process_row__cells(&row, cells);
	return true;
}

static bool capture_cells(const cJSON *item, const char **cells)
{
	static struct capture_row row;

	if (capture_row__from_json(&row, item) < 0)
		return false;
	capture_row__cells(&row, cells);
	return true;
}

/* GET path, then the list at key as JSON (--json) or as a table. */
static int print_list(struct api *api, const char *path, const char *key, const struct table_column *columns,
		      size_t ncolumns, row_fn row)
{
	const char *cells[16];
	const cJSON *list, *item;
	struct table *table = NULL;
	cJSON *answer;
	int ret = 1;

	if (ncolumns > sizeof(cells) / sizeof(cells[0]))
		return 1;
	if (api__call(api, "GET", path, NULL, &answer) < 0) {
		print_error("%s", api->error);
		return 1;
	}
	if (env.json) {
		ret = print_json(answer);
		goto out;
	}
	list = answer_list(answer, key);
	if (!list)
		goto out;
	table = table__new(columns, ncolumns);
	if (!table)
		goto oom;
	cJSON_ArrayForEach(item, list) {
		if (row(item, cells) && table__add_row(table, cells) < 0)
			goto oom;
	}
	table__print(table, stdout);
	ret = 0;
	goto out;
oom:
	print_error("out of memory");
out:
	table__free(table);
	cJSON_Delete(answer);
	return ret;
}

static int cmd_ps(struct api *api)
{
	return print_list(api, "/v1/processes", "processes", process_row_columns, PROCESS_ROW_COLUMNS,
			  process_cells);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool capture_finished(const cJSON *capture)
{
	const char *state = capture__state(capture);

	return state && (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0);
}

/*
 * Polls the capture until it is done or failed, or the deadline passes.
 * 0 with *capture the last answer, or 1 after saying why.
 */
static int wait_for_capture(struct api *api, const char *id, cJSON **capture)
{
	char path[128];
	uint64_t seconds = env.seconds ? env.seconds : WAIT_DEFAULT_SECONDS;
	double deadline;
	cJSON *next;

	capture__seconds(*capture, &seconds);
	deadline = monotonic_seconds() + (double)seconds + WAIT_GRACE_SECONDS;
	snprintf(path, sizeof(path), "/v1/captures/%s", id);
	while (!capture_finished(*capture)) {
		double left = deadline - monotonic_seconds();

		if (left <= 0) {
			print_error("capture %s not finished after %" PRIu64 " s, no longer waiting "
				    "(it goes on: see inspectctl status %s)",
				    id, seconds + WAIT_GRACE_SECONDS, id);
			return 1;
		}
		sleep_ms(left * 1000 < WAIT_POLL_MS ? (long)(left * 1000) + 1 : WAIT_POLL_MS);
		if (api__call(api, "GET", path, NULL, &next) < 0) {
			print_error("capture %s: %s", id, api->error);
			return 1;
		}
		cJSON_Delete(*capture);
		*capture = next;
	}
	return 0;
}

/* What the agent says the capture costs the target (a costly kind), on stderr. */
static void print_warning(const cJSON *capture)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(capture, "warning");
	char text[FORMAT_CELL_SIZE * 4];

	if (!env.json && cJSON_IsString(w) && format_cell(w->valuestring, 200, text, sizeof(text)) >= 0 &&
	    strcmp(text, "-") != 0)
		fprintf(stderr, "inspectctl: warning: %s\n", text);
}

static int cmd_capture(struct api *api, uint64_t pid)
{
	char summary[FORMAT_CELL_SIZE * 6];
	cJSON *request, *capture = NULL;
	char *body = NULL;
	const char *id, *state;
	int ret = 1;

	request = cJSON_CreateObject();
	if (!request || !cJSON_AddNumberToObject(request, "pid", (double)pid) ||
	    !cJSON_AddStringToObject(request, "kind", profile_kind_name(env.kind)) ||
	    (env.seconds && !cJSON_AddNumberToObject(request, "seconds", (double)env.seconds)) ||
	    (env.categories && !cJSON_AddStringToObject(request, "categories", env.categories)) ||
	    !(body = cJSON_PrintUnformatted(request))) {
		print_error("out of memory");
		goto out;
	}
	if (api__call(api, "POST", "/v1/captures", body, &capture) < 0) {
		print_error("%s", api->error);
		goto out;
	}
	print_warning(capture);
	if (!env.wait) {
		if (env.json) {
			ret = print_json(capture);
		} else {
			capture__format_summary(capture, summary, sizeof(summary));
			puts(summary);
			ret = 0;
		}
		goto out;
	}

	id = capture__id(capture);
	if (!id) {
		print_error("unexpected answer from inspectd: no valid capture \"id\"");
		goto out;
	}
	if (!env.json) {
		capture__format_summary(capture, summary, sizeof(summary));
		puts(summary);
		fflush(stdout);
	}
	/* id points into capture, which the polls replace. */
	{
		char id_copy[FORMAT_CAPTURE_ID_MAX + 1];

		snprintf(id_copy, sizeof(id_copy), "%s", id);
		if (wait_for_capture(api, id_copy, &capture) != 0)
			goto out;
		state = capture__state(capture);
		if (env.json)
			ret = print_json(capture);
		else
			ret = capture__print_files(capture, stdout) < 0;
		if (strcmp(state, "failed") == 0) {
			const cJSON *error = cJSON_GetObjectItemCaseSensitive(capture, "error");
			char text[FORMAT_CELL_SIZE * 4];

			if (format_cell(cJSON_IsString(error) ? error->valuestring : NULL, 200, text,
					sizeof(text)) < 0 || strcmp(text, "-") == 0)
				snprintf(text, sizeof(text), "no reason given");
			print_error("capture %s failed: %s", id_copy, text);
			ret = 1;
		}
	}
out:
	cJSON_Delete(capture);
	cJSON_Delete(request);
	free(body);
	return ret;
}

static int cmd_status_one(struct api *api, const char *id)
{
	char path[128];
	cJSON *capture;
	int ret;

	snprintf(path, sizeof(path), "/v1/captures/%s", id);
	if (api__call(api, "GET", path, NULL, &capture) < 0) {
		print_error("%s", api->error);
		return 1;
	}
	ret = env.json ? print_json(capture) : capture__print_details(capture, stdout) < 0;
	cJSON_Delete(capture);
	return ret;
}

static bool exporter_cells(const cJSON *item, const char **cells)
{
	static struct exporter_row row;

	if (exporter_row__from_json(&row, item) < 0)
		return false;
	exporter_row__cells(&row, cells);
	return true;
}

/* The captures, then where their files went: each exporter's pending, delivered, failed. */
static int cmd_status(struct api *api, const char *id)
{
	int ret;

	if (id)
		return cmd_status_one(api, id);
	if (env.json) {
		/* One document: {"captures": [...], "exporters": [...]}. */
		cJSON *captures = NULL, *exporters = NULL, *list;

		if (api__call(api, "GET", "/v1/captures", NULL, &captures) < 0 ||
		    api__call(api, "GET", "/v1/exporters", NULL, &exporters) < 0) {
			print_error("%s", api->error);
			cJSON_Delete(captures);
			return 1;
		}
		list = cJSON_DetachItemFromObjectCaseSensitive(exporters, "exporters");
		if (list && !cJSON_AddItemToObject(captures, "exporters", list))
			cJSON_Delete(list);
		ret = print_json(captures);
		cJSON_Delete(captures);
		cJSON_Delete(exporters);
		return ret;
	}
	ret = print_list(api, "/v1/captures", "captures", capture_row_columns, CAPTURE_ROW_COLUMNS, capture_cells);
	if (ret)
		return ret;
	putchar('\n');
	return print_list(api, "/v1/exporters", "exporters", exporter_row_columns, EXPORTER_ROW_COLUMNS,
			  exporter_cells);
}

static int cmd_stop(struct api *api, const char *id)
{
	char path[128], state[FORMAT_CELL_SIZE];
	cJSON *capture;
	int ret = 0;

	snprintf(path, sizeof(path), "/v1/captures/%s", id);
	if (api__call(api, "DELETE", path, NULL, &capture) < 0) {
		print_error("%s", api->error);
		return 1;
	}
	if (env.json) {
		ret = print_json(capture);
	} else {
		/* The agent's word for it when it gives one: a queued capture may simply end. */
		if (format_cell(capture__state(capture), FORMAT_CELL_MAX_CHARS, state, sizeof(state)) < 0 ||
		    strcmp(state, "-") == 0)
			snprintf(state, sizeof(state), "stopping");
		printf("capture %s: %s\n", id, state);
	}
	cJSON_Delete(capture);
	return ret;
}

/* GET /healthz: "ok" (or its JSON) and 0, or the reason and 1. */
static int cmd_health(struct api *api)
{
	const cJSON *status;
	cJSON *answer;
	int ret = 1;

	if (api__call(api, "GET", "/healthz", NULL, &answer) < 0) {
		print_error("%s", api->error);
		return 1;
	}
	status = cJSON_GetObjectItemCaseSensitive(answer, "status");
	if (!cJSON_IsString(status) || strcmp(status->valuestring, "ok") != 0)
		print_error("unexpected answer from inspectd's /healthz");
	else
		ret = env.json ? print_json(answer) : puts("ok") < 0;
	cJSON_Delete(answer);
	return ret;
}

/* ---- arguments ---- */

enum {
	OPT_SOCKET = 256,
	OPT_JSON,
	OPT_KIND,
	OPT_SECONDS,
	OPT_CATEGORIES,
	OPT_WAIT,
	OPT_VERSION,
	OPT_HELP = 'h',
};

static const struct option long_options[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "kind", required_argument, NULL, OPT_KIND },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "categories", required_argument, NULL, OPT_CATEGORIES },
	{ "wait", no_argument, NULL, OPT_WAIT },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, OPT_HELP },
	{ 0 },
};

#define MAX_ARGS 3

/* Options may come before or after the command; returns the command and its arguments. */
static int parse_args(int argc, char **argv, const char *args[MAX_ARGS])
{
	int nargs = 0, opt;

	opterr = 0;
	/* "-": arguments come back in order as 1, whatever POSIXLY_CORRECT says. */
	while ((opt = getopt_long(argc, argv, "-:h", long_options, NULL)) != -1) {
		switch (opt) {
		case 1:
			if (nargs == MAX_ARGS)
				usage_error("unexpected argument '%s'", optarg);
			args[nargs++] = optarg;
			break;
		case OPT_SOCKET:
			env.socket = optarg;
			break;
		case OPT_JSON:
			env.json = true;
			break;
		case OPT_KIND:
			if (profile_kind_from_name(optarg, &env.kind) < 0) {
				char names[128];

				usage_error("invalid --kind '%s' (%s)", optarg, profile_kind_list(names, sizeof(names), ""));
			}
			env.capture_option = env.capture_option ? env.capture_option : "--kind";
			break;
		case OPT_SECONDS:
			if (format_parse_u64(optarg, 1, SECONDS_MAX, &env.seconds) < 0)
				usage_error("invalid --seconds '%s' (1 to %d)", optarg, SECONDS_MAX);
			env.capture_option = env.capture_option ? env.capture_option : "--seconds";
			break;
		case OPT_CATEGORIES:
			/* What they may be is the agent's to say (its 400 names the fault). */
			if (!*optarg)
				usage_error("--categories must not be empty");
			env.categories = optarg;
			env.capture_option = env.capture_option ? env.capture_option : "--categories";
			break;
		case OPT_WAIT:
			env.wait = true;
			env.capture_option = env.capture_option ? env.capture_option : "--wait";
			break;
		case OPT_VERSION:
			printf("inspectctl %s\n", INSPECTCTL_VERSION);
			exit(0);
		case OPT_HELP:
			fputs(usage, stdout);
			exit(0);
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			/* "capture -5": a PID, not an option. */
			if (argv[optind - 1][0] == '-' && argv[optind - 1][1] >= '0' && argv[optind - 1][1] <= '9')
				usage_error("invalid PID '%s'", argv[optind - 1]);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	/* After "--". */
	for (; optind < argc; optind++) {
		if (nargs == MAX_ARGS)
			usage_error("unexpected argument '%s'", argv[optind]);
		args[nargs++] = argv[optind];
	}
	return nargs;
}

static const char *socket_path(void)
{
	const char *path = env.socket, *from = "--socket";

	if (!path) {
		path = getenv("INSPECTD_SOCKET");
		from = "INSPECTD_SOCKET";
		if (!path || !*path)
			return DEFAULT_SOCKET;
	}
	if (!*path)
		usage_error("%s must not be empty", from);
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		usage_error("%s '%s' is too long for a Unix socket (at most %zu bytes)", from, path,
			    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	return path;
}

static const char *capture_id_arg(const char *arg)
{
	if (!format_capture_id_valid(arg))
		usage_error("invalid capture ID '%s' (as 'inspectctl status' shows them, e.g. c-000001)", arg);
	return arg;
}

int main(int argc, char **argv)
{
	const char *args[MAX_ARGS] = { 0 };
	const char *command, *socket;
	struct api api;
	uint64_t pid = 0;
	int nargs, ret;

	nargs = parse_args(argc, argv, args);
	if (nargs == 0)
		usage_error("missing command (ps, capture, status, stop or health)");
	command = args[0];

	if (strcmp(command, "capture") != 0 && env.capture_option)
		usage_error("%s applies to capture only", env.capture_option);
	if (strcmp(command, "ps") == 0 || strcmp(command, "health") == 0) {
		if (nargs > 1)
			usage_error("unexpected argument '%s'", args[1]);
	} else if (strcmp(command, "capture") == 0) {
		if (nargs < 2)
			usage_error("capture needs a PID");
		if (nargs > 2)
			usage_error("unexpected argument '%s'", args[2]);
		if (format_parse_u64(args[1], 1, PID_MAX, &pid) < 0)
			usage_error("invalid PID '%s'", args[1]);
		/* Said here, as the agent would (its 400), whatever order the options came in. */
		if (env.seconds && profile_kind_instantaneous(env.kind))
			usage_error("--seconds with --kind %s: a heap snapshot has no duration",
				    profile_kind_name(env.kind));
		if (env.categories && env.kind != PROFILE_TRACE)
			usage_error("--categories with --kind %s: only a trace has categories",
				    profile_kind_name(env.kind));
	} else if (strcmp(command, "status") == 0) {
		if (nargs > 2)
			usage_error("unexpected argument '%s'", args[2]);
		if (nargs == 2)
			capture_id_arg(args[1]);
	} else if (strcmp(command, "stop") == 0) {
		if (nargs < 2)
			usage_error("stop needs a capture ID");
		if (nargs > 2)
			usage_error("unexpected argument '%s'", args[2]);
		capture_id_arg(args[1]);
	} else {
		usage_error("unknown command '%s' (ps, capture, status, stop or health)", command);
	}

	socket = socket_path();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || api__init(&api, socket) < 0) {
		print_error("cannot initialize libcurl");
		return 1;
	}
	if (strcmp(command, "ps") == 0)
		ret = cmd_ps(&api);
	else if (strcmp(command, "capture") == 0)
		ret = cmd_capture(&api, pid);
	else if (strcmp(command, "status") == 0)
		ret = cmd_status(&api, nargs == 2 ? args[1] : NULL);
	else if (strcmp(command, "health") == 0)
		ret = cmd_health(&api);
	else
		ret = cmd_stop(&api, args[1]);
	api__cleanup(&api);
	curl_global_cleanup();

	if (fflush(stdout) != 0 || ferror(stdout)) {
		print_error("writing the output: %s", strerror(errno));
		return 1;
	}
	return ret;
}
