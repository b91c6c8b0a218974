/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sctls: internal declarations shared by the module's files.
 */
#ifndef _SCTLS_INTERNAL_H
#define _SCTLS_INTERNAL_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <linux/sctls.h>

/* Limits of the module parameters, checked at load. */
#define SCTLS_MIN_WINDOW	4096U
#define SCTLS_MAX_WINDOW	(16U << 20)
#define SCTLS_MAX_CONNS_LIMIT	65536U

/* The gateway's configuration, fixed at load from the module parameters. */
struct sctls_config {
	u16 ports[SCTLS_MAX_PORTS];
	unsigned int nr_ports;
	unsigned int max_conns;
	unsigned int window;
};

extern struct sctls_config sctls_config;

/* One helper, the holder of /dev/sctls, per network namespace. */
struct sctls_helper {
	struct net *net;	/* referenced while the device is open */
};

/* Per network namespace state, in net_generic(net, sctls_net_id). */
struct sctls_net {
	struct mutex lock;		/* protects helper */
	struct sctls_helper *helper;	/* NULL when no helper is attached */
};

extern unsigned int sctls_net_id;

static inline struct sctls_net *sctls_net(const struct net *net)
{
	return net_generic(net, sctls_net_id);
}

int sctls_chardev_init(void);
void sctls_chardev_exit(void);

#endif /* _SCTLS_INTERNAL_H */
