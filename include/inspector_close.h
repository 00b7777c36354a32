/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Closing an inspector this agent opened, and making sure it is closed:
 *
 *   (connect, if no open session is handed over) -> Runtime.evaluate
 *   process._debugEnd() -> the WebSocket drops -> poll the namespace until the
 *   listening socket is gone
 *
 * Used by a capture once its profile is taken (or it failed), and by the ledger's
 * cleanup for inspectors a killed agent left open or that opened after their capture
 * had ended. An inspector that is not ours is never closed: the caller decides.
 */
#ifndef INSPECTD_INSPECTOR_CLOSE_H
#define INSPECTD_INSPECTOR_CLOSE_H

#include <stdbool.h>
#include "capture.h"
#include "inspector_session.h"
#include "locate.h"

enum inspector_close_flags {
	/* The port never answered as node's inspector: a stranger's, not to talk to again. */
	INSPECTOR_CLOSE_NO_RECONNECT = 1 << 0,
	/* The record had no port and one was picked: if it is not node's inspector, nothing
	 * of ours is open. */
	INSPECTOR_CLOSE_GUESSED_PORT = 1 << 1,
};

struct inspector_close;

/* Over: closed is true when nothing of ours is open any more. Never from inside __start(). */
typedef void (*inspector_close_done_fn)(void *owner, bool closed);

/*
 * Close claim's inspector in t. session: one open to it, handed over (consumed; its
 * owner is this closer from now on), or NULL to connect anew. why: appended to the
 * "inspector closed" log line ("" for none; static storage).
 * 0 and *ret; -ENOMEM (session freed). Everything else comes to done.
 */
int inspector_close__start(const struct capture_env *env, const struct locate_target *t,
			   const struct inspector_claim *claim, struct inspector_session *session, unsigned flags,
			   const char *why, inspector_close_done_fn done, void *owner, struct inspector_close **ret);
/* The node version the inspector gave, if it answered ("" if not). */
const char *inspector_close__node_version(const struct inspector_close *ic);
/* Stop; done is not called. Takes NULL. */
void inspector_close__free(struct inspector_close *ic);

#endif
