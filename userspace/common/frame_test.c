// SPDX-License-Identifier: GPL-2.0
/* Host unit tests of the frame codec; run under ASan and UBSan. */
#include <errno.h>
#include <string.h>

#include "frame.h"
#include "kselftest_harness.h"

/* A buffer with room for two frames at an odd offset. */
static uint8_t buf[1 + 2 * SCTLS_MAX_FRAME];

static void put_hdr(uint8_t *at, uint32_t len, uint16_t type, uint16_t flags,
		    uint32_t conn)
{
	struct sctls_hdr hdr = {
		.len = len, .type = type, .flags = flags, .conn = conn,
	};

	memcpy(at, &hdr, sizeof(hdr));
}

TEST(data_round_trip_unaligned)
{
	uint8_t *at = buf + 1;
	struct sctls_frame f;
	const char msg[] = "GET / HTTP/1.1\r\n";

	ASSERT_EQ(SCTLS_HDR_LEN + sizeof(msg),
		  sctls_frame_encode(at, sizeof(buf) - 1, SCTLS_DATA, 0, 7, 0,
				     msg, sizeof(msg)));
	ASSERT_EQ(SCTLS_HDR_LEN + sizeof(msg),
		  sctls_frame_decode(at, sizeof(buf) - 1, &f));
	EXPECT_EQ(SCTLS_DATA, f.hdr.type);
	EXPECT_EQ(7, f.hdr.conn);
	EXPECT_EQ(sizeof(msg), f.payload_len);
	EXPECT_EQ(0, memcmp(msg, f.payload, sizeof(msg)));
}

TEST(frames_back_to_back)
{
	struct sctls_open open = { .family = 2, .local_port = 4116 };
	struct sctls_frame f;
	ssize_t a, b;

	a = sctls_frame_encode(buf, sizeof(buf), SCTLS_OPEN, 0, 1, 0,
			       &open, sizeof(open));
	ASSERT_LT(0, a);
	b = sctls_frame_encode(buf + a, sizeof(buf) - a, SCTLS_CREDIT, 0, 1,
			       4096, NULL, 0);
	ASSERT_EQ(SCTLS_HDR_LEN, b);

	ASSERT_EQ(a, sctls_frame_decode(buf, a + b, &f));
	EXPECT_EQ(SCTLS_OPEN, f.hdr.type);
	EXPECT_EQ(0, memcmp(&open, f.payload, sizeof(open)));
	ASSERT_EQ(b, sctls_frame_decode(buf + a, b, &f));
	EXPECT_EQ(SCTLS_CREDIT, f.hdr.type);
	EXPECT_EQ(4096, f.hdr.arg);
}

TEST(largest_payload_fits)
{
	static uint8_t payload[SCTLS_MAX_PAYLOAD];
	struct sctls_frame f;

	memset(payload, 0xa5, sizeof(payload));
	ASSERT_EQ(SCTLS_MAX_FRAME,
		  sctls_frame_encode(buf, sizeof(buf), SCTLS_DATA, 0, 3, 0,
				     payload, sizeof(payload)));
	ASSERT_EQ(SCTLS_MAX_FRAME, sctls_frame_decode(buf, sizeof(buf), &f));
	EXPECT_EQ(SCTLS_MAX_PAYLOAD, f.payload_len);
	EXPECT_EQ(0, memcmp(payload, f.payload, sizeof(payload)));
}

TEST(encode_refuses_oversize_and_short_buffer)
{
	EXPECT_EQ(-EMSGSIZE, sctls_frame_encode(buf, sizeof(buf), SCTLS_DATA,
						0, 1, 0, buf,
						SCTLS_MAX_PAYLOAD + 1));
	EXPECT_EQ(-ENOSPC, sctls_frame_encode(buf, SCTLS_HDR_LEN + 3,
					      SCTLS_DATA, 0, 1, 0, "abcd", 4));
}

TEST(partial_frame_needs_more)
{
	struct sctls_frame f;

	ASSERT_EQ(SCTLS_HDR_LEN + 4, sctls_frame_encode(buf, sizeof(buf),
							SCTLS_DATA, 0, 1, 0,
							"abcd", 4));
	EXPECT_EQ(0, sctls_frame_decode(buf, 0, &f));
	EXPECT_EQ(0, sctls_frame_decode(buf, SCTLS_HDR_LEN - 1, &f));
	EXPECT_EQ(0, sctls_frame_decode(buf, SCTLS_HDR_LEN + 3, &f));
}

FIXTURE(malformed) {
};

FIXTURE_VARIANT(malformed) {
	uint32_t len;
	uint16_t type;
	uint16_t flags;
	uint32_t conn;
};

FIXTURE_VARIANT_ADD(malformed, len_below_header) {
	.len = SCTLS_HDR_LEN - 1, .type = SCTLS_FIN, .conn = 1,
};

FIXTURE_VARIANT_ADD(malformed, len_over_max) {
	.len = SCTLS_MAX_FRAME + 1, .type = SCTLS_DATA, .conn = 1,
};

FIXTURE_VARIANT_ADD(malformed, unknown_type) {
	.len = SCTLS_HDR_LEN, .type = 99, .conn = 1,
};

FIXTURE_VARIANT_ADD(malformed, type_zero) {
	.len = SCTLS_HDR_LEN, .type = 0, .conn = 1,
};

FIXTURE_VARIANT_ADD(malformed, conn_zero) {
	.len = SCTLS_HDR_LEN, .type = SCTLS_FIN, .conn = 0,
};

FIXTURE_VARIANT_ADD(malformed, unknown_flags) {
	.len = SCTLS_HDR_LEN, .type = SCTLS_FIN, .flags = 0x8000, .conn = 1,
};

FIXTURE_VARIANT_ADD(malformed, empty_data) {
	.len = SCTLS_HDR_LEN, .type = SCTLS_DATA, .conn = 1,
};

FIXTURE_VARIANT_ADD(malformed, open_short_payload) {
	.len = SCTLS_HDR_LEN + sizeof(struct sctls_open) - 1,
	.type = SCTLS_OPEN, .conn = 1,
};

FIXTURE_VARIANT_ADD(malformed, fin_with_payload) {
	.len = SCTLS_HDR_LEN + 1, .type = SCTLS_FIN, .conn = 1,
};

FIXTURE_SETUP(malformed)
{
}

FIXTURE_TEARDOWN(malformed)
{
}

TEST_F(malformed, is_rejected)
{
	struct sctls_frame f = { .payload_len = 12345 };

	memset(buf, 0, sizeof(buf));
	put_hdr(buf, variant->len, variant->type, variant->flags, variant->conn);
	/* Rejected even when the buffer holds every byte the header claims. */
	EXPECT_EQ(-EBADMSG, sctls_frame_decode(buf, sizeof(buf), &f));
	EXPECT_EQ(12345, f.payload_len);	/* f untouched */
}

TEST_HARNESS_MAIN
