// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/types.h>      /* inspectd.h's, under settings.h */

#include "config.h"

struct pooled {
	struct pooled *next;
	char text[];
};

struct config_pool {
	struct pooled *head;
	size_t n;
};

int config_pool__new(struct config_pool **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

void config_pool__free(struct config_pool *p)
{
	if (!p)
		return;
	for (struct pooled *e = p->head, *next; e; e = next) {
		next = e->next;
		free(e);
	}
	free(p);
}

/* The pool's copy of s (len bytes): the same pointer for the same text, always. */
static const char *intern(struct config_pool *p, const char *s, size_t len)
{
	struct pooled *e;

	for (e = p->head; e; e = e->next)
		if (strlen(e->text) == len && memcmp(e->text, s, len) == 0)
			return e->text;
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	memcpy(e->text, s, len);
	e->text[len] = '\0';
	e->next = p->head;
	p->head = e;
	p->n++;
	return e->text;
}

static const char *trim(const char *s, const char *end, const char **ret_end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*ret_end = end;
	return s;
}

static const struct setting_def *find_def(const char *key, size_t len)
{
	const struct setting_def *defs;
	size_t n;

	defs = settings_defs(&n);
	for (size_t i = 0; i < n; i++)
		if (strlen(defs[i].key) == len && memcmp(defs[i].key, key, len) == 0)
			return &defs[i];
	return NULL;
}

/*
 * A section's header, k to k_end trimmed, "[select RULE]" (spaces allowed inside the
 * brackets): a new section of sections. 0, or -errno with why (without the line).
 */
static int section_header(const char *k, const char *k_end, unsigned line, struct config_pool *pool,
			  struct sections *sections, char *why, size_t size)
{
	const char *in, *in_end, *rule, *rule_end;

	if (k_end - k < 2 || k_end[-1] != ']') {
		snprintf(why, size, "a section's header is '[select RULE]', on a line of its own");
		return -EINVAL;
	}
	in = trim(k + 1, k_end - 1, &in_end);
	if (in_end - in < 6 || memcmp(in, "select", 6) != 0 || (in_end - in > 6 && in[6] != ' ' && in[6] != '\t')) {
		snprintf(why, size, "a section's header is '[select RULE]': select sections only");
		return -EINVAL;
	}
	rule = trim(in + 6, in_end, &rule_end);
	if (rule == rule_end) {
		snprintf(why, size, "[select RULE] needs a rule, as --select takes (namespace=checkout)");
		return -EINVAL;
	}
	rule = intern(pool, rule, (size_t)(rule_end - rule));
	if (!rule) {
		snprintf(why, size, "out of memory");
		return -ENOMEM;
	}
	return sections__add(sections, rule, line, why, size);
}

int config_apply(const char *name, const char *text, size_t len, struct config_pool *pool, struct settings *st,
		 struct sections *sections, char *why, size_t size)
{
	const char *p = text, *end = text + len;
	bool in_section = false;
	unsigned line = 0;
	int r;

	for (; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end;
		const char *k, *k_end, *eq, *v = NULL, *v_end = NULL;
		const struct setting_def *def;
		char sub[512];

		if (eol - p > CONFIG_LINE_MAX) {
			snprintf(why, size, "%s:%u: a line longer than %d bytes", name, line + 1, CONFIG_LINE_MAX);
			return -EINVAL;
		}
		if (memchr(p, '\0', (size_t)(eol - p))) {
			snprintf(why, size, "%s:%u: a NUL byte", name, line + 1);
			return -EINVAL;
		}
		k = trim(p, eol, &k_end);
		p = nl ? nl + 1 : end;
		if (k == k_end || *k == '#')
			continue;
		if (*k == '[') {
			r = section_header(k, k_end, line + 1, pool, sections, sub, sizeof(sub));
			if (r < 0) {
				snprintf(why, size, "%s:%u: %s", name, line + 1, sub);
				return r == -ENOMEM ? r : -EINVAL;
			}
			in_section = true;
			continue;
		}
		eq = memchr(k, '=', (size_t)(k_end - k));
		if (eq) {
			v = trim(eq + 1, k_end, &v_end);
			k = trim(k, eq, &k_end);
		}
		def = find_def(k, (size_t)(k_end - k));
		if (!def) {
			snprintf(why, size, "%s:%u: unknown setting '%.*s' (the long options of inspectd --help, "
				 "without their dashes)", name, line + 1, (int)(k_end - k > 64 ? 64 : k_end - k), k);
			return -EINVAL;
		}
		/* In a section, a key of the whole agent's, a flag or not: sections__set() refuses it, saying why. */
		if (in_section && def->scope != SETTING_PROCESS) {
			sections__set(sections, def, NULL, sub, sizeof(sub));
			snprintf(why, size, "%s:%u: %s", name, line + 1, sub);
			return -EINVAL;
		}
		if (def->flag) {
			if (v && !((v_end - v == 4 && memcmp(v, "true", 4) == 0) ||
				   (v_end - v == 5 && memcmp(v, "false", 5) == 0))) {
				snprintf(why, size, "%s:%u: %s is a flag: '%s' alone, or '%s = true' or 'false'", name,
					 line + 1, def->key, def->key, def->key);
				return -EINVAL;
			}
			if (v && v_end - v == 5)
				continue;       /* false: left as it is */
			v = NULL;
		} else if (!v || v == v_end) {
			snprintf(why, size, "%s:%u: %s needs a value: '%s = VALUE'", name, line + 1, def->key, def->key);
			return -EINVAL;
		} else {
			v = intern(pool, v, (size_t)(v_end - v));
			if (!v) {
				snprintf(why, size, "%s:%u: out of memory", name, line + 1);
				return -ENOMEM;
			}
		}
		r = in_section ? sections__set(sections, def, v, sub, sizeof(sub)) : def->set(st, v, sub, sizeof(sub));
		if (r < 0) {
			snprintf(why, size, "%s:%u: %s", name, line + 1, sub);
			return -EINVAL;
		}
	}
	return 0;
}

/* The file and every folder on its way, links resolved: root's, writable by root alone.
 * resolved (PATH_MAX bytes) gets the file's own path, links resolved: what to open. */
static int check_path(const char *path, char *resolved, char *why, size_t size)
{
	char real[PATH_MAX], *slash;
	struct stat st;

	if (!realpath(path, real)) {
		snprintf(why, size, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (stat(real, &st) < 0) {
		snprintf(why, size, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, size, "%s: not a regular file (%s)", path, real);
		return -EPERM;
	}
	memcpy(resolved, real, PATH_MAX);
	for (;;) {
		if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
			snprintf(why, size, "%s: %s is not root's alone (owner %u, mode %04o): refused, the file decides "
				 "what a root agent does", path, real[0] ? real : "/", (unsigned)st.st_uid,
				 (unsigned)(st.st_mode & 07777));
			return -EPERM;
		}
		slash = strrchr(real, '/');
		if (!slash || slash == real) {
			if (stat("/", &st) < 0 || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
				snprintf(why, size, "%s: / is not root's alone: refused", path);
				return -EPERM;
			}
			return 0;
		}
		*slash = '\0';
		if (stat(real, &st) < 0) {
			snprintf(why, size, "%s: %s: %s", path, real, strerror(errno));
			return -errno;
		}
	}
}

int config_load(const char *path, struct config_pool *pool, struct settings *st, struct sections *sections,
		char *why, size_t size)
{
	char resolved[PATH_MAX];
	struct stat fst;
	char *text;
	ssize_t n;
	int fd, r;

	r = check_path(path, resolved, why, size);
	if (r < 0)
		return r;
	/* The file as checked, its links resolved once: no link is followed after the check. */
	fd = open(resolved, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(why, size, "%s: %s", path, strerror(-r));
		return r;
	}
	/* What was opened is what was checked: a regular file, root's, not others' to write. */
	if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) || fst.st_uid != 0 || (fst.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		snprintf(why, size, "%s: changed while it was checked: refused", path);
		return -EPERM;
	}
	if (fst.st_size > CONFIG_FILE_MAX) {
		close(fd);
		snprintf(why, size, "%s: larger than %d KiB", path, CONFIG_FILE_MAX / 1024);
		return -EFBIG;
	}
	text = malloc((size_t)fst.st_size + 1);
	if (!text) {
		close(fd);
		snprintf(why, size, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = pread(fd, text, (size_t)fst.st_size, 0);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0) {
		free(text);
		snprintf(why, size, "%s: %s", path, strerror(-r));
		return r;
	}
	r = config_apply(path, text, (size_t)n, pool, st, sections, why, size);
	free(text);
	return r;
}
