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

/* A cache of its own, where the kernel can promise one (6.5 and later). */
#ifdef SLAB_NO_MERGE
#define SCTLS_SLAB_NO_MERGE SLAB_NO_MERGE
#else
#define SCTLS_SLAB_NO_MERGE 0
#endif

#endif /* _SCTLS_COMPAT_H */
