/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cardsim: the pseudo-terminal a simulated modem sits on, standing for its
 * port (a tty for AT, a cdc-wdm device for MBIM): a raw slave, reached
 * through a symlink that tests and sctlsd name.
 */
#ifndef CARDSIM_PTY_H
#define CARDSIM_PTY_H

#include <stddef.h>

#define PTY_NAME_MAX	64	/* /dev/pts/N */

/* A pty whose slave, named into slave, is raw: the master, or -1 with err. */
int pty_open(char slave[PTY_NAME_MAX], char *err, size_t errlen);

/* path -> slave, replacing an old symlink at once, never a file: 0 or -1. */
int pty_link(const char *path, const char *slave, char *err, size_t errlen);

/* Remove the symlink, unless another modem has taken the name since. */
void pty_unlink(const char *path, const char *slave);

/* Drop what was written to the slave and not read: it must not greet the next. */
void pty_flush_slave(const char *slave);

#endif
