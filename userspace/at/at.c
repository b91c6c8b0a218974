// SPDX-License-Identifier: GPL-2.0
/*
 * AT lines from a modem, taken apart without trusting them.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "at.h"

size_t at_reader_feed(struct at_reader *r, const uint8_t *data, size_t len,
		      int (*fn)(void *arg, const char *line), void *arg)
{
	size_t i;

	for (i = 0; i < len; i++) {
		uint8_t c = data[i];

		if (!c)
			continue;	/* line noise: it would end the string */
		if (c != '\r' && c != '\n') {
			if (r->len < sizeof(r->line) - 1)
				r->line[r->len++] = c;
			else
				r->overlong = true;
			continue;
		}
		if (r->overlong) {
			r->dropped++;
		} else if (r->len) {
			r->line[r->len] = '\0';
			r->len = 0;
			if (fn(arg, r->line))
				return i + 1;
		}
		r->len = 0;
		r->overlong = false;
	}
	return len;
}

bool at_has_prefix(const char *line, const char *prefix)
{
	return !strncasecmp(line, prefix, strlen(prefix));
}

enum at_kind at_classify(const char *line)
{
	static const char *const errors[] = {
		"ERROR", "+CME ERROR:", "+CMS ERROR:", "NO CARRIER", "NO DIALTONE", "BUSY",
		"NO ANSWER",
	};
	size_t i;

	if (!strcasecmp(line, "OK"))
		return AT_OK;
	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (at_has_prefix(line, errors[i]) &&
		    (errors[i][strlen(errors[i]) - 1] == ':' || !line[strlen(errors[i])]))
			return AT_ERROR;
	if (at_has_prefix(line, "+CUSATP:"))
		return AT_PROACTIVE;
	if (!strcasecmp(line, "+CUSATEND"))
		return AT_SESSION_END;
	/* Quectel's and SIMCom's start-up line; 27.007's UICC state "unknown"/"start-up". */
	if (!strcasecmp(line, "RDY") || !strcasecmp(line, "+CUSATS: 0") ||
	    !strcasecmp(line, "+CUSATS: 1"))
		return AT_RESTARTED;
	return AT_INFO;
}

static void skip_spaces(const char **p)
{
	while (**p == ' ')
		(*p)++;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int at_hex_arg(const char **p, uint8_t *out, size_t cap, size_t *len)
{
	const char *s = *p;
	bool quoted;
	size_t n = 0;

	skip_spaces(&s);
	quoted = *s == '"';
	if (quoted)
		s++;
	for (;;) {
		int hi = hex_digit(s[0]), lo;

		if (hi < 0)
			break;
		lo = hex_digit(s[1]);
		if (lo < 0 || n == cap)
			return -1;	/* odd, or too long */
		out[n++] = hi << 4 | lo;
		s += 2;
	}
	if (quoted && *s++ != '"')
		return -1;
	skip_spaces(&s);
	if (*s && *s != ',')
		return -1;
	*len = n;
	*p = s;
	return 0;
}

int at_int_arg(const char **p, unsigned long max, unsigned long *out)
{
	const char *s = *p;
	unsigned long v = 0;

	skip_spaces(&s);
	if (!isdigit((unsigned char)*s))
		return -1;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (*s++ - '0');
		if (v > max)
			return -1;
	}
	skip_spaces(&s);
	if (*s && *s != ',')
		return -1;
	*out = v;
	*p = s;
	return 0;
}

/* Past "prefix" and the spaces after it. */
static const char *args(const char *line, const char *prefix)
{
	return at_has_prefix(line, prefix) ? line + strlen(prefix) : NULL;
}

static bool at_end(const char *p)
{
	return !*p;
}

int at_parse_cusatp(const char *line, uint8_t *out, size_t cap, size_t *len)
{
	const char *p = args(line, "+CUSATP:");

	return p && !at_hex_arg(&p, out, cap, len) && at_end(p) && *len ? 0 : -1;
}

int at_parse_cusate(const char *line, uint8_t *out, size_t cap, size_t *len,
		    unsigned int *busy)
{
	const char *p = args(line, "+CUSATE:");
	unsigned long b = 0;

	if (!p || at_hex_arg(&p, out, cap, len))
		return -1;
	if (*p == ',') {
		p++;
		if (at_int_arg(&p, 2, &b))
			return -1;
	}
	if (!at_end(p))
		return -1;
	*busy = b;
	return 0;
}

int at_parse_cusate2(const char *line, unsigned int *sw)
{
	const char *p = args(line, "+CUSATE2:");
	unsigned long sw1, sw2;

	if (!p || at_int_arg(&p, 255, &sw1) || *p++ != ',' || at_int_arg(&p, 255, &sw2) ||
	    !at_end(p))
		return -1;
	*sw = sw1 << 8 | sw2;
	return 0;
}

void at_hex_encode(char *out, const uint8_t *data, size_t len)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * len] = '\0';
}
