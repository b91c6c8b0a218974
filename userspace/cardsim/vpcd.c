// SPDX-License-Identifier: GPL-2.0
/*
 * cardsim: vpcd's wire protocol. Each message is a two-octet big-endian
 * length and a payload. One octet is a control: 00 power off, 01 power on,
 * 02 reset, 04 get ATR (the only one answered). More is a command APDU,
 * answered with the response APDU.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/stream_addr.h"
#include "vpcd.h"

#define VPCD_POWER_OFF	0x00
#define VPCD_POWER_ON	0x01
#define VPCD_RESET	0x02
#define VPCD_GET_ATR	0x04
#define APDU_MAX	(5 + 255 + 1)

static int read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 1;	/* 1: vpcd hung up */
		p += n;
		len -= n;
	}
	return 0;
}

static int send_msg(int fd, const uint8_t *payload, size_t len)
{
	uint8_t msg[2 + UICC_RESPONSE_MAX];

	msg[0] = len >> 8;
	msg[1] = len & 0xff;
	memcpy(msg + 2, payload, len);
	return send(fd, msg, 2 + len, MSG_NOSIGNAL) == (ssize_t)(2 + len) ? 0 : -1;
}

/* APDUs answered, told on SIGUSR1 (for make bench). */
static volatile sig_atomic_t apdus;

static void tell_apdus(int sig)
{
	char buf[48] = "cardsim: apdus ", *end = buf + sizeof(buf) - 1, *p = end;
	unsigned long n = (unsigned long)apdus;
	int saved = errno;
	ssize_t written;

	(void)sig;
	*p = '\n';
	do {
		*--p = '0' + n % 10;
		n /= 10;
	} while (n);
	memmove(buf + 15, p, end - p + 1);
	written = write(2, buf, 15 + (end - p) + 1);
	(void)written;	/* nowhere to say it failed */
	errno = saved;
}

/* --trace: each APDU and its response, as hex. */
static void trace(const char *dir, const uint8_t *p, size_t len)
{
	size_t i;

	fprintf(stderr, "cardsim: %s", dir);
	for (i = 0; i < len && i < 24; i++)
		fprintf(stderr, " %02X", p[i]);
	fprintf(stderr, "%s\n", len > 24 ? " ..." : "");
}

int vpcd_run(const char *host_port, struct uicc *u, bool tracing, char *err, size_t errlen)
{
	uint8_t head[2], msg[APDU_MAX], out[UICC_RESPONSE_MAX];
	struct sockaddr_storage ss;
	char spec[300];
	socklen_t len;
	int fd, one = 1, ret;

	snprintf(spec, sizeof(spec), "tcp:%s", host_port);
	if (stream_addr_parse(spec, false, &ss, &len, err, errlen))
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len)) {
		snprintf(err, errlen, "cannot reach vpcd at %s: %s", host_port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	signal(SIGUSR1, tell_apdus);
	fprintf(stderr, "cardsim: in vpcd's reader at %s\n", host_port);
	for (;;) {
		size_t n;

		/*
		 * vpcd writes a message's length and its payload apart, without
		 * TCP_NODELAY: Nagle holds the payload until the length is
		 * acknowledged, so acknowledge at once rather than 40 ms later.
		 */
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		ret = read_all(fd, head, 2);
		if (ret)
			break;
		n = head[0] << 8 | head[1];
		if (!n || n > sizeof(msg)) {
			snprintf(err, errlen, "vpcd sent a message of %zu octets", n);
			ret = -1;
			break;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		ret = read_all(fd, msg, n);
		if (ret)
			break;
		if (n > 1) {
			if (tracing)
				trace(">", msg, n);
			n = uicc_apdu(u, msg, n, out, sizeof(out));
			apdus = apdus + 1;
			if (tracing)
				trace("<", out, n);
			ret = send_msg(fd, out, n);
		} else if (msg[0] == VPCD_GET_ATR) {
			ret = send_msg(fd, uicc_atr, sizeof(uicc_atr));
		} else if (msg[0] == VPCD_POWER_OFF || msg[0] == VPCD_POWER_ON ||
			   msg[0] == VPCD_RESET) {
			if (tracing)
				fprintf(stderr, "cardsim: power %s\n", msg[0] == VPCD_POWER_OFF ?
					"off" : msg[0] == VPCD_POWER_ON ? "on" : "reset");
			uicc_reset(u);
		}
		if (ret) {
			snprintf(err, errlen, "vpcd: %s", strerror(errno));
			break;
		}
	}
	close(fd);
	if (ret > 0)
		return 0;
	if (ret < 0 && !err[0])
		snprintf(err, errlen, "vpcd: %s", strerror(errno));
	return -1;
}
