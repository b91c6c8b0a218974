// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: what a modem's AT port might say. Split into lines whole or
 * byte by byte, the lines are the same; each is shorter than AT_LINE_MAX
 * and holds no CR or LF; whatever parses as hex encodes back to the same
 * digits.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "at.h"

struct lines {
	unsigned long count;
	unsigned long hash;
};

static void check_hex(const char *line)
{
	uint8_t out[AT_LINE_MAX / 2], again[AT_LINE_MAX / 2];
	char hex[AT_LINE_MAX + 1];
	unsigned int busy, sw;
	size_t len, n;
	const char *p;

	if (!at_parse_cusatp(line, out, sizeof(out), &len) ||
	    !at_parse_cusate(line, out, sizeof(out), &len, &busy)) {
		if (len > sizeof(out))
			abort();
		at_hex_encode(hex, out, len);
		p = hex;
		if (at_hex_arg(&p, again, sizeof(again), &n) || n != len || memcmp(out, again, n))
			abort();
		if (!strcasestr(line, hex))
			abort();	/* the digits came from the line */
	}
	if (!at_parse_cusate2(line, &sw) && sw > 0xffff)
		abort();
}

static int on_line(void *arg, const char *line)
{
	struct lines *l = arg;
	size_t len = strlen(line);

	if (!len || len >= AT_LINE_MAX || strpbrk(line, "\r\n"))
		abort();
	l->count++;
	while (*line)
		l->hash = l->hash * 31 + (unsigned char)*line++;
	at_classify(line - len);
	check_hex(line - len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct at_reader whole = { 0 }, bytes = { 0 };
	struct lines a = { 0 }, b = { 0 };
	size_t i;

	if (at_reader_feed(&whole, data, size, on_line, &a) != size)
		abort();
	for (i = 0; i < size; i++)
		at_reader_feed(&bytes, data + i, 1, on_line, &b);
	if (a.count != b.count || a.hash != b.hash || whole.dropped != bytes.dropped)
		abort();
	return 0;
}
