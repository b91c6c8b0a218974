/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sctls: differences between the kernel versions the module builds on
 * (6.1 and later), kept here rather than in the code.
 */
#ifndef _SCTLS_COMPAT_H
#define _SCTLS_COMPAT_H

#include <net/genetlink.h>
#include <net/inet6_hashtables.h>
#include <net/inet_hashtables.h>
#include <net/sock.h>

/* The TCP established hash of a namespace: per netns since 6.1. */
static inline struct inet_hashinfo *sctls_tcp_hashinfo(struct net *net)
{
	return net->ipv4.tcp_death_row.hashinfo;
}

/*
 * Established-hash lookups, as 6.1 to 6.12 declare them. Later kernels drop
 * the hashinfo argument: test for that in their headers when adding them.
 * The app's socket is looked up as a packet on lo would find it, so that an
 * app bound to lo is found too.
 */
static inline struct sock *
sctls_inet_lookup_established(struct net *net, __be32 saddr, __be16 sport,
			      __be32 daddr, u16 hnum)
{
	return __inet_lookup_established(net, sctls_tcp_hashinfo(net), saddr,
					 sport, daddr, hnum, LOOPBACK_IFINDEX, 0);
}

#if IS_ENABLED(CONFIG_IPV6)
static inline struct sock *
sctls_inet6_lookup_established(struct net *net, const struct in6_addr *saddr,
			       __be16 sport, const struct in6_addr *daddr,
			       u16 hnum)
{
	return __inet6_lookup_established(net, sctls_tcp_hashinfo(net), saddr,
					  sport, daddr, hnum, LOOPBACK_IFINDEX, 0);
}
#endif

/*
 * Kernel sockets hold no reference on their namespace. An accepted socket
 * that outlives the helper (orphaned in FIN_WAIT or CLOSING, with timers)
 * must hold one, as it would had an app created it. Newer kernels, and
 * Debian's 6.12, have sk_net_refcnt_upgrade(); Kbuild looks for it in their
 * headers. The fallback is what it does on 6.1, which has no netns tracker
 * of its own for kernel sockets; a 6.2 to 6.13 kernel without the backport
 * needs its tracker freed as well.
 */
static inline void sctls_sk_net_refcnt_upgrade(struct sock *sk)
{
#ifdef SCTLS_HAVE_SK_NET_REFCNT_UPGRADE
	sk_net_refcnt_upgrade(sk);
#else
	struct net *net = sock_net(sk);

	if (sk->sk_net_refcnt)
		return;
	sk->sk_net_refcnt = 1;
	get_net_track(net, &sk->ns_tracker, GFP_KERNEL);
	sock_inuse_add(net, 1);
#endif
}

/* A cache of its own, where the kernel can promise one (6.5 and later). */
#ifdef SLAB_NO_MERGE
#define SCTLS_SLAB_NO_MERGE SLAB_NO_MERGE
#else
#define SCTLS_SLAB_NO_MERGE 0
#endif

#endif /* _SCTLS_COMPAT_H */
