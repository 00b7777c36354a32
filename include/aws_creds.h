/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The AWS credential chain of the S3 exporter, in the SDKs' order; the first source that
 * is configured gives the credentials (or the error):
 *
 *   1. environment  AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN).
 *   2. shared-file  AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials; the profile
 *                   AWS_PROFILE, else "default". A missing file, or a default profile
 *                   that is absent or has no keys, falls through; a profile named by
 *                   AWS_PROFILE must give keys.
 *   3. container    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (under http://169.254.170.2),
 *                   else AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http to a loopback
 *                   address, 169.254.170.2, 169.254.170.23 or fd00:ec2::23); the
 *                   Authorization header from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
 *                   (read afresh on every fetch), else AWS_CONTAINER_AUTHORIZATION_TOKEN.
 *   4. imds         EC2 instance metadata, IMDSv2 only, at AWS_EC2_METADATA_SERVICE_ENDPOINT
 *                   (else http://169.254.169.254, or http://[fd00:ec2::254] when
 *                   AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6); skipped when
 *                   AWS_EC2_METADATA_DISABLED=true. 1 s to connect, 3 s for the whole
 *                   walk (token, role, credentials): a host off EC2 does not wait.
 *
 * Everything an endpoint or a file returns is peer input: bounded (HTTP_BODY_MAX, 64 KiB
 * files), type- and length-checked, no control characters; never echoed into err.
 * Blocking, libcurl under it: call it on the S3 exporter's own thread, never on the loop,
 * after curl_global_init(). Does not log.
 *
 * Thread-safety: none. One thread (the S3 exporter's) calls aws_creds__get(); there is no
 * locking, and none is needed.
 */
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

/*
 * envp: NULL-terminated "K=V"; the agent passes environ; copies what it uses (nothing of
 * envp is kept). Reads no file and makes no request: the chain is walked by the first
 * aws_creds__get(). Returns 0 and *ret (the caller frees it with aws_creds__free());
 * -ENOMEM.
 */
int aws_creds__new(const char *const *envp, struct aws_creds **ret);

/* Credentials this close to their expiry are fetched again. */
#define AWS_CREDS_REFRESH_MARGIN 300
/* After a failed refresh, while the old credentials are still valid, the next attempt
 * waits this long (seconds): a failing endpoint is not asked on every upload. */
#define AWS_CREDS_RETRY_SECONDS  10

/*
 * Blocking (called on the S3 exporter's own thread): cached credentials, or the chain
 * walked again when they expire within 5 minutes. 0; -ENOKEY none found; -ETIMEDOUT/
 * -EIO/-EBADMSG an endpoint failed. err: one line, never a secret.
 *
 * In detail: the cached set is returned while it is valid for more than
 * AWS_CREDS_REFRESH_MARGIN seconds (environment and shared-file credentials never expire;
 * the file is stat()ed on every call and read again when its mtime, size or inode
 * changed). When a refresh fails while the cached set has not expired yet, the cached set
 * is returned (0, err "") and the refresh is tried again AWS_CREDS_RETRY_SECONDS later.
 * Otherwise, on failure, *out is zeroed and:
 *   -ENOKEY      no source has credentials (IMDS unreachable, or no role attached);
 *   -ETIMEDOUT   an endpoint did not answer in time;
 *   -EIO         an endpoint could not be reached or answered an HTTP error; a file
 *                could not be read (or is not a regular file);
 *   -EBADMSG     an endpoint's answer or the shared file is malformed, oversized, or
 *                holds credentials that do not fit or have expired;
 *   -EINVAL      the configuration is wrong: one of the key pair set without the other,
 *                a FULL_URI not allowed, a bad AWS_PROFILE or authorization token, a
 *                profile named by AWS_PROFILE without keys;
 *   -ECANCELED   stop was set (it is checked between sources and during transfers);
 *   -ENOMEM.
 * err (errsize bytes) says which source and what was wrong, on one line.
 */
int aws_creds__get(struct aws_creds *c, const atomic_bool *stop, struct aws_credentials *out, char *err,
		   size_t errsize);

/* Takes NULL. The cached secrets are wiped. */
void aws_creds__free(struct aws_creds *c);

/* ---- pure parts, for the tests and the fuzzer ---- */

enum aws_creds_source {
	AWS_CREDS_ENVIRONMENT,
	AWS_CREDS_SHARED_FILE,
	AWS_CREDS_CONTAINER,
	AWS_CREDS_IMDS,
	_AWS_CREDS_SOURCE_MAX,
};

/* "environment", "shared-file", "container", "imds": the literal in aws_credentials.source. */
const char *aws_creds_source_name(enum aws_creds_source s);

/*
 * A strict ISO 8601 UTC instant, as the endpoints write Expiration:
 * YYYY-MM-DDTHH:MM:SS, an optional fraction (.1 to .999999999, dropped), then Z or
 * +HH:MM / -HH:MM. Returns 0 and *ret (unix seconds); -EINVAL for anything else (a field
 * out of range, a day the month does not have, a year before 1970 or after 9999).
 */
int aws_creds_parse_time(const char *s, int64_t *ret);

/*
 * The [profile] section of a shared credentials file (text, len bytes, need not be
 * NUL-terminated): keys aws_access_key_id, aws_secret_access_key, aws_session_token
 * (names case-insensitive, others ignored); '#' and ';' start comment lines; spaces around
 * '=' and CRLF line ends allowed; an empty value is no value.
 * Returns 0 and *out (source "shared-file", expires_at 0); -ENOKEY the profile is not in
 * the file, or has neither key; -EBADMSG malformed (a line neither section, key = value
 * nor comment, a key before any section, a NUL byte), the profile defined twice or a key
 * twice in it, one key of the pair without the other, a value too long for *out or with
 * a character a key cannot hold. err says which line, never a value.
 */
int aws_creds_parse_shared_file(const char *text, size_t len, const char *profile, struct aws_credentials *out,
				char *err, size_t errsize);

/*
 * The JSON answer of a container endpoint or of IMDS (body, len bytes): AccessKeyId
 * ([A-Za-z0-9-_.~@], 3 to 128), SecretAccessKey (printable ASCII, 1 to 128), Token (printable
 * ASCII, at most 4096; required from IMDS, may be absent from a container endpoint),
 * Expiration (aws_creds_parse_time(), later than now); IMDS also "Code":"Success".
 * Returns 0 and *out (source: aws_creds_source_name(source)); -EBADMSG otherwise, err
 * prefixed with the source's name, naming the field and the fault, never a value.
 */
int aws_creds_parse_json(const char *body, size_t len, enum aws_creds_source source, int64_t now,
			 struct aws_credentials *out, char *err, size_t errsize);

/*
 * Whether AWS_CONTAINER_CREDENTIALS_FULL_URI may be fetched: https to any host; http only
 * to a literal loopback address (127.0.0.0/8, ::1, or "localhost", which libcurl never
 * resolves elsewhere), 169.254.170.2 (ECS), 169.254.170.23 or fd00:ec2::23 (EKS Pod
 * Identity). Other host names are refused, not resolved: what a DNS answer says could
 * change between the check and the fetch. The URL is read by libcurl's own parser, the
 * one the fetch uses. Returns 0; -EPERM http to another host; -EINVAL not an http(s) URL;
 * -ENOMEM.
 */
int aws_creds_container_uri_allowed(const char *uri);

#endif
