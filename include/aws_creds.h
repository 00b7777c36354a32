/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#ifndef INSPECTD_AWS_CREDS_H
#define INSPECTD_AWS_CREDS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aws_credentials {
	char access_key_id[129];
	char secret_access_key[129];
	char session_token[4097];   /* "" when none */
	int64_t expires_at;         /* unix seconds; 0: does not expire */
	const char *source;         /* "environment", "shared-file", "container", "imds" (a literal) */
};
struct aws_creds;
int aws_creds__new(const char *const *envp, struct aws_creds **ret);   /* envp: NULL-terminated "K=V" */
/* Blocking: cached credentials, or the chain walked again when they expire within 5 minutes. 0; -ENOKEY none found; -ETIMEDOUT/-EIO/-EBADMSG an endpoint failed. err: one line, never a secret. */
int aws_creds__get(struct aws_creds *c, const atomic_bool *stop, struct aws_credentials *out, char *err, size_t errsize);
void aws_creds__free(struct aws_creds *c);

#endif
