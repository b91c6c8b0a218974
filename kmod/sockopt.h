/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sctls: the socket options the module sets on its own sockets, and its
 * sendmsg.
 *
 * The kernel's helpers for these (sock_bindtoindex, sock_no_linger,
 * sock_set_reuseaddr, ip_sock_set_freebind, and on android14-6.1
 * tcp_sock_set_nodelay and sock_sendmsg) are exported, but not on the
 * symbol lists of Android's GKI kernels, where a vendor module may link
 * against nothing else (kmod/symbols.allow). Each option is a field or
 * flag set under the socket lock, as the helper itself does.
 */
#ifndef _SCTLS_SOCKOPT_H
#define _SCTLS_SOCKOPT_H

#include <net/inet_sock.h>
#include <net/sock.h>
#include <net/tcp.h>

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

/*
 * TCP_NODELAY on a socket just accepted: nothing is queued yet, so there
 * is nothing to push, only Nagle to turn off.
 */
static inline void sctls_sock_set_nodelay(struct sock *sk)
{
	lock_sock(sk);
	tcp_sk(sk)->nonagle |= TCP_NAGLE_OFF | TCP_NAGLE_PUSH;
	release_sock(sk);
}

/*
 * sock_sendmsg(), which android14-6.1's list lacks, is the protocol's
 * sendmsg after the LSM hook; LSMs let the kernel's own sockets through.
 * kernel_sendmsg() would take kernel buffers only, and the data path sends
 * straight from the helper's.
 */
static inline int sctls_sock_sendmsg(struct socket *sock, struct msghdr *msg)
{
	return READ_ONCE(sock->ops)->sendmsg(sock, msg, msg_data_left(msg));
}

#endif /* _SCTLS_SOCKOPT_H */
