// SPDX-License-Identifier: GPL-2.0
/*
 * sctls: smart-card TLS gateway. Module parameters, init and exit.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "internal.h"

static ushort ports[SCTLS_MAX_PORTS] = { SCTLS_DEFAULT_PORT };
static int nr_ports = 1;
module_param_array(ports, ushort, &nr_ports, 0444);
MODULE_PARM_DESC(ports, "loopback TCP ports to serve, up to 8 (default 4116)");

static uint max_conns = 256;
module_param(max_conns, uint, 0444);
MODULE_PARM_DESC(max_conns, "concurrent connections per network namespace, 1..65536 (default 256)");

static uint window = 65536;
module_param(window, uint, 0444);
MODULE_PARM_DESC(window, "initial credit per connection and direction in bytes, 4096..16777216 (default 65536)");

unsigned int sctls_closing_timeout = 60;
module_param_named(closing_timeout, sctls_closing_timeout, uint, 0444);
MODULE_PARM_DESC(closing_timeout, "seconds a connection the helper closed may wait for its app to read, 1..3600 (default 60)");

struct sctls_config sctls_defaults;
unsigned int sctls_net_id __read_mostly;

static __net_init int sctls_net_init(struct net *net)
{
	struct sctls_net *sn = sctls_net(net);
	struct sctls_config *cfg;
	int err = 0;

	sn->net = net;
	mutex_init(&sn->lock);
	INIT_WORK(&sn->drain, sctls_ports_drain_work);
	mutex_init(&sn->linger_lock);
	INIT_LIST_HEAD(&sn->kept);
	INIT_DELAYED_WORK(&sn->linger_work, sctls_linger_work);
	cfg = kmemdup(&sctls_defaults, sizeof(*cfg), GFP_KERNEL_ACCOUNT);
	if (!cfg)
		return -ENOMEM;
	RCU_INIT_POINTER(sn->config, cfg);
	/* The host's namespace is served from the start; others on demand. */
	if (net_eq(net, &init_net)) {
		mutex_lock(&sn->lock);
		err = sctls_serve(sn, cfg, false, NULL);
		mutex_unlock(&sn->lock);
		if (err)
			kfree(cfg);
	}
	return err;
}

/*
 * The namespace is going, and no helper is left (it holds a reference):
 * hooks and ports go first, so that a SYN still in the hook on another CPU
 * finishes before the exit, one RCU grace period later, frees the config.
 */
static __net_exit void sctls_net_pre_exit(struct net *net)
{
	struct sctls_net *sn = sctls_net(net);

	mutex_lock(&sn->lock);
	sctls_unserve(sn);
	mutex_unlock(&sn->lock);
	/* No listener is left to queue it again; it takes sn->lock. */
	cancel_work_sync(&sn->drain);
	/* Before TCP's own exit: no socket of ours may outlive it. */
	sctls_linger_exit(sn);
}

static __net_exit void sctls_net_exit(struct net *net)
{
	struct sctls_net *sn = sctls_net(net);

	WARN_ON_ONCE(!list_empty(&sn->kept));	/* reset in pre_exit */
	kfree(rcu_dereference_protected(sn->config, true));
}

static struct pernet_operations sctls_net_ops = {
	.init = sctls_net_init,
	.pre_exit = sctls_net_pre_exit,
	.exit = sctls_net_exit,
	.id = &sctls_net_id,
	.size = sizeof(struct sctls_net),
};

/* Check the parameters and fill sctls_defaults; a bad value fails the load. */
static int sctls_config_load(void)
{
	int i, j;

	if (nr_ports < 1) {
		pr_err("ports: at least one port is needed\n");
		return -EINVAL;
	}
	for (i = 0; i < nr_ports; i++) {
		if (!ports[i]) {
			pr_err("ports: port 0 is not a port\n");
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (ports[j] == ports[i]) {
				pr_err("ports: %u is given twice\n", ports[i]);
				return -EINVAL;
			}
		}
		sctls_defaults.ports[i] = ports[i];
	}
	sctls_defaults.nr_ports = nr_ports;

	if (max_conns < 1 || max_conns > SCTLS_MAX_CONNS) {
		pr_err("max_conns=%u is out of range 1..%u\n",
		       max_conns, SCTLS_MAX_CONNS);
		return -EINVAL;
	}
	sctls_defaults.max_conns = max_conns;

	if (window < SCTLS_MIN_WINDOW || window > SCTLS_MAX_WINDOW) {
		pr_err("window=%u is out of range %u..%u\n",
		       window, SCTLS_MIN_WINDOW, SCTLS_MAX_WINDOW);
		return -EINVAL;
	}
	sctls_defaults.window = window;

	if (sctls_closing_timeout < 1 || sctls_closing_timeout > 3600) {
		pr_err("closing_timeout=%u is out of range 1..3600\n",
		       sctls_closing_timeout);
		return -EINVAL;
	}
	return 0;
}

static void sctls_config_log(void)
{
	char list[SCTLS_MAX_PORTS * sizeof(" 65535")];
	unsigned int i;
	int len = 0;

	for (i = 0; i < sctls_defaults.nr_ports; i++)
		len += scnprintf(list + len, sizeof(list) - len, " %u",
				 sctls_defaults.ports[i]);
	pr_info("/dev/%s ready for a helper; ports%s, max_conns %u, window %u\n",
		SCTLS_DEVICE_NAME, list, sctls_defaults.max_conns,
		sctls_defaults.window);
}

static int __init sctls_init(void)
{
	int err;

	err = sctls_config_load();
	if (err)
		return err;

	err = sctls_conn_cache_init();
	if (err)
		return err;

	err = register_pernet_device(&sctls_net_ops);
	if (err)
		goto err_cache;

	err = sctls_genl_init();
	if (err)
		goto err_pernet;

	err = sctls_chardev_init();
	if (err)
		goto err_genl;

	sctls_config_log();
	return 0;

err_genl:
	sctls_genl_exit();
err_pernet:
	unregister_pernet_device(&sctls_net_ops);
err_cache:
	sctls_conn_cache_exit();
	return err;
}

static void __exit sctls_exit(void)
{
	sctls_chardev_exit();
	sctls_genl_exit();
	unregister_pernet_device(&sctls_net_ops);
	sctls_conn_cache_exit();
}

module_init(sctls_init);
module_exit(sctls_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Smart-card TLS gateway: loopback port 4116 to a helper through /dev/sctls");
MODULE_AUTHOR("The sctls developers");
MODULE_VERSION(SCTLS_VERSION);
