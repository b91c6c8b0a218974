/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A test's view of the control plane: the family's state read raw through
 * libnl, requests built attribute by attribute, and the sctls command run
 * as a user would run it.
 */
#ifndef SCTLS_SELFTEST_CONTROL_H
#define SCTLS_SELFTEST_CONTROL_H

#include <json-c/json.h>
#include <linux/sctls.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../userspace/sctls/nl.h"

struct gw_state {
	uint16_t ports[SCTLS_MAX_PORTS + 1];
	unsigned int nr_ports;
	uint32_t max_conns, window;
	uint32_t uids[SCTLS_MAX_ALLOW_UIDS + 1];
	unsigned int nr_uids;
	bool has_helper;
	uint32_t helper_pid;
	uint64_t stats[SCTLS_STAT_MAX + 1];
};

/* SCTLS_CMD_GET into st: 0, or -errno. */
int ctl_get(struct sctls_nl *nl, struct gw_state *st);

/* Send a request built by the caller: 0, or -errno (extack in nl->extack). */
int ctl_send(struct sctls_nl *nl, struct nl_msg *msg);

/* Path of the sctls command: $SCTLS_CLI, else NULL. */
const char *cli_path(void);

/*
 * Run "sctls ARGS..." (NULL-terminated) as uid (-1: as we are), with its
 * stdout into out and stderr into err. Its exit status, or -1.
 */
int cli_run(int uid, char *out, size_t out_size, char *err, size_t err_size, ...);

#endif
