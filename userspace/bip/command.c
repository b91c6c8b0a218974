// SPDX-License-Identifier: GPL-2.0
/* Proactive commands: what the card sends in answer to FETCH. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bip.h"
#include "internal.h"

int bip_fail(struct bip_error *err, uint8_t result, const char *fmt, ...)
{
	va_list ap;

	err->result = result;
	va_start(ap, fmt);
	vsnprintf(err->why, sizeof(err->why), fmt, ap);
	va_end(ap);
	return -1;
}

int bip_read_objects(const uint8_t *p, const uint8_t *end, const uint8_t *known,
		     size_t nr_known, struct bip_tlv *found, struct bip_error *err)
{
	const uint8_t *start = p;
	struct bip_tlv tlv;
	size_t i;
	int ret;

	memset(found, 0, nr_known * sizeof(*found));	/* value NULL: absent */
	while ((ret = bip_tlv_next(&p, end, &tlv)) > 0) {
		for (i = 0; i < nr_known && known[i] != tlv.tag; i++)
			;
		if (i == nr_known) {
			/* Unknown: skipped, unless comprehension is required. */
			if (tlv.cr)
				return bip_fail(err, BIP_RES_DATA_NOT_UNDERSTOOD,
						"object %02x marked comprehension required",
						tlv.tag);
			continue;
		}
		if (found[i].value)
			return bip_fail(err, BIP_RES_DATA_NOT_UNDERSTOOD, "object %02x twice",
					tlv.tag);
		found[i] = tlv;
	}
	if (ret < 0)
		return bip_fail(err, BIP_RES_DATA_NOT_UNDERSTOOD, "malformed TLV at offset %td",
				p - start);
	return 0;
}

int bip_expect_len(const struct bip_tlv *tlv, const char *name, size_t min, size_t max,
		   struct bip_error *err)
{
	if (!tlv->value)
		return bip_fail(err, BIP_RES_VALUES_MISSING, "no %s", name);
	if (tlv->len < min || tlv->len > max)
		return bip_fail(err, BIP_RES_DATA_NOT_UNDERSTOOD, "%s of %zu octets", name,
				tlv->len);
	return 0;
}

/* The objects a command may carry, in the order found[] holds them. */
enum { O_DETAILS, O_DEVICES, O_ALPHA, O_EVENTS, O_DATA, O_DATA_LEN, O_BUFFER, O_TRANSPORT,
       O_ADDRESS, NR_OBJECTS };
static const uint8_t command_objects[NR_OBJECTS] = {
	[O_DETAILS] = BIP_TAG_COMMAND_DETAILS, [O_DEVICES] = BIP_TAG_DEVICE_IDENTITIES,
	[O_ALPHA] = BIP_TAG_ALPHA_ID, [O_EVENTS] = BIP_TAG_EVENT_LIST,
	[O_DATA] = BIP_TAG_CHANNEL_DATA, [O_DATA_LEN] = BIP_TAG_CHANNEL_DATA_LEN,
	[O_BUFFER] = BIP_TAG_BUFFER_SIZE, [O_TRANSPORT] = BIP_TAG_TRANSPORT_LEVEL,
	[O_ADDRESS] = BIP_TAG_OTHER_ADDRESS,
};

/* What each type needs beyond the details and device identities. */
static int parse_body(const struct bip_tlv *o, struct bip_command *cmd, struct bip_error *err)
{
	switch (cmd->type) {
	case BIP_OPEN_CHANNEL:
		/* Server mode: a buffer size and a transport level, no bearer. */
		if (bip_expect_len(&o[O_BUFFER], "buffer size", 2, 2, err) ||
		    bip_expect_len(&o[O_TRANSPORT], "transport level", 3, 3, err))
			return -1;
		cmd->buffer_size = o[O_BUFFER].value[0] << 8 | o[O_BUFFER].value[1];
		cmd->protocol = o[O_TRANSPORT].value[0];
		cmd->port = o[O_TRANSPORT].value[1] << 8 | o[O_TRANSPORT].value[2];
		return 0;
	case BIP_RECEIVE_DATA:
		if (bip_expect_len(&o[O_DATA_LEN], "channel data length", 1, 1, err))
			return -1;
		cmd->want = o[O_DATA_LEN].value[0];
		return 0;
	case BIP_SEND_DATA:
		if (bip_expect_len(&o[O_DATA], "channel data", 0, BIP_MAX_DATA, err))
			return -1;
		cmd->data = o[O_DATA].value;
		cmd->data_len = o[O_DATA].len;
		return 0;
	case BIP_SET_UP_EVENT_LIST:
		/* An empty list removes every event. */
		if (bip_expect_len(&o[O_EVENTS], "event list", 0, sizeof(cmd->events), err))
			return -1;
		memcpy(cmd->events, o[O_EVENTS].value, o[O_EVENTS].len);
		cmd->nr_events = o[O_EVENTS].len;
		return 0;
	case BIP_CLOSE_CHANNEL:
	case BIP_GET_CHANNEL_STATUS:
		return 0;
	default:	/* refused by bip_command_parse already */
		return bip_fail(err, BIP_RES_TYPE_NOT_UNDERSTOOD, "command type %02x", cmd->type);
	}
}

/* The command details, wherever they are among the objects. */
static int read_details(const uint8_t *p, const uint8_t *end, struct bip_command *cmd,
			struct bip_error *err)
{
	struct bip_tlv tlv;
	int ret;

	while ((ret = bip_tlv_next(&p, end, &tlv)) > 0) {
		if (tlv.tag != BIP_TAG_COMMAND_DETAILS)
			continue;
		if (bip_expect_len(&tlv, "command details", 3, 3, err))
			return -1;
		cmd->number = tlv.value[0];
		cmd->type = tlv.value[1];
		cmd->qualifier = tlv.value[2];
		return 0;
	}
	return bip_fail(err, ret < 0 ? BIP_RES_DATA_NOT_UNDERSTOOD : BIP_RES_VALUES_MISSING,
			ret < 0 ? "malformed TLV" : "no command details");
}

int bip_command_parse(const uint8_t *buf, size_t len, struct bip_command *cmd,
		      struct bip_error *err)
{
	const uint8_t *p = buf, *end = buf + len;
	struct bip_tlv ber, o[NR_OBJECTS];

	memset(cmd, 0, sizeof(*cmd));
	/* The BER-TLV is read as a COMPREHENSION-TLV would be: same lengths. */
	if (len < 1 || buf[0] != BIP_BER_PROACTIVE)
		return bip_fail(err, BIP_RES_DATA_NOT_UNDERSTOOD, "not a proactive command");
	if (bip_tlv_next(&p, end, &ber) <= 0 || p != end)
		return bip_fail(err, BIP_RES_DATA_NOT_UNDERSTOOD,
				"proactive command length does not match its %zu octets", len);
	/*
	 * The details first, so that an unknown type is answered 31 whatever
	 * objects of its own it carries, and every answer can echo them.
	 */
	if (read_details(ber.value, end, cmd, err))
		return -1;
	if (cmd->type != BIP_OPEN_CHANNEL && cmd->type != BIP_CLOSE_CHANNEL &&
	    cmd->type != BIP_RECEIVE_DATA && cmd->type != BIP_SEND_DATA &&
	    cmd->type != BIP_GET_CHANNEL_STATUS && cmd->type != BIP_SET_UP_EVENT_LIST)
		return bip_fail(err, BIP_RES_TYPE_NOT_UNDERSTOOD, "command type %02x", cmd->type);
	if (bip_read_objects(ber.value, end, command_objects, NR_OBJECTS, o, err) ||
	    bip_expect_len(&o[O_DEVICES], "device identities", 2, 2, err))
		return -1;
	cmd->source = o[O_DEVICES].value[0];
	cmd->destination = o[O_DEVICES].value[1];
	return parse_body(o, cmd, err);
}

unsigned int bip_command_channel(const struct bip_command *cmd)
{
	unsigned int ch = cmd->destination - BIP_DEV_CHANNEL(0);

	return ch >= 1 && ch <= BIP_MAX_CHANNELS ? ch : 0;
}

int bip_command_build(struct bip_buf *b, const struct bip_command *cmd)
{
	uint8_t details[3] = { cmd->number, cmd->type, cmd->qualifier };
	uint8_t devices[2] = { cmd->source, cmd->destination };
	uint8_t buffer[2] = { cmd->buffer_size >> 8, cmd->buffer_size & 0xff };
	uint8_t transport[3] = { cmd->protocol, cmd->port >> 8, cmd->port & 0xff };
	size_t mark = bip_ber_begin(b, BIP_BER_PROACTIVE);

	bip_put_tlv(b, BIP_CR | BIP_TAG_COMMAND_DETAILS, details, 3);
	bip_put_tlv(b, BIP_CR | BIP_TAG_DEVICE_IDENTITIES, devices, 2);
	switch (cmd->type) {
	case BIP_OPEN_CHANNEL:
		bip_put_tlv(b, BIP_CR | BIP_TAG_BUFFER_SIZE, buffer, 2);
		bip_put_tlv(b, BIP_CR | BIP_TAG_TRANSPORT_LEVEL, transport, 3);
		break;
	case BIP_RECEIVE_DATA:
		bip_put_tlv(b, BIP_CR | BIP_TAG_CHANNEL_DATA_LEN, &cmd->want, 1);
		break;
	case BIP_SEND_DATA:
		bip_put_tlv(b, BIP_CR | BIP_TAG_CHANNEL_DATA, cmd->data, cmd->data_len);
		break;
	case BIP_SET_UP_EVENT_LIST:
		if (cmd->nr_events > sizeof(cmd->events))
			return -1;
		bip_put_tlv(b, BIP_CR | BIP_TAG_EVENT_LIST, cmd->events, cmd->nr_events);
		break;
	case BIP_CLOSE_CHANNEL:
	case BIP_GET_CHANNEL_STATUS:
		break;
	default:
		return -1;
	}
	bip_ber_end(b, mark);
	return b->overflow ? -1 : 0;
}
