/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cardsim: the card's side of BIP in UICC server mode. Given each APDU the
 * terminal sends, it answers as a UICC would: TERMINAL PROFILE, then SET UP
 * EVENT LIST and OPEN CHANNEL for each served port, then on events it
 * fetches the terminal's bytes with RECEIVE DATA and returns its own with
 * SEND DATA. Each established channel has its own TLS session, a process
 * the card talks to over a socket, as in stream mode.
 */
#ifndef CARDSIM_UICC_H
#define CARDSIM_UICC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UICC_MAX_PORTS		2

struct uicc_options {
	unsigned int channels;		/* listening channels per port */
	uint16_t ports[UICC_MAX_PORTS];
	unsigned int nr_ports;
	uint16_t buffer_size;		/* asked for in OPEN CHANNEL */
	bool malformed;			/* test mode: first, three broken commands */
	bool busy;			/* test mode: every other ENVELOPE, 9300 first */
	/* Start a session: the card's end of its socket, or -1. */
	int (*start_session)(void *arg);
	void *arg;
};

struct uicc;

struct uicc *uicc_new(const struct uicc_options *opt);
void uicc_free(struct uicc *u);

/* Power off, on or reset: every session ends, the toolkit starts over. */
void uicc_reset(struct uicc *u);

/* A response APDU at most: a proactive command and the status word. */
#define UICC_RESPONSE_MAX	(258 + 2)

/* An APDU: its response (data and status word) into out; its length. */
size_t uicc_apdu(struct uicc *u, const uint8_t *apdu, size_t len, uint8_t *out, size_t cap);

/* The card's answer to reset. */
extern const uint8_t uicc_atr[5];

#endif
