/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sctlsd: the relay between /dev/sctls and the card links. One thread, one
 * epoll loop; frames are read in large batches and written in batches.
 */
#ifndef SCTLSD_RELAY_H
#define SCTLSD_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct relay;

struct relay_stats {
	uint64_t opened, refused_policy, refused_link, card_failed;
};

/*
 * Open the device and prepare the loop. On failure, returns NULL having
 * logged a message that says what to do.
 */
struct relay *relay_new(const struct config *cfg, const char *device);

/* Run until a SIGTERM or SIGINT; returns the exit status. */
int relay_run(struct relay *relay);

void relay_free(struct relay *relay);

#endif
