// SPDX-License-Identifier: GPL-2.0
/*
 * sctlsd: the relay. Frames from /dev/sctls drive each connection's state;
 * bytes go to the card only as fast as it takes them, and come from it only
 * while the kernel has given credit, so memory stays at one window per
 * connection and direction.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/frame.h"
#include "log.h"
#include "notify.h"
#include "relay.h"
#include "status.h"

#define IN_BUF		(256 * 1024)
#define OUT_BUF		(1024 * 1024)
#define BUCKETS		4096
#define READ_ROUNDS	16	/* device reads per wake-up, for fairness */

enum watch_kind { WATCH_DEVICE, WATCH_SIGNAL, WATCH_CARD };

struct watch {
	enum watch_kind kind;
};

struct conn {
	struct watch w;			/* first: epoll hands it back */
	uint32_t id;
	const struct link *link;
	int fd;				/* the card channel */
	bool connecting;
	bool hup;			/* the card closed both ways */
	bool dead;			/* freed at the end of this loop turn */
	bool watched;			/* in the epoll set */
	uint32_t events;
	struct sctls_open who;		/* for log lines */
	struct conn *next;		/* hash chain, then the dead list */

	uint32_t window;		/* initial credit each way, from OPEN */

	/* app -> card */
	uint8_t *to_card;		/* at most a window: the kernel's credit */
	size_t to_card_len;
	uint32_t credit_owed;		/* forwarded, not yet returned */
	bool app_fin, card_shut;

	/* card -> app */
	uint32_t tx_credit;
	bool card_eof;

	/* For the summary line at close. */
	uint64_t to_card_bytes, to_app_bytes;
	struct timespec started;
};

struct relay {
	struct config *cfg;
	relay_reread_fn reread;
	struct status status;		/* also each link's answered and err */
	struct timespec probed;		/* CLOCK_MONOTONIC of the last probes */
	bool ready;
	int dev, ep, sig;
	struct watch dev_w, sig_w;
	uint32_t max_payload;
	struct conn *buckets[BUCKETS];
	struct conn *dead;		/* events of this turn may still name them */
	size_t nr_conns;
	struct relay_stats stats;
	size_t out_len;
	uint8_t out[OUT_BUF];
	uint8_t in[IN_BUF];
};

static void relay_flush(struct relay *r)
{
	size_t off = 0;

	while (off < r->out_len) {
		ssize_t n = write(r->dev, r->out + off, r->out_len - off);
		struct sctls_hdr hdr;

		if (n > 0) {
			off += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* Our own frame refused: say which, skip it, keep the rest. */
		memcpy(&hdr, r->out + off, sizeof(hdr));
		log_err("the kernel refused a frame (type %u, connection %u): %s",
			hdr.type, hdr.conn, strerror(errno));
		off += hdr.len;
	}
	r->out_len = 0;
}

/* Room for len bytes of frames at the end of the output buffer. */
static uint8_t *relay_reserve(struct relay *r, size_t len)
{
	if (r->out_len + len > OUT_BUF)
		relay_flush(r);
	return r->out + r->out_len;
}

static void relay_frame(struct relay *r, uint16_t type, uint16_t flags,
			uint32_t id, uint32_t arg)
{
	r->out_len += sctls_frame_encode(relay_reserve(r, SCTLS_HDR_LEN),
					 SCTLS_HDR_LEN, type, flags, id, arg, NULL, 0);
}

static struct conn *conn_find(struct relay *r, uint32_t id)
{
	struct conn *c = r->buckets[id % BUCKETS];

	while (c && c->id != id)
		c = c->next;
	return c;
}

static void conn_unlink(struct relay *r, struct conn *c)
{
	struct conn **p = &r->buckets[c->id % BUCKETS];

	while (*p != c)
		p = &(*p)->next;
	*p = c->next;
	r->nr_conns--;
}

/* Seconds from a CLOCK_MONOTONIC time until now. */
static double seconds_since(const struct timespec *then)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - then->tv_sec) + (now.tv_nsec - then->tv_nsec) / 1e9;
}

/* Forget a connection; say how it went unless why is NULL. */
static void conn_free(struct relay *r, struct conn *c, bool reset, const char *why)
{
	if (why)
		log_info("connection %u closed (%s): %llu bytes to the card, %llu to the app, %.3f s",
			 c->id, why, (unsigned long long)c->to_card_bytes,
			 (unsigned long long)c->to_app_bytes, seconds_since(&c->started));
	conn_unlink(r, c);
	c->link->ops->close(c->fd, reset);	/* also leaves the epoll set */
	c->dead = true;
	c->next = r->dead;
	r->dead = c;
}

static void relay_bury(struct relay *r)
{
	while (r->dead) {
		struct conn *c = r->dead;

		r->dead = c->next;
		free(c->to_card);
		free(c);
	}
}

static void relay_link_up(struct relay *r, const struct link *link);

/* Who connected, for log lines. */
static const char *open_who(const struct sctls_open *who)
{
	static char text[96];

	snprintf(text, sizeof(text), "uid %u pid %d (%s)", who->uid,
		 who->pid == SCTLS_ID_UNKNOWN ? -1 : (int)who->pid,
		 who->comm[0] ? who->comm : "?");
	return text;
}

/* The card side failed: reset the app's connection and forget it. */
static void conn_fail(struct relay *r, struct conn *c, const char *why)
{
	log_warn("connection %u from %s: card link %s: %s; resetting it",
		 c->id, open_who(&c->who), c->link->spec, why);
	r->stats.card_failed++;
	relay_frame(r, SCTLS_CLOSE, 0, c->id, 0);
	conn_free(r, c, true, "card link failed; reset");
}

static void conn_watch(struct relay *r, struct conn *c)
{
	struct epoll_event ev = { .data.ptr = c };
	uint32_t want = 0;

	if ((c->card_eof && c->card_shut) || (c->hup && (!c->tx_credit || c->card_eof))) {
		/* Nothing more to do with the card: only the kernel's CLOSE is left. */
		if (c->watched)
			epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
		c->watched = false;
		return;
	}
	if (c->tx_credit && !c->card_eof && !c->connecting)
		want |= EPOLLIN;
	if ((c->connecting || c->to_card_len) && !c->hup)
		want |= EPOLLOUT;
	if (c->watched && want == c->events)
		return;
	ev.events = want;
	if (epoll_ctl(r->ep, c->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev))
		log_err("epoll_ctl for connection %u: %s", c->id, strerror(errno));
	c->watched = true;
	c->events = want;
}

/* Bytes to the card as it takes them; credit back to the kernel for them. */
static int conn_to_card(struct relay *r, struct conn *c)
{
	while (c->to_card_len && !c->connecting) {
		ssize_t n = c->link->ops->send(c->fd, c->to_card, c->to_card_len);

		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			conn_fail(r, c, n < 0 ? strerror(errno) : "closed");
			return -1;
		}
		memmove(c->to_card, c->to_card + n, c->to_card_len - n);
		c->to_card_len -= n;
		c->credit_owed += n;
		c->to_card_bytes += n;
	}
	/* In quarters of the window: the kernel keeps three quarters meanwhile. */
	if (c->credit_owed >= c->window / 4) {
		relay_frame(r, SCTLS_CREDIT, 0, c->id, c->credit_owed);
		c->credit_owed = 0;
	}
	if (c->app_fin && !c->to_card_len && !c->card_shut && !c->connecting) {
		c->link->ops->shutdown(c->fd);
		c->card_shut = true;
	}
	return 0;
}

/* Bytes from the card, straight into DATA frames, within the kernel's credit. */
static int conn_from_card(struct relay *r, struct conn *c)
{
	int rounds = 4;

	while (c->tx_credit && !c->card_eof && rounds--) {
		size_t room = c->tx_credit < r->max_payload ? c->tx_credit : r->max_payload;
		uint8_t *at = relay_reserve(r, SCTLS_HDR_LEN + room);
		ssize_t n = c->link->ops->recv(c->fd, at + SCTLS_HDR_LEN, room);
		struct sctls_hdr hdr = { .type = SCTLS_DATA, .conn = c->id };

		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			conn_fail(r, c, strerror(errno));
			return -1;
		}
		if (n == 0) {
			c->card_eof = true;
			relay_frame(r, SCTLS_FIN, 0, c->id, 0);
			break;
		}
		hdr.len = SCTLS_HDR_LEN + n;
		memcpy(at, &hdr, sizeof(hdr));
		r->out_len += hdr.len;
		c->tx_credit -= n;
		c->to_app_bytes += n;
	}
	return 0;
}

static void conn_card_event(struct relay *r, struct conn *c, uint32_t events)
{
	if (c->dead)
		return;
	if ((events & EPOLLERR) && !c->connecting) {
		int err = c->link->ops->connected(c->fd);

		conn_fail(r, c, err ? strerror(err) : "error");
		return;
	}
	if (c->connecting) {
		int err = c->link->ops->connected(c->fd);

		if (err) {
			conn_fail(r, c, strerror(err));
			return;
		}
		c->connecting = false;
		log_debug("connection %u: card link %s up", c->id, c->link->spec);
		relay_link_up(r, c->link);
	}
	if ((events & (EPOLLIN | EPOLLHUP)) && conn_from_card(r, c))
		return;
	if (events & EPOLLHUP) {
		/* Gone both ways: bytes still for it cannot arrive. */
		c->hup = true;
		if (c->to_card_len) {
			conn_fail(r, c, "closed with bytes still to deliver");
			return;
		}
	}
	if (conn_to_card(r, c))
		return;
	conn_watch(r, c);
}

static void relay_open_conn(struct relay *r, uint32_t id, uint32_t window,
			    const struct sctls_open *open)
{
	const struct link *link = config_link_for(r->cfg, open->local_port);
	struct sctls_open who = *open;
	struct conn *c;
	bool up;
	int fd;

	who.comm[SCTLS_COMM_LEN - 1] = '\0';	/* the kernel is not trusted either */
	if (!config_uid_allowed(r->cfg, who.uid)) {
		log_warn("refused connection %u from %s to port %u: uid not allowed",
			 id, open_who(&who), who.local_port);
		r->stats.refused_policy++;
		goto refuse;
	}
	if (!link) {
		log_warn("refused connection %u from %s: no link for port %u",
			 id, open_who(&who), who.local_port);
		r->stats.refused_link++;
		goto refuse;
	}
	if (window < SCTLS_MIN_WINDOW || window > SCTLS_MAX_WINDOW) {
		log_err("connection %u: the kernel gave a window of %u bytes; resetting it",
			id, window);
		goto refuse;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->to_card = malloc(window))) {
		free(c);
		log_err("connection %u: out of memory; resetting it", id);
		goto refuse;
	}
	fd = link->ops->connect(link, &up);
	if (fd < 0) {
		log_warn("connection %u from %s: card link %s: %s; resetting it",
			 id, open_who(&who), link->spec, strerror(-fd));
		r->stats.card_failed++;
		free(c->to_card);
		free(c);
		goto refuse;
	}
	c->w.kind = WATCH_CARD;
	c->id = id;
	c->who = who;
	c->link = link;
	c->fd = fd;
	c->connecting = !up;
	if (up)
		relay_link_up(r, link);
	clock_gettime(CLOCK_MONOTONIC, &c->started);
	c->window = window;
	c->tx_credit = window;
	c->next = r->buckets[id % BUCKETS];
	r->buckets[id % BUCKETS] = c;
	r->nr_conns++;
	r->stats.opened++;
	log_info("connection %u from %s to port %u -> %s", id, open_who(&who),
		 who.local_port, link->spec);
	conn_watch(r, c);
	return;

refuse:
	relay_frame(r, SCTLS_CLOSE, 0, id, 0);
}

static void relay_frame_in(struct relay *r, const struct sctls_frame *f)
{
	struct conn *c;

	if (f->hdr.type == SCTLS_OPEN) {
		struct sctls_open who;

		memcpy(&who, f->payload, sizeof(who));
		relay_open_conn(r, f->hdr.conn, f->hdr.arg, &who);
		return;
	}
	c = conn_find(r, f->hdr.conn);
	if (!c)
		return;	/* one we reset a moment ago */

	switch (f->hdr.type) {
	case SCTLS_DATA:
		if (c->to_card_len + f->payload_len > c->window) {
			conn_fail(r, c, "the kernel sent past our credit");
			return;
		}
		memcpy(c->to_card + c->to_card_len, f->payload, f->payload_len);
		c->to_card_len += f->payload_len;
		if (conn_to_card(r, c))
			return;
		break;
	case SCTLS_FIN:
		c->app_fin = true;
		if (conn_to_card(r, c))
			return;
		break;
	case SCTLS_CREDIT:
		c->tx_credit += f->hdr.arg;
		if (!c->connecting && conn_from_card(r, c))
			return;
		break;
	case SCTLS_CLOSE:
		conn_free(r, c, f->hdr.arg != 0, f->hdr.arg ? strerror(f->hdr.arg) : "orderly");
		return;
	}
	conn_watch(r, c);
}

/* Read frames in batches; -1 when the device fails or breaks the protocol. */
static int relay_device_event(struct relay *r)
{
	int rounds;

	for (rounds = 0; rounds < READ_ROUNDS; rounds++) {
		ssize_t n = read(r->dev, r->in, sizeof(r->in)), off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			log_err("reading /dev/sctls: %s", n ? strerror(errno) : "end of file");
			return -1;
		}
		while (off < n) {
			struct sctls_frame f;
			ssize_t len = sctls_frame_decode(r->in + off, n - off, &f);

			if (len <= 0) {
				log_err("the kernel sent a malformed frame at offset %zd", off);
				return -1;
			}
			relay_frame_in(r, &f);
			off += len;
		}
	}
	return 0;
}

static int open_device(const char *device)
{
	int fd = open(device, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	struct stat st;

	if (fd >= 0)
		return fd;
	switch (errno) {
	case ENOENT:
		log_err("%s does not exist: load the module first (modprobe sctls, or insmod sctls.ko)", device);
		break;
	case EBUSY:
		log_err("%s is busy: another helper serves this network namespace", device);
		break;
	case EADDRINUSE:
		log_err("%s: a served port is taken by another socket (sctls show names it; the kernel log says which): stop the program that has it", device);
		break;
	case EACCES:	/* the file's mode: say who may, and who we are */
		if (!stat(device, &st))
			log_err("%s: permission denied: it is uid %u gid %u mode %03o, sctlsd runs as uid %u gid %u: run it in the device's group (the packaged udev rule makes it group sctls)",
				device, st.st_uid, st.st_gid, st.st_mode & 0777, getuid(), getgid());
		else
			log_err("%s: %s", device, strerror(errno));
		break;
	case EPERM:	/* the module's check */
		log_err("%s: sctlsd needs CAP_NET_ADMIN in this network namespace (root, or AmbientCapabilities=CAP_NET_ADMIN in its unit)", device);
		break;
	default:
		log_err("%s: %s", device, strerror(errno));
	}
	return -1;
}

struct relay *relay_new(struct config *cfg, const char *device, relay_reread_fn reread,
			const char *status_path)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sctls_info info;
	struct relay *r = calloc(1, sizeof(*r));
	sigset_t sigs;
	size_t i;

	if (!r) {
		log_err("out of memory");
		return NULL;
	}
	r->cfg = cfg;
	r->reread = reread;
	r->status.path = status_path;
	r->ep = r->sig = -1;
	r->dev = open_device(device);
	if (r->dev < 0)
		goto err;
	if (ioctl(r->dev, SCTLS_IOC_INFO, &info) || info.version != SCTLS_PROTO_VERSION ||
	    info.max_payload < 1) {
		log_err("%s speaks another protocol version than sctlsd (%u)", device,
			SCTLS_PROTO_VERSION);
		goto err;
	}
	r->max_payload = info.max_payload < SCTLS_MAX_PAYLOAD ? info.max_payload : SCTLS_MAX_PAYLOAD;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);	/* threads started below too */
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < cfg->nr_links; i++) {
		const struct link *link = &cfg->links[i];
		char why[256];

		if (link->ops->start && link->ops->start(link, why, sizeof(why))) {
			log_err("link %s: %s", link->spec, why);
			goto err;
		}
	}
	r->sig = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	if (r->sig < 0 || r->ep < 0) {
		log_err("cannot set up the event loop: %s", strerror(errno));
		goto err;
	}
	r->dev_w.kind = WATCH_DEVICE;
	r->sig_w.kind = WATCH_SIGNAL;
	ev.data.ptr = &r->dev_w;
	epoll_ctl(r->ep, EPOLL_CTL_ADD, r->dev, &ev);
	ev.data.ptr = &r->sig_w;
	epoll_ctl(r->ep, EPOLL_CTL_ADD, r->sig, &ev);
	return r;

err:
	relay_free(r);
	return NULL;
}

/* SIGTERM: close every connection in an orderly way, then stop. */
static void relay_close_all(struct relay *r)
{
	size_t i, n = r->nr_conns;

	for (i = 0; i < BUCKETS; i++) {
		while (r->buckets[i]) {
			struct conn *c = r->buckets[i];

			relay_frame(r, SCTLS_CLOSE, SCTLS_CLOSE_ORDERLY, c->id, 0);
			conn_free(r, c, false, "sctlsd stopping");
		}
	}
	relay_flush(r);
	log_info("stopping: closed %zu connection(s); served %llu, refused %llu by policy, %llu for a card link",
		 n, (unsigned long long)r->stats.opened,
		 (unsigned long long)r->stats.refused_policy,
		 (unsigned long long)(r->stats.card_failed + r->stats.refused_link));
}

/*
 * Ready once every link has answered: a socket link when a connection to
 * it succeeds (a probe's or an app's); a toolkit link when its terminal
 * started, for the terminal then waits for the card and says so itself.
 */
static void relay_check_ready(struct relay *r)
{
	size_t i;

	if (r->ready)
		return;
	for (i = 0; i < r->cfg->nr_links; i++)
		if (!r->status.links[i].answered)
			return;
	r->ready = true;
	log_info("ready");
	notify("READY=1\nSTATUS=serving %zu port(s)", r->cfg->nr_links);
	status_write(&r->status, r->cfg, r->ready, r->nr_conns, true);
}

static void relay_link_up(struct relay *r, const struct link *link)
{
	struct status_link *sl = &r->status.links[link - r->cfg->links];

	if (sl->answered)
		return;
	sl->answered = true;
	if (sl->err)
		log_info("card link %s answers now", link->spec);
	relay_check_ready(r);
}

/* Whether 2 s have passed since the last probes. */
static bool relay_probe_due(const struct relay *r)
{
	return seconds_since(&r->probed) >= 2.0;
}

/* Try each socket link that has not answered yet: connect, then close. */
static void relay_probe_links(struct relay *r)
{
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &r->probed);
	for (i = 0; i < r->cfg->nr_links; i++) {
		const struct link *link = &r->cfg->links[i];
		struct pollfd pfd = { .events = POLLOUT };
		bool up = true;
		int err = 0;

		if (r->status.links[i].answered)
			continue;
		/* A toolkit link (it has a status) reports its card itself. */
		if (link->ops->status) {
			relay_link_up(r, link);
			continue;
		}
		pfd.fd = link->ops->connect(link, &up);
		if (pfd.fd < 0) {
			err = -pfd.fd;
		} else {
			/* Bounded: a remote card may take a moment to answer. */
			if (!up)
				err = poll(&pfd, 1, 1000) == 1 ? link->ops->connected(pfd.fd)
							       : ETIMEDOUT;
			link->ops->close(pfd.fd, false);
		}
		if (!err) {
			relay_link_up(r, link);
			continue;
		}
		if (err != r->status.links[i].err) {
			log_warn("card link %s does not answer (%s): connections to port %u fail until it does",
				 link->spec, strerror(err), link->port);
			notify("STATUS=waiting for card link %s: %s", link->spec, strerror(err));
		}
		r->status.links[i].err = err;
	}
}

/* SIGHUP: the uid list applies at once; links only at the next start. */
static void relay_reload(struct relay *r)
{
	struct config *fresh = calloc(1, sizeof(*fresh));
	char err[512];

	notify("RELOADING=1");
	if (!fresh) {
		log_err("reload: out of memory; the configuration in use stays");
	} else {
		fresh->specs_only = true;
		if (r->reread(fresh, err, sizeof(err))) {
			log_err("reload: %s; the configuration in use stays", err);
		} else {
			memcpy(r->cfg->allow_uids, fresh->allow_uids, sizeof(fresh->allow_uids));
			r->cfg->nr_allow_uids = fresh->nr_allow_uids;
			if (!config_same_links(r->cfg, fresh))
				log_warn("reload: the card links changed: they apply when sctlsd restarts");
			log_info("reloaded: %zu allowed uid(s)%s", r->cfg->nr_allow_uids,
				 r->cfg->nr_allow_uids ? "" : " (everyone)");
		}
	}
	free(fresh);
	if (r->ready)
		notify("READY=1");
}

/* A signal: 1 to stop, 0 to go on. */
static int relay_signal(struct relay *r)
{
	struct signalfd_siginfo si;
	int stop = 0;

	while (read(r->sig, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			relay_reload(r);
		else
			stop = 1;
	}
	return stop;
}

int relay_run(struct relay *r)
{
	struct epoll_event evs[64];
	size_t i;

	for (i = 0; i < r->cfg->nr_links; i++)
		log_info("port %u -> %s", r->cfg->links[i].port, r->cfg->links[i].spec);
	relay_probe_links(r);

	for (;;) {
		/*
		 * Until every link has answered, try them again every 2 s; with
		 * --status, write it each second.
		 */
		int timeout = r->status.path ? 1000 : r->ready ? -1 : 2000;
		int n = epoll_wait(r->ep, evs, 64, timeout), k;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err("epoll_wait: %s", strerror(errno));
			return 1;
		}
		if (!r->ready && relay_probe_due(r))
			relay_probe_links(r);
		status_write(&r->status, r->cfg, r->ready, r->nr_conns, false);
		for (k = 0; k < n; k++) {
			struct watch *w = evs[k].data.ptr;

			if (w->kind == WATCH_SIGNAL) {
				if (!relay_signal(r))
					continue;
				notify("STOPPING=1");
				relay_close_all(r);
				return 0;
			}
			if (w->kind == WATCH_DEVICE) {
				if (relay_device_event(r)) {
					relay_flush(r);
					return 1;
				}
				continue;
			}
			conn_card_event(r, (struct conn *)w, evs[k].events);
		}
		relay_flush(r);
		relay_bury(r);
	}
}

void relay_free(struct relay *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < BUCKETS; i++)
		while (r->buckets[i])
			conn_free(r, r->buckets[i], true, NULL);
	relay_bury(r);
	status_remove(&r->status);
	if (r->ep >= 0)
		close(r->ep);
	if (r->sig >= 0)
		close(r->sig);
	if (r->dev >= 0)
		close(r->dev);
	free(r);
}
