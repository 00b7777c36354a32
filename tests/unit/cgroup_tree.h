/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * A small cgroup tree per test, plain directories and files under a fresh folder
 * /tmp/inspectd-cgroup-XXXXXX:
 *   TMP/v1/...   as the v1 memory hierarchy (roots.v1_memory)
 *   TMP/v2/...   as the v2 hierarchy (roots.v2)
 * tree_setup() and tree_teardown() for cmocka_unit_test_setup_teardown(): *state is the
 * struct tree; the teardown removes the folder with all in it. Include after <cmocka.h>
 * and "fixture.h".
 */
#ifndef INSPECTD_TEST_CGROUP_TREE_H
#define INSPECTD_TEST_CGROUP_TREE_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup.h"

/* What v1 shows for "no limit": LLONG_MAX rounded down to a 4 KiB page. */
#define V1_UNLIMITED "9223372036854771712\n"

struct tree {
	char base[64];
	char v1[80];
	char v2[80];
	struct cgroup_roots roots;
};

static inline int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	strcpy(t->base, "/tmp/inspectd-cgroup-XXXXXX");
	if (!mkdtemp(t->base)) {
		free(t);
		return -1;
	}
	*state = t;             /* the teardown removes what there is */
	snprintf(t->v1, sizeof(t->v1), "%s/v1", t->base);
	snprintf(t->v2, sizeof(t->v2), "%s/v2", t->base);
	if (mkdir(t->v1, 0755) < 0 || mkdir(t->v2, 0755) < 0)
		return -1;
	t->roots.v1_memory = t->v1;
	t->roots.v2 = t->v2;
	return 0;
}

static inline int tree_teardown(void **state)
{
	struct tree *t = *state;
	int r;

	if (!t)
		return 0;
	r = fixture_remove_at(AT_FDCWD, t->base);
	free(t);
	return r;
}

/* mkdir -p TMP/rel */
static inline void tree_mkdir(struct tree *t, const char *rel)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", t->base, rel) >= sizeof(path))
		fail_msg("path %s/%s too long", t->base, rel);
	for (char *p = path + strlen(t->base) + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*p = c;
		if (!c)
			break;
	}
}

/* TMP/rel/file = text, creating the folders. */
static inline void tree_put(struct tree *t, const char *rel, const char *file, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	tree_mkdir(t, rel);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s", t->base, rel, file) >= sizeof(path))
		fail_msg("path %s/%s/%s too long", t->base, rel, file);
	f = fopen(path, "we");
	if (!f)
		fail_msg("%s: %s", path, strerror(errno));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

#endif
