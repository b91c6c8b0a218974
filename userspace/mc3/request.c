// SPDX-License-Identifier: MIT
/* Requests: fields, application/x-www-form-urlencoded, and writing them out. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "swar.h"

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

const char *mc3_quote(char out[256], const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n = 0;

	for (i = 0; i < len && i < 40; i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
			out[n++] = c;
		} else {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	if (i < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

int mc3_request_put(struct mc3_request *req, const char *name, size_t name_len,
		    char *value, size_t value_len, bool printable, unsigned int flags,
		    char *err, size_t errlen)
{
	int f = mc3_field_lookup(name, name_len);
	unsigned int i;
	char q[256];

	if (f < 0) {
		if (!(flags & MC3_PASS_UNKNOWN) || !name_len || name_len > 64) {
			snprintf(err, errlen, "unknown field '%s'", mc3_quote(q, name, name_len));
			return -1;
		}
		/* Passed on as they are, into JSON too: text, nothing else. */
		if (value_len > MC3_MAX_VALUE ||
		    !mc3_clean_utf8((const unsigned char *)name, name_len) ||
		    !mc3_clean_utf8((const unsigned char *)value, value_len)) {
			snprintf(err, errlen, "unknown field '%s': longer than 256 octets, not UTF-8, or with control characters",
				 mc3_quote(q, name, name_len));
			return -1;
		}
		for (i = 0; i < req->nr_extra; i++) {
			if (!strcmp(req->extra[i].name, name)) {
				snprintf(err, errlen, "field '%s' given twice", mc3_quote(q, name, name_len));
				return -1;
			}
		}
		if (req->nr_extra == MC3_MAX_EXTRA) {
			snprintf(err, errlen, "more than %d unknown fields", MC3_MAX_EXTRA);
			return -1;
		}
		if (!req->extra && !(req->extra = calloc(MC3_MAX_EXTRA, sizeof(*req->extra)))) {
			snprintf(err, errlen, "out of memory");
			return MC3_ENOMEM;
		}
		req->extra[req->nr_extra].name = (char *)name;
		req->extra[req->nr_extra].value = value;
		req->extra[req->nr_extra].owned = false;
		req->nr_extra++;
		return 0;
	}
	if (req->field[f]) {
		snprintf(err, errlen, "field '%s' given twice", mc3_field_names[f]);
		return -1;
	}
	/* Known fields' rules refuse control characters, NUL among them. */
	if (!mc3_field_valid(f, value, value_len, printable, err, errlen))
		return -1;
	req->field[f] = value;
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

/* Where the first '%' or '+' is from s, a word at a time while none is there. */
static char *next_escape(char *s, const char *end)
{
	for (; end - s >= 8; s += 8) {
		uint64_t w = swar_load(s);

		if (swar_has(w, '%') | swar_has(w, '+'))
			break;
	}
	while (s < end && *s != '%' && *s != '+')
		s++;
	return s;
}

/*
 * Decode a form component of len octets in place ('+' is a space, %XX an
 * octet) and NUL-terminate it: its new length, or -1 on a bad escape.
 */
static long form_decode(char *s, size_t len)
{
	char *end = s + len, *in = s, *out = s;
	int hi, lo;

	for (;;) {
		char *esc = next_escape(in, end);

		if (out != in)
			memmove(out, in, esc - in);
		out += esc - in;
		in = esc;
		if (in == end)
			break;
		if (*in == '+') {
			*out++ = ' ';
			in++;
			continue;
		}
		if (end - in < 3 || (hi = mc3_hex_value(in[1])) < 0 ||
		    (lo = mc3_hex_value(in[2])) < 0)
			return -1;
		*out++ = (char)(hi << 4 | lo);
		in += 3;
	}
	*out = '\0';
	return out - s;
}

/*
 * Whether the text is all printable ASCII without escapes, as machines send
 * it: then its components need no decoding and its values no UTF-8 check.
 */
static inline uint64_t not_plain(uint64_t w)
{
	return swar_not_printable(w) | swar_has(w, '%') | swar_has(w, '+');
}

static bool plain_text(const char *s, size_t len)
{
	uint64_t bad = 0;
	size_t i;

	if (len < 8) {
		for (i = 0; i < len; i++)
			bad |= (unsigned char)(s[i] - 0x20) > 0x7e - 0x20 || s[i] == '%' || s[i] == '+';
		return !bad;
	}
	for (i = 0; i + 8 < len; i += 8)
		bad |= not_plain(swar_load(s + i));
	/* The last word overlaps the one before rather than leave a tail. */
	return !(bad | not_plain(swar_load(s + len - 8)));
}

/* The same for one field of a text that is not: out of the common path. */
static __attribute__((noinline)) bool plain_field(const char *s, size_t len)
{
	return plain_text(s, len);
}

/*
 * name=value&name=value, split at the first '=' of each component. text is
 * what was sent, quoted in errors; the arena holds a copy.
 */
static int form_parse(struct mc3_request *req, const char *text, size_t len,
		      unsigned int flags, char *err, size_t errlen)
{
	char *p = req->arena, *end, *amp, *eq;
	long name_len, value_len;
	bool all_plain;
	int ret;

	/* A query string or a POST body may end in a newline. */
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (!len) {
		snprintf(err, errlen, "empty request");
		return -1;
	}
	/*
	 * Most texts are plain throughout. One that is not (a base64
	 * signature, a name with a space) is looked at field by field, so
	 * that only the fields with escapes are decoded and checked as UTF-8.
	 */
	all_plain = plain_text(req->arena, len);
	for (end = p + len;; p = amp + 1) {
		const char *sent = text + (p - req->arena);
		size_t shown;
		bool plain;
		char q[256];

		amp = memchr(p, '&', end - p);
		if (!amp)
			amp = end;
		shown = amp - p;
		/* Names are short: a loop beats a call to memchr. */
		for (eq = p; eq < amp && *eq != '='; eq++)
			;
		if (eq == amp)
			eq = NULL;
		if (!eq || eq == p) {
			snprintf(err, errlen, "'%s' is not name=value", mc3_quote(q, sent, shown));
			return -1;
		}
		plain = all_plain || plain_field(p, amp - p);
		if (plain) {
			name_len = eq - p;
			value_len = amp - eq - 1;
			*eq = *amp = '\0';
		} else {
			name_len = form_decode(p, eq - p);
			value_len = form_decode(eq + 1, amp - eq - 1);
		}
		if (name_len < 0 || value_len < 0) {
			snprintf(err, errlen, "field '%s': bad %%-escape", mc3_quote(q, sent, shown));
			return -1;
		}
		ret = mc3_request_put(req, p, name_len, eq + 1, value_len, plain, flags, err,
				      errlen);
		if (ret)
			return ret;
		if (amp == end)
			return 0;
	}
}

int mc3_request_parse(const char *text, size_t len, enum mc3_format format,
		      unsigned int flags, struct mc3_request **out, char *err, size_t errlen)
{
	struct mc3_request *req;
	int ret;

	*out = NULL;
	if (len > 1 << 20) {
		snprintf(err, errlen, "request larger than 1 MiB");
		return MC3_EINVAL;
	}
	req = malloc(sizeof(*req) + len + 1);
	if (!req) {
		snprintf(err, errlen, "out of memory");
		return MC3_ENOMEM;
	}
	/* Not all of it: field_len[f] is read only where field[f] is set. */
	memset(req->field, 0, sizeof(req->field));
	req->owned = 0;
	req->nr_extra = 0;
	req->extra = NULL;
	memcpy(req->arena, text, len);
	req->arena[len] = '\0';
	if (format == MC3_JSON)
		ret = mc3_json_parse(req, len, flags, err, errlen);
	else
		ret = form_parse(req, text, len, flags, err, errlen);
	if (!ret)
		ret = mc3_request_complete(req, err, errlen);
	if (ret) {
		mc3_request_free(req);
		return ret == MC3_ENOMEM ? MC3_ENOMEM : MC3_EINVAL;
	}
	*out = req;
	return MC3_OK;
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

char *mc3_request_write_fields(const struct mc3_request *req, enum mc3_format format,
			       unsigned int fields, bool extra)
{
	struct mc3_buf b = { 0 };
	bool first = true;
	unsigned int i;
	int f;

	if (format == MC3_JSON)
		mc3_buf_add(&b, "{", 1);
	for (f = 0; f < NR_FIELDS; f++)
		if (req->field[f] && (fields & 1U << f))
			write_pair(&b, format, &first, mc3_field_names[f], req->field[f]);
	for (i = 0; extra && i < req->nr_extra; i++)
		write_pair(&b, format, &first, req->extra[i].name, req->extra[i].value);
	if (format == MC3_JSON)
		mc3_buf_add(&b, "}", 1);
	if (b.failed || !b.data) {
		free(b.data);
		return NULL;
	}
	return b.data;
}

char *mc3_request_write(const struct mc3_request *req, enum mc3_format format)
{
	return mc3_request_write_fields(req, format, ~0U, true);
}

void mc3_request_free(struct mc3_request *req)
{
	int f;

	if (!req)
		return;
	/* A parsed request owns nothing but itself: no loops for it. */
	for (f = 0; req->owned && f < NR_FIELDS; f++)
		if (req->owned & 1U << f)
			free(req->field[f]);
	if (req->extra) {
		for (f = 0; f < (int)req->nr_extra; f++)
			if (req->extra[f].owned)
				free(req->extra[f].name);
		free(req->extra);
	}
	free(req);
}

struct mc3_request *mc3_request_new(void)
{
	return calloc(1, sizeof(struct mc3_request) + 1);
}

int mc3_request_set(struct mc3_request *req, const char *name, const char *value, size_t len,
		    unsigned int flags, char *err, size_t errlen)
{
	size_t name_len = strlen(name);
	int f = mc3_field_lookup(name, name_len), ret;
	struct mc3_extra *x;
	unsigned int i;
	char *copy;

	/* The parser's rules, on a copy: it decodes into its arena too. */
	copy = malloc(name_len + 1 + len + 1);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return MC3_ENOMEM;
	}
	memcpy(copy, name, name_len + 1);
	memcpy(copy + name_len + 1, value, len);
	copy[name_len + 1 + len] = '\0';
	if (f >= 0) {
		if (memchr(value, '\0', len) ||
		    !mc3_field_valid(f, copy + name_len + 1, len, false, err, errlen)) {
			if (memchr(value, '\0', len))
				snprintf(err, errlen, "field '%s': a NUL in it", mc3_field_names[f]);
			free(copy);
			return MC3_EINVAL;
		}
		if (req->owned & 1U << f)
			free(req->field[f]);
		/* The value alone: memmove it to the start, the name is known. */
		memmove(copy, copy + name_len + 1, len + 1);
		req->field[f] = copy;
		req->field_len[f] = len;
		req->owned |= 1U << f;
		return MC3_OK;
	}
	for (i = 0; i < req->nr_extra; i++) {
		if (strcmp(req->extra[i].name, name))
			continue;
		/* Replaced: the rules of a new one, then in its place. */
		if (!(flags & MC3_PASS_UNKNOWN) || len > MC3_MAX_VALUE || memchr(value, '\0', len) ||
		    !mc3_clean_utf8((const unsigned char *)value, len)) {
			char q[256];

			snprintf(err, errlen, "unknown field '%s': not passed through, longer than 256 octets, not UTF-8, or with control characters",
				 mc3_quote(q, name, name_len));
			free(copy);
			return MC3_EINVAL;
		}
		if (req->extra[i].owned)
			free(req->extra[i].name);
		req->extra[i] = (struct mc3_extra){ copy, copy + name_len + 1, true };
		return MC3_OK;
	}
	if (memchr(value, '\0', len)) {
		snprintf(err, errlen, "unknown field: a NUL in it");
		free(copy);
		return MC3_EINVAL;
	}
	ret = mc3_request_put(req, copy, name_len, copy + name_len + 1, len, false, flags, err,
			      errlen);
	if (ret) {
		free(copy);
		return ret == MC3_ENOMEM ? MC3_ENOMEM : MC3_EINVAL;
	}
	x = &req->extra[req->nr_extra - 1];
	x->owned = true;
	return MC3_OK;
}

size_t mc3_request_fields(const struct mc3_request *req)
{
	size_t n = req->nr_extra;
	int f;

	for (f = 0; f < NR_FIELDS; f++)
		n += !!req->field[f];
	return n;
}

int mc3_request_field(const struct mc3_request *req, size_t i, const char **name,
		      const char **value)
{
	int f;

	for (f = 0; f < NR_FIELDS; f++) {
		if (req->field[f] && !i--) {
			*name = mc3_field_names[f];
			*value = req->field[f];
			return MC3_OK;
		}
	}
	if (i >= req->nr_extra)
		return MC3_EINVAL;
	*name = req->extra[i].name;
	*value = req->extra[i].value;
	return MC3_OK;
}
