// SPDX-License-Identifier: GPL-2.0
/*
 * Systematic fault injection: for each device and netlink operation, fail
 * its n-th allocation or user copy (/proc/thread-self/fail-nth) for n = 1,
 * 2, ... until the operation runs with no fault left to inject. Each time
 * the operation must fail with an error its contract names (or succeed:
 * some allocations have fallbacks), and the gateway must stay whole: a
 * fresh connection then carries bytes both ways. Leaks are kmemleak's to
 * find after the run.
 *
 * The task that injects touches nothing but the module between arming and
 * the call: kfuzz is static, runs from tmpfs and locks its memory, so no
 * page fault reaches the 9p root (where an injected failure would only
 * break the file system).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sctls.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kfnl.h"
#include "kfuzz.h"

struct world {
	int helper;		/* /dev/sctls, non-blocking */
	int app;		/* a connected app socket, or -1 */
	uint32_t id;		/* its connection id, once OPEN was read */
	int nl;
	char buf[SCTLS_MAX_FRAME];
};

static int fail_nth_fd = -1;

static void arm(unsigned int n)
{
	char s[16];
	int len = snprintf(s, sizeof(s), "%u", n);

	if (pwrite(fail_nth_fd, s, len, 0) != len) {
		perror("kfuzz: fail-nth");
		exit(2);
	}
}

/*
 * Whether the armed fault was injected; disarms in any case. Reading and
 * writing fail-nth copy to and from user memory themselves: a fault still
 * pending fails that copy (EFAULT), and so was not injected in the call.
 */
static bool injected(void)
{
	char s[16] = "";
	ssize_t n = pread(fail_nth_fd, s, sizeof(s) - 1, 0);
	bool hit = n > 0 && atoi(s) == 0;

	for (int i = 0; i < 3 && pwrite(fail_nth_fd, "0", 1, 0) != 1; i++)
		;
	return hit;
}

static int wait_in(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms);
}

static int app_connect(void)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(SCTLS_DEFAULT_PORT),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	return getsockname(fd, (struct sockaddr *)&a, &len) ? 0 : ntohs(a.sin_port);
}

/*
 * Read frames until one of type for id; for OPEN, the one for w->app's
 * connection (a failed call may have left an earlier app's OPEN waiting).
 * Its length, or -1.
 */
static ssize_t read_frame(struct world *w, uint16_t type, uint32_t id, int ms)
{
	uint16_t port = type == SCTLS_OPEN ? local_port(w->app) : 0;

	while (wait_in(w->helper, ms) > 0) {
		ssize_t n = read(w->helper, w->buf, sizeof(w->buf));
		struct sctls_hdr h;

		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < (ssize_t)SCTLS_HDR_LEN)
			return -1;
		for (ssize_t off = 0; off + (ssize_t)SCTLS_HDR_LEN <= n; off += h.len) {
			memcpy(&h, w->buf + off, sizeof(h));
			if (h.len < SCTLS_HDR_LEN)
				return -1;
			if (h.type == SCTLS_OPEN && type == SCTLS_OPEN) {
				struct sctls_open o;

				memcpy(&o, w->buf + off + SCTLS_HDR_LEN, sizeof(o));
				if (o.peer_port != port)
					continue;
				w->id = h.conn;
				return h.len;
			}
			if (h.type == type && h.conn == id)
				return h.len;
		}
	}
	return -1;
}

static int write_frame(struct world *w, uint16_t type, uint16_t flags, const void *data,
		       uint32_t len)
{
	struct sctls_hdr h = { .len = SCTLS_HDR_LEN + len, .type = type, .flags = flags,
			       .conn = w->id };

	memcpy(w->buf, &h, sizeof(h));
	memcpy(w->buf + sizeof(h), data, len);
	return write(w->helper, w->buf, h.len) == (ssize_t)h.len ? 0 : -errno;
}

static void world_close(struct world *w)
{
	if (w->app >= 0)
		close(w->app);
	if (w->helper >= 0)
		close(w->helper);
	if (w->nl >= 0)
		close(w->nl);
	w->app = w->helper = w->nl = -1;
}

static int set_window(struct world *w, uint32_t window)
{
	struct kfnl_msg m;

	kfnl_init(&m, (uint16_t)kf_family_id, SCTLS_CMD_SET, 0);
	kfnl_put_u32(&m, SCTLS_A_WINDOW, window);
	return kfnl_talk(w->nl, &m, NULL, NULL);
}

enum setup {
	HELPER,		/* a namespace of its own with a helper */
	PENDING,	/* and an app whose connection waits to be taken */
	CONNECTED,	/* and an app the helper has the OPEN of */
};

static int world_open(struct world *w, enum setup setup)
{
	w->app = w->helper = w->nl = -1;
	w->id = 0;
	if (unshare(CLONE_NEWNET))
		return -errno;
	kf_lo_up();
	w->nl = kfnl_open();
	w->helper = open("/dev/sctls", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (w->helper < 0 || w->nl < 0)
		return -errno;
	if (setup == HELPER)
		return 0;
	/* A window that a whole DATA frame fits in, whatever the load's. */
	if (set_window(w, SCTLS_MAX_PAYLOAD))
		return -EIO;
	w->app = app_connect();
	if (w->app < 0 || wait_in(w->helper, 30000) <= 0)
		return -EIO;
	if (setup == CONNECTED && read_frame(w, SCTLS_OPEN, 0, 30000) < 0)
		return -EIO;
	return 0;
}

/* The gateway still works: a new app gets bytes through both ways. */
static const char *exchange_works(struct world *w)
{
	struct world fresh = { .helper = w->helper, .app = app_connect(), .nl = -1 };
	char got[8];

	if (fresh.app < 0)
		return "a new app could not connect";
	if (read_frame(&fresh, SCTLS_OPEN, 0, 30000) < 0) {
		close(fresh.app);
		return "no OPEN for a new app";
	}
	if (send(fresh.app, "ping", 4, 0) != 4 ||
	    read_frame(&fresh, SCTLS_DATA, fresh.id, 30000) != SCTLS_HDR_LEN + 4 ||
	    write_frame(&fresh, SCTLS_DATA, 0, "pong", 4) ||
	    wait_in(fresh.app, 30000) <= 0 || recv(fresh.app, got, 4, 0) != 4 ||
	    memcmp(got, "pong", 4)) {
		close(fresh.app);
		return "bytes did not cross a new connection";
	}
	write_frame(&fresh, SCTLS_CLOSE, 0, NULL, 0);
	close(fresh.app);
	return NULL;
}

struct fault_op {
	const char *name;
	enum setup setup;
	/* what the call needs in place, done before the fault is armed */
	int (*prepare)(struct world *w);
	/* the call under test: 0 or -errno */
	int (*call)(struct world *w);
	/* whatever else must hold after it, or NULL: a failure's text */
	const char *(*verify)(struct world *w);
	/* errors its contract allows when an allocation or copy fails */
	int allowed[6];
};

static int no_helper(struct world *w)
{
	close(w->helper);
	w->helper = -1;
	return 0;
}

static int op_open(struct world *w)
{
	int fd, err;

	fd = open("/dev/sctls", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	err = fd < 0 ? -errno : 0;
	w->helper = fd;
	return err;
}

static int op_accept(struct world *w)
{
	/* the connection waits in the listener; the helper's read takes it */
	ssize_t n = read(w->helper, w->buf, sizeof(w->buf));

	return n < 0 ? -errno : 0;
}

static int op_data_to_app(struct world *w)
{
	return write_frame(w, SCTLS_DATA, 0, "0123456789", 10);
}

/* An app that does not read: the module keeps what its socket refuses. */
static int small_app(struct world *w)
{
	int small = 4096;

	return setsockopt(w->app, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) ? -errno : 0;
}

static int op_data_staged(struct world *w)
{
	static char big[SCTLS_MAX_PAYLOAD];

	memset(big, 'x', sizeof(big));
	return write_frame(w, SCTLS_DATA, 0, big, sizeof(big));
}

static int app_sent(struct world *w)
{
	return send(w->app, "hello", 5, 0) == 5 && wait_in(w->helper, 30000) > 0 ? 0 : -EIO;
}

static int op_data_from_app(struct world *w)
{
	ssize_t n = read(w->helper, w->buf, sizeof(w->buf));

	return n < 0 ? -errno : 0;
}

static int op_close_conn(struct world *w)
{
	return write_frame(w, SCTLS_CLOSE, SCTLS_CLOSE_ORDERLY, NULL, 0);
}

static int op_info(struct world *w)
{
	struct sctls_info info;

	return ioctl(w->helper, SCTLS_IOC_INFO, &info) ? -errno : 0;
}

static int nl_call(struct world *w, uint8_t cmd, uint16_t flags, void (*fill)(struct kfnl_msg *))
{
	struct kfnl_msg m;

	kfnl_init(&m, (uint16_t)kf_family_id, cmd, flags);
	if (fill)
		fill(&m);
	return kfnl_talk(w->nl, &m, NULL, NULL);
}

static void fill_set(struct kfnl_msg *m)
{
	kfnl_nest(m, SCTLS_A_PORTS);
	kfnl_put_u16(m, SCTLS_A_PORT, SCTLS_DEFAULT_PORT);
	kfnl_put_u16(m, SCTLS_A_PORT, 4300);
	kfnl_put_u16(m, SCTLS_A_PORT, 4301);
	kfnl_nest_end(m);
	kfnl_put_u32(m, SCTLS_A_MAX_CONNS, 7);
	kfnl_put_u32(m, SCTLS_A_WINDOW, 8192);
	kfnl_nest(m, SCTLS_A_ALLOW_UIDS);
	kfnl_put_u32(m, SCTLS_A_UID, 0);
	kfnl_nest_end(m);
}

static int op_nl_set(struct world *w)
{
	return nl_call(w, SCTLS_CMD_SET, 0, fill_set);
}

struct config {
	uint32_t max_conns, window, nr_ports;
};

static void get_config(const struct nlattr *attrs, int len, void *arg)
{
	struct config *c = arg;
	const struct nlattr *a, *p;

	kfnl_for_each(a, attrs, len) {
		const void *v = (const char *)a + NLA_HDRLEN;

		switch (a->nla_type & NLA_TYPE_MASK) {
		case SCTLS_A_MAX_CONNS: memcpy(&c->max_conns, v, 4); break;
		case SCTLS_A_WINDOW: memcpy(&c->window, v, 4); break;
		case SCTLS_A_PORTS:
			kfnl_for_each(p, (const struct nlattr *)v, a->nla_len - NLA_HDRLEN)
				c->nr_ports++;
			break;
		default: break;
		}
	}
}

/* SET is all or nothing: the namespace's defaults, or all of fill_set's. */
static const char *set_all_or_nothing(struct world *w)
{
	struct config c = { 0 };
	struct kfnl_msg m;

	kfnl_init(&m, (uint16_t)kf_family_id, SCTLS_CMD_GET, 0);
	if (kfnl_talk(w->nl, &m, get_config, &c))
		return "GET failed after the fault";
	if (c.max_conns == 7 && c.window == 8192 && c.nr_ports == 3)
		return NULL;
	if (c.max_conns != 7 && c.window != 8192 && c.nr_ports != 3)
		return NULL;
	return "SET was applied in part";
}

static int op_nl_get(struct world *w)
{
	return nl_call(w, SCTLS_CMD_GET, 0, NULL);
}

static int op_nl_conns(struct world *w)
{
	return nl_call(w, SCTLS_CMD_CONNS, NLM_F_DUMP, NULL);
}

static uint32_t reset_id;

static void fill_reset(struct kfnl_msg *m)
{
	kfnl_put_u32(m, SCTLS_A_CONN_ID, reset_id);
}

static int op_nl_reset(struct world *w)
{
	reset_id = w->id;
	return nl_call(w, SCTLS_CMD_RESET, 0, fill_reset);
}

static int op_release(struct world *w)
{
	close(w->helper);
	w->helper = open("/dev/sctls", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	return 0;
}

static const struct fault_op ops[] = {
	/* EFAULT: the VFS's copy of the path */
	{ "open /dev/sctls", HELPER, no_helper, op_open, NULL, { -ENOMEM, -EFAULT } },
	{ "read: accept and OPEN", PENDING, NULL, op_accept, NULL,
	  { -ENOMEM, -EAGAIN, -EFAULT } },
	{ "read: DATA from the app", CONNECTED, app_sent, op_data_from_app, NULL,
	  { -ENOMEM, -EAGAIN, -EFAULT } },
	{ "write: DATA to the app", CONNECTED, NULL, op_data_to_app, NULL, { -ENOMEM, -EFAULT } },
	{ "write: DATA kept for a full app", CONNECTED, small_app, op_data_staged, NULL,
	  { -ENOMEM, -EFAULT } },
	{ "write: orderly CLOSE", CONNECTED, NULL, op_close_conn, NULL, { -ENOMEM, -EFAULT } },
	{ "ioctl SCTLS_IOC_INFO", HELPER, NULL, op_info, NULL, { -EFAULT } },
	{ "release with a connection", CONNECTED, NULL, op_release, NULL, { 0 } },
	/*
	 * A new port's socket and bind fail as the kernel's own do: ENFILE
	 * when no socket could be allocated, EADDRINUSE when the bind bucket
	 * could not (inet_csk_get_port cannot tell the two causes apart).
	 */
	{ "netlink SET", HELPER, NULL, op_nl_set, set_all_or_nothing,
	  { -ENOMEM, -ENOBUFS, -EFAULT, -ENFILE, -EADDRINUSE } },
	{ "netlink GET", HELPER, NULL, op_nl_get, NULL, { -ENOMEM, -ENOBUFS, -EMSGSIZE, -EFAULT } },
	{ "netlink CONNS", CONNECTED, NULL, op_nl_conns, NULL,
	  { -ENOMEM, -ENOBUFS, -EMSGSIZE, -EFAULT } },
	{ "netlink RESET", CONNECTED, NULL, op_nl_reset, NULL, { -ENOMEM, -ENOBUFS, -EFAULT } },
};

static int write_knob(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, value, strlen(value));

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

int kf_faults(FILE *log)
{
	static const char *const knobs[][2] = {
		/* fail-nth counts sleeping allocations too */
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
		{ "/sys/kernel/debug/fail_usercopy/verbose", "0" },
	};
	unsigned int failures = 0, total = 0;
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (write_knob(knobs[i][0], knobs[i][1])) {
			fprintf(log, "kfuzz: cannot set %s (CONFIG_FAULT_INJECTION_DEBUG_FS?)\n",
				knobs[i][0]);
			return -1;
		}
	fail_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (fail_nth_fd < 0) {
		fprintf(log, "kfuzz: /proc/thread-self/fail-nth: %s\n", strerror(errno));
		return -1;
	}

	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		const struct fault_op *op = &ops[k];
		unsigned int n, bad = 0;

		for (n = 1; n <= 1000; n++) {
			struct world w;
			const char *why = NULL;
			bool hit, ok = false;
			int err;

			if (setns(home, CLONE_NEWNET) || world_open(&w, op->setup)) {
				fprintf(log, "not ok - faults: %s: set-up failed: %s\n", op->name,
					strerror(errno));
				world_close(&w);
				return -1;
			}
			if (op->prepare && op->prepare(&w)) {
				fprintf(log, "not ok - faults: %s: preparing failed\n", op->name);
				world_close(&w);
				return -1;
			}
			arm(n);
			err = op->call(&w);
			hit = injected();
			/* after a failed open, the next one must work */
			if (w.helper < 0)
				w.helper = open("/dev/sctls", O_RDWR | O_NONBLOCK | O_CLOEXEC);
			if (!err)
				ok = true;
			for (unsigned int e = 0; e < 6 && op->allowed[e]; e++)
				ok |= err == op->allowed[e];
			if (!ok)
				why = "an error its contract does not name";
			else if (op->verify && (why = op->verify(&w)))
				;
			else if (w.helper >= 0)
				why = exchange_works(&w);
			else
				why = "the device could not be opened after the fault";
			if (why) {
				fprintf(log, "kfuzz: faults: %s, fault %u%s: returned %s: %s\n",
					op->name, n, hit ? "" : " (none injected)",
					err ? strerror(-err) : "success", why);
				bad++;
			}
			world_close(&w);
			total++;
			if (!hit)
				break;
		}
		if (n > 1000) {
			fprintf(log, "kfuzz: faults: %s: still failing at 1000 faults\n", op->name);
			bad++;
		}
		fprintf(log, "%s - faults: %s: %u faults injected, %u not handled\n",
			bad ? "not ok" : "ok", op->name, n - 1, bad);
		failures += bad;
	}
	setns(home, CLONE_NEWNET);
	close(home);
	fprintf(log, "kfuzz: faults: %u runs, %u not handled\n", total, failures);
	return failures ? 1 : 0;
}
