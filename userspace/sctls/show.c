// SPDX-License-Identifier: GPL-2.0
/* sctls show, sctls conns. */
#include <errno.h>
#include <linux/sctls.h>
#include <netlink/netlink.h>
#include <stdio.h>

#include "cmds.h"
#include "helper_status.h"
#include "model.h"
#include "nl.h"
#include "render.h"

static int add_state(struct nlattr **tb, uint8_t cmd, void *arg)
{
	json_object **state = arg;

	if (cmd != SCTLS_CMD_GET || *state)
		return -EBADMSG;
	*state = model_state(tb);
	return 0;
}

/* Human words for what JSON says with an empty list or null. */
static void humanize_state(json_object *state)
{
	json_object *v;

	if (json_object_object_get_ex(state, "allow_uids", &v) &&
	    !json_object_array_length(v))
		json_object_object_add(state, "allow_uids", json_object_new_string("all"));
	if (json_object_object_get_ex(state, "helper_pid", &v) && !v)
		json_object_object_add(state, "helper_pid", json_object_new_string("none"));
}

int cmd_show(const struct opts *o, int argc, char **argv)
{
	json_object *state = NULL;
	struct sctls_nl nl;
	struct nl_msg *msg;
	int err;

	(void)argv;
	if (argc > 1)
		return usage_error("show takes no arguments");
	if (sctls_nl_open(&nl))
		return 1;
	msg = sctls_nl_new(&nl, SCTLS_CMD_GET, 0);
	err = msg ? sctls_nl_call(&nl, msg, add_state, &state) : -ENOMEM;
	if (!err && !state)
		err = -EBADMSG;
	if (err) {
		sctls_nl_perror(&nl, "show", err);
	} else {
		json_object *status, *pid;
		int64_t helper_pid = -1;
		double age = 0;

		if (json_object_object_get_ex(state, "helper_pid", &pid) && pid)
			helper_pid = json_object_get_int64(pid);
		status = helper_status_load(&age);
		if (o->json) {
			/* sctlsd's own words, with how old they are. */
			if (status)
				json_object_object_add(status, "age_s", json_object_new_double(age));
			json_object_object_add(state, "sctlsd", status);
			render_json(state, o->pretty);
		} else {
			humanize_state(state);
			render_list(state);
			if (helper_pid < 0)
				printf("%-19s%s\n", "card-links", "no helper attached");
			else
				helper_status_print(status, age, helper_pid);
			json_object_put(status);
		}
	}
	json_object_put(state);
	sctls_nl_close(&nl);
	return err ? 1 : 0;
}

static int add_conn(struct nlattr **tb, uint8_t cmd, void *arg)
{
	if (cmd != SCTLS_CMD_CONNS || !tb[SCTLS_A_CONN_ID])
		return -EBADMSG;
	json_object_array_add(arg, model_conn(tb));
	return 0;
}

static const struct column conn_columns[] = {
	{ "ID", "id", NULL, true },
	{ "STATE", "state", NULL, false },
	{ "PEER", "peer_addr", "peer_port", false },
	{ "LOCAL", "local_addr", "local_port", false },
	{ "UID", "uid", NULL, true },
	{ "PID", "pid", NULL, true },
	{ "COMM", "comm", NULL, false },
	{ "BYTES-FROM-APP", "bytes_from_app", NULL, true },
	{ "BYTES-TO-APP", "bytes_to_app", NULL, true },
	{ "CREDIT-TO-HELPER", "credit_to_helper", NULL, true },
	{ "CREDIT-FROM-HELPER", "credit_from_helper", NULL, true },
	{ "AGE-MS", "age_ms", NULL, true },
};

int conns_fetch(struct sctls_nl *nl, json_object *conns)
{
	struct nl_msg *msg = sctls_nl_new(nl, SCTLS_CMD_CONNS, NLM_F_DUMP);

	return msg ? sctls_nl_call(nl, msg, add_conn, conns) : -ENOMEM;
}

int cmd_conns(const struct opts *o, int argc, char **argv)
{
	json_object *conns = json_object_new_array();
	struct sctls_nl nl;
	int err;

	(void)argv;
	if (argc > 1) {
		json_object_put(conns);
		return usage_error("conns takes no arguments");
	}
	if (sctls_nl_open(&nl)) {
		json_object_put(conns);
		return 1;
	}
	err = conns_fetch(&nl, conns);
	if (err)
		sctls_nl_perror(&nl, "conns", err);
	else if (o->json)
		render_json(conns, o->pretty);
	else
		render_table(conns, conn_columns, sizeof(conn_columns) / sizeof(conn_columns[0]));
	json_object_put(conns);
	sctls_nl_close(&nl);
	return err ? 1 : 0;
}
