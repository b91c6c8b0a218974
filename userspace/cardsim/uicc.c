// SPDX-License-Identifier: GPL-2.0
/*
 * cardsim: a UICC's card application toolkit in BIP server mode. The card
 * speaks only when spoken to: after each APDU it says, with 91xx, that it
 * has a proactive command ready, which the terminal then FETCHes and
 * answers with a TERMINAL RESPONSE.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../bip/bip.h"
#include "uicc.h"

/* T=1, no historical bytes; TCK = T0 ^ TD1 ^ TD2. */
const uint8_t uicc_atr[5] = { 0x3b, 0x80, 0x80, 0x01, 0x01 };

#define SW_OK			0x9000
#define SW_BUSY			0x9300
#define SW_WRONG_LENGTH		0x6700
#define SW_CONDITIONS		0x6985
#define SW_WRONG_DATA		0x6a80
#define SW_WRONG_LE(n)		(0x6c00 | (n))
#define SW_INS			0x6d00
#define SW_CLA			0x6e00
#define SW_NO_COMMAND		0x6f00

#define INS_SELECT		0xa4

/* SEND DATA: the chunk a FETCH response carries with room to spare. */
#define SEND_CHUNK		BIP_MAX_RECEIVE
/* How long a session may take to answer the bytes it was just given. */
#define ANSWER_WAIT_MS		50
#define FEED_WAIT_MS		2000

enum ch_state { CH_UNUSED, CH_LISTEN, CH_ESTABLISHED };

struct channel {
	enum ch_state state;
	uint16_t port, buffer;
	int fd;				/* the session's socket, or -1 */
	unsigned int available;		/* announced by the terminal, not yet read */
	unsigned int tx_free;		/* the terminal's transmit buffer, as last told */
	bool ended;			/* the session is done: close once flushed */
};

struct uicc {
	struct uicc_options opt;
	unsigned int channels;		/* the terminal's, from its profile */
	bool toolkit;			/* the profile allows BIP server mode */
	bool events_set;
	unsigned int opens;		/* OPEN CHANNELs answered */
	bool status_asked;		/* GET CHANNEL STATUS, once they are */
	unsigned int malformed_left;
	struct channel ch[BIP_MAX_CHANNELS + 1];	/* by the terminal's id */
	int fed;			/* channel given bytes by this APDU, or 0 */
	unsigned long envelopes;	/* for the busy test mode */

	/* The proactive command announced with 91xx, until its response. */
	bool announced, fetched;
	bool broken;			/* one of the test mode's */
	struct bip_command cmd;
	uint8_t cmd_bytes[BIP_MAX_DATA + 3];
	size_t cmd_len;
	uint16_t open_port;		/* the port of an OPEN CHANNEL */
	uint8_t number;
};

struct uicc *uicc_new(const struct uicc_options *opt)
{
	struct uicc *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->opt = *opt;
	uicc_reset(u);
	return u;
}

static void channel_end(struct channel *c)
{
	if (c->fd >= 0)
		close(c->fd);	/* the session reads EOF and exits */
	c->fd = -1;
	c->available = 0;
	c->ended = false;
}

void uicc_reset(struct uicc *u)
{
	unsigned int i;

	for (i = 0; i <= BIP_MAX_CHANNELS; i++) {
		if (u->ch[i].state != CH_UNUSED)
			channel_end(&u->ch[i]);
		u->ch[i] = (struct channel){ .fd = -1 };
	}
	u->channels = 0;
	u->toolkit = u->events_set = u->announced = u->fetched = u->status_asked = false;
	u->opens = 0;
	u->malformed_left = u->opt.malformed ? 3 : 0;
	u->fed = 0;
}

void uicc_free(struct uicc *u)
{
	if (!u)
		return;
	uicc_reset(u);
	free(u);
}

/* Command numbers run 1 to 255, then again. */
static uint8_t next_number(struct uicc *u)
{
	if (!++u->number)
		u->number = 1;
	return u->number;
}

/* A command to announce: built into cmd_bytes. */
static bool announce(struct uicc *u, const struct bip_command *cmd)
{
	struct bip_buf b;

	u->cmd = *cmd;
	u->cmd.number = next_number(u);
	u->broken = false;
	bip_buf_init(&b, u->cmd_bytes, sizeof(u->cmd_bytes));
	if (bip_command_build(&b, &u->cmd)) {
		fprintf(stderr, "cardsim: cannot build command %02x\n", cmd->type);
		return false;
	}
	u->cmd_len = b.len;
	u->announced = true;
	return true;
}

/* Three broken commands, each answered before the next (test mode). */
static bool announce_malformed(struct uicc *u)
{
	static const uint8_t broken[3][16] = {
		/* DISPLAY TEXT: a type this terminal does not know (31). */
		{ 0xd0, 0x0d, 0x81, 0x03, 0x00, 0x21, 0x80, 0x82, 0x02, 0x81, 0x02,
		  0x8d, 0x02, 0x04, 'h' },
		/* OPEN CHANNEL without its buffer size (36). */
		{ 0xd0, 0x0e, 0x81, 0x03, 0x00, 0x40, 0x00, 0x82, 0x02, 0x81, 0x82,
		  0x3c, 0x03, 0x03, 0x10, 0x14 },
		/* Device identities whose length overruns the command (32). */
		{ 0xd0, 0x09, 0x81, 0x03, 0x00, 0x44, 0x00, 0x82, 0x05, 0x81, 0x82 },
	};
	unsigned int i = 3 - u->malformed_left--;

	u->cmd_len = 2 + broken[i][1];	/* D0, its length, then that much */
	memcpy(u->cmd_bytes, broken[i], u->cmd_len);
	u->cmd_bytes[4] = u->cmd.number = next_number(u);
	u->cmd.type = broken[i][5];
	u->announced = u->broken = true;
	return true;
}

/*
 * Up to SEND_CHUNK octets the session wrote: their count, 0 if none yet,
 * -1 at its end. *more: bytes remain after them.
 */
static ssize_t session_output(struct channel *c, uint8_t *buf, bool *more)
{
	ssize_t n = read(c->fd, buf, SEND_CHUNK);
	int left = 0;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	*more = !ioctl(c->fd, FIONREAD, &left) && left > 0;
	return n;
}

/* What the card wants of the terminal next, if anything. */
static bool next_command(struct uicc *u)
{
	static uint8_t out[SEND_CHUNK];
	struct bip_command cmd = { .source = BIP_DEV_UICC };
	unsigned int i;

	if (!u->toolkit)
		return false;
	if (u->malformed_left)
		return announce_malformed(u);
	if (!u->events_set) {
		cmd.type = BIP_SET_UP_EVENT_LIST;
		cmd.destination = BIP_DEV_TERMINAL;
		cmd.events[0] = BIP_EVENT_DATA_AVAILABLE;
		cmd.events[1] = BIP_EVENT_CHANNEL_STATUS;
		cmd.nr_events = 2;
		return announce(u, &cmd);
	}
	if (u->opens < u->opt.nr_ports * u->opt.channels && u->opens < u->channels) {
		cmd.type = BIP_OPEN_CHANNEL;
		cmd.destination = BIP_DEV_TERMINAL;
		cmd.buffer_size = u->opt.buffer_size;
		cmd.protocol = BIP_TRANSPORT_TCP_SERVER;
		cmd.port = u->open_port = u->opt.ports[u->opens / u->opt.channels];
		return announce(u, &cmd);
	}
	if (!u->status_asked) {
		cmd.type = BIP_GET_CHANNEL_STATUS;
		cmd.destination = BIP_DEV_TERMINAL;
		return announce(u, &cmd);
	}
	/* The terminal's bytes first: a session answers what it has read. */
	for (i = 1; i <= BIP_MAX_CHANNELS; i++) {
		struct channel *c = &u->ch[i];

		if (c->state == CH_ESTABLISHED && c->available) {
			cmd.type = BIP_RECEIVE_DATA;
			cmd.destination = BIP_DEV_CHANNEL(i);
			cmd.want = c->available < BIP_MAX_RECEIVE ? c->available : BIP_MAX_RECEIVE;
			return announce(u, &cmd);
		}
	}
	if (u->fed) {
		struct pollfd p = { .fd = u->ch[u->fed].fd, .events = POLLIN };

		poll(&p, 1, ANSWER_WAIT_MS);
		u->fed = 0;
	}
	for (i = 1; i <= BIP_MAX_CHANNELS; i++) {
		struct channel *c = &u->ch[i];
		bool more = false;
		ssize_t n;

		if (c->state != CH_ESTABLISHED || c->ended)
			continue;
		n = session_output(c, out, &more);
		if (n < 0) {
			c->ended = true;
		} else if (n > 0) {
			cmd.type = BIP_SEND_DATA;
			/* Stored while more follows and fits, then sent. */
			cmd.qualifier = more && n + SEND_CHUNK <= c->tx_free ? 0 : BIP_SEND_NOW;
			cmd.destination = BIP_DEV_CHANNEL(i);
			cmd.data = out;
			cmd.data_len = n;
			return announce(u, &cmd);
		}
	}
	for (i = 1; i <= BIP_MAX_CHANNELS; i++) {
		if (u->ch[i].state == CH_ESTABLISHED && u->ch[i].ended) {
			cmd.type = BIP_CLOSE_CHANNEL;
			cmd.qualifier = BIP_CLOSE_TO_LISTEN;
			cmd.destination = BIP_DEV_CHANNEL(i);
			return announce(u, &cmd);
		}
	}
	return false;
}

/* Write the terminal's bytes to a session, waiting for room if need be. */
static void feed(struct uicc *u, unsigned int id, const uint8_t *data, size_t len)
{
	struct channel *c = &u->ch[id];

	while (len && c->fd >= 0) {
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		ssize_t n = write(c->fd, data, len);

		if (n > 0) {
			data += n;
			len -= n;
		} else if (n < 0 && errno == EAGAIN && poll(&p, 1, FEED_WAIT_MS) > 0) {
			continue;
		} else {
			c->ended = true;	/* the session is gone */
			return;
		}
	}
	u->fed = id;
}

static void on_response(struct uicc *u, const struct bip_response *r)
{
	unsigned int id = bip_command_channel(&u->cmd);
	struct channel *c = &u->ch[id];
	bool ok = r->result < BIP_RES_UNABLE_NOW;
	unsigned int listening = 0;
	size_t i;

	if (u->broken) {
		fprintf(stderr, "cardsim: broken command %u: the terminal answered %02x\n",
			u->cmd.number, r->result);
		return;
	}
	switch (u->cmd.type) {
	case BIP_SET_UP_EVENT_LIST:
		u->events_set = true;
		if (!ok)
			fprintf(stderr, "cardsim: SET UP EVENT LIST refused: %02x\n", r->result);
		break;
	case BIP_OPEN_CHANNEL:
		u->opens++;
		id = r->nr_status ? r->status[0][0] & BIP_CH_ID_MASK : 0;
		if (!ok || !id) {
			fprintf(stderr, "cardsim: OPEN CHANNEL for port %u refused: %02x %02x\n",
				u->open_port, r->result, r->info < 0 ? 0 : r->info);
			break;
		}
		u->ch[id] = (struct channel){ .state = CH_LISTEN, .port = u->open_port, .fd = -1,
					      .buffer = r->buffer_size > 0 ? r->buffer_size :
							u->opt.buffer_size };
		fprintf(stderr, "cardsim: channel %u listens on port %u, buffer %u\n", id,
			u->open_port, u->ch[id].buffer);
		break;
	case BIP_GET_CHANNEL_STATUS:
		u->status_asked = true;
		for (i = 0; i < r->nr_status; i++)
			listening += (r->status[i][0] & BIP_CH_STATE_MASK) == BIP_CH_LISTEN;
		fprintf(stderr, "cardsim: the terminal reports %zu channel(s), %u listening\n",
			r->nr_status, listening);
		break;
	case BIP_RECEIVE_DATA:
		if (!ok || !r->has_data) {
			c->available = 0;
			break;
		}
		feed(u, id, r->data, r->data_len);
		c->available = r->data_left > 0 ? r->data_left : 0;
		break;
	case BIP_SEND_DATA:
		if (!ok)
			c->ended = true;
		c->tx_free = r->data_left >= 0 ? r->data_left : 0;
		break;
	case BIP_CLOSE_CHANNEL:
		channel_end(c);
		c->state = CH_LISTEN;
		break;
	}
}

static void on_event(struct uicc *u, const struct bip_event *e)
{
	unsigned int id = e->status[0] & BIP_CH_ID_MASK;
	struct channel *c = &u->ch[id];

	if (!id || c->state == CH_UNUSED)
		return;
	if (e->event == BIP_EVENT_DATA_AVAILABLE) {
		if (c->state == CH_ESTABLISHED)
			c->available = e->available;
		return;
	}
	switch (e->status[0] & BIP_CH_STATE_MASK) {
	case BIP_CH_ESTABLISHED:
		if (c->state == CH_LISTEN) {
			c->fd = u->opt.start_session(u->opt.arg);
			c->state = CH_ESTABLISHED;
			c->tx_free = c->buffer;
			c->ended = c->fd < 0;
		}
		break;
	default:	/* the client left: LISTEN, link dropped */
		channel_end(c);
		c->state = CH_LISTEN;
	}
}

/* 91xx if a command is ready, else 9000. */
static unsigned int proactive_sw(struct uicc *u)
{
	if (!u->announced && !next_command(u))
		return SW_OK;
	return 0x9100 | (u->cmd_len & 0xff);
}

size_t uicc_apdu(struct uicc *u, const uint8_t *apdu, size_t len, uint8_t *out, size_t cap)
{
	const uint8_t *data = apdu + 5;
	size_t lc = len > 5 ? apdu[4] : 0, n = 0;
	struct bip_response r;
	struct bip_event e;
	struct bip_error err;
	unsigned int sw;
	int le = len == 5 ? apdu[4] : len == 6 + lc ? apdu[5 + lc] : -1;

	if (cap < UICC_RESPONSE_MAX)
		return 0;
	if (len < 4 || (len > 5 && len != 5 + lc && len != 6 + lc)) {
		sw = SW_WRONG_LENGTH;
	} else if (apdu[0] == 0x00 && apdu[1] == INS_SELECT) {
		sw = proactive_sw(u);
	} else if (apdu[0] != BIP_CLA) {
		sw = SW_CLA;
	} else if (apdu[1] == BIP_INS_STATUS) {
		sw = proactive_sw(u);
	} else if (apdu[1] == BIP_INS_TERMINAL_PROFILE) {
		uicc_reset(u);
		u->channels = bip_profile_channels(data, lc);
		u->toolkit = u->channels > 0;
		if (!u->toolkit)
			fprintf(stderr, "cardsim: the terminal profile offers no BIP server mode\n");
		sw = proactive_sw(u);
	} else if (apdu[1] == BIP_INS_FETCH) {
		if (!u->announced || u->fetched) {
			sw = SW_NO_COMMAND;
		} else if (le >= 0 && (le ? (size_t)le : 256) < u->cmd_len) {
			sw = SW_WRONG_LE(u->cmd_len);
		} else {
			memcpy(out, u->cmd_bytes, u->cmd_len);
			n = u->cmd_len;
			u->fetched = true;
			sw = SW_OK;
		}
	} else if (apdu[1] == BIP_INS_TERMINAL_RESPONSE) {
		if (!u->fetched) {
			sw = SW_CONDITIONS;
		} else if (bip_response_parse(data, lc, &r, &err) || r.number != u->cmd.number ||
			   r.type != u->cmd.type) {
			fprintf(stderr, "cardsim: a terminal response that does not answer "
				"command %u: %s\n", u->cmd.number, err.why);
			sw = SW_WRONG_DATA;
		} else {
			u->announced = u->fetched = false;
			on_response(u, &r);
			sw = proactive_sw(u);
		}
	} else if (apdu[1] == BIP_INS_ENVELOPE) {
		if (u->fetched) {
			sw = SW_BUSY;	/* a command is out: its response first */
		} else if (u->opt.busy && ++u->envelopes % 4 == 1) {
			fprintf(stderr, "cardsim: busy: the terminal is to send its envelope again\n");
			sw = SW_BUSY;
		} else if (bip_event_parse(data, lc, &e, &err)) {
			fprintf(stderr, "cardsim: bad envelope: %s\n", err.why);
			sw = SW_WRONG_DATA;
		} else {
			on_event(u, &e);
			sw = proactive_sw(u);
		}
	} else {
		sw = SW_INS;
	}
	out[n++] = sw >> 8;
	out[n++] = sw & 0xff;
	return n;
}
