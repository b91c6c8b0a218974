/* SPDX-License-Identifier: GPL-2.0 */
/* sctlsd: what to serve and for whom, from options or a file. */
#ifndef SCTLSD_CONFIG_H
#define SCTLSD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"

#define CONFIG_MAX_LINKS	8	/* the kernel serves up to 8 ports */
#define CONFIG_MAX_UIDS		64
#define CONFIG_MAX_LINE		1024

struct config {
	/*
	 * A reload's: links are kept as text to compare with those in use,
	 * never parsed, so that no card link's state is touched.
	 */
	bool specs_only;
	struct link links[CONFIG_MAX_LINKS];
	size_t nr_links;
	uint32_t allow_uids[CONFIG_MAX_UIDS];	/* empty: everyone */
	size_t nr_allow_uids;
};

/* Each returns 0, or -1 having said why in err. */
int config_add_link(struct config *cfg, const char *text, char *err, size_t errlen);
int config_add_uids(struct config *cfg, const char *list, char *err, size_t errlen);
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

const struct link *config_link_for(const struct config *cfg, uint16_t port);
/* Whether both name the same links, in the same order. */
bool config_same_links(const struct config *a, const struct config *b);
bool config_uid_allowed(const struct config *cfg, uint32_t uid);

#endif
