// SPDX-License-Identifier: GPL-2.0
/*
 * cardsim: a simulated MBIM function in front of the card (the protocol is
 * in mbim.h). One thread, one poll loop over the pty's master; the card's
 * sessions are sockets that uicc.c reads itself when given an APDU.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../bip/bip.h"
#include "mbim.h"
#include "pty.h"

#define MSG_OPEN		0x00000001
#define MSG_CLOSE		0x00000002
#define MSG_COMMAND		0x00000003
#define MSG_HOST_ERROR		0x00000004
#define MSG_OPEN_DONE		0x80000001
#define MSG_CLOSE_DONE		0x80000002
#define MSG_COMMAND_DONE	0x80000003
#define MSG_FUNCTION_ERROR	0x80000004
#define MSG_INDICATE_STATUS	0x80000007

/* FUNCTION_ERROR codes (libmbim's MbimProtocolError). */
#define ERR_FRAGMENT_ORDER	2
#define ERR_LENGTH_MISMATCH	3
#define ERR_NOT_OPENED		5
#define ERR_UNKNOWN		6
#define ERR_MAX_TRANSFER	8

/* COMMAND_DONE status codes (libmbim's MbimStatusError). */
#define ST_SUCCESS		0
#define ST_FAILURE		2
#define ST_NO_DEVICE_SUPPORT	9
#define ST_INVALID_PARAMETERS	21
#define ST_STK_BUSY		27
#define ST_NOT_ALLOWED		28

#define HEADER_LEN		12
#define FRAGMENT_LEN		8
#define COMMAND_LEN		48	/* and COMMAND_DONE: up to the buffer */
#define UUID_LEN		16
#define MIN_TRANSFER		64
#define INFO_MAX		512	/* the longest buffer answered, with room */

#define QUERY			0
#define SET			1

#define CID_STK_PAC		1
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define PAC_TYPES		256
#define PAC_CONTROL_LEN		(PAC_TYPES / 8)
#define PAC_HANDLED_BY_FUNCTION	2
#define PAC_MAY_BE_HOST		1
#define PAC_HOST_FUNCTION_ABLE	7
#define PAC_PROACTIVE_COMMAND	0

#define OUT_CAP			(16 * 1024)
/* Room to answer one message: its answer, fragmented, and a notification. */
#define ANSWER_ROOM		(4 * 1024)
#define HOST_CHECK_MS		100
#define IDLE_MS			10000
#define TRACE_MAX		24
#define PROFILE_MAX		32
/* FETCH and answer at most this many commands the host did not claim in a row. */
#define UNCLAIMED_MAX		8

struct mbim;

struct command {
	uint32_t tid, cid, type;
	const uint8_t *uuid;
	const struct service *svc;	/* or NULL: not one of ours */
	const uint8_t *info;
	size_t len;
};

struct reply {
	uint32_t status;
	uint8_t info[INFO_MAX];
	size_t len;
};

struct cid_handler {
	uint32_t cid;
	const char *name;
	bool query, set;		/* the command types it takes */
	void (*run)(struct mbim *m, const struct command *c, struct reply *r);
};

struct service {
	const char *name;
	uint8_t uuid[UUID_LEN];
	const struct cid_handler *cids;
	size_t nr_cids;
};

struct mbim {
	const struct mbim_face_options *opt;
	struct uicc *u;
	int master;
	volatile sig_atomic_t *stop;
	sigset_t waiting, working;	/* the signal masks in ppoll and out of it */
	bool host;			/* someone has the slave open */
	int64_t host_check_at;

	uint8_t in[MBIM_MESSAGE_MAX];
	size_t in_len;
	int64_t rx_at;			/* when input last arrived */
	uint8_t out[OUT_CAP];
	size_t out_len;

	/* The host's session. */
	bool opened;
	uint32_t max_transfer;
	uint8_t claimed[PAC_CONTROL_LEN];
	bool toolkit;			/* a TERMINAL PROFILE went to the card */
	bool outstanding;		/* a proactive command the host has not answered */
	unsigned int pending_sw;	/* 91xx to FETCH once the answer is out */
	int64_t poll_at;

	unsigned long responses;	/* the host's TERMINAL RESPONSEs, for reset_after */
	bool reset_pending;
};

static void basic_device_caps(struct mbim *m, const struct command *c, struct reply *r);
static void basic_device_services(struct mbim *m, const struct command *c, struct reply *r);
static void stk_pac(struct mbim *m, const struct command *c, struct reply *r);
static void stk_terminal_response(struct mbim *m, const struct command *c, struct reply *r);
static void stk_envelope(struct mbim *m, const struct command *c, struct reply *r);
static void uicc_atr_query(struct mbim *m, const struct command *c, struct reply *r);

static const struct cid_handler basic_connect_cids[] = {
	{ 1, "device-caps", true, false, basic_device_caps },
	{ 16, "device-services", true, false, basic_device_services },
};

static const struct cid_handler stk_cids[] = {
	{ CID_STK_PAC, "pac", true, true, stk_pac },
	{ 2, "terminal-response", false, true, stk_terminal_response },
	{ 3, "envelope", true, true, stk_envelope },
};

static const struct cid_handler uicc_cids[] = {
	{ 1, "atr", true, false, uicc_atr_query },
};

enum { SVC_BASIC_CONNECT, SVC_STK, SVC_UICC };

static const struct service services[] = {
	[SVC_BASIC_CONNECT] = {
		"basic-connect",
		{ 0xa2, 0x89, 0xcc, 0x33, 0xbc, 0xbb, 0x8b, 0x4f,
		  0xb6, 0xb0, 0x13, 0x3e, 0xc2, 0xaa, 0xe6, 0xdf },
		basic_connect_cids, ARRAY_SIZE(basic_connect_cids),
	},
	[SVC_STK] = {
		"stk",
		{ 0xd8, 0xf2, 0x01, 0x31, 0xfc, 0xb5, 0x4e, 0x17,
		  0x86, 0x02, 0xd6, 0xed, 0x38, 0x16, 0x16, 0x4c },
		stk_cids, ARRAY_SIZE(stk_cids),
	},
	[SVC_UICC] = {
		"ms-uicc-low-level-access",
		{ 0xc2, 0xf6, 0x58, 0x8e, 0xf0, 0x37, 0x4b, 0xc9,
		  0x86, 0x65, 0xf4, 0xd4, 0x4b, 0xd0, 0x93, 0x67 },
		uicc_cids, ARRAY_SIZE(uicc_cids),
	},
};

static const size_t nr_services = ARRAY_SIZE(services);

/* reset_after resets once a process, not once a pty. */
static bool reset_done;

static const uint8_t bip_types[] = {
	BIP_SET_UP_EVENT_LIST, BIP_OPEN_CHANNEL, BIP_CLOSE_CHANNEL, BIP_RECEIVE_DATA,
	BIP_SEND_DATA, BIP_GET_CHANNEL_STATUS,
};

/*
 * The function's own TERMINAL PROFILE (TS 102 223 5.2): profile download
 * and command result. It handles no proactive command itself (it answers
 * those not claimed "beyond capabilities"), so it claims none.
 */
static const uint8_t function_profile[] = { 0x01, 0x01 };

/* The poll: TS 102 221 STATUS, P2 0C (no data back). */
static const uint8_t status_apdu[4] = { BIP_CLA, BIP_INS_STATUS, 0x00, 0x0c };

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static const char *type_name(uint32_t type)
{
	switch (type) {
	case MSG_OPEN:
		return "OPEN";
	case MSG_CLOSE:
		return "CLOSE";
	case MSG_COMMAND:
		return "COMMAND";
	case MSG_HOST_ERROR:
		return "HOST_ERROR";
	case MSG_OPEN_DONE:
		return "OPEN_DONE";
	case MSG_CLOSE_DONE:
		return "CLOSE_DONE";
	case MSG_COMMAND_DONE:
		return "COMMAND_DONE";
	case MSG_FUNCTION_ERROR:
		return "FUNCTION_ERROR";
	case MSG_INDICATE_STATUS:
		return "INDICATE_STATUS";
	default:
		return "unknown";
	}
}

/* --trace: an APDU or its response, as vpcd.c logs them. */
static void trace_apdu(const struct mbim *m, const char *dir, const uint8_t *p, size_t len)
{
	size_t i;

	if (!m->opt->tracing)
		return;
	fprintf(stderr, "cardsim: %s", dir);
	for (i = 0; i < len && i < TRACE_MAX; i++)
		fprintf(stderr, " %02X", p[i]);
	fprintf(stderr, "%s\n", len > TRACE_MAX ? " ..." : "");
}

/* --trace: a message without a service (what follows "tid N"), or nothing. */
static void trace_msg(const struct mbim *m, const char *dir, uint32_t type, uint32_t tid,
		      const char *what)
{
	if (m->opt->tracing)
		fprintf(stderr, "cardsim: mbim %s %s tid %u%s%s\n", dir, type_name(type), tid,
			what ? " " : "", what ? what : "");
}

static const char *cid_name(const struct service *svc, uint32_t cid)
{
	size_t i;

	for (i = 0; svc && i < svc->nr_cids; i++) {
		if (svc->cids[i].cid == cid)
			return svc->cids[i].name;
	}
	return NULL;
}

/* --trace: a command, its answer or a notification. */
static void trace_command(const struct mbim *m, const char *dir, uint32_t type, uint32_t tid,
			  const struct service *svc, uint32_t cid, const char *how, size_t len)
{
	const char *name = cid_name(svc, cid);
	char what[128];

	if (!m->opt->tracing)
		return;
	if (name)
		snprintf(what, sizeof(what), "%s/%s %s, %zu octets", svc->name, name, how, len);
	else
		snprintf(what, sizeof(what), "%s/%u %s, %zu octets", svc ? svc->name : "unknown",
			 cid, how, len);
	trace_msg(m, dir, type, tid, what);
}

/* Output to the host, a whole message or nothing; nowhere while there is none. */
static void emit(struct mbim *m, const uint8_t *head, size_t head_len, const uint8_t *body,
		 size_t body_len)
{
	if (!m->host)
		return;
	if (head_len + body_len > sizeof(m->out) - m->out_len) {
		fprintf(stderr, "cardsim: mbim: output full, a message dropped\n");
		return;
	}
	memcpy(m->out + m->out_len, head, head_len);
	if (body_len)
		memcpy(m->out + m->out_len + head_len, body, body_len);
	m->out_len += head_len + body_len;
}

static void put_header(uint8_t *p, uint32_t type, size_t len, uint32_t tid)
{
	put32(p, type);
	put32(p + 4, len);
	put32(p + 8, tid);
}

/* OPEN_DONE, CLOSE_DONE, FUNCTION_ERROR: a header and one word. */
static void send_short(struct mbim *m, uint32_t type, uint32_t tid, uint32_t word)
{
	uint8_t msg[HEADER_LEN + 4];
	char what[32];

	put_header(msg, type, sizeof(msg), tid);
	put32(msg + HEADER_LEN, word);
	snprintf(what, sizeof(what), "%s %u", type == MSG_FUNCTION_ERROR ? "error" : "status",
		 word);
	trace_msg(m, ">", type, tid, what);
	emit(m, msg, sizeof(msg), NULL, 0);
}

static void function_error(struct mbim *m, uint32_t tid, uint32_t error)
{
	send_short(m, MSG_FUNCTION_ERROR, tid, error);
}

/*
 * A COMMAND_DONE or INDICATE_STATUS, given what follows its fragment
 * header: in as many fragments as the host's MaxControlTransfer needs.
 */
static void send_fragmented(struct mbim *m, uint32_t type, uint32_t tid, const uint8_t *payload,
			    size_t len)
{
	size_t chunk = m->max_transfer - HEADER_LEN - FRAGMENT_LEN;
	uint32_t total = (len + chunk - 1) / chunk, i;
	uint8_t head[HEADER_LEN + FRAGMENT_LEN];

	for (i = 0; i < total; i++) {
		size_t n = len - i * chunk < chunk ? len - i * chunk : chunk;

		put_header(head, type, sizeof(head) + n, tid);
		put32(head + HEADER_LEN, total);
		put32(head + HEADER_LEN + 4, i);
		emit(m, head, sizeof(head), payload + i * chunk, n);
	}
}

static void send_done(struct mbim *m, const struct command *c, const struct reply *r)
{
	uint8_t payload[UUID_LEN + 12 + INFO_MAX];
	char how[24];

	memcpy(payload, c->uuid, UUID_LEN);
	put32(payload + 16, c->cid);
	put32(payload + 20, r->status);
	put32(payload + 24, r->len);
	memcpy(payload + 28, r->info, r->len);
	snprintf(how, sizeof(how), "status %u", r->status);
	trace_command(m, ">", MSG_COMMAND_DONE, c->tid, c->svc, c->cid, how, r->len);
	send_fragmented(m, MSG_COMMAND_DONE, c->tid, payload, 28 + r->len);
}

/* A UTF-16LE string at the end of info, its offset and size at pair. */
static void put_string(struct reply *r, size_t pair, const char *s)
{
	size_t n = strlen(s);

	put32(r->info + pair, r->len);
	put32(r->info + pair + 4, 2 * n);
	for (; *s; s++) {
		r->info[r->len++] = *s;
		r->info[r->len++] = 0;
	}
	while (r->len % 4)
		r->info[r->len++] = 0;
}

static void basic_device_caps(struct mbim *m, const struct command *c, struct reply *r)
{
	(void)m;
	(void)c;
	memset(r->info, 0, 64);
	put32(r->info, 2);		/* removable */
	put32(r->info + 4, 1);		/* GSM */
	put32(r->info + 8, 1);		/* no voice */
	put32(r->info + 12, 2);		/* removable SIM */
	put32(r->info + 16, 0x04 | 0x20);	/* UMTS, LTE */
	put32(r->info + 28, 1);		/* one session */
	r->len = 64;			/* 32: no custom data class */
	put_string(r, 40, "cardsim");
	put_string(r, 48, "cardsim 1");
	put_string(r, 56, "cardsim simulated MBIM function");
}

/* One service's element: its length. */
static size_t put_service(uint8_t *p, const struct service *s)
{
	size_t i;

	memcpy(p, s->uuid, UUID_LEN);
	put32(p + 16, 0);		/* no device service stream */
	put32(p + 20, 0);
	put32(p + 24, s->nr_cids);
	for (i = 0; i < s->nr_cids; i++)
		put32(p + 28 + 4 * i, s->cids[i].cid);
	return 28 + 4 * s->nr_cids;
}

static void basic_device_services(struct mbim *m, const struct command *c, struct reply *r)
{
	size_t i, n;

	(void)m;
	(void)c;
	put32(r->info, nr_services);
	put32(r->info + 4, 0);		/* no DSS sessions */
	r->len = 8 + 8 * nr_services;
	for (i = 0; i < nr_services; i++) {
		n = put_service(r->info + r->len, &services[i]);
		put32(r->info + 8 + 8 * i, r->len);
		put32(r->info + 12 + 8 * i, n);
		r->len += n;
	}
}

static bool is_bip_type(unsigned int type)
{
	return memchr(bip_types, type, sizeof(bip_types));
}

/*
 * Bit n % 8 of octet n / 8 is type n: the order in which the octets of a
 * TERMINAL PROFILE number their facilities (bit 1 the lowest), and that of
 * PacSupport's octet n for type n. The MBIM text available here does not
 * spell it out: a host that numbers bits from the top would claim others.
 */
static bool bit_set(const uint8_t *map, unsigned int n)
{
	return map[n / 8] & 1 << (n % 8);
}

/* Whether the map claims all the BIP types (all), or any of them. */
static bool claims_bip(const uint8_t *map, bool all)
{
	size_t i, n = 0;

	for (i = 0; i < sizeof(bip_types); i++)
		n += bit_set(map, bip_types[i]);
	return all ? n == sizeof(bip_types) : n > 0;
}

static void pac_support(const struct mbim *m, struct reply *r)
{
	unsigned int i;

	for (i = 0; i < PAC_TYPES; i++) {
		if (!is_bip_type(i))
			r->info[i] = PAC_MAY_BE_HOST;
		else
			r->info[i] = m->opt->keeps_bip ? PAC_HANDLED_BY_FUNCTION :
							 PAC_HOST_FUNCTION_ABLE;
	}
	r->len = PAC_TYPES;
}

/* An APDU to the card: its status word (0 if none), response data into data. */
static unsigned int card_apdu(struct mbim *m, const uint8_t *apdu, size_t len, uint8_t *data,
			      size_t *data_len)
{
	uint8_t out[UICC_RESPONSE_MAX];
	size_t n;

	trace_apdu(m, ">", apdu, len);
	/* The card may fork a session: let it have the signals it expects. */
	sigprocmask(SIG_SETMASK, &m->waiting, NULL);
	n = uicc_apdu(m->u, apdu, len, out, sizeof(out));
	sigprocmask(SIG_SETMASK, &m->working, NULL);
	trace_apdu(m, "<", out, n);
	if (data_len)
		*data_len = 0;
	if (n < 2)
		return 0;
	if (data && n > 2) {
		memcpy(data, out, n - 2);
		*data_len = n - 2;
	}
	return out[n - 2] << 8 | out[n - 1];
}

/* A command of class 80 with data: the card's status word. */
static unsigned int card_send(struct mbim *m, uint8_t ins, const uint8_t *data, size_t len)
{
	uint8_t apdu[5 + BIP_MAX_DATA + 1];
	size_t n = bip_apdu(apdu, sizeof(apdu), ins, data, len, -1);

	return n ? card_apdu(m, apdu, n, NULL, NULL) : 0;
}

static bool sw_ok(unsigned int sw)
{
	return sw >> 8 == 0x90 || bip_sw_pending(sw);
}

/* The function's profile, with the BIP server profile if the host claims BIP. */
static void send_profile(struct mbim *m, struct reply *r)
{
	uint8_t tp[PROFILE_MAX] = { 0 }, bip[PROFILE_MAX];
	size_t len = sizeof(function_profile), n = 0, i;
	unsigned int sw;

	memcpy(tp, function_profile, len);
	if (claims_bip(m->claimed, true))
		n = bip_profile_build(bip, sizeof(bip), BIP_MAX_CHANNELS);
	for (i = 0; i < n; i++)
		tp[i] |= bip[i];
	len = n > len ? n : len;
	m->outstanding = false;
	sw = card_send(m, BIP_INS_TERMINAL_PROFILE, tp, len);
	m->toolkit = sw_ok(sw);
	if (!m->toolkit) {
		fprintf(stderr, "cardsim: mbim: TERMINAL PROFILE answered %04X\n", sw);
		memset(m->claimed, 0, sizeof(m->claimed));	/* to try again */
		r->status = ST_FAILURE;
		return;
	}
	m->pending_sw = sw;
	m->poll_at = now_ms();
}

static void stk_pac(struct mbim *m, const struct command *c, struct reply *r)
{
	if (c->type == SET) {
		if (c->len != PAC_CONTROL_LEN) {
			r->status = ST_INVALID_PARAMETERS;
			return;
		}
		if (m->opt->keeps_bip && claims_bip(c->info, false)) {
			fprintf(stderr, "cardsim: mbim: BIP is the function's, not the host's\n");
			r->status = ST_NOT_ALLOWED;
			return;
		}
		if (memcmp(m->claimed, c->info, PAC_CONTROL_LEN)) {
			memcpy(m->claimed, c->info, PAC_CONTROL_LEN);
			send_profile(m, r);
			if (r->status)
				return;
		}
	}
	pac_support(m, r);
}

static void stk_terminal_response(struct mbim *m, const struct command *c, struct reply *r)
{
	uint32_t n = c->len >= 4 ? get32(c->info) : 0;
	unsigned int sw;

	if (!n || n > BIP_MAX_DATA || n > c->len - 4) {
		r->status = ST_INVALID_PARAMETERS;
		return;
	}
	if (!m->outstanding) {
		r->status = ST_NOT_ALLOWED;
		return;
	}
	sw = card_send(m, BIP_INS_TERMINAL_RESPONSE, c->info + 4, n);
	if (!sw) {
		r->status = ST_FAILURE;
		return;
	}
	if (!sw_ok(sw))
		fprintf(stderr, "cardsim: mbim: TERMINAL RESPONSE answered %04X\n", sw);
	m->outstanding = !sw_ok(sw);
	m->responses++;
	if (m->opt->reset_after && m->responses >= m->opt->reset_after && !reset_done)
		m->reset_pending = true;	/* once this answer is out */
	else
		m->pending_sw = sw;
	memset(r->info, 0, 8);		/* no result data */
	put32(r->info + 8, sw);
	r->len = 12;
}

/* A BER-TLV's whole length, its padding (under 4 octets) after it; or 0. */
static size_t envelope_length(const uint8_t *p, size_t len)
{
	size_t head = 2, n;

	if (len < 2)
		return 0;
	n = p[1];
	if (n == 0x81) {
		if (len < 3)
			return 0;
		head = 3;
		n = p[2];
	} else if (n > 0x7f) {
		return 0;
	}
	n += head;
	return n <= len && len - n < 4 && n <= BIP_MAX_DATA ? n : 0;
}

static void stk_envelope(struct mbim *m, const struct command *c, struct reply *r)
{
	size_t n;
	unsigned int sw;

	if (c->type == QUERY) {
		memset(r->info, 0, PAC_CONTROL_LEN);
		r->info[BIP_BER_EVENT / 8] |= 1 << (BIP_BER_EVENT % 8);
		r->len = PAC_CONTROL_LEN;
		return;
	}
	n = envelope_length(c->info, c->len);
	if (!n) {
		r->status = ST_INVALID_PARAMETERS;
		return;
	}
	sw = card_send(m, BIP_INS_ENVELOPE, c->info, n);
	if (sw == BIP_SW_BUSY) {
		r->status = ST_STK_BUSY;
	} else if (!sw_ok(sw)) {
		fprintf(stderr, "cardsim: mbim: ENVELOPE answered %04X\n", sw);
		r->status = ST_FAILURE;
	} else {
		m->pending_sw = sw;
	}
}

static void uicc_atr_query(struct mbim *m, const struct command *c, struct reply *r)
{
	(void)m;
	(void)c;
	put32(r->info, sizeof(uicc_atr));
	put32(r->info + 4, 8);
	memcpy(r->info + 8, uicc_atr, sizeof(uicc_atr));
	r->len = 8 + sizeof(uicc_atr);
	while (r->len % 4)
		r->info[r->len++] = 0;
}

/* A PAC notification: the proactive command, to the end of the message. */
static void notify_command(struct mbim *m, const uint8_t *cmd, size_t len)
{
	uint8_t payload[UUID_LEN + 8 + 4 + UICC_RESPONSE_MAX];

	memcpy(payload, services[SVC_STK].uuid, UUID_LEN);
	put32(payload + 16, CID_STK_PAC);
	put32(payload + 20, 4 + len);
	put32(payload + 24, PAC_PROACTIVE_COMMAND);
	memcpy(payload + 28, cmd, len);
	trace_command(m, ">", MSG_INDICATE_STATUS, 0, &services[SVC_STK], CID_STK_PAC,
		      "notification", 4 + len);
	send_fragmented(m, MSG_INDICATE_STATUS, 0, payload, 28 + len);
}

/*
 * A proactive command's details, found however broken the rest of it is
 * (the card's --malformed commands must reach the host too): false if none.
 */
static bool command_details(const uint8_t *cmd, size_t len, uint8_t details[3])
{
	const uint8_t *p = cmd + 2, *end = cmd + len;
	struct bip_tlv tlv;

	if (len < 2 || cmd[0] != BIP_BER_PROACTIVE)
		return false;
	if (cmd[1] == 0x81)
		p++;
	while (p < end && bip_tlv_next(&p, end, &tlv) == 1) {
		if (tlv.tag == BIP_TAG_COMMAND_DETAILS && tlv.len == 3) {
			memcpy(details, tlv.value, 3);
			return true;
		}
	}
	return false;
}

/* A command the host did not claim: "beyond terminal's capabilities". */
static unsigned int answer_unclaimed(struct mbim *m, const uint8_t details[3])
{
	uint8_t tr[] = { BIP_CR | BIP_TAG_COMMAND_DETAILS, 3, details[0], details[1], details[2],
			 BIP_CR | BIP_TAG_DEVICE_IDENTITIES, 2, BIP_DEV_TERMINAL, BIP_DEV_UICC,
			 BIP_CR | BIP_TAG_RESULT, 1, BIP_RES_BEYOND_CAPABILITIES };

	return card_send(m, BIP_INS_TERMINAL_RESPONSE, tr, sizeof(tr));
}

/* 91xx: FETCH, and hand the command to the host or answer it. */
static void card_proactive(struct mbim *m, unsigned int sw)
{
	uint8_t apdu[5], cmd[UICC_RESPONSE_MAX], details[3];
	unsigned int i;
	size_t n, len;

	for (i = 0; i < UNCLAIMED_MAX && bip_sw_pending(sw) && !m->outstanding; i++) {
		n = bip_apdu(apdu, sizeof(apdu), BIP_INS_FETCH, NULL, 0, (sw & 0xff) ?: 256);
		sw = card_apdu(m, apdu, n, cmd, &len);
		if (sw != BIP_SW_OK || !len) {
			fprintf(stderr, "cardsim: mbim: FETCH answered %04X\n", sw);
			return;
		}
		if (!command_details(cmd, len, details)) {
			fprintf(stderr, "cardsim: mbim: a proactive command without details\n");
			memset(details, 0, sizeof(details));
		} else if (bit_set(m->claimed, details[1])) {
			m->outstanding = true;
			notify_command(m, cmd, len);
			return;
		}
		sw = answer_unclaimed(m, details);
	}
}

static void card_poll(struct mbim *m)
{
	unsigned int sw = card_apdu(m, status_apdu, sizeof(status_apdu), NULL, NULL);

	if (!sw_ok(sw))
		fprintf(stderr, "cardsim: mbim: STATUS answered %04X\n", sw);
	card_proactive(m, sw);
}

/* Closed, as before the host's first OPEN: its claims go with it. */
static void session_end(struct mbim *m)
{
	m->opened = m->toolkit = m->outstanding = false;
	m->pending_sw = 0;
	m->max_transfer = MBIM_MESSAGE_MAX;
	memset(m->claimed, 0, sizeof(m->claimed));
}

static const struct service *find_service(const uint8_t *uuid)
{
	size_t i;

	for (i = 0; i < nr_services; i++) {
		if (!memcmp(services[i].uuid, uuid, UUID_LEN))
			return &services[i];
	}
	return NULL;
}

static void run_command(struct mbim *m, const struct command *c, struct reply *r)
{
	size_t i;

	r->status = ST_NO_DEVICE_SUPPORT;
	r->len = 0;
	for (i = 0; c->svc && i < c->svc->nr_cids; i++) {
		const struct cid_handler *h = &c->svc->cids[i];

		if (h->cid != c->cid)
			continue;
		if ((c->type == QUERY && h->query) || (c->type == SET && h->set)) {
			r->status = ST_SUCCESS;
			h->run(m, c, r);
		}
		return;
	}
}

/* A COMMAND's FUNCTION_ERROR if it is malformed or comes too early, or 0. */
static uint32_t command_error(const struct mbim *m, const uint8_t *msg, size_t len)
{
	if (len < HEADER_LEN + FRAGMENT_LEN)
		return ERR_LENGTH_MISMATCH;
	if (get32(msg + 12) != 1 || get32(msg + 16) != 0)
		return get32(msg + 12) > 1 && !get32(msg + 16) ? ERR_MAX_TRANSFER :
								 ERR_FRAGMENT_ORDER;
	if (len < COMMAND_LEN || get32(msg + 44) != len - COMMAND_LEN)
		return ERR_LENGTH_MISMATCH;
	return m->opened ? 0 : ERR_NOT_OPENED;
}

static void on_command(struct mbim *m, const uint8_t *msg, size_t len, uint32_t tid)
{
	uint32_t error = command_error(m, msg, len);
	struct command c = { .tid = tid };
	struct reply r;

	if (len >= COMMAND_LEN) {
		c.uuid = msg + 20;
		c.svc = find_service(c.uuid);
		c.cid = get32(msg + 36);
		c.type = get32(msg + 40);
		c.info = msg + COMMAND_LEN;
		c.len = len - COMMAND_LEN;
		trace_command(m, "<", MSG_COMMAND, tid, c.svc, c.cid, c.type == QUERY ? "query" :
			      c.type == SET ? "set" : "of a bad type", c.len);
	} else {
		trace_msg(m, "<", MSG_COMMAND, tid, "fragment");
	}
	if (error) {
		function_error(m, tid, error);
		return;
	}
	run_command(m, &c, &r);
	send_done(m, &c, &r);
	if (m->pending_sw) {
		card_proactive(m, m->pending_sw);
		m->pending_sw = 0;
	}
}

/* OPEN_DONE, or the FUNCTION_ERROR that refuses the OPEN. */
static void on_open(struct mbim *m, const uint8_t *msg, size_t len, uint32_t tid)
{
	uint32_t max = len == HEADER_LEN + 4 ? get32(msg + HEADER_LEN) : 0;

	trace_msg(m, "<", MSG_OPEN, tid, NULL);
	if (len != HEADER_LEN + 4 || max < MIN_TRANSFER) {
		function_error(m, tid, len != HEADER_LEN + 4 ? ERR_LENGTH_MISMATCH :
							       ERR_MAX_TRANSFER);
		return;
	}
	session_end(m);
	m->opened = true;
	m->max_transfer = max < MBIM_MESSAGE_MAX ? max : MBIM_MESSAGE_MAX;
	send_short(m, MSG_OPEN_DONE, tid, ST_SUCCESS);
}

static void on_close(struct mbim *m, size_t len, uint32_t tid)
{
	trace_msg(m, "<", MSG_CLOSE, tid, NULL);
	if (len != HEADER_LEN) {
		function_error(m, tid, ERR_LENGTH_MISMATCH);
		return;
	}
	session_end(m);
	send_short(m, MSG_CLOSE_DONE, tid, ST_SUCCESS);
}

static void on_message(struct mbim *m, const uint8_t *msg, size_t len)
{
	uint32_t type = get32(msg), tid = get32(msg + 8);

	switch (type) {
	case MSG_OPEN:
		on_open(m, msg, len, tid);
		break;
	case MSG_CLOSE:
		on_close(m, len, tid);
		break;
	case MSG_COMMAND:
		on_command(m, msg, len, tid);
		break;
	case MSG_HOST_ERROR:
		trace_msg(m, "<", type, tid, NULL);
		if (len >= HEADER_LEN + 4)
			fprintf(stderr, "cardsim: mbim: the host reports error %u\n",
				get32(msg + HEADER_LEN));
		break;
	default:
		trace_msg(m, "<", type, tid, NULL);
		function_error(m, tid, ERR_UNKNOWN);
	}
}

static bool out_room(const struct mbim *m)
{
	return sizeof(m->out) - m->out_len >= ANSWER_ROOM;
}

/* Everything buffered goes: the next octet read starts a message. */
static void resync(struct mbim *m, const char *why)
{
	uint32_t tid = m->in_len >= HEADER_LEN ? get32(m->in + 8) : 0;

	fprintf(stderr, "cardsim: mbim: %s: %zu octets discarded\n", why, m->in_len);
	function_error(m, tid, ERR_LENGTH_MISMATCH);
	m->in_len = 0;
}

/* Run whole messages while there is room to answer: true if a part waits. */
static bool take_messages(struct mbim *m)
{
	while (out_room(m) && !m->reset_pending) {
		uint32_t len;

		if (m->in_len < HEADER_LEN)
			return m->in_len > 0;
		len = get32(m->in + 4);
		if (len < HEADER_LEN || len > MBIM_MESSAGE_MAX) {
			resync(m, "a message length out of range");
			return false;
		}
		if (m->in_len < len)
			return true;
		on_message(m, m->in, len);
		memmove(m->in, m->in + len, m->in_len - len);
		m->in_len -= len;
	}
	return false;
}

/* Written but unread, it would greet the next host: flush the slave. */
static void flush_slave(struct mbim *m)
{
	char name[PTY_NAME_MAX];

	if (!ptsname_r(m->master, name, sizeof(name)))
		pty_flush_slave(name);
}

static void host_gone(struct mbim *m, int64_t now)
{
	m->host = false;
	m->in_len = m->out_len = 0;
	session_end(m);
	flush_slave(m);
	m->host_check_at = now + HOST_CHECK_MS;
	fprintf(stderr, "cardsim: mbim: the host closed the port\n");
}

/*
 * Whether a host has the slave open: the master reports POLLHUP while none
 * has, at once and every time, so look now and then rather than poll it.
 */
static void host_check(struct mbim *m, int64_t now)
{
	struct pollfd p = { .fd = m->master, .events = POLLIN };
	uint8_t drop[256];
	unsigned int i;

	if (poll(&p, 1, 0) < 0)
		return;
	if (!(p.revents & POLLHUP)) {
		m->host = true;
		m->rx_at = now;
		fprintf(stderr, "cardsim: mbim: a host opened the port\n");
		return;
	}
	/* Written by a host come and gone between two looks: not ours to run. */
	for (i = 0; i < 64 && (p.revents & POLLIN); i++) {
		if (read(m->master, drop, sizeof(drop)) <= 0)
			break;
	}
	m->host_check_at = now + HOST_CHECK_MS;
}

static void read_input(struct mbim *m, int64_t now)
{
	ssize_t n = read(m->master, m->in + m->in_len, sizeof(m->in) - m->in_len);

	if (n > 0) {
		m->in_len += n;
		m->rx_at = now;
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		host_gone(m, now);	/* EIO: the last slave descriptor closed */
	}
}

static void flush_out(struct mbim *m, int64_t now)
{
	while (m->out_len) {
		ssize_t n = write(m->master, m->out, m->out_len);

		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				host_gone(m, now);
			return;
		}
		memmove(m->out, m->out + n, m->out_len - n);
		m->out_len -= n;
	}
}

static bool polling(const struct mbim *m)
{
	return m->opened && m->toolkit && !m->outstanding && out_room(m);
}

/* Messages, the partial one's deadline, the card's poll: when to look again. */
static int64_t serve(struct mbim *m, int64_t now, struct pollfd *p)
{
	int64_t wake = now + IDLE_MS;

	if (take_messages(m)) {
		if (now - m->rx_at >= MBIM_PARTIAL_MS)
			resync(m, "a message left incomplete");
		else
			wake = m->rx_at + MBIM_PARTIAL_MS;
	}
	if (polling(m) && !m->reset_pending) {
		if (m->poll_at <= now) {
			card_poll(m);
			m->poll_at = now + (m->opt->poll_ms ?: MBIM_POLL_MS_DEFAULT);
		}
		if (!m->outstanding)
			wake = min64(wake, m->poll_at);
	}
	flush_out(m, now);
	if (!m->host)
		return m->host_check_at;
	p->fd = m->master;
	p->events = out_room(m) && m->in_len < sizeof(m->in) ? POLLIN : 0;
	if (!p->events)
		m->rx_at = now;	/* not reading: the rest of a message is not late */
	if (m->out_len)
		p->events |= POLLOUT;
	return wake;
}

/* --reset-after: the card reset, the port about to vanish. */
static int reset_card(struct mbim *m, int64_t now)
{
	fprintf(stderr, "cardsim: mbim: reset after %lu terminal responses\n", m->responses);
	flush_out(m, now);	/* the last answer, if the host will take it */
	sigprocmask(SIG_SETMASK, &m->waiting, NULL);
	uicc_reset(m->u);
	sigprocmask(SIG_SETMASK, &m->working, NULL);
	reset_done = true;
	return 1;
}

static int loop(struct mbim *m, char *err, size_t errlen)
{
	while (!*m->stop) {
		struct pollfd p = { .fd = -1 };
		int64_t now = now_ms(), wake, ms;
		struct timespec ts;

		if (!m->host && m->host_check_at <= now)
			host_check(m, now);
		wake = m->host ? serve(m, now, &p) : m->host_check_at;
		if (m->reset_pending)
			return reset_card(m, now);
		ms = wake > now ? min64(wake - now, IDLE_MS) : 0;
		ts = (struct timespec){ .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000 };
		if (ppoll(&p, 1, &ts, &m->waiting) < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		now = now_ms();
		if (p.revents & POLLNVAL) {
			snprintf(err, errlen, "the pseudo-terminal is gone");
			return -1;
		}
		if (p.revents & (POLLHUP | POLLERR))
			host_gone(m, now);
		else if (p.revents & POLLIN)
			read_input(m, now);
		if (m->host && (p.revents & POLLOUT))
			flush_out(m, now);
	}
	return 0;
}

int mbim_run(int master, struct uicc *u, const struct mbim_face_options *opt,
	     volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	struct mbim *m = calloc(1, sizeof(*m));
	int flags = fcntl(master, F_GETFL), ret;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (flags < 0 || fcntl(master, F_SETFL, flags | O_NONBLOCK)) {
		snprintf(err, errlen, "the pseudo-terminal: %s", strerror(errno));
		free(m);
		return -1;
	}
	m->opt = opt;
	m->u = u;
	m->master = master;
	m->stop = stop;
	session_end(m);
	/* Blocked but while waiting: a stop cannot slip in before ppoll. */
	sigemptyset(&m->working);
	sigaddset(&m->working, SIGTERM);
	sigaddset(&m->working, SIGINT);
	sigprocmask(SIG_BLOCK, &m->working, &m->waiting);
	sigprocmask(SIG_SETMASK, NULL, &m->working);
	ret = loop(m, err, errlen);
	sigprocmask(SIG_SETMASK, &m->waiting, NULL);
	free(m);
	return ret;
}

static volatile sig_atomic_t stopped;

static void on_stop(int sig)
{
	(void)sig;
	stopped = 1;
}

int mbim_serve(const char *path, struct uicc *u, const struct mbim_face_options *opt,
	       char *err, size_t errlen)
{
	/* No SA_RESTART: ppoll returns at once. */
	struct sigaction sa = { .sa_handler = on_stop };
	char slave[PTY_NAME_MAX];
	int master, ret;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	do {
		master = pty_open(slave, err, errlen);
		if (master < 0)
			return -1;
		if (pty_link(path, slave, err, errlen)) {
			close(master);
			return -1;
		}
		fprintf(stderr, "cardsim: mbim function on %s (%s)\n", path, slave);
		ret = mbim_run(master, u, opt, &stopped, err, errlen);
		/* A reset: the host sees the port go, then a new one, as USB re-enumerates. */
		close(master);
		pty_unlink(path, slave);
	} while (ret == 1);
	return ret;
}
