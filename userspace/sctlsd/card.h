/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sctlsd: how the BIP terminal reaches its card. The terminal (terminal.c)
 * is one, whatever carries its exchanges: APDUs through a PC/SC reader
 * (card_pcsc.c), or a modem's toolkit commands, on its AT port (card_at.c)
 * or through MBIM's STK service (card_mbim.c), where the modem FETCHes and
 * polls the card itself. Each kind embeds
 * struct card first in its own state.
 */
#ifndef SCTLSD_CARD_H
#define SCTLSD_CARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct card;

/* Results of the calls below. */
#define CARD_OK		0
#define CARD_BUSY	1	/* ENVELOPE: the toolkit is busy, send it again */
#define CARD_REFUSED	2	/* the modem refused it: logged, nothing delivered */
#define CARD_LOST	(-1)	/* card->why says why; the terminal disconnects */

struct card_ops {
	const char *kind;	/* "pcsc", "at", "mbim": the link's scheme */
	const char *what;	/* what the spec names: "reader", "device" */
	struct card *(*create)(const char *spec, char *err, size_t errlen);
	/*
	 * Reach the card and hand it this TERMINAL PROFILE: CARD_OK, or
	 * CARD_LOST to be tried again later (card->why says why).
	 */
	int (*connect)(struct card *c, const uint8_t *profile, size_t len);
	void (*disconnect)(struct card *c);
	/* The next proactive command, if one is pending: its length, 0, or CARD_LOST. */
	int (*fetch)(struct card *c, uint8_t *buf, size_t cap);
	/* The TERMINAL RESPONSE to the command fetched last: CARD_OK, or refused, or lost. */
	int (*respond)(struct card *c, const uint8_t *tr, size_t len);
	int (*envelope)(struct card *c, const uint8_t *data, size_t len);
	/* Optional: give the card its chance to speak while channels are busy. */
	int (*poll)(struct card *c);
	/* Idle: whether the card is still there. */
	bool (*present)(struct card *c);
	/* Optional: an fd the card's side writes to unasked, and reading it. */
	int (*fd)(const struct card *c);
	int (*input)(struct card *c);
};

struct card {
	const struct card_ops *ops;
	char spec[128];		/* as given: a reader or a device */
	char name[256];		/* as found, for messages */
	char why[256];		/* why it was lost, or cannot be reached */
};

extern const struct card_ops card_pcsc_ops, card_at_ops, card_mbim_ops;

#endif
