/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sctls: internal declarations shared by the module's files.
 */
#ifndef _SCTLS_INTERNAL_H
#define _SCTLS_INTERNAL_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <linux/uidgid.h>
#include <linux/net.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <linux/sctls.h>

#define SCTLS_LISTEN_BACKLOG	128
#define SCTLS_ACCEPT_BATCH	16	/* accepted per read(), then frames */
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
/* Seconds a helper-closed connection may go without the app reading. */
extern unsigned int sctls_closing_timeout;

/* Counters of a namespace, changed under its helper's io_lock. */
struct sctls_stats {
	u64 accepted;
	u64 refused_max;
	u64 refused_policy;
	u64 closed_app;
	u64 closed_helper;
	u64 closed_reset;
	u64 closed_app_left;
	u64 bytes_from_app;
	u64 bytes_to_app;
	u64 frames_dropped;
	u64 writes_rejected;
	u64 refused_not_local;
};

/*
 * A served port: its sockets on 127.0.0.1 and ::1, bound to the loopback
 * device from the moment the namespace is served until the port is removed
 * or the namespace ends, so that no local app can take the port. They
 * listen only while a helper is attached.
 */
struct sctls_port {
	u16 port;
	int err;		/* 0 when held, else why binding failed */
	unsigned int nr_socks;
	struct socket *socks[2];	/* IPv4; IPv6 when the kernel has it */
};

struct sctls_ports {
	unsigned int nr;
	struct sctls_port port[SCTLS_MAX_PORTS];
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
	struct user_namespace *user_ns;	/* the file's, for uids in OPEN */
	struct pid_namespace *pid_ns;	/* pid's, for pids in OPEN */
	struct pid *pid;		/* the opener's tgid */
	struct sctls_who *who;		/* who connected: who.c */

	struct mutex io_lock;		/* read, write, teardown, config */
	struct xarray conns;		/* id -> struct sctls_conn */
	u32 next_id;
	unsigned int nr_conns;
	size_t staged;			/* bytes of staging buffers, all conns */
	struct list_head closing;	/* conns closed orderly, bytes still out */
	struct delayed_work reap;	/* resets closing conns that stall */

	unsigned int accept_next;	/* the listener the next batch starts at */

	spinlock_t lock;		/* ready, accept_pending; from softirq */
	struct list_head ready;		/* conns with something to do */
	bool accept_pending;
	wait_queue_head_t wait;
};

/* Per network namespace state, in net_generic(net, sctls_net_id). */
struct sctls_net {
	struct net *net;
	struct mutex lock;		/* helper, config, ports, serving */
	bool served;			/* ports held and hooks in place */
	struct sctls_helper *helper;	/* NULL when no helper is attached */
	struct sctls_config __rcu *config;
	/* Changed under lock, and the helper's io_lock when it has one. */
	struct sctls_ports ports;
	void (*tcp_data_ready)(struct sock *sk);	/* TCP's own */
	struct work_struct drain;	/* resets what waits with no helper */
	struct sctls_who __rcu *who;	/* the helper's, for the hook */
	struct sctls_stats stats;
	atomic64_t refused_no_helper;	/* counted by the netfilter hook */
	struct nf_hook_ops hooks[2];
	unsigned int nr_hooks;
	/* Sockets of connections ended orderly, until TCP is done: linger.c */
	struct mutex linger_lock;
	struct list_head kept;
	unsigned int nr_kept;
	struct delayed_work linger_work;
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
int sctls_serve(struct sctls_net *sn, const struct sctls_config *cfg,
		bool all_or_nothing, struct netlink_ext_ack *extack);
void sctls_unserve(struct sctls_net *sn);
int sctls_ports_update(struct sctls_net *sn, const struct sctls_config *cfg,
		       struct netlink_ext_ack *extack);
int sctls_ports_listen(struct sctls_net *sn, struct sctls_helper *helper);
void sctls_ports_unlisten(struct sctls_net *sn);
void sctls_ports_drain(struct sctls_net *sn);
void sctls_ports_drain_work(struct work_struct *work);
void sctls_accept_some(struct sctls_helper *helper);
void sctls_listen_disown(struct sctls_net *sn, struct socket *sock);

/* who.c */
int sctls_who_hooks_register(struct sctls_net *sn);
void sctls_who_hooks_unregister(struct sctls_net *sn);
int sctls_who_start(struct sctls_helper *helper);
void sctls_who_stop(struct sctls_helper *helper);
void sctls_who_forget(struct sctls_helper *helper, struct sock *sk);
int sctls_who_describe(struct sctls_helper *helper, struct sock *sk,
		       struct sctls_open *open, kuid_t *uid);

/* conn.c */
int sctls_conn_cache_init(void);
void sctls_conn_cache_exit(void);
int sctls_conn_add(struct sctls_helper *helper, struct socket *sock);
int sctls_conn_reset(struct sctls_helper *helper, u32 id);
size_t sctls_conn_fill_size(void);
int sctls_conn_fill(struct sk_buff *skb, struct sctls_conn *conn,
		    struct user_namespace *user_ns);
ssize_t sctls_conn_read(struct sctls_helper *helper, struct iov_iter *to);
int sctls_conn_apply(struct sctls_helper *helper, const struct sctls_hdr *hdr,
		     struct iov_iter *payload);
void sctls_conn_destroy_all(struct sctls_helper *helper);
void sctls_conn_reap(struct work_struct *work);

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

/* linger.c */
void sctls_linger_add(struct sctls_net *sn, struct socket *sock,
		      unsigned int limit);
void sctls_linger_work(struct work_struct *work);
void sctls_linger_exit(struct sctls_net *sn);

/* ids.c */
kuid_t sctls_make_kuid(struct user_namespace *ns, uid_t uid);
uid_t sctls_from_kuid(struct user_namespace *ns, kuid_t kuid);
gid_t sctls_from_kgid(struct user_namespace *ns, kgid_t kgid);

#endif /* _SCTLS_INTERNAL_H */
