// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway.h"

int gw_next(struct gw_reader *rd, struct sctls_frame *f, int timeout_ms)
{
	for (;;) {
		ssize_t n = sctls_frame_decode(rd->buf + rd->start,
					       rd->end - rd->start, f);
		struct pollfd pfd = { .fd = rd->fd, .events = POLLIN };

		if (n < 0)
			return n;
		if (n > 0) {
			rd->start += n;
			return 1;
		}
		/* Whole frames only ever arrive; move the rest to the front. */
		memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
		rd->end -= rd->start;
		rd->start = 0;

		n = poll(&pfd, 1, timeout_ms);
		if (n <= 0)
			return n < 0 ? -errno : 0;
		n = read(rd->fd, rd->buf + rd->end, sizeof(rd->buf) - rd->end);
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		rd->end += n;
	}
}

int gw_next_for(struct gw_reader *rd, uint32_t conn, struct sctls_frame *f,
		int timeout_ms)
{
	int ret;

	do {
		ret = gw_next(rd, f, timeout_ms);
	} while (ret == 1 && (f->hdr.conn != conn || f->hdr.type == SCTLS_CREDIT));
	return ret;
}

ssize_t gw_send(int fd, uint16_t type, uint16_t flags, uint32_t conn,
		uint32_t arg, const void *payload, size_t len)
{
	static uint8_t frame[SCTLS_MAX_FRAME];
	ssize_t n = sctls_frame_encode(frame, sizeof(frame), type, flags, conn,
				       arg, payload, len);

	if (n < 0) {
		errno = -n;
		return -1;
	}
	return write(fd, frame, n);
}

int gw_connect(int family, uint16_t port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct sockaddr_in6 sin6 = {
		.sin6_family = AF_INET6, .sin6_port = htons(port),
		.sin6_addr = IN6ADDR_LOOPBACK_INIT,
	};
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (family == AF_INET ?
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) :
	    connect(fd, (struct sockaddr *)&sin6, sizeof(sin6))) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

uint16_t gw_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

ssize_t gw_recv_all(int fd, void *buf, size_t len, int timeout_ms)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n = poll(&pfd, 1, timeout_ms);

		if (n <= 0)
			return n < 0 ? -errno : -ETIMEDOUT;
		n = recv(fd, (char *)buf + got, len - got, 0);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += n;
	}
	return got;
}
