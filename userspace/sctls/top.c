// SPDX-License-Identifier: GPL-2.0
/*
 * sctls top: the open connections, refreshed, with the bytes each way per
 * second since the last round, and the card links as sctlsd reports them.
 * On a real card a page takes seconds: this shows it moving.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "helper_status.h"
#include "nl.h"
#include "render.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const struct column top_columns[] = {
	{ "ID", "id", NULL, true },
	{ "STATE", "state", NULL, false },
	{ "PEER", "peer_addr", "peer_port", false },
	{ "UID", "uid", NULL, true },
	{ "PID", "pid", NULL, true },
	{ "COMM", "comm", NULL, false },
	{ "TO-APP", "bytes_to_app", NULL, true },
	{ "TO-APP/S", "to_app_per_s", NULL, true },
	{ "FROM-APP", "bytes_from_app", NULL, true },
	{ "FROM-APP/S", "from_app_per_s", NULL, true },
	{ "AGE-MS", "age_ms", NULL, true },
};

static int64_t get_int(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* The same connection in the last round, or NULL. */
static json_object *previous(json_object *prev, int64_t id)
{
	size_t i;

	for (i = 0; prev && i < json_object_array_length(prev); i++)
		if (get_int(json_object_array_get_idx(prev, i), "id") == id)
			return json_object_array_get_idx(prev, i);
	return NULL;
}

/* Bytes a second each way since the last round; null for a new one. */
static void add_rates(json_object *conns, json_object *prev, double dt)
{
	size_t i;

	for (i = 0; i < json_object_array_length(conns); i++) {
		json_object *c = json_object_array_get_idx(conns, i);
		json_object *p = previous(prev, get_int(c, "id"));
		json_object *to = NULL, *from = NULL;

		if (p && dt > 0) {
			to = json_object_new_int64((get_int(c, "bytes_to_app") -
						    get_int(p, "bytes_to_app")) / dt);
			from = json_object_new_int64((get_int(c, "bytes_from_app") -
						      get_int(p, "bytes_from_app")) / dt);
		}
		json_object_object_add(c, "to_app_per_s", to);
		json_object_object_add(c, "from_app_per_s", from);
	}
}

static double now_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void print_round(const struct opts *o, json_object *conns, bool tty)
{
	json_object *status, *round;
	double age = 0;
	time_t t = time(NULL);
	char when[32];

	status = helper_status_load(&age);
	if (status && age > HELPER_STATUS_STALE_S) {
		json_object_put(status);
		status = NULL;
	}
	if (o->json) {
		round = json_object_new_object();
		json_object_object_add(round, "time", json_object_new_int64(t));
		json_object_object_add(round, "conns", json_object_get(conns));
		json_object_object_add(round, "sctlsd", status);
		render_json(round, o->pretty);
		json_object_put(round);
		return;
	}
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
	if (tty)
		printf("\033[H\033[J");	/* the screen, from the top */
	printf("sctls top at %s: %zu connection(s)\n", when, json_object_array_length(conns));
	if (status) {
		json_object *pid = NULL;

		json_object_object_get_ex(status, "pid", &pid);
		helper_status_print(status, age, json_object_get_int64(pid));
	} else {
		printf("%-19s%s\n", "card-links", "unknown: no fresh status file from sctlsd --status");
	}
	render_table(conns, top_columns, sizeof(top_columns) / sizeof(top_columns[0]));
	if (!tty)
		printf("\n");
	json_object_put(status);
}

int cmd_top(const struct opts *o, int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	json_object *prev = NULL;
	long rounds = -1, interval_ms = 1000;
	bool tty = isatty(STDOUT_FILENO) && !o->json;
	struct sctls_nl nl;
	double last = 0;
	int i, err = 0;

	for (i = 1; i < argc; i++) {
		char *end;
		double d;

		if (i + 1 < argc && !strcmp(argv[i], "-d")) {
			d = strtod(argv[++i], &end);
			if (*end || !(d >= 0.1 && d <= 3600))
				return usage_error("top -d: '%s' is not 0.1 to 3600 seconds", argv[i]);
			interval_ms = d * 1000;
		} else if (i + 1 < argc && !strcmp(argv[i], "-n")) {
			rounds = strtol(argv[++i], &end, 10);
			if (*end || rounds < 1)
				return usage_error("top -n: '%s' is not a count of rounds", argv[i]);
		} else {
			return usage_error("top takes -d SECONDS and -n COUNT, not '%s'", argv[i]);
		}
	}
	if (sctls_nl_open(&nl))
		return 1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOFBF, 0);
	while (!stop && rounds) {
		json_object *conns = json_object_new_array();
		double now = now_s(CLOCK_MONOTONIC);
		struct timespec pause = { interval_ms / 1000, interval_ms % 1000 * 1000000 };

		err = conns_fetch(&nl, conns);
		if (err) {
			sctls_nl_perror(&nl, "top", err);
			json_object_put(conns);
			break;
		}
		add_rates(conns, prev, prev ? now - last : 0);
		print_round(o, conns, tty);
		fflush(stdout);
		json_object_put(prev);
		prev = conns;
		last = now;
		if (rounds > 0 && !--rounds)
			break;
		while (nanosleep(&pause, &pause) && errno == EINTR && !stop)
			;
	}
	json_object_put(prev);
	sctls_nl_close(&nl);
	return err ? 1 : 0;
}
