// SPDX-License-Identifier: GPL-2.0
/*
 * sctls: the /dev/sctls character device and who may hold it.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/nsproxy.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/user_namespace.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "internal.h"

static struct sctls_helper *sctls_helper_alloc(struct net *net,
					       struct file *file)
{
	struct sctls_helper *helper = kzalloc(sizeof(*helper),
					      GFP_KERNEL_ACCOUNT);

	if (!helper)
		return NULL;
	helper->net = get_net(net);
	helper->sn = sctls_net(net);
	/*
	 * No references of our own on the namespaces: GKI does not let a
	 * module drop them (put_pid_ns, __put_user_ns). The file's credentials
	 * pin the user namespace until after release, and a struct pid pins
	 * the namespace it was allocated in.
	 */
	helper->user_ns = file->f_cred->user_ns;
	helper->pid = get_task_pid(current, PIDTYPE_TGID);
	helper->pid_ns = ns_of_pid(helper->pid);
	mutex_init(&helper->io_lock);
	xa_init_flags(&helper->conns, XA_FLAGS_ALLOC1);
	INIT_LIST_HEAD(&helper->closing);
	INIT_DELAYED_WORK(&helper->reap, sctls_conn_reap);
	spin_lock_init(&helper->lock);
	INIT_LIST_HEAD(&helper->ready);
	init_waitqueue_head(&helper->wait);
	return helper;
}

static void sctls_helper_free(struct sctls_helper *helper)
{
	xa_destroy(&helper->conns);
	put_pid(helper->pid);
	put_net(helper->net);
	kfree(helper);
}

static int sctls_dev_open(struct inode *inode, struct file *file)
{
	struct net *net = current->nsproxy->net_ns;
	struct sctls_net *sn = sctls_net(net);
	struct sctls_helper *helper;
	int err;

	if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
		return -EPERM;

	helper = sctls_helper_alloc(net, file);
	if (!helper)
		return -ENOMEM;

	mutex_lock(&sn->lock);
	err = sn->helper ? -EBUSY :
	      sctls_serve(sn, sctls_config_locked(sn), false, NULL);
	if (!err)
		err = sctls_who_start(helper);
	if (!err) {
		err = sctls_ports_listen(sn, helper);
		if (err)
			sctls_who_stop(helper);
	}
	if (!err) {
		sn->helper = helper;
		sctls_notify_helper(helper, SCTLS_CMD_EV_HELPER_ATTACH);
	}
	mutex_unlock(&sn->lock);
	if (err) {
		sctls_helper_free(helper);
		return err;
	}

	file->private_data = helper;
	return stream_open(inode, file);
}

/* The helper is gone: reset every connection, close the listeners. */
static int sctls_dev_release(struct inode *inode, struct file *file)
{
	struct sctls_helper *helper = file->private_data;
	struct sctls_net *sn = sctls_net(helper->net);

	mutex_lock(&sn->lock);
	mutex_lock(&helper->io_lock);
	sctls_conn_destroy_all(helper);
	mutex_unlock(&helper->io_lock);
	/* The hook refuses from now on; what it let in before is reset. */
	sctls_who_stop(helper);
	sn->helper = NULL;
	sctls_ports_unlisten(sn);
	sctls_notify_helper(helper, SCTLS_CMD_EV_HELPER_DETACH);
	mutex_unlock(&sn->lock);
	/* No connection is left to reap; the work takes io_lock. */
	cancel_delayed_work_sync(&helper->reap);

	sctls_helper_free(helper);
	return 0;
}

static ssize_t sctls_dev_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct sctls_helper *helper = iocb->ki_filp->private_data;
	bool nonblock = (iocb->ki_filp->f_flags & O_NONBLOCK) ||
			(iocb->ki_flags & IOCB_NOWAIT);
	ssize_t ret;

	if (iov_iter_count(to) < SCTLS_HDR_LEN)
		return -EINVAL;	/* no frame fits */

	for (;;) {
		mutex_lock(&helper->io_lock);
		ret = sctls_conn_read(helper, to);
		mutex_unlock(&helper->io_lock);
		if (ret)
			return ret;
		if (nonblock)
			return -EAGAIN;
		/* Connections refused at once keep work pending: a signal wins. */
		if (signal_pending(current))
			return -ERESTARTSYS;
		ret = wait_event_interruptible(helper->wait,
					       sctls_helper_has_work(helper));
		if (ret)
			return ret;
	}
}

/* Whether a helper->kernel header is well formed; avail counts from it. */
static int sctls_check_hdr(const struct sctls_hdr *hdr, size_t avail)
{
	u32 payload;

	if (hdr->len < SCTLS_HDR_LEN)
		return -EINVAL;
	payload = hdr->len - SCTLS_HDR_LEN;
	if (payload > SCTLS_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (hdr->len > avail || !hdr->conn)
		return -EINVAL;

	switch (hdr->type) {
	case SCTLS_DATA:
		return payload && !hdr->flags && !hdr->arg ? 0 : -EINVAL;
	case SCTLS_FIN:
		return !payload && !hdr->flags && !hdr->arg ? 0 : -EINVAL;
	case SCTLS_CREDIT:
		return !payload && !hdr->flags && hdr->arg ? 0 : -EINVAL;
	case SCTLS_CLOSE:
		return !payload && !(hdr->flags & ~SCTLS_CLOSE_ORDERLY) &&
		       !hdr->arg ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

/* Apply whole frames in order; fail only when none could be applied. */
static ssize_t sctls_dev_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct sctls_helper *helper = iocb->ki_filp->private_data;
	size_t applied = 0;
	int err = 0;

	mutex_lock(&helper->io_lock);
	while (iov_iter_count(from)) {
		struct iov_iter frame = *from;
		struct sctls_hdr hdr;

		if (iov_iter_count(from) < SCTLS_HDR_LEN) {
			err = -EINVAL;
			break;
		}
		if (!copy_from_iter_full(&hdr, sizeof(hdr), from)) {
			err = -EFAULT;
			break;
		}
		err = sctls_check_hdr(&hdr, iov_iter_count(from) + SCTLS_HDR_LEN);
		if (!err)
			err = sctls_conn_apply(helper, &hdr, from);
		if (err) {
			*from = frame;
			break;
		}
		applied += hdr.len;
	}
	if (!applied && err)
		helper->sn->stats.writes_rejected++;
	mutex_unlock(&helper->io_lock);
	return applied ? applied : err;
}

static __poll_t sctls_dev_poll(struct file *file, poll_table *wait)
{
	struct sctls_helper *helper = file->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;	/* writes never block */

	poll_wait(file, &helper->wait, wait);
	if (sctls_helper_has_work(helper))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/* The namespace's configuration now; netlink may change it later. */
static long sctls_ioctl_info(struct sctls_helper *helper, void __user *arg)
{
	struct sctls_info info = {
		.version = SCTLS_PROTO_VERSION,
		.max_payload = SCTLS_MAX_PAYLOAD,
	};
	const struct sctls_config *cfg;
	unsigned int i;

	rcu_read_lock();
	cfg = rcu_dereference(helper->sn->config);
	info.window = cfg->window;
	info.max_conns = cfg->max_conns;
	info.nr_ports = cfg->nr_ports;
	for (i = 0; i < cfg->nr_ports; i++)
		info.ports[i] = cfg->ports[i];
	rcu_read_unlock();

	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long sctls_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	switch (cmd) {
	case SCTLS_IOC_INFO:
		return sctls_ioctl_info(file->private_data, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations sctls_dev_fops = {
	.owner = THIS_MODULE,
	.open = sctls_dev_open,
	.release = sctls_dev_release,
	.read_iter = sctls_dev_read_iter,
	.write_iter = sctls_dev_write_iter,
	.poll = sctls_dev_poll,
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
