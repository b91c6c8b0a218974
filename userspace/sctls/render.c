// SPDX-License-Identifier: GPL-2.0
/* Text output: names are the JSON keys with '-' for '_', as in the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

#define CELL_MAX 128

void render_value(json_object *value, char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	switch (json_object_get_type(value)) {
	case json_type_null:
		snprintf(buf, size, "-");
		break;
	case json_type_array:
		if (!json_object_array_length(value))
			snprintf(buf, size, "-");
		for (i = 0; i < json_object_array_length(value) && len < size; i++)
			len += snprintf(buf + len, size - len, "%s%s", i ? "," : "",
					json_object_get_string(json_object_array_get_idx(value, i)));
		break;
	default:
		snprintf(buf, size, "%s", json_object_get_string(value));
	}
}

static void text_name(const char *key, char *buf, size_t size)
{
	char *p;

	snprintf(buf, size, "%s", key);
	for (p = buf; *p; p++)
		if (*p == '_')
			*p = '-';
}

void render_json(json_object *o, bool pretty)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED :
		     JSON_C_TO_STRING_PLAIN);

	printf("%s\n", json_object_to_json_string_ext(o, flags));
}

static int list_width(json_object *o)
{
	int width = 0;

	json_object_object_foreach(o, key, value) {
		int w = json_object_is_type(value, json_type_object) ?
			list_width(value) : (int)strlen(key);

		if (w > width)
			width = w;
	}
	return width;
}

static void list_lines(json_object *o, int width)
{
	char name[CELL_MAX], text[CELL_MAX * 4];

	json_object_object_foreach(o, key, value) {
		if (json_object_is_type(value, json_type_object)) {
			list_lines(value, width);
			continue;
		}
		text_name(key, name, sizeof(name));
		render_value(value, text, sizeof(text));
		printf("%-*s  %s\n", width, name, text);
	}
}

void render_list(json_object *o)
{
	list_lines(o, list_width(o));
}

static void cell_text(json_object *row, const struct column *col, char *buf, size_t size)
{
	json_object *v = NULL, *port = NULL;
	char addr[CELL_MAX];

	json_object_object_get_ex(row, col->key, &v);
	render_value(v, buf, size);
	if (!col->port_key)
		return;
	json_object_object_get_ex(row, col->port_key, &port);
	snprintf(addr, sizeof(addr), "%s", buf);
	/* IPv6 in brackets, as in URLs. */
	snprintf(buf, size, strchr(addr, ':') ? "[%s]:%s" : "%s:%s", addr,
		 port ? json_object_get_string(port) : "-");
}

void render_table(json_object *rows, const struct column *cols, size_t nr_cols)
{
	size_t nr_rows = json_object_array_length(rows), r, c;
	int *width = calloc(nr_cols, sizeof(*width));
	char cell[CELL_MAX];

	if (!width)
		return;
	for (c = 0; c < nr_cols; c++)
		width[c] = strlen(cols[c].heading);
	for (r = 0; r < nr_rows; r++)
		for (c = 0; c < nr_cols; c++) {
			cell_text(json_object_array_get_idx(rows, r), &cols[c], cell, sizeof(cell));
			if ((int)strlen(cell) > width[c])
				width[c] = strlen(cell);
		}
	for (c = 0; c < nr_cols; c++)
		printf(cols[c].right ? "%*s%s" : "%-*s%s", c + 1 < nr_cols || cols[c].right ?
		       width[c] : 0, cols[c].heading, c + 1 < nr_cols ? "  " : "\n");
	for (r = 0; r < nr_rows; r++)
		for (c = 0; c < nr_cols; c++) {
			cell_text(json_object_array_get_idx(rows, r), &cols[c], cell, sizeof(cell));
			printf(cols[c].right ? "%*s%s" : "%-*s%s", c + 1 < nr_cols || cols[c].right ?
			       width[c] : 0, cell, c + 1 < nr_cols ? "  " : "\n");
		}
	free(width);
}

void render_line(json_object *o, const char *name_key)
{
	char name[CELL_MAX], text[CELL_MAX * 4];
	json_object *v;

	if (json_object_object_get_ex(o, name_key, &v))
		printf("%s", json_object_get_string(v));
	json_object_object_foreach(o, key, value) {
		if (!strcmp(key, name_key))
			continue;
		text_name(key, name, sizeof(name));
		render_value(value, text, sizeof(text));
		printf(" %s %s", name, text);
	}
	printf("\n");
}
