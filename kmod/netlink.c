// SPDX-License-Identifier: GPL-2.0
/*
 * sctls: the generic netlink family "sctls". Per network namespace: the
 * configuration, the counters, the connections, and an events group. The
 * commands and attributes are documented in uapi/linux/sctls.h.
 */
#include <linux/pid.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "compat.h"
#include "internal.h"

enum { SCTLS_MCGRP_EVENTS };

/*
 * Events name the apps that connect: for administrators only. A kernel
 * that cannot restrict a group to them gets no events group at all.
 */
#ifdef GENL_MCAST_CAP_NET_ADMIN
static const struct genl_multicast_group sctls_mcgrps[] = {
	[SCTLS_MCGRP_EVENTS] = { .name = SCTLS_GENL_MCGRP_EVENTS,
				 .flags = GENL_MCAST_CAP_NET_ADMIN },
};

#define SCTLS_NR_MCGRPS		ARRAY_SIZE(sctls_mcgrps)
#else
#define sctls_mcgrps		NULL
#define SCTLS_NR_MCGRPS		0
#endif

static const struct nla_policy sctls_port_list_policy[SCTLS_A_MAX + 1] = {
	[SCTLS_A_PORT] = { .type = NLA_U16 },
};

static const struct nla_policy sctls_uid_list_policy[SCTLS_A_MAX + 1] = {
	[SCTLS_A_UID] = { .type = NLA_U32 },
};

static const struct nla_policy sctls_set_policy[SCTLS_A_MAX + 1] = {
	[SCTLS_A_PORTS] = NLA_POLICY_NESTED(sctls_port_list_policy),
	/* Ranges are checked in sctls_nl_set: EINVAL, as for every bad value. */
	[SCTLS_A_MAX_CONNS] = { .type = NLA_U32 },
	[SCTLS_A_WINDOW] = { .type = NLA_U32 },
	[SCTLS_A_ALLOW_UIDS] = NLA_POLICY_NESTED(sctls_uid_list_policy),
};

static const struct nla_policy sctls_reset_policy[SCTLS_A_MAX + 1] = {
	[SCTLS_A_CONN_ID] = { .type = NLA_U32 },
};

/* For commands that take no attributes: strict validation rejects any. */
static const struct nla_policy sctls_no_policy[SCTLS_A_MAX + 1];

static struct genl_family sctls_genl_family;

static struct user_namespace *sctls_sender_user_ns(struct sk_buff *skb)
{
	return sk_user_ns(NETLINK_CB(skb).sk);
}

static int sctls_put_stats(struct sk_buff *skb, struct sctls_net *sn)
{
	const struct sctls_stats *st = &sn->stats;
	struct sctls_helper *helper = sn->helper;
	const struct {
		int type;
		u64 value;
	} counters[] = {
		{ SCTLS_STAT_ACCEPTED, st->accepted },
		{ SCTLS_STAT_REFUSED_NO_HELPER,
		  atomic64_read(&sn->refused_no_helper) },
		{ SCTLS_STAT_REFUSED_MAX_CONNS, st->refused_max },
		{ SCTLS_STAT_REFUSED_POLICY, st->refused_policy },
		{ SCTLS_STAT_ACTIVE, helper ? helper->nr_conns : 0 },
		{ SCTLS_STAT_CLOSED_APP, st->closed_app },
		{ SCTLS_STAT_CLOSED_HELPER, st->closed_helper },
		{ SCTLS_STAT_CLOSED_RESET, st->closed_reset },
		{ SCTLS_STAT_BYTES_FROM_APP, st->bytes_from_app },
		{ SCTLS_STAT_BYTES_TO_APP, st->bytes_to_app },
		{ SCTLS_STAT_FRAMES_DROPPED, st->frames_dropped },
		{ SCTLS_STAT_WRITES_REJECTED, st->writes_rejected },
		{ SCTLS_STAT_REFUSED_NOT_LOCAL, st->refused_not_local },
		{ SCTLS_STAT_CLOSED_APP_LEFT, st->closed_app_left },
	};
	struct nlattr *nest;
	unsigned int i;

	nest = nla_nest_start(skb, SCTLS_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < ARRAY_SIZE(counters); i++)
		if (nla_put_u64_64bit(skb, counters[i].type, counters[i].value,
				      SCTLS_STAT_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int sctls_put_config(struct sk_buff *skb, const struct sctls_config *cfg,
			    struct user_namespace *user_ns)
{
	struct nlattr *nest;
	unsigned int i;

	nest = nla_nest_start(skb, SCTLS_A_PORTS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < cfg->nr_ports; i++)
		if (nla_put_u16(skb, SCTLS_A_PORT, cfg->ports[i]))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);

	if (nla_put_u32(skb, SCTLS_A_MAX_CONNS, cfg->max_conns) ||
	    nla_put_u32(skb, SCTLS_A_WINDOW, cfg->window))
		return -EMSGSIZE;

	nest = nla_nest_start(skb, SCTLS_A_ALLOW_UIDS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < cfg->nr_uids; i++)
		if (nla_put_u32(skb, SCTLS_A_UID,
				sctls_from_kuid(user_ns, cfg->uids[i])))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* Served ports that another socket had first: not served until freed. */
static int sctls_put_unheld(struct sk_buff *skb, struct sctls_net *sn)
{
	struct nlattr *nest;
	unsigned int i;

	nest = nla_nest_start(skb, SCTLS_A_PORTS_UNHELD);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < sn->ports.nr; i++)
		if (sn->ports.port[i].err &&
		    nla_put_u16(skb, SCTLS_A_PORT, sn->ports.port[i].port))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* Config, helper and counters, read under sn->lock and the helper's io_lock. */
static int sctls_fill_state(struct sk_buff *skb, struct sctls_net *sn,
			    struct user_namespace *user_ns)
{
	struct sctls_helper *helper;
	int err;

	mutex_lock(&sn->lock);
	helper = sn->helper;
	if (helper)
		mutex_lock(&helper->io_lock);
	err = sctls_put_config(skb, sctls_config_locked(sn), user_ns);
	if (!err)
		err = sctls_put_unheld(skb, sn);
	if (!err && helper &&
	    nla_put_u32(skb, SCTLS_A_HELPER_PID,
			pid_nr_ns(helper->pid, helper->pid_ns)))
		err = -EMSGSIZE;
	if (!err)
		err = sctls_put_stats(skb, sn);
	if (helper)
		mutex_unlock(&helper->io_lock);
	mutex_unlock(&sn->lock);
	return err;
}

static int sctls_nl_get(struct sk_buff *skb, struct genl_info *info)
{
	struct sctls_net *sn = sctls_net(genl_info_net(info));
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &sctls_genl_family, 0, SCTLS_CMD_GET);
	if (!hdr) {
		err = -EMSGSIZE;
		goto err_free;
	}
	err = sctls_fill_state(msg, sn, sctls_sender_user_ns(skb));
	if (err)
		goto err_free;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free:
	nlmsg_free(msg);
	return err;
}

/* Ports from a validated SCTLS_A_PORTS: at least one, at most 8, distinct. */
static int sctls_parse_ports(struct sctls_config *cfg, const struct nlattr *list,
			     struct netlink_ext_ack *extack)
{
	const struct nlattr *attr;
	unsigned int i;
	int rem;

	cfg->nr_ports = 0;
	nla_for_each_nested(attr, list, rem) {
		u16 port = nla_get_u16(attr);

		if (!port) {
			NL_SET_ERR_MSG_ATTR(extack, attr, "port 0 is not a port");
			return -EINVAL;
		}
		if (cfg->nr_ports == SCTLS_MAX_PORTS) {
			NL_SET_ERR_MSG_ATTR(extack, attr, "at most 8 ports");
			return -EINVAL;
		}
		for (i = 0; i < cfg->nr_ports; i++) {
			if (cfg->ports[i] == port) {
				NL_SET_ERR_MSG_ATTR(extack, attr,
						    "port given twice");
				return -EINVAL;
			}
		}
		cfg->ports[cfg->nr_ports++] = port;
	}
	if (!cfg->nr_ports) {
		NL_SET_ERR_MSG_ATTR(extack, list, "at least one port is needed");
		return -EINVAL;
	}
	return 0;
}

/* uids from a validated SCTLS_A_ALLOW_UIDS; none allows everyone. */
static int sctls_parse_uids(struct sctls_config *cfg, const struct nlattr *list,
			    struct user_namespace *user_ns,
			    struct netlink_ext_ack *extack)
{
	const struct nlattr *attr;
	int rem;

	cfg->nr_uids = 0;
	nla_for_each_nested(attr, list, rem) {
		kuid_t uid = sctls_make_kuid(user_ns, nla_get_u32(attr));

		if (cfg->nr_uids == SCTLS_MAX_ALLOW_UIDS) {
			NL_SET_ERR_MSG_ATTR(extack, attr, "at most 64 uids");
			return -EINVAL;
		}
		if (!uid_valid(uid)) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "uid not mapped in this user namespace");
			return -EINVAL;
		}
		cfg->uids[cfg->nr_uids++] = uid;
	}
	return 0;
}

/* All or nothing: parse into a copy, listen on new ports, then swap. */
static int sctls_nl_set(struct sk_buff *skb, struct genl_info *info)
{
	struct sctls_net *sn = sctls_net(genl_info_net(info));
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **attrs = info->attrs;
	struct sctls_config *cfg, *old;
	struct sctls_helper *helper;
	int err;

	if (!attrs[SCTLS_A_PORTS] && !attrs[SCTLS_A_MAX_CONNS] &&
	    !attrs[SCTLS_A_WINDOW] && !attrs[SCTLS_A_ALLOW_UIDS]) {
		NL_SET_ERR_MSG(extack, "nothing to set");
		return -EINVAL;
	}

	mutex_lock(&sn->lock);
	old = sctls_config_locked(sn);
	cfg = kmemdup(old, sizeof(*cfg), GFP_KERNEL_ACCOUNT);
	if (!cfg) {
		err = -ENOMEM;
		goto out_unlock;
	}
	err = 0;
	if (attrs[SCTLS_A_PORTS])
		err = sctls_parse_ports(cfg, attrs[SCTLS_A_PORTS], extack);
	if (!err && attrs[SCTLS_A_ALLOW_UIDS])
		err = sctls_parse_uids(cfg, attrs[SCTLS_A_ALLOW_UIDS],
				       sctls_sender_user_ns(skb), extack);
	if (!err && attrs[SCTLS_A_MAX_CONNS]) {
		cfg->max_conns = nla_get_u32(attrs[SCTLS_A_MAX_CONNS]);
		if (cfg->max_conns < 1 || cfg->max_conns > SCTLS_MAX_CONNS) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[SCTLS_A_MAX_CONNS],
					    "max_conns must be 1..65536");
			err = -EINVAL;
		}
	}
	if (!err && attrs[SCTLS_A_WINDOW]) {
		cfg->window = nla_get_u32(attrs[SCTLS_A_WINDOW]);
		if (cfg->window < SCTLS_MIN_WINDOW ||
		    cfg->window > SCTLS_MAX_WINDOW) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[SCTLS_A_WINDOW],
					    "window must be 4096..16777216 bytes");
			err = -EINVAL;
		}
	}
	if (err)
		goto out_free;

	/* Configuring a namespace serves it: its ports are held from now. */
	helper = sn->helper;
	if (helper)
		mutex_lock(&helper->io_lock);
	err = sn->served ? sctls_ports_update(sn, cfg, extack) :
			   sctls_serve(sn, cfg, true, extack);
	/* Accepts read the config under io_lock, not RCU. */
	if (!err)
		rcu_assign_pointer(sn->config, cfg);
	if (helper)
		mutex_unlock(&helper->io_lock);
	if (err)
		goto out_free;
	mutex_unlock(&sn->lock);
	kfree_rcu(old, rcu);
	return 0;

out_free:
	kfree(cfg);
out_unlock:
	mutex_unlock(&sn->lock);
	return err;
}

/* One message per connection; cb->args[0] is the next id to report. */
static int sctls_nl_conns(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct sctls_net *sn = sctls_net(sock_net(skb->sk));
	struct user_namespace *user_ns = sctls_sender_user_ns(cb->skb);
	unsigned long id = cb->args[0];
	struct sctls_helper *helper;
	struct sctls_conn *conn;
	int err = 0;

	mutex_lock(&sn->lock);
	helper = sn->helper;
	if (!helper)
		goto out;
	mutex_lock(&helper->io_lock);
	xa_for_each_start(&helper->conns, id, conn, id) {
		void *hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
					cb->nlh->nlmsg_seq, &sctls_genl_family,
					NLM_F_MULTI, SCTLS_CMD_CONNS);

		if (!hdr) {
			err = -EMSGSIZE;
			break;
		}
		err = sctls_conn_fill(skb, conn, user_ns);
		if (err) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = id + 1;
	}
	mutex_unlock(&helper->io_lock);
out:
	mutex_unlock(&sn->lock);
	/* A full buffer ends this part of the dump; the next one goes on. */
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ? err : skb->len;
}

static int sctls_nl_reset(struct sk_buff *skb, struct genl_info *info)
{
	struct sctls_net *sn = sctls_net(genl_info_net(info));
	struct sctls_helper *helper;
	int err = -ENOENT;

	if (GENL_REQ_ATTR_CHECK(info, SCTLS_A_CONN_ID))
		return -EINVAL;

	mutex_lock(&sn->lock);
	helper = sn->helper;
	if (helper) {
		mutex_lock(&helper->io_lock);
		err = sctls_conn_reset(helper,
				       nla_get_u32(info->attrs[SCTLS_A_CONN_ID]));
		mutex_unlock(&helper->io_lock);
	}
	mutex_unlock(&sn->lock);
	if (err == -ENOENT)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[SCTLS_A_CONN_ID],
				    "no such connection");
	return err;
}

static const struct genl_ops sctls_genl_ops[] = {
	{
		.cmd = SCTLS_CMD_GET,
		.doit = sctls_nl_get,
		.policy = sctls_no_policy,
		.maxattr = SCTLS_A_MAX,
	},
	{
		.cmd = SCTLS_CMD_SET,
		.doit = sctls_nl_set,
		.policy = sctls_set_policy,
		.maxattr = SCTLS_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		/* Who connected, with pid and command: administrators only. */
		.cmd = SCTLS_CMD_CONNS,
		.dumpit = sctls_nl_conns,
		.policy = sctls_no_policy,
		.maxattr = SCTLS_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = SCTLS_CMD_RESET,
		.doit = sctls_nl_reset,
		.policy = sctls_reset_policy,
		.maxattr = SCTLS_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family sctls_genl_family __ro_after_init = {
	.name = SCTLS_GENL_NAME,
	.version = SCTLS_GENL_VERSION,
	.maxattr = SCTLS_A_MAX,
	.netnsok = true,
	.parallel_ops = true,	/* sctls_net.lock and io_lock suffice */
	.module = THIS_MODULE,
	.ops = sctls_genl_ops,
	.n_ops = ARRAY_SIZE(sctls_genl_ops),
	.mcgrps = sctls_mcgrps,
	.n_mcgrps = SCTLS_NR_MCGRPS,
};

/* `sctls show` loads the module: genetlink asks for this alias. */
MODULE_ALIAS_GENL_FAMILY(SCTLS_GENL_NAME);

/*
 * An event message of @size bytes of attributes, or NULL. Whether anyone
 * listens is not asked first: genl_has_listeners() needs
 * netlink_has_listeners(), which GKI kernels keep from vendor modules. An
 * event nobody hears costs one small allocation.
 */
static struct sk_buff *sctls_event_new(u8 cmd, size_t size, void **hdr)
{
	struct sk_buff *skb;

	if (!SCTLS_NR_MCGRPS)
		return NULL;
	skb = genlmsg_new(size, GFP_KERNEL);
	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &sctls_genl_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static void sctls_event_send(struct net *net, struct sk_buff *skb, void *hdr,
			     int err)
{
	if (err) {
		/* Sized for its attributes: a miss is a bug, not a lost event. */
		WARN_ON_ONCE(err);
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&sctls_genl_family, net, skb, 0,
				SCTLS_MCGRP_EVENTS, GFP_KERNEL);
}

void sctls_notify_open(struct sctls_helper *helper, struct sctls_conn *conn)
{
	struct sk_buff *skb;
	void *hdr;

	skb = sctls_event_new(SCTLS_CMD_EV_OPEN, sctls_conn_fill_size(), &hdr);
	if (skb)
		sctls_event_send(helper->net, skb, hdr,
				 sctls_conn_fill(skb, conn, helper->user_ns));
}

void sctls_notify_close(struct sctls_helper *helper, u32 id, u8 reason,
			int err, u64 from_app, u64 to_app)
{
	struct sk_buff *skb;
	void *hdr;

	skb = sctls_event_new(SCTLS_CMD_EV_CLOSE,
			      2 * nla_total_size(sizeof(u32)) +
			      nla_total_size(sizeof(u8)) +
			      2 * nla_total_size_64bit(sizeof(u64)), &hdr);
	if (!skb)
		return;
	sctls_event_send(helper->net, skb, hdr,
			 nla_put_u32(skb, SCTLS_A_CONN_ID, id) ||
			 nla_put_u8(skb, SCTLS_A_CLOSE_REASON, reason) ||
			 nla_put_u32(skb, SCTLS_A_CLOSE_ERRNO, err) ||
			 nla_put_u64_64bit(skb, SCTLS_A_BYTES_FROM_APP, from_app,
					   SCTLS_A_PAD) ||
			 nla_put_u64_64bit(skb, SCTLS_A_BYTES_TO_APP, to_app,
					   SCTLS_A_PAD));
}

void sctls_notify_helper(struct sctls_helper *helper, u8 cmd)
{
	struct sk_buff *skb;
	void *hdr;

	skb = sctls_event_new(cmd, nla_total_size(sizeof(u32)), &hdr);
	if (skb)
		sctls_event_send(helper->net, skb, hdr,
				 nla_put_u32(skb, SCTLS_A_HELPER_PID,
					     pid_nr_ns(helper->pid,
						       helper->pid_ns)));
}

int sctls_genl_init(void)
{
	return genl_register_family(&sctls_genl_family);
}

void sctls_genl_exit(void)
{
	genl_unregister_family(&sctls_genl_family);
}
