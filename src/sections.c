// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>      /* inspectd.h's, under settings.h */

#include "sections.h"

struct section_key {
	const struct setting_def *def;
	const char *value;              /* borrowed; NULL for a flag */
};

struct section {
	const char *rule;               /* borrowed */
	unsigned line;
	struct selection *selection;    /* the rule alone, as a --select */
	struct section_key keys[SECTION_KEYS_MAX];
	unsigned n_keys;
	struct settings settings;       /* sections__resolve()'s */
};

struct sections {
	struct section *v[SECTIONS_MAX];
	unsigned n;
};

int sections__new(struct sections **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

void sections__free(struct sections *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < s->n; i++) {
		selection__free(s->v[i]->selection);
		free(s->v[i]);
	}
	free(s);
}

int sections__add(struct sections *s, const char *rule, unsigned line, char *why, size_t size)
{
	struct section *sec;
	int r;

	if (s->n >= SECTIONS_MAX) {
		snprintf(why, size, "more than %d sections", SECTIONS_MAX);
		return -E2BIG;
	}
	sec = calloc(1, sizeof(*sec));
	if (!sec || selection__new(&sec->selection) < 0) {
		free(sec);
		snprintf(why, size, "out of memory");
		return -ENOMEM;
	}
	r = selection__add(sec->selection, false, rule, why, size);
	if (r < 0) {
		selection__free(sec->selection);
		free(sec);
		return r == -ENOMEM ? r : -EINVAL;
	}
	sec->rule = rule;
	sec->line = line;
	s->v[s->n++] = sec;
	return 0;
}

/* "rss-threshold, rss-growth, ...": the keys a section takes, from the settings' table. */
static void process_keys(char *buf, size_t size)
{
	const struct setting_def *defs;
	size_t n, o = 0;

	buf[0] = '\0';
	defs = settings_defs(&n);
	for (size_t i = 0; i < n && o < size; i++)
		if (defs[i].scope == SETTING_PROCESS)
			o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? ", " : "", defs[i].key);
}

int sections__set(struct sections *s, const struct setting_def *def, const char *value, char *why, size_t size)
{
	struct settings scratch;
	struct section *sec;
	char keys[256];
	unsigned k;

	if (!s->n) {
		snprintf(why, size, "no section yet");
		return -ENOENT;
	}
	sec = s->v[s->n - 1];
	if (def->scope != SETTING_PROCESS) {
		process_keys(keys, sizeof(keys));
		snprintf(why, size, "%s applies to the whole agent, not to a section (a section takes %s)", def->key,
			 keys);
		return -EINVAL;
	}
	/* The value alone, checked now: its line is known here, not when the sections are resolved. */
	settings_defaults(&scratch);
	if (def->set(&scratch, value, why, size) < 0)
		return -EINVAL;
	for (k = 0; k < sec->n_keys; k++)
		if (sec->keys[k].def == def)
			break;
	if (k == SECTION_KEYS_MAX) {
		snprintf(why, size, "more than %d keys in one section", SECTION_KEYS_MAX);
		return -E2BIG;
	}
	sec->keys[k] = (struct section_key){ def, value };
	if (k == sec->n_keys)
		sec->n_keys++;
	return 0;
}

/* st with sec's keys over it, checked: 0, or -EINVAL and why. */
static int resolve_one(struct section *sec, const struct settings *st, char *why, size_t size)
{
	sec->settings = *st;
	for (unsigned k = 0; k < sec->n_keys; k++)
		if (sec->keys[k].def->set(&sec->settings, sec->keys[k].value, why, size) < 0)
			return -EINVAL;
	return settings_check(&sec->settings, why, size);
}

int sections__resolve(struct sections *s, const struct settings *st, const char *name, char *why, size_t size)
{
	char sub[512];

	for (unsigned i = 0; s && i < s->n; i++) {
		if (resolve_one(s->v[i], st, sub, sizeof(sub)) < 0) {
			snprintf(why, size, "%s:%u: [select %s]: %s", name, s->v[i]->line, s->v[i]->rule, sub);
			return -EINVAL;
		}
	}
	return 0;
}

unsigned sections__count(const struct sections *s)
{
	return s ? s->n : 0;
}

const char *sections__rule(const struct sections *s, unsigned i)
{
	return s->v[i]->rule;
}

unsigned sections__line(const struct sections *s, unsigned i)
{
	return s->v[i]->line;
}

void sections__describe(const struct sections *s, unsigned i, char *buf, size_t size)
{
	const struct section *sec = s->v[i];
	const struct setting_def *defs;
	size_t n, o = 0;

	buf[0] = '\0';
	defs = settings_defs(&n);
	for (size_t d = 0; d < n && o < size; d++)
		for (unsigned k = 0; k < sec->n_keys && o < size; k++)
			if (sec->keys[k].def == &defs[d])
				o += (size_t)snprintf(buf + o, size - o, "%s%s%s%s", o ? ", " : "", defs[d].key,
						      sec->keys[k].value ? " = " : "",
						      sec->keys[k].value ? sec->keys[k].value : "");
	if (!sec->n_keys)
		snprintf(buf, size, "no settings of its own");
}

int sections__match(const struct sections *s, const struct select_subject *subj)
{
	for (unsigned i = 0; s && i < s->n; i++)
		if (selection_judge(s->v[i]->selection, subj) == SELECT_SELECTED)
			return (int)i;
	return SECTION_NONE;
}

const struct settings *sections__settings(const struct sections *s, int i, const struct settings *st)
{
	if (!s || i < 0 || (unsigned)i >= s->n)
		return st;
	return &s->v[i]->settings;
}
