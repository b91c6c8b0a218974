/* SPDX-License-Identifier: GPL-2.0 */
/* Raw generic netlink requests for kfuzz (see netlink.c for why raw). */
#ifndef SCTLS_KFNL_H
#define SCTLS_KFNL_H

#include <linux/netlink.h>
#include <stdint.h>

struct kfnl_msg {
	char buf[4096];
	unsigned int len;
	unsigned int nest[4];
	unsigned int depth;
};

int kfnl_open(void);
/* The family's id, and its "events" group in *events when not NULL. */
int kfnl_family(int fd, const char *name, uint32_t *events);
void kfnl_init(struct kfnl_msg *m, uint16_t family, uint8_t cmd, uint16_t flags);
void kfnl_put(struct kfnl_msg *m, uint16_t type, const void *data, uint16_t len);
void kfnl_put_u16(struct kfnl_msg *m, uint16_t type, uint16_t v);
void kfnl_put_u32(struct kfnl_msg *m, uint16_t type, uint32_t v);
void kfnl_nest(struct kfnl_msg *m, uint16_t type);
void kfnl_nest_end(struct kfnl_msg *m);
int kfnl_talk(int fd, struct kfnl_msg *m,
	      void (*cb)(const struct nlattr *attrs, int len, void *arg), void *arg);

/* Walk the attributes of one level. */
#define kfnl_for_each(a, head, len)						\
	for (int _rem = (len), _ok = 1; _ok; _ok = 0)				\
		for (a = (head); _rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && \
		     a->nla_len <= _rem;						\
		     _rem -= NLA_ALIGN(a->nla_len),				\
		     a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len)))

#endif
