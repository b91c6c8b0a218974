// SPDX-License-Identifier: MIT
/*
 * Requests as a flat JSON object of strings (RFC 8259). Written here rather
 * than with a JSON library: those keep the last of two equal keys, and a
 * repeated field must be an error, not a quiet choice.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

struct json_in {
	char *p, *end;		/* in the request's arena */
};

static void skip_ws(struct json_in *in)
{
	while (in->p < in->end && strchr(" \t\r\n", *in->p) && *in->p)
		in->p++;
}

static int hex4(const char *s, unsigned int *out)
{
	unsigned int v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *out, unsigned int cp)
{
	if (cp < 0x80) {
		out[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xc0 | cp >> 6;
		out[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = 0xe0 | cp >> 12;
		out[1] = 0x80 | ((cp >> 6) & 0x3f);
		out[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | cp >> 18;
	out[1] = 0x80 | ((cp >> 12) & 0x3f);
	out[2] = 0x80 | ((cp >> 6) & 0x3f);
	out[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/*
 * A string, decoded in place (never longer than its text) and NUL-terminated
 * there: *out is where it starts; its length, or -1 if malformed or longer
 * than MC3_MAX_VALUE.
 */
static long json_string(struct json_in *in, char **out)
{
	char *o;
	size_t n = 0;

	if (in->p >= in->end || *in->p != '"')
		return -1;
	o = *out = ++in->p;
	while (in->p < in->end && *in->p != '"') {
		unsigned char c = *in->p++;
		unsigned int cp, lo;

		if (c < 0x20)
			return -1;
		if (c != '\\') {
			o[n++] = c;
			continue;
		}
		if (in->p >= in->end)
			return -1;
		c = *in->p++;
		switch (c) {
		case '"': case '\\': case '/': o[n++] = c; break;
		case 'b': o[n++] = '\b'; break;
		case 'f': o[n++] = '\f'; break;
		case 'n': o[n++] = '\n'; break;
		case 'r': o[n++] = '\r'; break;
		case 't': o[n++] = '\t'; break;
		case 'u':
			if (in->end - in->p < 4 || hex4(in->p, &cp))
				return -1;
			in->p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				/* A surrogate pair, or nothing. */
				if (in->end - in->p < 6 || in->p[0] != '\\' || in->p[1] != 'u' ||
				    hex4(in->p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
					return -1;
				in->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return -1;
			}
			n += put_utf8(o + n, cp);	/* 4 octets at most, from 6 or 12 */
			break;
		default:
			return -1;
		}
	}
	if (in->p >= in->end || n > MC3_MAX_VALUE)
		return -1;
	in->p++;
	o[n] = '\0';		/* at most where the closing quote was */
	return n;
}

int mc3_json_parse(struct mc3_request *req, size_t len, unsigned int flags,
		   char *err, size_t errlen)
{
	struct json_in in = { req->arena, req->arena + len };
	char *name, *value, q[256];
	long name_len, value_len;
	int ret;

	skip_ws(&in);
	if (in.p >= in.end || *in.p++ != '{') {
		snprintf(err, errlen, "not a JSON object");
		return -1;
	}
	skip_ws(&in);
	if (in.p < in.end && *in.p == '}') {
		in.p++;
	} else {
		for (;;) {
			skip_ws(&in);
			name_len = json_string(&in, &name);
			if (name_len < 0) {
				snprintf(err, errlen, "JSON: a field name must be a string of 256 octets at most");
				return -1;
			}
			skip_ws(&in);
			if (in.p >= in.end || *in.p++ != ':') {
				snprintf(err, errlen, "JSON: ':' expected after '%s'",
					 mc3_quote(q, name, name_len));
				return -1;
			}
			skip_ws(&in);
			value_len = json_string(&in, &value);
			if (value_len < 0) {
				snprintf(err, errlen, "field '%s': must be a JSON string of 256 octets at most",
					 mc3_quote(q, name, name_len));
				return -1;
			}
			ret = mc3_request_put(req, name, name_len, value, value_len, false, flags,
					      err, errlen);
			if (ret)
				return ret;
			skip_ws(&in);
			if (in.p < in.end && *in.p == ',') {
				in.p++;
				continue;
			}
			if (in.p < in.end && *in.p == '}') {
				in.p++;
				break;
			}
			snprintf(err, errlen, "JSON: ',' or '}' expected");
			return -1;
		}
	}
	skip_ws(&in);
	if (in.p != in.end) {
		snprintf(err, errlen, "JSON: text after the object");
		return -1;
	}
	return 0;
}

void mc3_buf_json(struct mc3_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	mc3_buf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			mc3_buf_add(b, esc, 2);
		} else if (c < 0x20) {
			char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			mc3_buf_add(b, esc, 6);
		} else {
			mc3_buf_add(b, (const char *)&c, 1);
		}
	}
	mc3_buf_add(b, "\"", 1);
}
