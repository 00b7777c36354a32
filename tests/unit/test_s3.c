// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The S3 exporter's pure part: keys from hostile names (spaces, unicode, '+', '/', "..",
 * empty, control bytes, bad UTF-8, a long component cut at every offset around a 4-byte
 * character), the prefix; URLs path-style and virtual-hosted, with and without a port and
 * a prefix, percent-encoded once; endpoints refused; metadata values and the 2 KiB cap;
 * XML answers (UploadId, Code and Message: huge, truncated, nested, entities, an error in
 * a 200); ETag header lines; part sizes past 10 000 parts; CompleteMultipartUpload's body.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_request.h"

static int key(const char *ns, const char *workload, const char *kind, const char *name, const char *prefix, char *out,
	       size_t size)
{
	struct s3_key_parts p = { .prefix = prefix, .hostname = "host-a", .namespace = ns, .workload = workload,
				  .kind = kind, .name = name };

	return s3_object_key(&p, out, size);
}

static void test_key_plain(void **state)
{
	char out[S3_KEY_MAX + 1];

	assert_int_equal(key(NULL, NULL, "heap-profile", "x.heapprofile", NULL, out, sizeof(out)),
			 strlen("host-a/host/host/heap-profile/x.heapprofile"));
	assert_string_equal(out, "host-a/host/host/heap-profile/x.heapprofile");
	key("", "", "cpu-profile", "y.cpuprofile", "", out, sizeof(out));
	assert_string_equal(out, "host-a/host/host/cpu-profile/y.cpuprofile");
	key("prod", "api-7d9f", "heap-profile", "b.meta.json", "//profiles/eu/", out, sizeof(out));
	assert_string_equal(out, "profiles/eu/host-a/prod/api-7d9f/heap-profile/b.meta.json");
	key("prod", "api", "heap-profile", "b.meta.json", "/", out, sizeof(out));
	assert_string_equal(out, "host-a/prod/api/heap-profile/b.meta.json");
}

static void test_key_hostile(void **state)
{
	char out[S3_KEY_MAX + 1];

	/* unicode, spaces and '+' kept; '/' and control bytes become '_' */
	key("café ns", "pod+1 ü/../x", "heap-profile", "a b+c.json", NULL, out, sizeof(out));
	assert_string_equal(out, "host-a/café ns/pod+1 ü_.._x/heap-profile/a b+c.json");
	key("..", ".", "heap\tprofile\x7f", "n\r\n", NULL, out, sizeof(out));
	assert_string_equal(out, "host-a/_/_/heap_profile_/n__");
	key("/", "...", "k", "f", NULL, out, sizeof(out));
	assert_string_equal(out, "host-a/_/.../k/f");
	/* bytes that are not UTF-8 (a lone continuation, an overlong '/', a surrogate, a C1
	 * control, a cut sequence) become '_' each */
	key("\x80x\xc0\xaf", "\xed\xa0\x80", "\xc2\x85", "f\xf0\x9f", NULL, out, sizeof(out));
	assert_string_equal(out, "host-a/_x__/___/__/f__");
	/* a 4-byte character kept whole */
	key("\xf0\x9f\x98\x80", NULL, "k", "f", NULL, out, sizeof(out));
	assert_string_equal(out, "host-a/\xf0\x9f\x98\x80/host/k/f");
	/* a prefix with a control byte is refused */
	assert_int_equal(key("a", "b", "k", "f", "pre\nfix", out, sizeof(out)), -EINVAL);
}

static void test_key_component_cut(void **state)
{
	char in[600], out[S3_KEY_PART_MAX + 1];

	/* a 4-byte character at every offset around the cut: never half of it */
	for (size_t at = 245; at <= 256; at++) {
		memset(in, 'a', sizeof(in));
		memcpy(in + at, "\xf0\x9f\x98\x80", 4);
		in[300] = '\0';
		int n = s3_key_component(in, out, sizeof(out));

		assert_true(n >= 252 && n <= S3_KEY_PART_MAX);
		assert_int_equal((size_t)n, strlen(out));
		if (at + 4 <= S3_KEY_PART_MAX) {
			assert_int_equal(n, S3_KEY_PART_MAX);
			assert_memory_equal(out + at, "\xf0\x9f\x98\x80", 4);
		} else {
			/* cut before the character */
			assert_int_equal((size_t)n, at < S3_KEY_PART_MAX ? at : S3_KEY_PART_MAX);
			assert_int_equal(out[n - 1], 'a');
		}
	}
	/* a small buffer cuts too, whole characters only */
	assert_int_equal(s3_key_component("\xc3\xa9\xc3\xa9", out, 4), 2);
	assert_string_equal(out, "\xc3\xa9");
	assert_int_equal(s3_key_component("x", out, 1), -ENOBUFS);
	assert_int_equal(s3_key_component(NULL, out, sizeof(out)), 1);
	assert_string_equal(out, "_");
}

static void test_key_too_long(void **state)
{
	char c[300], prefix[1100], out[4096];

	memset(c, 'z', sizeof(c));
	c[299] = '\0';
	/* five components of 255 bytes: 1279 bytes, over S3's 1024 */
	assert_int_equal(key(c, c, c, c, NULL, out, sizeof(out)), -ENAMETOOLONG);
	memset(prefix, 'p', sizeof(prefix));
	prefix[1099] = '\0';
	assert_int_equal(key("ns", "w", "k", "f", prefix, out, sizeof(out)), -ENAMETOOLONG);
	prefix[1024 - 16 + 1] = '\0';  /* "/host-a/ns/w/k/f": one byte over */
	assert_int_equal(key("ns", "w", "k", "f", prefix, out, sizeof(out)), -ENAMETOOLONG);
	prefix[1024 - 16] = '\0';
	assert_int_equal(key("ns", "w", "k", "f", prefix, out, sizeof(out)), 1024);
	prefix[800] = '\0';
	assert_int_equal(key("ns", "w", "k", "f", prefix, out, sizeof(out)), 800 + strlen("/host-a/ns/w/k/f"));
	assert_int_equal(key("ns", "w", "k", "f", prefix, out, 100), -ENOBUFS);
}

static void test_url(void **state)
{
	struct s3_endpoint e;
	char url[S3_URL_MAX];
	const char *k = "pre/host-a/caf\xc3\xa9 ns/pod+1/heap-profile/a~b_c.json";

	assert_int_equal(s3_endpoint_parse(NULL, "eu-west-1", "profiles", false, &e), 0);
	s3_object_url(&e, k, NULL, url, sizeof(url));
	assert_string_equal(url, "https://profiles.s3.eu-west-1.amazonaws.com/"
				 "pre/host-a/caf%C3%A9%20ns/pod%2B1/heap-profile/a~b_c.json");
	assert_int_equal(s3_endpoint_parse(NULL, "eu-west-1", "profiles", true, &e), 0);
	s3_object_url(&e, k, "uploads=", url, sizeof(url));
	assert_string_equal(url, "https://s3.eu-west-1.amazonaws.com/profiles/"
				 "pre/host-a/caf%C3%A9%20ns/pod%2B1/heap-profile/a~b_c.json?uploads=");
	assert_int_equal(s3_endpoint_parse("http://127.0.0.1:4569/", "us-east-1", "profiles", true, &e), 0);
	s3_object_url(&e, "h/host/host/k/f", "partNumber=2&uploadId=a%2Bb", url, sizeof(url));
	assert_string_equal(url, "http://127.0.0.1:4569/profiles/h/host/host/k/f?partNumber=2&uploadId=a%2Bb");
	assert_int_equal(s3_endpoint_parse("https://minio.example:9000", "us-east-1", "profiles", false, &e), 0);
	s3_object_url(&e, "h/k", "", url, sizeof(url));
	assert_string_equal(url, "https://profiles.minio.example:9000/h/k");
	assert_int_equal(s3_endpoint_parse("http://[::1]:4569", "us-east-1", "Legacy_Bucket", true, &e), 0);
	s3_object_url(&e, "k", NULL, url, sizeof(url));
	assert_string_equal(url, "http://[::1]:4569/Legacy_Bucket/k");
	assert_int_equal(s3_object_url(&e, "k", NULL, url, 20), -ENOBUFS);
}

static void test_endpoint_refused(void **state)
{
	struct s3_endpoint e;

	assert_int_equal(s3_endpoint_parse(NULL, "us-east-1", NULL, false, &e), -EINVAL);
	assert_int_equal(s3_endpoint_parse(NULL, NULL, "profiles", false, &e), -EINVAL);
	assert_int_equal(s3_endpoint_parse(NULL, "US East", "profiles", false, &e), -EINVAL);
	assert_int_equal(s3_endpoint_parse(NULL, "us-east-1", "ab", false, &e), -EINVAL);
	assert_int_equal(s3_endpoint_parse(NULL, "us-east-1", "Upper", false, &e), -EINVAL);
	assert_int_equal(s3_endpoint_parse(NULL, "us-east-1", "a/b/c", true, &e), -EINVAL);
	assert_int_equal(s3_endpoint_parse("ftp://h", "us-east-1", "profiles", true, &e), -EINVAL);
	assert_int_equal(s3_endpoint_parse("http://", "us-east-1", "profiles", true, &e), -EINVAL);
	assert_int_equal(s3_endpoint_parse("http://u:p@h", "us-east-1", "profiles", true, &e), -EINVAL);
	assert_int_equal(s3_endpoint_parse("http://h/path", "us-east-1", "profiles", true, &e), -EINVAL);
	assert_int_equal(s3_endpoint_parse("http://h?x", "us-east-1", "profiles", true, &e), -EINVAL);
}

static void test_meta_value(void **state)
{
	char out[64];

	assert_int_equal(s3_meta_value_encode("node:20-alpine a", out, sizeof(out)), 16);
	assert_string_equal(out, "node:20-alpine a");
	s3_meta_value_encode("caf\xc3\xa9 100%\r\n\t", out, sizeof(out));
	assert_string_equal(out, "caf%C3%A9 100%25%0D%0A%09");
	/* spaces SigV4 would trim or fold */
	s3_meta_value_encode(" a  b ", out, sizeof(out));
	assert_string_equal(out, "%20a %20b%20");
	assert_int_equal(s3_meta_value_encode("\xff\xff", out, 6), -ENOBUFS);
	assert_int_equal(s3_meta_value_encode("", out, sizeof(out)), 0);
}

static void test_meta_headers(void **state)
{
	char buf[8192], big[3000];
	struct s3_meta_field f[] = {
		{ "host", "host-a" }, { "pid", "42" }, { "pod", NULL }, { "namespace", "" }, { "image", "x\ny" },
	};
	const char *p = buf;

	assert_int_equal(s3_meta_headers(f, 5, buf, sizeof(buf)), 3);
	assert_string_equal(p, "x-amz-meta-host: host-a");
	p += strlen(p) + 1;
	assert_string_equal(p, "x-amz-meta-pid: 42");
	p += strlen(p) + 1;
	assert_string_equal(p, "x-amz-meta-image: x%0Ay");

	/* the cap: names and values, 2048 bytes at most; past it, the rest dropped */
	memset(big, 'v', sizeof(big));
	big[2048 - 4 - 6 - 4] = '\0';   /* host=6+4, then "base" + this = exactly 2048 */
	struct s3_meta_field g[] = { { "host", "host-a" }, { "base", big }, { "kind", "k" } };

	assert_int_equal(s3_meta_headers(g, 3, buf, sizeof(buf)), 2);
	big[2048 - 4 - 6 - 4] = 'v';
	big[2048 - 4 - 6 - 3] = '\0';   /* one byte over: base and kind dropped */
	assert_int_equal(s3_meta_headers(g, 3, buf, sizeof(buf)), 1);
	/* encoding counts: 700 bytes that take 3 each are over */
	memset(big, '\n', 700);
	big[700] = '\0';
	assert_int_equal(s3_meta_headers(g, 3, buf, sizeof(buf)), 1);
	assert_int_equal(s3_meta_headers(f, 5, buf, 30), -ENOBUFS);
}

static void test_content_type(void **state)
{
	assert_string_equal(s3_content_type("b.meta.json"), "application/json");
	assert_string_equal(s3_content_type("b.json"), "application/json");
	assert_string_equal(s3_content_type("b.pb.gz"), "application/gzip");
	/* V8's are JSON; compressed, gzip files. */
	assert_string_equal(s3_content_type("b.heapprofile"), "application/json");
	assert_string_equal(s3_content_type("b.cpuprofile"), "application/json");
	assert_string_equal(s3_content_type("b.heapsnapshot"), "application/json");
	assert_string_equal(s3_content_type("b.heaptimeline"), "application/json");
	assert_string_equal(s3_content_type("b.heapsnapshot.gz"), "application/gzip");
	assert_string_equal(s3_content_type("b.heaptimeline.gz"), "application/gzip");
	assert_string_equal(s3_content_type("b.json.gz"), "application/gzip");
	assert_string_equal(s3_content_type("b.heapsnapshot.tmp"), "application/octet-stream");
	assert_string_equal(s3_content_type("json"), "application/octet-stream");
}

#define XML(s) s, strlen(s)

static void test_upload_id(void **state)
{
	char id[S3_UPLOAD_ID_MAX + 1], *huge;

	assert_int_equal(s3_upload_id_parse(XML("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
						"<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
						"<Bucket>profiles</Bucket><Key>a</Key>"
						"<UploadId>VXBsb2FkIElE.-_~&amp;x</UploadId></InitiateMultipartUploadResult>"),
					    id, sizeof(id)),
			 0);
	assert_string_equal(id, "VXBsb2FkIElE.-_~&x");
	assert_int_equal(s3_upload_id_parse(XML("<R><UploadId></UploadId></R>"), id, sizeof(id)), -EBADMSG);
	assert_int_equal(s3_upload_id_parse(XML("<R><UploadId>a b</UploadId></R>"), id, sizeof(id)), -EBADMSG);
	assert_int_equal(s3_upload_id_parse(XML("<R><UploadId>abc"), id, sizeof(id)), -EBADMSG);
	assert_int_equal(s3_upload_id_parse(XML("<R><UploadId>a<X>b</X></UploadId></R>"), id, sizeof(id)), -EBADMSG);
	assert_int_equal(s3_upload_id_parse(XML("<R><UploadIdX>a</UploadIdX></R>"), id, sizeof(id)), -EBADMSG);
	assert_int_equal(s3_upload_id_parse(XML("<R><UploadId>a&bogus;</UploadId></R>"), id, sizeof(id)), -EBADMSG);
	assert_int_equal(s3_upload_id_parse(XML("<R><UploadId>a&#0;</UploadId></R>"), id, sizeof(id)), -EBADMSG);
	assert_int_equal(s3_upload_id_parse(XML("<R><UploadId>&#99999999999;</UploadId></R>"), id, sizeof(id)),
			 -EBADMSG);
	assert_int_equal(s3_upload_id_parse(XML("<Error><UploadId>a</UploadId></Error>"), id, sizeof(id)), -EBADMSG);
	/* huge: bounded by the buffer */
	huge = malloc(1 << 20);
	strcpy(huge, "<R><UploadId>");
	memset(huge + 13, 'a', (1 << 20) - 100);
	strcpy(huge + 13 + (1 << 20) - 100, "</UploadId></R>");
	assert_int_equal(s3_upload_id_parse(huge, strlen(huge), id, sizeof(id)), -ENOBUFS);
	free(huge);
}

static void test_error_describe(void **state)
{
	char what[S3_DESCRIBE_MAX + 1], big[4096];
	const char *e = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidAccessKeyId</Code>"
			"<Message>The AWS Access Key Id you provided does not exist in our records.</Message>"
			"<RequestId>X</RequestId></Error>";

	assert_true(s3_xml_is_error(XML(e)));
	s3_error_describe(XML(e), what, sizeof(what));
	assert_string_equal(what, "InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records.");
	/* entities decoded, bytes beyond printable ASCII as '?' */
	s3_error_describe(XML("<Error><Code>A&amp;B</Code><Message>x &lt;y&gt; &quot;z&quot; &#233;\n&#x41;</Message></Error>"),
			  what, sizeof(what));
	assert_string_equal(what, "A&B: x <y> \"z\" ???A");
	/* nested: what comes before the inner markup */
	s3_error_describe(XML("<Error><Code>C</Code><Message>outer<Message>inner</Message></Message></Error>"), what,
			  sizeof(what));
	assert_string_equal(what, "C: outer");
	/* truncated: what there is */
	s3_error_describe(XML("<Error><Code>SlowDown</Code><Message>Please reduce your re"), what, sizeof(what));
	assert_string_equal(what, "SlowDown: Please reduce your re");
	/* huge: 200 characters */
	memset(big, 'm', sizeof(big));
	memcpy(big, "<Error><Message>", 16);
	strcpy(big + 4000, "</Message></Error>");
	s3_error_describe(big, strlen(big), what, sizeof(what));
	assert_int_equal(strlen(what), S3_DESCRIBE_MAX);
	s3_error_describe(big, strlen(big), what, 10);
	assert_string_equal(what, "mmmmmmmmm");
	/* nothing there */
	s3_error_describe(XML("<html>bad gateway</html>"), what, sizeof(what));
	assert_string_equal(what, "");
	s3_error_describe("", 0, what, sizeof(what));
	assert_string_equal(what, "");
	/* only a Code */
	s3_error_describe(XML("<Error><Code>NoSuchBucket</Code></Error>"), what, sizeof(what));
	assert_string_equal(what, "NoSuchBucket");
}

static void test_is_error(void **state)
{
	assert_true(s3_xml_is_error(XML("\xef\xbb\xbf<?xml version=\"1.0\"?>\r\n  <Error>\n<Code>InternalError</Code></Error>")));
	assert_true(s3_xml_is_error(XML("<Error xmlns=\"x\"><Code>A</Code></Error>")));
	assert_false(s3_xml_is_error(XML("<?xml version=\"1.0\"?><CompleteMultipartUploadResult><Key>Error</Key>"
					 "</CompleteMultipartUploadResult>")));
	assert_false(s3_xml_is_error(XML("<Errors/>")));
	assert_false(s3_xml_is_error(XML("<?xml never closed")));
	assert_false(s3_xml_is_error("", 0));
}

static void test_etag(void **state)
{
	char etag[S3_ETAG_MAX + 1], line[400];

	assert_int_equal(s3_etag_parse(XML("ETag: \"5d41402abc4b2a76b9719d911017c592\"\r\n"), etag, sizeof(etag)), 0);
	assert_string_equal(etag, "\"5d41402abc4b2a76b9719d911017c592\"");
	assert_int_equal(s3_etag_parse(XML("etag:\t\"a\" \r\n"), etag, sizeof(etag)), 0);
	assert_string_equal(etag, "\"a\"");
	assert_int_equal(s3_etag_parse(XML("Content-Length: 0\r\n"), etag, sizeof(etag)), -ENOENT);
	assert_int_equal(s3_etag_parse(XML("ETagX: a\r\n"), etag, sizeof(etag)), -ENOENT);
	assert_int_equal(s3_etag_parse(XML("ETag: \r\n"), etag, sizeof(etag)), -EBADMSG);
	assert_int_equal(s3_etag_parse(XML("ETag: \"a</ETag><Part>\"\r\n"), etag, sizeof(etag)), -EBADMSG);
	assert_int_equal(s3_etag_parse(XML("ETag: \"\xc3\xa9\"\r\n"), etag, sizeof(etag)), -EBADMSG);
	memset(line, 'e', sizeof(line));
	memcpy(line, "ETag: ", 6);
	assert_int_equal(s3_etag_parse(line, sizeof(line), etag, sizeof(etag)), -EBADMSG);
}

static void test_part_size(void **state)
{
	const uint64_t MiB = 1ull << 20, GiB = 1ull << 30;

	assert_int_equal(s3_part_size(200 * MiB, 0), 64 * MiB);
	assert_int_equal(s3_part_count(200 * MiB, 64 * MiB), 4);
	assert_int_equal(s3_part_count(192 * MiB, 64 * MiB), 3);
	assert_int_equal(s3_part_count(1, 64 * MiB), 1);
	assert_int_equal(s3_part_size(200 * MiB, 5 * MiB), 5 * MiB);
	assert_int_equal(s3_part_count(200 * MiB, 5 * MiB), 40);
	/* exactly 10 000 parts: kept; one byte more: grown to the next MiB */
	assert_int_equal(s3_part_size(10000 * 5 * MiB, 5 * MiB), 5 * MiB);
	assert_int_equal(s3_part_size(10000 * 5 * MiB + 1, 5 * MiB), 6 * MiB);
	/* 1 TiB at 64 MiB is 16 384 parts: 105 MiB (104.9 rounded up) */
	assert_int_equal(s3_part_size(1024 * GiB, 0), 105 * MiB);
	assert_true(s3_part_count(1024 * GiB, 105 * MiB) <= S3_PARTS_MAX);
	assert_true(s3_part_count(1024 * GiB, 104 * MiB) > S3_PARTS_MAX);
	/* 5 TiB, S3's largest object */
	uint64_t p = s3_part_size(S3_OBJECT_MAX, 5 * MiB);

	assert_int_equal(p % MiB, 0);
	assert_true(s3_part_count(S3_OBJECT_MAX, p) <= S3_PARTS_MAX);
	assert_true(s3_part_count(S3_OBJECT_MAX, p - MiB) > S3_PARTS_MAX);
	assert_true(p <= S3_PART_MAX);
}

static void test_complete_xml(void **state)
{
	char etags[3][S3_ETAG_MAX + 1] = { "\"a\"", "\"b\"", "\"c\"" };
	size_t size = s3_complete_xml_size(3);
	char *xml = malloc(size);

	int len = s3_complete_xml((const char (*)[S3_ETAG_MAX + 1])etags, 3, xml, size);

	assert_int_equal(len, strlen(xml));
	assert_string_equal(xml, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
				 "<Part><PartNumber>1</PartNumber><ETag>\"a\"</ETag></Part>"
				 "<Part><PartNumber>2</PartNumber><ETag>\"b\"</ETag></Part>"
				 "<Part><PartNumber>3</PartNumber><ETag>\"c\"</ETag></Part>"
				 "</CompleteMultipartUpload>");
	assert_int_equal(s3_complete_xml((const char (*)[S3_ETAG_MAX + 1])etags, 3, xml, 100), -ENOBUFS);
	free(xml);

	/* 10 000 parts of the longest ETags fit the size given */
	char (*many)[S3_ETAG_MAX + 1] = malloc(S3_PARTS_MAX * sizeof(*many));

	for (unsigned i = 0; i < S3_PARTS_MAX; i++) {
		memset(many[i], 'e', S3_ETAG_MAX);
		many[i][S3_ETAG_MAX] = '\0';
	}
	size = s3_complete_xml_size(S3_PARTS_MAX);
	xml = malloc(size);
	assert_true(s3_complete_xml((const char (*)[S3_ETAG_MAX + 1])many, S3_PARTS_MAX, xml, size) > 0);
	free(xml);
	free(many);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_plain),
		cmocka_unit_test(test_key_hostile),
		cmocka_unit_test(test_key_component_cut),
		cmocka_unit_test(test_key_too_long),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_endpoint_refused),
		cmocka_unit_test(test_meta_value),
		cmocka_unit_test(test_meta_headers),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_upload_id),
		cmocka_unit_test(test_error_describe),
		cmocka_unit_test(test_is_error),
		cmocka_unit_test(test_etag),
		cmocka_unit_test(test_part_size),
		cmocka_unit_test(test_complete_xml),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
