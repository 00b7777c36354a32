// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The rules of --select and --exclude: parsed once, matched per process. Pure: no
 * syscalls but regcomp(3), regexec(3) and fnmatch(3), no logging.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select.h"

static const char *const field_names[_SELECT_FIELD_MAX] = {
	[SELECT_NAMESPACE] = "namespace",
	[SELECT_POD] = "pod",
	[SELECT_CONTAINER] = "container",
	[SELECT_IMAGE] = "image",
	[SELECT_COMM] = "comm",
	[SELECT_EXE] = "exe",
	[SELECT_UID] = "uid",
	[SELECT_CMDLINE] = "cmdline",
};

#define KNOWN_FIELDS "namespace, pod, container, image, comm, exe, uid, cmdline"

const char *select_field_name(enum select_field f)
{
	return (unsigned)f < _SELECT_FIELD_MAX ? field_names[f] : "unknown";
}

static const char *const verdict_names[_SELECT_VERDICT_MAX] = {
	[SELECT_EXCLUDED] = "excluded",
	[SELECT_SELECTED] = "selected",
	[SELECT_NOT_SELECTED] = "not-selected",
};

const char *select_verdict_name(enum select_verdict v)
{
	return (unsigned)v < _SELECT_VERDICT_MAX ? verdict_names[v] : "unknown";
}

struct select_rule {
	enum select_field field;
	char *text;                     /* as given; owned */
	const char *pattern;            /* after the = or ~, within text */
	bool uid_number;                /* uid=DIGITS: compared as a number */
	uint32_t uid;
	bool compiled;                  /* cmdline~: re holds the regex */
	regex_t re;
	bool matched;                   /* by a subject given to selection_note() */
};

enum { LIST_SELECT, LIST_EXCLUDE, _LIST_MAX };

struct selection {
	struct select_rule rules[_LIST_MAX][SELECT_RULES_MAX];
	size_t count[_LIST_MAX];
};

int selection__new(struct selection **ret)
{
	struct selection *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static void rule_clear(struct select_rule *r)
{
	if (r->compiled)
		regfree(&r->re);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

void selection__free(struct selection *s)
{
	if (!s)
		return;
	for (int l = 0; l < _LIST_MAX; l++)
		for (size_t i = 0; i < s->count[l]; i++)
			rule_clear(&s->rules[l][i]);
	free(s);
}

size_t selection__count(const struct selection *s, bool exclude)
{
	return s ? s->count[exclude ? LIST_EXCLUDE : LIST_SELECT] : 0;
}

/* ---- parsing ---- */

#define SHOW_MAX 80     /* bytes of a rule quoted in why */

/*
 * n bytes of text for a one-line message: control characters as \xNN, cut after
 * SHOW_MAX bytes with "...".
 */
static void show(char *out, size_t size, const char *text, size_t n)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && text[i]; i++) {
		unsigned char c = (unsigned char)text[i];

		if (i == SHOW_MAX) {
			snprintf(out + o, size - o, "...");
			return;
		}
		if (o + 5 >= size)
			return;
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
		out[o] = '\0';
	}
}

static int refuse(char *why, size_t size, bool exclude, const char *text, int err, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static int refuse(char *why, size_t size, bool exclude, const char *text, int err, const char *fmt, ...)
{
	char rule[SHOW_MAX * 4 + 8], problem[512];
	va_list ap;

	if (!why || !size)
		return err;
	show(rule, sizeof(rule), text ? text : "", SIZE_MAX);
	va_start(ap, fmt);
	vsnprintf(problem, sizeof(problem), fmt, ap);
	va_end(ap);
	snprintf(why, size, "--%s '%s': %s", exclude ? "exclude" : "select", rule, problem);
	return err;
}

/* Where the bracket expression opened at p[i] == '[' ends: the index of its ']', or of the NUL. */
static size_t bracket_end(const char *p, size_t i)
{
	size_t j = i + 1;

	if (p[j] == '^')
		j++;
	if (p[j] == ']')
		j++;
	while (p[j] && p[j] != ']') {
		if (p[j] == '[' && (p[j + 1] == ':' || p[j + 1] == '=' || p[j + 1] == '.')) {
			char close = p[j + 1];
			size_t k = j + 2;

			while (p[k] && !(p[k] == close && p[k + 1] == ']'))
				k++;
			if (!p[k])
				return k;
			j = k + 2;
			continue;
		}
		j++;
	}
	return j;
}

/* The first back-reference (\1 to \9 outside a bracket expression), or NULL. */
static const char *find_backref(const char *p)
{
	for (size_t i = 0; p[i]; i++) {
		if (p[i] == '\\') {
			if (p[i + 1] >= '1' && p[i + 1] <= '9')
				return p + i;
			if (!p[i + 1])
				break;
			i++;
		} else if (p[i] == '[') {
			i = bracket_end(p, i);
			if (!p[i])
				break;
		}
	}
	return NULL;
}

/* uid=DIGITS: 1 and *uid; 0 for a glob; -ERANGE past UINT32_MAX. */
static int parse_uid(const char *p, uint32_t *uid)
{
	uint64_t v = 0;

	for (const char *c = p; *c; c++) {
		if (*c < '0' || *c > '9')
			return 0;
		v = v * 10 + (uint64_t)(*c - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	*uid = (uint32_t)v;
	return 1;
}

int selection__add(struct selection *s, bool exclude, const char *text, char *why, size_t size)
{
	int l = exclude ? LIST_EXCLUDE : LIST_SELECT;
	struct select_rule r = { 0 };
	const char *op, *pattern;
	size_t flen, plen;
	int f, rc;

	if (s->count[l] >= SELECT_RULES_MAX)
		return refuse(why, size, exclude, text, -E2BIG, "more than %d --%s rules", SELECT_RULES_MAX,
			      exclude ? "exclude" : "select");
	if (!text || !*text)
		return refuse(why, size, exclude, text, -EINVAL, "empty rule (FIELD=GLOB or cmdline~REGEX)");

	op = text + strcspn(text, "=~");
	if (!*op)
		return refuse(why, size, exclude, text, -EINVAL, "no '=' or '~' (FIELD=GLOB or cmdline~REGEX)");
	flen = (size_t)(op - text);
	for (f = 0; f < _SELECT_FIELD_MAX; f++)
		if (strlen(field_names[f]) == flen && strncmp(text, field_names[f], flen) == 0)
			break;
	if (f == _SELECT_FIELD_MAX) {
		char field[SHOW_MAX * 4 + 8];

		show(field, sizeof(field), text, flen);
		return refuse(why, size, exclude, text, -EINVAL, "unknown field '%s' (known: %s)", field,
			      KNOWN_FIELDS);
	}
	if (*op == '~' && f != SELECT_CMDLINE)
		return refuse(why, size, exclude, text, -EINVAL, "'~' (a regex) is for cmdline only; %s takes a glob: %s=GLOB",
			      field_names[f], field_names[f]);
	if (*op == '=' && f == SELECT_CMDLINE)
		return refuse(why, size, exclude, text, -EINVAL, "cmdline takes a regex: cmdline~REGEX");

	pattern = op + 1;
	plen = strlen(pattern);
	if (!plen)
		return refuse(why, size, exclude, text, -EINVAL, "empty pattern");
	if (plen > SELECT_PATTERN_MAX)
		return refuse(why, size, exclude, text, -EINVAL, "pattern of %zu bytes, at most %d", plen,
			      SELECT_PATTERN_MAX);
	for (const char *c = pattern; *c; c++) {
		unsigned char b = (unsigned char)*c;

		if (b < 0x20 || b == 0x7f)
			return refuse(why, size, exclude, text, -EINVAL, "control character \\x%02x in the pattern", b);
	}

	r.field = (enum select_field)f;
	if (r.field == SELECT_UID) {
		rc = parse_uid(pattern, &r.uid);
		if (rc < 0)
			return refuse(why, size, exclude, text, -EINVAL, "uid %s is past %u", pattern, UINT32_MAX);
		r.uid_number = rc > 0;
	}
	if (r.field == SELECT_CMDLINE) {
		const char *br = find_backref(pattern);

		if (br)
			return refuse(why, size, exclude, text, -EINVAL,
				      "back-reference \\%c refused (it makes matching exponential)", br[1]);
		rc = regcomp(&r.re, pattern, REG_EXTENDED | REG_NOSUB);
		if (rc == REG_ESPACE)
			return refuse(why, size, exclude, text, -ENOMEM, "out of memory");
		if (rc != 0) {
			char words[256];

			regerror(rc, &r.re, words, sizeof(words));
			return refuse(why, size, exclude, text, -EINVAL, "bad regex: %s", words);
		}
		r.compiled = true;
	}

	r.text = strdup(text);
	if (!r.text) {
		rule_clear(&r);
		return refuse(why, size, exclude, text, -ENOMEM, "out of memory");
	}
	r.pattern = r.text + (pattern - text);
	s->rules[l][s->count[l]++] = r;
	return 0;
}

/* ---- matching ---- */

/* The joined argv, built on the first cmdline rule and kept for the others. */
struct cmdline {
	bool built;
	size_t len;
	char buf[SELECT_CMDLINE_MAX + 2];
};

static bool utf8_continuation(char c)
{
	return ((unsigned char)c & 0xc0) == 0x80;
}

static void cmdline_build(struct cmdline *cl, const struct select_subject *subj)
{
	const size_t cap = SELECT_CMDLINE_MAX + 1;     /* one byte past the cut tells whether it cut */
	size_t len = 0;

	cl->built = true;
	for (size_t i = 0; subj->argv && i < subj->argc && len < cap; i++) {
		const char *a = subj->argv[i] ? subj->argv[i] : "";
		size_t n = strlen(a);

		if (i > 0)
			cl->buf[len++] = ' ';
		if (n > cap - len)
			n = cap - len;
		memcpy(cl->buf + len, a, n);
		len += n;
	}
	if (len > SELECT_CMDLINE_MAX) {
		/* cl->buf[cut] is the first byte left out: back up to the start of its character. */
		size_t cut = SELECT_CMDLINE_MAX;

		for (int k = 0; k < 3 && cut > 0 && utf8_continuation(cl->buf[cut]); k++)
			cut--;
		if (utf8_continuation(cl->buf[cut]))
			cut = SELECT_CMDLINE_MAX;       /* not UTF-8: a byte cut */
		len = cut;
	}
	cl->buf[len] = '\0';
	cl->len = len;
}

static bool rule_matches(const struct select_rule *r, bool exclude, const struct select_subject *subj,
			 struct cmdline *cl)
{
	const char *value = NULL;
	char uid[16];

	switch (r->field) {
	case SELECT_NAMESPACE:
		value = subj->namespace;
		break;
	case SELECT_POD:
		value = subj->pod;
		break;
	case SELECT_CONTAINER:
		value = subj->container;
		break;
	case SELECT_IMAGE:
		value = subj->image;
		break;
	case SELECT_COMM:
		value = subj->comm;
		break;
	case SELECT_EXE:
		value = subj->exe;
		break;
	case SELECT_UID:
		if (!subj->has_uid)
			return false;
		if (r->uid_number)
			return subj->uid == r->uid;
		snprintf(uid, sizeof(uid), "%" PRIu32, subj->uid);
		value = uid;
		break;
	case SELECT_CMDLINE: {
		int rc;

		if (!cl->built)
			cmdline_build(cl, subj);
		if (!cl->len)
			return false;
		rc = regexec(&r->re, cl->buf, 0, NULL, 0);
		if (rc == 0)
			return true;
		/* Failed, not "no match" (REG_ESPACE): in doubt, leave the process alone. */
		return rc != REG_NOMATCH && exclude;
	}
	default:
		return false;
	}
	return value && *value && fnmatch(r->pattern, value, 0) == 0;
}

static const struct select_rule *first_match(const struct selection *s, int l, const struct select_subject *subj,
					     struct cmdline *cl)
{
	for (size_t i = 0; i < s->count[l]; i++)
		if (rule_matches(&s->rules[l][i], l == LIST_EXCLUDE, subj, cl))
			return &s->rules[l][i];
	return NULL;
}

enum select_verdict selection_judge(const struct selection *s, const struct select_subject *subj)
{
	struct cmdline cl;

	if (!s)
		return SELECT_SELECTED;
	cl.built = false;
	if (first_match(s, LIST_EXCLUDE, subj, &cl))
		return SELECT_EXCLUDED;
	if (!s->count[LIST_SELECT] || first_match(s, LIST_SELECT, subj, &cl))
		return SELECT_SELECTED;
	return SELECT_NOT_SELECTED;
}

const char *selection_why(const struct selection *s, const struct select_subject *subj, enum select_verdict v)
{
	const struct select_rule *r = NULL;
	struct cmdline cl;

	if (!s)
		return NULL;
	cl.built = false;
	if (v == SELECT_EXCLUDED)
		r = first_match(s, LIST_EXCLUDE, subj, &cl);
	else if (v == SELECT_SELECTED)
		r = first_match(s, LIST_SELECT, subj, &cl);
	return r ? r->text : NULL;
}

void selection_note(struct selection *s, const struct select_subject *subj)
{
	struct cmdline cl;

	if (!s)
		return;
	cl.built = false;
	for (int l = 0; l < _LIST_MAX; l++)
		for (size_t i = 0; i < s->count[l]; i++)
			if (!s->rules[l][i].matched)
				s->rules[l][i].matched = rule_matches(&s->rules[l][i], false, subj, &cl);
}

void selection_foreach_unmatched(const struct selection *s, void (*fn)(void *ctx, bool exclude, const char *text),
				 void *ctx)
{
	if (!s)
		return;
	for (int l = 0; l < _LIST_MAX; l++)
		for (size_t i = 0; i < s->count[l]; i++)
			if (!s->rules[l][i].matched)
				fn(ctx, l == LIST_EXCLUDE, s->rules[l][i].text);
}
