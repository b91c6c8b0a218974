// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: the request parsers. Whatever parses must write out and parse
 * again to the same text, in both formats.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mc3.h"

static void round_trip(const struct mc3_request *req, enum mc3_format format, unsigned int flags)
{
	struct mc3_request *again;
	char err[256], *text = mc3_request_write(req, format), *text2;

	if (!text)
		abort();
	if (mc3_request_parse(text, strlen(text), format, flags, &again, err, sizeof(err)))
		abort();	/* what we write, we read */
	text2 = mc3_request_write(again, format);
	if (!text2 || strcmp(text, text2))
		abort();
	free(text);
	free(text2);
	mc3_request_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int flags = size && (data[0] & 1) ? MC3_PASS_UNKNOWN : 0;
	enum mc3_format format;
	struct mc3_request *req;
	char err[256];

	for (format = MC3_FORM; format <= MC3_JSON; format++) {
		if (mc3_request_parse((const char *)data, size, format, flags, &req, err, sizeof(err)))
			continue;
		round_trip(req, MC3_FORM, flags);
		round_trip(req, MC3_JSON, flags);
		mc3_request_free(req);
	}
	return 0;
}
