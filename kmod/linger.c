// SPDX-License-Identifier: GPL-2.0
/*
 * sctls: sockets of connections that ended orderly, kept until TCP is done.
 *
 * After both FINs, a socket may still wait for the ACK of its own FIN, or
 * for the app to read what its send queue holds (FIN_WAIT1, CLOSING,
 * LAST_ACK). Released there, it would be an orphan of a kernel socket,
 * which holds no reference on its namespace: depending on the kernel, its
 * timers outlive the namespace, or close() stops them and it stays hashed
 * for ever. sk_net_refcnt_upgrade() would make it an ordinary socket, but
 * Android's GKI kernels do not offer it to vendor modules. So the module
 * keeps such a socket itself: it is released once TCP has taken it to CLOSE,
 * or to FIN_WAIT2, which close() turns into a TIME_WAIT socket at once (the
 * namespace's end purges those); it is reset when its app has read nothing
 * for closing_timeout, or when the namespace ends. Only process context
 * touches the list; the socket's callback only kicks the work.
 */
#include <linux/sched.h>
#include <linux/slab.h>
#include <net/inet_sock.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "internal.h"
#include "sockopt.h"

struct sctls_kept {
	struct list_head node;
	struct socket *sock;
	unsigned long idle_since;	/* jiffies of the last progress */
	u32 snd_una;			/* progress: what the app acked */
	void (*saved_state_change)(struct sock *sk);
};

/*
 * Recognised by itself, not by sk_user_data, which a connection's callbacks
 * read as theirs until the moment the socket is kept.
 */
static void sctls_linger_state_change(struct sock *sk)
{
	read_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_state_change == sctls_linger_state_change)
		mod_delayed_work(system_wq, &sctls_net(sock_net(sk))->linger_work, 0);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void sctls_linger_unhook(struct sctls_kept *kept)
{
	struct sock *sk = kept->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_state_change = kept->saved_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
}

/*
 * In FIN_WAIT2, close() hands the socket to a TIME_WAIT one at once when
 * the FIN timeout is at most TCP_TIMEWAIT_LEN, the namespace's
 * tcp_fin_timeout unless that was raised: then bound it here. Only an RTO
 * of many seconds still keeps the socket, to be reset at the timeout.
 */
static void sctls_linger_bound_fin_timeout(struct sock *sk)
{
	lock_sock(sk);
	if (tcp_fin_time(sk) > TCP_TIMEWAIT_LEN)
		WRITE_ONCE(tcp_sk(sk)->linger2, TCP_TIMEWAIT_LEN);
	release_sock(sk);
}

/* Whether TCP is done with @sk, or close() would leave no orphan. */
static bool sctls_linger_done(struct sock *sk)
{
	switch (inet_sk_state_load(sk)) {
	case TCP_CLOSE:
		return true;
	case TCP_FIN_WAIT2:
		sctls_linger_bound_fin_timeout(sk);
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

/* Bytes the app sent that were never read, not counting its FIN. */
static bool sctls_linger_unread(struct sock *sk)
{
	bool unread;

	lock_sock(sk);
	unread = tcp_inq(sk) > 0;
	release_sock(sk);
	return unread;
}

/*
 * Take over @sock of a connection that ended orderly: released now if TCP
 * is done with it, else kept. Past @limit kept sockets it is reset instead,
 * as it is when there is no memory to keep it.
 */
void sctls_linger_add(struct sctls_net *sn, struct socket *sock,
		      unsigned int limit)
{
	struct sock *sk = sock->sk;
	struct sctls_kept *kept = NULL;

	/* Bytes the app sends from now on reset it, as after close(). */
	kernel_sock_shutdown(sock, SHUT_RD);
	if (sctls_linger_unread(sk)) {
		sctls_linger_reset(sock);	/* as close() would */
		return;
	}
	if (sctls_linger_done(sk)) {
		sock_release(sock);
		return;
	}

	mutex_lock(&sn->linger_lock);
	if (sn->nr_kept < limit)
		kept = kmalloc(sizeof(*kept), GFP_KERNEL_ACCOUNT);
	if (!kept) {
		mutex_unlock(&sn->linger_lock);
		sctls_linger_reset(sock);
		return;
	}
	kept->sock = sock;
	kept->idle_since = jiffies;
	kept->snd_una = READ_ONCE(tcp_sk(sk)->snd_una);
	list_add_tail(&kept->node, &sn->kept);
	sn->nr_kept++;
	write_lock_bh(&sk->sk_callback_lock);
	kept->saved_state_change = sk->sk_state_change;
	sk->sk_state_change = sctls_linger_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
	mutex_unlock(&sn->linger_lock);
	/* The state may have moved before the callback was in place. */
	mod_delayed_work(system_wq, &sn->linger_work, 0);
}

static void sctls_linger_forget(struct sctls_net *sn, struct sctls_kept *kept)
{
	list_del(&kept->node);
	sn->nr_kept--;
	kfree(kept);
}

/* Release what TCP is done with; reset what made no progress for long. */
void sctls_linger_work(struct work_struct *work)
{
	struct sctls_net *sn = container_of(to_delayed_work(work),
					    struct sctls_net, linger_work);
	unsigned long timeout = sctls_closing_timeout * HZ, next = timeout;
	struct sctls_kept *kept, *tmp;

	mutex_lock(&sn->linger_lock);
	list_for_each_entry_safe(kept, tmp, &sn->kept, node) {
		struct sock *sk = kept->sock->sk;
		u32 snd_una = READ_ONCE(tcp_sk(sk)->snd_una);
		unsigned long idle;

		if (snd_una != kept->snd_una) {
			kept->snd_una = snd_una;
			kept->idle_since = jiffies;
		}
		idle = jiffies - kept->idle_since;
		if (sctls_linger_done(sk)) {
			sctls_linger_unhook(kept);
			sock_release(kept->sock);
			sctls_linger_forget(sn, kept);
		} else if (idle >= timeout) {
			sctls_linger_unhook(kept);
			sctls_linger_reset(kept->sock);
			sctls_linger_forget(sn, kept);
		} else {
			next = min(next, timeout - idle);
		}
		cond_resched();
	}
	/* Not mod_: a kick that came meanwhile must not be put off. */
	if (!list_empty(&sn->kept))
		queue_delayed_work(system_wq, &sn->linger_work, next);
	mutex_unlock(&sn->linger_lock);
}

/* The namespace ends: reset every kept socket before TCP's exit runs. */
void sctls_linger_exit(struct sctls_net *sn)
{
	struct sctls_kept *kept, *tmp;

	mutex_lock(&sn->linger_lock);
	list_for_each_entry_safe(kept, tmp, &sn->kept, node) {
		sctls_linger_unhook(kept);
		sctls_linger_reset(kept->sock);
		sctls_linger_forget(sn, kept);
		cond_resched();
	}
	mutex_unlock(&sn->linger_lock);
	/* Nothing is hooked now: nothing queues it again. */
	cancel_delayed_work_sync(&sn->linger_work);
}
