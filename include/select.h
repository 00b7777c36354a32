/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Which processes the agent looks at: the rules of --select and --exclude, parsed
 * and matched. Pure: no syscalls but regcomp(3), regexec(3) and fnmatch(3), no logging.
 *
 * A rule is FIELD=GLOB or cmdline~REGEX:
 *   namespace=, pod=, container=, image=, comm=, exe=, uid=
 *       fnmatch(3) with flags 0 (`*`, `?`, `[...]`; `*` also matches `/`). `uid=` takes
 *       a plain decimal number (compared as a number: `uid=007` is uid 7; refused past
 *       4294967295) or a glob over the uid's decimal text (`uid=10*`).
 *       Globs and regexes see bytes (the agent runs in the C locale): `?` and `.` are one
 *       byte, so `comm=caf?` does not match "café" and `comm=caf*` does.
 *   cmdline~REGEX
 *       POSIX extended (REG_EXTENDED | REG_NOSUB), unanchored, matched against argv
 *       joined by single spaces. Only the first SELECT_CMDLINE_MAX bytes of that text
 *       are matched: a longer command line is cut at SELECT_CMDLINE_MAX bytes, or a few
 *       bytes before so as not to cut a UTF-8 character in two, and what lies beyond the
 *       cut never matches. Back-references (\1 to \9 outside a bracket expression) are
 *       refused: glibc accepts them in an ERE and they make matching exponential.
 *
 * A field the process does not have (no container, no pod, no known uid, no argv: NULL
 * or "") never matches, not even `*` or `cmdline~.*`: `--select 'container=*'` selects
 * the processes in a container and no host process.
 *
 * Refused, -EINVAL with one line in why naming the rule and the problem: an empty rule,
 * a missing `=` or `~`, an unknown field, `~` on a field other than cmdline, `=` on
 * cmdline, an empty pattern, a pattern longer than SELECT_PATTERN_MAX bytes, a control
 * character (below 0x20, or 0x7f) in the pattern, a regex that does not compile
 * (regerror(3)'s words) and a back-reference. A glob that can only match nothing is
 * accepted. At most SELECT_RULES_MAX --select and as many --exclude rules.
 */
#ifndef INSPECTD_SELECT_H
#define INSPECTD_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SELECT_RULES_MAX        64      /* of each of --select and --exclude */
#define SELECT_PATTERN_MAX      256     /* bytes after the = or ~ */
#define SELECT_CMDLINE_MAX      4096    /* bytes of the joined argv that are matched */
/* A rule's whole text, its field and `=` or `~` with it, and a NUL: what a rule that is not
 * refused fits in (the longest field, "namespace", and SELECT_PATTERN_MAX bytes). */
#define SELECT_RULE_MAX         (SELECT_PATTERN_MAX + 16)

enum select_field {
	SELECT_NAMESPACE,
	SELECT_POD,
	SELECT_CONTAINER,
	SELECT_IMAGE,
	SELECT_COMM,
	SELECT_EXE,
	SELECT_UID,
	SELECT_CMDLINE,
	_SELECT_FIELD_MAX,
};

/* "namespace", "pod", "container", "image", "comm", "exe", "uid", "cmdline"; "unknown" out of range. */
const char *select_field_name(enum select_field f);

/* What a rule is matched against: borrowed strings, NULL or "" when unknown or absent. */
struct select_subject {
	const char *namespace, *pod, *container, *image, *comm, *exe;
	bool has_uid;
	uint32_t uid;
	const char *const *argv;        /* argc entries (a NULL entry counts as ""); may be NULL */
	size_t argc;
};

/* The --select and --exclude rules; opaque. */
struct selection;

/* An empty selection (everything selected, nothing excluded) in *ret, freed with selection__free(): 0, -ENOMEM. */
int selection__new(struct selection **ret);
/*
 * Add one rule, its text as given on the command line (after --select or --exclude),
 * to the excludes when exclude, to the selects otherwise. The text is copied.
 * 0; -EINVAL: the rule is refused (see above); -E2BIG: already SELECT_RULES_MAX rules
 * of that kind; -ENOMEM. On an error the selection is unchanged and why (when not NULL)
 * holds one line naming the rule and the problem; a control character in the rule is
 * written there as \xNN.
 */
int selection__add(struct selection *s, bool exclude, const char *text, char *why, size_t size);
/* Frees s and its rules; takes NULL. */
void selection__free(struct selection *s);
/* The number of --exclude rules when exclude, of --select rules otherwise; 0 for NULL. */
size_t selection__count(const struct selection *s, bool exclude);

enum select_verdict {
	SELECT_EXCLUDED,
	SELECT_SELECTED,
	SELECT_NOT_SELECTED,
	_SELECT_VERDICT_MAX,
};

/* "excluded", "selected", "not-selected"; "unknown" out of range. */
const char *select_verdict_name(enum select_verdict v);
/*
 * Excluded when an --exclude rule matches (whatever --select says); else selected when
 * there is no --select rule or one matches; else not selected. s may be NULL: selected.
 * A regexec(3) that fails (out of memory) counts as a match for an --exclude rule and as
 * no match for a --select rule: in doubt, the process is left alone.
 */
enum select_verdict selection_judge(const struct selection *s, const struct select_subject *subj);
/*
 * The text of the first rule that matched for this verdict, for a log line: for
 * SELECT_EXCLUDED the first --exclude rule that matches subj, for SELECT_SELECTED the
 * first --select rule that matches it. NULL for SELECT_NOT_SELECTED, for a process
 * selected because there is no --select rule, when no rule of that kind matches, and
 * for a NULL s. Borrowed from s: valid until selection__free().
 */
const char *selection_why(const struct selection *s, const struct select_subject *subj, enum select_verdict v);
/*
 * A rule that matches none of the processes running (a glob that matches nothing, a
 * namespace misspelt) is worth a warning, not an error: selection_note() records which
 * rules subj matches (a regexec(3) that fails counts as no match), and
 * selection_foreach_unmatched() calls fn(ctx, exclude, rule text) for every rule no subject
 * noted so far matched. Takes NULL.
 */
void selection_note(struct selection *s, const struct select_subject *subj);
void selection_foreach_unmatched(const struct selection *s, void (*fn)(void *ctx, bool exclude, const char *text),
				 void *ctx);

#endif
