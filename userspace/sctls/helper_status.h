/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What sctlsd says of itself and its card links (sctlsd --status FILE):
 * the kernel knows the helper's connections, not the card behind them.
 */
#ifndef SCTLS_HELPER_STATUS_H
#define SCTLS_HELPER_STATUS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#define HELPER_STATUS_DEFAULT	"/run/sctls/status.json"	/* the unit's */
#define HELPER_STATUS_STALE_S	5.0	/* written each second */

/* $SCTLS_STATUS, or the unit's path. */
const char *helper_status_path(void);

/* The file's object, or NULL when it is missing or not sctlsd's; *age in s. */
json_object *helper_status_load(double *age);

/* One "link PORT" line per link, after sctls show's list; or why none. */
void helper_status_print(json_object *status, double age, int64_t helper_pid);

/* Whether the status names a link for port. */
bool helper_status_has_port(json_object *status, uint16_t port);

#endif
