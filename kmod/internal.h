/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sctls: internal declarations shared by the module's files.
 */
#ifndef _SCTLS_INTERNAL_H
#define _SCTLS_INTERNAL_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netfilter.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <linux/uidgid.h>
#include <linux/net.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <linux/sctls.h>

#define SCTLS_LISTEN_BACKLOG	128
#define SCTLS_WHO_SLOTS		256	/* connecting SYNs remembered */

struct sctls_who;
struct sctls_conn;

/*
 * A namespace's configuration. Never changed in place: netlink replaces it
 * whole (RCU), so the netfilter hook reads it without locks.
 */
struct sctls_config {
	u16 ports[SCTLS_MAX_PORTS];
	unsigned int nr_ports;
	unsigned int max_conns;
	unsigned int window;
	unsigned int nr_uids;		/* 0: every uid is allowed */
	kuid_t uids[SCTLS_MAX_ALLOW_UIDS];
	struct rcu_head rcu;
};

/* The module parameters: every namespace starts with these. */
extern struct sctls_config sctls_defaults;

/* Counters of a namespace, changed under its helper's io_lock. */
struct sctls_stats {
	u64 accepted;
	u64 refused_max;
	u64 refused_policy;
	u64 closed_app;
	u64 closed_helper;
	u64 closed_reset;
	u64 bytes_from_app;
	u64 bytes_to_app;
	u64 frames_dropped;
	u64 writes_rejected;
};

/* A loopback listening port: IPv4 and, when the kernel has it, IPv6. */
struct sctls_listener {
	u16 port;
	unsigned int nr_socks;
	struct socket *socks[2];
};

/*
 * One helper, the holder of /dev/sctls, per network namespace. Everything
 * that changes a connection runs in the helper's read() and write() under
 * io_lock; socket callbacks only queue the connection on the ready list and
 * wake the helper. Netlink takes sctls_net.lock, then io_lock.
 */
struct sctls_helper {
	struct net *net;		/* referenced while the device is open */
	struct sctls_net *sn;
	struct user_namespace *user_ns;	/* the opener's, for uids in OPEN */
	struct pid_namespace *pid_ns;	/* the opener's, for pids in OPEN */
	struct pid *pid;		/* the opener's tgid */
	struct sctls_who *who;		/* who connected: who.c */

	struct mutex io_lock;		/* read, write, teardown, config */
	struct xarray conns;		/* id -> struct sctls_conn */
	u32 next_id;
	unsigned int nr_conns;
	struct sctls_listener listeners[SCTLS_MAX_PORTS];
	unsigned int nr_listeners;
	void (*listen_data_ready)(struct sock *sk);	/* theirs, restored */

	spinlock_t lock;		/* ready, accept_pending; from softirq */
	struct list_head ready;		/* conns with something to do */
	bool accept_pending;
	wait_queue_head_t wait;
};

/* Per network namespace state, in net_generic(net, sctls_net_id). */
struct sctls_net {
	struct mutex lock;		/* helper, config changes */
	struct sctls_helper *helper;	/* NULL when no helper is attached */
	struct sctls_config __rcu *config;
	struct sctls_who __rcu *who;	/* the helper's, for the hook */
	struct sctls_stats stats;
	atomic64_t refused_no_helper;	/* counted by the netfilter hook */
	struct nf_hook_ops hooks[2];
	unsigned int nr_hooks;
};

extern unsigned int sctls_net_id;

static inline struct sctls_net *sctls_net(const struct net *net)
{
	return net_generic(net, sctls_net_id);
}

/* The configuration, for holders of sn->lock. */
static inline struct sctls_config *sctls_config_locked(struct sctls_net *sn)
{
	return rcu_dereference_protected(sn->config, lockdep_is_held(&sn->lock));
}

static inline bool sctls_config_serves(const struct sctls_config *cfg,
				       u16 port)
{
	unsigned int i;

	for (i = 0; i < cfg->nr_ports; i++)
		if (cfg->ports[i] == port)
			return true;
	return false;
}

static inline bool sctls_helper_has_work(struct sctls_helper *helper)
{
	return READ_ONCE(helper->accept_pending) ||
	       !list_empty_careful(&helper->ready);
}

/* listen.c */
int sctls_listen_update(struct sctls_helper *helper,
			const struct sctls_config *cfg);
void sctls_listen_stop(struct sctls_helper *helper);
void sctls_accept_all(struct sctls_helper *helper);
void sctls_listen_disown(struct sctls_helper *helper, struct socket *sock);

/* who.c */
int sctls_who_net_init(struct net *net);
void sctls_who_net_exit(struct net *net);
int sctls_who_start(struct sctls_helper *helper);
void sctls_who_stop(struct sctls_helper *helper);
void sctls_who_describe(struct sctls_helper *helper, struct sock *sk,
			struct sctls_open *open, kuid_t *uid);

/* conn.c */
int sctls_conn_cache_init(void);
void sctls_conn_cache_exit(void);
int sctls_conn_add(struct sctls_helper *helper, struct socket *sock);
int sctls_conn_reset(struct sctls_helper *helper, u32 id);
int sctls_conn_fill(struct sk_buff *skb, struct sctls_conn *conn,
		    struct user_namespace *user_ns);
ssize_t sctls_conn_read(struct sctls_helper *helper, struct iov_iter *to);
int sctls_conn_apply(struct sctls_helper *helper, const struct sctls_hdr *hdr,
		     struct iov_iter *payload);
void sctls_conn_destroy_all(struct sctls_helper *helper);

/* netlink.c */
int sctls_genl_init(void);
void sctls_genl_exit(void);
void sctls_notify_open(struct sctls_helper *helper, struct sctls_conn *conn);
void sctls_notify_close(struct sctls_helper *helper, u32 id, u8 reason,
			int err, u64 from_app, u64 to_app);
void sctls_notify_helper(struct sctls_helper *helper, u8 cmd);

/* chardev.c */
int sctls_chardev_init(void);
void sctls_chardev_exit(void);

#endif /* _SCTLS_INTERNAL_H */
