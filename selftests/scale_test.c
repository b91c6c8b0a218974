// SPDX-License-Identifier: GPL-2.0
/*
 * The data path under load and at its limits: 16 MiB each way, 1000
 * connections at once, max_conns, and kernel memory that stays bounded and
 * comes back.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/harness.h"
#include "lib/echo.h"
#include "lib/gateway.h"
#include "lib/module.h"

#define WINDOW 65536
#define BULK (16u << 20)

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i ^ (i >> 8) * 31 ^ (i >> 16) * 7);
}

/* The app of the bulk test: 16 MiB out, the same 16 MiB expected back. */
static int bulk_app(void)
{
	static uint8_t buf[32768];
	size_t i, got = 0;
	pid_t writer;
	int fd, status;
	ssize_t n;

	fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);
	if (fd < 0)
		return 10;
	writer = fork();
	if (writer == 0) {
		size_t sent = 0;

		while (sent < BULK) {
			for (i = 0; i < sizeof(buf); i++)
				buf[i] = pattern(sent + i);
			n = send(fd, buf, sizeof(buf), 0);
			if (n <= 0)
				_exit(11);
			sent += n;
		}
		_exit(shutdown(fd, SHUT_WR) ? 12 : 0);
	}
	while ((n = gw_recv_all(fd, buf, sizeof(buf), 20000)) > 0) {
		for (i = 0; i < (size_t)n; i++)
			if (buf[i] != pattern(got + i))
				return 13;	/* a byte changed or moved */
		got += n;
	}
	if (n < 0 || got != BULK)
		return 14;
	if (waitpid(writer, &status, 0) != writer || !WIFEXITED(status))
		return 15;
	return WEXITSTATUS(status);
}

/* Load the module with params and attach as its helper. */
static void gw_start(struct __test_metadata *_metadata, struct gw_reader *rd,
		     const char *params)
{
	rd->fd = -1;
	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	ASSERT_EQ(0, sctls_module_load_fresh(params));
	rd->fd = gw_open_dev();
	ASSERT_LE(0, rd->fd);
}

static void gw_stop(struct __test_metadata *_metadata, struct gw_reader *rd)
{
	if (rd->fd >= 0)
		close(rd->fd);
	EXPECT_EQ(0, sctls_module_unload());
}

/* One fixture per module configuration: defaults, max_conns 4 and 1000. */
FIXTURE(scale) {
	struct gw_reader rd;
};

FIXTURE_SETUP(scale)
{
	gw_start(_metadata, &self->rd, "");
}

FIXTURE_TEARDOWN(scale)
{
	gw_stop(_metadata, &self->rd);
}

FIXTURE(four) {
	struct gw_reader rd;
};

FIXTURE_SETUP(four)
{
	gw_start(_metadata, &self->rd, "max_conns=4");
}

FIXTURE_TEARDOWN(four)
{
	gw_stop(_metadata, &self->rd);
}

FIXTURE(thousand) {
	struct gw_reader rd;
};

FIXTURE_SETUP(thousand)
{
	gw_start(_metadata, &self->rd, "max_conns=1000");
}

FIXTURE_TEARDOWN(thousand)
{
	gw_stop(_metadata, &self->rd);
}

TEST_F_TIMEOUT(scale, sixteen_mib_each_way_byte_exact, 600)
{
	int status;
	pid_t app = fork();

	ASSERT_LE(0, app);
	if (app == 0)
		_exit(bulk_app());
	EXPECT_EQ(0, gw_echo(&self->rd, 1, WINDOW, 20000));
	ASSERT_EQ(app, waitpid(app, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * The module's connection objects, or -1 when they cannot be told apart:
 * a kernel before 6.5 (no SLAB_NO_MERGE) without slub_debug merges the
 * cache into another, and /sys/kernel/slab has only a link to that one.
 */
static long conn_objects(void)
{
	struct stat st;

	if (!lstat("/sys/kernel/slab/sctls_conn", &st) && S_ISLNK(st.st_mode))
		return -1;
	return slab_active_objects("sctls_conn");
}

#define EXPECT_CONN_OBJECTS(want) do {						\
	long _n = conn_objects();						\
	if (_n < 0)								\
		TH_LOG("sctls_conn is merged into another cache: not counted");\
	else									\
		EXPECT_EQ(want, _n);						\
} while (0)

/* Wait, within five seconds, until a slab cache is back to at most want. */
static long slab_settles(const char *cache, long want)
{
	long now = slab_active_objects(cache);
	int i;

	for (i = 0; i < 50 && now > want; i++) {
		usleep(100000);
		now = slab_active_objects(cache);
	}
	return now;
}

TEST_F(scale, helper_exit_frees_every_object)
{
	long tcp = slab_active_objects("TCP"), tcp6 = slab_active_objects("TCPv6");
	int fds[100];
	unsigned int i;
	uint32_t id;
	char c;

	ASSERT_LE(0, tcp);
	for (i = 0; i < 100; i++) {
		fds[i] = gw_connect_and_open(&self->rd, i % 2 ? AF_INET6 : AF_INET, &id);
		ASSERT_NE(0, id);
	}
	EXPECT_CONN_OBJECTS(100);
	TH_LOG("TCP sockets %ld -> %ld, TCPv6 %ld -> %ld with 100 connections",
	       tcp, slab_active_objects("TCP"), tcp6, slab_active_objects("TCPv6"));

	close(self->rd.fd);
	self->rd.fd = -1;
	for (i = 0; i < 100; i++) {
		EXPECT_EQ(-ECONNRESET, gw_recv_all(fds[i], &c, 1, GW_TIMEOUT_MS));
		close(fds[i]);
	}
	EXPECT_CONN_OBJECTS(0);
	EXPECT_GE(tcp, slab_settles("TCP", tcp));
	EXPECT_GE(tcp6, slab_settles("TCPv6", tcp6));
}

static long sysctl_third(const char *path)
{
	long a, b, c = -1;
	FILE *f = fopen(path, "r");

	if (f && fscanf(f, "%ld %ld %ld", &a, &b, &c) != 3)
		c = -1;
	if (f)
		fclose(f);
	return c;
}

/*
 * The most TCP may hold for one connection over loopback: both ends'
 * receive and send buffers at their maximum. The gateway may add one
 * window of its own per direction; nothing else.
 */
static long bound_bytes(void)
{
	return 2 * (sysctl_third("/proc/sys/net/ipv4/tcp_rmem") +
		    sysctl_third("/proc/sys/net/ipv4/tcp_wmem")) + WINDOW;
}

TEST_F(scale, stalled_helper_keeps_memory_bounded)
{
	static char chunk[65536];
	long before = tcp_mem_pages(), after;
	size_t pushed = 0, got = 0;
	struct sctls_frame f;
	uint32_t id;
	int fd = gw_connect_and_open(&self->rd, AF_INET, &id);

	ASSERT_NE(0, id);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, O_NONBLOCK));
	while (pushed < 64u << 20) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		ssize_t n = send(fd, chunk, sizeof(chunk), 0);

		if (n > 0) {
			pushed += n;
			continue;
		}
		ASSERT_EQ(EAGAIN, errno);
		if (poll(&pfd, 1, 500) == 0)
			break;
	}
	after = tcp_mem_pages();
	while (gw_next_for(&self->rd, id, &f, 500) == 1)
		got += f.payload_len;
	TH_LOG("app pushed %zu bytes before EAGAIN; helper got %zu; TCP memory %ld -> %ld pages; bound %ld bytes",
	       pushed, got, before, after, bound_bytes());
	EXPECT_EQ(WINDOW, got);
	EXPECT_GT(64u << 20, pushed);	/* pushed back, not buffered without end */
	EXPECT_GE(bound_bytes(), (after - before) * getpagesize());
	close(fd);
}

TEST_F(scale, app_that_never_reads_keeps_memory_bounded)
{
	static char chunk[16384];
	long before = tcp_mem_pages(), after;
	size_t accepted = 0;
	struct sctls_frame f;
	uint32_t id;
	int fd = gw_connect_and_open(&self->rd, AF_INET, &id);

	ASSERT_NE(0, id);
	ASSERT_EQ(0, fcntl(self->rd.fd, F_SETFL, O_NONBLOCK));
	/* The helper writes while it has credit and credit comes back. */
	while (accepted < 64u << 20) {
		if (gw_send(self->rd.fd, SCTLS_DATA, 0, id, 0, chunk, sizeof(chunk)) > 0) {
			accepted += sizeof(chunk);
			continue;
		}
		ASSERT_EQ(ENOBUFS, errno);
		if (gw_next(&self->rd, &f, 500) != 1)
			break;	/* no more credit: the app's side is full */
		ASSERT_EQ(SCTLS_CREDIT, f.hdr.type);
		ASSERT_EQ(id, f.hdr.conn);
	}
	after = tcp_mem_pages();
	TH_LOG("helper wrote %zu bytes before credit stopped; TCP memory %ld -> %ld pages; bound %ld bytes",
	       accepted, before, after, bound_bytes());
	EXPECT_GE(bound_bytes(), (long)accepted);
	EXPECT_GE(bound_bytes(), (after - before) * getpagesize());
	close(fd);
}

TEST_F(four, connection_over_max_conns_is_reset)
{
	struct sctls_frame f;
	int fds[4], extra;
	unsigned int i;
	uint32_t ids[4];
	char c;

	for (i = 0; i < 4; i++) {
		fds[i] = gw_connect_and_open(&self->rd, AF_INET, &ids[i]);
		ASSERT_NE(0, ids[i]);
	}
	extra = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);
	ASSERT_LE(0, extra);
	ASSERT_EQ(0, fcntl(self->rd.fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(0, gw_next(&self->rd, &f, 1000));	/* no OPEN for it */
	EXPECT_EQ(-ECONNRESET, gw_recv_all(extra, &c, 1, GW_TIMEOUT_MS));

	/* The four carry on. */
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(1, send(fds[i], "x", 1, 0));
		ASSERT_EQ(1, gw_next_for(&self->rd, ids[i], &f, GW_TIMEOUT_MS));
		EXPECT_EQ(SCTLS_DATA, f.hdr.type);
		close(fds[i]);
	}
	close(extra);
}

#define MANY 1000

TEST_F_TIMEOUT(thousand, connections_at_once, 600)
{
	struct rlimit nofile = { MANY + 64, MANY + 64 };
	static int fds[MANY];
	static uint32_t ids[MANY];
	unsigned int i, closed = 0;
	struct sctls_frame f;

	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &nofile));
	for (i = 0; i < MANY; i++) {
		fds[i] = gw_connect_and_open(&self->rd, i % 2 ? AF_INET6 : AF_INET, &ids[i]);
		ASSERT_NE(0, ids[i]);
	}
	EXPECT_CONN_OBJECTS(MANY);

	/* Each app says who it is and finishes; the helper echoes and finishes. */
	for (i = 0; i < MANY; i++) {
		ASSERT_EQ(sizeof(i), send(fds[i], &i, sizeof(i), 0));
		ASSERT_EQ(0, shutdown(fds[i], SHUT_WR));
	}
	while (closed < MANY) {
		ASSERT_EQ(1, gw_next(&self->rd, &f, GW_TIMEOUT_MS));
		if (f.hdr.type == SCTLS_DATA) {
			ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_DATA, 0, f.hdr.conn,
					     0, f.payload, f.payload_len));
		} else if (f.hdr.type == SCTLS_FIN) {
			ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_FIN, 0, f.hdr.conn,
					     0, NULL, 0));
		} else if (f.hdr.type == SCTLS_CLOSE && f.hdr.arg == 0) {
			closed++;
		} else {
			ASSERT_EQ(SCTLS_CREDIT, f.hdr.type);
		}
	}
	for (i = 0; i < MANY; i++) {
		unsigned int back = ~i;

		ASSERT_EQ(sizeof(back), gw_recv_all(fds[i], &back, sizeof(back),
						    GW_TIMEOUT_MS));
		EXPECT_EQ(i, back);
		EXPECT_EQ(0, gw_recv_all(fds[i], &back, 1, GW_TIMEOUT_MS));
		close(fds[i]);
	}
	EXPECT_CONN_OBJECTS(0);
}

TEST_HARNESS_MAIN
