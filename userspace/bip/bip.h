/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BIP, the Bearer Independent Protocol of ETSI TS 102 223, in UICC server
 * mode: the TLVs, proactive commands, TERMINAL RESPONSEs, event ENVELOPEs
 * and the TERMINAL PROFILE that a terminal (sctlsd) and a card (cardsim)
 * exchange in APDUs. Both directions are here, so that each side builds
 * what the other parses, and the tests run them against each other and
 * against bytes checked by hand. ../shared/reference/bip.md has the facts
 * and their sources.
 *
 * Parsers trust nothing: a length that overruns, a value of the wrong size,
 * a missing mandatory object, an unknown object marked comprehension
 * required, or an unknown command is an error that names itself, with the
 * general result a TERMINAL RESPONSE should carry for it. Parsed data
 * points into the caller's buffer.
 */
#ifndef SCTLS_BIP_H
#define SCTLS_BIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* COMPREHENSION-TLV tags, without the comprehension-required bit. */
#define BIP_CR				0x80
enum bip_tag {
	BIP_TAG_COMMAND_DETAILS		= 0x01,
	BIP_TAG_DEVICE_IDENTITIES	= 0x02,
	BIP_TAG_RESULT			= 0x03,
	BIP_TAG_ALPHA_ID		= 0x05,
	BIP_TAG_EVENT_LIST		= 0x19,
	BIP_TAG_CHANNEL_DATA		= 0x36,
	BIP_TAG_CHANNEL_DATA_LEN	= 0x37,
	BIP_TAG_CHANNEL_STATUS		= 0x38,
	BIP_TAG_BUFFER_SIZE		= 0x39,
	BIP_TAG_TRANSPORT_LEVEL		= 0x3c,
	BIP_TAG_OTHER_ADDRESS		= 0x3e,
	BIP_TAG_LONG			= 0x7f,	/* a three-byte tag: none of ours */
};

/* BER-TLV tags. */
#define BIP_BER_PROACTIVE		0xd0
#define BIP_BER_EVENT			0xd6

/* Proactive command types (command details, second octet). */
enum bip_type {
	BIP_SET_UP_EVENT_LIST		= 0x05,
	BIP_OPEN_CHANNEL		= 0x40,
	BIP_CLOSE_CHANNEL		= 0x41,
	BIP_RECEIVE_DATA		= 0x42,
	BIP_SEND_DATA			= 0x43,
	BIP_GET_CHANNEL_STATUS		= 0x44,
};

/* Command qualifiers. */
#define BIP_SEND_NOW			0x01	/* SEND DATA: else store */
#define BIP_CLOSE_TO_LISTEN		0x01	/* CLOSE CHANNEL: else CLOSED */

/* Device identities. */
#define BIP_DEV_UICC			0x81
#define BIP_DEV_TERMINAL		0x82
#define BIP_DEV_CHANNEL(n)		(0x20 + (n))	/* channels 1 to 7 */
#define BIP_MAX_CHANNELS		7

/* Events. */
#define BIP_EVENT_DATA_AVAILABLE	0x09
#define BIP_EVENT_CHANNEL_STATUS	0x0a

/* Channel status: first octet state | channel id, second octet. */
#define BIP_CH_CLOSED			0x00
#define BIP_CH_LISTEN			0x40
#define BIP_CH_ESTABLISHED		0x80
#define BIP_CH_STATE_MASK		0xc0
#define BIP_CH_ID_MASK			0x07
#define BIP_CH_NO_INFO			0x00
#define BIP_CH_LINK_DROPPED		0x05

/* Transport level protocol: TCP, UICC in server mode. */
#define BIP_TRANSPORT_TCP_SERVER	0x03

/* General results of a TERMINAL RESPONSE. */
enum bip_result {
	BIP_RES_OK			= 0x00,
	BIP_RES_MISSING_INFO		= 0x02,	/* performed, less than asked */
	BIP_RES_MODIFIED		= 0x07,	/* performed with modification */
	BIP_RES_UNABLE_NOW		= 0x20,
	BIP_RES_BEYOND_CAPABILITIES	= 0x30,
	BIP_RES_TYPE_NOT_UNDERSTOOD	= 0x31,
	BIP_RES_DATA_NOT_UNDERSTOOD	= 0x32,
	BIP_RES_VALUES_MISSING		= 0x36,
	BIP_RES_BIP_ERROR		= 0x3a,
};

/* Additional information of BIP_RES_BIP_ERROR. */
enum bip_error_info {
	BIP_ERR_NONE			= 0x00,
	BIP_ERR_NO_CHANNEL		= 0x01,
	BIP_ERR_CHANNEL_CLOSED		= 0x02,
	BIP_ERR_CHANNEL_ID		= 0x03,
	BIP_ERR_BUFFER_SIZE		= 0x04,
	BIP_ERR_TRANSPORT_LEVEL		= 0x06,
	BIP_ERR_PORT			= 0x10,
};

/* APDUs, all of class 80. */
#define BIP_CLA				0x80
#define BIP_INS_TERMINAL_PROFILE	0x10
#define BIP_INS_FETCH			0x12
#define BIP_INS_TERMINAL_RESPONSE	0x14
#define BIP_INS_ENVELOPE		0xc2
#define BIP_INS_STATUS			0xf2	/* the terminal's poll */

/* A short APDU's data field, and so any one message here. */
#define BIP_MAX_DATA			255
/* Channel data one RECEIVE DATA response can carry in a short APDU. */
#define BIP_MAX_RECEIVE			236

/* One COMPREHENSION-TLV, its value in the parsed buffer. */
struct bip_tlv {
	uint8_t tag;			/* without BIP_CR; BIP_TAG_LONG */
	bool cr;			/* comprehension required */
	const uint8_t *value;
	size_t len;
};

/*
 * The next COMPREHENSION-TLV at *p, before end: 1 and *p moved past it, 0
 * at end, or -1 if it is malformed (a reserved tag, a length that overruns
 * or is longer than 255).
 */
int bip_tlv_next(const uint8_t **p, const uint8_t *end, struct bip_tlv *tlv);

/* What went wrong in a parse, and the general result to answer it with. */
struct bip_error {
	uint8_t result;			/* enum bip_result */
	char why[96];
};

/* A proactive command, as the card sends it in answer to FETCH. */
struct bip_command {
	uint8_t number, type, qualifier;
	uint8_t source, destination;	/* a channel's for CLOSE, RECEIVE, SEND */
	/* OPEN CHANNEL */
	uint16_t buffer_size;
	uint8_t protocol;		/* BIP_TRANSPORT_TCP_SERVER */
	uint16_t port;
	/* SET UP EVENT LIST */
	uint8_t events[16];
	size_t nr_events;
	/* RECEIVE DATA: octets wanted */
	uint8_t want;
	/* SEND DATA */
	const uint8_t *data;
	size_t data_len;
};

/*
 * A FETCH response into cmd. 0, or -1 with err set; when the command
 * details could be read, cmd holds them, for the TERMINAL RESPONSE to echo.
 */
int bip_command_parse(const uint8_t *buf, size_t len, struct bip_command *cmd,
		      struct bip_error *err);

/* The channel (1 to 7) a command is addressed to, or 0. */
unsigned int bip_command_channel(const struct bip_command *cmd);

/* A TERMINAL RESPONSE. */
#define BIP_NONE			(-1)	/* an optional value left out */
struct bip_response {
	uint8_t number, type, qualifier;	/* the command's, echoed */
	uint8_t result;
	int info;			/* additional information, or BIP_NONE */
	uint8_t status[BIP_MAX_CHANNELS][2];	/* channel status objects */
	size_t nr_status;
	int buffer_size;		/* or BIP_NONE */
	bool has_data;			/* RECEIVE DATA: channel data */
	const uint8_t *data;
	size_t data_len;
	int data_left;			/* channel data length, or BIP_NONE */
};

void bip_response_init(struct bip_response *r, const struct bip_command *cmd, uint8_t result);
int bip_response_parse(const uint8_t *buf, size_t len, struct bip_response *r,
		       struct bip_error *err);

/* An event download ENVELOPE: channel status, and data available. */
struct bip_event {
	uint8_t event;
	uint8_t status[2];
	int available;			/* data available: octets, 0xff: more */
};

int bip_event_parse(const uint8_t *buf, size_t len, struct bip_event *e,
		    struct bip_error *err);

/* A buffer that builders append to; overflow is sticky. */
struct bip_buf {
	uint8_t *data;
	size_t len, cap;
	bool overflow;
};

static inline void bip_buf_init(struct bip_buf *b, uint8_t *data, size_t cap)
{
	b->data = data;
	b->len = 0;
	b->cap = cap;
	b->overflow = false;
}

void bip_put(struct bip_buf *b, const void *data, size_t len);
void bip_put_tlv(struct bip_buf *b, uint8_t tag, const void *value, size_t len);
size_t bip_ber_begin(struct bip_buf *b, uint8_t tag);
void bip_ber_end(struct bip_buf *b, size_t mark);

/*
 * Builders: 0, or -1 if the message does not fit the buffer or a short
 * APDU, or breaks a rule its parser enforces.
 */
int bip_command_build(struct bip_buf *b, const struct bip_command *cmd);
int bip_response_build(struct bip_buf *b, const struct bip_response *r);
int bip_event_build(struct bip_buf *b, const struct bip_event *e);

/*
 * A TERMINAL PROFILE for a server-mode terminal with channels (1 to 7):
 * SET UP EVENT LIST, the Data available and Channel status events, the
 * five BIP commands and TCP in UICC server mode. Its length, or 0.
 */
size_t bip_profile_build(uint8_t *out, size_t cap, unsigned int channels);
/* The channels a TERMINAL PROFILE offers for UICC server mode, or 0. */
unsigned int bip_profile_channels(const uint8_t *tp, size_t len);

/* A command APDU, CLA 80 INS 00 00 [Lc data] [Le]; its length, or 0. */
size_t bip_apdu(uint8_t *out, size_t cap, uint8_t ins, const uint8_t *data, size_t len,
		int le);

/* Status words. */
#define BIP_SW_OK			0x9000
#define BIP_SW_BUSY			0x9300	/* toolkit busy: ENVELOPE again */
static inline bool bip_sw_pending(unsigned int sw)	/* 91xx: FETCH xx */
{
	return (sw & 0xff00) == 0x9100;
}

#endif
