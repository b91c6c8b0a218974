// SPDX-License-Identifier: GPL-2.0
/*
 * sctls.ko and /dev/sctls: the module loads and unloads, its parameters are
 * checked, the device node is root's alone, only CAP_NET_ADMIN may open it,
 * one helper per network namespace, and no unload while a helper holds it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sctls.h>

#include "lib/harness.h"
#include "lib/module.h"
#include "lib/privs.h"

#define DEV_PATH "/dev/" SCTLS_DEVICE_NAME

static int open_dev(void)
{
	return open(DEV_PATH, O_RDWR | O_CLOEXEC);
}

/* Run fn in a child process; its exit status, or -1 if it did not exit. */
static int in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Exit codes of the child helpers below: 0 as expected, else what went wrong. */
enum { CHILD_OK, CHILD_SETUP_FAILED, CHILD_WRONG_RESULT };

static int open_in_new_netns(void)
{
	int fd;

	if (unshare(CLONE_NEWNET))
		return CHILD_SETUP_FAILED;
	fd = open_dev();
	return fd >= 0 ? CHILD_OK : CHILD_WRONG_RESULT;
}

static int open_as_uid_1000(void)
{
	if (become(1000, 1000))
		return CHILD_SETUP_FAILED;
	return open_dev() < 0 && errno == EACCES ? CHILD_OK : CHILD_WRONG_RESULT;
}


TEST(module_loads_and_unloads)
{
	struct stat st;

	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	ASSERT_FALSE(sctls_module_loaded());
	ASSERT_EQ(0, sctls_module_load(""));
	EXPECT_TRUE(sctls_module_loaded());
	EXPECT_EQ(0, stat(DEV_PATH, &st));
	ASSERT_EQ(0, sctls_module_unload());
	EXPECT_FALSE(sctls_module_loaded());
	EXPECT_EQ(-1, stat(DEV_PATH, &st));
	EXPECT_EQ(ENOENT, errno);
}

FIXTURE(bad_param) {
	int kmsg;
};

FIXTURE_VARIANT(bad_param) {
	const char *params;
	const char *log;	/* what the kernel log must say */
};

FIXTURE_VARIANT_ADD(bad_param, window_too_small) {
	.params = "window=1", .log = "window=1 is out of range",
};

FIXTURE_VARIANT_ADD(bad_param, window_too_large) {
	.params = "window=16777217", .log = "window=16777217 is out of range",
};

FIXTURE_VARIANT_ADD(bad_param, max_conns_zero) {
	.params = "max_conns=0", .log = "max_conns=0 is out of range",
};

FIXTURE_VARIANT_ADD(bad_param, port_zero) {
	.params = "ports=0", .log = "port 0 is not a port",
};

FIXTURE_VARIANT_ADD(bad_param, port_twice) {
	.params = "ports=4116,3516,4116", .log = "4116 is given twice",
};

FIXTURE_VARIANT_ADD(bad_param, nine_ports) {
	.params = "ports=1,2,3,4,5,6,7,8,9", .log = "can only take 8 arguments",
};

FIXTURE_SETUP(bad_param)
{
	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	self->kmsg = kmsg_open_at_end();
	ASSERT_LE(0, self->kmsg);
}

FIXTURE_TEARDOWN(bad_param)
{
	close(self->kmsg);
	if (sctls_module_loaded())
		sctls_module_unload();
}

TEST_F(bad_param, load_refused_with_log_line)
{
	EXPECT_EQ(-EINVAL, sctls_module_load(variant->params));
	EXPECT_FALSE(sctls_module_loaded());
	EXPECT_TRUE(kmsg_contains(self->kmsg, variant->log));
}

FIXTURE(dev) {
	int fd;
	bool loaded;
};

FIXTURE_SETUP(dev)
{
	self->fd = -1;
	self->loaded = false;
	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	ASSERT_EQ(0, sctls_module_load(""));
	self->loaded = true;
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->loaded)
		EXPECT_EQ(0, sctls_module_unload());
}

TEST_F(dev, node_is_root_only_char_device)
{
	unsigned int major, minor;
	struct stat st;
	FILE *f;

	ASSERT_EQ(0, stat(DEV_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);

	/* The node is the misc device the module registered. */
	f = fopen("/sys/class/misc/" SCTLS_DEVICE_NAME "/dev", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(2, fscanf(f, "%u:%u", &major, &minor));
	fclose(f);
	EXPECT_EQ(major, major(st.st_rdev));
	EXPECT_EQ(minor, minor(st.st_rdev));
}

TEST_F(dev, uid_1000_is_denied_by_mode)
{
	EXPECT_EQ(CHILD_OK, in_child(open_as_uid_1000));
}

TEST_F(dev, info_reports_defaults)
{
	struct sctls_info info;

	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, SCTLS_IOC_INFO, &info));
	EXPECT_EQ(SCTLS_PROTO_VERSION, info.version);
	EXPECT_EQ(SCTLS_MAX_PAYLOAD, info.max_payload);
	EXPECT_EQ(65536, info.window);
	EXPECT_EQ(256, info.max_conns);
	EXPECT_EQ(1, info.nr_ports);
	EXPECT_EQ(SCTLS_DEFAULT_PORT, info.ports[0]);
}

TEST_F(dev, unknown_ioctl_is_enotty)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(SCTLS_IOC_MAGIC, 99)));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, second_open_in_same_netns_is_ebusy)
{
	int fd2;

	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(-1, open_dev());
	EXPECT_EQ(EBUSY, errno);

	/* Closing frees the namespace for the next helper. */
	close(self->fd);
	fd2 = open_dev();
	EXPECT_LE(0, fd2);
	self->fd = fd2;
}

TEST_F(dev, other_netns_has_its_own_helper)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(CHILD_OK, in_child(open_in_new_netns));
}

TEST_F(dev, open_without_cap_net_admin_is_eperm)
{
	ASSERT_EQ(0, set_net_admin(false));
	EXPECT_EQ(-1, open_dev());
	EXPECT_EQ(EPERM, errno);

	/* The refused open left no helper behind. */
	ASSERT_EQ(0, set_net_admin(true));
	self->fd = open_dev();
	EXPECT_LE(0, self->fd);
}

TEST_F(dev, rmmod_refused_while_open_and_clean_after)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(-EWOULDBLOCK, sctls_module_unload());
	EXPECT_TRUE(sctls_module_loaded());

	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, sctls_module_unload());
	self->loaded = false;
	EXPECT_FALSE(sctls_module_loaded());
}

TEST(ports_parameter_is_reported)
{
	struct sctls_info info;
	int fd;

	if (!sctls_ko_path())
		SKIP(return, "SCTLS_KO does not name sctls.ko");
	ASSERT_EQ(0, sctls_module_load("ports=4116,3516"));
	fd = open_dev();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, SCTLS_IOC_INFO, &info));
	close(fd);
	EXPECT_EQ(0, sctls_module_unload());
	ASSERT_EQ(2, info.nr_ports);
	EXPECT_EQ(4116, info.ports[0]);
	EXPECT_EQ(3516, info.ports[1]);
}

TEST_HARNESS_MAIN
