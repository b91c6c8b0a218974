// SPDX-License-Identifier: GPL-2.0
/*
 * The control plane: the generic netlink family "sctls" read and driven raw
 * through libnl, and the sctls command as an operator runs it. The test
 * plays the helper on /dev/sctls where one is needed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/harness.h"
#include "lib/control.h"
#include "lib/gateway.h"
#include "lib/module.h"
#include "lib/privs.h"

#define WINDOW		65536
#define OTHER_PORT	3516
#define CLI_OUT		65536

FIXTURE(ctl) {
	struct gw_reader rd;
	struct sctls_nl nl;
	bool loaded;
	char out[CLI_OUT], err[4096];
};

FIXTURE_SETUP(ctl)
{
	self->rd.fd = -1;
	self->nl.sk = NULL;
	self->loaded = false;
	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	if (!cli_path())
		SKIP(return, "SCTLS_CLI does not name the sctls command");
	ASSERT_EQ(0, sctls_module_load_fresh(""));
	self->loaded = true;
	ASSERT_EQ(0, sctls_nl_open(&self->nl));
}

FIXTURE_TEARDOWN(ctl)
{
	if (self->rd.fd >= 0)
		close(self->rd.fd);
	if (self->nl.sk)
		sctls_nl_close(&self->nl);
	if (self->loaded)
		EXPECT_EQ(0, sctls_module_unload());
}

/* Become the helper: listeners appear. */
static int attach(struct gw_reader *rd)
{
	rd->fd = gw_open_dev();
	return rd->fd >= 0 ? 0 : -1;
}

static uint64_t stat_of(struct sctls_nl *nl, int stat)
{
	struct gw_state st;

	return ctl_get(nl, &st) ? UINT64_MAX : st.stats[stat];
}

/* The final CLOSE the kernel sends for conn: its errno, or -1. */
static int expect_close(struct gw_reader *rd, uint32_t conn)
{
	struct sctls_frame f;

	while (gw_next_for(rd, conn, &f, GW_TIMEOUT_MS) == 1)
		if (f.hdr.type == SCTLS_CLOSE)
			return f.hdr.arg;
	return -1;
}

/* The app's next recv within the timeout: bytes, 0 at EOF, or -errno. */
static ssize_t app_recv(int fd, void *buf, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, GW_TIMEOUT_MS) != 1)
		return -ETIMEDOUT;
	n = recv(fd, buf, len, 0);
	return n < 0 ? -errno : n;
}

static json_object *get_key(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static int64_t int_of(json_object *o, const char *key)
{
	json_object *v = get_key(o, key);

	return v ? json_object_get_int64(v) : -1;
}

TEST_F(ctl, show_without_helper_and_refusals_counted)
{
	struct gw_state st;
	json_object *shown;
	char line[128];
	int i;

	ASSERT_EQ(0, ctl_get(&self->nl, &st));
	ASSERT_EQ(1, st.nr_ports);
	EXPECT_EQ(SCTLS_DEFAULT_PORT, st.ports[0]);
	EXPECT_EQ(256, st.max_conns);
	EXPECT_EQ(WINDOW, st.window);
	EXPECT_EQ(0, st.nr_uids);
	EXPECT_FALSE(st.has_helper);
	for (i = 0; i <= SCTLS_STAT_MAX; i++)
		EXPECT_EQ(0, st.stats[i]);

	/* No helper: connect() is refused, and each attempt is counted. */
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(-1, gw_connect(i % 2 ? AF_INET6 : AF_INET, SCTLS_DEFAULT_PORT));
		EXPECT_EQ(ECONNREFUSED, errno);
	}
	EXPECT_EQ(3, stat_of(&self->nl, SCTLS_STAT_REFUSED_NO_HELPER));
	/* Another port is not ours to count. */
	EXPECT_EQ(-1, gw_connect(AF_INET, 4117));
	EXPECT_EQ(3, stat_of(&self->nl, SCTLS_STAT_REFUSED_NO_HELPER));

	/* The command shows the same, as JSON and as aligned text. */
	ASSERT_EQ(0, cli_run(-1, self->out, sizeof(self->out), self->err,
			     sizeof(self->err), "-j", "show", NULL));
	shown = json_tokener_parse(self->out);
	ASSERT_NE(NULL, shown);
	EXPECT_EQ(256, int_of(shown, "max_conns"));
	EXPECT_EQ(WINDOW, int_of(shown, "window"));
	EXPECT_EQ(SCTLS_DEFAULT_PORT,
		  json_object_get_int(json_object_array_get_idx(get_key(shown, "ports"), 0)));
	EXPECT_EQ(0, json_object_array_length(get_key(shown, "allow_uids")));
	EXPECT_EQ(NULL, get_key(shown, "helper_pid"));
	EXPECT_EQ(3, int_of(get_key(shown, "stats"), "refused_no_helper"));
	json_object_put(shown);

	ASSERT_EQ(0, cli_run(-1, self->out, sizeof(self->out), self->err,
			     sizeof(self->err), "show", NULL));
	snprintf(line, sizeof(line), "\nrefused-no-helper  3\n");
	EXPECT_NE(NULL, strstr(self->out, line));
	/* Names are padded to the longest, "refused-no-helper". */
	EXPECT_NE(NULL, strstr(self->out, "\nmax-conns          256\n"));
	EXPECT_NE(NULL, strstr(self->out, "\nallow-uids         all\n"));
	EXPECT_NE(NULL, strstr(self->out, "\nhelper-pid         none\n"));
}

TEST_F(ctl, counters_match_what_happened)
{
	enum { ORDERLY, HELPER_CLOSES, HELPER_RESETS, APP_LEAVES, STAYS, N };
	struct sctls_frame f;
	struct gw_state st;
	uint32_t id[N];
	char buf[100];
	int fd[N], i;

	ASSERT_EQ(0, attach(&self->rd));
	ASSERT_EQ(0, ctl_get(&self->nl, &st));
	EXPECT_TRUE(st.has_helper);
	EXPECT_EQ(getpid(), st.helper_pid);

	for (i = 0; i < N; i++) {
		fd[i] = gw_connect_and_open(&self->rd, i % 2 ? AF_INET6 : AF_INET, &id[i]);
		ASSERT_LE(0, fd[i]);
		ASSERT_NE(0, id[i]);
	}

	/* FIN both ways: closed by the app, orderly. */
	ASSERT_EQ(0, shutdown(fd[ORDERLY], SHUT_WR));
	ASSERT_EQ(1, gw_next_for(&self->rd, id[ORDERLY], &f, GW_TIMEOUT_MS));
	ASSERT_EQ(SCTLS_FIN, f.hdr.type);
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_FIN, 0, id[ORDERLY], 0, NULL, 0));
	EXPECT_EQ(0, expect_close(&self->rd, id[ORDERLY]));

	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_CLOSE, SCTLS_CLOSE_ORDERLY,
			     id[HELPER_CLOSES], 0, NULL, 0));
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_CLOSE, 0, id[HELPER_RESETS], 0, NULL, 0));

	/* An app's reset with nothing on its way to it: it left. */
	ASSERT_EQ(0, gw_reset(fd[APP_LEAVES]));
	fd[APP_LEAVES] = -1;
	EXPECT_EQ(ECONNRESET, expect_close(&self->rd, id[APP_LEAVES]));

	/* 100 bytes from the app, 50 to it. */
	memset(buf, 'a', sizeof(buf));
	ASSERT_EQ(sizeof(buf), send(fd[STAYS], buf, sizeof(buf), 0));
	ASSERT_EQ(1, gw_next_for(&self->rd, id[STAYS], &f, GW_TIMEOUT_MS));
	ASSERT_EQ(SCTLS_DATA, f.hdr.type);
	ASSERT_EQ(sizeof(buf), f.payload_len);
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_DATA, 0, id[STAYS], 0, buf, 50));
	ASSERT_EQ(50, gw_recv_all(fd[STAYS], buf, 50, GW_TIMEOUT_MS));

	/* A frame for a closed connection is dropped; a malformed one rejected. */
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_DATA, 0, id[HELPER_RESETS], 0, buf, 1));
	EXPECT_EQ(-1, gw_send(self->rd.fd, 99, 0, id[STAYS], 0, NULL, 0));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, ctl_get(&self->nl, &st));
	EXPECT_EQ(N, st.stats[SCTLS_STAT_ACCEPTED]);
	EXPECT_EQ(1, st.stats[SCTLS_STAT_ACTIVE]);
	EXPECT_EQ(1, st.stats[SCTLS_STAT_CLOSED_APP]);
	EXPECT_EQ(1, st.stats[SCTLS_STAT_CLOSED_HELPER]);
	EXPECT_EQ(1, st.stats[SCTLS_STAT_CLOSED_RESET]);
	EXPECT_EQ(1, st.stats[SCTLS_STAT_CLOSED_APP_LEFT]);
	EXPECT_EQ(100, st.stats[SCTLS_STAT_BYTES_FROM_APP]);
	EXPECT_EQ(50, st.stats[SCTLS_STAT_BYTES_TO_APP]);
	EXPECT_EQ(1, st.stats[SCTLS_STAT_FRAMES_DROPPED]);
	EXPECT_EQ(1, st.stats[SCTLS_STAT_WRITES_REJECTED]);
	EXPECT_EQ(0, st.stats[SCTLS_STAT_REFUSED_NO_HELPER]);

	/* The helper leaves: the last one is reset; the counts still add up. */
	close(self->rd.fd);
	self->rd.fd = -1;
	ASSERT_EQ(0, ctl_get(&self->nl, &st));
	EXPECT_FALSE(st.has_helper);
	EXPECT_EQ(0, st.stats[SCTLS_STAT_ACTIVE]);
	EXPECT_EQ(2, st.stats[SCTLS_STAT_CLOSED_RESET]);
	EXPECT_EQ(st.stats[SCTLS_STAT_ACCEPTED],
		  st.stats[SCTLS_STAT_ACTIVE] + st.stats[SCTLS_STAT_CLOSED_APP] +
		  st.stats[SCTLS_STAT_CLOSED_APP_LEFT] +
		  st.stats[SCTLS_STAT_CLOSED_HELPER] + st.stats[SCTLS_STAT_CLOSED_RESET]);
	for (i = 0; i < N; i++)
		if (fd[i] >= 0)
			close(fd[i]);
}

/*
 * How an HTTPS client ends: it has what it wanted and closes; the card's
 * last bytes (its TLS close_notify) then meet a reset. That is the app
 * leaving, not a failure. An app reset while bytes were still on their
 * way to it is one.
 */
TEST_F(ctl, app_that_left_is_no_reset_but_one_cut_off_is)
{
	enum { LEFT_AFTER_FIN, CUT_OFF, N };
	static char chunk[16384];
	struct sctls_frame f;
	uint32_t id[N];
	int fd[N], i;

	ASSERT_EQ(0, attach(&self->rd));
	fd[LEFT_AFTER_FIN] = gw_connect_and_open(&self->rd, AF_INET, &id[LEFT_AFTER_FIN]);
	ASSERT_LE(0, fd[LEFT_AFTER_FIN]);
	fd[CUT_OFF] = gw_connect_small(&self->rd, &id[CUT_OFF]);
	ASSERT_LE(0, fd[CUT_OFF]);
	ASSERT_NE(0, id[CUT_OFF]);

	/* FIN, close, then the helper's last bytes: the app's socket resets them. */
	ASSERT_EQ(0, shutdown(fd[LEFT_AFTER_FIN], SHUT_WR));
	ASSERT_EQ(1, gw_next_for(&self->rd, id[LEFT_AFTER_FIN], &f, GW_TIMEOUT_MS));
	ASSERT_EQ(SCTLS_FIN, f.hdr.type);
	close(fd[LEFT_AFTER_FIN]);
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_DATA, 0, id[LEFT_AFTER_FIN], 0, chunk, 31));
	EXPECT_LT(0, expect_close(&self->rd, id[LEFT_AFTER_FIN]));
	EXPECT_EQ(1, stat_of(&self->nl, SCTLS_STAT_CLOSED_APP_LEFT));
	EXPECT_EQ(0, stat_of(&self->nl, SCTLS_STAT_CLOSED_RESET));

	/* A window of bytes to an app that reads none and offers 4 KiB, then its reset. */
	for (i = 0; i < 4; i++)
		ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_DATA, 0, id[CUT_OFF], 0, chunk,
				     sizeof(chunk)));
	ASSERT_EQ(0, gw_reset(fd[CUT_OFF]));
	EXPECT_EQ(ECONNRESET, expect_close(&self->rd, id[CUT_OFF]));
	EXPECT_EQ(1, stat_of(&self->nl, SCTLS_STAT_CLOSED_APP_LEFT));
	EXPECT_EQ(1, stat_of(&self->nl, SCTLS_STAT_CLOSED_RESET));
}

static struct nl_msg *set_msg(struct sctls_nl *nl)
{
	return sctls_nl_new(nl, SCTLS_CMD_SET, 0);
}

TEST_F(ctl, max_conns_refusal_counted)
{
	struct nl_msg *msg;
	uint32_t id, first = 0;
	char c;
	int fd[3], i;

	ASSERT_EQ(0, attach(&self->rd));
	msg = set_msg(&self->nl);
	ASSERT_EQ(0, nla_put_u32(msg, SCTLS_A_MAX_CONNS, 2));
	ASSERT_EQ(0, ctl_send(&self->nl, msg));

	for (i = 0; i < 3; i++) {
		fd[i] = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);
		ASSERT_LE(0, fd[i]);
	}
	for (i = 0; i < 2; i++) {
		id = gw_expect_open(&self->rd, &(struct sctls_open){});
		EXPECT_NE(0, id);
		first = first ?: id;
	}
	/* The third was accepted with them and reset at once. */
	EXPECT_EQ(-ECONNRESET, app_recv(fd[2], &c, 1));
	EXPECT_EQ(1, stat_of(&self->nl, SCTLS_STAT_REFUSED_MAX_CONNS));
	EXPECT_EQ(2, stat_of(&self->nl, SCTLS_STAT_ACCEPTED));

	/* Room again once one closes. */
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_CLOSE, 0, first, 0, NULL, 0));
	fd[0] = gw_connect_and_open(&self->rd, AF_INET, &id);
	EXPECT_NE(0, id);
	for (i = 0; i < 3; i++)
		close(fd[i]);
}

/*
 * A child of uid that connects, says so on ready, and reports its recv. It
 * lets go of the helper's device, so that a failed test cannot keep the
 * module loaded.
 */
static pid_t connect_as(uid_t uid, int ready, int dev)
{
	pid_t pid = fork();
	char c;
	int fd;

	if (pid)
		return pid;
	close(dev);
	if (become(uid, uid))
		_exit(10);
	fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);
	if (fd < 0 || write(ready, "c", 1) != 1)
		_exit(11);
	switch (app_recv(fd, &c, 1)) {
	case -ECONNRESET:
		_exit(1);
	case 1:
		_exit(0);
	default:
		_exit(12);
	}
}

TEST_F(ctl, allow_list_refuses_at_accept_before_any_open)
{
	struct sctls_open open;
	struct sctls_frame f;
	int ready[2], status;
	pid_t refused, allowed;
	uint32_t id;
	char c;

	ASSERT_EQ(0, attach(&self->rd));
	ASSERT_EQ(0, cli_run(-1, self->out, sizeof(self->out), self->err,
			     sizeof(self->err), "set", "allow-uids", "1000", NULL));
	ASSERT_EQ(0, pipe(ready));

	/* uid 1001 connects first; its connection never reaches the helper. */
	refused = connect_as(1001, ready[1], self->rd.fd);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	allowed = connect_as(1000, ready[1], self->rd.fd);
	ASSERT_EQ(1, read(ready[0], &c, 1));

	id = gw_expect_open(&self->rd, &open);
	ASSERT_NE(0, id);
	EXPECT_EQ(1000, open.uid);
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_DATA, 0, id, 0, "x", 1));

	ASSERT_EQ(refused, waitpid(refused, &status, 0));
	EXPECT_EQ(1, WEXITSTATUS(status));	/* ECONNRESET */
	ASSERT_EQ(allowed, waitpid(allowed, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));	/* got the helper's byte */
	ASSERT_EQ(1, gw_next_for(&self->rd, id, &f, GW_TIMEOUT_MS));
	EXPECT_EQ(SCTLS_FIN, f.hdr.type);	/* it exited */
	EXPECT_EQ(1, stat_of(&self->nl, SCTLS_STAT_REFUSED_POLICY));
	EXPECT_EQ(1, stat_of(&self->nl, SCTLS_STAT_ACCEPTED));

	/* "all" empties the list: everyone again. */
	ASSERT_EQ(0, cli_run(-1, self->out, sizeof(self->out), self->err,
			     sizeof(self->err), "set", "allow-uids", "all", NULL));
	refused = connect_as(1001, ready[1], self->rd.fd);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	id = gw_expect_open(&self->rd, &open);
	EXPECT_EQ(1001, open.uid);
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_DATA, 0, id, 0, "x", 1));
	ASSERT_EQ(refused, waitpid(refused, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* A child of uid 1000 that connects, reports its port, and waits for EOF. */
static pid_t hold_as_1000(int report, int other_end, int dev)
{
	pid_t pid = fork();
	uint16_t port;
	char c;
	int fd;

	if (pid)
		return pid;
	close(other_end);
	close(dev);
	if (become(1000, 1000))
		_exit(10);
	fd = gw_connect(AF_INET6, SCTLS_DEFAULT_PORT);
	port = fd >= 0 ? gw_local_port(fd) : 0;
	if (write(report, &port, sizeof(port)) != sizeof(port))
		_exit(11);
	_exit(read(report, &c, 1) < 0);
}

TEST_F(ctl, conns_lists_connections_with_uid_and_ports)
{
	json_object *conns, *row;
	struct sctls_open open;
	int sv[2], fd, status;
	uint32_t id[2];
	uint16_t port[2];
	size_t i, state_col;
	char *line;
	pid_t child;

	ASSERT_EQ(0, attach(&self->rd));
	fd = gw_connect_and_open(&self->rd, AF_INET, &id[0]);
	ASSERT_NE(0, id[0]);
	port[0] = gw_local_port(fd);

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	child = hold_as_1000(sv[1], sv[0], self->rd.fd);
	ASSERT_EQ(sizeof(port[1]), read(sv[0], &port[1], sizeof(port[1])));
	ASSERT_NE(0, port[1]);
	id[1] = gw_expect_open(&self->rd, &open);
	ASSERT_NE(0, id[1]);

	ASSERT_EQ(0, cli_run(-1, self->out, sizeof(self->out), self->err,
			     sizeof(self->err), "-j", "conns", NULL));
	conns = json_tokener_parse(self->out);
	ASSERT_NE(NULL, conns);
	ASSERT_EQ(2, json_object_array_length(conns));
	for (i = 0; i < 2; i++) {
		row = json_object_array_get_idx(conns, i);
		EXPECT_EQ(id[i], int_of(row, "id"));
		EXPECT_EQ(port[i], int_of(row, "peer_port"));
		EXPECT_EQ(SCTLS_DEFAULT_PORT, int_of(row, "local_port"));
		EXPECT_EQ(i ? 1000 : 0, int_of(row, "uid"));
		EXPECT_STREQ(i ? "::1" : "127.0.0.1",
			     json_object_get_string(get_key(row, "peer_addr")));
		EXPECT_STREQ("established", json_object_get_string(get_key(row, "state")));
		EXPECT_EQ(WINDOW, int_of(row, "credit_to_helper"));
	}
	json_object_put(conns);

	/* The text: a heading and a row each, the columns lined up. */
	ASSERT_EQ(0, cli_run(-1, self->out, sizeof(self->out), self->err,
			     sizeof(self->err), "conns", NULL));
	ASSERT_EQ(0, strncmp(self->out, "ID", 2));
	state_col = strstr(self->out, "STATE") - self->out;
	line = self->out;
	for (i = 0; i < 2; i++) {
		line = strchr(line, '\n') + 1;
		EXPECT_EQ(0, strncmp(line + state_col, "established", 11));
	}
	EXPECT_EQ(0, strchr(line, '\n')[1]);

	close(fd);
	close(sv[0]);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	close(sv[1]);
}

TEST_F(ctl, reset_gives_the_app_econnreset)
{
	char idtext[16], c;
	uint32_t id;
	int fd;

	ASSERT_EQ(0, attach(&self->rd));
	fd = gw_connect_and_open(&self->rd, AF_INET, &id);
	ASSERT_NE(0, id);
	snprintf(idtext, sizeof(idtext), "%u", id);

	ASSERT_EQ(0, cli_run(-1, self->out, sizeof(self->out), self->err,
			     sizeof(self->err), "reset", idtext, NULL));
	EXPECT_EQ(-ECONNRESET, app_recv(fd, &c, 1));
	EXPECT_EQ(ECONNABORTED, expect_close(&self->rd, id));
	EXPECT_EQ(1, stat_of(&self->nl, SCTLS_STAT_CLOSED_RESET));

	/* It is gone now: the command says so. */
	EXPECT_EQ(1, cli_run(-1, self->out, sizeof(self->out), self->err,
			     sizeof(self->err), "reset", idtext, NULL));
	EXPECT_NE(NULL, strstr(self->err, "no connection with id"));
	close(fd);
}

/* The next event line of the monitor within the timeout, parsed; or NULL. */
static json_object *next_event(FILE *mon, int timeout_ms)
{
	struct pollfd pfd = { .fd = fileno(mon), .events = POLLIN };
	char line[4096];

	if (poll(&pfd, 1, timeout_ms) != 1 || !fgets(line, sizeof(line), mon))
		return NULL;
	return json_tokener_parse(line);
}

static bool is_event(json_object *ev, const char *name, uint32_t id)
{
	return ev && !strcmp(json_object_get_string(get_key(ev, "event")), name) &&
	       int_of(ev, "id") == id;
}

TEST_F(ctl, monitor_sees_open_and_close_in_order)
{
	uint32_t sync_id = 0, a, b;
	int out[2], fa, fb, sync_fd, status;
	json_object *ev = NULL;
	struct sctls_frame f;
	FILE *mon;
	pid_t pid;

	ASSERT_EQ(0, attach(&self->rd));
	ASSERT_EQ(0, pipe2(out, O_CLOEXEC));
	pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		execl(cli_path(), cli_path(), "-j", "monitor", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	mon = fdopen(out[0], "r");
	setvbuf(mon, NULL, _IONBF, 0);

	/*
	 * Until the monitor has joined: connections until one is seen. An
	 * ASan build can take many seconds to start in a slow guest.
	 */
	for (time_t end = time(NULL) + 120; !ev && time(NULL) < end;) {
		sync_fd = gw_connect_and_open(&self->rd, AF_INET, &sync_id);
		ASSERT_NE(0, sync_id);
		ev = next_event(mon, 500);
		close(sync_fd);
		ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_CLOSE, 0, sync_id, 0, NULL, 0));
	}
	/* Whatever it saw first: the monitor is listening. */
	ASSERT_NE(NULL, ev);
	json_object_put(ev);
	ev = NULL;

	fa = gw_connect_and_open(&self->rd, AF_INET, &a);
	fb = gw_connect_and_open(&self->rd, AF_INET6, &b);
	ASSERT_NE(0, a);
	ASSERT_NE(0, b);
	/* a ends orderly, FIN both ways; the helper resets b. */
	ASSERT_EQ(0, shutdown(fa, SHUT_WR));
	ASSERT_EQ(1, gw_next_for(&self->rd, a, &f, GW_TIMEOUT_MS));
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_FIN, 0, a, 0, NULL, 0));
	EXPECT_EQ(0, expect_close(&self->rd, a));
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_CLOSE, 0, b, 0, NULL, 0));

	/* Skip what the sync connections still had to say. */
	do {
		json_object_put(ev);
		ev = next_event(mon, GW_TIMEOUT_MS);
	} while (ev && !is_event(ev, "open", a));
	ASSERT_TRUE(is_event(ev, "open", a));
	EXPECT_EQ(0, int_of(ev, "uid"));
	EXPECT_EQ(getpid(), int_of(ev, "pid"));
	json_object_put(ev);

	ev = next_event(mon, GW_TIMEOUT_MS);
	EXPECT_TRUE(is_event(ev, "open", b));
	EXPECT_STREQ("::1", json_object_get_string(get_key(ev, "peer_addr")));
	json_object_put(ev);

	ev = next_event(mon, GW_TIMEOUT_MS);
	EXPECT_TRUE(is_event(ev, "close", a));
	EXPECT_STREQ("app", json_object_get_string(get_key(ev, "reason")));
	json_object_put(ev);

	ev = next_event(mon, GW_TIMEOUT_MS);
	EXPECT_TRUE(is_event(ev, "close", b));
	EXPECT_STREQ("helper-reset", json_object_get_string(get_key(ev, "reason")));
	EXPECT_STREQ("ECONNRESET", json_object_get_string(get_key(ev, "error")));
	json_object_put(ev);

	close(self->rd.fd);
	self->rd.fd = -1;
	ev = next_event(mon, GW_TIMEOUT_MS);
	EXPECT_STREQ("helper-detach", json_object_get_string(get_key(ev, "event")));
	EXPECT_EQ(getpid(), int_of(ev, "helper_pid"));
	json_object_put(ev);

	/* Interrupted, it ends cleanly. */
	kill(pid, SIGINT);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	fclose(mon);
	close(fa);
	close(fb);
}


/* Without CAP_NET_ADMIN: set and conns get EPERM, show works. 0 if so. */
static int unprivileged_requests(void)
{
	struct sctls_nl nl;
	struct gw_state st;
	struct nl_msg *msg;

	if (set_net_admin(false) || sctls_nl_open(&nl))
		return 10;
	msg = sctls_nl_new(&nl, SCTLS_CMD_SET, 0);
	if (!msg || nla_put_u32(msg, SCTLS_A_WINDOW, 8192))
		return 11;
	if (ctl_send(&nl, msg) != -EPERM)
		return 1;
	msg = sctls_nl_new(&nl, SCTLS_CMD_CONNS, NLM_F_DUMP);
	if (!msg || sctls_nl_call(&nl, msg, NULL, NULL) != -EPERM)
		return 2;
	msg = sctls_nl_new(&nl, SCTLS_CMD_RESET, 0);
	if (!msg || nla_put_u32(msg, SCTLS_A_CONN_ID, 1) || ctl_send(&nl, msg) != -EPERM)
		return 3;
	return ctl_get(&nl, &st) ? 4 : 0;
}

TEST_F(ctl, unprivileged_set_gets_eperm)
{
	struct gw_state before, after;
	int status;
	pid_t pid;

	ASSERT_EQ(0, ctl_get(&self->nl, &before));
	pid = fork();
	if (pid == 0)
		_exit(unprivileged_requests());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* The command names the cause and the fix. */
	EXPECT_EQ(1, cli_run(1000, self->out, sizeof(self->out), self->err,
			     sizeof(self->err), "set", "max-conns", "5", NULL));
	EXPECT_NE(NULL, strstr(self->err, "permission denied"));
	EXPECT_NE(NULL, strstr(self->err, "CAP_NET_ADMIN"));
	EXPECT_EQ(0, cli_run(1000, self->out, sizeof(self->out), self->err,
			     sizeof(self->err), "show", NULL));

	ASSERT_EQ(0, ctl_get(&self->nl, &after));
	EXPECT_EQ(before.window, after.window);
	EXPECT_EQ(before.max_conns, after.max_conns);
}

enum bad_kind {
	WINDOW_SMALL, WINDOW_LARGE, MAX_CONNS_ZERO, MAX_CONNS_LARGE, WINDOW_AS_U16,
	MAX_CONNS_AS_U64, PORT_ZERO, PORT_TWICE, NINE_PORTS, NO_PORTS, UID_IN_PORTS,
	TOO_MANY_UIDS, READ_ONLY_ATTR, UNKNOWN_ATTR, NOTHING, NR_BAD
};

static const char *const bad_names[NR_BAD] = {
	"window 100", "window 1 GiB", "max_conns 0", "max_conns 65537",
	"window as u16", "max_conns as u64", "port 0", "port twice", "nine ports",
	"empty port list", "uid in the port list", "65 uids", "helper pid in set",
	"attribute type 200", "no attribute",
};

static void put_bad(struct nl_msg *msg, enum bad_kind kind)
{
	struct nlattr *nest;
	uint64_t big = 4096;
	int i;

	switch (kind) {
	case WINDOW_SMALL: nla_put_u32(msg, SCTLS_A_WINDOW, 100); break;
	case WINDOW_LARGE: nla_put_u32(msg, SCTLS_A_WINDOW, 1U << 30); break;
	case MAX_CONNS_ZERO: nla_put_u32(msg, SCTLS_A_MAX_CONNS, 0); break;
	case MAX_CONNS_LARGE: nla_put_u32(msg, SCTLS_A_MAX_CONNS, 65537); break;
	case WINDOW_AS_U16: nla_put_u16(msg, SCTLS_A_WINDOW, 8192); break;
	case MAX_CONNS_AS_U64: nla_put(msg, SCTLS_A_MAX_CONNS, sizeof(big), &big); break;
	case READ_ONLY_ATTR: nla_put_u32(msg, SCTLS_A_HELPER_PID, 1); break;
	case UNKNOWN_ATTR: nla_put_u32(msg, 200, 1); break;
	case NOTHING: break;
	case TOO_MANY_UIDS:
		nest = nla_nest_start(msg, SCTLS_A_ALLOW_UIDS);
		for (i = 0; i < SCTLS_MAX_ALLOW_UIDS + 1; i++)
			nla_put_u32(msg, SCTLS_A_UID, 1000 + i);
		nla_nest_end(msg, nest);
		break;
	default:
		nest = nla_nest_start(msg, SCTLS_A_PORTS);
		if (kind == PORT_ZERO)
			nla_put_u16(msg, SCTLS_A_PORT, 0);
		if (kind == PORT_TWICE) {
			nla_put_u16(msg, SCTLS_A_PORT, 5000);
			nla_put_u16(msg, SCTLS_A_PORT, 5000);
		}
		for (i = 0; kind == NINE_PORTS && i < SCTLS_MAX_PORTS + 1; i++)
			nla_put_u16(msg, SCTLS_A_PORT, 5000 + i);
		if (kind == UID_IN_PORTS)
			nla_put_u32(msg, SCTLS_A_UID, 1000);
		nla_nest_end_keep_empty(msg, nest);
	}
}

TEST_F(ctl, bad_attributes_get_einval_with_a_message_and_change_nothing)
{
	struct gw_state before, after;
	struct nl_msg *msg;
	int kind;

	ASSERT_EQ(0, attach(&self->rd));
	ASSERT_EQ(0, ctl_get(&self->nl, &before));
	for (kind = 0; kind < NR_BAD; kind++) {
		msg = set_msg(&self->nl);
		ASSERT_NE(NULL, msg);
		put_bad(msg, kind);
		EXPECT_EQ(-EINVAL, ctl_send(&self->nl, msg)) {
			TH_LOG("%s", bad_names[kind]);
		}
		EXPECT_NE(0, self->nl.extack[0]) {
			TH_LOG("%s: no extack message", bad_names[kind]);
		}
		if (kind == NO_PORTS)
			EXPECT_STREQ("at least one port is needed", self->nl.extack);
	}
	ASSERT_EQ(0, ctl_get(&self->nl, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)));

	/* The same socket takes a good request. */
	msg = set_msg(&self->nl);
	ASSERT_EQ(0, nla_put_u32(msg, SCTLS_A_WINDOW, 8192));
	EXPECT_EQ(0, ctl_send(&self->nl, msg));
	ASSERT_EQ(0, ctl_get(&self->nl, &after));
	EXPECT_EQ(8192, after.window);
}

TEST_F(ctl, port_change_keeps_open_connections)
{
	struct sctls_open open;
	struct sctls_frame f;
	struct sockaddr_in busy = {
		.sin_family = AF_INET, .sin_port = htons(5555),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct gw_state st;
	uint32_t old_id, new_id;
	int old_fd, new_fd, busy_fd;
	char buf[4];

	ASSERT_EQ(0, attach(&self->rd));
	old_fd = gw_connect_and_open(&self->rd, AF_INET, &old_id);
	ASSERT_NE(0, old_id);

	ASSERT_EQ(0, cli_run(-1, self->out, sizeof(self->out), self->err,
			     sizeof(self->err), "set", "ports", "3516", NULL));
	EXPECT_EQ(-1, gw_connect(AF_INET, SCTLS_DEFAULT_PORT));
	EXPECT_EQ(ECONNREFUSED, errno);
	EXPECT_EQ(-1, gw_connect(AF_INET6, SCTLS_DEFAULT_PORT));
	EXPECT_EQ(ECONNREFUSED, errno);
	new_fd = gw_connect(AF_INET6, OTHER_PORT);
	ASSERT_LE(0, new_fd);
	new_id = gw_expect_open(&self->rd, &open);
	ASSERT_NE(0, new_id);
	EXPECT_EQ(OTHER_PORT, open.local_port);

	/* The connection to the removed port carries on, both ways. */
	ASSERT_EQ(4, send(old_fd, "ping", 4, 0));
	ASSERT_EQ(1, gw_next_for(&self->rd, old_id, &f, GW_TIMEOUT_MS));
	EXPECT_EQ(SCTLS_DATA, f.hdr.type);
	EXPECT_EQ(0, memcmp(f.payload, "ping", 4));
	ASSERT_LT(0, gw_send(self->rd.fd, SCTLS_DATA, 0, old_id, 0, "pong", 4));
	ASSERT_EQ(4, gw_recv_all(old_fd, buf, 4, GW_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp(buf, "pong", 4));

	/* A port someone else holds: refused whole, with the reason. */
	busy_fd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(0, bind(busy_fd, (struct sockaddr *)&busy, sizeof(busy)));
	ASSERT_EQ(0, listen(busy_fd, 1));
	EXPECT_EQ(1, cli_run(-1, self->out, sizeof(self->out), self->err,
			     sizeof(self->err), "set", "ports", "4116,5555", NULL));
	EXPECT_NE(NULL, strstr(self->err, "in use"));
	ASSERT_EQ(0, ctl_get(&self->nl, &st));
	ASSERT_EQ(1, st.nr_ports);
	EXPECT_EQ(OTHER_PORT, st.ports[0]);
	EXPECT_EQ(-1, gw_connect(AF_INET, SCTLS_DEFAULT_PORT));
	close(busy_fd);

	close(old_fd);
	close(new_fd);
}

TEST_F(ctl, window_change_applies_to_new_connections)
{
	struct sctls_info info;
	struct sctls_frame f;
	json_object *conns;
	struct nl_msg *msg;
	uint32_t old_id;
	int old_fd, new_fd;

	ASSERT_EQ(0, attach(&self->rd));
	old_fd = gw_connect_and_open(&self->rd, AF_INET, &old_id);
	ASSERT_NE(0, old_id);

	msg = set_msg(&self->nl);
	ASSERT_EQ(0, nla_put_u32(msg, SCTLS_A_WINDOW, 8192));
	ASSERT_EQ(0, ctl_send(&self->nl, msg));
	ASSERT_EQ(0, ioctl(self->rd.fd, SCTLS_IOC_INFO, &info));
	EXPECT_EQ(8192, info.window);

	new_fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);
	ASSERT_LE(0, new_fd);
	ASSERT_EQ(1, gw_next(&self->rd, &f, GW_TIMEOUT_MS));
	ASSERT_EQ(SCTLS_OPEN, f.hdr.type);
	EXPECT_EQ(8192, f.hdr.arg);

	ASSERT_EQ(0, cli_run(-1, self->out, sizeof(self->out), self->err,
			     sizeof(self->err), "-j", "conns", NULL));
	conns = json_tokener_parse(self->out);
	ASSERT_EQ(2, json_object_array_length(conns));
	EXPECT_EQ(WINDOW, int_of(json_object_array_get_idx(conns, 0), "credit_from_helper"));
	EXPECT_EQ(8192, int_of(json_object_array_get_idx(conns, 1), "credit_from_helper"));
	json_object_put(conns);

	/* The new window is enforced: one byte past it is refused. */
	{
		static char big[8193];

		EXPECT_EQ(-1, gw_send(self->rd.fd, SCTLS_DATA, 0, f.hdr.conn, 0, big,
				      sizeof(big)));
		EXPECT_EQ(ENOBUFS, errno);
	}
	close(old_fd);
	close(new_fd);
}

/* In a new network namespace: its own defaults and counters. 0 if so. */
static int own_namespace(void)
{
	struct sctls_nl nl;
	struct gw_state st;
	struct nl_msg *msg;
	int i;

	if (unshare(CLONE_NEWNET) || sctls_nl_open(&nl))
		return 10;
	if (ctl_get(&nl, &st))
		return 11;
	if (st.max_conns != 256 || st.has_helper)
		return 1;
	for (i = 0; i <= SCTLS_STAT_MAX; i++)
		if (st.stats[i])
			return 2;
	msg = sctls_nl_new(&nl, SCTLS_CMD_SET, 0);
	if (!msg || nla_put_u32(msg, SCTLS_A_MAX_CONNS, 33) || ctl_send(&nl, msg))
		return 3;
	return ctl_get(&nl, &st) || st.max_conns != 33 ? 4 : 0;
}

TEST_F(ctl, each_namespace_sees_only_its_own_state)
{
	struct gw_state st;
	struct nl_msg *msg;
	int status;
	pid_t pid;

	msg = set_msg(&self->nl);
	ASSERT_EQ(0, nla_put_u32(msg, SCTLS_A_MAX_CONNS, 77));
	ASSERT_EQ(0, ctl_send(&self->nl, msg));
	EXPECT_EQ(-1, gw_connect(AF_INET, SCTLS_DEFAULT_PORT));

	pid = fork();
	if (pid == 0)
		_exit(own_namespace());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));

	ASSERT_EQ(0, ctl_get(&self->nl, &st));
	EXPECT_EQ(77, st.max_conns);
	EXPECT_EQ(1, st.stats[SCTLS_STAT_REFUSED_NO_HELPER]);
}

TEST(module_not_loaded_is_named)
{
	char out[1024], err[1024];

	if (!cli_path())
		SKIP(return, "SCTLS_CLI does not name the sctls command");
	if (sctls_module_loaded())
		ASSERT_EQ(0, sctls_module_unload());
	EXPECT_EQ(1, cli_run(-1, out, sizeof(out), err, sizeof(err), "show", NULL));
	EXPECT_NE(NULL, strstr(err, "module is not loaded"));
	EXPECT_EQ(2, cli_run(-1, out, sizeof(out), err, sizeof(err), "frobnicate", NULL));
	EXPECT_NE(NULL, strstr(err, "unknown command"));
}

TEST_HARNESS_MAIN
