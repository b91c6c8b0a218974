/* SPDX-License-Identifier: MIT */
/*
 * Eight octets at a time in a 64-bit word: the parsers' plain runs (most of
 * a request) are skipped a word per step instead of an octet per step. The
 * tests only say whether some octet matches, so byte order does not matter.
 */
#ifndef MC3_SWAR_H
#define MC3_SWAR_H

#include <stdint.h>
#include <string.h>

#define SWAR_ONES	0x0101010101010101ULL
#define SWAR_HIGHS	0x8080808080808080ULL

static inline uint64_t swar_load(const void *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* Nonzero if some octet of w is below n (n at most 0x80). */
static inline uint64_t swar_has_below(uint64_t w, unsigned char n)
{
	return (w - SWAR_ONES * n) & ~w & SWAR_HIGHS;
}

/* Nonzero if some octet of w is c. */
static inline uint64_t swar_has(uint64_t w, unsigned char c)
{
	return swar_has_below(w ^ (SWAR_ONES * c), 1);
}

/* Nonzero unless every octet of w is printable ASCII (0x20 to 0x7e). */
static inline uint64_t swar_not_printable(uint64_t w)
{
	return (w & SWAR_HIGHS) | swar_has_below(w, 0x20) | swar_has(w, 0x7f);
}

#endif
