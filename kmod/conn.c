// SPDX-License-Identifier: GPL-2.0
/*
 * sctls: one object per accepted connection. The socket callbacks only put
 * the connection on the helper's ready list; the helper's read() turns its
 * state into frames, receiving app bytes straight into the helper's buffer,
 * and its write() sends the helper's bytes straight from its buffer.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <net/netlink.h>
#include <linux/uaccess.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "compat.h"
#include "internal.h"
#include "sockopt.h"

#define SCTLS_OPEN_FRAME_LEN	(SCTLS_HDR_LEN + sizeof(struct sctls_open))

struct sctls_conn {
	struct sctls_helper *helper;
	struct socket *sock;
	u32 id;
	struct list_head ready_node;	/* on helper->ready, under helper->lock */

	struct sctls_open open;
	kuid_t uid;		/* the app socket's owner */
	u64 start;		/* ktime_get_boottime_ns() at accept */
	u32 window;		/* initial credit each way, from the config */
	bool open_sent;
	bool app_eof;		/* the app's FIN went to the helper */
	bool helper_fin;	/* the helper sent FIN; shut down once staged is out */
	bool shut_wr;		/* our sending side is shut down */
	bool closing;		/* the helper closed it orderly; staged still going */
	int err;		/* the first failure: the final CLOSE's errno */
	u8 err_reason;		/* and its enum sctls_close_reason */
	u64 bytes_from_app;
	u64 bytes_to_app;	/* taken by the app's socket */

	u32 rx_credit;		/* app bytes the helper still accepts */
	u32 tx_credit;		/* helper bytes we still accept */
	u32 credit_back;	/* helper bytes the app's socket took, not returned */

	/*
	 * Helper bytes the app's socket refused for now: at most the window,
	 * in a buffer sized to them and freed once they are out.
	 */
	u8 *staged;
	u32 staged_size;
	u32 staged_off;
	u32 staged_len;

	/* While closing: on helper->closing, reset after a stall. */
	struct list_head closing_node;
	unsigned long progress;	/* jiffies when the app last took bytes */

	void (*saved_data_ready)(struct sock *sk);
	void (*saved_write_space)(struct sock *sk);
	void (*saved_state_change)(struct sock *sk);
};

static struct kmem_cache *sctls_conn_cache __read_mostly;

int sctls_conn_cache_init(void)
{
	/*
	 * Charged, with the staging buffers, to the helper's memory cgroup;
	 * unmerged, so that /proc/slabinfo counts what the module holds.
	 */
	sctls_conn_cache = KMEM_CACHE(sctls_conn, SLAB_ACCOUNT | SCTLS_SLAB_NO_MERGE);
	return sctls_conn_cache ? 0 : -ENOMEM;
}

void sctls_conn_cache_exit(void)
{
	kmem_cache_destroy(sctls_conn_cache);
}

static void sctls_conn_queue(struct sctls_conn *conn)
{
	struct sctls_helper *helper = conn->helper;

	spin_lock_bh(&helper->lock);
	if (list_empty(&conn->ready_node))
		list_add_tail(&conn->ready_node, &helper->ready);
	spin_unlock_bh(&helper->lock);
	wake_up_interruptible(&helper->wait);
}

/* Socket callbacks: softirq or process context; queue and wake only. */
static void sctls_conn_callback(struct sock *sk)
{
	struct sctls_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (conn)
		sctls_conn_queue(conn);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void sctls_conn_data_ready(struct sock *sk)
{
	struct sctls_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	/* Without credit the bytes wait in the socket; CREDIT requeues. */
	if (conn && (READ_ONCE(conn->rx_credit) || sk->sk_err))
		sctls_conn_queue(conn);
	read_unlock_bh(&sk->sk_callback_lock);
}

/*
 * As sk_stream_write_space(): act once there is room, and clear
 * SOCK_NOSPACE, or TCP calls this again on every ACK for good.
 */
static void sctls_conn_write_space(struct sock *sk)
{
	struct sctls_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (conn && sk->sk_socket && sk_stream_is_writeable(sk)) {
		clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		if (READ_ONCE(conn->staged_len))
			sctls_conn_queue(conn);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static void sctls_conn_hook(struct sctls_conn *conn)
{
	struct sock *sk = conn->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	/* Not the listener's callback it inherited: TCP's own, saved there. */
	conn->saved_data_ready = conn->helper->sn->tcp_data_ready;
	conn->saved_write_space = sk->sk_write_space;
	conn->saved_state_change = sk->sk_state_change;
	sk->sk_user_data = conn;
	sk->sk_data_ready = sctls_conn_data_ready;
	sk->sk_write_space = sctls_conn_write_space;
	sk->sk_state_change = sctls_conn_callback;
	write_unlock_bh(&sk->sk_callback_lock);
}

static void sctls_conn_unhook(struct sctls_conn *conn)
{
	struct sock *sk = conn->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = conn->saved_data_ready;
	sk->sk_write_space = conn->saved_write_space;
	sk->sk_state_change = conn->saved_state_change;
	write_unlock_bh(&sk->sk_callback_lock);
}

/* Whether the config lets this uid in: an empty allow-list lets all in. */
static bool sctls_uid_allowed(const struct sctls_config *cfg, kuid_t uid)
{
	unsigned int i;

	if (!cfg->nr_uids)
		return true;
	for (i = 0; i < cfg->nr_uids; i++)
		if (uid_eq(cfg->uids[i], uid))
			return true;
	return false;
}

/*
 * Take an accepted socket, or reset it: over max_conns, when the peer is not
 * a local socket, or when the app's uid is not allowed. The config cannot
 * change meanwhile: netlink replaces it under io_lock, which we hold.
 */
int sctls_conn_add(struct sctls_helper *helper, struct socket *sock)
{
	const struct sctls_config *cfg =
		rcu_dereference_protected(helper->sn->config,
					  lockdep_is_held(&helper->io_lock));
	struct sctls_stats *stats = &helper->sn->stats;
	struct sock *sk = sock->sk;
	struct sctls_conn *conn;
	struct sctls_open open;
	kuid_t uid;
	int err;

	/* Refused unseen: who connected is not looked up for nothing. */
	if (helper->nr_conns >= cfg->max_conns) {
		stats->refused_max++;
		sctls_who_forget(helper, sk);
		err = -EMFILE;
		goto err_reset;
	}

	memset(&open, 0, sizeof(open));
	err = sctls_who_describe(helper, sk, &open, &uid);
	if (err) {
		/* An app that reset before the accept is simply gone. */
		if (READ_ONCE(sk->sk_state) != TCP_CLOSE) {
			stats->refused_not_local++;
			pr_warn_ratelimited("refused a connection to port %u from a peer that is not a local socket\n",
					    open.local_port);
		}
		goto err_reset;
	}
	if (!sctls_uid_allowed(cfg, uid)) {
		stats->refused_policy++;
		pr_info_ratelimited("refused uid %d (pid %d, %s) on port %u: not in the allow-list\n",
				    (int)open.uid, (int)open.pid, open.comm,
				    open.local_port);
		err = -EACCES;
		goto err_reset;
	}
	conn = kmem_cache_zalloc(sctls_conn_cache, GFP_KERNEL_ACCOUNT);
	if (!conn) {
		err = -ENOMEM;
		goto err_reset;
	}
	conn->helper = helper;
	conn->sock = sock;
	conn->open = open;
	conn->uid = uid;
	conn->start = ktime_get_boottime_ns();
	conn->window = cfg->window;
	conn->rx_credit = cfg->window;
	conn->tx_credit = cfg->window;
	INIT_LIST_HEAD(&conn->ready_node);
	INIT_LIST_HEAD(&conn->closing_node);

	/* Cyclic ids: a stale id is not soon reused. */
	err = xa_alloc_cyclic(&helper->conns, &conn->id, conn,
			      XA_LIMIT(1, U32_MAX), &helper->next_id,
			      GFP_KERNEL_ACCOUNT);
	if (err < 0) {
		kmem_cache_free(sctls_conn_cache, conn);
		goto err_reset;
	}
	helper->nr_conns++;
	stats->accepted++;
	/* A relay adds no Nagle delay; the app's own socket keeps its choice. */
	sctls_sock_set_nodelay(sk);
	sctls_conn_hook(conn);
	sctls_conn_queue(conn);		/* for OPEN, and bytes already there */
	sctls_notify_open(helper, conn);
	return 0;

err_reset:
	sctls_listen_disown(helper->sn, sock);
	sctls_sock_set_no_linger(sk);
	sock_release(sock);
	return err;
}

static void sctls_conn_unstage(struct sctls_conn *conn)
{
	conn->helper->staged -= conn->staged_size;
	kvfree(conn->staged);
	conn->staged = NULL;
	conn->staged_size = 0;
	conn->staged_off = 0;
	WRITE_ONCE(conn->staged_len, 0);
}

/* End a connection: counted, announced, reset unless it ended orderly. */
static void sctls_conn_destroy(struct sctls_conn *conn, u8 reason, int err)
{
	struct sctls_helper *helper = conn->helper;
	const struct sctls_config *cfg =
		rcu_dereference_protected(helper->sn->config,
					  lockdep_is_held(&helper->io_lock));
	struct sctls_stats *stats = &helper->sn->stats;

	lockdep_assert_held(&helper->io_lock);
	sctls_conn_unhook(conn);
	spin_lock_bh(&helper->lock);
	list_del_init(&conn->ready_node);
	spin_unlock_bh(&helper->lock);
	list_del(&conn->closing_node);
	xa_erase(&helper->conns, conn->id);
	helper->nr_conns--;

	if (reason == SCTLS_CLOSED_APP || reason == SCTLS_CLOSED_HELPER) {
		if (reason == SCTLS_CLOSED_APP)
			stats->closed_app++;
		else
			stats->closed_helper++;
		/* Its FIN may await an ACK still: kept, not orphaned. */
		sctls_linger_add(helper->sn, conn->sock, cfg->max_conns);
	} else {
		if (reason == SCTLS_CLOSED_APP_LEFT)
			stats->closed_app_left++;
		else
			stats->closed_reset++;
		sctls_sock_set_no_linger(conn->sock->sk);
		sock_release(conn->sock);
	}
	sctls_notify_close(helper, conn->id, reason, err, conn->bytes_from_app,
			   conn->bytes_to_app);
	sctls_conn_unstage(conn);
	kmem_cache_free(sctls_conn_cache, conn);
}

void sctls_conn_destroy_all(struct sctls_helper *helper)
{
	struct sctls_conn *conn;
	unsigned long id;

	xa_for_each(&helper->conns, id, conn)
		sctls_conn_destroy(conn, SCTLS_CLOSED_HELPER_GONE, ECONNRESET);
}

/* An orderly end of our side: FIN after everything sent, unread bytes dropped. */
static void sctls_conn_finish(struct sctls_conn *conn)
{
	/* Never written: with MSG_TRUNC, TCP drops the bytes uncopied. */
	struct kvec none = { .iov_len = SCTLS_MAX_PAYLOAD };
	struct msghdr msg = {};
	unsigned int rounds = 16;

	kernel_sock_shutdown(conn->sock, SHUT_WR);
	/*
	 * Unread bytes would make TCP reset instead of closing; an app that
	 * keeps sending after this much gets that reset.
	 */
	while (kernel_recvmsg(conn->sock, &msg, &none, 1, none.iov_len,
			      MSG_DONTWAIT | MSG_TRUNC) > 0 && --rounds)
		;
	sctls_conn_destroy(conn, SCTLS_CLOSED_HELPER, 0);
}

/*
 * The first failure of a connection is what its CLOSE reports: a socket
 * error is read only once (sock_error() clears it), so it is kept here.
 */
static void sctls_conn_fail(struct sctls_conn *conn, int err, u8 reason)
{
	if (!conn->err) {
		conn->err = err;
		conn->err_reason = reason;
	}
	sctls_conn_queue(conn);
}

/*
 * Why a connection ends that failed. The app's reset is the app leaving
 * when nothing was pending in the gateway: none staged, and TCP had sent
 * every byte queued (write_seq counts what was queued, snd_nxt what was
 * sent; a reset purges the queue but leaves both). snd_una would not do:
 * a socket closed with bytes unread resets before its delayed ACK goes
 * out, and the ACK on a RST is not processed.
 */
static u8 sctls_conn_fail_reason(struct sctls_conn *conn)
{
	const struct tcp_sock *tp = tcp_sk(conn->sock->sk);

	if (conn->err_reason != SCTLS_CLOSED_APP_RESET ||
	    (conn->err != ECONNRESET && conn->err != EPIPE))
		return conn->err_reason;
	if (!conn->staged_len &&
	    READ_ONCE(tp->snd_nxt) == READ_ONCE(tp->write_seq))
		return SCTLS_CLOSED_APP_LEFT;
	return SCTLS_CLOSED_APP_RESET;
}

/* Whether the app's socket has failed; its error is kept. */
static bool sctls_conn_check_socket(struct sctls_conn *conn)
{
	int err = sock_error(conn->sock->sk);

	if (err)
		sctls_conn_fail(conn, -err, SCTLS_CLOSED_APP_RESET);
	return conn->err;
}

/*
 * Send what the app's socket takes now: 0 with *sent, or -errno from the
 * socket (-EFAULT: the helper's buffer faulted before anything was sent).
 */
static int sctls_conn_send(struct sctls_conn *conn, struct iov_iter *from,
			   size_t len, size_t *sent)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL };
	int ret;

	msg.msg_iter = *from;
	iov_iter_truncate(&msg.msg_iter, len);
	ret = sctls_sock_sendmsg(conn->sock, &msg);
	*sent = ret > 0 ? ret : 0;
	return ret < 0 && ret != -EAGAIN ? ret : 0;
}

/* The app's socket took bytes of the helper's: credit to return. */
static void sctls_conn_sent(struct sctls_conn *conn, size_t sent)
{
	conn->credit_back += sent;
	conn->bytes_to_app += sent;
	conn->helper->sn->stats.bytes_to_app += sent;
	if (sent)
		conn->progress = jiffies;
}

/* Push staged bytes; true when none are left. A socket error is kept. */
static bool sctls_conn_flush(struct sctls_conn *conn)
{
	struct kvec vec;
	struct iov_iter it;
	size_t sent;
	int err;

	if (!conn->staged_len)
		return true;
	vec.iov_base = conn->staged + conn->staged_off;
	vec.iov_len = conn->staged_len;
	iov_iter_kvec(&it, ITER_SOURCE, &vec, 1, vec.iov_len);
	err = sctls_conn_send(conn, &it, vec.iov_len, &sent);
	if (err)
		sctls_conn_fail(conn, -err, SCTLS_CLOSED_APP_RESET);
	conn->staged_off += sent;
	WRITE_ONCE(conn->staged_len, conn->staged_len - sent);
	sctls_conn_sent(conn, sent);
	if (conn->staged_len)
		return false;
	sctls_conn_unstage(conn);
	return true;
}

/* Room for need staged bytes: the buffer grows to fit, within the bounds. */
static int sctls_conn_stage_room(struct sctls_conn *conn, u32 need)
{
	struct sctls_helper *helper = conn->helper;
	u32 size;
	u8 *buf;

	if (conn->staged_off + need <= conn->staged_size)
		return 0;
	if (need <= conn->staged_size) {
		memmove(conn->staged, conn->staged + conn->staged_off,
			conn->staged_len);
		conn->staged_off = 0;
		return 0;
	}
	/* Credit keeps need within the window; the namespace has a cap. */
	size = max_t(u32, roundup_pow_of_two(need), SCTLS_MIN_WINDOW);
	size = min(size, max(need, conn->window));
	if (helper->staged - conn->staged_size + size > SCTLS_MAX_STAGED)
		return -ENOMEM;
	buf = kvmalloc(size, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!buf)
		return -ENOMEM;
	if (conn->staged_len)
		memcpy(buf, conn->staged + conn->staged_off, conn->staged_len);
	kvfree(conn->staged);
	helper->staged += size - conn->staged_size;
	conn->staged = buf;
	conn->staged_size = size;
	conn->staged_off = 0;
	return 0;
}

/* Keep bytes the socket refused, after any already kept. */
static int sctls_conn_stage(struct sctls_conn *conn, struct iov_iter *from,
			    size_t len)
{
	int err = sctls_conn_stage_room(conn, conn->staged_len + len);

	if (err)
		return err;
	if (!copy_from_iter_full(conn->staged + conn->staged_off +
				 conn->staged_len, len, from))
		return -EFAULT;
	WRITE_ONCE(conn->staged_len, conn->staged_len + len);
	return 0;
}

/* Write a frame header into the helper's buffer. */
static int sctls_put_hdr(struct iov_iter *to, u16 type, u32 conn_id, u32 arg,
			 u32 payload_len)
{
	struct sctls_hdr hdr = {
		.len = SCTLS_HDR_LEN + payload_len,
		.type = type,
		.conn = conn_id,
		.arg = arg,
	};

	size_t copied = copy_to_iter(&hdr, sizeof(hdr), to);

	if (copied == sizeof(hdr))
		return 0;
	iov_iter_revert(to, copied);	/* no partial header left behind */
	return -EFAULT;
}

/*
 * Receive up to max bytes of app data straight into the helper's buffer,
 * behind its header. The header is written first, so that a buffer that
 * faults takes no app bytes. Returns the frame's length, 0 when no bytes
 * wait, or -errno from the socket (0 bytes and EOF: -EPIPE).
 */
static ssize_t sctls_conn_recv_data(struct sctls_conn *conn,
				    struct iov_iter *to, size_t max)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	struct iov_iter hdr_pos = *to;
	int ret;

	if (sctls_put_hdr(to, SCTLS_DATA, conn->id, 0, max)) {
		*to = hdr_pos;
		return -EFAULT;
	}
	msg.msg_iter = *to;
	iov_iter_truncate(&msg.msg_iter, max);
	ret = sock_recvmsg(conn->sock, &msg, MSG_DONTWAIT);
	if (ret <= 0) {
		*to = hdr_pos;
		if (ret == 0)
			return -EPIPE;
		return ret == -EAGAIN ? 0 : ret;
	}
	if (sctls_put_hdr(&hdr_pos, SCTLS_DATA, conn->id, 0, ret)) {
		/* The helper unmapped its buffer under us: the bytes are lost. */
		*to = hdr_pos;
		sctls_conn_fail(conn, EFAULT, SCTLS_CLOSED_ERROR);
		return 0;
	}
	iov_iter_advance(to, ret);
	return SCTLS_HDR_LEN + ret;
}

/* Report a helper-closed connection: push staged bytes, then finish. */
static void sctls_conn_report_closing(struct sctls_conn *conn)
{
	if (!conn->err && sctls_conn_flush(conn))
		sctls_conn_finish(conn);
	else if (conn->err || sctls_conn_check_socket(conn))
		sctls_conn_destroy(conn, sctls_conn_fail_reason(conn),
				   conn->err);
}

/*
 * Turn a ready connection's state into frames in the helper's buffer.
 * Returns the bytes written (>= 0) and sets *again when the connection may
 * have more to say, or -ENOSPC / -EFAULT with nothing written. A fault
 * after some frames returns those frames: what was written is never lost.
 * The connection may be gone on return.
 */
static ssize_t sctls_conn_report(struct sctls_conn *conn, struct iov_iter *to,
				 bool *again)
{
	size_t written = 0;
	ssize_t ret;

	lockdep_assert_held(&conn->helper->io_lock);
	*again = false;
	if (conn->closing) {
		sctls_conn_report_closing(conn);
		return 0;
	}

	if (!conn->open_sent) {
		if (iov_iter_count(to) < SCTLS_OPEN_FRAME_LEN)
			return -ENOSPC;
		if (sctls_put_hdr(to, SCTLS_OPEN, conn->id, conn->window,
				  sizeof(conn->open)) ||
		    copy_to_iter(&conn->open, sizeof(conn->open), to) !=
		    sizeof(conn->open))
			return -EFAULT;
		conn->open_sent = true;
		written += SCTLS_OPEN_FRAME_LEN;
	}

	if (!conn->err && sctls_conn_flush(conn) && conn->helper_fin &&
	    !conn->shut_wr) {
		kernel_sock_shutdown(conn->sock, SHUT_WR);
		conn->shut_wr = true;
	}

	/* Credit goes back in quarters of the window, not per frame. */
	if (!conn->err && conn->credit_back >= conn->window / 4) {
		if (iov_iter_count(to) < SCTLS_HDR_LEN)
			goto no_space;
		if (sctls_put_hdr(to, SCTLS_CREDIT, conn->id, conn->credit_back, 0))
			goto fault;
		conn->tx_credit += conn->credit_back;
		conn->credit_back = 0;
		written += SCTLS_HDR_LEN;
	}

	if (!conn->err && !conn->app_eof && conn->rx_credit) {
		size_t room = iov_iter_count(to);

		if (room < SCTLS_HDR_LEN + 1)
			goto no_space;
		room = min3(room - SCTLS_HDR_LEN, (size_t)conn->rx_credit,
			    (size_t)SCTLS_MAX_PAYLOAD);
		ret = sctls_conn_recv_data(conn, to, room);
		if (ret > 0) {
			size_t len = ret - SCTLS_HDR_LEN;

			WRITE_ONCE(conn->rx_credit, conn->rx_credit - len);
			conn->bytes_from_app += len;
			conn->helper->sn->stats.bytes_from_app += len;
			*again = true;
			return written + ret;
		}
		if (ret == -EFAULT)
			goto fault;
		if (ret == -EPIPE && !sctls_conn_check_socket(conn)) {
			if (sctls_put_hdr(to, SCTLS_FIN, conn->id, 0, 0))
				goto fault;
			conn->app_eof = true;
			written += SCTLS_HDR_LEN;
		} else if (ret < 0 && ret != -EPIPE) {
			sctls_conn_fail(conn, -ret, SCTLS_CLOSED_APP_RESET);
		}
	}

	/* A reset or error, or both directions done: the final CLOSE. */
	if (conn->err || sctls_conn_check_socket(conn) ||
	    (conn->app_eof && conn->shut_wr)) {
		if (iov_iter_count(to) < SCTLS_HDR_LEN)
			goto no_space;
		if (sctls_put_hdr(to, SCTLS_CLOSE, conn->id, conn->err, 0))
			goto fault;
		sctls_conn_destroy(conn, conn->err ?
				   sctls_conn_fail_reason(conn) :
				   SCTLS_CLOSED_APP, conn->err);
		return written + SCTLS_HDR_LEN;
	}
	return written;

no_space:
	*again = true;
	return written ? written : -ENOSPC;
fault:
	*again = true;
	return written ? written : -EFAULT;
}

/* Fill the helper's buffer with frames of ready connections. */
ssize_t sctls_conn_read(struct sctls_helper *helper, struct iov_iter *to)
{
	size_t written = 0;
	ssize_t ret = 0;

	lockdep_assert_held(&helper->io_lock);
	if (READ_ONCE(helper->accept_pending))
		sctls_accept_some(helper);

	while (iov_iter_count(to) >= SCTLS_HDR_LEN) {
		struct sctls_conn *conn;
		bool again;

		spin_lock_bh(&helper->lock);
		conn = list_first_entry_or_null(&helper->ready,
						struct sctls_conn, ready_node);
		if (conn)
			list_del_init(&conn->ready_node);
		spin_unlock_bh(&helper->lock);
		if (!conn)
			break;

		ret = sctls_conn_report(conn, to, &again);
		if (ret == -ENOSPC || ret == -EFAULT) {
			sctls_conn_queue(conn);	/* nothing lost: report later */
			break;
		}
		written += ret;
		/* Round robin: a busy connection goes to the back. */
		if (again)
			sctls_conn_queue(conn);
	}
	if (written)
		return written;
	/* Too small a buffer for the next frame. */
	return ret == -ENOSPC ? -EINVAL : ret;
}

/*
 * A helper's DATA: sent straight from its buffer, and what the app's socket
 * refuses is staged. A payload that faults is refused with EFAULT before
 * anything is sent. Should it fault midway all the same (the helper
 * unmapped it meanwhile), what went out is accounted and the connection
 * ends with EFAULT, since the stream has a hole.
 */
static int sctls_conn_data(struct sctls_conn *conn, struct iov_iter *payload,
			   u32 len)
{
	size_t sent = 0;
	int err = 0;

	if (fault_in_iov_iter_readable(payload, len))
		return -EFAULT;
	if (!conn->staged_len) {
		err = sctls_conn_send(conn, payload, len, &sent);
		if (err == -EFAULT && !sent)
			return -EFAULT;
		iov_iter_advance(payload, sent);
	}
	conn->tx_credit -= len;
	sctls_conn_sent(conn, sent);
	if (!err && sent < len)
		err = sctls_conn_stage(conn, payload, len - sent);
	if (err) {
		/* Kept, and the CLOSE tells it; the rest of the frame is gone. */
		iov_iter_advance(payload, len - sent);
		if (err == -EFAULT || err == -ENOMEM)
			sctls_conn_fail(conn, -err, SCTLS_CLOSED_ERROR);
		else
			sctls_conn_fail(conn, -err, SCTLS_CLOSED_APP_RESET);
		return 0;
	}
	if (conn->credit_back >= conn->window / 4)
		sctls_conn_queue(conn);
	return 0;
}

/* Apply one valid frame from the helper. */
int sctls_conn_apply(struct sctls_helper *helper, const struct sctls_hdr *hdr,
		     struct iov_iter *payload)
{
	u32 len = hdr->len - SCTLS_HDR_LEN;
	struct sctls_conn *conn;

	lockdep_assert_held(&helper->io_lock);
	conn = xa_load(&helper->conns, hdr->conn);
	if (conn && conn->err && hdr->type == SCTLS_CLOSE) {
		/* The helper lets go first: no CLOSE comes back. */
		sctls_conn_destroy(conn, sctls_conn_fail_reason(conn),
				   conn->err);
		return 0;
	}
	if (!conn || conn->closing || conn->err) {
		/* Gone, or going with a CLOSE on its way: not an error. */
		helper->sn->stats.frames_dropped++;
		iov_iter_advance(payload, len);
		return 0;
	}

	switch (hdr->type) {
	case SCTLS_DATA:
		if (conn->helper_fin)
			return -EPIPE;
		if (len > conn->tx_credit)
			return -ENOBUFS;
		return sctls_conn_data(conn, payload, len);

	case SCTLS_FIN:
		if (conn->helper_fin)
			return -EPIPE;
		conn->helper_fin = true;
		if (!conn->staged_len && !conn->shut_wr) {
			kernel_sock_shutdown(conn->sock, SHUT_WR);
			conn->shut_wr = true;
		}
		/* Staged bytes go first; or both directions are done now. */
		sctls_conn_queue(conn);
		return 0;

	case SCTLS_CREDIT:
		if (hdr->arg > U32_MAX - conn->rx_credit)
			return -EINVAL;
		WRITE_ONCE(conn->rx_credit, conn->rx_credit + hdr->arg);
		sctls_conn_queue(conn);	/* bytes may be waiting for it */
		return 0;

	case SCTLS_CLOSE:
		if (!(hdr->flags & SCTLS_CLOSE_ORDERLY)) {
			sctls_conn_destroy(conn, SCTLS_CLOSED_HELPER_RESET,
					   ECONNRESET);
			return 0;
		}
		if (sctls_conn_flush(conn)) {
			sctls_conn_finish(conn);
			return 0;
		}
		if (conn->err) {
			sctls_conn_destroy(conn, sctls_conn_fail_reason(conn),
					   conn->err);
			return 0;
		}
		/*
		 * Staged bytes first; the id is gone for the helper already.
		 * An app that stops reading is reset after closing_timeout.
		 */
		conn->closing = true;
		conn->progress = jiffies;
		list_add_tail(&conn->closing_node, &helper->closing);
		queue_delayed_work(system_wq, &helper->reap,
				   sctls_closing_timeout * HZ);
		return 0;
	}
	return -EINVAL;
}

/* Reset the helper-closed connections whose apps stopped reading. */
void sctls_conn_reap(struct work_struct *work)
{
	struct sctls_helper *helper = container_of(to_delayed_work(work),
						   struct sctls_helper, reap);
	unsigned long timeout = sctls_closing_timeout * HZ, next = timeout;
	struct sctls_conn *conn, *tmp;

	mutex_lock(&helper->io_lock);
	list_for_each_entry_safe(conn, tmp, &helper->closing, closing_node) {
		unsigned long idle = jiffies - conn->progress;

		if (idle >= timeout)
			sctls_conn_destroy(conn, SCTLS_CLOSED_TIMEOUT, ETIMEDOUT);
		else
			next = min(next, timeout - idle);
	}
	if (!list_empty(&helper->closing))
		queue_delayed_work(system_wq, &helper->reap, next);
	mutex_unlock(&helper->io_lock);
}

/*
 * Reset a connection for an administrator: the app gets a reset now, the
 * helper a CLOSE with ECONNABORTED when it next reads.
 */
int sctls_conn_reset(struct sctls_helper *helper, u32 id)
{
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	struct sctls_conn *conn;

	lockdep_assert_held(&helper->io_lock);
	conn = xa_load(&helper->conns, id);
	if (!conn)
		return -ENOENT;
	if (conn->closing) {
		/* The helper has let go of it already: nothing to tell. */
		sctls_conn_destroy(conn, SCTLS_CLOSED_ADMIN, ECONNABORTED);
		return 0;
	}
	sctls_conn_fail(conn, ECONNABORTED, SCTLS_CLOSED_ADMIN);
	/*
	 * Send the RST now, as connect(AF_UNSPEC) does for a program: TCP's
	 * disconnect. tcp_abort() would do, but a GKI kernel does not offer
	 * it to vendor modules. It cannot fail here (nothing waits on the
	 * socket); if it did, the linger-0 release at the CLOSE resets it
	 * then. The staged bytes are dropped at the CLOSE.
	 */
	kernel_connect(conn->sock, (struct sockaddr *)&unspec, sizeof(unspec), 0);
	return 0;
}

static u8 sctls_conn_state(const struct sctls_conn *conn)
{
	if (!conn->open_sent)
		return SCTLS_CONN_NEW;
	if (conn->closing)
		return SCTLS_CONN_CLOSING;
	if (conn->app_eof)
		return SCTLS_CONN_APP_FIN;
	if (conn->helper_fin)
		return SCTLS_CONN_HELPER_FIN;
	return SCTLS_CONN_ESTABLISHED;
}

/* The most sctls_conn_fill() adds: keep the two in step. */
size_t sctls_conn_fill_size(void)
{
	return 2 * nla_total_size(sizeof(struct in6_addr)) +	/* addrs */
	       3 * nla_total_size(sizeof(u16)) +	/* family, ports */
	       5 * nla_total_size(sizeof(u32)) +	/* id, uid, pid, credits */
	       nla_total_size(SCTLS_COMM_LEN) +
	       nla_total_size(sizeof(u8)) +		/* state */
	       3 * nla_total_size_64bit(sizeof(u64));	/* bytes, age */
}

/*
 * A connection's netlink attributes; uids as seen from user_ns. An event
 * has room for sctls_conn_fill_size(): add to both.
 */
int sctls_conn_fill(struct sk_buff *skb, struct sctls_conn *conn,
		    struct user_namespace *user_ns)
{
	const struct sctls_open *open = &conn->open;
	int alen = open->family == AF_INET ? 4 : 16;
	u64 age = div_u64(ktime_get_boottime_ns() - conn->start, NSEC_PER_MSEC);

	if (nla_put_u32(skb, SCTLS_A_CONN_ID, conn->id) ||
	    nla_put_u16(skb, SCTLS_A_FAMILY, open->family) ||
	    nla_put(skb, SCTLS_A_LOCAL_ADDR, alen, open->local_addr) ||
	    nla_put_u16(skb, SCTLS_A_LOCAL_PORT, open->local_port) ||
	    nla_put(skb, SCTLS_A_PEER_ADDR, alen, open->peer_addr) ||
	    nla_put_u16(skb, SCTLS_A_PEER_PORT, open->peer_port) ||
	    nla_put_u32(skb, SCTLS_A_UID, uid_valid(conn->uid) ?
			sctls_from_kuid(user_ns, conn->uid) :
			SCTLS_ID_UNKNOWN) ||
	    nla_put_u32(skb, SCTLS_A_PID, open->pid) ||
	    nla_put_string(skb, SCTLS_A_COMM, open->comm) ||
	    nla_put_u8(skb, SCTLS_A_CONN_STATE, sctls_conn_state(conn)) ||
	    nla_put_u64_64bit(skb, SCTLS_A_BYTES_FROM_APP, conn->bytes_from_app,
			      SCTLS_A_PAD) ||
	    nla_put_u64_64bit(skb, SCTLS_A_BYTES_TO_APP, conn->bytes_to_app,
			      SCTLS_A_PAD) ||
	    nla_put_u32(skb, SCTLS_A_CREDIT_TO_HELPER, conn->rx_credit) ||
	    nla_put_u32(skb, SCTLS_A_CREDIT_FROM_HELPER, conn->tx_credit) ||
	    nla_put_u64_64bit(skb, SCTLS_A_AGE_MS, age, SCTLS_A_PAD))
		return -EMSGSIZE;
	return 0;
}
