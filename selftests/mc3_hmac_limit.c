// SPDX-License-Identifier: GPL-2.0
/*
 * The raw limit for make bench: HMAC-SHA-256 of each request's tid and ici,
 * one reused EVP_MAC context, no parsing (done before the clock starts).
 * usage: mc3_hmac_limit HEXKEY < signed-requests; prints MACs per second.
 */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LINES 4000000

int main(int argc, char **argv)
{
	static char line[1024];
	char **msgs = malloc(MAX_LINES * sizeof(*msgs));
	unsigned char key[64], mac[64];
	size_t n = 0, i, key_len, mac_len;
	struct timespec t0, t1;
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA2-256", 0),
		OSSL_PARAM_construct_end(),
	};
	double secs;

	if (argc != 2 || !msgs || !ctx || strlen(argv[1]) > 128)
		return 2;
	key_len = strlen(argv[1]) / 2;
	for (i = 0; i < key_len; i++)
		sscanf(argv[1] + 2 * i, "%2hhx", &key[i]);
	if (EVP_MAC_init(ctx, key, key_len, params) != 1)
		return 1;
	/* "tid=T&ici=I&...": T and I are plain in the generated requests. */
	while (n < MAX_LINES && fgets(line, sizeof(line), stdin)) {
		char *tid = strstr(line, "tid=") + 4, *ici = strstr(line, "ici=") + 4;

		msgs[n] = malloc(64);
		snprintf(msgs[n++], 64, "%.*s%.*s", (int)strcspn(tid, "&"), tid,
			 (int)strcspn(ici, "&"), ici);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		if (EVP_MAC_init(ctx, NULL, 0, NULL) != 1 ||
		    EVP_MAC_update(ctx, (unsigned char *)msgs[i], strlen(msgs[i])) != 1 ||
		    EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) != 1)
			return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%.0f\n", n / secs);
	return 0;
}
