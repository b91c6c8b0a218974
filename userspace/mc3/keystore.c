// SPDX-License-Identifier: GPL-2.0
/* The key store: "APIKEYID HASH ENCODING PROFILE KEY" a line. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "keystore.h"

#define KS_MAX_FILE	(1 << 20)
#define KS_MAX_KEYS	10000
#define KEY_MIN		16
#define KEY_MAX		1024

/* "hex:..." or "base64:..." into out; the key's length, or -1. */
static long decode_key(const char *text, unsigned char *out)
{
	size_t len, i;
	int n;

	if (!strncmp(text, "hex:", 4)) {
		text += 4;
		len = strlen(text);
		if (!len || len % 2 || len / 2 > KEY_MAX)
			return -1;
		for (i = 0; i < len / 2; i++) {
			int hi = mc3_hex_value(text[2 * i]), lo = mc3_hex_value(text[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return -1;
			out[i] = hi << 4 | lo;
		}
		return len / 2;
	}
	if (!strncmp(text, "base64:", 7)) {
		text += 7;
		len = strlen(text);
		if (!len || len % 4 || len / 4 * 3 > KEY_MAX + 2)
			return -1;
		n = EVP_DecodeBlock(out, (const unsigned char *)text, len);
		if (n < 0)
			return -1;
		/* EVP_DecodeBlock counts padding as zero octets. */
		if (text[len - 1] == '=')
			n -= text[len - 2] == '=' ? 2 : 1;
		return n;
	}
	return -1;
}

static const char *digest_name(const char *hash, size_t *mac_len)
{
	static const struct { const char *name, *ossl; size_t len; } digests[] = {
		{ "sha1", "SHA1", 20 }, { "sha256", "SHA2-256", 32 },
		{ "sha384", "SHA2-384", 48 }, { "sha512", "SHA2-512", 64 },
	};
	size_t i;

	for (i = 0; i < sizeof(digests) / sizeof(digests[0]); i++) {
		if (!strcmp(hash, digests[i].name)) {
			*mac_len = digests[i].len;
			return digests[i].ossl;
		}
	}
	return NULL;
}

/* A keyed template for key; 0, or -1. */
static int key_template(struct mc3_keystore *ks, struct mc3_key *k, const char *digest,
			const unsigned char *key, size_t key_len)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
		OSSL_PARAM_construct_end(),
	};

	k->tmpl = EVP_MAC_CTX_new(ks->hmac);
	return k->tmpl && EVP_MAC_init(k->tmpl, key, key_len, params) == 1 ? 0 : -1;
}

static int parse_line(struct mc3_keystore *ks, char *line, unsigned int lineno,
		      char *err, size_t errlen)
{
	char *save = NULL, *tok[6];
	unsigned char key[KEY_MAX + 3];
	struct mc3_key *k;
	const char *digest;
	long key_len;
	int n = 0, ret = -1;

	for (tok[n] = strtok_r(line, " \t", &save); tok[n] && n < 5;)
		tok[++n] = strtok_r(NULL, " \t", &save);
	if (!n)
		return 0;
	if (n != 5 || tok[5]) {
		snprintf(err, errlen, "line %u: expected APIKEYID HASH ENCODING PROFILE KEY", lineno);
		return -1;
	}
	if (!mc3_field_valid(F_APIKEYID, tok[0], strlen(tok[0]), false, err, errlen)) {
		snprintf(err, errlen, "line %u: the apikeyid is not 1 to 64 of A-Z a-z 0-9 . _ -", lineno);
		return -1;
	}
	if (ks->nr_keys == KS_MAX_KEYS) {
		snprintf(err, errlen, "line %u: more than %d keys", lineno, KS_MAX_KEYS);
		return -1;
	}
	k = &ks->keys[ks->nr_keys];
	memset(k, 0, sizeof(*k));
	snprintf(k->id, sizeof(k->id), "%s", tok[0]);
	digest = digest_name(tok[1], &k->mac_len);
	if (!digest) {
		snprintf(err, errlen, "line %u: hash '%.16s' is not sha1, sha256, sha384 or sha512",
			 lineno, tok[1]);
		return -1;
	}
	if (!strcmp(tok[2], "hex") || !strcmp(tok[2], "base64")) {
		k->encoding = tok[2][0] == 'h' ? ENC_HEX : ENC_BASE64;
	} else {
		snprintf(err, errlen, "line %u: encoding '%.16s' is not hex or base64", lineno, tok[2]);
		return -1;
	}
	if (!strcmp(tok[3], "cr") || !strcmp(tok[3], "v2")) {
		k->profile = tok[3][0] == 'c' ? PROFILE_CR : PROFILE_V2;
	} else {
		snprintf(err, errlen, "line %u: profile '%.16s' is not cr or v2", lineno, tok[3]);
		return -1;
	}
	key_len = decode_key(tok[4], key);
	if (key_len < 0)
		snprintf(err, errlen, "line %u: the key is not hex:... or base64:... of at most %d octets",
			 lineno, KEY_MAX);
	else if (key_len < KEY_MIN)
		snprintf(err, errlen, "line %u: the key has %ld octets; at least %d are needed",
			 lineno, key_len, KEY_MIN);
	else if (key_template(ks, k, digest, key, key_len))
		snprintf(err, errlen, "line %u: OpenSSL could not key HMAC-%s", lineno, tok[1]);
	else
		ret = 0;
	OPENSSL_cleanse(key, sizeof(key));
	if (ret) {
		EVP_MAC_CTX_free(k->tmpl);
		return -1;
	}
	ks->nr_keys++;
	return 0;
}

static int count_lines(const char *text, size_t len)
{
	size_t i, n = 1;

	for (i = 0; i < len; i++)
		n += text[i] == '\n';
	return n > KS_MAX_KEYS ? KS_MAX_KEYS : n;
}

int mc3_keystore_parse(const char *text, size_t len, struct mc3_keystore **out,
		       char *err, size_t errlen)
{
	struct mc3_keystore *ks = calloc(1, sizeof(*ks));
	unsigned char dummy_key[32];
	char *copy = NULL, *line, *next;
	unsigned int lineno = 0;
	int ret = -1;

	*out = NULL;
	if (!ks || len > KS_MAX_FILE || memchr(text, '\0', len)) {
		snprintf(err, errlen, ks ? "not a key store: too large or binary" : "out of memory");
		free(ks);
		return -1;
	}
	ks->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ks->keys = calloc(count_lines(text, len), sizeof(*ks->keys));
	copy = OPENSSL_malloc(len + 1);
	if (!ks->hmac || !ks->keys || !copy ||
	    RAND_bytes(dummy_key, sizeof(dummy_key)) != 1 ||
	    key_template(ks, &ks->dummy, "SHA2-256", dummy_key, sizeof(dummy_key))) {
		snprintf(err, errlen, "OpenSSL: cannot set up HMAC");
		goto out;
	}
	ks->dummy.mac_len = 32;
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; line; line = next) {
		char *hash;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		if (parse_line(ks, line, lineno, err, errlen))
			goto out;
	}
	if (!ks->nr_keys) {
		snprintf(err, errlen, "no keys");
		goto out;
	}
	*out = ks;
	ret = 0;
out:
	OPENSSL_cleanse(dummy_key, sizeof(dummy_key));
	OPENSSL_clear_free(copy, len + 1);
	if (ret)
		mc3_keystore_free(ks);
	return ret;
}

int mc3_keystore_load(const char *path, struct mc3_keystore **out, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *text;
	ssize_t n;
	int ret;

	*out = NULL;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > KS_MAX_FILE) {
		snprintf(err, errlen, "%s: not a regular file of 1 MiB at most", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: group or others may access it (mode %03o): "
			 "refusing a shared key store; chmod 600 it", path,
			 (unsigned int)(st.st_mode & 0777));
		close(fd);
		return -1;
	}
	text = OPENSSL_malloc(st.st_size + 1);
	n = text ? read(fd, text, st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		snprintf(err, errlen, "%s: cannot read it", path);
		OPENSSL_clear_free(text, st.st_size + 1);
		return -1;
	}
	ret = mc3_keystore_parse(text, n, out, err, errlen);
	OPENSSL_clear_free(text, st.st_size + 1);
	if (ret) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s: %s", path, err);
		snprintf(err, errlen, "%s", msg);
	}
	return ret;
}

void mc3_keystore_free(struct mc3_keystore *ks)
{
	size_t i;

	if (!ks)
		return;
	/* Freeing an HMAC context cleanses the key it holds. */
	for (i = 0; ks->keys && i < ks->nr_keys; i++)
		EVP_MAC_CTX_free(ks->keys[i].tmpl);
	EVP_MAC_CTX_free(ks->dummy.tmpl);
	free(ks->keys);
	EVP_MAC_free(ks->hmac);
	free(ks);
}
