/* SPDX-License-Identifier: GPL-2.0 */
/* The sctls subcommands. Each returns the exit status: 0, 1 failed, 2 usage. */
#ifndef SCTLS_CMDS_H
#define SCTLS_CMDS_H

#include <json-c/json.h>
#include <stdbool.h>

struct opts {
	bool json;
	bool pretty;
};

#define EXIT_USAGE 2

int cmd_show(const struct opts *o, int argc, char **argv);
int cmd_conns(const struct opts *o, int argc, char **argv);
int cmd_set(const struct opts *o, int argc, char **argv);
int cmd_reset(const struct opts *o, int argc, char **argv);
int cmd_monitor(const struct opts *o, int argc, char **argv);
int cmd_top(const struct opts *o, int argc, char **argv);

struct sctls_nl;

/* The open connections, as sctls conns -j lists them, into the array conns. */
int conns_fetch(struct sctls_nl *nl, json_object *conns);

/* "sctls: CMD takes no arguments" and the like, to stderr. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* SCTLS_CMDS_H */
