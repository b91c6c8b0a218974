// SPDX-License-Identifier: GPL-2.0
/*
 * sctlsd, the helper daemon, between real apps and a card link: a unix
 * socket echo server stands in for the card.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/harness.h"
#include "lib/gateway.h"
#include "lib/module.h"
#include "lib/privs.h"

#define CARD_SOCK "/tmp/sctlsd-test-card.sock"
#define LINK "4116=unix:" CARD_SOCK

/* The card: echo every connection back, each in a process of its own. */
static pid_t start_card(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX, .sun_path = CARD_SOCK };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	unlink(CARD_SOCK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) || listen(lfd, 128))
		return -1;
	pid = fork();
	if (pid == 0) {
		signal(SIGCHLD, SIG_IGN);
		for (;;) {
			int fd = accept(lfd, NULL, NULL);
			char buf[16384];
			ssize_t n;

			if (fd < 0)
				_exit(1);
			if (fork() == 0) {
				while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
					if (send(fd, buf, n, MSG_NOSIGNAL) != n)
						_exit(1);
				_exit(0);
			}
			close(fd);
		}
	}
	close(lfd);
	return pid;
}

struct daemon {
	pid_t pid;
	int log;		/* its stderr */
	char seen[8192];	/* what it logged so far */
	size_t seen_len;
};

/* Read the daemon's log until needle shows or it exits; whether it showed. */
static bool daemon_wait_log(struct daemon *d, const char *needle, int timeout_ms)
{
	while (!strstr(d->seen, needle)) {
		struct pollfd pfd = { .fd = d->log, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, timeout_ms) <= 0)
			return false;
		n = read(d->log, d->seen + d->seen_len, sizeof(d->seen) - 1 - d->seen_len);
		if (n <= 0)
			return false;
		d->seen_len += n;
		d->seen[d->seen_len] = '\0';
	}
	return true;
}

/* Start sctlsd with up to three arguments; 0 or -1. */
static int daemon_start(struct daemon *d, const char *a1, const char *a2,
			const char *a3)
{
	const char *bin = getenv("SCTLSD");
	int pipefd[2];

	memset(d, 0, sizeof(*d));
	if (!bin || pipe2(pipefd, O_CLOEXEC))
		return -1;
	d->pid = fork();
	if (d->pid == 0) {
		dup2(pipefd[1], 2);
		execl(bin, "sctlsd", a1, a2, a3, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	d->log = pipefd[0];
	return d->pid > 0 ? 0 : -1;
}

/* Its exit status within five seconds, or -1. */
static int daemon_exit_status(struct daemon *d)
{
	int i, status;

	for (i = 0; i < 500; i++) {
		pid_t p = waitpid(d->pid, &status, WNOHANG);

		if (p == d->pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		usleep(10000);
	}
	return -1;
}

static void daemon_stop(struct daemon *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = 0;
	}
	if (d->log > 0)
		close(d->log);
	d->log = 0;
}

/* Send len bytes of a pattern and expect them back; 0 when all came back. */
static int echo_check(int fd, size_t len)
{
	static uint8_t out[1 << 20], in[1 << 20];
	size_t i;
	pid_t writer;
	int status;

	if (len > sizeof(out))
		return -1;
	for (i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 7 + (i >> 10));
	writer = fork();
	if (writer == 0)
		_exit(send(fd, out, len, 0) == (ssize_t)len ? 0 : 1);
	if (gw_recv_all(fd, in, len, GW_TIMEOUT_MS) != (ssize_t)len ||
	    waitpid(writer, &status, 0) != writer || WEXITSTATUS(status))
		return -1;
	return memcmp(out, in, len) ? -1 : 0;
}

FIXTURE(sctlsd) {
	pid_t card;
	struct daemon d;
};

FIXTURE_SETUP(sctlsd)
{
	self->card = 0;
	memset(&self->d, 0, sizeof(self->d));
	if (!sctls_ko_path() || !getenv("SCTLSD"))
		SKIP(return, "SCTLS_KO and SCTLSD must name sctls.ko and sctlsd");
	ASSERT_EQ(0, sctls_module_load_fresh(""));
	self->card = start_card();
	ASSERT_LT(0, self->card);
	ASSERT_EQ(0, daemon_start(&self->d, "--link", LINK, "-v"));
	ASSERT_TRUE(daemon_wait_log(&self->d, "info: ready", GW_TIMEOUT_MS));
}

FIXTURE_TEARDOWN(sctlsd)
{
	daemon_stop(&self->d);
	if (self->card > 0) {
		kill(self->card, SIGKILL);
		waitpid(self->card, NULL, 0);
	}
	unlink(CARD_SOCK);
	EXPECT_EQ(0, sctls_module_unload());
}

TEST_F(sctlsd, one_mib_each_way_over_ipv4_and_ipv6)
{
	int fd4 = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);
	int fd6 = gw_connect(AF_INET6, SCTLS_DEFAULT_PORT);

	ASSERT_LE(0, fd4);
	ASSERT_LE(0, fd6);
	EXPECT_EQ(0, echo_check(fd4, 1 << 20));
	EXPECT_EQ(0, echo_check(fd6, 1 << 20));
	close(fd4);
	close(fd6);
}

TEST_F(sctlsd, fifty_connections_at_once)
{
	char out[50][4096], in[4096];
	int fds[50];
	unsigned int i;

	for (i = 0; i < 50; i++) {
		fds[i] = gw_connect(i % 2 ? AF_INET6 : AF_INET, SCTLS_DEFAULT_PORT);
		ASSERT_LE(0, fds[i]);
		memset(out[i], 'a' + i % 26, sizeof(out[i]));
		out[i][0] = i;
		ASSERT_EQ(sizeof(out[i]), send(fds[i], out[i], sizeof(out[i]), 0));
	}
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(sizeof(in), gw_recv_all(fds[i], in, sizeof(in), GW_TIMEOUT_MS));
		EXPECT_EQ(0, memcmp(out[i], in, sizeof(in)));
		close(fds[i]);
	}
}

TEST_F(sctlsd, card_refusing_resets_app_and_daemon_carries_on)
{
	long base = gw_now_ms();
	int fd, bound;

	/* The baseline: one echo through daemon and card, in this guest. */
	fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, echo_check(fd, 100));
	close(fd);
	bound = gw_bound_ms(1000, 20, gw_now_ms() - base);
	TH_LOG("reset expected within %d ms", bound);

	kill(self->card, SIGKILL);
	waitpid(self->card, NULL, 0);
	self->card = 0;
	unlink(CARD_SOCK);

	EXPECT_EQ(-ECONNRESET, gw_connect_outcome(AF_INET, SCTLS_DEFAULT_PORT, bound));
	EXPECT_TRUE(daemon_wait_log(&self->d, "resetting it", GW_TIMEOUT_MS));

	/* The card is back: served again, by the same daemon. */
	self->card = start_card();
	ASSERT_LT(0, self->card);
	fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, echo_check(fd, 1000));
	close(fd);
	EXPECT_EQ(0, kill(self->d.pid, 0));
}

TEST_F(sctlsd, sigterm_closes_orderly_and_exits_0)
{
	char c;
	int fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, echo_check(fd, 100));
	ASSERT_EQ(0, kill(self->d.pid, SIGTERM));
	EXPECT_EQ(0, gw_recv_all(fd, &c, 1, GW_TIMEOUT_MS));	/* EOF, not a reset */
	EXPECT_EQ(0, daemon_exit_status(&self->d));
	self->d.pid = 0;
	close(fd);
}

TEST_F(sctlsd, kill_9_resets_apps_and_a_restart_serves)
{
	int fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);
	long base = gw_now_ms();
	int bound;
	char c;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, echo_check(fd, 100));
	/* At once: a second, or 20 echoes where one is slower (emulation). */
	bound = gw_bound_ms(1000, 20, gw_now_ms() - base);
	TH_LOG("reset expected within %d ms", bound);
	ASSERT_EQ(0, kill(self->d.pid, SIGKILL));
	EXPECT_EQ(-ECONNRESET, gw_recv_all(fd, &c, 1, bound));
	close(fd);
	daemon_stop(&self->d);

	ASSERT_EQ(0, daemon_start(&self->d, "--link", LINK, "-v"));
	ASSERT_TRUE(daemon_wait_log(&self->d, "info: ready", GW_TIMEOUT_MS));
	fd = gw_connect(AF_INET, SCTLS_DEFAULT_PORT);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, echo_check(fd, 1000));
	close(fd);
}

/* As uid, connect and echo: 0 served, 1 reset, 2 something else. */
static int connect_as(uid_t uid)
{
	if (become(uid, uid))
		return 2;
	switch (gw_connect_outcome(AF_INET, SCTLS_DEFAULT_PORT, GW_TIMEOUT_MS)) {
	case 1:
		return 0;
	case -ECONNRESET:
		return 1;
	default:
		return 2;
	}
}

static int run_as(uid_t uid)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(connect_as(uid));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST_F(sctlsd, allow_uid_refuses_others)
{
	daemon_stop(&self->d);
	ASSERT_EQ(0, daemon_start(&self->d, "--link", LINK, "--allow-uid=1000"));
	ASSERT_TRUE(daemon_wait_log(&self->d, "info: ready", GW_TIMEOUT_MS));

	EXPECT_EQ(1, run_as(1001));
	EXPECT_TRUE(daemon_wait_log(&self->d, "uid 1001", GW_TIMEOUT_MS));
	EXPECT_TRUE(daemon_wait_log(&self->d, "uid not allowed", GW_TIMEOUT_MS));
	EXPECT_EQ(0, run_as(1000));
}

TEST_F(sctlsd, second_daemon_says_busy_and_exits_1)
{
	struct daemon other;

	ASSERT_EQ(0, daemon_start(&other, "--link", LINK, NULL));
	EXPECT_TRUE(daemon_wait_log(&other, "busy: another helper", GW_TIMEOUT_MS));
	EXPECT_EQ(1, daemon_exit_status(&other));
	close(other.log);
}

TEST(missing_device_says_so_and_exits_1)
{
	struct daemon d;

	if (!getenv("SCTLSD"))
		SKIP(return, "SCTLSD must name sctlsd");
	if (sctls_module_loaded())
		sctls_module_unload();
	ASSERT_EQ(0, daemon_start(&d, "--link", LINK, NULL));
	EXPECT_TRUE(daemon_wait_log(&d, "load the module first", GW_TIMEOUT_MS));
	EXPECT_EQ(1, daemon_exit_status(&d));
	close(d.log);
}

TEST_HARNESS_MAIN
