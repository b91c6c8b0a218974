// SPDX-License-Identifier: MIT
/*
 * The key store: "APIKEYID HASH ENCODING PROFILE KEY [not-before=T]
 * [not-after=T]" a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <stddef.h>
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
#define USAGE		"expected APIKEYID HASH ENCODING PROFILE KEY [not-before=T] [not-after=T]"

/*
 * "hex:..." or "base64:..." into out (KEY_MAX + 2 octets); the key's
 * length, or -1. A key longer than KEY_MAX is not decoded, only measured,
 * so that the caller can say by how much: the same limit for both.
 */
static long decode_key(const char *text, unsigned char *out)
{
	size_t len, i, pad;
	int n;

	if (!strncmp(text, "hex:", 4)) {
		text += 4;
		len = strlen(text);
		if (!len || len % 2)
			return -1;
		if (len / 2 > KEY_MAX)
			return len / 2;
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
		if (!len || len % 4)
			return -1;
		/* EVP_DecodeBlock counts padding as zero octets. */
		pad = text[len - 1] == '=' ? (text[len - 2] == '=' ? 2 : 1) : 0;
		if (len / 4 * 3 - pad > KEY_MAX)
			return len / 4 * 3 - pad;
		n = EVP_DecodeBlock(out, (const unsigned char *)text, len);
		return n < 0 ? -1 : n - (long)pad;
	}
	return -1;
}

/*
 * The OpenSSL name of hash, its MAC's length and the cost of a key of it
 * per profile, or NULL. The costs only rank ids (link_ids), so rough is
 * enough; measured (medians, x86-64 with SHA extensions, OpenSSL 3.0.19),
 * each block relative to its first line:
 *
 *		HMAC by EVP_MAC		mc3_verify, one key, six fields
 *		40 B	200 B		cr	v2
 *	sha1	1.00	1.61		1.00	2.20
 *	sha256	1.06	1.67		1.04	2.28
 *	sha384	2.50	3.31		2.16	3.69
 *	sha512	2.48	3.30		2.52	4.08
 *
 * v2 weighs more than its longer text alone: it builds the canonical text
 * again for each key. The costs are the right block, in tenths. Without
 * SHA extensions, cr's SHA-1 and SHA-256 cost 1.3 and 1.7 times as much,
 * v2's 1.2 and 1.6: close ids may then be misranked, and an unknown id
 * cost a little less than the costliest.
 */
static const char *digest_name(const char *hash, size_t *mac_len, const unsigned int **cost)
{
	static const struct {
		const char *name, *ossl;
		size_t len;
		unsigned int cost[2];	/* by enum mc3_profile */
	} digests[] = {
		{ "sha1", "SHA1", 20, { 10, 22 } },
		{ "sha256", "SHA2-256", 32, { 10, 23 } },
		{ "sha384", "SHA2-384", 48, { 22, 37 } },
		{ "sha512", "SHA2-512", 64, { 25, 41 } },
	};
	size_t i;

	for (i = 0; i < sizeof(digests) / sizeof(digests[0]); i++) {
		if (!strcmp(hash, digests[i].name)) {
			*mac_len = digests[i].len;
			*cost = digests[i].cost;
			return digests[i].ossl;
		}
	}
	return NULL;
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
	int era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + doe - 719468;
}

/* The digits of s[at..at + n) as a number, or -1 for anything else. */
static int digits(const char *s, int at, int n)
{
	int v = 0;

	for (; n--; at++) {
		if (s[at] < '0' || s[at] > '9')
			return -1;
		v = v * 10 + s[at] - '0';
	}
	return v;
}

/*
 * UNIX seconds (digits only) or YYYY-MM-DDTHH:MM:SSZ into t: 0, or -1.
 * Computed here, not with mktime() or strptime(), so that neither the
 * locale nor TZ can shift a key's validity.
 */
static int parse_time(const char *s, int64_t *t)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec;
	int64_t v = 0;
	size_t i;

	if (strlen(s) == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' &&
	    s[13] == ':' && s[16] == ':' && s[19] == 'Z') {
		y = digits(s, 0, 4);
		mo = digits(s, 5, 2);
		d = digits(s, 8, 2);
		h = digits(s, 11, 2);
		mi = digits(s, 14, 2);
		sec = digits(s, 17, 2);
		/* No leap second: UNIX time has none to map it to. */
		if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 ||
		    mi < 0 || mi > 59 || sec < 0 || sec > 59 ||
		    d > mdays[mo - 1] + (mo == 2 && y % 4 == 0 && (y % 100 || y % 400 == 0)))
			return -1;
		*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
		return 0;
	}
	if (!*s)
		return -1;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*t = v;
	return 0;
}

/* The optional "not-before=T" and "not-after=T" of a line, into k: 0, or -1. */
static int parse_validity(struct mc3_key *k, char **opt, int nr, unsigned int lineno,
			  char *err, size_t errlen)
{
	bool seen[2] = { false, false };
	int i;

	k->not_before = INT64_MIN;
	k->not_after = INT64_MAX;
	for (i = 0; i < nr; i++) {
		bool after = !strncmp(opt[i], "not-after=", 10);
		const char *name = after ? "not-after" : "not-before";

		if (!after && strncmp(opt[i], "not-before=", 11)) {
			snprintf(err, errlen, "line %u: " USAGE, lineno);
			return -1;
		}
		if (seen[after]) {
			snprintf(err, errlen, "line %u: %s given twice", lineno, name);
			return -1;
		}
		seen[after] = true;
		if (parse_time(opt[i] + strlen(name) + 1, after ? &k->not_after : &k->not_before)) {
			char q[256];
			const char *t = opt[i] + strlen(name) + 1;

			snprintf(err, errlen, "line %u: %s '%s' is not UNIX seconds or "
				 "YYYY-MM-DDTHH:MM:SSZ", lineno, name, mc3_quote(q, t, strlen(t)));
			return -1;
		}
	}
	if (k->not_after <= k->not_before) {
		snprintf(err, errlen, "line %u: not-after must be later than not-before", lineno);
		return -1;
	}
	return 0;
}

/* A keyed template for key; 0, or -1. */
static int key_template(struct mc3_keystore *ks, struct mc3_key *k, const char *digest,
			const unsigned char *key, size_t key_len)
{
	/* The digest from the store's library context, by its properties. */
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_PROPERTIES,
						 ks->propq ? ks->propq : (char *)"", 0),
		OSSL_PARAM_construct_end(),
	};

	k->tmpl = EVP_MAC_CTX_new(ks->hmac);
	return k->tmpl && EVP_MAC_init(k->tmpl, key, key_len, params) == 1 ? 0 : -1;
}

static int parse_line(struct mc3_keystore *ks, char *line, unsigned int lineno,
		      char *err, size_t errlen)
{
	char *save = NULL, *tok[8], q[256];
	unsigned char key[KEY_MAX + 2];
	const unsigned int *cost;
	struct mc3_key *k;
	const char *digest;
	long key_len;
	int n = 0, ret = -1;

	for (tok[n] = strtok_r(line, " \t", &save); tok[n] && n < 7;)
		tok[++n] = strtok_r(NULL, " \t", &save);
	if (!n)
		return 0;
	if (n < 5 || (n == 7 && tok[7])) {
		snprintf(err, errlen, "line %u: " USAGE, lineno);
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
	digest = digest_name(tok[1], &k->mac_len, &cost);
	if (!digest) {
		snprintf(err, errlen, "line %u: hash '%s' is not sha1, sha256, sha384 or sha512",
			 lineno, mc3_quote(q, tok[1], strlen(tok[1])));
		return -1;
	}
	if (!strcmp(tok[2], "hex") || !strcmp(tok[2], "base64")) {
		k->encoding = tok[2][0] == 'h' ? ENC_HEX : ENC_BASE64;
	} else {
		snprintf(err, errlen, "line %u: encoding '%s' is not hex or base64", lineno,
			 mc3_quote(q, tok[2], strlen(tok[2])));
		return -1;
	}
	if (!strcmp(tok[3], "cr") || !strcmp(tok[3], "v2")) {
		k->profile = tok[3][0] == 'c' ? PROFILE_CR : PROFILE_V2;
		k->cost = cost[k->profile];
	} else {
		snprintf(err, errlen, "line %u: profile '%s' is not cr or v2", lineno,
			 mc3_quote(q, tok[3], strlen(tok[3])));
		return -1;
	}
	if (parse_validity(k, &tok[5], n - 5, lineno, err, errlen))
		return -1;
	key_len = decode_key(tok[4], key);
	if (key_len < 0)
		snprintf(err, errlen, "line %u: the key is not hex:... or base64:...", lineno);
	else if (key_len < KEY_MIN)
		snprintf(err, errlen, "line %u: the key has %ld octets; at least %d are needed",
			 lineno, key_len, KEY_MIN);
	else if (key_len > KEY_MAX)
		snprintf(err, errlen, "line %u: the key has %ld octets; at most %d are allowed",
			 lineno, key_len, KEY_MAX);
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

/* Keys by id, then in file order. */
static int cmp_by_id(const void *a, const void *b)
{
	const struct mc3_key *ka = *(const struct mc3_key *const *)a;
	const struct mc3_key *kb = *(const struct mc3_key *const *)b;
	int c = strcmp(ka->id, kb->id);

	return c ? c : (ka > kb) - (ka < kb);
}

/* FNV-1a: ids are the key store's, not an attacker's to choose. */
static size_t id_hash(const char *id)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 0x100000001b3ULL;
	return h ^ h >> 32;
}

/* The id index: each id's first key, by hash. 0, or -1. */
static int index_ids(struct mc3_keystore *ks)
{
	size_t size = 16, i;

	while (size < 2 * ks->nr_keys)
		size <<= 1;
	free(ks->id_index);
	ks->id_index = calloc(size, sizeof(*ks->id_index));
	if (!ks->id_index)
		return -1;
	ks->id_mask = size - 1;
	for (i = 0; i < ks->nr_keys; i++) {
		size_t at = id_hash(ks->keys[i].id) & ks->id_mask;

		while (ks->id_index[at] && strcmp(ks->keys[ks->id_index[at] - 1].id, ks->keys[i].id))
			at = (at + 1) & ks->id_mask;
		if (!ks->id_index[at])
			ks->id_index[at] = i + 1;	/* the first key of its id */
	}
	return 0;
}

size_t mc3_keystore_find(const struct mc3_keystore *ks, const char *id)
{
	size_t at = id_hash(id) & ks->id_mask;

	for (; ks->id_index[at]; at = (at + 1) & ks->id_mask)
		if (!strcmp(ks->keys[ks->id_index[at] - 1].id, id))
			return ks->id_index[at] - 1;
	return ks->nr_keys;
}

/*
 * Chain the keys of each id in file order (next), so that signing and
 * verifying visit only those, and find the id whose keys cost most to
 * verify with: an unknown id is verified with its keys. 0, or -1.
 */
static int link_ids(struct mc3_keystore *ks)
{
	struct mc3_key **by_id = malloc(ks->nr_keys * sizeof(*by_id));
	unsigned long cost = 0, max = 0;
	size_t i, first = 0;

	if (!by_id)
		return -1;
	for (i = 0; i < ks->nr_keys; i++)
		by_id[i] = &ks->keys[i];
	qsort(by_id, ks->nr_keys, sizeof(*by_id), cmp_by_id);
	for (i = 0; i < ks->nr_keys; i++) {
		bool last = i + 1 == ks->nr_keys || strcmp(by_id[i]->id, by_id[i + 1]->id);

		if (!i || strcmp(by_id[i - 1]->id, by_id[i]->id)) {
			first = by_id[i] - ks->keys;
			cost = 0;
		}
		cost += by_id[i]->cost;
		by_id[i]->next = last ? ks->nr_keys : (size_t)(by_id[i + 1] - ks->keys);
		if (last && cost > max) {
			max = cost;
			ks->costliest_first = first;
		}
	}
	free(by_id);
	return index_ids(ks);
}

/* An empty store of the configuration's HMAC: 0, or a status. */
static int keystore_new(const struct mc3_config *cfg, struct mc3_keystore **out)
{
	struct mc3_keystore *ks = calloc(1, sizeof(*ks));

	*out = NULL;
	if (!ks)
		return MC3_ENOMEM;
	/* The caller's struct may be older (smaller) or newer than ours. */
	if (cfg && cfg->size >= offsetof(struct mc3_config, libctx) + sizeof(cfg->libctx))
		ks->libctx = cfg->libctx;
	if (cfg && cfg->size >= offsetof(struct mc3_config, propq) + sizeof(cfg->propq) &&
	    cfg->propq && !(ks->propq = strdup(cfg->propq))) {
		free(ks);
		return MC3_ENOMEM;
	}
	ks->hmac = EVP_MAC_fetch(ks->libctx, "HMAC", ks->propq);
	if (!ks->hmac) {
		mc3_keystore_free(ks);
		return MC3_ECRYPTO;
	}
	*out = ks;
	return MC3_OK;
}

int mc3_keystore_new(const struct mc3_config *cfg, struct mc3_keystore **out)
{
	return keystore_new(cfg, out);
}

int mc3_keystore_parse(const char *text, size_t len, struct mc3_keystore **out,
		       char *err, size_t errlen)
{
	return mc3_keystore_parse_with(NULL, text, len, out, err, errlen);
}

int mc3_keystore_parse_with(const struct mc3_config *cfg, const char *text, size_t len,
			    struct mc3_keystore **out, char *err, size_t errlen)
{
	struct mc3_keystore *ks;
	char *copy = NULL, *line, *next;
	unsigned int lineno = 0;
	int ret;

	*out = NULL;
	if (len > KS_MAX_FILE || memchr(text, '\0', len)) {
		snprintf(err, errlen, "not a key store: too large or binary");
		return MC3_EKEYSTORE;
	}
	ret = keystore_new(cfg, &ks);
	if (ret) {
		snprintf(err, errlen, "%s", ret == MC3_ENOMEM ? "out of memory" :
			 "OpenSSL: no HMAC from this library context and properties");
		return ret;
	}
	ret = MC3_ENOMEM;
	ks->cap = count_lines(text, len);
	ks->keys = calloc(ks->cap, sizeof(*ks->keys));
	copy = OPENSSL_malloc(len + 1);
	if (!ks->keys || !copy) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	ret = MC3_EKEYSTORE;
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; line; line = next) {
		char *hash, *end;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		end = next ? next - 1 : line + strlen(line);
		/* CRLF, from a Windows editor: the CR is part of the line end. */
		if (next && end > line && end[-1] == '\r')
			*--end = '\0';
		/*
		 * Any other CR, even in a comment: with CR line ends (old Mac)
		 * the whole file is one line, and a first "#" would hide it.
		 */
		if (memchr(line, '\r', end - line)) {
			snprintf(err, errlen, "line %u: a carriage return (\\r) not followed by "
				 "a line feed; lines end in \\n or \\r\\n", lineno);
			goto out;
		}
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
	if (link_ids(ks)) {
		snprintf(err, errlen, "out of memory");
		ret = MC3_ENOMEM;
		goto out;
	}
	*out = ks;
	ret = MC3_OK;
out:
	OPENSSL_clear_free(copy, len + 1);
	if (ret)
		mc3_keystore_free(ks);
	return ret;
}

int mc3_keystore_load(const char *path, struct mc3_keystore **out, char *err, size_t errlen)
{
	return mc3_keystore_load_with(NULL, path, out, err, errlen);
}

int mc3_keystore_load_with(const struct mc3_config *cfg, const char *path,
			   struct mc3_keystore **out, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *text;
	ssize_t n;
	int ret;

	*out = NULL;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return MC3_EIO;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > KS_MAX_FILE) {
		snprintf(err, errlen, "%s: not a regular file of 1 MiB at most", path);
		close(fd);
		return MC3_EKEYSTORE;
	}
	/*
	 * As ssh's StrictModes: whoever owns the file can rewrite it, adding
	 * keys, and chmod it back. Root could anyway.
	 */
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, errlen, "%s: owned by uid %u, not by root or our euid %u: refusing "
			 "a key store another user can rewrite; chown it to %u or root", path,
			 (unsigned int)st.st_uid, (unsigned int)geteuid(), (unsigned int)geteuid());
		close(fd);
		return MC3_EKEYSTORE;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: group or others may access it (mode %03o): "
			 "refusing a shared key store; chmod 600 it", path,
			 (unsigned int)(st.st_mode & 0777));
		close(fd);
		return MC3_EKEYSTORE;
	}
	text = OPENSSL_malloc(st.st_size + 1);
	n = text ? read(fd, text, st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		snprintf(err, errlen, "%s: cannot read it", path);
		OPENSSL_clear_free(text, st.st_size + 1);
		return MC3_EIO;
	}
	ret = mc3_keystore_parse_with(cfg, text, n, out, err, errlen);
	OPENSSL_clear_free(text, st.st_size + 1);
	if (ret && errlen) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s: %s", path, err);
		snprintf(err, errlen, "%s", msg);
	}
	return ret;
}

int mc3_keystore_add(struct mc3_keystore *ks, const struct mc3_key_params *p,
		     char *err, size_t errlen)
{
	static const struct mc3_key_params none;
	const unsigned int *cost;
	const char *digest;
	struct mc3_key *k;
	size_t id_len;

	/* What an older caller's struct lacks is as if zero. */
	struct mc3_key_params kp = none;

	memcpy(&kp, p, p->size < sizeof(kp) ? p->size : sizeof(kp));
	if (atomic_load(&ks->frozen)) {
		snprintf(err, errlen, "a context uses this key store: keys are added before");
		return MC3_EINVAL;
	}
	id_len = kp.apikeyid ? strlen(kp.apikeyid) : 0;
	if (!id_len || !mc3_field_valid(F_APIKEYID, kp.apikeyid, id_len, false, err, errlen)) {
		snprintf(err, errlen, "the apikeyid is not 1 to 64 of A-Z a-z 0-9 . _ -");
		return MC3_EINVAL;
	}
	if (ks->nr_keys == KS_MAX_KEYS) {
		snprintf(err, errlen, "more than %d keys", KS_MAX_KEYS);
		return MC3_EINVAL;
	}
	if (ks->nr_keys == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 4;
		struct mc3_key *keys = realloc(ks->keys, cap * sizeof(*keys));

		if (!keys) {
			snprintf(err, errlen, "out of memory");
			return MC3_ENOMEM;
		}
		ks->keys = keys;
		ks->cap = cap;
	}
	k = &ks->keys[ks->nr_keys];
	memset(k, 0, sizeof(*k));
	memcpy(k->id, kp.apikeyid, id_len + 1);
	digest = kp.hash ? digest_name(kp.hash, &k->mac_len, &cost) : NULL;
	if (!digest || !kp.encoding || !kp.profile ||
	    (strcmp(kp.encoding, "hex") && strcmp(kp.encoding, "base64")) ||
	    (strcmp(kp.profile, "cr") && strcmp(kp.profile, "v2"))) {
		snprintf(err, errlen, "hash, encoding or profile is not one of sha1 sha256 sha384 sha512, hex base64, cr v2");
		return MC3_EINVAL;
	}
	k->encoding = kp.encoding[0] == 'h' ? ENC_HEX : ENC_BASE64;
	k->profile = kp.profile[0] == 'c' ? PROFILE_CR : PROFILE_V2;
	k->cost = cost[k->profile];
	k->not_before = kp.not_before ? kp.not_before : INT64_MIN;
	k->not_after = kp.not_after ? kp.not_after : INT64_MAX;
	if (k->not_after <= k->not_before) {
		snprintf(err, errlen, "not_after must be later than not_before");
		return MC3_EINVAL;
	}
	if (!kp.key || kp.key_len < KEY_MIN || kp.key_len > KEY_MAX) {
		snprintf(err, errlen, "the key has %zu octets: %d to %d are needed",
			 kp.key ? kp.key_len : 0, KEY_MIN, KEY_MAX);
		return MC3_EINVAL;
	}
	if (key_template(ks, k, digest, kp.key, kp.key_len)) {
		EVP_MAC_CTX_free(k->tmpl);
		snprintf(err, errlen, "OpenSSL could not key HMAC-%s", kp.hash);
		return MC3_ECRYPTO;
	}
	ks->nr_keys++;
	if (link_ids(ks)) {
		EVP_MAC_CTX_free(ks->keys[--ks->nr_keys].tmpl);
		snprintf(err, errlen, "out of memory");
		return MC3_ENOMEM;
	}
	return MC3_OK;
}

void mc3_keystore_free(struct mc3_keystore *ks)
{
	size_t i;

	if (!ks)
		return;
	/* Freeing an HMAC context cleanses the key it holds. */
	for (i = 0; ks->keys && i < ks->nr_keys; i++)
		EVP_MAC_CTX_free(ks->keys[i].tmpl);
	free(ks->keys);
	free(ks->id_index);
	EVP_MAC_free(ks->hmac);
	free(ks->propq);
	free(ks);
}
