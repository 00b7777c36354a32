// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cdp.h"

int cdp_requests__add(struct cdp_requests *r, int tag)
{
	for (int i = 0; i < CDP_MAX_PENDING; i++) {
		if (r->slot[i].id != 0)
			continue;
		if (r->next_id <= 0 || r->next_id == 0x7fffffff)
			r->next_id = 1;
		r->slot[i].id = r->next_id++;
		r->slot[i].tag = tag;
		return r->slot[i].id;
	}
	return -ENOSPC;
}

int cdp_requests__take(struct cdp_requests *r, int id, int *tag)
{
	if (id <= 0)
		return -ENOENT;
	for (int i = 0; i < CDP_MAX_PENDING; i++) {
		if (r->slot[i].id == id) {
			*tag = r->slot[i].tag;
			r->slot[i].id = 0;
			return 0;
		}
	}
	return -ENOENT;
}

int cdp_requests__pending(const struct cdp_requests *r)
{
	int n = 0;

	for (int i = 0; i < CDP_MAX_PENDING; i++)
		n += r->slot[i].id != 0;
	return n;
}

char *cdp_command_new(int id, const char *method, cJSON *params)
{
	cJSON *msg = cJSON_CreateObject();
	char *s = NULL;

	if (!msg) {
		cJSON_Delete(params);
		return NULL;
	}
	if (!cJSON_AddNumberToObject(msg, "id", id) || !cJSON_AddStringToObject(msg, "method", method))
		goto out;
	if (params && !cJSON_AddItemToObject(msg, "params", params))
		goto out;       /* params is still ours: freed below */
	params = NULL;
	s = cJSON_PrintUnformatted(msg);
out:
	cJSON_Delete(params);
	cJSON_Delete(msg);
	return s;
}

static int copy_checked(const char *s, const char *allowed, char *out, size_t size)
{
	size_t n = strlen(s);

	if (n == 0 || n >= size)
		return -EPROTO;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(allowed, s[i]))
			return -EPROTO;
	memcpy(out, s, n + 1);
	return 0;
}

int cdp_parse_version(const char *buf, size_t len, char *version, size_t size)
{
	cJSON *root = cJSON_ParseWithLength(buf, len);
	const cJSON *browser = cJSON_GetObjectItemCaseSensitive(root, "Browser");
	int r = -EPROTO;

	if (cJSON_IsString(browser) && strncmp(browser->valuestring, "node.js/", 8) == 0)
		r = copy_checked(browser->valuestring + 8, ".-+", version, size);
	cJSON_Delete(root);
	return r;
}

int cdp_parse_target_list(const char *buf, size_t len, char *path, size_t size)
{
	cJSON *root = cJSON_ParseWithLength(buf, len);
	cJSON *list = cJSON_IsArray(root) ? root : NULL;
	const cJSON *target;
	int r = -EPROTO;

	cJSON_ArrayForEach(target, list) {
		const cJSON *url = cJSON_GetObjectItemCaseSensitive(target, "webSocketDebuggerUrl");
		const char *s, *slash;

		if (!cJSON_IsString(url) || strncmp(url->valuestring, "ws://", 5) != 0)
			continue;
		s = url->valuestring + 5;
		slash = strchr(s, '/');
		if (!slash || slash[1] == '\0')
			continue;
		/* The host part is node's own idea of it; we connect to the port we found. */
		if (size < 2 || copy_checked(slash + 1, "-", path + 1, size - 1) < 0)
			continue;
		path[0] = '/';
		r = 0;
		break;
	}
	cJSON_Delete(root);
	return r;
}
