// SPDX-License-Identifier: GPL-2.0
/*
 * sctls: the /dev/sctls character device and who may hold it.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nsproxy.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"

static int sctls_dev_open(struct inode *inode, struct file *file)
{
	struct net *net = current->nsproxy->net_ns;
	struct sctls_net *sn = sctls_net(net);
	struct sctls_helper *helper;

	if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
		return -EPERM;

	helper = kzalloc(sizeof(*helper), GFP_KERNEL);
	if (!helper)
		return -ENOMEM;

	mutex_lock(&sn->lock);
	if (sn->helper) {
		mutex_unlock(&sn->lock);
		kfree(helper);
		return -EBUSY;
	}
	helper->net = get_net(net);
	sn->helper = helper;
	mutex_unlock(&sn->lock);

	file->private_data = helper;
	return stream_open(inode, file);
}

static int sctls_dev_release(struct inode *inode, struct file *file)
{
	struct sctls_helper *helper = file->private_data;
	struct sctls_net *sn = sctls_net(helper->net);

	mutex_lock(&sn->lock);
	sn->helper = NULL;
	mutex_unlock(&sn->lock);

	put_net(helper->net);
	kfree(helper);
	return 0;
}

static long sctls_ioctl_info(void __user *arg)
{
	struct sctls_info info = {
		.version = SCTLS_PROTO_VERSION,
		.max_payload = SCTLS_MAX_PAYLOAD,
		.window = sctls_config.window,
		.max_conns = sctls_config.max_conns,
		.nr_ports = sctls_config.nr_ports,
	};
	unsigned int i;

	for (i = 0; i < sctls_config.nr_ports; i++)
		info.ports[i] = sctls_config.ports[i];

	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long sctls_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	switch (cmd) {
	case SCTLS_IOC_INFO:
		return sctls_ioctl_info((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations sctls_dev_fops = {
	.owner = THIS_MODULE,
	.open = sctls_dev_open,
	.release = sctls_dev_release,
	.unlocked_ioctl = sctls_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice sctls_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = SCTLS_DEVICE_NAME,
	.fops = &sctls_dev_fops,
	.mode = 0600,
};

int sctls_chardev_init(void)
{
	return misc_register(&sctls_miscdev);
}

void sctls_chardev_exit(void)
{
	misc_deregister(&sctls_miscdev);
}
