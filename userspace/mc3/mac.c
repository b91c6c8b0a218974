// SPDX-License-Identifier: MIT
/* Signing and verifying with a context. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "keystore.h"
#include "replay.h"
#include "swar.h"

#define MAC_MAX		64	/* SHA-512 */
#define SIG_TEXT_MAX	(MAC_MAX * 2 + 1)

struct mc3_ctx {
	const struct mc3_keystore *ks;
	EVP_MAC_CTX **work;		/* one per key */
	bool reinit;			/* EVP_MAC_init(ctx, NULL, ...) is sound */
	struct mc3_replay *replay;
	struct id_cache **caches;	/* per key, its id's in replay, looked up once */
	bool own_replay;		/* made by mc3_ctx_new, freed with it */
	struct mc3_buf canon;		/* v2's canonical text, reused */
	const struct mc3_request *verified;	/* the last MC3_OK, with... */
	size_t verified_key;			/* ...its key... */
	unsigned char verified_mac[MAC_MAX];	/* ...and its MAC */
};

struct mc3_ctx *mc3_ctx_new_shared(const struct mc3_keystore *ks, struct mc3_replay *replay)
{
	struct mc3_ctx *ctx = calloc(1, sizeof(*ctx));
	size_t i;

	if (!ctx || !replay) {
		free(ctx);
		return NULL;
	}
	ctx->ks = ks;
	ctx->replay = replay;
	/* The store is as it will stay: contexts index its keys. */
	atomic_store(&((struct mc3_keystore *)ks)->frozen, true);
	/* Reusing a keyed context is only right from OpenSSL 3.0.3 on. */
	ctx->reinit = OpenSSL_version_num() >= 0x30000030L;
	ctx->work = calloc(ks->nr_keys, sizeof(*ctx->work));
	ctx->caches = calloc(ks->nr_keys, sizeof(*ctx->caches));
	if (!ctx->work || !ctx->caches)
		goto err;
	for (i = 0; i < ks->nr_keys; i++) {
		ctx->work[i] = EVP_MAC_CTX_dup(ks->keys[i].tmpl);
		if (!ctx->work[i])
			goto err;
	}
	return ctx;
err:
	mc3_ctx_free(ctx);
	return NULL;
}

struct mc3_ctx *mc3_ctx_new(const struct mc3_keystore *ks, unsigned int per_id,
			    unsigned int window)
{
	struct mc3_replay *replay = mc3_replay_new(window ? window : MC3_WINDOW_DEFAULT,
						   per_id ? per_id : MC3_REPLAY_DEFAULT);
	struct mc3_ctx *ctx = mc3_ctx_new_shared(ks, replay);

	if (!ctx)
		mc3_replay_free(replay);
	else
		ctx->own_replay = true;
	return ctx;
}

void mc3_ctx_free(struct mc3_ctx *ctx)
{
	size_t i;

	if (!ctx)
		return;
	for (i = 0; ctx->work && i < ctx->ks->nr_keys; i++)
		EVP_MAC_CTX_free(ctx->work[i]);
	free(ctx->work);
	free(ctx->caches);
	if (ctx->own_replay)
		mc3_replay_free(ctx->replay);
	free(ctx->canon.data);
	free(ctx);
}

/* A fresh HMAC state of key i. */
static EVP_MAC_CTX *work_ctx(struct mc3_ctx *ctx, size_t i)
{
	if (ctx->reinit)
		return EVP_MAC_init(ctx->work[i], NULL, 0, NULL) == 1 ? ctx->work[i] : NULL;
	EVP_MAC_CTX_free(ctx->work[i]);
	ctx->work[i] = EVP_MAC_CTX_dup(ctx->ks->keys[i].tmpl);
	return ctx->work[i];
}

static int cmp_extra(const void *a, const void *b)
{
	return strcmp((*(const struct mc3_extra *const *)a)->name,
		      (*(const struct mc3_extra *const *)b)->name);
}

/* v2: "name=value\n" for each field but the signature, values %-encoded. */
static const char *canonical(struct mc3_ctx *ctx, const struct mc3_request *req, size_t *len)
{
	const struct mc3_extra *sorted[MC3_MAX_EXTRA];
	struct mc3_buf *b = &ctx->canon;
	unsigned int i;
	int f;

	b->len = 0;
	b->failed = false;
	for (f = 0; f < NR_FIELDS; f++) {
		if (f == F_SIGNATURE || !req->field[f])
			continue;
		mc3_buf_add(b, mc3_field_names[f], strlen(mc3_field_names[f]));
		mc3_buf_add(b, "=", 1);
		mc3_buf_pct(b, req->field[f]);
		mc3_buf_add(b, "\n", 1);
	}
	for (i = 0; i < req->nr_extra; i++)
		sorted[i] = &req->extra[i];
	qsort(sorted, req->nr_extra, sizeof(sorted[0]), cmp_extra);
	for (i = 0; i < req->nr_extra; i++) {
		mc3_buf_pct(b, sorted[i]->name);
		mc3_buf_add(b, "=", 1);
		mc3_buf_pct(b, sorted[i]->value);
		mc3_buf_add(b, "\n", 1);
	}
	*len = b->len;
	return b->failed ? NULL : b->data;
}

/* The MAC of req under key i into out: 0, or -1. */
static int mac_of(struct mc3_ctx *ctx, size_t i, const struct mc3_request *req,
		  unsigned char out[MAC_MAX])
{
	const struct mc3_key *k = &ctx->ks->keys[i];
	EVP_MAC_CTX *mac = work_ctx(ctx, i);
	size_t out_len = 0, len;
	const char *canon;
	int ok;

	if (!mac)
		return -1;
	if (k->profile == PROFILE_CR) {
		ok = EVP_MAC_update(mac, (const unsigned char *)req->field[F_TID],
				    req->field_len[F_TID]) == 1 &&
		     EVP_MAC_update(mac, (const unsigned char *)req->field[F_ICI],
				    req->field_len[F_ICI]) == 1;
	} else {
		canon = canonical(ctx, req, &len);
		ok = canon && EVP_MAC_update(mac, (const unsigned char *)canon, len) == 1;
	}
	if (!ok || EVP_MAC_final(mac, out, &out_len, MAC_MAX) != 1 || out_len != k->mac_len)
		return -1;
	return 0;
}

/* The signature text of req under key i, NUL-terminated: 0, or -1. */
static int sign_text(struct mc3_ctx *ctx, size_t i, const struct mc3_request *req,
		     char text[SIG_TEXT_MAX])
{
	static const char hex[] = "0123456789abcdef";
	const struct mc3_key *k = &ctx->ks->keys[i];
	unsigned char mac[MAC_MAX];
	size_t j;

	if (mac_of(ctx, i, req, mac))
		return -1;
	if (k->encoding == ENC_BASE64) {
		EVP_EncodeBlock((unsigned char *)text, mac, k->mac_len);
	} else {
		for (j = 0; j < k->mac_len; j++) {
			text[2 * j] = hex[mac[j] >> 4];
			text[2 * j + 1] = hex[mac[j] & 15];
		}
		text[2 * j] = '\0';
	}
	OPENSSL_cleanse(mac, k->mac_len);
	return 0;
}

/* One more than a lower-case hex digit's value, 0 for any other octet. */
static const unsigned char lower_hex_1[256] = {
	['0'] = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
	['a'] = 11, 12, 13, 14, 15, 16,
};

/*
 * The MAC a signature claims under key k, into out: true only if sig is
 * exactly what sign_text() writes (lower-case hex; base64 with its
 * padding), so that a MAC has one signature. The MACs are then compared
 * in binary, without encoding the one computed.
 */
static bool sig_decode(const struct mc3_key *k, const char *sig, size_t len,
		       unsigned char out[MAC_MAX])
{
	unsigned char decoded[MAC_MAX + 2];
	char again[SIG_TEXT_MAX];
	size_t i;

	if (k->encoding == ENC_HEX) {
		if (len != 2 * k->mac_len)
			return false;
		int bad = 0;

		i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		for (; i + 4 <= k->mac_len; i += 4)
			bad |= swar_hex8(swar_load(sig + 2 * i), out + i);
#endif
		for (; i < k->mac_len; i++) {
			/* -1 for a bad digit: no branch per digit on random data. */
			int hi = lower_hex_1[(unsigned char)sig[2 * i]] - 1;
			int lo = lower_hex_1[(unsigned char)sig[2 * i + 1]] - 1;

			bad |= hi | lo;
			out[i] = (unsigned char)((hi & 15) << 4 | (lo & 15));
		}
		return bad >= 0;
	}
	/* EVP_DecodeBlock is lenient (spaces, any padding bits): re-encode. */
	if (len != 4 * ((k->mac_len + 2) / 3) ||
	    EVP_DecodeBlock(decoded, (const unsigned char *)sig, len) < 0)
		return false;
	memcpy(out, decoded, k->mac_len);
	EVP_EncodeBlock((unsigned char *)again, out, k->mac_len);
	return !memcmp(again, sig, len);
}

/* The fields signing sets, as they were: copies in kept. 0, or -1. */
static const int signed_by_sign[3] = { F_SIGNATURE, F_APIKEYID, F_TS };

static int keep_fields(const struct mc3_request *req, char *kept[3])
{
	int j;

	for (j = 0; j < 3; j++)
		if (req->field[signed_by_sign[j]] &&
		    !(kept[j] = strdup(req->field[signed_by_sign[j]])))
			return -1;
	return 0;
}

/* The kept copies go back in, owned by the request: nothing to allocate. */
static void restore_fields(struct mc3_request *req, char *kept[3])
{
	int j;

	for (j = 0; j < 3; j++) {
		int f = signed_by_sign[j];

		if (req->owned & 1U << f)
			free(req->field[f]);
		req->field[f] = kept[j];
		req->field_len[f] = kept[j] ? strlen(kept[j]) : 0;
		if (kept[j])
			req->owned |= 1U << f;
		else
			req->owned &= ~(1U << f);
		kept[j] = NULL;
	}
}

static void free_fields(char *kept[3])
{
	int j;

	for (j = 0; j < 3; j++)
		free(kept[j]);
}

/*
 * Rotation: the first key of apikeyid valid now signs. Its index, or
 * nr_keys with the reason in err.
 */
static size_t signing_key(const struct mc3_keystore *ks, const char *apikeyid, time_t now,
			  char *err, size_t errlen)
{
	size_t i = mc3_keystore_find(ks, apikeyid);
	bool listed = i < ks->nr_keys;
	char q[256];

	while (i < ks->nr_keys && !mc3_key_valid_at(&ks->keys[i], now))
		i = ks->keys[i].next;
	if (i == ks->nr_keys)
		snprintf(err, errlen, listed ? "no key with apikeyid '%s' is valid now" :
			 "no key with apikeyid '%s' in the key store",
			 mc3_quote(q, apikeyid, strlen(apikeyid)));
	return i;
}

int mc3_sign(struct mc3_ctx *ctx, struct mc3_request *req, const char *apikeyid, time_t now,
	     char *err, size_t errlen)
{
	const struct mc3_keystore *ks = ctx->ks;
	char text[SIG_TEXT_MAX], ts[24], *kept[3] = { NULL, NULL, NULL };
	int ret = MC3_OK;
	size_t i;

	if (!req->field[F_TID] || !req->field[F_ICI]) {
		snprintf(err, errlen, "field '%s' is missing", req->field[F_TID] ? "ici" : "tid");
		return MC3_EINVAL;
	}
	i = signing_key(ks, apikeyid, now, err, errlen);
	if (i == ks->nr_keys)
		return MC3_ENOKEY;
	if (ks->keys[i].profile == PROFILE_CR && req->field[F_TS]) {
		snprintf(err, errlen, "field 'ts' is not signed in the cr profile: leave it out");
		return MC3_EINVAL;
	}
	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	/* On failure the request is put back as it was. */
	if (keep_fields(req, kept))
		ret = MC3_ENOMEM;
	else if (mc3_request_replace(req, F_SIGNATURE, NULL) ||
		 mc3_request_replace(req, F_APIKEYID, apikeyid) ||
		 (ks->keys[i].profile == PROFILE_V2 && mc3_request_replace(req, F_TS, ts)))
		ret = MC3_ENOMEM;
	else if (sign_text(ctx, i, req, text))
		ret = MC3_ECRYPTO;
	else if (mc3_request_replace(req, F_SIGNATURE, text))
		ret = MC3_ENOMEM;
	if (ret) {
		snprintf(err, errlen, "%s", ret == MC3_ENOMEM ? "out of memory" :
			 "cannot sign: OpenSSL failed");
		restore_fields(req, kept);
	}
	free_fields(kept);
	return ret;
}

int mc3_verify(struct mc3_ctx *ctx, const struct mc3_request *req, time_t now,
	       char *err, size_t errlen)
{
	const char *id = req->field[F_APIKEYID], *sig = req->field[F_SIGNATURE];
	const struct mc3_keystore *ks = ctx->ks;
	unsigned char mac[MAC_MAX], claimed[MAC_MAX], matched[MAC_MAX];
	unsigned int window = mc3_replay_window(ctx->replay);
	const struct mc3_key *match = NULL, *decoded = NULL, *k;
	bool claimed_ok = false;
	long long expiry;
	int v;
	size_t i, first;
	bool known;

	ctx->verified = NULL;
	if (!id || !sig) {
		snprintf(err, errlen, "not signed: no %s", id ? "signature" : "apikeyid");
		return MC3_EINVAL;
	}
	if (!req->field[F_TID] || !req->field[F_ICI]) {
		snprintf(err, errlen, "field '%s' is missing", req->field[F_TID] ? "ici" : "tid");
		return MC3_EINVAL;
	}
	first = mc3_keystore_find(ks, id);
	/*
	 * An unknown id is verified with the keys of the costliest id, and
	 * can only fail: it costs what the costliest known id does, and says
	 * the same as a bad signature.
	 */
	known = first < ks->nr_keys;
	if (!known) {
		first = ks->costliest_first;
		decoded = &ks->keys[first];
		claimed_ok = sig_decode(decoded, sig, req->field_len[F_SIGNATURE], claimed);
		mc3_replay_prefetch(ctx->replay, NULL, claimed, decoded->mac_len);
	} else {
		/* The replay table's lines load while the HMAC runs. */
		if (!ctx->caches[first])
			ctx->caches[first] = mc3_replay_id(ctx->replay, id);
		decoded = &ks->keys[first];
		claimed_ok = sig_decode(decoded, sig, req->field_len[F_SIGNATURE], claimed);
		if (ctx->caches[first] && claimed_ok)
			mc3_replay_prefetch(ctx->replay, ctx->caches[first], claimed,
					    decoded->mac_len);
	}
	/*
	 * Every key of the id costs its MAC, valid now or not, so that the
	 * work does not tell how many are; only a valid one may match.
	 */
	for (i = first; i < ks->nr_keys; i = k->next) {
		k = &ks->keys[i];
		if (mac_of(ctx, i, req, mac)) {
			snprintf(err, errlen, "cannot verify: OpenSSL failed");
			return MC3_ECRYPTO;
		}
		/* Decoded once per encoding and length among the id's keys. */
		if (!decoded || decoded->encoding != k->encoding ||
		    decoded->mac_len != k->mac_len) {
			decoded = k;
			claimed_ok = sig_decode(k, sig, req->field_len[F_SIGNATURE], claimed);
		}
		if (claimed_ok && !CRYPTO_memcmp(claimed, mac, k->mac_len) && known &&
		    mc3_key_valid_at(k, now)) {
			match = k;
			memcpy(matched, mac, k->mac_len);
		}
		OPENSSL_cleanse(mac, k->mac_len);
	}
	if (!match) {
		snprintf(err, errlen, "signature does not verify");
		return MC3_EAUTH;
	}
	if (match->profile == PROFILE_V2) {
		long long ts = req->field[F_TS] ? strtoll(req->field[F_TS], NULL, 10) : -1;

		if (ts < 0 || ts < (long long)now - window || ts > (long long)now + window) {
			snprintf(err, errlen, "ts outside the %u s window", window);
			return MC3_ESTALE;
		}
		expiry = ts + window + 1;
	} else {
		/* The CR signs tid and ici only: a ts would look covered and is not. */
		if (req->field[F_TS]) {
			snprintf(err, errlen, "field 'ts' is not signed in the cr profile: leave it out");
			return MC3_EINVAL;
		}
		expiry = (long long)now + window;
	}
	v = mc3_replay_check_id(ctx->replay, ctx->caches[first], matched, match->mac_len, expiry,
				now);
	if (v == MC3_OK) {
		/* What write_signed hands on must be what this MAC covered. */
		ctx->verified = req;
		ctx->verified_key = match - ks->keys;
		memcpy(ctx->verified_mac, matched, match->mac_len);
	}
	OPENSSL_cleanse(matched, sizeof(matched));
	if (v == MC3_EREPLAY)
		snprintf(err, errlen, "replayed: this signature verified before");
	else if (v == MC3_ESTALE)
		snprintf(err, errlen, "outside the %u s window of a later time already seen (the clock went back)",
			 window);
	else if (v == MC3_EFULL)
		snprintf(err, errlen, "cannot remember it against a replay (this apikeyid's replay cache is full, or its journal cannot be written)");
	return v;
}

char *mc3_request_write_signed(struct mc3_ctx *ctx, const struct mc3_request *req,
			       enum mc3_format format)
{
	unsigned char mac[MAC_MAX];
	const struct mc3_key *k;
	bool same;

	if (!req || ctx->verified != req)
		return NULL;
	/* Changed since, or another request at the same address: not signed. */
	k = &ctx->ks->keys[ctx->verified_key];
	same = !mac_of(ctx, ctx->verified_key, req, mac) &&
	       !CRYPTO_memcmp(mac, ctx->verified_mac, k->mac_len);
	OPENSSL_cleanse(mac, sizeof(mac));
	if (!same)
		return NULL;
	if (k->profile == PROFILE_CR)
		return mc3_request_write_fields(req, format, 1U << F_TID | 1U << F_ICI, false);
	return mc3_request_write(req, format);
}

int mc3_keystore_has(const struct mc3_keystore *ks, const char *apikeyid)
{
	return mc3_keystore_find(ks, apikeyid) < ks->nr_keys;
}

unsigned char *mc3_signed_bytes(struct mc3_ctx *ctx, const struct mc3_request *req,
				const char *apikeyid, size_t *len)
{
	const char *id = apikeyid ? apikeyid : req->field[F_APIKEYID];
	const struct mc3_key *k = NULL;
	unsigned char *out;
	const char *text;
	size_t i;

	if (id && (i = mc3_keystore_find(ctx->ks, id)) < ctx->ks->nr_keys)
		k = &ctx->ks->keys[i];
	if (!k || !req->field[F_TID] || !req->field[F_ICI])
		return NULL;
	if (k->profile == PROFILE_CR) {
		*len = req->field_len[F_TID] + req->field_len[F_ICI];
		out = malloc(*len + 1);
		if (out) {
			memcpy(out, req->field[F_TID], req->field_len[F_TID]);
			memcpy(out + req->field_len[F_TID], req->field[F_ICI], req->field_len[F_ICI]);
		}
		return out;
	}
	text = canonical(ctx, req, len);
	out = text ? malloc(*len + 1) : NULL;
	if (out)
		memcpy(out, text, *len);
	return out;
}

/* A request of just these fields, for the _cr functions: MC3_OK or a status. */
static int cr_request(struct mc3_request **out, const char *apikeyid, const char *tid,
		      const char *ici, const char *signature, char *err, size_t errlen)
{
	struct mc3_request *req = mc3_request_new();
	int ret = MC3_ENOMEM;

	*out = NULL;
	if (!req) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	ret = mc3_request_set(req, "tid", tid, strlen(tid), 0, err, errlen);
	if (!ret)
		ret = mc3_request_set(req, "ici", ici, strlen(ici), 0, err, errlen);
	if (!ret && apikeyid)
		ret = mc3_request_set(req, "apikeyid", apikeyid, strlen(apikeyid), 0, err, errlen);
	if (!ret && signature)
		ret = mc3_request_set(req, "signature", signature, strlen(signature), 0, err,
				      errlen);
	if (ret)
		mc3_request_free(req);
	else
		*out = req;
	return ret;
}

int mc3_sign_cr(struct mc3_ctx *ctx, const char *apikeyid, const char *tid, const char *ici,
		time_t now, char *sig, size_t sig_len, char *err, size_t errlen)
{
	const struct mc3_keystore *ks = ctx->ks;
	struct mc3_request *req;
	size_t i;
	int ret;

	i = signing_key(ks, apikeyid, now, err, errlen);
	if (i == ks->nr_keys)
		return MC3_ENOKEY;
	if (ks->keys[i].profile != PROFILE_CR) {
		snprintf(err, errlen, "a v2 key signs a whole request: use mc3_sign");
		return MC3_EINVAL;
	}
	ret = cr_request(&req, NULL, tid, ici, NULL, err, errlen);
	if (!ret)
		ret = mc3_sign(ctx, req, apikeyid, now, err, errlen);
	if (!ret && (size_t)snprintf(sig, sig_len, "%s", req->field[F_SIGNATURE]) >= sig_len) {
		snprintf(err, errlen, "the signature needs %zu octets", req->field_len[F_SIGNATURE] + 1);
		ret = MC3_EINVAL;
	}
	mc3_request_free(req);
	return ret;
}

int mc3_verify_cr(struct mc3_ctx *ctx, const char *apikeyid, const char *tid, const char *ici,
		  const char *signature, time_t now, char *err, size_t errlen)
{
	struct mc3_request *req;
	int ret = cr_request(&req, apikeyid, tid, ici, signature, err, errlen);

	if (!ret)
		ret = mc3_verify(ctx, req, now, err, errlen);
	ctx->verified = NULL;	/* req goes now */
	mc3_request_free(req);
	return ret;
}
