/* SPDX-License-Identifier: GPL-2.0 */
/* The generic netlink side of the sctls command, over libnl-genl-3. */
#ifndef SCTLS_NL_H
#define SCTLS_NL_H

#include <netlink/genl/genl.h>
#include <stdint.h>

struct sctls_nl {
	struct nl_sock *sk;
	int family;
	char extack[256];	/* the kernel's message with the last error */
};

/* Called for each reply message, with its attributes parsed and checked. */
typedef int (*sctls_nl_reply_fn)(struct nlattr **tb, uint8_t cmd, void *arg);

/* Connect and find the family; on failure prints why and returns -1. */
int sctls_nl_open(struct sctls_nl *nl);
void sctls_nl_close(struct sctls_nl *nl);

/* A request for cmd; NLM_F_DUMP in flags for a dump. */
struct nl_msg *sctls_nl_new(struct sctls_nl *nl, uint8_t cmd, int flags);

/*
 * Send msg (freed here) and hand each reply to fn. Returns 0, or a
 * negative errno from the kernel with its message in nl->extack.
 */
int sctls_nl_call(struct sctls_nl *nl, struct nl_msg *msg, sctls_nl_reply_fn fn, void *arg);

/* Parse a message of the family against the reply policy. */
int sctls_nl_parse(struct nl_msg *msg, struct nlattr **tb, uint8_t *cmd);

/* Print "sctls: WHAT: cause" with a hint at the fix. */
void sctls_nl_perror(const struct sctls_nl *nl, const char *what, int err);

#endif /* SCTLS_NL_H */
