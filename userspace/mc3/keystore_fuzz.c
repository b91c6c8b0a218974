// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the key-store parser, and a context over what it accepts. */
#include <stdint.h>
#include <stdlib.h>

#include "mc3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mc3_keystore *ks;
	struct mc3_ctx *ctx;
	char err[256];

	if (mc3_keystore_parse((const char *)data, size, &ks, err, sizeof(err)))
		return 0;
	ctx = mc3_ctx_new(ks, 4, 0);
	if (!ctx)
		abort();
	mc3_ctx_free(ctx);
	mc3_keystore_free(ks);
	return 0;
}
