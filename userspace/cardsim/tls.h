/* SPDX-License-Identifier: GPL-2.0 */
/* cardsim: the card's TLS server: PSK as SCWS specifies, X.509 for browsers. */
#ifndef CARDSIM_TLS_H
#define CARDSIM_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

struct tls_options {
	const char *psk_identity;	/* PSK mode when set */
	unsigned char psk_key[64];
	size_t psk_key_len;
	const char *cert, *key;		/* X.509 from files */
	const char *self_signed_out;	/* or a fresh pair; the cert written here */
};

/* Parse "IDENTITY:HEXKEY" (from --psk or a --psk-file line); 0 or -1. */
int tls_parse_psk(struct tls_options *opt, char *text, char *err, size_t errlen);

/* The server context, or NULL having said why in err. */
SSL_CTX *tls_server_ctx(const struct tls_options *opt, char *err, size_t errlen);

#endif
