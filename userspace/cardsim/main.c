// SPDX-License-Identifier: GPL-2.0
/*
 * cardsim: a simulated UICC hosting a smart card web server, for tests and
 * the demo. It behaves like a card, not a fast server: few sessions at a
 * time, small I/O buffers.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/stream_addr.h"
#include "http.h"
#include "tls.h"

#define SESSION_IDLE_SECONDS	30

static void usage(FILE *out)
{
	fprintf(out,
"usage: cardsim --listen unix:PATH|tcp:HOST:PORT CREDENTIALS [options]\n"
"\n"
"A simulated UICC with a TLS web server. Each stream accepted on the\n"
"listener is one card connection: TLS, then HTTP/1.1 GET and HEAD.\n"
"\n"
"Credentials, one or both:\n"
"  --psk IDENTITY:HEXKEY     TLS-PSK (TLS 1.2 PSK suites and TLS 1.3 PSK)\n"
"  --psk-file FILE           the same from the first line of FILE\n"
"  --cert FILE [--key FILE]  X.509 certificate chain and key (PEM)\n"
"  --self-signed OUT         a fresh self-signed certificate for localhost,\n"
"                            127.0.0.1 and ::1, written to OUT for clients\n"
"Options:\n"
"  --root DIR                serve files beneath DIR (default: one\n"
"                            embedded page at /)\n"
"  --max-sessions N          concurrent sessions, 1..64 (default 4); more\n"
"                            clients wait to be accepted\n"
"  --io-size N               bytes per TLS read or write, 256..16384\n"
"                            (default 1024)\n"
"  -h, --help                this text\n");
}

static int parse_num(const char *text, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(text, &end, 10);
	return errno || *end || end == text || *out < min || *out > max ? -1 : 0;
}

static int listen_on(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (stream_addr_parse(spec, true, &ss, &len, err, errlen))
		return -1;
	if (ss.ss_family == AF_UNIX)
		unlink(((struct sockaddr_un *)&ss)->sun_path);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* Clients beyond --max-sessions wait here, not refused. */
		if (!bind(fd, (struct sockaddr *)&ss, len) && !listen(fd, 128))
			return fd;
		close(fd);
	}
	snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(errno));
	return -1;
}

/* One card connection: TLS, then HTTP until the client leaves. */
static void session(SSL_CTX *ctx, int fd, int root_fd, size_t io_size)
{
	struct timeval idle = { .tv_sec = SESSION_IDLE_SECONDS };
	SSL *ssl = SSL_new(ctx);

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &idle, sizeof(idle));
	if (!ssl || !SSL_set_fd(ssl, fd) || SSL_accept(ssl) != 1) {
		fprintf(stderr, "cardsim: TLS handshake failed: %s\n",
			ERR_reason_error_string(ERR_get_error()) ?: "the client left");
		exit(1);
	}
	http_serve(ssl, root_fd, io_size);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	exit(0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "psk", required_argument, NULL, 'p' },
		{ "psk-file", required_argument, NULL, 'P' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "self-signed", required_argument, NULL, 's' },
		{ "root", required_argument, NULL, 'r' },
		{ "max-sessions", required_argument, NULL, 'm' },
		{ "io-size", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static char psk_line[1024];
	struct tls_options tls = { 0 };
	const char *listen_spec = NULL;
	long max_sessions = 4, io_size = 1024, active = 0;
	int opt, lfd, root_fd = -1;
	char err[512];
	SSL_CTX *ctx;
	FILE *f;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'l':
			listen_spec = optarg;
			break;
		case 'p':
			if (tls_parse_psk(&tls, optarg, err, sizeof(err)))
				goto bad;
			break;
		case 'P':
			f = fopen(optarg, "r");
			if (!f || !fgets(psk_line, sizeof(psk_line), f)) {
				snprintf(err, sizeof(err), "%s: cannot read a PSK line", optarg);
				if (f)
					fclose(f);
				goto bad;
			}
			fclose(f);
			psk_line[strcspn(psk_line, "\r\n")] = '\0';
			if (tls_parse_psk(&tls, psk_line, err, sizeof(err)))
				goto bad;
			break;
		case 'c':
			tls.cert = optarg;
			break;
		case 'k':
			tls.key = optarg;
			break;
		case 's':
			tls.self_signed_out = optarg;
			break;
		case 'r':
			root_fd = open(optarg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (root_fd < 0) {
				snprintf(err, sizeof(err), "%s: %s", optarg, strerror(errno));
				goto bad;
			}
			break;
		case 'm':
			if (parse_num(optarg, 1, 64, &max_sessions)) {
				snprintf(err, sizeof(err), "--max-sessions: 1..64");
				goto bad;
			}
			break;
		case 'i':
			if (parse_num(optarg, 256, 16384, &io_size)) {
				snprintf(err, sizeof(err), "--io-size: 256..16384");
				goto bad;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!listen_spec) {
		snprintf(err, sizeof(err), "--listen unix:PATH or tcp:HOST:PORT is required");
		goto bad;
	}
	ctx = tls_server_ctx(&tls, err, sizeof(err));
	if (!ctx)
		goto bad;
	lfd = listen_on(listen_spec, err, sizeof(err));
	if (lfd < 0) {
		fprintf(stderr, "cardsim: %s\n", err);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "cardsim: ready on %s\n", listen_spec);

	for (;;) {
		pid_t pid;
		int fd;

		/* A card has few channels: no more sessions than that at once. */
		while (active > 0 && waitpid(-1, NULL, active >= max_sessions ? 0 : WNOHANG) > 0)
			active--;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fprintf(stderr, "cardsim: accept: %s\n", strerror(errno));
			return 1;
		}
		pid = fork();
		if (pid == 0) {
			close(lfd);
			session(ctx, fd, root_fd, io_size);
		}
		close(fd);
		if (pid > 0)
			active++;
	}

bad:
	fprintf(stderr, "cardsim: %s\n", err);
	return 2;
}
