// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A heap snapshot's object count, read from its own text as it streams past: the
 * snapshot opens with {"snapshot":{"meta":{...},"node_count":N,... and the count is
 * worth having in meta.json without holding or parsing the file. Pure: the bytes come
 * from the target, in pieces cut anywhere.
 */
#include "profile.h"

void profile_count_scan(struct profile_count_scan *cs, const char *buf, size_t len)
{
	static const char key[] = "\"node_count\":";

	for (size_t i = 0; i < len && !cs->done; i++, cs->seen++) {
		char ch = buf[i];

		if (cs->seen >= PROFILE_COUNT_WINDOW) {
			cs->done = true;
			cs->found = false;      /* a number cut short is no count */
			break;
		}
		if (cs->in_digits) {
			bool digit = ch >= '0' && ch <= '9';

			/* JSON's integers: no leading zero, and none past 64 bits. */
			if (digit && !(cs->found && cs->value == 0) && cs->value <= (UINT64_MAX - 9) / 10) {
				cs->value = cs->value * 10 + (uint64_t)(ch - '0');
				cs->found = true;
				continue;
			}
			cs->done = true;
			cs->found = cs->found && !digit;
			break;
		}
		if (ch == key[cs->matched]) {
			if (++cs->matched == sizeof(key) - 1)
				cs->in_digits = true;
		} else {
			cs->matched = ch == key[0];
		}
	}
}
