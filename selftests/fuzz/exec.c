// SPDX-License-Identifier: GPL-2.0
/*
 * Running one kfuzz program: in a child process with a network namespace of
 * its own, its calls handed in order to worker threads (a call that blocks
 * leaves its thread behind and the next call goes on), then the invariants:
 * every byte that crossed the module arrived intact and in order, each way;
 * the helper can close every connection that is left; the namespace's
 * counters add up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sctls.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kfnl.h"
#include "kfuzz.h"

#define KF_MAX_IDS	64
#define KF_BUF		(SCTLS_MAX_FRAME + 4096)

struct kf_sock {
	int fd;
	unsigned int ns;	/* which namespace it was made in */
	uint16_t port;		/* its own port: the OPEN's peer_port */
	uint64_t sent, received;
	pthread_mutex_t lock;
};

struct kf_dev {
	int fd;
	unsigned int ns;
	unsigned int hid;	/* which helper: ids are each helper's own */
	pthread_mutex_t lock;
};

/* A connection as the program's helpers learnt it from OPEN frames. */
struct kf_conn {
	uint32_t id;
	unsigned int hid;
	unsigned int ns;
	uint16_t peer_port;
	bool closed;		/* CLOSE read or sent */
	uint64_t from_app;	/* DATA bytes read, checked */
	uint64_t to_app;	/* DATA bytes written */
	uint64_t to_app_pending;	/* in a write() not returned yet */
};

struct kf_worker {
	pthread_t thread;
	unsigned int index;
	unsigned int queue[KF_MAX_CALLS];
	unsigned int head, tail;	/* under kf.lock */
	unsigned int done;
	unsigned int ns;		/* the namespace it is in now */
	int nl;				/* its netlink socket, for ns */
	unsigned int nl_ns;
	char *buf;
};

static struct {
	const struct kf_prog *prog;
	struct kf_cover *cover;
	int family;
	int prog_ns_fd;
	unsigned int next_ns, next_hid;
	bool stop;
	bool raw_written;	/* unpatterned bytes went to some app */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct kf_worker w[KF_THREADS];
	struct kf_dev dev[KF_DEVS];
	struct kf_sock sock[KF_SOCKS];
	struct kf_conn conns[KF_MAX_IDS];
	unsigned int nr_conns;
	uint16_t ports[SCTLS_MAX_PORTS];
	unsigned int nr_ports;
	char broken[256];
} kf;

/* The first invariant a program broke; later ones add nothing. */
static void breaks(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&kf.lock);
	if (!kf.broken[0]) {
		va_start(ap, fmt);
		vsnprintf(kf.broken, sizeof(kf.broken), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&kf.lock);
}

/*
 * The byte at offset off of a stream named by key: a hash of the key and
 * the offset's 256-byte block, so that bytes lost, repeated or taken from
 * another stream show, whatever their count.
 */
static uint8_t stream_byte(uint64_t key, uint64_t off)
{
	uint64_t z = (key << 40) ^ (off >> 8);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (uint8_t)(z >> (8 * (off & 7))) ^ (uint8_t)off;
}

static uint8_t app_byte(uint16_t port, uint64_t off)
{
	return stream_byte(port, off);
}

static uint8_t helper_byte(uint32_t id, uint64_t off)
{
	return stream_byte((1ULL << 20) | id, off);
}

static struct kf_conn *conn_by_id(unsigned int hid, uint32_t id)
{
	for (unsigned int i = kf.nr_conns; i-- > 0;)
		if (kf.conns[i].hid == hid && kf.conns[i].id == id)
			return &kf.conns[i];
	return NULL;
}

static struct kf_conn *conn_by_port(unsigned int ns, uint16_t port)
{
	for (unsigned int i = kf.nr_conns; i-- > 0;)
		if (kf.conns[i].ns == ns && kf.conns[i].peer_port == port)
			return &kf.conns[i];
	return NULL;
}

/*
 * Below 0x100, the choice-th newest id seen by helper hid (any of the
 * namespace's helpers when hid is 0); else the value itself.
 */
static uint32_t resolve_id(uint32_t choice, unsigned int ns, unsigned int hid)
{
	unsigned int n = 0, matches = 0;
	uint32_t id = choice + 1;

	if (choice >= 0x100)
		return choice == 0x100 ? 0 : choice;
	pthread_mutex_lock(&kf.lock);
	for (unsigned int i = 0; i < kf.nr_conns; i++)
		matches += hid ? kf.conns[i].hid == hid : kf.conns[i].ns == ns;
	for (unsigned int i = kf.nr_conns; matches && i-- > 0;)
		if ((hid ? kf.conns[i].hid == hid : kf.conns[i].ns == ns) &&
		    n++ == choice % matches) {
			id = kf.conns[i].id;
			break;
		}
	pthread_mutex_unlock(&kf.lock);
	return id;
}

/* Check and learn from frames a helper read. Called with the dev's lock. */
static void took_frames(const struct kf_dev *d, const char *buf, ssize_t n)
{
	while (n >= (ssize_t)SCTLS_HDR_LEN) {
		struct sctls_hdr h;
		struct kf_conn *c;

		memcpy(&h, buf, sizeof(h));
		if (h.len < SCTLS_HDR_LEN || h.len > n || h.len > SCTLS_MAX_FRAME) {
			breaks("a read returned a frame of length %u with %zd bytes left", h.len, n);
			return;
		}
		pthread_mutex_lock(&kf.lock);
		c = conn_by_id(d->hid, h.conn);
		switch (h.type) {
		case SCTLS_OPEN: {
			struct sctls_open o;

			if (h.len != SCTLS_HDR_LEN + sizeof(o)) {
				pthread_mutex_unlock(&kf.lock);
				breaks("OPEN of length %u", h.len);
				return;
			}
			memcpy(&o, buf + SCTLS_HDR_LEN, sizeof(o));
			if (c && !c->closed) {
				pthread_mutex_unlock(&kf.lock);
				breaks("OPEN for id %u, which is open", h.conn);
				return;
			}
			if (kf.nr_conns < KF_MAX_IDS) {
				c = &kf.conns[kf.nr_conns++];
				memset(c, 0, sizeof(*c));
				c->id = h.conn;
				c->hid = d->hid;
				c->ns = d->ns;
				c->peer_port = o.peer_port;
			}
			break;
		}
		case SCTLS_DATA:
			if (!c)
				break;	/* its OPEN went to another reader */
			for (uint32_t i = 0; i < h.len - SCTLS_HDR_LEN; i++)
				if ((uint8_t)buf[SCTLS_HDR_LEN + i] !=
				    app_byte(c->peer_port, c->from_app + i)) {
					pthread_mutex_unlock(&kf.lock);
					breaks("conn %u: app byte %llu arrived as %02x, sent %02x",
					       h.conn, (unsigned long long)(c->from_app + i),
					       (uint8_t)buf[SCTLS_HDR_LEN + i],
					       app_byte(c->peer_port, c->from_app + i));
					return;
				}
			c->from_app += h.len - SCTLS_HDR_LEN;
			break;
		case SCTLS_CLOSE:
			if (c)
				c->closed = true;
			break;
		case SCTLS_FIN:
		case SCTLS_CREDIT:
			break;
		default:
			pthread_mutex_unlock(&kf.lock);
			breaks("a frame of type %u", h.type);
			return;
		}
		pthread_mutex_unlock(&kf.lock);
		buf += h.len;
		n -= h.len;
	}
	if (n)
		breaks("a read ended %zd bytes into a header", n);
}

static void dev_read(struct kf_worker *w, struct kf_dev *d, size_t len)
{
	ssize_t n;

	pthread_mutex_lock(&d->lock);
	n = read(d->fd, w->buf, len > KF_BUF ? KF_BUF : len);
	if (n > 0)
		took_frames(d, w->buf, n);
	pthread_mutex_unlock(&d->lock);
}

static void dev_write(struct kf_worker *w, struct kf_dev *d, const struct kf_call *c)
{
	uint32_t type = c->b & 0xff, bend = (c->b >> 8) & 0xff;
	uint32_t payload = c->a >> 8, id = resolve_id(c->c, d->ns, d->hid);
	struct sctls_hdr h = { .type = (uint16_t)type, .conn = id };
	struct kf_conn *conn;
	ssize_t n;

	if (type != SCTLS_DATA)
		payload = 0;
	if (payload > SCTLS_MAX_PAYLOAD + 16)
		payload = SCTLS_MAX_PAYLOAD + 16;
	h.len = SCTLS_HDR_LEN + payload;
	if (c->d > 1) {
		h.arg = c->d;
		h.flags = (uint16_t)(c->d >> 16);
	} else {
		h.flags = (uint16_t)c->d;
	}
	if (type == SCTLS_CREDIT)
		h.arg = c->d;
	switch (bend) {
	case 1: h.len++; break;
	case 2: h.len--; break;
	case 3: h.len = 0; break;
	case 4: h.len = UINT32_MAX; break;
	default: break;
	}

	pthread_mutex_lock(&d->lock);
	pthread_mutex_lock(&kf.lock);
	conn = conn_by_id(d->hid, id);
	for (uint32_t i = 0; i < payload; i++)
		w->buf[SCTLS_HDR_LEN + i] = (char)helper_byte(id, (conn ? conn->to_app : 0) + i);
	/* The app may have the bytes before write() returns. */
	if (type == SCTLS_DATA && conn)
		conn->to_app_pending += payload;
	else if (type == SCTLS_DATA)
		kf.raw_written = true;	/* an id no OPEN named to us */
	pthread_mutex_unlock(&kf.lock);
	memcpy(w->buf, &h, sizeof(h));
	n = write(d->fd, w->buf, SCTLS_HDR_LEN + payload);
	pthread_mutex_lock(&kf.lock);
	if (type == SCTLS_DATA && conn)
		conn->to_app_pending -= payload;
	/* A len bent short applies a shorter frame: count what was applied. */
	if (n > (ssize_t)SCTLS_HDR_LEN && type == SCTLS_DATA && conn)
		conn->to_app += (uint64_t)n - SCTLS_HDR_LEN;
	if (n > 0 && type == SCTLS_CLOSE && conn)
		conn->closed = true;
	pthread_mutex_unlock(&kf.lock);
	pthread_mutex_unlock(&d->lock);
}

static int nl_sock(struct kf_worker *w)
{
	if (w->nl >= 0 && w->nl_ns == w->ns)
		return w->nl;
	if (w->nl >= 0)
		close(w->nl);
	w->nl = kfnl_open();
	w->nl_ns = w->ns;
	return w->nl;
}

static void nl_set(struct kf_worker *w, const struct kf_call *c)
{
	struct kfnl_msg m;
	unsigned int n = 0;

	kfnl_init(&m, (uint16_t)kf.family, SCTLS_CMD_SET, 0);
	switch (c->a % 8) {
	case 0:		/* c ports from b */
	case 6:
		kfnl_nest(&m, SCTLS_A_PORTS);
		n = c->a % 8 == 6 ? 2 : c->c % 10;
		for (unsigned int i = 0; i < n; i++)
			kfnl_put_u16(&m, SCTLS_A_PORT, (uint16_t)(c->b + i));
		kfnl_nest_end(&m);
		if (c->a % 8 == 6) {
			kfnl_put_u32(&m, SCTLS_A_MAX_CONNS, c->c);
			kfnl_put_u32(&m, SCTLS_A_WINDOW, c->d);
		}
		break;
	case 1:
		kfnl_put_u32(&m, SCTLS_A_MAX_CONNS, c->c);
		break;
	case 2:
		kfnl_put_u32(&m, SCTLS_A_WINDOW, c->d);
		break;
	case 3:		/* c uids from d */
		kfnl_nest(&m, SCTLS_A_ALLOW_UIDS);
		for (unsigned int i = 0; i < c->c % 70; i++)
			kfnl_put_u32(&m, SCTLS_A_UID, c->d + i);
		kfnl_nest_end(&m);
		break;
	case 4:		/* empty nests */
		kfnl_nest(&m, c->b & 1 ? SCTLS_A_PORTS : SCTLS_A_ALLOW_UIDS);
		kfnl_nest_end(&m);
		break;
	case 5:		/* the wrong attribute in a nest, or the wrong size */
		kfnl_nest(&m, SCTLS_A_PORTS);
		kfnl_put_u32(&m, c->b & 1 ? SCTLS_A_UID : SCTLS_A_PORT, c->c);
		kfnl_nest_end(&m);
		break;
	default:	/* nested attributes at the top, and junk sizes */
		kfnl_put_u16(&m, SCTLS_A_PORT, (uint16_t)c->b);
		kfnl_put(&m, SCTLS_A_MAX_CONNS, &c->c, (uint16_t)(c->d % 8));
		break;
	}
	if (kfnl_talk(nl_sock(w), &m, NULL, NULL) == 0 && c->a % 8 == 0) {
		pthread_mutex_lock(&kf.lock);
		kf.nr_ports = 0;
		for (unsigned int i = 0; i < n && i < SCTLS_MAX_PORTS; i++)
			kf.ports[kf.nr_ports++] = (uint16_t)(c->b + i);
		pthread_mutex_unlock(&kf.lock);
	}
}

static void nl_simple(struct kf_worker *w, const struct kf_call *c)
{
	struct kfnl_msg m;

	switch (c->op) {
	case KF_NL_GET:
		kfnl_init(&m, (uint16_t)kf.family, SCTLS_CMD_GET, 0);
		break;
	case KF_NL_CONNS:
		kfnl_init(&m, (uint16_t)kf.family, SCTLS_CMD_CONNS, NLM_F_DUMP);
		break;
	case KF_NL_RESET:
		kfnl_init(&m, (uint16_t)kf.family, SCTLS_CMD_RESET, 0);
		kfnl_put_u32(&m, SCTLS_A_CONN_ID, resolve_id(c->c, w->ns, 0));
		break;
	default:	/* KF_NL_RAW */
		kfnl_init(&m, (uint16_t)kf.family, (uint8_t)c->b,
			  c->d & 1 ? NLM_F_DUMP : 0);
		memcpy(m.buf + m.len, c->blob, c->blob_len);
		m.len += c->blob_len;
		break;
	}
	kfnl_talk(nl_sock(w), &m, NULL, NULL);
}

static uint16_t pick_port(uint32_t choice)
{
	uint16_t port;

	pthread_mutex_lock(&kf.lock);
	switch (choice % 8) {
	case 0: case 1: case 2: port = SCTLS_DEFAULT_PORT; break;
	case 3: port = SCTLS_DEFAULT_PORT + 1; break;
	case 7: port = (uint16_t)(4000 + choice % 300); break;
	default:
		port = kf.nr_ports ? kf.ports[choice % kf.nr_ports] : SCTLS_DEFAULT_PORT;
		break;
	}
	pthread_mutex_unlock(&kf.lock);
	return port;
}

static void app_connect(struct kf_worker *w, struct kf_sock *s, const struct kf_call *c)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd;

	pthread_mutex_lock(&s->lock);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	fd = socket(c->b ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		if (c->b) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

			a->sin6_family = AF_INET6;
			a->sin6_addr = in6addr_loopback;
			a->sin6_port = htons(pick_port(c->c));
			len = sizeof(*a);
		} else {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;

			a->sin_family = AF_INET;
			a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			a->sin_port = htons(pick_port(c->c));
			len = sizeof(*a);
		}
		connect(fd, (struct sockaddr *)&ss, len);
		len = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &len);
		s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		s->fd = fd;
		s->ns = w->ns;
		s->sent = s->received = 0;
	}
	pthread_mutex_unlock(&s->lock);
}

static void app_send(struct kf_worker *w, struct kf_sock *s, uint32_t len)
{
	ssize_t n;

	pthread_mutex_lock(&s->lock);
	if (s->fd >= 0) {
		if (len > KF_BUF)
			len = KF_BUF;
		for (uint32_t i = 0; i < len; i++)
			w->buf[i] = (char)app_byte(s->port, s->sent + i);
		n = send(s->fd, w->buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			s->sent += n;
	}
	pthread_mutex_unlock(&s->lock);
}

static void app_recv(struct kf_worker *w, struct kf_sock *s, uint32_t len)
{
	struct kf_conn *c;
	ssize_t n;

	pthread_mutex_lock(&s->lock);
	if (s->fd < 0)
		goto out;
	n = recv(s->fd, w->buf, len > KF_BUF ? KF_BUF : len, MSG_DONTWAIT);
	if (n <= 0)
		goto out;
	pthread_mutex_lock(&kf.lock);
	c = conn_by_port(s->ns, s->port);
	if (c && !kf.raw_written) {
		for (ssize_t i = 0; i < n; i++)
			if ((uint8_t)w->buf[i] != helper_byte(c->id, s->received + i)) {
				pthread_mutex_unlock(&kf.lock);
				breaks("conn %u: helper byte %llu arrived as %02x, sent %02x",
				       c->id, (unsigned long long)(s->received + i),
				       (uint8_t)w->buf[i], helper_byte(c->id, s->received + i));
				goto out;
			}
		if (s->received + n > c->to_app + c->to_app_pending) {
			pthread_mutex_unlock(&kf.lock);
			breaks("conn %u: the app got %llu bytes, the helper sent %llu", c->id,
			       (unsigned long long)(s->received + n),
			       (unsigned long long)c->to_app);
			goto out;
		}
	}
	pthread_mutex_unlock(&kf.lock);
	s->received += n;
out:
	pthread_mutex_unlock(&s->lock);
}

static void app_close(struct kf_sock *s, uint32_t how)
{
	pthread_mutex_lock(&s->lock);
	if (s->fd >= 0) {
		if (how == 1) {
			struct linger l = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		}
		close(s->fd);
		s->fd = -1;
	}
	pthread_mutex_unlock(&s->lock);
}

void kf_lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	strcpy(ifr.ifr_name, "lo");
	if (!ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
}

/* A helper in a child of its own, killed while it works. */
static void helper_kill(uint32_t ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		static char buf[SCTLS_MAX_FRAME];
		int fd = open("/dev/sctls", O_RDWR);

		if (fd < 0)
			_exit(0);
		for (;;)
			if (read(fd, buf, sizeof(buf)) < 0 && errno != EINTR)
				_exit(0);
	}
	if (pid < 0)
		return;
	usleep(ms * 1000);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void run_call(struct kf_worker *w, const struct kf_call *c)
{
	struct kf_dev *d = &kf.dev[(c->a & 0xff) % KF_DEVS];
	struct kf_sock *s = &kf.sock[(c->a & 0xff) % KF_SOCKS];

	switch (c->op) {
	case KF_DEV_OPEN: {
		int fd = open("/dev/sctls", O_RDWR | O_CLOEXEC | (c->b & 1 ? 0 : O_NONBLOCK));

		pthread_mutex_lock(&d->lock);
		if (fd >= 0) {
			if (d->fd >= 0)
				close(d->fd);
			d->fd = fd;
			d->ns = w->ns;
			pthread_mutex_lock(&kf.lock);
			d->hid = ++kf.next_hid;
			pthread_mutex_unlock(&kf.lock);
		}
		pthread_mutex_unlock(&d->lock);
		break;
	}
	case KF_DEV_CLOSE:
		pthread_mutex_lock(&d->lock);
		if (d->fd >= 0)
			close(d->fd);
		d->fd = -1;
		pthread_mutex_unlock(&d->lock);
		break;
	case KF_DEV_READ:
		dev_read(w, d, c->b);
		break;
	case KF_DEV_WRITE:
		dev_write(w, d, c);
		break;
	case KF_DEV_RAW:
		/* Before the write: the app may have the bytes first. */
		pthread_mutex_lock(&kf.lock);
		kf.raw_written = true;
		pthread_mutex_unlock(&kf.lock);
		pthread_mutex_lock(&d->lock);
		if (write(d->fd, c->blob, c->blob_len) < 0)
			errno = 0;
		pthread_mutex_unlock(&d->lock);
		break;
	case KF_DEV_POLL: {
		struct pollfd p = { .fd = d->fd, .events = (short)(c->b & 7) };

		poll(&p, 1, c->b & 8 ? 10 : 0);
		break;
	}
	case KF_DEV_IOCTL: {
		static const unsigned long cmds[] = {
			SCTLS_IOC_INFO, _IOR(SCTLS_IOC_MAGIC, 2, int), FIONREAD, 0x5401,
		};
		struct sctls_info info;
		void *arg = c->c == 0 ? (void *)&info : c->c == 1 ? NULL : (void *)16;

		ioctl(d->fd, cmds[c->b % 4], arg);
		break;
	}
	case KF_NL_SET:
		nl_set(w, c);
		break;
	case KF_NL_GET:
	case KF_NL_CONNS:
	case KF_NL_RESET:
	case KF_NL_RAW:
		nl_simple(w, c);
		break;
	case KF_NL_LISTEN: {
		/* Events go out only while someone listens. */
		int fd = nl_sock(w);

		setsockopt(fd, SOL_NETLINK, c->a & 1 ? NETLINK_ADD_MEMBERSHIP :
			   NETLINK_DROP_MEMBERSHIP, &kf_events_group, sizeof(kf_events_group));
		break;
	}
	case KF_APP_CONNECT:
		app_connect(w, s, c);
		break;
	case KF_APP_SEND:
		app_send(w, s, c->b);
		break;
	case KF_APP_RECV:
		app_recv(w, s, c->b);
		break;
	case KF_APP_SHUTDOWN:
		pthread_mutex_lock(&s->lock);
		if (s->fd >= 0)
			shutdown(s->fd, c->b % 3);
		pthread_mutex_unlock(&s->lock);
		break;
	case KF_APP_CLOSE:
		app_close(s, c->b);
		break;
	case KF_HELPER_KILL:
		helper_kill(c->b % 50);
		break;
	case KF_NETNS:
		if (c->a & 1) {
			if (!unshare(CLONE_NEWNET)) {
				kf_lo_up();
				pthread_mutex_lock(&kf.lock);
				w->ns = ++kf.next_ns;
				pthread_mutex_unlock(&kf.lock);
			}
		} else if (!setns(kf.prog_ns_fd, CLONE_NEWNET)) {
			w->ns = 0;
		}
		break;
	case KF_SLEEP:
		usleep((c->b % 21) * 1000);
		break;
	default:
		break;
	}
}

static void *worker(void *arg)
{
	struct kf_worker *w = arg;

	kf_cover_enable(kf.cover, w->index);
	pthread_mutex_lock(&kf.lock);
	for (;;) {
		unsigned int i;

		while (w->head == w->tail && !kf.stop)
			pthread_cond_wait(&kf.cond, &kf.lock);
		if (w->head == w->tail)
			break;
		i = w->queue[w->head % KF_MAX_CALLS];
		pthread_mutex_unlock(&kf.lock);
		run_call(w, &kf.prog->calls[i]);
		pthread_mutex_lock(&kf.lock);
		w->head++;
		w->done++;
		pthread_cond_broadcast(&kf.cond);
	}
	pthread_mutex_unlock(&kf.lock);
	return NULL;
}

static void deadline_in(struct timespec *ts, unsigned int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

struct conns_count {
	unsigned int n;
	uint32_t ids[KF_MAX_IDS];
};

static void count_conn(const struct nlattr *attrs, int len, void *arg)
{
	struct conns_count *cc = arg;
	const struct nlattr *a;

	kfnl_for_each(a, attrs, len)
		if ((a->nla_type & NLA_TYPE_MASK) == SCTLS_A_CONN_ID && cc->n < KF_MAX_IDS)
			memcpy(&cc->ids[cc->n++], (const char *)a + NLA_HDRLEN, 4);
}

static void get_stats(const struct nlattr *attrs, int len, void *arg)
{
	uint64_t *st = arg;
	const struct nlattr *a, *s;

	kfnl_for_each(a, attrs, len) {
		if ((a->nla_type & NLA_TYPE_MASK) != SCTLS_A_STATS)
			continue;
		kfnl_for_each(s, (const struct nlattr *)((const char *)a + NLA_HDRLEN),
			      a->nla_len - NLA_HDRLEN)
			if ((s->nla_type & NLA_TYPE_MASK) <= SCTLS_STAT_MAX &&
			    s->nla_len == NLA_HDRLEN + 8)
				memcpy(&st[s->nla_type & NLA_TYPE_MASK],
				       (const char *)s + NLA_HDRLEN, 8);
	}
}

static int read_stats(int nl, uint64_t *st)
{
	struct kfnl_msg m;

	memset(st, 0, (SCTLS_STAT_MAX + 1) * sizeof(*st));
	kfnl_init(&m, (uint16_t)kf.family, SCTLS_CMD_GET, 0);
	return kfnl_talk(nl, &m, get_stats, st);
}

static int list_conns(int nl, struct conns_count *cc)
{
	struct kfnl_msg m;

	memset(cc, 0, sizeof(*cc));
	kfnl_init(&m, (uint16_t)kf.family, SCTLS_CMD_CONNS, NLM_F_DUMP);
	return kfnl_talk(nl, &m, count_conn, cc);
}

/*
 * In the program's namespace, with its apps gone: the helper (one of ours,
 * if one is open there) reads what is left, closes every id it knows, and
 * no connection may remain. Then the counters must add up.
 */
static void check_quiesced(char *buf)
{
	struct kf_dev *helper = NULL;
	struct conns_count cc;
	uint64_t st[SCTLS_STAT_MAX + 1];
	int nl = kfnl_open();

	for (unsigned int i = 0; i < KF_SOCKS; i++)
		if (kf.sock[i].ns == 0)
			app_close(&kf.sock[i], 0);
	for (unsigned int i = 0; i < KF_DEVS; i++)
		if (kf.dev[i].fd >= 0 && kf.dev[i].ns == 0)
			helper = &kf.dev[i];

	/* poll's wake-up can come to nothing: read without blocking */
	if (helper)
		fcntl(helper->fd, F_SETFL, O_NONBLOCK);
	for (int round = 0; helper && round < 40; round++) {
		struct pollfd p = { .fd = helper->fd, .events = POLLIN };
		ssize_t n;

		while (poll(&p, 1, 50) > 0 && (n = read(helper->fd, buf, KF_BUF)) > 0)
			took_frames(helper, buf, n);
		for (unsigned int i = 0; i < kf.nr_conns; i++) {
			struct sctls_hdr h = { .len = SCTLS_HDR_LEN, .type = SCTLS_CLOSE,
					       .conn = kf.conns[i].id };

			if (kf.conns[i].hid == helper->hid && !kf.conns[i].closed) {
				write(helper->fd, &h, sizeof(h));
				kf.conns[i].closed = true;
			}
		}
		if (list_conns(nl, &cc) == 0 && cc.n == 0)
			break;
		usleep(50000);
	}
	if (helper && list_conns(nl, &cc) == 0 && cc.n)
		breaks("%u connections left that the helper could not close (id %u ...)", cc.n,
		       cc.ids[0]);

	if (read_stats(nl, st) == 0 &&
	    st[SCTLS_STAT_ACCEPTED] != st[SCTLS_STAT_ACTIVE] + st[SCTLS_STAT_CLOSED_APP] +
	    st[SCTLS_STAT_CLOSED_APP_LEFT] + st[SCTLS_STAT_CLOSED_HELPER] +
	    st[SCTLS_STAT_CLOSED_RESET])
		breaks("counters: accepted %llu != active %llu + closed %llu + %llu + %llu + %llu",
		       (unsigned long long)st[SCTLS_STAT_ACCEPTED],
		       (unsigned long long)st[SCTLS_STAT_ACTIVE],
		       (unsigned long long)st[SCTLS_STAT_CLOSED_APP],
		       (unsigned long long)st[SCTLS_STAT_CLOSED_APP_LEFT],
		       (unsigned long long)st[SCTLS_STAT_CLOSED_HELPER],
		       (unsigned long long)st[SCTLS_STAT_CLOSED_RESET]);
	for (unsigned int i = 0; i < KF_DEVS; i++)
		if (kf.dev[i].fd >= 0)
			close(kf.dev[i].fd);
	/* With no helper, every connection it had is counted closed. */
	if (read_stats(nl, st) == 0 &&
	    st[SCTLS_STAT_ACCEPTED] != st[SCTLS_STAT_CLOSED_APP] + st[SCTLS_STAT_CLOSED_APP_LEFT] +
	    st[SCTLS_STAT_CLOSED_HELPER] + st[SCTLS_STAT_CLOSED_RESET])
		breaks("with no helper: accepted %llu != closed %llu + %llu + %llu + %llu",
		       (unsigned long long)st[SCTLS_STAT_ACCEPTED],
		       (unsigned long long)st[SCTLS_STAT_CLOSED_APP],
		       (unsigned long long)st[SCTLS_STAT_CLOSED_APP_LEFT],
		       (unsigned long long)st[SCTLS_STAT_CLOSED_HELPER],
		       (unsigned long long)st[SCTLS_STAT_CLOSED_RESET]);
	close(nl);
}

static long ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

static void on_signal(int sig)
{
	(void)sig;
}

/* The child: returns its exit status (0, 3 for a broken invariant, 4 hung). */
static int child(const struct kf_prog *p, int report_fd)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec ts;
	char *buf = malloc(KF_BUF);
	bool joined[KF_THREADS] = { false };
	int status = 0;

	struct timespec t0, t1, t2, t3;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Set-up and teardown count too: namespaces, the helper's release. */
	kf_cover_enable(kf.cover, KF_THREADS);
	if (!buf || unshare(CLONE_NEWNET))
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	kf_lo_up();
	kf.prog_ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: a blocked call returns */
	for (unsigned int t = 0; t < KF_THREADS; t++) {
		struct kf_worker *w = &kf.w[t];

		w->index = t;
		w->nl = -1;
		w->buf = malloc(KF_BUF);
		if (!w->buf || pthread_create(&w->thread, NULL, worker, w))
			return 2;
	}

	/* Each call in turn; one that takes more than 20 ms is left behind. */
	pthread_mutex_lock(&kf.lock);
	for (unsigned int i = 0; i < p->nr; i++) {
		struct kf_worker *w = &kf.w[p->calls[i].thread];
		unsigned int want = w->tail + 1;

		w->queue[w->tail++ % KF_MAX_CALLS] = i;
		pthread_cond_broadcast(&kf.cond);
		deadline_in(&ts, 20);
		while (w->head < want &&
		       pthread_cond_timedwait(&kf.cond, &kf.lock, &ts) != ETIMEDOUT)
			;
	}
	/* Then all of them, for up to a second, before signals. */
	deadline_in(&ts, 1000);
	for (unsigned int t = 0; t < KF_THREADS; t++)
		while (kf.w[t].head < kf.w[t].tail &&
		       pthread_cond_timedwait(&kf.cond, &kf.lock, &ts) != ETIMEDOUT)
			;
	kf.stop = true;
	pthread_cond_broadcast(&kf.cond);
	pthread_mutex_unlock(&kf.lock);

	/* Signals end blocked calls (a thread may wait on another's lock). */
	for (int tries = 0; tries < 600; tries++) {
		bool all = true;

		for (unsigned int t = 0; t < KF_THREADS; t++)
			if (!joined[t])
				pthread_kill(kf.w[t].thread, SIGUSR1);
		for (unsigned int t = 0; t < KF_THREADS; t++) {
			if (joined[t])
				continue;
			deadline_in(&ts, 20);
			joined[t] = !pthread_timedjoin_np(kf.w[t].thread, NULL, &ts);
			all &= joined[t];
		}
		if (all)
			break;
	}
	for (unsigned int t = 0; t < KF_THREADS; t++) {
		if (!joined[t]) {
			struct kf_worker *w = &kf.w[t];

			dprintf(report_fd, "a %s call did not return within 30 s of signals\n",
				kf_op_name(kf.prog->calls[w->queue[w->head % KF_MAX_CALLS]].op));
			return 4;
		}
	}

	clock_gettime(CLOCK_MONOTONIC, &t2);
	check_quiesced(buf);
	/* For kfuzz's own test: a finding wherever a 19 ms sleep is. */
	if (getenv("KFUZZ_TEST_FINDING"))
		for (unsigned int i = 0; i < p->nr; i++)
			if (p->calls[i].op == KF_SLEEP && p->calls[i].b == 19)
				breaks("the test finding: a 19 ms sleep");
	clock_gettime(CLOCK_MONOTONIC, &t3);
	if (getenv("KFUZZ_TIMING"))
		fprintf(stderr, "kfuzz: ms: namespace %ld, calls %ld, checks %ld\n",
			ms_between(&t0, &t1), ms_between(&t1, &t2), ms_between(&t2, &t3));
	if (kf.broken[0]) {
		dprintf(report_fd, "%s\n", kf.broken);
		status = 3;
	}
	return status;
}

/* The kernel stacks of pid's tasks, to stdout. */
static void print_stacks(pid_t pid)
{
	char path[320], line[256];
	DIR *tasks;
	struct dirent *t;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	tasks = opendir(path);
	while (tasks && (t = readdir(tasks))) {
		FILE *f;

		if (t->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stack", pid, t->d_name);
		f = fopen(path, "r");
		printf("kfuzz: task %s, unkillable, in:\n", t->d_name);
		while (f && fgets(line, sizeof(line), f))
			printf("kfuzz:   %s", line);
		if (f)
			fclose(f);
	}
	if (tasks)
		closedir(tasks);
}

int kf_exec(struct kf_cover *c, const struct kf_prog *p, unsigned int timeout_ms,
	    struct kf_result *res)
{
	int pipefd[2], status = 0;
	unsigned int waited = 0;
	pid_t pid;
	ssize_t n;

	memset(res, 0, sizeof(*res));
	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	kf_cover_reset(c);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(pipefd[0]);
		memset(&kf, 0, sizeof(kf));
		kf.prog = p;
		kf.cover = c;
		kf.family = kf_family_id;
		pthread_mutex_init(&kf.lock, NULL);
		pthread_cond_init(&kf.cond, NULL);
		for (unsigned int i = 0; i < KF_DEVS; i++) {
			kf.dev[i].fd = -1;
			pthread_mutex_init(&kf.dev[i].lock, NULL);
		}
		for (unsigned int i = 0; i < KF_SOCKS; i++) {
			kf.sock[i].fd = -1;
			pthread_mutex_init(&kf.sock[i].lock, NULL);
		}
		_exit(child(p, pipefd[1]));
	}
	close(pipefd[1]);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (waited >= timeout_ms) {
			res->hung = true;
			kill(pid, SIGKILL);
			/* A task stuck in the kernel does not die: say where. */
			for (waited = 0; waitpid(pid, &status, WNOHANG) == 0; waited += 10) {
				if (waited >= 30000) {
					print_stacks(pid);
					snprintf(res->why, sizeof(res->why),
						 "the program outlived %u ms and SIGKILL (stacks above)",
						 timeout_ms);
					close(pipefd[0]);
					return 0;
				}
				usleep(10000);
			}
			snprintf(res->why, sizeof(res->why), "the program outlived %u ms",
				 timeout_ms);
			break;
		}
		usleep(5000);
		waited += 5;
	}
	n = read(pipefd[0], res->why, sizeof(res->why) - 1);
	if (n > 0) {
		res->why[n] = 0;
		res->why[strcspn(res->why, "\n")] = 0;
	}
	close(pipefd[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		res->invariant_broken = true;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 4)
		res->hung = true;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
		return -EIO;
	return 0;
}
