// SPDX-License-Identifier: GPL-2.0
/*
 * sctlsd: a card in a PC/SC reader, through pcsc-lite. The card only ever
 * answers: the terminal sends an APDU (an ENVELOPE, or STATUS to poll),
 * and while the status word says 91xx the card has a proactive command
 * for it to FETCH.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <winscard.h>

#include "../bip/bip.h"
#include "card.h"
#include "log.h"

struct pcsc_card {
	struct card card;
	SCARDCONTEXT ctx;
	SCARDHANDLE handle;
	DWORD protocol;
	DWORD events;		/* pcsc-lite's count of card events when connected */
	bool have_ctx, have_card;
	unsigned int sw;	/* the last status word: 91xx, a command to fetch */
};

static struct pcsc_card *pcsc(struct card *c)
{
	return (struct pcsc_card *)c;
}

static struct card *pcsc_create(const char *spec, char *err, size_t errlen)
{
	struct pcsc_card *p = calloc(1, sizeof(*p));

	(void)spec;
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return &p->card;
}

static int lost(struct pcsc_card *p, const char *why)
{
	snprintf(p->card.why, sizeof(p->card.why), "%s", why);
	return CARD_LOST;
}

/* One APDU: the response data into resp, the status word kept. */
static int transmit_apdu(struct pcsc_card *p, const uint8_t *apdu, size_t alen, uint8_t *resp,
			 size_t *resp_len)
{
	const SCARD_IO_REQUEST *pci = p->protocol == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 :
				      SCARD_PCI_T1;
	uint8_t rbuf[258];
	DWORD rlen = sizeof(rbuf);
	LONG rv;

	rv = SCardTransmit(p->handle, pci, apdu, alen, NULL, rbuf, &rlen);
	if (rv != SCARD_S_SUCCESS)
		return lost(p, pcsc_stringify_error(rv));
	if (rlen < 2)
		return lost(p, "a response without a status word");
	p->sw = rbuf[rlen - 2] << 8 | rbuf[rlen - 1];
	if (resp) {
		*resp_len = rlen - 2;
		memcpy(resp, rbuf, rlen - 2);
	}
	return CARD_OK;
}

static int transmit(struct pcsc_card *p, uint8_t ins, const uint8_t *data, size_t len, int le,
		    uint8_t *resp, size_t *resp_len)
{
	uint8_t apdu[5 + BIP_MAX_DATA + 1];
	size_t alen = bip_apdu(apdu, sizeof(apdu), ins, data, len, le);

	if (!alen)
		return lost(p, "an APDU too long to build");
	return transmit_apdu(p, apdu, alen, resp, resp_len);
}

/*
 * Whether the card connected to is still there: pcsc-lite counts card
 * events in the high half of the reader state, so a card taken out and put
 * back between two looks shows too.
 */
static DWORD reader_state(struct pcsc_card *p)
{
	SCARD_READERSTATE st = { .szReader = p->card.name, .dwCurrentState = SCARD_STATE_UNAWARE };

	if (SCardGetStatusChange(p->ctx, 0, &st, 1) != SCARD_S_SUCCESS)
		return SCARD_STATE_UNKNOWN;
	return st.dwEventState;
}

static bool pcsc_present(struct card *c)
{
	struct pcsc_card *p = pcsc(c);
	DWORD st = reader_state(p);

	if ((st & SCARD_STATE_PRESENT) && !(st & (SCARD_STATE_UNKNOWN | SCARD_STATE_UNAVAILABLE)) &&
	    st >> 16 == p->events >> 16)
		return true;
	lost(p, "removed");
	return false;
}

/* The reader's name by spec: an index into the list, a name or its prefix. */
static int find_reader(struct pcsc_card *p)
{
	const char *spec = p->card.spec;
	char *end, *names = NULL, *n;
	DWORD len = 0;
	unsigned long index = strtoul(spec, &end, 10);
	int i = 0;

	if (SCardListReaders(p->ctx, NULL, NULL, &len) != SCARD_S_SUCCESS || !len ||
	    !(names = malloc(len)) || SCardListReaders(p->ctx, NULL, names, &len) != SCARD_S_SUCCESS) {
		free(names);
		return lost(p, "no such reader");
	}
	for (n = names; *n; n += strlen(n) + 1, i++) {
		if ((!*end && (unsigned long)i == index) || !strncmp(n, spec, strlen(spec))) {
			snprintf(p->card.name, sizeof(p->card.name), "%s", n);
			free(names);
			return CARD_OK;
		}
	}
	free(names);
	return lost(p, "no such reader");
}

static void pcsc_disconnect(struct card *c)
{
	struct pcsc_card *p = pcsc(c);

	if (p->have_card)
		SCardDisconnect(p->handle, SCARD_LEAVE_CARD);
	p->have_card = false;
	p->sw = 0;
}

/* Connect, power up and declare the profile: then the card opens its channels. */
static int pcsc_connect(struct card *c, const uint8_t *profile, size_t len)
{
	struct pcsc_card *p = pcsc(c);
	LONG rv;

	if (!p->have_ctx) {
		rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->ctx);
		if (rv != SCARD_S_SUCCESS)
			return lost(p, pcsc_stringify_error(rv));
		p->have_ctx = true;
	}
	if (find_reader(p))
		return CARD_LOST;
	rv = SCardConnect(p->ctx, p->card.name, SCARD_SHARE_EXCLUSIVE,
			  SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &p->handle, &p->protocol);
	if (rv == SCARD_E_NO_SERVICE) {
		SCardReleaseContext(p->ctx);
		p->have_ctx = false;
	}
	if (rv != SCARD_S_SUCCESS)
		return lost(p, pcsc_stringify_error(rv));
	p->have_card = true;
	p->events = reader_state(p);
	log_info("pcsc: card in %s, protocol T=%d", p->card.name,
		 p->protocol == SCARD_PROTOCOL_T0 ? 0 : 1);
	return transmit(p, BIP_INS_TERMINAL_PROFILE, profile, len, -1, NULL, NULL);
}

static int pcsc_fetch(struct card *c, uint8_t *buf, size_t cap)
{
	struct pcsc_card *p = pcsc(c);
	uint8_t resp[258];
	size_t len;

	if (!bip_sw_pending(p->sw)) {
		if (p->sw != BIP_SW_OK && p->sw)
			log_warn("pcsc: the card answered %04x", p->sw);
		p->sw = 0;
		return 0;
	}
	if (transmit(p, BIP_INS_FETCH, NULL, 0, p->sw & 0xff, resp, &len))
		return CARD_LOST;
	if (p->sw != BIP_SW_OK) {
		log_warn("pcsc: FETCH answered %04x", p->sw);
		p->sw = 0;
		return 0;
	}
	if (len > cap || !len) {
		log_warn("pcsc: FETCH gave %zu octets", len);
		return 0;
	}
	memcpy(buf, resp, len);
	return len;
}

static int pcsc_respond(struct card *c, const uint8_t *tr, size_t len)
{
	return transmit(pcsc(c), BIP_INS_TERMINAL_RESPONSE, tr, len, -1, NULL, NULL);
}

static int pcsc_envelope(struct card *c, const uint8_t *data, size_t len)
{
	struct pcsc_card *p = pcsc(c);

	if (transmit(p, BIP_INS_ENVELOPE, data, len, -1, NULL, NULL))
		return CARD_LOST;
	if (p->sw != BIP_SW_BUSY)
		return CARD_OK;
	p->sw = 0;
	return CARD_BUSY;
}

/* STATUS, no data wanted (P2 0C): the card's chance to say 91xx. */
static int pcsc_poll(struct card *c)
{
	static const uint8_t apdu[4] = { BIP_CLA, BIP_INS_STATUS, 0x00, 0x0c };

	return transmit_apdu(pcsc(c), apdu, sizeof(apdu), NULL, NULL);
}

const struct card_ops card_pcsc_ops = {
	.kind = "pcsc", .what = "reader", .create = pcsc_create, .connect = pcsc_connect,
	.disconnect = pcsc_disconnect, .fetch = pcsc_fetch, .respond = pcsc_respond,
	.envelope = pcsc_envelope, .poll = pcsc_poll, .present = pcsc_present,
};
