/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An echoing helper: every connection's bytes go back to it, within the
 * credit both ways, and each FIN is answered with a FIN.
 */
#ifndef SCTLS_SELFTEST_ECHO_H
#define SCTLS_SELFTEST_ECHO_H

#include "gateway.h"

/*
 * Serve until closes connections have closed. Returns how many of them
 * closed with an error, or -1 when nothing came for timeout_ms, the kernel
 * broke the protocol, or memory ran out.
 */
int gw_echo(struct gw_reader *rd, unsigned int closes, uint32_t window,
	    int timeout_ms);

#endif
