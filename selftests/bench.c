// SPDX-License-Identifier: GPL-2.0
/*
 * make bench: sctls side by side with the relays a user would pick instead,
 * in one run and under the same client load. Every path ends at the same
 * echo backend: straight to it (the limit), through sctls.ko and sctlsd,
 * through nginx's stream proxy and through socat. The paths alternate for
 * several rounds; medians are reported, with sctls relative to nginx.
 *
 *   bench --echo-server PORT      the backend (epoll, any number of clients)
 *   bench                         measure the paths (ports below)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/gateway.h"

#define BULK		(32u << 20)
#define MSG		64
#define RR_SECONDS	2
#define LAT_CONNS	1000
#define ROUNDS		3

struct path {
	const char *name;
	uint16_t port;
};

enum { P_DIRECT, P_SCTLS, P_NGINX, P_SOCAT };

static const struct path paths[] = {
	{ "direct", 5000 }, { "sctls", SCTLS_DEFAULT_PORT },
	{ "nginx", 5001 }, { "socat", 5002 },
};
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

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

/* The backend: echo every client, as fast as each reads. */
struct echo_client {
	int fd;
	size_t len, off;	/* bytes waiting to go back */
	bool eof;
	char buf[65536];
};

static void echo_server(uint16_t port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct epoll_event ev = { .events = EPOLLIN }, evs[64];
	int one = 1, ep = epoll_create1(0);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (lfd < 0 || ep < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 1024))
		die("echo server");
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1), k;

		for (k = 0; k < n; k++) {
			struct echo_client *c = evs[k].data.ptr;
			ssize_t r;

			if (!c) {
				int fd;

				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					c = calloc(1, sizeof(*c));
					if (!c)
						die("calloc");
					c->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			if (!c->len && !c->eof) {
				r = recv(c->fd, c->buf, sizeof(c->buf), 0);
				if (r > 0)
					c->len = r, c->off = 0;
				else if (r == 0 || errno != EAGAIN)
					c->eof = true;
			}
			while (c->off < c->len) {
				r = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
				if (r <= 0)
					break;
				c->off += r;
			}
			if (c->off == c->len)
				c->len = c->off = 0;
			if (c->eof && !c->len) {
				close(c->fd);
				free(c);
				continue;
			}
			ev.events = c->len ? EPOLLOUT : EPOLLIN;
			ev.data.ptr = c;
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		}
	}
}

static int connect_to(uint16_t port)
{
	int one = 1, fd = gw_connect(AF_INET, port);

	if (fd < 0)
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* BULK bytes out and the same back on one connection: MiB/s. */
static double bulk(uint16_t port)
{
	static uint8_t buf[65536];
	size_t got = 0;
	double t0 = now();
	int fd = connect_to(port), status;
	pid_t writer = fork();
	ssize_t n;

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
	if (got != BULK || waitpid(writer, &status, 0) != writer) {
		fprintf(stderr, "bench: port %u: %zu of %u bytes came back\n", port, got, BULK);
		exit(1);
	}
	close(fd);
	return BULK / 1048576.0 / (now() - t0);
}

/* conns connections each doing 64-byte request/response: round trips per second. */
static double request_rate(uint16_t port, int conns)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[256];
	int ep = epoll_create1(0), i, *fds = calloc(conns, sizeof(int));
	char msg[MSG] = { 0 }, in[MSG * 4];
	size_t *got = calloc(conns, sizeof(size_t));
	unsigned long done = 0;
	double t0, end;

	if (ep < 0 || !fds || !got)
		die("request_rate");
	for (i = 0; i < conns; i++) {
		fds[i] = connect_to(port);
		ev.data.u32 = i;
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	t0 = now();
	end = t0 + RR_SECONDS;
	for (i = 0; i < conns; i++)
		if (send(fds[i], msg, MSG, 0) != MSG)
			die("send");
	while (now() < end) {
		int n = epoll_wait(ep, evs, 256, 100), k;

		for (k = 0; k < n; k++) {
			int c = evs[k].data.u32;
			ssize_t r = recv(fds[c], in, sizeof(in), MSG_DONTWAIT);

			if (r <= 0)
				die("request_rate recv");
			got[c] += r;
			while (got[c] >= MSG) {	/* a whole response: ask again */
				got[c] -= MSG;
				done++;
				if (send(fds[c], msg, MSG, 0) != MSG)
					die("send");
			}
		}
	}
	t0 = now() - t0;
	for (i = 0; i < conns; i++)
		close(fds[i]);
	close(ep);
	free(fds);
	free(got);
	return done / t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* New connections, each timed from connect() to the first byte back: p50, p99 in ms. */
static void latency(uint16_t port, double *p50, double *p99)
{
	double t[LAT_CONNS];
	char msg[MSG] = { 0 }, c;
	int i;

	for (i = 0; i < LAT_CONNS; i++) {
		double t0 = now();
		int fd = connect_to(port);

		if (send(fd, msg, MSG, 0) != MSG || recv(fd, &c, 1, 0) != 1)
			die("latency");
		t[i] = (now() - t0) * 1000;
		close(fd);
	}
	qsort(t, LAT_CONNS, sizeof(t[0]), cmp_double);
	*p50 = t[LAT_CONNS / 2];
	*p99 = t[LAT_CONNS * 99 / 100];
}

enum { BULK_MIBS, RR_64, RR_512, LAT_P50, LAT_P99, NFIGS };

static const struct {
	const char *label, *unit;
	bool lower_better;
} figs[NFIGS] = {
	{ "bulk echo, 32 MiB each way, 1 connection", "MiB/s", false },
	{ "64 B request/response, 64 connections", "req/s", false },
	{ "64 B request/response, 512 connections", "req/s", false },
	{ "connect to first byte, p50", "ms", true },
	{ "connect to first byte, p99", "ms", true },
};

int main(int argc, char **argv)
{
	static double v[NFIGS][NPATHS][ROUNDS];
	struct rlimit nofile = { 4096, 4096 };
	struct utsname u;
	unsigned int f, p, r;

	if (argc == 3 && !strcmp(argv[1], "--echo-server")) {
		setrlimit(RLIMIT_NOFILE, &nofile);
		echo_server(atoi(argv[2]));
	}
	if (argc != 1) {
		fprintf(stderr, "usage: bench [--echo-server PORT]\n");
		return 2;
	}
	if (setrlimit(RLIMIT_NOFILE, &nofile))
		die("RLIMIT_NOFILE");
	for (r = 0; r < ROUNDS; r++) {
		for (p = 0; p < NPATHS; p++) {
			uint16_t port = paths[p].port;

			v[BULK_MIBS][p][r] = bulk(port);
			v[RR_64][p][r] = request_rate(port, 64);
			v[RR_512][p][r] = request_rate(port, 512);
			latency(port, &v[LAT_P50][p][r], &v[LAT_P99][p][r]);
		}
	}

	uname(&u);
	printf("sctls bench: kernel %s, %ld CPUs; median of %d rounds, paths alternated\n",
	       u.release, sysconf(_SC_NPROCESSORS_ONLN), ROUNDS);
	printf("| measure | unit |");
	for (p = 0; p < NPATHS; p++)
		printf(" %s |", paths[p].name);
	printf(" sctls vs nginx |\n|---|---|");
	for (p = 0; p <= NPATHS; p++)
		printf("---|");
	printf("\n");
	for (f = 0; f < NFIGS; f++) {
		double med[NPATHS];

		printf("| %s | %s |", figs[f].label, figs[f].unit);
		for (p = 0; p < NPATHS; p++) {
			qsort(v[f][p], ROUNDS, sizeof(double), cmp_double);
			med[p] = v[f][p][ROUNDS / 2];
			printf(figs[f].lower_better ? " %.2f |" : " %.0f |", med[p]);
		}
		/* Above 1: sctls better than nginx, whichever way the unit runs. */
		printf(" %.2fx |\n", figs[f].lower_better ? med[P_NGINX] / med[P_SCTLS] :
		       med[P_SCTLS] / med[P_NGINX]);
	}
	return 0;
}
