/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sctlsd: telling systemd (Type=notify) that it is ready, reloading or
 * stopping, and what it is doing.
 */
#ifndef SCTLSD_NOTIFY_H
#define SCTLSD_NOTIFY_H

/* Send "READY=1", "STATUS=..." and the like; nothing outside systemd. */
void notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
