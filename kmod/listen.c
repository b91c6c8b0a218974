// SPDX-License-Identifier: GPL-2.0
/*
 * sctls: the served loopback ports of a namespace. From the moment the
 * namespace is served until a port is removed or the namespace ends, the
 * module listens on the port on 127.0.0.1 and ::1, bound to the loopback
 * device. A listening socket conflicts with every other bind of its
 * address and port, SO_REUSEADDR, SO_REUSEPORT or wildcard, whoever asks:
 * no app can take the port and pose as the card (CAP_NET_ADMIN can force
 * a bind with TCP_REPAIR; it may be the helper anyway). While no helper is
 * attached, the netfilter hook refuses each connect() at once with
 * ECONNREFUSED (who.c), also to a port another socket had first. The
 * listeners' callback only tells the helper that connections wait; the
 * helper's read() accepts them.
 *
 * SO_REUSEADDR on our listeners is inherited by their children, so that
 * an earlier holder's TIME_WAIT and orphaned sockets do not keep the port
 * from being held again after a reload.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/in6.h>
#include <net/inet_connection_sock.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "internal.h"
#include "sockopt.h"

static void sctls_accept_wake(struct sctls_helper *helper)
{
	WRITE_ONCE(helper->accept_pending, true);
	wake_up_interruptible(&helper->wait);
}

static void sctls_listen_data_ready(struct sock *sk)
{
	struct sctls_helper *helper;

	read_lock_bh(&sk->sk_callback_lock);
	/* A child not accepted yet has this callback too; it is no listener. */
	if (sk->sk_state != TCP_LISTEN)
		goto out;
	/* NOCOPY: accepted children do not inherit the helper. */
	helper = __locked_read_sk_user_data_with_flags(sk, 0);
	if (helper) {
		sctls_accept_wake(helper);
	} else {
		/* Let in as the helper came or went: see sctls_ports_drain(). */
		/* Not schedule_work(): newer kernels' uses system_percpu_wq. */
		queue_work(system_wq, &sctls_net(sock_net(sk))->drain);
	}
out:
	read_unlock_bh(&sk->sk_callback_lock);
}

static const char *sctls_family_name(int family)
{
	return family == AF_INET ? "127.0.0.1" : "[::1]";
}

/* A socket listening on the loopback port: *sockp, or -errno. */
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
	sctls_sock_bind_to_index(sk, LOOPBACK_IFINDEX);
	sctls_sock_set_reuseaddr(sk);
	/* A new namespace's loopback may not be up yet: serve once it is. */
	sctls_sock_set_freebind(sk);

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
		sin6->sin6_addr = (struct in6_addr)IN6ADDR_LOOPBACK_INIT;
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
	err = kernel_listen(sock, SCTLS_LISTEN_BACKLOG);
	if (err)
		goto err_release;
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

/* The helper (NULL: none) that the port's connections are for. */
static void sctls_port_attach(struct sctls_port *p, struct sctls_helper *helper)
{
	unsigned int i;

	for (i = 0; i < p->nr_socks; i++) {
		struct sock *sk = p->socks[i]->sk;

		write_lock_bh(&sk->sk_callback_lock);
		__rcu_assign_sk_user_data_with_flags(sk, helper,
						     SK_USER_DATA_NOCOPY);
		write_unlock_bh(&sk->sk_callback_lock);
		/* Let in before: the helper accepts it, as if just woken. */
		if (helper && !reqsk_queue_empty(&inet_csk(sk)->icsk_accept_queue))
			sctls_accept_wake(helper);
	}
}

/* Hold a port for the namespace's helper, if it has one: 0 or -errno. */
static int sctls_port_open(struct sctls_net *sn, struct sctls_port *p,
			   struct sctls_helper *helper)
{
	int err = sctls_port_hold(sn, p);

	if (!err)
		sctls_port_attach(p, helper);
	return err;
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
 * Start serving a namespace, once, with cfg's ports: the netfilter hooks,
 * then the ports. A port that another socket has already is logged and
 * left unheld (sctls show names it), and a helper cannot attach until it is
 * free; or, when all_or_nothing (a netlink SET), it fails the whole and the
 * namespace stays unserved. Called under sn->lock.
 */
int sctls_serve(struct sctls_net *sn, const struct sctls_config *cfg,
		bool all_or_nothing, struct netlink_ext_ack *extack)
{
	unsigned int i;
	int err;

	lockdep_assert_held(&sn->lock);
	if (sn->served)
		return 0;
	err = sctls_who_hooks_register(sn);
	if (err)
		return err;
	sn->served = true;
	for (i = 0; i < cfg->nr_ports; i++) {
		struct sctls_port *p = &sn->ports.port[sn->ports.nr++];

		p->port = cfg->ports[i];
		err = sctls_port_hold(sn, p);
		if (err && all_or_nothing) {
			if (err == -EADDRINUSE)
				NL_SET_ERR_MSG(extack, "a port is in use by another socket");
			else
				NL_SET_ERR_MSG(extack, "cannot hold a port");
			sctls_unserve(sn);
			return err;
		}
	}
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
 * kept ports move over, missing ones are held (for the helper, if there is
 * one), and only when all of that worked are the removed ones closed. On failure
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
 * again) and for it, or none for it and -errno. Under sn->lock.
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

/*
 * The helper is gone, and the hook refuses new connections: the ports stay
 * held, and connections that were let in before are reset.
 */
void sctls_ports_unlisten(struct sctls_net *sn)
{
	unsigned int i;

	lockdep_assert_held(&sn->lock);
	for (i = 0; i < sn->ports.nr; i++)
		sctls_port_attach(&sn->ports.port[i], NULL);
	sctls_ports_drain(sn);
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
 * Connections that a listener queued while it was for no helper: the
 * helper's, if one has come since (it accepts them); else reset.
 */
void sctls_ports_drain(struct sctls_net *sn)
{
	struct socket *sock;
	unsigned int i, j;

	lockdep_assert_held(&sn->lock);
	if (sn->helper) {
		sctls_accept_wake(sn->helper);
		return;
	}
	for (i = 0; i < sn->ports.nr; i++) {
		struct sctls_port *p = &sn->ports.port[i];

		for (j = 0; j < p->nr_socks; j++) {
			while (kernel_accept(p->socks[j], &sock, O_NONBLOCK) == 0) {
				sctls_listen_disown(sn, sock);
				sctls_sock_set_no_linger(sock->sk);
				sock_release(sock);
			}
		}
	}
}

void sctls_ports_drain_work(struct work_struct *work)
{
	struct sctls_net *sn = container_of(work, struct sctls_net, drain);

	mutex_lock(&sn->lock);
	sctls_ports_drain(sn);
	mutex_unlock(&sn->lock);
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
