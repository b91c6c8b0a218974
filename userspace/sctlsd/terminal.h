/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sctlsd: the terminal side of BIP in UICC server mode, one for each card
 * link (a PC/SC reader, a modem's AT port). A thread of its own talks to
 * the card and maps app connections, each handed over as one end of a
 * socket pair, onto the channels the card listens on. The relay sees only
 * the other ends.
 */
#ifndef SCTLSD_TERMINAL_H
#define SCTLSD_TERMINAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "card.h"
#include "link.h"

struct terminal;

/* The terminal of a card link of this kind and spec, made once. */
struct terminal *terminal_get(const struct card_ops *ops, const char *spec, char *err,
			      size_t errlen);

/* A port the card may listen on through this link. */
void terminal_add_port(struct terminal *t, uint16_t port);

/* Start its thread (once; later calls do nothing): 0, or -1 with err. */
int terminal_start(struct terminal *t, char *err, size_t errlen);

/*
 * An app connection to port: the terminal owns fd from now on. id names it
 * to terminal_reset_hook when the card side resets it.
 */
int terminal_attach(struct terminal *t, uint16_t port, int fd, uint64_t id);

/* What the terminal's thread last published, for sctlsd --status. */
void terminal_status(struct terminal *t, struct link_status *st);

/* Called from the terminal's thread before it closes a connection it resets. */
void terminal_reset_hook(uint64_t id);

/*
 * The link functions of every kind whose card a terminal reaches
 * (link_toolkit.c): parse "scheme:SPEC" for a card of this kind.
 */
int toolkit_parse(struct link *link, const char *arg, const struct card_ops *ops, char *err,
		  size_t errlen);
int toolkit_start(const struct link *link, char *err, size_t errlen);
int toolkit_connect(const struct link *link, bool *up);
int toolkit_connected(int fd);
ssize_t toolkit_recv(int fd, void *buf, size_t len);
void toolkit_close(int fd, bool reset);
void toolkit_status(const struct link *link, struct link_status *st);

/* The link_ops of such a kind: its scheme, and its parse calling toolkit_parse. */
#define TOOLKIT_LINK_OPS(name, parse_fn) {					\
	.scheme = (name), .parse = (parse_fn), .start = toolkit_start,		\
	.connect = toolkit_connect, .connected = toolkit_connected,		\
	.send = link_stream_send, .recv = toolkit_recv,				\
	.shutdown = link_stream_shutdown, .close = toolkit_close,		\
	.status = toolkit_status,						\
}

#endif
