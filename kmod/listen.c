// SPDX-License-Identifier: GPL-2.0
/*
 * sctls: the served loopback ports of a namespace. From the moment the
 * namespace is served until a port is removed or the namespace ends, the
 * module holds the port on 127.0.0.1 and ::1, bound to the loopback device,
 * so that no local app can bind it and pose as the card. The sockets listen
 * only while a helper is attached; without one they are merely bound, and a
 * connect() is refused at once. Their callback only tells the helper that
 * connections wait; the helper's read() accepts them.
 *
 * No SO_REUSEADDR: with it, an app's SO_REUSEADDR socket could bind beside
 * a socket that is not listening, and listen first. SO_REUSEPORT instead,
 * owned by global root (the owner these kernels compare, the socket inode's,
 * is root's for our orphaned children too), so that an app can join the
 * port's group only as global uid 0, while the TIME_WAIT sockets and orphans
 * of an earlier holder do not keep the port from being held again.
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
	/* NOCOPY: accepted children do not inherit the helper. */
	helper = __locked_read_sk_user_data_with_flags(sk, 0);
	if (helper && sk->sk_state == TCP_LISTEN) {
		WRITE_ONCE(helper->accept_pending, true);
		wake_up_interruptible(&helper->wait);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static const char *sctls_family_name(int family)
{
	return family == AF_INET ? "127.0.0.1" : "[::1]";
}

/* A socket bound to the loopback port, not listening: *sockp, or -errno. */
static int sctls_port_bind(struct sctls_net *sn, int family, u16 port,
			   struct socket **sockp)
{
	struct sockaddr_storage addr = {};
	struct socket *sock;
	struct sock *sk;
	int addrlen, err;

	err = sock_create_kern(sn->net, family, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err)
		return err;
	sk = sock->sk;
	err = sock_bindtoindex(sk, LOOPBACK_IFINDEX, true);
	if (err)
		goto err_release;
	/* Only global root's SO_REUSEPORT sockets could join it. */
	sock_set_reuseport(sk);
	SOCK_INODE(sock)->i_uid = GLOBAL_ROOT_UID;
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
	if (err)
		goto err_release;

	write_lock_bh(&sk->sk_callback_lock);
	sn->tcp_data_ready = sk->sk_data_ready;
	sk->sk_data_ready = sctls_listen_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
	*sockp = sock;
	return 0;

err_release:
	sock_release(sock);
	return err;
}

static void sctls_port_release(struct sctls_port *p)
{
	while (p->nr_socks) {
		struct socket *sock = p->socks[--p->nr_socks];

		write_lock_bh(&sock->sk->sk_callback_lock);
		rcu_assign_sk_user_data(sock->sk, NULL);
		write_unlock_bh(&sock->sk->sk_callback_lock);
		sock_release(sock);
	}
}

/* Hold a port on both loopback addresses, or on neither: 0 or -errno. */
static int sctls_port_hold(struct sctls_net *sn, struct sctls_port *p)
{
	static const int families[] = { AF_INET, AF_INET6 };
	unsigned int i;
	int err;

	if (p->nr_socks)
		return 0;
	for (i = 0; i < ARRAY_SIZE(families); i++) {
		err = sctls_port_bind(sn, families[i], p->port,
				      &p->socks[p->nr_socks]);
		/* A kernel without IPv6 still serves IPv4. */
		if (err == -EAFNOSUPPORT && families[i] == AF_INET6)
			continue;
		if (err) {
			pr_warn_ratelimited("cannot hold port %s:%u: error %d%s\n",
					    sctls_family_name(families[i]), p->port,
					    err, err == -EADDRINUSE ?
					    " (another socket has it; it is not served)" :
					    "");
			sctls_port_release(p);
			p->err = err;
			return err;
		}
		p->nr_socks++;
	}
	p->err = 0;
	return 0;
}

static int sctls_port_listen(struct sctls_port *p, struct sctls_helper *helper)
{
	unsigned int i;
	int err;

	for (i = 0; i < p->nr_socks; i++) {
		struct sock *sk = p->socks[i]->sk;

		write_lock_bh(&sk->sk_callback_lock);
		__rcu_assign_sk_user_data_with_flags(sk, helper,
						     SK_USER_DATA_NOCOPY);
		write_unlock_bh(&sk->sk_callback_lock);
		err = kernel_listen(p->socks[i], SCTLS_LISTEN_BACKLOG);
		if (err)
			return err;
	}
	return 0;
}

/* Hold a port and, with a helper, listen on it: 0 or -errno. */
static int sctls_port_open(struct sctls_net *sn, struct sctls_port *p,
			   struct sctls_helper *helper)
{
	int err = sctls_port_hold(sn, p);

	return err || !helper ? err : sctls_port_listen(p, helper);
}

/*
 * Back to a bound socket: a read shutdown of a listener resets the
 * connections in its accept queue and keeps the address and port.
 */
static void sctls_port_unlisten(struct sctls_port *p)
{
	unsigned int i;

	for (i = 0; i < p->nr_socks; i++) {
		struct sock *sk = p->socks[i]->sk;

		write_lock_bh(&sk->sk_callback_lock);
		rcu_assign_sk_user_data(sk, NULL);
		write_unlock_bh(&sk->sk_callback_lock);
		if (sk->sk_state == TCP_LISTEN)
			kernel_sock_shutdown(p->socks[i], SHUT_RD);
	}
}

static struct sctls_port *sctls_ports_find(struct sctls_ports *ports, u16 port)
{
	unsigned int i;

	for (i = 0; i < ports->nr; i++)
		if (ports->port[i].port == port)
			return &ports->port[i];
	return NULL;
}

/*
 * Start serving a namespace, once: the netfilter hooks, then the ports of
 * its configuration. A port that another socket has already is logged and
 * left unheld (sctls show names it); a helper cannot attach until it is
 * free. Called under sn->lock.
 */
int sctls_serve(struct sctls_net *sn)
{
	const struct sctls_config *cfg = sctls_config_locked(sn);
	unsigned int i;
	int err;

	lockdep_assert_held(&sn->lock);
	if (sn->served)
		return 0;
	err = sctls_who_hooks_register(sn);
	if (err)
		return err;
	for (i = 0; i < cfg->nr_ports; i++) {
		struct sctls_port *p = &sn->ports.port[i];

		p->port = cfg->ports[i];
		sctls_port_hold(sn, p);
	}
	sn->ports.nr = cfg->nr_ports;
	sn->served = true;
	return 0;
}

/* The namespace is ending: no hook, no port. No helper is left. */
void sctls_unserve(struct sctls_net *sn)
{
	unsigned int i;

	lockdep_assert_held(&sn->lock);
	if (!sn->served)
		return;
	sctls_who_hooks_unregister(sn);
	for (i = 0; i < sn->ports.nr; i++)
		sctls_port_release(&sn->ports.port[i]);
	sn->ports.nr = 0;
	sn->served = false;
}

/*
 * Serve exactly cfg's ports, all or nothing. The new set is built aside:
 * kept ports move over, missing ones are bound (and listen, with a helper),
 * and only when all of that worked are the removed ones closed. On failure
 * the old set is untouched. Under sn->lock and, with a helper, its io_lock.
 */
int sctls_ports_update(struct sctls_net *sn, const struct sctls_config *cfg,
		       struct netlink_ext_ack *extack)
{
	struct sctls_helper *helper = sn->helper;
	struct sctls_ports *old = &sn->ports;
	struct sctls_ports new = {};
	unsigned int i, j;
	int err = 0;

	lockdep_assert_held(&sn->lock);
	if (helper)
		lockdep_assert_held(&helper->io_lock);
	if (!sn->served)
		return 0;	/* sctls_serve() takes the config as it is */

	for (i = 0; i < cfg->nr_ports; i++) {
		struct sctls_port *p = &new.port[new.nr++];
		struct sctls_port *kept = sctls_ports_find(old, cfg->ports[i]);

		if (kept && kept->nr_socks) {
			*p = *kept;
			continue;
		}
		/* New, or kept but not held: try to hold it now. */
		p->port = cfg->ports[i];
		err = sctls_port_open(sn, p, helper);
		if (err && kept && !helper) {
			err = 0;	/* unheld as before; named by show */
		} else if (err) {
			/* The kernel log names the port and the error. */
			if (err == -EADDRINUSE)
				NL_SET_ERR_MSG(extack, "a new port is in use by another socket");
			else
				NL_SET_ERR_MSG(extack, "cannot hold a new port");
			goto undo;
		}
	}

	/* Committed: close the ports no longer served. */
	for (i = 0; i < old->nr; i++)
		if (!sctls_ports_find(&new, old->port[i].port))
			sctls_port_release(&old->port[i]);
	*old = new;
	return 0;

undo:
	for (j = 0; j <= i; j++) {
		struct sctls_port *p = &new.port[j];
		struct sctls_port *kept = sctls_ports_find(old, p->port);

		if (!kept || !kept->nr_socks)
			sctls_port_release(p);
	}
	return err;
}

/*
 * The helper attaches: every port held (those taken before are tried
 * again) and listening, or none listening and -errno. Under sn->lock.
 */
int sctls_ports_listen(struct sctls_net *sn, struct sctls_helper *helper)
{
	unsigned int i;
	int err = 0;

	lockdep_assert_held(&sn->lock);
	for (i = 0; i < sn->ports.nr && !err; i++)
		err = sctls_port_open(sn, &sn->ports.port[i], helper);
	if (err)
		sctls_ports_unlisten(sn);
	return err;
}

/* The helper is gone: the ports stay held, and refuse connections. */
void sctls_ports_unlisten(struct sctls_net *sn)
{
	unsigned int i;

	lockdep_assert_held(&sn->lock);
	for (i = 0; i < sn->ports.nr; i++)
		sctls_port_unlisten(&sn->ports.port[i]);
}

/*
 * An accepted socket inherits the listener's callback: give it TCP's own
 * back before it outlives the helper or the module.
 */
void sctls_listen_disown(struct sctls_net *sn, struct socket *sock)
{
	struct sock *sk = sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	rcu_assign_sk_user_data(sk, NULL);
	sk->sk_data_ready = sn->tcp_data_ready;
	write_unlock_bh(&sk->sk_callback_lock);
}

/*
 * Accept waiting connections, at most a batch per call so that a flood of
 * connectors cannot keep the helper's read() from returning the frames of
 * the connections it has; accept_pending stays set when more may wait.
 * Called from the helper's read(), under io_lock.
 */
void sctls_accept_some(struct sctls_helper *helper)
{
	struct sctls_ports *ports = &helper->sn->ports;
	unsigned int budget = SCTLS_ACCEPT_BATCH;
	unsigned int n, k, nr = 0;
	struct socket *socks[2 * SCTLS_MAX_PORTS];

	lockdep_assert_held(&helper->io_lock);
	WRITE_ONCE(helper->accept_pending, false);
	for (n = 0; n < ports->nr; n++)
		for (k = 0; k < ports->port[n].nr_socks; k++)
			socks[nr++] = ports->port[n].socks[k];
	/* Round robin from where the last batch ended: no port starves. */
	for (n = 0; n < nr && budget; n++) {
		struct socket *listener = socks[(helper->accept_next + n) % nr];
		struct socket *sock;

		while (budget && kernel_accept(listener, &sock, O_NONBLOCK) == 0) {
			budget--;
			sctls_conn_add(helper, sock);
		}
	}
	if (!budget) {
		helper->accept_next += n;
		WRITE_ONCE(helper->accept_pending, true);
	}
}
