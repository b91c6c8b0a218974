// SPDX-License-Identifier: GPL-2.0
/*
 * What a local attacker, a careless helper or a namespace root can do to the
 * gateway, and what the kernel must do about it: no app takes the card's
 * port, nobody from the network reaches it, no app is mistaken for another,
 * no reset is lost, no connection is stuck, memory stays bounded, and the
 * kernel survives admin commands, faulting buffers and dying namespaces.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/harness.h"
#include "lib/control.h"
#include "lib/gateway.h"
#include "lib/module.h"
#include "lib/privs.h"

#define WINDOW 65536

/*
 * More than TCP's buffers on both ends hold (tcp_wmem's maximum is 4 MiB),
 * so that the gateway keeps the rest: the window must allow it.
 */
#define STAGE_WINDOW "window=8388608"
#define STAGE_BYTES (6u << 20)


static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t stat_of(struct sctls_nl *nl, int stat)
{
	struct gw_state st;

	return ctl_get(nl, &st) ? UINT64_MAX : st.stats[stat];
}

/* Wait within timeout_ms until a counter reaches want: its last value. */
static uint64_t stat_reaches(struct sctls_nl *nl, int stat, uint64_t want,
			     int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	uint64_t v;

	while ((v = stat_of(nl, stat)) != want && now_ms() < end)
		usleep(50000);
	return v;
}

/*
 * As stat_reaches, while the helper reads (connections are accepted, and
 * refused, in its read()); the frames read are dropped.
 */
static uint64_t stat_reaches_reading(struct sctls_nl *nl, struct gw_reader *rd,
				     int stat, uint64_t want, int timeout_ms)
{
	long end = now_ms() + timeout_ms;
	struct sctls_frame f;
	uint64_t v;

	while ((v = stat_of(nl, stat)) < want && now_ms() < end)
		gw_next(rd, &f, 50);
	return v;
}

/* The next OPEN, skipping frames of connections already open: its id, or 0. */
static uint32_t next_open(struct gw_reader *rd, struct sctls_open *open)
{
	struct sctls_frame f;

	while (gw_next(rd, &f, GW_TIMEOUT_MS) == 1) {
		if (f.hdr.type == SCTLS_OPEN) {
			memcpy(open, f.payload, sizeof(*open));
			return f.hdr.conn;
		}
	}
	return 0;
}

/* A socket on the served port's loopback address: 0, or the errno of bind. */
static int squat(int family, bool reuseaddr, bool reuseport, bool wildcard)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_port = htons(SCTLS_DEFAULT_PORT),
		.sin_addr.s_addr = htonl(wildcard ? INADDR_ANY : INADDR_LOOPBACK),
	};
	struct sockaddr_in6 sin6 = {
		.sin6_family = AF_INET6, .sin6_port = htons(SCTLS_DEFAULT_PORT),
		.sin6_addr = wildcard ? in6addr_any : in6addr_loopback,
	};
	int one = 1, zero = 0, fd, err = 0;

	fd = socket(family, SOCK_STREAM, 0);
	if (fd < 0)
		return errno;
	if (reuseaddr)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (family == AF_INET6)	/* dual stack: takes 0.0.0.0 as well */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (family == AF_INET ? bind(fd, (struct sockaddr *)&sin, sizeof(sin)) :
	    bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)))
		err = errno;
	else if (listen(fd, 8))
		err = errno;
	close(fd);
	return err;
}

/* Every way an app may try to bind the served port: how many did not fail. */
static int squats_as(struct __test_metadata *_metadata, int uid)
{
	static const int families[] = { AF_INET, AF_INET6 };
	unsigned int i, opts;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int bad = 0;

		if (uid >= 0 && become(uid, uid))
			_exit(100);
		for (i = 0; i < 2; i++) {
			for (opts = 0; opts < 8; opts++) {
				int err = squat(families[i], opts & 1, opts & 2, opts & 4);

				if (err != EADDRINUSE) {
					TH_LOG("uid %d family %d reuseaddr %d reuseport %d wildcard %d: bind gave %s",
					       uid, families[i], opts & 1, !!(opts & 2),
					       !!(opts & 4), err ? strerror(err) : "success");
					bad++;
				}
			}
		}
		_exit(bad);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 100;
	return WEXITSTATUS(status);
}

/* Neither an app of uid 1000 nor one of root can take the port. */
static int squat_all_refused(struct __test_metadata *_metadata)
{
	return squats_as(_metadata, 1000) + squats_as(_metadata, -1);
}

TEST(no_app_can_take_the_port_before_or_between_helpers)
{
	struct gw_reader *rd = calloc(1, sizeof(*rd));
	struct sctls_open open;
	int fd;

	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	ASSERT_EQ(0, sctls_module_load_fresh(""));

	/* No helper yet: refused, and no app can take the port. */
	EXPECT_EQ(0, squat_all_refused(_metadata));
	EXPECT_EQ(-1, gw_connect(AF_INET, SCTLS_DEFAULT_PORT));
	EXPECT_EQ(ECONNREFUSED, errno);
	EXPECT_EQ(-1, gw_connect(AF_INET6, SCTLS_DEFAULT_PORT));
	EXPECT_EQ(ECONNREFUSED, errno);

	/* A helper comes and goes: the port is never free meanwhile. */
	rd->fd = gw_open_dev();
	ASSERT_LE(0, rd->fd);
	EXPECT_EQ(0, squat_all_refused(_metadata));
	close(rd->fd);
	EXPECT_EQ(0, squat_all_refused(_metadata));
	EXPECT_EQ(-1, gw_connect(AF_INET, SCTLS_DEFAULT_PORT));
	EXPECT_EQ(ECONNREFUSED, errno);

	/* The next helper is served at once. */
	rd->fd = gw_open_dev();
	ASSERT_LE(0, rd->fd);
	fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);
	ASSERT_LE(0, fd);
	EXPECT_NE(0, gw_expect_open(rd, &open));
	close(fd);
	close(rd->fd);
	free(rd);
	EXPECT_EQ(0, sctls_module_unload());
}

TEST(port_taken_before_load_is_named_everywhere)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_port = htons(4200),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	char out[4096], err[4096];
	struct gw_reader *rd = calloc(1, sizeof(*rd));
	struct sctls_open open;
	int kmsg, squatter, dev, fd;

	if (!sctls_ko_path() || !cli_path())
		SKIP(return, "SCTLS_KO or SCTLS_CLI not set");
	if (sctls_module_loaded())
		sctls_module_unload();
	/* A server that was there first, as servers do: SO_REUSEADDR. */
	squatter = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(squatter, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	ASSERT_EQ(0, bind(squatter, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(squatter, 8));

	kmsg = kmsg_open_at_end();
	/* 4200: earlier tests leave 4116 in TIME_WAIT, which nobody may bind. */
	ASSERT_EQ(0, sctls_module_load("ports=4200"));
	EXPECT_TRUE(kmsg_contains(kmsg, "cannot hold port 127.0.0.1:4200"));
	close(kmsg);
	ASSERT_EQ(0, cli_run(-1, out, sizeof(out), err, sizeof(err), "show", NULL));
	TH_LOG("sctls show:\n%s", out);
	EXPECT_NE(NULL, strstr(out, "ports-taken"));
	EXPECT_NE(NULL, strstr(strstr(out, "ports-taken") ?: "", "4200"));

	/* Nobody reaches the program that has it: it cannot pose as the card. */
	EXPECT_EQ(-1, gw_connect(AF_INET, 4200));
	EXPECT_EQ(ECONNREFUSED, errno);
	/* And counted as the README says: no helper could serve it. */
	ASSERT_EQ(0, cli_run(-1, out, sizeof(out), err, sizeof(err), "show", NULL));
	EXPECT_NE(NULL, strstr(out, "\nrefused-no-helper  1\n"));

	/* The helper is told, not left serving nothing. */
	dev = gw_open_dev();
	EXPECT_EQ(-1, dev);
	EXPECT_EQ(EADDRINUSE, errno);

	/* Once the squatter goes, the next helper holds the port and serves. */
	close(squatter);
	rd->fd = gw_open_dev();
	ASSERT_LE(0, rd->fd);
	ASSERT_EQ(0, cli_run(-1, out, sizeof(out), err, sizeof(err), "show", NULL));
	EXPECT_EQ(NULL, strstr(strstr(out, "ports-taken") ?: "", "4200"));
	fd = gw_connect(AF_INET, 4200);
	ASSERT_LE(0, fd);
	EXPECT_NE(0, gw_expect_open(rd, &open));
	close(fd);
	close(rd->fd);
	free(rd);
	EXPECT_EQ(0, sctls_module_unload());
}

/* sctls set ports with as many new ports as the table holds. */
TEST(port_change_to_eight_new_ports_is_all_or_nothing)
{
	char out[4096], err[4096];
	struct gw_reader *rd = calloc(1, sizeof(*rd));
	struct sctls_open open;
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_port = htons(6001),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd, squatter;

	if (!sctls_ko_path() || !cli_path())
		SKIP(return, "SCTLS_KO or SCTLS_CLI not set");
	ASSERT_EQ(0, sctls_module_load_fresh(""));
	rd->fd = gw_open_dev();
	ASSERT_LE(0, rd->fd);

	/* 4116 open and 8 new: the old code wrote past its table here. */
	EXPECT_EQ(0, cli_run(-1, out, sizeof(out), err, sizeof(err), "set", "ports",
			     "5000,5001,5002,5003,5004,5005,5006,5007", NULL));
	EXPECT_EQ(-1, gw_connect(AF_INET, SCTLS_DEFAULT_PORT));
	EXPECT_EQ(ECONNREFUSED, errno);
	fd = gw_connect(AF_INET6, 5007);
	ASSERT_LE(0, fd);
	EXPECT_NE(0, gw_expect_open(rd, &open));
	EXPECT_EQ(5007, open.local_port);
	close(fd);

	/* A new port that is taken: refused, and the old set still served. */
	squatter = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(0, bind(squatter, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_NE(0, cli_run(-1, out, sizeof(out), err, sizeof(err), "set", "ports",
			     "6000,6001,6002,6003,6004,6005,6006,6007", NULL));
	TH_LOG("refused: %s", err);
	EXPECT_NE(NULL, strstr(err, "in use"));
	close(squatter);
	EXPECT_EQ(-1, gw_connect(AF_INET, 6000));
	fd = gw_connect(AF_INET, 5000);
	ASSERT_LE(0, fd);
	EXPECT_NE(0, next_open(rd, &open));
	EXPECT_EQ(5000, open.local_port);
	close(fd);
	close(rd->fd);
	free(rd);
	EXPECT_EQ(0, sctls_module_unload());
}

/* A test's gateway: the module loaded with its parameters, a helper, netlink. */
struct gw_world {
	struct gw_reader rd;
	struct sctls_nl nl;
};

static void world_start(struct __test_metadata *_metadata, struct gw_world *w,
			const char *params)
{
	w->rd.fd = -1;
	w->nl.sk = NULL;
	ASSERT_EQ(0, sctls_module_load_fresh(params));
	ASSERT_EQ(0, sctls_nl_open(&w->nl));
	w->rd.fd = gw_open_dev();
	ASSERT_LE(0, w->rd.fd);
	/* As sctlsd: a wake-up can come to nothing (a refused connection). */
	ASSERT_EQ(0, fcntl(w->rd.fd, F_SETFL, O_NONBLOCK));
}

static void world_stop(struct __test_metadata *_metadata, struct gw_world *w)
{
	if (w->rd.fd >= 0)
		close(w->rd.fd);
	if (w->nl.sk)
		sctls_nl_close(&w->nl);
	EXPECT_EQ(0, sctls_module_unload());
}

/* One fixture per module configuration, each a gw_world. */
#define WORLD_FIXTURE(name, params)					\
	FIXTURE(name) {							\
		struct gw_world w;					\
	};								\
	FIXTURE_SETUP(name)						\
	{								\
		self->w.rd.fd = -1;					\
		self->w.nl.sk = NULL;					\
		if (!sctls_ko_path())					\
			SKIP(return, "SCTLS_KO does not name sctls.ko"); \
		world_start(_metadata, &self->w, params);		\
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		world_stop(_metadata, &self->w);			\
	}

WORLD_FIXTURE(gw, "")
WORLD_FIXTURE(stage, STAGE_WINDOW)
WORLD_FIXTURE(one, "max_conns=1")
WORLD_FIXTURE(four, "max_conns=4 " STAGE_WINDOW)
WORLD_FIXTURE(closing, "closing_timeout=2 " STAGE_WINDOW)
WORLD_FIXTURE(bigwin, "window=16777216")


/* An app whose socket holds little and that does not read: bytes get staged. */
static uint8_t big[WINDOW];

static int fill(struct gw_reader *rd, uint32_t id, size_t total)
{
	static uint8_t chunk[SCTLS_MAX_PAYLOAD];
	size_t sent;

	for (sent = 0; sent < total; sent += sizeof(chunk))
		if (gw_send(rd->fd, SCTLS_DATA, 0, id, 0, chunk, sizeof(chunk)) < 0)
			return -1;
	return 0;
}

/* A number from a cgroup file: the value of key, or the file's first number. */
static long cg_read(const char *dir, const char *file, const char *key)
{
	char path[256], line[256], name[64];
	long v = -1, n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!key && sscanf(line, "%ld", &n) == 1) {
			v = n;
			break;
		}
		if (key && sscanf(line, "%63s %ld", name, &n) == 2 && !strcmp(name, key)) {
			v = n;
			break;
		}
	}
	fclose(f);
	return v;
}

static int cg_write(const char *dir, const char *file, const char *text)
{
	char path[256];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -1;
}

#define CG_ROOT "/tmp/sctls-cgroup"
#define CG_HELPER CG_ROOT "/helper"

/*
 * What the gateway keeps for an app that does not read is charged to the
 * helper's memory cgroup, beside the sockets' own memory ("sock").
 */
TEST_F(stage, kept_bytes_are_charged_to_the_helpers_memory_cgroup)
{
	long mem, sock, kept;
	char pid[32];
	uint32_t id;
	int fd;

	mkdir(CG_ROOT, 0755);
	if (mount("none", CG_ROOT, "cgroup2", 0, NULL) && errno != EBUSY)
		SKIP(return, "no cgroup2 here: %s", strerror(errno));
	if (cg_write(CG_ROOT, "cgroup.subtree_control", "+memory") ||
	    (mkdir(CG_HELPER, 0755) && errno != EEXIST))
		SKIP(return, "no memory controller");
	snprintf(pid, sizeof(pid), "%d", getpid());
	ASSERT_EQ(0, cg_write(CG_HELPER, "cgroup.procs", pid));

	fd = gw_connect_small(&self->w.rd, &id);
	ASSERT_NE(0, id);
	mem = cg_read(CG_HELPER, "memory.current", NULL);
	sock = cg_read(CG_HELPER, "memory.stat", "sock");
	ASSERT_EQ(0, fill(&self->w.rd, id, STAGE_BYTES));
	kept = (cg_read(CG_HELPER, "memory.current", NULL) - mem) -
	       (cg_read(CG_HELPER, "memory.stat", "sock") - sock);
	TH_LOG("the helper's cgroup grew by %ld KiB besides socket memory", kept >> 10);
	/* At least what TCP's buffers (4 MiB at most) could not take. */
	EXPECT_LE((long)(STAGE_BYTES - (4u << 20)) / 2, kept);

	ASSERT_EQ(0, cg_write(CG_ROOT, "cgroup.procs", pid));
	close(fd);
}

/* The final frame for id, skipping DATA: its type, and *arg. */
static int final_frame(struct gw_reader *rd, uint32_t id, uint32_t *arg)
{
	struct sctls_frame f;

	do {
		if (gw_next_for(rd, id, &f, GW_TIMEOUT_MS) != 1)
			return -1;
	} while (f.hdr.type == SCTLS_DATA);
	*arg = f.hdr.arg;
	return f.hdr.type;
}

TEST_F(stage, app_reset_with_staged_bytes_is_close_econnreset)
{
	uint32_t id, arg = 0;
	int fd = gw_connect_small(&self->w.rd, &id);

	ASSERT_NE(0, id);
	ASSERT_EQ(0, fill(&self->w.rd, id, STAGE_BYTES));
	ASSERT_EQ(0, gw_reset(fd));
	EXPECT_EQ(SCTLS_CLOSE, final_frame(&self->w.rd, id, &arg));
	EXPECT_EQ(ECONNRESET, arg);
	EXPECT_EQ(0, stat_reaches(&self->w.nl, SCTLS_STAT_ACTIVE, 0, GW_TIMEOUT_MS));
}

TEST_F(stage, admin_reset_with_staged_bytes_is_close_econnaborted)
{
	struct nl_msg *msg;
	uint32_t id, arg = 0;
	int fd = gw_connect_small(&self->w.rd, &id);
	char c;

	ASSERT_NE(0, id);
	ASSERT_EQ(0, fill(&self->w.rd, id, STAGE_BYTES));
	msg = sctls_nl_new(&self->w.nl, SCTLS_CMD_RESET, 0);
	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, nla_put_u32(msg, SCTLS_A_CONN_ID, id));
	ASSERT_EQ(0, ctl_send(&self->w.nl, msg));
	EXPECT_EQ(SCTLS_CLOSE, final_frame(&self->w.rd, id, &arg));
	EXPECT_EQ(ECONNABORTED, arg);
	EXPECT_EQ(0, stat_reaches(&self->w.nl, SCTLS_STAT_ACTIVE, 0, GW_TIMEOUT_MS));
	/* The app sees the reset once it has read what got through. */
	while (recv(fd, &c, 1, 0) > 0)
		;
	close(fd);
}

TEST_F(gw, data_after_an_unread_reset_still_gets_close_econnreset)
{
	uint32_t id, arg = 0;
	int fd = gw_connect_and_open(&self->w.rd, AF_INET, &id);

	ASSERT_NE(0, id);
	ASSERT_EQ(0, gw_reset(fd));
	/* The helper has not read about it yet: its DATA is no error... */
	EXPECT_EQ(SCTLS_HDR_LEN + 4, gw_send(self->w.rd.fd, SCTLS_DATA, 0, id, 0, "late", 4));
	/* ...and the reset is still reported as one. */
	EXPECT_EQ(SCTLS_CLOSE, final_frame(&self->w.rd, id, &arg));
	EXPECT_EQ(ECONNRESET, arg);
	EXPECT_EQ(0, stat_reaches(&self->w.nl, SCTLS_STAT_ACTIVE, 0, GW_TIMEOUT_MS));
	EXPECT_EQ(0, stat_of(&self->w.nl, SCTLS_STAT_CLOSED_APP));
}

/* A read buffer whose tail is an unmapped page: a pointer to its last len bytes. */
static uint8_t *edge_of_mapping(size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (map == MAP_FAILED || munmap(map + page, page))
		return NULL;
	return map + page - len;
}

TEST_F(gw, read_fault_after_open_keeps_open_and_fin)
{
	uint8_t *buf = edge_of_mapping(88);
	struct sctls_hdr hdr;
	struct sctls_frame f;
	struct pollfd pfd = { .fd = self->w.rd.fd, .events = POLLIN };
	int fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);

	ASSERT_NE(NULL, buf);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_EQ(1, poll(&pfd, 1, GW_TIMEOUT_MS));
	/* OPEN fits, the FIN after it faults: the OPEN is returned. */
	EXPECT_EQ(88, read(self->w.rd.fd, buf, 4096));
	memcpy(&hdr, buf, sizeof(hdr));
	EXPECT_EQ(SCTLS_OPEN, hdr.type);
	ASSERT_EQ(1, gw_next(&self->w.rd, &f, GW_TIMEOUT_MS));
	EXPECT_EQ(SCTLS_FIN, f.hdr.type);
	EXPECT_EQ(hdr.conn, f.hdr.conn);
	close(fd);
}

TEST_F(gw, read_fault_before_data_loses_no_app_bytes)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *hole = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static uint8_t open_buf[88], data_buf[4096];
	struct iovec iov[3] = {
		{ open_buf, sizeof(open_buf) }, { hole, SCTLS_HDR_LEN },
		{ data_buf, sizeof(data_buf) },
	};
	struct pollfd pfd = { .fd = self->w.rd.fd, .events = POLLIN };
	struct sctls_frame f;
	int fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);

	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_LE(0, fd);
	ASSERT_EQ(5, send(fd, "hello", 5, 0));
	ASSERT_EQ(1, poll(&pfd, 1, GW_TIMEOUT_MS));
	/* The DATA header would land in the hole: OPEN alone comes back. */
	EXPECT_EQ(88, readv(self->w.rd.fd, iov, 3));
	ASSERT_EQ(1, gw_next(&self->w.rd, &f, GW_TIMEOUT_MS));
	ASSERT_EQ(SCTLS_DATA, f.hdr.type);
	ASSERT_EQ(5, f.payload_len);
	EXPECT_EQ(0, memcmp("hello", f.payload, 5));
	close(fd);
}

TEST_F(gw, write_fault_applies_nothing_and_keeps_the_credit)
{
	uint8_t *frame = edge_of_mapping(SCTLS_HDR_LEN + 100);
	struct sctls_hdr hdr = { .len = SCTLS_HDR_LEN + 1000, .type = SCTLS_DATA };
	uint8_t two[SCTLS_HDR_LEN + 4];
	struct iovec iov[2];
	char got[4];
	uint32_t id;
	int fd = gw_connect_and_open(&self->w.rd, AF_INET, &id);

	ASSERT_NE(NULL, frame);
	ASSERT_NE(0, id);
	hdr.conn = id;
	memcpy(frame, &hdr, sizeof(hdr));
	memset(frame + SCTLS_HDR_LEN, 'f', 100);
	/* The payload faults after 100 of its 1000 bytes. */
	EXPECT_EQ(-1, write(self->w.rd.fd, frame, SCTLS_HDR_LEN + 1000));
	EXPECT_EQ(EFAULT, errno);

	/* A good frame, then the faulting one: only the first is applied. */
	ASSERT_EQ(sizeof(two), sctls_frame_encode(two, sizeof(two), SCTLS_DATA, 0,
						  id, 0, "good", 4));
	iov[0] = (struct iovec){ two, sizeof(two) };
	iov[1] = (struct iovec){ frame, SCTLS_HDR_LEN + 1000 };
	EXPECT_EQ(sizeof(two), writev(self->w.rd.fd, iov, 2));

	/* No faulting byte reached the app, and no credit was lost. */
	ASSERT_EQ(4, gw_recv_all(fd, got, 4, GW_TIMEOUT_MS));
	EXPECT_EQ(0, memcmp("good", got, 4));
	EXPECT_EQ(SCTLS_HDR_LEN + WINDOW - 4,
		  gw_send(self->w.rd.fd, SCTLS_DATA, 0, id, 0, big, WINDOW - 4));
	close(fd);
}

/* The app's process as the OPEN frame and the helper see it. */
static int open_seen_from_child_pidns(pid_t *app, char *comm)
{
	int report[2], ready[2], status;
	pid_t child;

	if (pipe(report) || pipe(ready))
		return -1;
	child = fork();
	if (child == 0) {
		pid_t helper;

		if (unshare(CLONE_NEWPID))
			_exit(1);
		helper = fork();
		if (helper == 0) {
			struct gw_reader *rd = calloc(1, sizeof(*rd));
			struct sctls_open open = { 0 };

			rd->fd = gw_open_dev();
			if (rd->fd < 0 || write(ready[1], "r", 1) != 1)
				_exit(2);
			if (!gw_expect_open(rd, &open))
				_exit(3);
			_exit(write(report[1], &open, sizeof(open)) == sizeof(open) ? 0 : 4);
		}
		_exit(waitpid(helper, &status, 0) == helper && WIFEXITED(status) ?
		      WEXITSTATUS(status) : 5);
	}
	{
		struct sctls_open open;
		char c;
		int fd;

		if (read(ready[0], &c, 1) != 1)
			return -1;
		fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);
		if (fd < 0 || read(report[0], &open, sizeof(open)) != sizeof(open))
			return -1;
		close(fd);
		*app = open.pid;
		memcpy(comm, open.comm, SCTLS_COMM_LEN);
	}
	return waitpid(child, &status, 0) == child && WIFEXITED(status) ?
	       WEXITSTATUS(status) : -1;
}

TEST(app_outside_the_helpers_pid_namespace_stays_anonymous)
{
	char comm[SCTLS_COMM_LEN] = "x";
	pid_t pid = 0;

	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	ASSERT_EQ(0, sctls_module_load_fresh(""));
	ASSERT_EQ(0, open_seen_from_child_pidns(&pid, comm));
	EXPECT_EQ(SCTLS_ID_UNKNOWN, (uint32_t)pid);
	EXPECT_STREQ("", comm);
	EXPECT_EQ(0, sctls_module_unload());
}

/*
 * A process named name connecting from port sport, holding the connection
 * until the pipe go is closed (go NULL: not at all); the child's pid.
 */
static pid_t connect_from(const char *name, uint16_t sport, int *go)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct sockaddr_in me = {
			.sin_family = AF_INET, .sin_port = htons(sport),
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		}, to = me;
		int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
		char c;

		to.sin_port = htons(SCTLS_DEFAULT_PORT);
		prctl(PR_SET_NAME, name);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&me, sizeof(me)) ||
		    connect(fd, (struct sockaddr *)&to, sizeof(to)))
			_exit(1);
		if (go) {
			close(go[1]);
			(void)!read(go[0], &c, 1);
		}
		_exit(0);
	}
	return pid;
}

TEST_F(one, refused_connection_leaves_no_name_for_the_next)
{
	struct sctls_open open;
	uint32_t held, id;
	int go[2], status, fd;
	pid_t attacker, victim;

	ASSERT_EQ(0, pipe(go));
	fd = gw_connect_and_open(&self->w.rd, AF_INET, &held);
	ASSERT_NE(0, held);

	/* Refused at max_conns: its SYN must not name a later connection. */
	attacker = connect_from("attacker", 40123, NULL);
	ASSERT_EQ(attacker, waitpid(attacker, &status, 0));
	ASSERT_EQ(1, stat_reaches_reading(&self->w.nl, &self->w.rd,
					  SCTLS_STAT_REFUSED_MAX_CONNS, 1, GW_TIMEOUT_MS));

	ASSERT_LT(0, gw_send(self->w.rd.fd, SCTLS_CLOSE, 0, held, 0, NULL, 0));
	close(fd);
	victim = connect_from("victim", 40123, go);
	id = next_open(&self->w.rd, &open);
	ASSERT_NE(0, id);
	EXPECT_EQ(victim, open.pid);
	EXPECT_STREQ("victim", open.comm);
	close(go[1]);
	ASSERT_EQ(victim, waitpid(victim, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* Connect again and again until killed; every one of them is refused. */
static pid_t flood(int dev)
{
	pid_t pid = fork();

	if (pid == 0) {
		close(dev);	/* or the module stays busy after the test */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/*
		 * Lowest priority: in a slow guest, two busy loops would starve
		 * the helper of CPU, which is the scheduler's doing. The kernel's
		 * work to refuse each connection is not lowered by it.
		 */
		if (nice(19) < 0)
			_exit(1);
		for (;;) {
			int fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);

			if (fd >= 0)
				close(fd);
		}
	}
	return pid;
}

TEST_F_TIMEOUT(one, refused_flood_does_not_stall_the_served_app, 300)
{
	struct sctls_frame f;
	pid_t floods[2];
	uint32_t id;
	unsigned int i;
	long worst = 0;
	char got[8];
	int fd = gw_connect_and_open(&self->w.rd, AF_INET, &id);

	ASSERT_NE(0, id);
	floods[0] = flood(self->w.rd.fd);
	floods[1] = flood(self->w.rd.fd);
	EXPECT_LE(100, stat_reaches_reading(&self->w.nl, &self->w.rd,
					    SCTLS_STAT_REFUSED_MAX_CONNS, 100, 20000));
	/* Round trips through the helper go on while the flood is refused. */
	for (i = 0; i < 50; i++) {
		long start = now_ms();

		ASSERT_EQ(4, send(fd, "ping", 4, 0));
		ASSERT_EQ(1, gw_next_for(&self->w.rd, id, &f, GW_TIMEOUT_MS));
		ASSERT_EQ(SCTLS_DATA, f.hdr.type);
		ASSERT_LT(0, gw_send(self->w.rd.fd, SCTLS_DATA, 0, id, 0, "pong", 4));
		ASSERT_EQ(4, gw_recv_all(fd, got, 4, GW_TIMEOUT_MS));
		if (now_ms() - start > worst)
			worst = now_ms() - start;
	}
	TH_LOG("slowest round trip %ld ms; %llu refused meanwhile", worst,
	       (unsigned long long)stat_of(&self->w.nl, SCTLS_STAT_REFUSED_MAX_CONNS));
	kill(floods[0], SIGKILL);
	kill(floods[1], SIGKILL);
	waitpid(floods[0], NULL, 0);
	waitpid(floods[1], NULL, 0);
	close(fd);
}

/*
 * Four apps reset with bytes staged for them, while the helper answers a
 * FIN with a FIN as sctlsd does: none of them may hold a slot afterwards.
 */
TEST_F(four, resets_with_staged_bytes_never_lock_apps_out)
{
	struct sctls_open open;
	struct sctls_frame f;
	unsigned int i;
	uint32_t id;
	int fd;

	for (i = 0; i < 4; i++) {
		fd = gw_connect_small(&self->w.rd, &id);
		ASSERT_NE(0, id);
		ASSERT_EQ(0, fill(&self->w.rd, id, STAGE_BYTES));
		ASSERT_EQ(0, gw_reset(fd));
		while (gw_next_for(&self->w.rd, id, &f, 1000) == 1 &&
		       f.hdr.type != SCTLS_CLOSE) {
			if (f.hdr.type == SCTLS_FIN)
				gw_send(self->w.rd.fd, SCTLS_FIN, 0, id, 0, NULL, 0);
		}
	}
	fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);
	ASSERT_LE(0, fd);
	EXPECT_NE(0, next_open(&self->w.rd, &open));
	close(fd);
}

TEST_F_TIMEOUT(closing, app_that_never_reads_does_not_hold_a_closed_connection, 60)
{
	uint32_t id;
	ssize_t n;
	size_t got = 0;
	long start;
	char buf[4096];
	int fd = gw_connect_small(&self->w.rd, &id);

	ASSERT_NE(0, id);
	ASSERT_EQ(0, fill(&self->w.rd, id, STAGE_BYTES));
	ASSERT_LT(0, gw_send(self->w.rd.fd, SCTLS_CLOSE, SCTLS_CLOSE_ORDERLY, id, 0, NULL, 0));
	EXPECT_EQ(1, stat_of(&self->w.nl, SCTLS_STAT_ACTIVE));

	/* closing_timeout=2: gone within a bound, counted as a reset. */
	start = now_ms();
	EXPECT_EQ(0, stat_reaches(&self->w.nl, SCTLS_STAT_ACTIVE, 0, 20000));
	TH_LOG("reset after %ld ms", now_ms() - start);
	EXPECT_GE(now_ms() - start, 1000);
	EXPECT_EQ(1, stat_of(&self->w.nl, SCTLS_STAT_CLOSED_RESET));
	/* The app gets what its socket held, then the reset. */
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		got += n;
	EXPECT_EQ(-1, n);
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_GT(STAGE_BYTES, got);
	close(fd);
}

/* Kernel memory in slabs (kmalloc's large ones too) and vmalloc, in bytes. */
static long kernel_memory(void)
{
	char line[256];
	long kb, total = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if ((sscanf(line, "Slab: %ld kB", &kb) == 1) ||
		    (sscanf(line, "VmallocUsed: %ld kB", &kb) == 1))
			total += kb * 1024;
	fclose(f);
	return total;
}

#define BIG_WINDOW (16u << 20)
#define STALLED 8

/*
 * Apps that never read, and a helper that fills every window of 16 MiB:
 * 128 MiB would be staged, but a namespace keeps at most SCTLS_MAX_STAGED.
 */
TEST_F_TIMEOUT(bigwin, staging_is_capped_per_namespace, 300)
{
	static uint8_t chunk[SCTLS_MAX_PAYLOAD];
	long before = kernel_memory(), peak = before, after;
	unsigned int i, enomem = 0;
	int fds[STALLED];
	uint32_t ids[STALLED];

	for (i = 0; i < STALLED; i++) {
		size_t sent = 0;

		fds[i] = gw_connect_small(&self->w.rd, &ids[i]);
		ASSERT_NE(0, ids[i]);
		while (sent < BIG_WINDOW) {
			ssize_t n = gw_send(self->w.rd.fd, SCTLS_DATA, 0, ids[i], 0,
					    chunk, sizeof(chunk));

			if (n < 0)
				break;
			sent += sizeof(chunk);
		}
		if (kernel_memory() > peak)
			peak = kernel_memory();
	}
	/* Those past the cap were ended with ENOMEM. */
	for (;;) {
		struct sctls_frame f;

		if (gw_next(&self->w.rd, &f, 500) != 1)
			break;
		if (f.hdr.type == SCTLS_CLOSE && f.hdr.arg == ENOMEM)
			enomem++;
	}
	TH_LOG("kernel memory %ld MiB -> peak %ld MiB with %u stalled apps; %u ended with ENOMEM",
	       before >> 20, peak >> 20, STALLED, enomem);
	EXPECT_LT(0, enomem);
	EXPECT_GE((long)SCTLS_MAX_STAGED + (16l << 20), peak - before);
	EXPECT_LE(32l << 20, peak - before);	/* it did stage */

	for (i = 0; i < STALLED; i++)
		close(fds[i]);
	close(self->w.rd.fd);
	self->w.rd.fd = -1;
	usleep(200000);
	after = kernel_memory();
	TH_LOG("after the helper left: %ld MiB", after >> 20);
	EXPECT_GE(before + (16l << 20), after);
}

/* Run a shell command line; its exit status, or -1. */
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* connect() to 127.0.0.1:port within timeout_ms: 0, or the errno. */
static int try_connect(uint16_t port, int timeout_ms)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct pollfd pfd = { .events = POLLOUT };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 0;
	socklen_t len = sizeof(err);

	if (fd < 0)
		return errno;
	pfd.fd = fd;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) && errno != EINPROGRESS)
		err = errno;
	else if (poll(&pfd, 1, timeout_ms) != 1)
		err = ETIMEDOUT;
	else
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	close(fd);
	return err;
}

/*
 * A host behind a veth pair sends to 127.0.0.1 with route_localnet=1 on
 * both ends (the setting of kube-proxy, and the way of CVE-2020-8558). It
 * reaches an ordinary service on 127.0.0.1, which shows the path works; it
 * must not reach the card.
 */
TEST(network_peer_with_route_localnet_is_not_served)
{
	struct gw_reader *rd = calloc(1, sizeof(*rd));
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_port = htons(4999),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	int to_child[2], from_child[2], status, service;
	struct sctls_frame f;
	pid_t child;
	char c;

	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	if (sh("command -v ip >/dev/null"))
		SKIP(return, "no ip command (iproute2)");
	ASSERT_EQ(0, sctls_module_load_fresh(""));
	rd->fd = gw_open_dev();
	ASSERT_LE(0, rd->fd);
	service = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(0, bind(service, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(service, 8));
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(from_child));

	child = fork();
	if (child == 0) {
		int a, b;

		close(rd->fd);
		if (unshare(CLONE_NEWNET) || write(from_child[1], "n", 1) != 1 ||
		    read(to_child[0], &c, 1) != 1)
			_exit(10);
		/* lo stays down here: 127.0.0.1 is routed out of the veth. */
		if (sh("ip addr add 10.99.0.2/24 dev sctls1 && ip link set sctls1 up && "
		       "sysctl -qw net.ipv4.conf.all.route_localnet=1 "
		       "net.ipv4.conf.sctls1.route_localnet=1 && "
		       "ip route add 127.0.0.1/32 dev sctls1 && "
		       "ip neigh add 127.0.0.1 lladdr $(cat /tmp/sctls-veth-mac) dev sctls1"))
			_exit(11);
		a = try_connect(4999, 3000);
		b = try_connect(SCTLS_DEFAULT_PORT, 3000);
		printf("# from the network: a plain service %s, the card %s\n",
		       a ? strerror(a) : "reached", b ? strerror(b) : "reached");
		_exit(a ? 12 : b == ECONNREFUSED ? 0 : 13);
	}
	ASSERT_EQ(1, read(from_child[0], &c, 1));
	ASSERT_EQ(0, sh("ip link add sctls0 type veth peer name sctls1 netns %d && "
			"ip addr add 10.99.0.1/24 dev sctls0 && ip link set sctls0 up && "
			"sysctl -qw net.ipv4.conf.all.route_localnet=1 "
			"net.ipv4.conf.sctls0.route_localnet=1 && "
			"cat /sys/class/net/sctls0/address >/tmp/sctls-veth-mac", child));
	ASSERT_EQ(1, write(to_child[1], "g", 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The helper heard of nothing. */
	ASSERT_EQ(0, fcntl(rd->fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(0, gw_next(rd, &f, 500));
	sh("ip link del sctls0 2>/dev/null; sysctl -qw net.ipv4.conf.all.route_localnet=0");
	close(service);
	close(rd->fd);
	free(rd);
	EXPECT_EQ(0, sctls_module_unload());
}

/* Hits of a kprobe on a function of the module, per kprobe_profile; -1 on error. */
static long kprobe_hits(const char *event)
{
	char line[256], name[128];
	long hits = -1, h;
	FILE *f = fopen("/sys/kernel/tracing/kprobe_profile", "r");

	if (!f)
		f = fopen("/sys/kernel/debug/tracing/kprobe_profile", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %ld", name, &h) == 2 && !strcmp(name, event))
			hits = h;
	fclose(f);
	return hits;
}

static const char *tracing_dir(void)
{
	return access("/sys/kernel/tracing/kprobe_events", W_OK) == 0 ?
	       "/sys/kernel/tracing" : "/sys/kernel/debug/tracing";
}

/*
 * Once staged bytes are out, the write-space callback must stop running:
 * SOCK_NOSPACE is cleared, or TCP calls it on every ACK from then on.
 */
TEST_F_TIMEOUT(stage, write_space_callback_stops_once_the_app_has_room, 120)
{
	static char got[STAGE_BYTES];
	uint32_t id;
	long before, after;
	pid_t reader;
	int status;
	unsigned int i;
	int fd = gw_connect_small(&self->w.rd, &id);

	ASSERT_NE(0, id);
	if (sh("echo 'p:sctls_ws sctls:sctls_conn_write_space' >>%s/kprobe_events && "
	       "echo 1 >%s/events/kprobes/sctls_ws/enable", tracing_dir(), tracing_dir()))
		SKIP(return, "no kprobe events in this kernel");
	/* Bytes staged for a full socket, then read: the socket had no space. */
	ASSERT_EQ(0, fill(&self->w.rd, id, STAGE_BYTES));
	reader = fork();
	if (reader == 0) {
		int roomy = 4 << 20;

		close(self->w.rd.fd);
		/* A 4 KiB window would take a delayed ACK per 4 KiB. */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &roomy, sizeof(roomy));
		_exit(gw_recv_all(fd, got, STAGE_BYTES, GW_TIMEOUT_MS) == STAGE_BYTES ? 0 : 1);
	}
	/* The helper's reads push the staged bytes as the app takes them. */
	while (waitpid(reader, &status, WNOHANG) == 0) {
		struct sctls_frame f;

		gw_next(&self->w.rd, &f, 50);
	}
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	/* Now a hundred small exchanges, each acknowledged by the app. */
	before = kprobe_hits("sctls_ws");
	for (i = 0; i < 100; i++) {
		ASSERT_LT(0, gw_send(self->w.rd.fd, SCTLS_DATA, 0, id, 0, "x", 1));
		ASSERT_EQ(1, gw_recv_all(fd, got, 1, GW_TIMEOUT_MS));
	}
	usleep(100000);
	after = kprobe_hits("sctls_ws");
	TH_LOG("write-space callbacks during 100 exchanges: %ld", after - before);
	EXPECT_LE(0, before);
	EXPECT_GT(10, after - before);
	sh("echo 0 >%s/events/kprobes/sctls_ws/enable; echo '-:sctls_ws' >>%s/kprobe_events",
	   tracing_dir(), tracing_dir());
	close(fd);
}

/* Run fn in a child (its namespaces its own): its exit status, or -1. */
static int in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * A namespace whose connections the helper closed orderly while the app's
 * packets are dropped (its loopback is down): the module's sockets outlive
 * helper and namespace, retransmitting FINs. They must hold the namespace;
 * the kernel log (slub_debug, or KASAN on the debug kernel) must stay clean.
 */
static int orphans_in_dying_namespace(void)
{
	struct gw_reader *rd = calloc(1, sizeof(*rd));
	struct sctls_open open;
	unsigned int i;
	uint32_t id;
	int fds[8];

	if (!rd || unshare(CLONE_NEWNET) || sh("ip link set lo up"))
		return 10;
	rd->fd = gw_open_dev();
	if (rd->fd < 0)
		return 11;
	for (i = 0; i < 8; i++) {
		fds[i] = gw_connect(i % 2 ? AF_INET6 : AF_INET, SCTLS_DEFAULT_PORT);
		id = fds[i] >= 0 ? gw_expect_open(rd, &open) : 0;
		if (!id)
			return 12;
		if (gw_send(rd->fd, SCTLS_DATA, 0, id, 0, big, 1000) < 0)
			return 13;
		fds[i] = fds[i];
		(void)id;
	}
	if (sh("ip link set lo down"))
		return 14;
	/* Closed orderly by the helper: FINs that no ACK will answer. */
	for (i = 1; i <= 8; i++)
		if (gw_send(rd->fd, SCTLS_CLOSE, SCTLS_CLOSE_ORDERLY, i, 0, NULL, 0) < 0)
			return 15;
	close(rd->fd);
	return 0;	/* the namespace dies with this process */
}

TEST(orphaned_sockets_hold_their_dying_namespace)
{
	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	ASSERT_EQ(0, sctls_module_load_fresh(""));
	EXPECT_EQ(0, in_child(orphans_in_dying_namespace));
	/* The orphans retransmit meanwhile; then the module goes. */
	usleep(1500000);
	EXPECT_EQ(0, sctls_module_unload());
}

/* TCP's orphans, all namespaces: /proc/net/sockstat's "orphan". */
static long tcp_orphans(void)
{
	char line[256];
	long n = -1;
	FILE *f = fopen("/proc/net/sockstat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TCP: inuse %*d orphan %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* This namespace's sockets on the port in a TCP state, as ss(8) lists them. */
static int port_sockets(const char *state)
{
	char cmd[160];
	int n = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ss -tanH state %s '( sport = :%d )' | wc -l",
		 state, SCTLS_DEFAULT_PORT);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

/* What a failure saw: the port's sockets, as TAP comments. */
static int show_port_sockets(int status)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ss -tanH '( sport = :%d )' | sed 's/^/# /'",
		 SCTLS_DEFAULT_PORT);
	fflush(stdout);
	(void)!system(cmd);
	return status;
}

/* Until port_sockets(state) == want, at most ms: whether it came. */
static bool port_sockets_become(const char *state, int want, int ms)
{
	long end = gw_now_ms() + ms;

	while (port_sockets(state) != want) {
		if (gw_now_ms() > end)
			return false;
		usleep(100000);
	}
	return true;
}

/*
 * Connections the helper closed orderly: released once TCP is done with
 * them; and while their FINs get no ACK (the namespace's loopback is down),
 * kept rather than orphaned (a kernel socket's orphan would not hold the
 * namespace), then reset after closing_timeout (30 s here: long enough to
 * be seen first, ss and all, in the sanitizer kernel's slow guest).
 */
static int kept_not_orphaned(void)
{
	struct gw_reader *rd = calloc(1, sizeof(*rd));
	struct sctls_open open;
	uint32_t id, ids[4];
	long orphans, start;
	unsigned int i;
	int fd;

	if (!rd || unshare(CLONE_NEWNET) || sh("ip link set lo up"))
		return 10;
	rd->fd = gw_open_dev();
	if (rd->fd < 0)
		return 11;
	/* First, with ACKs flowing: the sockets are released, none kept. */
	for (i = 0; i < 4; i++) {
		fd = gw_connect(i % 2 ? AF_INET6 : AF_INET, SCTLS_DEFAULT_PORT);
		id = fd >= 0 ? gw_expect_open(rd, &open) : 0;
		if (!id || gw_send(rd->fd, SCTLS_CLOSE, SCTLS_CLOSE_ORDERLY, id, 0, NULL, 0) < 0)
			return 18;
		close(fd);
	}
	/* Not FIN-WAIT-2: ss shows a TIME_WAIT socket's substate. */
	if (!port_sockets_become("fin-wait-1", 0, GW_TIMEOUT_MS) ||
	    !port_sockets_become("closing", 0, GW_TIMEOUT_MS) ||
	    !port_sockets_become("last-ack", 0, GW_TIMEOUT_MS))
		return show_port_sockets(19);
	for (i = 0; i < 4; i++) {
		fd = gw_connect(i % 2 ? AF_INET6 : AF_INET, SCTLS_DEFAULT_PORT);
		ids[i] = fd >= 0 ? gw_expect_open(rd, &open) : 0;
		if (!ids[i])
			return 12;
	}
	orphans = tcp_orphans();
	if (orphans < 0 || sh("ip link set lo down"))
		return 13;
	for (i = 0; i < 4; i++)
		if (gw_send(rd->fd, SCTLS_CLOSE, SCTLS_CLOSE_ORDERLY, ids[i], 0, NULL, 0) < 0)
			return 14;
	start = gw_now_ms();
	if (!port_sockets_become("fin-wait-1", 4, GW_TIMEOUT_MS))
		return show_port_sockets(15);
	printf("# the 4 kept sockets seen %ld ms after the CLOSEs\n", gw_now_ms() - start);
	fflush(stdout);
	if (tcp_orphans() > orphans)
		return 16;	/* orphaned: they would not hold the namespace */
	if (!port_sockets_become("fin-wait-1", 0, 30000 + GW_TIMEOUT_MS))
		return show_port_sockets(17);	/* not reset after closing_timeout */
	return 0;
}

TEST(orderly_closes_awaiting_acks_are_kept_then_reset)
{
	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	ASSERT_EQ(0, sctls_module_load_fresh("closing_timeout=30"));
	EXPECT_EQ(0, in_child(kept_not_orphaned));
}

/*
 * Namespaces that are served and busy with SYNs while the module unloads:
 * the hooks go in pre_exit, the config after a grace period. A use after
 * free here needs the debug kernel to be seen for sure.
 */
TEST(unload_while_served_namespaces_connect)
{
	unsigned int round;

	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	for (round = 0; round < 5; round++) {
		pid_t kids[2];
		unsigned int i;

		ASSERT_EQ(0, sctls_module_load_fresh(""));
		for (i = 0; i < 2; i++) {
			int ready[2];
			char c;

			ASSERT_EQ(0, pipe(ready));
			kids[i] = fork();
			if (kids[i] == 0) {
				int fd;

				prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (unshare(CLONE_NEWNET) || sh("ip link set lo up"))
					_exit(1);
				fd = gw_open_dev();	/* serves this namespace */
				if (fd < 0)
					_exit(2);
				close(fd);
				(void)!write(ready[1], "r", 1);
				for (;;)	/* SYNs through the hook, refused */
					close(gw_connect(AF_INET, SCTLS_DEFAULT_PORT));
			}
			ASSERT_EQ(1, read(ready[0], &c, 1));
			close(ready[0]);
			close(ready[1]);
		}
		usleep(100000);
		EXPECT_EQ(0, sctls_module_unload());
		for (i = 0; i < 2; i++) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
	}
}

TEST_HARNESS_MAIN
