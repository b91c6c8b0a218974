// SPDX-License-Identifier: GPL-2.0
/* TERMINAL RESPONSEs: what the terminal answers each proactive command. */
#include <string.h>

#include "internal.h"

void bip_response_init(struct bip_response *r, const struct bip_command *cmd, uint8_t result)
{
	memset(r, 0, sizeof(*r));
	r->number = cmd->number;
	r->type = cmd->type;
	r->qualifier = cmd->qualifier;
	r->result = result;
	r->info = BIP_NONE;
	r->buffer_size = BIP_NONE;
	r->data_left = BIP_NONE;
}

/*
 * Command details, device identities (terminal to UICC), result, then what
 * the command's answer carries, in the order TS 102 223 lists it: channel
 * status (OPEN CHANNEL, GET CHANNEL STATUS), buffer size (OPEN CHANNEL),
 * channel data (RECEIVE DATA), channel data length (RECEIVE, SEND DATA).
 */
int bip_response_build(struct bip_buf *b, const struct bip_response *r)
{
	uint8_t details[3] = { r->number, r->type, r->qualifier };
	uint8_t devices[2] = { BIP_DEV_TERMINAL, BIP_DEV_UICC };
	uint8_t result[2] = { r->result, (uint8_t)r->info };
	uint8_t buffer[2] = { (uint8_t)(r->buffer_size >> 8), (uint8_t)r->buffer_size };
	uint8_t left = (uint8_t)r->data_left;
	size_t i;

	if (r->nr_status > BIP_MAX_CHANNELS || r->info < BIP_NONE || r->info > 0xff ||
	    r->buffer_size < BIP_NONE || r->buffer_size > 0xffff ||
	    r->data_left < BIP_NONE || r->data_left > 0xff)
		return -1;
	bip_put_tlv(b, BIP_CR | BIP_TAG_COMMAND_DETAILS, details, 3);
	bip_put_tlv(b, BIP_CR | BIP_TAG_DEVICE_IDENTITIES, devices, 2);
	bip_put_tlv(b, BIP_CR | BIP_TAG_RESULT, result, r->info == BIP_NONE ? 1 : 2);
	for (i = 0; i < r->nr_status; i++)
		bip_put_tlv(b, BIP_CR | BIP_TAG_CHANNEL_STATUS, r->status[i], 2);
	if (r->buffer_size != BIP_NONE)
		bip_put_tlv(b, BIP_CR | BIP_TAG_BUFFER_SIZE, buffer, 2);
	if (r->has_data)
		bip_put_tlv(b, BIP_CR | BIP_TAG_CHANNEL_DATA, r->data, r->data_len);
	if (r->data_left != BIP_NONE)
		bip_put_tlv(b, BIP_CR | BIP_TAG_CHANNEL_DATA_LEN, &left, 1);
	return b->overflow || b->len > BIP_MAX_DATA ? -1 : 0;
}

static int twice(struct bip_error *err, uint8_t tag)
{
	return bip_fail(err, BIP_RES_DATA_NOT_UNDERSTOOD, "object %02x twice", tag);
}

/* Each object once, but channel status once per channel. */
int bip_response_parse(const uint8_t *buf, size_t len, struct bip_response *r,
		       struct bip_error *err)
{
	const uint8_t *p = buf, *end = buf + len;
	bool details = false, devices = false, result = false;
	struct bip_tlv tlv;
	int ret;

	memset(r, 0, sizeof(*r));
	r->info = r->buffer_size = r->data_left = BIP_NONE;
	while ((ret = bip_tlv_next(&p, end, &tlv)) > 0) {
		switch (tlv.tag) {
		case BIP_TAG_COMMAND_DETAILS:
			if (details)
				return twice(err, tlv.tag);
			if (bip_expect_len(&tlv, "command details", 3, 3, err))
				return -1;
			r->number = tlv.value[0];
			r->type = tlv.value[1];
			r->qualifier = tlv.value[2];
			details = true;
			break;
		case BIP_TAG_DEVICE_IDENTITIES:
			if (devices)
				return twice(err, tlv.tag);
			if (bip_expect_len(&tlv, "device identities", 2, 2, err))
				return -1;
			devices = true;
			break;
		case BIP_TAG_RESULT:
			if (result)
				return twice(err, tlv.tag);
			if (bip_expect_len(&tlv, "result", 1, BIP_MAX_DATA, err))
				return -1;
			r->result = tlv.value[0];
			r->info = tlv.len > 1 ? tlv.value[1] : BIP_NONE;
			result = true;
			break;
		case BIP_TAG_CHANNEL_STATUS:
			if (r->nr_status == BIP_MAX_CHANNELS)
				return bip_fail(err, BIP_RES_DATA_NOT_UNDERSTOOD,
						"more than %d channel status objects",
						BIP_MAX_CHANNELS);
			if (bip_expect_len(&tlv, "channel status", 2, 2, err))
				return -1;
			memcpy(r->status[r->nr_status++], tlv.value, 2);
			break;
		case BIP_TAG_BUFFER_SIZE:
			if (r->buffer_size != BIP_NONE)
				return twice(err, tlv.tag);
			if (bip_expect_len(&tlv, "buffer size", 2, 2, err))
				return -1;
			r->buffer_size = tlv.value[0] << 8 | tlv.value[1];
			break;
		case BIP_TAG_CHANNEL_DATA:
			if (r->has_data)
				return twice(err, tlv.tag);
			r->has_data = true;
			r->data = tlv.value;
			r->data_len = tlv.len;
			break;
		case BIP_TAG_CHANNEL_DATA_LEN:
			if (r->data_left != BIP_NONE)
				return twice(err, tlv.tag);
			if (bip_expect_len(&tlv, "channel data length", 1, 1, err))
				return -1;
			r->data_left = tlv.value[0];
			break;
		default:
			if (tlv.cr)
				return bip_fail(err, BIP_RES_DATA_NOT_UNDERSTOOD,
						"object %02x marked comprehension required",
						tlv.tag);
		}
	}
	if (ret < 0)
		return bip_fail(err, BIP_RES_DATA_NOT_UNDERSTOOD, "malformed TLV at offset %td",
				p - buf);
	if (!details || !devices || !result)
		return bip_fail(err, BIP_RES_VALUES_MISSING, "no %s",
				!details ? "command details" : !devices ? "device identities" :
				"result");
	return 0;
}
