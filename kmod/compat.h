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

/* The TCP established hash of a namespace: per netns since 6.1. */
static inline struct inet_hashinfo *sctls_tcp_hashinfo(struct net *net)
{
	return net->ipv4.tcp_death_row.hashinfo;
}

/*
 * Established-hash lookups, as 6.1 to 6.12 declare them. Later kernels drop
 * the hashinfo argument: test for that in their headers when adding them.
 */
static inline struct sock *
sctls_inet_lookup_established(struct net *net, __be32 saddr, __be16 sport,
			      __be32 daddr, u16 hnum)
{
	return __inet_lookup_established(net, sctls_tcp_hashinfo(net), saddr,
					 sport, daddr, hnum, 0, 0);
}

static inline struct sock *
sctls_inet6_lookup_established(struct net *net, const struct in6_addr *saddr,
			       __be16 sport, const struct in6_addr *daddr,
			       u16 hnum)
{
	return __inet6_lookup_established(net, sctls_tcp_hashinfo(net), saddr,
					  sport, daddr, hnum, 0, 0);
}

/*
 * Multicast groups only CAP_NET_ADMIN may join: mainline 6.7, and Debian's
 * 6.1 as a stable backport. Without it, the events group is open to all.
 */
#ifdef GENL_MCAST_CAP_NET_ADMIN
#define SCTLS_MCGRP_ADMIN	GENL_MCAST_CAP_NET_ADMIN
#else
#define SCTLS_MCGRP_ADMIN	0
#endif

#endif /* _SCTLS_COMPAT_H */
