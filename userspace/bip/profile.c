// SPDX-License-Identifier: GPL-2.0
/*
 * The TERMINAL PROFILE of a terminal in UICC server mode. Byte N, bit M as
 * TS 102 223 numbers them (bit 1 the lowest) is out[N - 1] & 1 << (M - 1).
 */
#include <string.h>

#include "bip.h"

#define PROFILE_LEN		17

#define B1_PROFILE_DOWNLOAD	0x01
#define B5_SET_UP_EVENT_LIST	0x01
#define B6_EVENTS		0x0c	/* data available, channel status */
#define B12_BIP_COMMANDS	0x1f	/* open, close, receive, send, status */
#define B13_CHANNELS_SHIFT	5	/* bits 6 to 8: how many channels */
#define B17_TCP_SERVER		0x04	/* TCP, UICC in server mode */

size_t bip_profile_build(uint8_t *out, size_t cap, unsigned int channels)
{
	if (cap < PROFILE_LEN || !channels || channels > BIP_MAX_CHANNELS)
		return 0;
	memset(out, 0, PROFILE_LEN);
	out[0] = B1_PROFILE_DOWNLOAD;
	out[4] = B5_SET_UP_EVENT_LIST;
	out[5] = B6_EVENTS;
	out[11] = B12_BIP_COMMANDS;
	out[12] = channels << B13_CHANNELS_SHIFT;
	out[16] = B17_TCP_SERVER;
	return PROFILE_LEN;
}

unsigned int bip_profile_channels(const uint8_t *tp, size_t len)
{
	if (len < PROFILE_LEN || !(tp[4] & B5_SET_UP_EVENT_LIST) ||
	    (tp[5] & B6_EVENTS) != B6_EVENTS || (tp[11] & B12_BIP_COMMANDS) != B12_BIP_COMMANDS ||
	    !(tp[16] & B17_TCP_SERVER))
		return 0;
	return tp[12] >> B13_CHANNELS_SHIFT;
}
