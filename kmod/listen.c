// SPDX-License-Identifier: GPL-2.0
/*
 * sctls: the loopback listening sockets of a helper's namespace. They exist
 * only while the helper holds /dev/sctls; their callback only tells the
 * helper that connections wait, and the helper's read() accepts them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/in6.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "internal.h"

static void sctls_listen_data_ready(struct sock *sk)
{
	struct sctls_helper *helper;

	read_lock_bh(&sk->sk_callback_lock);
	helper = sk->sk_user_data;
	/* Accepted children inherit this callback until theirs is installed. */
	if (helper && sk->sk_state == TCP_LISTEN) {
		WRITE_ONCE(helper->accept_pending, true);
		wake_up_interruptible(&helper->wait);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static int sctls_listen_one(struct sctls_helper *helper, int family, u16 port,
			    struct socket **sockp)
{
	struct sockaddr_storage addr = {};
	struct socket *sock;
	struct sock *sk;
	int addrlen, err;

	err = sock_create_kern(helper->net, family, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err)
		return err;
	sk = sock->sk;
	sock_set_reuseaddr(sk);
	/* A new namespace's loopback may not be up yet: serve once it is. */
	ip_sock_set_freebind(sk);

	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&addr;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(port);
		addrlen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&addr;

		ip6_sock_set_v6only(sk);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(port);
		addrlen = sizeof(*sin6);
	}

	err = kernel_bind(sock, (struct sockaddr *)&addr, addrlen);
	if (err) {
		pr_warn("cannot bind loopback port %u (%s): error %d\n", port,
			family == AF_INET ? "IPv4" : "IPv6", err);
		goto err_release;
	}

	write_lock_bh(&sk->sk_callback_lock);
	helper->listen_data_ready = sk->sk_data_ready;
	sk->sk_user_data = helper;
	sk->sk_data_ready = sctls_listen_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);

	err = kernel_listen(sock, SCTLS_LISTEN_BACKLOG);
	if (err)
		goto err_release;

	*sockp = sock;
	return 0;

err_release:
	sock_release(sock);
	return err;
}

static void sctls_unlisten_sock(struct sctls_helper *helper,
				struct socket *sock)
{
	struct sock *sk = sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = helper->listen_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	/* Connections still in the accept queue are reset. */
	sock_release(sock);
}

/* Stop listening on listeners[i]; accepted connections carry on. */
static void sctls_unlisten(struct sctls_helper *helper, unsigned int i)
{
	struct sctls_listener *l = &helper->listeners[i];

	while (l->nr_socks)
		sctls_unlisten_sock(helper, l->socks[--l->nr_socks]);
	*l = helper->listeners[--helper->nr_listeners];
}

static int sctls_listen_port(struct sctls_helper *helper, u16 port)
{
	struct sctls_listener *l = &helper->listeners[helper->nr_listeners];
	int err;

	l->port = port;
	l->nr_socks = 0;
	err = sctls_listen_one(helper, AF_INET, port, &l->socks[0]);
	if (err)
		return err;
	l->nr_socks++;
	err = sctls_listen_one(helper, AF_INET6, port, &l->socks[1]);
	/* A kernel without IPv6 still serves IPv4. */
	if (err && err != -EAFNOSUPPORT) {
		sctls_unlisten_sock(helper, l->socks[0]);
		return err;
	}
	if (!err)
		l->nr_socks++;
	helper->nr_listeners++;
	return 0;
}

static bool sctls_listening(struct sctls_helper *helper, u16 port)
{
	unsigned int i;

	for (i = 0; i < helper->nr_listeners; i++)
		if (helper->listeners[i].port == port)
			return true;
	return false;
}

/*
 * Listen on exactly cfg's ports: new ones first, so that a port that cannot
 * be had changes nothing; then close the ports no longer served. Called
 * under io_lock, or before the helper is visible.
 */
int sctls_listen_update(struct sctls_helper *helper,
			const struct sctls_config *cfg)
{
	unsigned int i, old = helper->nr_listeners;
	int err;

	for (i = 0; i < cfg->nr_ports; i++) {
		if (sctls_listening(helper, cfg->ports[i]))
			continue;
		err = sctls_listen_port(helper, cfg->ports[i]);
		if (err) {
			while (helper->nr_listeners > old)
				sctls_unlisten(helper, helper->nr_listeners - 1);
			return err;
		}
	}
	i = helper->nr_listeners;
	while (i--)
		if (!sctls_config_serves(cfg, helper->listeners[i].port))
			sctls_unlisten(helper, i);
	return 0;
}

void sctls_listen_stop(struct sctls_helper *helper)
{
	while (helper->nr_listeners)
		sctls_unlisten(helper, helper->nr_listeners - 1);
}

/*
 * An accepted socket inherits the listener's callback and user data: give
 * it TCP's own back before it outlives the helper or the module.
 */
void sctls_listen_disown(struct sctls_helper *helper, struct socket *sock)
{
	struct sock *sk = sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = helper->listen_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
}

/* Accept every waiting connection; called from the helper's read(). */
void sctls_accept_all(struct sctls_helper *helper)
{
	unsigned int i, j;

	WRITE_ONCE(helper->accept_pending, false);
	for (i = 0; i < helper->nr_listeners; i++) {
		struct sctls_listener *l = &helper->listeners[i];
		struct socket *sock;

		for (j = 0; j < l->nr_socks; j++)
			while (kernel_accept(l->socks[j], &sock, O_NONBLOCK) == 0)
				sctls_conn_add(helper, sock);
	}
}
