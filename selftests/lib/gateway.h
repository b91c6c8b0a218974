/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A test's side of the gateway: the helper's frames, read with bounded
 * waits, and apps connecting to the served loopback port.
 */
#ifndef SCTLS_SELFTEST_GATEWAY_H
#define SCTLS_SELFTEST_GATEWAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../userspace/common/frame.h"

/* The bound on what should come promptly: generous for slow kernels. */
#define GW_TIMEOUT_MS	30000

struct gw_reader {
	int fd;
	size_t start, end;
	uint8_t buf[256 * 1024];
};

/* open("/dev/sctls", O_RDWR): fd, or -1. */
int gw_open_dev(void);

/* The OPEN of the next connection within GW_TIMEOUT_MS: its id, or 0. */
uint32_t gw_expect_open(struct gw_reader *rd, struct sctls_open *open);

/* An app connected to the default port, and its id for the helper (0 if none). */
int gw_connect_and_open(struct gw_reader *rd, int family, uint32_t *id);

/*
 * The same over IPv4 from a socket with a small receive buffer from the
 * start (SO_RCVBUF before connect), so that the window it offers stays
 * small: bytes for it wait in the kernel. Frames of other connections
 * before its OPEN are skipped.
 */
int gw_connect_small(struct gw_reader *rd, uint32_t *id);

/* The next frame from the device within timeout_ms: 1, 0 on timeout, or -errno. */
int gw_next(struct gw_reader *rd, struct sctls_frame *f, int timeout_ms);

/* The next frame for conn, skipping CREDIT frames: as gw_next. */
int gw_next_for(struct gw_reader *rd, uint32_t conn, struct sctls_frame *f,
		int timeout_ms);

/* Write one frame; write()'s result, -1 and errno on error. */
ssize_t gw_send(int fd, uint16_t type, uint16_t flags, uint32_t conn,
		uint32_t arg, const void *payload, size_t len);

/* A blocking TCP connection to the loopback port of family; -1 on error. */
int gw_connect(int family, uint16_t port);

/*
 * What the gateway does with a new connection to the loopback port that
 * sends one byte: 1 when a byte comes back within timeout_ms, 0 on an
 * orderly close, -ECONNRESET on a reset, else -errno. A helper that
 * refuses at once (sctlsd's allow-list) can have the socket reset before
 * connect() returns, which then fails with ECONNRESET: the same reset.
 */
ssize_t gw_connect_outcome(int family, uint16_t port, int timeout_ms);

/* Close fd with a reset (SO_LINGER 0), as an app that aborts: 0, or -1. */
int gw_reset(int fd);

/* The local port of a socket. */
uint16_t gw_local_port(int fd);

/* Read exactly len bytes within timeout_ms each; bytes read, or -errno. */
ssize_t gw_recv_all(int fd, void *buf, size_t len, int timeout_ms);

/* Active objects of a slab cache per /proc/slabinfo (0 if none), or -1. */
long slab_active_objects(const char *cache);

/* CLOCK_MONOTONIC in milliseconds. */
long gw_now_ms(void);

/*
 * A time bound that an emulated guest can meet: the larger of floor_ms and
 * times the baseline, a duration measured in the same run.
 */
static inline int gw_bound_ms(int floor_ms, int times, long baseline_ms)
{
	return baseline_ms * times > floor_ms ? (int)(baseline_ms * times) : floor_ms;
}

/* Pages TCP has allocated in all, per /proc/net/sockstat, or -1. */
long tcp_mem_pages(void);

#endif
