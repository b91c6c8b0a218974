// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "module.h"

const char *sctls_ko_path(void)
{
	return getenv("SCTLS_KO");
}

int sctls_module_load(const char *params)
{
	const char *path = sctls_ko_path();
	int fd, ret;

	if (!path)
		return -ENOENT;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

int sctls_module_load_fresh(const char *params)
{
	if (sctls_module_loaded()) {
		printf("# sctls was left loaded by an earlier test; unloading\n");
		/* That test's processes and namespaces may still be going away. */
		for (int i = 0; i < 600 && sctls_module_unload() == -EWOULDBLOCK; i++)
			usleep(100000);
	}
	return sctls_module_load(params);
}

int sctls_module_unload(void)
{
	return syscall(SYS_delete_module, "sctls", O_NONBLOCK) ? -errno : 0;
}

bool sctls_module_loaded(void)
{
	struct stat st;

	return stat("/sys/module/sctls", &st) == 0;
}

int kmsg_open_at_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

bool kmsg_contains(int kmsg_fd, const char *needle)
{
	char rec[8192];
	ssize_t n;

	/* Each read returns one record; EAGAIN once all have been read. */
	while ((n = read(kmsg_fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		if (n <= 0)
			continue;	/* EPIPE: records were overwritten; go on */
		rec[n] = '\0';
		if (strstr(rec, needle))
			return true;
	}
	return false;
}
