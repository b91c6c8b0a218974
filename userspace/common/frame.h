/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Decoding and encoding /dev/sctls frames in userspace buffers. A read()
 * returns frames back to back; a write() takes them the same way.
 */
#ifndef SCTLS_FRAME_H
#define SCTLS_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/sctls.h>

struct sctls_frame {
	struct sctls_hdr hdr;
	const uint8_t *payload;		/* inside the decoded buffer */
	uint32_t payload_len;
};

/*
 * Decode the kernel->helper frame at the start of buf. Returns the frame's
 * length, 0 when buf holds less than a whole frame, or -EBADMSG when it
 * breaks the protocol: the device is checked like any other input.
 */
ssize_t sctls_frame_decode(const void *buf, size_t len, struct sctls_frame *f);

/*
 * Encode a frame into out. Returns its length, -EMSGSIZE when the payload
 * is over SCTLS_MAX_PAYLOAD, or -ENOSPC when out is too small.
 */
ssize_t sctls_frame_encode(void *out, size_t cap, uint16_t type, uint16_t flags,
			   uint32_t conn, uint32_t arg,
			   const void *payload, size_t payload_len);

#endif
