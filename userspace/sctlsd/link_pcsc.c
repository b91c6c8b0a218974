// SPDX-License-Identifier: GPL-2.0
/*
 * sctlsd: pcsc:READER links, a UICC in a PC/SC reader. Built only with
 * pcsc-lite (PCSC=1); link_nopcsc.c stands in for it otherwise.
 */
#include "link.h"
#include "terminal.h"

static int pcsc_parse(struct link *link, const char *arg, char *err, size_t errlen)
{
	return toolkit_parse(link, arg, &card_pcsc_ops, err, errlen);
}

const char link_pcsc_usage[] =
	", or pcsc:READER for\n"
	"                                a UICC in a PC/SC reader (a reader name, its\n"
	"                                start, or an index) speaking BIP in UICC\n"
	"                                server mode; ports on one reader share it";

const struct link_ops link_pcsc_ops = TOOLKIT_LINK_OPS("pcsc", pcsc_parse);
