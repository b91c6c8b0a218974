/* SPDX-License-Identifier: GPL-2.0 */
/* Printing the model: JSON as it is, or text whose names mirror it. */
#ifndef SCTLS_RENDER_H
#define SCTLS_RENDER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* A table column: its heading, and one key, or two joined as "a:b". */
struct column {
	const char *heading;
	const char *key;
	const char *port_key;	/* NULL, or the port printed after key */
	bool right;		/* numbers line up on the right */
};

/* The text of a value: null "-", a list joined with ",". */
void render_value(json_object *value, char *buf, size_t size);

void render_json(json_object *o, bool pretty);

/* One "name value" line per key, nested objects flattened, names aligned. */
void render_list(json_object *o);

/* Rows of objects under aligned headings. */
void render_table(json_object *rows, const struct column *cols, size_t nr_cols);

/* "NAME key value key value ...": first the value of name_key. */
void render_line(json_object *o, const char *name_key);

#endif /* SCTLS_RENDER_H */
