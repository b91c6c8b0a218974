// SPDX-License-Identifier: GPL-2.0
/* sctls monitor: the events group, one line per event, until interrupted. */
#include <errno.h>
#include <linux/sctls.h>
#include <netlink/genl/ctrl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "cmds.h"
#include "model.h"
#include "nl.h"
#include "render.h"

static volatile sig_atomic_t stop;
static bool timestamps;

/* The local time, as sctlsd's log has it: 2026-11-29 19:20:01.123. */
static void now_text(char *buf, size_t len)
{
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%03ld", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 now.tv_nsec / 1000000);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int on_event(struct nl_msg *msg, void *arg)
{
	const struct opts *o = arg;
	struct nlattr *tb[SCTLS_A_MAX + 1];
	json_object *event;
	uint8_t cmd;

	if (sctls_nl_parse(msg, tb, &cmd))
		return NL_SKIP;
	event = model_event(tb, cmd);
	if (!event)
		return NL_SKIP;	/* a newer kernel's event */
	if (timestamps) {
		char stamp[64];

		now_text(stamp, sizeof(stamp));
		if (o->json)
			json_object_object_add(event, "time", json_object_new_string(stamp));
		else
			printf("%s ", stamp);
	}
	if (o->json)
		render_json(event, false);
	else
		render_line(event, "event");
	json_object_put(event);
	return NL_OK;
}

int cmd_monitor(const struct opts *o, int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	struct sctls_nl nl;
	int grp, err;

	if (argc > 1 && (!strcmp(argv[1], "-t") || !strcmp(argv[1], "--timestamp"))) {
		timestamps = true;
		argc--;
		argv++;
	}
	if (argc > 1)
		return usage_error("monitor takes only -t, not '%s'", argv[1]);
	if (sctls_nl_open(&nl))
		return 1;
	grp = genl_ctrl_resolve_grp(nl.sk, SCTLS_GENL_NAME, SCTLS_GENL_MCGRP_EVENTS);
	err = grp < 0 ? grp : nl_socket_add_membership(nl.sk, grp);
	if (err) {
		if (err == -NLE_PERM)	/* libnl's code for the kernel's EPERM */
			sctls_nl_perror(&nl, "monitor", -EPERM);
		else
			fprintf(stderr, "sctls: monitor: cannot join the %s group: %s\n",
				SCTLS_GENL_MCGRP_EVENTS, nl_geterror(err));
		sctls_nl_close(&nl);
		return 1;
	}
	nl_socket_disable_seq_check(nl.sk);
	nl_socket_modify_cb(nl.sk, NL_CB_VALID, NL_CB_CUSTOM, on_event, (void *)o);
	nl_socket_set_nonblocking(nl.sk);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Each event as it comes, also into a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	while (!stop) {
		struct pollfd pfd = { .fd = nl_socket_get_fd(nl.sk), .events = POLLIN };

		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("sctls: monitor: poll");
			break;
		}
		err = nl_recvmsgs_default(nl.sk);
		if (err == -NLE_NOMEM) {
			/* The socket overran (ENOBUFS): say so and go on. */
			fprintf(stderr, "sctls: monitor: events were lost (too many at once)\n");
		} else if (err < 0 && err != -NLE_AGAIN) {
			fprintf(stderr, "sctls: monitor: %s\n", nl_geterror(err));
			break;
		}
	}
	sctls_nl_close(&nl);
	return stop ? 0 : 1;
}
