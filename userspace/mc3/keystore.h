/* SPDX-License-Identifier: MIT */
/* libmc3: the key store, as the signing code sees it. */
#ifndef MC3_KEYSTORE_H
#define MC3_KEYSTORE_H

#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "mc3.h"

enum mc3_encoding { ENC_HEX, ENC_BASE64 };
enum mc3_profile { PROFILE_CR, PROFILE_V2 };

struct mc3_key {
	char id[65];
	enum mc3_encoding encoding;
	enum mc3_profile profile;
	size_t mac_len;			/* octets of the MAC */
	EVP_MAC_CTX *tmpl;		/* keyed once; contexts copy it */
	int64_t not_before, not_after;	/* valid in [not_before, not_after) */
	unsigned int cost;		/* a verification's estimated work */
	size_t next;			/* the next key of this id, or nr_keys */
};

struct mc3_keystore {
	OSSL_LIB_CTX *libctx;		/* the caller's, or NULL */
	char *propq;			/* its property query, or NULL */
	EVP_MAC *hmac;			/* fetched once */
	struct mc3_key *keys;
	size_t nr_keys, cap;
	atomic_bool frozen;		/* a context uses it: no key added */
	/*
	 * The first key of the id whose keys cost most to verify with: an
	 * unknown id is verified with them (and fails), so that it costs
	 * what a known one can.
	 */
	size_t costliest_first;
	/* Each id's first key + 1 by the id's hash, open addressing; 0 free. */
	size_t *id_index;
	size_t id_mask;
};

/*
 * The first key of id, or nr_keys: a hash lookup, so that where an id is
 * listed does not change how long finding it takes.
 */
size_t mc3_keystore_find(const struct mc3_keystore *ks, const char *id);

/* Whether k may sign and verify at now (UNIX seconds). */
static inline bool mc3_key_valid_at(const struct mc3_key *k, int64_t now)
{
	return k->not_before <= now && now < k->not_after;
}

#endif
