/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * sctls: smart-card TLS gateway. The /dev/sctls frame protocol.
 *
 * Apps connect to the "smartcard-tls" port (4116/tcp) on 127.0.0.1 or ::1.
 * The sctls module accepts those connections in the kernel and carries each
 * byte stream, framed, through the character device /dev/sctls to a helper
 * daemon, which relays it to the card reader.
 *
 * Opening the device
 * ------------------
 * open("/dev/sctls", O_RDWR) needs CAP_NET_ADMIN in the caller's network
 * namespace (EPERM otherwise). One helper per network namespace: a second
 * open in the same namespace fails with EBUSY. The module holds the served
 * ports on 127.0.0.1 and ::1 of a namespace, bound to its loopback device,
 * from the moment it serves the namespace (the initial namespace at load;
 * another when first configured or when a helper first attaches) until the
 * namespace ends or the port is removed: they listen all that time, so no
 * app can bind them, whatever its uid or socket options. While no helper
 * holds the device open, connect() to a served port fails at once with
 * ECONNREFUSED (with TCP Fast Open and a cookie, the first send fails with
 * ECONNABORTED instead), also when another socket holds the port: a served
 * port reaches the card's gateway or nothing. A port another socket had before the
 * module could hold it is named by netlink (SCTLS_A_PORTS_UNHELD) and the
 * kernel log, and the helper's open() fails with EADDRINUSE until it is
 * free. Closing the device, or the helper's death, resets every connection
 * of the namespace. The module cannot be unloaded while the device is open.
 *
 * Trust model
 * -----------
 * The helper is whoever holds CAP_NET_ADMIN in the namespace: it sees and
 * answers every connection of that namespace, as the card would. Apps, of
 * any uid, can connect and nothing more: they cannot bind a served port,
 * see another app's connection, or pose as the card. (CAP_NET_ADMIN in the
 * namespace, which may be the helper, can force a bind with TCP_REPAIR.)
 * Only peers
 * that are local sockets of the namespace are served; the network is not,
 * even with route_localnet=1. In OPEN, the uid and gid are authoritative
 * (the owner of the app's own socket); pid and comm are advisory (taken
 * from the task that sent the SYN, and empty when it is outside the
 * helper's pid namespace). Kernel memory: see Flow control.
 *
 * Frames
 * ------
 * Every record, both ways, is a struct sctls_hdr followed by its payload:
 *
 *   len    header plus payload, in bytes: SCTLS_HDR_LEN ..
 *          SCTLS_HDR_LEN + SCTLS_MAX_PAYLOAD
 *   type   enum sctls_frame_type
 *   flags  per type, below; unknown flags are rejected
 *   conn   connection id, never 0; ids are reused only after a long while
 *   arg    per type, below
 *
 * All fields are in host byte order. A read() returns one or more whole
 * frames back to back, never a partial one. A DATA frame is cut to fit the
 * buffer; a buffer too small for the next frame otherwise (below a header
 * and one byte, or below an OPEN frame of 88 bytes when one is next; a
 * read of 0 bytes) gets EINVAL and loses nothing. A buffer that faults
 * after some frames returns those frames; before any, EFAULT and nothing
 * is lost. read() blocks unless O_NONBLOCK (EAGAIN). poll() reports EPOLLIN
 * when frames may wait; the wake-up can come to nothing (a connection
 * refused at accept), so a helper driven by poll reads with O_NONBLOCK.
 * Writes never block: poll() always reports EPOLLOUT.
 *
 * A write() carries one or more whole frames and returns the bytes of the
 * frames it applied; it fails only if it could apply none. A malformed frame
 * (shorter than a header, len disagreeing with the bytes written, unknown
 * type or flags, conn 0, arg not 0 where it has no meaning, a payload where
 * none belongs, an empty DATA, a CREDIT of 0) gets EINVAL; a len whose
 * payload would pass SCTLS_MAX_PAYLOAD gets EMSGSIZE, whatever was written;
 * neither changes anything. A DATA payload that faults gets EFAULT and is
 * not applied: nothing of it is sent and no credit is taken. A frame for an
 * id that is not open (it has just closed, which is a normal race, or was
 * never used: the kernel keeps no list of closed ids) is dropped and
 * counted, not an error.
 *
 * For each connection, OPEN comes first and CLOSE last; after CLOSE the id
 * is free. Ids are handed out cyclically, so a stale one is not soon reused.
 *
 * Kernel -> helper
 *   SCTLS_OPEN    a new connection; payload struct sctls_open; arg is the
 *                 connection's window: its initial credit each way
 *   SCTLS_DATA    bytes from the app; payload the bytes
 *   SCTLS_FIN     the app shut down its sending side; no payload
 *   SCTLS_CLOSE   the connection is gone and its id is free; arg is 0 after
 *                 FIN both ways, else the positive errno of the first
 *                 failure: ECONNRESET when the app reset it (EPIPE when it
 *                 reset after its FIN, ETIMEDOUT or another socket error
 *                 when its socket failed), ECONNABORTED after an
 *                 administrator's reset, ENOMEM when the kernel could not
 *                 keep the helper's bytes, EFAULT when the helper's buffer
 *                 faulted in the middle of a DATA frame, either way
 *   SCTLS_CREDIT  the app's socket took arg more bytes of the helper's DATA;
 *                 sent in batches of at least a quarter of the window
 *
 * Helper -> kernel
 *   SCTLS_DATA    bytes for the app; payload the bytes. Past the credit:
 *                 ENOBUFS; after the helper's FIN: EPIPE
 *   SCTLS_FIN     no more bytes for the app (shutdown(SHUT_WR) once the
 *                 bytes before it are out); a second FIN: EPIPE
 *   SCTLS_CLOSE   end the connection: a reset (RST) to the app, or with
 *                 SCTLS_CLOSE_ORDERLY an orderly close after the bytes
 *                 before it, unread app bytes dropped. No CLOSE comes back:
 *                 the id is gone at once for the helper. An app that
 *                 does not take those bytes within the module parameter
 *                 closing_timeout (60 s) gets a reset
 *   SCTLS_CREDIT  the helper forwarded arg more bytes of the app's DATA
 *                 (EINVAL if the credit would pass 2^32 - 1)
 *
 * Flow control
 * ------------
 * Credits, both ways, as the window of SSH channels (RFC 4254 5.2). Each
 * connection starts with its OPEN frame's arg of credit in each direction: the
 * namespace's window when it was accepted (SCTLS_IOC_INFO reports the
 * current one; netlink can change it for connections to come).
 * The kernel never sends more DATA for a connection than the helper has
 * credited; it leaves the bytes in the socket instead, so TCP pushes back on
 * the app. The helper may send DATA up to its credit; the kernel returns
 * credit as the app's socket takes the bytes. A DATA frame past the credit
 * gets ENOBUFS. App bytes are received straight into the helper's read()
 * buffer and helper bytes sent straight from its write() buffer; the module
 * keeps only what an app's full socket refuses, at most one window per
 * connection, in a buffer sized to those bytes and freed once they are out.
 * So beyond TCP's own socket buffers (bounded by tcp_mem), a namespace's
 * kernel memory is one connection object (under 512 bytes) per connection,
 * at most max_conns, plus kept bytes, at most SCTLS_MAX_STAGED in all (a
 * connection that would pass it is closed with ENOMEM). All of it is
 * charged to the memory cgroup of the helper.
 *
 * Version history
 * ---------------
 *  1: initial protocol: OPEN, DATA, FIN, CLOSE, CREDIT; SCTLS_IOC_INFO.
 *  2: OPEN's arg carries the connection's window, which netlink can change;
 *     the generic netlink family "sctls".
 *  3: ports held (listening) from serving on; arg must be 0 on DATA, FIN and CLOSE,
 *     CREDIT 0 and a second FIN are refused; SCTLS_A_PORTS_UNHELD,
 *     SCTLS_STAT_REFUSED_NOT_LOCAL, SCTLS_CLOSED_TIMEOUT. Netlink only, later:
 *     SCTLS_STAT_CLOSED_APP_LEFT and SCTLS_CLOSED_APP_LEFT.
 *
 * Generic netlink family "sctls" (SCTLS_GENL_NAME)
 * ------------------------------------------------
 * Per network namespace: each namespace sees and changes only its own
 * gateway. Attributes are validated strictly; unknown ones are rejected, and
 * errors carry an extended ACK message.
 *
 *   SCTLS_CMD_GET     (anyone) the configuration (SCTLS_A_PORTS,
 *                     SCTLS_A_MAX_CONNS, SCTLS_A_WINDOW, SCTLS_A_ALLOW_UIDS),
 *                     SCTLS_A_PORTS_UNHELD (served ports another socket
 *                     had first), SCTLS_A_HELPER_PID when a helper is
 *                     attached, and SCTLS_A_STATS
 *   SCTLS_CMD_SET     (CAP_NET_ADMIN in the namespace) change any of the four
 *                     configuration attributes, all or nothing (a new port
 *                     another socket has: EADDRINUSE). New ports are held,
 *                     and listened on with a helper, at once; removed ones
 *                     closed; configuring a namespace serves it; open
 *                     connections are not disturbed. max_conns and the uid
 *                     allow-list apply at the next accept, window to
 *                     connections accepted after it. An empty
 *                     SCTLS_A_ALLOW_UIDS allows everyone.
 *   SCTLS_CMD_CONNS   (CAP_NET_ADMIN; dump) one message per connection
 *   SCTLS_CMD_RESET   (CAP_NET_ADMIN) reset connection SCTLS_A_CONN_ID: the
 *                     app gets a reset, the helper a CLOSE with ECONNABORTED.
 *                     ENOENT when there is no such connection
 *
 * Multicast group "events" (CAP_NET_ADMIN), in the namespace of the change:
 *   SCTLS_CMD_EV_OPEN     a connection was handed to the helper; its
 *                         attributes as in SCTLS_CMD_CONNS
 *   SCTLS_CMD_EV_CLOSE    SCTLS_A_CONN_ID, SCTLS_A_CLOSE_REASON,
 *                         SCTLS_A_CLOSE_ERRNO (positive, 0 when orderly),
 *                         and the bytes each way
 *   SCTLS_CMD_EV_HELPER_ATTACH  SCTLS_A_HELPER_PID
 *   SCTLS_CMD_EV_HELPER_DETACH  SCTLS_A_HELPER_PID
 *
 * uids are in the user namespace of the netlink socket's opener (in events,
 * the helper's); pids are in the helper's pid namespace, as in OPEN frames.
 */
#ifndef _UAPI_LINUX_SCTLS_H
#define _UAPI_LINUX_SCTLS_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define SCTLS_PROTO_VERSION	3

#define SCTLS_DEVICE_NAME	"sctls"
#define SCTLS_DEFAULT_PORT	4116	/* IANA smartcard-tls */
#define SCTLS_MAX_PORTS		8
#define SCTLS_MAX_PAYLOAD	65536
#define SCTLS_COMM_LEN		16
#define SCTLS_ID_UNKNOWN	0xffffffffU	/* uid, gid or pid not known */

/* Limits of the configuration: module parameters and netlink. */
#define SCTLS_MIN_WINDOW	4096U
#define SCTLS_MAX_WINDOW	(16U << 20)
#define SCTLS_MAX_CONNS		65536U
/* Helper bytes the kernel keeps for apps' full sockets, per namespace. */
#define SCTLS_MAX_STAGED	(64U << 20)

struct sctls_hdr {
	__u32 len;
	__u16 type;
	__u16 flags;
	__u32 conn;
	__u32 arg;
};

#define SCTLS_HDR_LEN		((__u32)sizeof(struct sctls_hdr))
#define SCTLS_MAX_FRAME		(SCTLS_HDR_LEN + SCTLS_MAX_PAYLOAD)

enum sctls_frame_type {
	SCTLS_OPEN = 1,
	SCTLS_DATA = 2,
	SCTLS_FIN = 3,
	SCTLS_CLOSE = 4,
	SCTLS_CREDIT = 5,
};

/* Flags of a helper's SCTLS_CLOSE. */
#define SCTLS_CLOSE_ORDERLY	0x0001

/*
 * Payload of SCTLS_OPEN. Addresses are in network byte order: an IPv4
 * address fills the first 4 bytes of its field, the rest is zero. Ports are
 * in host byte order. uid and gid are those of the connecting socket's owner
 * as seen from the helper's user namespace (SCTLS_ID_UNKNOWN when the app's
 * socket is already gone); pid is the connecting process's tgid in the
 * helper's pid namespace and comm its command, or SCTLS_ID_UNKNOWN and "".
 */
struct sctls_open {
	__u16 family;		/* AF_INET or AF_INET6 */
	__u16 local_port;	/* the served port the app connected to */
	__u16 peer_port;	/* the app's own port */
	__u16 reserved;
	__u8 local_addr[16];
	__u8 peer_addr[16];
	__u32 uid;
	__u32 gid;
	__u32 pid;
	__u32 reserved2;
	char comm[SCTLS_COMM_LEN];	/* NUL-terminated */
};

/* SCTLS_IOC_INFO: the protocol version and limits of this gateway. */
struct sctls_info {
	__u32 version;		/* SCTLS_PROTO_VERSION */
	__u32 max_payload;	/* largest DATA payload, either way */
	__u32 window;		/* initial credit per connection, each way */
	__u32 max_conns;	/* concurrent connections per namespace */
	__u16 nr_ports;		/* entries used in ports[] */
	__u16 ports[SCTLS_MAX_PORTS];	/* served loopback TCP ports */
	__u16 reserved;
};

#define SCTLS_IOC_MAGIC		0xE9	/* free in ioctl-number.rst */
#define SCTLS_IOC_INFO		_IOR(SCTLS_IOC_MAGIC, 1, struct sctls_info)

#define SCTLS_GENL_NAME		"sctls"
#define SCTLS_GENL_VERSION	1
#define SCTLS_GENL_MCGRP_EVENTS	"events"
#define SCTLS_MAX_ALLOW_UIDS	64

enum sctls_cmd {
	SCTLS_CMD_UNSPEC,
	SCTLS_CMD_GET,
	SCTLS_CMD_SET,
	SCTLS_CMD_CONNS,
	SCTLS_CMD_RESET,
	SCTLS_CMD_EV_OPEN,
	SCTLS_CMD_EV_CLOSE,
	SCTLS_CMD_EV_HELPER_ATTACH,
	SCTLS_CMD_EV_HELPER_DETACH,
	__SCTLS_CMD_MAX
};

#define SCTLS_CMD_MAX		(__SCTLS_CMD_MAX - 1)

enum sctls_attr {
	SCTLS_A_UNSPEC,
	SCTLS_A_PAD,
	/* configuration */
	SCTLS_A_PORTS,		/* nest of SCTLS_A_PORT, 1..SCTLS_MAX_PORTS */
	SCTLS_A_PORT,		/* u16, not 0 */
	SCTLS_A_MAX_CONNS,	/* u32, 1..SCTLS_MAX_CONNS */
	SCTLS_A_WINDOW,		/* u32, SCTLS_MIN_WINDOW..SCTLS_MAX_WINDOW */
	SCTLS_A_ALLOW_UIDS,	/* nest of SCTLS_A_UID, 0..SCTLS_MAX_ALLOW_UIDS */
	SCTLS_A_UID,		/* u32 */
	/* state */
	SCTLS_A_HELPER_PID,	/* u32 */
	SCTLS_A_STATS,		/* nest of enum sctls_stat, each u64 */
	/* a connection */
	SCTLS_A_CONN_ID,	/* u32 */
	SCTLS_A_FAMILY,		/* u16: AF_INET or AF_INET6 */
	SCTLS_A_LOCAL_ADDR,	/* binary: 4 or 16 bytes, network order */
	SCTLS_A_LOCAL_PORT,	/* u16 */
	SCTLS_A_PEER_ADDR,	/* binary: 4 or 16 bytes, network order */
	SCTLS_A_PEER_PORT,	/* u16 */
	SCTLS_A_PID,		/* u32 */
	SCTLS_A_COMM,		/* string */
	SCTLS_A_CONN_STATE,	/* u8: enum sctls_conn_state */
	SCTLS_A_BYTES_FROM_APP,	/* u64: app -> helper */
	SCTLS_A_BYTES_TO_APP,	/* u64: helper -> app, taken by the app's socket */
	SCTLS_A_CREDIT_TO_HELPER,	/* u32: app bytes the helper still takes */
	SCTLS_A_CREDIT_FROM_HELPER,	/* u32: helper bytes we still take */
	SCTLS_A_AGE_MS,		/* u64 */
	SCTLS_A_CLOSE_REASON,	/* u8: enum sctls_close_reason */
	SCTLS_A_CLOSE_ERRNO,	/* u32 */
	SCTLS_A_PORTS_UNHELD,	/* nest of SCTLS_A_PORT: served, not held */
	__SCTLS_A_MAX
};

#define SCTLS_A_MAX		(__SCTLS_A_MAX - 1)

/*
 * Counters of a namespace, since the module was loaded. Every accepted
 * connection is active or closed in exactly one way:
 * accepted = active + closed_app + closed_app_left + closed_helper +
 * closed_reset.
 */
enum sctls_stat {
	SCTLS_STAT_UNSPEC,
	SCTLS_STAT_PAD,
	SCTLS_STAT_ACCEPTED,		/* handed to the helper (OPEN) */
	SCTLS_STAT_REFUSED_NO_HELPER,	/* connection attempts, no helper */
	SCTLS_STAT_REFUSED_MAX_CONNS,	/* reset at max_conns */
	SCTLS_STAT_REFUSED_POLICY,	/* reset: uid not allowed */
	SCTLS_STAT_ACTIVE,
	SCTLS_STAT_CLOSED_APP,		/* orderly: FIN both ways */
	SCTLS_STAT_CLOSED_HELPER,	/* the helper's orderly CLOSE */
	SCTLS_STAT_CLOSED_RESET,	/* any other reset, error or helper exit */
	SCTLS_STAT_BYTES_FROM_APP,
	SCTLS_STAT_BYTES_TO_APP,
	SCTLS_STAT_FRAMES_DROPPED,	/* for connections already closed */
	SCTLS_STAT_WRITES_REJECTED,	/* malformed helper writes */
	SCTLS_STAT_REFUSED_NOT_LOCAL,	/* reset: the peer is no local socket */
	SCTLS_STAT_CLOSED_APP_LEFT,	/* the app left; nothing was pending */
	__SCTLS_STAT_MAX
};

#define SCTLS_STAT_MAX		(__SCTLS_STAT_MAX - 1)

enum sctls_conn_state {
	SCTLS_CONN_NEW = 1,	/* OPEN not yet read by the helper */
	SCTLS_CONN_ESTABLISHED,
	SCTLS_CONN_APP_FIN,	/* the app shut down its sending side */
	SCTLS_CONN_HELPER_FIN,	/* the helper sent FIN */
	SCTLS_CONN_CLOSING,	/* the helper closed it; bytes still going out */
};

enum sctls_close_reason {
	SCTLS_CLOSED_APP = 1,	/* orderly, FIN both ways */
	SCTLS_CLOSED_HELPER,	/* the helper's orderly CLOSE */
	SCTLS_CLOSED_APP_RESET,	/* the app's reset, bytes pending; an error */
	SCTLS_CLOSED_HELPER_RESET,	/* the helper's CLOSE without ORDERLY */
	SCTLS_CLOSED_ADMIN,	/* SCTLS_CMD_RESET */
	SCTLS_CLOSED_HELPER_GONE,	/* the helper closed /dev/sctls */
	SCTLS_CLOSED_ERROR,	/* the kernel could not keep the helper's bytes */
	SCTLS_CLOSED_TIMEOUT,	/* closed by the helper; the app stopped reading */
	/*
	 * The app's socket was reset (ECONNRESET, EPIPE) with nothing pending
	 * in the gateway: every byte for it had been sent into its socket. An
	 * app that closes with bytes unread resets; an HTTP client typically
	 * leaves the card's TLS close_notify unread. Not counted as a reset.
	 */
	SCTLS_CLOSED_APP_LEFT,
};

#endif /* _UAPI_LINUX_SCTLS_H */
