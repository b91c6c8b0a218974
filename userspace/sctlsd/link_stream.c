// SPDX-License-Identifier: GPL-2.0
/*
 * sctlsd: stream links. The card is reachable as a byte stream, each app
 * connection a stream of its own: unix:PATH or tcp:HOST:PORT.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/stream_addr.h"
#include "link.h"

static int stream_parse(struct link *link, const char *arg, char *err, size_t errlen)
{
	return stream_addr_parse(arg, false, &link->addr, &link->addrlen, err, errlen);
}

static int stream_connect(const struct link *link, bool *up)
{
	int fd = socket(link->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (link->addr.ss_family != AF_UNIX) {
		int one = 1;

		/* Relayed bytes go at once: no Nagle delay on top of the app's. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	/* On loopback the handshake often completes within connect(). */
	*up = !connect(fd, (const struct sockaddr *)&link->addr, link->addrlen);
	if (!*up && errno != EINPROGRESS) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static int stream_connected(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return errno;
	return err;
}

ssize_t link_stream_send(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static ssize_t stream_recv(int fd, void *buf, size_t len)
{
	return recv(fd, buf, len, MSG_DONTWAIT);
}

void link_stream_shutdown(int fd)
{
	shutdown(fd, SHUT_WR);
}

static void stream_close(int fd, bool reset)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (reset)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

const struct link_ops link_unix_ops = {
	.scheme = "unix", .parse = stream_parse, .connect = stream_connect,
	.connected = stream_connected, .send = link_stream_send, .recv = stream_recv,
	.shutdown = link_stream_shutdown, .close = stream_close,
};

const struct link_ops link_tcp_ops = {
	.scheme = "tcp", .parse = stream_parse, .connect = stream_connect,
	.connected = stream_connected, .send = link_stream_send, .recv = stream_recv,
	.shutdown = link_stream_shutdown, .close = stream_close,
};

static const struct link_ops *const link_kinds[] = {
	&link_unix_ops, &link_tcp_ops, &link_pcsc_ops, &link_at_ops, &link_mbim_ops,
};

int link_parse(struct link *link, const char *text, char *err, size_t errlen)
{
	const char *eq = strchr(text, '='), *colon;
	char *end;
	unsigned long port;
	size_t i;

	memset(link, 0, sizeof(*link));
	snprintf(link->spec, sizeof(link->spec), "%s", text);
	port = strtoul(text, &end, 10);
	if (!eq || end != eq || port == 0 || port > 65535) {
		snprintf(err, errlen, "'%s': expected PORT=KIND:ADDRESS, e.g. 4116=unix:/run/sctls/card.sock", text);
		return -1;
	}
	link->port = port;
	colon = strchr(eq + 1, ':');
	for (i = 0; colon && i < sizeof(link_kinds) / sizeof(link_kinds[0]); i++) {
		const struct link_ops *ops = link_kinds[i];

		if (strlen(ops->scheme) == (size_t)(colon - eq - 1) &&
		    !strncmp(ops->scheme, eq + 1, colon - eq - 1)) {
			link->ops = ops;
			return ops->parse(link, eq + 1, err, errlen);
		}
	}
	snprintf(err, errlen, "'%s': unknown link kind (known: unix, tcp, pcsc, at, mbim)", text);
	return -1;
}
