// SPDX-License-Identifier: GPL-2.0
/*
 * sctlsd built with PCSC=0, for systems without pcsc-lite such as phones:
 * pcsc:READER is still a known kind, so that asking for it says why it
 * cannot be had rather than calling it unknown.
 */
#include <stdio.h>

#include "link.h"

const char link_pcsc_usage[] =
	"; this build has\n"
	"                                no pcsc:READER links (made with PCSC=0)";

static int nopcsc_parse(struct link *link, const char *arg, char *err, size_t errlen)
{
	(void)arg;
	snprintf(err, errlen, "'%s': this sctlsd was built without PC/SC (make PCSC=0)",
		 link->spec);
	return -1;
}

const struct link_ops link_pcsc_ops = { .scheme = "pcsc", .parse = nopcsc_parse };
