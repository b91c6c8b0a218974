/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sctlsd --status FILE: what sctlsd and its card links are doing, as JSON,
 * rewritten each second (write and rename: a reader sees a whole file).
 * sctls show and sctls top read it.
 */
#ifndef SCTLSD_STATUS_H
#define SCTLSD_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

/* A link's side the relay knows: socket links' probes. */
struct status_link {
	bool answered;		/* a connection to it succeeded */
	int err;		/* the last failure, if it has not */
	uint64_t exchanges;	/* toolkit links: at the last write, for the rate */
};

struct status {
	const char *path;
	struct timespec last;	/* CLOCK_MONOTONIC of the last write */
	struct status_link links[CONFIG_MAX_LINKS];
	bool failed;		/* the last write failed (said once) */
};

/* Write the file when a second has passed, or when forced. */
void status_write(struct status *st, const struct config *cfg, bool ready, size_t nr_conns,
		  bool force);

/* Remove the file, if this sctlsd wrote it: it is stopping. */
void status_remove(struct status *st);

#endif
