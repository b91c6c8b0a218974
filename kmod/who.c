// SPDX-License-Identifier: GPL-2.0
/*
 * sctls: who connected. connect() sends its SYN synchronously, so a
 * NF_INET_LOCAL_OUT hook sees the SYN to a served port with current being
 * the connecting task: its tgid and command are kept, by 4-tuple, in a small
 * table until the connection is accepted. The owner of the app's socket is
 * found at accept in the namespace's established hash. The hooks are in
 * place in served namespaces only, with or without a helper: without one,
 * they refuse the connection and count it.
 */
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jiffies.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
#include <net/sock.h>

#include "compat.h"
#include "internal.h"

/* A SYN not accepted within this long is forgotten. */
#define SCTLS_SYN_TTL		(10 * HZ)

/* A connecting SYN and the task that sent it. */
struct sctls_syn {
	unsigned long stamp;	/* jiffies when seen; 0: free slot */
	u16 family;
	__be16 sport;		/* the app's port */
	__be16 dport;		/* the served port */
	u8 saddr[16];		/* the app's address */
	u32 pid;		/* in the helper's pid namespace */
	char comm[SCTLS_COMM_LEN];
};

struct sctls_who {
	spinlock_t lock;		/* protects syns; taken with BH off */
	struct pid_namespace *pid_ns;	/* the helper's */
	struct sctls_syn syns[SCTLS_WHO_SLOTS];
};

static bool sctls_syn_matches(const struct sctls_syn *s, u16 family,
			      const void *saddr, __be16 sport, __be16 dport)
{
	return s->stamp && s->family == family && s->sport == sport &&
	       s->dport == dport &&
	       !memcmp(s->saddr, saddr, family == AF_INET ? 4 : 16);
}

static void sctls_who_record(struct sctls_who *who, u16 family,
			     const void *saddr, __be16 sport, __be16 dport)
{
	struct sctls_syn *match = NULL, *free = NULL, *oldest = NULL;
	struct sctls_syn *slot, *s;
	char comm[TASK_COMM_LEN];
	unsigned long now = jiffies;
	unsigned int i;
	u32 pid;

	/* A task outside the helper's pid namespace stays anonymous. */
	pid = task_tgid_nr_ns(current, who->pid_ns);
	if (pid)
		get_task_comm(comm, current);

	spin_lock_bh(&who->lock);
	/*
	 * The same 4-tuple first: the newest SYN replaces a stale one. Then a
	 * free or expired slot, else the oldest: the table stays bounded.
	 */
	for (i = 0; i < SCTLS_WHO_SLOTS; i++) {
		s = &who->syns[i];
		if (sctls_syn_matches(s, family, saddr, sport, dport)) {
			match = s;
			break;
		}
		if (!s->stamp || time_after(now, s->stamp + SCTLS_SYN_TTL)) {
			if (!free)
				free = s;
		} else if (!oldest || time_before(s->stamp, oldest->stamp)) {
			oldest = s;
		}
	}
	slot = match ?: free ?: oldest;
	memset(slot, 0, sizeof(*slot));
	slot->stamp = now ?: 1;
	slot->family = family;
	slot->sport = sport;
	slot->dport = dport;
	memcpy(slot->saddr, saddr, family == AF_INET ? 4 : 16);
	if (pid) {
		slot->pid = pid;
		strscpy(slot->comm, comm, sizeof(slot->comm));
	}
	spin_unlock_bh(&who->lock);
}

/* Netfilter hooks run under rcu_read_lock(). */
static unsigned int sctls_who_hook(void *priv, struct sk_buff *skb,
				   const struct nf_hook_state *state)
{
	struct sctls_net *sn = priv;
	struct tcphdr _th;
	const struct tcphdr *th;
	struct sctls_who *who;
	unsigned int thoff;

	/* SYN retransmits come from timers; the first SYN was seen already. */
	if (!in_task())
		return NF_ACCEPT;

	if (state->pf == NFPROTO_IPV4) {
		const struct iphdr *iph = ip_hdr(skb);

		if (iph->protocol != IPPROTO_TCP ||
		    iph->daddr != htonl(INADDR_LOOPBACK))
			return NF_ACCEPT;
		thoff = skb_network_offset(skb) + ip_hdrlen(skb);
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		if (ip6h->nexthdr != IPPROTO_TCP ||
		    !ipv6_addr_loopback(&ip6h->daddr))
			return NF_ACCEPT;
		thoff = skb_network_offset(skb) + sizeof(*ip6h);
	}

	th = skb_header_pointer(skb, thoff, sizeof(_th), &_th);
	if (!th || !th->syn || th->ack ||
	    !sctls_config_serves(rcu_dereference(sn->config), ntohs(th->dest)))
		return NF_ACCEPT;

	who = rcu_dereference(sn->who);
	if (!who) {
		/*
		 * No helper: the port is held, but not served. tcp_connect()
		 * hands this error to connect() at once, as a RST would.
		 */
		atomic64_inc(&sn->refused_no_helper);
		return NF_DROP_ERR(-ECONNREFUSED);
	}
	if (state->pf == NFPROTO_IPV4)
		sctls_who_record(who, AF_INET, &ip_hdr(skb)->saddr, th->source,
				 th->dest);
	else
		sctls_who_record(who, AF_INET6, &ipv6_hdr(skb)->saddr,
				 th->source, th->dest);
	return NF_ACCEPT;
}

/* Only in served namespaces: the hook costs every locally sent packet. */
int sctls_who_hooks_register(struct sctls_net *sn)
{
	static const u8 pfs[] = { NFPROTO_IPV4, NFPROTO_IPV6 };
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(pfs); i++) {
		struct nf_hook_ops *ops = &sn->hooks[sn->nr_hooks];

		ops->hook = sctls_who_hook;
		ops->priv = sn;
		ops->pf = pfs[i];
		ops->hooknum = NF_INET_LOCAL_OUT;
		ops->priority = INT_MIN;	/* only looks, first */
		err = nf_register_net_hook(sn->net, ops);
		/* Without IPv6 in the kernel, IPv4 alone. */
		if (err && pfs[i] == NFPROTO_IPV6)
			continue;
		if (err) {
			sctls_who_hooks_unregister(sn);
			return err;
		}
		sn->nr_hooks++;
	}
	return 0;
}

/*
 * From the pernet pre_exit: hooks still running on other CPUs may read the
 * namespace's config, which the exit frees after an RCU grace period.
 */
void sctls_who_hooks_unregister(struct sctls_net *sn)
{
	while (sn->nr_hooks)
		nf_unregister_net_hook(sn->net, &sn->hooks[--sn->nr_hooks]);
}

/* The helper is attaching: remember connecting tasks from now on. */
int sctls_who_start(struct sctls_helper *helper)
{
	struct sctls_who *who;

	who = kzalloc(sizeof(*who), GFP_KERNEL_ACCOUNT);
	if (!who)
		return -ENOMEM;
	spin_lock_init(&who->lock);
	who->pid_ns = helper->pid_ns;
	helper->who = who;
	rcu_assign_pointer(helper->sn->who, who);
	return 0;
}

void sctls_who_stop(struct sctls_helper *helper)
{
	struct sctls_who *who = helper->who;

	if (!who)
		return;
	RCU_INIT_POINTER(helper->sn->who, NULL);
	/* Hooks in flight may still use it, and the helper's pid namespace. */
	synchronize_net();
	kfree(who);
	helper->who = NULL;
}

/*
 * The task recorded for the SYN of this accepted socket, forgotten after,
 * so that a later connection from the same port cannot be given it.
 */
static void sctls_who_task(struct sctls_helper *helper, struct sock *sk,
			   struct sctls_open *open)
{
	const struct inet_sock *inet = inet_sk(sk);
	struct sctls_who *who = helper->who;
	const void *saddr = &inet->inet_daddr;
	unsigned int i;

#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6)
		saddr = &sk->sk_v6_daddr;
#endif
	spin_lock_bh(&who->lock);
	for (i = 0; i < SCTLS_WHO_SLOTS; i++) {
		struct sctls_syn *s = &who->syns[i];

		if (sctls_syn_matches(s, sk->sk_family, saddr, inet->inet_dport,
				      inet->inet_sport)) {
			if (open && s->pid) {
				open->pid = s->pid;
				memcpy(open->comm, s->comm, sizeof(open->comm));
			}
			s->stamp = 0;
			break;
		}
	}
	spin_unlock_bh(&who->lock);
}

/* A connection refused unseen: its SYN's record goes with it. */
void sctls_who_forget(struct sctls_helper *helper, struct sock *sk)
{
	sctls_who_task(helper, sk, NULL);
}

/*
 * The app's own socket: on loopback it sits in the same namespace's
 * established hash, with the accepted socket's ends swapped. Returned
 * referenced (sock_gen_put), or NULL.
 */
static struct sock *sctls_who_peer(struct sock *sk)
{
	const struct inet_sock *inet = inet_sk(sk);
	struct net *net = sock_net(sk);
	struct sock *peer = NULL;

	rcu_read_lock();
	if (sk->sk_family == AF_INET)
		peer = sctls_inet_lookup_established(net, inet->inet_rcv_saddr,
						     inet->inet_sport,
						     inet->inet_daddr,
						     ntohs(inet->inet_dport));
#if IS_ENABLED(CONFIG_IPV6)
	else
		peer = sctls_inet6_lookup_established(net, &sk->sk_v6_rcv_saddr,
						      inet->inet_sport,
						      &sk->sk_v6_daddr,
						      ntohs(inet->inet_dport));
#endif
	rcu_read_unlock();
	return peer;
}

/*
 * Fill an OPEN payload for an accepted socket, and the app's kuid. The uid
 * is the owner of the app's own socket, found in this namespace: a peer
 * that has no socket here is not a local app (route_localnet=1 lets the
 * network reach 127.0.0.0/8) and gets -ENOTCONN. An app that is already
 * gone keeps its socket in the hash as a TIME_WAIT or request socket, and
 * is described with an unknown uid.
 */
int sctls_who_describe(struct sctls_helper *helper, struct sock *sk,
		       struct sctls_open *open, kuid_t *uid)
{
	struct user_namespace *ns = helper->user_ns;
	const struct inet_sock *inet = inet_sk(sk);
	struct sock *peer;

	open->family = sk->sk_family;
	open->local_port = ntohs(inet->inet_sport);
	open->peer_port = ntohs(inet->inet_dport);
	if (sk->sk_family == AF_INET) {
		memcpy(open->local_addr, &inet->inet_rcv_saddr, 4);
		memcpy(open->peer_addr, &inet->inet_daddr, 4);
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6) {
		memcpy(open->local_addr, &sk->sk_v6_rcv_saddr, 16);
		memcpy(open->peer_addr, &sk->sk_v6_daddr, 16);
	}
#endif
	open->uid = SCTLS_ID_UNKNOWN;
	open->gid = SCTLS_ID_UNKNOWN;
	open->pid = SCTLS_ID_UNKNOWN;
	*uid = INVALID_UID;

	peer = sctls_who_peer(sk);
	if (!peer) {
		sctls_who_forget(helper, sk);
		return -ENOTCONN;
	}
	sctls_who_task(helper, sk, open);
	if (sk_fullsock(peer)) {
		*uid = sock_net_uid(sock_net(peer), peer);
		open->uid = sctls_from_kuid(ns, *uid);
		read_lock_bh(&peer->sk_callback_lock);
		if (peer->sk_socket) {
			kgid_t gid = SOCK_INODE(peer->sk_socket)->i_gid;

			open->gid = sctls_from_kgid(ns, gid);
		}
		read_unlock_bh(&peer->sk_callback_lock);
	}
	sock_gen_put(peer);
	return 0;
}
