// SPDX-License-Identifier: GPL-2.0
/*
 * cardsim: a modem's port as a pseudo-terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "pty.h"

int pty_open(char slave[PTY_NAME_MAX], char *err, size_t errlen)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	struct termios t;
	int fd;

	if (master < 0 || grantpt(master) || unlockpt(master) ||
	    ptsname_r(master, slave, PTY_NAME_MAX)) {
		snprintf(err, errlen, "cannot open a pseudo-terminal: %s", strerror(errno));
		goto fail;
	}
	/* No echo, no line editing, no CR/LF mapping: the settings outlive this fd. */
	fd = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || tcgetattr(fd, &t)) {
		snprintf(err, errlen, "%s: %s", slave, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	cfmakeraw(&t);
	if (tcsetattr(fd, TCSANOW, &t)) {
		snprintf(err, errlen, "%s: raw mode: %s", slave, strerror(errno));
		close(fd);
		goto fail;
	}
	close(fd);
	return master;
fail:
	if (master >= 0)
		close(master);
	return -1;
}

int pty_link(const char *path, const char *slave, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	struct stat st;

	if (!lstat(path, &st) && !S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a symlink: not replacing it", path);
		return -1;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: name too long", path);
		return -1;
	}
	if (!lstat(tmp, &st) && S_ISLNK(st.st_mode))
		unlink(tmp);	/* left by an earlier run */
	if (symlink(slave, tmp)) {
		snprintf(err, errlen, "cannot link %s to %s: %s", tmp, slave, strerror(errno));
		return -1;
	}
	if (rename(tmp, path)) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

void pty_unlink(const char *path, const char *slave)
{
	char now[PTY_NAME_MAX];
	ssize_t n = readlink(path, now, sizeof(now));

	if (n > 0 && (size_t)n == strlen(slave) && !memcmp(now, slave, n))
		unlink(path);
}

void pty_flush_slave(const char *slave)
{
	int fd = open(slave, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0) {
		tcflush(fd, TCIOFLUSH);
		close(fd);
	}
}
