// SPDX-License-Identifier: GPL-2.0
/*
 * The limits make bench sets mc3sig against, on signed cr requests
 * ("tid=T&ici=I&...&signature=HEX", T and I plain):
 *
 *   mc3_hmac_limit HEXKEY < requests
 *	HMAC-SHA-256 of each tid || ici, one reused EVP_MAC context, with
 *	the messages cut out before the clock starts: the raw limit.
 *   mc3_hmac_limit --bare HEXKEY < requests > verdicts
 *	The least a verifier does besides that: read the lines, find tid,
 *	ici and signature, decode it, compare in constant time, write "ok".
 *	No field rules, no replay cache. Fails unless every request verifies.
 *
 * Each prints its requests per second.
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINES	4000000
#define BUF_SIZE	(1 << 20)

static EVP_MAC_CTX *ctx;
static signed char hex[256];	/* a digit's value, or -1 */

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static bool mac(const void *msg, size_t len, unsigned char out[32])
{
	size_t out_len;

	return EVP_MAC_init(ctx, NULL, 0, NULL) == 1 && EVP_MAC_update(ctx, msg, len) == 1 &&
	       EVP_MAC_final(ctx, out, &out_len, 32) == 1 && out_len == 32;
}

static int raw(void)
{
	static char line[1024];
	char **msgs = malloc(MAX_LINES * sizeof(*msgs));
	unsigned char out[32];
	size_t n = 0, i;
	double t0;

	if (!msgs)
		return 2;
	while (n < MAX_LINES && fgets(line, sizeof(line), stdin)) {
		char *tid = strstr(line, "tid="), *ici = strstr(line, "ici=");

		msgs[n] = malloc(64);
		if (!msgs[n] || !tid || !ici)
			return 2;
		tid += 4;
		ici += 4;
		snprintf(msgs[n++], 64, "%.*s%.*s", (int)strcspn(tid, "&"), tid,
			 (int)strcspn(ici, "&"), ici);
	}
	t0 = now();
	for (i = 0; i < n; i++)
		if (!mac(msgs[i], strlen(msgs[i]), out))
			return 1;
	printf("%.0f\n", n / (now() - t0));
	return 0;
}

static int hex_value(unsigned char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One request, line to end: whether its signature is tid || ici's MAC. */
static bool bare_verify(const char *line, const char *end)
{
	const char *tid = NULL, *ici = NULL, *sig = NULL, *p, *amp;
	size_t tid_len = 0, ici_len = 0, i;
	unsigned char msg[512], want[32], got[32];
	int bad = 0;

	for (p = line; p < end; p = amp + 1) {
		amp = memchr(p, '&', end - p);
		if (!amp)
			amp = end;
		if (amp - p > 4 && !memcmp(p, "tid=", 4))
			tid = p + 4, tid_len = amp - tid;
		else if (amp - p > 4 && !memcmp(p, "ici=", 4))
			ici = p + 4, ici_len = amp - ici;
		else if (amp - p == 10 + 64 && !memcmp(p, "signature=", 10))
			sig = p + 10;
	}
	if (!tid || !ici || !sig || tid_len + ici_len > sizeof(msg))
		return false;
	memcpy(msg, tid, tid_len);
	memcpy(msg + tid_len, ici, ici_len);
	for (i = 0; i < 32; i++) {
		int hi = hex[(unsigned char)sig[2 * i]], lo = hex[(unsigned char)sig[2 * i + 1]];

		bad |= hi | lo;
		want[i] = (unsigned char)(hi << 4 | lo);
	}
	return bad >= 0 && mac(msg, tid_len + ici_len, got) && !CRYPTO_memcmp(got, want, 32);
}

static int bare(void)
{
	char *in = malloc(BUF_SIZE), *out = malloc(BUF_SIZE);
	size_t have = 0, n_out = 0, count = 0;
	double t0 = now();
	ssize_t n;

	if (!in || !out)
		return 2;
	while ((n = read(0, in + have, BUF_SIZE - have)) > 0) {
		char *line = in, *nl;

		have += n;
		while ((nl = memchr(line, '\n', in + have - line))) {
			if (!bare_verify(line, nl))
				return 1;
			memcpy(out + n_out, "ok\n", 3);
			n_out += 3;
			count++;
			line = nl + 1;
		}
		have -= line - in;
		memmove(in, line, have);
		if (write(1, out, n_out) != (ssize_t)n_out)
			return 2;
		n_out = 0;
	}
	if (n < 0 || have)
		return 2;
	fprintf(stderr, "%.0f\n", count / (now() - t0));
	return 0;
}

int main(int argc, char **argv)
{
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA2-256", 0),
		OSSL_PARAM_construct_end(),
	};
	bool is_bare = argc == 3 && !strcmp(argv[1], "--bare");
	const char *hex_key = argc >= 2 ? argv[argc - 1] : "";
	size_t hex_len = strlen(hex_key), key_len = hex_len / 2, i;
	unsigned char key[64];

	for (i = 0; i < 256; i++)
		hex[i] = hex_value(i);
	ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
	if ((argc != 2 && !is_bare) || !ctx || !hex_len || hex_len % 2 || key_len > sizeof(key))
		return 2;
	for (i = 0; i < key_len; i++) {
		int hi = hex[(unsigned char)hex_key[2 * i]], lo = hex[(unsigned char)hex_key[2 * i + 1]];

		if (hi < 0 || lo < 0)
			return 2;
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	if (EVP_MAC_init(ctx, key, key_len, params) != 1)
		return 1;
	return is_bare ? bare() : raw();
}
