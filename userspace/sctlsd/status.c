// SPDX-License-Identifier: GPL-2.0
/* sctlsd --status: the state of sctlsd and its card links, as JSON. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "status.h"

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

static json_object *link_json(struct status_link *sl, const struct link *link, double dt)
{
	json_object *o = json_object_new_object();
	struct link_status ls;

	json_object_object_add(o, "port", json_object_new_int(link->port));
	json_object_object_add(o, "link", json_object_new_string(link->spec));
	if (!link->ops->status) {
		/* A socket link: whether a connection to it has succeeded. */
		json_object_object_add(o, "state", json_object_new_string(
			sl->answered ? "answers" : sl->err ? "no answer" : "not tried"));
		if (!sl->answered && sl->err)
			json_object_object_add(o, "why", json_object_new_string(strerror(sl->err)));
		return o;
	}
	link->ops->status(link, &ls);
	json_object_object_add(o, "state", json_object_new_string(ls.card ? "card" : "no card"));
	if (!ls.card && ls.why[0])
		json_object_object_add(o, "why", json_object_new_string(ls.why));
	json_object_object_add(o, "channels_listening", json_object_new_int(ls.listening));
	json_object_object_add(o, "channels_established", json_object_new_int(ls.established));
	json_object_object_add(o, "waiting_for_channel", json_object_new_int(ls.waiting));
	json_object_object_add(o, "card_exchanges", json_object_new_int64(ls.exchanges));
	json_object_object_add(o, "card_exchanges_per_s", json_object_new_double(
		dt > 0 && ls.exchanges >= sl->exchanges ? (ls.exchanges - sl->exchanges) / dt : 0));
	sl->exchanges = ls.exchanges;
	return o;
}

void status_write(struct status *st, const struct config *cfg, bool ready, size_t nr_conns,
		  bool force)
{
	json_object *o, *links;
	struct timespec now, wall;
	char tmp[4096 + 8], stamp[64];
	double dt;
	size_t i;
	bool ok;
	FILE *f;

	if (!st->path)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = seconds_between(&st->last, &now);
	if (!force && st->last.tv_sec && dt < 1.0)
		return;
	if (!st->last.tv_sec)
		dt = 0;
	st->last = now;
	clock_gettime(CLOCK_REALTIME, &wall);
	snprintf(stamp, sizeof(stamp), "%lld.%03ld", (long long)wall.tv_sec,
		 wall.tv_nsec / 1000000);

	o = json_object_new_object();
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "ready", json_object_new_boolean(ready));
	/* Seconds since the epoch: readers judge how old the file is. */
	json_object_object_add(o, "updated", json_object_new_double_s(
		(double)wall.tv_sec + wall.tv_nsec / 1e9, stamp));
	json_object_object_add(o, "connections", json_object_new_int64(nr_conns));
	links = json_object_new_array();
	for (i = 0; i < cfg->nr_links; i++)
		json_object_array_add(links, link_json(&st->links[i], &cfg->links[i], dt));
	json_object_object_add(o, "links", links);

	snprintf(tmp, sizeof(tmp), "%s.tmp", st->path);
	f = fopen(tmp, "w");
	/* For anyone's sctls show: links and counts, nothing of the apps'. */
	if (f)
		fchmod(fileno(f), 0644);
	ok = f && fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY), f) >= 0 &&
	     fputc('\n', f) != EOF;
	if (f && fclose(f))
		ok = false;
	if (ok && rename(tmp, st->path))
		ok = false;
	if (!ok) {
		if (!st->failed)
			log_warn("--status %s: %s; trying again each second", st->path,
				 strerror(errno));
		st->failed = true;
		unlink(tmp);
	} else {
		if (st->failed)
			log_info("--status %s: written again", st->path);
		st->failed = false;
	}
	json_object_put(o);
}

void status_remove(struct status *st)
{
	/* Only a file of ours: not another sctlsd's, when this one never ran. */
	if (st->path && st->last.tv_sec)
		unlink(st->path);
}
