// SPDX-License-Identifier: GPL-2.0
/*
 * sctlsd: mbim:DEVICE links, a UICC behind an MBIM modem. Built only with
 * libmbim (MBIM=1); link_nombim.c stands in for it otherwise.
 */
#include "link.h"
#include "terminal.h"

static int mbim_parse(struct link *link, const char *arg, char *err, size_t errlen)
{
	return toolkit_parse(link, arg, &card_mbim_ops, err, errlen);
}

const char link_mbim_usage[] =
	";\n"
	"                                or mbim:DEVICE for a UICC behind an MBIM\n"
	"                                modem (/dev/cdc-wdmN): its STK service,\n"
	"                                through mbim-proxy when one runs";

const struct link_ops link_mbim_ops = TOOLKIT_LINK_OPS("mbim", mbim_parse);
