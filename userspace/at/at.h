/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host (TE) side of a modem's AT port, as 3GPP TS 27.007 gives it:
 * splitting what the modem writes into lines, telling final result codes
 * and unsolicited lines from the rest, and the hex strings of the USAT
 * commands (+CUSATP, +CUSATT, +CUSATE). Pure functions on bytes, so that a
 * fuzzer can drive them: a modem's odd output may be refused, never
 * trusted. ../shared/reference/phone.md has the facts.
 */
#ifndef SCTLS_AT_H
#define SCTLS_AT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A line: a proactive command (255 octets) in quoted hex fits with room. */
#define AT_LINE_MAX		1024

struct at_reader {
	char line[AT_LINE_MAX];
	size_t len;
	bool overlong;		/* the line being read did not fit: it is dropped */
	unsigned long dropped;	/* over-long lines dropped, for the log */
};

/*
 * Feed what the port gave; each complete, non-empty line goes to fn as a
 * NUL-terminated string without its CR/LF; NUL octets are dropped.
 * fn returns nonzero to stop early. Returns the bytes consumed: len, or
 * fewer when fn stopped, the rest to be fed again.
 */
size_t at_reader_feed(struct at_reader *r, const uint8_t *data, size_t len,
		      int (*fn)(void *arg, const char *line), void *arg);

enum at_kind {
	AT_INFO,		/* an information line: a response's own */
	AT_OK,			/* final: OK */
	AT_ERROR,		/* final: ERROR, +CME ERROR, +CMS ERROR, NO CARRIER ... */
	AT_PROACTIVE,		/* unsolicited +CUSATP: a proactive command */
	AT_SESSION_END,		/* unsolicited +CUSATEND */
	AT_RESTARTED,		/* unsolicited: the modem started afresh (RDY, +CUSATS: 0|1) */
};

enum at_kind at_classify(const char *line);

/* Whether line starts with prefix (such as "+CUSATE:"), case-insensitive. */
bool at_has_prefix(const char *line, const char *prefix);

/*
 * A hex string argument, quoted or not, at *p: decoded into out (at most
 * cap octets), *p moved past it and its trailing spaces. -1 if it is not
 * hex, has an odd number of digits, is unterminated or does not fit.
 */
int at_hex_arg(const char **p, uint8_t *out, size_t cap, size_t *len);

/* A decimal integer argument 0..max at *p, and the comma after it if any. */
int at_int_arg(const char **p, unsigned long max, unsigned long *out);

/* +CUSATP: <proactive_command>: the command's octets. */
int at_parse_cusatp(const char *line, uint8_t *out, size_t cap, size_t *len);

/* +CUSATE: <envelope_response>[,<busy>]: busy is 0 if absent. */
int at_parse_cusate(const char *line, uint8_t *out, size_t cap, size_t *len,
		    unsigned int *busy);

/* +CUSATE2: <sw1>,<sw2>: the status word. */
int at_parse_cusate2(const char *line, unsigned int *sw);

/* octets as upper-case hex, NUL-terminated, into out (2 * len + 1). */
void at_hex_encode(char *out, const uint8_t *data, size_t len);

#endif
