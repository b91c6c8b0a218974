// SPDX-License-Identifier: GPL-2.0
/*
 * make bench: the gateway side by side with its baseline, in the same run.
 * The baseline is a userspace TCP echo server on another loopback port; the
 * gateway run echoes through sctls.ko and a helper on /dev/sctls. Each
 * measure alternates the two for several rounds and reports medians and
 * their ratio. Runs as root with sctls.ko loaded and no helper attached.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/echo.h"
#include "lib/gateway.h"

#define BULK		(32u << 20)
#define CONNS		500
#define ROUNDS		3
#define DIRECT_PORT	(SCTLS_DEFAULT_PORT + 1)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* The baseline: echo each connection in turn until closes have ended. */
static void direct_server(int lfd, unsigned int closes)
{
	static char buf[65536];

	while (closes--) {
		int fd = accept(lfd, NULL, NULL);
		ssize_t n;

		if (fd < 0)
			die("accept");
		while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
			if (send(fd, buf, n, 0) != n)
				die("send");
		shutdown(fd, SHUT_WR);
		close(fd);
	}
}

/* The gateway: attach as helper, tell the parent, echo. */
static void gateway_server(int ready, unsigned int closes)
{
	static struct gw_reader rd;
	struct sctls_info info;

	rd.fd = gw_open_dev();
	if (rd.fd < 0 || ioctl(rd.fd, SCTLS_IOC_INFO, &info))
		die("/dev/sctls");
	if (write(ready, "", 1) != 1)
		die("ready");
	if (gw_echo(&rd, closes, info.window, 20000))
		exit(1);
}

/* Start a server process for closes connections on the given path. */
static pid_t start_server(bool gateway, unsigned int closes)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_port = htons(DIRECT_PORT),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int one = 1, lfd = -1, ready[2];
	pid_t pid;
	char c;

	if (pipe(ready))
		die("pipe");
	if (!gateway) {
		lfd = socket(AF_INET, SOCK_STREAM, 0);
		if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 128))
			die("direct listener");
	}
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (gateway)
			gateway_server(ready[1], closes);
		else
			direct_server(lfd, closes);
		exit(0);
	}
	if (!gateway)
		close(lfd);
	else if (read(ready[0], &c, 1) != 1)
		die("helper did not attach");
	close(ready[0]);
	close(ready[1]);
	return pid;
}

static void stop_server(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		die("server failed");
}

/* BULK bytes out and the same back on one connection; seconds taken. */
static double bulk(uint16_t port)
{
	static uint8_t buf[65536];
	size_t got = 0;
	double t0 = now();
	int fd = gw_connect(AF_INET, port), status;
	pid_t writer;
	ssize_t n;

	if (fd < 0)
		die("connect");
	writer = fork();
	if (writer == 0) {
		size_t sent = 0;

		while (sent < BULK) {
			n = send(fd, buf, sizeof(buf), 0);
			if (n <= 0)
				die("send");
			sent += n;
		}
		shutdown(fd, SHUT_WR);
		exit(0);
	}
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		got += n;
	if (got != BULK || waitpid(writer, &status, 0) != writer)
		die("bulk transfer incomplete");
	close(fd);
	return now() - t0;
}

/* CONNS connections, each a 1-byte echo then close; seconds taken. */
static double conns(uint16_t port)
{
	double t0 = now();
	unsigned int i;
	char c = 'x';

	for (i = 0; i < CONNS; i++) {
		int fd = gw_connect(AF_INET, port);

		if (fd < 0 || send(fd, &c, 1, 0) != 1 || shutdown(fd, SHUT_WR) ||
		    gw_recv_all(fd, &c, 1, 20000) != 1)
			die("connection");
		close(fd);
	}
	return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median seconds of each path over ROUNDS, alternating the two. */
static void measure(double (*run)(uint16_t), unsigned int closes,
		    double *direct, double *gateway)
{
	double d[ROUNDS], g[ROUNDS];
	unsigned int r;
	pid_t pid;

	for (r = 0; r < ROUNDS; r++) {
		pid = start_server(false, closes);
		d[r] = run(DIRECT_PORT);
		stop_server(pid);
		pid = start_server(true, closes);
		g[r] = run(SCTLS_DEFAULT_PORT);
		stop_server(pid);
	}
	qsort(d, ROUNDS, sizeof(d[0]), cmp_double);
	qsort(g, ROUNDS, sizeof(g[0]), cmp_double);
	*direct = d[ROUNDS / 2];
	*gateway = g[ROUNDS / 2];
}

int main(void)
{
	double d, g, mib = BULK / 1048576.0;
	struct utsname u;

	uname(&u);
	printf("sctls bench: kernel %s, %ld CPUs, median of %d rounds, each path alternated\n",
	       u.release, sysconf(_SC_NPROCESSORS_ONLN), ROUNDS);
	printf("%-46s %14s %14s %8s\n", "", "direct TCP", "through sctls", "ratio");

	measure(bulk, 1, &d, &g);
	printf("%-46s %9.1f MiB/s %9.1f MiB/s %8.2f\n",
	       "echo, 32 MiB each way on one connection", mib / d, mib / g, d / g);

	measure(conns, CONNS, &d, &g);
	printf("%-46s %10.0f /s   %10.0f /s   %8.2f\n",
	       "connections: 1-byte echo, then close", CONNS / d, CONNS / g, d / g);
	return 0;
}
