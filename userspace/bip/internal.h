/* SPDX-License-Identifier: GPL-2.0 */
/* What the BIP parsers share. */
#ifndef SCTLS_BIP_INTERNAL_H
#define SCTLS_BIP_INTERNAL_H

#include "bip.h"

/* Set err and return -1. */
int bip_fail(struct bip_error *err, uint8_t result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The objects from p to end into found[i] by known[i] (value NULL: absent).
 * Unknown objects are skipped unless marked comprehension required; a
 * known one twice, or a malformed TLV, is an error.
 */
int bip_read_objects(const uint8_t *p, const uint8_t *end, const uint8_t *known,
		     size_t nr_known, struct bip_tlv *found, struct bip_error *err);

/* A mandatory object of min to max octets. */
int bip_expect_len(const struct bip_tlv *tlv, const char *name, size_t min, size_t max,
		   struct bip_error *err);

#endif
