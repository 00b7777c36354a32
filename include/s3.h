/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The S3 remote exporter: every file of a spooled commit (a profile, its pprof, its
 * meta.json last; or a record) becomes an object
 *
 *     <prefix>/<hostname>/<namespace|"host">/<pod|container name|container id|"host">/<kind>/<file>
 *
 * (see s3_object_key() in include/s3_request.h for what is made of hostile names), with
 * x-amz-meta-{host,pid,kind,container,pod,namespace,image,trigger,captured-at,base}
 * (values encoded by s3_meta_value_encode(): printable ASCII but '%' as is, any other
 * byte %XX; fields dropped from the end past S3's 2 KiB), streamed from the output folder
 * by pread: one PUT up to part_size, else a multipart upload (aborted on any failure).
 *
 * Signed by libcurl (CURLOPT_AWS_SIGV4 "aws:amz:<region>:s3"); libcurl 7.88 does not send
 * x-amz-content-sha256, so it is sent here, the payload's SHA-256 (computed by reading
 * the file or part once before sending it), and libcurl signs it with the other headers
 * given and takes it as the payload's hash. No "Expect:" header is given to libcurl 7.88
 * (it would sign an "expect" header it does not send): an upload waits for
 * "100 Continue", so a refusal comes before the body is sent.
 *
 * Runs on the exporter's thread only (one libcurl handle per state, its connections
 * reused); curl_global_init() is the program's. Does not log: each failure is one line in
 * deliver()'s err, naming the operation, s3://bucket/key, the HTTP status and S3's Code
 * and Message (printable ASCII only); never a credential.
 */
#ifndef INSPECTD_S3_H
#define INSPECTD_S3_H

#include <stdbool.h>
#include <stdint.h>

#include "delivery.h"

struct aws_creds;

struct s3_config {
	const char *bucket;      /* required */
	const char *region;      /* required (us-east-1 ...) */
	const char *endpoint;    /* NULL: https://s3.<region>.amazonaws.com ; else "http(s)://host[:port]" */
	bool path_style;         /* <endpoint>/<bucket>/<key>; else virtual-hosted <scheme>://<bucket>.<host>[:port]/<key> */
	const char *prefix;      /* NULL or "": none; else its own leading/trailing '/' stripped */
	uint64_t part_size;      /* 0: 64 MiB; files above it go up as a multipart upload */
};

/*
 * deliver() returns 0 when S3 answered 2xx to every request of every file (a
 * CompleteMultipartUpload's 200 holding an <Error> is a failure); else
 * -ECANCELED: stop was set; -EACCES: HTTP 401 or 403; -EAGAIN: HTTP 500 or 503, or S3's
 * SlowDown or InternalError; -EPROTO: any other status, or an answer without what it
 * must hold (an UploadId, an ETag); the transport's -errno (http_result()); the
 * credentials' (-ENOKEY, -ETIMEDOUT, -EIO, -EBADMSG: aws_creds__get()); a file's open,
 * fstat or pread -errno (-EINVAL: not a regular file, -EFBIG: over 5 TiB, -ENAMETOOLONG:
 * its key over 1024 bytes); -ENOMEM.
 */
extern const struct remote_exporter_ops s3_exporter_ops;

/*
 * A state for s3_exporter_ops. creds is consumed (freed with the state, or here on a
 * failure). 0; -EINVAL: no bucket or region, a bucket, region, endpoint or prefix S3
 * would not take (see s3_endpoint_parse()), a part size outside 5 MiB-5 GiB;
 * -ENOMEM.
 */
int s3_exporter__new(const struct s3_config *cfg, struct aws_creds *creds, void **ret_state);

#endif
