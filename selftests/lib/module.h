/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading and unloading sctls.ko from a kselftest, and reading what the
 * kernel logged meanwhile.
 */
#ifndef SCTLS_SELFTEST_MODULE_H
#define SCTLS_SELFTEST_MODULE_H

#include <stdbool.h>

/* Path of sctls.ko: $SCTLS_KO, else NULL. */
const char *sctls_ko_path(void);

/* finit_module(sctls.ko, params): 0, or -errno. */
int sctls_module_load(const char *params);

/*
 * As sctls_module_load, after unloading a module an earlier test left
 * loaded: a test killed by its timeout skips its teardown.
 */
int sctls_module_load_fresh(const char *params);

/* delete_module("sctls", O_NONBLOCK): 0, or -errno. */
int sctls_module_unload(void);

bool sctls_module_loaded(void);

/* An fd on /dev/kmsg positioned after the last record, or -1. */
int kmsg_open_at_end(void);

/* Whether a record logged since kmsg_open_at_end() contains needle. */
bool kmsg_contains(int kmsg_fd, const char *needle);

#endif
