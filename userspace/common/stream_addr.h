/* SPDX-License-Identifier: GPL-2.0 */
/* Stream socket addresses as the programs take them: unix:PATH, tcp:HOST:PORT. */
#ifndef SCTLS_STREAM_ADDR_H
#define SCTLS_STREAM_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/*
 * Parse "unix:PATH" or "tcp:HOST:PORT" ("tcp:[IPV6]:PORT" too) into an
 * address, resolving HOST once; passive for an address to listen on.
 * 0, or -1 having said why in err.
 */
int stream_addr_parse(const char *spec, bool passive, struct sockaddr_storage *ss,
		      socklen_t *len, char *err, size_t errlen);

#endif
