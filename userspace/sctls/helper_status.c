// SPDX-License-Identifier: GPL-2.0
/* sctlsd's status file, for sctls show, set and top. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helper_status.h"

const char *helper_status_path(void)
{
	const char *path = getenv("SCTLS_STATUS");

	return path && *path ? path : HELPER_STATUS_DEFAULT;
}

json_object *helper_status_load(double *age)
{
	json_object *st = json_object_from_file(helper_status_path()), *v;
	struct timespec now;

	if (!st)
		return NULL;
	if (!json_object_is_type(st, json_type_object) ||
	    !json_object_object_get_ex(st, "updated", &v) ||
	    !json_object_object_get_ex(st, "links", NULL)) {
		json_object_put(st);
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	*age = (double)now.tv_sec + now.tv_nsec / 1e9 - json_object_get_double(v);
	return st;
}

static const char *get_string(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int64_t get_int(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

void helper_status_print(json_object *st, double age, int64_t helper_pid)
{
	json_object *links;
	size_t i;

	if (!st) {
		printf("%-19s%s\n", "card-links", "unknown: no status file from sctlsd --status");
		return;
	}
	if (age > HELPER_STATUS_STALE_S || get_int(st, "pid") != helper_pid) {
		printf("%-19s%s is %.0f s old, of pid %lld: stale (is sctlsd running?)\n",
		       "card-links", helper_status_path(), age, (long long)get_int(st, "pid"));
		return;
	}
	json_object_object_get_ex(st, "links", &links);
	for (i = 0; i < json_object_array_length(links); i++) {
		json_object *l = json_object_array_get_idx(links, i);
		const char *state = get_string(l, "state"), *why = get_string(l, "why");
		const char *spec = get_string(l, "link"), *eq = spec ? strchr(spec, '=') : NULL;
		char name[32];

		snprintf(name, sizeof(name), "link %lld", (long long)get_int(l, "port"));
		printf("%-19s%s: %s", name, eq ? eq + 1 : spec ? spec : "?", state ? state : "?");
		if (why)
			printf(" (%s)", why);
		if (json_object_object_get_ex(l, "channels_listening", NULL)) {
			json_object *rate = NULL;

			json_object_object_get_ex(l, "card_exchanges_per_s", &rate);
			printf(", %lld channels listening, %lld in use, %lld waiting, %.0f card exchanges/s",
			       (long long)get_int(l, "channels_listening"),
			       (long long)get_int(l, "channels_established"),
			       (long long)get_int(l, "waiting_for_channel"),
			       json_object_get_double(rate));
		}
		printf("\n");
	}
}

bool helper_status_has_port(json_object *st, uint16_t port)
{
	json_object *links;
	size_t i;

	if (!json_object_object_get_ex(st, "links", &links))
		return false;
	for (i = 0; i < json_object_array_length(links); i++)
		if (get_int(json_object_array_get_idx(links, i), "port") == port)
			return true;
	return false;
}
