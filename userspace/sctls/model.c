// SPDX-License-Identifier: GPL-2.0
/* Netlink attributes, already checked against the reply policy, as JSON. */
#include <arpa/inet.h>
#include <linux/sctls.h>
#include <string.h>
#include <sys/socket.h>

#include "model.h"

static void add_u64(json_object *o, const char *key, struct nlattr *a)
{
	if (a)
		json_object_object_add(o, key, json_object_new_uint64(nla_get_u64(a)));
}

static void add_u32(json_object *o, const char *key, struct nlattr *a)
{
	if (a)
		json_object_object_add(o, key, json_object_new_int64(nla_get_u32(a)));
}

/* uid or pid: null when the kernel could not tell. */
static void add_id(json_object *o, const char *key, struct nlattr *a)
{
	if (!a)
		return;
	json_object_object_add(o, key, nla_get_u32(a) == SCTLS_ID_UNKNOWN ? NULL :
				json_object_new_int64(nla_get_u32(a)));
}

/* The entries of a nested list of u16 or u32 attributes of one type. */
static json_object *id_list(struct nlattr *nest, int type)
{
	json_object *list = json_object_new_array();
	struct nlattr *a;
	int rem;

	if (!nest)
		return list;
	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) != type)
			continue;
		if (type == SCTLS_A_PORT && nla_len(a) >= 2)
			json_object_array_add(list, json_object_new_int(nla_get_u16(a)));
		else if (type == SCTLS_A_UID && nla_len(a) >= 4)
			json_object_array_add(list, json_object_new_int64(nla_get_u32(a)));
	}
	return list;
}

static const char *const stat_names[SCTLS_STAT_MAX + 1] = {
	[SCTLS_STAT_ACCEPTED] = "accepted",
	[SCTLS_STAT_ACTIVE] = "active",
	[SCTLS_STAT_REFUSED_NO_HELPER] = "refused_no_helper",
	[SCTLS_STAT_REFUSED_MAX_CONNS] = "refused_max_conns",
	[SCTLS_STAT_REFUSED_POLICY] = "refused_policy",
	[SCTLS_STAT_CLOSED_APP] = "closed_app",
	[SCTLS_STAT_CLOSED_HELPER] = "closed_helper",
	[SCTLS_STAT_CLOSED_RESET] = "closed_reset",
	[SCTLS_STAT_CLOSED_APP_LEFT] = "closed_app_left",
	[SCTLS_STAT_BYTES_FROM_APP] = "bytes_from_app",
	[SCTLS_STAT_BYTES_TO_APP] = "bytes_to_app",
	[SCTLS_STAT_FRAMES_DROPPED] = "frames_dropped",
	[SCTLS_STAT_WRITES_REJECTED] = "writes_rejected",
	[SCTLS_STAT_REFUSED_NOT_LOCAL] = "refused_not_local",
};

/* The counters in the order above; ones this build does not know are left out. */
static json_object *stats(struct nlattr *nest)
{
	static const int order[] = {
		SCTLS_STAT_ACCEPTED, SCTLS_STAT_ACTIVE, SCTLS_STAT_REFUSED_NO_HELPER,
		SCTLS_STAT_REFUSED_MAX_CONNS, SCTLS_STAT_REFUSED_POLICY,
		SCTLS_STAT_REFUSED_NOT_LOCAL, SCTLS_STAT_CLOSED_APP, SCTLS_STAT_CLOSED_APP_LEFT,
		SCTLS_STAT_CLOSED_HELPER, SCTLS_STAT_CLOSED_RESET,
		SCTLS_STAT_BYTES_FROM_APP, SCTLS_STAT_BYTES_TO_APP,
		SCTLS_STAT_FRAMES_DROPPED, SCTLS_STAT_WRITES_REJECTED,
	};
	struct nlattr *tb[SCTLS_STAT_MAX + 1];
	json_object *o = json_object_new_object();
	unsigned int i;

	if (!nest || nla_parse_nested(tb, SCTLS_STAT_MAX, nest, NULL) < 0)
		return o;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		struct nlattr *a = tb[order[i]];

		if (a && nla_len(a) == 8)
			add_u64(o, stat_names[order[i]], a);
	}
	return o;
}

json_object *model_state(struct nlattr **tb)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ports", id_list(tb[SCTLS_A_PORTS], SCTLS_A_PORT));
	/* Served ports another socket had first: not served until it lets go. */
	json_object_object_add(o, "ports_taken", id_list(tb[SCTLS_A_PORTS_UNHELD], SCTLS_A_PORT));
	add_u32(o, "max_conns", tb[SCTLS_A_MAX_CONNS]);
	add_u32(o, "window", tb[SCTLS_A_WINDOW]);
	json_object_object_add(o, "allow_uids", id_list(tb[SCTLS_A_ALLOW_UIDS], SCTLS_A_UID));
	json_object_object_add(o, "helper_pid", tb[SCTLS_A_HELPER_PID] ?
			       json_object_new_int64(nla_get_u32(tb[SCTLS_A_HELPER_PID])) :
			       NULL);
	json_object_object_add(o, "stats", stats(tb[SCTLS_A_STATS]));
	return o;
}

static void add_addr(json_object *o, const char *key, struct nlattr *a, int family)
{
	char text[INET6_ADDRSTRLEN];
	int len = family == AF_INET ? 4 : 16;

	if (!a || nla_len(a) != len || !inet_ntop(family, nla_data(a), text, sizeof(text)))
		return;
	json_object_object_add(o, key, json_object_new_string(text));
}

static const char *state_name(unsigned int state)
{
	switch (state) {
	case SCTLS_CONN_NEW: return "new";
	case SCTLS_CONN_ESTABLISHED: return "established";
	case SCTLS_CONN_APP_FIN: return "app-fin";
	case SCTLS_CONN_HELPER_FIN: return "helper-fin";
	case SCTLS_CONN_CLOSING: return "closing";
	default: return "unknown";
	}
}

json_object *model_conn(struct nlattr **tb)
{
	json_object *o = json_object_new_object();
	int family = tb[SCTLS_A_FAMILY] ? nla_get_u16(tb[SCTLS_A_FAMILY]) : 0;

	add_u32(o, "id", tb[SCTLS_A_CONN_ID]);
	if (tb[SCTLS_A_CONN_STATE])
		json_object_object_add(o, "state", json_object_new_string(
				       state_name(nla_get_u8(tb[SCTLS_A_CONN_STATE]))));
	if (family == AF_INET || family == AF_INET6) {
		add_addr(o, "peer_addr", tb[SCTLS_A_PEER_ADDR], family);
		if (tb[SCTLS_A_PEER_PORT])
			json_object_object_add(o, "peer_port",
					       json_object_new_int(nla_get_u16(tb[SCTLS_A_PEER_PORT])));
		add_addr(o, "local_addr", tb[SCTLS_A_LOCAL_ADDR], family);
		if (tb[SCTLS_A_LOCAL_PORT])
			json_object_object_add(o, "local_port",
					       json_object_new_int(nla_get_u16(tb[SCTLS_A_LOCAL_PORT])));
	}
	add_id(o, "uid", tb[SCTLS_A_UID]);
	add_id(o, "pid", tb[SCTLS_A_PID]);
	if (tb[SCTLS_A_COMM])
		json_object_object_add(o, "comm", json_object_new_string(nla_get_string(tb[SCTLS_A_COMM])));
	add_u64(o, "bytes_from_app", tb[SCTLS_A_BYTES_FROM_APP]);
	add_u64(o, "bytes_to_app", tb[SCTLS_A_BYTES_TO_APP]);
	add_u32(o, "credit_to_helper", tb[SCTLS_A_CREDIT_TO_HELPER]);
	add_u32(o, "credit_from_helper", tb[SCTLS_A_CREDIT_FROM_HELPER]);
	add_u64(o, "age_ms", tb[SCTLS_A_AGE_MS]);
	return o;
}

static const char *reason_name(unsigned int reason)
{
	switch (reason) {
	case SCTLS_CLOSED_APP: return "app";
	case SCTLS_CLOSED_HELPER: return "helper";
	case SCTLS_CLOSED_APP_RESET: return "app-reset";
	case SCTLS_CLOSED_HELPER_RESET: return "helper-reset";
	case SCTLS_CLOSED_ADMIN: return "admin-reset";
	case SCTLS_CLOSED_HELPER_GONE: return "helper-gone";
	case SCTLS_CLOSED_ERROR: return "error";
	case SCTLS_CLOSED_TIMEOUT: return "timeout";
	case SCTLS_CLOSED_APP_LEFT: return "app-left";
	default: return "unknown";
	}
}

json_object *model_event(struct nlattr **tb, unsigned int cmd)
{
	json_object *o = json_object_new_object();
	json_object *conn;
	const char *name;

	switch (cmd) {
	case SCTLS_CMD_EV_OPEN:
		json_object_object_add(o, "event", json_object_new_string("open"));
		conn = model_conn(tb);
		json_object_object_foreach(conn, key, val)
			json_object_object_add(o, key, json_object_get(val));
		json_object_put(conn);
		return o;
	case SCTLS_CMD_EV_CLOSE:
		json_object_object_add(o, "event", json_object_new_string("close"));
		add_u32(o, "id", tb[SCTLS_A_CONN_ID]);
		if (tb[SCTLS_A_CLOSE_REASON])
			json_object_object_add(o, "reason", json_object_new_string(
					       reason_name(nla_get_u8(tb[SCTLS_A_CLOSE_REASON]))));
		if (tb[SCTLS_A_CLOSE_ERRNO] && nla_get_u32(tb[SCTLS_A_CLOSE_ERRNO])) {
			name = strerrorname_np(nla_get_u32(tb[SCTLS_A_CLOSE_ERRNO]));
			json_object_object_add(o, "error", json_object_new_string(name ? name : "?"));
		}
		add_u64(o, "bytes_from_app", tb[SCTLS_A_BYTES_FROM_APP]);
		add_u64(o, "bytes_to_app", tb[SCTLS_A_BYTES_TO_APP]);
		return o;
	case SCTLS_CMD_EV_HELPER_ATTACH:
	case SCTLS_CMD_EV_HELPER_DETACH:
		json_object_object_add(o, "event", json_object_new_string(
				       cmd == SCTLS_CMD_EV_HELPER_ATTACH ? "helper-attach" :
				       "helper-detach"));
		add_u32(o, "helper_pid", tb[SCTLS_A_HELPER_PID]);
		return o;
	default:
		json_object_put(o);
		return NULL;
	}
}
