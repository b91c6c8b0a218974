// SPDX-License-Identifier: GPL-2.0
/* The library's release: the project's, from the top-level VERSION file. */
#include "mc3.h"

#ifndef SCTLS_VERSION
#error "SCTLS_VERSION is defined by the Makefile, from VERSION"
#endif

MC3_API const char *mc3_version(void)
{
	return SCTLS_VERSION;
}
