// SPDX-License-Identifier: GPL-2.0
/* COMPREHENSION-TLV and BER-TLV reading and writing, and command APDUs. */
#include <string.h>

#include "bip.h"

/*
 * A length: one octet up to 127, or 81 and one octet. Longer forms cannot
 * occur in a short APDU and are refused. *p moves past it; -1 if bad.
 */
static long read_len(const uint8_t **p, const uint8_t *end)
{
	uint8_t first;

	if (*p >= end)
		return -1;
	first = *(*p)++;
	if (first < 0x80)
		return first;
	if (first != 0x81 || *p >= end)
		return -1;
	/* 81 with a value below 128 is not minimal, but unambiguous: taken. */
	return *(*p)++;
}

int bip_tlv_next(const uint8_t **p, const uint8_t *end, struct bip_tlv *tlv)
{
	const uint8_t *q = *p;
	long len;

	if (q >= end)
		return 0;
	/* 00, 80 and FF are not tags (TS 101 220 7.1.1). */
	if (*q == 0x00 || *q == 0x80 || *q == 0xff)
		return -1;
	if (*q == BIP_TAG_LONG) {
		/* Three octets, CR in the top bit of the second. */
		if (end - q < 3)
			return -1;
		tlv->tag = BIP_TAG_LONG;
		tlv->cr = q[1] & BIP_CR;
		q += 3;
	} else {
		tlv->tag = *q & ~BIP_CR;
		tlv->cr = *q & BIP_CR;
		q++;
	}
	len = read_len(&q, end);
	if (len < 0 || len > end - q)
		return -1;
	tlv->value = q;
	tlv->len = len;
	*p = q + len;
	return 1;
}

void bip_put(struct bip_buf *b, const void *data, size_t len)
{
	if (!len)
		return;
	if (b->overflow || len > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static void put_len(struct bip_buf *b, size_t len)
{
	uint8_t enc[2] = { 0x81, (uint8_t)len };

	if (len > 255)
		b->overflow = true;
	else if (len < 0x80)
		bip_put(b, &enc[1], 1);
	else
		bip_put(b, enc, 2);
}

void bip_put_tlv(struct bip_buf *b, uint8_t tag, const void *value, size_t len)
{
	bip_put(b, &tag, 1);
	put_len(b, len);
	bip_put(b, value, len);
}

/* A BER-TLV's tag and room for a one-octet length; bip_ber_end sets it. */
size_t bip_ber_begin(struct bip_buf *b, uint8_t tag)
{
	uint8_t head[2] = { tag, 0 };

	bip_put(b, head, 2);
	return b->len;
}

void bip_ber_end(struct bip_buf *b, size_t mark)
{
	size_t len = b->len - mark;

	if (b->overflow)
		return;
	if (len > 255) {
		b->overflow = true;
	} else if (len < 0x80) {
		b->data[mark - 1] = len;
	} else if (b->len == b->cap) {
		b->overflow = true;
	} else {
		/* Two octets of length: the value moves up by one. */
		memmove(b->data + mark + 1, b->data + mark, len);
		b->data[mark - 1] = 0x81;
		b->data[mark] = len;
		b->len++;
	}
}

size_t bip_apdu(uint8_t *out, size_t cap, uint8_t ins, const uint8_t *data, size_t len,
		int le)
{
	uint8_t head[5] = { BIP_CLA, ins, 0, 0, (uint8_t)len };
	struct bip_buf b;

	if (len > BIP_MAX_DATA || le > 256)
		return 0;
	bip_buf_init(&b, out, cap);
	bip_put(&b, head, len ? 5 : 4);
	bip_put(&b, data, len);
	if (le >= 0) {
		uint8_t l = (uint8_t)le;	/* 256 is written 00 */

		bip_put(&b, &l, 1);
	}
	return b.overflow ? 0 : b.len;
}
