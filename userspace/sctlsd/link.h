/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sctlsd: card links. A link kind is a table of functions; the event loop
 * only ever calls through it, so kinds slot in beside each other. Each app
 * connection gets a channel on its port's link; a channel exposes an fd the
 * loop watches.
 */
#ifndef SCTLSD_LINK_H
#define SCTLSD_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct link;

/* A toolkit link's state, as its terminal last published it (--status). */
struct link_status {
	bool card;			/* it talks to the card */
	unsigned int listening;		/* channels the card opened */
	unsigned int established;	/* of those, carrying a connection */
	unsigned int waiting;		/* app connections waiting for one */
	uint64_t exchanges;		/* with the card: commands, responses, events */
	char why[256];			/* no card: why, as logged */
};

struct link_ops {
	const char *scheme;	/* "unix", "tcp", "pcsc", "at": the text before ':' */
	/* Parse "scheme:ADDRESS"; on error, say why in err. */
	int (*parse)(struct link *link, const char *arg, char *err, size_t errlen);
	/* Optional: start what the link needs before the first connection. */
	int (*start)(const struct link *link, char *err, size_t errlen);
	/* Start a channel: a non-blocking fd, or -errno; *up if already up. */
	int (*connect)(const struct link *link, bool *up);
	/* Whether a started channel is up: 0, or the errno it failed with. */
	int (*connected)(int fd);
	ssize_t (*send)(int fd, const void *buf, size_t len);
	ssize_t (*recv)(int fd, void *buf, size_t len);
	void (*shutdown)(int fd);	/* no more bytes to the card */
	void (*close)(int fd, bool reset);
	/* Optional: the card's side, for kinds that reach it through a terminal. */
	void (*status)(const struct link *link, struct link_status *st);
};

struct link {
	const struct link_ops *ops;
	uint16_t port;			/* the served port it carries */
	char spec[256];			/* as given, for messages */
	struct sockaddr_storage addr;	/* stream links */
	socklen_t addrlen;
	void *priv;			/* pcsc and at links: the card's terminal */
};

/* Parse "PORT=scheme:arg" into link; on error, say why in err. */
int link_parse(struct link *link, const char *text, char *err, size_t errlen);

/*
 * pcsc, at and mbim links are a BIP terminal's (terminal.c, link_toolkit.c)
 * with the card through a PC/SC reader (card_pcsc.c, link_pcsc.c) or a
 * modem (card_at.c; card_mbim.c, link_mbim.c). With PCSC=0 or MBIM=0,
 * link_nopcsc.c or link_nombim.c refuse those links: sctlsd then builds
 * without pcsc-lite or libmbim.
 */
extern const struct link_ops link_unix_ops, link_tcp_ops, link_pcsc_ops, link_at_ops,
	link_mbim_ops;

/* What --help says of pcsc and mbim links in this build. */
extern const char link_pcsc_usage[], link_mbim_usage[];

/* Sending and half-closing, for every kind whose channels are stream sockets. */
ssize_t link_stream_send(int fd, const void *buf, size_t len);
void link_stream_shutdown(int fd);

#endif
