/* SPDX-License-Identifier: GPL-2.0 */
/* libmc3: the key store, as the signing code sees it. */
#ifndef MC3_KEYSTORE_H
#define MC3_KEYSTORE_H

#include <openssl/evp.h>
#include <stdbool.h>

#include "mc3.h"

enum mc3_encoding { ENC_HEX, ENC_BASE64 };
enum mc3_profile { PROFILE_CR, PROFILE_V2 };

struct mc3_key {
	char id[65];
	enum mc3_encoding encoding;
	enum mc3_profile profile;
	size_t mac_len;			/* octets of the MAC */
	EVP_MAC_CTX *tmpl;		/* keyed once; contexts copy it */
};

struct mc3_keystore {
	EVP_MAC *hmac;			/* fetched once */
	struct mc3_key *keys;
	size_t nr_keys;
	struct mc3_key dummy;		/* for unknown ids: the same work */
};

#endif
