// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Profile kinds by name, and what their callers must know of them: pure, for whoever names,
 * parses or asks for a kind (the API, the settings, the dispatcher, inspectctl). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profile.h"

static const char *const names[_PROFILE_KIND_MAX] = {
	[PROFILE_HEAP] = "heap",
	[PROFILE_CPU] = "cpu",
	[PROFILE_HEAP_SNAPSHOT] = "heap-snapshot",
	[PROFILE_ALLOCATION_TIMELINE] = "allocation-timeline",
	[PROFILE_TRACE] = "trace",
};

const char *profile_kind_name(enum profile_kind kind)
{
	return kind >= 0 && kind < _PROFILE_KIND_MAX ? names[kind] : "unknown";
}

int profile_kind_from_name(const char *name, enum profile_kind *ret)
{
	for (int k = 0; k < _PROFILE_KIND_MAX; k++) {
		if (strcmp(name, names[k]) == 0) {
			*ret = (enum profile_kind)k;
			return 0;
		}
	}
	return -EINVAL;
}

const char *profile_kind_list(char *buf, size_t size, const char *quote)
{
	size_t n = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	for (int k = 0; k < _PROFILE_KIND_MAX && n < size; k++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s%s%s", k == 0 ? "" : k + 1 < _PROFILE_KIND_MAX ? ", " : " or ",
				      quote, names[k], quote);
	return buf;
}

/* The kinds without a duration; every other runs until stopped or its time is up. */
static const bool instantaneous[_PROFILE_KIND_MAX] = {
	[PROFILE_HEAP_SNAPSHOT] = true,
};

bool profile_kind_instantaneous(enum profile_kind kind)
{
	return kind >= 0 && kind < _PROFILE_KIND_MAX && instantaneous[kind];
}

/* What a kind costs the target, said wherever it is asked for (the API's 202, inspectctl). */
static const char *const costs[_PROFILE_KIND_MAX] = {
	[PROFILE_HEAP_SNAPSHOT] = "a heap snapshot pauses the target for all of it (seconds per 100 MB of "
				  "small objects) and raises its RSS to many times its used heap meanwhile",
	[PROFILE_ALLOCATION_TIMELINE] = "an allocation timeline records every allocation's stack: the "
					"target runs slower for the whole capture (at most --capture-seconds)",
};

const char *profile_kind_cost(enum profile_kind kind)
{
	return kind >= 0 && kind < _PROFILE_KIND_MAX ? costs[kind] : NULL;
}
