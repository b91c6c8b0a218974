/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sctls: internal declarations shared by the module's files.
 */
#ifndef _SCTLS_INTERNAL_H
#define _SCTLS_INTERNAL_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <linux/sctls.h>

/* Limits of the module parameters, checked at load. */
#define SCTLS_MIN_WINDOW	4096U
#define SCTLS_MAX_WINDOW	(16U << 20)
#define SCTLS_MAX_CONNS_LIMIT	65536U

#define SCTLS_LISTEN_BACKLOG	128
#define SCTLS_WHO_SLOTS		256	/* connecting SYNs remembered */

struct sctls_who;

/* The gateway's configuration, fixed at load from the module parameters. */
struct sctls_config {
	u16 ports[SCTLS_MAX_PORTS];
	unsigned int nr_ports;
	unsigned int max_conns;
	unsigned int window;
};

extern struct sctls_config sctls_config;

/*
 * One helper, the holder of /dev/sctls, per network namespace. Everything
 * that changes a connection runs in the helper's read() and write() under
 * io_lock; socket callbacks only queue the connection on the ready list and
 * wake the helper.
 */
struct sctls_helper {
	struct net *net;		/* referenced while the device is open */
	struct user_namespace *user_ns;	/* the opener's, for uids in OPEN */
	struct pid_namespace *pid_ns;	/* the opener's, for pids in OPEN */
	struct sctls_who *who;		/* who connected: who.c */
	unsigned int window;
	unsigned int max_conns;

	struct mutex io_lock;		/* read, write, teardown */
	struct xarray conns;		/* id -> struct sctls_conn */
	u32 next_id;
	unsigned int nr_conns;
	struct socket *listeners[2 * SCTLS_MAX_PORTS];
	unsigned int nr_listeners;
	void (*listen_data_ready)(struct sock *sk);	/* theirs, restored */

	spinlock_t lock;		/* ready, accept_pending; from softirq */
	struct list_head ready;		/* conns with something to do */
	bool accept_pending;
	wait_queue_head_t wait;

	u64 frames_dropped;		/* for connections already gone */
	u64 writes_rejected;		/* malformed, nothing applied */
	u64 conns_refused_max;		/* reset at max_conns */
};

/* Per network namespace state, in net_generic(net, sctls_net_id). */
struct sctls_net {
	struct mutex lock;		/* protects helper */
	struct sctls_helper *helper;	/* NULL when no helper is attached */
};

extern unsigned int sctls_net_id;

static inline struct sctls_net *sctls_net(const struct net *net)
{
	return net_generic(net, sctls_net_id);
}

static inline bool sctls_helper_has_work(struct sctls_helper *helper)
{
	return READ_ONCE(helper->accept_pending) ||
	       !list_empty_careful(&helper->ready);
}

/* listen.c */
int sctls_listen_start(struct sctls_helper *helper);
void sctls_listen_stop(struct sctls_helper *helper);
void sctls_accept_all(struct sctls_helper *helper);
void sctls_listen_disown(struct sctls_helper *helper, struct socket *sock);

/* who.c */
int sctls_who_start(struct sctls_helper *helper);
void sctls_who_stop(struct sctls_helper *helper);
void sctls_who_describe(struct sctls_helper *helper, struct sock *sk,
			struct sctls_open *open);

/* conn.c */
int sctls_conn_cache_init(void);
void sctls_conn_cache_exit(void);
int sctls_conn_add(struct sctls_helper *helper, struct socket *sock);
ssize_t sctls_conn_read(struct sctls_helper *helper, struct iov_iter *to);
int sctls_conn_apply(struct sctls_helper *helper, const struct sctls_hdr *hdr,
		     struct iov_iter *payload);
void sctls_conn_destroy_all(struct sctls_helper *helper);

/* chardev.c */
int sctls_chardev_init(void);
void sctls_chardev_exit(void);

#endif /* _SCTLS_INTERNAL_H */
