// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gateway.h"

int gw_open_dev(void)
{
	return open("/dev/" SCTLS_DEVICE_NAME, O_RDWR | O_CLOEXEC);
}

uint32_t gw_expect_open(struct gw_reader *rd, struct sctls_open *open)
{
	struct sctls_frame f;

	if (gw_next(rd, &f, GW_TIMEOUT_MS) != 1 || f.hdr.type != SCTLS_OPEN)
		return 0;
	memcpy(open, f.payload, sizeof(*open));
	return f.hdr.conn;
}

int gw_connect_and_open(struct gw_reader *rd, int family, uint32_t *id)
{
	struct sctls_open open;
	int fd = gw_connect(family, SCTLS_DEFAULT_PORT);

	*id = fd >= 0 ? gw_expect_open(rd, &open) : 0;
	return fd;
}

int gw_connect_small(struct gw_reader *rd, uint32_t *id)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_port = htons(SCTLS_DEFAULT_PORT),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct sctls_frame f;
	int small = 4096, fd = socket(AF_INET, SOCK_STREAM, 0);

	*id = 0;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Frames of connections already open may come first. */
	while (gw_next(rd, &f, GW_TIMEOUT_MS) == 1) {
		if (f.hdr.type == SCTLS_OPEN) {
			*id = f.hdr.conn;
			break;
		}
	}
	return fd;
}

long gw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/*
 * Driven by poll, so reads never block, as the uapi tells such helpers: a
 * wake-up can come to nothing (a connection refused at accept), and a
 * blocking read then waits for the next frame, for ever under a flood of
 * refused connections.
 */
static ssize_t gw_read_nonblocking(int fd, void *buf, size_t len)
{
	int flags = fcntl(fd, F_GETFL);
	ssize_t n;

	if (flags < 0)
		return -1;
	if (!(flags & O_NONBLOCK))
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	n = read(fd, buf, len);
	if (!(flags & O_NONBLOCK)) {
		int err = errno;

		fcntl(fd, F_SETFL, flags);
		errno = err;
	}
	return n;
}

int gw_next(struct gw_reader *rd, struct sctls_frame *f, int timeout_ms)
{
	long end = gw_now_ms() + timeout_ms;

	for (;;) {
		ssize_t n = sctls_frame_decode(rd->buf + rd->start,
					       rd->end - rd->start, f);
		struct pollfd pfd = { .fd = rd->fd, .events = POLLIN };
		long left = end - gw_now_ms();

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

		n = poll(&pfd, 1, left > 0 ? left : 0);
		if (n <= 0)
			return n < 0 ? -errno : 0;
		n = gw_read_nonblocking(rd->fd, rd->buf + rd->end, sizeof(rd->buf) - rd->end);
		if (n < 0 && errno == EAGAIN)
			continue;	/* a wake-up with nothing to say */
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

ssize_t gw_connect_outcome(int family, uint16_t port, int timeout_ms)
{
	int fd = gw_connect(family, port);
	ssize_t ret;
	char c = 'x';

	if (fd < 0)
		return -errno;
	if (send(fd, &c, 1, MSG_NOSIGNAL) == 1)
		ret = gw_recv_all(fd, &c, 1, timeout_ms);
	else	/* reset already; EPIPE if its error was read by then */
		ret = errno == EPIPE ? -ECONNRESET : -errno;
	close(fd);
	return ret;
}

int gw_reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int ret = setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));

	close(fd);
	return ret;
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

long slab_active_objects(const char *cache)
{
	char line[512], name[128];
	long active = -1, n;
	FILE *f;

	/*
	 * Shrinking a cache also takes its objects out of KASAN's quarantine,
	 * where freed objects still count as active.
	 */
	snprintf(line, sizeof(line), "/sys/kernel/slab/%s/shrink", cache);
	f = fopen(line, "w");
	if (f) {
		fputs("1", f);
		fclose(f);
	}
	f = fopen("/proc/slabinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %ld", name, &n) == 2 && !strcmp(name, cache)) {
			active = n;
			break;
		}
	}
	fclose(f);
	return active < 0 ? 0 : active;	/* no such cache: no objects */
}

long tcp_mem_pages(void)
{
	char line[512];
	long pages = -1;
	FILE *f = fopen("/proc/net/sockstat", "r");
	char *mem;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		mem = strstr(line, " mem ");
		if (!strncmp(line, "TCP:", 4) && mem)
			pages = strtol(mem + 5, NULL, 10);
	}
	fclose(f);
	return pages;
}
