// SPDX-License-Identifier: GPL-2.0
/*
 * The AT line parser against lines as 3GPP TS 27.007 writes them and as
 * modems get them wrong; on the host under ASan and UBSan.
 */
#include <string.h>

#include "at.h"
#include "kselftest_harness.h"

struct seen {
	char lines[8][AT_LINE_MAX];
	unsigned int nr, stop_after;
};

static int keep(void *arg, const char *line)
{
	struct seen *s = arg;

	if (s->nr < 8)
		strcpy(s->lines[s->nr], line);
	s->nr++;
	return s->stop_after && s->nr == s->stop_after;
}

static size_t feed(struct at_reader *r, struct seen *s, const char *text)
{
	return at_reader_feed(r, (const uint8_t *)text, strlen(text), keep, s);
}

TEST(lines_split_on_cr_lf_and_skip_empty_ones)
{
	struct at_reader r = { 0 };
	struct seen s = { 0 };

	feed(&r, &s, "AT+CUSATT=\"00\"\r\r\nOK\r\n\r\n+CUSA");
	ASSERT_EQ(2, s.nr);
	EXPECT_STREQ("AT+CUSATT=\"00\"", s.lines[0]);	/* the echo */
	EXPECT_STREQ("OK", s.lines[1]);
	feed(&r, &s, "TEND\n");
	ASSERT_EQ(3, s.nr);
	EXPECT_STREQ("+CUSATEND", s.lines[2]);
}

TEST(the_reader_stops_where_it_is_told)
{
	struct at_reader r = { 0 };
	struct seen s = { .stop_after = 1 };
	const char *text = "OK\r\n+CUSATEND\r\n";

	EXPECT_EQ(3, feed(&r, &s, text));	/* up to the CR that ended "OK" */
	EXPECT_EQ(strlen(text) - 3, feed(&r, &s, text + 3));
	EXPECT_EQ(2, s.nr);
}

TEST(an_overlong_line_is_dropped_whole_and_counted)
{
	struct at_reader r = { 0 };
	struct seen s = { 0 };
	char big[3 * AT_LINE_MAX];

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	feed(&r, &s, big);
	feed(&r, &s, "\r\nOK\r\n");
	ASSERT_EQ(1, s.nr);
	EXPECT_STREQ("OK", s.lines[0]);
	EXPECT_EQ(1, r.dropped);
}

TEST(final_results_and_unsolicited_lines)
{
	EXPECT_EQ(AT_OK, at_classify("OK"));
	EXPECT_EQ(AT_ERROR, at_classify("ERROR"));
	EXPECT_EQ(AT_ERROR, at_classify("+CME ERROR: 3"));
	EXPECT_EQ(AT_ERROR, at_classify("+cme error: SIM busy"));
	EXPECT_EQ(AT_ERROR, at_classify("NO CARRIER"));
	EXPECT_EQ(AT_INFO, at_classify("ERRORS: 0"));	/* not a final result */
	EXPECT_EQ(AT_INFO, at_classify("OKAY"));
	EXPECT_EQ(AT_PROACTIVE, at_classify("+CUSATP: \"D003\""));
	EXPECT_EQ(AT_SESSION_END, at_classify("+CUSATEND"));
	EXPECT_EQ(AT_RESTARTED, at_classify("RDY"));
	EXPECT_EQ(AT_RESTARTED, at_classify("+CUSATS: 0"));
	EXPECT_EQ(AT_INFO, at_classify("+CUSATS: 4"));
	EXPECT_EQ(AT_INFO, at_classify("+CUSATE: \"\",0"));
}

TEST(proactive_commands_in_hex_quoted_or_not)
{
	uint8_t out[8];
	size_t len;

	ASSERT_EQ(0, at_parse_cusatp("+CUSATP: \"D003810301\"", out, sizeof(out), &len));
	ASSERT_EQ(5, len);
	EXPECT_EQ(0xd0, out[0]);
	EXPECT_EQ(0x01, out[4]);
	ASSERT_EQ(0, at_parse_cusatp("+CUSATP:d0038103", out, sizeof(out), &len));
	EXPECT_EQ(4, len);
	EXPECT_EQ(-1, at_parse_cusatp("+CUSATP: \"D00\"", out, sizeof(out), &len));	/* odd */
	EXPECT_EQ(-1, at_parse_cusatp("+CUSATP: \"D0ZZ\"", out, sizeof(out), &len));
	EXPECT_EQ(-1, at_parse_cusatp("+CUSATP: \"D003", out, sizeof(out), &len));	/* open quote */
	EXPECT_EQ(-1, at_parse_cusatp("+CUSATP: \"\"", out, sizeof(out), &len));	/* empty */
	EXPECT_EQ(-1, at_parse_cusatp("+CUSATP: \"D0\" x", out, sizeof(out), &len));
	EXPECT_EQ(-1, at_parse_cusatp("+CUSATP: \"000000000000000000\"", out, sizeof(out), &len));
}

TEST(envelope_results_busy_and_status_words)
{
	unsigned int busy = 9, sw = 0;
	uint8_t out[8];
	size_t len = 9;

	ASSERT_EQ(0, at_parse_cusate("+CUSATE: \"\",0", out, sizeof(out), &len, &busy));
	EXPECT_EQ(0, len);
	EXPECT_EQ(0, busy);
	ASSERT_EQ(0, at_parse_cusate("+CUSATE: \"\",1", out, sizeof(out), &len, &busy));
	EXPECT_EQ(1, busy);
	ASSERT_EQ(0, at_parse_cusate("+CUSATE: \"9000\"", out, sizeof(out), &len, &busy));
	EXPECT_EQ(0, busy);
	EXPECT_EQ(2, len);
	EXPECT_EQ(-1, at_parse_cusate("+CUSATE: \"\",3", out, sizeof(out), &len, &busy));
	EXPECT_EQ(-1, at_parse_cusate("+CUSATE: \"\",", out, sizeof(out), &len, &busy));
	ASSERT_EQ(0, at_parse_cusate2("+CUSATE2: 147,0", &sw));
	EXPECT_EQ(0x9300, sw);
	EXPECT_EQ(-1, at_parse_cusate2("+CUSATE2: 256,0", &sw));
	EXPECT_EQ(-1, at_parse_cusate2("+CUSATE2: 144", &sw));
	EXPECT_EQ(-1, at_parse_cusate2("+CUSATE2: 99999999999999999999,0", &sw));
}

TEST(hex_encodes_upper_case)
{
	char hex[7];

	at_hex_encode(hex, (const uint8_t[]){ 0xd0, 0x0a, 0x7f }, 3);
	EXPECT_STREQ("D00A7F", hex);
}

TEST_HARNESS_MAIN
