// SPDX-License-Identifier: GPL-2.0
/*
 * Requests to the sctls generic netlink family and their replies. libnl-3.7
 * does not read extended ACKs, so the socket asks for them and the error
 * callback reads the message itself.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/sctls.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* What replies may carry; the kernel is checked like any other input. */
static struct nla_policy reply_policy[SCTLS_A_MAX + 1] = {
	[SCTLS_A_PORTS] = { .type = NLA_NESTED },
	[SCTLS_A_PORT] = { .type = NLA_U16 },
	[SCTLS_A_MAX_CONNS] = { .type = NLA_U32 },
	[SCTLS_A_WINDOW] = { .type = NLA_U32 },
	[SCTLS_A_ALLOW_UIDS] = { .type = NLA_NESTED },
	[SCTLS_A_UID] = { .type = NLA_U32 },
	[SCTLS_A_HELPER_PID] = { .type = NLA_U32 },
	[SCTLS_A_STATS] = { .type = NLA_NESTED },
	[SCTLS_A_CONN_ID] = { .type = NLA_U32 },
	[SCTLS_A_FAMILY] = { .type = NLA_U16 },
	[SCTLS_A_LOCAL_ADDR] = { .minlen = 4, .maxlen = 16 },
	[SCTLS_A_LOCAL_PORT] = { .type = NLA_U16 },
	[SCTLS_A_PEER_ADDR] = { .minlen = 4, .maxlen = 16 },
	[SCTLS_A_PEER_PORT] = { .type = NLA_U16 },
	[SCTLS_A_PID] = { .type = NLA_U32 },
	[SCTLS_A_COMM] = { .type = NLA_STRING, .maxlen = SCTLS_COMM_LEN },
	[SCTLS_A_CONN_STATE] = { .type = NLA_U8 },
	[SCTLS_A_BYTES_FROM_APP] = { .type = NLA_U64 },
	[SCTLS_A_BYTES_TO_APP] = { .type = NLA_U64 },
	[SCTLS_A_CREDIT_TO_HELPER] = { .type = NLA_U32 },
	[SCTLS_A_CREDIT_FROM_HELPER] = { .type = NLA_U32 },
	[SCTLS_A_AGE_MS] = { .type = NLA_U64 },
	[SCTLS_A_CLOSE_REASON] = { .type = NLA_U8 },
	[SCTLS_A_CLOSE_ERRNO] = { .type = NLA_U32 },
	[SCTLS_A_PORTS_UNHELD] = { .type = NLA_NESTED },
};

int sctls_nl_open(struct sctls_nl *nl)
{
	int one = 1, err;

	memset(nl, 0, sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		fprintf(stderr, "sctls: out of memory\n");
		return -1;
	}
	err = genl_connect(nl->sk);
	if (err) {
		fprintf(stderr, "sctls: cannot open a netlink socket: %s\n", nl_geterror(err));
		goto err;
	}
	/* Errors with the kernel's reason; the request itself not echoed. */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, SCTLS_GENL_NAME);
	if (nl->family < 0) {
		fprintf(stderr, "sctls: the sctls kernel module is not loaded "
			"(no generic netlink family \"%s\"): load it with 'modprobe sctls' "
			"or 'insmod sctls.ko'\n", SCTLS_GENL_NAME);
		goto err;
	}
	return 0;
err:
	nl_socket_free(nl->sk);
	nl->sk = NULL;
	return -1;
}

void sctls_nl_close(struct sctls_nl *nl)
{
	nl_socket_free(nl->sk);
	nl->sk = NULL;
}

struct nl_msg *sctls_nl_new(struct sctls_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
				flags | NLM_F_ACK, cmd, SCTLS_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

int sctls_nl_parse(struct nl_msg *msg, struct nlattr **tb, uint8_t *cmd)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	if (genlmsg_parse(nlh, 0, tb, SCTLS_A_MAX, reply_policy) < 0)
		return -EBADMSG;
	*cmd = genlmsg_hdr(nlh)->cmd;
	return 0;
}

struct call {
	struct sctls_nl *nl;
	sctls_nl_reply_fn fn;
	void *arg;
	int err;
	bool done;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct call *c = arg;
	struct nlattr *tb[SCTLS_A_MAX + 1];
	uint8_t cmd;
	int err;

	err = sctls_nl_parse(msg, tb, &cmd);
	if (!err && c->fn)
		err = c->fn(tb, cmd, c->arg);
	if (err && !c->err)
		c->err = err;
	return NL_OK;
}

static int on_done(struct nl_msg *msg, void *arg)
{
	struct call *c = arg;

	(void)msg;
	c->done = true;
	return NL_STOP;
}

/* The extended ACK's message, if the kernel sent one. */
static void read_extack(struct sctls_nl *nl, struct nlmsgerr *e)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t off = NLMSG_HDRLEN + sizeof(*e);

	nl->extack[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || nlh->nlmsg_len <= off)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)nlh + off),
		      nlh->nlmsg_len - off, NULL) < 0 || !tb[NLMSGERR_ATTR_MSG])
		return;
	snprintf(nl->extack, sizeof(nl->extack), "%.*s",
		 (int)strnlen(nla_data(tb[NLMSGERR_ATTR_MSG]), nla_len(tb[NLMSGERR_ATTR_MSG])),
		 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct call *c = arg;

	(void)who;
	read_extack(c->nl, e);
	c->err = e->error < 0 ? e->error : -EPROTO;
	c->done = true;
	return NL_STOP;
}

int sctls_nl_call(struct sctls_nl *nl, struct nl_msg *msg, sctls_nl_reply_fn fn, void *arg)
{
	struct call c = { .nl = nl, .fn = fn, .arg = arg };
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int err;

	nl->extack[0] = '\0';
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &c);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_done, &c);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, &c);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &c);

	err = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	while (err >= 0 && !c.done) {
		err = nl_recvmsgs(nl->sk, cb);
		if (err < 0 && !c.done)
			c.err = -EIO;
	}
	if (err < 0 && !c.err)
		c.err = -EIO;
	nl_cb_put(cb);
	return c.err;
}

void sctls_nl_perror(const struct sctls_nl *nl, const char *what, int err)
{
	const char *why = nl->extack[0] ? nl->extack : NULL;

	switch (-err) {
	case EPERM:
		fprintf(stderr, "sctls: %s: permission denied%s%s: this needs CAP_NET_ADMIN "
			"in the network namespace (run it as root)\n", what,
			why ? ": " : "", why ? why : "");
		break;
	case EBADMSG:
		fprintf(stderr, "sctls: %s: malformed reply from the kernel\n", what);
		break;
	case EIO:
		fprintf(stderr, "sctls: %s: netlink communication failed\n", what);
		break;
	default:
		fprintf(stderr, "sctls: %s: %s%s%s\n", what, strerror(-err),
			why ? ": " : "", why ? why : "");
	}
}
