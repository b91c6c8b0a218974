// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include "frame.h"

/* The payload a kernel->helper frame of this type must carry. */
static int payload_ok(uint16_t type, uint32_t payload_len)
{
	switch (type) {
	case SCTLS_OPEN:
		return payload_len == sizeof(struct sctls_open);
	case SCTLS_DATA:
		return payload_len > 0;
	case SCTLS_FIN:
	case SCTLS_CLOSE:
	case SCTLS_CREDIT:
		return payload_len == 0;
	default:
		return 0;
	}
}

ssize_t sctls_frame_decode(const void *buf, size_t len, struct sctls_frame *f)
{
	struct sctls_hdr hdr;

	if (len < SCTLS_HDR_LEN)
		return 0;
	/* Frames follow each other unaligned: copy, never cast. */
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.len < SCTLS_HDR_LEN || hdr.len > SCTLS_MAX_FRAME ||
	    hdr.conn == 0 || hdr.flags != 0 ||
	    !payload_ok(hdr.type, hdr.len - SCTLS_HDR_LEN))
		return -EBADMSG;
	if (len < hdr.len)
		return 0;

	f->hdr = hdr;
	f->payload = (const uint8_t *)buf + SCTLS_HDR_LEN;
	f->payload_len = hdr.len - SCTLS_HDR_LEN;
	return hdr.len;
}

ssize_t sctls_frame_encode(void *out, size_t cap, uint16_t type, uint16_t flags,
			   uint32_t conn, uint32_t arg,
			   const void *payload, size_t payload_len)
{
	struct sctls_hdr hdr = {
		.type = type, .flags = flags, .conn = conn, .arg = arg,
	};

	if (payload_len > SCTLS_MAX_PAYLOAD)
		return -EMSGSIZE;
	hdr.len = SCTLS_HDR_LEN + (uint32_t)payload_len;
	if (cap < hdr.len)
		return -ENOSPC;
	memcpy(out, &hdr, sizeof(hdr));
	if (payload_len)
		memcpy((uint8_t *)out + SCTLS_HDR_LEN, payload, payload_len);
	return hdr.len;
}
