// SPDX-License-Identifier: MIT
/* The library's release (the project's, from VERSION) and its status words. */
#include "mc3.h"

#ifndef SCTLS_VERSION
#error "SCTLS_VERSION is defined by the Makefile, from VERSION"
#endif

MC3_API const char *mc3_version(void)
{
	return SCTLS_VERSION;
}

MC3_API const char *mc3_strerror(int status)
{
	static const char *const words[] = {
		[MC3_OK] = "ok",
		[MC3_EAUTH] = "signature does not verify",
		[MC3_EREPLAY] = "replayed: this signature verified before",
		[MC3_ESTALE] = "ts outside the window",
		[MC3_EINVAL] = "malformed",
		[MC3_EFULL] = "cannot remember it against a replay",
		[MC3_ENOMEM] = "out of memory",
		[MC3_ENOKEY] = "no key of that apikeyid is valid now",
		[MC3_EKEYSTORE] = "key store refused",
		[MC3_EIO] = "cannot read or write the file",
		[MC3_ECRYPTO] = "OpenSSL failed",
	};

	if (status < 0 || status >= (int)(sizeof(words) / sizeof(words[0])))
		return "unknown status";
	return words[status];
}
