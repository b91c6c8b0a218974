// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: the request parsers. Whatever parses must write out and parse
 * again to the same text, in both formats; its signature, whatever it is,
 * goes through verification; and once signed under each kind of key it
 * must verify, once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mc3.h"

/* Every encoding and profile, two hashes. */
static const char keys[] =
	"h sha256 hex cr hex:000102030405060708090a0b0c0d0e0f\n"
	"b sha512 base64 cr hex:000102030405060708090a0b0c0d0e0f\n"
	"v sha256 base64 v2 hex:000102030405060708090a0b0c0d0e0f\n";

static void sign_and_verify(const struct mc3_request *parsed, const struct mc3_keystore *ks)
{
	static const char *const ids[] = { "h", "b", "v" };
	struct mc3_request *req;
	struct mc3_ctx *ctx;
	char err[256], *text;
	unsigned int i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		ctx = mc3_ctx_new(ks, 4, 0);
		text = mc3_request_write(parsed, MC3_FORM);
		if (!ctx || !text ||
		    mc3_request_parse(text, strlen(text), MC3_FORM, MC3_PASS_UNKNOWN, &req, err,
				      sizeof(err)))
			abort();
		mc3_verify(ctx, req, 1000000000, err, sizeof(err));	/* as sent */
		if (mc3_sign(ctx, req, ids[i], 1000000000, err, sizeof(err)) ||
		    mc3_verify(ctx, req, 1000000000, err, sizeof(err)) != MC3_OK ||
		    mc3_verify(ctx, req, 1000000000, err, sizeof(err)) != MC3_EREPLAY)
			abort();
		mc3_request_free(req);
		free(text);
		mc3_ctx_free(ctx);
	}
}

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

	static struct mc3_keystore *ks;

	if (!ks && mc3_keystore_parse(keys, sizeof(keys) - 1, &ks, err, sizeof(err)))
		abort();
	for (format = MC3_FORM; format <= MC3_JSON; format++) {
		if (mc3_request_parse((const char *)data, size, format, flags, &req, err, sizeof(err)))
			continue;
		round_trip(req, MC3_FORM, flags);
		round_trip(req, MC3_JSON, flags);
		sign_and_verify(req, ks);
		mc3_request_free(req);
	}
	return 0;
}
