/* SPDX-License-Identifier: MIT */
/* libmc3 internals: the request's fields and their rules. */
#ifndef MC3_INTERNAL_H
#define MC3_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "mc3.h"

/* The MC-3-RESOLVE_ICI fields, in the order they are written and signed. */
enum mc3_field {
	F_TID, F_ICI, F_USER, F_APIKEYID, F_TS, F_LANGUAGE, F_CC, F_POST, F_AGE,
	F_INCOME, F_GENDER, F_COUNT, F_ADDR, F_SIGNATURE, NR_FIELDS
};

#define MC3_MAX_VALUE	256	/* octets of any field: bounded memory */
#define MC3_MAX_EXTRA	32	/* passed-through unknown fields */

struct mc3_extra {
	char *name, *value;
	bool owned;			/* name (and value after it) malloc'd */
};

/*
 * A request owns a copy of its text, its arena: the parsers decode names and
 * values in place there (a decoded string is never longer than its text)
 * and NUL-terminate them, so fields point into it. Values set later
 * (signing) are allocated on their own and marked in owned.
 */
struct mc3_request {
	char *field[NR_FIELDS];
	size_t field_len[NR_FIELDS];
	unsigned int owned;		/* bit f: field[f] is malloc'd */
	unsigned int nr_extra;
	struct mc3_extra *extra;	/* MC3_MAX_EXTRA, allocated at the first */
	char arena[];
};

extern const char *const mc3_field_names[NR_FIELDS];

/* The field named name, or -1. */
int mc3_field_lookup(const char *name, size_t len);

/*
 * Whether value is acceptable for field f; else why, in err. printable: the
 * value is known to be printable ASCII, so clean UTF-8.
 */
bool mc3_field_valid(int f, const char *value, size_t len, bool printable,
		     char *err, size_t errlen);

/*
 * Set a field from a name and value decoded in the arena, NUL-terminated;
 * fails on a repeat or a bad value. printable: as for mc3_field_valid().
 */
int mc3_request_put(struct mc3_request *req, const char *name, size_t name_len,
		    char *value, size_t value_len, bool printable, unsigned int flags,
		    char *err, size_t errlen);

/* After parsing: the mandatory fields are there. */
int mc3_request_complete(const struct mc3_request *req, char *err, size_t errlen);

/* The fields in the mask (bit f: field f) and the extra ones if asked. */
char *mc3_request_write_fields(const struct mc3_request *req, enum mc3_format format,
			       unsigned int fields, bool extra);

/* Replace a field's value (signing). */
int mc3_request_replace(struct mc3_request *req, int f, const char *value);

/* A flat JSON object, the arena's text of len octets, into req. */
int mc3_json_parse(struct mc3_request *req, size_t len,
		   unsigned int flags, char *err, size_t errlen);

/*
 * s (len octets) for an error message, into out: printable ASCII as it is,
 * any other octet, quote and backslash as \xHH, at most 40 octets of s
 * then "...". Input never reaches a message raw: a newline in it would be
 * a second line of a batch verdict, an escape a terminal's command.
 */
const char *mc3_quote(char out[256], const char *s, size_t len);

/* Well-formed UTF-8 without control characters. */
bool mc3_clean_utf8(const unsigned char *s, size_t len);

/* A hex digit's value (either case), or -1. */
int mc3_hex_value(char c);

/* A growing string. */
struct mc3_buf {
	char *data;
	size_t len, cap;
	bool failed;
};

void mc3_buf_add(struct mc3_buf *b, const char *s, size_t len);
void mc3_buf_pct(struct mc3_buf *b, const char *s);	/* percent-encoded */
void mc3_buf_json(struct mc3_buf *b, const char *s);	/* a JSON string */

#endif
