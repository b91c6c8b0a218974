// SPDX-License-Identifier: GPL-2.0
/*
 * sctlsd: a BIP terminal in UICC server mode. It takes the card's
 * proactive commands, carries them out on app connections and answers each
 * with a TERMINAL RESPONSE; it tells the card of data and of connections
 * with event ENVELOPEs. How those reach the card is the card link's
 * business (card.h): APDUs through PC/SC, or a modem's AT commands.
 * ../shared/reference/bip.md has the protocol facts.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../bip/bip.h"
#include "card.h"
#include "log.h"
#include "terminal.h"

#define MAX_TERMINALS		8
#define MAX_PORTS		8
#define QUEUE_MAX		64	/* app connections waiting for a channel */
#define QUEUE_TIMEOUT_MS	10000
#define BUFFER_MAX		1500	/* the channel buffer granted at most */
#define POLL_MS			20	/* STATUS while a channel is established */
#define RECONNECT_MS		500
#define RECONNECT_MAX_MS	5000	/* the same failure again: up to this apart */
#define NO_CHANNELS_MS		10000	/* connected, and still no channel: say so */
#define PROACTIVE_BURST		32	/* commands carried out before the apps' turn */
#define PRESENCE_MS		1000
#define BUSY_RETRIES		50	/* ENVELOPE answered 9300 */
#define BUSY_WAIT_MS		10

struct app {
	int fd;				/* our end of the socket pair */
	uint64_t id;
	uint16_t port;
	long long queued, deadline;	/* queued: reset at the deadline */
	bool waited;			/* found no free channel */
};

struct channel {
	bool open;
	bool established;
	uint16_t port, buffer;
	struct app app;
	uint8_t *rx, *tx;		/* app -> card, card -> app: a buffer each */
	size_t rx_len, tx_len;
	bool announced;			/* Data available sent, not all read yet */
};

struct terminal {
	struct card *card;
	const char *kind;		/* the card link's, for messages */
	uint16_t ports[MAX_PORTS];
	unsigned int nr_ports;
	bool started;
	pthread_t thread;

	/* Handed over by the relay's thread. */
	pthread_mutex_t lock;
	int wake;			/* eventfd */
	struct app incoming[QUEUE_MAX];
	unsigned int nr_incoming;

	/* The terminal's thread's own. */
	bool have_card;
	bool more_proactive;		/* a burst ended with commands still to come */
	long long next_connect, connected_at;
	int retry_ms;
	bool told_no_channels;
	char last_why[sizeof(((struct card *)0)->why)];	/* logged once */
	bool events_data, events_status;	/* SET UP EVENT LIST */
	struct channel ch[BIP_MAX_CHANNELS + 1];
	struct app queue[QUEUE_MAX];
	unsigned int nr_queue;
	uint64_t exchanges;

	struct link_status shown;	/* under lock */
};

static struct terminal *terminals[MAX_TERMINALS];
static pthread_mutex_t terminals_lock = PTHREAD_MUTEX_INITIALIZER;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

struct terminal *terminal_get(const struct card_ops *ops, const char *spec, char *err,
			      size_t errlen)
{
	struct terminal *t = NULL;
	int i;

	pthread_mutex_lock(&terminals_lock);
	for (i = 0; i < MAX_TERMINALS && terminals[i]; i++)
		if (terminals[i]->card->ops == ops && !strcmp(terminals[i]->card->spec, spec))
			break;
	if (i < MAX_TERMINALS && terminals[i]) {
		t = terminals[i];
	} else if (i == MAX_TERMINALS) {
		snprintf(err, errlen, "more than %d card links", MAX_TERMINALS);
	} else if (strlen(spec) >= sizeof(t->card->spec) || !*spec) {
		snprintf(err, errlen, "a %s name of 1 to %zu characters is needed",
			 ops->what, sizeof(t->card->spec) - 1);
	} else if (!(t = calloc(1, sizeof(*t)))) {
		snprintf(err, errlen, "out of memory");
	} else if (!(t->card = ops->create(spec, err, errlen))) {
		free(t);
		t = NULL;
	} else {
		t->card->ops = ops;
		t->kind = ops->kind;
		snprintf(t->card->spec, sizeof(t->card->spec), "%s", spec);
		snprintf(t->card->name, sizeof(t->card->name), "%s", spec);
		pthread_mutex_init(&t->lock, NULL);
		t->wake = -1;
		terminals[i] = t;
	}
	pthread_mutex_unlock(&terminals_lock);
	return t;
}

static bool port_served(const struct terminal *t, uint16_t port)
{
	unsigned int i;

	for (i = 0; i < t->nr_ports; i++)
		if (t->ports[i] == port)
			return true;
	return false;
}

void terminal_add_port(struct terminal *t, uint16_t port)
{
	if (!port_served(t, port) && t->nr_ports < MAX_PORTS)
		t->ports[t->nr_ports++] = port;
}

int terminal_attach(struct terminal *t, uint16_t port, int fd, uint64_t id)
{
	uint64_t one = 1;
	int ret = -EAGAIN;

	pthread_mutex_lock(&t->lock);
	if (t->nr_incoming < QUEUE_MAX) {
		t->incoming[t->nr_incoming++] = (struct app){ .fd = fd, .id = id, .port = port };
		ret = 0;
	}
	pthread_mutex_unlock(&t->lock);
	if (!ret && write(t->wake, &one, sizeof(one)) != sizeof(one))
		log_err("%s: cannot wake the terminal thread: %s", t->kind, strerror(errno));
	return ret;
}

/* End an app connection: orderly (FIN) or reset. */
static void app_end(struct app *a, bool reset)
{
	if (a->fd < 0)
		return;
	if (reset)
		terminal_reset_hook(a->id);
	close(a->fd);
	a->fd = -1;
}

static void card_gone(struct terminal *t);

/* --- Proactive commands ---------------------------------------------- */

static struct channel *channel_of(struct terminal *t, const struct bip_command *cmd)
{
	unsigned int id = bip_command_channel(cmd);

	return id && t->ch[id].open ? &t->ch[id] : NULL;
}

static uint8_t status_byte(const struct terminal *t, unsigned int id)
{
	const struct channel *c = &t->ch[id];

	return (c->established ? BIP_CH_ESTABLISHED : c->open ? BIP_CH_LISTEN : BIP_CH_CLOSED) |
	       id;
}

static void open_channel(struct terminal *t, const struct bip_command *cmd,
			 struct bip_response *r)
{
	unsigned int id, buffer = cmd->buffer_size < BUFFER_MAX ? cmd->buffer_size : BUFFER_MAX;
	struct channel *c;

	if (cmd->protocol != BIP_TRANSPORT_TCP_SERVER) {
		r->result = BIP_RES_BIP_ERROR;
		r->info = BIP_ERR_TRANSPORT_LEVEL;
		return;
	}
	if (!port_served(t, cmd->port)) {
		log_warn("%s: the card asked to listen on port %u, not one served through %s",
			 t->kind, cmd->port, t->card->name);
		r->result = BIP_RES_BIP_ERROR;
		r->info = BIP_ERR_PORT;
		return;
	}
	for (id = 1; id <= BIP_MAX_CHANNELS && t->ch[id].open; id++)
		;
	if (id > BIP_MAX_CHANNELS || !buffer) {
		r->result = BIP_RES_BIP_ERROR;
		r->info = id > BIP_MAX_CHANNELS ? BIP_ERR_NO_CHANNEL : BIP_ERR_BUFFER_SIZE;
		return;
	}
	c = &t->ch[id];
	c->rx = malloc(buffer);
	c->tx = malloc(buffer);
	if (!c->rx || !c->tx) {
		free(c->rx);
		free(c->tx);
		c->rx = c->tx = NULL;
		r->result = BIP_RES_UNABLE_NOW;
		return;
	}
	c->open = true;
	c->port = cmd->port;
	c->buffer = buffer;
	c->app.fd = -1;
	if (buffer < cmd->buffer_size)
		r->result = BIP_RES_MODIFIED;
	r->status[0][0] = status_byte(t, id);
	r->status[0][1] = BIP_CH_NO_INFO;
	r->nr_status = 1;
	r->buffer_size = buffer;
	log_info("%s: channel %u listens on port %u (buffer %u)", t->kind, id, cmd->port, buffer);
}

/* The app's connection ends; the channel listens again, or closes. */
static void channel_drop(struct channel *c, bool reset, bool close_channel)
{
	app_end(&c->app, reset);
	c->established = c->announced = false;
	c->rx_len = c->tx_len = 0;
	if (close_channel) {
		free(c->rx);
		free(c->tx);
		memset(c, 0, sizeof(*c));
		c->app.fd = -1;
	}
}

/* A channel data length object's octet: FF when there are more than 254. */
static int length_byte(size_t n)
{
	return n > 0xfe ? 0xff : (int)n;
}

/* Bytes the card sent, to the app as its socket takes them. */
static void flush_to_app(struct channel *c)
{
	while (c->tx_len && c->app.fd >= 0) {
		ssize_t n = send(c->app.fd, c->tx, c->tx_len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n <= 0)
			return;	/* full; or gone, which reading will tell */
		memmove(c->tx, c->tx + n, c->tx_len - n);
		c->tx_len -= n;
	}
}

static void carry_out(struct terminal *t, const struct bip_command *cmd, struct bip_response *r)
{
	struct channel *c = channel_of(t, cmd);
	size_t i, n;

	switch (cmd->type) {
	case BIP_SET_UP_EVENT_LIST:
		t->events_data = t->events_status = false;
		for (i = 0; i < cmd->nr_events; i++) {
			t->events_data |= cmd->events[i] == BIP_EVENT_DATA_AVAILABLE;
			t->events_status |= cmd->events[i] == BIP_EVENT_CHANNEL_STATUS;
		}
		return;
	case BIP_OPEN_CHANNEL:
		open_channel(t, cmd, r);
		return;
	case BIP_GET_CHANNEL_STATUS:
		for (i = 1; i <= BIP_MAX_CHANNELS; i++) {
			if (!t->ch[i].open)
				continue;
			r->status[r->nr_status][0] = status_byte(t, i);
			r->status[r->nr_status++][1] = BIP_CH_NO_INFO;
		}
		return;
	}
	if (!c || (cmd->type != BIP_CLOSE_CHANNEL && !c->established)) {
		r->result = BIP_RES_BIP_ERROR;
		r->info = c ? BIP_ERR_CHANNEL_CLOSED : BIP_ERR_CHANNEL_ID;
		return;
	}
	switch (cmd->type) {
	case BIP_CLOSE_CHANNEL:
		/* What the card sent goes first; then the app sees FIN. */
		flush_to_app(c);
		channel_drop(c, false, !(cmd->qualifier & BIP_CLOSE_TO_LISTEN));
		break;
	case BIP_RECEIVE_DATA:
		n = cmd->want < c->rx_len ? cmd->want : c->rx_len;
		if (n > BIP_MAX_RECEIVE)
			n = BIP_MAX_RECEIVE;
		if (n < cmd->want)
			r->result = BIP_RES_MISSING_INFO;
		/* The buffer moves once the response is built: see proactive(). */
		r->has_data = true;
		r->data = c->rx;
		r->data_len = n;
		r->data_left = length_byte(c->rx_len - n);
		break;
	case BIP_SEND_DATA:
		if (cmd->data_len > (size_t)c->buffer - c->tx_len)
			flush_to_app(c);	/* room, if the app's side takes it */
		if (cmd->data_len > (size_t)c->buffer - c->tx_len) {
			r->result = BIP_RES_BIP_ERROR;
			r->info = BIP_ERR_BUFFER_SIZE;
			break;
		}
		memcpy(c->tx + c->tx_len, cmd->data, cmd->data_len);
		c->tx_len += cmd->data_len;
		if (cmd->qualifier & BIP_SEND_NOW)
			flush_to_app(c);
		r->data_left = length_byte(c->buffer - c->tx_len);
		break;
	}
}

/*
 * Carry out and answer the card's proactive commands while it has them, a
 * burst at a time: the apps' connections and their waits are served in
 * between (more_proactive says to come back at once).
 */
/* FETCH, counted as an exchange with the card. */
static int fetch(struct terminal *t, uint8_t *buf, size_t len)
{
	t->exchanges++;
	return t->card->ops->fetch(t->card, buf, len);
}

static int proactive(struct terminal *t)
{
	const struct card_ops *ops = t->card->ops;
	unsigned int burst = 0;
	uint8_t fetched[258];
	int len = 0, ret;

	t->more_proactive = false;
	while (t->have_card && (len = fetch(t, fetched, sizeof(fetched))) > 0) {
		uint8_t tr[BIP_MAX_DATA];
		struct bip_command cmd;
		struct bip_response r;
		struct bip_error err;
		struct channel *c;
		struct bip_buf b;

		if (bip_command_parse(fetched, len, &cmd, &err)) {
			log_warn("%s: a proactive command the terminal cannot carry out: %s; "
				 "answering %02x", t->kind, err.why, err.result);
			bip_response_init(&r, &cmd, err.result);
		} else {
			bip_response_init(&r, &cmd, BIP_RES_OK);
			carry_out(t, &cmd, &r);
		}
		bip_buf_init(&b, tr, sizeof(tr));
		if (bip_response_build(&b, &r)) {
			log_err("%s: cannot build the response to command %02x", t->kind, cmd.type);
			return -1;
		}
		t->exchanges++;
		ret = ops->respond(t->card, b.data, b.len);
		if (ret == CARD_LOST) {
			card_gone(t);
			return -1;
		}
		/* RECEIVE DATA: what was given leaves the buffer once delivered. */
		c = cmd.type == BIP_RECEIVE_DATA && r.has_data ? channel_of(t, &cmd) : NULL;
		if (c && ret == CARD_OK) {
			memmove(c->rx, c->rx + r.data_len, c->rx_len - r.data_len);
			c->rx_len -= r.data_len;
			if (!c->rx_len)
				c->announced = false;	/* the card read all it was told of */
		}
		if (++burst == PROACTIVE_BURST) {
			t->more_proactive = true;
			return 0;
		}
	}
	if (len < 0) {
		card_gone(t);
		return -1;
	}
	return 0;
}

/*
 * An event, sent again while the card's toolkit is busy: busy with a
 * command of its own, perhaps, which is carried out first. 0, 1 if it was
 * not delivered, -1 if the card is lost.
 */
static int envelope(struct terminal *t, const struct bip_event *e)
{
	uint8_t buf[64];
	struct bip_buf b;
	unsigned int tries;

	bip_buf_init(&b, buf, sizeof(buf));
	if (bip_event_build(&b, e))
		return -1;
	for (tries = 0; tries < BUSY_RETRIES && t->have_card; tries++) {
		t->exchanges++;
		switch (t->card->ops->envelope(t->card, b.data, b.len)) {
		case CARD_OK:
			return proactive(t);
		case CARD_REFUSED:
			return 1;
		case CARD_LOST:
			card_gone(t);
			return -1;
		}
		if (proactive(t))
			return -1;
		poll(NULL, 0, BUSY_WAIT_MS);
	}
	if (!t->have_card)
		return -1;
	log_warn("%s: the card stayed busy; event %02x not delivered", t->kind, e->event);
	return 1;
}

static int channel_event(struct terminal *t, unsigned int id, uint8_t info)
{
	struct bip_event e = { .event = BIP_EVENT_CHANNEL_STATUS,
			       .status = { status_byte(t, id), info } };

	int ret = t->events_status ? envelope(t, &e) : 0;

	if (ret > 0)
		log_warn("%s: channel %u: the card was not told its status %02x", t->kind, id,
			 e.status[0]);
	return ret < 0 ? ret : 0;
}

static int data_event(struct terminal *t, unsigned int id)
{
	struct channel *c = &t->ch[id];
	struct bip_event e = { .event = BIP_EVENT_DATA_AVAILABLE,
			       .status = { status_byte(t, id), BIP_CH_NO_INFO },
			       .available = length_byte(c->rx_len) };

	int ret;

	if (!t->events_data || c->announced)
		return 0;
	c->announced = true;
	ret = envelope(t, &e);
	if (ret > 0)
		c->announced = false;	/* not delivered: the loop tells it again */
	return ret < 0 ? ret : 0;
}

/* --- The card, coming and going --------------------------------------- */

/* Why the card cannot be had, said once until the reason changes. */
static void tell_why(struct terminal *t, const char *what)
{
	if (!strcmp(t->last_why, t->card->why))
		return;
	snprintf(t->last_why, sizeof(t->last_why), "%s", t->card->why);
	log_warn("%s: %s %s: %s", t->kind, what, t->card->name, t->card->why);
}

static void card_gone(struct terminal *t)
{
	unsigned int i;

	if (!t->have_card)
		return;
	log_warn("%s: lost the card in %s: %s; resetting its connections", t->kind,
		 t->card->name, t->card->why);
	snprintf(t->last_why, sizeof(t->last_why), "%s", t->card->why);
	for (i = 1; i <= BIP_MAX_CHANNELS; i++)
		if (t->ch[i].open)
			channel_drop(&t->ch[i], true, true);
	t->card->ops->disconnect(t->card);
	t->have_card = false;
	t->events_data = t->events_status = false;
}

/* Reach the card and declare the profile: then the card opens its channels. */
static void card_connect(struct terminal *t)
{
	uint8_t tp[32];
	size_t tp_len = bip_profile_build(tp, sizeof(tp), BIP_MAX_CHANNELS);

	if (now_ms() < t->next_connect)
		return;
	if (t->card->ops->connect(t->card, tp, tp_len)) {
		t->card->ops->disconnect(t->card);
		/* The same failure again: try less often, down to RECONNECT_MAX_MS. */
		if (!strcmp(t->last_why, t->card->why))
			t->retry_ms = t->retry_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS :
				      t->retry_ms * 2;
		else
			t->retry_ms = RECONNECT_MS;
		t->next_connect = now_ms() + t->retry_ms;
		tell_why(t, "cannot reach the card through");
		return;
	}
	t->have_card = true;
	t->last_why[0] = '\0';
	t->retry_ms = RECONNECT_MS;
	t->connected_at = now_ms();
	t->told_no_channels = false;
	proactive(t);
}

/* A card that opens no channel may open them only when it starts: say so once. */
static void check_channels(struct terminal *t, long long now)
{
	unsigned int i;

	if (t->told_no_channels || now - t->connected_at < NO_CHANNELS_MS)
		return;
	for (i = 1; i <= BIP_MAX_CHANNELS; i++)
		if (t->ch[i].open)
			return;
	t->told_no_channels = true;
	log_warn("%s: the card in %s opened no channel in %d s; it may open them only when it "
		 "starts (restart the modem or put the card in again)", t->kind, t->card->name,
		 NO_CHANNELS_MS / 1000);
}

/* Data the card was not told of (an event not delivered): tell it now. */
static void announce(struct terminal *t)
{
	unsigned int i;

	for (i = 1; i <= BIP_MAX_CHANNELS && t->have_card; i++)
		if (t->ch[i].established && t->ch[i].rx_len && !t->ch[i].announced)
			data_event(t, i);
}

/* --- App connections -------------------------------------------------- */

static int free_channel(const struct terminal *t, uint16_t port)
{
	unsigned int i;

	for (i = 1; i <= BIP_MAX_CHANNELS; i++)
		if (t->ch[i].open && !t->ch[i].established && t->ch[i].port == port)
			return i;
	return 0;
}

static void dequeue(struct terminal *t, unsigned int q)
{
	memmove(&t->queue[q], &t->queue[q + 1], (--t->nr_queue - q) * sizeof(t->queue[0]));
}

/* Give queued connections the channels that are free, oldest first. */
static void assign(struct terminal *t)
{
	unsigned int q = 0, id;

	while (q < t->nr_queue && t->have_card) {
		id = free_channel(t, t->queue[q].port);
		if (!id) {
			t->queue[q++].waited = true;
			continue;
		}
		if (t->queue[q].waited)
			log_info("%s: a connection to port %u waited %lld ms for a channel",
				 t->kind, t->queue[q].port, now_ms() - t->queue[q].queued);
		t->ch[id].app = t->queue[q];
		t->ch[id].established = true;
		dequeue(t, q);
		if (channel_event(t, id, BIP_CH_NO_INFO))
			return;
	}
}

static void take_incoming(struct terminal *t)
{
	uint64_t n;
	unsigned int i;

	if (read(t->wake, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_err("%s: eventfd: %s", t->kind, strerror(errno));
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->nr_incoming; i++) {
		struct app a = t->incoming[i];

		if (t->nr_queue == QUEUE_MAX) {
			log_warn("%s: %u connections already wait for a channel; resetting one",
				 t->kind, QUEUE_MAX);
			app_end(&a, true);
			continue;
		}
		a.queued = now_ms();
		a.deadline = a.queued + QUEUE_TIMEOUT_MS;
		t->queue[t->nr_queue++] = a;
	}
	t->nr_incoming = 0;
	pthread_mutex_unlock(&t->lock);
}

/* The app's bytes into the channel's buffer, and the card told. */
static int from_app(struct terminal *t, unsigned int id)
{
	struct channel *c = &t->ch[id];
	ssize_t n = 1;

	while (c->rx_len < c->buffer && n > 0) {
		n = recv(c->app.fd, c->rx + c->rx_len, c->buffer - c->rx_len, MSG_DONTWAIT);
		if (n > 0)
			c->rx_len += n;
	}
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		/* FIN or reset: the link dropped, the channel listens again. */
		channel_drop(c, n < 0, false);
		if (channel_event(t, id, BIP_CH_LINK_DROPPED))
			return -1;
		assign(t);
		return 0;
	}
	return c->rx_len ? data_event(t, id) : 0;
}

static void expire(struct terminal *t, long long now)
{
	unsigned int q = 0;

	while (q < t->nr_queue) {
		if (t->queue[q].deadline <= now) {
			log_warn("%s: a connection to port %u waited %d s for a channel; resetting it",
				 t->kind, t->queue[q].port, QUEUE_TIMEOUT_MS / 1000);
			app_end(&t->queue[q], true);
			dequeue(t, q);
		} else {
			q++;
		}
	}
}

/* Publish the state for terminal_status(), once a turn of the loop. */
static void publish(struct terminal *t)
{
	struct link_status st = { .card = t->have_card, .waiting = t->nr_queue,
				  .exchanges = t->exchanges };
	unsigned int i;

	for (i = 1; i <= BIP_MAX_CHANNELS; i++) {
		st.listening += t->ch[i].open;
		st.established += t->ch[i].established;
	}
	if (!t->have_card)
		snprintf(st.why, sizeof(st.why), "%s", t->last_why);
	pthread_mutex_lock(&t->lock);
	t->shown = st;
	pthread_mutex_unlock(&t->lock);
}

void terminal_status(struct terminal *t, struct link_status *st)
{
	pthread_mutex_lock(&t->lock);
	*st = t->shown;
	pthread_mutex_unlock(&t->lock);
}

static void *terminal_loop(void *arg)
{
	struct terminal *t = arg;
	const struct card_ops *ops = t->card->ops;

	for (;;) {
		struct pollfd fds[2 + BIP_MAX_CHANNELS];
		unsigned int ids[2 + BIP_MAX_CHANNELS], nfds = 1, first_app, i;
		int timeout, card_fd = -1;
		bool active = false;

		if (!t->have_card) {
			card_connect(t);
			if (t->have_card)
				assign(t);
		}
		publish(t);
		fds[0] = (struct pollfd){ .fd = t->wake, .events = POLLIN };
		if (t->have_card && ops->fd && (card_fd = ops->fd(t->card)) >= 0)
			fds[nfds++] = (struct pollfd){ .fd = card_fd, .events = POLLIN };
		first_app = nfds;
		for (i = 1; i <= BIP_MAX_CHANNELS; i++) {
			struct channel *c = &t->ch[i];

			if (!c->established || c->app.fd < 0)
				continue;
			active = true;
			fds[nfds] = (struct pollfd){ .fd = c->app.fd,
						     .events = (c->rx_len < c->buffer ? POLLIN : 0) |
							       (c->tx_len ? POLLOUT : 0) };
			ids[nfds++] = i;
		}
		/* Idle, it still looks for the card going once a second. */
		timeout = !t->have_card ? t->retry_ms : active && ops->poll ? POLL_MS : PRESENCE_MS;
		if (t->more_proactive)
			timeout = 0;
		if (poll(fds, nfds, timeout) < 0 && errno != EINTR) {
			log_err("%s: poll: %s", t->kind, strerror(errno));
			return NULL;
		}
		if (fds[0].revents)
			take_incoming(t);
		expire(t, now_ms());
		if (!t->have_card)
			continue;
		/* What the card's side said unasked: proactive commands, a restart. */
		if (card_fd >= 0 && fds[1].revents && ops->input(t->card)) {
			card_gone(t);
			continue;
		}
		if ((t->more_proactive || (card_fd >= 0 && fds[1].revents)) && proactive(t))
			continue;
		check_channels(t, now_ms());
		assign(t);
		for (i = first_app; i < nfds && t->have_card; i++) {
			struct channel *c = &t->ch[ids[i]];

			if (fds[i].revents & POLLOUT)
				flush_to_app(c);
			if (c->established && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				from_app(t, ids[i]);
		}
		announce(t);
		/* A card behind a reader speaks only when spoken to: ask while busy. */
		if (active && t->have_card && ops->poll) {
			t->exchanges++;
			if (ops->poll(t->card))
				card_gone(t);
			else
				proactive(t);
		} else if (!active && t->have_card && !ops->present(t->card)) {
			card_gone(t);
		}
	}
	return NULL;
}

int terminal_start(struct terminal *t, char *err, size_t errlen)
{
	int ret;

	if (t->started)
		return 0;
	t->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->wake < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	t->retry_ms = RECONNECT_MS;
	ret = pthread_create(&t->thread, NULL, terminal_loop, t);
	if (ret) {
		snprintf(err, errlen, "cannot start the %s thread: %s", t->kind, strerror(ret));
		return -1;
	}
	t->started = true;
	return 0;
}
