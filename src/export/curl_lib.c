// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* libcurl loaded on first use (curl_lib.h). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "curl_lib.h"

/* Debian 12's libcurl4 (OpenSSL); libcurl4-gnutls's would do as well, the same ABI. */
#define LIBCURL_SONAME "libcurl.so.4"

struct curl_lib libcurl;

/* The table's prototypes are libcurl's own, checked against its headers (no symbol is
 * referenced: the agent does not link libcurl). */
#define CURL_LIB_CHECK(ret, name, params)                                                     \
	_Static_assert(__builtin_types_compatible_p(__typeof__(&curl_##name), __typeof__(libcurl.name)), \
		       "curl_lib.h: curl_" #name "'s prototype");
CURL_LIB_FUNCTIONS(CURL_LIB_CHECK)
#undef CURL_LIB_CHECK

/* Process-wide, as the library loaded is: one dlopen() for the process, by whichever thread
 * asks first (pthread_once), its outcome kept for every later caller. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_result;
static char load_error[256];

static void load(void)
{
	/* RTLD_NOW: a missing symbol is an error now, not a crash in an upload. */
	void *h = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	struct curl_lib t;
	const char *e;

	if (!h) {
		e = dlerror();
		snprintf(load_error, sizeof(load_error), "%s", e ? e : "dlopen failed");
		load_result = -ENOENT;
		return;
	}
#define CURL_LIB_RESOLVE(ret, name, params)                                                        \
	if (!(*(void **)&t.name = dlsym(h, "curl_" #name))) {                                     \
		snprintf(load_error, sizeof(load_error), "%s: no curl_%s", LIBCURL_SONAME, #name); \
		load_result = -ENOENT;                                                             \
		dlclose(h);                                                                        \
		return;                                                                            \
	}
	CURL_LIB_FUNCTIONS(CURL_LIB_RESOLVE)
#undef CURL_LIB_RESOLVE
	libcurl = t;    /* kept loaded for the agent's life */
}

int curl_lib_load(void)
{
	pthread_once(&once, load);
	return load_result;
}

const char *curl_lib_error(void)
{
	return load_error;
}
