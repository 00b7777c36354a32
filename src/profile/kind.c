// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Profile kinds by name: pure, for whoever names or parses a kind (the API, options). */
#include <errno.h>
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
