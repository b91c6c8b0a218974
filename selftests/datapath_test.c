// SPDX-License-Identifier: GPL-2.0
/*
 * The data path: apps connect to the loopback port, the test plays the
 * helper on /dev/sctls, and both sides check what the other did.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/harness.h"
#include "lib/gateway.h"
#include "lib/module.h"
#include "lib/privs.h"

#define WINDOW 65536

/* This process's command name, as the kernel keeps it. */
static const char *own_comm(void)
{
	static char comm[SCTLS_COMM_LEN];

	if (prctl(PR_GET_NAME, comm))
		return "?";
	return comm;
}

FIXTURE(gw) {
	struct gw_reader rd;
	bool loaded;
};

FIXTURE_SETUP(gw)
{
	self->rd.fd = -1;
	self->loaded = false;
	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	ASSERT_EQ(0, sctls_module_load_fresh(""));
	self->loaded = true;
	self->rd.fd = gw_open_dev();
	ASSERT_LE(0, self->rd.fd);
}

FIXTURE_TEARDOWN(gw)
{
	if (self->rd.fd >= 0)
		close(self->rd.fd);
	if (self->loaded)
		EXPECT_EQ(0, sctls_module_unload());
}

TEST(refused_without_helper)
{
	int fd;

	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	ASSERT_EQ(0, sctls_module_load_fresh(""));
	EXPECT_EQ(-1, gw_connect(AF_INET, SCTLS_DEFAULT_PORT));
	EXPECT_EQ(ECONNREFUSED, errno);
	EXPECT_EQ(-1, gw_connect(AF_INET6, SCTLS_DEFAULT_PORT));
	EXPECT_EQ(ECONNREFUSED, errno);

	/* Listeners come with the helper and go with it. */
	fd = gw_open_dev();
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(-1, gw_connect(AF_INET, SCTLS_DEFAULT_PORT));
	EXPECT_EQ(ECONNREFUSED, errno);
	EXPECT_EQ(0, sctls_module_unload());
}

FIXTURE(open_frame) {
	struct gw_reader rd;
};

FIXTURE_VARIANT(open_frame) {
	int family;
	struct in6_addr loopback;	/* IPv4: first 4 bytes, the rest zero */
};

FIXTURE_VARIANT_ADD(open_frame, ipv4) {
	.family = AF_INET,
	.loopback.s6_addr = { 127, 0, 0, 1 },
};

FIXTURE_VARIANT_ADD(open_frame, ipv6) {
	.family = AF_INET6,
	.loopback = IN6ADDR_LOOPBACK_INIT,
};

FIXTURE_SETUP(open_frame)
{
	self->rd.fd = -1;
	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	ASSERT_EQ(0, sctls_module_load_fresh(""));
	self->rd.fd = gw_open_dev();
	ASSERT_LE(0, self->rd.fd);
}

FIXTURE_TEARDOWN(open_frame)
{
	if (self->rd.fd >= 0)
		close(self->rd.fd);
	EXPECT_EQ(0, sctls_module_unload());
}

TEST_F(open_frame, reports_who_connected)
{
	struct sctls_open open;
	int fd = gw_connect(variant->family, SCTLS_DEFAULT_PORT);

	ASSERT_LE(0, fd);
	ASSERT_NE(0, gw_expect_open(&self->rd, &open));
	EXPECT_EQ(variant->family, open.family);
	EXPECT_EQ(SCTLS_DEFAULT_PORT, open.local_port);
	EXPECT_EQ(gw_local_port(fd), open.peer_port);
	EXPECT_EQ(0, memcmp(&variant->loopback, open.peer_addr, 16));
	EXPECT_EQ(0, memcmp(&variant->loopback, open.local_addr, 16));
	EXPECT_EQ(getuid(), open.uid);
	EXPECT_EQ(getgid(), open.gid);
	EXPECT_EQ(getpid(), open.pid);
	EXPECT_STREQ(own_comm(), open.comm);
	close(fd);
}

TEST_F(gw, open_reports_uid_of_app)
{
	struct sctls_open open;
	int go[2], status;
	pid_t pid;

	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char c;
		int fd;

		close(go[1]);
		if (become(1000, 1001) || prctl(PR_SET_NAME, "app-of-uid-1000"))
			_exit(2);
		fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);
		/* Hold the connection until the helper has looked. */
		_exit(fd >= 0 && read(go[0], &c, 1) >= 0 ? 0 : 1);
	}
	ASSERT_NE(0, gw_expect_open(&self->rd, &open));
	EXPECT_EQ(1000, open.uid);
	EXPECT_EQ(1001, open.gid);
	EXPECT_EQ(pid, open.pid);
	EXPECT_STREQ("app-of-uid-1000", open.comm);
	close(go[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (!ret)
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return ret;
}

/* In a new namespace: refused without its helper, served by it, alone. */
static int other_netns_app(void)
{
	struct gw_reader *rd = calloc(1, sizeof(*rd));
	struct sctls_open open;
	uint32_t id;
	int fd;

	if (!rd || unshare(CLONE_NEWNET) || lo_up())
		return 10;
	if (gw_connect(AF_INET, SCTLS_DEFAULT_PORT) >= 0 || errno != ECONNREFUSED)
		return 11;
	rd->fd = gw_open_dev();
	if (rd->fd < 0)
		return 12;
	fd = gw_connect(AF_INET6, SCTLS_DEFAULT_PORT);
	id = fd >= 0 ? gw_expect_open(rd, &open) : 0;
	return id && open.peer_port == gw_local_port(fd) ? 0 : 13;
}

TEST_F(gw, each_netns_has_its_own_gateway)
{
	struct sctls_frame f;
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(other_netns_app());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* Nothing of it reached this namespace's helper. */
	ASSERT_EQ(0, fcntl(self->rd.fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(0, gw_next(&self->rd, &f, 500));
}

TEST_F(gw, bytes_both_ways)
{
	const char ask[] = "GET / HTTP/1.1\r\n\r\n", answer[] = "HTTP/1.1 200 OK\r\n";
	char got[64] = "";
	struct sctls_frame f;
	uint32_t id;
	int fd = gw_connect_and_open(&self->rd, AF_INET, &id);

	ASSERT_NE(0, id);
	ASSERT_EQ(sizeof(ask), send(fd, ask, sizeof(ask), 0));
	ASSERT_EQ(1, gw_next_for(&self->rd, id, &f, GW_TIMEOUT_MS));
	ASSERT_EQ(SCTLS_DATA, f.hdr.type);
	ASSERT_EQ(sizeof(ask), f.payload_len);
	EXPECT_EQ(0, memcmp(ask, f.payload, sizeof(ask)));

	ASSERT_EQ(SCTLS_HDR_LEN + sizeof(answer),
		  gw_send(self->rd.fd, SCTLS_DATA, 0, id, 0, answer, sizeof(answer)));
	ASSERT_EQ(sizeof(answer), gw_recv_all(fd, got, sizeof(answer), GW_TIMEOUT_MS));
	EXPECT_STREQ(answer, got);
	close(fd);
}

TEST_F(gw, app_half_close_then_helper_finishes)
{
	char got[8] = "";
	struct sctls_frame f;
	uint32_t id;
	int fd = gw_connect_and_open(&self->rd, AF_INET6, &id);

	ASSERT_NE(0, id);
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_EQ(1, gw_next_for(&self->rd, id, &f, GW_TIMEOUT_MS));
	EXPECT_EQ(SCTLS_FIN, f.hdr.type);

	/* The other direction still works, then ends in an orderly way. */
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_DATA, 0, id, 0, "bye", 3));
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_FIN, 0, id, 0, NULL, 0));
	ASSERT_EQ(3, gw_recv_all(fd, got, 3, GW_TIMEOUT_MS));
	EXPECT_STREQ("bye", got);
	EXPECT_EQ(0, gw_recv_all(fd, got, 1, GW_TIMEOUT_MS));	/* EOF */

	ASSERT_EQ(1, gw_next_for(&self->rd, id, &f, GW_TIMEOUT_MS));
	EXPECT_EQ(SCTLS_CLOSE, f.hdr.type);
	EXPECT_EQ(0, f.hdr.arg);
	close(fd);
}

TEST_F(gw, helper_half_close_then_app_finishes)
{
	struct sctls_frame f;
	char c;
	uint32_t id;
	int fd = gw_connect_and_open(&self->rd, AF_INET, &id);

	ASSERT_NE(0, id);
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_FIN, 0, id, 0, NULL, 0));
	EXPECT_EQ(0, gw_recv_all(fd, &c, 1, GW_TIMEOUT_MS));	/* EOF */

	/* The app may still talk after the helper's FIN. */
	ASSERT_EQ(4, send(fd, "more", 4, 0));
	ASSERT_EQ(1, gw_next_for(&self->rd, id, &f, GW_TIMEOUT_MS));
	ASSERT_EQ(SCTLS_DATA, f.hdr.type);
	EXPECT_EQ(0, memcmp("more", f.payload, 4));
	close(fd);
	ASSERT_EQ(1, gw_next_for(&self->rd, id, &f, GW_TIMEOUT_MS));
	EXPECT_EQ(SCTLS_FIN, f.hdr.type);
	ASSERT_EQ(1, gw_next_for(&self->rd, id, &f, GW_TIMEOUT_MS));
	EXPECT_EQ(SCTLS_CLOSE, f.hdr.type);
	EXPECT_EQ(0, f.hdr.arg);
}

TEST_F(gw, app_reset_is_close_econnreset)
{
	struct sctls_frame f;
	uint32_t id;
	int fd = gw_connect_and_open(&self->rd, AF_INET, &id);

	ASSERT_NE(0, id);
	ASSERT_EQ(0, gw_reset(fd));
	ASSERT_EQ(1, gw_next_for(&self->rd, id, &f, GW_TIMEOUT_MS));
	EXPECT_EQ(SCTLS_CLOSE, f.hdr.type);
	EXPECT_EQ(ECONNRESET, f.hdr.arg);
}

TEST_F(gw, helper_reset_reaches_app)
{
	char c;
	uint32_t id;
	int fd = gw_connect_and_open(&self->rd, AF_INET, &id);

	ASSERT_NE(0, id);
	ASSERT_EQ(SCTLS_HDR_LEN, gw_send(self->rd.fd, SCTLS_CLOSE, 0, id, 0, NULL, 0));
	EXPECT_EQ(-ECONNRESET, gw_recv_all(fd, &c, 1, GW_TIMEOUT_MS));
	close(fd);
}

TEST_F(gw, helper_orderly_close_delivers_all_then_eof)
{
	static char out[20000], got[sizeof(out)];
	uint8_t frames[2 * SCTLS_HDR_LEN + sizeof(out)];
	ssize_t a, b;
	uint32_t id;
	int fd = gw_connect_and_open(&self->rd, AF_INET, &id);

	ASSERT_NE(0, id);
	memset(out, 'x', sizeof(out));
	a = sctls_frame_encode(frames, sizeof(frames), SCTLS_DATA, 0, id, 0,
			       out, sizeof(out));
	b = sctls_frame_encode(frames + a, sizeof(frames) - a, SCTLS_CLOSE,
			       SCTLS_CLOSE_ORDERLY, id, 0, NULL, 0);
	ASSERT_EQ(a + b, write(self->rd.fd, frames, a + b));
	ASSERT_EQ(sizeof(out), gw_recv_all(fd, got, sizeof(got), GW_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(out, got, sizeof(out)));
	EXPECT_EQ(0, gw_recv_all(fd, got, 1, GW_TIMEOUT_MS));	/* EOF */
	close(fd);
}

TEST_F(gw, helper_exit_resets_every_app)
{
	int fds[100];
	unsigned int i;
	uint32_t id;
	char c;

	for (i = 0; i < 100; i++) {
		fds[i] = gw_connect_and_open(&self->rd, i % 2 ? AF_INET6 : AF_INET, &id);
		ASSERT_NE(0, id);
	}
	close(self->rd.fd);
	self->rd.fd = -1;
	for (i = 0; i < 100; i++) {
		EXPECT_EQ(-ECONNRESET, gw_recv_all(fds[i], &c, 1, GW_TIMEOUT_MS));
		close(fds[i]);
	}
	/* Nothing holds the module: the teardown's unload must succeed. */
}

TEST_F(gw, helper_without_credit_gets_at_most_window)
{
	static char chunk[65536];
	struct sctls_frame f;
	size_t got = 0;
	uint32_t id;
	int fd = gw_connect_and_open(&self->rd, AF_INET, &id);

	ASSERT_NE(0, id);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, O_NONBLOCK));
	/* The app writes until TCP pushes back... */
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };

		if (send(fd, chunk, sizeof(chunk), 0) > 0)
			continue;
		ASSERT_EQ(EAGAIN, errno);
		if (poll(&pfd, 1, 500) == 0)
			break;	/* no room came back: the window is shut */
	}
	/* ...and the helper, returning no credit, got exactly one window. */
	while (gw_next_for(&self->rd, id, &f, 500) == 1) {
		ASSERT_EQ(SCTLS_DATA, f.hdr.type);
		got += f.payload_len;
	}
	EXPECT_EQ(WINDOW, got);

	/* Credit lets more through. */
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_CREDIT, 0, id, 1000, NULL, 0));
	ASSERT_EQ(1, gw_next_for(&self->rd, id, &f, GW_TIMEOUT_MS));
	EXPECT_EQ(SCTLS_DATA, f.hdr.type);
	EXPECT_EQ(1000, f.payload_len);
	close(fd);
}

TEST_F(gw, data_past_credit_is_enobufs)
{
	static char big[40000];
	char got[3];
	uint32_t id;
	int fd = gw_connect_and_open(&self->rd, AF_INET, &id);

	ASSERT_NE(0, id);
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_DATA, 0, id, 0, big, sizeof(big)));
	EXPECT_EQ(-1, gw_send(self->rd.fd, SCTLS_DATA, 0, id, 0, big, sizeof(big)));
	EXPECT_EQ(ENOBUFS, errno);
	/* Within what is left it still works. */
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_DATA, 0, id, 0, "end", 3));
	ASSERT_EQ(sizeof(big), gw_recv_all(fd, big, sizeof(big), GW_TIMEOUT_MS));
	ASSERT_EQ(3, gw_recv_all(fd, got, 3, GW_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp("end", got, 3));
	close(fd);
}

FIXTURE(bad_write) {
	struct gw_reader rd;
	int app;
	uint32_t id;
};

FIXTURE_VARIANT(bad_write) {
	uint32_t len;		/* header's len */
	uint32_t written;	/* bytes write() is given */
	uint16_t type;
	uint16_t flags;
	uint32_t arg;
	bool conn_zero;
	int error;
};

FIXTURE_VARIANT_ADD(bad_write, shorter_than_header) {
	.len = SCTLS_HDR_LEN, .written = 10, .type = SCTLS_FIN, .error = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_write, len_over_bytes_written) {
	.len = SCTLS_HDR_LEN + 100, .written = SCTLS_HDR_LEN + 50,
	.type = SCTLS_DATA, .error = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_write, len_below_header) {
	.len = 8, .written = SCTLS_HDR_LEN, .type = SCTLS_FIN, .error = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_write, unknown_type) {
	.len = SCTLS_HDR_LEN, .written = SCTLS_HDR_LEN, .type = 99, .error = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_write, open_from_helper) {
	.len = SCTLS_HDR_LEN + sizeof(struct sctls_open),
	.written = SCTLS_HDR_LEN + sizeof(struct sctls_open),
	.type = SCTLS_OPEN, .error = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_write, payload_over_max) {
	.len = SCTLS_MAX_FRAME + 1, .written = SCTLS_MAX_FRAME + 1,
	.type = SCTLS_DATA, .error = EMSGSIZE,
};

FIXTURE_VARIANT_ADD(bad_write, zero_length_data) {
	.len = SCTLS_HDR_LEN, .written = SCTLS_HDR_LEN, .type = SCTLS_DATA,
	.error = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_write, fin_with_payload) {
	.len = SCTLS_HDR_LEN + 4, .written = SCTLS_HDR_LEN + 4,
	.type = SCTLS_FIN, .error = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_write, unknown_flag) {
	.len = SCTLS_HDR_LEN, .written = SCTLS_HDR_LEN, .type = SCTLS_CLOSE,
	.flags = 0x40, .error = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_write, data_with_arg) {
	.len = SCTLS_HDR_LEN + 4, .written = SCTLS_HDR_LEN + 4,
	.type = SCTLS_DATA, .arg = 1, .error = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_write, fin_with_arg) {
	.len = SCTLS_HDR_LEN, .written = SCTLS_HDR_LEN, .type = SCTLS_FIN,
	.arg = 7, .error = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_write, close_with_arg) {
	.len = SCTLS_HDR_LEN, .written = SCTLS_HDR_LEN, .type = SCTLS_CLOSE,
	.arg = ECONNRESET, .error = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_write, credit_of_zero) {
	.len = SCTLS_HDR_LEN, .written = SCTLS_HDR_LEN, .type = SCTLS_CREDIT,
	.error = EINVAL,
};

FIXTURE_VARIANT_ADD(bad_write, huge_len_short_write) {
	.len = 0xffffffff, .written = SCTLS_HDR_LEN, .type = SCTLS_DATA,
	.error = EMSGSIZE,
};

FIXTURE_VARIANT_ADD(bad_write, conn_zero) {
	.len = SCTLS_HDR_LEN + 4, .written = SCTLS_HDR_LEN + 4,
	.type = SCTLS_DATA, .conn_zero = true, .error = EINVAL,
};

FIXTURE_SETUP(bad_write)
{
	self->rd.fd = -1;
	self->app = -1;
	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	ASSERT_EQ(0, sctls_module_load_fresh(""));
	self->rd.fd = gw_open_dev();
	ASSERT_LE(0, self->rd.fd);
	self->app = gw_connect_and_open(&self->rd, AF_INET, &self->id);
	ASSERT_NE(0, self->id);
}

FIXTURE_TEARDOWN(bad_write)
{
	close(self->app);
	close(self->rd.fd);
	sctls_module_unload();
}

TEST_F(bad_write, rejected_and_nothing_changes)
{
	static uint8_t frame[SCTLS_MAX_FRAME + 16];
	struct sctls_hdr hdr = {
		.len = variant->len, .type = variant->type,
		.flags = variant->flags, .conn = variant->conn_zero ? 0 : self->id,
		.arg = variant->arg,
	};
	char got[8] = "";
	struct sctls_frame f;

	memset(frame, 'z', sizeof(frame));
	memcpy(frame, &hdr, sizeof(hdr));
	EXPECT_EQ(-1, write(self->rd.fd, frame, variant->written));
	EXPECT_EQ(variant->error, errno);

	/* The connection is as it was: a good frame goes through alone. */
	ASSERT_EQ(SCTLS_HDR_LEN + 2, gw_send(self->rd.fd, SCTLS_DATA, 0,
					     self->id, 0, "ok", 2));
	ASSERT_EQ(0, shutdown(self->app, SHUT_WR));
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_FIN, 0, self->id, 0, NULL, 0));
	ASSERT_EQ(2, gw_recv_all(self->app, got, sizeof(got), GW_TIMEOUT_MS));
	EXPECT_STREQ("ok", got);
	ASSERT_EQ(1, gw_next_for(&self->rd, self->id, &f, GW_TIMEOUT_MS));
	EXPECT_EQ(SCTLS_FIN, f.hdr.type);
}

TEST_F(gw, second_fin_is_epipe)
{
	uint32_t id;
	int fd = gw_connect_and_open(&self->rd, AF_INET, &id);

	ASSERT_NE(0, id);
	ASSERT_EQ(SCTLS_HDR_LEN, gw_send(self->rd.fd, SCTLS_FIN, 0, id, 0, NULL, 0));
	EXPECT_EQ(-1, gw_send(self->rd.fd, SCTLS_FIN, 0, id, 0, NULL, 0));
	EXPECT_EQ(EPIPE, errno);
	close(fd);
}

TEST_F(gw, frame_for_just_closed_connection_is_dropped)
{
	struct sctls_frame f;
	uint32_t id, next;
	int fd = gw_connect_and_open(&self->rd, AF_INET, &id);

	ASSERT_NE(0, id);
	ASSERT_EQ(0, gw_reset(fd));
	ASSERT_EQ(1, gw_next_for(&self->rd, id, &f, GW_TIMEOUT_MS));
	ASSERT_EQ(SCTLS_CLOSE, f.hdr.type);

	/* The helper had not seen the CLOSE yet: its frames are no error. */
	EXPECT_EQ(SCTLS_HDR_LEN + 4, gw_send(self->rd.fd, SCTLS_DATA, 0, id, 0, "late", 4));
	EXPECT_EQ(SCTLS_HDR_LEN, gw_send(self->rd.fd, SCTLS_CLOSE, 0, id, 0, NULL, 0));
	/* And the id is not handed out again at once. */
	fd = gw_connect_and_open(&self->rd, AF_INET, &next);
	EXPECT_LT(id, next);
	close(fd);
}

TEST_F(gw, poll_wakes_on_open)
{
	struct pollfd pfd = { .fd = self->rd.fd, .events = POLLIN };
	int fd;

	EXPECT_EQ(0, poll(&pfd, 1, 0));
	fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, poll(&pfd, 1, GW_TIMEOUT_MS));
	EXPECT_TRUE(pfd.revents & POLLIN);
	close(fd);
}

TEST_F(gw, nonblocking_read_with_nothing_is_eagain)
{
	char buf[256];

	ASSERT_EQ(0, fcntl(self->rd.fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(self->rd.fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(gw, small_read_buffer_is_einval_and_loses_nothing)
{
	struct pollfd pfd = { .fd = self->rd.fd, .events = POLLIN };
	struct sctls_open open;
	char small[40];
	int fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);

	ASSERT_LE(0, fd);
	ASSERT_EQ(1, poll(&pfd, 1, GW_TIMEOUT_MS));
	EXPECT_EQ(-1, read(self->rd.fd, small, sizeof(small)));	/* OPEN is 88 */
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NE(0, gw_expect_open(&self->rd, &open));
	EXPECT_EQ(gw_local_port(fd), open.peer_port);
	close(fd);
}

TEST_HARNESS_MAIN
