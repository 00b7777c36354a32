/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Chrome DevTools Protocol as data: building commands, parsing the inspector's
 * HTTP answers, matching responses to requests. No sockets here. Everything
 * parsed comes from a process we do not trust. Its WebSocket messages are read
 * by the streaming reader (cdp_reader.h).
 */
#ifndef INSPECTD_CDP_H
#define INSPECTD_CDP_H

#include <stddef.h>
#include <cjson/cJSON.h>

#define CDP_MAX_PENDING    16
#define CDP_WS_PATH_MAX    80
#define CDP_VERSION_MAX    32

struct cdp_requests {
	int next_id;
	struct {
		int id;         /* 0: free slot */
		int tag;
	} slot[CDP_MAX_PENDING];
};

/* Reserve an id for a request; the tag comes back with its response. -ENOSPC when full. */
int cdp_requests__add(struct cdp_requests *r, int tag);
/* Take the request answered by this id: its tag, or -ENOENT for an id we never sent. */
int cdp_requests__take(struct cdp_requests *r, int id, int *tag);
int cdp_requests__pending(const struct cdp_requests *r);

/* {"id":ID,"method":METHOD,"params":PARAMS}; params may be NULL and is consumed. */
char *cdp_command_new(int id, const char *method, cJSON *params);

/* /json/version: "Browser":"node.js/v20.20.2" -> "v20.20.2". -EPROTO if not node. */
int cdp_parse_version(const char *buf, size_t len, char *version, size_t size);
/* /json/list: the first target's webSocketDebuggerUrl path ("/<uuid>"). */
int cdp_parse_target_list(const char *buf, size_t len, char *path, size_t size);

#endif
