/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * libcurl, loaded when a remote exporter needs it rather than linked. Linked, its own
 * libraries (GnuTLS, p11-kit, Kerberos, LDAP, nettle...) are mapped and their constructors
 * run in every agent: 4 MB of an idle agent's RSS (README, *Cost*), for exporters most
 * hosts never configure. The agent's code calls libcurl through the table below (libcurl.X
 * for curl_X), filled by curl_lib_load() with dlopen() of the library Debian's libcurl4
 * installs: the same library, the same ABI (its soname), now only when used.
 */
#ifndef INSPECTD_CURL_LIB_H
#define INSPECTD_CURL_LIB_H

#include <curl/curl.h>

/* Every libcurl function the agent calls: X(return type, name without curl_, parameters) */
#define CURL_LIB_FUNCTIONS(X)                                                                   \
	X(CURLcode, global_init, (long flags))                                                  \
	X(void, global_cleanup, (void))                                                         \
	X(CURL *, easy_init, (void))                                                            \
	X(void, easy_cleanup, (CURL *h))                                                        \
	X(void, easy_reset, (CURL *h))                                                          \
	X(CURLcode, easy_setopt, (CURL *h, CURLoption option, ...))                             \
	X(CURLcode, easy_getinfo, (CURL *h, CURLINFO info, ...))                                \
	X(CURLcode, easy_perform, (CURL *h))                                                    \
	X(const char *, easy_strerror, (CURLcode rc))                                           \
	X(struct curl_slist *, slist_append, (struct curl_slist *l, const char *s))             \
	X(void, slist_free_all, (struct curl_slist *l))                                         \
	X(CURLU *, url, (void))                                                                 \
	X(void, url_cleanup, (CURLU *u))                                                        \
	X(CURLUcode, url_set, (CURLU *u, CURLUPart what, const char *part, unsigned flags))     \
	X(CURLUcode, url_get, (CURLU *u, CURLUPart what, char **part, unsigned flags))    \
	X(void, free, (void *p))                                                                \
	X(curl_mime *, mime_init, (CURL *h))                                                    \
	X(void, mime_free, (curl_mime *m))                                                      \
	X(curl_mimepart *, mime_addpart, (curl_mime *m))                                        \
	X(CURLcode, mime_name, (curl_mimepart *p, const char *name))                            \
	X(CURLcode, mime_filename, (curl_mimepart *p, const char *name))                        \
	X(CURLcode, mime_type, (curl_mimepart *p, const char *type))                            \
	X(CURLcode, mime_data_cb, (curl_mimepart *p, curl_off_t size, curl_read_callback read,  \
				   curl_seek_callback seek, curl_free_callback free_fn, void *arg))

#define CURL_LIB_MEMBER(ret, name, params) ret (*name) params;
struct curl_lib {
	CURL_LIB_FUNCTIONS(CURL_LIB_MEMBER)
};
#undef CURL_LIB_MEMBER

/* Filled by curl_lib_load(); before it, every member is NULL. */
extern struct curl_lib libcurl;

/*
 * Load libcurl once (later calls, from any thread, return the first one's result): 0, or
 * -ENOENT with what dlopen() or dlsym() said in curl_lib_error(). Without libcurl_global_init():
 * the caller's (main(), before any thread).
 */
int curl_lib_load(void);
const char *curl_lib_error(void);

#endif /* INSPECTD_CURL_LIB_H */
