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
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/stream_addr.h"
#include "http.h"
#include "mbim.h"
#include "modem.h"
#include "tls.h"
#include "uicc.h"
#include "vpcd.h"

#define SESSION_IDLE_SECONDS	30

static void usage(FILE *out)
{
	fprintf(out,
"usage: cardsim --listen unix:PATH|tcp:HOST:PORT CREDENTIALS [options]\n"
"       cardsim --vpcd HOST:PORT CREDENTIALS [card options] [options]\n"
"       cardsim --modem PATH CREDENTIALS [card options] [modem options] [options]\n"
"       cardsim --mbim PATH CREDENTIALS [card options] [modem options] [options]\n"
"\n"
"A simulated UICC with a TLS web server. With --listen, each stream\n"
"accepted is one card connection: TLS, then HTTP/1.1 GET and HEAD. With\n"
"--vpcd, it is the card in vsmartcard's virtual reader for pcscd, and\n"
"speaks BIP in UICC server mode (ETSI TS 102 223): each channel a client\n"
"opens through the terminal is one such connection. It exits when vpcd\n"
"hangs up. With --modem, the same card sits behind a simulated modem, as\n"
"a phone's SIM does: a pseudo-terminal, linked from PATH, that speaks 3GPP\n"
"TS 27.007 AT commands (+CUSATR/W/A/T/E, unsolicited +CUSATP, +CUSATEND)\n"
"to the terminal on the other side and APDUs to the card (the dialect is\n"
"in userspace/cardsim/modem.h). With --mbim, the modem is an MBIM function\n"
"instead (MBIM 1.0 control messages, as libmbim and mbim-proxy speak them:\n"
"the STK service's PAC, TERMINAL RESPONSE and ENVELOPE; userspace/cardsim/\n"
"mbim.h). Either runs until SIGTERM or SIGINT, then removes PATH; the\n"
"terminal may close and reopen it meanwhile.\n"
"\n"
"Credentials, one or both:\n"
"  --psk IDENTITY:HEXKEY     TLS-PSK (TLS 1.2 PSK suites and TLS 1.3 PSK)\n"
"  --psk-file FILE           the same from the first line of FILE\n"
"  --cert FILE [--key FILE]  X.509 certificate chain and key (PEM)\n"
"  --self-signed OUT         a fresh self-signed certificate for localhost,\n"
"                            127.0.0.1 and ::1, written to OUT for clients\n"
"Card options (--vpcd, --modem, --mbim):\n"
"  --port P                  a port to listen on, 4116 or 3516; given\n"
"                            twice, both (default 4116)\n"
"  --channels N              listening channels per port, 1..7 in all\n"
"                            (default 2)\n"
"  --buffer N                the channel buffer asked for, 64..65535\n"
"                            (default 1024)\n"
"  --malformed               test mode: first send three broken proactive\n"
"                            commands and log the terminal's answers\n"
"  --busy                    test mode: answer some envelopes 9300 (toolkit\n"
"                            busy), for the terminal to send them again\n"
"  --trace                   log each APDU and its response, and with\n"
"                            --modem each AT line, with --mbim each message\n"
"Modem options (--modem, --mbim):\n"
"  --baud N                  --modem: the line's speed, N / 10 octets a\n"
"                            second each way, 1200..4000000, 0 unthrottled\n"
"                            (default 115200)\n"
"  --poll-ms N               poll the card with STATUS this often while\n"
"                            the toolkit is enabled and idle, 1..10000\n"
"                            (default 20)\n"
"  --modem-keeps-bip         test mode: BIP is the modem's own, so a TE\n"
"                            profile that claims it is refused (+CUSATW:\n"
"                            5,<conflict> and error 3), or a PAC that claims\n"
"                            it (OPERATION_NOT_ALLOWED)\n"
"  --modem-reset-after N     test mode: once, after N terminal responses,\n"
"                            reset the card; --modem forgets the TE's\n"
"                            profile and settings and says +CUSATEND and\n"
"                            RDY, --mbim's port goes and a new one comes\n"
"  --modem-no-session-end    test mode (--modem): never say +CUSATEND\n"
"  --modem-slow-start MS     test mode (--modem): answer the first lines\n"
"                            after the TE opens the port MS late, as a\n"
"                            modem just powered may\n"
"Options:\n"
"  --root DIR                serve files beneath DIR (default: one\n"
"                            embedded page at /)\n"
"  --max-sessions N          concurrent sessions, 1..64 (default 4); more\n"
"                            clients wait to be accepted\n"
"  --io-size N               bytes per TLS read or write, 256..16384\n"
"                            (default 1024)\n"
"  -V, --version             print the version and exit\n"
"  -h, --help                this text\n"
"\n"
"Exit status: 0 after SIGTERM/SIGINT (--vpcd: when vpcd hangs up); 1 when\n"
"it cannot serve; 2 for bad options. See cardsim(1).\n");
}

static int parse_num(const char *text, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(text, &end, 10);
	return errno || *end || end == text || *out < min || *out > max ? -1 : 0;
}

/*
 * A unix socket's path may be taken over only from a socket nobody listens
 * on (one a cardsim that died left); a file, or a live socket, is kept.
 */
static int unix_path_free(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;
	int fd, ret;

	if (lstat(sun->sun_path, &st))
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket: not replacing it",
			 sun->sun_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ret = fd < 0 ? -1 : connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	if (fd >= 0)
		close(fd);
	if (!ret) {
		snprintf(err, errlen, "another program listens on %s: stop it, or choose another path",
			 sun->sun_path);
		return -1;
	}
	unlink(sun->sun_path);
	return 0;
}

static int listen_on(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (stream_addr_parse(spec, true, &ss, &len, err, errlen))
		return -1;
	if (ss.ss_family == AF_UNIX && unix_path_free((struct sockaddr_un *)&ss, err, errlen))
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* Clients beyond --max-sessions wait here, not refused. */
		if (!bind(fd, (struct sockaddr *)&ss, len) && !listen(fd, 128))
			return fd;
		close(fd);
	}
	if (errno == EADDRINUSE)
		snprintf(err, errlen, "cannot listen on %s: another program has that address "
			 "(ss -ltnp names it): stop it, or give --listen another port", spec);
	else
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

/* Close every descriptor from 3 up but a and b (-1: none). */
static void close_others(int a, int b)
{
	int keep[2] = { a < b ? a : b, a < b ? b : a };
	unsigned int from = 3, i;

	for (i = 0; i < 2; i++) {
		if (keep[i] < (int)from)
			continue;
		if (keep[i] > (int)from)
			close_range(from, keep[i] - 1, 0);
		from = keep[i] + 1;
	}
	close_range(from, ~0U, 0);
}

struct card_sessions {
	SSL_CTX *ctx;
	int root_fd;
	size_t io_size;
};

/*
 * A channel's session: a process on one end of a socket pair, as in stream
 * mode; the card keeps the other end. The session holds nothing else open,
 * so that it sees the card's end close, and so that vpcd sees the card go.
 */
static int start_session(void *arg)
{
	const struct card_sessions *cs = arg;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	pid = fork();
	if (pid == 0) {
		/* The modem's handlers would keep SIGTERM from ending a session. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		close_others(sv[1], cs->root_fd);
		session(cs->ctx, sv[1], cs->root_fd, cs->io_size);
	}
	close(sv[1]);
	if (pid < 0 || fcntl(sv[0], F_SETFL, O_NONBLOCK)) {
		close(sv[0]);
		return -1;
	}
	return sv[0];
}

/* The card in vpcd's reader, or behind a modem (AT or MBIM) if there is one. */
static int run_card(const char *vpcd, const struct modem_options *modem, bool mbim,
		    const struct uicc_options *card, bool tracing)
{
	struct uicc *u = uicc_new(card);
	char err[512] = "";
	int ret;

	if (!u) {
		fprintf(stderr, "cardsim: out of memory\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);	/* sessions reap themselves */
	if (modem && mbim) {
		struct mbim_face_options opt = {
			.poll_ms = modem->poll_ms, .keeps_bip = modem->keeps_bip,
			.reset_after = modem->reset_after, .tracing = tracing,
		};

		ret = mbim_serve(modem->path, u, &opt, err, sizeof(err));
	} else if (modem) {
		ret = modem_run(modem, u, err, sizeof(err));
	} else
		ret = vpcd_run(vpcd, u, tracing, err, sizeof(err));
	uicc_free(u);
	if (ret) {
		fprintf(stderr, "cardsim: %s\n", err);
		return 1;
	}
	fprintf(stderr, "cardsim: %s\n", modem ? "stopped" : "vpcd hung up");
	return 0;
}

enum {
	OPT_MODEM = 256,
	OPT_MBIM,
	OPT_BAUD,
	OPT_POLL_MS,
	OPT_KEEPS_BIP,
	OPT_RESET_AFTER,
	OPT_NO_SESSION_END,
	OPT_SLOW_START,
};

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
		{ "vpcd", required_argument, NULL, 'v' },
		{ "port", required_argument, NULL, 'o' },
		{ "channels", required_argument, NULL, 'n' },
		{ "buffer", required_argument, NULL, 'b' },
		{ "malformed", no_argument, NULL, 'M' },
		{ "trace", no_argument, NULL, 'T' },
		{ "busy", no_argument, NULL, 'B' },
		{ "modem", required_argument, NULL, OPT_MODEM },
		{ "mbim", required_argument, NULL, OPT_MBIM },
		{ "baud", required_argument, NULL, OPT_BAUD },
		{ "poll-ms", required_argument, NULL, OPT_POLL_MS },
		{ "modem-keeps-bip", no_argument, NULL, OPT_KEEPS_BIP },
		{ "modem-reset-after", required_argument, NULL, OPT_RESET_AFTER },
		{ "modem-no-session-end", no_argument, NULL, OPT_NO_SESSION_END },
		{ "modem-slow-start", required_argument, NULL, OPT_SLOW_START },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static char psk_line[1024];
	struct tls_options tls = { 0 };
	struct uicc_options card = { .channels = 2, .buffer_size = 1024 };
	struct modem_options modem = { .baud = MODEM_BAUD_DEFAULT,
					.poll_ms = MODEM_POLL_MS_DEFAULT };
	const char *listen_spec = NULL, *vpcd = NULL, *modem_option = NULL, *at_option = NULL;
	long max_sessions = 4, io_size = 1024, active = 0, num;
	bool tracing = false, mbim = false;
	int opt, lfd, root_fd = -1;
	char err[512];
	SSL_CTX *ctx;
	FILE *f;

	while ((opt = getopt_long(argc, argv, "Vh", opts, NULL)) != -1) {
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
		case 'v':
			vpcd = optarg;
			break;
		case 'o':
			if (parse_num(optarg, 1, 65535, &num) || (num != 4116 && num != 3516) ||
			    card.nr_ports == UICC_MAX_PORTS) {
				snprintf(err, sizeof(err), "--port: 4116 or 3516, at most twice");
				goto bad;
			}
			card.ports[card.nr_ports++] = num;
			break;
		case 'n':
			if (parse_num(optarg, 1, 7, &num)) {
				snprintf(err, sizeof(err), "--channels: 1..7");
				goto bad;
			}
			card.channels = num;
			break;
		case 'b':
			if (parse_num(optarg, 64, 65535, &num)) {
				snprintf(err, sizeof(err), "--buffer: 64..65535");
				goto bad;
			}
			card.buffer_size = num;
			break;
		case 'M':
			card.malformed = true;
			break;
		case 'T':
			tracing = true;
			break;
		case 'B':
			card.busy = true;
			break;
		case OPT_MODEM:
		case OPT_MBIM:
			if (modem.path) {
				snprintf(err, sizeof(err), "one --modem or --mbim");
				goto bad;
			}
			modem.path = optarg;
			mbim = opt == OPT_MBIM;
			break;
		case OPT_BAUD:
			if (parse_num(optarg, 0, 4000000, &num) || (num && num < 1200)) {
				snprintf(err, sizeof(err), "--baud: 1200..4000000, or 0");
				goto bad;
			}
			modem.baud = num;
			modem_option = at_option = "--baud";
			break;
		case OPT_POLL_MS:
			if (parse_num(optarg, 1, 10000, &num)) {
				snprintf(err, sizeof(err), "--poll-ms: 1..10000");
				goto bad;
			}
			modem.poll_ms = num;
			modem_option = "--poll-ms";
			break;
		case OPT_KEEPS_BIP:
			modem.keeps_bip = true;
			modem_option = "--modem-keeps-bip";
			break;
		case OPT_RESET_AFTER:
			if (parse_num(optarg, 1, 1000000, &num)) {
				snprintf(err, sizeof(err), "--modem-reset-after: 1..1000000");
				goto bad;
			}
			modem.reset_after = num;
			modem_option = "--modem-reset-after";
			break;
		case OPT_NO_SESSION_END:
			modem.no_session_end = true;
			modem_option = at_option = "--modem-no-session-end";
			break;
		case OPT_SLOW_START:
			if (parse_num(optarg, 1, 60000, &num)) {
				snprintf(err, sizeof(err), "--modem-slow-start: 1..60000 ms");
				goto bad;
			}
			modem.slow_start_ms = num;
			modem_option = at_option = "--modem-slow-start";
			break;
		case 'V':
			printf("cardsim %s\n", SCTLS_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:	/* getopt said what */
			fprintf(stderr, "Try 'cardsim --help'.\n");
			return 2;
		}
	}
	if (!!listen_spec + !!vpcd + !!modem.path != 1) {
		snprintf(err, sizeof(err), "one of --listen unix:PATH|tcp:HOST:PORT, "
			 "--vpcd HOST:PORT, --modem PATH and --mbim PATH is required");
		goto bad;
	}
	if (modem_option && !modem.path) {
		snprintf(err, sizeof(err), "%s is a modem option: it needs --modem or --mbim",
			 modem_option);
		goto bad;
	}
	if (mbim && at_option) {
		snprintf(err, sizeof(err), "%s: an AT modem's, not an MBIM function's", at_option);
		goto bad;
	}
	modem.tracing = tracing;
	if (!card.nr_ports)
		card.ports[card.nr_ports++] = 4116;
	if (card.channels * card.nr_ports > 7) {
		snprintf(err, sizeof(err), "--channels: at most 7 in all, over both ports");
		goto bad;
	}
	ctx = tls_server_ctx(&tls, err, sizeof(err));
	if (!ctx)
		goto bad;
	if (vpcd || modem.path) {
		struct card_sessions cs = { ctx, root_fd, io_size };
		int ret;

		card.start_session = start_session;
		card.arg = &cs;
		ret = run_card(vpcd, modem.path ? &modem : NULL, mbim, &card, tracing);
		SSL_CTX_free(ctx);
		return ret;
	}
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
	fprintf(stderr, "cardsim: %s\nTry 'cardsim --help'.\n", err);
	return 2;
}
