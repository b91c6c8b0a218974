/* SPDX-License-Identifier: GPL-2.0 */
/* Giving up privileges in a test's child processes. */
#ifndef SCTLS_SELFTEST_PRIVS_H
#define SCTLS_SELFTEST_PRIVS_H

#include <stdbool.h>
#include <sys/types.h>

/* Become uid with gid and no supplementary groups: 0, or -1. */
int become(uid_t uid, gid_t gid);

/* Raise or drop CAP_NET_ADMIN from the effective set: 0, or -1. */
int set_net_admin(bool on);

#endif
