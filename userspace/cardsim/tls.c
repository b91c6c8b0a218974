// SPDX-License-Identifier: GPL-2.0
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tls.h"

static const struct tls_options *psk_opt;	/* for the PSK callback */

/*
 * Why OpenSSL's last call failed, never NULL: the first reason queued, the
 * most precise, unless a file could not be opened: then the system's.
 */
static const char *openssl_why(void)
{
	const char *why = NULL;
	unsigned long e;

	while ((e = ERR_get_error())) {
		if (ERR_SYSTEM_ERROR(e)) {
			why = strerror(ERR_GET_REASON(e));
			ERR_clear_error();
			break;
		}
		if (!why)	/* the first is the most precise */
			why = ERR_reason_error_string(e);
	}
	return why ? why : "unknown error";
}

static unsigned int psk_server_cb(SSL *ssl, const char *identity,
				  unsigned char *psk, unsigned int max_len)
{
	(void)ssl;
	if (!identity || strcmp(identity, psk_opt->psk_identity) ||
	    psk_opt->psk_key_len > max_len)
		return 0;	/* unknown identity: the handshake fails */
	memcpy(psk, psk_opt->psk_key, psk_opt->psk_key_len);
	return psk_opt->psk_key_len;
}

int tls_parse_psk(struct tls_options *opt, char *text, char *err, size_t errlen)
{
	char *colon = strrchr(text, ':');
	long len;
	unsigned char *key;

	if (!colon || colon == text) {
		snprintf(err, errlen, "PSK: expected IDENTITY:HEXKEY");
		return -1;
	}
	*colon = '\0';
	key = OPENSSL_hexstr2buf(colon + 1, &len);
	if (!key || len < 16 || len > (long)sizeof(opt->psk_key)) {
		OPENSSL_free(key);
		snprintf(err, errlen, "PSK key: expected 16 to 64 bytes in hex");
		return -1;
	}
	memcpy(opt->psk_key, key, len);
	OPENSSL_clear_free(key, len);
	opt->psk_key_len = len;
	opt->psk_identity = text;
	return 0;
}

/* A P-256 key and a certificate for localhost, 127.0.0.1 and ::1. */
static int self_signed(SSL_CTX *ctx, const char *out, char *err, size_t errlen)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_EXTENSION *san = NULL;
	X509V3_CTX v3;
	FILE *f = NULL;
	int ret = -1;

	if (!pkey || !x)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
	X509_set_pubkey(x, pkey);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"cardsim", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	san = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
				  "DNS:localhost,IP:127.0.0.1,IP:::1");
	if (!san || !X509_add_ext(x, san, -1) || !X509_sign(x, pkey, EVP_sha256()))
		goto out;
	f = fopen(out, "w");
	if (!f || !PEM_write_X509(f, x) || fclose(f)) {
		f = NULL;
		snprintf(err, errlen, "cannot write the certificate to %s", out);
		goto fail;
	}
	f = NULL;
	if (SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, pkey) == 1)
		ret = 0;
out:
	if (ret)
		snprintf(err, errlen, "cannot make a self-signed certificate: %s",
			 openssl_why());
fail:
	if (f)
		fclose(f);
	X509_EXTENSION_free(san);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return ret;
}

SSL_CTX *tls_server_ctx(const struct tls_options *opt, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	bool x509 = opt->cert || opt->self_signed_out;

	if (!ctx) {
		snprintf(err, errlen, "OpenSSL: cannot make a server context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (opt->psk_identity) {
		psk_opt = opt;
		/*
		 * Also used for TLS 1.3, where such a PSK binds to a SHA-256
		 * suite: prefer those, or a certificate would win instead.
		 */
		SSL_CTX_set_psk_server_callback(ctx, psk_server_cb);
		SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
		SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:"
					 "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384");
		if (!x509 && !SSL_CTX_set_cipher_list(ctx, "PSK:!aNULL")) {
			snprintf(err, errlen, "OpenSSL has no TLS 1.2 PSK suites");
			goto err;
		}
	}
	if (opt->cert) {
		const char *key = opt->key ? opt->key : opt->cert;

		if (SSL_CTX_use_certificate_chain_file(ctx, opt->cert) != 1) {
			snprintf(err, errlen, "--cert %s: %s", opt->cert, openssl_why());
			goto err;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
			if (opt->key)
				snprintf(err, errlen, "--key %s: %s", key, openssl_why());
			else
				snprintf(err, errlen, "--cert %s holds no usable key (%s): give --key FILE",
					 key, openssl_why());
			goto err;
		}
		if (SSL_CTX_check_private_key(ctx) != 1) {
			snprintf(err, errlen, "--cert %s and its key %s do not match: %s",
				 opt->cert, key, openssl_why());
			goto err;
		}
	} else if (opt->self_signed_out && self_signed(ctx, opt->self_signed_out, err, errlen)) {
		goto err;
	}
	if (!opt->psk_identity && !x509) {
		snprintf(err, errlen, "no TLS credentials: give --psk, --cert or --self-signed");
		goto err;
	}
	return ctx;
err:
	SSL_CTX_free(ctx);
	return NULL;
}
