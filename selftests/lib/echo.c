// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "echo.h"

struct echo_conn {
	uint32_t id;
	bool app_fin, fin_sent;
	size_t tx_credit;
	size_t pending_len;
	uint8_t *pending;	/* app bytes not yet echoed: at most a window */
};

struct echo {
	struct echo_conn *conns;
	size_t nr, cap;
};

static struct echo_conn *echo_find(struct echo *e, uint32_t id)
{
	size_t i;

	for (i = 0; i < e->nr; i++)
		if (e->conns[i].id == id)
			return &e->conns[i];
	return NULL;
}

static struct echo_conn *echo_add(struct echo *e, uint32_t id, uint32_t window)
{
	struct echo_conn *c;

	if (e->nr == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 16;
		struct echo_conn *n = realloc(e->conns, cap * sizeof(*n));

		if (!n)
			return NULL;
		e->conns = n;
		e->cap = cap;
	}
	c = &e->conns[e->nr];
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->tx_credit = window;
	c->pending = malloc(window);
	if (!c->pending)
		return NULL;
	e->nr++;
	return c;
}

static void echo_remove(struct echo *e, struct echo_conn *c)
{
	free(c->pending);
	*c = e->conns[--e->nr];
}

/* Echo what credit allows, give credit back for it, finish after the app. */
static int echo_forward(int fd, struct echo_conn *c)
{
	while (c->pending_len && c->tx_credit) {
		size_t n = c->pending_len < c->tx_credit ? c->pending_len : c->tx_credit;

		if (gw_send(fd, SCTLS_DATA, 0, c->id, 0, c->pending, n) < 0 ||
		    gw_send(fd, SCTLS_CREDIT, 0, c->id, n, NULL, 0) < 0)
			return -1;
		memmove(c->pending, c->pending + n, c->pending_len - n);
		c->pending_len -= n;
		c->tx_credit -= n;
	}
	if (c->app_fin && !c->pending_len && !c->fin_sent) {
		if (gw_send(fd, SCTLS_FIN, 0, c->id, 0, NULL, 0) < 0)
			return -1;
		c->fin_sent = true;
	}
	return 0;
}

int gw_echo(struct gw_reader *rd, unsigned int closes, uint32_t window,
	    int timeout_ms)
{
	struct echo e = { 0 };
	unsigned int closed = 0;
	int failed = 0, ret = 0;

	while (closed < closes) {
		struct sctls_frame f;
		struct echo_conn *c;

		if (gw_next(rd, &f, timeout_ms) != 1) {
			ret = -1;
			break;
		}
		if (f.hdr.type == SCTLS_OPEN) {
			if (!echo_add(&e, f.hdr.conn, window)) {
				ret = -1;
				break;
			}
			continue;
		}
		c = echo_find(&e, f.hdr.conn);
		if (!c) {
			ret = -1;	/* a frame for no connection we know */
			break;
		}
		switch (f.hdr.type) {
		case SCTLS_DATA:
			if (c->pending_len + f.payload_len > window) {
				ret = -1;	/* the kernel overran our credit */
				goto out;
			}
			memcpy(c->pending + c->pending_len, f.payload, f.payload_len);
			c->pending_len += f.payload_len;
			break;
		case SCTLS_CREDIT:
			c->tx_credit += f.hdr.arg;
			break;
		case SCTLS_FIN:
			c->app_fin = true;
			break;
		case SCTLS_CLOSE:
			failed += f.hdr.arg != 0;
			closed++;
			echo_remove(&e, c);
			continue;
		}
		if (echo_forward(rd->fd, c)) {
			ret = -1;
			break;
		}
	}
out:
	while (e.nr)
		echo_remove(&e, &e.conns[0]);
	free(e.conns);
	return ret ? ret : failed;
}
