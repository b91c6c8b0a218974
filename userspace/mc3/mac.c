// SPDX-License-Identifier: GPL-2.0
/* Signing and verifying, and the replay cache of a context. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "keystore.h"

#define MAC_MAX		64	/* SHA-512 */
#define SIG_TEXT_MAX	(MAC_MAX * 2 + 1)

/*
 * The last tids that verified, as keyed 64-bit hashes of (apikeyid, tid):
 * a ring gives the order to forget them in, an open-addressing table (at
 * most a quarter full, linear probing) finds them with one cache miss or so.
 */
struct replay {
	uint64_t seed;
	uint32_t slots, next;		/* next: the ring's oldest entry */
	uint64_t *ring;			/* 0 when free */
	uint64_t *table;
	uint32_t mask;
};

struct mc3_ctx {
	const struct mc3_keystore *ks;
	EVP_MAC_CTX **work;		/* one per key */
	uint64_t *id_hash;		/* per key: its apikeyid's hash, seeded */
	bool reinit;			/* EVP_MAC_init(ctx, NULL, ...) is sound */
	unsigned int window;
	struct replay replay;
	struct mc3_buf canon;		/* v2's canonical text, reused */
};

#define HUGE_PAGE	(2UL << 20)

/*
 * The table is read at random, twice a request. On 4 KiB pages nearly every
 * read misses the TLB, and under virtualisation the page walk costs more
 * than the rest of the lookup: a table of 2 MiB or more (the default) asks
 * for a huge page. madvise is a hint; without it the table still works.
 */
static uint64_t *table_alloc(size_t entries)
{
	size_t bytes = entries * sizeof(uint64_t);
	uint64_t *table;

	if (bytes < HUGE_PAGE)
		return calloc(entries, sizeof(*table));
	table = aligned_alloc(HUGE_PAGE, bytes);	/* bytes: a power of two */
	if (table) {
		madvise(table, bytes, MADV_HUGEPAGE);
		memset(table, 0, bytes);
	}
	return table;
}

static int replay_init(struct replay *r, unsigned int slots)
{
	uint32_t size = 1;

	while (size < slots * 4)
		size <<= 1;
	r->slots = slots;
	r->mask = size - 1;
	r->ring = calloc(slots, sizeof(*r->ring));
	r->table = table_alloc(size);
	if (!r->ring || !r->table || RAND_bytes((unsigned char *)&r->seed, 8) != 1)
		return -1;
	return 0;
}

/* Mix 64 bits (the murmur3 finalizer). */
static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ h >> 33;
}

/* Eight octets at a time into h; the length goes in too. */
static uint64_t hash_bytes(uint64_t h, const char *s, size_t len)
{
	uint64_t w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = mix64(h ^ w);
	}
	w = 0;
	memcpy(&w, s, len);
	return mix64(h ^ w ^ (uint64_t)len << 56);
}

/*
 * A keyed 64-bit hash of (apikeyid, tid), from id_hash, the id's part (see
 * mc3_ctx_new). It also starts loading the table lines that replay_seen()
 * will touch, h's own and the oldest entry's, so that the HMAC's work hides
 * the two cache misses that would otherwise come after it.
 */
static uint64_t replay_hash(const struct replay *r, uint64_t id_hash, const char *tid,
			    size_t tid_len)
{
	uint64_t h = hash_bytes(id_hash, tid, tid_len) | 1;

	__builtin_prefetch(&r->table[h & r->mask]);
	__builtin_prefetch(&r->table[r->ring[r->next] & r->mask]);
	return h;
}

/* The table's place of h, or of the free place where it would go. */
static uint32_t replay_place(const struct replay *r, uint64_t h)
{
	uint32_t i = h & r->mask;

	while (r->table[i] && r->table[i] != h)
		i = (i + 1) & r->mask;
	return i;
}

/* Take h out of the table, shifting back the entries probed past it. */
static void replay_forget(struct replay *r, uint64_t h)
{
	uint32_t hole = replay_place(r, h), i = hole;

	r->table[hole] = 0;
	for (;;) {
		uint32_t home;

		i = (i + 1) & r->mask;
		if (!r->table[i])
			return;
		home = r->table[i] & r->mask;
		/* Move it back unless its home lies cyclically in (hole, i]. */
		if ((i > hole && (home <= hole || home > i)) ||
		    (i < hole && home <= hole && home > i)) {
			r->table[hole] = r->table[i];
			r->table[i] = 0;
			hole = i;
		}
	}
}

/* Whether h was seen; if not, remember it in place of the oldest. */
static bool replay_seen(struct replay *r, uint64_t h)
{
	uint32_t place = replay_place(r, h);

	if (r->table[place])
		return true;
	if (r->ring[r->next]) {
		replay_forget(r, r->ring[r->next]);
		place = replay_place(r, h);
	}
	r->table[place] = h;
	r->ring[r->next] = h;
	if (++r->next == r->slots)
		r->next = 0;
	return false;
}

struct mc3_ctx *mc3_ctx_new(const struct mc3_keystore *ks, unsigned int replay_slots,
			    unsigned int window)
{
	struct mc3_ctx *ctx = calloc(1, sizeof(*ctx));
	size_t i;

	if (!ctx || replay_slots > MC3_REPLAY_MAX) {
		free(ctx);
		return NULL;
	}
	ctx->ks = ks;
	ctx->window = window ? window : 300;
	/* Reusing a keyed context is only right from OpenSSL 3.0.3 on. */
	ctx->reinit = OpenSSL_version_num() >= 0x30000030L;
	ctx->work = calloc(ks->nr_keys, sizeof(*ctx->work));
	ctx->id_hash = calloc(ks->nr_keys, sizeof(*ctx->id_hash));
	if (!ctx->work || !ctx->id_hash ||
	    replay_init(&ctx->replay, replay_slots ? replay_slots : MC3_REPLAY_DEFAULT))
		goto err;
	/* Keys of one id (rotation) share its hash, so one window of tids. */
	for (i = 0; i < ks->nr_keys; i++)
		ctx->id_hash[i] = hash_bytes(ctx->replay.seed, ks->keys[i].id,
					     strlen(ks->keys[i].id));
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

void mc3_ctx_free(struct mc3_ctx *ctx)
{
	size_t i;

	if (!ctx)
		return;
	for (i = 0; ctx->work && i < ctx->ks->nr_keys; i++)
		EVP_MAC_CTX_free(ctx->work[i]);
	free(ctx->work);
	free(ctx->id_hash);
	free(ctx->replay.ring);
	free(ctx->replay.table);
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

		for (i = 0; i < k->mac_len; i++) {
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

int mc3_sign(struct mc3_ctx *ctx, struct mc3_request *req, const char *apikeyid, time_t now,
	     char *err, size_t errlen)
{
	const struct mc3_keystore *ks = ctx->ks;
	char text[SIG_TEXT_MAX], ts[24];
	size_t i;

	for (i = 0; i < ks->nr_keys; i++)
		if (!strcmp(ks->keys[i].id, apikeyid))
			break;
	if (i == ks->nr_keys) {
		snprintf(err, errlen, "no key with apikeyid '%.64s' in the key store", apikeyid);
		return -1;
	}
	/* Rotation: the first key of the id valid now signs. */
	while (i < ks->nr_keys && !mc3_key_valid_at(&ks->keys[i], now))
		i = ks->keys[i].next;
	if (i == ks->nr_keys) {
		snprintf(err, errlen, "no key with apikeyid '%.64s' is valid now", apikeyid);
		return -1;
	}
	snprintf(ts, sizeof(ts), "%lld", (long long)now);
	if (mc3_request_replace(req, F_SIGNATURE, NULL) ||
	    mc3_request_replace(req, F_APIKEYID, apikeyid) ||
	    (ks->keys[i].profile == PROFILE_V2 && mc3_request_replace(req, F_TS, ts)) ||
	    sign_text(ctx, i, req, text) || mc3_request_replace(req, F_SIGNATURE, text)) {
		snprintf(err, errlen, "cannot sign: OpenSSL or memory failed");
		return -1;
	}
	return 0;
}

enum mc3_verdict mc3_verify(struct mc3_ctx *ctx, const struct mc3_request *req, time_t now,
			    char *err, size_t errlen)
{
	const char *id = req->field[F_APIKEYID], *sig = req->field[F_SIGNATURE];
	const struct mc3_keystore *ks = ctx->ks;
	unsigned char mac[MAC_MAX], claimed[MAC_MAX];
	const struct mc3_key *match = NULL, *k;
	uint64_t tid_hash;
	size_t i, first;
	bool known;

	if (!id || !sig) {
		snprintf(err, errlen, "not signed: no %s", id ? "signature" : "apikeyid");
		return MC3_EINVAL;
	}
	for (first = 0; first < ks->nr_keys && strcmp(ks->keys[first].id, id); first++)
		;
	/*
	 * An unknown id is verified with the keys of the costliest id, and
	 * can only fail: it costs what the costliest known id does, and says
	 * the same as a bad signature.
	 */
	known = first < ks->nr_keys;
	if (!known)
		first = ks->costliest_first;
	tid_hash = replay_hash(&ctx->replay, ctx->id_hash[first], req->field[F_TID],
			       req->field_len[F_TID]);
	/*
	 * Every key of the id costs its MAC, valid now or not, so that the
	 * work does not tell how many are; only a valid one may match.
	 */
	for (i = first; i < ks->nr_keys; i = k->next) {
		k = &ks->keys[i];
		if (mac_of(ctx, i, req, mac)) {
			snprintf(err, errlen, "cannot verify: OpenSSL failed");
			return MC3_EINVAL;
		}
		if (sig_decode(k, sig, req->field_len[F_SIGNATURE], claimed) &&
		    !CRYPTO_memcmp(claimed, mac, k->mac_len) && known &&
		    mc3_key_valid_at(k, now))
			match = k;
		OPENSSL_cleanse(mac, k->mac_len);
	}
	if (!match) {
		snprintf(err, errlen, "signature does not verify");
		return MC3_EAUTH;
	}
	if (match->profile == PROFILE_V2) {
		long long ts = req->field[F_TS] ? strtoll(req->field[F_TS], NULL, 10) : -1;

		if (ts < 0 || ts < (long long)now - ctx->window || ts > (long long)now + ctx->window) {
			snprintf(err, errlen, "ts outside the %u s window", ctx->window);
			return MC3_ESTALE;
		}
	}
	if (replay_seen(&ctx->replay, tid_hash)) {
		snprintf(err, errlen, "tid replayed");
		return MC3_EREPLAY;
	}
	return MC3_OK;
}
