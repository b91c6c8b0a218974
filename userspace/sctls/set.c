// SPDX-License-Identifier: GPL-2.0
/* sctls set, sctls reset. */
#include <errno.h>
#include <inttypes.h>
#include <linux/sctls.h>
#include <netlink/attr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "helper_status.h"
#include "nl.h"

/* A whole decimal number in min..max, or -1. */
static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* "4116,3516" into a nest of type item; u16 or u32 entries. */
static int put_list(struct nl_msg *msg, int nest_type, int item, const char *list,
		    uint32_t min, uint32_t max, unsigned int max_items, const char *what)
{
	struct nlattr *nest = nla_nest_start(msg, nest_type);
	char *copy = strdup(list), *tok, *save = NULL;
	unsigned int n = 0;
	uint32_t v;
	int err = 0;

	if (!nest || !copy) {
		free(copy);
		return -ENOMEM;
	}
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		if (parse_u32(tok, min, max, &v)) {
			err = usage_error("%s: '%s' is not a number in %" PRIu32 "..%" PRIu32,
					  what, tok, min, max);
		} else if (++n > max_items) {
			err = usage_error("%s: at most %u", what, max_items);
		} else if (item == SCTLS_A_PORT ? nla_put_u16(msg, item, v) :
			   nla_put_u32(msg, item, v)) {
			err = -ENOMEM;
		}
	}
	free(copy);
	if (!err && !n)
		err = usage_error("%s: an empty list", what);
	nla_nest_end(msg, nest);
	return err;
}

/*
 * A port served with no card link in sctlsd gets every connection reset:
 * say so, when sctlsd's status file says which links it has.
 */
static void warn_unlinked_ports(int argc, char **argv)
{
	json_object *status;
	double age;
	int i;

	status = helper_status_load(&age);
	if (!status || age > HELPER_STATUS_STALE_S) {
		json_object_put(status);
		return;
	}
	for (i = 1; i + 1 < argc; i += 2) {
		const char *p = argv[i + 1];

		if (strcmp(argv[i], "ports"))
			continue;
		while (*p) {
			char *end;
			unsigned long port = strtoul(p, &end, 10);

			if (!helper_status_has_port(status, port))
				fprintf(stderr, "sctls: warning: sctlsd has no card link for port %lu: "
					"its connections will be reset (add 'link %lu=...' to its "
					"configuration and restart it)\n", port, port);
			p = *end ? end + 1 : end;
		}
	}
	json_object_put(status);
}

int cmd_set(const struct opts *o, int argc, char **argv)
{
	struct sctls_nl nl;
	struct nl_msg *msg;
	uint32_t v;
	int i, err = 0;

	(void)o;
	if (argc < 3 || argc % 2 == 0)
		return usage_error("set needs NAME VALUE pairs: ports, max-conns, window, allow-uids");
	if (sctls_nl_open(&nl))
		return 1;
	msg = sctls_nl_new(&nl, SCTLS_CMD_SET, 0);
	if (!msg)
		err = -ENOMEM;
	for (i = 1; i + 1 < argc && !err; i += 2) {
		const char *name = argv[i], *value = argv[i + 1];

		if (!strcmp(name, "ports")) {
			err = put_list(msg, SCTLS_A_PORTS, SCTLS_A_PORT, value, 1, 65535,
				       SCTLS_MAX_PORTS, "ports");
		} else if (!strcmp(name, "max-conns")) {
			if (parse_u32(value, 1, SCTLS_MAX_CONNS, &v))
				err = usage_error("max-conns: '%s' is not a number in 1..%u",
						  value, SCTLS_MAX_CONNS);
			else
				err = nla_put_u32(msg, SCTLS_A_MAX_CONNS, v) ? -ENOMEM : 0;
		} else if (!strcmp(name, "window")) {
			if (parse_u32(value, SCTLS_MIN_WINDOW, SCTLS_MAX_WINDOW, &v))
				err = usage_error("window: '%s' is not a number of bytes in %u..%u",
						  value, SCTLS_MIN_WINDOW, SCTLS_MAX_WINDOW);
			else
				err = nla_put_u32(msg, SCTLS_A_WINDOW, v) ? -ENOMEM : 0;
		} else if (!strcmp(name, "allow-uids")) {
			if (!strcmp(value, "all")) {
				/* An empty list: everyone. */
				struct nlattr *nest = nla_nest_start(msg, SCTLS_A_ALLOW_UIDS);

				/* libnl drops empty nests unless told. */
				err = nest && !nla_nest_end_keep_empty(msg, nest) ? 0 : -ENOMEM;
			} else {
				err = put_list(msg, SCTLS_A_ALLOW_UIDS, SCTLS_A_UID, value, 0,
					       UINT32_MAX - 1, SCTLS_MAX_ALLOW_UIDS, "allow-uids");
			}
		} else {
			err = usage_error("set: unknown setting '%s' (ports, max-conns, window, allow-uids)",
					  name);
		}
	}
	if (err == EXIT_USAGE) {
		nlmsg_free(msg);
		sctls_nl_close(&nl);
		return EXIT_USAGE;
	}
	if (!err)
		err = sctls_nl_call(&nl, msg, NULL, NULL);
	else
		nlmsg_free(msg);
	if (err)
		sctls_nl_perror(&nl, "set", err);
	else
		warn_unlinked_ports(argc, argv);
	sctls_nl_close(&nl);
	return err ? 1 : 0;
}

int cmd_reset(const struct opts *o, int argc, char **argv)
{
	struct sctls_nl nl;
	struct nl_msg *msg;
	uint32_t id;
	int err;

	(void)o;
	if (argc != 2 || parse_u32(argv[1], 1, UINT32_MAX, &id))
		return usage_error("reset needs one connection id (see 'sctls conns')");
	if (sctls_nl_open(&nl))
		return 1;
	msg = sctls_nl_new(&nl, SCTLS_CMD_RESET, 0);
	err = !msg || nla_put_u32(msg, SCTLS_A_CONN_ID, id) ? -ENOMEM : 0;
	if (!err)
		err = sctls_nl_call(&nl, msg, NULL, NULL);
	else
		nlmsg_free(msg);
	if (err == -ENOENT)
		fprintf(stderr, "sctls: reset: no connection with id %" PRIu32
			" (see 'sctls conns')\n", id);
	else if (err)
		sctls_nl_perror(&nl, "reset", err);
	sctls_nl_close(&nl);
	return err ? 1 : 0;
}
