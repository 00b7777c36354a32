// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A test double of src/export/aws_creds.c (another branch's): the environment's
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN only, read from envp
 * once. For tests/helpers/s3_put.c until the real chain lands; never linked in the agent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_creds.h"

struct aws_creds {
	struct aws_credentials c;
	bool found;
};

static void take(const char *const *envp, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++) {
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=') {
			snprintf(out, size, "%s", *envp + n + 1);
			return;
		}
	}
}

int aws_creds__new(const char *const *envp, struct aws_creds **ret)
{
	struct aws_creds *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	take(envp, "AWS_ACCESS_KEY_ID", c->c.access_key_id, sizeof(c->c.access_key_id));
	take(envp, "AWS_SECRET_ACCESS_KEY", c->c.secret_access_key, sizeof(c->c.secret_access_key));
	take(envp, "AWS_SESSION_TOKEN", c->c.session_token, sizeof(c->c.session_token));
	c->c.source = "environment";
	c->found = c->c.access_key_id[0] && c->c.secret_access_key[0];
	*ret = c;
	return 0;
}

int aws_creds__get(struct aws_creds *c, const atomic_bool *stop, struct aws_credentials *out, char *err, size_t errsize)
{
	if (!c->found) {
		snprintf(err, errsize, "no credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)");
		return -ENOKEY;
	}
	*out = c->c;
	return 0;
}

void aws_creds__free(struct aws_creds *c)
{
	free(c);
}
