// SPDX-License-Identifier: GPL-2.0
/* Event download ENVELOPEs: Channel status, and Data available. */
#include <string.h>

#include "internal.h"

/* D6 | event list | device identities terminal -> UICC | status [| length] */
int bip_event_build(struct bip_buf *b, const struct bip_event *e)
{
	uint8_t devices[2] = { BIP_DEV_TERMINAL, BIP_DEV_UICC };
	uint8_t available = (uint8_t)e->available;
	size_t mark;

	if (e->event != BIP_EVENT_DATA_AVAILABLE && e->event != BIP_EVENT_CHANNEL_STATUS)
		return -1;
	if (e->event == BIP_EVENT_DATA_AVAILABLE && (e->available < 0 || e->available > 0xff))
		return -1;
	mark = bip_ber_begin(b, BIP_BER_EVENT);
	bip_put_tlv(b, BIP_CR | BIP_TAG_EVENT_LIST, &e->event, 1);
	bip_put_tlv(b, BIP_CR | BIP_TAG_DEVICE_IDENTITIES, devices, 2);
	bip_put_tlv(b, BIP_CR | BIP_TAG_CHANNEL_STATUS, e->status, 2);
	if (e->event == BIP_EVENT_DATA_AVAILABLE)
		bip_put_tlv(b, BIP_CR | BIP_TAG_CHANNEL_DATA_LEN, &available, 1);
	bip_ber_end(b, mark);
	return b->overflow ? -1 : 0;
}

enum { O_EVENTS, O_DEVICES, O_STATUS, O_DATA_LEN, NR_OBJECTS };
static const uint8_t event_objects[NR_OBJECTS] = {
	[O_EVENTS] = BIP_TAG_EVENT_LIST, [O_DEVICES] = BIP_TAG_DEVICE_IDENTITIES,
	[O_STATUS] = BIP_TAG_CHANNEL_STATUS, [O_DATA_LEN] = BIP_TAG_CHANNEL_DATA_LEN,
};

int bip_event_parse(const uint8_t *buf, size_t len, struct bip_event *e,
		    struct bip_error *err)
{
	const uint8_t *p = buf, *end = buf + len;
	struct bip_tlv ber, o[NR_OBJECTS];

	memset(e, 0, sizeof(*e));
	e->available = BIP_NONE;
	if (len < 1 || buf[0] != BIP_BER_EVENT)
		return bip_fail(err, BIP_RES_DATA_NOT_UNDERSTOOD, "not an event download");
	if (bip_tlv_next(&p, end, &ber) <= 0 || p != end)
		return bip_fail(err, BIP_RES_DATA_NOT_UNDERSTOOD,
				"event download length does not match its %zu octets", len);
	if (bip_read_objects(ber.value, end, event_objects, NR_OBJECTS, o, err) ||
	    bip_expect_len(&o[O_EVENTS], "event list", 1, 1, err) ||
	    bip_expect_len(&o[O_DEVICES], "device identities", 2, 2, err) ||
	    bip_expect_len(&o[O_STATUS], "channel status", 2, 2, err))
		return -1;
	e->event = o[O_EVENTS].value[0];
	memcpy(e->status, o[O_STATUS].value, 2);
	switch (e->event) {
	case BIP_EVENT_DATA_AVAILABLE:
		if (bip_expect_len(&o[O_DATA_LEN], "channel data length", 1, 1, err))
			return -1;
		e->available = o[O_DATA_LEN].value[0];
		return 0;
	case BIP_EVENT_CHANNEL_STATUS:
		return 0;
	default:
		return bip_fail(err, BIP_RES_DATA_NOT_UNDERSTOOD, "event %02x", e->event);
	}
}
