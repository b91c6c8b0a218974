/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sctls: the socket options the module sets on its own sockets.
 *
 * The kernel's helpers for these (sock_bindtoindex, sock_no_linger,
 * sock_set_reuseaddr, ip_sock_set_freebind) are exported, but not on the
 * symbol lists of Android's GKI kernels, where a vendor module may link
 * against nothing else (kmod/symbols.allow). Each is a field or flag set
 * under the socket lock, as the helper itself does.
 */
#ifndef _SCTLS_SOCKOPT_H
#define _SCTLS_SOCKOPT_H

#include <net/inet_sock.h>
#include <net/sock.h>

/*
 * SO_BINDTOIFINDEX on a socket just created: it is not hashed yet and has
 * no cached route, so there is nothing to rehash or forget.
 */
static inline void sctls_sock_bind_to_index(struct sock *sk, int ifindex)
{
	lock_sock(sk);
	WRITE_ONCE(sk->sk_bound_dev_if, ifindex);
	release_sock(sk);
}

/* SO_LINGER {1, 0}: release() resets the connection instead of a FIN. */
static inline void sctls_sock_set_no_linger(struct sock *sk)
{
	lock_sock(sk);
	WRITE_ONCE(sk->sk_lingertime, 0);
	sock_set_flag(sk, SOCK_LINGER);
	release_sock(sk);
}

/* SO_REUSEADDR: a listener comes back while its old connections linger. */
static inline void sctls_sock_set_reuseaddr(struct sock *sk)
{
	lock_sock(sk);
	sk->sk_reuse = SK_CAN_REUSE;
	release_sock(sk);
}

/* IP_FREEBIND: bind to an address the namespace does not have up yet. */
static inline void sctls_sock_set_freebind(struct sock *sk)
{
#ifdef inet_set_bit
	inet_set_bit(FREEBIND, sk);	/* an atomic flag since 6.6 */
#else
	lock_sock(sk);
	inet_sk(sk)->freebind = true;	/* a bitfield shared with others */
	release_sock(sk);
#endif
}

#endif /* _SCTLS_SOCKOPT_H */
