// SPDX-License-Identifier: GPL-2.0
/*
 * The BIP library against byte strings checked by hand against TS 102 223
 * (and ../shared/reference/bip.md), builders against parsers, and every
 * way a card's command can be wrong; on the host under ASan and UBSan.
 */
#include <string.h>

#include "bip.h"
#include "kselftest_harness.h"

#define BYTES(...)	((const uint8_t[]){ __VA_ARGS__ })
#define LEN(...)	sizeof((const uint8_t[]){ __VA_ARGS__ })
/* Parse the listed octets as a command: 0 or -1, with cmd and err set. */
#define PARSE_COMMAND(cmd, err, ...) \
	bip_command_parse(BYTES(__VA_ARGS__), LEN(__VA_ARGS__), cmd, err)

static void expect_bytes(struct __test_metadata *_metadata, const uint8_t *got, size_t got_len,
			 const uint8_t *want, size_t want_len)
{
	size_t i;

	ASSERT_EQ(want_len, got_len);
	for (i = 0; i < want_len; i++)
		ASSERT_EQ(want[i], got[i]) TH_LOG("octet %zu", i);
}

#define EXPECT_OCTETS(data, len, ...) \
	expect_bytes(_metadata, data, len, BYTES(__VA_ARGS__), LEN(__VA_ARGS__))
#define EXPECT_BYTES(buf, ...) EXPECT_OCTETS((buf)->data, (buf)->len, __VA_ARGS__)

/* The reference's OPEN CHANNEL for port 3516 and a 1000-octet buffer. */
TEST(open_channel_server_mode)
{
	struct bip_command cmd, again;
	struct bip_error err;
	struct bip_buf b;
	uint8_t out[64];

	ASSERT_EQ(0, PARSE_COMMAND(&cmd, &err, 0xd0, 0x12, 0x81, 0x03, 0x01, 0x40, 0x00,
				   0x82, 0x02, 0x81, 0x82, 0x39, 0x02, 0x03, 0xe8,
				   0x3c, 0x03, 0x03, 0x0d, 0xbc)) TH_LOG("%s", err.why);
	EXPECT_EQ(1, cmd.number);
	EXPECT_EQ(BIP_OPEN_CHANNEL, cmd.type);
	EXPECT_EQ(0, cmd.qualifier);
	EXPECT_EQ(BIP_DEV_UICC, cmd.source);
	EXPECT_EQ(BIP_DEV_TERMINAL, cmd.destination);
	EXPECT_EQ(1000, cmd.buffer_size);
	EXPECT_EQ(BIP_TRANSPORT_TCP_SERVER, cmd.protocol);
	EXPECT_EQ(3516, cmd.port);

	/* Built again, every object marked comprehension required. */
	bip_buf_init(&b, out, sizeof(out));
	ASSERT_EQ(0, bip_command_build(&b, &cmd));
	EXPECT_BYTES(&b, 0xd0, 0x12, 0x81, 0x03, 0x01, 0x40, 0x00, 0x82, 0x02, 0x81, 0x82,
		     0xb9, 0x02, 0x03, 0xe8, 0xbc, 0x03, 0x03, 0x0d, 0xbc);
	ASSERT_EQ(0, bip_command_parse(b.data, b.len, &again, &err));
	EXPECT_EQ(0, memcmp(&cmd, &again, sizeof(cmd)));
}

TEST(terminal_responses)
{
	struct bip_command open = {
		.number = 1, .type = BIP_OPEN_CHANNEL, .source = BIP_DEV_UICC,
		.destination = BIP_DEV_TERMINAL, .buffer_size = 1500,
		.protocol = BIP_TRANSPORT_TCP_SERVER, .port = 4116,
	};
	struct bip_response r, parsed;
	struct bip_error err;
	struct bip_buf b;
	uint8_t out[256];

	/* Listening on channel 1, with a smaller buffer than asked: 07. */
	bip_response_init(&r, &open, BIP_RES_MODIFIED);
	r.status[r.nr_status][0] = BIP_CH_LISTEN | 1;
	r.status[r.nr_status++][1] = BIP_CH_NO_INFO;
	r.buffer_size = 1024;
	bip_buf_init(&b, out, sizeof(out));
	ASSERT_EQ(0, bip_response_build(&b, &r));
	EXPECT_BYTES(&b, 0x81, 0x03, 0x01, 0x40, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01, 0x07,
		     0xb8, 0x02, 0x41, 0x00, 0xb9, 0x02, 0x04, 0x00);
	ASSERT_EQ(0, bip_response_parse(b.data, b.len, &parsed, &err)) TH_LOG("%s", err.why);
	EXPECT_EQ(0, memcmp(&r, &parsed, sizeof(r)));

	/* A port the gateway does not serve: BIP error, port not available. */
	bip_response_init(&r, &open, BIP_RES_BIP_ERROR);
	r.info = BIP_ERR_PORT;
	bip_buf_init(&b, out, sizeof(out));
	ASSERT_EQ(0, bip_response_build(&b, &r));
	EXPECT_BYTES(&b, 0x81, 0x03, 0x01, 0x40, 0x00, 0x82, 0x02, 0x82, 0x81,
		     0x83, 0x02, 0x3a, 0x10);
	ASSERT_EQ(0, bip_response_parse(b.data, b.len, &parsed, &err));
	EXPECT_EQ(BIP_ERR_PORT, parsed.info);
}

/* RECEIVE DATA for 236 octets, answered with 200: a two-octet length. */
TEST(receive_data_and_long_lengths)
{
	struct bip_response r, parsed;
	struct bip_command cmd;
	struct bip_error err;
	uint8_t out[256], data[200];
	struct bip_buf b;

	ASSERT_EQ(0, PARSE_COMMAND(&cmd, &err, 0xd0, 0x0c, 0x81, 0x03, 0x02, 0x42, 0x00,
				   0x82, 0x02, 0x81, 0x21, 0xb7, 0x01, 0xec));
	EXPECT_EQ(BIP_RECEIVE_DATA, cmd.type);
	EXPECT_EQ(1, bip_command_channel(&cmd));
	EXPECT_EQ(BIP_MAX_RECEIVE, cmd.want);

	memset(data, 'x', sizeof(data));
	bip_response_init(&r, &cmd, BIP_RES_OK);
	r.has_data = true;
	r.data = data;
	r.data_len = sizeof(data);
	r.data_left = 0;
	bip_buf_init(&b, out, sizeof(out));
	ASSERT_EQ(0, bip_response_build(&b, &r));
	ASSERT_EQ(218, b.len);
	EXPECT_OCTETS(b.data, 15, 0x81, 0x03, 0x02, 0x42, 0x00,
		     0x82, 0x02, 0x82, 0x81, 0x83, 0x01, 0x00, 0xb6, 0x81, 0xc8);
	EXPECT_OCTETS(b.data + 215, 3, 0xb7, 0x01, 0x00);
	ASSERT_EQ(0, bip_response_parse(b.data, b.len, &parsed, &err));
	EXPECT_EQ(200, parsed.data_len);
	EXPECT_EQ(0, memcmp(parsed.data, data, sizeof(data)));

	/* SEND DATA of 200 octets: the BER-TLV needs 81 D4. */
	cmd = (struct bip_command){ .number = 3, .type = BIP_SEND_DATA,
				    .qualifier = BIP_SEND_NOW, .source = BIP_DEV_UICC,
				    .destination = BIP_DEV_CHANNEL(2), .data = data,
				    .data_len = sizeof(data) };
	bip_buf_init(&b, out, sizeof(out));
	ASSERT_EQ(0, bip_command_build(&b, &cmd));
	EXPECT_OCTETS(b.data, 6, 0xd0, 0x81, 0xd4, 0x81, 0x03, 0x03);
	ASSERT_EQ(215, b.len);
	ASSERT_EQ(0, bip_command_parse(b.data, b.len, &cmd, &err)) TH_LOG("%s", err.why);
	EXPECT_EQ(2, bip_command_channel(&cmd));
	EXPECT_EQ(200, cmd.data_len);
	EXPECT_EQ(0, memcmp(cmd.data, data, sizeof(data)));

	/* Too big for a short APDU: refused, not truncated. */
	cmd.data_len = 250;
	bip_buf_init(&b, out, sizeof(out));
	EXPECT_EQ(-1, bip_command_build(&b, &cmd));
}

TEST(send_close_status_and_event_list)
{
	/* Named: the parsed data points into it. */
	static const uint8_t send[] = { 0xd0, 0x0f, 0x81, 0x03, 0x03, 0x43, 0x01,
					0x82, 0x02, 0x81, 0x21, 0xb6, 0x04, 'G', 'E', 'T', ' ' };
	struct bip_command cmd;
	struct bip_error err;

	ASSERT_EQ(0, bip_command_parse(send, sizeof(send), &cmd, &err));
	EXPECT_EQ(BIP_SEND_NOW, cmd.qualifier);
	ASSERT_EQ(4, cmd.data_len);
	EXPECT_EQ(0, memcmp(cmd.data, "GET ", 4));

	ASSERT_EQ(0, PARSE_COMMAND(&cmd, &err, 0xd0, 0x09, 0x81, 0x03, 0x04, 0x41, 0x01,
				   0x82, 0x02, 0x81, 0x22));
	EXPECT_EQ(BIP_CLOSE_CHANNEL, cmd.type);
	EXPECT_EQ(BIP_CLOSE_TO_LISTEN, cmd.qualifier);
	EXPECT_EQ(2, bip_command_channel(&cmd));

	/* Not a channel: 0, for the caller to answer "channel id not valid". */
	ASSERT_EQ(0, PARSE_COMMAND(&cmd, &err, 0xd0, 0x09, 0x81, 0x03, 0x04, 0x41, 0x01,
				   0x82, 0x02, 0x81, 0x28));
	EXPECT_EQ(0, bip_command_channel(&cmd));

	ASSERT_EQ(0, PARSE_COMMAND(&cmd, &err, 0xd0, 0x0d, 0x81, 0x03, 0x05, 0x05, 0x00,
				   0x82, 0x02, 0x81, 0x82, 0x99, 0x02, 0x09, 0x0a));
	ASSERT_EQ(2, cmd.nr_events);
	EXPECT_EQ(BIP_EVENT_DATA_AVAILABLE, cmd.events[0]);
	EXPECT_EQ(BIP_EVENT_CHANNEL_STATUS, cmd.events[1]);

	/* An alpha identifier, an unknown object without CR, a 3-octet tag. */
	ASSERT_EQ(0, PARSE_COMMAND(&cmd, &err, 0xd0, 0x14, 0x81, 0x03, 0x06, 0x44, 0x00,
				   0x82, 0x02, 0x81, 0x82, 0x05, 0x01, 'a', 0x45, 0x01, 0x00,
				   0x7f, 0x00, 0x01, 0x01, 0xaa)) TH_LOG("%s", err.why);
	EXPECT_EQ(BIP_GET_CHANNEL_STATUS, cmd.type);
}

TEST(events)
{
	struct bip_event e = { .event = BIP_EVENT_CHANNEL_STATUS,
			       .status = { BIP_CH_ESTABLISHED | 1, BIP_CH_NO_INFO } };
	struct bip_event parsed;
	struct bip_error err;
	struct bip_buf b;
	uint8_t out[64];

	bip_buf_init(&b, out, sizeof(out));
	ASSERT_EQ(0, bip_event_build(&b, &e));
	EXPECT_BYTES(&b, 0xd6, 0x0b, 0x99, 0x01, 0x0a, 0x82, 0x02, 0x82, 0x81,
		     0xb8, 0x02, 0x81, 0x00);
	ASSERT_EQ(0, bip_event_parse(b.data, b.len, &parsed, &err));
	EXPECT_EQ(BIP_EVENT_CHANNEL_STATUS, parsed.event);
	EXPECT_EQ(0x81, parsed.status[0]);

	e.event = BIP_EVENT_DATA_AVAILABLE;
	e.available = 0x20;
	bip_buf_init(&b, out, sizeof(out));
	ASSERT_EQ(0, bip_event_build(&b, &e));
	EXPECT_BYTES(&b, 0xd6, 0x0e, 0x99, 0x01, 0x09, 0x82, 0x02, 0x82, 0x81,
		     0xb8, 0x02, 0x81, 0x00, 0xb7, 0x01, 0x20);
	ASSERT_EQ(0, bip_event_parse(b.data, b.len, &parsed, &err));
	EXPECT_EQ(0x20, parsed.available);

	/* Data available without its length. */
	EXPECT_EQ(-1, bip_event_parse(BYTES(0xd6, 0x0b, 0x99, 0x01, 0x09, 0x82, 0x02, 0x82,
					    0x81, 0xb8, 0x02, 0x81, 0x00), 13, &parsed, &err));
	EXPECT_EQ(BIP_RES_VALUES_MISSING, err.result);
}

/* Each way a card's command can be wrong, and the result to answer. */
TEST(malformed_commands)
{
	struct bip_command cmd;
	struct bip_error err;

	/* The BER-TLV's length runs one past the end; one short of it. */
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd0, 0x0a, 0x81, 0x03, 0x01, 0x44, 0x00,
				    0x82, 0x02, 0x81, 0x82));
	EXPECT_EQ(BIP_RES_DATA_NOT_UNDERSTOOD, err.result);
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd0, 0x09, 0x81, 0x03, 0x01, 0x44, 0x00,
				    0x82, 0x02, 0x81, 0x82, 0x00));
	EXPECT_EQ(BIP_RES_DATA_NOT_UNDERSTOOD, err.result);
	/* An object's length overruns its command. */
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd0, 0x09, 0x81, 0x03, 0x01, 0x44, 0x00,
				    0x82, 0x03, 0x81, 0x82));
	EXPECT_EQ(BIP_RES_DATA_NOT_UNDERSTOOD, err.result);
	/* Lengths of three octets are not for short APDUs; 00 is no tag. */
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd0, 0x0b, 0x81, 0x03, 0x01, 0x44, 0x00,
				    0x82, 0x82, 0x00, 0x02, 0x81, 0x82));
	EXPECT_EQ(BIP_RES_DATA_NOT_UNDERSTOOD, err.result);
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd0, 0x0b, 0x81, 0x03, 0x01, 0x44, 0x00,
				    0x82, 0x02, 0x81, 0x82, 0x00, 0x00));
	EXPECT_EQ(BIP_RES_DATA_NOT_UNDERSTOOD, err.result);
	/* Not a proactive command at all. */
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd6, 0x00));
	EXPECT_EQ(BIP_RES_DATA_NOT_UNDERSTOOD, err.result);
	EXPECT_EQ(-1, bip_command_parse(NULL, 0, &cmd, &err));

	/* No command details; none of the device identities. */
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd0, 0x04, 0x82, 0x02, 0x81, 0x82));
	EXPECT_EQ(BIP_RES_VALUES_MISSING, err.result);
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd0, 0x05, 0x81, 0x03, 0x07, 0x44, 0x00));
	EXPECT_EQ(BIP_RES_VALUES_MISSING, err.result);
	EXPECT_EQ(7, cmd.number);	/* echoed by the response */

	/* DISPLAY TEXT: not a type this terminal knows, whatever it carries. */
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd0, 0x0d, 0x81, 0x03, 0x09, 0x21, 0x80,
				    0x82, 0x02, 0x81, 0x02, 0x8d, 0x02, 0x04, 'h'));
	EXPECT_EQ(BIP_RES_TYPE_NOT_UNDERSTOOD, err.result);
	EXPECT_EQ(9, cmd.number);
	EXPECT_EQ(0x21, cmd.type);

	/* Unknown objects marked comprehension required: one- and three-octet tags. */
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd0, 0x0c, 0x81, 0x03, 0x01, 0x44, 0x00,
				    0x82, 0x02, 0x81, 0x82, 0xc5, 0x01, 0x00));
	EXPECT_EQ(BIP_RES_DATA_NOT_UNDERSTOOD, err.result);
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd0, 0x0e, 0x81, 0x03, 0x01, 0x44, 0x00,
				    0x82, 0x02, 0x81, 0x82, 0x7f, 0x80, 0x01, 0x01, 0x00));
	EXPECT_EQ(BIP_RES_DATA_NOT_UNDERSTOOD, err.result);

	/* OPEN CHANNEL: a one-octet buffer size; no transport level. */
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd0, 0x11, 0x81, 0x03, 0x01, 0x40, 0x00,
				    0x82, 0x02, 0x81, 0x82, 0x39, 0x01, 0x03,
				    0x3c, 0x03, 0x03, 0x0d, 0xbc));
	EXPECT_EQ(BIP_RES_DATA_NOT_UNDERSTOOD, err.result);
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd0, 0x0d, 0x81, 0x03, 0x01, 0x40, 0x00,
				    0x82, 0x02, 0x81, 0x82, 0x39, 0x02, 0x03, 0xe8));
	EXPECT_EQ(BIP_RES_VALUES_MISSING, err.result);
	/* RECEIVE DATA without a length; SEND DATA without data; twice the details. */
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd0, 0x09, 0x81, 0x03, 0x02, 0x42, 0x00,
				    0x82, 0x02, 0x81, 0x21));
	EXPECT_EQ(BIP_RES_VALUES_MISSING, err.result);
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd0, 0x09, 0x81, 0x03, 0x03, 0x43, 0x01,
				    0x82, 0x02, 0x81, 0x21));
	EXPECT_EQ(BIP_RES_VALUES_MISSING, err.result);
	EXPECT_EQ(-1, PARSE_COMMAND(&cmd, &err, 0xd0, 0x0e, 0x81, 0x03, 0x01, 0x44, 0x00,
				    0x82, 0x02, 0x81, 0x82, 0x81, 0x03, 0x01, 0x44, 0x00));
	EXPECT_EQ(BIP_RES_DATA_NOT_UNDERSTOOD, err.result);
}

TEST(malformed_responses)
{
	struct bip_response r;
	struct bip_error err;

	/* No result. */
	EXPECT_EQ(-1, bip_response_parse(BYTES(0x81, 0x03, 0x01, 0x40, 0x00,
					       0x82, 0x02, 0x82, 0x81), 9, &r, &err));
	EXPECT_EQ(BIP_RES_VALUES_MISSING, err.result);
	/* Channel data whose length runs past the end. */
	EXPECT_EQ(-1, bip_response_parse(BYTES(0x81, 0x03, 0x01, 0x42, 0x00, 0x82, 0x02,
					       0x82, 0x81, 0x83, 0x01, 0x00, 0xb6, 0x81, 0xc8,
					       0x00), 16, &r, &err));
	EXPECT_EQ(BIP_RES_DATA_NOT_UNDERSTOOD, err.result);
	/* Eight channel status objects: there are seven channels. */
	EXPECT_EQ(-1, bip_response_parse(BYTES(0x81, 0x03, 0x01, 0x44, 0x00, 0x82, 0x02,
					       0x82, 0x81, 0x83, 0x01, 0x00,
					       0xb8, 0x02, 0x41, 0x00, 0xb8, 0x02, 0x42, 0x00,
					       0xb8, 0x02, 0x43, 0x00, 0xb8, 0x02, 0x44, 0x00,
					       0xb8, 0x02, 0x45, 0x00, 0xb8, 0x02, 0x46, 0x00,
					       0xb8, 0x02, 0x47, 0x00, 0xb8, 0x02, 0x41, 0x00),
					 44, &r, &err));
	EXPECT_EQ(BIP_RES_DATA_NOT_UNDERSTOOD, err.result);
}

TEST(terminal_profile)
{
	uint8_t tp[32];
	size_t len = bip_profile_build(tp, sizeof(tp), 2);
	struct bip_buf b = { .data = tp, .len = len };

	/* Bytes 1, 5, 6, 12, 13 (two channels) and 17. */
	EXPECT_BYTES(&b, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
		     0x1f, 0x40, 0x00, 0x00, 0x00, 0x04);
	EXPECT_EQ(2, bip_profile_channels(tp, len));
	tp[16] = 0;	/* no TCP server mode */
	EXPECT_EQ(0, bip_profile_channels(tp, len));
	EXPECT_EQ(0, bip_profile_channels(tp, 16));
	EXPECT_EQ(0, bip_profile_build(tp, sizeof(tp), 0));
	EXPECT_EQ(0, bip_profile_build(tp, sizeof(tp), 8));
	EXPECT_EQ(0, bip_profile_build(tp, 16, 2));
}

TEST(apdus)
{
	uint8_t out[300];
	struct bip_buf b = { .data = out };

	b.len = bip_apdu(out, sizeof(out), BIP_INS_FETCH, NULL, 0, 0x12);
	EXPECT_BYTES(&b, 0x80, 0x12, 0x00, 0x00, 0x12);
	b.len = bip_apdu(out, sizeof(out), BIP_INS_TERMINAL_RESPONSE, BYTES(0x81, 0x03), 2, -1);
	EXPECT_BYTES(&b, 0x80, 0x14, 0x00, 0x00, 0x02, 0x81, 0x03);
	EXPECT_EQ(0, bip_apdu(out, sizeof(out), BIP_INS_ENVELOPE, out, 256, -1));
	EXPECT_EQ(0, bip_apdu(out, 6, BIP_INS_ENVELOPE, BYTES(1, 2), 2, -1));
	EXPECT_TRUE(bip_sw_pending(0x9112));
	EXPECT_FALSE(bip_sw_pending(0x9000));
}

TEST_HARNESS_MAIN
