// SPDX-License-Identifier: GPL-2.0
/*
 * Raw generic netlink for kfuzz. A fuzzer must send what no library would
 * build (attributes of the wrong size, in the wrong nest, with junk after
 * them), so requests are laid out by hand here; the product's CLI uses
 * libnl-genl-3.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/sctls.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "kfnl.h"

int kfnl_open(void)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 300000 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	return fd;
}

void kfnl_init(struct kfnl_msg *m, uint16_t family, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)m->buf;
	struct genlmsghdr *gh = (struct genlmsghdr *)(m->buf + NLMSG_HDRLEN);

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nh->nlmsg_type = family;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	gh->cmd = cmd;
	gh->version = SCTLS_GENL_VERSION;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
	m->depth = 0;
}

/* Append an attribute; len is the payload's, as it is, padded after. */
void kfnl_put(struct kfnl_msg *m, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *a = (struct nlattr *)(m->buf + m->len);

	if (m->len + NLA_HDRLEN + NLA_ALIGN(len) > sizeof(m->buf))
		return;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy(m->buf + m->len + NLA_HDRLEN, data, len);
	memset(m->buf + m->len + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
	m->len += NLA_HDRLEN + NLA_ALIGN(len);
}

void kfnl_put_u16(struct kfnl_msg *m, uint16_t type, uint16_t v)
{
	kfnl_put(m, type, &v, sizeof(v));
}

void kfnl_put_u32(struct kfnl_msg *m, uint16_t type, uint32_t v)
{
	kfnl_put(m, type, &v, sizeof(v));
}

void kfnl_nest(struct kfnl_msg *m, uint16_t type)
{
	if (m->depth >= 4 || m->len + NLA_HDRLEN > sizeof(m->buf))
		return;
	m->nest[m->depth++] = m->len;
	kfnl_put(m, type | NLA_F_NESTED, NULL, 0);
}

void kfnl_nest_end(struct kfnl_msg *m)
{
	struct nlattr *a;

	if (!m->depth)
		return;
	a = (struct nlattr *)(m->buf + m->nest[--m->depth]);
	a->nla_len = (uint16_t)(m->len - m->nest[m->depth]);
}

/*
 * Send and read replies until the ACK or the end of a dump. Returns the
 * request's error (0 or -errno); each reply's attributes go to cb.
 */
int kfnl_talk(int fd, struct kfnl_msg *m,
	      void (*cb)(const struct nlattr *attrs, int len, void *arg), void *arg)
{
	static __thread uint32_t seq;
	struct nlmsghdr *nh = (struct nlmsghdr *)m->buf;
	char buf[16384];

	nh->nlmsg_len = m->len;
	nh->nlmsg_seq = ++seq;
	if (send(fd, m->buf, m->len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *r;

		if (n < 0)
			return -errno;
		for (r = (struct nlmsghdr *)buf; NLMSG_OK(r, n); r = NLMSG_NEXT(r, n)) {
			if (r->nlmsg_seq != seq)
				continue;
			if (r->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(r);

				return e->error;
			}
			if (r->nlmsg_type == NLMSG_DONE)
				return 0;
			if (cb && r->nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN)
				cb((const struct nlattr *)((char *)NLMSG_DATA(r) + GENL_HDRLEN),
				   (int)(r->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN), arg);
		}
	}
}

struct family {
	uint16_t id;
	uint32_t events;	/* the "events" multicast group */
};

static const void *payload(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static void family_cb(const struct nlattr *attrs, int len, void *arg)
{
	const struct nlattr *a, *g, *f;
	struct family *fam = arg;

	kfnl_for_each(a, attrs, len) {
		if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID &&
		    a->nla_len >= NLA_HDRLEN + 2)
			memcpy(&fam->id, payload(a), 2);
		if ((a->nla_type & NLA_TYPE_MASK) != CTRL_ATTR_MCAST_GROUPS)
			continue;
		kfnl_for_each(g, (const struct nlattr *)payload(a), a->nla_len - NLA_HDRLEN) {
			uint32_t grp = 0;
			bool events = false;

			kfnl_for_each(f, (const struct nlattr *)payload(g), g->nla_len - NLA_HDRLEN) {
				if ((f->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_MCAST_GRP_ID &&
				    f->nla_len >= NLA_HDRLEN + 4)
					memcpy(&grp, payload(f), 4);
				if ((f->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_MCAST_GRP_NAME)
					events = !strncmp(payload(f), SCTLS_GENL_MCGRP_EVENTS,
							  f->nla_len - NLA_HDRLEN);
			}
			if (events)
				fam->events = grp;
		}
	}
}

int kfnl_family(int fd, const char *name, uint32_t *events)
{
	struct family fam = { 0 };
	struct kfnl_msg m;
	int err;

	kfnl_init(&m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	((struct genlmsghdr *)(m.buf + NLMSG_HDRLEN))->version = 1;
	kfnl_put(&m, CTRL_ATTR_FAMILY_NAME, name, (uint16_t)(strlen(name) + 1));
	err = kfnl_talk(fd, &m, family_cb, &fam);
	if (events)
		*events = fam.events;
	return err ? err : fam.id ? fam.id : -ENOENT;
}
