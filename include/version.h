/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
#ifndef INSPECTD_VERSION_H
#define INSPECTD_VERSION_H

#define INSPECTD_VERSION "0.1.0"

#endif
