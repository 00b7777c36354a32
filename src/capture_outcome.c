// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The names of enum capture_outcome (capture.h): pure, for the dispatcher and the API alike. */
#include "capture.h"

static const char *const outcome_names[_CAPTURE_OUTCOME_MAX] = {
	[CAPTURE_OK] = "ok",
	[CAPTURE_FAILED] = "failed",
	[CAPTURE_EXPORT_FAILED] = "export failed",
	[CAPTURE_TARGET_EXITED] = "target exited",
	[CAPTURE_STOPPED_QUEUED] = "stopped while queued",
	[CAPTURE_SHUTDOWN_QUEUED] = "agent shut down while queued",
	[CAPTURE_EXPIRED_QUEUED] = "expired while queued",
	[CAPTURE_CANNOT_START] = "cannot start the capture",
};

const char *capture_outcome_name(enum capture_outcome o)
{
	return (unsigned)o < _CAPTURE_OUTCOME_MAX ? outcome_names[o] : "unknown";
}
