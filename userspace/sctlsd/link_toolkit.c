// SPDX-License-Identifier: GPL-2.0
/*
 * sctlsd: links to a card that a BIP terminal reaches (pcsc:READER,
 * at:DEVICE). Each app connection is a socket pair:
 * the relay keeps one end, the reader's terminal thread the other. A stream
 * socket pair has no reset, so when the terminal resets a connection it
 * says so here first, and the relay's read of the end of that stream
 * returns ECONNRESET instead.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "link.h"
#include "terminal.h"

/* The relay's ends: which connection each is, and whether it was reset. */
struct end {
	int fd;
	uint64_t id;
	bool reset;
};

static struct {
	pthread_mutex_t lock;
	struct end *ends;
	size_t nr, cap;
	uint64_t next_id;
} ends = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct end *end_by_fd(int fd)
{
	size_t i;

	for (i = 0; i < ends.nr; i++)
		if (ends.ends[i].fd == fd)
			return &ends.ends[i];
	return NULL;
}

void terminal_reset_hook(uint64_t id)
{
	size_t i;

	pthread_mutex_lock(&ends.lock);
	for (i = 0; i < ends.nr; i++)
		if (ends.ends[i].id == id)
			ends.ends[i].reset = true;
	pthread_mutex_unlock(&ends.lock);
}

int toolkit_parse(struct link *link, const char *arg, const struct card_ops *ops, char *err,
		  size_t errlen)
{
	struct terminal *t = terminal_get(ops, arg + strlen(ops->kind) + 1, err, errlen);

	if (!t)
		return -1;
	terminal_add_port(t, link->port);
	link->priv = t;
	return 0;
}

int toolkit_start(const struct link *link, char *err, size_t errlen)
{
	return terminal_start(link->priv, err, errlen);
}

int toolkit_connect(const struct link *link, bool *up)
{
	struct end *grown;
	uint64_t id;
	int sv[2], ret;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		return -errno;
	pthread_mutex_lock(&ends.lock);
	if (ends.nr == ends.cap) {
		size_t cap = ends.cap ? 2 * ends.cap : 64;

		grown = realloc(ends.ends, cap * sizeof(*grown));
		if (!grown) {
			pthread_mutex_unlock(&ends.lock);
			close(sv[0]);
			close(sv[1]);
			return -ENOMEM;
		}
		ends.ends = grown;
		ends.cap = cap;
	}
	id = ++ends.next_id;
	ends.ends[ends.nr++] = (struct end){ .fd = sv[0], .id = id };
	pthread_mutex_unlock(&ends.lock);
	/* Up at once: the bytes wait in the pair until the card has a channel. */
	*up = true;
	ret = terminal_attach(link->priv, link->port, sv[1], id);
	if (ret) {
		close(sv[1]);
		link->ops->close(sv[0], true);
		return ret;
	}
	return sv[0];
}

int toolkit_connected(int fd)
{
	(void)fd;
	return 0;
}

ssize_t toolkit_recv(int fd, void *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
	struct end *e;

	if (n == 0) {
		pthread_mutex_lock(&ends.lock);
		e = end_by_fd(fd);
		if (e && e->reset) {
			errno = ECONNRESET;
			n = -1;
		}
		pthread_mutex_unlock(&ends.lock);
	}
	return n;
}

/* A reset needs nothing more: the terminal sees the pair close either way. */
void toolkit_status(const struct link *link, struct link_status *st)
{
	terminal_status(link->priv, st);
}

void toolkit_close(int fd, bool reset)
{
	struct end *e;

	(void)reset;
	pthread_mutex_lock(&ends.lock);
	e = end_by_fd(fd);
	if (e)
		*e = ends.ends[--ends.nr];
	pthread_mutex_unlock(&ends.lock);
	close(fd);
}

static int at_parse(struct link *link, const char *arg, char *err, size_t errlen)
{
	return toolkit_parse(link, arg, &card_at_ops, err, errlen);
}

const struct link_ops link_at_ops = TOOLKIT_LINK_OPS("at", at_parse);
