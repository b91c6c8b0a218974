/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sctlsd: the relay between /dev/sctls and the card links. One thread, one
 * epoll loop; frames are read in large batches and written in batches.
 */
#ifndef SCTLSD_RELAY_H
#define SCTLSD_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct relay;

struct relay_stats {
	uint64_t opened, refused_policy, refused_link, card_failed;
};

/*
 * Reads the configuration again into a zeroed config whose specs_only is
 * set, for SIGHUP; returns 0, or -1 having said why in err.
 */
typedef int (*relay_reread_fn)(struct config *fresh, char *err, size_t errlen);

/*
 * Open the device and prepare the loop. On failure, returns NULL having
 * logged a message that says what to do.
 */
struct relay *relay_new(struct config *cfg, const char *device, relay_reread_fn reread,
			const char *status_path);

/*
 * Run until a SIGTERM or SIGINT; returns the exit status. Ready (the log
 * says so, and systemd is told) once every socket link has answered.
 */
int relay_run(struct relay *relay);

void relay_free(struct relay *relay);

#endif
