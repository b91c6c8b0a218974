// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: the BIP parsers, on what a card or a terminal might send.
 * Whatever parses must build again, when it fits a short APDU, and parse
 * back to the same values: nothing is lost or invented in between.
 */
#include <stdlib.h>
#include <string.h>

#include "bip.h"

static void command_round_trip(const uint8_t *data, size_t size)
{
	struct bip_command cmd, again;
	struct bip_error err;
	uint8_t out[300];
	struct bip_buf b;

	if (bip_command_parse(data, size, &cmd, &err)) {
		if (!err.why[0] || err.result < BIP_RES_TYPE_NOT_UNDERSTOOD)
			abort();	/* every refusal says why, with a failure result */
		return;
	}
	bip_buf_init(&b, out, sizeof(out));
	/* Rebuilt, it is never longer: unknown objects and alpha ids go. */
	if (bip_command_build(&b, &cmd) || bip_command_parse(b.data, b.len, &again, &err))
		abort();
	if (cmd.number != again.number || cmd.type != again.type ||
	    cmd.qualifier != again.qualifier || cmd.source != again.source ||
	    cmd.destination != again.destination || cmd.buffer_size != again.buffer_size ||
	    cmd.protocol != again.protocol || cmd.port != again.port ||
	    cmd.nr_events != again.nr_events ||
	    memcmp(cmd.events, again.events, cmd.nr_events) || cmd.want != again.want ||
	    cmd.data_len != again.data_len ||
	    (cmd.data_len && memcmp(cmd.data, again.data, cmd.data_len)))
		abort();
}

static void response_round_trip(const uint8_t *data, size_t size)
{
	struct bip_response r, again;
	struct bip_error err;
	uint8_t out[300];
	struct bip_buf b;

	if (bip_response_parse(data, size, &r, &err))
		return;
	bip_buf_init(&b, out, sizeof(out));
	if (bip_response_build(&b, &r)) {
		if (size <= BIP_MAX_DATA)
			abort();	/* it fitted before */
		return;
	}
	if (bip_response_parse(b.data, b.len, &again, &err))
		abort();
	if (r.number != again.number || r.type != again.type || r.qualifier != again.qualifier ||
	    r.result != again.result || r.info != again.info ||
	    r.nr_status != again.nr_status ||
	    memcmp(r.status, again.status, sizeof(r.status[0]) * r.nr_status) ||
	    r.buffer_size != again.buffer_size || r.has_data != again.has_data ||
	    r.data_len != again.data_len || r.data_left != again.data_left ||
	    (r.data_len && memcmp(r.data, again.data, r.data_len)))
		abort();
}

static void event_round_trip(const uint8_t *data, size_t size)
{
	struct bip_event e, again;
	struct bip_error err;
	uint8_t out[64];
	struct bip_buf b;

	if (bip_event_parse(data, size, &e, &err))
		return;
	bip_buf_init(&b, out, sizeof(out));
	if (bip_event_build(&b, &e) || bip_event_parse(b.data, b.len, &again, &err) ||
	    e.event != again.event || memcmp(e.status, again.status, 2) ||
	    e.available != again.available)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	command_round_trip(data, size);
	response_round_trip(data, size);
	event_round_trip(data, size);
	bip_profile_channels(data, size);
	return 0;
}
