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
 * open in the same namespace fails with EBUSY. The loopback listeners of a
 * namespace exist only while its helper holds the device open; without a
 * helper, connect() fails at once with ECONNREFUSED. Closing the device, or
 * the helper's death, resets every connection of the namespace. The module
 * cannot be unloaded while the device is open.
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
 * frames back to back, never a partial one: a buffer too small for the next
 * frame (an OPEN frame is 88 bytes) gets EINVAL and loses nothing. read()
 * blocks unless O_NONBLOCK (EAGAIN). poll() reports EPOLLIN when frames may
 * wait; the wake-up can come to nothing (a connection refused at accept), so
 * a helper driven by poll reads with O_NONBLOCK. Writes never block: poll()
 * always reports EPOLLOUT.
 *
 * A write() carries one or more whole frames and returns the bytes of the
 * frames it applied; it fails only if it could apply none. A malformed frame
 * (shorter than a header, len disagreeing with the bytes written, unknown
 * type or flags, conn 0, a payload where none belongs, an empty DATA) gets
 * EINVAL, a payload over SCTLS_MAX_PAYLOAD gets EMSGSIZE, and neither
 * changes anything. A frame for a connection that has just closed is
 * dropped and counted, not an error: that race is normal.
 *
 * For each connection, OPEN comes first and CLOSE last; after CLOSE the id
 * is free. Ids are handed out cyclically, so a stale one is not soon reused.
 *
 * Kernel -> helper
 *   SCTLS_OPEN    a new connection; payload struct sctls_open
 *   SCTLS_DATA    bytes from the app; payload the bytes
 *   SCTLS_FIN     the app shut down its sending side; no payload
 *   SCTLS_CLOSE   the connection is gone and its id is free; arg is 0 after
 *                 FIN both ways, else the positive errno (ECONNRESET when
 *                 the app reset it, ENOMEM when the kernel could not keep
 *                 the helper's bytes)
 *   SCTLS_CREDIT  the app's socket took arg more bytes of the helper's DATA;
 *                 sent in batches of at least a quarter of the window
 *
 * Helper -> kernel
 *   SCTLS_DATA    bytes for the app; payload the bytes. Past the credit:
 *                 ENOBUFS; after the helper's FIN: EPIPE
 *   SCTLS_FIN     no more bytes for the app (shutdown(SHUT_WR) once the
 *                 bytes before it are out)
 *   SCTLS_CLOSE   end the connection: a reset (RST) to the app, or with
 *                 SCTLS_CLOSE_ORDERLY an orderly close after the bytes
 *                 before it, unread app bytes dropped. No CLOSE comes back:
 *                 the id is gone at once for the helper
 *   SCTLS_CREDIT  the helper forwarded arg more bytes of the app's DATA
 *                 (EINVAL if the credit would pass 2^32 - 1)
 *
 * Flow control
 * ------------
 * Credits, both ways, as the window of SSH channels (RFC 4254 5.2). Each
 * connection starts with SCTLS_IOC_INFO's window of credit in each direction.
 * The kernel never sends more DATA for a connection than the helper has
 * credited; it leaves the bytes in the socket instead, so TCP pushes back on
 * the app. The helper may send DATA up to its credit; the kernel returns
 * credit as the app's socket takes the bytes. A DATA frame past the credit
 * gets ENOBUFS. App bytes are received straight into the helper's read()
 * buffer and helper bytes sent straight from its write() buffer; the module
 * keeps only what an app's full socket refuses, at most one window per
 * connection. So beyond TCP's own socket buffers, kernel memory is bounded
 * by max_conns * window.
 *
 * Version history
 * ---------------
 *  1: initial protocol: OPEN, DATA, FIN, CLOSE, CREDIT; SCTLS_IOC_INFO.
 */
#ifndef _UAPI_LINUX_SCTLS_H
#define _UAPI_LINUX_SCTLS_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define SCTLS_PROTO_VERSION	1

#define SCTLS_DEVICE_NAME	"sctls"
#define SCTLS_DEFAULT_PORT	4116	/* IANA smartcard-tls */
#define SCTLS_MAX_PORTS		8
#define SCTLS_MAX_PAYLOAD	65536
#define SCTLS_COMM_LEN		16
#define SCTLS_ID_UNKNOWN	0xffffffffU	/* uid, gid or pid not known */

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

#endif /* _UAPI_LINUX_SCTLS_H */
