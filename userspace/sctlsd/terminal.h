/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sctlsd: the terminal side of BIP in UICC server mode, for one PC/SC
 * reader. A thread of its own talks to the card through pcsc-lite and maps
 * app connections, each handed over as one end of a socket pair, onto the
 * channels the card listens on. The relay sees only the other ends.
 */
#ifndef SCTLSD_TERMINAL_H
#define SCTLSD_TERMINAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct terminal;

/* The terminal of a reader ("name", a prefix of it, or an index), made once. */
struct terminal *terminal_get(const char *reader, char *err, size_t errlen);

/* A port the card may listen on through this reader. */
void terminal_add_port(struct terminal *t, uint16_t port);

/* Start its thread (once; later calls do nothing): 0, or -1 with err. */
int terminal_start(struct terminal *t, char *err, size_t errlen);

/*
 * An app connection to port: the terminal owns fd from now on. id names it
 * to terminal_reset_hook when the card side resets it.
 */
int terminal_attach(struct terminal *t, uint16_t port, int fd, uint64_t id);

/* Called from the terminal's thread before it closes a connection it resets. */
void terminal_reset_hook(uint64_t id);

#endif
