// SPDX-License-Identifier: GPL-2.0
/*
 * sctls: sockets of connections that ended orderly, kept until TCP is done.
 *
 * After both FINs, a socket may still wait for the ACK of its own FIN
 * (FIN_WAIT1, CLOSING, LAST_ACK). Released there, it would be an orphan:
 * TCP's timers keep it alive, and a kernel socket holds no reference on its
 * namespace, so an orphan that outlives the namespace is a use after free.
 * Giving each socket a reference needs sk_net_refcnt_upgrade(), which
 * Android's GKI kernels do not offer vendor modules. So the module keeps
 * such a socket itself: it is released once TCP has taken it to CLOSE, or
 * to FIN_WAIT2, which close() turns into a TIME_WAIT socket at once (the
 * namespace's end purges those); it is reset after closing_timeout, or
 * when the namespace ends, whichever comes first. Only process context
 * touches the list; the socket's callback only kicks the work.
 */
#include <linux/slab.h>
#include <net/inet_sock.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "internal.h"
#include "sockopt.h"

struct sctls_linger {
	struct list_head node;
	struct socket *sock;
	struct sctls_net *sn;
	unsigned long since;		/* jiffies */
	void (*saved_state_change)(struct sock *sk);
};

static void sctls_linger_state_change(struct sock *sk)
{
	struct sctls_linger *l;

	read_lock_bh(&sk->sk_callback_lock);
	l = sk->sk_user_data;
	if (l)
		mod_delayed_work(system_wq, &l->sn->linger_work, 0);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void sctls_linger_unhook(struct sctls_linger *l)
{
	struct sock *sk = l->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_state_change = l->saved_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
}

/*
 * Whether TCP is done with @sk, or nearly: in FIN_WAIT2, close() hands it
 * to a TIME_WAIT socket at once when the FIN timeout is at most
 * TCP_TIMEWAIT_LEN, which the linger2 set here (the default of the
 * namespace's tcp_fin_timeout) makes it unless the RTO is many seconds.
 */
static bool sctls_linger_may_release(struct sock *sk)
{
	switch (inet_sk_state_load(sk)) {
	case TCP_CLOSE:
		return true;
	case TCP_FIN_WAIT2:
		lock_sock(sk);
		WRITE_ONCE(tcp_sk(sk)->linger2, TCP_TIMEWAIT_LEN);
		release_sock(sk);
		return tcp_fin_time(sk) <= TCP_TIMEWAIT_LEN;
	default:
		return false;
	}
}

static void sctls_linger_reset(struct socket *sock)
{
	sctls_sock_set_no_linger(sock->sk);
	sock_release(sock);
}

/*
 * Take over @sock of a connection that ended orderly: released now if TCP
 * is done with it, else kept. Past @limit kept sockets it is reset instead,
 * as it is when there is no memory to keep it.
 */
void sctls_linger(struct sctls_net *sn, struct socket *sock,
		  unsigned int limit)
{
	struct sock *sk = sock->sk;
	struct sctls_linger *l;

	/* Bytes the app sends from now on reset it, as after close(). */
	kernel_sock_shutdown(sock, SHUT_RD);
	if (!skb_queue_empty_lockless(&sk->sk_receive_queue)) {
		sctls_linger_reset(sock);	/* unread bytes: close() resets */
		return;
	}
	if (sctls_linger_may_release(sk)) {
		sock_release(sock);
		return;
	}

	l = kmalloc(sizeof(*l), GFP_KERNEL_ACCOUNT);
	mutex_lock(&sn->linger_lock);
	if (!l || sn->nr_lingering >= limit) {
		mutex_unlock(&sn->linger_lock);
		kfree(l);
		sctls_linger_reset(sock);
		return;
	}
	l->sock = sock;
	l->sn = sn;
	l->since = jiffies;
	list_add_tail(&l->node, &sn->lingering);
	sn->nr_lingering++;
	write_lock_bh(&sk->sk_callback_lock);
	l->saved_state_change = sk->sk_state_change;
	sk->sk_user_data = l;
	sk->sk_state_change = sctls_linger_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
	mutex_unlock(&sn->linger_lock);
	/* The state may have moved before the callback was in place. */
	mod_delayed_work(system_wq, &sn->linger_work, 0);
}

static void sctls_linger_free(struct sctls_net *sn, struct sctls_linger *l)
{
	list_del(&l->node);
	sn->nr_lingering--;
	kfree(l);
}

/* Release what TCP is done with; reset what waited closing_timeout. */
void sctls_linger_work(struct work_struct *work)
{
	struct sctls_net *sn = container_of(to_delayed_work(work),
					    struct sctls_net, linger_work);
	unsigned long timeout = sctls_closing_timeout * HZ, next = timeout;
	struct sctls_linger *l, *tmp;

	mutex_lock(&sn->linger_lock);
	list_for_each_entry_safe(l, tmp, &sn->lingering, node) {
		unsigned long waited = jiffies - l->since;

		if (sctls_linger_may_release(l->sock->sk)) {
			sctls_linger_unhook(l);
			sock_release(l->sock);
			sctls_linger_free(sn, l);
		} else if (waited >= timeout) {
			sctls_linger_unhook(l);
			sctls_linger_reset(l->sock);
			sctls_linger_free(sn, l);
		} else {
			next = min(next, timeout - waited);
		}
	}
	if (!list_empty(&sn->lingering))
		mod_delayed_work(system_wq, &sn->linger_work, next);
	mutex_unlock(&sn->linger_lock);
}

/* The namespace ends: reset every kept socket before TCP's exit runs. */
void sctls_linger_exit(struct sctls_net *sn)
{
	struct sctls_linger *l, *tmp;

	mutex_lock(&sn->linger_lock);
	list_for_each_entry_safe(l, tmp, &sn->lingering, node) {
		sctls_linger_unhook(l);
		sctls_linger_reset(l->sock);
		sctls_linger_free(sn, l);
	}
	mutex_unlock(&sn->linger_lock);
	/* Nothing is hooked now: nothing queues it again. */
	cancel_delayed_work_sync(&sn->linger_work);
}
