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

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * Eight lower-case hex digits (the first in the lowest octet: little
 * endian only) into four octets at out; -1 unless all are [0-9a-f].
 * No branch per digit: random hex defeats branch prediction.
 */
static inline int swar_hex8(uint64_t w, unsigned char out[4])
{
	const uint64_t x = w | SWAR_HIGHS;	/* no borrow between octets below */
	uint64_t digit, letter, v;

	/* In [lo, hi] for the seven low bits: high bit of x - lo, not of x - hi - 1. */
	digit = (x - SWAR_ONES * '0') & ~(x - SWAR_ONES * ('9' + 1)) & SWAR_HIGHS;
	letter = (x - SWAR_ONES * 'a') & ~(x - SWAR_ONES * ('f' + 1)) & SWAR_HIGHS;
	/* '0'-'9' are their low nibble; 'a'-'f' it plus 9. */
	v = (w & SWAR_ONES * 0x0f) + (letter >> 7) * 9;
	/* Octet 2j: digit 2j's value << 4 | digit 2j + 1's. */
	v = (v << 4 | v >> 8) & 0x00ff00ff00ff00ffULL;
	v = (v | v >> 8) & 0x0000ffff0000ffffULL;
	v |= v >> 16;
	memcpy(out, &v, 4);
	return (digit | letter) == SWAR_HIGHS && !(w & SWAR_HIGHS) ? 0 : -1;
}
#endif

#endif
