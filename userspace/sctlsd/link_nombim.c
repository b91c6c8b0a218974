// SPDX-License-Identifier: GPL-2.0
/*
 * sctlsd built with MBIM=0, for systems without libmbim (the static arm64
 * build): mbim:DEVICE is still a known kind, so that asking for it says why
 * it cannot be had rather than calling it unknown.
 */
#include <stdio.h>

#include "link.h"

const char link_mbim_usage[] =
	";\n"
	"                                this build has no mbim:DEVICE links (made\n"
	"                                with MBIM=0)";

static int nombim_parse(struct link *link, const char *arg, char *err, size_t errlen)
{
	(void)arg;
	snprintf(err, errlen, "'%s': this sctlsd was built without libmbim (make MBIM=0)",
		 link->spec);
	return -1;
}

const struct link_ops link_mbim_ops = { .scheme = "mbim", .parse = nombim_parse };
