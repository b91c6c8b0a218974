// SPDX-License-Identifier: GPL-2.0
/* Requests: fields, application/x-www-form-urlencoded, and writing them out. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void mc3_buf_add(struct mc3_buf *b, const char *s, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *data = realloc(b->data, cap);

		if (!data) {
			b->failed = true;
			return;
		}
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

static bool unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 3986 unreserved characters stay, in runs; every other octet is %XX. */
void mc3_buf_pct(struct mc3_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	while (*s) {
		const char *run = s;

		while (*s && unreserved(*s))
			s++;
		mc3_buf_add(b, run, s - run);
		if (*s) {
			unsigned char c = *s++;
			char enc[3] = { '%', hex[c >> 4], hex[c & 15] };

			mc3_buf_add(b, enc, 3);
		}
	}
}

/* Keep len octets at the arena's tail (copying them there if need be). */
static char *arena_keep(struct mc3_request *req, const char *s, size_t len)
{
	char *at = mc3_arena_tail(req);

	if (req->arena_used + len + 1 > req->arena_cap)
		return NULL;
	if (s != at)
		memmove(at, s, len);
	at[len] = '\0';
	req->arena_used += len + 1;
	return at;
}

int mc3_request_put(struct mc3_request *req, const char *name, size_t name_len,
		    const char *value, size_t value_len, unsigned int flags,
		    char *err, size_t errlen)
{
	int f = mc3_field_lookup(name, name_len);
	unsigned int i;

	if (f < 0) {
		if (!(flags & MC3_PASS_UNKNOWN) || !name_len || name_len > 64 ||
		    value_len > MC3_MAX_VALUE || memchr(name, '\0', name_len) ||
		    memchr(value, '\0', value_len)) {
			snprintf(err, errlen, "unknown field '%.*s'", (int)(name_len > 64 ? 64 : name_len),
				 name);
			return -1;
		}
		for (i = 0; i < req->nr_extra; i++) {
			if (!strncmp(req->extra[i].name, name, name_len) &&
			    !req->extra[i].name[name_len]) {
				snprintf(err, errlen, "field '%.*s' given twice", (int)name_len, name);
				return -1;
			}
		}
		if (req->nr_extra == MC3_MAX_EXTRA) {
			snprintf(err, errlen, "more than %d unknown fields", MC3_MAX_EXTRA);
			return -1;
		}
		/* The value first: it may already sit at the tail. */
		req->extra[req->nr_extra].value = arena_keep(req, value, value_len);
		req->extra[req->nr_extra].name = arena_keep(req, name, name_len);
		if (!req->extra[req->nr_extra].value || !req->extra[req->nr_extra].name) {
			snprintf(err, errlen, "request too large");
			return -1;
		}
		req->nr_extra++;
		return 0;
	}
	if (req->field[f]) {
		snprintf(err, errlen, "field '%s' given twice", mc3_field_names[f]);
		return -1;
	}
	/* Known fields' rules refuse control characters, NUL among them. */
	if (!mc3_field_valid(f, value, value_len, err, errlen))
		return -1;
	req->field[f] = arena_keep(req, value, value_len);
	if (!req->field[f]) {
		snprintf(err, errlen, "request too large");
		return -1;
	}
	req->field_len[f] = value_len;
	return 0;
}

int mc3_request_complete(const struct mc3_request *req, char *err, size_t errlen)
{
	static const int mandatory[] = { F_TID, F_ICI, F_USER };
	unsigned int i;

	for (i = 0; i < sizeof(mandatory) / sizeof(mandatory[0]); i++) {
		if (!req->field[mandatory[i]]) {
			snprintf(err, errlen, "field '%s' is missing", mc3_field_names[mandatory[i]]);
			return -1;
		}
	}
	return 0;
}

int mc3_request_replace(struct mc3_request *req, int f, const char *value)
{
	char *copy = value ? strdup(value) : NULL;

	if (value && !copy)
		return -1;
	if (req->owned & 1U << f)
		free(req->field[f]);
	req->field[f] = copy;
	req->field_len[f] = value ? strlen(value) : 0;
	if (copy)
		req->owned |= 1U << f;
	else
		req->owned &= ~(1U << f);
	return 0;
}

int mc3_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Octets that end a run of plain text in a form component. */
enum { C_PCT = 1, C_PLUS = 2, C_EQ = 4, C_AMP = 8 };
static const unsigned char form_class[256] = {
	['%'] = C_PCT, ['+'] = C_PLUS, ['='] = C_EQ, ['&'] = C_AMP,
};

/*
 * Decode one form component, up to a character of class stop or the end,
 * into out (room for end - s + 1 octets). Plain runs are copied whole.
 * Returns where it stopped, or NULL on a bad escape.
 */
static const char *form_decode(const char *s, const char *end, unsigned char stop,
			       char *out, size_t *out_len)
{
	unsigned char special = stop | C_PCT | C_PLUS;
	size_t n = 0;
	int hi, lo;

	for (;;) {
		const char *run = s;

		while (s < end && !(form_class[(unsigned char)*s] & special))
			s++;
		memcpy(out + n, run, s - run);
		n += s - run;
		if (s == end || form_class[(unsigned char)*s] & stop)
			break;
		if (*s == '+') {
			out[n++] = ' ';
			s++;
			continue;
		}
		if (end - s < 3)
			return NULL;
		hi = mc3_hex_value(s[1]);
		lo = mc3_hex_value(s[2]);
		if (hi < 0 || lo < 0)
			return NULL;
		out[n++] = (char)(hi << 4 | lo);
		s += 3;
	}
	out[n] = '\0';
	*out_len = n;
	return s;
}

/* name=value&name=value, each decoded in one pass. */
static int form_parse(struct mc3_request *req, const char *text, size_t len,
		      unsigned int flags, char *err, size_t errlen)
{
	const char *p = text, *end = text + len, *q;
	char name[MC3_MAX_VALUE * 3 + 1];

	/* A query string or a POST body may end in a newline. */
	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (p == end) {
		snprintf(err, errlen, "empty request");
		return -1;
	}
	for (;;) {
		size_t name_len, value_len, room = end - p;
		int shown = (int)(room > 40 ? 40 : room);

		if (room >= sizeof(name) && !memchr(p, '=', sizeof(name) - 1)) {
			snprintf(err, errlen, "field '%.*s': name too long", shown, p);
			return -1;
		}
		q = form_decode(p, end, C_EQ | C_AMP, name, &name_len);
		if (!q || q == end || *q != '=' || q == p) {
			snprintf(err, errlen, q ? "'%.*s' is not name=value" :
				 "field '%.*s': bad %%-escape", shown, p);
			return -1;
		}
		/* The value decodes in place at the arena's tail: never longer. */
		if (req->arena_used + (end - q) > req->arena_cap) {
			snprintf(err, errlen, "request too large");
			return -1;
		}
		q = form_decode(q + 1, end, C_AMP, mc3_arena_tail(req), &value_len);
		if (!q) {
			snprintf(err, errlen, "field '%.*s': bad %%-escape", (int)name_len, name);
			return -1;
		}
		if (mc3_request_put(req, name, name_len, mc3_arena_tail(req), value_len, flags,
				    err, errlen))
			return -1;
		if (q == end)
			return 0;
		p = q + 1;
	}
}

int mc3_request_parse(const char *text, size_t len, enum mc3_format format,
		      unsigned int flags, struct mc3_request **out, char *err, size_t errlen)
{
	/* Every value and name with its NUL fits in twice the text. */
	size_t cap = 2 * len + 2;
	struct mc3_request *req;
	int ret;

	*out = NULL;
	if (len > 1 << 20) {
		snprintf(err, errlen, "request larger than 1 MiB");
		return -1;
	}
	req = malloc(sizeof(*req) + cap);
	if (!req) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(req, 0, offsetof(struct mc3_request, extra));
	req->arena_used = 0;
	req->arena_cap = cap;
	if (format == MC3_JSON)
		ret = mc3_json_parse(req, text, len, flags, err, errlen);
	else
		ret = form_parse(req, text, len, flags, err, errlen);
	if (!ret)
		ret = mc3_request_complete(req, err, errlen);
	if (ret) {
		mc3_request_free(req);
		return -1;
	}
	*out = req;
	return 0;
}

const char *mc3_request_get(const struct mc3_request *req, const char *name)
{
	int f = mc3_field_lookup(name, strlen(name));
	unsigned int i;

	if (f >= 0)
		return req->field[f];
	for (i = 0; i < req->nr_extra; i++)
		if (!strcmp(req->extra[i].name, name))
			return req->extra[i].value;
	return NULL;
}

static void write_pair(struct mc3_buf *b, enum mc3_format format, bool *first,
		       const char *name, const char *value)
{
	if (!*first)
		mc3_buf_add(b, format == MC3_JSON ? "," : "&", 1);
	*first = false;
	if (format == MC3_JSON) {
		mc3_buf_json(b, name);
		mc3_buf_add(b, ":", 1);
		mc3_buf_json(b, value);
	} else {
		mc3_buf_pct(b, name);
		mc3_buf_add(b, "=", 1);
		mc3_buf_pct(b, value);
	}
}

char *mc3_request_write(const struct mc3_request *req, enum mc3_format format)
{
	struct mc3_buf b = { 0 };
	bool first = true;
	unsigned int i;
	int f;

	if (format == MC3_JSON)
		mc3_buf_add(&b, "{", 1);
	for (f = 0; f < NR_FIELDS; f++)
		if (req->field[f])
			write_pair(&b, format, &first, mc3_field_names[f], req->field[f]);
	for (i = 0; i < req->nr_extra; i++)
		write_pair(&b, format, &first, req->extra[i].name, req->extra[i].value);
	if (format == MC3_JSON)
		mc3_buf_add(&b, "}", 1);
	if (b.failed || !b.data) {
		free(b.data);
		return NULL;
	}
	return b.data;
}

void mc3_request_free(struct mc3_request *req)
{
	int f;

	if (!req)
		return;
	for (f = 0; f < NR_FIELDS; f++)
		if (req->owned & 1U << f)
			free(req->field[f]);
	free(req);
}
